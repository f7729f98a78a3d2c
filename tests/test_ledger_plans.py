"""The newsletter's ledger on PostgreSQL reaches each recipient's row with the plan the
ledger writer keeps (one generic plan per statement, `channels.email.ledgerwriter`), and a
snapshot leaves the statistics those plans are made from up to date."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from bot import subscribers
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store.schema import posts
from tests.channels.test_email import make_channel, make_post
from tests.fakes.smtp import FakeSMTP

PEOPLE = 2000


@pytest.fixture
def store(pg_url: str) -> Iterator[Store]:
    db = Store(pg_url)
    yield db
    db.dispose()


def _people(store: Store, count: int) -> None:
    subscribers.import_csv(store, "email,name\n" + "".join(
        f"reader{i}@example.net,\n" for i in range(count)))


def _scans(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if plan.get("Relation Name") == "deliveries" and "Scan" in plan["Node Type"]:
        yield plan
    for child in plan.get("Plans", []):
        yield from _scans(child)


def _generic_plan(store: Store, post_id: int, token: int) -> list[dict[str, Any]]:
    """The generic plan of the send's hot statement (`ledger.advance`), as the writer's
    session would cache it."""
    names = ["at", "post", "token", "sent", "reset", "start"]
    sql = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}",
                 ledger._ADVANCE_PG)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("SET plan_cache_mode TO force_generic_plan")
        conn.exec_driver_sql("PREPARE hot(timestamptz, int, int, int[], int[], int[]) AS "
                             + sql)
        raw = conn.exec_driver_sql(
            f"EXPLAIN (FORMAT JSON) EXECUTE hot(now(), {post_id}, {token}, '{{5}}', '{{}}',"
            " '{6}')").scalar()
        conn.rollback()
    plan = raw if isinstance(raw, list) else json.loads(str(raw))
    return list(_scans(plan[0]["Plan"]))


def test_the_hot_statements_generic_plan_reaches_each_row_by_its_key(store: Store) -> None:
    """Planned after a snapshot, each read of `deliveries` is an index lookup whose
    condition holds the recipient: no scan of the post's pending rows filtered one by one,
    which the (post, status) index alone led to."""
    _people(store, PEOPLE)
    post = make_post(store)
    with store.begin() as conn:
        ledger.add(conn, post.id, [(i, f"<m{i}@example.org>") for i in range(1, PEOPLE + 1)])
        ledger.analyze(conn)  # as a snapshot does
        token = conn.execute(posts.select().where(posts.c.id == post.id)).one().claim_token or 0
    scans = _generic_plan(store, post.id, token)
    assert len(scans) == 2, scans
    for scan in scans:
        assert "Seq Scan" not in scan["Node Type"], scan
        assert "subscriber_id" in scan.get("Index Cond", ""), scan


def test_a_snapshot_leaves_the_deliveries_statistics_current(store: Store) -> None:
    """A real send: after it, PostgreSQL's estimate of the table's rows counts the
    snapshot (ANALYZE ran), so the plans the writer caches are made for the table as it
    is, not for an empty one."""
    _people(store, 300)
    post = make_post(store)
    with store.engine.connect() as conn:
        before = conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE relname = 'deliveries'").scalar()
    assert before is not None and before <= 0  # never analyzed
    with FakeSMTP().running() as server:
        channel = make_channel(store, server.port)
        asyncio.run(channel.publish(post))
        asyncio.run(channel.aclose())
    with store.engine.connect() as conn:
        after = conn.exec_driver_sql(
            "SELECT reltuples FROM pg_class WHERE relname = 'deliveries'").scalar()
    assert after == 300
    assert len(server.messages) == 300


def test_the_writers_session_settings_do_not_leak_into_the_pool(store: Store) -> None:
    """The writer's relaxed commits and generic plans are its own: after a real send, every
    pooled connection commits durably and plans as PostgreSQL decides (a review page's
    search given the writer's generic plans could scan what it should look up)."""
    _people(store, 120)
    post = make_post(store)
    with FakeSMTP().running() as server:
        channel = make_channel(store, server.port)
        asyncio.run(channel.publish(post))
        asyncio.run(channel.aclose())
    assert len(server.messages) == 120
    pooled = [store.engine.connect() for _ in range(4)]  # the writers' and any others
    try:
        for conn in pooled:
            assert conn.exec_driver_sql("SHOW plan_cache_mode").scalar() == "auto"
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    finally:
        for conn in pooled:
            conn.close()
