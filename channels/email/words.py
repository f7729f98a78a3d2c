"""The few words pressbot itself writes into every newsletter, in the reader's language.

The greeting and the footer are filled per recipient at send time (placeholders left by
`bot.render`), from the subscriber's language, else the post's, else English; so are the
other fixed words of the templates and the dates (`bot.i18n` markers, by `locale`). The
words come from the gettext catalogues of `bot.i18n` (en, es, fr, de, ru); a language
without one falls back to English, a region (`es-MX`) uses its language (`es`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from bot import i18n


@dataclass(frozen=True)
class Words:
    hello: str
    """The greeting without a name."""
    hello_name: str
    """The greeting with `{name}`."""
    reason: str
    unsubscribe: str
    view: str
    locale: str = "en"
    """The catalogue these words came from: the template markers are filled in it too."""


@cache
def _words(language: str) -> Words:
    translate = i18n.translations(language).gettext
    return Words(translate("Hello,"), translate("Hello {name},"),
                 translate("You receive this because you subscribed to our news."),
                 translate("Unsubscribe"), translate("View in your browser"), language)


def words_for(*languages: str | None) -> Words:
    """The words of the first of `languages` pressbot has a catalogue for, else English."""
    return _words(i18n.best(*languages))
