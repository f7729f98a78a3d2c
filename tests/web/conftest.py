"""Fixtures for the review page: a config with three outbox channels, a fresh SQLite
database, accounts of each role, and helpers that sign in the way a browser does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from bot import workflow
from bot.config import Config, load_config
from bot.models import Image, Release
from bot.store import Store
from bot.store import releases as release_store
from bot.store import users as user_store
from bot.web.app import create_app
from tests.helpers import CHANNELS, NEWSLETTER_OUTBOX

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def write_config(tmp_path: Path, *, extra_web: str = "", public_url: str = "http://127.0.0.1:8080"
                 ) -> Config:
    file = tmp_path / "pressbot.toml"
    file.write_text(f"""
[bot]
database_url = "sqlite:///{tmp_path / 'pressbot.db'}"
timezone = "Europe/Brussels"
public_url = "{public_url}"
outbox = "{tmp_path / 'outbox'}"

[web]
listen = "127.0.0.1:0"
{extra_web}

""" + CHANNELS + NEWSLETTER_OUTBOX, encoding="utf-8")
    return load_config(file)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2's real cost (~0.1 s a hash) would dominate the suite; the code path is the same."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(user_store, "_hasher", lambda: cheap)
    monkeypatch.setattr(user_store, "_dummy_hash", None)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return write_config(tmp_path)


@pytest.fixture
def store(config: Config) -> Iterator[Store]:
    db = Store(config.bot.database_url)
    yield db
    db.dispose()


def release(n: int = 1, **fields: Any) -> Release:
    values: dict[str, Any] = {
        "source": "press", "key": f"release-{n}.md",
        "url": f"https://www.example.org/news/release-{n}",
        "title": f"City opens riverside library number {n}",
        "published_at": datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        "summary": "The new library has 40,000 books, a maker space and a café.",
        "body": "The new library has 40,000 books.\n\nIt opens on Monday.",
        "images": [Image(url="https://www.example.org/img/library.jpg", alt="The library")],
        "tags": ["library", "city"],
    }
    values.update(fields)
    return Release(**values)


def queue(store: Store, config: Config, item: Release) -> dict[str, int]:
    """Store a release and queue its posts: {channel: post id}."""
    with store.begin() as conn:
        release_id = release_store.insert(conn, item)
        ids = workflow.queue_release(conn, config, release_id, item, None)
        from bot.store import posts

        return {posts.require(conn, i).channel: i for i in ids}


def add_user(store: Store, name: str, role: str, password: str = PASSWORD) -> None:
    with store.begin() as conn:
        user_store.add(conn, name, password, role)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> Any:
    page = client.get("/signin")
    return client.post("/signin", data={"name": name, "password": password,
                                        "csrf": csrf_of(page.text), "next": "/"},
                       follow_redirects=False)


def client_for(config: Config, store: Store, **kwargs: Any) -> TestClient:
    return TestClient(create_app(config, store, **kwargs), follow_redirects=False)


@pytest.fixture
def posts(store: Store, config: Config) -> dict[str, int]:
    return queue(store, config, release())


@pytest.fixture
def client(config: Config, store: Store) -> Iterator[TestClient]:
    for name, role in (("rita", "reviewer"), ("ed", "editor"), ("ada", "admin")):
        add_user(store, name, role)
    with client_for(config, store) as test_client:
        yield test_client
