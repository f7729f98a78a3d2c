"""What the text passes cost on big and hostile inputs: the figures the tests no longer time.

    .venv/bin/python bench/big_inputs.py [--runs 5]

The tests hold these inputs to generous bounds of CPU time (a blow-up, not a slowdown, is
what they catch); this prints what each costs, median of `--runs`, as wall and as CPU time
of the thread (on a busy machine the first grows, the second hardly does):

- `extract_text` on a megabyte of three shapes (a release repeated, one long line of
  hyphenated words, wrapped junk full of half links and dates);
- `feed.parse` of a 3 MB feed with a 1 MB title, a 2 MB body and a 160 kB date;
- `count` of a 5,000-character Mastodon post (emoji families, combining accents, links).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import ROOT
from bot.fit import count
from bot.sources import feed
from bot.sources.extract import extract_text
from tests.fakes.feeds import rss
from tests.test_fit import E_ACUTE, FAMILY, LONG_URL, MASTODON


def measure(call: Callable[[], object], runs: int, repeat: int = 1) -> tuple[float, float]:
    """Median wall and thread-CPU milliseconds of one `call` (each run makes `repeat`)."""
    call()  # imports, caches
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.thread_time()
        for _ in range(repeat):
            call()
        walls.append((time.perf_counter() - wall) / repeat * 1000)
        cpus.append((time.thread_time() - cpu) / repeat * 1000)
    return statistics.median(walls), statistics.median(cpus)


def cases() -> list[tuple[str, Callable[[], object], int]]:
    sample = (ROOT / "tests" / "sources" / "samples" / "pdf_footer_heavy.txt").read_text(
        encoding="utf-8")
    megabytes = {
        "release": sample * (1_000_000 // len(sample)),
        "one-line": "word-" * 200_000,
        "wrapped-junk": "ab-\ncd https://x.example/( 12.03.2026 Read more\n" * 20_000,
    }
    big_feed = rss([
        {"title": "Big " * 250_000, "link": "https://www.example.org/big"},
        {"title": "Huge body", "link": "https://www.example.org/huge",
         "description": ("&lt;p&gt;" + "Lorem ipsum dolor sit amet. " * 40 + "&lt;/p&gt;")
         * 2_000},
        {"title": "Long date", "link": "https://www.example.org/date",
         "pubDate": "12 März " * 20_000},
    ])
    post = (f"Brussels, 3 May — {FAMILY} Caf{E_ACUTE} news {LONG_URL} #Tag @a@b.social "
            * 60)[:5000]
    found: list[tuple[str, Callable[[], object], int]] = [
        (f"extract_text, 1 MB {kind}", lambda text=text: extract_text(text), 1)
        for kind, text in megabytes.items()]
    found.append((f"feed.parse, {len(big_feed) / 1e6:.1f} MB feed",
                  lambda: feed.parse("big", big_feed, url="https://www.example.org/feed"), 1))
    found.append(("count, 5,000-character post", lambda: count(post, MASTODON), 20))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"{'':<36} {'wall ms':>9} {'CPU ms':>9}   (median of {args.runs})")
    for label, call, repeat in cases():
        wall, cpu = measure(call, args.runs, repeat)
        print(f"{label:<36} {wall:9.1f} {cpu:9.1f}")


if __name__ == "__main__":
    main()
