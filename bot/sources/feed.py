"""RSS/Atom feeds: fetch with httpx, parse with feedparser, turn entries into releases.

feedparser gets bytes, never a URL or a string (a string may make it open files or
URLs), plus the response headers so it can pick the encoding and resolve relative links
against the address the feed really came from.

A poll answered 304 needs only `download`: the reading of entries (feedparser, the HTML
cleaner with nh3, the date and lede readers; ~3 MB resident) is imported by the functions
that read a body, so a service restarted on feeds it already knows does not hold it.
"""

from __future__ import annotations

import asyncio
import calendar
import contextlib
import hashlib
import io
import logging
import re
from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import httpx

from bot.config import FeedSourceConfig
from bot.errors import SourceError
from bot.models import Image, Release
from bot.netguard import is_public_http_url
from bot.redact import safe_url
from bot.sources import charset
from bot.sources.http import Fetched, Progress, fetch

if TYPE_CHECKING:
    from bot.store.sources import SourceState

log = logging.getLogger("pressbot.feed")

# Entity expansion, measured with feedparser 6.0.14 on Python 3.11 / expat 2.5:
# - External entities and external DTDs (`<!DOCTYPE rss SYSTEM "http://…">`) are never
#   fetched: feedparser turns `feature_external_ges` off and expat does not read the DTD.
# - feedparser strips every `<!ENTITY` from the prolog and puts back only "safe" ones (a
#   value without `&`), and expat ≥ 2.4 stops a nested "billion laughs" at an amplification
#   factor of 100. But when expat stops, feedparser re-parses the document with its loose
#   parser, which expands those "safe" entities with no limit at all: one 10 kB entity
#   used 2000 times turns a 16 kB feed into a 20 MB title (quadratic in the input).
# So any entity declaration refuses the whole feed, before feedparser sees it. The bytes
# are searched as sent, without NULs (UTF-16/32) and decoded as feedparser decodes them
# (UTF-7 and EBCDIC spell `<!ENTITY` with other bytes). No real feed needs an entity.
_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ENTITY_TEXT = re.compile(r"<!ENTITY", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})""")
# dateparser's time grows with its input (~0.15 ms a character); real dates are short
_MAX_DATE_CHARS = 64
_HARMLESS_BOZO = ("CharacterEncodingOverride", "NonXMLContentType", "CharacterEncodingUnknown",
                  "UndeclaredNamespace")


async def poll(name: str, cfg: FeedSourceConfig, state: SourceState,
               client: httpx.AsyncClient, *, tz: tzinfo = UTC,
               errors: list[str] | None = None) -> tuple[Fetched, list[Release]]:
    """One conditional GET and parse; on 304 the list is empty and `fetched.unchanged`.
    Entries that cannot be read are named in `errors` (see `parse`)."""
    fetched = await download(name, cfg, state, client)
    return fetched, await read(name, cfg, fetched, tz=tz, errors=errors)


async def download(name: str, cfg: FeedSourceConfig, state: SourceState,
                   client: httpx.AsyncClient, progress: Progress | None = None) -> Fetched:
    """The conditional GET alone (what holds a connection slot; parsing does not).

    `timeout` bounds the whole fetch, redirects included: httpx's own timeout applies to
    each read, so a server dripping a byte every few seconds would otherwise hold the
    poll cycle for as long as it likes.
    """
    seconds = cfg.timeout.total_seconds()
    try:
        async with asyncio.timeout(seconds):
            return await fetch(
                client, str(cfg.url), etag=state.etag, last_modified=state.last_modified,
                max_bytes=cfg.max_bytes, max_redirects=cfg.max_redirects, timeout=seconds,
                private_host=cfg.url.host if cfg.allow_private else None, progress=progress,
            )
    except TimeoutError:
        raise SourceError(f"{safe_url(str(cfg.url))}: no complete answer within {seconds:g} s "
                          f"(sources.{name}.timeout)") from None


async def read(name: str, cfg: FeedSourceConfig, fetched: Fetched, *, tz: tzinfo = UTC,
               errors: list[str] | None = None) -> list[Release]:
    """The releases of a downloaded feed (none on 304)."""
    if fetched.unchanged:
        return []
    # parsing a big feed takes a while: off the event loop, so other sources keep going
    return await asyncio.to_thread(
        parse, name, fetched.body, url=fetched.url, content_type=fetched.content_type,
        language=cfg.language, allow_private_images=cfg.allow_private_images,
        content_location=fetched.content_location,
        tz=cfg.zone(tz), errors=errors)


def parse(name: str, body: bytes, *, url: str, content_type: str = "application/xml",
          language: str | None = None, allow_private_images: bool = False,
          content_location: str | None = None, tz: tzinfo = UTC,
          errors: list[str] | None = None) -> list[Release]:
    """Entries of a feed document as releases; SourceError when it is not a usable feed.

    Each entry is read on its own: one that cannot be (a date past the year 9999, or an
    error no one foresaw) is named, with the reason, in `errors` and in the log, and
    the other entries go on.

    Image addresses that are not http(s), or that point at this machine or a private
    network, are dropped unless `allow_private_images` (the source's config) says so.
    Relative links resolve against `xml:base`, else the feed's `rel="self"` link, else
    the response's Content-Location, else `url` — only ever an http(s) address: a feed
    read from a file without those keeps its relative links relative (and unpublished).
    Dates written without a zone are in `tz`.
    """
    if not body.strip():
        raise SourceError(f"{url}: empty response, expected an RSS or Atom feed")
    content_type, wrong_charset = charset.settle(body, content_type)
    if wrong_charset:
        log.warning("source=%s %s: %s", name, safe_url(url), wrong_charset)
    if _declares_entities(body, content_type):
        raise SourceError(f"{url}: feed declares XML entities; refused (entity expansion guard)")
    import feedparser

    try:
        parsed = feedparser.parse(
            io.BytesIO(body),
            # pressbot cleans every entry's HTML itself (`sanitize_html`, `html_to_text`):
            # feedparser's own pass over the same markup would only double the parse time
            sanitize_html=False,
            response_headers={"content-type": content_type or "application/xml",
                              "content-location": feed_base(body, url, content_location)},
        )
    except Exception as exc:  # e.g. `&#xD800;` crashes its fallback parser (6.0.14)
        raise SourceError(f"{url}: not a readable feed ({type(exc).__name__}: "
                          f"{str(exc)[:120]})") from None
    entries = parsed.get("entries") or []
    if parsed.get("bozo") and not entries:
        problem = parsed.get("bozo_exception")
        looks_html = b"<html" in body[:2000].lower() or "html" in content_type.lower()
        what = "an HTML page" if looks_html else "not a well-formed feed"
        raise SourceError(f"{url}: {what}, expected RSS or Atom"
                          f" ({type(problem).__name__}: {str(problem)[:120]})")
    if not entries and not parsed.get("version"):
        raise SourceError(f"{url}: no RSS or Atom feed found in the response")
    feed_lang = (parsed.get("feed") or {}).get("language") or language
    releases: list[Release] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        try:
            release = entry_to_release(name, entry, feed_lang, allow_private_images, tz)
        except Exception as exc:  # one odd entry must cost that entry, never the feed
            message = (f"{safe_url(url)}: entry {number}, {_entry_name(entry)}, cannot be "
                       f"read ({type(exc).__name__}: {str(exc)[:120]})")
            log.warning("source=%s %s", name, message, exc_info=True)
            if errors is not None:
                errors.append(message)
            continue
        if release is None or release.key in seen:
            continue
        seen.add(release.key)
        releases.append(release)
    return releases


def _entry_name(entry: Any) -> str:
    """How a person finds the entry in the feed: its title and its link (else its id)."""
    parts: list[str] = []
    for key in ("title", "link", "id"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip() and len(parts) < 2:
            text = " ".join(value.split())
            parts.append(text if len(text) <= 100 else text[:99] + "…")
    return " ".join([repr(parts[0]), *(f"({p})" for p in parts[1:])]) if parts \
        else "without title, link or id"


def _declares_entities(body: bytes, content_type: str) -> bool:
    """Whether the document declares an XML entity in any encoding feedparser would read."""
    if _ENTITY_DECL.search(body):
        return True
    ascii_view = body.replace(b"\x00", b"")  # UTF-16/32 around ASCII markup
    if _ENTITY_DECL.search(ascii_view):
        return True
    texts: list[str] = []
    declared = _XML_ENCODING.match(ascii_view)
    if declared:
        with contextlib.suppress(LookupError, UnicodeError, ValueError):
            texts.append(body.decode(declared.group(1).decode("ascii"), "replace"))
    # feedparser's internals may move in a later version: the checks above still stand
    with contextlib.suppress(Exception):
        from feedparser.encodings import convert_to_utf8

        converted = convert_to_utf8({"content-type": content_type or "application/xml"},
                                    body, {})
        texts.append(converted.decode("utf-8", "replace"))
    return any(_ENTITY_TEXT.search(text) for text in texts)


def _lede(text: str) -> str:
    """The first paragraph of a summary that is not a "PRESS RELEASE" banner."""
    from bot.sources.extract import is_lede, line_kind

    for para in re.split(r"\n[ \t]*\n", text):
        line = " ".join(para.split())
        if line and line_kind(line) not in ("banner", "bullet") and is_lede(line):
            return para.strip()
    return ""


def _text(value: Any) -> str:
    from bot.htmltext import html_to_text

    return html_to_text(value) if isinstance(value, str) else ""


def feed_base(body: bytes, url: str, content_location: str | None = None) -> str:
    """The address relative links in the feed are relative to (xml:base aside), or ""."""
    web = _is_web(url)
    for m in _LINK_TAG.finditer(body[:65536]):
        tag = m.group(0)
        rel = _ATTR_REL.search(tag)
        href = _ATTR_HREF.search(tag)
        if rel and href and rel.group(2).strip().lower() == b"self":
            self_url = href.group(2).decode("utf-8", "replace").strip()
            self_url = urljoin(url, self_url) if web else self_url
            if _is_web(self_url):
                return self_url
    if content_location:
        located = urljoin(url, content_location) if web else content_location
        if _is_web(located):
            return located
    return url if web else ""


_HEADER_LINK = re.compile(r"<([^>]{1,2000})>((?:\s*;\s*[^;,<]{1,200})*)")
_HEADER_REL = re.compile(r"""\brel\s*=\s*(?:"([^"]*)"|([^\s;,]+))""", re.I)


def hub_links(body: bytes, url: str, link_header: str | None = None
              ) -> tuple[str | None, str | None]:
    """The feed's WebSub hub and topic (its `rel="self"`, else `url`): from the HTTP Link
    header first, as the recommendation says, then from the document's links."""
    hub: str | None = None
    topic: str | None = None
    for h in _HEADER_LINK.finditer(link_header or ""):
        param = _HEADER_REL.search(h.group(2))
        named = (param.group(1) or param.group(2) or "").lower().split() if param else []
        address = urljoin(url, h.group(1).strip())
        if "hub" in named and hub is None and _is_web(address):
            hub = address
        if "self" in named and topic is None and _is_web(address):
            topic = address
    for m in _LINK_TAG.finditer(body[:65536]):
        tag = m.group(0)
        rel, href = _ATTR_REL.search(tag), _ATTR_HREF.search(tag)
        if not (rel and href):
            continue
        rels = rel.group(2).decode("ascii", "replace").lower().split()
        target = urljoin(url, href.group(2).decode("utf-8", "replace").strip())
        if "hub" in rels and hub is None and _is_web(target):
            hub = target
        if "self" in rels and topic is None and _is_web(target):
            topic = target
    return hub, (topic or url) if hub else None


_LINK_TAG = re.compile(rb"<(?:[\w-]{1,20}:)?link\b[^>]{0,1000}>", re.I)
_ATTR_REL = re.compile(rb"""\brel\s*=\s*(["'])([^"']{0,100})\1""", re.I)
_ATTR_HREF = re.compile(rb"""\bhref\s*=\s*(["'])([^"']{0,2000})\1""", re.I)
# FeedBurner and other feed proxies put the publisher's own address beside their own
_ORIGINAL_LINKS = ("feedburner_origlink", "pheedo_origlink", "origlink", "orig_link")


def _is_web(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))


def _link(entry: Any) -> str | None:
    """The entry's own address: an original link a proxy names, else its link."""
    for key in _ORIGINAL_LINKS:
        value = entry.get(key)
        if isinstance(value, str) and _is_web(value.strip()):
            return value.strip()
    link = entry.get("link")
    return link if isinstance(link, str) and link else None


def entry_to_release(name: str, entry: Any, language: str | None,
                     allow_private_images: bool = False, tz: tzinfo = UTC) -> Release | None:
    """One feed entry as a release, or None when it has neither title nor content."""
    from bot.htmltext import sanitize_html
    from bot.sources.dates import as_instant, day_of
    from bot.sources.extract import lede_of, split_notes
    from bot.sources.notes import story_html

    link = _link(entry)
    content_html = ""
    if entry.get("content"):
        content_html = entry["content"][0].get("value") or ""
    summary_html = entry.get("summary") or ""
    source_html = content_html or summary_html
    raw_title = entry.get("title") or ""
    # most titles are plain text: no HTML parser for them
    title = " ".join((_text(raw_title) if "<" in raw_title or "&" in raw_title
                      else str(raw_title)).split())
    body, notes = split_notes(_text(content_html or summary_html))
    # the lede: the first paragraph of the feed's summary (its banner, dateline or contact
    # lines left out, as in the body), else of the content
    summary = _lede(_text(summary_html)) if summary_html and summary_html != content_html \
        else ""
    summary = summary.strip().split("\n\n", 1)[0] if summary else ""
    # a description that only repeats the title says nothing: the lede is the story's, and
    # never the title again where the content opens with it (a blockquote, a heading)
    if not summary or summary.casefold() == title.casefold():
        summary = lede_of(body, headings=frozenset({title}))
    if not title and not body:
        return None
    if not title:
        title = summary[:120]
    key = (entry.get("id") or "").strip() or link or "hash:" + hashlib.sha256(
        (title + body[:2000]).encode()).hexdigest()
    when = _published(entry, tz)
    published = as_instant(when, tz) if when else None
    tags = [t.get("term", "").strip() for t in entry.get("tags") or [] if t.get("term")]
    entry_lang = None
    if entry.get("content"):
        entry_lang = entry["content"][0].get("language")
    now = datetime.now(UTC)
    return Release(
        source=name, key=key, url=link, title=title, published_at=published,
        published_day=day_of(when), summary=summary, body=body, notes=notes,
        body_html=story_html(sanitize_html(source_html)) if source_html else "",
        images=_images(entry, source_html, allow_private_images),
        tags=tags, language=entry_lang or language,
        embargo_at=published if published and published > now else None,
        links=[link] if link else [],
    )


def _published(entry: Any, tz: tzinfo = UTC) -> date | None:
    """The entry's date: an aware datetime, or a `date` when the feed gives the day alone
    (`<updated>2026-03-12</updated>`), which is shown as that day in every zone.

    feedparser's reading is checked against a careful one of the raw string (it reads
    `2020/1/10 14:33:00` as 1 December, and a stamp without a zone as UTC); where they
    disagree, the careful one wins."""
    from bot.sources.dates import as_instant, has_clock, parse_date_line, parse_stamp

    for field in ("published", "updated", "created"):
        raw = dict.get(entry, field)  # plain dict access: no deprecated fallback mapping
        value = dict.get(entry, f"{field}_parsed")
        careful = parse_stamp(raw, tz) if isinstance(raw, str) else None
        if careful is not None:
            return careful
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    raw = dict.get(entry, "published") or dict.get(entry, "updated")
    if raw and len(raw) <= _MAX_DATE_CHARS:
        if not has_clock(raw) and (day := parse_date_line(raw)):
            return day  # `12 de marzo de 2026`: read without dateparser
        import dateparser

        guess = dateparser.parse(raw, settings={"DATE_ORDER": "DMY"})
        if guess:  # `12 de marzo de 2026` is that day, as written; a time is in `tz`
            return as_instant(guess, tz) if has_clock(raw) else guess.date()
    return None


def _images(entry: Any, html: str, allow_private: bool = False) -> list[Image]:
    """The lead image: media:content, else media:thumbnail, else an image enclosure, else
    the first real picture in the content; candidates that may not be fetched are skipped."""
    from bot.htmltext import first_image

    alt = ""  # no invented alt text: the preview warns so a person writes one

    def fetchable(url: Any) -> bool:
        return isinstance(url, str) and is_public_http_url(url, allow_private=allow_private)

    for media in entry.get("media_content") or []:
        kind = (media.get("type") or "").lower()
        if fetchable(media.get("url")) and (media.get("medium") == "image"
                                            or kind.startswith("image/")):
            return [Image(url=media["url"], alt=_media_alt(entry) or alt)]
    for thumb in entry.get("media_thumbnail") or []:
        if fetchable(thumb.get("url")):
            return [Image(url=thumb["url"], alt=_media_alt(entry) or alt)]
    for enclosure in entry.get("enclosures") or []:
        if (enclosure.get("type") or "").lower().startswith("image/") and fetchable(
                enclosure.get("href")):
            return [Image(url=enclosure["href"], alt=alt)]
    found = first_image(html) if html else None
    if found and fetchable(found[0]):
        return [Image(url=found[0], alt=found[1] or alt)]
    return []


def _media_alt(entry: Any) -> str:
    for key in ("media_description", "media_title"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return ""
