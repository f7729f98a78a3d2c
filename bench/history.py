"""Ingesting a big feed into a store that already holds a long history.

    .venv/bin/python bench/history.py [--history 100000] [--items 700]

With `--history` releases already stored (bulk-inserted with SQLAlchemy Core executemany,
all of the same source, so every dedup lookup searches the whole history), one feed
document of `--items` items (~1.5 MB) goes through `bot.sources.feed.parse` and then
`bot.ingest.store_releases` (dedup + insert + render and queue a post for each of two
outbox channels, one transaction). Printed separately: parse time and store time.
Target: parse + store ≤ 1 s when every item is new. The same document polled again (all
items already stored: dedup only) is shown too, and the query plans of the dedup lookups.

Runs on SQLite; also on PostgreSQL when PRESSBOT_TEST_DATABASE_URL is set (a scratch
database is created and dropped). Baseline, same run: the bare parse by `feedparser.parse`
of the same bytes, and the bulk insert rate of the history (the floor for an insert).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from bench._feedsite import item_xml
from bot.config import Config, load_config
from bot.ingest import SourceReport, store_releases
from bot.links import normalise_url
from bot.models import Release
from bot.sources.feed import parse
from bot.store import Store, releases
from bot.store import sources as source_store
from bot.store.schema import posts
from bot.store.schema import releases as releases_table
from tests.helpers import CHANNELS

CONFIG = """
[bot]
database_url = "{url}"
timezone = "UTC"
outbox = "{root}/outbox"
log_level = "WARNING"

[sources.site]
type = "feed"
url = "http://127.0.0.1:9/feed"
allow_private = true
""" + CHANNELS
FEED = 1  # item_xml's feed number: its links and guids differ from the history's


def feed_document(items: int, body_chars: int) -> bytes:
    entries = "".join(item_xml(FEED, n, body_chars) for n in range(items, 0, -1))
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            "<title>Example news</title><link>https://news1.example.org/</link>"
            f"<description>Press releases</description><language>en</language>{entries}"
            "</channel></rss>").encode()


def bulk_history(store: Store, n: int) -> float:
    """Insert `n` releases of source "site" in executemany batches; returns seconds."""
    now = datetime.now(UTC)
    body = "An older release of the regional council about roads and rail. " * 8
    started = time.perf_counter()
    batch = 5000
    with store.begin() as conn:
        for start in range(0, n, batch):
            rows: list[dict[str, Any]] = []
            for i in range(start, min(n, start + batch)):
                url = f"https://archive.example.org/releases/{i}"
                rows.append({
                    "source": "site", "key": f"archive-{i}", "url": url,
                    "url_norm": normalise_url(url), "title": f"Archived release {i}",
                    "published_at": now - timedelta(hours=i), "summary": body[:200],
                    "body": body, "body_html": f"<p>{body}</p>", "images": [], "tags": [],
                    "language": "en", "embargo_at": None, "channels": None, "overrides": {},
                    "links": [url], "content_hash": uuid.uuid4().hex + uuid.uuid4().hex,
                    "first_seen_at": now, "updated_at": now})
            conn.execute(releases_table.insert(), rows)
        source_store.put(conn, source_store.SourceState(source="site", initialised=True))
    return time.perf_counter() - started


def plans(store: Store, sample: Release) -> list[tuple[str, str]]:
    """The query plan of each of the three dedup lookups of `releases.find`."""
    base = sa.select(releases_table).where(releases_table.c.source == sample.source)
    lookups = {
        "by key": base.where(releases_table.c.key == releases.store_key(sample.key)),
        "by link": base.where(releases_table.c.url_norm == normalise_url(sample.url or ""))
        .limit(1),
        "by content hash": base.where(
            releases_table.c.content_hash == sample.content_hash()).limit(1),
    }
    found = []
    with store.begin() as conn:
        explain = "EXPLAIN QUERY PLAN " if store.is_sqlite else "EXPLAIN "
        for name, query in lookups.items():
            sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            rows = conn.exec_driver_sql(explain + sql).all()
            text = "; ".join(str(r[-1]) for r in rows)
            found.append((name, text))
    return found


def run(label: str, url: str, args: argparse.Namespace, document: bytes) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "pressbot.toml"
        file.write_text(CONFIG.format(url=url, root=folder), encoding="utf-8")
        config: Config = load_config(file)
        store = Store(url)
        try:
            seconds = bulk_history(store, args.history)
            if not store.is_sqlite:
                with store.begin() as conn:
                    conn.exec_driver_sql("ANALYZE")
            print(f"\n== {label}: {args.history:,} releases bulk-inserted in {seconds:.1f} s "
                  f"({args.history / seconds:,.0f} rows/s)")
            figures: dict[str, float] = {}
            for attempt in ("all new", "again (all known)"):
                t0 = time.perf_counter()
                found = parse("site", document, url="https://news1.example.org/feed")
                t1 = time.perf_counter()
                report = SourceReport("site")
                store_releases(store, config, "site", found, report)
                t2 = time.perf_counter()
                with store.begin() as conn:
                    queued = conn.execute(sa.select(sa.func.count()).select_from(posts)).scalar()
                print(f"{attempt:<18} parse {(t1 - t0) * 1000:5.0f} ms   store "
                      f"{(t2 - t1) * 1000:5.0f} ms   total {(t2 - t0) * 1000:5.0f} ms   "
                      f"(new {report.new}, unchanged {report.unchanged}, queued "
                      f"{report.queued}; posts in the store {queued})")
                figures[attempt] = t2 - t0
                figures[attempt + " parse"] = t1 - t0
                figures[attempt + " store"] = t2 - t1
            assert report.unchanged == args.items, report
            print("dedup lookups (releases.find), query plans:")
            for name, plan in plans(store, found[0]):
                print(f"  {name:<16} {plan}")
            return figures
        finally:
            store.dispose()


def postgres_scratch(admin_url: str) -> tuple[str, Any]:
    admin = sa.engine.make_url(admin_url)
    if admin.drivername == "postgresql":
        admin = admin.set(drivername="postgresql+psycopg")
    name = f"pressbot_bench_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()

    return admin.set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=700)
    parser.add_argument("--body-chars", type=int, default=1850)
    args = parser.parse_args()
    document = feed_document(args.items, args.body_chars)
    import feedparser

    t0 = time.perf_counter()
    entries = len(feedparser.parse(document).entries)
    bare = time.perf_counter() - t0
    print(f"feed: {args.items} items, {len(document) / 1e6:.2f} MB; baseline: bare "
          f"feedparser.parse {bare * 1000:.0f} ms ({entries} entries)")
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite"] = run("SQLite", f"sqlite:///{folder}/bench.db", args, document)
    pg = os.environ.get("PRESSBOT_TEST_DATABASE_URL")
    if pg:
        url, drop = postgres_scratch(pg)
        try:
            results["PostgreSQL"] = run("PostgreSQL (scratch database)", url, args, document)
        finally:
            drop()
    else:
        print("\n(PostgreSQL skipped: set PRESSBOT_TEST_DATABASE_URL to run it too)")
    print("\ntarget: 700 new items parsed + stored ≤ 1 s")
    for name, figures in results.items():
        total = figures["all new"]
        print(f"  {name:<11} {total:.2f} s (parse {figures['all new parse']:.2f} + store "
              f"{figures['all new store']:.2f}) {'MET' if total <= 1 else 'MISSED'}")


if __name__ == "__main__":
    main()
