"""A staff POST with a session that ended on the server (signed out elsewhere, account
disabled, password changed) is refused before its body is read, as one without a session
is: the refusal arrives while most of the declared body has not even been sent.

The app is served on 127.0.0.1; the request is written by hand on a socket, so the test
decides how much of the body the server gets.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx
import pytest

from bot.config import Config
from bot.store import Store
from bot.store import users as user_store
from bot.web.app import create_app
from bot.web.sessions import COOKIE
from tests.fakes.server import LiveServer
from tests.web.conftest import add_user, csrf_of, sign_in

DECLARED = 900_000
"""Under the 1 MB staff limit: only the session can stop the server reading it all."""


def first_bytes_then_wait(base: str, path: str, cookie: str) -> bytes:
    """Send the headers and 1,000 of the DECLARED body bytes, then read the answer."""
    url = urlsplit(base)
    head = (f"POST {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Cookie: {COOKIE}={cookie}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {DECLARED}\r\n\r\n").encode()
    first = b"text=" + b"y" * 995           # one field: a parser would wait for the rest
    answer = b""
    with socket.create_connection((url.hostname, url.port), timeout=15) as conn:
        conn.sendall(head + first)
        while not _complete(answer):
            try:
                chunk = conn.recv(65536)
            except TimeoutError:
                pytest.fail("the server waited for the body of a request from an ended "
                            "session")
            if not chunk:
                break
            answer += chunk
    return answer


def _complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    return len(body) >= length


@pytest.mark.parametrize("ended_by", ["signing out", "disabling the account"])
def test_an_ended_session_is_refused_before_the_body(config: Config, store: Store,
                                                     posts: dict[str, int],
                                                     ended_by: str) -> None:
    add_user(store, "ed", "editor")
    post_id = posts["mastodon"]
    with LiveServer(create_app(config, store)) as server, \
            httpx.Client(base_url=server.url, timeout=30, follow_redirects=False) as browser:
        assert sign_in(browser, "ed").status_code == 303
        cookie = browser.cookies[COOKIE]
        if ended_by == "signing out":
            token = csrf_of(browser.get("/").text)
            assert browser.post("/signout", data={"csrf": token}).status_code == 303
        else:
            with store.begin() as conn:
                user_store.set_disabled(conn, "ed", True, actor="ada")
        answer = first_bytes_then_wait(server.url, f"/posts/{post_id}/edit", cookie)
    assert answer.startswith(b"HTTP/1.1 403 ")
    assert b"You are signed out" in answer
