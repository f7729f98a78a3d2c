"""Facebook end to end: a folder release through the CLI (and `pressbot run`) to the fake Graph.

`tests/channels/test_facebook.py` proves the adapter call by call; this drives it as an
operator does — `fetch` → `approve` → `publish` — for link and photo posts, an expired token,
a throttled Page (whose wait is minutes: the test moves `PRESSBOT_CLOCK` instead of sleeping),
and a lost answer reconciled by the running service. Secrets come in as `${VAR}`s and every
CLI output and log record is checked for the Page token, the app secret and its proof.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from channels.facebook import proof
from tests.fakes.facebook import PAGE_SCOPES, FakeGraph, create_app, fresh_graph
from tests.fakes.server import LiveServer
from tests.helpers import SAFETY, Workspace, checked_logs, make_workspace, wait_until

APP_SECRET = "e2e-facebook-app-secret-77f2"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(create_app(FakeGraph())) as live:
        yield live


@pytest.fixture
def graph(server: LiveServer) -> FakeGraph:
    """A fresh fake Page (which checks appsecret_proof) behind the module's one server."""
    return fresh_graph(server, app_secret=APP_SECRET)


def secrets_of(graph: FakeGraph) -> list[str]:
    return [graph.page_token, APP_SECRET, proof(APP_SECRET, graph.page_token)]


@pytest.fixture(autouse=True)
def logs(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
         graph: FakeGraph) -> Iterator[pytest.LogCaptureFixture]:
    yield from checked_logs(monkeypatch, caplog, secrets_of(graph))


def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: LiveServer,
              graph: FakeGraph, post_as: str = "link") -> Workspace:
    monkeypatch.setenv("FACEBOOK_PAGE_TOKEN", graph.page_token)
    monkeypatch.setenv("FACEBOOK_APP_SECRET", APP_SECRET)
    return make_workspace(tmp_path, channels=f"""
[web]
enabled = false

[channels.facebook]
type = "facebook"
page_id = "{graph.page_id}"
page_access_token = "${{FACEBOOK_PAGE_TOKEN}}"
app_secret = "${{FACEBOOK_APP_SECRET}}"
graph_url = "{server.url}"
api_version = "v21.0"
post_as = "{post_as}"
approval = "manual"
timeout = "1s"
""")


def release(ws: Workspace, stem: str, title: str, extra: str = "") -> str:
    """Write a Markdown release into the watched folder; returns its url."""
    url = f"https://www.example.org/news/{stem}"
    (ws.content / f"{stem}.md").write_text(
        f"---\ntitle: {title}\ndate: 2026-03-10\nsummary: {title} — in short.\nurl: {url}\n"
        f"{extra}---\n\nThe body of the release.\n", encoding="utf-8")
    return url


def cli(ws: Workspace, graph: FakeGraph, *args: str, code: int = 0) -> Result:
    """Run one CLI command in-process; its exit code and both streams are checked."""
    result = ws.run(*args)
    assert result.exit_code == code, result.output
    for secret in secrets_of(graph):
        assert secret not in result.stdout
        assert secret not in result.stderr
    return result


def queue(ws: Workspace, graph: FakeGraph) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(cli(ws, graph, "queue", "--json").stdout)
    return data


def events(ws: Workspace, graph: FakeGraph, post_id: int) -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads(cli(ws, graph, "show", str(post_id), "--json").stdout)
    return list(data["events"])


def fetch_and_approve(ws: Workspace, graph: FakeGraph) -> dict[str, Any]:
    assert "1 post queued" in cli(ws, graph, "fetch").stdout
    [post] = queue(ws, graph)
    assert (post["channel"], post["status"]) == ("facebook", "pending")
    cli(ws, graph, "approve", str(post["id"]))
    return post


# ── the happy paths ───────────────────────────────────────────────────────────────────────

def test_a_folder_release_goes_out_as_a_link_post(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: LiveServer, graph: FakeGraph,
        logs: pytest.LogCaptureFixture) -> None:
    ws = workspace(tmp_path, monkeypatch, server, graph)
    link = release(ws, "solar-roofs", "Solar panels on forty school roofs")
    post = fetch_and_approve(ws, graph)
    assert graph.posts == {}                         # nothing before `publish`
    assert "1 published, 0 failed (will retry), 0 held" in cli(ws, graph, "publish").stdout

    [live] = graph.live_posts()
    assert live.message == post["text"]
    assert live.message.startswith("Solar panels on forty school roofs\n")
    assert live.link == link                          # the link travels apart, for the card
    assert graph.drafts() == []
    [done] = queue(ws, graph)
    assert (done["status"], done["remote_id"], done["remote_url"]) == \
        ("published", live.id, live.permalink)
    # httpx logged the Graph URLs (which carry the token and proof): scrubbed, not dropped.
    assert any("HTTP Request" in r.getMessage() for r in logs.records)
    assert "0 published" in cli(ws, graph, "publish").stdout
    assert len(graph.live_posts()) == 1


@pytest.mark.parametrize("where", ["file", "url"])
def test_a_photo_post_carries_the_image_alt_text_and_link(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: LiveServer, graph: FakeGraph,
        where: str) -> None:
    ws = workspace(tmp_path, monkeypatch, server, graph, post_as="photo")
    data = b"\x89PNG\r\n\x1a\n pretend roof photo"
    if where == "file":
        local = ws.content / "roofs.png"  # inside the source's folder: the only place
        local.write_bytes(data)
        image = local.as_uri()
    else:
        image = graph.add_image("roofs.png", data)
    link = release(ws, "photo-roofs", "Roofs full of panels",
                   extra=f"image: {image}\nimage_alt: Solar panels on a school roof\n")
    fetch_and_approve(ws, graph)
    assert "1 published" in cli(ws, graph, "publish").stdout

    [live] = graph.live_posts()
    assert live.photo_id is not None
    photo = graph.photos[live.photo_id]
    [call] = graph.requests_to("photos.create")
    assert call.params["alt_text_custom"] == "Solar panels on a school roof"
    if where == "file":
        assert photo["bytes"] == len(data)
    else:
        assert photo["url"] == image
    assert photo["caption"].startswith("Roofs full of panels\n")
    assert link in photo["caption"]                  # no link card on photos: it goes in the text
    assert graph.requests_to("feed.create") == []
    [done] = queue(ws, graph)
    assert (done["status"], done["remote_id"]) == ("published", live.id)


# ── failures a person, or time, must resolve ──────────────────────────────────────────────

def test_an_expired_token_pauses_the_channel_until_a_new_one_checks_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: LiveServer,
        graph: FakeGraph) -> None:
    ws = workspace(tmp_path, monkeypatch, server, graph)
    release(ws, "expired", "A release for an expired token")
    fetch_and_approve(ws, graph)
    graph.invalidate(graph.page_token, 463)
    result = cli(ws, graph, "publish", code=1)
    assert "0 published, 0 failed (will retry), 0 held" in result.stdout
    assert "channel facebook paused" in result.stderr
    assert "#190/463" in result.stderr and "FACEBOOK_PAGE_TOKEN" in result.stderr
    [waiting] = queue(ws, graph)
    assert (waiting["status"], waiting["attempts"]) == ("approved", 0)   # not the post's fault
    assert "paused" in cli(ws, graph, "queue").stdout
    assert graph.posts == {}
    checked = cli(ws, graph, "check", code=1)
    assert "facebook: FAILED" in checked.stdout
    assert "FACEBOOK_PAGE_TOKEN" in checked.stdout
    assert "0 published" in cli(ws, graph, "publish").stdout   # still paused: nothing tried
    assert len(graph.requests_to("feed.create")) == 0

    fresh = graph.add_token("PAGE", scopes=PAGE_SCOPES).value
    monkeypatch.setenv("FACEBOOK_PAGE_TOKEN", fresh)
    assert "resumed" in cli(ws, graph, "check").stdout
    assert "1 published" in cli(ws, graph, "publish").stdout
    assert len(graph.live_posts()) == 1


def test_a_throttled_page_waits_until_access_is_regained_then_publishes_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: LiveServer,
        graph: FakeGraph) -> None:
    ws = workspace(tmp_path, monkeypatch, server, graph)
    link = release(ws, "throttled", "A release for a throttled Page")
    post = fetch_and_approve(ws, graph)
    # 80001 with X-Business-Use-Case-Usage estimated_time_to_regain_access = 2 (minutes)
    graph.fail_next("feed.create", 80001, regain_minutes=2)

    assert "0 published, 1 failed (will retry), 0 held" in cli(ws, graph, "publish",
                                                                code=1).stdout
    [failed] = queue(ws, graph)
    assert failed["status"] == "failed"
    assert "#80001" in failed["last_error"]
    [retry] = [e for e in events(ws, graph, post["id"]) if e["action"] == "retry"]
    assert 120 <= retry["detail"]["retry_in"] <= 120 * 1.1 + 0.05
    assert graph.posts == {}

    # Before the estimate has passed, nothing is tried: calls while throttled lengthen it.
    assert "0 published, 0 failed (will retry), 0 held" in cli(ws, graph, "publish").stdout
    assert len(graph.requests_to("feed.create")) == 1
    later = datetime.now(UTC) + timedelta(minutes=3)
    monkeypatch.setenv("PRESSBOT_CLOCK", later.isoformat())
    assert "1 published" in cli(ws, graph, "publish").stdout
    [live] = graph.live_posts()
    assert live.link == link
    assert graph.drafts() == []
    assert len(graph.requests_to("feed.create")) == 2
    assert queue(ws, graph)[0]["remote_id"] == live.id


# ── the service itself ────────────────────────────────────────────────────────────────────

def test_run_reconciles_a_lost_answer_instead_of_posting_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: LiveServer,
        graph: FakeGraph) -> None:
    ws = workspace(tmp_path, monkeypatch, server, graph)
    link = release(ws, "lost", "A release whose answer gets lost")
    # The draft goes live, but both answers to "make it live" are lost on the way back.
    graph.ambiguous_next("post.update", n=2)
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(ws.config), "run"],
                                stdout=out, stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_until(lambda: bool(queue(ws, graph)), SAFETY, log)   # `run` polls at once
        [post] = queue(ws, graph)
        cli(ws, graph, "approve", str(post["id"]))          # while `run` holds the database
        wait_until(lambda: queue(ws, graph)[0]["status"] == "published", SAFETY, log)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=SAFETY)
    output = log.read_text()
    assert code == 0, output[-3000:]

    [live] = graph.live_posts()
    assert live.link == link
    assert graph.drafts() == []
    assert len(graph.requests_to("feed.create")) == 1      # never created a second time
    [done] = queue(ws, graph)
    assert done["remote_id"] == live.id
    actions = [e["action"] for e in events(ws, graph, post["id"])]
    assert actions.count("retry") == 1
    assert "reconciled" in actions
    assert "found by reconcile" in output
    for secret in secrets_of(graph):
        assert secret not in output
