"""Mastodon end to end: a folder release through the real CLI (and `pressbot run`) to the fake.

`tests/channels/test_mastodon.py` proves the adapter call by call; this proves the pieces
together as an operator drives them: `fetch` → `approve` → `publish`, `check` teaching the
renderer the instance's limit, a revoked token holding the post with a hint a person can act
on, a rate limit waited out, a lost answer reconciled. The token is set the way operators set
it (`${MASTODON_TOKEN}`) and every CLI output and log record is checked for it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.mastodon import FakeMastodon, iso, running
from tests.fakes.mastodon_text import status_length
from tests.fakes.server import LiveServer
from tests.helpers import SAFETY, Workspace, checked_logs, make_workspace, wait_until

TOKEN = "e2e-mastodon-token-6a1f93c0d2"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 300
LONG_SUMMARY = (
    "The regional council approved a four-year plan that puts solar panels on the roofs of "
    "forty primary schools, starting with the twelve oldest buildings this summer. Pupils "
    "will follow the production on a screen in each school hall, and teachers get lessons "
    "on energy for every age group. The plan also funds insulation of the gyms, new "
    "windows in six schools and bicycle sheds at every site that asks for one.")


@pytest.fixture(autouse=True)
def logs(monkeypatch: pytest.MonkeyPatch,
         caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    yield from checked_logs(monkeypatch, caplog, [TOKEN])


@pytest.fixture
def fake() -> Iterator[tuple[FakeMastodon, str]]:
    state = FakeMastodon()
    state.add_token(TOKEN, state.add_account("newsroom"), "read write")
    with running(state) as server:
        yield state, server.url


class Images:
    """A static image host that records what it was sent (the token must not be)."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self.url = ""

    async def serve(self, request: Request) -> Response:
        self.headers.append({k.lower(): v for k, v in request.headers.items()})
        return Response(PNG, media_type="image/png")


@pytest.fixture
def images() -> Iterator[Images]:
    host = Images()
    with LiveServer(Starlette(routes=[Route("/img/{name}", host.serve)])) as live:
        host.url = live.url
        yield host


def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str,
              timeout: str = "1s") -> Workspace:
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    return make_workspace(tmp_path, channels=f"""
[web]
enabled = false

[channels.mastodon]
type = "mastodon"
base_url = "{url}"
access_token = "${{MASTODON_TOKEN}}"
approval = "manual"
timeout = "{timeout}"
allow_private_images = true
""")


def release(ws: Workspace, stem: str, title: str, *, summary: str = "", extra: str = "",
            ) -> str:
    """Write a Markdown release into the watched folder; returns its url."""
    url = f"https://www.example.org/news/{stem}"
    (ws.content / f"{stem}.md").write_text(
        f"---\ntitle: {title}\ndate: 2026-03-10\nsummary: {summary or title + ' in short.'}\n"
        f"url: {url}\n{extra}---\n\nThe body of the release.\n", encoding="utf-8")
    return url


def cli(ws: Workspace, *args: str, code: int = 0) -> Result:
    """Run one CLI command in-process; its exit code and both streams are checked."""
    result = ws.run(*args)
    assert result.exit_code == code, result.output
    assert TOKEN not in result.stdout
    assert TOKEN not in result.stderr
    return result


def queue(ws: Workspace) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(cli(ws, "queue", "--json").stdout)
    return data


def events(ws: Workspace, post_id: int) -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads(cli(ws, "show", str(post_id), "--json").stdout)
    return list(data["events"])


# ── the happy path ────────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("where", ["http", "file"])
def test_a_folder_release_goes_out_with_its_text_link_image_and_alt(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: tuple[FakeMastodon, str],
        images: Images, where: str, logs: pytest.LogCaptureFixture) -> None:
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    if where == "http":
        image = f"{images.url}/img/hall.png"
    else:
        local = ws.content / "hall.png"   # inside the source's folder: the only place
        local.write_bytes(PNG)
        image = local.as_uri()
    link = release(ws, "town-hall", "The town hall reopens",
                   extra=f"image: {image}\nimage_alt: The restored town hall at dusk\n")

    assert "1 new release, 1 post queued" in cli(ws, "fetch").stdout
    [pending] = queue(ws)
    assert (pending["channel"], pending["status"]) == ("mastodon", "pending")
    assert state.statuses == {}                       # nothing goes out before approval
    cli(ws, "approve", str(pending["id"]))
    assert "1 published, 0 failed (will retry), 0 held" in cli(ws, "publish").stdout

    [status] = state.statuses.values()
    assert status.text.startswith("The town hall reopens\n")
    assert link in status.text
    assert status.text == pending["text"]
    [media_id] = status.media_ids
    assert state.media[media_id].description == "The restored town hall at dusk"
    assert state.media[media_id].content_type == "image/png"
    assert state.media[media_id].size == len(PNG)
    if where == "http":
        assert len(images.headers) == 1
        assert "authorization" not in images.headers[0]   # the token stays with Mastodon
    [done] = queue(ws)
    assert (done["status"], done["remote_id"], done["remote_url"]) == \
        ("published", status.id, status.url)
    assert "0 published" in cli(ws, "publish").stdout
    assert len(state.statuses) == 1
    # The requests were logged (and the `logs` fixture found no token in any record).
    assert any("HTTP Request: POST" in r.getMessage() for r in logs.records)


def test_the_next_posts_images_upload_while_a_status_is_in_flight(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: tuple[FakeMastodon, str],
        images: Images) -> None:
    """Statuses go one at a time (the timeline's order); the next post's images do not wait
    in that line: they are uploaded while the status before them is still unanswered."""
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url, timeout="5s")
    for n in (1, 2, 3):
        release(ws, f"r{n}", f"Release number {n} of the week",
                extra=f"image: {images.url}/img/r{n}.png\nimage_alt: Picture {n}\n")
    cli(ws, "fetch")
    ids = [p["id"] for p in sorted(queue(ws), key=lambda p: p["id"])]
    for post_id in ids:
        cli(ws, "approve", str(post_id))
    order = [p["id"] for p in sorted(queue(ws), key=lambda p: (p["publish_at"], p["id"]))]
    # statuses answer late: time for the next upload (made ahead, recorded first) to arrive
    state.slow_after_processing("statuses", seconds=3, times=3)
    assert "3 published, 0 failed (will retry), 0 held" in cli(ws, "publish").stdout

    posted = [state.statuses[p["remote_id"]] for p in
              sorted(queue(ws), key=lambda p: order.index(p["id"]))]
    assert [s.id for s in posted] == sorted((s.id for s in posted), key=int)  # queue order
    for status in posted:                            # each its own picture, none lost
        [media_id] = status.media_ids
        number = status.text.split()[2]
        assert state.media[media_id].description == f"Picture {number}"
    assert all(m.status_id for m in state.media.values())   # no upload left unattached
    assert len(state.media) == 3
    # what the server saw: post n+1's upload arrived before post n's status was answered
    statuses = state.requests_to("statuses")
    uploads = {u.form["description"][0]: u for u in state.requests_to("media")}
    for n, status in enumerate(statuses[:2], start=1):
        assert status.answered is not None
        assert uploads[f"Picture {n + 1}"].received < status.answered


# ── limits learnt by `check` ──────────────────────────────────────────────────────────────

def test_check_learns_the_instance_limit_and_later_posts_fit_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeMastodon, str]) -> None:
    state, url = fake
    state.max_characters = 200
    ws = workspace(tmp_path, monkeypatch, url)
    release(ws, "before", "Solar roofs for forty schools", summary=LONG_SUMMARY)
    cli(ws, "fetch")
    [before] = queue(ws)
    assert status_length(before["text"], "") > 200   # rendered for the default 500

    checked = cli(ws, "check")
    assert "mastodon: OK: @newsroom" in checked.stdout
    assert "200 characters" in checked.stdout

    link = release(ws, "after", "Solar roofs for all schools", summary=LONG_SUMMARY)
    cli(ws, "fetch")
    after = next(p for p in queue(ws) if p["release"]["url"] == link)
    text = after["text"]
    assert status_length(text, "") <= 200            # as Mastodon counts: URLs weigh 23
    assert text.startswith("Solar roofs for all schools\n")
    assert link in text
    assert LONG_SUMMARY not in text
    assert "The regional council approved" in text   # shortened, not dropped
    # The post rendered before `check` is too long for the instance: approval refuses it.
    refused = cli(ws, "approve", str(before["id"]), code=1)
    assert "too long" in refused.stderr
    cli(ws, "approve", str(after["id"]))
    assert "1 published" in cli(ws, "publish").stdout
    [status] = state.statuses.values()                # the fake enforces 200 and took it
    assert status.text == text


# ── failures a person, or time, must resolve ──────────────────────────────────────────────

def test_a_revoked_token_pauses_the_channel_and_the_fix_sends_every_post_once_in_order(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeMastodon, str], logs: pytest.LogCaptureFixture) -> None:
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    for i in range(3):
        release(ws, f"paused-{i}", f"Release {i} for a revoked token")
    cli(ws, "fetch")
    ids = [p["id"] for p in queue(ws)]
    cli(ws, "approve", *map(str, ids))
    with state.lock:
        account_id, scopes = state.tokens.pop(TOKEN)
    result = cli(ws, "publish", code=1)
    assert "0 published, 0 failed (will retry), 0 held" in result.stdout
    assert "channel mastodon paused" in result.stderr
    assert "MASTODON_TOKEN" in result.stderr and "Preferences → Development" in result.stderr
    waiting = queue(ws)
    assert [(p["status"], p["attempts"]) for p in waiting] == [("approved", 0)] * 3
    assert len(state.requests_to("statuses")) == 1      # the first refusal paused the channel
    paused_lines = [r for r in logs.records if "paused" in r.getMessage()]
    assert [r.levelname for r in paused_lines] == ["ERROR"]
    assert "channel mastodon paused" in cli(ws, "queue").stdout
    checked = cli(ws, "check", code=1)
    assert "mastodon: FAILED" in checked.stdout and "MASTODON_TOKEN" in checked.stdout
    assert "mastodon stays paused" in checked.stdout
    assert "0 published" in cli(ws, "publish").stdout   # still paused: nothing is tried
    assert len(state.requests_to("statuses")) == 1

    with state.lock:
        state.tokens[TOKEN] = (account_id, scopes)      # the operator fixed the token
    assert "resumed" in cli(ws, "check").stdout
    assert "3 published" in cli(ws, "publish").stdout
    sent = sorted(state.statuses.values(), key=lambda s: int(s.id))
    assert [s.text.splitlines()[0] for s in sent] == [
        f"Release {i} for a revoked token" for i in range(3)]
    assert [p["status"] for p in queue(ws)] == ["published"] * 3


def test_an_error_page_echoing_the_token_is_scrubbed_everywhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeMastodon, str]) -> None:
    state, url = fake
    # A misconfigured proxy that prints the request's headers in its error page.
    state.fail("statuses", 503, kind="text",
               body=f"upstream unavailable; request had Authorization: Bearer {TOKEN}")
    ws = workspace(tmp_path, monkeypatch, url)
    release(ws, "echo", "A release behind a chatty proxy")
    cli(ws, "fetch")
    [post] = queue(ws)
    cli(ws, "approve", str(post["id"]))
    cli(ws, "publish", code=1)
    [failed] = queue(ws)
    assert failed["status"] == "failed"
    assert "upstream unavailable" in failed["last_error"]
    assert "[redacted]" in failed["last_error"]
    assert TOKEN not in json.dumps(events(ws, post["id"]))
    time.sleep(0.1)
    assert "1 published" in cli(ws, "publish").stdout
    assert len(state.statuses) == 1


@pytest.mark.parametrize("mode", ["drop", "stall"])
def test_a_lost_answer_is_reconciled_not_posted_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: tuple[FakeMastodon, str],
        mode: str) -> None:
    state, url = fake
    state.ignore_idempotency = True   # only pressbot's lookup stands between a retry and a double
    state.slow_after_processing("statuses", mode=mode, seconds=5)  # type: ignore[arg-type]
    ws = workspace(tmp_path, monkeypatch, url, timeout="0.5s")
    link = release(ws, "lost", "A release whose answer gets lost")
    cli(ws, "fetch")
    [post] = queue(ws)
    cli(ws, "approve", str(post["id"]))

    assert "0 published, 1 failed (will retry), 0 held" in cli(ws, "publish", code=1).stdout
    [failed] = queue(ws)
    assert failed["status"] == "failed"
    assert "no answer after the request was sent" in failed["last_error"]
    assert len(state.statuses) == 1                  # it did go out

    time.sleep(0.1)                                  # retry_base is 0.05 s
    assert "1 published" in cli(ws, "publish").stdout
    [status] = state.statuses.values()
    assert link in status.text
    [done] = queue(ws)
    assert (done["status"], done["remote_id"]) == ("published", status.id)
    assert "reconciled" in [e["action"] for e in events(ws, post["id"])]
    assert len(state.requests_to("statuses")) == 1   # found by lookup, never sent again


# ── the service itself ────────────────────────────────────────────────────────────────────

def test_run_waits_out_a_429_until_its_iso_reset_then_publishes_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeMastodon, str]) -> None:
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    link = release(ws, "limited", "A release that meets a rate limit")
    resets: list[float] = []

    def limited() -> dict[str, str]:   # reset 2.5 s after the refusal, whenever that comes
        resets.append(time.time() + 2.5)
        return {"X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": iso(resets[-1], 6)}

    state.fail("statuses", 429, headers=limited)
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(ws.config), "run"],
                                stdout=out, stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_until(lambda: bool(queue(ws)), SAFETY, log)   # `run` polls its sources at once
        [post] = queue(ws)
        cli(ws, "approve", str(post["id"]))          # while `run` holds the database
        wait_until(lambda: queue(ws)[0]["status"] == "published", SAFETY, log)
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=SAFETY)
    output = log.read_text()
    assert code == 0, output[-3000:]

    [reset_at] = resets
    [status] = state.statuses.values()
    assert link in status.text
    assert status.created_at >= reset_at - 0.05, "published before the platform's reset"
    assert len(state.requests_to("statuses")) == 2   # the refused one, then the real one
    [done] = queue(ws)
    assert done["remote_id"] == status.id
    retry = [e for e in events(ws, post["id"]) if e["action"] == "retry"]
    assert len(retry) == 1
    assert "429" in retry[0]["detail"]["error"]
    # The wait ends at the header's reset, not after retry_base: it lasts the 2.5 s left
    # when the refusal was made, less what passed since, plus a jitter of at most 0.3 s.
    retry_in = retry[0]["detail"]["retry_in"]
    retry_until = datetime.fromisoformat(retry[0]["at"]).timestamp() + retry_in
    assert reset_at - 0.05 <= retry_until and retry_in <= 2.5 + 0.3
    assert "waiting" in output and "(not a failure)" in output  # a rate limit is no failure
    assert done["attempts"] == 0
    assert TOKEN not in output
