"""Dry runs: `publish --dry-run` writes readable files (and `.eml` for email), changes nothing."""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path

from tests.helpers import make_workspace, write_release

CHANNELS = """
[channels.mastodon]
type = "outbox"
like = "mastodon"
approval = "manual"

[channels.newsletter]
type = "email"
smtp_host = "127.0.0.1"
smtp_port = 9
from = "News <news@example.org>"
approval = "manual"
"""


def test_publish_dry_run_writes_the_outbox_and_leaves_the_queue(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, channels=CHANNELS)
    write_release(ws.content, "a.md", "Dry run release")
    ws.run("fetch")
    ids = [str(p["id"]) for p in json.loads(ws.run("queue", "--json").stdout)]
    ws.run("approve", *ids)
    before = ws.run("queue", "--json").stdout
    result = ws.run("publish", "--dry-run")
    assert result.exit_code == 0 and "2 due posts written" in result.stdout
    assert "Dry run release" in result.stdout  # echoed to the console
    assert ws.run("queue", "--json").stdout == before  # nothing claimed, nothing changed
    outbox = tmp_path / "outbox"
    assert (outbox / "mastodon" / f"post-{ids[0]}.txt").read_text().count("Dry run release")
    raw = (outbox / "newsletter" / f"post-{ids[1]}.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["Subject"] == "Dry run release"
    assert message.get_content_type() == "multipart/alternative"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "%%" not in raw.decode()


def test_run_dry_run_makes_every_channel_an_outbox(tmp_path: Path) -> None:
    from bot.config import load_config
    from bot.store import Store
    from channels.outbox import OutboxChannel
    from channels.registry import build

    ws = make_workspace(tmp_path, channels=CHANNELS)
    config = load_config(ws.config)
    store = Store(config.bot.database_url)
    built = {n: build(n, c, config, dry_run=True, store=store)
             for n, c in config.channels.items()}
    assert all(isinstance(c, OutboxChannel) for c in built.values())
    assert built["mastodon"].limits.max_chars == 500
    assert built["newsletter"].limits.subject_max == 60
    store.dispose()
