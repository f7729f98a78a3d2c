"""An idle publish loop skips its passes (`bot.quiet`) and still publishes on time.

Each tick runs `bot.quiet.publish_pass`, the service's own tick, against a real store. The
wall clock is `PRESSBOT_CLOCK` (set by the test), the monotonic clock a counter the test
moves: no waiting for time to pass. What a skipped tick cost the database is counted at
the driver (every statement SQLAlchemy sends).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.config import Config, load_config
from bot.health import Health
from bot.loops import Loops
from bot.models import Post, PostStatus, Release
from bot.publisher import NEVER, Publisher
from bot.quiet import AT_MOST, PassGate, publish_pass
from bot.store import Store, posts, releases
from bot.store.schema import posts as posts_table
from bot.workflow import approve, queue_release
from channels.base import Transient
from tests.channels.memory import MemoryChannel
from tests.helpers import SAFETY, Workspace, make_workspace

S = PostStatus
T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CHANNEL = """
[channels.memory]
type = "outbox"
like = "mastodon"
approval = "{approval}"
"""


class Rig:
    """A store with one post, the publisher, the gate with a monotonic clock of the test's,
    and the wall clock at `PRESSBOT_CLOCK`."""

    def __init__(self, root: Path, database_url: str, monkeypatch: pytest.MonkeyPatch, *,
                 approval: str = "auto") -> None:
        self.monkeypatch = monkeypatch
        self.at(T0)
        self.ws: Workspace = make_workspace(root, database_url=database_url,
                                            channels=CHANNEL.format(approval=approval))
        self.config: Config = load_config(self.ws.config)
        self.store = Store(self.config.bot.database_url)
        with self.store.begin() as conn:
            r = Release(source="press", key="r1", title="Release 1",
                        url="https://www.example.org/1", summary="Short.")
            queue_release(conn, self.config, releases.insert(conn, r), r, None)
        self.channel = MemoryChannel()
        self.publisher = Publisher(self.config, self.store,
                                   {"memory": self.channel},
                                   worker="here:1")
        self.health = Health(self.config, self.store)
        self.ticks = 0.0
        self.gate = PassGate(self.store, ticks=lambda: self.ticks)
        self.statements = 0
        sa.event.listen(self.store.engine, "before_cursor_execute", self._count)

    def _count(self, *_: object) -> None:
        self.statements += 1

    def at(self, when: datetime) -> None:
        self.monkeypatch.setenv("PRESSBOT_CLOCK", when.isoformat())

    def tick(self) -> bool:
        """One tick of the publish loop, a second later on the monotonic clock; True when
        it ran a full pass."""
        self.ticks += 1
        return asyncio.run(publish_pass(self.gate, self.publisher, self.health))

    def idle(self, ticks: int = 5) -> None:
        """Ticks that must all be skipped, without one statement sent to the database."""
        before = self.statements
        assert [self.tick() for _ in range(ticks)] == [False] * ticks
        assert self.statements == before

    def post(self) -> Post:
        with self.store.begin() as conn:
            return posts.require(conn, 1)

    def set_slot(self, when: datetime) -> None:
        with self.store.begin() as conn:
            conn.execute(posts_table.update().values(publish_at=when))

    def close(self) -> None:
        self.gate.changes.close()
        self.store.dispose()


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Rig]:
    made = Rig(tmp_path, f"sqlite:///{tmp_path}/pressbot.db", monkeypatch)
    yield made
    made.close()


def test_an_idle_tick_sends_nothing_and_a_post_due_at_t_goes_out_at_t(rig: Rig) -> None:
    slot = T0 + timedelta(hours=1)
    rig.set_slot(slot)
    assert rig.tick()   # the first tick looks: nothing due before the slot
    assert rig.publisher.quiet_until == slot and rig.channel.sent == []
    rig.idle()
    rig.at(slot - timedelta(seconds=1))
    rig.idle()
    assert rig.health.last_pass_at == slot - timedelta(seconds=1)   # a skipped tick looked
    rig.at(slot)
    assert rig.tick()
    assert [p.id for p in rig.channel.sent] == [1] and rig.post().status == S.PUBLISHED
    # its own writes are a change: one more pass finds the queue empty, then quiet for good
    assert rig.tick() and rig.publisher.quiet_until == NEVER
    rig.idle()


def test_a_retry_is_tried_at_its_time(rig: Rig) -> None:
    rig.channel.script = lambda post, n: Transient("503", retry_after=600) if n == 1 else None
    assert rig.tick()
    retry_at = rig.post().next_attempt_at
    assert rig.post().status == S.FAILED and retry_at is not None
    assert retry_at >= T0 + timedelta(seconds=600)
    assert rig.tick()   # its own writes: looked again
    assert rig.publisher.quiet_until == retry_at
    rig.idle()
    rig.at(retry_at - timedelta(seconds=1))
    rig.idle()
    rig.at(retry_at)
    assert rig.tick() and rig.post().status == S.PUBLISHED and rig.channel.calls == 2


def test_another_workers_claim_is_looked_at_every_tick_and_taken_when_its_lease_ends(
        rig: Rig) -> None:
    with rig.store.begin() as conn:
        claimed = posts.claim(conn, 1, worker="elsewhere:42", lease=timedelta(minutes=5),
                              uncertain=False)
    assert claimed is not None and claimed.lease_until is not None
    # its worker may die, or finish, at any moment: no tick is skipped meanwhile
    assert [rig.tick() for _ in range(3)] == [True] * 3
    assert rig.post().status == S.PUBLISHING and rig.channel.calls == 0
    rig.at(claimed.lease_until)
    assert rig.tick()
    # taken over as uncertain: looked up on the platform first (not found there), then sent
    assert rig.post().status == S.PUBLISHED and rig.channel.lookups == 1
    assert [p.id for p in rig.channel.sent] == [1]


def test_an_outage_ends_by_the_clock_and_a_pause_only_by_a_commit(rig: Rig) -> None:
    from bot.store import channels as channel_store

    until = T0 + timedelta(minutes=10)
    with rig.store.begin() as conn:
        channel_store._upsert(conn, "memory", outage_until=until)
    assert rig.tick() and rig.publisher.quiet_until == until
    rig.idle()
    with rig.store.begin() as conn:
        channel_store.pause(conn, "memory", by="alice", reason="checking the account")
    assert rig.tick() and rig.publisher.quiet_until == NEVER
    rig.at(until + timedelta(minutes=1))
    rig.idle()
    with rig.store.begin() as conn:
        channel_store.resume(conn, "memory", by="alice")
    assert rig.tick() and rig.post().status == S.PUBLISHED


def test_the_safety_net_runs_a_full_pass_however_quiet(rig: Rig) -> None:
    rig.set_slot(T0 + timedelta(days=1))
    assert rig.tick()
    rig.idle(int(AT_MOST) - 1)   # the ticks of the next AT_MOST seconds, all but the last
    assert rig.tick()   # AT_MOST seconds after the last full pass


def test_a_failed_pass_is_followed_by_a_full_pass(rig: Rig) -> None:
    rig.set_slot(T0 + timedelta(days=1))
    assert rig.tick()
    rig.idle(2)
    rig.ticks += AT_MOST   # the safety net: a full pass, which fails

    async def broken() -> None:
        raise RuntimeError("the database went away")

    rig.publisher.run_once = broken  # type: ignore[method-assign,assignment]
    with pytest.raises(RuntimeError):
        rig.tick()
    del rig.publisher.run_once
    assert rig.tick()   # not skipped: the failed one said nothing about what is due


def test_a_commit_from_this_process_or_another_wakes_the_pass(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made = Rig(tmp_path, f"sqlite:///{tmp_path}/pressbot.db", monkeypatch, approval="manual")
    try:
        assert made.post().status == S.PENDING
        assert made.tick() and made.publisher.quiet_until == NEVER
        made.idle()
        # `pressbot approve` in a process of its own, as a person at a terminal runs it
        approved = subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(made.ws.config), "approve", "1"],
            capture_output=True, text=True, timeout=SAFETY,
            env={**os.environ, "PRESSBOT_CLOCK": T0.isoformat()})
        assert approved.returncode == 0, approved.stderr
        assert made.tick()
        assert made.post().status == S.PUBLISHED and len(made.channel.sent) == 1
        assert made.tick()
        made.idle()
        # the review page runs in the service's process, on a connection of its pool
        with made.store.begin() as conn:
            r = Release(source="press", key="r2", title="Release 2",
                        url="https://www.example.org/2", summary="Short.")
            queue_release(conn, made.config, releases.insert(conn, r), r, None)
        assert made.tick()   # a new pending post: looked, nothing to send
        made.idle()
        with made.store.begin_immediate() as conn:
            approve(conn, made.config, 2, "alice")
        assert made.tick() and made.post().status == S.PUBLISHED
        assert [p.id for p in made.channel.sent] == [1, 2]
    finally:
        made.close()


def test_on_postgresql_every_tick_is_a_pass(tmp_path: Path, pg_url: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    made = Rig(tmp_path, pg_url, monkeypatch)
    try:
        made.set_slot(T0 + timedelta(hours=1))
        assert [made.tick() for _ in range(3)] == [True] * 3
        made.at(T0 + timedelta(hours=1))
        assert made.tick() and made.post().status == S.PUBLISHED
    finally:
        made.close()


def test_a_skipped_tick_is_a_completed_pass_for_liveness(rig: Rig) -> None:
    rig.set_slot(T0 + timedelta(days=1))

    async def run() -> list[bool]:
        seen: list[bool] = []
        ticked = asyncio.Event()

        async def work() -> None:
            seen.append(await publish_pass(rig.gate, rig.publisher, rig.health))
            rig.ticks += 1
            if len(seen) >= 4:
                ticked.set()

        loops = Loops(lambda name, exc: None)
        loops.start("publish", 0.001, work, watched=True)
        await asyncio.wait_for(ticked.wait(), SAFETY)
        entry = loops.loops["publish"]
        first = entry.done_at
        ticked.clear()
        await asyncio.wait_for(ticked.wait(), SAFETY)
        await loops.stop(1)
        # each skipped tick completed: the loop's last pass is the latest tick, not the
        # last full pass (what `stalled`, and so /healthz, measure)
        assert first is not None and entry.done_at is not None and entry.done_at > first
        return seen

    seen = asyncio.run(run())
    assert seen[0] and not any(seen[1:]) and len(seen) >= 5
    assert rig.health.last_pass_at is not None


@pytest.mark.slow
def test_the_running_service_publishes_a_post_approved_from_the_cli(tmp_path: Path) -> None:
    """`pressbot run` idles (its passes skipped: nothing approved, nothing changes) until a
    person approves the post with `pressbot approve` from a terminal."""
    from tests.helpers import write_release
    from tests.test_service import free_port
    from tests.test_service_health import published_titles, service, workspace

    port = free_port()
    ws = workspace(tmp_path, port=port, channels=CHANNEL.format(approval="manual")
                   .replace("memory", "mastodon"))
    write_release(ws.content, "a.md", "Waits for a person")
    with service(ws, port) as svc:
        def queued() -> list[dict[str, object]]:
            return [p for p in json.loads(ws.run("queue", "--json").stdout)
                    if p["status"] == "pending"]

        svc.wait(lambda: bool(queued()))
        # a few ticks of the publish loop go by with nothing to do
        stamps: set[str] = set()

        def ticked() -> bool:
            stamps.add(str(svc.health().get("last_publish_pass_at")))
            return len(stamps) > 4

        svc.wait(ticked)
        assert ws.run("approve", str(queued()[0]["id"])).exit_code == 0
        svc.wait(lambda: "Waits for a person" in published_titles(ws))
