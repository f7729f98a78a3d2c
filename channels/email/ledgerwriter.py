"""The send's ledger writes, committed from one thread, several to a transaction.

Each SMTP connection (a thread of its own, `send.py`) asks for writes as it goes (the next
recipient's `start`, the last one's answer); what the connections asked for while the
previous commit ran is committed together, so the ledger costs about one commit per
message and connection at most, and less when the connections are busy. A write that
needs the disk (`durable`, a batch claim) makes its whole group wait for it; the others
commit relaxed (on PostgreSQL the writer's session has `synchronous_commit` off, and a
durable group turns it on for itself).

The hot writes (`start`, `sent`) are not functions but data: a group's are written by
`ledger.advance` in one or two statements, and on PostgreSQL a group of nothing else is
that one statement in autocommit, a single round trip without BEGIN and COMMIT.

One thread, not one per connection: connections committing side by side would only make
SQLite's busy handler sleep. A write's future is a `concurrent.futures.Future`: the
connection's thread waits on it directly, with no event loop between the two threads.
A database error fails every write of its group (nothing of it was committed); any other
error (`LostClaim`) fails only the write that raised it, which wrote nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.errors import LostClaim
from bot.store import Store
from bot.store import deliveries as ledger

log = logging.getLogger(__name__)


@dataclass
class _Job:
    fn: Callable[..., Any] | None
    """None: a hot write, `args` = (kind, post id, subscriber id or None, token, answers:
    [(subscriber id, reset bounces)])."""
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    durable: bool
    future: Future[Any]


_START, _SENT = "start", "sent"


def _resolve(future: Future[Any], ok: bool, value: Any) -> None:
    with contextlib.suppress(InvalidStateError):  # already failed by a writer that stopped
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class GroupWriter:
    """`submit(fn, *args)` runs `fn(conn, *args)` in a committed transaction; the future
    it returns resolves once that transaction has committed (or failed). `run` waits for
    it (from a connection's thread), `write` awaits it (from the event loop)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self.died: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="ledger", daemon=True)
        self.thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any, durable: bool = False,
               **kwargs: Any) -> Future[Any]:
        return self._submit(fn, args, kwargs, durable)

    def _submit(self, fn: Callable[..., Any] | None, args: tuple[Any, ...],
                kwargs: dict[str, Any], durable: bool) -> Future[Any]:
        future: Future[Any] = Future()
        if self.died is not None:  # loudly, never a send left waiting on a dead thread
            future.set_exception(RuntimeError(f"the ledger writer stopped: {self.died!r}"))
            return future
        self.jobs.put(_Job(fn, args, kwargs, durable, future))
        if self.died is not None:  # it stopped while this was being queued
            _resolve(future, False, RuntimeError(f"the ledger writer stopped: {self.died!r}"))
        return future

    def start(self, post_id: int, subscriber_id: int, token: int, *,
              sent: Sequence[tuple[int, bool]] = ()) -> Future[Any]:
        """`ledger.start`: True once the recipient is `sending` for this claim, False when
        it is not ours any more, `LostClaim` when the claim is. `sent`: earlier answers
        (subscriber id, reset bounces) written in the same statement (`ledger.mark_sent`),
        so a message costs one write, not two."""
        return self._submit(None, (_START, post_id, subscriber_id, token, list(sent)), {},
                            False)

    def sent(self, post_id: int, token: int, sent: list[tuple[int, bool]]
             ) -> Future[Any]:
        """`ledger.mark_sent` for answers no `start` carries (the last of a batch)."""
        return self._submit(None, (_SENT, post_id, None, token, list(sent)), {}, False)

    def run(self, fn: Callable[..., Any], *args: Any, durable: bool = False,
            **kwargs: Any) -> Any:
        return self.submit(fn, *args, durable=durable, **kwargs).result()

    async def write(self, fn: Callable[..., Any], *args: Any, durable: bool = False,
                    **kwargs: Any) -> Any:
        return await asyncio.wrap_future(self.submit(fn, *args, durable=durable, **kwargs))

    def stop(self) -> None:
        """Commit what is queued, then end the thread."""
        self.jobs.put(None)
        self.thread.join()

    async def close(self) -> None:
        await asyncio.to_thread(self.stop)

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
                _resolve(left.future, False, exc)
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
        # transactions are this writer's own (BEGIN when a group needs one), and its
        # commits relaxed unless a group says durable; one generic plan per statement (the
        # driver prepares a statement run often): its statements pick rows by post, status
        # and recipient, which the deliveries' index reaches with any plan (migration
        # 0017), so planning each `advance` again (PostgreSQL's default, which prefers a
        # custom plan for `= ANY(array)`) costs more than running it; all undone in `_close`
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("SET synchronous_commit TO OFF")
        conn.exec_driver_sql("SET plan_cache_mode TO force_generic_plan")
        conn.info["relaxed"] = True
        return conn

    def _commit(self, group: list[_Job], conn: Connection | None) -> Connection | None:
        """Run and commit one group; the connection to use for the next (None: a fresh
        one, after an error)."""
        done: list[tuple[_Job, bool, Any]] = []
        try:
            conn = conn or self._connect()
            with self._transaction(conn, group):
                hot: list[_Job] = []
                for job in group:
                    if job.fn is None:
                        hot.append(job)
                        continue
                    if hot:  # in the order asked: a release before the same row's start
                        self._advance(conn, hot, done)
                        hot = []
                    try:
                        done.append((job, True, job.fn(conn, *job.args, **job.kwargs)))
                    except sa.exc.SQLAlchemyError:
                        raise
                    except Exception as exc:
                        done.append((job, False, exc))
                if hot:
                    self._advance(conn, hot, done)
        except BaseException as exc:
            for job in group:
                _resolve(job.future, False, exc)
            _close(conn)
            return None
        for job, ok, value in done:
            _resolve(job.future, ok, value)
        return conn

    @contextlib.contextmanager
    def _transaction(self, conn: Connection, group: list[_Job]) -> Iterator[None]:
        """SQLite: BEGIN IMMEDIATE … COMMIT (on the driver for a group of hot writes only,
        whose statements run there too: `ledger.advance`). PostgreSQL (autocommit):
        none for a group that is one `advance` statement, else BEGIN … COMMIT, durable
        (`synchronous_commit` on) when a job of it asked for that."""
        if self.store.is_sqlite:
            if any(job.fn is not None for job in group):
                with conn.begin():
                    yield
                return
            # hot writes only: BEGIN IMMEDIATE and COMMIT on the driver, as `advance` runs
            driver = conn.connection.dbapi_connection
            assert driver is not None
            with ledger.driver_errors(conn):
                driver.execute("BEGIN IMMEDIATE")
            try:
                yield
                with ledger.driver_errors(conn):
                    driver.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    driver.execute("ROLLBACK")
                raise
            return
        durable = any(job.durable for job in group)
        hot = {(job.args[1], job.args[3]) for job in group if job.fn is None}
        if not durable and len(hot) == 1 and all(job.fn is None for job in group):
            yield
            return
        conn.exec_driver_sql("BEGIN")
        try:
            if durable:
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO ON")
            yield
        except BaseException:
            with contextlib.suppress(Exception):  # idle again, so `_close` can RESET
                conn.exec_driver_sql("ROLLBACK")
            raise
        conn.exec_driver_sql("COMMIT")

    @staticmethod
    def _advance(conn: Connection, jobs: list[_Job], done: list[tuple[_Job, bool, Any]]
                 ) -> None:
        """Write these hot jobs with `ledger.advance`, one call per (post, claim)."""
        by_claim: dict[tuple[int, int], list[_Job]] = {}
        for job in jobs:
            by_claim.setdefault((job.args[1], job.args[3]), []).append(job)
        for (post_id, token), mine in by_claim.items():
            answers = [answer for job in mine for answer in job.args[4]]
            sent = [sid for sid, _ in answers]
            reset = [sid for sid, again in answers if again]
            start = [job.args[2] for job in mine if job.args[0] == _START]
            started = ledger.advance(conn, post_id, token, sent=sent, reset=reset,
                                     start=start)
            lost: Exception | None = None
            if len(started) < len(set(start)):
                try:
                    ledger.fence(conn, post_id, token)
                except LostClaim as exc:
                    lost = exc
            for job in mine:
                if job.args[0] == _SENT:
                    done.append((job, True, None))
                elif job.args[2] in started:
                    done.append((job, True, True))
                else:
                    done.append((job, False, lost) if lost else (job, True, False))


def _close(conn: Connection | None) -> None:
    if conn is None:
        return
    with contextlib.suppress(Exception):  # a connection the database dropped
        conn.info.pop("immediate", None)
        if conn.info.pop("relaxed", False):
            try:  # back to the pool as it came: later commits wait for the disk again
                conn.exec_driver_sql("RESET synchronous_commit")
                conn.exec_driver_sql("RESET plan_cache_mode")
            except Exception:
                conn.invalidate()
        conn.close()
