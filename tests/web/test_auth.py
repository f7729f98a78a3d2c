"""Signing in and out, sessions, rate limiting, and the guard in front of every change."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from bot.config import Config
from bot.store import Store
from bot.store import posts as post_store
from bot.store import users as user_store
from bot.web.app import create_app
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


def test_too_many_failures_are_limited_per_account_and_address(config: Config,
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
        now[0] += 901
        assert sign_in(client, "rita", PASSWORD).status_code == 303
    with client_for(config, store, limiter=limiter) as colleague:
        for _ in range(5):
            sign_in(colleague, "rita", "guess")
        # another account from the same address is not held back by rita's pair limit
        assert sign_in(colleague, "ed", PASSWORD).status_code == 303


def test_one_address_spraying_accounts_is_limited(config: Config, store: Store) -> None:
    limiter = FailureLimiter(limit=2, window=900)
    for name in ("a1", "a2", "a3", "a4", "a5"):
        add_user(store, name, "reviewer")
    with client_for(config, store, limiter=limiter) as client:
        for name in ("a1", "a2", "a3", "a4"):               # 2 each: 8 = 4 × the limit
            for _ in range(2):
                assert sign_in(client, name, "guess").status_code == 401
        assert sign_in(client, "a5", PASSWORD).status_code == 429


def app_from(config: Config, store: Store, limiter: FailureLimiter,
             address: str) -> TestClient:
    return TestClient(create_app(config, store, limiter=limiter), follow_redirects=False,
                      client=(address, 40000))


def test_strangers_cannot_lock_a_person_out_of_a_known_address(config: Config,
                                                              store: Store) -> None:
    limiter = FailureLimiter(limit=2, window=900)
    add_user(store, "rita", "reviewer")
    with app_from(config, store, limiter, "192.0.2.10") as office:
        assert sign_in(office, "rita", PASSWORD).status_code == 303   # her usual address
    for i in range(12):                                 # guesses spread over 12 addresses
        with app_from(config, store, limiter, f"198.51.100.{i}") as attacker:
            sign_in(attacker, "rita", "guess")
            sign_in(attacker, "rita", "guess")
    with app_from(config, store, limiter, "203.0.113.7") as stranger:
        assert sign_in(stranger, "rita", PASSWORD).status_code == 429   # account limit
    with app_from(config, store, limiter, "192.0.2.10") as office:
        assert sign_in(office, "rita", PASSWORD).status_code == 303     # still gets in


def test_simultaneous_guesses_are_counted_before_hashing(config: Config, store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    limiter = FailureLimiter(limit=5, window=900)
    add_user(store, "rita", "reviewer")
    checked: list[str] = []
    real = user_store.authenticate

    def counting(conn: object, name: str, password: str) -> object:
        checked.append(password)
        return real(conn, name, password)  # type: ignore[arg-type]

    with client_for(config, store, limiter=limiter) as client:
        token = csrf_of(client.get("/signin").text)

        def guess(i: int) -> int:
            return client.post("/signin", data={"name": "rita", "password": f"guess{i}",
                                                "csrf": token}).status_code

        user_store.authenticate = counting  # type: ignore[assignment]
        try:
            with ThreadPoolExecutor(20) as pool:
                codes = list(pool.map(guess, range(20)))
        finally:
            user_store.authenticate = real  # type: ignore[assignment]
    assert codes.count(401) == 5 and codes.count(429) == 15
    assert len(checked) == 5                           # only five passwords were hashed


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


def test_bodies_are_capped_and_staff_posts_need_a_session_before_parsing(
        config: Config, store: Store) -> None:
    with client_for(config, store) as client:
        token = csrf_of(client.get("/signin").text)
        big = "x" * 2_000_000
        public = client.post("/signin", data={"name": big, "csrf": token})
        assert public.status_code == 413
        assert "frame-ancestors 'none'" in public.headers["content-security-policy"]
        # a staff action without a session is refused before its body is read
        refused = client.post("/posts/1/edit", content=b"text=" + b"y" * 500_000,
                              headers={"content-type": "application/x-www-form-urlencoded"})
        assert refused.status_code == 403


def test_passwords_are_hashed_two_at_a_time(config: Config, store: Store,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    add_user(store, "rita", "reviewer")
    inside, most = [0], [0]
    lock = threading.Lock()
    real = user_store.authenticate

    def slow(conn: object, name: str, password: str) -> object:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.05)
        try:
            return real(conn, name, password)  # type: ignore[arg-type]
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(user_store, "authenticate", slow)
    limiter = FailureLimiter(limit=100, window=900)
    with client_for(config, store, limiter=limiter) as client:
        token = csrf_of(client.get("/signin").text)
        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(lambda i: client.post(
                "/signin", data={"name": "rita", "password": f"g{i}", "csrf": token}
            ).status_code, range(16)))
    assert codes == [401] * 16
    assert most[0] == 2


def test_a_password_rehashed_at_sign_in_keeps_the_session(config: Config, store: Store,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """New Argon2 parameters rehash the password at sign-in: the session must carry the
    new hash's fingerprint, or the first page after signing in signs the person out."""
    from argon2 import PasswordHasher

    add_user(store, "rita", "reviewer")                  # hashed with the cheap parameters
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    monkeypatch.setattr(user_store, "_hasher", lambda: stronger)
    with client_for(config, store) as client:
        assert sign_in(client, "rita").status_code == 303
        assert client.get("/").status_code == 200
    with store.begin() as conn:
        rita = user_store.get(conn, "rita")
    assert rita is not None and "t=2" in rita.password_hash
