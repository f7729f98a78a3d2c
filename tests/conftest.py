"""Test isolation: no developer config or token leaks in; each test gets a fresh database.

Set PRESSBOT_TEST_DATABASE_URL to run the store tests on PostgreSQL too. Set
PRESSBOT_TEST_REQUIRE_ALL=1 (CI does) to turn "tool absent" skips into failures.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

REQUIRE_ALL = os.environ.get("PRESSBOT_TEST_REQUIRE_ALL") == "1"
_KEEP = {"PRESSBOT_TEST_DATABASE_URL", "PRESSBOT_TEST_REQUIRE_ALL", "PRESSBOT_CHROMIUM"}
_TOKENS = ("MASTODON_TOKEN", "FACEBOOK_PAGE_TOKEN", "SMTP_PASSWORD", "EDITOR", "VISUAL")


def need(condition: bool, reason: str) -> None:
    """Skip with a visible reason when a tool is absent; fail instead when CI requires it."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required by PRESSBOT_TEST_REQUIRE_ALL=1 but missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory,
                  ) -> Iterator[None]:
    for name in list(os.environ):
        if (name.startswith("PRESSBOT_") and name not in _KEEP) or name in _TOKENS:
            monkeypatch.delenv(name, raising=False)
    yield
