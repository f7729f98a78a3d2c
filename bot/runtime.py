"""Building the live parts once per process: the HTTP client and the channels.

The service and the one-shot commands share this, so the same config builds the same
channels everywhere, and `--dry-run` is applied in exactly one place.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from pydantic import SecretStr

from bot import tls
from bot.config import ChannelConfig, Config
from bot.errors import ConfigError
from bot.store import Store, meta
from channels import registry
from channels.base import Channel, user_agent

log = logging.getLogger("pressbot.runtime")


def http_client() -> httpx.AsyncClient:
    """One pooled client for every HTTP channel: connections are reused per host."""
    return httpx.AsyncClient(
        headers={"User-Agent": user_agent()},
        timeout=httpx.Timeout(20.0, connect=10.0),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        follow_redirects=False,
        verify=tls.context(),
    )


IDENTITY_FIELDS = ("handle", "username", "imap_user")
"""Who signs in: re-read with the secrets, since a new token may belong to a new account."""


def credential_fields(cfg: ChannelConfig) -> list[str]:
    """The fields of a channel's table that `reload` re-reads: every secret (a `SecretStr`:
    tokens, passwords, app secrets) and the account names that go with them."""
    return [name for name in type(cfg).model_fields
            if isinstance(getattr(cfg, name, None), SecretStr) or name in IDENTITY_FIELDS]


class LiveChannels(dict[str, Channel]):
    """The channels of one process, by name, and what it takes to build one again."""

    def __init__(self, config: Config, store: Store, client: httpx.AsyncClient, *,
                 dry_run: bool) -> None:
        super().__init__()
        self.config = config
        self.store = store
        self.client = client
        self.dry_run = dry_run

    def build(self, name: str, cfg: ChannelConfig, learned: dict[str, Any] | None) -> Channel:
        return registry.build(name, cfg, self.config, dry_run=self.dry_run, client=self.client,
                              store=self.store, learned=learned)

    async def reload(self, names: Iterable[str], *, why: str = "resumed") -> list[str]:
        """Re-read the credentials of `names` (`*`: every channel) from the config file and
        its `.env`, and build those channels again — a resumed channel must not go on with
        the token it was paused for. Only credentials change: other settings need a
        restart. Returns the channels rebuilt; a config that no longer loads changes none."""
        from bot.config import load_config

        wanted = set(self) if "*" in names else {n for n in names if n in self}
        if not wanted:
            return []
        try:
            fresh = await asyncio.to_thread(load_config, self.config.source_file)
        except ConfigError as exc:
            log.error("could not re-read credentials (%s): the config does not load: %s",
                      why, str(exc).splitlines()[0])
            return []
        with self.store.begin() as conn:
            learned = meta.learned_limits(conn)
        rebuilt = []
        for name in sorted(wanted):
            old_cfg, new_cfg = self.config.channels[name], fresh.channels.get(name)
            if new_cfg is None or type(new_cfg) is not type(old_cfg):
                log.warning("channel=%s: not in %s as the same type any more; its credentials "
                            "stay as they were until a restart", name, self.config.source_file)
                continue
            fields = credential_fields(old_cfg)
            changed = [f for f in fields if getattr(old_cfg, f) != getattr(new_cfg, f)]
            cfg = old_cfg.model_copy(update={f: getattr(new_cfg, f) for f in fields})
            self.config.channels[name] = cfg
            old, self[name] = self[name], self.build(name, cfg, learned.get(name))
            await _close(old)
            renew = getattr(self[name], "renew_session", None)
            if renew is not None:  # a session made with the old credentials is not trusted
                await renew()
            rebuilt.append(name)
            log.info("channel=%s credentials re-read (%s)%s", name, why,
                     f": {', '.join(changed)} changed" if changed else ": unchanged")
        return rebuilt


async def _close(channel: Channel) -> None:
    close = getattr(channel, "aclose", None)
    if close is not None:
        await close()


@asynccontextmanager
async def live_channels(config: Config, store: Store, *, dry_run: bool
                        ) -> AsyncIterator[LiveChannels]:
    """Every configured channel, built once, closed at the end."""
    with store.begin() as conn:
        learned = meta.learned_limits(conn)
    async with http_client() as client:
        built = LiveChannels(config, store, client, dry_run=dry_run)
        for name, cfg in config.channels.items():
            built[name] = built.build(name, cfg, learned.get(name))
        try:
            yield built
        finally:
            for channel in built.values():
                await _close(channel)
