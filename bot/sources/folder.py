"""A folder of press-release files (`.md`, `.txt`, `.html`, `.pdf`, `.docx`), scanned
recursively.

A file's identity is its path relative to the folder. Unchanged files (same size and
mtime as last time) are not even read. Each file is read on its own: one that cannot be
read, for whatever reason (pressbot's own refusal, or an error no one foresaw in a
library reading a hostile file), is reported by name with the reason and the others go
on. It is reported once: remembered with its size and mtime, it is not read again until
it changes (a bomb that costs seconds to refuse would otherwise cost them every poll).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.config import FolderSourceConfig
from bot.errors import ExtractError, SourceError
from bot.models import Release
from bot.sources.bundles import attach_pictures, bundle_files
from bot.sources.files import read_release_file
from bot.sources.local_images import confine_images

if TYPE_CHECKING:
    from bot.store.sources import SourceState

log = logging.getLogger("pressbot.folder")

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")


@dataclass
class FolderScan:
    releases: list[Release] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unchanged: int = 0
    fingerprints: dict[str, list[float]] = field(default_factory=dict)
    failed: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Files that could not be read: key → {"fingerprint": […], "error": "…"}."""
    not_retried: int = 0
    """Files that failed before and have not changed since: not read this time."""

    def error(self, key: str, fingerprint: list[float], message: str) -> None:
        self.errors.append(message)
        self.failed[key] = {"fingerprint": fingerprint, "error": message}


def content_files(root: Path) -> list[Path]:
    """Content files under `root`, in a stable order, skipping hidden files and folders."""
    found = [
        p for p in root.rglob("*")
        if p.suffix.lower() in SUFFIXES and p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
        and p.name.lower() not in ("readme.md", "readme.txt")
    ]
    return sorted(found)


def scan(name: str, cfg: FolderSourceConfig, root: Path, state: SourceState,
         tz: tzinfo = UTC) -> FolderScan:
    """Read new and changed files; `fingerprints` is what to remember for next time.
    Dates without a zone are read in `tz` (the source's zone)."""
    result = FolderScan()
    if not root.is_dir():
        raise SourceError(f"{root}: folder not found (sources.{name}.path)")
    known: dict[str, list[float]] = state.data.get("files", {})
    failed_before: dict[str, dict[str, Any]] = state.data.get("failed", {})
    files = content_files(root)
    per_folder: dict[Path, int] = {}
    for path in files:
        per_folder[path.parent] = per_folder.get(path.parent, 0) + 1
    for path in files:
        key = path.relative_to(root).as_posix()
        # a subfolder with one content file is one release: its pictures go with it
        bundle = path.parent != root and per_folder[path.parent] == 1
        try:
            stat = path.stat()
            fingerprint = [stat.st_size, stat.st_mtime]
            if bundle:  # a new picture or alt text changes the release
                for extra in bundle_files(path.parent):
                    extra_stat = extra.stat()
                    fingerprint += [extra_stat.st_size, extra_stat.st_mtime]
        except OSError as exc:
            result.errors.append(f"{path}: cannot read: {exc.strerror}")
            continue
        if known.get(key) == fingerprint:
            result.unchanged += 1
            result.fingerprints[key] = fingerprint
            continue
        before = failed_before.get(key)
        if before is not None and before.get("fingerprint") == fingerprint:
            result.not_retried += 1
            result.failed[key] = before
            continue
        try:
            release = read_release_file(
                path, source=name, key=key,
                base_url=str(cfg.base_url) if cfg.base_url else None,
                default_language=cfg.language, tz=tz,
            )
            if bundle:
                release = attach_pictures(release, path.parent, path)
            release = confine_images(release, root, path)
        except ExtractError as exc:
            result.error(key, fingerprint, str(exc))
            continue
        except Exception as exc:  # one hostile file must cost that file, never the folder
            log.exception("source=%s file=%s unexpected error", name, path)
            result.error(key, fingerprint, f"{path}: cannot be read ({type(exc).__name__}: "
                                           f"{str(exc)[:200]})")
            continue
        result.fingerprints[key] = fingerprint
        result.releases.append(release)
    return result
