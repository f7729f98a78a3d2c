"""Fixtures every channel test shares."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """One pooled client, as the service gives every HTTP channel (`bot.runtime`)."""
    async with httpx.AsyncClient() as shared:
        yield shared
