"""Which class serves which `type`, and what each type's limits are before any network call.

The renderer needs limits at fetch and preview time, when no channel object (and no
HTTP client) exists yet; limits learnt from a platform (`check`, e.g. a Mastodon
instance's `max_characters`) are cached in the store and passed in as `learned`.
`--dry-run` is read here and nowhere else: every channel becomes an outbox that keeps
the real channel's name and limits.
"""

from __future__ import annotations

from dataclasses import replace
from importlib import import_module
from pathlib import Path
from typing import Any

from bot.config import ChannelConfig, Config, OutboxConfig
from channels.base import Channel, Limits

CLASSES = {
    "mastodon": "channels.mastodon:MastodonChannel",
    "bluesky": "channels.bluesky:BlueskyChannel",
    "facebook": "channels.facebook:FacebookChannel",
    "linkedin": "channels.linkedin.channel:LinkedInChannel",
    "email": "channels.email:EmailChannel",
    "outbox": "channels.outbox:OutboxChannel",
}

DEFAULT_LIMITS = {
    "mastodon": Limits(max_chars=500, url_weight=23, graphemes=True, mentions_local=True,
                       max_images=4, alt_max=1500, image_max_bytes=16 * 1024 * 1024),
    # Bluesky: 300 graphemes; links are sent in a short form of at most 30 (channels.bluesky).
    "bluesky": Limits(max_chars=300, url_weight=30, graphemes=True, max_images=4,
                      alt_max=2000, image_max_bytes=1_000_000),
    # Facebook allows 63,206 characters; past ~500 a post hides behind "See more".
    "facebook": Limits(max_chars=63206, graphemes=False, soft_chars=500, max_images=1),
    # LinkedIn: 3,000 characters of commentary as sent (escapes included); up to 20 images.
    "linkedin": Limits(max_chars=3000, graphemes=False, little_text=True, max_images=20,
                       image_max_bytes=10 * 1024 * 1024),
    "email": Limits(max_chars=None, graphemes=False, subject_max=60, max_images=1),
}


def kind(cfg: ChannelConfig) -> str:
    """The platform a channel renders for: its type, or what an outbox stands in for."""
    if isinstance(cfg, OutboxConfig):
        return cfg.like or "mastodon"
    return cfg.type


def limits_for(cfg: ChannelConfig, learned: dict[str, Any] | None = None) -> Limits:
    """Limits from the type's defaults, then what the platform told us, then the config."""
    limits = DEFAULT_LIMITS[kind(cfg)]
    if learned:
        limits = replace(limits, **{k: v for k, v in learned.items()
                                    if k in Limits.__dataclass_fields__})
    override = getattr(cfg, "max_characters", None)
    if override:
        limits = replace(limits, max_chars=override)
    if getattr(cfg, "thread", False) and limits.soft_chars is None:
        # long text goes out as a thread (learnt limits of a threaded channel are already)
        from channels.threads import thread_limits

        limits = thread_limits(limits)
    counting = getattr(cfg, "counting", None)  # unset: as learned from the server by `check`
    if counting in ("takahe", "pleroma"):  # links and mentions in full; Takahē: code points
        limits = replace(limits, url_weight=None, mentions_local=False,
                         graphemes=counting == "pleroma")
    return limits


def outbox_for(name: str, cfg: ChannelConfig, config: Config,
               learned: dict[str, Any] | None = None, *, echo: bool = False) -> Channel:
    """The dry-run stand-in for a channel: same name and limits; `.eml` files for email."""
    from channels.outbox import OutboxChannel

    eml = None
    if kind(cfg) == "email":
        from channels.email import build_preview_message

        def eml(post: Any) -> bytes:
            return build_preview_message(post, config)

    return OutboxChannel(name, limits_for(cfg, learned), config.resolve(Path(config.bot.outbox)),
                         echo=echo, eml=eml)


def build(name: str, cfg: ChannelConfig, config: Config, *, dry_run: bool,
          client: Any = None, smtp: Any = None, store: Any = None,
          learned: dict[str, Any] | None = None) -> Channel:
    """The channel object for one config table; an outbox when dry-running."""
    if dry_run or cfg.dry_run or isinstance(cfg, OutboxConfig):
        return outbox_for(name, cfg, config, learned)
    module, _, attr = CLASSES[cfg.type].partition(":")
    cls = getattr(import_module(module), attr)
    if cfg.type == "email":
        return cls(name, cfg, config=config, store=store, smtp=smtp)  # type: ignore[no-any-return]
    if cfg.type in ("bluesky", "mastodon"):  # they keep a session or uploads in the store
        return cls(name, cfg, client, store=store)  # type: ignore[no-any-return]
    return cls(name, cfg, client)  # type: ignore[no-any-return]
