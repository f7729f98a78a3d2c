"""How long one poll cycle over 1,000 feeds takes, and what it costs when nothing changed.

    .venv/bin/python bench/polling.py [--feeds 1000] [--hosts 500] [--changed 100]
    .venv/bin/python bench/polling.py --hosts 1 --per-host 32    # one site, one feed per section
    .venv/bin/python bench/polling.py --hosts 1 --per-host 32 --hostile 50 --slow 0   # issue 30

A feed website runs in its own process (`bench/_feedsite.py`: bare asyncio, ETag/304,
one port per "host", all on 127.0.0.1), so its CPU is not counted as pressbot's. pressbot
polls it through `bot.ingest.fetch_all` with a real config of feed sources and a real
SQLite store (default limits: 32 fetches at once, 4 per host). Cycles:

1. first sight: every feed is new (backlog "skip": stored, not queued) — set-up, shown;
2. 10 % changed: `--changed` feeds get one new item each, the rest answer 304 —
   target ≤ 5 s wall;
3. nothing changed: every feed answers 304 — target ≤ 1 CPU-second of this process
   (`time.process_time()`, all threads), median of three cycles;
4. one slow host: the same 1,000 feeds plus 20 on a host that answers after 2 s — the
   others finish as fast as in (3), the slow host takes ⌈20 / per-host limit⌉ × 2 s.

Baseline, in the same run: a naive sequential loop (`httpx.get` + `feedparser.parse`,
no validators, so every feed is downloaded and parsed) over the first 100 feeds,
extrapolated to all of them and labelled so.

With `--hostile N`, N of the `--feeds` are hostile (`bench/_feedsite.py`: trickling at a
byte a second, huge, malformed, reset, HTTP 500, in turn), spread evenly among the others
on the same host(s), in every cycle. Each cycle then also shows when the slowest healthy
feed was done (the target: ≤ 5 s), what became of the hostile ones, and the warning lines
logged (one per hostile feed a cycle, none for a healthy one).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import Child, get_json
from bot.config import Config, load_config
from bot.ingest import SourceReport, fetch_all
from bot.store import Store
from tests.helpers import CHANNELS

HEAD = """
[bot]
database_url = "sqlite:///{db}"
timezone = "UTC"
outbox = "{root}/outbox"
log_level = "WARNING"
poll_per_host = {per_host}
""" + CHANNELS


HOSTILE = ("trickle", "huge", "malformed", "reset", "500")   # as bench/_feedsite.py serves


def write_config(root: Path, name: str, fast: list[int], feeds: int,
                 slow: tuple[int, int] | None = None, per_host: int = 4,
                 hostile: int = 0) -> Config:
    """`feeds` sources f0… (the healthy ones), then `hostile` more, h0…, each put after
    every (feeds / hostile)-th healthy one."""
    parts = [HEAD.format(db=root / "pressbot.db", root=root, per_host=per_host)]
    if slow:  # first in line: the slow host gets its slots before anyone else
        port, count = slow
        for i in range(count):
            parts.append(f'[sources.slow{i}]\ntype = "feed"\n'
                         f'url = "http://127.0.0.1:{port}/slow/{i}"\nallow_private = true\n')
    every = feeds // hostile if hostile else 0
    for i in range(feeds):
        port = fast[i % len(fast)]
        parts.append(f'[sources.f{i}]\ntype = "feed"\n'
                     f'url = "http://127.0.0.1:{port}/feed/{i}"\nallow_private = true\n')
        if every and i % every == every - 1 and (h := i // every) < hostile:
            parts.append(f'[sources.h{h}]\ntype = "feed"\n'
                         f'url = "http://127.0.0.1:{port}/hostile/{h}"\nallow_private = true\n')
    path = root / name
    path.write_text("\n".join(parts), encoding="utf-8")
    return load_config(path)


class Warnings(logging.Handler):
    """pressbot's warning lines, counted by source (`source=NAME …`), not printed."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.by_source: Counter[str] = Counter()
        logger = logging.getLogger("pressbot")
        logger.addHandler(self)
        logger.propagate = False

    def emit(self, record: logging.LogRecord) -> None:
        name = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        self.by_source[str(name)] += 1


WARNINGS = Warnings()


class Cycle:
    """One `fetch_all`, with wall time, this process's CPU time and the server's."""

    def __init__(self, config: Config, store: Store, site: Child) -> None:
        self.done_at: dict[str, float] = {}
        WARNINGS.by_source.clear()
        server_cpu = site.cpu()
        cpu = time.process_time()
        started = time.perf_counter()

        def done(report: SourceReport) -> None:
            self.done_at[report.name] = time.perf_counter() - started

        self.reports = asyncio.run(fetch_all(config, store, on_done=done))
        self.wall = time.perf_counter() - started
        self.cpu = time.process_time() - cpu
        self.server_cpu = site.cpu() - server_cpu
        self.failed = [r for r in self.reports if r.errors]
        for report in [r for r in self.failed if not r.name.startswith("h")][:3]:
            print(f"   ! {report.name}: {report.errors[0]}")
        self.warnings = Counter(WARNINGS.by_source)
        healthy = [t for name, t in self.done_at.items() if name.startswith("f")]
        self.healthy_done = max(healthy, default=0.0)
        self.hostile = [r for r in self.reports if r.name.startswith("h")]
        self.not_modified = sum(r.not_modified for r in self.reports)
        self.new = sum(r.new for r in self.reports)
        self.queued = sum(r.queued for r in self.reports)

    def line(self, label: str) -> str:
        return (f"{label:<28} wall {self.wall:6.2f} s   pressbot CPU {self.cpu:5.2f} s   "
                f"server CPU {self.server_cpu:4.2f} s ({self.server_cpu / self.wall:4.0%} of a "
                f"core)   304s {self.not_modified:4d}   new {self.new:5d}   queued "
                f"{self.queued:4d}   failed {len(self.failed)}")

    def hostile_lines(self) -> list[str]:
        """When the healthy feeds were done, and each kind of hostile feed's outcome."""
        if not self.hostile:
            return []
        healthy_warned = sum(n for name, n in self.warnings.items() if name.startswith("f"))
        lines = [f"   healthy feeds all done after {self.healthy_done:.2f} s; warning lines: "
                 f"{sum(self.warnings.values())} ({healthy_warned} for healthy feeds)"]
        for n, kind in enumerate(HOSTILE):
            mine = [r for r in self.hostile if int(r.name[1:]) % len(HOSTILE) == n]
            if not mine:
                continue
            done = [self.done_at[r.name] for r in mine]
            failed = [r for r in mine if r.errors]
            logged = sorted({self.warnings[r.name] for r in mine})
            said = failed[0].errors[0].split(": ", 1)[-1][:90] if failed else "no error"
            lines.append(f"   {kind:>9}: {len(failed)}/{len(mine)} failed, ended "
                         f"{min(done):5.2f}–{max(done):5.2f} s, warnings each {logged}: {said}")
        return lines


def naive(ports: list[int], n: int) -> tuple[float, float]:
    """The loop a first script would be: fetch and parse every feed, one after another."""
    import feedparser
    import httpx

    cpu = time.process_time()
    started = time.perf_counter()
    entries = 0
    for i in range(n):
        response = httpx.get(f"http://127.0.0.1:{ports[i % len(ports)]}/feed/{i}")
        entries += len(feedparser.parse(response.content).entries)
    assert entries >= n, entries
    return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--changed", type=int, default=100)
    parser.add_argument("--slow", type=int, default=20)
    parser.add_argument("--slow-delay", type=float, default=2.0)
    parser.add_argument("--naive", type=int, default=100, help="feeds in the naive baseline")
    parser.add_argument("--per-host", type=int, default=4,
                        help="bot.poll_per_host (1,000 feeds on one host: --hosts 1 --per-host 32)")
    parser.add_argument("--hostile", type=int, default=0,
                        help="how many of --feeds are hostile (issue 30: 50, 5 %%)")
    args = parser.parse_args()
    healthy = args.feeds - args.hostile

    site = Child("bench/_feedsite.py", "--feeds", str(healthy), "--hosts", str(args.hosts),
                 "--slow", str(args.slow), "--slow-delay", str(args.slow_delay))
    fast, slow_port = site.info["fast"], site.info["slow"]
    control = f"http://127.0.0.1:{fast[0]}"
    with site, tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = write_config(root, "feeds.toml", fast, healthy, per_host=args.per_host,
                              hostile=args.hostile)
        store = Store(config.bot.database_url)
        per_host = config.bot.poll_per_host
        print(f"{args.feeds} feeds on {len(fast)} hosts (127.0.0.1 ports), "
              f"{site.info['feed_bytes'] / 1024:.1f} KiB and 10 items each; limits "
              f"{config.bot.poll_concurrency} at once, {per_host} per host; SQLite store")
        if args.hostile:
            print(f"{args.hostile} of them hostile ({', '.join(HOSTILE)}, in turn), one after "
                  f"every {healthy // args.hostile} healthy feeds")
        print()

        first = Cycle(config, store, site)
        print(first.line("1. first sight (set-up)"))
        print("\n".join(first.hostile_lines()))
        changed = get_json(f"{control}/_bump?n={args.changed}", "POST")["changed"]
        some = Cycle(config, store, site)
        print(some.line(f"2. {changed} changed ({changed / args.feeds:.0%})"))
        print("\n".join(some.hostile_lines()))
        if some.new != changed:   # feeds that failed on first sight (a loaded machine)
            print(f"   ! {some.new} new, not {changed}: first sight failed for some feeds")
        quiet = [Cycle(config, store, site) for _ in range(3)]
        for n, cycle in enumerate(quiet, 1):
            print(cycle.line(f"3. nothing changed (#{n})"))
            print("\n".join(cycle.hostile_lines()))
            if cycle.not_modified != healthy:   # late first sights (a loaded machine)
                print(f"   ! {healthy - cycle.not_modified} feeds were not 304")
        quiet_cpu = statistics.median(c.cpu for c in quiet)
        quiet_wall = statistics.median(c.wall for c in quiet)
        quiet_healthy = statistics.median(c.healthy_done for c in quiet)
        stats = get_json(f"{control}/_stats")
        requests = stats["200"] + stats["304"]
        print(f"   feed server: {requests} feed requests, {stats['connections']} connections, "
              f"{stats['cpu_seconds'] / max(1, requests) * 1000:.2f} ms CPU per request")
        if args.hostile:
            hostile_requests = ", ".join(f"{stats[f'hostile {k}']} {k}" for k in HOSTILE)
            limit = min(c.max_bytes for n, c in config.sources.items() if n.startswith("h"))
            print(f"   hostile requests: {hostile_requests}; the most one huge answer wrote "
                  f"before its client hung up: {stats['huge_sent'] / 1e6:.1f} MB (the limit "
                  f"{limit / 1e6:g} MB, the body 1,000 MB)")

        store.dispose()
        if args.slow:
            config_slow = write_config(root, "with-slow.toml", fast, healthy,
                                       (slow_port, args.slow), per_host=args.per_host)
            store = Store(config_slow.bot.database_url)
            mixed = Cycle(config_slow, store, site)
            fast_done = max(t for name, t in mixed.done_at.items() if name.startswith("f"))
            slow_done = max(t for name, t in mixed.done_at.items() if name.startswith("slow"))
            expected = math.ceil(args.slow / per_host) * args.slow_delay
            print(mixed.line(f"4. + {args.slow} on a slow host"))
            print(f"   the {args.feeds} others done after {fast_done:.2f} s (alone: "
                  f"{quiet_wall:.2f} s); the slow host's {args.slow} after {slow_done:.2f} s "
                  f"(⌈{args.slow}/{per_host}⌉ × {args.slow_delay:g} s = {expected:g} s)")
            store.dispose()

        wall, cpu = naive(fast, args.naive)
        scale = args.feeds / args.naive
        print(f"\nbaseline: naive sequential httpx.get + feedparser.parse, {args.naive} feeds: "
              f"wall {wall:.2f} s, CPU {cpu:.2f} s → extrapolated to {args.feeds}: "
              f"wall {wall * scale:.1f} s, CPU {cpu * scale:.1f} s (every cycle: it has no "
              f"validators)")

    print("\ntargets:")
    print(f"  10 % changed cycle ≤ 5 s wall: {some.wall:.2f} s "
          f"{'MET' if some.wall <= 5 else 'MISSED'}")
    print(f"  unchanged cycle ≤ 1 CPU-s: {quiet_cpu:.2f} s (median of 3) "
          f"{'MET' if quiet_cpu <= 1 else 'MISSED'}")
    if args.hostile:
        print(f"  unchanged cycle, {args.hostile} hostile: healthy feeds done ≤ 5 s: "
              f"{quiet_healthy:.2f} s (median of 3; every feed done: {quiet_wall:.2f} s) "
              f"{'MET' if quiet_healthy <= 5 else 'MISSED'}")
    if args.slow:
        ok = fast_done <= quiet_wall * 1.5 + 0.5 and slow_done <= expected + 1.5
        print(f"  slow host does not stall the rest: others {fast_done:.2f} s vs "
              f"{quiet_wall:.2f} s alone {'MET' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
