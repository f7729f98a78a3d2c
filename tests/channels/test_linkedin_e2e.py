"""LinkedIn end to end: folder releases through the CLI (and killed processes) to the fake.

`test_linkedin.py` proves the adapter call by call; this drives it as an operator does —
`fetch` → `approve` → `publish`, `check` — for a link post, a three-picture post with alt
text, an expired token that pauses the channel, and exactly once across SIGKILLs: a
publisher killed while LinkedIn holds the answer to a post it already made, and `pressbot
run` killed again and again while it publishes. The fake does not refuse duplicates here, so
only pressbot's own lookup stands between a crash and a second copy. Every CLI output and
log record is checked for the token.
"""

from __future__ import annotations

import collections
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from bot.config import load_config
from bot.models import Release
from bot.store import Store, posts, releases
from bot.workflow import queue_release
from tests.fakes.linkedin import FakeLinkedIn, running
from tests.helpers import Workspace, checked_logs, make_workspace

TOKEN = "AQVe2e-linkedin-token-0123456789"
PNG = b"\x89PNG\r\n\x1a\n" + b"panel" * 30


@pytest.fixture
def fake() -> Iterator[tuple[FakeLinkedIn, str]]:
    state = FakeLinkedIn(detect_duplicates=False)
    state.add_token(value=TOKEN)
    with running(state) as server:
        yield state, server.url


@pytest.fixture(autouse=True)
def logs(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
         ) -> Iterator[pytest.LogCaptureFixture]:
    yield from checked_logs(monkeypatch, caplog, [TOKEN])


def channel_table(url: str, *, approval: str = "manual", timeout: str = "2s") -> str:
    return f"""
[web]
enabled = false

[channels.linkedin]
type = "linkedin"
organization_id = "2414183"
access_token = "${{LINKEDIN_ACCESS_TOKEN}}"
api_url = "{url}"
oauth_url = "{url}"
api_version = "202608"
approval = "{approval}"
timeout = "{timeout}"
"""


def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, **options: str
              ) -> Workspace:
    monkeypatch.setenv("LINKEDIN_ACCESS_TOKEN", TOKEN)
    return make_workspace(tmp_path, channels=channel_table(url, **options))


def release(ws: Workspace, stem: str, title: str, extra: str = "") -> str:
    url = f"https://www.example.org/news/{stem}"
    (ws.content / f"{stem}.md").write_text(
        f"---\ntitle: {title}\ndate: 2026-03-10\nsummary: \"{title} (in short) for 40 roofs.\"\n"
        f"url: {url}\ntags: [Solar, EU funding]\n{extra}---\n\nThe body of the release.\n",
        encoding="utf-8")
    return url


def cli(ws: Workspace, *args: str, code: int = 0) -> Result:
    result = ws.run(*args)
    assert result.exit_code == code, result.output
    assert TOKEN not in result.stdout
    assert TOKEN not in result.stderr
    return result


def queue(ws: Workspace) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads(cli(ws, "queue", "--json").stdout)
    return data


def fetch_and_approve(ws: Workspace) -> dict[str, Any]:
    assert "1 post queued" in cli(ws, "fetch").stdout
    [post] = queue(ws)
    assert (post["channel"], post["status"]) == ("linkedin", "pending")
    cli(ws, "approve", str(post["id"]))
    return post


def reader_text(commentary: str) -> str:
    """What a reader sees: templates as hashtags, escapes undone (read independently of the
    channel's own code)."""
    import re

    text = re.sub(r"\{hashtag\|\\#\|([^}]*)\}", r"#\1", commentary)
    return re.sub(r"\\(.)", r"\1", text)


# ── the happy paths ───────────────────────────────────────────────────────────────────────

def test_a_folder_release_goes_out_as_a_link_post_with_its_card(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeLinkedIn, str]) -> None:
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    (ws.content / "roof.png").write_bytes(PNG)
    picture = (ws.content / "roof.png").as_uri()
    link = release(ws, "solar-roofs", "Solar panels (phase 2) on forty school roofs",
                   extra=f"image: {picture}\nimage_alt: Panels on a roof\n")
    post = fetch_and_approve(ws)
    assert state.posts == {}
    assert "1 published, 0 failed (will retry), 0 held" in cli(ws, "publish").stdout

    [made] = state.posts_of()
    assert not made.cut                                  # every "(" went out escaped
    assert reader_text(made.commentary) == post["text"].strip()
    assert "{hashtag|\\#|Solar}" in made.commentary
    article = made.content["article"]  # type: ignore[index]
    assert article["source"].startswith(link)
    assert article["title"] == "Solar panels (phase 2) on forty school roofs"
    assert article["thumbnailAltText"] == "Panels on a roof"
    assert state.images[article["thumbnail"]].data == PNG
    [done] = queue(ws)
    assert (done["status"], done["remote_id"]) == ("published", made.urn)
    assert done["remote_url"] == f"https://www.linkedin.com/feed/update/{made.urn}/"
    assert "0 published" in cli(ws, "publish").stdout
    assert len(state.posts) == 1


def test_three_pictures_go_out_with_their_alt_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeLinkedIn, str]) -> None:
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    items = []
    for i in range(3):
        (ws.content / f"roof-{i}.png").write_bytes(PNG + bytes([i]))
        picture = (ws.content / f"roof-{i}.png").as_uri()
        items.append(f"  - src: {picture}\n    alt: Roof {i}, panels\n")
    release(ws, "three-roofs", "Three roofs", extra="image:\n" + "".join(items))
    fetch_and_approve(ws)
    assert "1 published" in cli(ws, "publish").stdout

    [made] = state.posts_of()
    images = made.content["multiImage"]["images"]  # type: ignore[index]
    assert [i["altText"] for i in images] == [f"Roof {i}, panels" for i in range(3)]
    assert [state.images[i["id"]].data for i in images] == [PNG + bytes([i]) for i in range(3)]
    assert all(state.images[i["id"]].owner == state.author for i in images)


# ── a token that stopped working ──────────────────────────────────────────────────────────

def test_an_expired_token_pauses_the_channel_until_a_new_one_checks_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeLinkedIn, str]) -> None:
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    release(ws, "expired", "A release for an expired token")
    fetch_and_approve(ws)
    state.expire(TOKEN)
    result = cli(ws, "publish", code=1)
    assert "0 published, 0 failed (will retry), 0 held" in result.stdout
    assert "channel linkedin paused" in result.stderr
    assert "EXPIRED_ACCESS_TOKEN" in result.stderr and "LINKEDIN_ACCESS_TOKEN" in result.stderr
    [waiting] = queue(ws)
    assert (waiting["status"], waiting["attempts"]) == ("approved", 0)   # not the post's fault
    assert "paused" in cli(ws, "queue").stdout
    checked = cli(ws, "check", code=1)
    assert "linkedin: FAILED" in checked.stdout and "expired" in checked.stdout
    assert "0 published" in cli(ws, "publish").stdout    # still paused: nothing tried
    assert state.posts == {}

    fresh = state.add_token()
    monkeypatch.setenv("LINKEDIN_ACCESS_TOKEN", fresh)
    assert "resumed" in cli(ws, "check").stdout
    assert "1 published" in cli(ws, "publish").stdout
    assert len(state.posts) == 1


def test_check_records_when_to_renew_and_the_review_page_warns_a_week_before(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeLinkedIn, str]) -> None:
    from datetime import UTC, datetime

    from bot.web.previews import queue_sections

    state, url = fake
    state.add_client("app-7", "client-secret-7")
    soon = state.add_token(ttl=timedelta(days=4))
    ws = workspace(tmp_path, monkeypatch, url)
    monkeypatch.setenv("LINKEDIN_ACCESS_TOKEN", soon)
    ws.config.write_text(ws.config.read_text().replace(
        'api_version = "202608"',
        'api_version = "202608"\nclient_id = "app-7"\nclient_secret = "client-secret-7"'))
    release(ws, "soon", "A release before the token ends")
    assert "1 post queued" in cli(ws, "fetch").stdout
    checked = cli(ws, "check")
    assert "linkedin: OK" in checked.stdout
    assert "access token expires on" in checked.stdout

    config = load_config(ws.config)
    store = Store(config.bot.database_url)
    with store.begin() as conn:
        [section, *_] = queue_sections(conn, config, datetime.now(UTC))
    store.dispose()
    [view] = section.groups[0].posts
    assert view.kind == "linkedin" and view.embed == "article"
    assert any(w.startswith("the LinkedIn access token expires on") and "(in 3 days)" in w
               for w in view.warnings), view.warnings


# ── exactly once across SIGKILLs ──────────────────────────────────────────────────────────

def test_after_sigkill_a_restart_reconciles_instead_of_posting_twice(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeLinkedIn, str]) -> None:
    """Killed while LinkedIn holds the answer to a post it already made: the restart finds
    the post among the Page's posts and records it; nothing is created a second time."""
    state, url = fake
    state.slow_after_processing(mode="stall", seconds=30)
    ws = workspace(tmp_path, monkeypatch, url, timeout="60s")
    release(ws, "killed", "A release whose publisher is killed")
    post = fetch_and_approve(ws)
    worker = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(ws.config),
                               "publish"], env={**os.environ, "PYTHONUNBUFFERED": "1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not state.posts and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state.posts, "the post was never created"
    worker.send_signal(signal.SIGKILL)
    worker.wait()
    assert queue(ws)[0]["status"] == "publishing"       # its claim is still there

    assert "1 published" in cli(ws, "publish").stdout
    [made] = state.posts_of()
    [done] = queue(ws)
    assert (done["status"], done["remote_id"]) == ("published", made.urn)
    shown = json.loads(cli(ws, "show", str(post["id"]), "--json").stdout)
    assert "reconciled" in [e["action"] for e in shown["events"]]
    assert len(state.requests_to("posts.create")) == 1


def _queue_posts(store: Store, config: object, n: int) -> None:
    with store.begin() as conn:
        for i in range(n):
            r = Release(source="press", key=f"r{i}", title=f"Release number {i} (part {i})",
                        url=f"https://www.example.org/news/{i}", summary=f"Summary {i}.")
            queue_release(conn, config, releases.insert(conn, r), r, None)  # type: ignore[arg-type]


def _published(store: Store) -> int:
    with store.begin() as conn:
        return sum(p.status == "published" for p in posts.listing(conn))


@pytest.mark.slow
def test_run_killed_again_and_again_posts_each_release_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeLinkedIn, str]) -> None:
    state, url = fake
    n = 40
    state.slow_after_processing(mode="stall", seconds=0.3, times=10_000)
    ws = workspace(tmp_path, monkeypatch, url, approval="auto")
    ws.config.write_text(ws.config.read_text().replace(
        'publish_every = "0.2s"', 'publish_every = "0.05s"\nlease = "1s"'))
    config = load_config(ws.config)
    store = Store(config.bot.database_url)
    _queue_posts(store, config, n)
    rng = random.Random(2718)
    log = tmp_path / "run.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def start() -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen([sys.executable, "-m", "bot", "--config", str(ws.config),
                                     "run"], stdout=out, stderr=out, env=env)

    kills = 0
    deadline = time.monotonic() + 150
    while _published(store) < n - 5 and time.monotonic() < deadline and kills < 8:
        before = _published(store)
        proc = start()
        # Start-up takes seconds on a busy machine: kill once this run is publishing, at a
        # random moment of a post's 0.3 s in flight.
        while _published(store) == before and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += 1
    proc = start()
    while _published(store) < n and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=25) == 0, log.read_text()[-3000:]
    assert kills >= 3

    per_release: collections.Counter[int] = collections.Counter()
    for made in state.posts_of():
        source = (made.content or {}).get("article", {}).get("source", "")
        per_release[int(source.split("?")[0].rsplit("/", 1)[1])] += 1
    assert {i: c for i, c in per_release.items() if c > 1} == {}, "posted twice"
    assert [i for i in range(n) if not per_release[i]] == [], "never posted"
    with store.begin() as conn:
        states = collections.Counter(p.status for p in posts.listing(conn))
        actions = collections.Counter(e["action"] for e in posts.list_events(conn))
    store.dispose()
    assert states == {"published": n}, states
    print(f"kills={kills} reclaimed={actions['reclaim']} reconciled={actions['reconciled']}")
    assert actions["reclaim"] >= 1, "no kill landed while a post was in flight:\n" + \
        log.read_text()[-2000:]

