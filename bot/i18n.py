"""The newsletter's fixed words in the reader's language: gettext catalogues read by Babel.

The catalogues are `bot/locale/<language>/LC_MESSAGES/pressbot.po`, compiled in memory by
Babel the first time a language is asked for (no `.mo` to build or to forget to rebuild:
a clean clone works as it is). A language pressbot has no catalogue for falls back to
English; a region (`es-MX`) uses its language (`es`).

A newsletter issue is rendered once and sent to readers of several languages, so its
templates do not translate at render time: `_("Read more:")` and `| date` leave markers
(`%%T:…%%`, `%%D:2026-06-10%%`) which `fill` turns into each reader's words and date
(Babel's "long" date of their locale) when the message is built, like the greeting;
`%%L%%` becomes the reader's language code, the `lang` of the elements holding them.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Babel (with pytz and its catalogue reader) loads when a language is asked
    from babel.support import Translations  # for: an idle service never pays for it

LANGUAGES = ("en", "es", "fr", "de", "ru")
"""Languages with a catalogue; the first is the fallback."""
DOMAIN = "pressbot"
LOCALE_DIR = Path(__file__).parent / "locale"

_DATE_LOCALE = {"en": "en_GB"}
"""English dates as pressbot always wrote them: "10 June 2026"."""
_MARK = re.compile(r"%%T:([0-9a-f]{2,2000})%%|%%D:(\d{4}-\d{2}-\d{2})%%|%%L%%")
LANGUAGE_MARK = "%%L%%"
"""Filled with the reader's language code: the `lang` of the elements holding fixed words
(greeting, date, button, footer) in a mail whose text is in another language."""


def best(*languages: str | None) -> str:
    """The first of `languages` with a catalogue (by its base language), else English."""
    for language in languages:
        if language:
            base = language.replace("_", "-").split("-")[0].lower()
            if base in LANGUAGES:
                return base
    return LANGUAGES[0]


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> Translations:
    """The compiled catalogue of a language `best` returned."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import Translations

    with po_path(language).open("rb") as po:
        catalog = read_po(po, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def gettext(language: str | None, message: str, /, **values: object) -> str:
    """`message` in `language` (else English), its `{name}` fields filled from `values`."""
    text = translations(best(language)).gettext(message)
    return text.format(**values) if values else text


def ngettext(language: str | None, singular: str, plural: str, n: int, /,
             **values: object) -> str:
    text = translations(best(language)).ngettext(singular, plural, n)
    return text.format(n=n, **values)


def format_day(value: date | datetime, language: str | None) -> str:
    """A day as the reader's locale writes it in full ("10 juin 2026", "10. Juni 2026")."""
    from babel.dates import format_date

    day = value.date() if isinstance(value, datetime) else value
    chosen = best(language)
    return format_date(day, format="long", locale=_DATE_LOCALE.get(chosen, chosen))


def language_name(language: str) -> str:
    """A language's own name for itself ("français"), for a language menu."""
    from babel import Locale

    return Locale.parse(language).get_display_name(language) or language


def msgids() -> list[str]:
    """Every message of the English catalogue (tests check no mail in another language
    carries one)."""
    from babel.messages.pofile import read_po

    with po_path("en").open("rb") as po:
        catalog = read_po(po, locale="en", domain=DOMAIN)
    found: list[str] = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
        found.extend(str(i) for i in ids)
    return found


# ── markers: an issue's fixed words, translated per reader when the mail is built ──────────

def mark(message: str) -> str:
    return f"%%T:{message.encode().hex()}%%"


def mark_date(value: date | datetime) -> str:
    day = value.date() if isinstance(value, datetime) else value
    return f"%%D:{day.isoformat()}%%"


def fill(text: str, language: str | None, *, escape: bool = False) -> str:
    """`text` with every marker replaced by its words or date in `language`; `escape` for
    an HTML part (a translation is text, not markup)."""
    if "%%" not in text:
        return text
    chosen = best(language)

    def replace(match: re.Match[str]) -> str:
        if match.group(1):
            words = gettext(chosen, bytes.fromhex(match.group(1)).decode())
        elif match.group(0) == LANGUAGE_MARK:
            return chosen
        else:
            words = format_day(date.fromisoformat(match.group(2)), chosen)
        return html.escape(words) if escape else words

    return _MARK.sub(replace, text)


def from_accept_language(header: str | None) -> str | None:
    """The supported language a browser's `Accept-Language` prefers most, or None."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((header or "").split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        base = tag.strip().split("-")[0].lower()
        if base in LANGUAGES and quality > 0:
            ranked.append((-quality, position, base))
    return min(ranked)[2] if ranked else None
