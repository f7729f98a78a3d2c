"""Explicit schema upgrades and `pressbot backup` restored elsewhere (issue 29, item 17),
through the real `pressbot` process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

from bot.store.db import HEAD, Store
from tests.helpers import write_release

CONFIG = textwrap.dedent("""
    [bot]
    database_url = "sqlite:///var/pressbot.db"
    timezone = "Europe/Brussels"
    outbox = "var/outbox"

    [sources.press]
    type = "folder"
    path = "content"
    backlog = "all"
    base_url = "https://www.example.org/news/"

    [channels.mastodon]
    type = "outbox"
    like = "mastodon"
    approval = "manual"

    [channels.newsletter]
    type = "outbox"
    like = "email"
    approval = "manual"
    """)


def pressbot(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "--config", "pressbot.toml", *args],
                          capture_output=True, text=True, timeout=60, cwd=cwd,
                          stdin=subprocess.DEVNULL,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)})


def workspace(root: Path) -> Path:
    root.mkdir()
    (root / "pressbot.toml").write_text(CONFIG, encoding="utf-8")
    (root / "content").mkdir()
    return root


def test_backup_restored_in_a_fresh_directory_lists_the_same_queue(tmp_path: Path) -> None:
    here = workspace(tmp_path / "here")
    write_release(here / "content", "r1.md", "Release one")
    write_release(here / "content", "r2.md", "Release two", date="2026-03-11")
    picture = here / "content" / ".pressbot-images" / "r1-0123.png"
    picture.parent.mkdir()
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    assert pressbot(here, "fetch").returncode == 0
    uploaded = here / "var" / ".pressbot-images" / ("ab" * 32 + ".png")  # bot.pictures.keep's
    uploaded.parent.mkdir()
    uploaded.write_bytes(picture.read_bytes() + b"uploaded")
    posts = json.loads(pressbot(here, "queue", "--json").stdout)
    assert len(posts) == 4
    assert pressbot(here, "approve", str(posts[0]["id"])).returncode == 0
    assert pressbot(here, "reject", str(posts[1]["id"]), "--reason", "not now").returncode == 0
    assert pressbot(here, "publish", "--dry-run").returncode == 0    # something in the outbox
    before = pressbot(here, "queue").stdout
    before_json = pressbot(here, "queue", "--json").stdout
    outbox = sorted(p.relative_to(here).as_posix() for p in (here / "var" / "outbox").rglob("*")
                    if p.is_file())
    assert outbox

    done = pressbot(here, "backup", "backup.tar.gz")
    assert done.returncode == 0, done.stderr
    assert "var/pressbot.db  (database)" in done.stdout
    assert "content/.pressbot-images  (pictures of source press)" in done.stdout
    assert "var/.pressbot-images  (pictures uploaded on the review page)" in done.stdout
    again = pressbot(here, "backup", "backup.tar.gz")
    assert again.returncode == 2 and "not overwriting" in again.stderr

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "pressbot.toml").write_text(CONFIG, encoding="utf-8")
    with tarfile.open(here / "backup.tar.gz") as tar:
        tar.extractall(fresh, filter="data")          # the README's `tar -xzf`
    manifest = json.loads((fresh / "MANIFEST.json").read_text())
    assert manifest["schema"] == HEAD
    assert pressbot(fresh, "queue").stdout == before
    assert pressbot(fresh, "queue", "--json").stdout == before_json
    assert sorted(p.relative_to(fresh).as_posix() for p in (fresh / "var" / "outbox").rglob("*")
                  if p.is_file()) == outbox
    assert (fresh / "content" / ".pressbot-images" / "r1-0123.png").read_bytes() == \
        picture.read_bytes()
    assert (fresh / "var" / ".pressbot-images" / uploaded.name).read_bytes() == \
        uploaded.read_bytes()
    assert not list((fresh / "var").glob("*-wal"))    # one consistent file, no WAL to forget


def test_an_older_schema_is_upgraded_only_when_asked(tmp_path: Path) -> None:
    here = workspace(tmp_path / "here")
    assert pressbot(here, "queue").returncode == 0        # a new database: created at head
    store = Store(f"sqlite:///{here}/var/pressbot.db")
    store.downgrade("0010")
    store.dispose()

    refused = pressbot(here, "queue")
    assert refused.returncode == 2
    assert f"the database is at schema 0010; this pressbot needs {HEAD}" in refused.stderr
    assert "pressbot db upgrade" in refused.stderr and "pressbot backup" in refused.stderr
    status = pressbot(here, "db", "status")
    assert status.returncode == 1 and "0011  Fencing tokens" in status.stdout
    assert pressbot(here, "backup", "before-upgrade.tar.gz").returncode == 0   # still possible

    upgraded = pressbot(here, "db", "upgrade")
    assert upgraded.returncode == 0 and f"0010 → {HEAD}" in upgraded.stdout
    assert pressbot(here, "db", "status").stdout.endswith(f"schema: {HEAD} (up to date)\n")
    assert pressbot(here, "queue").returncode == 0
    assert pressbot(here, "db", "upgrade").stdout.startswith(f"schema: {HEAD} already")


def test_a_schema_newer_than_this_pressbot_is_refused_by_every_command(tmp_path: Path) -> None:
    here = workspace(tmp_path / "here")
    assert pressbot(here, "db", "upgrade").returncode == 0
    store = Store(f"sqlite:///{here}/var/pressbot.db")
    with store.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    store.dispose()
    for args in (["queue"], ["db", "status"], ["db", "upgrade"]):
        done = pressbot(here, *args)
        assert done.returncode == 2, args
        assert "schema 9999, which this pressbot" in done.stderr
