"""`schedule --at` reads the forms people type and refuses what it cannot read or what has
passed — never a guess. Each form goes through the real CLI on a queued post."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Workspace, make_workspace, write_release

NOW = "2026-12-02T11:20:00+01:00"   # a Wednesday, in the workspace's Europe/Brussels


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("PRESSBOT_CLOCK", NOW)
    workspace = make_workspace(tmp_path)
    write_release(workspace.content, "r.md", "A release")
    assert workspace.run("fetch").exit_code == 0
    return workspace


def scheduled(ws: Workspace) -> str:
    posts = json.loads(ws.run("queue", "--json").stdout)
    return str(posts[0]["publish_at"])


@pytest.mark.parametrize(("phrase", "expected"), [
    ("tomorrow 15.00", "2026-12-03T14:00:00+00:00"),
    ("tomorrow 15:00", "2026-12-03T14:00:00+00:00"),
    ("tomorrow 9", "2026-12-03T08:00:00+00:00"),
    ("tomorrow 9am", "2026-12-03T08:00:00+00:00"),
    ("tomorrow 3pm", "2026-12-03T14:00:00+00:00"),
    ("tomorrow 15h", "2026-12-03T14:00:00+00:00"),
    ("tomorrow 15h30", "2026-12-03T14:30:00+00:00"),
    ("Friday 09:00", "2026-12-04T08:00:00+00:00"),
    ("fri 9am", "2026-12-04T08:00:00+00:00"),
    ("wednesday 10:00", "2026-12-09T09:00:00+00:00"),   # today's 10:00 passed: next week
    ("wednesday 12:00", "2026-12-02T11:00:00+00:00"),   # today, still to come
    ("next monday 10:30", "2026-12-07T09:30:00+00:00"),
    ("16:45", "2026-12-02T15:45:00+00:00"),
    ("in 2 hours", "2026-12-02T12:20:00+00:00"),
    ("in 90 min", "2026-12-02T11:50:00+00:00"),
    ("in 1 day", "2026-12-03T10:20:00+00:00"),
    ("2026-12-24T09:00", "2026-12-24T08:00:00+00:00"),
    ("2026-12-24 09:00", "2026-12-24T08:00:00+00:00"),
    ("24.12.2026 9:00", "2026-12-24T08:00:00+00:00"),
    ("2026-12-24T09:00:00+00:00", "2026-12-24T09:00:00+00:00"),
])
def test_the_forms_people_type(ws: Workspace, phrase: str, expected: str) -> None:
    result = ws.run("schedule", "1", "--at", phrase)
    assert result.exit_code == 0, result.output
    assert scheduled(ws) == expected
    assert "still needs approval" in result.stdout        # the post is pending


@pytest.mark.parametrize(("phrase", "says"), [
    ("tomorrow 25:00", "not a time of day"),
    ("tomorrow 15:75", "not a time of day"),
    ("tomorrow 13pm", "am/pm"),
    ("friday", "no time"),
    ("2026-12-24", "without a time"),
    ("yesterday 09:00", "has passed"),
    ("09:00", "has passed"),                              # today's 09:00 is gone
    ("2025-01-01T10:00", "has passed"),
    ("someday soon", "cannot read"),
    ("tomorrow at noonish", "cannot read"),
    ("31.02.2027 09:00", "cannot read the day"),
    ("", "say when"),
])
def test_what_cannot_be_read_or_has_passed_is_refused(ws: Workspace, phrase: str,
                                                       says: str) -> None:
    before = scheduled(ws)
    result = ws.run("schedule", "1", "--at", phrase)
    assert result.exit_code == 2
    assert says in result.output
    assert scheduled(ws) == before                        # nothing changed


def test_edit_says_the_new_length_and_counts_read_as_words(ws: Workspace) -> None:
    edited = ws.run("edit", "1", "--text", "Short and sweet https://www.example.org/x")
    assert edited.exit_code == 0, edited.output
    assert "39/500 characters as mastodon counts them" in edited.stdout   # URL as 23
    write_release(ws.content, "s.md", "A second release")
    fetched = ws.run("fetch").stdout
    assert "1 new release," in fetched and "2 posts queued" in fetched
    assert "1 source," in fetched and "0 sources with errors" in fetched
