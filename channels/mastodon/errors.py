"""What Mastodon's refusals mean, and what a person should do about each.

Mastodon's table sits on top of `raise_for_response`. Bodies may be JSON, an HTML page (a
proxy's or the server's error page) or plain text, so the message is dug out first. A 503 is
Mastodon's "temporary problem" (lock or storage): nothing was created, so it is `Transient`
even for a status POST; other 5xx answers to a POST that went out are `Ambiguous`.
"""

from __future__ import annotations

import httpx
import regex

from bot import redact
from channels.base import (
    Ambiguous,
    AuthFailed,
    Permanent,
    Transient,
    body_message,
    parse_retry_after,
    raise_for_response,
)

PLATFORM = "Mastodon"

AUTH_HINT = ("the access token is invalid or revoked: create a new one under Preferences → "
              "Development and set MASTODON_TOKEN")
ACCOUNT_HINT = ("the account cannot act (disabled, unconfirmed or awaiting approval): sign in "
                "on the web to resolve it")
CONTENT_HINT = "Mastodon refused this post as written: edit it (or its images) and approve again"


def scope_hint(scope: str) -> str:
    return (f"the access token lacks the {scope} scope: create a token that has it under "
            "Preferences → Development and set MASTODON_TOKEN")


def raise_for(response: httpx.Response, *, base: str, scope: str, where: str,
              ambiguous: bool = False) -> None:
    """Mastodon's table on top of `raise_for_response`; bodies may be HTML or plain text."""
    status = response.status_code
    if status < 300:
        return
    text = _error_text(response)
    message = f"{PLATFORM} answered {status} for {where}: {text}"
    lowered = text.lower()
    if status == 401 or (status == 400 and "token" in lowered):
        raise AuthFailed(message, AUTH_HINT)
    if status == 403:
        account_problem = any(w in lowered for w in ("login", "confirm", "approv", "suspend"))
        raise AuthFailed(message, ACCOUNT_HINT if account_problem or not scope
                         else scope_hint(scope))
    if status == 404 and where in ("the account", "the instance information"):
        raise Permanent(message, f"check base_url ({base}): is it a Mastodon server?")
    if status in (400, 404, 422):
        raise Permanent(message, CONTENT_HINT)
    if status == 429:
        raise Transient(message, retry_after=parse_retry_after(response), throttled=True)
    if status == 503 or (status >= 500 and not ambiguous):
        # 503 is Mastodon's "temporary problem" (lock or storage): nothing was created.
        raise Transient(message, retry_after=parse_retry_after(response), outage=True)
    if status >= 500:
        raise Ambiguous(message)  # a gateway error after the POST went out
    raise_for_response(response, PLATFORM, auth_hint=AUTH_HINT)


_TITLE = regex.compile(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", regex.I | regex.S)
_TAG = regex.compile(r"<[^>]+>")


def _error_text(response: httpx.Response) -> str:
    """The server's message: JSON `error`, else an HTML page's title, else the text, shortened."""
    content_type = response.headers.get("content-type", "")
    if "html" in content_type or response.text.lstrip()[:1] == "<":
        match = _TITLE.search(response.text)
        raw = (match.group(1) or match.group(2)) if match else _TAG.sub(" ", response.text)
        text = " ".join(_TAG.sub(" ", raw).split())[:200]
        return redact.redact(text or "(an HTML page)")
    return body_message(response, limit=200) or "(empty body)"
