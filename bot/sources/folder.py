"""A folder of press-release files (`.md`, `.txt`, `.html`, `.pdf`, `.docx`), scanned
recursively.

A file's identity is its path relative to the folder. Unchanged files (same size and
mtime as last time) are not even read; a file that cannot be understood is reported by
name and the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import FolderSourceConfig
from bot.errors import ExtractError, SourceError
from bot.models import Release
from bot.sources.bundles import attach_pictures, bundle_files
from bot.sources.files import read_release_file
from bot.sources.local_images import confine_images

if TYPE_CHECKING:
    from bot.store.sources import SourceState

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf", ".docx")


@dataclass
class FolderScan:
    releases: list[Release] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unchanged: int = 0
    fingerprints: dict[str, list[float]] = field(default_factory=dict)


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
        try:
            release = read_release_file(
                path, source=name, key=key,
                base_url=str(cfg.base_url) if cfg.base_url else None,
                default_language=cfg.language, tz=tz,
            )
            if bundle:
                release = attach_pictures(release, path.parent)
            release = confine_images(release, root, path)
        except ExtractError as exc:
            result.errors.append(str(exc))
            continue
        result.fingerprints[key] = fingerprint
        result.releases.append(release)
    return result
