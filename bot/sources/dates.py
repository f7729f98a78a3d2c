"""Dates as press releases write them: `12 March 2026`, `March 12, 2026`, `12.03.2026`,
`2026-03-12`, `Published: 12/03/2026`, `12 de marzo de 2024`, `le 12 mars 2024`,
`12. März 2024`, `12 марта 2024 г.`, and, through dateparser, other languages' forms.

Month names in English, Spanish, French, German, Russian, Italian, Portuguese and Dutch
(the languages the releases come in) and numeric dates are read with a few linear patterns;
numeric dates are read day-first, as European writers mean them, unless that is impossible
(`03/25/2026`).
dateparser handles other languages only as a fallback: it is slow to import and slower
still when a candidate is not a date, so it is imported late, limited to the EU's
languages and asked about two candidates at most.

A release's head often carries two dates: when it was published and when the page was
last changed. `HeadDates` keeps them apart, so "Last updated" never wins over the
publication date, and reads a label alone on its line ("Published", "Publié le",
"Опубликовано") as naming the date on the next line.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

__all__ = ["HeadDates", "as_instant", "date_line_span", "day_of", "find_date", "has_clock",
           "parse_date_line", "parse_stamp"]

_MONTH_NAMES = (  # and Italian, Portuguese and Dutch, read as often as the others
    "january jan enero ene janvier janv januar jänner jän января янв gennaio gen janeiro"
    " januari",
    "february feb febrero février fevrier févr fevr februar feber февраля фев февр febbraio"
    " fevereiro fev februari",
    "march mar marzo mars märz maerz mär марта мар março maart mrt",
    "april apr abril abr avril avr апреля апр aprile",
    "may mayo mai мая maggio mag maio mei",
    "june jun junio juin juni июня июн giugno giu junho",
    "july jul julio juillet juil juli июля июл luglio lug julho",
    "august aug agosto ago août aout августа авг augustus",
    "september sep sept septiembre setiembre septembre сентября сен сент settembre sett"
    " setembro",
    "october oct octubre octobre oktober okt октября окт ottobre ott outubro",
    "november nov noviembre novembre ноября ноя нояб",
    "december dec diciembre dic décembre decembre déc dezember dez декабря дек dicembre"
    " dezembro",
)
_MONTHS = {name: n for n, names in enumerate(_MONTH_NAMES, 1) for name in names.split()}
_MON = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")(?!\w)\.?"
# `12 March 2026`, `1st of Sept, 2026`, `12 de marzo de 2024`, `1er mars 2024`, `12. März 2024`
_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|º|°)?\.?[ \t]+(?:of[ \t]+|de[ \t]+)?{_MON}"
                  r"[ \t]*,?[ \t]*(?:de[ \t]+|del[ \t]+)?(\d{4})(?!\d)", re.I)
_MDY = re.compile(rf"\b{_MON}[ \t]+(\d{{1,2}})(?:st|nd|rd|th)?,?[ \t]+(\d{{4}})(?!\d)", re.I)
# a program's own stamp, Unix `date` and Java's Date: `Tue Sep 27 11:32:00 CEST 2022`
_STAMP = re.compile(rf"\b{_MON}[ \t]+(\d{{1,2}})[ \t]+\d{{1,2}}:\d{{2}}(?::\d{{2}})?"
                    r"(?:[ \t]+[a-z]{2,5}(?:[+-]\d{1,2})?)?[ \t]+(\d{4})(?!\d)", re.I)
_YMD = re.compile(r"(?<![\d.])(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?![\d])")
_NUM = re.compile(r"(?<![\d.])(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?!\d)")
# `02.12.19`, `14 Gennaio 20`: a two-digit year, believed only on a line that is nothing but
# the date (and a place)
_SHORT = re.compile(r"(?<![\d.])(\d{1,2})([./])(\d{1,2})\2(\d{2})(?![\d.])")
_SHORT_NAMED = re.compile(rf"(?<![\d.])(\d{{1,2}})\.?[ \t]+{_MON}[ \t]+'?(\d{{2}})(?![\d.:])",
                          re.I)
_FOREIGN = re.compile(r"\b\d{1,2}\.?[ \t]+(?:de[ \t]+)?[^\W\d_]{3,12}\.?[ \t]+(?:de[ \t]+)?\d{4}\b")
# what labels a publication date, and what labels a later change of the page
_PUBLISHED_LABEL = (
    r"published|posted|released?|issued|dated|date(?:[ \t]+(?:of|de)[ \t]+publication)?"
    r"|publication[ \t]+date|publi[ée]e?|mis[ \t]+en[ \t]+ligne|publicad[oa]"
    r"|fecha(?:[ \t]+de[ \t]+publicaci[óo]n)?|ver[öo]ffentlicht|ver[öo]ffentlichungsdatum|datum"
    r"|опубликовано|дата(?:[ \t]+публикации)?")
_UPDATED_LABEL = (
    r"(?:last[ \t]+)?(?:updated|modified|revised|changed)|(?:derni[èe]re[ \t]+)?mise[ \t]+[àa]"
    r"[ \t]+jour|mis[ \t]+[àa][ \t]+jour|modifi[ée]e?|(?:[úu]ltima[ \t]+)?(?:actualizaci[óo]n"
    r"|modificaci[óo]n)|actualizad[oa]|modificad[oa]|(?:zuletzt[ \t]+)?(?:aktualisiert|ge[äa]ndert)"
    r"|aktualisierung|stand|обновлено|изменено|последнее[ \t]+обновление"
    r"|(?:дата[ \t]+)?(?:последнего[ \t]+)?(?:обновления|изменения)")
_DATE_NOISE = re.compile(
    rf"\b(?:{_UPDATED_LABEL}|{_PUBLISHED_LABEL}|on|last|created|am|le|el|il|vom|den|news|at"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun"
    r"|cet|cest|utc|gmt|uhr|am|pm|h|г|года|à|a|las|um|в)\b\.?|\d{1,2}[:.h]\d{2}"
    r"|(?<=gmt|utc)[+-]\d{1,2}(?::?\d{2})?|(?<=\d)[ \t]*[+-]\d{2}:?\d{2}\b"
    r"|[|,:;.–—/()•·-]",
    re.I)
_UPDATED_AT = re.compile(rf"[\W\d]*(?:{_UPDATED_LABEL})\b", re.I)
_LABEL_ONLY = re.compile(rf"(?:(?P<updated>{_UPDATED_LABEL})|{_PUBLISHED_LABEL})"
                         r"(?:[ \t]+(?:on|le|el|am|the))?[ \t]*:?", re.I)


def _date_from(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _english_dates(text: str) -> list[tuple[int, int, date | None]]:
    """(start, end, date) of every pattern's first hit: month names (English, Spanish, French,
    German, Russian) or numbers."""
    hits: list[tuple[int, int, date | None]] = []
    if m := _DMY.search(text):
        hits.append((m.start(), m.end(), _date_from(int(m[3]), _MONTHS[m[2].lower()], int(m[1]))))
    if m := _MDY.search(text):
        hits.append((m.start(), m.end(), _date_from(int(m[3]), _MONTHS[m[1].lower()], int(m[2]))))
    if m := _STAMP.search(text):
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
    if span is None and (m := _SHORT.fullmatch(line.strip())) and (
            short := _date_from(2000 + int(m[4]), int(m[3]), int(m[1]))):
        span = (0, len(line), short)
    if span is None and (m := _SHORT_NAMED.search(line)) and (
            short := _date_from(2000 + int(m[3]), _MONTHS[m[2].lower()], int(m[1]))):
        span = (m.start(), m.end(), short)
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


def parse_stamp(raw: str, tz: tzinfo) -> date | datetime | None:
    """A feed's (or a page's) date string read carefully: RFC 822, ISO 8601, or numbers with
    the year first (`2020/1/10 14:33:00`) or last (day-first, `10.01.2020`); a stamp without
    a zone is in `tz`. A stamp without a time (`2026-03-12`) is that day, a `date`, not an
    instant: it is shown as written in every zone. None when the string is none of these."""
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
        if m[9] is None:
            return _date_from(y, mo, d)
        try:
            found = datetime(y, mo, d, int(m[9]), int(m[10]), int(m[11] or 0))
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


def as_instant(value: date, tz: tzinfo) -> datetime:
    """An aware UTC instant: a day alone is its midnight in `tz`, a zone-less time is in `tz`."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=tz)).astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=tz).astimezone(UTC)


def day_of(value: date | None) -> date | None:
    """The day of a date written without a time; None for an instant (or nothing)."""
    return None if value is None or isinstance(value, datetime) else value


_CLOCK = re.compile(r"\d{1,2}[:h]\d{2}\b|T\d{2}")


def has_clock(raw: str) -> bool:
    """Does a date string give a time of day (`14:30`, `14h30`, `T14`)?"""
    return _CLOCK.search(raw) is not None


_MAX_DATEPARSER_TRIES = 2


class HeadDates:
    """The dates of a release's head, fed line by line as the head is read.

    The publication date wins over a "Last updated" one whatever their order; an update
    date is kept as a last resort (`updated`), for a release that says nothing else. A label
    alone on its line ("Published", "Publié le", "Опубликовано", "Last updated") names the
    date on the next line. At most two date lines are parsed, so dateparser is asked about
    two candidates at most.
    """

    def __init__(self) -> None:
        self.published: date | None = None
        self._updated: str | None = None
        self._label: str | None = None
        self._tries = 0

    def label(self, line: str) -> bool:
        """Is the line a date's label alone? Then it names the next date line."""
        m = _LABEL_ONLY.fullmatch(line)
        if m:
            self._label = "updated" if m["updated"] else "published"
        return m is not None

    def line(self, line: str) -> None:
        """A line that is only a date, maybe with its label, weekday, time or place."""
        label, self._label = self._label, None
        if self.published is not None:
            return
        if label == "updated" or _UPDATED_AT.match(line):
            self._updated = self._updated or line
        elif self._tries < _MAX_DATEPARSER_TRIES:
            self._tries += 1
            # a date line with more around it (`July 25, 2019 | 11:15 PM`): its first date
            self.published = parse_date_line(line) or find_date(line)

    def updated(self) -> date | None:
        """The date of the first "updated" line, for a release that gives no other."""
        return parse_date_line(self._updated) if self._updated else None
