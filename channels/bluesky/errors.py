"""What a PDS's refusals mean, and what a person should do about each.

XRPC errors are JSON `{"error": Name, "message": text}`. The names decide, not only the HTTP
status: an expired or revoked access token is a **400** `ExpiredToken`/`InvalidToken` (the
session layer refreshes once on those before anything reaches this table), a wrong or revoked
app password is a 401 from `createSession`, and a rate limit is a 429 whose `RateLimit-Reset`
is a Unix time in seconds. A 400 `InvalidRequest` is the PDS refusing the record as written:
permanent, with its reason.
"""

from __future__ import annotations

import contextlib
import json
import time

import httpx

from bot import redact
from channels.base import AuthFailed, Permanent, Transient, parse_retry_after

PLATFORM = "Bluesky"
SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
ACCOUNT_ERRORS = frozenset({"AccountTakedown", "AccountDeactivated", "AccountNotFound"})

AUTH_HINT = ("the app password is wrong or was revoked: create one under Settings → Privacy and "
             "security → App passwords, set BLUESKY_APP_PASSWORD, and check `handle`")
ACCOUNT_HINT = "the account is deactivated or suspended: sign in on Bluesky to resolve it"
CONTENT_HINT = "Bluesky refused this post as written: edit it (or its images) and approve again"


def error_of(response: httpx.Response) -> tuple[str, str]:
    """The XRPC error name and message; ("", shortened body) when the body is not XRPC JSON."""
    with contextlib.suppress(ValueError):
        data = json.loads(response.text or "")
        if isinstance(data, dict) and isinstance(data.get("error"), str):
            return data["error"], redact.redact(str(data.get("message") or "")[:300])
    text = " ".join((response.text or "").split())[:200]
    return "", redact.redact(text)


def is_session_error(response: httpx.Response) -> bool:
    """The access token is expired, revoked or unreadable: refresh the session and retry."""
    if response.status_code not in (400, 401):
        return False
    name, _ = error_of(response)
    return name in SESSION_ERRORS


def retry_after(response: httpx.Response) -> float | None:
    """Seconds until `RateLimit-Reset` (a Unix time), else a standard `Retry-After`."""
    reset = response.headers.get("ratelimit-reset", "").strip()
    if reset.isdigit():
        return max(0.0, int(reset) - time.time())
    return parse_retry_after(response)


def raise_for(response: httpx.Response, *, where: str) -> None:
    """Map a finished XRPC response onto the channel errors; returns on 2xx."""
    status = response.status_code
    if status < 300:
        return
    name, text = error_of(response)
    message = f"{PLATFORM} answered {status} for {where}: {name + ': ' if name else ''}{text}"
    if name in ACCOUNT_ERRORS:
        raise AuthFailed(message, ACCOUNT_HINT)
    if status == 401 or name in SESSION_ERRORS:
        raise AuthFailed(message, AUTH_HINT)
    if status == 403:
        raise AuthFailed(message, ACCOUNT_HINT)
    if status == 429 or name == "RateLimitExceeded":
        raise Transient(message, retry_after=retry_after(response), throttled=True)
    if status == 408 or status >= 500:
        raise Transient(message, retry_after=retry_after(response))
    if status == 404:
        raise Permanent(message, "check pds_url: is it the account's PDS?")
    raise Permanent(message, CONTENT_HINT)
