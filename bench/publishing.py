"""What publishing costs beyond the platforms' own latency.

    .venv/bin/python bench/publishing.py [--posts 300] [--latency 0.02]

Three channels — two Mastodon accounts on two fake instances and one Facebook Page on the
fake Graph API (`tests/fakes/`) — served on 127.0.0.1 by a process of their own
(`bench/_platforms.py`) that holds every answer `--latency` seconds and records each
request's arrival, completion and client port. `--posts` approved posts (a third per
channel, on SQLite) are published by `Publisher.run_once` with the channels
`bot.runtime.live_channels` builds. Printed per channel (lane):

- requests, the server's time for them, the lane's wall time, and the overhead per
  request = (lane wall − server time) / requests: claim, record, adapter, HTTP client,
  loopback (target ≤ 2 ms);
- whether lanes ran side by side: whole pass ≈ the longest lane, not their sum;
- TCP connections each fake saw (distinct client ports; expected 1 per channel);
- whether each account's timeline kept the queue's order.

Baseline, same run, fresh fakes and store: a naive loop that publishes the same posts one
after another, each with a new `httpx.AsyncClient` (so a new connection) and the same
adapter, and records each outcome with one store transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import sqlalchemy as sa

from bench._util import Child, get_json
from bot.config import Config, load_config
from bot.models import PostStatus, Release
from bot.publisher import Publisher
from bot.runtime import live_channels
from bot.store import Store
from bot.store import posts as post_store
from bot.store import releases as release_store
from bot.store.schema import events
from bot.workflow import queue_release
from channels import registry

CONFIG = """
[bot]
database_url = "sqlite:///{root}/pressbot.db"
timezone = "UTC"
outbox = "{root}/outbox"
log_level = "WARNING"

[channels.mastodon]
type = "mastodon"
base_url = "{mastodon1[url]}"
access_token = "{mastodon1[token]}"
approval = "auto"
hashtags = false

[channels.mastodon2]
type = "mastodon"
base_url = "{mastodon2[url]}"
access_token = "{mastodon2[token]}"
approval = "auto"
hashtags = false

[channels.facebook]
type = "facebook"
page_id = "{facebook[page_id]}"
page_access_token = "{facebook[token]}"
graph_url = "{facebook[url]}"
approval = "auto"
hashtags = false
"""
SERVERS = {"mastodon": "mastodon1", "mastodon2": "mastodon2", "facebook": "facebook"}
NUMBER = re.compile(r"Release number (\d+)\b")


@dataclass
class Lane:
    channel: str
    requests: int
    server_seconds: float
    wall: float
    connections: int
    in_order: bool
    posts: int

    @property
    def overhead_ms(self) -> float:
        return (self.wall - self.server_seconds) / self.requests * 1000

    def line(self) -> str:
        per_post = (self.wall - self.server_seconds) / self.posts * 1000
        return (f"  {self.channel:<10} posts {self.posts:4d}   requests {self.requests:4d}   "
                f"server {self.server_seconds:6.2f} s   lane wall {self.wall:6.2f} s   "
                f"overhead {self.overhead_ms:5.2f} ms/request ({per_post:5.2f} ms/post)   "
                f"connections {self.connections:3d}   order kept: "
                f"{'yes' if self.in_order else 'NO'}")


def setup(root: Path, platforms: dict[str, Any], n: int) -> tuple[Config, Store]:
    file = root / "pressbot.toml"
    file.write_text(CONFIG.format(root=root, **platforms), encoding="utf-8")
    config = load_config(file)
    store = Store(config.bot.database_url)
    with store.begin() as conn:
        for i in range(n // len(config.channels)):
            release = Release(source="press", key=f"r{i}", title=f"Release number {i}",
                              url=f"https://www.example.org/news/{i}",
                              summary=f"Release number {i}: the council agreed a budget.")
            queue_release(conn, config, release_store.insert(conn, release), release, None)
    return config, store


def lanes(platforms: dict[str, Any], started: float, ends: dict[str, float]) -> list[Lane]:
    found = []
    for channel, server in SERVERS.items():
        stats = get_json(f"{platforms[server]['url']}/_bench")
        records = [r for r in stats["requests"] if r[0] >= started]
        numbers = [int(m.group(1)) for text in stats["timeline"] if (m := NUMBER.search(text))]
        found.append(Lane(channel, len(records), sum(r[1] - r[0] for r in records),
                          ends[channel] - started, len({r[2] for r in records}),
                          numbers == sorted(numbers), len(numbers)))
    return found


def published_at(store: Store) -> dict[str, float]:
    """Per channel, when its last post was recorded as published (monotonic clock)."""
    offset = time.time() - time.monotonic()
    with store.begin() as conn:
        rows = conn.execute(
            sa.select(post_store.posts.c.channel, sa.func.max(events.c.at))
            .join(post_store.posts, post_store.posts.c.id == events.c.post_id)
            .where(events.c.action == "published").group_by(post_store.posts.c.channel))
        return {channel: at.timestamp() - offset for channel, at in rows}


async def pressbot(config: Config, store: Store) -> float:
    async with live_channels(config, store, dry_run=False) as channels:
        publisher = Publisher(config, store, channels)
        started = time.monotonic()
        report = await publisher.run_once()
    assert not report.failed, report.failed
    assert not report.held, report.held
    return started


async def naive(config: Config, store: Store) -> tuple[float, float]:
    """One post after another, a new client (and connection) for each, as a first script
    would do; the same adapters and one store transaction per outcome."""
    with store.begin() as conn:
        queue = post_store.listing(conn, status=[PostStatus.APPROVED])
    started = time.monotonic()
    for post in queue:
        async with httpx.AsyncClient() as client:
            channel = registry.build(post.channel, config.channels[post.channel], config,
                                     dry_run=False, client=client)
            receipt = await channel.publish(post)
        with store.begin() as conn:
            conn.execute(post_store.posts.update().where(post_store.posts.c.id == post.id)
                         .values(status=PostStatus.PUBLISHED.value,
                                 remote_id=receipt.remote_id))
            post_store.add_event(conn, actor="naive", action="published", post_id=post.id)
    return started, time.monotonic()


def report(title: str, found: list[Lane], total: float, server_cpu: float, cpu: float,
           lanes_apart: bool) -> None:
    print(f"\n{title}")
    requests = sum(lane.requests for lane in found)
    server = sum(lane.server_seconds for lane in found)
    if lanes_apart:
        for lane in found:
            print(lane.line())
        longest = max(lane.wall for lane in found)
        summed = sum(lane.wall for lane in found)
        print(f"  whole pass {total:.2f} s; longest lane {longest:.2f} s; lanes summed "
              f"{summed:.2f} s")
    else:
        print(f"  {requests} requests one at a time: server {server:.2f} s, wall {total:.2f} s,"
              f" overhead {(total - server) / requests * 1000:.2f} ms/request; connections "
              f"{[lane.connections for lane in found]}; order kept: "
              f"{all(lane.in_order for lane in found)}")
    posts = sum(lane.posts for lane in found)
    print(f"  pressbot process CPU {cpu:.2f} s ({cpu / posts * 1000:.1f} ms per post); fake "
          f"platforms' CPU {server_cpu:.2f} s ({server_cpu / total:.0%} of a core)")


def run(args: argparse.Namespace, which: str) -> tuple[list[Lane], float]:
    with Child("bench/_platforms.py", "--latency", str(args.latency)) as platforms, \
            tempfile.TemporaryDirectory() as folder:
        config, store = setup(Path(folder), platforms.info, args.posts)
        cpu = platforms.cpu()
        own = time.process_time()
        if which == "pressbot":
            started = asyncio.run(pressbot(config, store))
            ends = published_at(store)
            total = max(ends.values()) - started
        else:
            started, finished = asyncio.run(naive(config, store))
            ends = published_at(store)
            total = finished - started
        own = time.process_time() - own
        found = lanes(platforms.info, started, ends)
        server_cpu = platforms.cpu() - cpu
        with store.begin() as conn:
            done = sum(p.status == PostStatus.PUBLISHED for p in post_store.listing(conn))
        assert done == args.posts, done
        store.dispose()
        title = ("pressbot: Publisher.run_once, channels from live_channels" if which ==
                 "pressbot" else "baseline: naive sequential loop, a new client per post")
        report(title, found, total, server_cpu, own, which == "pressbot")
        return found, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args()
    print(f"{args.posts} posts on 3 channels, {args.latency * 1000:.0f} ms latency per request "
          "at the fake platforms; SQLite store")
    found, total = run(args, "pressbot")
    run(args, "naive")
    worst = max(lane.overhead_ms for lane in found)
    longest = max(lane.wall for lane in found)
    print("\ntargets:")
    print(f"  overhead ≤ 2 ms per request: worst lane {worst:.2f} ms "
          f"{'MET' if worst <= 2 else 'MISSED'}")
    print(f"  lanes side by side (pass ≈ longest lane): {total:.2f} s vs {longest:.2f} s "
          f"{'MET' if total <= longest * 1.05 + 0.1 else 'MISSED'}")
    ok = all(lane.connections == 1 for lane in found)
    print(f"  one connection per channel: {[lane.connections for lane in found]} "
          f"{'MET' if ok else 'MISSED'}")
    ok = all(lane.in_order and lane.posts == args.posts // 3 for lane in found)
    print(f"  timeline order kept in each account: {'MET' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
