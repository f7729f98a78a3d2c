"""Query and form values read into what the pages need, or a 400 saying what was wrong.

Pages read their parameters through these, so a value out of range — a page number of
twenty digits, a date in the year 9999 plus a week, a superscript "²" that `str.isdigit`
calls a digit — is the visitor's mistake (400, or 404 for a page past the last), never an
error of ours (500). Dates are kept within FIRST_DAY and LAST_DAY: a day's start in any
time zone, and a week or a page on either side, stay within what `datetime` can hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
_PAGE = re.compile(r"[0-9]{1,9}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ID = re.compile(r"[0-9]{1,18}")


class BadParameter(ValueError):
    """A parameter that cannot be used as given; the message names it (shown with a 400)."""


def _shown(raw: str) -> str:
    return repr(raw if len(raw) <= 40 else raw[:40] + "…")


def page_number(raw: str | None) -> int:
    """A page number from 1; none given is page 1."""
    if not raw:
        return 1
    if not _PAGE.fullmatch(raw) or int(raw) < 1:
        raise BadParameter(f"page: expected a page number from 1, not {_shown(raw)}")
    return int(raw)


def day(name: str, raw: str | None) -> date | None:
    """A date written YYYY-MM-DD between FIRST_DAY and LAST_DAY; none given is None."""
    if not raw:
        return None
    try:
        if not _DAY.fullmatch(raw):
            raise ValueError
        value = date.fromisoformat(raw)
    except ValueError:
        raise BadParameter(f"{name}: expected a date like 2026-03-02, not {_shown(raw)}"
                           ) from None
    if not FIRST_DAY <= value <= LAST_DAY:
        raise BadParameter(f"{name}: {raw} is outside the years {FIRST_DAY.year} to "
                           f"{LAST_DAY.year}")
    return value


def choice(name: str, raw: str | None, allowed: Iterable[str]) -> str | None:
    """One of `allowed`; none given is None (any)."""
    if not raw:
        return None
    options = list(allowed)
    if raw not in options:
        raise BadParameter(f"{name}: no {name} {_shown(raw)} (there are: "
                           f"{', '.join(options)})")
    return raw


def row_id(raw: str) -> int | None:
    """A database id written in ASCII digits (1 to 18 of them), or None."""
    return int(raw) if _ID.fullmatch(raw) else None


def no_nul(values: Iterable[tuple[str, str]]) -> None:
    """No value may hold a NUL character: PostgreSQL refuses it in text, SQLite would keep
    it, and no form or link of ours sends one."""
    for name, value in values:
        if "\x00" in value or "\x00" in name:
            raise BadParameter(f"{name.replace(chr(0), '')[:40]}: contains a NUL character")
