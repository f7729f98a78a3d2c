"""An edited email's links are found in time linear in the text, and the text is bounded.

The backtracking pattern this replaced took 10.7 s on "http://a" and 20,000 dots (and
held the event loop meanwhile); its growth was quadratic up to the 1 MB body limit.
`bench/link_finder.py` prints the figures. Runs a real `pressbot web`: a server stuck in
a regular expression would hold the GIL of a server thread in this process, and with it
the client's own timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.store import Store
from bot.store import posts as post_store
from bot.workflow import EDIT_MAX
from tests.web.conftest import add_user, csrf_of, sign_in
from tests.web.live import listening_copy, pressbot_web

ATTACK = "http://a" + "." * 90_000 + "x"
"""The old pattern needed minutes for this; the edit's answer has a hang guard of 60 s."""


@pytest.fixture
def editor(tmp_path: Path, store: Store) -> Iterator[httpx.Client]:
    add_user(store, "ed", "editor")
    with pressbot_web(listening_copy(tmp_path / "pressbot.toml", "web")) as base, \
            httpx.Client(base_url=base, timeout=60, follow_redirects=False) as browser:
        assert sign_in(browser, "ed").status_code == 303
        yield browser


def edit(browser: httpx.Client, post_id: int, text: str) -> httpx.Response:
    token = csrf_of(browser.get(f"/posts/{post_id}").text)
    try:
        return browser.post(f"/posts/{post_id}/edit", data={"csrf": token, "text": text})
    except httpx.ReadTimeout:
        pytest.fail("the edit never finished: the link finder backtracks")


def test_a_pathological_url_is_linked_at_once(editor: httpx.Client, store: Store,
                                              posts: dict[str, int]) -> None:
    post_id = posts["newsletter"]
    text = f"Read https://www.example.org/news/a. Then {ATTACK} and (https://www.example.org/b)."
    assert editor.get("/healthz").status_code == 200
    assert edit(editor, post_id, text).status_code == 303
    with store.begin() as conn:
        html = post_store.require(conn, post_id).html
    assert html is not None
    assert 'href="https://www.example.org/news/a"' in html      # not the full stop
    assert 'href="https://www.example.org/b"' in html           # not the parenthesis
    assert 'href="http://a...' in html
    assert editor.get("/healthz").status_code == 200


def test_an_edit_is_bounded(editor: httpx.Client, store: Store,
                            posts: dict[str, int]) -> None:
    post_id = posts["newsletter"]
    refused = edit(editor, post_id, "word " * (EDIT_MAX // 5) + "more")
    assert refused.status_code == 409
    assert f"at most {EDIT_MAX:,}" in refused.text
    with store.begin() as conn:
        assert "word word" not in post_store.require(conn, post_id).text
    assert edit(editor, post_id, "word " * (EDIT_MAX // 5 - 1)).status_code == 303
