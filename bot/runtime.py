"""Building the live parts once per process: the HTTP client and the channels.

The service and the one-shot commands share this, so the same config builds the same
channels everywhere, and `--dry-run` is applied in exactly one place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from bot.config import Config
from bot.store import Store, meta
from channels import registry
from channels.base import Channel, user_agent


def http_client() -> httpx.AsyncClient:
    """One pooled client for every HTTP channel: connections are reused per host."""
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent()},
        timeout=httpx.Timeout(20.0, connect=10.0),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        follow_redirects=False,
    )


@asynccontextmanager
async def live_channels(config: Config, store: Store, *, dry_run: bool
                        ) -> AsyncIterator[dict[str, Channel]]:
    """Every configured channel, built once, closed at the end."""
    with store.begin() as conn:
        learned = meta.learned_limits(conn)
    async with http_client() as client:
        built = {name: registry.build(name, cfg, config, dry_run=dry_run, client=client,
                                      store=store, learned=learned.get(name))
                 for name, cfg in config.channels.items()}
        try:
            yield built
        finally:
            for channel in built.values():
                close = getattr(channel, "aclose", None)
                if close is not None:
                    await close()
