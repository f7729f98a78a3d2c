"""Reviewers get one mail when posts wait — a link to the page, never an approval — and no
repeat until the set of waiting posts changes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from bot.config import load_config
from bot.notify import notify_reviewers
from bot.store import Store
from bot.store import users as user_store
from tests.fakes.smtp import FakeSMTP
from tests.helpers import make_workspace, write_release


def notify(config: object, store: Store) -> bool:
    return asyncio.run(notify_reviewers(config, store))  # type: ignore[arg-type]


def test_reviewers_are_mailed_once_per_change(tmp_path: Path) -> None:
    fake = FakeSMTP()
    with fake.running():
        channels = f"""
[channels.mastodon]
type = "outbox"
like = "mastodon"
approval = "manual"

[channels.newsletter]
type = "email"
smtp_host = "127.0.0.1"
smtp_port = {fake.port}
security = "none"
from = "News <news@example.org>"
bounce_domain = "bounces.example.org"

[notify]
to = ["comms@example.org"]
channel = "newsletter"
"""
        ws = make_workspace(tmp_path, channels=channels)
        config = load_config(ws.config)
        store = Store(config.bot.database_url)
        with store.begin() as conn:
            user_store.add(conn, "rita", "a long enough password", "reviewer",
                           email="rita@example.org")
        assert notify(config, store) is False  # nothing waits yet
        write_release(ws.content, "a.md", "Waiting release")
        ws.run("fetch")
        assert notify(config, store) is True
        assert notify(config, store) is False  # same posts: no repeat
        write_release(ws.content, "b.md", "Another release")
        ws.run("fetch")
        assert notify(config, store) is True
        store.dispose()
    assert len(fake.messages) == 2
    mail = fake.messages[0]
    assert sorted(mail.rcpt_tos) == ["comms@example.org", "rita@example.org"]
    head = mail.data.split(b"\r\n\r\n", 1)[0]
    assert re.search(rb"^Message-ID: <[^<>\s]+@example\.org>\r?$", head, re.M), head
    body = mail.parse().get_content()
    assert "Waiting release" in body and config.bot.public_url.host in body
    assert "nothing is approved from this mail" in body
    assert "/approve" not in body
    # VERP on the bounce domain: a notice that bounces reaches the bounce processor
    assert re.fullmatch(r"bounce\+0-0-[0-9a-f]{12}@bounces\.example\.org", mail.mail_from)
