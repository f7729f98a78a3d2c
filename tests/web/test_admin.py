"""Accounts (page and CLI), the reviewers' "posts are waiting" text, and public pages."""

from __future__ import annotations

import importlib.machinery
import json
import sys
import types

import pytest
from click.testing import CliRunner
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.cli import cli
from bot.cli import users as _users_commands  # noqa: F401  (registers `users`)
from bot.config import Config
from bot.store import Store
from bot.store import subscribers as subscriber_store
from bot.store import users as user_store
from bot.web.notify import pending_digest_text
from tests.web.conftest import PASSWORD, client_for, csrf_of, queue, release, sign_in


def _add(client: TestClient, **data: str) -> object:
    token = csrf_of(client.get("/users").text)
    return client.post("/users", data={"csrf": token, **data})


def test_an_account_email_with_a_line_break_is_refused(client: TestClient,
                                                       store: Store) -> None:
    sign_in(client, "ada")
    added = _add(client, name="mallory", role="reviewer", password=PASSWORD,
                 email="m@example.org\r\nBcc: everyone@example.org")
    assert added.status_code == 422  # type: ignore[attr-defined]
    assert "not a valid email address" in added.text  # type: ignore[attr-defined]
    with store.begin() as conn:
        assert user_store.get(conn, "mallory") is None
        with pytest.raises(user_store.UserError):
            user_store.add(conn, "mallory", PASSWORD, "reviewer", email="a@b.org\nBcc: c@d.org")


def test_only_admins_see_accounts(client: TestClient) -> None:
    sign_in(client, "ed")
    assert client.get("/users").status_code == 403
    token = csrf_of(client.get("/").text)
    refused = client.post("/users", data={"csrf": token, "name": "mallory", "role": "admin",
                                          "password": PASSWORD})
    assert refused.status_code == 403
    assert 'href="/users"' not in client.get("/").text


def test_admin_adds_and_disables_an_account(client: TestClient, config: Config,
                                            store: Store) -> None:
    sign_in(client, "ada")
    added = _add(client, name="nina", role="editor", password=PASSWORD, email="n@example.org")
    assert added.status_code == 303  # type: ignore[attr-defined]
    with store.begin() as conn:
        nina = user_store.get(conn, "nina")
    assert nina is not None
    assert nina.role == "editor"
    assert nina.email == "n@example.org"
    assert nina.password_hash.startswith("$argon2id$")
    assert PASSWORD not in nina.password_hash

    with client_for(config, store) as other:
        assert sign_in(other, "nina").status_code == 303
        assert other.get("/").status_code == 200
        token = csrf_of(client.get("/users").text)
        disabled = client.post("/users/nina/disabled", data={"csrf": token, "disabled": "1"})
        assert disabled.status_code == 303
        assert other.get("/").status_code == 303  # her session ended at once
        assert sign_in(other, "nina").status_code == 401


def test_bad_account_is_refused_with_a_reason(client: TestClient, store: Store) -> None:
    sign_in(client, "ada")
    short = _add(client, name="nina", role="editor", password="short")
    assert short.status_code == 422  # type: ignore[attr-defined]
    assert "too short" in short.text  # type: ignore[attr-defined]
    taken = _add(client, name="rita", role="editor", password=PASSWORD)
    assert "already exists" in taken.text  # type: ignore[attr-defined]
    with store.begin() as conn:
        assert [u.name for u in user_store.listing(conn)] == ["ada", "ed", "rita"]


def test_admin_cannot_disable_themselves(client: TestClient, store: Store) -> None:
    sign_in(client, "ada")
    token = csrf_of(client.get("/users").text)
    response = client.post("/users/ada/disabled", data={"csrf": token, "disabled": "1"})
    assert response.status_code == 409
    with store.begin() as conn:
        ada = user_store.get(conn, "ada")
    assert ada is not None
    assert not ada.disabled


def test_admin_sees_the_audience(client: TestClient, store: Store) -> None:
    with store.begin() as conn:
        for n in range(3):
            subscriber_store.insert(conn, email=f"s{n}@example.org", name=None, language=None,
                                    status="active" if n else "pending", consent_source="test")
    sign_in(client, "ada")
    page = client.get("/users").text
    assert "<strong>2</strong> active" in page
    assert "<strong>1</strong> pending" in page


def test_cli_adds_and_lists_accounts(config: Config, store: Store) -> None:
    runner = CliRunner()
    config_path = str(config.source_file)
    piped = runner.invoke(cli, ["--config", config_path, "users", "add", "sam", "--role",
                                "reviewer", "--password-stdin"], input=PASSWORD + "\n")
    assert piped.exit_code == 0, piped.output
    prompted = runner.invoke(cli, ["--config", config_path, "users", "add", "pat", "--role",
                                   "admin"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    assert PASSWORD not in prompted.output
    weak = runner.invoke(cli, ["--config", config_path, "users", "add", "kim", "--role",
                               "editor", "--password-stdin"], input="weak\n")
    assert weak.exit_code == 2
    assert "too short" in weak.output
    twice = runner.invoke(cli, ["--config", config_path, "users", "add", "sam", "--role",
                                "editor", "--password-stdin"], input=PASSWORD + "\n")
    assert twice.exit_code == 1
    assert "already exists" in twice.output
    listed = runner.invoke(cli, ["--config", config_path, "users", "list", "--json"])
    accounts = json.loads(listed.output)
    assert [(a["name"], a["role"]) for a in accounts] == [("pat", "admin"), ("sam", "reviewer")]
    assert "hash" not in listed.output
    with store.begin() as conn:
        assert user_store.authenticate(conn, "sam", PASSWORD) is not None


def test_pending_digest_text(config: Config, store: Store) -> None:
    assert pending_digest_text(config, store) is None
    queue(store, config, release(1))
    text = pending_digest_text(config, store)
    assert text is not None
    assert "3 posts waiting for approval" in text
    assert "City opens riverside library number 1 (mastodon, new)" in text
    assert str(config.bot.public_url).rstrip("/") + "/" in text
    assert "approve" not in text.split("Review them here")[1].split("\n")[0].lower()


@pytest.fixture
def public_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stand-in for the newsletter's `bot.web.public`, as the email side provides it."""
    module = types.ModuleType("bot.web.public")
    module.__spec__ = importlib.machinery.ModuleSpec("bot.web.public", None)

    async def unsubscribe(request: Request) -> Response:
        return PlainTextResponse(f"unsubscribed via {request.method}")

    def public_routes(config: Config, store: Store) -> list[Route]:
        return [Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"])]

    module.public_routes = public_routes  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "bot.web.public", module)


def test_public_routes_need_no_sign_in_or_csrf(public_module: None, config: Config,
                                               store: Store) -> None:
    with client_for(config, store) as client:
        one_click = client.post("/unsubscribe/abc", data={"List-Unsubscribe": "One-Click"})
        assert one_click.status_code == 200
        assert one_click.text == "unsubscribed via POST"
        assert one_click.headers["x-content-type-options"] == "nosniff"
        assert client.get("/").status_code == 303  # the review page still needs sign-in


def test_without_public_module_the_app_still_starts(config: Config, store: Store,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "bot.web.public", None)  # as if it were not installed
    with client_for(config, store) as client:
        assert client.get("/subscribe").status_code == 404
        assert client.get("/signin").status_code == 200
