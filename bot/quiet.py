"""Publish passes that could find nothing are not run.

An idle service used to run a whole publish pass every `publish_every` (5 s): two hops to a
thread, a write transaction, the channels' states and each channel's line — about 0.5 ms of
CPU to learn, again, that nothing is due. A pass that found nothing to claim knows when
something next may be (`Publisher.quiet_until`: the earliest slot, retry or outage end;
"now" while another worker holds a claim, whose end or death no clock tells), and nothing
else can make a post due but a commit. So between two passes, each tick of the publish
loop asks `PassGate.due`: the time reached, or the store changed since the last pass began?

On SQLite "changed" is `PRAGMA data_version` on a connection of the gate's own, which
moves whenever any other connection commits a write: this process's web page and polls,
`pressbot approve` in another process, a second worker. It is read on the event loop, with
no thread hop (tens of microseconds, no lock waited for: `timeout=0`, and a busy or broken
answer counts as "changed"). Elsewhere (PostgreSQL) there is no such cheap question, so
every tick runs the pass, as before.

Whatever the gate says, a full pass runs at least every `AT_MOST` seconds (monotonic), and
after any pass that failed. A skipped tick is a completed pass for the loop's liveness
(`bot.loops`): it did look.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot import clock

if TYPE_CHECKING:
    from bot.health import Health
    from bot.publisher import Publisher
    from bot.store import Store

AT_MOST = 60.0
"""Seconds a publish loop may go without a full pass, whatever the gate thinks."""


class Changes:
    """Whether another connection committed to the store since the last look (SQLite)."""

    def __init__(self, store: Store) -> None:
        database = store.engine.url.database if store.is_sqlite else None
        self._path = database if database and database != ":memory:" else None
        self._conn: sqlite3.Connection | None = None

    def version(self) -> int | None:
        """The store's data version as this connection sees it; None when unknown (not
        SQLite, or the question failed): callers then assume a change."""
        if self._path is None:
            return None
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(self._path, timeout=0, isolation_level=None,
                                             check_same_thread=False)
            # read to its end: the statement done, no read transaction is left open
            (version,), = self._conn.execute("PRAGMA data_version").fetchall()
            return int(version)
        except sqlite3.Error:
            self.close()
            return None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class PassGate:
    """Tells the publish loop whether its next tick needs a full pass."""

    def __init__(self, store: Store, *, ticks: Callable[[], float] = time.monotonic) -> None:
        self.changes = Changes(store)
        self._ticks = ticks
        self._seen: int | None = None
        """The data version read just before the last full pass began."""
        self._until: datetime | None = None
        """Nothing is due before this unless the store changes (None: run the next tick)."""
        self._last_full = float("-inf")

    def due(self, *, force: bool = False) -> bool:
        """True when the tick must run a full pass (always with `force`); it is then taken
        as begun."""
        version = self.changes.version()
        if (not force and self._until is not None and self._seen is not None
                and version == self._seen and clock.now() < self._until
                and self._ticks() - self._last_full < AT_MOST):
            return False
        self._seen, self._until, self._last_full = version, None, self._ticks()
        return True

    def quiet(self, until: datetime | None) -> None:
        """The full pass completed and found nothing to do before `until` (None: it found
        work, so the next tick runs a full pass again)."""
        self._until = until


async def publish_pass(gate: PassGate, publisher: Publisher, health: Health) -> bool:
    """One tick of the service's publish loop; True when it ran a full pass."""
    # while the database is in trouble, every tick tries (and tells when it is over)
    trouble = health.cannot_write is not None or health.unreachable is not None
    if not gate.due(force=trouble):
        health.published()   # looked: nothing can be due, and the store did not change
        return False
    if health.cannot_write is not None:
        await asyncio.to_thread(health.probe_writes)
    await publisher.run_once()
    health.published()
    gate.quiet(publisher.quiet_until)
    return True
