"""`schedule --at` and the web form's time: read what people type, never guess.

A comms officer types `tomorrow 15.00`, `friday 9am`, `monday 10:30`, `15h`, `in 2 hours`
or an ISO time. Anything else — an hour 25, a day without a time, a time already past — is
refused with what was understood, rather than turned into some other moment (a general
date parser reads `tomorrow 25:00` as tomorrow at the current time, and `friday` as
midnight). Times are in the bot's zone.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_TIME = re.compile(r"^(?P<h>\d{1,2})(?:[:.h](?P<m>\d{2}))?\s*(?P<ampm>am|pm|h)?$")
_IN = re.compile(r"^in\s+(?P<n>\d{1,4})\s*(?P<unit>minutes?|mins?|m|hours?|hrs?|h|days?|d)$")
_DMY = re.compile(r"^(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})$")
_EXAMPLES = "'tomorrow 09:00', 'friday 15.00', 'monday 9am', 'in 2 hours' or '2026-12-01 09:00'"


class PastTime(ValueError):
    """The text was read, but the moment it names has passed."""


def parse_when(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """The moment `text` names (UTC); ValueError says what was read and what was expected."""
    raw = " ".join(text.strip().lower().split())
    local_now = now.astimezone(tz)
    value = _read(raw, tz, local_now)
    if value <= now:
        shown = value.astimezone(tz).strftime("%a %-d %b %Y %H:%M")
        raise PastTime(f"{text.strip()!r} is {shown} ({tz.key}), which has passed: give a "
                       "time still to come")
    return value.astimezone(UTC)


def _read(raw: str, tz: ZoneInfo, local_now: datetime) -> datetime:
    if not raw:
        raise ValueError(f"say when, e.g. {_EXAMPLES}")
    if match := _IN.match(raw):
        n, unit = int(match["n"]), match["unit"][0]
        delta = {"m": timedelta(minutes=n), "h": timedelta(hours=n), "d": timedelta(days=n)}
        return local_now + delta[unit]
    try:
        iso = datetime.fromisoformat(raw.upper() if "t" in raw else raw)
    except ValueError:
        pass
    else:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            raise ValueError(f"{raw!r} is a day without a time: add one, e.g. '{raw} 09:00'")
        return iso if iso.tzinfo else iso.replace(tzinfo=tz)
    words = raw.split(" ")
    day_words, time_word = words[:-1], words[-1]
    if not day_words and _day(time_word, local_now.date()) is not None:
        raise ValueError(f"{raw!r} names a day but no time: add one, e.g. '{raw} 09:00'")
    day = _day(" ".join(day_words), local_now.date()) if day_words else local_now.date()
    if day is None:
        raise ValueError(f"cannot read the day in {raw!r}: use today, tomorrow, a weekday or "
                         f"a date, e.g. {_EXAMPLES}")
    clock = _clock(time_word, raw)
    moment = datetime.combine(day, clock, tz)
    if day_words and day_words[-1] in _weekday_names() and moment <= local_now:
        moment += timedelta(days=7)     # "monday 10:30" said on a Monday at noon: next week
    return moment


def _weekday_names() -> dict[str, int]:
    return {name: i for i, full in enumerate(WEEKDAYS) for name in (full, full[:3])}


def _day(text: str, today: date) -> date | None:
    text = text.removeprefix("next ").strip()
    if text == "today":
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    if text == "yesterday":
        return today - timedelta(days=1)
    if text in (names := _weekday_names()):
        return today + timedelta(days=(names[text] - today.weekday()) % 7)
    if match := _DMY.match(text):
        try:
            return date(int(match["y"]), int(match["m"]), int(match["d"]))
        except ValueError:
            return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _clock(word: str, raw: str) -> time:
    match = _TIME.match(word)
    if not match:
        raise ValueError(f"cannot read the time in {raw!r}: use 09:00, 15.00, 9am or 15h, "
                         f"e.g. {_EXAMPLES}")
    hour, minute, ampm = int(match["h"]), int(match["m"] or 0), match["ampm"]
    if ampm in ("am", "pm"):
        if not 1 <= hour <= 12:
            raise ValueError(f"{word!r}: with am/pm the hour is 1 to 12")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"{word!r} is not a time of day (hours 0-23, minutes 0-59)")
    return time(hour, minute)
