"""Dry-run previews: source → clean → render → limits check → output. No store, no send.

A path preview opens no database and makes no network call (a URL preview fetches
only that URL), so it is safe to run anywhere and fast enough to run on every save.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config import Config
from bot.errors import PressbotError
from bot.models import Release, Rendered
from bot.render import Target, render, targets, wants

FEED_SUFFIXES = (".xml", ".rss", ".atom", ".feed")


@dataclass
class Item:
    """One release × channel, as the preview shows it."""

    release: Release | None
    release_info: dict[str, Any]
    channel: str
    type: str
    rendered: Rendered
    shown: str | None = None
    """Bluesky: the text as the record carries it (links in their short form)."""
    embed: str | None = None
    """Bluesky: what the record embeds, in words."""

    def as_json(self) -> dict[str, Any]:
        r = self.rendered
        out = {
            "release": self.release_info, "channel": self.channel, "type": self.type,
            "text": r.text, "subject": r.subject, "html": r.html, "length": r.length,
            "limit": r.limit, "warnings": r.warnings, "blocking": r.blocking,
        }
        if self.type == "bluesky":
            out |= {"shown_text": self.shown, "embed": self.embed}
        return out


def _info(release: Release) -> dict[str, Any]:
    return {"id": release.uid, "title": release.title, "url": release.url,
            "published": _published(release),
            "summary": release.summary}


def _published(release: Release) -> str | None:
    """`2026-03-12` for a release dated by its day alone (that day in every zone), else the
    instant in ISO 8601, UTC."""
    if release.published_day is not None:
        return release.published_day.isoformat()
    return release.published_at.isoformat() if release.published_at else None


def _looks_like_feed(path: Path) -> bool:
    if path.suffix.lower() in FEED_SUFFIXES:
        return True
    with path.open("rb") as handle:
        head = handle.read(512).lstrip().lower()
    return head.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf"))


_NOT_RELEASES = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".yaml", ".yml")
"""Files that sit beside releases (pictures, alt-text sidecars) and are not skipped ones."""


@dataclass(frozen=True)
class Origin:
    """The folder source a previewed path belongs to: read as `fetch` would read it."""

    name: str
    root: Path
    base_url: str | None
    language: str | None
    tz: tzinfo


def origin_of(config: Config, path: Path, source: str | None = None) -> Origin | None:
    """The folder source named `source`, else the one whose folder holds `path`."""
    from bot.config import FolderSourceConfig

    target = path.resolve()
    for name, cfg in config.sources.items():
        if not isinstance(cfg, FolderSourceConfig) or (source and name != source):
            continue
        root = config.resolve(cfg.path).resolve()
        if source or target == root or target.is_relative_to(root):
            return Origin(name, root, str(cfg.base_url) if cfg.base_url else None,
                          cfg.language, cfg.zone(config.tz))
    if source:
        raise PressbotError(f"no folder source named {source!r} in {config.source_file}")
    return None


def load(target: str, origin: Origin | None = None,
         tz: tzinfo = UTC) -> tuple[list[Release], list[str]]:
    """Releases from a file, a folder, a feed file or a feed URL, plus per-file errors.

    Through `origin` (the source whose folder holds the path), a file is read exactly as
    `fetch` reads it: the source's name and base_url, its key relative to the folder.
    """
    if re.match(r"^https?://", target, re.IGNORECASE):
        return _load_url(target, tz), []
    path = Path(target)
    if not path.exists():
        raise PressbotError(f"{path}: no such file or folder")
    if path.is_file() and _looks_like_feed(path) and \
            path.suffix.lower() not in (".html", ".htm", ".md", ".txt"):
        from bot.sources.feed import parse

        entry_errors: list[str] = []
        return parse("preview", path.read_bytes(), url=path.resolve().as_uri(), tz=tz,
                     errors=entry_errors), entry_errors
    from bot.sources.files import read_release_file
    from bot.sources.folder import content_files

    files = content_files(path) if path.is_dir() else [path]
    releases, errors = [], []
    if path.is_dir():
        known = set(files)
        errors += [f"{other}: skipped — not a release (use .md, .txt, .html, .pdf or .docx)"
                   for other in sorted(p for p in path.rglob("*") if p.is_file())
                   if other not in known and other.suffix.lower() not in _NOT_RELEASES
                   and not any(part.startswith(".") for part in other.relative_to(path).parts)]
    for file in files:
        base = origin.root if origin else (path if path.is_dir() else path.parent)
        try:
            releases.append(read_release_file(
                file, source=origin.name if origin else "preview",
                key=file.resolve().relative_to(base.resolve()).as_posix(),
                base_url=origin.base_url if origin else None,
                default_language=origin.language if origin else None,
                tz=origin.tz if origin else tz))
        except PressbotError as exc:
            errors.append(str(exc))
    return releases, errors


def _load_url(url: str, tz: tzinfo) -> list[Release]:
    import asyncio

    import httpx

    from bot.sources.feed import parse
    from bot.sources.http import fetch
    from channels.base import user_agent

    async def get() -> list[Release]:
        async with httpx.AsyncClient(headers={"User-Agent": user_agent()}) as client:
            # the URL a person typed may be on their network; its redirects may not
            fetched = await fetch(client, url, private_host=urlsplit(url).hostname)
        return parse("preview", fetched.body, url=fetched.url,
                     content_type=fetched.content_type, tz=tz)

    return asyncio.run(get())


def render_all(config: Config, releases: list[Release], only: str | None) -> list[Item]:
    from bot.store import peek

    learned = peek.learned_limits(config.bot.database_url)
    items = []
    for release in releases:
        for target in targets(config, learned, only=only):
            digest = getattr(target.cfg, "mode", None) == "digest"
            if only is None and not wants(release, None, target) and not digest:
                continue
            items.append(_item(release, target, config))
    return items


def _item(release: Release, target: Target, config: Config) -> Item:
    from channels.registry import kind

    item = Item(release, _info(release), target.name, kind(target.cfg),
                render(release, target, config))
    if item.type == "bluesky":
        item.shown, item.embed = _bluesky(item.rendered, release.title,
                                          getattr(target.cfg, "embed", "auto"))
    return item


def _bluesky(rendered: Rendered, title: str, mode: str) -> tuple[str, str]:
    """The record's text and, in words, its embed — what Bluesky will show."""
    from urllib.parse import urlsplit

    from channels.bluesky import build, embed_kind

    kind = embed_kind(mode, images=bool(rendered.images), link=bool(rendered.link))
    if kind == "images":
        alts = "; ".join(i.alt or "NO ALT TEXT" for i in rendered.images[:4])
        embed = f"{min(len(rendered.images), 4)} image(s), alt: {alts}"
    elif kind == "card":
        host = urlsplit(rendered.link or "").hostname or ""
        thumb = ", thumbnail: the first image" if mode == "card" and rendered.images else ""
        embed = f"link card: {title} ({host}){thumb}"
    else:
        embed = "none"
    return build(rendered.text).text, embed


def from_queue(store: Any, only: str | None) -> list[Item]:
    """Pending posts as stored (what a reviewer would approve)."""
    from bot.store import posts

    with store.begin() as conn:
        pending = posts.listing(conn, status=["pending"], channel=only)
    items = []
    for post in pending:
        rendered = Rendered(text=post.text, subject=post.subject, html=post.html,
                            link=post.link, images=post.images, warnings=post.warnings)
        info = {"id": post.release_uid, "title": post.title, "url": post.link,
                "published": None, "summary": ""}
        items.append(Item(None, info, post.channel, post.channel, rendered))
    return items


def print_human(items: list[Item]) -> None:
    """One panel per release × channel: the text, its count against the limit, warnings."""
    import click

    if not items:
        click.echo("nothing to preview")
        return
    folder = Path(tempfile.gettempdir()) / "pressbot-preview"
    for item in items:
        r = item.rendered
        count = f"{r.length}/{r.limit}" if r.limit else f"{r.length} characters"
        head = f"━━ {item.release_info['title'][:60]} → {item.channel} ({item.type}) · {count} "
        click.echo(click.style(head.ljust(78, "━"), bold=True))
        if r.subject is not None:
            click.echo(f"Subject: {r.subject}\n")
        click.echo((item.shown if item.shown is not None else r.text) or "(nothing rendered)")
        if item.embed:
            click.echo(click.style(f"\n  ▣ {item.embed}", dim=True))
        if r.html:
            folder.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^a-z0-9]+", "-", item.release_info["title"].lower())[:40].strip("-")
            path = folder / f"{slug or 'release'}-{item.channel}.html"
            path.write_text(r.html, encoding="utf-8")
            click.echo(f"\nHTML: {path}")
        for warning in r.warnings:
            colour = "red" if r.blocking or "too long" in warning else "yellow"
            click.echo(click.style(f"  ⚠ {warning}", fg=colour))
        click.echo()
