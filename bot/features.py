"""What a site's configuration and channels turn on, read without the code that does it.

The service starts a loop for the newsletter's confirmations, the bounce mailboxes, the
engagement counts and WebSub only when the configuration asks for them, and asks again on
every poll whether a source takes pushes. Those questions lived in the modules that do the
work (`bot.confirmations`, `bot.bounces`, `bot.engagement`, `bot.websub`), so asking them
imported all four, with their store modules and gettext, into a service that uses none of
them (~0.5 MB resident for weeks). Here they need the config alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from bot.config import Config, EmailConfig, FeedSourceConfig, OutboxConfig


def newsletter(config: Config) -> tuple[str, EmailConfig | OutboxConfig] | None:
    """The channel the newsletter goes out on (an email channel, or an outbox standing in
    for one), or None when the site has none."""
    return next(((name, cfg) for name, cfg in config.channels.items()
                 if isinstance(cfg, EmailConfig)
                 or (isinstance(cfg, OutboxConfig) and cfg.like == "email")), None)


def bounce_check_every(config: Config) -> timedelta | None:
    """How often `run` reads the bounce mailboxes (the shortest imap_every), or None."""
    found = [cfg.imap_every for cfg in config.channels.values()
             if isinstance(cfg, EmailConfig) and cfg.imap_host and not cfg.dry_run]
    return min(found) if found else None


def engagement_readers(channels: Mapping[str, Any]) -> dict[str, Any]:
    """The channels that can tell a post's counts (an outbox cannot)."""
    return {n: c for n, c in channels.items() if callable(getattr(c, "engagement", None))}


def takes_pushes(config: Config, cfg: Any) -> bool:
    """Does this source take WebSub pushes? `websub` unset: when a hub could reach
    public_url."""
    if not isinstance(cfg, FeedSourceConfig) or cfg.websub is False:
        return False
    if cfg.websub:
        return True
    from bot.netguard import is_public_http_url

    return is_public_http_url(str(config.bot.public_url), allow_private=False)
