"""Digest newsletters: one mail of everything new since the last one, none when nothing is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import subscribers as subs
from bot.config import load_config
from bot.store import Store
from bot.workflow import queue_digest
from tests.fakes.smtp import FakeSMTP
from tests.helpers import make_workspace, write_release


def channels(port: int) -> str:
    return f"""
[channels.mastodon]
type = "outbox"
like = "mastodon"

[channels.newsletter]
type = "email"
smtp_host = "127.0.0.1"
smtp_port = {port}
security = "none"
from = "News <news@example.org>"
mode = "digest"
schedule = "0 9 * * MON"
approval = "auto"
"""


def test_a_digest_collects_what_is_new_and_goes_out_once_per_subscriber(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESSBOT_CLOCK", "2026-11-30T08:00:00+00:00")
    fake = FakeSMTP()
    with fake.running():
        ws = make_workspace(tmp_path, channels=channels(fake.port))
        config = load_config(ws.config)
        store = Store(config.bot.database_url)
        subs.add(store, "ann@example.org")
        subs.add(store, "bo@example.org", language="fr")  # the digest's subject in French
        write_release(ws.content, "a.md", "First news")
        write_release(ws.content, "b.md", "Second news")
        write_release(ws.content, "c.md", "Embargoed news",
                      extra="embargo: 2026-12-24T09:00:00+00:00\n")
        ws.run("fetch")
        per_release = json.loads(ws.run("queue", "--json", "--channel", "newsletter").stdout)
        assert per_release == []  # digest mode: no mail per release

        with store.begin() as conn:
            first = queue_digest(conn, config, "newsletter")
            nothing_new = queue_digest(conn, config, "newsletter")
        assert first is not None and nothing_new is None

        result = ws.run("publish")
        assert result.exit_code == 0, result.output
        digest = json.loads(ws.run("show", str(first), "--json").stdout)
        assert digest["status"] == "published"
        assert "First news" in digest["text"] and "Second news" in digest["text"]
        assert "Embargoed news" not in digest["text"]

        write_release(ws.content, "d.md", "Third news")
        ws.run("fetch")
        with store.begin() as conn:
            second = queue_digest(conn, config, "newsletter")
        assert second is not None
        ws.run("publish")
        monkeypatch.setenv("PRESSBOT_CLOCK", "2026-12-28T08:00:00+00:00")  # embargo over
        with store.begin() as conn:
            third = queue_digest(conn, config, "newsletter")
            assert queue_digest(conn, config, "newsletter") is None
        assert third is not None
        assert "Embargoed news" in json.loads(ws.run("show", str(third), "--json").stdout)["text"]
        ws.run("publish")
        store.dispose()
    assert fake.counts() == {"ann@example.org": 3, "bo@example.org": 3}
    subjects = sorted((m.rcpt_tos[0], m.parse()["Subject"]) for m in fake.messages)
    assert subjects == [("ann@example.org", "Embargoed news"),
                        ("ann@example.org", "Our news: 2 new releases"),
                        ("ann@example.org", "Third news"),
                        ("bo@example.org", "Embargoed news"),
                        ("bo@example.org", "Nos actualités : 2 nouveaux communiqués"),
                        ("bo@example.org", "Third news")]
