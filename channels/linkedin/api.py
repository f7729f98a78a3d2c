"""Every request to LinkedIn goes through `_request`: the version headers, the token, its refresh.

One place adds `LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0` (every versioned
call needs both) and the bearer token, so no call can forget them. A 401 with a refresh
token at hand is answered by refreshing once and asking again: a refused request made
nothing, so asking again cannot post twice. The refreshed token lives in memory only (the
refresh token stays valid for its year, so another process refreshes for itself); it is
registered with `bot.redact` like the configured one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot import redact
from bot.config import LinkedInConfig
from channels.base import AuthFailed, Transient, map_transport_error, user_agent
from channels.linkedin.errors import PLATFORM, REAUTH, classify, error_of

RESTLI = "2.0.0"
REFRESH_MARGIN = timedelta(minutes=5)
"""A token this close to its expiry is refreshed before it is used."""


@dataclass
class TokenFacts:
    """What pressbot knows of the token in use: when it and the refresh token expire."""

    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    refreshed: bool = False


class LinkedInApi:
    """The HTTP side of `LinkedInChannel`, whose constructor sets these attributes."""

    config: LinkedInConfig
    _client: httpx.AsyncClient
    _base: str
    _oauth: str
    _token: str
    _timeout: float
    _facts: TokenFacts

    @property
    def author(self) -> str:
        return f"urn:li:organization:{self.config.organization_id}"

    @property
    def can_refresh(self) -> bool:
        return bool(self.config.refresh_token and self.config.client_id
                    and self.config.client_secret)

    async def _request(self, method: str, path: str, *, where: str, creating: bool = False,
                       raw: bool = False, **kwargs: Any) -> httpx.Response:
        """One call; a failed answer is raised as a channel error unless `raw`."""
        if self._facts.expires_at and self.can_refresh and \
                datetime.now(UTC) >= self._facts.expires_at - REFRESH_MARGIN:
            await self.refresh()
        response = await self._send(method, path, creating=creating, **kwargs)
        if response.status_code == 401 and self.can_refresh and not self._facts.refreshed:
            await self.refresh()
            response = await self._send(method, path, creating=creating, **kwargs)
        if response.status_code >= 300 and not raw:
            raise classify(response, where, creating=creating)
        return response

    async def _send(self, method: str, path: str, *, creating: bool,
                    **kwargs: Any) -> httpx.Response:
        url = path if path.startswith(("http://", "https://")) else self._base + path
        headers = {"User-Agent": user_agent(), "Authorization": f"Bearer {self._token}",
                   "LinkedIn-Version": self.config.api_version,
                   "X-Restli-Protocol-Version": RESTLI, **kwargs.pop("headers", {})}
        with map_transport_error(PLATFORM, sent_is_ambiguous=creating):
            return await self._client.request(method, url, headers=headers,
                                              timeout=self._timeout, **kwargs)

    def may_carry_token(self, url: str) -> bool:
        """An upload URL gets the token only on LinkedIn itself (or the configured API)."""
        parts, base = urlsplit(url), urlsplit(self._base)
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
            return True
        host = (parts.hostname or "").lower()
        return parts.scheme == "https" and (host == "linkedin.com" or
                                            host.endswith(".linkedin.com"))

    # ── the token ─────────────────────────────────────────────────────────────────────
    async def refresh(self) -> None:
        """A new access token from the refresh token (LinkedIn: 60 days; the refresh token
        keeps its own year)."""
        assert self.config.refresh_token
        assert self.config.client_secret
        form = {"grant_type": "refresh_token",
                "refresh_token": self.config.refresh_token.get_secret_value(),
                "client_id": self.config.client_id or "",
                "client_secret": self.config.client_secret.get_secret_value()}
        with map_transport_error(PLATFORM, sent_is_ambiguous=False):
            response = await self._client.post(f"{self._oauth}/oauth/v2/accessToken", data=form,
                                               headers={"User-Agent": user_agent()},
                                               timeout=self._timeout)
        if response.status_code >= 500 or response.status_code == 429:
            raise Transient(f"{PLATFORM} could not refresh the access token now: HTTP "
                            f"{response.status_code}", outage=response.status_code != 429)
        data = _json(response)
        token = data.get("access_token") if isinstance(data, dict) else None
        if response.status_code >= 300 or not isinstance(token, str) or not token:
            code, message = error_of(response)
            raise AuthFailed(f"{PLATFORM} refused to refresh the access token "
                             f"({response.status_code} {code}: {message})",
                             f"the refresh token expired or was revoked: {REAUTH}, and set "
                             "LINKEDIN_REFRESH_TOKEN to the new refresh token")
        redact.register(token)
        self._token = token
        now = datetime.now(UTC)
        self._facts.refreshed = True
        self._facts.expires_at = _after(now, data.get("expires_in"))
        self._facts.refresh_expires_at = _after(now, data.get("refresh_token_expires_in")) \
            or self._facts.refresh_expires_at
        if isinstance(data.get("refresh_token"), str):
            redact.register(data["refresh_token"])

    async def introspect(self) -> dict[str, Any]:
        """LinkedIn's own view of the access token: status, expiry, scopes."""
        assert self.config.client_id
        assert self.config.client_secret
        form = {"client_id": self.config.client_id,
                "client_secret": self.config.client_secret.get_secret_value(),
                "token": self._token}
        with map_transport_error(PLATFORM, sent_is_ambiguous=False):
            response = await self._client.post(f"{self._oauth}/oauth/v2/introspectToken",
                                               data=form, headers={"User-Agent": user_agent()},
                                               timeout=self._timeout)
        data = _json(response)
        if response.status_code >= 300 or not isinstance(data, dict):
            code, message = error_of(response)
            raise AuthFailed(f"{PLATFORM} token introspection answered {response.status_code} "
                             f"{code}: {message}",
                             "check client_id and client_secret: they must be the app's that "
                             "made the token")
        return data


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _after(now: datetime, seconds: Any) -> datetime | None:
    if isinstance(seconds, int | float) and not isinstance(seconds, bool) and seconds > 0:
        return now + timedelta(seconds=seconds)
    return None
