"""Truer previews: the account's own name and avatar as `pressbot check` read them from the
platform (the fake Mastodon, a real server), links shortened as Mastodon's web interface
shows them, and the link card Mastodon builds for a status without media."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from bot.config import load_config
from bot.store import Store, meta
from bot.store import posts as post_store
from bot.web.templating import mastodon_url
from tests.channels.test_mastodon_e2e import (  # noqa: F401  (fake, logs: fixtures)
    cli,
    fake,
    logs,
    workspace,
)
from tests.fakes.mastodon import FakeMastodon
from tests.web.conftest import add_user, client_for, sign_in

LONG = "https://www.example.org/news/2026/03/the-city-opens-its-riverside-library"


def test_preview_has_the_checked_account_short_links_and_link_card(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        fake: tuple[FakeMastodon, str]) -> None:  # noqa: F811  (the imported fixture)
    url = fake[1]
    ws = workspace(tmp_path, monkeypatch, url)
    ws.content.joinpath("library.md").write_text(
        "---\ntitle: The riverside library opens\ndate: 2026-03-10\n"
        "summary: Forty thousand books and a maker space.\n"
        f"url: {LONG}\n---\n\nThe body of the release.\n", encoding="utf-8")
    cli(ws, "fetch")
    config = load_config(ws.config)
    store = Store(config.bot.database_url)
    add_user(store, "rita", "reviewer")
    with store.begin() as conn:
        (post,) = post_store.listing(conn)

    def preview() -> str:
        with client_for(config, store) as client:
            sign_in(client, "rita")
            page = client.get(f"/posts/{post.id}").text
        found = re.search(r'<div class="preview mastodon".*?data-testid="count"', page, re.S)
        assert found, "no Mastodon preview on the page"
        return found.group(0)

    before = preview()   # before any `check`: the channel's name, a letter for an avatar
    assert "<strong>mastodon</strong>" in before and "<img class=\"avatar\"" not in before

    assert "OK: @newsroom" in cli(ws, "check").stdout
    with store.begin() as conn:
        assert meta.get(conn, "profile:mastodon") == {
            "name": "Newsroom", "avatar": "https://files.example/avatars/newsroom.png"}
    shown = preview()
    assert "<strong>Newsroom</strong>" in shown
    assert '<img class="avatar" src="https://files.example/avatars/newsroom.png"' in shown
    # the link in the text: whole in the href, shortened as Mastodon's interface shows it
    assert f'<a href="{LONG}" rel="noopener noreferrer nofollow">' \
           f'{html.escape(mastodon_url(LONG))}</a>' in shown
    # Mastodon's interface: scheme and "www." hidden, 30 characters shown, then "…"
    assert mastodon_url(LONG) == "example.org/news/2026/03/the-c…"
    assert mastodon_url("http://example.org/a") == "example.org/a"
    assert mastodon_url("https://example.org/" + "x" * 18) == "example.org/" + "x" * 18
    assert mastodon_url("https://example.org/" + "x" * 19).endswith("x…")
    card = re.search(r'<a class="linkcard".*?</a>', shown, re.S)
    assert card, "no link card for a status without media"
    assert "The riverside library opens" in card.group(0)
    assert "Forty thousand books and a maker space." in card.group(0)
    assert "www.example.org" in card.group(0)
    store.dispose()
