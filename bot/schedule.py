"""Publishing windows and slots: when may a channel's next post go out?

A window reads like a shop sign: `"mon-fri 09:00-18:00"`, `"sat 10:00-12:00"`,
`"daily 08:00-20:00"`, `"mon,wed,fri 09:00-17:00"`, in the bot's time zone. A post's slot
is the first moment at or after `max(now, embargo, previous post + min_gap)` that falls
inside a window (any moment, when the channel has none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_WINDOW = re.compile(r"^\s*([a-z,\-]+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


@dataclass(frozen=True)
class Window:
    days: frozenset[int]
    start: time
    end: time


def _days(spec: str) -> set[int]:
    if spec in ("daily", "every", "all"):
        return set(range(7))
    if spec in ("weekdays",):
        return set(range(5))
    if spec in ("weekend", "weekends"):
        return {5, 6}
    days: set[int] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise ValueError(f"unknown day {part!r}: use mon…sun, daily or weekdays")
        a, b = DAYS.index(first), DAYS.index(last or first)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(b + 1)])
    return days


def parse_window(text: str) -> Window:
    """Parse a window; ValueError says what was expected."""
    match = _WINDOW.match(text.lower())
    if not match:
        raise ValueError(f"expected a window like 'mon-fri 09:00-18:00': got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups()[1:])
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
        raise ValueError(f"not a time of day in {text!r}")
    end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
    start = time(h1, m1)
    if end <= start:
        raise ValueError(f"window ends before it starts: {text!r}")
    return Window(frozenset(_days(match.group(1))), start, end)


def next_slot(earliest: datetime, windows: list[str], tz: ZoneInfo) -> datetime:
    """The first moment at or after `earliest` inside one of `windows` (UTC out)."""
    if not windows:
        return earliest.astimezone(UTC)
    parsed = [parse_window(w) for w in windows]
    local = earliest.astimezone(tz)
    for offset in range(0, 15):
        day = (local + timedelta(days=offset)).date()
        candidates = []
        for window in parsed:
            if day.weekday() not in window.days:
                continue
            start = datetime.combine(day, window.start, tz)
            end = datetime.combine(day, window.end, tz)
            if end <= local:
                continue
            candidates.append(max(start, local))
        if candidates:
            return min(candidates).astimezone(UTC)
    raise ValueError(f"no publishing window in the next two weeks: {windows}")


def spans_on(day: date, windows: list[str]) -> list[tuple[time, time]]:
    """The local opening hours `windows` give on `day`, earliest first (none: closed)."""
    parsed = [parse_window(w) for w in windows]
    return sorted((w.start, w.end) for w in parsed if day.weekday() in w.days)


def inside(when: datetime, windows: list[str], tz: ZoneInfo) -> bool:
    """Whether `when` falls in one of `windows` (always, when there are none): a person's
    chosen time is checked against the same windows the slots are found in."""
    if not windows:
        return True
    local = when.astimezone(tz)
    moment = local.time().replace(tzinfo=None)
    return any(start <= moment < end or (moment == end == time(23, 59, 59))
               for start, end in spans_on(local.date(), windows))
