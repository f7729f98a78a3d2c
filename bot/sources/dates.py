"""Dates as press releases write them: `12 March 2026`, `March 12, 2026`, `12.03.2026`,
`2026-03-12`, `Published: 12/03/2026`, and, through dateparser, `12. März 2026`.

English and numeric forms are read with a few linear patterns; numeric dates are read
day-first, as European writers mean them, unless that is impossible (`03/25/2026`).
dateparser handles other languages only as a fallback: it is slow to import and slower
still when a candidate is not a date, so it is imported late, limited to the EU's
languages and asked about two candidates at most.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

__all__ = ["date_line_span", "find_date", "parse_date_line", "parse_stamp"]

_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
_MON = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\.?[ \t]+(?:of[ \t]+)?{_MON}[ \t]*,?[ \t]*"
                  r"(\d{4})\b", re.I)
_MDY = re.compile(rf"\b{_MON}[ \t]+(\d{{1,2}})(?:st|nd|rd|th)?,?[ \t]+(\d{{4}})\b", re.I)
_YMD = re.compile(r"(?<![\d.])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d])")
_NUM = re.compile(r"(?<![\d.])(\d{1,2})([./-])(\d{1,2})\2(\d{4})\b")
_FOREIGN = re.compile(r"\b\d{1,2}\.?[ \t]+(?:de[ \t]+)?[^\W\d_]{3,12}\.?[ \t]+(?:de[ \t]+)?\d{4}\b")
_DATE_NOISE = re.compile(
    r"\b(?:published|posted|date|dated|on|updated|last|released?|issued|created|modified|am|le"
    r"|el|il|vom|den|news|at|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue"
    r"|wed|thu|fri|sat|sun|cet|cest|utc|gmt|uhr|am|pm|h)\b\.?|\d{1,2}[:.]\d{2}|[|,:;–—/()•·-]",
    re.I)


def _date_from(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _english_dates(text: str) -> list[tuple[int, int, date | None]]:
    """(start, end, date) of every English or numeric date pattern's first hit."""
    hits: list[tuple[int, int, date | None]] = []
    if m := _DMY.search(text):
        hits.append((m.start(), m.end(), _date_from(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))))
    if m := _MDY.search(text):
        hits.append((m.start(), m.end(), _date_from(int(m[3]), _MONTHS[m[1].lower()], int(m[2]))))
    if m := _YMD.search(text):
        hits.append((m.start(), m.end(), _date_from(int(m[1]), int(m[3]), int(m[4]))))
    if m := _NUM.search(text):
        a, b = int(m[1]), int(m[3])
        day, month = (b, a) if b > 12 >= a else (a, b)  # day-first unless impossible
        hits.append((m.start(), m.end(), _date_from(int(m[4]), month, day)))
    return sorted(hits, key=lambda h: h[0])


# The EU's languages and Russian: trying every locale dateparser knows costs about a second a miss.
_LANGUAGES = ("en", "de", "fr", "it", "es", "pt", "nl", "sl", "hr", "hu", "cs", "sk", "pl", "ro",
              "bg", "el", "sv", "da", "fi", "et", "lv", "lt", "ga", "mt", "ru")


def _dateparser(candidate: str) -> date | None:
    try:
        import dateparser  # slow to import: only for dates in other languages
        found = dateparser.parse(candidate, languages=list(_LANGUAGES), settings={
            "DATE_ORDER": "DMY", "REQUIRE_PARTS": ["day", "month", "year"]})
    except Exception:  # a third-party parser must not break extraction
        return None
    return found.date() if found else None


def _foreign_date(text: str) -> tuple[int, int, date] | None:
    for n, m in enumerate(_FOREIGN.finditer(text)):
        if n >= 2:
            break
        if (found := _dateparser(m.group(0))) is not None:
            return m.start(), m.end(), found
    return None


def find_date(text: str) -> date | None:
    """The first full date (day, month, year) in `text`; numeric dates read day-first."""
    for _start, _end, found in _english_dates(text):
        if found is not None:
            return found
    foreign = _foreign_date(text)
    return foreign[2] if foreign else None


def date_line_span(line: str, *, parse_foreign: bool) -> tuple[int, int, date | None] | None:
    """Where the date of a date-only line is; its date is None for an unparsed foreign one."""
    if not line or len(line) > 80 or not any(c.isdigit() for c in line):
        return None
    span: tuple[int, int, date | None] | None = next(
        ((s, e, d) for s, e, d in _english_dates(line) if d), None)
    if span is None and (m := _FOREIGN.search(line)):
        span = (m.start(), m.end(), _dateparser(m.group(0)) if parse_foreign else None)
    if span is None:
        return None
    before = _DATE_NOISE.sub(" ", line[:span[0]]).split()
    after = _DATE_NOISE.sub(" ", line[span[1]:]).split()
    return span if len(before) <= 2 and not after else None


def parse_date_line(line: str) -> date | None:
    """The date of a line that is only a date, maybe with a label, weekday, time or place."""
    span = date_line_span(" ".join(line.split()), parse_foreign=True)
    return span[2] if span else None


_NUMERIC_STAMP = re.compile(
    r"\s*(?:(\d{4})([-/.])(\d{1,2})\2(\d{1,2})|(\d{1,2})([-/.])(\d{1,2})\6(\d{4}))"
    r"(?:[ tT]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?\s*$", re.I)


def parse_stamp(raw: str, tz: tzinfo) -> datetime | None:
    """A feed's date string read carefully: RFC 822, ISO 8601, or numbers with the year
    first (`2020/1/10 14:33:00`) or last (day-first, `10.01.2020`); a stamp without a zone
    is in `tz`. None when the string is none of these."""
    from email.utils import parsedate_to_datetime

    text = raw.strip()
    if not text or len(text) > 64:
        return None
    found: datetime | None = None
    m = _NUMERIC_STAMP.match(text)
    if m:
        if m[1]:
            y, mo, d = int(m[1]), int(m[3]), int(m[4])
        else:
            a, b = int(m[5]), int(m[7])
            d, mo = (b, a) if b > 12 >= a else (a, b)  # day-first unless impossible
            y = int(m[8])
        try:
            found = datetime(y, mo, d, int(m[9] or 0), int(m[10] or 0), int(m[11] or 0))
        except ValueError:
            return None
        zone = (m[12] or "").upper()
        if zone in ("Z", "UTC", "GMT"):
            return found.replace(tzinfo=UTC)
        if zone:
            sign = 1 if zone[0] == "+" else -1
            digits = zone[1:].replace(":", "")
            offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            return found.replace(tzinfo=timezone(sign * offset))
    else:
        try:
            found = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                found = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    if found.tzinfo is None:
        found = found.replace(tzinfo=tz)
    return found
