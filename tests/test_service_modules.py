"""An idle `pressbot run` holds only what idling needs: each module it imports stays resident.

The service runs as a real process (under a few lines that write its `sys.modules` to a
file on SIGUSR1) against a real feed site: one feed, read by a `pressbot fetch` before, so
the service is a restarted one whose every poll is answered 304; publish passes with
nothing due; the web port bound and asked only what a container's HEALTHCHECK and a
Prometheus server ask. Whatever of the feed reader, the review page, the newsletter, the
renderer or the migrations shows up in its modules then was imported eagerly by someone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.fakes.feeds import FeedSite, Page, make_app, rss
from tests.fakes.server import LiveServer
from tests.helpers import CHANNELS, NEWSLETTER_OUTBOX, wait_until
from tests.test_service import free_port

pytestmark = pytest.mark.slow

WRAPPER = """
import os, signal, sys
folder, dumps = sys.argv.pop(1), []
def dump(_s, _f):
    dumps.append(1)
    path = os.path.join(folder, f"modules-{len(dumps)}.txt")
    with open(path + ".part", "w") as out:
        out.write("\\n".join(sorted(sys.modules)))
    os.replace(path + ".part", path)
signal.signal(signal.SIGUSR1, dump)
from bot.cli import main
sys.argv[0] = "pressbot"
main()
"""

IDLE_WITHOUT = {
    # reading a feed's entries: only for an answer with a body (bot.sources.feed)
    "feedparser", "nh3", "bot.htmltext", "bot.sources.extract", "bot.sources.notes",
    # the review page: built on the first request that needs it (bot.webfront)
    "bot.web.app", "bot.web.views", "starlette.applications", "starlette.routing",
    "jinja2", "python_multipart", "itsdangerous",
    # rendering posts, email and the newsletter: only for a release that gets posts
    "bot.render", "bot.template_env", "bot.workflow", "markdown_it", "css_inline",
    "channels.email.message", "aiosmtplib", "babel", "PIL",
    # the newsletter's subscribers and the bounce mailbox: only when there is one
    "bot.subscribers", "authres", "channels.email.reports",
    # rendering /metrics: only when something scrapes it (bot.metrics counts without it)
    "prometheus_client",
    # schema migrations: only while the schema is behind
    "alembic", "mako",
    # digests' cron schedules: only when a channel has one
    "apscheduler",
    # the loops a configuration may ask for (bot.features says whether it does): WebSub,
    # the newsletter's confirmations and ledger, bounces, engagement counts
    "bot.websub", "bot.confirmations", "bot.i18n", "bot.bounces", "bot.engagement",
    "bot.store.deliveries", "bot.store.subscribers", "bot.store.engagement",
    # the other commands of the command line (bot.cli.HOMES): only `run` is running
    "bot.cli.workflow", "bot.cli.channels", "bot.cli.content", "bot.cli.operate",
    "bot.cli.subscribers", "bot.cli.users",
}
"""Modules (and packages) an idle service must not have imported."""

REVIEW_PAGE = {"bot.web.app", "starlette.applications", "jinja2"}


class Running:
    def __init__(self, proc: subprocess.Popen[str], log: Path, folder: Path) -> None:
        self.proc, self.log, self.folder = proc, log, folder
        self.dumps = 0

    def modules(self) -> set[str]:
        """The service's `sys.modules` now."""
        self.dumps += 1
        out = self.folder / f"modules-{self.dumps}.txt"
        self.proc.send_signal(signal.SIGUSR1)
        wait_until(out.exists, 30, self.log)
        return set(out.read_text().split())


@contextmanager
def running(root: Path, feed_url: str, port: int, *, source_extra: str = "",
            channels_extra: str = "") -> Iterator[Running]:
    config = root / "pressbot.toml"
    config.write_text(f"""
[bot]
database_url = "sqlite:///{root}/pressbot.db"
timezone = "UTC"
outbox = "{root}/outbox"
publish_every = "0.5s"

[web]
listen = "127.0.0.1:{port}"

[sources.news]
type = "feed"
url = "{feed_url}"
poll_every = "1s"
allow_private = true
backlog = "skip"
{source_extra}
{CHANNELS}{channels_extra}""", encoding="utf-8")
    log = root / "service.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRESSBOT_")}
    # the feed read once, its ETag stored: the service's polls are all answered 304
    fetched = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "fetch"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    with log.open("w") as out:
        # each SIGUSR1 writes the next modules-N.txt in `root`
        proc = subprocess.Popen([sys.executable, "-c", WRAPPER, str(root), "--config",
                                 str(config), "run"], stdout=out, stderr=subprocess.STDOUT,
                                text=True, env={**env, "PYTHONUNBUFFERED": "1"})
    try:
        yield Running(proc, log, root)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=25) == 0, log.read_text()[-3000:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_an_idle_service_has_not_imported_the_review_page_renderer_or_newsletter(
        tmp_path: Path) -> None:
    items = [{"title": "Budget agreed", "link": "https://www.example.org/news/budget",
              "guid": "budget-1", "pubDate": "Tue, 10 Mar 2026 08:00:00 GMT",
              "description": "The council agreed the budget."}]
    site = FeedSite(pages={"/feed": Page(rss(items))})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with LiveServer(make_app(site)) as server, \
            running(tmp_path, f"{server.url}/feed", port) as svc:
        # `fetch` read the feed (backlog skipped: nothing to post); the service's polls: 304
        wait_until(lambda: sum("if-none-match" in h for h in site.hits("/feed")) >= 2, 60,
                   svc.log)
        assert site.hits("/feed")[0].get("if-none-match") is None  # the test's own premise
        probe = httpx.get(f"{base}/healthz", timeout=30)  # a container's HEALTHCHECK
        assert probe.json() == {"ok": True, "status": "ok"}, probe.text
        idle = svc.modules()
        assert "bot.webfront" in idle and "bot.sources.feed" in idle  # the dump is whole
        eager = {m for m in idle if m in IDLE_WITHOUT or m.split(".", 1)[0] in IDLE_WITHOUT}
        assert not eager, f"imported by an idle service: {sorted(eager)}"
        scrape = httpx.get(f"{base}/metrics", timeout=30)  # a Prometheus server
        assert 'pressbot_polls_total{source="news"}' in scrape.text

        # a person opens the review page: it is built then, and answers as it always did
        signin = httpx.get(f"{base}/", timeout=30)
        assert signin.status_code == 303 and signin.headers["location"].startswith("/signin")
        assert svc.modules() >= REVIEW_PAGE | {"prometheus_client"}
        # the app's own /healthz and /metrics say what the stand-in said, with its headers
        again = httpx.get(f"{base}/healthz", timeout=30)
        assert (again.status_code, again.content) == (probe.status_code, probe.content)
        assert _headers(again) == _headers(probe)
        rescrape = httpx.get(f"{base}/metrics", timeout=30)
        assert _headers(rescrape) == _headers(scrape)


def test_a_service_whose_configuration_asks_for_websub_and_a_newsletter_loads_them(
        tmp_path: Path) -> None:
    """The loops `bot.features` turns on bring their code with them: a source that takes
    WebSub pushes and a newsletter channel, and the service has imported WebSub (on its
    first poll) and the confirmations with their gettext (on the loop's first pass, 5 s
    after the start)."""
    site = FeedSite(pages={"/feed": Page(rss([]))})
    port = free_port()
    with LiveServer(make_app(site)) as server, \
            running(tmp_path, f"{server.url}/feed", port, source_extra="websub = true",
                    channels_extra=NEWSLETTER_OUTBOX) as svc:
        wait_until(lambda: len(site.hits("/feed")) >= 2, 60, svc.log)
        probe = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
        assert probe.status_code == 200, probe.text
        wait_until(lambda: "bot.confirmations" in svc.modules(), 30, svc.log)
        loaded = svc.modules()
        assert {"bot.websub", "bot.confirmations", "bot.i18n"} <= loaded
        assert "bot.cli.workflow" not in loaded


def _headers(answer: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k not in ("date", "content-length")}
