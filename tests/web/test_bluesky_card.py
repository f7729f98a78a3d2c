"""The Bluesky preview on the review page: short links as Bluesky shows them, the link card or
the images the record will carry, and the count against 300 graphemes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.config import Config, load_config
from bot.fit import count
from bot.store import Store
from bot.store import posts as post_store
from channels.bluesky import short_url
from channels.registry import limits_for
from tests.web.conftest import add_user, client_for, queue, release, sign_in

LONG_LINK = "https://www.example.org/news/2026/03/the-city-opens-its-riverside-library"


def _config(tmp_path: Path, embed: str, options: str = "") -> Config:
    file = tmp_path / "pressbot.toml"
    file.write_text(f"""
[bot]
database_url = "sqlite:///{tmp_path / 'pressbot.db'}"
outbox = "{tmp_path / 'outbox'}"

[web]
listen = "127.0.0.1:0"

[channels.sky]
type = "bluesky"
handle = "newsroom.example.org"
app_password = "abcd-efgh-ijkl-mnop"
embed = "{embed}"
approval = "manual"
{options}

[channels.skydry]
type = "outbox"
like = "bluesky"
approval = "manual"
""", encoding="utf-8")
    return load_config(file)


@pytest.fixture(params=["card", "auto"])
def setup(request: pytest.FixtureRequest, tmp_path: Path
          ) -> Iterator[tuple[str, Config, Store, TestClient]]:
    config = _config(tmp_path, request.param)
    store = Store(config.bot.database_url)
    add_user(store, "rita", "reviewer")
    with client_for(config, store) as client:
        yield request.param, config, store, client
    store.dispose()


def _article(page: str, post_id: int) -> str:
    match = re.search(rf'<article[^>]*id="post-{post_id}".*?</article>', page, re.S)
    assert match, f"post {post_id} is not on the page"
    return match.group(0)


def test_bluesky_preview_shows_short_links_card_or_images_and_the_count(
        setup: tuple[str, Config, Store, TestClient]) -> None:
    embed, config, store, client = setup
    ids = queue(store, config, release(url=LONG_LINK))
    sign_in(client, "rita")
    page = client.get("/").text
    for channel in ("sky", "skydry"):
        with store.begin() as conn:
            post = post_store.require(conn, ids[channel])
        article = _article(page, post.id)
        assert 'aria-label="Bluesky preview"' in article
        assert post.link and post.link in post.text
        # The text shows the link as the record will, the href is the full address.
        assert f'href="{post.link}" rel="noopener noreferrer nofollow">{short_url(post.link)}' \
               "</a>" in article
        limits = limits_for(config.channels[channel])
        assert f"{count(post.text, limits)}/300 characters as Bluesky counts them" in article
        card = re.search(r'<a class="linkcard".*?</a>', article, re.S)
        if embed == "card" and channel == "sky":
            assert card, "embed = card: the record carries a link card"
            assert "City opens riverside library number 1" in card.group(0)
            assert "The new library has 40,000 books" in card.group(0)   # the description
            assert 'src="https://www.example.org/img/library.jpg" alt="The library"' \
                in card.group(0)                                         # the thumbnail
            assert "www.example.org" in card.group(0)
        else:
            assert card is None, "with images and embed = auto, the record carries the images"
            assert 'class="media"' in article
            assert "Alt: The library" in article
    assert "@newsroom.example.org" in _article(page, ids["sky"])


def test_without_images_the_preview_shows_a_card_without_thumbnail(
        setup: tuple[str, Config, Store, TestClient]) -> None:
    _, config, store, client = setup
    ids = queue(store, config, release(2, images=[]))
    sign_in(client, "rita")
    article = _article(client.get("/").text, ids["sky"])
    card = re.search(r'<a class="linkcard".*?</a>', article, re.S)
    assert card
    assert "<img" not in card.group(0)
    assert 'class="media"' not in article


def test_the_preview_names_labels_and_who_may_reply_or_quote(tmp_path: Path) -> None:
    config = _config(tmp_path, "auto", 'labels = ["nudity"]\nreplies = ["mentioned"]\n'
                                       "quotes = false")
    store = Store(config.bot.database_url)
    add_user(store, "rita", "reviewer")
    try:
        with client_for(config, store) as client:
            ids = queue(store, config, release(3, overrides={"sky": {
                "labels": "graphic-media, gore"}}))
            sign_in(client, "rita")
            page = client.get("/").text
    finally:
        store.dispose()
    gates = re.search(r'<p class="gates"[^>]*>(.*?)</p>', _article(page, ids["sky"]))
    assert gates and gates.group(1) == \
        "labels: nudity, graphic-media · replies: mentioned · quotes: off"
    assert "gore left out" in _article(page, ids["sky"])   # the release asked for an unknown one
    assert 'class="gates"' not in _article(page, ids["skydry"])
