"""A release cannot make pressbot read and publish a local file that is not its picture.

The attack: `image: /path/to/pressbot.toml` in front matter, or a pasted page whose
`og:image` is a `file:` URL — the config, tokens and all, would be uploaded. Images on disk
must be pictures (by their bytes) inside the source's own folder, not through a symlink.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path

import pytest

from channels.base import Permanent
from channels.images import read_local
from tests.helpers import make_workspace

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def stored_images(root: Path) -> dict[str, list[str]]:
    with sqlite3.connect(root / "pressbot.db") as db:
        return {title: [i["url"] for i in json.loads(images)]
                for title, images in db.execute("SELECT title, images FROM releases")}


def release(folder: Path, name: str, title: str, image: str) -> None:
    (folder / name).write_text(f"---\ntitle: {title}\ndate: 2026-03-10\nimage: {image}\n---\n"
                               "The body.\n", encoding="utf-8")


def test_only_pictures_inside_the_folder_are_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # keep the in-process CLI's records flowing to caplog (see tests.helpers.checked_logs)
    monkeypatch.setattr(logging.getLogger(), "_pressbot", True, raising=False)
    caplog.set_level(logging.WARNING)
    ws = make_workspace(tmp_path)   # without a base_url: paths stay paths
    ws.config.write_text(ws.config.read_text().replace(
        'base_url = "https://www.example.org/news/"\n', ""))
    outside = tmp_path / "outside.png"
    outside.write_bytes(PNG)
    (ws.content / "photo.png").write_bytes(PNG)
    (ws.content / "notes.png").write_text("[channels]\ntoken = 'x'\n")   # named like a picture
    (ws.content / "link.png").symlink_to(outside)
    release(ws.content, "config.md", "Config", str(ws.config))
    release(ws.content, "up.md", "Up", str(ws.content / ".." / "outside.png"))
    release(ws.content, "link.md", "Link", str(ws.content / "link.png"))
    release(ws.content, "fake.md", "Fake", str(ws.content / "notes.png"))
    release(ws.content, "file.md", "File", f"file://{outside}")
    release(ws.content, "good.md", "Good", str(ws.content / "photo.png"))
    (ws.content / "page.html").write_text(
        f'<html><head><meta property="og:title" content="Page">'
        f'<meta property="og:image" content="file://{ws.config}"></head>'
        "<body><article><h1>Page</h1><p>Text of the page.</p></article></body></html>",
        encoding="utf-8")
    result = ws.run("fetch")
    assert result.exit_code == 0, result.output
    images = stored_images(tmp_path)
    assert images["Good"] == [str((ws.content / "photo.png").resolve())]
    for title in ("Config", "Up", "Link", "Fake", "File", "Page"):
        assert images[title] == [], title
    said = caplog.text                       # one WARNING line per image left out
    assert "outside the source's folder" in said and "not an image" in said
    assert "file:" in said and "config.md" in said


@pytest.mark.anyio
async def test_channels_read_only_pictures_from_disk(tmp_path: Path) -> None:
    config = tmp_path / "pressbot.toml"
    config.write_text("[channels.m]\naccess_token = 'secret-token-value'\n")
    with pytest.raises(Permanent, match="not an image"):
        await read_local(str(config), 10_000)
    with pytest.raises(Permanent, match="only http"):
        await read_local(f"file://{config}", 10_000)
    picture = tmp_path / "p.png"
    picture.write_bytes(PNG)
    assert await read_local(str(picture), 10_000) == (PNG, "p.png")


@pytest.mark.anyio
async def test_a_link_swapped_in_after_ingest_is_not_followed(tmp_path: Path) -> None:
    """The store holds the picture's real path; a link later put in its place (to a
    picture outside the content folder) is refused, not read."""
    content, elsewhere = tmp_path / "content", tmp_path / "private"
    content.mkdir()
    elsewhere.mkdir()
    (elsewhere / "secret.png").write_bytes(PNG + b"private")
    stored = content / "photo.png"
    stored.write_bytes(PNG)
    assert await read_local(str(stored), 10_000) == (PNG, "photo.png")
    stored.unlink()
    stored.symlink_to(elsewhere / "secret.png")
    with pytest.raises(Permanent, match="leads elsewhere"):
        await read_local(str(stored), 10_000)
