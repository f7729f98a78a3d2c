"""`pressbot run` over a long day: an idle poll writes nothing and says nothing at INFO, a
database outage is one line (and one on recovery), SIGTERM stops without a traceback.

The service runs as a real process against a real feed site (ETag/304), a real SQLite file
or a real PostgreSQL database; what it did is counted where it happened: a trigger in the
database counts the writes to the sources' state, the feed site counts its requests.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.fakes.feeds import FeedSite, Page, make_app, rss
from tests.fakes.server import LiveServer
from tests.helpers import Workspace, make_workspace, write_release
from tests.test_service import free_port
from tests.test_service_health import OUTBOX, Service, published_titles, service, workspace

pytestmark = pytest.mark.slow

ITEMS = [{"title": "Budget agreed", "link": "https://www.example.org/news/budget",
          "guid": "budget-1", "pubDate": "Tue, 10 Mar 2026 08:00:00 GMT",
          "description": "The council agreed the budget."}]


def feed_source(url: str, *, timeout: str = "20s") -> str:
    return f"""
[sources.news]
type = "feed"
url = "{url}/feed"
poll_every = "1s"
timeout = "{timeout}"
allow_private = true
backlog = "all"
"""


COUNT_WRITES = """
CREATE TABLE lean_writes (source TEXT);
CREATE TRIGGER lean_updated AFTER UPDATE ON source_state
    BEGIN INSERT INTO lean_writes VALUES (NEW.source); END;
CREATE TRIGGER lean_inserted AFTER INSERT ON source_state
    BEGIN INSERT INTO lean_writes VALUES (NEW.source); END;
"""


def test_an_unchanged_poll_writes_no_state_row_and_logs_nothing_at_info(tmp_path: Path) -> None:
    site = FeedSite(pages={"/feed": Page(rss(ITEMS))})
    with LiveServer(make_app(site)) as server:
        port = free_port()
        ws = workspace(tmp_path, channels=OUTBOX, port=port, sources=feed_source(server.url))
        with service(ws, port) as svc:
            # the first poll stores the item; the second is answered 304
            svc.wait(lambda: any("if-none-match" in h for h in site.hits("/feed")))
            with sqlite3.connect(tmp_path / "pressbot.db", timeout=30) as db:
                db.executescript(COUNT_WRITES)
            counted_from = len(site.hits("/feed"))
            # three more polls, all answered 304, after the trigger was in place
            svc.wait(lambda: len(site.hits("/feed")) >= counted_from + 3)
            with sqlite3.connect(tmp_path / "pressbot.db", timeout=30) as db:
                writes = db.execute("SELECT source, count(*) FROM lean_writes "
                                    "GROUP BY source").fetchall()
            assert "Budget agreed" in published_titles(ws)
            polls_logged = svc.lines("source=news")
        assert writes == []
        # the first poll (one new release) is worth a line; the unchanged ones are not
        assert len(polls_logged) == 1, polls_logged
        assert "new=1" in polls_logged[0]


def outbox(ws: Workspace) -> str:
    """What the outbox channel has published (read from its files: a store opened here
    would hold PostgreSQL sessions that the outage ends under it)."""
    return "".join(p.read_text() for p in (ws.root / "outbox").rglob("*.txt"))


def test_a_database_outage_is_one_line_and_one_on_recovery(tmp_path: Path,
                                                             pg_url: str) -> None:
    """PostgreSQL refuses every connection to the service's database for a while (its
    sessions ended, new ones refused), then takes them again."""
    name = sa.engine.make_url(pg_url).database
    admin = sa.create_engine(sa.engine.make_url(pg_url).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")
    port = free_port()
    ws = workspace(tmp_path, channels=OUTBOX, port=port, database_url=pg_url)
    try:
        with service(ws, port) as svc:
            write_release(ws.content, "before.md", "Before the outage")
            svc.wait(lambda: "Before the outage" in outbox(ws))
            with admin.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
                conn.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                     "WHERE datname = :name"), {"name": name})
            write_release(ws.content, "during.md", "Written during the outage")
            # several passes fail, as the service itself counts them
            svc.wait(lambda: svc.health().get("failed_passes", 0) >= 6)
            with admin.connect() as conn:
                conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            svc.wait(lambda: svc.health().get("status") == "ok")
            svc.wait(lambda: "Written during the outage" in outbox(ws))
            log = svc.log.read_text()
        assert len(svc.lines("database unreachable, retrying")) == 1, log[-3000:]
        assert len(svc.lines("database reachable again")) == 1, log[-3000:]
        assert "Traceback" not in log, log[-3000:]
        assert [line for line in log.splitlines() if "level=error" in line] == \
            svc.lines("database unreachable, retrying")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        admin.dispose()


def test_sigterm_while_a_poll_is_in_flight_exits_0_without_a_traceback(tmp_path: Path) -> None:
    site = FeedSite(pages={"/feed": Page(rss(ITEMS), delay=3600)})
    with LiveServer(make_app(site)) as server:
        port = free_port()
        ws = workspace(tmp_path, channels=OUTBOX, port=port,
                       sources=feed_source(server.url, timeout="2h"))
        with service(ws, port) as svc:
            write_release(ws.content, "a.md", "Published before the stop")
            svc.wait(lambda: "Published before the stop" in published_titles(ws))
            svc.wait(lambda: bool(site.hits("/feed")))   # the feed's answer never comes
            svc.stop()
            assert svc.proc.returncode == 0
        log = svc.log.read_text()
    assert "stopped" in log
    for bad in ("Traceback", "CancelledError", "level=error"):
        assert bad not in log, log[-3000:]


def test_sigterm_during_start_up_exits_0_without_a_traceback(tmp_path: Path) -> None:
    """The signal lands while the database schema is being created, before the event loop
    runs: it used to kill the process (exit 143)."""
    port = free_port()
    ws = workspace(tmp_path, channels=OUTBOX, port=port)
    svc = Service(ws, port)
    try:
        svc.wait(lambda: bool(svc.lines("creating the database schema")))
    finally:
        svc.stop()
    assert svc.proc.returncode == 0, svc.log.read_text()[-3000:]
    log = svc.log.read_text()
    assert "stopped" in log
    for bad in ("Traceback", "CancelledError", "KeyboardInterrupt", "level=error"):
        assert bad not in log, log[-3000:]


def test_a_feed_that_never_answers_gives_its_slot_up_to_the_others_waiting(
        tmp_path: Path) -> None:
    """One connection for the host, the first feed in line never answers (its timeout is
    ten minutes): it keeps its slot only three `bot.poll_share`s while the other waits."""
    import asyncio

    from bot import ingest
    from bot.config import load_config
    from bot.store import Store

    site = FeedSite(pages={"/stuck": Page(rss(ITEMS), delay=3600), "/feed": Page(rss(ITEMS))})
    with LiveServer(make_app(site)) as server:
        ws = make_workspace(tmp_path, extra=f"""
[sources.stuck]
type = "feed"
url = "{server.url}/stuck"
timeout = "10m"
allow_private = true

[sources.news]
type = "feed"
url = "{server.url}/feed"
allow_private = true
""")
        config = load_config(ws.config)
        config.bot.poll_per_host = 1
        config.bot.poll_share = timedelta(seconds=0.2)
        store = Store(config.bot.database_url)
        try:
            reports = {r.name: r for r in asyncio.run(ingest.fetch_all(config, store))}
        finally:
            store.dispose()
    assert reports["news"].ok and reports["news"].new == 1
    assert reports["stuck"].fatal
    assert "gave up its fetch slot" in reports["stuck"].errors[0]
    assert "no answer yet" in reports["stuck"].errors[0]
    assert site.hits("/stuck") and site.hits("/feed")
