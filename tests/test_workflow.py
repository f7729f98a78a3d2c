"""The approval workflow through the CLI, with a frozen clock where time matters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Workspace, make_workspace, write_release

WINDOWED = """
[channels.mastodon]
type = "outbox"
like = "mastodon"
approval = "manual"
windows = ["mon-fri 09:00-18:00"]
min_gap = "30m"
"""


def posts(ws: Workspace, *status: str) -> list[dict]:  # type: ignore[type-arg]
    args = ["queue", "--json"] + [a for s in status for a in ("--status", s)]
    return json.loads(ws.run(*args).stdout)


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    # Friday 27 November 2026, 17:20 in Brussels
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-11-27T17:20:00+01:00")
    space = make_workspace(tmp_path, channels=WINDOWED)
    for i in (1, 2, 3):
        write_release(space.content, f"r{i}.md", f"Release {i}", date=f"2026-11-2{i}")
    assert space.run("fetch").exit_code == 0
    return space


def test_approve_takes_the_next_free_slot_in_windows_with_gaps(ws: Workspace) -> None:
    ids = [p["id"] for p in posts(ws)]
    result = ws.run("approve", *map(str, ids))
    assert result.exit_code == 0, result.output
    slots = [p["publish_at"] for p in posts(ws, "approved")]
    # 17:20 and 17:50 on Friday; the third does not fit before 18:00 → Monday 09:00
    assert slots == ["2026-11-27T16:20:00+00:00", "2026-11-27T16:50:00+00:00",
                     "2026-11-30T08:00:00+00:00"]
    assert "goes out 2026-11-30 09:00" in result.stdout


def test_illegal_transitions_are_refused_clearly(ws: Workspace) -> None:
    first = posts(ws)[0]["id"]
    assert ws.run("reject", str(first), "--reason", "duplicate of last week").exit_code == 0
    again = ws.run("approve", str(first))
    assert again.exit_code == 1
    assert f"post {first} is rejected" in again.stderr
    missing = ws.run("approve", "9999")
    assert missing.exit_code == 1 and "does not exist" in missing.stderr


def test_edit_keeps_the_original_in_the_audit_trail(ws: Workspace) -> None:
    post = posts(ws)[0]
    result = ws.run("edit", str(post["id"]), "--text", "Hand-written text https://example.org/x")
    assert result.exit_code == 0
    shown = json.loads(ws.run("show", str(post["id"]), "--json").stdout)
    assert shown["text"] == "Hand-written text https://example.org/x"
    edit = [e for e in shown["events"] if e["action"] == "edit"][0]
    assert edit["detail"]["previous_text"] == post["text"]
    assert edit["actor"].startswith("cli")


def test_edit_rechecks_the_length_as_the_platform_counts(ws: Workspace) -> None:
    post = posts(ws)[0]
    too_long = "word " * 120  # 600 characters > 500
    result = ws.run("edit", str(post["id"]), "--text", too_long)
    assert result.exit_code == 1 and "too long for mastodon: 599/500" in result.stderr
    # 30 URLs count 23 each (690) even though the text is much longer in code points
    urls = " ".join(f"https://www.example.org/{'x' * 40}/{i}" for i in range(30))
    assert ws.run("edit", str(post["id"]), "--text", urls).exit_code == 1
    fits = " ".join(f"https://www.example.org/{'x' * 40}/{i}" for i in range(20))
    assert ws.run("edit", str(post["id"]), "--text", fits).exit_code == 0


def test_edit_opens_the_editor_without_text(ws: Workspace, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nprintf 'Edited in the editor' > \"$1\"\n")
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    post = posts(ws)[0]
    assert ws.run("edit", str(post["id"])).exit_code == 0
    assert posts(ws)[0]["text"] == "Edited in the editor"


def test_schedule_accepts_phrases_in_the_bot_time_zone(ws: Workspace) -> None:
    post = posts(ws)[0]
    assert ws.run("schedule", str(post["id"]), "--at", "tomorrow 09:00").exit_code == 0
    assert posts(ws)[0]["publish_at"] == "2026-11-28T08:00:00+00:00"
    assert ws.run("schedule", str(post["id"]), "--at", "2026-12-01T10:30").exit_code == 0
    assert posts(ws)[0]["publish_at"] == "2026-12-01T09:30:00+00:00"
    bad = ws.run("schedule", str(post["id"]), "--at", "when pigs fly")
    assert bad.exit_code == 2 and "cannot read" in bad.stderr


def test_a_scheduled_post_keeps_its_time_when_approved(ws: Workspace) -> None:
    post = posts(ws)[0]
    ws.run("schedule", str(post["id"]), "--at", "2026-12-02T11:00")
    ws.run("approve", str(post["id"]))
    assert posts(ws, "approved")[0]["publish_at"] == "2026-12-02T10:00:00+00:00"


def test_embargo_holds_a_post_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-11-27T10:00:00+01:00")
    ws = make_workspace(tmp_path)
    write_release(ws.content, "e.md", "Embargoed", extra="embargo: 2026-12-03T12:00:00+01:00\n")
    ws.run("fetch")
    ids = [str(p["id"]) for p in posts(ws)]
    ws.run("approve", *ids)
    assert {p["publish_at"] for p in posts(ws, "approved")} == {"2026-12-03T11:00:00+00:00"}
    early = ws.run("schedule", ids[0], "--at", "2026-12-01T09:00")
    assert early.exit_code == 1 and "embargoed until" in early.stderr
    # nothing is due before the embargo, even with a dry-run publish
    dry = ws.run("publish", "--dry-run")
    assert "0 due posts" in dry.stdout


def test_a_changed_release_after_approval_needs_approval_again(ws: Workspace) -> None:
    post = posts(ws)[0]
    ws.run("approve", str(post["id"]))
    path = ws.content / "r1.md"
    write_release(ws.content, "r1.md", "Release 1 corrected", date="2026-11-21")
    import os

    os.utime(path, (2e9, 2e9))
    ws.run("fetch")
    changed = [p for p in posts(ws) if p["id"] == post["id"]][0]
    assert changed["status"] == "pending" and "corrected" in changed["text"]


def test_published_posts_are_not_reposted_when_a_release_changes(ws: Workspace) -> None:
    post = posts(ws)[0]
    ws.run("approve", str(post["id"]))
    assert ws.run("publish").exit_code == 0
    assert posts(ws, "published")[0]["id"] == post["id"]
    write_release(ws.content, "r1.md", "Release 1 corrected", date="2026-11-21")
    import os

    os.utime(ws.content / "r1.md", (2e9, 2e9))
    ws.run("fetch")
    after = [p for p in posts(ws) if p["id"] == post["id"]][0]
    assert after["status"] == "published" and "corrected" not in after["text"]
    events = json.loads(ws.run("show", str(post["id"]), "--json").stdout)["events"]
    assert events[-1]["action"] == "release-changed"


def test_queue_json_has_the_contract_keys(ws: Workspace) -> None:
    post = posts(ws)[0]
    assert {"id", "channel", "status", "release", "text", "publish_at", "remote_id",
            "remote_url", "last_error"} <= set(post)
    assert set(post["release"]) == {"id", "title", "url"}
