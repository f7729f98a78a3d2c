"""Every parameter the review page reads is validated: a value out of range or of the
wrong form is a 400 (or a 404 for a page or a file that is not there), never a 500.

The app is served on 127.0.0.1 and asked over HTTP, as an editor.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.config import Config
from bot.store import Store
from bot.store import posts as post_store
from bot.web.app import create_app
from tests.fakes.server import LiveServer
from tests.web.conftest import add_user, csrf_of, sign_in


@pytest.fixture
def editor(config: Config, store: Store) -> Iterator[httpx.Client]:
    add_user(store, "ed", "editor")
    with LiveServer(create_app(config, store)) as server, \
            httpx.Client(base_url=server.url, timeout=30, follow_redirects=False) as browser:
        assert sign_in(browser, "ed").status_code == 303
        yield browser


REPORTED = {                                             # the issue's own examples
    "/history?page=99999999999999999999": 400,
    "/history?to=9999-12-31": 400,
    "/calendar?start=9999-12-31": 400,
    "/calendar?start=0001-01-0x": 400,
}
MORE = {
    "/history?from=0001-01-01": 400,                     # before the zone's first instant
    "/history?page=0": 400,
    "/history?page=-1": 400,
    "/history?page=%C2%B2": 400,                         # "²": isdigit() but not int()
    "/history?page=2": 404,                              # past the last page
    "/history?from=2026-02-30": 400,
    "/history?status=nope": 400,
    "/history?channel=nope": 400,
    "/history?source=nope": 400,
    "/history?q=%00": 400,                               # PostgreSQL refuses NUL in text
    "/calendar?start=0001-01-01": 400,                   # the week before is year 0
    "/calendar?start=9999-12-27": 400,
    "/calendar?start=2026-1-5": 400,
    "/activity?page=99999999999999999999999": 400,
    "/activity?page=%C2%B2": 400,
    "/outbox/a%00b": 404,
    "/outbox/" + "a" * 5000: 404,                        # a name too long for the system
    "/signin?next=/%00": 400,
}


@pytest.mark.usefixtures("posts")
def test_extreme_query_values_are_400_or_404(editor: httpx.Client) -> None:
    got = {url: editor.get(url).status_code for url in [*REPORTED, *MORE]}
    assert got == {**REPORTED, **MORE}
    for fine in ("/history?page=1", "/history?from=1900-01-01&to=2999-12-31&status=pending",
                 "/calendar?start=2999-12-31", "/calendar?start=1900-01-01", "/calendar",
                 "/history?page=&from=&to=&status=", "/activity?page=1"):
        assert editor.get(fine).status_code == 200, fine


def test_extreme_form_values_are_refused_and_change_nothing(
        editor: httpx.Client, store: Store, posts: dict[str, int]) -> None:
    post_id = posts["mastodon"]
    token = csrf_of(editor.get(f"/posts/{post_id}").text)

    def post(path: str, **data: str) -> int:
        return editor.post(path, data={"csrf": token, **data}).status_code

    assert post("/posts/bulk", action="approve", **{"post-²": "1"}) == 400
    assert post("/posts/bulk", action="approve", **{"post-1234567890123456789": "1"}) == 400
    assert post(f"/posts/{post_id}/schedule", at="9999-12-31 23:59") == 422
    assert post(f"/posts/{post_id}/schedule", at_local="9999-12-31T23:59") == 422
    assert post(f"/posts/{post_id}/edit", text="a\x00b") == 400
    assert post("/signin", name="ed\x00", password="x\x00") == 400
    with store.begin() as conn:
        post_now = post_store.require(conn, post_id)
    assert (post_now.status, post_now.publish_at) == ("pending", None)
    assert "\x00" not in post_now.text
    assert post(f"/posts/{post_id}/approve") == 303        # the session still works
