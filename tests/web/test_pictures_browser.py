"""Alt text fixed on the review page reaches the published posts: in a real headless
Chromium (phone and desktop width) an editor answers the queue's "no alt text" warning in
each post's card, approves, the publisher runs against the fake Mastodon and the fake
Bluesky PDS (real HTTP servers), and each fake's own record of the picture carries the
alt text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import BlueskyConfig, Config, MastodonConfig
from bot.models import Image
from bot.store import Store
from bot.web.app import create_app
from tests.channels.test_photo_metadata import assert_clean, gps_jpeg
from tests.fakes import bluesky
from tests.fakes.mastodon import FakeMastodon, running
from tests.fakes.server import LiveServer
from tests.web.conftest import add_user, queue, release, write_config
from tests.web.test_browser import ARTIFACTS, publish_once, signed_in

pytestmark = pytest.mark.browser
TOKEN = "browser-alt-token-51c0"
ALT = "Readers at long tables in the new riverside library, the river behind the glass"
SKY_ALT = "The library's glass front at dusk"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"


@pytest.fixture
def fake() -> Iterator[tuple[FakeMastodon, str]]:
    state = FakeMastodon()
    state.add_token(TOKEN, state.add_account("newsroom"), "read write")
    with running(state) as server:
        yield state, server.url


@pytest.fixture
def pds() -> Iterator[tuple[bluesky.FakePDS, str]]:
    state = bluesky.FakePDS()
    state.add_account("newsroom.example.org", APP_PASSWORD)
    with bluesky.running(state) as server:
        yield state, server.url


@pytest.fixture
def config(tmp_path: Path, fake: tuple[FakeMastodon, str],
           pds: tuple[bluesky.FakePDS, str]) -> Config:
    """The review page's config with its mastodon and bluesky channels the real ones,
    talking to the fakes."""
    config = write_config(tmp_path)
    config.channels["mastodon"] = MastodonConfig.model_validate({
        "type": "mastodon", "base_url": fake[1], "access_token": TOKEN, "approval": "manual"})
    config.channels["bluesky"] = BlueskyConfig.model_validate({
        "type": "bluesky", "pds_url": pds[1], "handle": "newsroom.example.org",
        "app_password": APP_PASSWORD, "embed": "images", "approval": "manual"})
    return config


@pytest.mark.parametrize("width", [390, 1280])
def test_alt_text_fixed_on_the_page_is_published(chromium: Any, config: Config, store: Store,
                                                 fake: tuple[FakeMastodon, str],
                                                 pds: tuple[bluesky.FakePDS, str],
                                                 tmp_path: Path, width: int) -> None:
    photo = tmp_path / "content" / "library.jpg"
    photo.parent.mkdir()
    photo.write_bytes(gps_jpeg())
    ids = queue(store, config, release(1, images=[Image(url=str(photo.resolve()), alt="")]))
    add_user(store, "ed", "editor")
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "ed", width)
        for channel, alt in (("mastodon", ALT), ("bluesky", SKY_ALT)):
            page.goto(server.url + "/")
            card = page.locator(f"#post-{ids[channel]}")
            assert "no alt text on 1 image" in card.locator(".warnings").inner_text()
            card.get_by_label("Alt description of picture 1").fill(alt)
            card.get_by_role("button", name="Save alt text").click()
            page.wait_for_url(re.compile(rf"/posts/{ids[channel]}#pictures-"))
            assert "alt text saved" in page.locator(".flash").inner_text()
            assert page.locator(".warnings").count() == 0
            assert page.get_by_label("Alt description of picture 1").input_value() == alt
            page.screenshot(path=str(ARTIFACTS / f"pictures-{channel}-{width}.png"),
                            full_page=True)
            page.get_by_role("button", name="Approve").click()
            page.wait_for_load_state()
            assert "approved" in page.locator(".flash").inner_text()
        context.close()
    assert sorted(publish_once(config, store).published) == sorted(
        [ids["mastodon"], ids["bluesky"]])
    (status,) = fake[0].statuses.values()
    (media,) = [fake[0].media[m] for m in status.media_ids]
    assert media.description == ALT
    assert_clean(media.data)
    (record,) = pds[0].records.values()
    assert [i["alt"] for i in record.value["embed"]["images"]] == [SKY_ALT]
