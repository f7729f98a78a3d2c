"""Sending no faster than the provider allows: messages per second and per hour.

The per-second pace is a shared schedule of send slots, so several connections together
keep it. The hourly budget starts from the ledger (messages this channel had accepted in
the last hour), so it holds across restarts and across posts; when it runs out the send
stops and the post is retried when the oldest of those messages leaves the window.
"""

from __future__ import annotations

import threading
import time


class Pace:
    """`pace.slot()` before each message, from the connections' threads (it sleeps until
    the message's turn); False when the hourly budget is spent."""

    def __init__(self, per_second: float | None, hourly_budget: int | None) -> None:
        self.interval = 1.0 / per_second if per_second else 0.0
        self.budget = hourly_budget
        self._next = 0.0
        self._lock = threading.Lock()

    def slot(self) -> bool:
        with self._lock:
            if self.budget is not None:
                if self.budget <= 0:
                    return False
                self.budget -= 1
            if not self.interval:
                return True
            now = time.monotonic()
            at = max(now, self._next)
            self._next = at + self.interval
        if at > now:
            time.sleep(at - now)
        return True

    @property
    def exhausted(self) -> bool:
        return self.budget is not None and self.budget <= 0
