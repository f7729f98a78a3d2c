"""`pressbot backup`: one .tar.gz holding what a restore needs besides the config.

- the SQLite database, copied with SQLite's online backup API: a consistent snapshot taken
  page by page while `run` keeps writing (copying the file could catch a half-written
  transaction or miss the WAL);
- the outbox folder (what dry-run channels wrote);
- each folder source's pictures taken from PDF and Word files (`.pressbot-images`), and
  the pictures uploaded on the review page (`bot.pictures`), which posts name by path.

Members are named by their path relative to the working directory (where relative paths
in the config point), so a restore is `tar -xzf FILE` in the new working directory; a path
outside it is kept under `ROOT/` plus its absolute path. MANIFEST.json says what came from
where. PostgreSQL is not copied: its own `pg_dump` is the consistent tool for it.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tarfile
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import sqlalchemy as sa

from bot import pictures
from bot.config import Config, FolderSourceConfig
from bot.errors import PressbotError
from bot.sources.documents import IMAGE_DIR


@dataclass
class BackupReport:
    members: list[tuple[str, str]] = field(default_factory=list)
    """(name in the archive, what it is)"""
    files: int = 0
    size: int = 0
    pg_dump: str | None = None


def member_name(path: Path, root: Path) -> str:
    """`path`'s name in the archive: relative to `root`, else under ROOT/."""
    path = path.absolute()
    if path.is_relative_to(root):
        return path.relative_to(root).as_posix()
    return "ROOT" + path.as_posix()


def write_backup(config: Config, target: Path, root: Path | None = None) -> BackupReport:
    """Write the archive to `target` (through a `.part` file: never a half archive)."""
    root = (root or Path.cwd()).absolute()
    url = sa.engine.make_url(config.bot.database_url)
    report = BackupReport()
    manifest: dict[str, object] = {"created": datetime.now(UTC).isoformat(timespec="seconds"),
                                   "pressbot": _version(), "parts": []}
    partial = target.with_name(target.name + ".part")
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(partial, "w:gz") as tar:
        parts: list[dict[str, str]] = []
        if url.drivername.startswith("sqlite"):
            if not url.database or url.database == ":memory:":
                raise PressbotError("bot.database_url: an in-memory database has nothing "
                                    "to back up")
            source = Path(url.database)
            if not source.is_file():
                raise PressbotError(f"{source}: no such database file (bot.database_url)")
            copy = Path(scratch) / "pressbot.db"
            manifest["schema"] = _copy_sqlite(source, copy)
            name = member_name(source, root)
            tar.add(copy, arcname=name)
            parts.append({"member": name, "path": str(source.absolute()), "what": "database"})
        else:
            shown = url.set(drivername="postgresql").render_as_string(hide_password=True)
            report.pg_dump = f"pg_dump --format=custom --file pressbot.dump '{shown}'"
            parts.append({"member": "", "path": shown, "what": "database: not included "
                          "(PostgreSQL: use pg_dump)"})
        folders = [(config.resolve(Path(config.bot.outbox)), "outbox"),
                   (pictures.folder(config), "pictures uploaded on the review page")]
        folders += [(config.resolve(cfg.path) / IMAGE_DIR, f"pictures of source {name}")
                    for name, cfg in config.sources.items()
                    if isinstance(cfg, FolderSourceConfig)]
        for folder, what in folders:
            if not folder.is_dir():
                continue
            name = member_name(folder, root)
            tar.add(folder, arcname=name,
                    filter=lambda info: None if info.name.endswith(".part") else info)
            parts.append({"member": name, "path": str(folder.absolute()), "what": what})
        manifest["parts"] = parts
        data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
        info = tarfile.TarInfo("MANIFEST.json")
        info.size, info.mtime = len(data), int(datetime.now(UTC).timestamp())
        tar.addfile(info, io.BytesIO(data))
        report.files = sum(1 for m in tar.getmembers() if m.isfile())
    partial.replace(target)
    report.members = [(p["member"] or "-", p["what"]) for p in parts]
    report.size = target.stat().st_size
    return report


def _copy_sqlite(source: Path, copy: Path) -> str | None:
    """Copy with the backup API (consistent while others write); the copy's schema."""
    with closing(sqlite3.connect(source, timeout=10)) as src, \
            closing(sqlite3.connect(copy)) as dst:
        src.backup(dst)
        row = dst.execute("SELECT version_num FROM alembic_version").fetchone() \
            if dst.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'"
                           ).fetchone() else None
        check = dst.execute("PRAGMA integrity_check").fetchone()
    if check != ("ok",):
        raise PressbotError(f"{source}: the copy fails SQLite's integrity check: {check}")
    # the copy is a single file: no -wal beside it for a restore to forget
    return str(row[0]) if row else None


def _version() -> str:
    try:
        return version("pressbot")
    except PackageNotFoundError:
        return "unknown"
