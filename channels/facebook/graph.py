"""One Graph call: the token and its `appsecret_proof` added, usage noted, failures classified.

Every call goes through `_call`, so every answer's usage headers are read and every failure
is classified the same way. A write whose answer is lost is `_NoAnswer` (an `Ambiguous`), so
the publish flow can tell "no answer" from an answer that said "maybe". Graph GETs carry the
token in the query string, and httpx logs request URLs: its loggers get the redacting filter.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Any

import httpx

from bot import redact
from bot.config import FacebookConfig
from channels.base import Ambiguous, Transient, map_transport_error, user_agent
from channels.facebook.errors import PLATFORM, _NoAnswer, classify
from channels.facebook.usage import UsageMemo


def proof(secret: str, token: str) -> str:
    """`appsecret_proof`: hex HMAC-SHA256 of the access token keyed with the app secret."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


class GraphApi(UsageMemo):
    """The HTTP side of `FacebookChannel`, whose constructor sets these attributes."""

    config: FacebookConfig
    client: httpx.AsyncClient
    _token: str
    _secret: str | None
    _base: str
    _timeout: float

    async def _call(self, method: str, path: str, params: dict[str, str] | None = None, *,
                    token: str | None = None, write: bool = False,
                    files: dict[str, tuple[str, bytes, str]] | None = None) -> dict[str, Any]:
        token = token or self._token
        fields = dict(params or {}) | {"access_token": token}
        if self._secret:
            fields["appsecret_proof"] = proof(self._secret, token)
        url = f"{self._base}/{path.lstrip('/')}"
        headers = {"User-Agent": user_agent()}
        try:
            with map_transport_error(PLATFORM, sent_is_ambiguous=write):
                if method == "GET":
                    response = await self.client.get(url, params=fields, headers=headers,
                                                      timeout=self._timeout)
                else:
                    response = await self.client.post(url, data=fields, files=files,
                                                       headers=headers, timeout=self._timeout)
        except Ambiguous as exc:
            raise _NoAnswer(f"{exc} ({method} /{path.split('?')[0]})") from None
        self._note_usage(response)
        if response.status_code >= 300:
            raise classify(response)
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            raise classify(response)
        if not isinstance(data, dict):
            text = f"{PLATFORM} answered {response.status_code} without a JSON object"
            raise _NoAnswer(text) if write else Transient(text)
        return data


def _guard_http_logs() -> None:
    """httpx logs every request URL at INFO, and Graph GETs carry the token in the query."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, redact.RedactingFilter) for f in logger.filters):
            logger.addFilter(redact.RedactingFilter())
