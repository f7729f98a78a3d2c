"""The review page shows a release's notes (footers left out of the posts), collapsed."""

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
