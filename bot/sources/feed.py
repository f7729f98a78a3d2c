"""RSS/Atom feeds: fetch with httpx, parse with feedparser, turn entries into releases.

feedparser gets bytes, never a URL or a string (a string may make it open files or
URLs), plus the response headers so it can pick the encoding and resolve relative links
against the address the feed really came from.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from bot.config import FeedSourceConfig
from bot.errors import SourceError
from bot.htmltext import first_image, html_to_text, sanitize_html
from bot.models import Image, Release
from bot.sources.http import Fetched, fetch

if TYPE_CHECKING:
    from bot.store.sources import SourceState

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_HARMLESS_BOZO = ("CharacterEncodingOverride", "NonXMLContentType", "CharacterEncodingUnknown",
                  "UndeclaredNamespace")


async def poll(name: str, cfg: FeedSourceConfig, state: SourceState,
               client: httpx.AsyncClient) -> tuple[Fetched, list[Release]]:
    """One conditional GET and parse; on 304 the list is empty and `fetched.unchanged`."""
    fetched = await fetch(
        client, str(cfg.url), etag=state.etag, last_modified=state.last_modified,
        max_bytes=cfg.max_bytes, max_redirects=cfg.max_redirects,
        timeout=cfg.timeout.total_seconds(),
    )
    if fetched.unchanged:
        return fetched, []
    return fetched, parse(name, fetched.body, url=fetched.url,
                          content_type=fetched.content_type, language=cfg.language)


def parse(name: str, body: bytes, *, url: str, content_type: str = "application/xml",
          language: str | None = None) -> list[Release]:
    """Entries of a feed document as releases; SourceError when it is not a usable feed."""
    if not body.strip():
        raise SourceError(f"{url}: empty response, expected an RSS or Atom feed")
    if _ENTITY_DECL.search(body):
        raise SourceError(f"{url}: feed declares XML entities; refused (entity expansion guard)")
    import feedparser

    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers={"content-type": content_type or "application/xml",
                          "content-location": url},
    )
    entries = parsed.get("entries") or []
    if parsed.get("bozo") and not entries:
        exc = parsed.get("bozo_exception")
        looks_html = b"<html" in body[:2000].lower() or "html" in content_type.lower()
        what = "an HTML page" if looks_html else "not a well-formed feed"
        raise SourceError(f"{url}: {what}, expected RSS or Atom"
                          f" ({type(exc).__name__}: {str(exc)[:120]})")
    if not entries and not parsed.get("version"):
        raise SourceError(f"{url}: no RSS or Atom feed found in the response")
    feed_lang = (parsed.get("feed") or {}).get("language") or language
    releases: list[Release] = []
    seen: set[str] = set()
    for entry in entries:
        release = entry_to_release(name, entry, feed_lang)
        if release is None or release.key in seen:
            continue
        seen.add(release.key)
        releases.append(release)
    return releases


def _text(value: Any) -> str:
    return html_to_text(value) if isinstance(value, str) else ""


def entry_to_release(name: str, entry: Any, language: str | None) -> Release | None:
    """One feed entry as a release, or None when it has neither title nor content."""
    link = entry.get("link") or None
    content_html = ""
    if entry.get("content"):
        content_html = entry["content"][0].get("value") or ""
    summary_html = entry.get("summary") or ""
    source_html = content_html or summary_html
    title = " ".join(_text(entry.get("title")).split())
    body = _text(content_html or summary_html)
    # the lede: the first paragraph of the feed's summary, else of the content
    summary = _text(summary_html) if summary_html and summary_html != content_html else ""
    summary = (summary or body).strip().split("\n\n", 1)[0]
    if not title and not body:
        return None
    if not title:
        title = summary[:120]
    key = (entry.get("id") or "").strip() or link or "hash:" + hashlib.sha256(
        (title + body[:2000]).encode()).hexdigest()
    published = _published(entry)
    tags = [t.get("term", "").strip() for t in entry.get("tags") or [] if t.get("term")]
    entry_lang = None
    if entry.get("content"):
        entry_lang = entry["content"][0].get("language")
    now = datetime.now(UTC)
    return Release(
        source=name, key=key, url=link, title=title, published_at=published,
        summary=summary, body=body,
        body_html=sanitize_html(source_html) if source_html else "",
        images=_images(entry, source_html),
        tags=tags, language=entry_lang or language,
        embargo_at=published if published and published > now else None,
        links=[link] if link else [],
    )


def _published(entry: Any) -> datetime | None:
    for field in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, field)  # plain dict access: no deprecated fallback mapping
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    raw = dict.get(entry, "published") or dict.get(entry, "updated")
    if raw:
        import dateparser

        guess = dateparser.parse(raw, settings={"RETURN_AS_TIMEZONE_AWARE": True,
                                                "TO_TIMEZONE": "UTC", "DATE_ORDER": "DMY"})
        if guess:
            return guess.astimezone(UTC)
    return None


def _images(entry: Any, html: str) -> list[Image]:
    alt = ""  # no invented alt text: the preview warns so a person writes one
    for media in entry.get("media_content") or []:
        kind = (media.get("type") or "").lower()
        if media.get("url") and (media.get("medium") == "image" or kind.startswith("image/")):
            return [Image(url=media["url"], alt=_media_alt(entry) or alt)]
    for thumb in entry.get("media_thumbnail") or []:
        if thumb.get("url"):
            return [Image(url=thumb["url"], alt=_media_alt(entry) or alt)]
    for enclosure in entry.get("enclosures") or []:
        if (enclosure.get("type") or "").lower().startswith("image/") and enclosure.get("href"):
            return [Image(url=enclosure["href"], alt=alt)]
    found = first_image(html) if html else None
    if found:
        return [Image(url=found[0], alt=found[1] or alt)]
    return []


def _media_alt(entry: Any) -> str:
    for key in ("media_description", "media_title"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return " ".join(value.split())
    return ""
