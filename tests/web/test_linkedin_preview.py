"""The LinkedIn preview on the review page: a Page post with its article card (thumbnail,
title, domain) or its pictures, mentions shown as names, the count as LinkedIn receives the
text, and a warning a week before the token ends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.config import Config, load_config
from bot.models import Image
from bot.store import Store
from bot.store import posts as post_store
from tests.web.conftest import add_user, client_for, queue, release, sign_in


def _config(tmp_path: Path, token_expires: str) -> Config:
    file = tmp_path / "pressbot.toml"
    file.write_text(f"""
[bot]
database_url = "sqlite:///{tmp_path / 'pressbot.db'}"
outbox = "{tmp_path / 'outbox'}"

[web]
listen = "127.0.0.1:0"

[channels.li]
type = "linkedin"
organization_id = "2414183"
access_token = "AQVpreview-token-31337"
token_expires = {token_expires}
approval = "manual"
""", encoding="utf-8")
    return load_config(file)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[Config, Store, TestClient]]:
    soon = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    config = _config(tmp_path, soon)
    store = Store(config.bot.database_url)
    add_user(store, "rita", "reviewer")
    with client_for(config, store) as client:
        yield config, store, client
    store.dispose()


def _article(page: str, post_id: int) -> str:
    match = re.search(rf'<article[^>]*id="post-{post_id}".*?</article>', page, re.S)
    assert match, f"post {post_id} is not on the page"
    return match.group(0)


def test_a_link_post_shows_its_article_card_and_the_token_warning(
        setup: tuple[Config, Store, TestClient]) -> None:
    config, store, client = setup
    summary = "Opened with @[City Library](urn:li:organization:42) (phase 1)."
    ids = queue(store, config, release(summary=summary))
    sign_in(client, "rita")
    page = client.get("/").text
    with store.begin() as conn:
        post = post_store.require(conn, ids["li"])
    article = _article(page, post.id)
    assert 'aria-label="LinkedIn preview"' in article
    assert "Page · urn:li:organization:2414183" in article
    assert "Opened with City Library (phase 1)." in article        # the mention as a name
    card = re.search(r'<a class="linkcard".*?</a>', article, re.S)
    assert card, "no article card"
    assert 'src="https://www.example.org/img/library.jpg" alt="The library"' in card.group(0)
    assert "City opens riverside library number 1" in card.group(0)
    assert "www.example.org" in card.group(0)
    # counted as sent: "(" and ")" escaped, the hashtags longer as templates
    assert f"{len(post.text)}/3000" not in article
    assert re.search(r"\d+/3000 characters as LinkedIn counts them", article)
    assert "the LinkedIn access token expires on" in article and "(in 3 days)" in article


def test_several_pictures_show_as_pictures(setup: tuple[Config, Store, TestClient]) -> None:
    config, store, client = setup
    pictures = [Image(url=f"https://www.example.org/img/{i}.jpg", alt=f"Roof {i}")
                for i in range(3)]
    ids = queue(store, config, release(images=pictures))
    sign_in(client, "rita")
    article = _article(client.get("/").text, ids["li"])
    assert 'class="linkcard"' not in article
    for i in range(3):
        assert f"Alt: Roof {i}" in article
