"""The store on SQLite and PostgreSQL: schema, dedup, guarded changes, claims, indexes."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.migration import MigrationContext

from bot.errors import WorkflowError
from bot.models import Image, PostStatus, Release
from bot.store import Store, posts, releases
from bot.store import sources as source_store
from bot.store.db import HEAD

S = PostStatus


def release(key: str = "a", **kw: object) -> Release:
    data: dict[str, object] = {"source": "press", "key": key, "title": f"Title {key}",
                               "url": f"https://www.example.org/news/{key}",
                               "summary": "Short.", "body": "Body."}
    data.update(kw)
    return Release(**data)  # type: ignore[arg-type]



def test_schema_is_created_and_reopening_is_a_no_op(store: Store) -> None:
    from bot.store.db import HEAD

    assert store.current_revision() == HEAD
    again = Store(store.url)
    assert again.current_revision() == HEAD
    again.dispose()


def test_the_migrations_build_exactly_the_schema_a_new_database_gets(
        database_url: str) -> None:
    """A new database is created from `bot.store.schema` and stamped at head; one that
    existed is brought there by the migrations. Both must be the same schema: a column,
    index, type, default or key that one has and the other lacks fails here."""
    from alembic.autogenerate import compare_metadata

    from bot.store.db import HEAD
    from bot.store.schema import metadata

    migrated = Store(database_url, migrate=False)
    migrated.upgrade()
    try:
        assert migrated.current_revision() == HEAD
        with migrated.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={
                "compare_type": True, "compare_server_default": _same_default,
                "include_name": _not_search})
            assert compare_metadata(context, metadata) == []
    finally:
        migrated.dispose()


def _not_search(name: str | None, _type: str, _parent: object) -> bool:
    """The full-text index is made outside the metadata (`bot.store.search`): compared by
    `test_the_search_index_is_the_same_new_or_migrated` instead."""
    from bot.store.search import NAMES

    return not (name or "").startswith(NAMES)


def _same_default(context: MigrationContext, _inspected: object, _column: object,
                  inspected: str | None, _metadata: object, rendered: str | None
                  ) -> bool | None:
    """True when the defaults differ. A table SQLite rebuilt (batch migrations) reports
    `DEFAULT ''` as "('')": compare the values without their brackets and quotes."""
    if context.dialect.name != "sqlite":
        return None  # Alembic's own comparison

    def bare(value: str | None) -> str | None:
        return None if value is None else value.strip().strip("()").strip("'\"")

    return bare(inspected) != bare(rendered)


def test_a_new_database_is_created_at_head_without_replaying_migrations(
        tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/new.db"
    code = ("import sys; from bot.store.db import Store, HEAD; s = Store(sys.argv[1]); "
            "assert s.current_revision() == HEAD; print('alembic' in sys.modules)")
    first = subprocess.run([sys.executable, "-c", code, url], capture_output=True, text=True,
                           check=True)
    assert first.stdout.strip() == "False", first.stderr   # Alembic was never loaded
    with sa.create_engine(url).connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
    assert {"posts", "releases", "events", "alembic_version"} <= tables
    again = Store(url)            # a second open finds it at head
    assert again.current_revision() == HEAD
    again.dispose()


def test_release_round_trip_keeps_aware_times_and_images(store: Store) -> None:
    r = release(published_at=datetime(2026, 3, 10, 8, tzinfo=UTC),
                images=[Image(url="https://www.example.org/a.jpg", alt="A harbour")],
                tags=["EU funding"])
    with store.begin() as conn:
        rid = releases.insert(conn, r)
    with store.begin() as conn:
        back = releases.get(conn, rid)
    assert back == r
    assert back is not None and back.published_at is not None
    assert back.published_at.tzinfo is not None


def test_dedup_by_key_then_link_then_hash(store: Store) -> None:
    with store.begin() as conn:
        releases.insert(conn, release("guid-1"))
        assert releases.find(conn, release("guid-1", title="changed")) is not None
        moved = release("guid-2", url="https://WWW.example.org/news/guid-1/?utm_source=x")
        assert releases.find(conn, moved) is not None
        same_text = release("guid-3", url=None, title="Title guid-1")
        assert releases.find(conn, same_text) is None
        releases.insert(conn, release("h", url=None))
        assert releases.find(conn, release("other-key", url=None, title="Title h")) is not None


def test_long_keys_are_hashed_not_cut(store: Store) -> None:
    long_key = "https://www.example.org/" + "x" * 3000
    with store.begin() as conn:
        rid = releases.insert(conn, release(long_key, url=None))
        row = releases.find(conn, release(long_key, url=None, title="other"))
    assert row is not None and row.id == rid


def _post(store: Store, channel: str = "mastodon", status: PostStatus = S.APPROVED,
          publish_at: datetime | None = None, key: str | None = None) -> int:
    with store.begin() as conn:
        rid = releases.insert(conn, release(key or f"{channel}-{datetime.now().timestamp()}"))
        return posts.insert(conn, channel=channel, status=status, actor="test", release_id=rid,
                            title="t", text="hello", publish_at=publish_at)


def test_guarded_change_refuses_a_stale_status(store: Store) -> None:
    pid = _post(store, status=S.PENDING)
    with store.begin() as conn:
        posts.change(conn, pid, allowed_from=[S.PENDING], to=S.APPROVED, actor="a",
                     action="approve")
    with pytest.raises(WorkflowError, match="is approved: cannot approve"), store.begin() as conn:
        posts.change(conn, pid, allowed_from=[S.PENDING], to=S.APPROVED, actor="b",
                     action="approve")
    with store.begin() as conn:
        events = posts.list_events(conn, post_id=pid)
    assert [e["action"] for e in events] == ["approve", "queued"]


def test_a_change_returns_the_post_exactly_as_stored(store: Store) -> None:
    """`change` and `claim` build the post from the row read before plus what they wrote:
    it must equal a fresh read, field by field, including the first claim's time."""
    pid = _post(store, publish_at=datetime.now(UTC) - timedelta(minutes=1))
    with store.begin() as conn:
        edited = posts.change(conn, pid, allowed_from=[S.APPROVED], to=None, actor="a",
                              action="edit", text="edited", images=[Image(url="https://x/a.png",
                                                                           alt="A")])
    with store.begin() as conn:
        assert edited == posts.require(conn, pid)
        first = posts.claim(conn, pid, worker="w1", lease=timedelta(seconds=30),
                            uncertain=False)
    with store.begin() as conn:
        assert first == posts.require(conn, pid)
        assert first.first_claimed_at == first.claimed_at is not None
        posts.change(conn, pid, allowed_from=[S.PUBLISHING], to=S.FAILED, actor="system",
                     action="retry", returning=False, lease_until=None)
        again = posts.claim(conn, pid, worker="w2", lease=timedelta(seconds=30),
                            uncertain=True)
    with store.begin() as conn:
        assert again == posts.require(conn, pid)
    assert again.first_claimed_at == first.first_claimed_at != again.claimed_at
    with store.begin() as conn:
        events = posts.list_events(conn, post_id=pid)
    assert [(e["action"], e["from_status"], e["to_status"]) for e in events] == [
        ("reclaim", "failed", "publishing"), ("retry", "publishing", "failed"),
        ("claim", "approved", "publishing"), ("edit", "approved", "approved"),
        ("queued", None, "approved")]
    assert {e["release_id"] for e in events} == {first.release_id} != {None}


def test_the_recording_path_refuses_a_post_that_moved_on(store: Store) -> None:
    """The publisher's one-statement record names the status the post is really in."""
    pid = _post(store)
    with pytest.raises(WorkflowError, match="is approved: cannot hold it"), \
            store.begin() as conn:
        posts.change(conn, pid, allowed_from=[S.PUBLISHING], to=S.HELD, actor="system",
                     action="hold", returning=False)
    with pytest.raises(WorkflowError, match="does not exist"), store.begin() as conn:
        posts.change(conn, pid + 1000, allowed_from=[S.PUBLISHING], to=S.HELD,
                     actor="system", action="hold", returning=False)
    with store.begin() as conn:
        assert posts.require(conn, pid).status == S.APPROVED
        assert [e["action"] for e in posts.list_events(conn, post_id=pid)] == ["queued"]


def test_due_heads_keep_order_per_channel_and_skip_busy_channels(store: Store) -> None:
    now = datetime.now(UTC)
    first = _post(store, "mastodon", key="m1", publish_at=now - timedelta(minutes=2))
    _post(store, "mastodon", key="m2", publish_at=now - timedelta(minutes=1))
    fb = _post(store, "facebook", key="f1", publish_at=now - timedelta(minutes=1))
    _post(store, "email", key="e1", publish_at=now + timedelta(hours=1))
    with store.begin() as conn:
        heads = posts.due_heads(conn, now)
        assert sorted(i for i, _ in heads) == sorted([first, fb])
        claimed = posts.claim(conn, first, worker="w1", lease=timedelta(seconds=30),
                              uncertain=False)
    with store.begin() as conn:
        again = {posts.require(conn, i).channel for i, _ in posts.due_heads(conn, now)}
    assert claimed.channel not in again and again == {"facebook"}


def _claim_pass(store: Store, now: datetime) -> list[int]:
    """What a publisher's claim pass takes: every due head it can claim right now."""
    with store.begin() as conn:
        if not store.is_sqlite:  # a pass that waited on a row lock would fail here
            conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
        claimed = [posts.claim(conn, post_id, worker="w1", lease=timedelta(seconds=30),
                               uncertain=uncertain)
                   for post_id, uncertain in posts.due_heads(conn, now)]
    return [post.id for post in claimed if post is not None]


def test_a_head_a_reviewer_holds_is_passed_over_not_waited_for(pg_url: str) -> None:
    """On PostgreSQL a reviewer's edit locks the post until it commits: the claim pass
    neither waits for that lock nor takes the post behind it (the line keeps its order);
    the next pass after the edit claims the head."""
    store = Store(pg_url)
    now = datetime.now(UTC)
    first = _post(store, publish_at=now - timedelta(minutes=2), key="one")
    _post(store, publish_at=now - timedelta(minutes=1), key="two")
    other = _post(store, "facebook", publish_at=now - timedelta(minutes=1), key="fb")
    with store.engine.connect() as reviewer:
        edit = reviewer.begin()
        posts.require(reviewer, first, lock=True)
        assert _claim_pass(store, now) == [other]
        edit.commit()
    assert _claim_pass(store, now) == [first]
    store.dispose()


def test_expired_lease_is_reclaimed_as_uncertain(store: Store) -> None:
    now = datetime.now(UTC)
    pid = _post(store, publish_at=now - timedelta(minutes=1))
    with store.begin() as conn:
        (post_id, _), = posts.due_heads(conn, now)
        posts.claim(conn, post_id, worker="dead", lease=timedelta(seconds=1), uncertain=False)
    with store.begin() as conn:
        assert posts.due_heads(conn, now) == []
        heads = posts.due_heads(conn, now + timedelta(seconds=5))
    assert heads == [(pid, True)]


def test_source_state_round_trip(store: Store) -> None:
    with store.begin() as conn:
        state = source_store.get(conn, "site")
        assert not state.initialised
        state.etag, state.initialised, state.data = '"abc"', True, {"files": {"a": [1, 2]}}
        source_store.put(conn, state)
        source_store.put(conn, state)
    with store.begin() as conn:
        back = source_store.get(conn, "site")
    assert back.etag == '"abc"' and back.initialised and back.data["files"]["a"] == [1, 2]


def test_dedup_lookups_use_indexes(store: Store) -> None:
    """The query plans of the three dedup lookups, with enough rows for the planner to care."""
    from bot.store.schema import releases as table

    now = datetime.now(UTC)
    rows = [{"source": "press", "key": f"k{i}", "url": None, "url_norm": f"u{i}",
             "title": "t", "summary": "", "body": "", "body_html": "", "images": [],
             "tags": [], "overrides": {}, "links": [], "content_hash": f"{i:064d}",
             "first_seen_at": now, "updated_at": now} for i in range(3000)]
    queries = {
        "key": "SELECT id FROM releases WHERE source='press' AND key='k1'",
        "url": "SELECT id FROM releases WHERE source='press' AND url_norm='u1'",
        "hash": f"SELECT id FROM releases WHERE source='press' AND content_hash='{1:064d}'",
    }
    with store.begin() as conn:
        conn.execute(table.insert(), rows)
        conn.exec_driver_sql("ANALYZE")
        prefix = "EXPLAIN QUERY PLAN " if store.is_sqlite else "EXPLAIN "
        plans = {name: " ".join(str(r[-1]) for r in conn.exec_driver_sql(prefix + q))
                 for name, q in queries.items()}
    expected = {"key": "uq_releases_source_key", "url": "ix_releases_source_url_norm",
                "hash": "ix_releases_source_content_hash"}
    if store.is_sqlite:  # SQLite names a UNIQUE constraint's index itself
        expected["key"] = "(source=? AND key=?)"
    for name, index in expected.items():
        assert index in plans[name], (name, plans[name])
        assert "SCAN releases" not in plans[name] and "Seq Scan" not in plans[name]


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(sa.exc.StatementError, match="timezone-aware"), store.begin() as conn:
        releases.insert(conn, release(published_at=datetime(2026, 1, 1)))


def test_an_old_schema_is_upgraded_in_place(tmp_path: object) -> None:
    """A database made by the first release of the schema is upgraded at the next start."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from bot.store.db import make_engine

    url = f"sqlite:///{tmp_path}/old.db"
    engine = make_engine(url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", "bot/migrations")
    cfg.attributes["engine"] = engine
    command.upgrade(cfg, "0001")
    # the 0001 columns only: today's insert writes columns later revisions added
    old = ("source", "key", "url", "title", "summary", "body", "body_html", "images", "tags",
           "overrides", "links", "content_hash", "first_seen_at", "updated_at")
    from bot.store import schema

    table = sa.Table("releases", sa.MetaData(),
                     *(c._copy() for c in schema.releases.c if c.name in (*old, "id")))
    now = datetime(2026, 3, 1, tzinfo=UTC)
    with engine.begin() as conn:
        values = {k: v for k, v in releases._values(release("kept")).items() if k in old}
        rid = conn.execute(table.insert(), {**values, "first_seen_at": now, "updated_at": now}
                           ).inserted_primary_key[0]
    engine.dispose()
    store = Store(url)
    from bot.store.db import HEAD

    assert store.current_revision() == HEAD
    with store.begin() as conn:
        assert releases.get(conn, rid) is not None
        names = {ix["name"] for ix in sa.inspect(conn).get_indexes("posts")}
    assert "ix_posts_channel_status_publish_at_id" in names
    store.dispose()


def test_the_line_lookup_uses_the_index(store: Store) -> None:
    with store.begin() as conn:
        if not store.is_sqlite:  # an empty table: tell the planner a scan is not an option
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        prefix = "EXPLAIN QUERY PLAN " if store.is_sqlite else "EXPLAIN "
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
            prefix + "SELECT id FROM posts WHERE channel='m' AND status='approved' "
            "ORDER BY publish_at, id LIMIT 1"))
    assert "ix_posts_channel_status_publish_at_id" in plan
    assert "TEMP B-TREE" not in plan and "Sort" not in plan  # the index gives the order


def test_a_channels_line_is_three_index_lookups_in_one_statement(tmp_path: Path) -> None:
    """The publisher's head query (publishing, approved, retrying: one row each) stays an
    index search per status, never a scan or a sort of the channel's queue."""
    store = Store(f"sqlite:///{tmp_path}/line.db")
    with store.begin() as conn:
        sql = str(posts._LINE.params(channel="m").compile(
            conn, compile_kwargs={"literal_binds": True}))
        plan = [str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
    store.dispose()
    searches = [step for step in plan if step.startswith("SEARCH posts")]
    assert len(searches) == 3, plan
    assert all("ix_posts_channel_status_publish_at_id" in step for step in searches), plan
    assert not [step for step in plan if "TEMP B-TREE" in step or step == "SCAN posts"], plan


def test_batch_lookup_answers_like_one_by_one(store: Store) -> None:
    with store.begin() as conn:
        releases.insert(conn, release("old", url="https://www.example.org/news/old"))
        batch = [release("old", title="changed"),                              # by key
                 release("moved", url="https://www.example.org/news/old/"),     # by link
                 release("new-1", url="https://www.example.org/news/n"),        # new
                 release("new-2", url="https://www.example.org/news/n?utm_source=x")]  # dup
        known = releases.Known(conn, "press", batch)
        found = [known.find(r) for r in batch[:3]]
        assert [row is not None for row in found] == [True, True, False]
        assert [r.id for r in found[:2]] == [releases.find(conn, batch[0]).id] * 2
        rid = releases.insert(conn, batch[2])
        known.add(rid, batch[2])
        assert known.find(batch[3]).id == rid  # the batch's own earlier item counts too


def _search_objects(store: Store) -> set[tuple[str, str]]:
    """The search index's objects: FTS5's table and triggers (not its shadow tables), or
    PostgreSQL's index."""
    with store.engine.connect() as conn:
        if store.is_sqlite:
            rows = conn.exec_driver_sql(
                "SELECT type, name FROM sqlite_master WHERE name LIKE 'posts_search%' "
                "AND NOT (type = 'table' AND name LIKE 'posts_search\\_%' ESCAPE '\\')")
        else:
            rows = conn.exec_driver_sql(
                "SELECT 'index', indexname FROM pg_indexes WHERE indexname = 'ix_posts_search'")
        return {(r[0], r[1]) for r in rows}


def test_the_search_index_is_the_same_new_or_migrated(database_url: str, tmp_path: Path
                                                      ) -> None:
    """Migration 0013 makes what a new database gets, and fills it from posts stored before:
    a post queued at 0012 is found by words of its text after the upgrade."""
    from alembic import command

    from bot.store.history import Filters
    from bot.store.history import search as find

    migrated = Store(database_url, migrate=False)
    command.upgrade(migrated._alembic(), "0012")
    with migrated.begin() as conn:
        rid = releases.insert(conn, release("old"))
        posts.insert(conn, channel="m", status=S.PENDING, actor="t", release_id=rid,
                     title="Old title", text="Harbour cranes return to the quay")
    migrated.upgrade()
    with migrated.begin() as conn:
        found, total = find(conn, Filters(words="cranes QUAY"), offset=0, limit=10)
    assert total == 1 and found[0].title == "Old title"
    objects = _search_objects(migrated)
    if migrated.is_sqlite:
        assert objects == {("table", "posts_search"), ("trigger", "posts_search_insert"),
                           ("trigger", "posts_search_delete"),
                           ("trigger", "posts_search_update")}
        new = Store(f"sqlite:///{tmp_path}/new.db")
        assert _search_objects(new) == objects
        new.dispose()
    else:
        assert objects == {("index", "ix_posts_search")}
    migrated.downgrade("0012")                    # and a rollback takes it away
    assert _search_objects(migrated) == set()
    migrated.dispose()


def test_search_follows_edits_and_deletes(store: Store) -> None:
    from bot.store.history import Filters
    from bot.store.history import search as find

    with store.begin() as conn:
        rid = releases.insert(conn, release("s"))
        pid = posts.insert(conn, channel="m", status=S.PENDING, actor="t", release_id=rid,
                           title="Tram line", text="The tram reaches Zuidpark")
        posts.change(conn, pid, allowed_from=[S.PENDING], to=S.PENDING, actor="t",
                     action="edit", text="The tram reaches Noordpark")

    def total(words: str) -> int:
        with store.begin() as conn:
            return find(conn, Filters(words=words), offset=0, limit=10)[1]

    assert (total("zuidpark"), total("noordpark"), total("tram"), total("noord")) == (0, 1, 1, 1)
    assert total("OR") == 0 and total('"') == total("") == 1     # syntax is text; nothing: all
    with store.begin() as conn:
        conn.execute(sa.text("DELETE FROM posts WHERE id = :i"), {"i": pid})
    assert total("noordpark") == 0
