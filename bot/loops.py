"""The service's periodic work — polls, publish passes, upkeep — timed on a monotonic clock.

A wall clock can be stepped (NTP after a suspend, a VM restored from a snapshot, a person
with `date -s`): a scheduler that computes "next run" in wall time sleeps an extra hour
when the clock goes back one, while the service looks alive. Intervals here are measured on
the event loop's clock (`loop.time()`, monotonic), so a step of the wall clock changes
nothing. Cron-like schedules ("every Monday 09:00", the digests) are about the wall clock
and stay with APScheduler.

Each loop remembers when its last pass completed, on the same clock: `stalled` lists the
watched loops (polls, publishing) whose last completed pass is older than twice their
interval, which `/healthz` reports as degraded.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field

STALL_FLOOR = 10.0
"""Seconds a watched loop may always take, so a sub-second interval does not flap."""


@dataclass
class Loop:
    name: str
    every: float
    jitter: float
    watched: bool
    began: float
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    done_at: float | None = None
    """`loop.time()` when the last pass completed without an error (None: none yet)."""
    task: asyncio.Task[None] | None = None

    def age(self, now: float) -> float:
        """Seconds since the last completed pass (or since the loop began)."""
        return now - (self.done_at if self.done_at is not None else self.began)

    @property
    def allowed(self) -> float:
        return max(STALL_FLOOR, 2 * (self.every + self.jitter))


class Loops:
    """Named periodic tasks on the running event loop; `on_error` sees every failed pass,
    `on_done` every completed one (so a condition reported once can be reported over)."""

    def __init__(self, on_error: Callable[[str, Exception], None],
                 on_done: Callable[[str], None] | None = None) -> None:
        self._clock = asyncio.get_running_loop()  # its time() may be read from any thread
        self.loops: dict[str, Loop] = {}
        self._on_error = on_error
        self._on_done = on_done
        self._stopping = False

    def start(self, name: str, every: float, work: Callable[[], Awaitable[object]], *,
              jitter: float = 0.0, delay: float = 0.0, watched: bool = False) -> None:
        """Run `work` now (after `delay`), then every `every` seconds (+ up to `jitter`),
        start to start; a pass that runs long is followed at once, never overlapped."""
        entry = Loop(name, every, jitter, watched, began=self._clock.time())
        entry.task = asyncio.create_task(self._run(entry, work, delay), name=f"loop:{name}")
        self.loops[name] = entry

    def wake(self, name: str) -> None:
        """Run the loop's next pass now (a folder changed, say)."""
        if (entry := self.loops.get(name)) is not None:
            entry.wake.set()

    def stalled(self) -> list[tuple[Loop, float]]:
        """Watched loops whose last completed pass is older than they are allowed, with
        that age in seconds (callable from any thread: `/healthz` runs in a pool)."""
        now = self._clock.time()
        return [(e, e.age(now)) for e in list(self.loops.values())
                if e.watched and e.age(now) > e.allowed]

    async def stop(self, grace: float, *, finish: Collection[str] = ()) -> None:
        """No new passes; loops in `finish` may complete the pass they are in for up to
        `grace` seconds, the others are cancelled now."""
        self._stopping = True
        for entry in self.loops.values():
            entry.wake.set()
        tasks = {e.name: e.task for e in self.loops.values() if e.task is not None}
        for name, task in tasks.items():
            if name not in finish:
                task.cancel()
        waiting = [t for n, t in tasks.items() if n in finish and not t.done()]
        if waiting:
            _, late = await asyncio.wait(waiting, timeout=grace)
            for task in late:
                task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks.values(), return_exceptions=True)

    async def _run(self, entry: Loop, work: Callable[[], Awaitable[object]], delay: float
                   ) -> None:
        clock = self._clock
        due = clock.time() + delay
        while True:
            # a timer that sets the wake-up event, not `wait_for` (a task, a timeout and a
            # cancellation per tick: twice the CPU of an idle tick)
            timer = clock.call_at(due, entry.wake.set)
            try:
                await entry.wake.wait()
            finally:
                timer.cancel()
            entry.wake.clear()
            if self._stopping:
                return
            began = clock.time()
            try:
                await work()
            except Exception as exc:  # one failed pass must not end the loop
                self._on_error(entry.name, exc)
            else:
                entry.done_at = clock.time()
                if self._on_done is not None:
                    self._on_done(entry.name)
            due = began + entry.every + random.uniform(0, entry.jitter)
