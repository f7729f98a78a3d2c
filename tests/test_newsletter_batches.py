"""Issue 27 item 18: recipients are reserved in batches, and a crash mid-batch still mails
nobody twice. Real aiosmtpd, a real child process killed with SIGKILL, SQLite and
PostgreSQL (the `store` fixture runs on both)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from bot.store import Store, meta
from bot.store import deliveries as ledger
from channels.email.send import BATCH
from tests.channels.test_email import CHILD, ROOT, add_people, make_post
from tests.fakes.smtp import FakeSMTP


@pytest.fixture
def fake() -> Iterator[FakeSMTP]:
    server = FakeSMTP()
    with server.running() as running:
        yield running


def counts(store: Store, post_id: int) -> dict[str, int]:
    with store.begin() as conn:
        return ledger.counts(conn, post_id)


@pytest.mark.slow
def test_sigkill_mid_batch_then_resume_mails_each_address_at_most_once(
        store: Store, fake: FakeSMTP) -> None:
    """Two connections, each holding a batch of reserved recipients, killed while a DATA
    is on the wire: what was accepted is `sent`, what was in flight is `uncertain`, and
    the rest of both batches (reserved, never sent) goes out on the resume, once."""
    emails = add_people(store, BATCH * 2 + 30)
    post = make_post(store)
    child: dict[str, subprocess.Popen[bytes]] = {}
    seen: dict[str, int] = {}

    def kill_mid_batch(_: Any) -> str | None:
        if len(fake.messages) == 30 and "first" in child:
            proc = child.pop("first")
            seen.update(counts(store, post.id))  # while the child still holds its batches
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            return "451 4.3.0 the client went away"
        return None

    fake.on_data = kill_mid_batch
    args = [sys.executable, "-c", CHILD, store.url, str(fake.port), str(post.id), "skip", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(args, cwd=ROOT, env=env)
    child["first"] = first
    assert first.wait(120) == -signal.SIGKILL
    assert seen.get(ledger.CLAIMED, 0) > 0, f"no batch was reserved at the crash: {seen}"
    after_crash = counts(store, post.id)
    accepted = {m.rcpt_tos[0] for m in fake.messages}
    in_flight = after_crash.get(ledger.SENDING, 0)
    assert 1 <= in_flight <= 2, after_crash  # one message per connection, at most
    # the other connection's message may have been accepted as the child died, unrecorded
    assert after_crash[ledger.SENT] + in_flight >= len(accepted) >= 30, after_crash
    assert after_crash[ledger.SENT] >= 29, after_crash

    second = subprocess.run(args, cwd=ROOT, env=env, timeout=300, check=False)

    assert second.returncode == 0
    mailed = fake.counts()
    assert max(mailed.values()) == 1, "an address was mailed twice"
    with store.begin() as conn:
        progress = ledger.progress(conn, post.id)
    assert progress == {"sent": len(emails) - in_flight, "failed": 0, "remaining": 0,
                        "skipped": 0, "uncertain": in_flight}
    # the reserved, unsent ones went too; the in-flight ones only if the server took them.
    # How many of those it took is read at the end: the server may record the other
    # connection's message a moment after the child died, after `accepted` was read
    assert set(mailed) <= set(emails)
    assert len(emails) - in_flight <= len(mailed) <= len(emails)
    assert len(mailed) >= len(accepted)


def test_reserved_rows_after_a_database_restart_count_as_uncertain(store: Store) -> None:
    """`start` commits without waiting for the disk on PostgreSQL: after a server restart
    a `claimed` row may hide a message that went, so it is not sent again. (The restart
    is what `settle` reads: the server's start time differs from the claim's.)"""
    add_people(store, 4)
    post = make_post(store)
    with store.begin() as conn:
        ledger.add(conn, post.id, [(i, f"<m{i}@example.org>") for i in range(1, 5)])
        token = conn.execute(ledger.posts.select().where(ledger.posts.c.id == post.id)
                             ).one().claim_token
        assert ledger.claim(conn, post.id, [1, 2, 3], token) == {1, 2, 3}
        assert ledger.start(conn, post.id, 1, token)
        ledger.mark_sent(conn, post.id, 1, token)
        assert ledger.start(conn, post.id, 2, token)
        if not store.is_sqlite:
            meta.put(conn, f"ledger-incarnation:{post.id}", "a server start long ago")
    with store.begin() as conn:
        assert ledger.settle(conn, post.id) == (1 if store.is_sqlite else 2)
        after = ledger.counts(conn, post.id)
    if store.is_sqlite:  # no server to restart: the reserved row never went out
        assert after == {"sent": 1, "uncertain": 1, "pending": 2}
    else:
        assert after == {"sent": 1, "uncertain": 2, "pending": 1}


def test_a_ledger_writer_whose_thread_died_fails_every_write_loudly(store: Store) -> None:
    """A send never waits for ever on a writer that is gone: the write queued when its
    thread failed, and every later one, raise."""
    import asyncio
    import threading

    from channels.email.ledgerwriter import GroupWriter

    def broken(group: list[Any], conn: Any) -> Any:
        raise RuntimeError("the writer's thread failed")

    async def scenario() -> list[str]:
        writer = GroupWriter(store)
        await writer.close()  # a fresh thread, then one that fails on its first group
        writer._commit = broken  # type: ignore[method-assign]
        writer.thread = threading.Thread(target=writer._run, daemon=True)
        writer.thread.start()
        errors = []
        for _ in range(2):
            try:
                await asyncio.wait_for(writer.write(lambda conn: None), timeout=30)
            except RuntimeError as exc:
                errors.append(str(exc))
        return errors

    errors = asyncio.run(scenario())
    assert errors[0] == "the writer's thread failed"
    assert errors[1].startswith("the ledger writer stopped")
