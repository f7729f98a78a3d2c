"""The send's ledger writes, committed from one thread, several to a transaction.

Each SMTP connection asks for writes as it goes (the next recipient's `start`, the last
one's answer); what the connections asked for while the previous commit ran is committed
together, so the ledger costs about one commit per message and connection at most, and
less when the connections are busy. A write that needs the disk (`durable`, a batch
claim) makes its whole group wait for it; the others commit `relaxed`.

One thread, not one per connection: connections committing side by side would only make
SQLite's busy handler sleep. A database error fails every write of its group (nothing of
it was committed); any other error (`LostClaim`) fails only the write that raised it,
which wrote nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.store import Store
from bot.store import deliveries as ledger

log = logging.getLogger(__name__)


@dataclass
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    durable: bool
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


def _resolve(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # cancelled, or already failed by a writer that stopped
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


class GroupWriter:
    """`submit(fn, *args)` runs `fn(conn, *args)` in a committed transaction; the future
    it returns resolves once that transaction has committed (or failed)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.died: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="ledger", daemon=True)
        self.thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any, durable: bool = False,
               **kwargs: Any) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if self.died is not None:  # loudly, never a send left waiting on a dead thread
            future.set_exception(RuntimeError(f"the ledger writer stopped: {self.died!r}"))
            return future
        self.jobs.put(_Job(fn, args, kwargs, durable, future, loop))
        if self.died is not None:  # it stopped while this was being queued
            _resolve(future, False, RuntimeError(f"the ledger writer stopped: {self.died!r}"))
        return future

    async def write(self, fn: Callable[..., Any], *args: Any, durable: bool = False,
                    **kwargs: Any) -> Any:
        return await self.submit(fn, *args, durable=durable, **kwargs)

    async def close(self) -> None:
        """Commit what is queued, then end the thread."""
        self.jobs.put(None)
        await asyncio.to_thread(self.thread.join)

    def _run(self) -> None:
        conn: Connection | None = None
        group: list[_Job] = []
        try:
            while True:
                group = []
                job = self.jobs.get()
                if job is None:
                    return
                group = [job]
                end = False
                while True:
                    try:
                        more = self.jobs.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        end = True
                        break
                    group.append(more)
                conn = self._commit(group, conn)
                if end:
                    return
        except BaseException as exc:
            # the thread itself failed (not a write): every write still queued fails with
            # it, and so does every later one, instead of waiting for ever
            self.died = exc
            while True:
                try:
                    left = self.jobs.get_nowait()
                except queue.Empty:
                    break
                if left is not None:
                    group.append(left)
            for left in group:
                with contextlib.suppress(RuntimeError):  # its loop already closed
                    left.loop.call_soon_threadsafe(_resolve, left.future, False, exc)
            log.error("the newsletter's ledger writer stopped: %r", exc)
        finally:
            _close(conn)

    def _connect(self) -> Connection:
        """One connection for the whole send (a pool checkout, and on PostgreSQL its ping,
        per message cost more than the writes)."""
        conn = self.store.engine.connect()
        if self.store.is_sqlite:
            # the write lock up front (`Store.begin_immediate`): `claim` and `start` read
            # before they write, and a deferred transaction cannot upgrade while another
            # connection holds the lock
            conn.info["immediate"] = True
        return conn

    def _commit(self, group: list[_Job], conn: Connection | None) -> Connection | None:
        """Run and commit one group; the connection to use for the next (None: a fresh
        one, after an error)."""
        results: list[tuple[bool, Any]] = []
        try:
            conn = conn or self._connect()
            with conn.begin():
                if not any(job.durable for job in group):
                    ledger.relaxed(conn)
                for job in group:
                    try:
                        results.append((True, job.fn(conn, *job.args, **job.kwargs)))
                    except sa.exc.SQLAlchemyError:
                        raise
                    except Exception as exc:
                        results.append((False, exc))
        except BaseException as exc:
            for job in group:
                job.loop.call_soon_threadsafe(_resolve, job.future, False, exc)
            _close(conn)
            return None
        for job, (ok, value) in zip(group, results, strict=True):
            job.loop.call_soon_threadsafe(_resolve, job.future, ok, value)
        return conn


def _close(conn: Connection | None) -> None:
    if conn is None:
        return
    with contextlib.suppress(Exception):  # a connection the database dropped
        conn.info.pop("immediate", None)
        conn.close()
