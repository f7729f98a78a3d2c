"""What `pressbot run` costs while it has nothing to publish.

    .venv/bin/python bench/idle.py [--feeds 40] [--folders 10] [--sample 30]

`pressbot run` (a child process, as operators start it) with 50 sources — 40 feeds on a
local feed site (`bench/_feedsite.py`, its own process) polled every minute and 10
watched folders with two releases each, polled every minute — two outbox channels, the
web page on 127.0.0.1, an empty queue (backlog "skip"). After a warm-up that covers the
first poll of every source, VmRSS (`/proc/PID/status`) is sampled once a second for
`--sample` seconds, and the CPU time (`/proc/PID/stat`) over that window is reported; the
window is placed so that it contains the second round of polls (at about 60 s).
Targets: RSS ≤ 80 MB (issue 17), CPU near zero. Baseline, same run: the RSS of a bare
`python -c "import time; time.sleep(…)"`.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import PYTHON, ROOT, Child, clean_env, cpu_seconds, get_json, rss_mb, wait_until
from tests.helpers import CHANNELS

CONFIG = """
[bot]
database_url = "sqlite:///{root}/pressbot.db"
timezone = "UTC"
outbox = "{root}/outbox"

[web]
listen = "127.0.0.1:{web_port}"
""" + CHANNELS
RELEASE = "---\ntitle: Release {n} of folder {f}\ndate: 2026-03-10\nsummary: In short.\n---\n\n" \
    "The council agreed a new budget for regional mobility.\n"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(root: Path, feeds: list[str], folders: int, web_port: int) -> Path:
    parts = [CONFIG.format(root=root, web_port=web_port)]
    for i, url in enumerate(feeds):
        parts.append(f'[sources.feed{i}]\ntype = "feed"\nurl = "{url}"\npoll_every = "1m"\n'
                     'allow_private = true\n')
    for f in range(folders):
        folder = root / f"folder{f}"
        folder.mkdir()
        for n in range(2):
            (folder / f"release-{n}.md").write_text(RELEASE.format(n=n, f=f), encoding="utf-8")
        parts.append(f'[sources.folder{f}]\ntype = "folder"\npath = "{folder}"\n'
                     'poll_every = "1m"\n')
    path = root / "pressbot.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--folders", type=int, default=10)
    parser.add_argument("--sample", type=float, default=30.0)
    parser.add_argument("--start", type=float, default=40.0,
                        help="seconds after start when sampling begins")
    args = parser.parse_args()
    with Child("bench/_feedsite.py", "--feeds", str(args.feeds), "--hosts", "10") as site, \
            tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        ports = site.info["fast"]
        feeds = [f"http://127.0.0.1:{ports[i % len(ports)]}/feed/{i}" for i in range(args.feeds)]
        web_port = free_port()
        config = write_config(root, feeds, args.folders, web_port)
        script = Path(PYTHON).parent / "pressbot"
        command = [str(script)] if script.exists() else [PYTHON, "-m", "bot"]
        log = (root / "run.log").open("wb")
        started = time.monotonic()
        bot = subprocess.Popen([*command, "--config", str(config), "run"], cwd=ROOT,
                               env=clean_env(), stdout=log, stderr=log)
        sleeper = subprocess.Popen([PYTHON, "-c", "import time; time.sleep(600)"],
                                   env=clean_env())
        try:
            control = f"http://127.0.0.1:{ports[0]}/_stats"
            polled = wait_until(lambda: get_json(control)["200"] >= args.feeds, 30)
            assert polled, "pressbot run did not poll every feed within 30 s"
            first_round = time.monotonic() - started
            rss_after_start = rss_mb(bot.pid)
            time.sleep(max(0.0, args.start - (time.monotonic() - started)))
            cpu0, t0 = cpu_seconds(bot.pid), time.monotonic()
            samples, base = [], []
            while time.monotonic() - t0 < args.sample:
                samples.append(rss_mb(bot.pid))
                base.append(rss_mb(sleeper.pid))
                time.sleep(1.0)
            cpu = cpu_seconds(bot.pid) - cpu0
            window = time.monotonic() - t0
            stats = get_json(control)
            assert bot.poll() is None, "pressbot run exited early"
        finally:
            bot.send_signal(signal.SIGTERM)
            code = bot.wait(timeout=30)
            sleeper.kill()
            sleeper.wait()
            log.close()
        print(f"pressbot run: {args.feeds} feeds + {args.folders} folders (poll every 1 min), "
              f"2 outbox channels, web on 127.0.0.1, empty queue")
        print(f"  every feed polled once after {first_round:.1f} s; RSS then "
              f"{rss_after_start:.1f} MB")
        print(f"  sampled {window:.0f} s from t = {t0 - started:.0f} s: RSS median "
              f"{statistics.median(samples):.1f} MB, max {max(samples):.1f} MB; CPU {cpu:.2f} s "
              f"= {cpu / window:.2%} of one core; feed requests so far "
              f"{stats['200'] + stats['304']} (2nd round of polls inside the window: "
              f"{stats['200'] + stats['304'] >= 2 * args.feeds})")
        print(f"  exit code after SIGTERM: {code}")
        print(f"baseline: python -c 'import time; time.sleep(…)': RSS "
              f"{statistics.median(base):.1f} MB")
        print("\ntargets:")
        print(f"  RSS ≤ 80 MB: {max(samples):.1f} MB {'MET' if max(samples) <= 80 else 'MISSED'}")
        print(f"  CPU near zero: {cpu / window:.2%} of a core "
              f"{'MET' if cpu / window < 0.01 else 'MISSED'} (< 1 % counted as near zero)")


if __name__ == "__main__":
    main()
