"""The store side of issue 26's sign-in and subscribe fixes, on SQLite and PostgreSQL:
known sign-in addresses, and the queue of confirmation mails with its claims."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot import clock
from bot import subscribers as subs
from bot.store import Store
from bot.store import subscribers as sub_store
from bot.store import users as user_store


def test_known_addresses_are_per_account_and_expire(store: Store,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-01-01T09:00:00+00:00")
    with store.begin() as conn:
        rita = user_store.add(conn, "rita", "a-long-enough-password", "reviewer")
        user_store.add(conn, "ed", "a-long-enough-password", "editor")
        user_store.remember_address(conn, rita, "192.0.2.10")
        user_store.remember_address(conn, rita, "192.0.2.10")     # again: no duplicate key
    with store.begin() as conn:
        assert user_store.knows_address(conn, "rita", "192.0.2.10")
        assert not user_store.knows_address(conn, "ed", "192.0.2.10")
        assert not user_store.knows_address(conn, "rita", "192.0.2.11")
        assert not user_store.knows_address(conn, "nobody", "192.0.2.10")
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-07-01T09:00:00+00:00")   # 181 days on
    with store.begin() as conn:
        assert not user_store.knows_address(conn, "rita", "192.0.2.10")
        user_store.remember_address(conn, rita, "198.51.100.1")   # forgets the stale one
        assert user_store.knows_address(conn, "rita", "198.51.100.1")


def test_a_queued_confirmation_is_claimed_once_and_retried_after_a_failure(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot import confirmations

    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-01-01T09:00:00+00:00")
    now = clock.now()
    pending = subs.request(store, "ann@example.org")
    assert pending is not None and pending.confirm_due_at == now
    assert subs.request(store, "ann@example.org") is not None      # again: one mail queued
    subs.add(store, "bob@example.org")
    assert subs.request(store, "bob@example.org") is None          # active: nothing queued
    with store.begin() as conn:
        claimed = sub_store.claim_due_confirmation(conn, now, until=now + timedelta(minutes=10))
        assert claimed is not None and claimed.email == "ann@example.org"
        assert sub_store.claim_due_confirmation(conn, now, until=now) is None  # taken
    # a failed send (no server on port 1) is due again after RETRY_AFTER
    with store.begin() as conn:
        sub_store.reschedule_confirmation(conn, claimed.id, now + timedelta(minutes=10), now)
    from tests.test_public_web import make_config

    sent = asyncio.run(confirmations.send_due(make_config(store, 1), store))
    assert sent == 0
    with store.begin() as conn:
        again = sub_store.get(conn, claimed.id)
    assert again is not None and again.confirm_due_at == now + confirmations.RETRY_AFTER
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-01-02T09:00:00+00:00")   # a day on: given up
    with store.begin() as conn:
        sub_store.reschedule_confirmation(conn, claimed.id, again.confirm_due_at, clock.now())
    assert asyncio.run(confirmations.send_due(make_config(store, 1), store)) == 0
    with store.begin() as conn:
        assert not sub_store.confirmation_due(conn, clock.now() + timedelta(days=365))
