"""`pressbot run` under stalls health must see, and credentials fixed while it runs.

Each test runs the service as a real process against real servers on 127.0.0.1 and steers
the fault from outside: the wall clock stepped back (libfaketime, read from a file the test
rewrites, monotonic time left alone), a feed that never answers, SQLite on a real file
system that the test fills up, a token fixed in `.env`. Waits are for outcomes (a post
out, a state in `/healthz`), never for a duration.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import need
from tests.fakes.feeds import rss
from tests.fakes.mastodon import FakeMastodon, running
from tests.fakes.server import LiveServer
from tests.helpers import Workspace, wait_until, write_release
from tests.test_service import free_port

pytestmark = pytest.mark.slow

FAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
HEALTH_TOKEN = "health-test-token-3c9e71"


def workspace(root: Path, *, channels: str, sources: str = "", database: Path | None = None,
              port: int, database_url: str | None = None) -> Workspace:
    """A config of our own: the folder source polls every second and watches nothing, so
    only the service's own loop can find a new file."""
    (root / "content").mkdir(parents=True, exist_ok=True)
    database = database or root / "pressbot.db"
    config = root / "pressbot.toml"
    config.write_text(f"""
[bot]
database_url = "{database_url or f'sqlite:///{database}'}"
timezone = "Europe/Brussels"
outbox = "{root}/outbox"
retry_base = "0.05s"
retry_max = "0.5s"
publish_every = "0.5s"

[web]
listen = "127.0.0.1:{port}"
health_token = "{HEALTH_TOKEN}"

[sources.press]
type = "folder"
path = "{root}/content"
poll_every = "1s"
watch = false
backlog = "all"
base_url = "https://www.example.org/news/"
{sources}
{channels}
""", encoding="utf-8")
    return Workspace(root, config)


OUTBOX = """
[channels.mastodon]
type = "outbox"
like = "mastodon"
approval = "auto"
"""


class Service:
    """`pressbot run` as a child process whose output goes to a log file."""

    def __init__(self, ws: Workspace, port: int, env: dict[str, str] | None = None) -> None:
        self.ws, self.port = ws, port
        self.log = ws.root / "service.log"
        self._out = self.log.open("w")
        base = {k: v for k, v in os.environ.items()
                if not k.startswith("PRESSBOT_") or k == "PRESSBOT_TEST_DATABASE_URL"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--config", str(ws.config), "run"],
            stdout=self._out, stderr=subprocess.STDOUT, text=True,
            env={**base, "PYTHONUNBUFFERED": "1", **(env or {})})

    def health(self) -> dict[str, Any]:
        try:
            answer = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=5,
                               headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})
        except httpx.TransportError:
            return {}
        data: dict[str, Any] = answer.json()
        return data

    def answered(self) -> dict[str, Any]:
        """/healthz's answer, waiting out a moment when it could not answer in time (a busy
        machine is not the service's verdict; a service that never answers still fails)."""
        answers: list[dict[str, Any]] = []
        self.wait(lambda: bool(answers.append(self.health()) or answers[-1]), 60)
        return answers[-1]

    def channel_state(self, channel: str) -> str | None:
        return self.health().get("channels", {}).get(channel, {}).get("state")

    def wait(self, what: Any, seconds: float = 60) -> None:
        assert self.proc.poll() is None, self.log.read_text()[-3000:]
        wait_until(what, seconds, self.log)

    def lines(self, text: str) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if text in line]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=25)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


@contextlib.contextmanager
def service(ws: Workspace, port: int, env: dict[str, str] | None = None) -> Iterator[Service]:
    running_service = Service(ws, port, env)
    try:
        running_service.wait(lambda: running_service.health().get("status") is not None)
        yield running_service
    finally:
        running_service.stop()


def published_titles(ws: Workspace) -> set[str]:
    return {p["release"]["title"] for p in json.loads(ws.run("queue", "--json").stdout)
            if p["status"] == "published"}


# ── 6: the wall clock stepped back ────────────────────────────────────────────────────────

def test_a_wall_clock_stepped_back_an_hour_stops_nothing(tmp_path: Path) -> None:
    need(FAKETIME.exists(), "libfaketime is not installed (apt-get install libfaketime)")
    port = free_port()
    ws = workspace(tmp_path, channels=OUTBOX, port=port)
    offset = tmp_path / "faketime"
    offset.write_text("+0\n")
    env = {"LD_PRELOAD": str(FAKETIME), "FAKETIME_TIMESTAMP_FILE": str(offset),
           "FAKETIME_NO_CACHE": "1", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    with service(ws, port, env) as svc:
        write_release(ws.content, "before.md", "Before the clock moved")
        svc.wait(lambda: "Before the clock moved" in published_titles(ws))
        offset.write_text("-1h\n")   # NTP, a restored VM snapshot, `date -s`: an hour back

        def passed_since_the_step() -> bool:   # a publish pass stamped an hour before start
            report = svc.health()
            return bool(report.get("last_publish_pass_at")) and \
                report["last_publish_pass_at"] < report["started_at"]

        svc.wait(passed_since_the_step, 30)
        write_release(ws.content, "after.md", "After the clock moved")
        svc.wait(lambda: "After the clock moved" in published_titles(ws), 60)
        assert svc.answered()["status"] == "ok"


# ── 6: liveness — a pass that never completes ────────────────────────────────────────────

def test_a_poll_that_never_completes_makes_health_degraded(tmp_path: Path) -> None:
    gate = threading.Event()

    async def hang(request: Request) -> Response:
        while not gate.is_set():   # an answer that never comes (until the test ends)
            await asyncio_sleep(0.05)
        return Response(rss([]), media_type="application/rss+xml")

    with LiveServer(Starlette(routes=[Route("/feed", hang)])) as feed:
        port = free_port()
        ws = workspace(tmp_path, channels=OUTBOX, port=port, sources=f"""
[sources.slow]
type = "feed"
url = "{feed.url}/feed"
poll_every = "1s"
timeout = "10m"
allow_private = true
""")
        try:
            with service(ws, port) as svc:
                svc.wait(lambda: svc.health().get("status") == "degraded", 60)
                report = svc.health()
                assert any("poll of source slow stalled" in p for p in report["problems"])
                assert not any("press" in p or "publish" in p for p in report["problems"])
                assert report["scheduler"] == "stalled"
        finally:
            gate.set()


async def asyncio_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


# ── 7: SQLite on a full file system ──────────────────────────────────────────────────────

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs: a real file system that really fills up (root only)."""
    need(os.geteuid() == 0, "mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    need(mounted.returncode == 0, f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def fill(disk: Path) -> Path:
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 4096)
    return filler


def test_a_full_disk_is_reported_once_and_recovered_from(tmp_path: Path,
                                                          small_disk: Path) -> None:
    port = free_port()
    ws = workspace(tmp_path, channels=OUTBOX, port=port, database=small_disk / "pressbot.db")
    with service(ws, port) as svc:
        write_release(ws.content, "first.md", "Before the disk filled")
        svc.wait(lambda: "Before the disk filled" in published_titles(ws))
        filler = fill(small_disk)
        # a release with a long body: storing it needs pages the disk no longer has
        write_release(ws.content, "second.md", "While the disk is full",
                      body="A paragraph of the release that goes on. " * 8000)
        svc.wait(lambda: svc.health().get("status") == "unhealthy", 60)
        report = svc.health()
        assert report["database"] == "cannot write (disk full)"
        assert report["problems"][0] == "database cannot write (disk full)"
        assert len(svc.lines("unhealthy: database cannot write (disk full)")) == 1
        filler.unlink()   # space returns
        svc.wait(lambda: svc.health().get("status") == "ok", 60)
        svc.wait(lambda: "While the disk is full" in published_titles(ws), 60)
        assert len(svc.lines("unhealthy: database cannot write (disk full)")) == 1
        assert len(svc.lines("database writes again")) == 1
        assert not svc.lines("Traceback"), svc.log.read_text()[-3000:]
    integrity = subprocess.run(["sqlite3", str(small_disk / "pressbot.db"),
                                "PRAGMA integrity_check"], capture_output=True, text=True)
    assert integrity.stdout.strip() in ("ok", ""), integrity.stdout


# ── 10: a token fixed while the service runs ─────────────────────────────────────────────

OLD, NEW, NEWER = ("revoked-token-0a1b2c3d", "fixed-token-4e5f6a7b", "rotated-token-8c9d0e1f")


def mastodon(url: str) -> str:
    return f"""
[channels.mastodon]
type = "mastodon"
base_url = "{url}"
access_token = "${{MASTODON_TOKEN}}"
approval = "auto"
timeout = "2s"
"""


def test_a_token_fixed_in_env_reaches_the_running_service(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeMastodon()
    account = fake.add_account("newsroom")
    fake.add_token(NEW, account, "read write")
    with running(fake) as server:
        port = free_port()
        ws = workspace(tmp_path, channels=mastodon(server.url), port=port)
        env_file = tmp_path / ".env"
        env_file.write_text(f"MASTODON_TOKEN={OLD}\n")
        monkeypatch.delenv("MASTODON_TOKEN", raising=False)
        with service(ws, port) as svc:
            write_release(ws.content, "one.md", "Out once the token is fixed")
            svc.wait(lambda: svc.channel_state("mastodon") == "paused")
            assert svc.answered()["channels"]["mastodon"]["paused_by"].startswith("pressbot")
            env_file.write_text(f"MASTODON_TOKEN={NEW}\n")
            assert "is resumed" in ws.run("check").stdout
            svc.wait(lambda: len(fake.statuses) == 1)
            # logfmt: the message and the channel's field on one line
            assert [line for line in svc.lines("credentials re-read (resumed): access_token "
                                               "changed") if "channel=mastodon" in line]
            svc.wait(lambda: svc.channel_state("mastodon") == "ok")

            # SIGHUP (systemctl reload) re-reads them too: rotate the token, revoke the old
            fake.add_token(NEWER, account, "read write")
            env_file.write_text(f"MASTODON_TOKEN={NEWER}\n")
            svc.proc.send_signal(signal.SIGHUP)
            svc.wait(lambda: bool(svc.lines("credentials re-read (SIGHUP): access_token")))
            del fake.tokens[NEW]
            write_release(ws.content, "two.md", "Out with the rotated token")
            svc.wait(lambda: len(fake.statuses) == 2)
            assert svc.answered()["channels"]["mastodon"]["state"] == "ok"
        for secret in (OLD, NEW, NEWER):
            assert secret not in svc.log.read_text()
