"""`pressbot fetch`: folder sources, backlog policy, embargo, bad files, idempotence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import make_workspace, write_release


def queue(ws) -> list[dict]:  # type: ignore[no-untyped-def]
    result = ws.run("queue", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_examples_are_stored_and_queued_once(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, copy_examples=True)
    first = ws.run("fetch")
    assert first.exit_code == 0, first.output
    assert "5 new" in first.stdout and "10 posts queued" in first.stdout
    posts = queue(ws)
    assert len(posts) == 10
    assert {p["channel"] for p in posts} == {"mastodon", "facebook"}
    assert all(p["status"] == "pending" for p in posts)
    second = ws.run("fetch")
    assert "0 new" in second.stdout and "5 unchanged" in second.stdout
    assert len(queue(ws)) == 10


@pytest.mark.parametrize(("backlog", "queued"), [("skip", 0), ("latest:2", 2), ("all", 3)])
def test_backlog_policy_on_first_sight(tmp_path: Path, backlog: str, queued: int) -> None:
    ws = make_workspace(tmp_path, backlog=backlog)
    for day in ("01", "02", "03"):
        write_release(ws.content, f"r{day}.md", f"Release {day}", date=f"2026-03-{day}")
    assert ws.run("fetch").exit_code == 0
    titles = {p["release"]["title"] for p in queue(ws)}
    assert len(titles) == queued
    if backlog == "latest:2":
        assert titles == {"Release 02", "Release 03"}
    # after first sight, new files are always queued, whatever the policy
    write_release(ws.content, "r04.md", "Release 04", date="2026-03-04")
    ws.run("fetch")
    assert "Release 04" in {p["release"]["title"] for p in queue(ws)}


def test_embargo_sets_publish_at_and_survives_skip_backlog(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, backlog="skip")
    write_release(ws.content, "future.md", "Embargoed release",
                  extra="embargo: 2031-05-05T09:00:00+02:00\n")
    ws.run("fetch")
    posts = queue(ws)
    assert len(posts) == 2
    assert {p["publish_at"] for p in posts} == {"2031-05-05T07:00:00+00:00"}


def test_bad_files_are_reported_and_the_rest_go_on(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    write_release(ws.content, "good.md", "A good release")
    (ws.content / "binary.txt").write_bytes(b"\x00\x01\x02\x03" * 100)
    (ws.content / "empty.txt").write_text("", encoding="utf-8")
    result = ws.run("fetch")
    assert result.exit_code == 0
    assert "1 new" in result.stdout and "2 failed" in result.stdout
    assert "binary.txt" in result.stdout and "empty.txt" in result.stdout
    assert [p["release"]["title"] for p in queue(ws)] == ["A good release"] * 2


def test_a_changed_release_rerenders_pending_posts(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    path = write_release(ws.content, "r.md", "First title")
    ws.run("fetch")
    write_release(ws.content, "r.md", "Corrected title", body="A longer, corrected body.")
    import os

    os.utime(path, (1e9, 1e9))  # a new mtime, as an editor would leave
    result = ws.run("fetch")
    assert "1 updated" in result.stdout
    posts = queue(ws)
    assert len(posts) == 2 and all("Corrected title" in p["text"] for p in posts)
    shown = ws.run("show", str(posts[0]["id"]))
    assert "rerender" in shown.stdout


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    ws.content.rmdir()
    result = ws.run("fetch")
    assert result.exit_code == 1
    assert "folder not found" in result.stdout


def test_auto_approved_posts_of_one_fetch_keep_the_minimum_gap(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-11-26T10:00:00+00:00")
    ws = make_workspace(tmp_path, channels="""
[channels.mastodon]
type = "outbox"
like = "mastodon"
approval = "auto"
min_gap = "30m"
""")
    for day in ("01", "02", "03"):
        write_release(ws.content, f"r{day}.md", f"Release {day}", date=f"2026-03-{day}")
    ws.run("fetch")
    slots = sorted(p["publish_at"] for p in queue(ws))
    assert slots == ["2026-11-26T10:00:00+00:00", "2026-11-26T10:30:00+00:00",
                     "2026-11-26T11:00:00+00:00"]


def test_the_same_item_twice_in_one_batch_is_stored_once(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    write_release(ws.content, "a.md", "Twin release")
    write_release(ws.content, "b.md", "Twin release")  # same link and text, another file
    (ws.content / "b.md").write_text((ws.content / "a.md").read_text().replace(
        "news/a", "news/a/"), encoding="utf-8")
    result = ws.run("fetch")
    assert "1 new" in result.stdout and "1 unchanged" in result.stdout
