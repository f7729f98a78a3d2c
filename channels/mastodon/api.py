"""Every call to the instance goes through `_request`: the token, the budgets, the errors.

One place adds the token, so only the calls that need it carry it, and one place reads the
last `X-RateLimit-Remaining`/`Reset` per budget ("statuses" from status POSTs, "requests"
from everything else). Mastodon sends no `Retry-After`: waits come from the ISO
`X-RateLimit-Reset`. When a budget has `RATE_RESERVE` or fewer calls left before its reset,
`_guard` stops with `Transient(retry_after=…)` instead of walking into a 429. The budgets and
the account are caches a restart may lose without harm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.config import MastodonConfig
from bot.models import Receipt
from channels.base import Transient, map_transport_error, user_agent
from channels.mastodon.errors import PLATFORM, raise_for

RATE_RESERVE = 2


@dataclass(frozen=True)
class _Budget:
    remaining: int
    reset_at: datetime


class MastodonApi:
    """The HTTP side of `MastodonChannel`, whose constructor sets these attributes."""

    config: MastodonConfig
    _client: httpx.AsyncClient
    _base: str
    _token: str
    _timeout: float
    _account: dict[str, Any] | None
    _budgets: dict[str, _Budget]

    async def _verify(self) -> dict[str, Any]:
        if self._account is None:
            response = await self._request("GET", "/api/v1/accounts/verify_credentials")
            self._raise(response, scope="read:accounts (or profile)", where="the account")
            data = _json(response)
            if not isinstance(data, dict) or "id" not in data:
                raise Transient(f"{PLATFORM}: verify_credentials gave no account")
            self._account = data
        return self._account

    async def _request(self, method: str, path: str, *, auth: bool = True,
                       budget: str = "requests", ambiguous: bool = False,
                       headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        url = path if path.startswith(("http://", "https://")) else self._base + path
        sent = {"User-Agent": user_agent(), **(headers or {})}
        if auth:
            sent["Authorization"] = f"Bearer {self._token}"
        with map_transport_error(PLATFORM, sent_is_ambiguous=ambiguous):
            response = await self._client.request(method, url, headers=sent,
                                                  timeout=self._timeout, **kwargs)
        if auth:
            self._note_budget(response, budget)
        return response

    def _note_budget(self, response: httpx.Response, budget: str) -> None:
        remaining = response.headers.get("x-ratelimit-remaining", "")
        reset_at = _parse_time(response.headers.get("x-ratelimit-reset"))
        if remaining.strip().lstrip("-").isdigit() and reset_at is not None:
            self._budgets[budget] = _Budget(int(remaining), reset_at)

    def _guard(self) -> None:
        now = datetime.now(UTC)
        for name, budget in self._budgets.items():
            if budget.reset_at > now and budget.remaining <= RATE_RESERVE:
                raise Transient(
                    f"{PLATFORM} rate limit nearly used: {budget.remaining} {name} left until "
                    f"{budget.reset_at:%Y-%m-%d %H:%M:%S} UTC",
                    retry_after=(budget.reset_at - now).total_seconds(), throttled=True,
                )

    def _raise(self, response: httpx.Response, *, scope: str, where: str,
               ambiguous: bool = False) -> None:
        """Mastodon's table (`errors.raise_for`), naming this instance's base_url."""
        raise_for(response, base=self._base, scope=scope, where=where, ambiguous=ambiguous)


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _receipt(status: dict[str, Any]) -> Receipt:
    return Receipt(remote_id=str(status["id"]), remote_url=status.get("url") or status.get("uri"))


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
