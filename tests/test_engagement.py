"""Engagement read back after publishing, and the team's weekly mail that carries it.

A release goes through the real CLI to the fake Mastodon (a real HTTP server); the fake then
counts boosts, favourites and replies, the engagement pass reads them at its modest pace,
the review page shows them, and the weekly summary mail (to a real SMTP server) lists them
in plain text only. Time moves with `PRESSBOT_CLOCK`, never with sleeps.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest

from bot import clock
from bot.config import Config, load_config
from bot.engagement import EVERY, refresh
from bot.runtime import live_channels
from bot.store import Store
from bot.store import posts as post_store
from bot.store import users as user_store
from bot.summary import send_weekly, week_due
from tests.channels.test_mastodon_e2e import TOKEN, fake, logs, release  # noqa: F401
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.smtp import FakeSMTP
from tests.helpers import SAFETY, Workspace, make_workspace
from tests.web.conftest import client_for, sign_in
from tests.web.test_comments import smtp  # noqa: F401  (fixtures: fake Mastodon, SMTP)

MONDAY_MORNING = "2026-12-07T09:30:00+01:00"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: tuple[FakeMastodon, str],  # noqa: F811
       smtp: FakeSMTP) -> Workspace:  # noqa: F811
    monkeypatch.setenv("MASTODON_TOKEN", TOKEN)
    monkeypatch.setenv("PRESSBOT_CLOCK", MONDAY_MORNING)
    return make_workspace(tmp_path, channels=f"""
[channels.mastodon]
type = "mastodon"
base_url = "{fake[1]}"
access_token = "${{MASTODON_TOKEN}}"
approval = "manual"
timeout = "3s"

[channels.mail]
type = "email"
smtp_host = "127.0.0.1"
smtp_port = {smtp.port}
security = "none"
from = "News <news@example.org>"
approval = "manual"

[notify]
channel = "mail"
to = ["team@example.org"]
""")


def published(ws: Workspace, server: FakeMastodon, stems: list[str]) -> list[int]:
    """Publish one Mastodon post per release through the CLI; their post ids."""
    for stem in stems:
        release(ws, stem, f"Release {stem}")
    assert ws.run("fetch").exit_code == 0
    config = load_config(ws.config)
    store = Store(config.bot.database_url)
    with store.begin() as conn:
        ids = [p.id for p in post_store.listing(conn) if p.channel == "mastodon"]
    store.dispose()
    assert ws.run("approve", *map(str, ids)).exit_code == 0
    assert f"{len(ids)} published" in ws.run("publish").output
    assert len(server.statuses) == len(ids)
    return ids


def read_pass(config: Config, store: Store, limit: int = 30) -> int:
    async def run() -> int:
        async with live_channels(config, store, dry_run=False) as channels:
            return await refresh(store, channels, limit=limit)
    return asyncio.run(run())


def at(monkeypatch: pytest.MonkeyPatch, later: timedelta) -> None:
    monkeypatch.setenv("PRESSBOT_CLOCK", (clock.now() + later).isoformat())


def test_counts_are_read_at_a_modest_rate_for_recent_posts_only(
        ws: Workspace, fake: tuple[FakeMastodon, str], monkeypatch: pytest.MonkeyPatch  # noqa: F811
        ) -> None:
    state, _ = fake
    ids = published(ws, state, ["a", "b", "c"])
    for n, status in enumerate(state.statuses.values(), start=1):
        status.reblogs_count, status.favourites_count, status.replies_count = n, 2 * n, 1
    config = load_config(ws.config)
    store = Store(config.bot.database_url)
    assert read_pass(config, store, limit=2) == 2       # at most `limit` calls a pass
    assert read_pass(config, store, limit=2) == 1       # the one left over
    assert read_pass(config, store) == 0                # each at most once per EVERY
    assert len(state.requests_to("status")) == 3
    with store.begin() as conn:
        from bot.store import engagement as engagement_store

        found = engagement_store.for_posts(conn, ids)
    assert sorted(f["counts"]["boosts"] for f in found.values()) == [1, 2, 3]

    first = next(iter(state.statuses.values()))
    first.favourites_count = 40
    at(monkeypatch, EVERY + timedelta(minutes=1))
    assert read_pass(config, store) == 3                # due again: the new count is read
    with client_for(config, store) as client:
        with store.begin() as conn:
            user_store.add(conn, "rita", "correct horse battery", "reviewer")
        sign_in(client, "rita")
        post_id = next(i for i in ids if (found[i]["counts"]["boosts"] == 1))
        page = client.get(f"/posts/{post_id}").text
    assert "On Mastodon: 1 boost · 40 favourites · 1 reply" in page

    at(monkeypatch, timedelta(days=8))                  # a week later: no longer recent
    assert read_pass(config, store) == 0
    store.dispose()


def test_weekly_summary_carries_the_counts_in_plain_text(
        ws: Workspace, fake: tuple[FakeMastodon, str], smtp: FakeSMTP,  # noqa: F811
        monkeypatch: pytest.MonkeyPatch) -> None:
    state, _ = fake
    published(ws, state, ["a"])
    status = next(iter(state.statuses.values()))
    status.reblogs_count, status.favourites_count = 5, 8
    config = load_config(ws.config)
    store = Store(config.bot.database_url)
    with store.begin() as conn:
        user_store.add(conn, "rita", "correct horse battery", "reviewer",
                       email="rita@example.org")
    read_pass(config, store)
    assert asyncio.run(send_weekly(config, store)) is True
    assert asyncio.run(send_weekly(config, store)) is False    # once a week
    (mail,) = smtp.wait(1, SAFETY)
    assert sorted(mail.rcpt_tos) == ["rita@example.org", "team@example.org"]
    # the body is 8-bit UTF-8: parsed from the bytes (`Received.parse` reads it as text)
    message = BytesParser(policy=policy.default).parsebytes(mail.data)
    assert isinstance(message, EmailMessage)
    assert message.get_content_type() == "text/plain" and not message.is_multipart()
    body = message.get_content()
    assert "Release a (mastodon): 5 boosts · 8 favourites · 0 replies" in body
    assert status.url in body
    assert "<img" not in body and "utm_" not in body           # nothing that tracks

    at(monkeypatch, timedelta(days=7))                         # next Monday
    assert asyncio.run(send_weekly(config, store)) is True
    store.dispose()
    # due from Monday 09:00 in the bot's zone (Europe/Brussels), for the whole ISO week
    assert week_due(config, datetime.fromisoformat("2026-12-07T08:59:00+01:00")) is None
    assert week_due(config, datetime.fromisoformat("2026-12-07T09:00:00+01:00")) == "2026-W50"
    assert week_due(config, datetime.fromisoformat("2026-12-13T23:00:00+01:00")) == "2026-W50"
