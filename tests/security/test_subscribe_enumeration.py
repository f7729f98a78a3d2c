"""The subscribe form cannot tell a stranger who reads the newsletter: it answers the same
(status, body, headers) for a new address and one already subscribed, before any mail is
sent, and whatever the mail server does — slow, or down.

The app is served on 127.0.0.1; the mail server is a real aiosmtpd server whose DATA
answer the test holds back until it releases it, so "the answer came first" is shown by
the order of events, not by a stopwatch.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiosmtpd.smtp import Envelope

from bot import subscribers as subs
from bot.config import EmailConfig
from bot.store import Store
from bot.store import subscribers as sub_store
from bot.web.app import create_app
from channels.email import SmtpConnector
from tests.fakes.server import LiveServer
from tests.fakes.smtp import FakeSMTP
from tests.test_public_web import make_config, queued, received


class Gate:
    """Holds every mail at DATA until `release` is set (a slow mail server, on cue)."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.release = threading.Event()

    def __call__(self, envelope: Envelope) -> str | None:
        self.reached.set()
        if not self.release.wait(timeout=60):
            return "451 4.3.0 the test never released this mail"
        return None


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(f"sqlite:///{tmp_path}/t.db")
    yield db
    db.dispose()


def subscribe(base: str, email: str) -> httpx.Response:
    """One visitor's form, on a connection of its own."""
    with httpx.Client(base_url=base, timeout=20) as visitor:
        try:
            return visitor.post("/subscribe", data={"email": email, "name": ""})
        except httpx.ReadTimeout:
            pytest.fail(f"the answer for {email} waited for the mail server")


def same_answer(one: httpx.Response, other: httpx.Response) -> None:
    def seen(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
        headers = sorted((k, v) for k, v in response.headers.items() if k != "date")
        return response.status_code, response.content, headers

    assert seen(one) == seen(other)


def test_the_answer_does_not_wait_for_the_mail_and_is_the_same_for_everyone(
        store: Store) -> None:
    gate = Gate()
    fake = FakeSMTP(on_data=gate)
    with fake.running():
        config = make_config(store, fake.port)
        subs.add(store, "reader@example.org")
        with LiveServer(create_app(config, store)) as server:
            new = subscribe(server.url, "new@example.org")
            assert gate.reached.wait(timeout=20), "the confirmation was never sent"
            # the answer is in hand while the mail server still holds the mail
            assert not gate.release.is_set() and fake.messages == []
            known = subscribe(server.url, "reader@example.org")
            again = subscribe(server.url, "new@example.org")   # a mail is on its way
            gate.release.set()
            [mail] = received(fake, 1)
    assert new.status_code == 200 and "Check your inbox" in new.text
    same_answer(new, known)
    same_answer(new, again)
    assert mail.rcpt_tos == ["new@example.org"]   # the very mail that was held
    assert fake.connections == 1
    assert "/confirm/" in mail.parse().get_content()


def test_a_mail_server_that_is_down_shows_in_no_answer_and_loses_no_mail(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    down = FakeSMTP()
    with down.running():
        port = down.port                                   # nothing listens there now
    config = make_config(store, port)
    subs.add(store, "reader@example.org")
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-12-05T10:00:00+00:00")
    with LiveServer(create_app(config, store)) as server:
        new = subscribe(server.url, "new@example.org")
        known = subscribe(server.url, "reader@example.org")
        tried = wait_for_retry(store, "new@example.org")
    same_answer(new, known)
    assert new.status_code == 200
    assert queued(store, "new@example.org")               # kept in the store for later
    assert tried == "2026-12-05T10:05:00+00:00"

    # the server is back; the service's pass, five minutes later, sends it
    from bot import confirmations

    up = FakeSMTP(port=port)
    with up.running():
        monkeypatch.setenv("PRESSBOT_CLOCK", "2026-12-05T10:05:00+00:00")
        cfg = config.channels["newsletter"]
        assert isinstance(cfg, EmailConfig)
        sent = asyncio.run(confirmations.send_due(
            config, store, smtp=SmtpConnector(cfg, local_hostname="run.test")))
    assert sent == 1
    assert [m.rcpt_tos for m in up.messages] == [["new@example.org"]]
    assert not queued(store, "new@example.org")


def wait_for_retry(store: Store, email: str) -> str:
    """When the mail is due again, once the web process's attempt failed (claimed, it is
    due only after the lease: 10:10)."""
    deadline = time.monotonic() + 20
    while True:
        with store.begin() as conn:
            found = sub_store.by_email(conn, email)
        assert found is not None and found.confirm_due_at is not None
        if found.confirm_due_at != datetime(2026, 12, 5, 10, 10, tzinfo=UTC) and \
                found.confirm_due_at != found.confirm_sent_at:
            return found.confirm_due_at.isoformat()
        assert time.monotonic() < deadline, "the web process never tried to send the mail"
        time.sleep(0.01)
