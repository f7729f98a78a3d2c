"""Test isolation: no developer config or token leaks in; each test gets a fresh database.

Set PRESSBOT_TEST_DATABASE_URL to run the store tests on PostgreSQL too. Set
PRESSBOT_TEST_REQUIRE_ALL=1 (CI does) to turn "tool absent" skips into failures.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from bot.store import Store

REQUIRE_ALL = os.environ.get("PRESSBOT_TEST_REQUIRE_ALL") == "1"
_KEEP = {"PRESSBOT_TEST_DATABASE_URL", "PRESSBOT_TEST_REQUIRE_ALL", "PRESSBOT_CHROMIUM"}
_TOKENS = ("MASTODON_TOKEN", "BLUESKY_APP_PASSWORD", "FACEBOOK_PAGE_TOKEN", "SMTP_PASSWORD",
           "EDITOR", "VISUAL")
_QUIETED = ("httpx", "httpcore", "apscheduler", "uvicorn.access")
"""Loggers `bot.logs.setup_logging` turns down to WARNING for the whole process."""


def need(condition: bool, reason: str) -> None:
    """Skip with a visible reason when a tool is absent; fail instead when CI requires it."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required by PRESSBOT_TEST_REQUIRE_ALL=1 but missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory,
                  ) -> None:
    for name in list(os.environ):
        if (name.startswith("PRESSBOT_") and name not in _KEEP) or name in _TOKENS:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def logger_levels() -> Iterator[None]:
    """An in-process CLI run sets up logging once and quiets httpx for good: put the levels
    back, so a later test that reads httpx's request log still gets it."""
    saved = {name: logging.getLogger(name).level for name in _QUIETED}
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


PG_URL = os.environ.get("PRESSBOT_TEST_DATABASE_URL")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    need(bool(PG_URL), "PostgreSQL not configured: set PRESSBOT_TEST_DATABASE_URL")
    import uuid

    import sqlalchemy as sa

    assert PG_URL
    admin_url = sa.engine.make_url(PG_URL)
    if admin_url.drivername == "postgresql":
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    name = f"pressbot_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        need(False, f"PostgreSQL unreachable at {admin_url.host}: {exc.orig}")
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """Run a store test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/pressbot.db"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated store on SQLite, and on PostgreSQL when configured; a module that wants
    one database only defines its own `store`."""
    db = Store(database_url)
    yield db
    db.dispose()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright; no browser is ever downloaded.

    Module scope, not session: Playwright's sync API runs an event loop on this thread
    while it lives, and the other tests call `asyncio.run`.
    """
    import shutil

    executable = os.environ.get("PRESSBOT_CHROMIUM") or shutil.which("chromium")
    need(executable is not None, "Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "the playwright package is not installed")
        raise
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS,
                                             headless=True)
        yield browser
        browser.close()
