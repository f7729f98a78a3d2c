"""WebSub (W3C): feeds that advertise a hub push their updates instead of waiting to be polled.

- Discovery: a poll notes the feed's `<link rel="hub">` and `rel="self"` (the topic).
- Subscribe: `maintain` (every 30 s in `pressbot run`) asks the hub to push to
  `{public_url}/websub/{source}`, with a per-subscription secret derived from the bot's
  signing key (never stored, never logged), and asks again before the granted lease ends.
- Verify intent: the hub's GET is answered with its challenge only for the topic we asked
  for, in the mode we asked for; anything else is a 404.
- Push: a POST whose `X-Hub-Signature` (sha1/sha256/sha384/sha512 HMAC of the body) does not
  match is acknowledged and dropped, as the spec says; a good one is parsed like a polled
  feed and stored at once (the same `store_releases`, so nothing is queued twice).
- Unsubscribe: a source removed from the config, or turned off, ends its subscription.
- Fallback: while a subscription is live and the hub spoke within `websub_silence`, the
  scheduled polls are skipped; a silent, refused or expired one puts polling back.

Its state lives in the `meta` table under `websub:<source>`, apart from the poll's own
row, so a push and a poll never overwrite each other's bookkeeping.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from bot import clock
from bot.config import Config, FeedSourceConfig, SourceConfig
from bot.store import Store, meta

log = logging.getLogger("pressbot.websub")

_HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
           "sha512": hashlib.sha512}
PENDING_FOR = timedelta(minutes=10)
"""A subscription the hub has not verified in this long is asked for again."""
RETRY_AFTER = timedelta(minutes=10)


def _key(source: str) -> str:
    return f"websub:{source}"


def load(store: Store, source: str) -> dict[str, Any]:
    with store.begin() as conn:
        value = meta.get(conn, _key(source), {})
    return dict(value) if isinstance(value, dict) else {}


def _update(store: Store, source: str, **changes: Any) -> dict[str, Any]:
    with store.begin_immediate() as conn:
        value = meta.get(conn, _key(source), {})
        value = {**(value if isinstance(value, dict) else {}), **changes}
        meta.put(conn, _key(source), value)
    return value


def _iso(at: datetime) -> str:
    return at.isoformat()


def _at(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def secret(config: Config, store: Store, source: str, topic: str) -> str:
    """The subscription's HMAC secret: derived, so nothing secret is stored."""
    from bot import redact
    from bot.signing import signing_key

    key = signing_key(config, store).encode()
    value = hmac.new(key, f"websub\x00{source}\x00{topic}".encode(), hashlib.sha256).hexdigest()
    redact.register(value)  # kept out of logs and error messages like any secret
    return value


def callback_url(config: Config, source: str) -> str:
    return f"{str(config.bot.public_url).rstrip('/')}/websub/{quote(source, safe='')}"


def discovered(store: Store, source: str, hub: str | None, topic: str | None) -> None:
    """A poll saw the feed's hub and topic (or none): remember them for `maintain`."""
    state = load(store, source)
    if state.get("hub") != hub or state.get("topic") != topic:
        _update(store, source, hub=hub, topic=topic)


def wanted(config: Config, cfg: Any) -> bool:
    """Does this source take pushes? `websub` unset: when a hub could reach public_url."""
    if not isinstance(cfg, FeedSourceConfig) or cfg.websub is False:
        return False
    if cfg.websub:
        return True
    from bot.netguard import is_public_http_url

    return is_public_http_url(str(config.bot.public_url), allow_private=False)


def _due(state: dict[str, Any], now: datetime) -> bool:
    """Should we (re)subscribe now?"""
    if not state.get("hub") or not state.get("topic"):
        return False
    retry_at = _at(state.get("retry_at"))
    if retry_at and now < retry_at:
        return False
    if state.get("subscribed_hub") != state["hub"] or state.get("subscribed_topic") != \
            state["topic"]:
        return True
    status = state.get("status")
    if status == "pending":
        requested = _at(state.get("requested_at"))
        return requested is None or now - requested > PENDING_FOR
    if status == "active":
        until, granted = _at(state.get("lease_until")), state.get("lease_seconds") or 0
        # renew when a fifth of the lease is left
        return until is None or now >= until - timedelta(seconds=granted / 5)
    return status == "denied" and bool(state.get("retry_at"))


async def subscribe(config: Config, store: Store, client: httpx.AsyncClient, source: str,
                    cfg: FeedSourceConfig) -> str:
    """Ask the hub for a subscription; returns what happened, in words."""
    state = load(store, source)
    hub, topic = state["hub"], state["topic"]
    form = {"hub.mode": "subscribe", "hub.topic": topic,
            "hub.callback": callback_url(config, source),
            "hub.secret": secret(config, store, source, topic),
            "hub.lease_seconds": str(int(cfg.websub_lease.total_seconds()))}
    now = clock.now()
    _update(store, source, status="pending", requested_at=_iso(now), subscribed_hub=hub,
            subscribed_topic=topic, retry_at=None)
    from bot.netguard import NotPublicURL, check_public

    try:
        # the hub's address comes from the feed: no request into the local network for it
        # (a source on the local network may name a hub on its own host, and only there)
        await check_public(hub, _own_host(hub, cfg))
        response = await client.post(hub, data=form, timeout=20.0, follow_redirects=False)
    except NotPublicURL:
        _update(store, source, status="error", retry_at=_iso(now + RETRY_AFTER),
                error="hub address not public")
        return f"hub {hub} is not a public address (sources.{source}.allow_private)"
    except httpx.HTTPError as exc:
        _update(store, source, status="error", retry_at=_iso(now + RETRY_AFTER),
                error=f"{type(exc).__name__}")
        return f"hub {hub} unreachable ({type(exc).__name__}); polling goes on"
    if response.status_code not in (202, 204):
        _update(store, source, status="error", retry_at=_iso(now + RETRY_AFTER),
                error=f"HTTP {response.status_code}")
        return f"hub {hub} refused the subscription (HTTP {response.status_code})"
    return f"subscription to {topic} requested at {hub}"


def _own_host(hub: str, cfg: SourceConfig | None) -> bool:
    """Whether `hub` may be a private address: the source allows its own host to be, and
    the hub is on that host."""
    return isinstance(cfg, FeedSourceConfig) and cfg.allow_private and \
        urlsplit(hub).hostname == urlsplit(str(cfg.url)).hostname


async def unsubscribe(store: Store, client: httpx.AsyncClient, source: str,
                      callback: str, cfg: SourceConfig | None = None) -> str:
    """Tell the hub to stop: the source is gone or no longer takes pushes. The stored hub is
    checked as a new one would be (a source gone from the config allows no private hub)."""
    from bot.netguard import NotPublicURL, check_public

    state = load(store, source)
    hub, topic = state.get("subscribed_hub"), state.get("subscribed_topic")
    _update(store, source, status="unsubscribing", requested_at=_iso(clock.now()))
    form = {"hub.mode": "unsubscribe", "hub.topic": topic or "", "hub.callback": callback}
    try:
        await check_public(str(hub), _own_host(str(hub), cfg))
        response = await client.post(str(hub), data=form, timeout=20.0,
                                     follow_redirects=False)
    except NotPublicURL:
        return f"hub {hub} is not a public address: not contacted; the lease runs out by itself"
    except httpx.HTTPError as exc:
        return f"hub {hub} unreachable ({type(exc).__name__}); the lease runs out by itself"
    return f"unsubscribe from {topic} requested at {hub} (HTTP {response.status_code})"


async def maintain(config: Config, store: Store, client: httpx.AsyncClient) -> list[str]:
    """Subscribe where a hub is known and no live subscription is; renew leases; end the
    subscriptions of sources that are gone or no longer take pushes."""
    done: list[str] = []
    now = clock.now()
    with store.begin() as conn:
        known = meta.with_prefix(conn, "websub:")
    for name, state in known.items():
        if (isinstance(state, dict) and state.get("status") in ("active", "pending")
                and not wanted(config, config.sources.get(name))):
            outcome = await unsubscribe(store, client, name, callback_url(config, name),
                                        config.sources.get(name))
            log.info("websub source=%s %s", name, outcome)
            done.append(f"{name}: {outcome}")
    for name, cfg in config.sources.items():
        if not wanted(config, cfg):
            continue
        assert isinstance(cfg, FeedSourceConfig)
        if _due(load(store, name), now):
            outcome = await subscribe(config, store, client, name, cfg)
            log.info("websub source=%s %s", name, outcome)
            done.append(f"{name}: {outcome}")
    return done


def verify(store: Store, source: str, params: dict[str, str]) -> str | None:
    """The challenge to echo for a hub's verification of intent, or None (a 404)."""
    state = load(store, source)
    mode, topic = params.get("hub.mode"), params.get("hub.topic")
    if not state or topic != state.get("subscribed_topic"):
        return None
    now = clock.now()
    if mode == "denied":
        _update(store, source, status="denied", retry_at=_iso(now + RETRY_AFTER),
                error=params.get("hub.reason", "denied by the hub")[:200])
        log.warning("websub source=%s the hub denied the subscription; polling goes on",
                    source)
        return ""
    challenge = params.get("hub.challenge")
    if mode == "unsubscribe" and challenge and state.get("status") == "unsubscribing":
        _update(store, source, status="unsubscribed", lease_until=None)
        log.info("websub source=%s unsubscribed", source)
        return challenge
    if mode != "subscribe" or not challenge or state.get("status") not in ("pending",
                                                                           "active"):
        return None
    try:
        lease = max(1, int(params.get("hub.lease_seconds") or 0))
    except ValueError:
        lease = 0
    lease = lease or 86400
    _update(store, source, status="active", verified_at=_iso(now), lease_seconds=lease,
            lease_until=_iso(now + timedelta(seconds=lease)), last_heard_at=_iso(now))
    log.info("websub source=%s subscription verified, lease %d s", source, lease)
    return challenge


def signature_ok(config: Config, store: Store, source: str, body: bytes,
                 header: str | None) -> bool:
    """Does `X-Hub-Signature` carry the HMAC of the body under our secret?"""
    state = load(store, source)
    topic = state.get("subscribed_topic")
    if not header or not topic or "=" not in header:
        return False
    method, _, given = header.partition("=")
    digest = _HASHES.get(method.strip().lower())
    if digest is None:
        return False
    key = secret(config, store, source, topic).encode()
    expected = hmac.new(key, body, digest).hexdigest()
    return hmac.compare_digest(expected, given.strip().lower())


def heard(store: Store, source: str) -> None:
    _update(store, source, last_heard_at=_iso(clock.now()))


def should_poll(store: Store, source: str, cfg: Any) -> bool:
    """False while a live subscription has spoken within `websub_silence`."""
    if not isinstance(cfg, FeedSourceConfig) or cfg.websub is False:
        return True
    state = load(store, source)
    now = clock.now()
    until, heard_at = _at(state.get("lease_until")), _at(state.get("last_heard_at"))
    live = state.get("status") == "active" and until is not None and now < until
    return not (live and heard_at is not None and now - heard_at < cfg.websub_silence)
