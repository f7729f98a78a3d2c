"""Publishing you can prove: receipts that are ours, outages that wait, restarts that don't.

Every check reads the fake Mastodon's own records (what the server created, which key and
which text each status carries) — the server keeps Idempotency-Keys for an hour per account,
as Mastodon does — and drives pressbot only through its CLI and `pressbot run`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.store import Store
from bot.store import channels as channel_store
from tests.channels.test_mastodon_e2e import (  # noqa: F401  (logs: the autouse secret check)
    TOKEN,
    cli,
    events,
    logs,
    queue,
    release,
    workspace,
)
from tests.fakes.mastodon import FakeMastodon, running
from tests.helpers import SAFETY


@pytest.fixture
def fake() -> Iterator[tuple[FakeMastodon, str]]:
    state = FakeMastodon()
    state.add_token(TOKEN, state.add_account("newsroom"), "read write")
    with running(state) as server:
        yield state, server.url


def approve_all(ws: object) -> list[int]:
    ids = [int(p["id"]) for p in queue(ws)]  # type: ignore[arg-type]
    cli(ws, "approve", *map(str, ids))  # type: ignore[arg-type]
    return ids


def test_a_new_database_publishing_to_a_busy_account_creates_every_status(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeMastodon, str]) -> None:
    """Row ids repeat across installations; the keys must not (Mastodon keeps them 1 h)."""
    state, url = fake
    first = workspace(tmp_path / "production", monkeypatch, url)
    for i in range(3):
        release(first, f"old-{i}", f"Earlier release {i}")
    cli(first, "fetch")
    approve_all(first)
    assert "3 published" in cli(first, "publish").stdout

    fresh = workspace(tmp_path / "reinstalled", monkeypatch, url)   # ids start at 1 again
    for i in range(3):
        release(fresh, f"new-{i}", f"New release {i}")
    cli(fresh, "fetch")
    assert approve_all(fresh) == [1, 2, 3]
    assert "3 published" in cli(fresh, "publish").stdout

    texts = sorted(s.text.splitlines()[0] for s in state.statuses.values())
    assert texts == sorted([f"Earlier release {i}" for i in range(3)]
                           + [f"New release {i}" for i in range(3)])
    keys = [s.idempotency_key for s in state.statuses.values()]
    assert len(set(keys)) == 6 and all(k and k.startswith("pressbot-") for k in keys)
    receipts = {p["remote_id"] for p in queue(fresh)}
    assert receipts.isdisjoint({p["remote_id"] for p in queue(first)})


def test_a_colleagues_status_with_the_link_is_never_taken_as_the_receipt(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeMastodon, str]) -> None:
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    link = release(ws, "shared", "A release a colleague shared first")
    cli(ws, "fetch")
    [post] = queue(ws)
    def post_by_hand(text: str) -> None:
        answer = httpx.post(f"{url}/api/v1/statuses", data={"status": text},
                            headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        assert answer.status_code == 200, answer.text

    state.advance(-3600)                 # an hour ago: the same text, posted by hand
    post_by_hand(post["text"])
    state.advance(3600)
    post_by_hand(f"Worth a read: {link}")   # a colleague, after the fetch, before the claim
    before = set(state.statuses)
    cli(ws, "approve", str(post["id"]))
    state.ignore_idempotency = True
    state.fail("statuses", 502, kind="html")          # a gateway error: outcome unknown
    assert "1 failed" in cli(ws, "publish", code=1).stdout
    time.sleep(0.1)
    assert "1 published" in cli(ws, "publish").stdout

    [done] = queue(ws)
    assert done["remote_id"] not in before            # a status of its own, made now
    created = state.statuses[done["remote_id"]]
    assert created.text == post["text"] and created.id not in before
    assert len(state.statuses) == 3
    actions = [e["action"] for e in events(ws, post["id"])]
    assert "published" in actions and "reconciled" not in actions


def test_a_reconciled_receipt_says_why_it_matched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeMastodon, str]) -> None:
    state, url = fake
    state.ignore_idempotency = True
    state.slow_after_processing("statuses", mode="drop")
    ws = workspace(tmp_path, monkeypatch, url, timeout="0.5s")
    release(ws, "lost", "A release whose answer gets lost")
    cli(ws, "fetch")
    [post] = queue(ws)
    cli(ws, "approve", str(post["id"]))
    cli(ws, "publish", code=1)
    time.sleep(0.1)
    assert "1 published" in cli(ws, "publish").stdout
    [status] = state.statuses.values()
    [reconciled] = [e for e in events(ws, post["id"]) if e["action"] == "reconciled"]
    assert reconciled["detail"]["remote_id"] == status.id
    assert "approved text" in reconciled["detail"]["matched"]


def test_a_two_hour_outage_holds_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeMastodon, str]) -> None:
    """Connection refused and 503s for two hours of (frozen, stepped) time: the channel
    waits, no post spends an attempt, and all go out once, in order, when it is back."""
    state, url = fake
    ws = workspace(tmp_path, monkeypatch, url)
    ws.config.write_text(ws.config.read_text().replace(
        'retry_max = "0.5s"', 'retry_max = "10m"\nmax_attempts = 3'))
    start = datetime.fromisoformat("2026-12-05T09:00:00+00:00")
    monkeypatch.setenv("PRESSBOT_CLOCK", start.isoformat())
    for i in range(3):
        release(ws, f"outage-{i}", f"Release {i} during an outage")
    cli(ws, "fetch")
    approve_all(ws)
    dead = "http://127.0.0.1:9"                       # nothing listens: connection refused
    config_text = ws.config.read_text()
    ws.config.write_text(config_text.replace(url, dead))
    now, tries = start, 0
    while now < start + timedelta(hours=2):
        if now > start + timedelta(hours=1):          # the second hour: up, but answering 503
            ws.config.write_text(config_text)
            if not state.pending_failures("statuses"):
                state.fail("statuses", 503, times=1)
        monkeypatch.setenv("PRESSBOT_CLOCK", now.isoformat())
        result = ws.run("publish")                   # exit 1 when it tried, 0 while waiting
        assert "held" not in result.stderr and " 0 held" in result.stdout
        tries += 1
        assert {(p["status"], p["attempts"]) for p in queue(ws)} <= {
            ("approved", 0), ("failed", 0)}
        now += timedelta(minutes=7)
    assert tries >= 17                                # many passes, far past max_attempts
    assert len(state.requests_to("statuses")) >= 3    # it kept trying in the second hour
    while state.pending_failures("statuses"):        # the last 503 answers one more try
        monkeypatch.setenv("PRESSBOT_CLOCK", now.isoformat())
        ws.run("publish")
        now += timedelta(minutes=15)
    monkeypatch.setenv("PRESSBOT_CLOCK", (now + timedelta(minutes=15)).isoformat())
    assert "3 published" in cli(ws, "publish").stdout
    sent = sorted(state.statuses.values(), key=lambda s: int(s.id))
    assert [s.text.splitlines()[0] for s in sent] == [
        f"Release {i} during an outage" for i in range(3)]
    store = Store(f"sqlite:///{tmp_path}/pressbot.db")   # the outage is over on record too
    with store.begin() as conn:
        mastodon = channel_store.states(conn)["mastodon"]
    store.dispose()
    assert (mastodon.outages, mastodon.outage_until) == (0, None)


def test_after_sigkill_a_restart_publishes_at_once_without_a_duplicate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeMastodon, str]) -> None:
    """The killed worker's lease (30 s) need not be waited out: its process is gone.

    The clock is frozen for every process (`PRESSBOT_CLOCK`), so the lease can never run
    out: the restart can only have published because it saw the worker gone."""
    state, url = fake
    monkeypatch.setenv("PRESSBOT_CLOCK", datetime.now(UTC).isoformat())
    state.ignore_idempotency = True                   # only the lookup prevents a double
    state.slow_after_processing("statuses", mode="stall", seconds=SAFETY)
    ws = workspace(tmp_path, monkeypatch, url, timeout=f"{2 * SAFETY}s")
    release(ws, "killed", "A release whose publisher is killed")
    cli(ws, "fetch")
    [post] = queue(ws)
    cli(ws, "approve", str(post["id"]))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    worker = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(ws.config),
                               "publish"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + SAFETY
        while not state.statuses:
            assert worker.poll() is None, "the worker ended before its status was created"
            assert time.monotonic() < deadline, "the status was never created"
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    assert queue(ws)[0]["status"] == "publishing"     # its claim and lease are still there

    assert "1 published" in cli(ws, "publish").stdout
    [status] = state.statuses.values()
    [done] = queue(ws)
    assert (done["status"], done["remote_id"]) == ("published", status.id)
    assert "reconciled" in [e["action"] for e in events(ws, post["id"])]
