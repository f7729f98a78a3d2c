"""Meta's usage headers, read on every answer, so the channel slows down before Meta throttles it.

At 90 % of any limit the channel stops writing until the platform's estimate of regained
access (or a default pause) has passed. That memo is the one piece of process memory the
channel keeps; it is rebuilt from the next answer after a restart.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import httpx

from channels.base import Transient

# The package's logger name, which log filters and tests select on.
log = logging.getLogger("channels.facebook")

SLOWDOWN_AT = 90
SLOWDOWN_PAUSE = 300.0


def usage_of(response: httpx.Response) -> tuple[int, float | None]:
    """Highest usage percentage in the usage headers, and seconds until access regained."""
    highest, regain = 0, 0.0
    for header in ("x-app-usage", "x-page-usage", "x-business-use-case-usage"):
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        entries: list[Any] = [data] if header != "x-business-use-case-usage" else [
            e for v in (data.values() if isinstance(data, dict) else []) if isinstance(v, list)
            for e in v]
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            for key in ("call_count", "total_cputime", "total_time"):
                value = entry.get(key)
                if isinstance(value, int | float):
                    highest = max(highest, int(value))
            minutes = entry.get("estimated_time_to_regain_access")
            if isinstance(minutes, int | float):
                regain = max(regain, float(minutes) * 60)
    return highest, (regain or None)


class UsageMemo:
    """The write pause of `FacebookChannel`, whose constructor starts it at zero."""

    _slow_until: float
    _slow_reason: str

    def _note_usage(self, response: httpx.Response) -> None:
        highest, regain = usage_of(response)
        if highest >= SLOWDOWN_AT:
            wait = regain or SLOWDOWN_PAUSE
            self._slow_until = max(self._slow_until, time.monotonic() + wait)
            self._slow_reason = f"Facebook reports {highest} % of a rate limit used"
            log.info("%s: pausing writes for %.0f s", self._slow_reason, wait)

    def _before_write(self) -> None:
        remaining = self._slow_until - time.monotonic()
        if remaining > 0:
            raise Transient(f"{self._slow_reason}: pausing writes to stay under 100 %",
                            retry_after=remaining, throttled=True)
