"""The review page's own Jinja2 environment (trusted templates, autoescape always on).

Post text is people's and sources' text: it reaches the page only escaped; `linkify`
escapes it first and then wraps the URLs `bot.fit` finds, exactly the ones the platform
would link. `shortlinks` does the same showing each link as Bluesky's text will (its short
form, the full address in the link), `mastodonlinks` as Mastodon's web interface does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup, escape

from bot.web.wording import person, sentence

TEMPLATES = Path(__file__).parent / "templates"


def linkify(text: str, shown: Callable[[str], str] = str) -> Markup:
    from bot.fit import find_urls  # with its Unicode-aware regex: at the first page shown

    pieces: list[str] = []
    position = 0
    for start, end in find_urls(text):
        url = text[start:end]
        pieces.append(escape(text[position:start]))
        pieces.append(Markup('<a href="{0}" rel="noopener noreferrer nofollow">{1}</a>')
                      .format(url, shown(url)))
        position = end
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


def shortlinks(text: str) -> Markup:
    from channels.bluesky.richtext import short_url

    return linkify(text, short_url)


_MASTODON_PREFIX = re.compile(r"\A(?:https?://(?:www\.)?|xmpp:)", re.I)
MASTODON_SHOWN = 30
"""Characters of a link Mastodon's web interface shows, after the scheme (and `www.`)."""


def mastodon_url(url: str) -> str:
    """A link as Mastodon shows it: `https://www.` dropped, 30 characters, then `…`
    (the server hides the rest; the link itself stays whole)."""
    prefix = _MASTODON_PREFIX.match(url)
    rest = url[prefix.end():] if prefix else url
    return rest[:MASTODON_SHOWN] + ("…" if len(rest) > MASTODON_SHOWN else "")


def mastodonlinks(text: str) -> Markup:
    return linkify(text, mastodon_url)


def href(url: str | None) -> str:
    """A link target from data (feeds, receipts): web and file links only, never
    `javascript:` or `data:` — "#" instead."""
    if url and urlsplit(url.strip()).scheme.lower() in ("http", "https", "file"):
        return url
    if url and url.startswith("/") and not url.startswith("//"):
        return url   # a page of ours (an outbox file)
    return "#"


def environment(tz: ZoneInfo) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def local(value: datetime | None, fmt: str = "%a %-d %b %Y, %H:%M") -> str:
        return value.astimezone(tz).strftime(fmt) if value else "—"

    def day(value: date | None) -> str:
        """A release's date: a day as written (a `date`) alone, an instant in the bot's zone
        with its time, unless that is midnight there (a release stored before days were
        kept, dated by its day in the bot's zone)."""
        if value is None:
            return "—"
        if isinstance(value, datetime):
            value = value.astimezone(tz)
            if value.time() != time(0):
                return local(value)
        return value.strftime("%a %-d %b %Y")

    env.filters["local"] = local
    env.filters["day"] = day
    env.filters["linkify"] = linkify
    env.filters["editable"] = _editable
    env.filters["shortlinks"] = shortlinks
    env.filters["mastodonlinks"] = mastodonlinks
    env.filters["engagement"] = _engagement
    env.filters["mentions"] = _mentions
    env.filters["href"] = href
    env.filters["iso"] = lambda value: value.isoformat() if value else ""
    # an email's fixed words and dates, kept as per-reader markers until sent, in the
    # post's language for the reviewer (`bot.i18n`)
    env.filters["words"] = _words
    env.filters["person"] = person
    env.filters["sentence"] = lambda event: sentence(event, tz)
    env.globals["timezone"] = str(tz)
    return env


def _words(text: str | None, language: str | None = None) -> str:
    from bot import i18n

    return i18n.fill(text or "", language)
def _engagement(counts: dict[str, int]) -> str:
    from bot.engagement import describe

    return describe(counts)


def _mentions(text: str) -> str:
    """LinkedIn shows a mention `@[Name](urn:li:organization:…)` as its name."""
    from channels.linkedin.little import display

    return display(text)


def _editable(post: Any) -> str:
    from bot.workflow import editable_text

    return editable_text(post)
