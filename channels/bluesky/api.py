"""Every XRPC call goes through `_xrpc`: the session, one refresh on an expired token, errors.

Sign-in is `com.atproto.server.createSession` with the handle and an app password; the PDS
answers with a short-lived access token and a long-lived refresh token. A call whose access
token the PDS calls expired or invalid (`ExpiredToken`/`InvalidToken`, a 400, or a 401) is
retried once after `refreshSession`; when the refresh token is refused too, one new
`createSession` is tried, and when the app password is refused the channel fails with
`AuthFailed` (the publisher pauses the channel). Concurrent callers share one renewal.

Record writes spend points of an hourly and a daily budget per account; the last
`RateLimit-Remaining`/`-Reset` a write was answered with is kept, and a write that would
overdraw it stops with `Transient(retry_after=…)` instead of walking into a 429.

The session is kept in the store (`meta`, key `bluesky-session:NAME`), with its refresh
token: `createSession` is limited per account (30 per 5 minutes, 300 a day), and a `publish`
run from cron every minute must not sign in each time. A PDS keeps accepting an access
token until it expires even after its app password was revoked, so a session older than
`SESSION_MAX_AGE` is refreshed before use, and `renew_session` (on resume, and by `check`)
refreshes it at once: the refresh token dies with the app password, and the app password
itself is then tried. A stored session counts only for the same PDS, handle and app
password (a short fingerprint of it). The app password and the tokens never leave the
headers and body of requests to `pds_url` and the store: they are registered with
`bot.redact`, and no repr, log line or error shows them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from bot import clock, redact
from bot.config import BlueskyConfig
from channels.base import ChannelError, Transient, map_transport_error, user_agent
from channels.bluesky.errors import PLATFORM, is_session_error, raise_for

if TYPE_CHECKING:
    from bot.store import Store

log = logging.getLogger("channels.bluesky")

SESSION_MAX_AGE = timedelta(minutes=15)
"""How long a session is used before it is refreshed: at most this long does a running
service go on posting after its app password was revoked."""

WRITE_COST = 2
"""Points a `putRecord` costs against the account's write limit (createRecord: 3)."""


@dataclass
class Session:
    """One signed-in session; `repr` shows the account, never the tokens."""

    did: str
    handle: str
    access: str = field(repr=False)
    refresh: str = field(repr=False)
    active: bool = True
    status: str | None = None
    made_at: datetime = field(default_factory=clock.now)
    """When it was created or last refreshed."""
    stored: bool = False
    """Read from the store (made by an earlier process), not signed in by this one."""


class BlueskyApi:
    """The HTTP side of `BlueskyChannel`, whose constructor sets these attributes."""

    name: str
    config: BlueskyConfig
    _store: Store | None
    _client: httpx.AsyncClient
    _base: str
    _password: str
    _timeout: float
    _session: Session | None
    _renewing: asyncio.Lock
    _writes_left: tuple[int, float] | None
    """The last `RateLimit-Remaining` and `-Reset` (Unix time) a record write was answered with."""

    def _guard_writes(self) -> None:
        """Stop before a write the PDS would refuse: fewer points left than it costs."""
        if self._writes_left is None:
            return
        remaining, reset = self._writes_left
        wait = reset - time.time()
        if remaining < WRITE_COST and wait > 0:
            raise Transient(f"{PLATFORM} rate limit: {remaining} write points left until "
                            f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(reset))} UTC",
                            retry_after=wait, throttled=True)

    def _note_writes(self, response: httpx.Response) -> None:
        remaining = response.headers.get("ratelimit-remaining", "").strip()
        reset = response.headers.get("ratelimit-reset", "").strip()
        if remaining.isdigit() and reset.isdigit():
            self._writes_left = (int(remaining), float(reset))

    async def _signed_in(self) -> Session:
        if self._session is None:
            async with self._renewing:
                if self._session is None:
                    self._session = await asyncio.to_thread(self._load_session)
                if self._session is None:
                    await self._create_session()
        assert self._session is not None
        if clock.now() - self._session.made_at > SESSION_MAX_AGE:
            await self._renew(self._session.access)
            assert self._session is not None
        return self._session

    async def renew_session(self) -> None:
        """Refresh the session now, else sign in again (the channel was resumed, perhaps with
        a new app password): a session made with a revoked one must not go on. A refusal is
        logged and left for the next request, which pauses the channel."""
        try:
            await self._renew_stored()
        except ChannelError as exc:
            log.warning("channel=%s could not renew its session: %s", self.name, exc)

    async def _renew_stored(self) -> None:
        """Refresh a session an earlier process made (raises what the PDS answers); one
        this object signed in itself is as fresh as can be."""
        session = await self._signed_in()
        if session.stored:
            await self._renew(session.access)

    async def _create_session(self) -> None:
        response = await self._send("POST", "com.atproto.server.createSession", None, json={
            "identifier": self.config.handle, "password": self._password})
        if response.status_code >= 300:
            await asyncio.to_thread(self._save_session, None)
        raise_for(response, where="signing in")
        self._session = _session_from(response, PLATFORM)
        await asyncio.to_thread(self._save_session, self._session)

    async def _renew(self, stale: str) -> None:
        """Replace the session whose access token was `stale`: refresh, else sign in again."""
        async with self._renewing:
            if self._session is not None and self._session.access != stale:
                return  # another caller renewed it meanwhile
            session, self._session = self._session, None
            if session is not None:
                response = await self._send("POST", "com.atproto.server.refreshSession",
                                            session.refresh)
                if response.status_code < 300:
                    self._session = _session_from(response, PLATFORM)
                    await asyncio.to_thread(self._save_session, self._session)
                    return
                if response.status_code == 429 or response.status_code >= 500:
                    self._session = session  # the PDS is busy, not the session bad: wait
                    raise_for(response, where="refreshing the session")
            # Any other refusal of the refresh token: sign in again with the app password.
            await self._create_session()

    # -- the session in the store

    @property
    def _session_key(self) -> str:
        return f"bluesky-session:{self.name}"

    def _owner(self) -> dict[str, str]:
        """Whose session a stored one must be: this PDS, handle and app password."""
        fingerprint = hashlib.sha256(f"{self._base}\n{self._password}".encode()).hexdigest()
        return {"pds": self._base, "identifier": self.config.handle, "key": fingerprint[:16]}

    def _load_session(self) -> Session | None:
        if self._store is None:
            return None
        from bot.store import meta

        with self._store.begin() as conn:
            data = meta.get(conn, self._session_key)
        if not isinstance(data, dict) or data.get("owner") != self._owner():
            return None
        try:
            session = Session(did=data["did"], handle=data["handle"], access=data["access"],
                              refresh=data["refresh"],
                              made_at=datetime.fromisoformat(data["made_at"]), stored=True)
        except (KeyError, TypeError, ValueError):
            return None
        redact.register(session.access, session.refresh)
        return session

    def _save_session(self, session: Session | None) -> None:
        if self._store is None:
            return
        from bot.store import meta

        value = None if session is None else {
            "owner": self._owner(), "did": session.did, "handle": session.handle,
            "access": session.access, "refresh": session.refresh,
            "made_at": session.made_at.isoformat()}
        with self._store.begin() as conn:
            meta.put(conn, self._session_key, value)

    async def _xrpc(self, method: str, nsid: str, *, where: str, ambiguous: bool = False,
                    **kwargs: Any) -> httpx.Response:
        """Call `nsid` signed in; an expired session is renewed once and the call repeated."""
        session = await self._signed_in()
        response = await self._send(method, nsid, session.access, ambiguous=ambiguous, **kwargs)
        if is_session_error(response) or response.status_code == 401:
            await self._renew(session.access)
            session = await self._signed_in()
            response = await self._send(method, nsid, session.access, ambiguous=ambiguous,
                                        **kwargs)
        return response

    async def _send(self, method: str, nsid: str, token: str | None, *,
                    ambiguous: bool = False, headers: dict[str, str] | None = None,
                    **kwargs: Any) -> httpx.Response:
        sent = {"User-Agent": user_agent(), **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        with map_transport_error(PLATFORM, sent_is_ambiguous=ambiguous):
            return await self._client.request(method, f"{self._base}/xrpc/{nsid}", headers=sent,
                                              timeout=self._timeout, **kwargs)


def _session_from(response: httpx.Response, platform: str) -> Session:
    data = _json(response)
    if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("accessJwt", "refreshJwt", "did")):
        raise Transient(f"{platform}: the session answer lacks its tokens")
    redact.register(data["accessJwt"], data["refreshJwt"])
    return Session(did=data["did"], handle=str(data.get("handle") or data["did"]),
                   access=data["accessJwt"], refresh=data["refreshJwt"],
                   active=data.get("active") is not False, status=data.get("status"))


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
