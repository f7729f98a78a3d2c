"""A failed Graph answer as a channel error, with what a person should do about it.

Errors are classified by `error.code` and `error_subcode`, not by HTTP status
(platform-apis.md §2.7). Messages end up in logs and in front of people, so registered
secrets are masked and URLs lose their query strings (Graph URLs carry tokens there).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx

from bot import redact
from channels.base import (
    Ambiguous,
    AuthFailed,
    ChannelError,
    Permanent,
    Transient,
    body_message,
    parse_retry_after,
)
from channels.facebook.usage import usage_of

# The package's logger name, which log filters and tests select on.
log = logging.getLogger("channels.facebook")

PLATFORM = "Facebook"
REQUIRED_SCOPES = ("pages_manage_posts", "pages_read_engagement")
THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001})
THROTTLE_BACKOFF = 600.0
"""Seconds to wait after a throttle answer that carries no estimate: calls made while
throttled count against the limit and lengthen the block (Meta's rate-limiting docs)."""

REAUTH = ("create a new long-lived Page token (from a long-lived user token via /me/accounts) "
          "and set FACEBOOK_PAGE_TOKEN")
TOKEN_HINTS = {
    458: f"the app was removed from the account that made the token: authorise it again, then "
         f"{REAUTH}",
    459: f"the account behind the token is checkpointed: log in on facebook.com and follow the "
         f"instructions, then {REAUTH}",
    460: f"the password of the account behind the token changed: {REAUTH}",
    463: f"the token expired: {REAUTH} (Page tokens made that way do not expire)",
    464: f"the account behind the token is not confirmed: confirm it on facebook.com, then "
         f"{REAUTH}",
    467: f"the token is no longer valid (logged out, revoked or mistyped): {REAUTH}",
    492: "the person behind the token has no role on the Page that may post (CREATE_CONTENT): "
         "give them the role back, or make the token from someone who has it",
}
NEED_PAGE = ("this is a user token; a Page token is needed: get one from /me/accounts with a "
             "long-lived user token and set FACEBOOK_PAGE_TOKEN")

_URL_QUERY = re.compile(r"(https?://[^\s?#\"'<>]+)\?[^\s\"'<>]*")
_PERMISSION = re.compile(r"\b(pages_[a-z_]+|publish_[a-z_]+|business_management|read_insights)\b")


def scrub(text: str) -> str:
    """Registered secrets masked and query strings cut from URLs (they carry tokens)."""
    return redact.redact(_URL_QUERY.sub(r"\1?…", text))


class _NoAnswer(Ambiguous):
    """The request went out and no answer came back (as opposed to a 506 answer)."""


def _graph_error(exc: ChannelError, code: int | None) -> ChannelError:
    exc.graph_code = code  # type: ignore[attr-defined]
    return exc


def classify(response: httpx.Response) -> ChannelError:
    """The channel error for a failed Graph answer, from `error.code` and `error_subcode`."""
    err: dict[str, Any] | None = None
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            err = body["error"]
    except ValueError:
        pass
    status = response.status_code
    if err is None:
        text = scrub(f"{PLATFORM} answered {status}: {body_message(response)}")
        if status >= 500 or status in (408, 429):
            return _graph_error(Transient(text, retry_after=parse_retry_after(response),
                                          outage=status != 429, throttled=status == 429), None)
        if status in (401, 403):
            return _graph_error(AuthFailed(text, f"check the Page token: {REAUTH}"), None)
        return _graph_error(Permanent(text, "the Graph API refused the request"), None)
    code = _int(err.get("code"))
    sub = _int(err.get("error_subcode"))
    message = scrub(str(err.get("message") or "no message"))
    user_msg = scrub(str(err.get("error_user_msg") or "")) or None
    trace = str(err.get("fbtrace_id") or "")
    log.warning("Facebook error code=%s subcode=%s fbtrace_id=%s: %s", code, sub, trace or "-",
                message)
    label = f"{PLATFORM} error #{code}{f'/{sub}' if sub else ''}: {message}"
    if trace:
        label += f" (fbtrace_id {trace})"
    return _graph_error(_by_code(code, sub, label, user_msg, message, err, response), code)


def _by_code(code: int | None, sub: int | None, label: str, user_msg: str | None,
             message: str, err: dict[str, Any], response: httpx.Response) -> ChannelError:
    if code in (190, 102):
        return AuthFailed(label, TOKEN_HINTS.get(sub or 0, f"re-authorise: {REAUTH}"))
    if code in THROTTLE_CODES:
        wait = usage_of(response)[1] or parse_retry_after(response) or THROTTLE_BACKOFF
        return Transient(f"{label} — rate limited; waiting {wait:.0f} s", retry_after=wait,
                         throttled=True)
    if code == 10 or (code is not None and 200 <= code <= 299):
        named = sorted(set(_PERMISSION.findall(message))) or list(REQUIRED_SCOPES)
        return AuthFailed(label, f"the token lacks the permission(s) {', '.join(named)}: make "
                                 "a new Page token with them granted and set "
                                 "FACEBOOK_PAGE_TOKEN")
    if code == 368:
        return Permanent(label, "Facebook has temporarily blocked this Page from posting "
                                "(policy enforcement): a person must check the Page's quality "
                                "and support inbox; pressbot will not retry")
    if code == 506:
        return Ambiguous(f"{label} — the same text may already be on the Page; looking it up")
    if code == 1609005:
        return Permanent(label, "Facebook could not read the post's link: check that it is "
                                "public, then approve again")
    if code in (100, 324):
        reason = f"{PLATFORM} refused the post (#{code}): {user_msg or message}"
        if "appsecret_proof" in message:
            return Permanent(reason, "check app_secret: it must be the secret of the app that "
                                     "made the token")
        if sub == 33:
            return Permanent(reason, "check page_id and that the token's account manages it")
        return Permanent(reason, "edit the post (or its image) and approve it again")
    if code in (1, 2) or err.get("is_transient") is True or response.status_code >= 500:
        return Transient(label, retry_after=parse_retry_after(response) or usage_of(response)[1],
                         outage=True)
    return Permanent(label, user_msg or "Facebook refused the request; see the message")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
