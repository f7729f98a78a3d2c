"""The calendar in a real headless Chromium at phone and desktop width: a post dragged by
its handle onto another day, one moved with the arrow keys (the live region saying where),
one moved a day back by its button from the keyboard, a waiting post dragged
from the sidebar, and a drop outside the windows refused. The
clock and windows are those of `test_calendar` (Monday 7 December 2026)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.config import Config
from bot.store import Store
from bot.web.app import create_app
from tests.fakes.server import LiveServer
from tests.web.conftest import add_user, queue, release
from tests.web.test_browser import ARTIFACTS, signed_in
from tests.web.test_calendar import approved_at, config, local, stored  # noqa: F401

pytestmark = pytest.mark.browser


def dropped(page: Any, handle: Any, day: str) -> str:
    """Drag `handle` onto `day` and wait for the page the move leads to; its message."""
    with page.expect_navigation():
        handle.drag_to(page.locator(f'[data-day="{day}"]'))
    return str(page.locator(".flash").inner_text())


@pytest.mark.parametrize("width", [390, 1280])
def test_drag_and_keyboard_moves(chromium: Any, config: Config, store: Store,  # noqa: F811
                                 width: int) -> None:
    ids = queue(store, config, release(1))
    toot, facebook = ids["mastodon"], ids["facebook"]
    approved_at(store, config, toot, local(config, "2026-12-08T10:30"))
    add_user(store, "ed", "editor")
    problems: list[str] = []
    with LiveServer(create_app(config, store)) as server:
        context, page = signed_in(chromium, server, "ed", width)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(server.url + "/calendar?start=2026-12-07")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        said = dropped(page, page.locator(f"#slot-{toot} .grip"), "2026-12-10")
        assert f"Post {toot} (mastodon) moved to Thu 10 Dec 2026, 10:30" in said
        assert page.locator(f'[data-day="2026-12-10"] #slot-{toot}').count() == 1

        page.locator(f"#slot-{toot} .grip").focus()
        page.keyboard.press("ArrowRight")
        live = page.locator("#calendar-live")
        assert live.inner_text().startswith(f"Post {toot}: Fri 11 Dec. Enter moves it there")
        assert "over" in (page.locator('[data-day="2026-12-11"]').get_attribute("class") or "")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "moved to Fri 11 Dec 2026, 10:30" in page.locator(".flash").inner_text()
        page.get_by_role("button", name=f"Post {toot}: one day earlier").focus()
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "moved to Thu 10 Dec 2026, 10:30" in page.locator(".flash").inner_text()

        said = dropped(page, page.locator(f"#loose-{facebook} .grip"), "2026-12-09")
        assert f"Post {facebook} (facebook) moved to Wed 9 Dec 2026, 09:00" in said
        assert "still needs approval" in said
        said = dropped(page, page.locator(f"#slot-{toot} .grip"), "2026-12-12")
        assert "not moved" in said and "outside mastodon's publishing windows" in said
        page.screenshot(path=str(ARTIFACTS / f"calendar-drag-{width}.png"), full_page=True)

        page.goto(server.url + "/calendar?view=month&start=2026-12-01")
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        said = dropped(page, page.locator(f"#slot-{toot} .grip"), "2026-12-14")
        assert "moved to Mon 14 Dec 2026, 10:30" in said
        page.screenshot(path=str(ARTIFACTS / f"calendar-month-{width}.png"), full_page=True)
        context.close()
    assert problems == []
    post, events = stored(store, toot)
    assert post.publish_at == local(config, "2026-12-14T10:30")
    assert [e["action"] for e in events[:4]] == ["schedule"] * 4
    assert {e["actor"] for e in events[:4]} == {"web:ed"}
    assert stored(store, facebook)[0].publish_at == local(config, "2026-12-09T09:00")
