"""Signing in and out, sessions, rate limiting, and the guard in front of every change."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.config import Config
from bot.store import Store
from bot.store import posts as post_store
from bot.web.security import FailureLimiter
from tests.web.conftest import PASSWORD, add_user, client_for, csrf_of, sign_in, write_config


def _state(store: Store, post_id: int) -> tuple[str, str, int]:
    with store.begin() as conn:
        post = post_store.require(conn, post_id)
        return post.status.value, post.text, len(post_store.list_events(conn))


def test_sign_in_with_the_right_password_opens_the_queue(client: TestClient,
                                                         posts: dict[str, int]) -> None:
    response = sign_in(client, "rita")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    queue = client.get("/")
    assert queue.status_code == 200
    assert "City opens riverside library number 1" in queue.text
    assert "Signed in as <strong>rita</strong>" in queue.text


def test_wrong_password_or_name_is_refused_alike(client: TestClient) -> None:
    wrong_password = sign_in(client, "rita", "not the password")
    wrong_name = sign_in(client, "nobody", PASSWORD)
    for response in (wrong_password, wrong_name):
        assert response.status_code == 401
        assert "Wrong name or password" in response.text
    assert client.get("/").status_code == 303  # still signed out


def test_session_cookie_attributes(client: TestClient, config: Config) -> None:
    cookie = sign_in(client, "rita").headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert f"max-age={config.web.session_hours * 3600}" in cookie
    assert "secure" not in cookie  # public_url is http here


def test_cookie_is_secure_when_public_url_is_https(tmp_path: Path) -> None:
    (tmp_path / "https").mkdir()
    config = write_config(tmp_path / "https", public_url="https://press.example.org")
    https_store = Store(config.bot.database_url)
    with client_for(config, https_store) as client:
        assert "secure" in client.get("/signin").headers["set-cookie"].lower()
    https_store.dispose()


def test_too_many_failures_are_limited_per_name_and_per_client(config: Config,
                                                               store: Store) -> None:
    now = [1000.0]
    limiter = FailureLimiter(limit=5, window=900, clock=lambda: now[0])
    add_user(store, "rita", "reviewer")
    add_user(store, "ed", "editor")
    with client_for(config, store, limiter=limiter) as client:
        for _ in range(5):
            assert sign_in(client, "rita", "guess").status_code == 401
        blocked = sign_in(client, "rita", PASSWORD)  # even the right password waits
        assert blocked.status_code == 429
        assert "Too many failed sign-ins" in blocked.text
        assert 0 < int(blocked.headers["retry-after"]) <= 900
        # the same client trying another account is limited too
        assert sign_in(client, "ed", PASSWORD).status_code == 429
        now[0] += 901
        assert sign_in(client, "rita", PASSWORD).status_code == 303


def test_limit_per_name_holds_across_clients(config: Config, store: Store) -> None:
    limiter = FailureLimiter(limit=3, window=900)
    add_user(store, "rita", "reviewer")
    app_kwargs = {"limiter": limiter}
    with client_for(config, store, **app_kwargs) as first:
        for _ in range(3):
            sign_in(first, "rita", "guess")
    limiter.forget("ip:testclient")  # as if the next try came from elsewhere
    with client_for(config, store, **app_kwargs) as second:
        assert sign_in(second, "rita", PASSWORD).status_code == 429


def test_signed_out_page_redirects_to_sign_in(config: Config, store: Store,
                                              posts: dict[str, int]) -> None:
    with client_for(config, store) as client:
        response = client.get(f"/posts/{posts['mastodon']}")
        assert response.status_code == 303
        assert response.headers["location"] == f"/signin?next=/posts/{posts['mastodon']}"


@pytest.mark.parametrize("action", ["approve", "reject", "edit", "schedule"])
def test_signed_out_post_is_refused_and_changes_nothing(config: Config, store: Store,
                                                        posts: dict[str, int],
                                                        action: str) -> None:
    post_id = posts["mastodon"]
    before = _state(store, post_id)
    with client_for(config, store) as client:
        token = csrf_of(client.get("/signin").text)  # a valid token of a signed-out session
        response = client.post(f"/posts/{post_id}/{action}",
                               data={"csrf": token, "text": "changed", "at": "tomorrow 09:00"})
    assert response.status_code == 403
    assert _state(store, post_id) == before


@pytest.mark.parametrize("token", [None, "", "0" * 64, "from-another-session"])
def test_missing_or_wrong_csrf_token_is_refused(client: TestClient, store: Store,
                                                posts: dict[str, int], config: Config,
                                                token: str | None) -> None:
    post_id = posts["mastodon"]
    sign_in(client, "ed")
    if token == "from-another-session":
        with client_for(config, store) as other:
            sign_in(other, "ed")
            token = csrf_of(other.get("/").text)
    before = _state(store, post_id)
    data = {"text": "Changed by a forged form"} | ({"csrf": token} if token is not None else {})
    for action in ("approve", "edit"):
        response = client.post(f"/posts/{post_id}/{action}", data=data)
        assert response.status_code == 403
        assert "did not come from this page" in response.text
    assert _state(store, post_id) == before


def test_sign_out_ends_the_session(client: TestClient) -> None:
    sign_in(client, "rita")
    page = client.get("/")
    response = client.post("/signout", data={"csrf": csrf_of(page.text)})
    assert response.status_code == 303
    assert client.get("/").status_code == 303


def test_sign_in_rotates_the_session_nonce(client: TestClient) -> None:
    before = csrf_of(client.get("/signin").text)
    sign_in(client, "rita")
    after = csrf_of(client.get("/").text)
    assert before != after


def test_session_expires_after_session_hours(client: TestClient, config: Config,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    sign_in(client, "rita")
    assert client.get("/").status_code == 200
    later = time.time() + config.web.session_hours * 3600 + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert client.get("/").status_code == 303


def test_a_forged_cookie_is_ignored(client: TestClient) -> None:
    client.cookies.set("pressbot_session", '{"n": "x", "u": "ada"}')
    assert client.get("/").status_code == 303


def test_next_never_leaves_the_site(client: TestClient) -> None:
    page = client.get("/signin")
    response = client.post("/signin", data={"name": "rita", "password": PASSWORD,
                                            "csrf": csrf_of(page.text),
                                            "next": "//evil.example/"})
    assert response.headers["location"] == "/"
