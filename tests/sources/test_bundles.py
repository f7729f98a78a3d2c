"""One release per subfolder: the text file and its pictures, with alt text from the
front matter or an `images.yaml` sidecar, fetched through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image as PILImage

from bot.config import load_config
from bot.store import Store
from bot.store import releases as release_store
from tests.helpers import make_workspace


def _picture(path: Path, color: str) -> None:
    PILImage.new("RGB", (320, 200), color).save(path)


def _release_images(ws: object, title: str) -> list[tuple[str, str]]:
    config = load_config(ws.config)  # type: ignore[attr-defined]
    store = Store(config.bot.database_url)
    try:
        with store.begin() as conn:
            for n in range(1, 20):
                r = release_store.get(conn, n)
                if r and r.title == title:
                    return [(Path(i.url).name, i.alt) for i in r.images]
    finally:
        store.dispose()
    raise AssertionError(f"no release {title!r}")


def test_a_release_folder_brings_its_pictures_and_their_alt_text(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    bus = ws.content / "2026-05-bus"
    bus.mkdir()
    (bus / "release.md").write_text(
        "---\ntitle: Electric buses cross the border\nurl: https://www.example.org/n/bus\n"
        "image:\n  - src: stop.png\n    alt: Passengers at the new stop in Arnoldstein\n"
        "---\nFrom Monday, electric buses link Villach and Tarvisio.\n")
    _picture(bus / "bus.png", "green")
    _picture(bus / "stop.png", "blue")
    _picture(bus / "zz-map.png", "white")
    (bus / "images.yaml").write_text("bus.png: An electric bus at the border crossing\n"
                                     "stop.png: not used, the front matter wins\n")
    # a subfolder with two releases is two releases, pictures not attached to either
    two = ws.content / "two"
    two.mkdir()
    for n in (1, 2):
        (two / f"r{n}.md").write_text(f"---\ntitle: Release number {n} of two\nurl: "
                                      f"https://www.example.org/n/{n}\n---\nBody {n}.\n")
    _picture(two / "photo.png", "red")
    result = ws.run("fetch")
    assert result.exit_code == 0, result.output
    assert _release_images(ws, "Electric buses cross the border") == [
        ("stop.png", "Passengers at the new stop in Arnoldstein"),
        ("bus.png", "An electric bus at the border crossing"),
        ("zz-map.png", ""),
    ]
    assert _release_images(ws, "Release number 1 of two") == []
    posts = json.loads(ws.run("queue", "--json").output)
    bus_post = next(p for p in posts if p["release"]["title"].startswith("Electric"))
    shown = json.loads(ws.run("show", str(bus_post["id"]), "--json").output)
    assert any("alt text" in w for w in shown["warnings"])  # zz-map.png has none

    # a new alt text in the sidecar is an update of the release
    (bus / "images.yaml").write_text("bus.png: An electric bus at the border crossing\n"
                                     "zz-map.png: Map of the new line\n")
    result = ws.run("fetch")
    assert "updated" in result.output
    assert _release_images(ws, "Electric buses cross the border")[2] == (
        "zz-map.png", "Map of the new line")


def test_image_alt_without_an_image_list_is_the_one_pictures_alt_text(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    bus = ws.content / "2026-06-bus"
    bus.mkdir()
    (bus / "release.md").write_text(
        "---\ntitle: One bus, one photo\nurl: https://www.example.org/n/one\n"
        "image_alt: An electric bus at the border crossing\n"
        "---\nFrom Monday, electric buses link Villach and Tarvisio.\n")
    _picture(bus / "bus.png", "green")
    result = ws.run("fetch")
    assert result.exit_code == 0, result.output
    assert _release_images(ws, "One bus, one photo") == [
        ("bus.png", "An electric bus at the border crossing")]


def test_a_broken_sidecar_is_reported_by_name(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    folder = ws.content / "r"
    folder.mkdir()
    (folder / "release.txt").write_text("A release with a broken sidecar\n\nSome text of "
                                        "the release that is long enough to be a lede.\n")
    _picture(folder / "a.png", "green")
    (folder / "images.yaml").write_text("- just\n- a list\n")
    (ws.content / "fine.md").write_text("---\ntitle: A fine release here\nurl: "
                                        "https://www.example.org/n/f\n---\nBody.\n")
    result = ws.run("fetch")
    assert "images.yaml" in result.output and "alt text" in result.output
    posts = json.loads(ws.run("queue", "--json").output)
    assert {p["release"]["title"] for p in posts} == {"A fine release here"}
