"""The newsletter under faults, counted on the SMTP server's own record (aiosmtpd on
127.0.0.1): a store write that fails after the server accepted a message, an answer to
DATA that comes after the client's timeout, a server that is down or not taking mail, and
what `/healthz` says while an outage goes on. Time is the frozen clock (`PRESSBOT_CLOCK`),
moved by the test: no assertion on how long anything took.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bot.config import Config
from bot.health import Health, channel_report
from bot.models import Post
from bot.publisher import Publisher
from bot.store import Store
from bot.store import channels as channel_store
from bot.store import deliveries as ledger
from bot.store import posts as post_store
from channels.base import Transient
from tests.channels.memory import MemoryChannel
from tests.channels.test_email import add_people, make_channel, make_post, publish_until_done
from tests.conftest import PG_URL
from tests.fakes.smtp import FakeSMTP

pytestmark = pytest.mark.anyio
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def fake() -> Iterator[FakeSMTP]:
    server = FakeSMTP()
    with server.running() as running:
        yield running


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """Set the frozen clock every `clock.now()` reads."""
    def move(when: datetime) -> None:
        monkeypatch.setenv("PRESSBOT_CLOCK", when.isoformat())

    move(T0)
    return move


def progress(store: Store, post: Post) -> dict[str, int]:
    with store.begin() as conn:
        return ledger.progress(conn, post.id)


# ── item 2: the server accepted, then the database write failed ─────────────────────────

def database_outage(store: Store) -> tuple[Callable[[], None], Callable[[], None]]:
    """`down()` and `up()` for the store's database. PostgreSQL for real: the database
    stops taking connections and every session of it is ended (what a restart does to
    pressbot). SQLite has no server to stop: while down, SQLite itself interrupts every
    statement (a progress handler on each connection pressbot takes from the pool), so SQL
    run on the driver's own cursor fails as well as SQLAlchemy's."""
    if store.is_sqlite:
        failing = {"on": False}

        def refuse() -> int:  # called as a statement runs: non-zero interrupts it
            return 1 if failing["on"] else 0

        def on_checkout(dbapi_conn: Any, *_: Any) -> None:
            dbapi_conn.set_progress_handler(refuse, 1)

        sa.event.listen(store.engine, "checkout", on_checkout)
        return (lambda: failing.update(on=True)), (lambda: failing.update(on=False))
    assert PG_URL
    name = store.engine.url.database
    admin = sa.create_engine(sa.engine.make_url(PG_URL).set(drivername="postgresql+psycopg"),
                             isolation_level="AUTOCOMMIT")

    def down() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            conn.exec_driver_sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 f"WHERE datname = '{name}'")

    def up() -> None:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        admin.dispose()

    return down, up


async def test_a_message_accepted_before_the_database_failed_is_not_sent_again(
        store: Store, fake: FakeSMTP) -> None:
    emails = add_people(store, 10)
    post = make_post(store)
    channel = make_channel(store, fake.port, connections=1)
    down, up = database_outage(store)

    def fail_after_the_fourth(_: Any) -> None:
        if len(fake.messages) == 3:  # the 4th is being accepted now
            down()

    fake.on_data = fail_after_the_fourth
    with pytest.raises(sa.exc.OperationalError):
        await channel.publish(post)
    fake.on_data = None
    up()

    await publish_until_done(channel, post)

    assert fake.counts() == {e: 1 for e in emails}, "a subscriber was mailed twice"
    assert progress(store, post) == {"sent": 9, "failed": 0, "remaining": 0, "skipped": 0,
                                     "uncertain": 1}
    with store.begin() as conn:
        row = conn.execute(sa.select(ledger.deliveries).where(
            ledger.deliveries.c.status == ledger.UNCERTAIN)).one()
        shown = post_store.require(conn, post.id).extra["progress"]
        health = channel_report(conn, channel.config, T0)["newsletter"]
    assert row.subscriber_id == 4 and "never recorded" in row.last_error
    assert shown["uncertain"] == 1  # what `queue`, `show` and the review page read
    assert health["uncertain_recipients"] == 1  # what /healthz says


# ── item 3: the "250" after DATA came later than the timeout ────────────────────────────

async def test_an_answer_after_the_timeout_is_uncertain_not_a_reason_to_resend(
        store: Store, fake: FakeSMTP) -> None:
    emails = add_people(store, 6)
    post = make_post(store)
    channel = make_channel(store, fake.port, connections=1, timeout="2s")
    fake.answer_late.add(emails[2])

    await publish_until_done(channel, post)

    assert fake.counts() == {e: 1 for e in emails}, "the late-answered message went twice"
    assert progress(store, post)["uncertain"] == 1
    with store.begin() as conn:
        row = conn.execute(sa.select(ledger.deliveries).where(
            ledger.deliveries.c.status == ledger.UNCERTAIN)).one()
    assert row.subscriber_id == 3 and "after DATA" in row.last_error


async def test_with_resend_chosen_an_unanswered_message_goes_again(
        store: Store, fake: FakeSMTP) -> None:
    """`uncertain = "resend"`: at least once, for a team that prefers a double to a gap."""
    emails = add_people(store, 4)
    post = make_post(store)
    channel = make_channel(store, fake.port, connections=1, timeout="2s", uncertain="resend")
    fake.answer_late.add(emails[1])

    await publish_until_done(channel, post)

    assert fake.counts() == {e: 2 if e == emails[1] else 1 for e in emails}
    assert progress(store, post)["uncertain"] == 0


# ── item 4: an SMTP server that is down or not taking mail is an outage ─────────────────

def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def publisher_for(store: Store, port: int, **options: Any) -> tuple[Publisher, Config]:
    channel = make_channel(store, port, connections=1, **options)
    config = channel.config
    return Publisher(config, store, {"newsletter": channel}), config  # type: ignore[dict-item]


async def wait_out(publisher: Publisher, at: Callable[[datetime], None], hours: float, *,
                   start: datetime = T0, step: timedelta = timedelta(minutes=10)) -> datetime:
    """Run a publish pass every `step` of frozen time for `hours`; returns the time after."""
    now = start
    while now < start + timedelta(hours=hours):
        at(now)
        await publisher.run_once()
        now += step
    return now


def the_post(store: Store, post: Post) -> Post:
    with store.begin() as conn:
        return post_store.require(conn, post.id)


@pytest.mark.parametrize("down", ["refused", "421 greeting"])
async def test_a_three_hour_smtp_outage_holds_nothing_and_spends_no_attempt(
        store: Store, fake: FakeSMTP, at: Callable[[datetime], None], down: str) -> None:
    """Down from the start (connection refused), or up for two messages and then greeting
    every connection with 421: either way the channel waits, the newsletter is not held."""
    emails = add_people(store, 6)
    post = make_post(store)
    with contextlib.ExitStack() as stack:
        if down == "refused":
            server = FakeSMTP(port=closed_port())
        else:
            server = fake

            def busy_after_two(_: Any) -> None:
                if len(fake.messages) == 1:
                    fake.greeting = "421 4.3.2 too busy, try later"

            fake.on_data = busy_after_two
        publisher, _ = publisher_for(store, server.port, per_connection=2)

        now = await wait_out(publisher, at, hours=3)

        during = the_post(store, post)
        assert during.status == "failed" and during.attempts == 0, during.last_error
        with store.begin() as conn:
            state = channel_store.states(conn)["newsletter"]
        assert state.outages >= 5, "every pass that found the server down is an outage"
        # the server is back: the newsletter finishes, each subscriber mailed once
        if down == "refused":
            stack.enter_context(server.running())
        server.greeting = None
        server.on_data = None
        await wait_out(publisher, at, hours=2, start=now)
    assert the_post(store, post).status == "published"
    assert server.counts() == {e: 1 for e in emails}


async def test_421_to_every_message_is_an_outage_too(
        store: Store, fake: FakeSMTP, at: Callable[[datetime], None]) -> None:
    add_people(store, 3)
    post = make_post(store)
    fake.drop_after = 0  # every MAIL FROM: "421 closing" and the connection is gone
    publisher, _ = publisher_for(store, fake.port)

    await wait_out(publisher, at, hours=3)

    during = the_post(store, post)
    assert during.status == "failed" and during.attempts == 0, during.last_error
    assert progress(store, post)["remaining"] == 3 and not fake.messages
    with store.begin() as conn:
        rows = conn.execute(sa.select(ledger.deliveries.c.attempts)).scalars().all()
    assert rows == [0, 0, 0], "a recipient spent attempts on the server's outage"


# ── item 5: /healthz says "outage" until the platform answers again ─────────────────────

async def test_health_stays_outage_between_backoff_waits_until_a_request_succeeds(
        tmp_path: Any, database_url: str, at: Callable[[datetime], None]) -> None:
    from tests.test_publisher import setup

    store, config = setup(tmp_path, database_url, n=1)
    up = {"now": False}
    channel = MemoryChannel(script=lambda post, n: None if up["now"] else Transient(
        "Mastodon unreachable: ConnectError", outage=True))
    publisher = Publisher(config, store, {"memory": channel})  # type: ignore[arg-type]
    health = Health(config, store)  # type: ignore[arg-type]

    def report() -> tuple[bool, str]:
        health.published()  # the scheduler is alive: only the channel is in question
        ok, data = health.report()
        return ok, data["channels"]["memory"]["state"]

    await publisher.run_once()
    assert report() == (False, "outage")
    with store.begin() as conn:
        until = channel_store.states(conn)["memory"].outage_until
    assert until is not None
    at(until + timedelta(seconds=1))  # the backoff wait is over; nothing answered yet
    assert report() == (False, "outage")

    await publisher.run_once()  # still down
    at(T0 + timedelta(hours=2))
    assert report() == (False, "outage")

    up["now"] = True
    await publisher.run_once()
    assert report() == (True, "ok")
