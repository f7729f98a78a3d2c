"""The review page: a release's notes (footers left out of the posts), collapsed; and the
warning a derived link carries."""

from __future__ import annotations

from starlette.testclient import TestClient

from bot.config import Config
from bot.store import Store
from tests.web.conftest import queue, release, sign_in


def test_the_post_page_shows_the_notes_collapsed(client: TestClient, store: Store,
                                                 config: Config) -> None:
    ids = queue(store, config, release(notes="About the city library\nTel. +32 2 000 00 00"))
    sign_in(client, "rita")
    page = client.get(f"/posts/{ids['mastodon']}").text
    assert '<details class="notes">' in page  # collapsed: no `open`
    notes = page.split('<details class="notes">', 1)[1].split("</details>", 1)[0]
    assert "Tel. +32 2 000 00 00" in notes and "About the city library" in notes


def test_no_notes_no_box(client: TestClient, store: Store, config: Config) -> None:
    ids = queue(store, config, release())
    sign_in(client, "rita")
    assert 'class="notes"' not in client.get(f"/posts/{ids['mastodon']}").text


def test_a_derived_link_is_a_warning_on_the_queue_and_post_pages(
        client: TestClient, store: Store, config: Config) -> None:
    ids = queue(store, config, release(url_derived=True))
    sign_in(client, "rita")
    for path in ("/", f"/posts/{ids['mastodon']}"):
        page = client.get(path).text
        warnings = page.split(f'id="post-{ids["mastodon"]}"', 1)[1].split("</ul>", 1)[0]
        assert "derived link: https://www.example.org/news/release-1" in warnings, path
