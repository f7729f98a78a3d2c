"""What a day of `pressbot run` costs when nothing is new: CPU per poll, memory, log lines.

    .venv/bin/python bench/service_day.py [--feeds 1] [--interval 1] [--polls 20]
    .venv/bin/python bench/service_day.py --feeds 50 --interval 5 --minutes 30   # the soak

`pressbot run` (a child process, as operators start it) polls `--feeds` feeds on a local
feed site (`bench/_feedsite.py`, its own process, ETag/304) every `--interval` seconds;
after the first poll of every feed (which stores the backlog, "skip") every poll is a
conditional GET answered 304 (with `--restarted`, a `pressbot fetch` reads the feeds first,
so the service never gets a 200: a restarted service). The window lasts `--polls` rounds (or
`--minutes`); the service's CPU (`/proc/PID/stat`) over the window is divided by the feed
requests the site counted, its VmRSS is read at the start, every `--rss-every` seconds and
at the end, and its log lines in the window are scaled to an hour. With `--tracemalloc` the
service runs under `bench/_traced_run.py`, which prints the allocations that grew between
the start of the window and the end (the soak's "what grows"); with `--profile FILE`,
cProfile covers the window only (CPU figures then include the profiler's overhead).

Beside it, when `../shared/peers` has been set up (`feed2toot` installed in
`$VENVS/feed2toot`, as `bench/peers.sh` does), feed2toot is started by a timer at the same
rate on the same kind of feed, with the harness's fake Mastodon, and its CPU per run and
peak RSS are printed; otherwise pressbot is printed alone, and the script says so.

`--python PATH` runs pressbot with another interpreter, such as a production install's
venv (`python3 -m venv /tmp/prod && /tmp/prod/bin/pip install --constraint constraints.txt
.`): the development venv holds test tools that pressbot's libraries import when they are
there, about 1 MB of the service's memory.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import PYTHON, ROOT, Child, clean_env, cpu_seconds, get_json, rss_mb, wait_until
from tests.helpers import CHANNELS

CONFIG = """
[bot]
database_url = "sqlite:///{root}/pressbot.db"
timezone = "UTC"
outbox = "{root}/outbox"
log_level = "INFO"

[web]
listen = "127.0.0.1:{web_port}"
""" + CHANNELS
PEERS = Path(os.environ.get("PEERS_HARNESS", ROOT.parent.parent / "shared" / "peers"))
VENVS = Path(os.environ.get("VENVS", Path(os.environ.get("TMPDIR", "/tmp"))
                            / "pressbot-peer-venvs"))


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(root: Path, feeds: list[str], interval: float) -> Path:
    parts = [CONFIG.format(root=root, web_port=free_port())]
    for i, url in enumerate(feeds):
        parts.append(f'[sources.feed{i}]\ntype = "feed"\nurl = "{url}"\n'
                     f'poll_every = "{interval:g}s"\nallow_private = true\nbacklog = "skip"\n')
    path = root / "pressbot.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def requests_seen(control: str) -> int:
    stats = get_json(control)
    return int(stats["200"] + stats["304"])


def run_pressbot(args: argparse.Namespace) -> dict[str, float]:
    with Child("bench/_feedsite.py", "--feeds", str(args.feeds), "--hosts", "1") as site, \
            tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        port = site.info["fast"][0]
        control = f"http://127.0.0.1:{port}/_stats"
        config = write_config(root, [f"http://127.0.0.1:{port}/feed/{i}"
                                     for i in range(args.feeds)], args.interval)
        python = args.python or PYTHON
        runner = [python, "-m", "bot"]
        if args.tracemalloc or args.profile or args.modules or args.memory:
            mode = ("tracemalloc" if args.tracemalloc else
                    f"profile:{Path(args.profile).resolve()}" if args.profile else
                    f"modules:{Path(args.modules).resolve()}" if args.modules else
                    f"memory:{Path(args.memory).resolve()}")
            for written in (args.modules, args.memory):
                if written:
                    Path(written).unlink(missing_ok=True)
            runner = [python, "bench/_traced_run.py", mode]
        if args.restarted:  # the feeds read once before: every poll of the service is a 304
            subprocess.run([python, "-m", "bot", "--config", str(config), "fetch"], cwd=ROOT,
                           env=clean_env(), check=True, capture_output=True)
        log_path = root / "run.log"
        log = log_path.open("wb")
        bot = subprocess.Popen([*runner, "--config", str(config), "run"], cwd=ROOT,
                               env=clean_env(), stdout=log, stderr=log)
        try:
            # the first round (200s, the backlog stored) and one round of 304s: warm-up
            ready = wait_until(lambda: requests_seen(control) >= 2 * args.feeds, 300)
            assert ready, f"pressbot run did not poll every feed twice: {log_path.read_text()}"
            if args.tracemalloc or args.profile:
                bot.send_signal(signal.SIGUSR1)  # the window starts: snapshot, or profile
            lines0 = len(log_path.read_bytes().splitlines())
            cpu0, rss0, requests0 = cpu_seconds(bot.pid), rss_mb(bot.pid), requests_seen(control)
            began = time.monotonic()
            length = args.minutes * 60 if args.minutes else args.polls * args.interval
            next_rss = began + args.rss_every
            while (now := time.monotonic()) - began < length:
                assert bot.poll() is None, f"pressbot run exited: {log_path.read_text()}"
                if args.minutes and now >= next_rss:
                    print(f"  t={now - began:6.0f} s  RSS {rss_mb(bot.pid):6.1f} MB  CPU "
                          f"{cpu_seconds(bot.pid) - cpu0:6.2f} s", flush=True)
                    next_rss += args.rss_every
                time.sleep(min(1.0, max(0.05, began + length - now)))
            window = time.monotonic() - began
            cpu = cpu_seconds(bot.pid) - cpu0
            rss1 = rss_mb(bot.pid)
            polls = requests_seen(control) - requests0
            lines = len(log_path.read_bytes().splitlines()) - lines0
            written = args.modules or args.memory
            if written:  # what the steady state holds, written at the window's end
                bot.send_signal(signal.SIGUSR1)
                assert wait_until(lambda: Path(written).exists(), 20)
        finally:
            bot.send_signal(signal.SIGTERM)
            try:
                code = bot.wait(timeout=60)
            except subprocess.TimeoutExpired:
                bot.kill()
                code = bot.wait()
            log.close()
        text = log_path.read_text(errors="replace")
        tail = text.splitlines()[lines0 + lines:]
        bad = [line for line in tail if "Traceback" in line or "CancelledError" in line
               or "level=ERROR" in line]
        if args.tracemalloc:
            print(text[text.find("tracemalloc"):] if "tracemalloc" in text else
                  "  (no tracemalloc report)")
        return {"window": window, "cpu": cpu, "polls": polls, "rss0": rss0, "rss1": rss1,
                "lines": lines, "code": code, "bad_shutdown_lines": len(bad)}


def run_feed2toot(args: argparse.Namespace, runs: int) -> dict[str, float] | None:
    """feed2toot as its users run it: started by a timer, the same feed, nothing new."""
    binary = VENVS / "feed2toot" / "bin" / "feed2toot"
    if not (binary.exists() and (PEERS / "fake_mastodon.py").exists()):
        return None
    with Child("bench/_feedsite.py", "--feeds", "1", "--hosts", "1") as site, \
            tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        mport = free_port()
        mastodon = f"http://127.0.0.1:{mport}"
        fake = subprocess.Popen([PYTHON, str(PEERS / "fake_mastodon.py"), "--port", str(mport),
                                 "--latency-ms", "0", "--token", "bench-token", "--record",
                                 str(root / "statuses.jsonl")], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            assert wait_until(lambda: _answers(f"{mastodon}/api/v1/instance"), 20)
            (root / "client.secret").write_text(f"bench-client\nbench-secret\n{mastodon}\n")
            (root / "user.secret").write_text(f"bench-token\n{mastodon}\n")
            (root / "feed2toot.ini").write_text(
                f"[mastodon]\ninstance_url={mastodon}\nuser_credentials={root}/user.secret\n"
                f"client_credentials={root}/client.secret\ntoot_visibility=public\n\n"
                f"[cache]\ncachefile={root}/feed2toot.cache\ncache_limit=1000\n\n"
                f"[lock]\nlock_file={root}/feed2toot.lock\nlock_timeout=3600\n\n"
                f"[rss]\nuri=http://127.0.0.1:{site.info['fast'][0]}/feed/0\n"
                "toot={title}\\n\\n{summary}\\n\\n{link}\n\n"
                "[feedparser]\naccept_bozo_exceptions=true\n")
            command = [str(binary), "-c", str(root / "feed2toot.ini"), "-l", "100"]
            subprocess.run([*command, "--populate-cache"], check=True, capture_output=True)
            cpu, peak, lines = 0.0, 0.0, 0
            began = time.monotonic()
            for n in range(runs):
                time.sleep(max(0.0, began + n * args.interval - time.monotonic()))
                with tempfile.TemporaryFile() as out:
                    child = subprocess.Popen(command, stdout=out, stderr=out)
                    _, _, usage = os.wait4(child.pid, 0)   # this run's own CPU and peak
                    child.returncode = 0
                    out.seek(0)
                    lines += len(out.read().splitlines())
                cpu += usage.ru_utime + usage.ru_stime
                peak = max(peak, usage.ru_maxrss / 1024)
            window = time.monotonic() - began
        finally:
            fake.terminate()
            fake.wait(timeout=10)
        return {"runs": runs, "cpu": cpu, "peak": peak, "lines": lines, "window": window}


def _answers(url: str) -> bool:
    try:
        get_json(url)
    except OSError:
        return False
    return True


def print_breakdown(parts: dict[str, Any]) -> None:
    status, py, heap = parts["status"], parts["python arenas"], parts["c heap"]
    print(f"  where it is (at the window's end): RSS {status['VmRSS']} MB = anonymous "
          f"{status['RssAnon']} + file-backed {status['RssFile']} (shared libraries' pages)")
    if isinstance(py, dict):
        print(f"    Python's small objects: {py['arenas']} arenas of 1 MiB, "
              f"{py['live blocks']} MB in live blocks")
    if isinstance(heap, dict):
        print(f"    C heap: {heap['heap']} MB ({heap['in use']} in use, {heap['free inside']} "
              f"free inside) + {heap['mapped blocks']} MB mapped apart")
    print(f"    SQLite holds {parts['sqlite']} MB; threads: {', '.join(parts['threads'])}")
    print("    biggest mappings (MB): " + ", ".join(f"{name} {mb}" for name, mb in
                                                     parts["mappings"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    parser.add_argument("--polls", type=int, default=15, help="rounds of polls measured")
    parser.add_argument("--minutes", type=float, default=0.0,
                        help="measure this long instead of --polls rounds (the soak)")
    parser.add_argument("--rss-every", type=float, default=60.0)
    parser.add_argument("--tracemalloc", action="store_true",
                        help="print what grew between the window's start and end")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the window into FILE (`python -m pstats FILE`)")
    parser.add_argument("--restarted", action="store_true",
                        help="`pressbot fetch` first: a service restarted on feeds it knows, "
                             "which never sees a 200")
    parser.add_argument("--modules", metavar="FILE",
                        help="write the service's sys.modules at the window's end to FILE "
                             "(weigh them with bench/resident_modules.py)")
    parser.add_argument("--memory", metavar="FILE",
                        help="write where the service's resident memory is at the window's end "
                             "to FILE (JSON, bench/_memory.py) and print it")
    parser.add_argument("--python", metavar="PATH",
                        help="the interpreter that runs pressbot (default: this one): e.g. a "
                        "venv made as deploy/ does, `pip install --constraint constraints.txt "
                        ".`, without the test tools, some of which its libraries import when "
                        "present (httpx: pygments; uvicorn: watchfiles)")
    parser.add_argument("--peer-runs", type=int, default=3, help="feed2toot runs (0: none)")
    args = parser.parse_args()

    p = run_pressbot(args)
    per_poll = p["cpu"] / max(1, p["polls"])
    print(f"pressbot run: {args.feeds} feed(s) polled every {args.interval:g} s, nothing new "
          f"(304), 2 outbox channels, web on 127.0.0.1")
    print(f"  window {p['window']:.0f} s: {p['polls']:.0f} polls, CPU {p['cpu']:.2f} s = "
          f"{per_poll * 1000:.1f} ms per poll")
    print(f"  RSS start {p['rss0']:.1f} MB, end {p['rss1']:.1f} MB "
          f"({(p['rss1'] - p['rss0']) / (p['window'] / 60):+.3f} MB/min)")
    print(f"  log lines {p['lines']:.0f} = {p['lines'] / p['window'] * 3600:.0f} per hour")
    print(f"  SIGTERM: exit {p['code']:.0f}, {p['bad_shutdown_lines']:.0f} traceback/ERROR "
          "lines while stopping")
    if args.memory:
        print_breakdown(json.loads(Path(args.memory).read_text()))
    f2t = run_feed2toot(args, args.peer_runs) if args.peer_runs else None
    if f2t is None:
        print(f"feed2toot: not measured ({VENVS}/feed2toot or {PEERS}/fake_mastodon.py "
              "missing): pressbot alone")
    else:
        print(f"feed2toot by a timer every {args.interval:g} s, same feed (1 feed), nothing "
              f"new: {f2t['runs']:.0f} runs, {f2t['cpu'] / f2t['runs'] * 1000:.0f} ms CPU per "
              f"run, peak RSS {f2t['peak']:.1f} MB per run, "
              f"{f2t['lines'] / f2t['window'] * 3600:.0f} log lines per hour")
    print("\ntargets:")
    print(f"  idle poll ≤ 5 ms CPU: {per_poll * 1000:.1f} ms "
          f"{'MET' if per_poll <= 0.005 else 'MISSED'}")
    limit = 60 if args.feeds == 1 else 80
    print(f"  RSS ≤ {limit} MB: {p['rss1']:.1f} MB {'MET' if p['rss1'] <= limit else 'MISSED'}")


if __name__ == "__main__":
    main()
