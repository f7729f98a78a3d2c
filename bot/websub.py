"""WebSub (W3C): feeds that advertise a hub push their updates instead of waiting to be polled.

- Discovery: a poll notes the feed's `<link rel="hub">` and `rel="self"` (the topic).
- Subscribe: `maintain` (every 30 s in `pressbot run`) asks the hub to push to
  `{public_url}/websub/{source}/{nonce}`, with a per-subscription HMAC secret derived from
  the bot's signing key (never stored, never logged), and asks again before the granted
  lease ends. Every request carries a fresh random nonce in its callback, kept with the
  pending request in the store: only the hub we asked has seen it.
- Verify intent: the hub's GET is answered with its challenge only while a request we sent
  is pending, and only for its nonce, topic and mode; anything else is a 404 (a stranger's
  "verification" or "denial" changes nothing), malformed parameters a 400. The lease is
  what the hub grants, at most what we asked for.
- Push: a POST whose `X-Hub-Signature` (sha1/sha256/sha384/sha512 HMAC of the body) does not
  match is acknowledged and dropped, as the spec says; a good one is parsed like a polled
  feed and stored at once (the same `store_releases`, so nothing is queued twice). A signed
  push to a callback we no longer use (the one a renewal replaced) is stored too and
  answered 410, which tells the hub to drop that subscription.
- Unsubscribe: a source removed from the config, or turned off, ends its subscription.
- Fallback: the scheduled polls are skipped only while a subscription is live *and* its
  last signed push is less than `websub_silence` old. A verification is not a push: until
  the hub has delivered something real, and again after `websub_silence` without one,
  polling goes on; a refused or expired subscription puts polling back too.

Its state lives in the `meta` table under `websub:<source>`, apart from the poll's own
row, so a push and a poll never overwrite each other's bookkeeping.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from bot import clock
from bot.config import Config, FeedSourceConfig, SourceConfig
from bot.features import takes_pushes
from bot.store import Store, meta

log = logging.getLogger("pressbot.websub")

_HASHES = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384,
           "sha512": hashlib.sha512}
PENDING_FOR = timedelta(minutes=10)
"""A subscription the hub has not verified in this long is asked for again."""
RETRY_AFTER = timedelta(minutes=10)
_LEASE = re.compile(r"[0-9]{1,30}")
"""`hub.lease_seconds` as a hub writes it; anything else (signs, exponents, other digits,
a number too long to mean anything) is refused."""


def _key(source: str) -> str:
    return f"websub:{source}"


def load(store: Store, source: str) -> dict[str, Any]:
    with store.begin() as conn:
        value = meta.get(conn, _key(source), {})
    return dict(value) if isinstance(value, dict) else {}


def _update(store: Store, source: str, **changes: Any) -> dict[str, Any]:
    with store.begin_immediate() as conn:
        value = meta.get(conn, _key(source), {}, locked=True)
        value = {**(value if isinstance(value, dict) else {}), **changes}
        meta.put(conn, _key(source), value)
    return value


def _record(value: Any) -> dict[str, Any]:
    """A request stored in the state (pending or live), or an empty one."""
    return dict(value) if isinstance(value, dict) else {}


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


def callback_url(config: Config, source: str, nonce: str) -> str:
    """Where the hub calls us for one request. An empty nonce is the bare
    `/websub/{source}` of subscriptions made before callbacks carried one."""
    base = f"{str(config.bot.public_url).rstrip('/')}/websub/{quote(source, safe='')}"
    return f"{base}/{nonce}" if nonce else base


def discovered(store: Store, source: str, hub: str | None, topic: str | None) -> None:
    """A poll saw the feed's hub and topic (or none): remember them for `maintain`."""
    state = load(store, source)
    if state.get("hub") != hub or state.get("topic") != topic:
        _update(store, source, hub=hub, topic=topic)


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
    request = state.get("request")
    if isinstance(request, dict):
        asked = _at(request.get("at"))
        if asked is not None and now - asked <= PENDING_FOR:
            return False  # the hub's answer is awaited
    if state.get("status") == "active" and isinstance(state.get("live"), dict):
        until, granted = _at(state.get("lease_until")), state.get("lease_seconds") or 0
        # renew when a fifth of the lease is left
        return until is None or now >= until - timedelta(seconds=granted / 5)
    # nothing live (never asked, unanswered, denied, refused, unsubscribed), or live on the
    # bare callback of an older version: ask (again)
    return True


async def subscribe(config: Config, store: Store, client: httpx.AsyncClient, source: str,
                    cfg: FeedSourceConfig) -> str:
    """Ask the hub for a subscription; returns what happened, in words."""
    state = load(store, source)
    hub, topic = state["hub"], state["topic"]
    lease = int(cfg.websub_lease.total_seconds())
    nonce = secrets.token_urlsafe(24)
    callback = callback_url(config, source, nonce)
    form = {"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": callback,
            "hub.secret": secret(config, store, source, topic),
            "hub.lease_seconds": str(lease)}
    now = clock.now()
    renewal = state.get("status") == "active" and state.get("subscribed_hub") == hub and \
        state.get("subscribed_topic") == topic
    # stored before the hub is asked: it may verify before it answers
    _update(store, source, status="active" if renewal else "pending", requested_at=_iso(now),
            subscribed_hub=hub, subscribed_topic=topic, retry_at=None,
            request={"mode": "subscribe", "nonce": nonce, "topic": topic, "lease": lease,
                     "callback": callback, "at": _iso(now)})
    from bot.netguard import NotPublicURL, check_public

    try:
        # the hub's address comes from the feed: no request into the local network for it
        # (a source on the local network may name a hub on its own host, and only there)
        await check_public(hub, _own_host(hub, cfg))
        response = await client.post(hub, data=form, timeout=20.0, follow_redirects=False)
    except NotPublicURL:
        _update(store, source, status="error", retry_at=_iso(now + RETRY_AFTER),
                request=None, error="hub address not public")
        return f"hub {hub} is not a public address (sources.{source}.allow_private)"
    except httpx.HTTPError as exc:
        _update(store, source, status="error", retry_at=_iso(now + RETRY_AFTER),
                request=None, error=f"{type(exc).__name__}")
        return f"hub {hub} unreachable ({type(exc).__name__}); polling goes on"
    if response.status_code not in (202, 204):
        _update(store, source, status="error", retry_at=_iso(now + RETRY_AFTER),
                request=None, error=f"HTTP {response.status_code}")
        return f"hub {hub} refused the subscription (HTTP {response.status_code})"
    return f"subscription to {topic} requested at {hub}"


def _own_host(hub: str, cfg: SourceConfig | None) -> bool:
    """Whether `hub` may be a private address: the source allows its own host to be, and
    the hub is on that host."""
    return isinstance(cfg, FeedSourceConfig) and cfg.allow_private and \
        urlsplit(hub).hostname == urlsplit(str(cfg.url)).hostname


async def unsubscribe(config: Config, store: Store, client: httpx.AsyncClient, source: str,
                      cfg: SourceConfig | None = None) -> str:
    """Tell the hub to stop: the source is gone or no longer takes pushes. The stored hub is
    checked as a new one would be (a source gone from the config allows no private hub).
    The request names the live subscription's own callback: that is how the hub knows it."""
    from bot.netguard import NotPublicURL, check_public

    state = load(store, source)
    hub, topic = state.get("subscribed_hub"), state.get("subscribed_topic") or ""
    live = _record(state.get("live"))
    nonce = str(live.get("nonce") or "")
    callback = str(live.get("callback") or callback_url(config, source, nonce))
    now = clock.now()
    _update(store, source, status="unsubscribing", requested_at=_iso(now), request={
        "mode": "unsubscribe", "nonce": nonce, "topic": topic, "callback": callback,
        "at": _iso(now)})
    form = {"hub.mode": "unsubscribe", "hub.topic": topic, "hub.callback": callback}
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
                and not takes_pushes(config, config.sources.get(name))):
            outcome = await unsubscribe(config, store, client, name, config.sources.get(name))
            log.info("websub source=%s %s", name, outcome)
            done.append(f"{name}: {outcome}")
    for name, cfg in config.sources.items():
        if not takes_pushes(config, cfg):
            continue
        assert isinstance(cfg, FeedSourceConfig)
        if _due(load(store, name), now):
            outcome = await subscribe(config, store, client, name, cfg)
            log.info("websub source=%s %s", name, outcome)
            done.append(f"{name}: {outcome}")
    return done


def verify(store: Store, source: str, nonce: str, params: dict[str, str]) -> tuple[int, str]:
    """The answer to a hub's verification of intent (or denial): status and body.

    200 with the challenge only for the pending request whose callback carries `nonce`, in
    its mode and for its topic; a denial also for the live subscription's own callback (a
    hub may withdraw one it granted). Anything else is a 404 and changes nothing: whoever
    knows the callback's shape can send this GET, only the hub we asked knows the nonce.
    Malformed parameters are a 400.
    """
    mode, topic = params.get("hub.mode"), params.get("hub.topic")
    challenge = params.get("hub.challenge")
    if mode not in ("subscribe", "unsubscribe", "denied") or not topic:
        return 400, "expected hub.mode subscribe, unsubscribe or denied, and hub.topic"
    if mode != "denied" and not challenge:
        return 400, "expected hub.challenge"
    granted = params.get("hub.lease_seconds")
    if mode == "subscribe" and granted is not None and (
            not _LEASE.fullmatch(granted) or int(granted) == 0):
        return 400, "expected hub.lease_seconds: a whole number of seconds, at least 1"
    now = clock.now()
    with store.begin_immediate() as conn:  # check and change in one step: one answer counts
        state = _record(meta.get(conn, _key(source), {}, locked=True))
        request, live = _record(state.get("request")), _record(state.get("live"))
        pending = bool(request) and _same(request.get("nonce"), nonce) and \
            request.get("topic") == topic and \
            request.get("mode") == ("subscribe" if mode == "denied" else mode)
        withdrawn = mode == "denied" and state.get("status") == "active" and bool(live) and \
            _same(live.get("nonce"), nonce) and live.get("topic") == topic
        if not (pending or withdrawn):
            return 404, "no such subscription request"
        if mode == "denied":
            state.update(status="denied", request=None, live=None, lease_until=None,
                         retry_at=_iso(now + RETRY_AFTER),
                         error=params.get("hub.reason", "denied by the hub")[:200])
        elif mode == "unsubscribe":
            state.update(status="unsubscribed", request=None, live=None, lease_until=None)
        else:
            # the hub decides the lease, but never for longer than we asked: a lease of a
            # year (or of 10**14 seconds) would only keep a stale subscription counted live
            lease = min(int(granted), int(request["lease"])) if granted else \
                int(request["lease"])
            state.update(status="active", request=None, live=request, verified_at=_iso(now),
                         lease_seconds=lease, error=None,
                         lease_until=_iso(now + timedelta(seconds=lease)))
        meta.put(conn, _key(source), state)
    if mode == "denied":
        log.warning("websub source=%s the hub denied the subscription; polling goes on",
                    source)
        return 200, ""
    log.info("websub source=%s %s verified%s", source, mode,
             f", lease {state['lease_seconds']} s" if mode == "subscribe" else "")
    return 200, str(challenge)


def _same(known: Any, given: str) -> bool:
    """Constant-time comparison of a stored nonce with the one in the request's path."""
    return isinstance(known, str) and hmac.compare_digest(known.encode(), given.encode())


def current_callback(store: Store, source: str, nonce: str) -> bool:
    """Is `nonce` the live subscription's callback (else one a renewal replaced)?"""
    live = load(store, source).get("live")
    return isinstance(live, dict) and _same(live.get("nonce"), nonce)


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


def pushed(store: Store, source: str) -> None:
    """A push with a good signature arrived: the only proof that the hub delivers."""
    _update(store, source, last_push_at=_iso(clock.now()))


def should_poll(store: Store, source: str, cfg: Any) -> bool:
    """False only while a live subscription's last signed push is within `websub_silence`:
    a verification, however long its lease, never stops polling by itself."""
    if not isinstance(cfg, FeedSourceConfig) or cfg.websub is False:
        return True
    state = load(store, source)
    now = clock.now()
    until, push_at = _at(state.get("lease_until")), _at(state.get("last_push_at"))
    live = state.get("status") == "active" and until is not None and now < until
    return not (live and push_at is not None and now - push_at < cfg.websub_silence)
