"""`pressbot run` as a real process: starts work at once, health and metrics, clean stop."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import SAFETY, Workspace, make_workspace, write_release

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3 * SAFETY)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(ws: Workspace, *, capture: bool = False) -> subprocess.Popen[str]:
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "bot", "--config", str(ws.config), "run"],
                            stdout=out, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def wait_for(url: str) -> httpx.Response:
    """The first answer of the service at `url`, once it listens."""
    deadline = time.monotonic() + SAFETY
    while True:
        try:
            return httpx.get(url, timeout=SAFETY)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def wait_until_queued(ws: Workspace, done: Callable[[list[dict[str, Any]]], bool]) -> None:
    """Until the queue (as `pressbot queue --json` shows it) satisfies `done`."""
    deadline = time.monotonic() + SAFETY
    while not done(queue := json.loads(ws.run("queue", "--json").stdout)):
        assert time.monotonic() < deadline, f"timed out; the queue: {queue}"
        time.sleep(0.1)


def titles(queue: list[dict[str, Any]]) -> set[str]:
    return {p["release"]["title"] for p in queue}


def test_run_polls_publishes_reports_health_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    channels = """
[channels.mastodon]
type = "outbox"
like = "mastodon"
approval = "auto"
"""
    ws = make_workspace(tmp_path, channels=channels,
                        extra=f'\n[web]\nlisten = "127.0.0.1:{port}"\n'
                              'health_token = "monitor-token-5f2c9a"\n')
    write_release(ws.content, "a.md", "Service release")
    proc = start(ws)
    try:
        health = wait_for(f"http://127.0.0.1:{port}/healthz")
        # polled and published right after start
        wait_until_queued(ws, lambda queue: bool(queue) and queue[0]["status"] == "published")
        queue = json.loads(ws.run("queue", "--json").stdout)
        assert (tmp_path / "outbox" / "mastodon" / f"post-{queue[0]['id']}.txt").exists()
        anonymous = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=SAFETY)
        assert anonymous.json() == {"ok": True, "status": "ok"}   # no sources, no errors
        # the server has no clock loop (bot.webserver): each answer's Date is stamped when
        # it is made, not left at the start-up's second
        stamped = parsedate_to_datetime(anonymous.headers["date"])
        assert abs((stamped - datetime.now(UTC)).total_seconds()) < SAFETY
        assert anonymous.headers["server"] == "uvicorn"
        deadline = time.monotonic() + SAFETY
        while parsedate_to_datetime(httpx.get(f"http://127.0.0.1:{port}/healthz",
                                              timeout=SAFETY).headers["date"]) <= stamped:
            assert time.monotonic() < deadline, "the Date header never moved on"
            time.sleep(0.2)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=SAFETY,
                           headers={"Authorization": "Bearer monitor-token-5f2c9a"})
        data = health.json()
        assert health.status_code == 200 and data["database"] == "ok"
        assert data["sources"]["press"]["last_ok_at"] is not None
        assert data["oldest_overdue_post_at"] is None
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=SAFETY).text
        assert 'pressbot_posts{channel="mastodon",status="published"} 1.0' in metrics
        assert "pressbot_publish_seconds_bucket" in metrics
        # read-only and workflow commands work while run holds the SQLite file
        assert ws.run("queue").exit_code == 0
        second = start(ws, capture=True)
        out, _ = second.communicate(timeout=SAFETY)
        assert second.returncode == 1 and "another `pressbot run` is already using" in out
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=SAFETY)
    assert code == 0


def test_folder_changes_are_picked_up_while_running(tmp_path: Path) -> None:
    port = free_port()
    ws = make_workspace(tmp_path, extra=f'\n[web]\nlisten = "127.0.0.1:{port}"\n')
    write_release(ws.content, "first.md", "There before the start")
    proc = start(ws)
    try:
        # the first poll is done (its release is queued): the next file comes while running
        wait_until_queued(ws, lambda queue: titles(queue) == {"There before the start"})
        write_release(ws.content, "new.md", "Dropped in while running")
        wait_until_queued(ws, lambda queue: "Dropped in while running" in titles(queue))
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=SAFETY) == 0


def test_a_busy_job_skipping_its_tick_is_not_logged_every_interval() -> None:
    import asyncio

    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    from bot.logs import setup_logging

    setup_logging("INFO", "kv")
    seen: list[logging.LogRecord] = []
    collector = logging.Handler()
    collector.emit = seen.append  # type: ignore[method-assign]
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    scheduler_log.addHandler(collector)

    async def long_pass() -> None:
        await asyncio.sleep(0.6)

    async def main() -> None:
        scheduler = AsyncIOScheduler()
        scheduler.add_job(long_pass, IntervalTrigger(seconds=0.1), max_instances=1)
        scheduler.start()
        await asyncio.sleep(0.5)
        scheduler.shutdown(wait=False)

    try:
        asyncio.run(main())
    finally:
        scheduler_log.removeHandler(collector)
    assert not [r for r in seen if "running instances" in r.getMessage()]
