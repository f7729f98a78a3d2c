"""Who paused a channel decides who may resume it: `check` lifts only pressbot's own pauses.

A person pauses a channel for a reason pressbot cannot see (crisis communication, a post
under review); a passing credentials check says nothing about that reason. Against the fake
Mastodon over real HTTP, through the CLI as an operator drives it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from bot.cli import channels as _pause_commands  # noqa: F401  (registers pause/resume)
from bot.config import load_config
from bot.health import Health
from bot.store import Store
from tests.fakes.mastodon import FakeMastodon, running
from tests.helpers import Workspace, make_workspace, write_release

TOKEN = "pause-test-mastodon-token-81c2"


@pytest.fixture
def fake() -> Iterator[tuple[FakeMastodon, str]]:
    state = FakeMastodon()
    state.add_token(TOKEN, state.add_account("newsroom"), "read write")
    with running(state) as server:
        yield state, server.url


def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> Workspace:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    return make_workspace(tmp_path, channels=f"""
[web]
enabled = false

[channels.mastodon]
type = "mastodon"
base_url = "{url}"
access_token = "${{MASTODON_TOKEN}}"
approval = "auto"
timeout = "2s"
""")


def cli(ws: Workspace, *args: str, code: int = 0) -> Result:
    result = ws.run(*args)
    assert result.exit_code == code, result.output
    assert TOKEN not in result.output
    return result


def health(ws: Workspace) -> dict[str, object]:
    config = load_config(ws.config)
    store = Store(config.bot.database_url)
    try:
        return Health(config, store).report()[1]
    finally:
        store.dispose()


def test_check_leaves_a_persons_pause_and_lifts_only_its_own(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeMastodon, str]) -> None:
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    write_release(ws.content, "crisis.md", "A release during a crisis")
    cli(ws, "fetch")
    cli(ws, "pause", "mastodon", "--reason", "crisis: nothing goes out until the press office says")

    checked = cli(ws, "check")   # the token is fine, and the person's pause stays
    assert "mastodon: OK" in checked.stdout
    assert "resumed" not in checked.stdout
    assert "stays paused, by cli:" in checked.stdout
    assert "crisis: nothing goes out" in checked.stdout
    assert "pressbot resume mastodon" in checked.stdout
    assert "0 published" in cli(ws, "publish").stdout
    assert not state.statuses
    listing = cli(ws, "queue").stdout
    assert "channel mastodon paused by cli:" in listing and "crisis" in listing
    [post] = json.loads(cli(ws, "queue", "--json").stdout)
    shown = cli(ws, "show", str(post["id"])).stdout
    assert "waiting: mastodon paused by cli:" in shown and "crisis" in shown
    report = health(ws)
    channel = report["channels"]["mastodon"]  # type: ignore[index]
    assert channel["state"] == "paused" and channel["paused_by"].startswith("cli:")
    assert channel["reason"].startswith("crisis") and channel["since"]

    assert "resumed" in cli(ws, "resume", "mastodon").stdout   # a person lifts it
    # pressbot's own pause (the token refused) is lifted by a passing check
    monkeypatch.setenv("MASTODON_TOKEN", "revoked-" + TOKEN)
    write_release(ws.content, "later.md", "A release after the crisis")
    cli(ws, "fetch")
    monkeypatch.setenv("MASTODON_TOKEN", "revoked-" + TOKEN)
    published = ws.run("publish")
    assert "channel mastodon paused" in published.output
    assert "paused by pressbot" in cli(ws, "queue").stdout
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    assert "is resumed" in cli(ws, "check").stdout
    assert "2 published" in cli(ws, "publish").stdout
    assert len(state.statuses) == 2
