"""Alt text fixed on the review page reaches the published post: in a real headless
Chromium (phone and desktop width) an editor answers the queue's "no alt text" warning in
the post's card, approves, the publisher runs against the fake Mastodon (a real HTTP
server), and the fake's own record of the uploaded picture carries the alt text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.models import Image
from bot.store import Store
from bot.web.app import create_app
from tests.channels.test_photo_metadata import assert_clean, gps_jpeg
from tests.fakes.mastodon import FakeMastodon, running
from tests.fakes.server import LiveServer
from tests.web.conftest import add_user, queue, release, write_config
from tests.web.test_browser import ARTIFACTS, publish_once, signed_in

pytestmark = pytest.mark.browser
TOKEN = "browser-alt-token-51c0"
ALT = "Readers at long tables in the new riverside library, the river behind the glass"


@pytest.fixture
def fake() -> Iterator[tuple[FakeMastodon, str]]:
    state = FakeMastodon()
    state.add_token(TOKEN, state.add_account("newsroom"), "read write")
    with running(state) as server:
        yield state, server.url


@pytest.fixture
def config(tmp_path: Path, fake: tuple[FakeMastodon, str]) -> Config:
    return write_config(tmp_path, channels=f"""
[channels.mastodon]
type = "mastodon"
base_url = "{fake[1]}"
access_token = "{TOKEN}"
approval = "manual"
""")


@pytest.mark.parametrize("width", [390, 1280])
def test_alt_text_fixed_on_the_page_is_published(chromium: Any, config: Config, store: Store,
                                                 fake: tuple[FakeMastodon, str],
                                                 tmp_path: Path, width: int) -> None:
    photo = tmp_path / "content" / "library.jpg"
    photo.parent.mkdir()
    photo.write_bytes(gps_jpeg())
    ids = queue(store, config, release(1, images=[Image(url=str(photo.resolve()), alt="")]))
    add_user(store, "ed", "editor")
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "ed", width)
        card = page.locator(f"#post-{ids['mastodon']}")
        assert "no alt text on 1 image" in card.locator(".warnings").inner_text()
        card.get_by_label("Alt text for picture 1").fill(ALT)
        card.get_by_role("button", name="Save alt text").click()
        page.wait_for_url(re.compile(rf"/posts/{ids['mastodon']}#pictures-"))
        assert "alt text saved" in page.locator(".flash").inner_text()
        assert page.locator(".warnings").count() == 0
        assert page.get_by_label("Alt text for picture 1").input_value() == ALT
        page.screenshot(path=str(ARTIFACTS / f"pictures-{width}.png"), full_page=True)
        page.get_by_role("button", name="Approve").click()
        page.wait_for_load_state()
        assert "approved" in page.locator(".flash").inner_text()
        context.close()
    assert publish_once(config, store).published == [ids["mastodon"]]
    state = fake[0]
    (status,) = state.statuses.values()
    (media,) = [state.media[m] for m in status.media_ids]
    assert media.description == ALT
    assert_clean(media.data)
