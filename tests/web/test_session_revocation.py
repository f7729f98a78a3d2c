"""A session ends on the server: a copied cookie is worthless after sign-out, disabling or
a password change, and re-enabling an account does not bring old cookies back."""

from __future__ import annotations

from pathlib import Path

from starlette.testclient import TestClient

from bot.store import Store
from bot.store import users as user_store
from bot.web.sessions import COOKIE
from tests.helpers import Workspace
from tests.web.conftest import add_user, client_for, csrf_of, sign_in, write_config


def replay(config: object, store: Store, cookie: str) -> int:
    """What a stranger holding the copied cookie gets for the queue page."""
    with client_for(config, store) as thief:  # type: ignore[arg-type]
        thief.cookies.set(COOKIE, cookie)
        return thief.get("/").status_code


def stolen_cookie(client: TestClient) -> str:
    value = client.cookies.get(COOKIE)
    assert value
    return value


def test_sign_out_ends_the_session_for_a_replayed_cookie(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    store = Store(config.bot.database_url)
    add_user(store, "ed", "editor")
    with client_for(config, store) as browser:
        sign_in(browser, "ed")
        cookie = stolen_cookie(browser)
        assert replay(config, store, cookie) == 200          # the copy works while signed in
        browser.post("/signout", data={"csrf": csrf_of(browser.get("/").text)})
    assert replay(config, store, cookie) == 303               # to the sign-in page
    with client_for(config, store) as again:                  # signing in again still works
        sign_in(again, "ed")
        assert again.get("/").status_code == 200
    store.dispose()


def test_disabling_ends_sessions_and_enabling_does_not_revive_them(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    store = Store(config.bot.database_url)
    add_user(store, "nina", "reviewer")
    with client_for(config, store) as browser:
        sign_in(browser, "nina")
        cookie = stolen_cookie(browser)
    with store.begin() as conn:
        user_store.set_disabled(conn, "nina", True, actor="ada")
        user_store.set_disabled(conn, "nina", False, actor="ada")
    assert replay(config, store, cookie) == 303
    store.dispose()


def test_passwd_ends_every_session_of_the_account(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    ws = Workspace(tmp_path, tmp_path / "pressbot.toml")      # the CLI on the same config
    store = Store(config.bot.database_url)
    add_user(store, "ed", "editor")
    with client_for(config, store) as browser:
        sign_in(browser, "ed")
        cookie = stolen_cookie(browser)
    changed = ws.run("users", "passwd", "ed", "--password-stdin",
                     input="a-brand-new-passphrase\n")
    assert changed.exit_code == 0, changed.output
    assert "sessions have ended" in changed.stdout
    assert replay(config, store, cookie) == 303
    with client_for(config, store) as browser:
        assert sign_in(browser, "ed", "a-brand-new-passphrase").status_code == 303
        assert browser.get("/").status_code == 200
    store.dispose()
