"""Bluesky end to end: a folder release through the real CLI to the fake PDS.

`tests/channels/test_bluesky.py` proves the adapter call by call; this proves the pieces as an
operator drives them: `check` reporting the handle, `preview` showing the text as Bluesky will
(short links, the embed), `fetch` → `approve` → `publish` making one record with its facets
and images, a revoked app password stopping the channel with a hint a person can act on. The
app password is set the way operators set it (`${BLUESKY_APP_PASSWORD}`) and every CLI output
and log record is checked for it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from PIL import Image as PILImage

from channels.bluesky import short_url
from tests.fakes.bluesky import FakePDS, running
from tests.helpers import Workspace, checked_logs, make_workspace

PASSWORD = "e2ep-bsky-pass-6a1f"
HANDLE = "newsroom.example.org"
LINK = "https://www.example.org/news/solar-roofs-for-forty-primary-schools"


@pytest.fixture(autouse=True)
def logs(monkeypatch: pytest.MonkeyPatch,
         caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    yield from checked_logs(monkeypatch, caplog, [PASSWORD])


@pytest.fixture
def fake() -> Iterator[tuple[FakePDS, str]]:
    state = FakePDS()
    state.add_account(HANDLE, PASSWORD)
    with running(state) as server:
        yield state, server.url


def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> Workspace:
    monkeypatch.setenv("BLUESKY_APP_PASSWORD", PASSWORD)
    return make_workspace(tmp_path, channels=f"""
[web]
enabled = false

[channels.bluesky]
type = "bluesky"
pds_url = "{url}"
handle = "{HANDLE}"
app_password = "${{BLUESKY_APP_PASSWORD}}"
approval = "manual"
timeout = "2s"
""")


def release(ws: Workspace, *, image: Path | None = None) -> None:
    extra = f"image: {image.as_uri()}\nimage_alt: Pupils on the school roof ☀️\n" if image else ""
    (ws.content / "solar.md").write_text(
        "---\ntitle: Solar roofs for forty schools 🌞\ndate: 2026-03-10\n"
        "summary: Panels go on the roofs of forty primary schools — η ενέργεια του ήλιου.\n"
        f"url: {LINK}\nlanguage: en\ntags: [energy, schools]\n{extra}---\n\nThe body.\n",
        encoding="utf-8")


def cli(ws: Workspace, *args: str, code: int = 0) -> Result:
    result = ws.run(*args)
    assert result.exit_code == code, result.output
    assert PASSWORD not in result.stdout
    assert PASSWORD not in result.stderr
    return result


def queue(ws: Workspace) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(cli(ws, "queue", "--json").stdout)
    return data


def test_check_preview_fetch_approve_publish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             fake: tuple[FakePDS, str]) -> None:
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    photo = ws.content / "roof.png"   # inside the source's folder: the only place
    out = io.BytesIO()
    PILImage.new("RGB", (1200, 800), (200, 160, 40)).save(out, "PNG")
    photo.write_bytes(out.getvalue())
    release(ws, image=photo)

    checked = cli(ws, "check")
    assert f"bluesky: OK: @{HANDLE} on 127.0.0.1:" in checked.stdout
    assert "300 graphemes" in checked.stdout

    shown = cli(ws, "preview", str(ws.content / "solar.md"), "--channel", "bluesky")
    assert short_url(LINK) in shown.stdout
    assert "1 image(s), alt: Pupils on the school roof ☀️" in shown.stdout
    [item] = json.loads(cli(ws, "preview", str(ws.content / "solar.md"), "--json").stdout)
    assert item["type"] == "bluesky"
    assert LINK in item["text"] and LINK not in item["shown_text"]
    assert item["length"] <= item["limit"] == 300

    cli(ws, "fetch")
    [pending] = queue(ws)
    assert state.records == {}
    cli(ws, "approve", str(pending["id"]))
    assert "1 published, 0 failed (will retry), 0 held" in cli(ws, "publish").stdout
    [record] = state.records.values()
    value = record.value
    assert value["text"] == item["shown_text"]
    assert value["text"].startswith("Solar roofs for forty schools 🌞\n")
    assert value["langs"] == ["en"]
    facets = {record.text_bytes[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode():
              f["features"][0] for f in value["facets"]}
    assert facets == {
        short_url(LINK): {"$type": "app.bsky.richtext.facet#link", "uri": LINK},
        "#energy": {"$type": "app.bsky.richtext.facet#tag", "tag": "energy"},
        "#schools": {"$type": "app.bsky.richtext.facet#tag", "tag": "schools"}}
    [image] = value["embed"]["images"]
    assert image["alt"] == "Pupils on the school roof ☀️"
    assert image["aspectRatio"] == {"width": 1200, "height": 800}
    [done] = queue(ws)
    assert done["status"] == "published"
    assert done["remote_id"] == record.uri
    assert done["remote_url"] == f"https://bsky.app/profile/{record.did}/post/{record.rkey}"
    assert "0 published" in cli(ws, "publish").stdout
    assert len(state.records) == 1


def test_a_revoked_app_password_pauses_the_channel_with_a_hint(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: tuple[FakePDS, str]) -> None:
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    release(ws)
    cli(ws, "fetch")
    [post] = queue(ws)
    cli(ws, "approve", str(post["id"]))
    state.revoke(PASSWORD)
    assert "channel bluesky paused" in cli(ws, "publish", code=1).stderr
    [after] = queue(ws)
    assert state.records == {}
    assert (after["status"], after["attempts"]) == ("approved", 0)   # the channel waits
    assert "Invalid identifier or password" in after["last_error"]
    assert "BLUESKY_APP_PASSWORD" in after["last_error"]
    assert "App passwords" in after["last_error"]
    checked = cli(ws, "check", code=1)
    assert "bluesky: FAILED" in checked.stdout
    assert "BLUESKY_APP_PASSWORD" in checked.stdout


def test_the_next_posts_blobs_upload_while_a_record_is_being_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: tuple[FakePDS, str]) -> None:
    """Records go one at a time (the feed's order); the next post's pictures do not wait in
    that line: they are fetched, shrunk and uploaded while the record before them is still
    unanswered, and each post still gets its own picture, uploaded once."""
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    for n in (1, 2, 3):
        out = io.BytesIO()
        PILImage.new("RGB", (600 + n, 400), (40 * n, 120, 200)).save(out, "PNG")
        (ws.content / f"photo{n}.png").write_bytes(out.getvalue())
        (ws.content / f"r{n}.md").write_text(
            f"---\ntitle: Release number {n} of the week\ndate: 2026-03-1{n}\n"
            f"summary: In short, number {n}.\nurl: https://www.example.org/news/r{n}\n"
            f"image: {(ws.content / f'photo{n}.png').as_uri()}\nimage_alt: Picture {n}\n"
            "---\n\nThe body.\n", encoding="utf-8")
    cli(ws, "fetch")
    for post in sorted(queue(ws), key=lambda p: p["id"]):
        cli(ws, "approve", str(post["id"]))
    state.answer_late("com.atproto.repo.putRecord", 0.5, times=3)
    assert "3 published, 0 failed (will retry), 0 held" in cli(ws, "publish").stdout

    written = list(state.records.values())          # in the order the PDS stored them
    in_line = sorted(queue(ws), key=lambda p: (p["publish_at"], p["id"]))
    assert [r.uri for r in written] == [p["remote_id"] for p in in_line]
    for record in written:                          # each its own picture, none swapped
        [image] = record.value["embed"]["images"]
        number = int(record.value["text"].split()[2])
        assert image["alt"] == f"Picture {number}"
        assert image["aspectRatio"] == {"width": 600 + number, "height": 400}
        blob = state.blobs[image["image"]["ref"]["$link"]]
        assert PILImage.open(io.BytesIO(blob.data)).size == (600 + number, 400)
    assert len(state.requests_to("com.atproto.repo.uploadBlob")) == 3   # none made twice
    # what the server saw: post n+1's blob arrived before post n's record was answered
    records = state.requests_to("com.atproto.repo.putRecord")
    blobs = state.requests_to("com.atproto.repo.uploadBlob")
    for n, record in enumerate(records[:2]):
        assert record.answered is not None
        assert blobs[n + 1].received < record.answered


def test_a_release_asks_for_its_own_self_labels_in_its_front_matter(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: tuple[FakePDS, str]) -> None:
    """`bluesky: {labels: [...]}` in a folder release's front matter: the labels go on that
    post beside the channel's own, and one Bluesky's apps do not honour is named in the
    post's warnings instead of being sent."""
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    ws.config.write_text(ws.config.read_text().replace(
        'approval = "manual"', 'approval = "manual"\nlabels = ["nudity"]'))
    (ws.content / "flood.md").write_text(
        "---\ntitle: Flood damage in the valley\ndate: 2026-03-10\n"
        f"summary: Photos of the damage after the storm.\nurl: {LINK}\n"
        "bluesky:\n  labels: [graphic-media, gore]\n---\n\nThe body.\n", encoding="utf-8")
    cli(ws, "fetch")
    [pending] = queue(ws)
    assert any("gore left out" in w for w in pending["warnings"]), pending["warnings"]
    cli(ws, "approve", str(pending["id"]))
    assert "1 published" in cli(ws, "publish").stdout
    [record] = state.records.values()
    assert record.value["labels"] == {"$type": "com.atproto.label.defs#selfLabels",
                                      "values": [{"val": "nudity"}, {"val": "graphic-media"}]}
