"""Crash and outage tests: real `pressbot run` processes, killed, against a fake Mastodon
(and, in the crash loop, a fake Bluesky PDS beside it).

The fake Mastodon ignores Idempotency-Key (as some compatible servers do), so nothing but
pressbot's own durable state and reconcile stands between a crash and a duplicate. On
Bluesky the record key derived from the post is what does: a retry's write is refused.
"""

from __future__ import annotations

import asyncio
import collections
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config
from bot.models import Release
from bot.store import Store, posts, releases
from bot.workflow import queue_release
from tests.fakes import bluesky as fake_pds
from tests.fakes.mastodon import FakeMastodon, make_app, running
from tests.fakes.server import LiveServer
from tests.helpers import SAFETY, make_workspace, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(8 * SAFETY)]
TOKEN = "crash-test-token-0123456789"
BLUESKY_PASSWORD = "crsh-test-pass-word"


def mastodon_channel(url: str, timeout: str = "2s") -> str:
    return f"""
[web]
enabled = false

[channels.mastodon]
type = "mastodon"
base_url = "{url}"
access_token = "{TOKEN}"
approval = "auto"
timeout = "{timeout}"
"""


def bluesky_channel(url: str) -> str:
    return f"""
[channels.bluesky]
type = "bluesky"
pds_url = "{url}"
handle = "newsroom.example.org"
app_password = "{BLUESKY_PASSWORD}"
approval = "auto"
timeout = "2s"
"""


def slow_answers(app: Any, seconds: float, suffix: str = "/statuses") -> Any:
    """Hold each post-creating POST's answer after the server did the work: the window in
    which a crash leaves pressbot not knowing whether its post went out."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or \
                not scope["path"].endswith(suffix):
            await app(scope, receive, send)
            return

        async def late_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(seconds)
            await send(message)

        await app(scope, receive, late_send)

    return wrapped


@pytest.fixture
def fake() -> Iterator[tuple[FakeMastodon, str, object]]:
    state = FakeMastodon(ignore_idempotency=True, request_limit=1_000_000,
                         statuses_limit=1_000_000)
    account = state.add_account("newsroom")
    state.add_token(TOKEN, account, "read write")
    with running(state) as server:
        yield state, server.url, account


@pytest.fixture
def slow_fake() -> Iterator[tuple[FakeMastodon, str, object]]:
    state = FakeMastodon(ignore_idempotency=True, request_limit=1_000_000,
                         statuses_limit=1_000_000)
    account = state.add_account("newsroom")
    state.add_token(TOKEN, account, "read write")
    server = LiveServer(slow_answers(make_app(state), 0.08)).start()
    try:
        yield state, server.url, account
    finally:
        state.released.set()
        server.stop()


@pytest.fixture
def slow_pds() -> Iterator[tuple[fake_pds.FakePDS, str, object]]:
    state = fake_pds.FakePDS(write_points=10**9, session_limit=10**6)
    account = state.add_account("newsroom.example.org", BLUESKY_PASSWORD)
    server = LiveServer(slow_answers(fake_pds.make_app(state), 0.08,
                                     "/com.atproto.repo.putRecord")).start()
    try:
        yield state, server.url, account
    finally:
        server.stop()


def queue_posts(store: Store, config: object, n: int) -> None:
    with store.begin() as conn:
        for i in range(n):
            r = Release(source="press", key=f"r{i}", title=f"Release number {i}",
                        url=f"https://www.example.org/news/{i}", summary=f"Summary {i}.")
            queue_release(conn, config, releases.insert(conn, r), r, None)  # type: ignore[arg-type]


def start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"],
                                stdout=out, stderr=out, env=env)


def published(store: Store) -> int:
    with store.begin() as conn:
        return sum(p.status == "published" for p in posts.listing(conn))


def wait_publishing(store: Store, before: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Until `proc` has recorded a post of its own (more than `before` published): then it
    is up and in the middle of its work, however long starting took on a busy machine."""
    wait_until(lambda: published(store) > before or proc.poll() is not None, SAFETY, log)
    assert proc.poll() is None, f"pressbot run exited early:\n{log.read_text()[-3000:]}"


def check_exactly_once(store: Store, state: FakeMastodon, account: object, n: int,
                       pds: tuple[fake_pds.FakePDS, object] | None = None) -> None:
    links: collections.Counter[int] = collections.Counter()
    for status in state.statuses_of(account):  # type: ignore[arg-type]
        for i in range(n):
            if f"https://www.example.org/news/{i}\n" in status.text + "\n":
                links[i] += 1
    check_each_once(links, n, "Mastodon")
    if pds is not None:
        check_each_once(bluesky_links(*pds), n, "Bluesky")
    with store.begin() as conn:
        states = collections.Counter(p.status for p in posts.listing(conn))
    assert states == {"published": n * (2 if pds else 1)}, states


def bluesky_links(state: fake_pds.FakePDS, account: object) -> collections.Counter[int]:
    """Posts per release on the PDS, read from the records' link facets (the text shows the
    link in a short form)."""
    links: collections.Counter[int] = collections.Counter()
    for record in state.posts_of(account):  # type: ignore[arg-type]
        uris = {f["uri"] for facet in record.value.get("facets", []) for f in facet["features"]
                if "uri" in f}
        for uri in uris:
            if uri.startswith("https://www.example.org/news/"):
                links[int(uri.rsplit("/", 1)[1])] += 1
    return links


def check_each_once(links: collections.Counter[int], n: int, platform: str) -> None:
    doubled = {i: c for i, c in links.items() if c > 1}
    missing = [i for i in range(n) if links[i] == 0]
    assert not doubled, f"posted twice on {platform}: {doubled}"
    assert not missing, f"never posted on {platform}: {missing}"


def crash_loop(tmp_path: Path, database_url: str, fake: tuple[FakeMastodon, str, object],
               pds: tuple[fake_pds.FakePDS, str, object], n: int = 200) -> None:
    """Queue `n` releases for Mastodon and Bluesky each, then kill `pressbot run` again and
    again while it publishes them; each must end up posted exactly once on each platform."""
    state, url, account = fake
    pds_state, pds_url, pds_account = pds
    ws = make_workspace(tmp_path, database_url=database_url,
                        channels=mastodon_channel(url) + bluesky_channel(pds_url))
    text = ws.config.read_text().replace('publish_every = "0.2s"',
                                         'publish_every = "0.05s"\nlease = "1s"')
    ws.config.write_text(text)
    config = load_config(ws.config)
    store = Store(config.bot.database_url)
    queue_posts(store, config, n)
    rng = random.Random(1234)
    log = tmp_path / "run.log"
    kills = 0
    procs: list[subprocess.Popen[bytes]] = []
    try:
        while kills < 12 and published(store) < 2 * n:
            before = published(store)
            procs.append(proc := start(ws.config, log))
            # once it is up and publishing (a post of its own recorded: startup takes seconds
            # on a busy machine), die at a random point of a post's journey
            wait_publishing(store, before, proc, log)
            time.sleep(rng.uniform(0, 0.3))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
        # a last run to finish, then a graceful stop
        procs.append(proc := start(ws.config, log))
        wait_until(lambda: published(store) >= 2 * n, 2 * SAFETY, log)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=SAFETY)
        assert code == 0, log.read_text()[-3000:]
        assert kills >= 3, "the crash loop should have killed the service several times"
        check_exactly_once(store, state, account, n, (pds_state, pds_account))
        with store.begin() as conn:
            channel_of = {p.id: p.channel for p in posts.listing(conn)}
            actions = collections.Counter((channel_of.get(e["post_id"]), e["action"])
                                          for e in posts.list_events(conn))
    finally:   # also when an assertion failed: no process or connection left behind
        for proc in procs:
            proc.kill()
            proc.wait()
        store.dispose()
    print(f"kills={kills} " + " ".join(f"{c}: reclaimed={actions[(c, 'reclaim')]} "
                                       f"reconciled={actions[(c, 'reconciled')]}"
                                       for c in ("mastodon", "bluesky")))
    reclaimed = actions[("mastodon", "reclaim")] + actions[("bluesky", "reclaim")]
    assert reclaimed >= 1, "no kill landed while a post was in flight"


def test_sigkill_during_publishing_sqlite(
        tmp_path: Path, slow_fake: tuple[FakeMastodon, str, object],
        slow_pds: tuple[fake_pds.FakePDS, str, object]) -> None:
    crash_loop(tmp_path, f"sqlite:///{tmp_path}/pressbot.db", slow_fake, slow_pds)


def test_sigkill_during_publishing_postgresql(
        tmp_path: Path, pg_url: str, slow_fake: tuple[FakeMastodon, str, object],
        slow_pds: tuple[fake_pds.FakePDS, str, object]) -> None:
    crash_loop(tmp_path, pg_url, slow_fake, slow_pds)


def test_a_flaky_server_ends_with_every_post_published_once(
        tmp_path: Path, fake: tuple[FakeMastodon, str, object]) -> None:
    state, url, account = fake
    n = 60
    ws = make_workspace(tmp_path, channels=mastodon_channel(url, timeout="0.5s"))
    # 21 failures in a row land on the first post (one request in flight per account)
    ws.config.write_text(ws.config.read_text().replace("[bot]\n", "[bot]\nmax_attempts = 40\n"))
    config = load_config(ws.config)
    store = Store(config.bot.database_url)
    queue_posts(store, config, n)
    reset = "2026-01-01T00:00:00.000000Z"  # in the past: wait briefly, then go on
    state.fail("statuses", 500, times=6)
    state.fail("statuses", 502, times=3, kind="html")
    state.fail("statuses", 429, times=4, headers={"X-RateLimit-Remaining": "0",
                                                  "X-RateLimit-Reset": reset})
    state.slow_after_processing("statuses", mode="stall", seconds=1.5, times=4)
    state.slow_after_processing("statuses", mode="drop", times=4)
    log = tmp_path / "run.log"
    proc = start(ws.config, log)
    try:
        wait_until(lambda: published(store) >= n, 2 * SAFETY, log)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=SAFETY) == 0
        check_exactly_once(store, state, account, n)
    finally:
        proc.kill()
        proc.wait()
        store.dispose()


def test_two_replicas_on_postgresql_publish_each_post_once(
        tmp_path: Path, pg_url: str, slow_fake: tuple[FakeMastodon, str, object]) -> None:
    state, url, account = slow_fake
    other = state.add_account("newsroom-de")
    state.add_token(TOKEN + "-de", other, "read write")
    n = 200
    ws = make_workspace(tmp_path, database_url=pg_url, channels=mastodon_channel(url) + """
[channels.second]
type = "mastodon"
base_url = "{url}"
access_token = "{token}"
approval = "auto"
""".format(url=url, token=TOKEN + "-de"))
    ws.config.write_text(ws.config.read_text().replace('publish_every = "0.2s"',
                                                       'publish_every = "0.05s"\nlease = "2s"'))
    config = load_config(ws.config)
    store = Store(config.bot.database_url)
    queue_posts(store, config, n // 2)  # two channels: 200 posts, two lanes to share
    logs = [tmp_path / f"replica{i}.log" for i in range(2)]
    replicas = [start(ws.config, log) for log in logs]
    try:
        wait_until(lambda: published(store) >= n // 3, SAFETY, logs[0])
        # kill whichever replica is publishing, mid-stream: the other must take over its lanes
        with store.begin() as conn:
            active = {e["detail"].get("worker", "").rpartition(":")[2]
                      for e in posts.list_events(conn, limit=20) if e["action"] == "published"}
        killed = [p for p in replicas if str(p.pid) in active]
        assert killed, "no replica was publishing"
        for proc in killed:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        survivors = [p for p in replicas if p not in killed]
        if not survivors:  # both were active: start a fresh one to finish
            survivors = [start(ws.config, tmp_path / "replica-late.log")]
            replicas += survivors
        wait_until(lambda: published(store) >= n, 2 * SAFETY, logs[0])
        for proc in survivors:
            proc.send_signal(signal.SIGTERM)
        assert [proc.wait(timeout=SAFETY) for proc in survivors] == [0] * len(survivors)
        for who in (account, other):
            texts = collections.Counter(s.text for s in state.statuses_of(who))  # type: ignore[arg-type]
            assert len(texts) == n // 2, "a post never went out"
            assert set(texts.values()) == {1}, "a post went out twice"
        with store.begin() as conn:
            workers = collections.Counter(e["detail"].get("worker")
                                          for e in posts.list_events(conn)
                                          if e["action"] in ("published", "reconciled"))
    finally:
        for proc in replicas:
            proc.kill()
            proc.wait()
        store.dispose()
    assert len(workers) >= 2, f"the surviving replica should have taken over: {workers}"


def test_sigkill_between_two_parts_of_a_bluesky_thread_posts_each_part_once(
        tmp_path: Path) -> None:
    """`pressbot run` killed while part 3 of a thread is on the PDS but its answer is not
    back; the next run looks the post up (not all out), goes on from the ledger, and the
    thread ends up with every part once, in order."""
    from tests.channels.test_bluesky_threads import SENTENCES, thread_of

    state = fake_pds.FakePDS()
    state.add_account("newsroom.example.org", BLUESKY_PASSWORD)
    with fake_pds.running(state) as server:
        ws = make_workspace(tmp_path, channels="[web]\nenabled = false\n"
                            + bluesky_channel(server.url) + "thread = true\n")
        config = load_config(ws.config)
        store = Store(config.bot.database_url)
        summary = " ".join(SENTENCES + list(reversed(SENTENCES)))
        with store.begin() as conn:
            r = Release(source="press", key="long", title="Solar roofs for forty schools",
                        url="https://www.example.org/news/long", summary=summary)
            queue_release(conn, config, releases.insert(conn, r), r, None)
        put = "com.atproto.repo.putRecord"
        state.answer_late(put, 3600, after=2)   # part 3 is written; its answer never comes
        log = tmp_path / "run.log"
        procs = [start(ws.config, log)]
        try:
            wait_until(lambda: len(state.records) == 3 and len(state.requests_to(put)) == 3,
                       SAFETY, log)
            procs[0].send_signal(signal.SIGKILL)
            procs[0].wait()
            assert published(store) == 0
            procs.append(proc := start(ws.config, log))
            wait_until(lambda: published(store) == 1, 2 * SAFETY, log)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=SAFETY) == 0, log.read_text()[-3000:]
            chain = thread_of(state)   # one chain, every part once, refs as stored
            assert len(chain) >= 4
            texts = [p.value["text"] for p in chain]
            assert len(set(texts)) == len(texts)
            assert " ".join(" ".join(texts).split()).count(SENTENCES[0]) == 2
            with store.begin() as conn:
                [post] = posts.listing(conn)
                actions = [e["action"] for e in posts.list_events(conn)]
            assert post.remote_id == chain[0].uri
            assert "reclaim" in actions
        finally:
            for proc in procs:
                proc.kill()
                proc.wait()
            store.dispose()
