"""Searching posts by the words of their text (`bot.store.search`), against a long history.

    .venv/bin/python bench/search.py [--posts 50000]

`--posts` posts (title, text of ~60 words) are bulk-inserted — through the FTS5 triggers
on SQLite, into the GIN index on PostgreSQL — then the history page's query
(`bot.store.history.search`: the count and the first 50) runs for a rare word, a common
word and two words. Baseline, same store: the same filters with `ILIKE '%word%'` on title
and text (what a search without an index would do). Prints the insert rate and the
median of 5 runs per query. Runs on SQLite; on PostgreSQL too when
PRESSBOT_TEST_DATABASE_URL is set (a scratch database is created and dropped).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from bench.history import postgres_scratch
from bot.store import Store
from bot.store.history import Filters, search
from bot.store.schema import posts

WORDS = ["council", "harbour", "tram", "library", "museum", "grant", "cycling", "school",
         "water", "energy", "budget", "housing", "park", "bridge", "festival", "market",
         "river", "climate", "youth", "culture"]
QUERIES = {"rare word": "zeppelin", "common word": "harbour", "two words": "tram budget"}


def fill(store: Store, n: int) -> float:
    now = datetime.now(UTC)
    started = time.perf_counter()
    with store.begin() as conn:
        for start in range(0, n, 5000):
            rows: list[dict[str, Any]] = []
            for i in range(start, min(n, start + 5000)):
                words = " ".join(WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(60))
                extra = " zeppelin" if i % 1000 == 0 else ""
                rows.append({"uid": f"u{i}", "channel": "mastodon", "status": "published",
                             "title": f"Release {i} about the {WORDS[i % len(WORDS)]}",
                             "text": f"{words}{extra} https://www.example.org/{i}",
                             "images": [], "warnings": [], "digest": [], "extra": {},
                             "created_at": now, "updated_at": now})
            conn.execute(posts.insert(), rows)
    return time.perf_counter() - started


def timed(run: Any) -> tuple[float, int]:
    times, total = [], 0
    for _ in range(5):
        t0 = time.perf_counter()
        total = run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, total


def bench(label: str, url: str, n: int) -> None:
    store = Store(url)
    try:
        seconds = fill(store, n)
        if not store.is_sqlite:
            with store.begin() as conn:
                conn.exec_driver_sql("ANALYZE")
        print(f"\n== {label}: {n:,} posts inserted (index kept by the database) in "
              f"{seconds:.1f} s ({n / seconds:,.0f} posts/s)")
        for name, words in QUERIES.items():
            def indexed(words: str = words) -> int:
                with store.begin() as conn:
                    return search(conn, Filters(words=words), offset=0, limit=50)[1]

            def scan(words: str = words) -> int:
                with store.begin() as conn:
                    where = [sa.or_(posts.c.title.ilike(f"%{w}%"), posts.c.text.ilike(f"%{w}%"))
                             for w in words.split()]
                    total = conn.execute(sa.select(sa.func.count()).select_from(posts)
                                         .where(*where)).scalar_one()
                    conn.execute(sa.select(posts.c.id).where(*where)
                                 .order_by(posts.c.updated_at.desc()).limit(50)).all()
                    return int(total)

            fast, found = timed(indexed)
            slow, scanned = timed(scan)
            print(f"  {name:<12} {words!r:<14} full-text {fast:7.1f} ms ({found:,} found)   "
                  f"baseline ILIKE scan {slow:7.1f} ms ({scanned:,} found)")
    finally:
        store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        bench("SQLite (FTS5)", f"sqlite:///{folder}/bench.db", args.posts)
    pg = os.environ.get("PRESSBOT_TEST_DATABASE_URL")
    if pg:
        url, drop = postgres_scratch(pg)
        try:
            bench("PostgreSQL (GIN, scratch database)", url, args.posts)
        finally:
            drop()
    else:
        print("\n(PostgreSQL skipped: set PRESSBOT_TEST_DATABASE_URL to run it too)")


if __name__ == "__main__":
    main()
