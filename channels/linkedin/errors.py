"""LinkedIn's answers as channel errors, and what a person should do about each.

LinkedIn answers errors as JSON `{"status", "serviceErrorCode", "code", "message"}`
(docs/linkedin.md). A 401 (expired, revoked or unknown token), a 403 (a scope or Page role
missing) and a 426 (the `api_version` is no longer served) stop every post, so they are
`AuthFailed` and pause the channel. A 422 is the post's fault (held), a duplicate naming
the post LinkedIn already has. 429 is a throttle. A 5xx answer to the create call may come
after LinkedIn made the post: `Ambiguous`, looked up before any retry.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import regex

from bot import redact
from channels.base import (
    Ambiguous,
    AuthFailed,
    ChannelError,
    Permanent,
    Transient,
    parse_retry_after,
)

PLATFORM = "LinkedIn"
REAUTH = ("authorise the app again as an administrator of the Page (3-legged OAuth, scopes "
          "w_organization_social and r_organization_social) and set LINKEDIN_ACCESS_TOKEN")
SCOPE_HINT = ("the token may not do this: it needs the scopes w_organization_social and "
              "r_organization_social, from a member who is an administrator (or content "
              "administrator) of the Page organization_id names")
VERSION_HINT = ("LinkedIn no longer serves this LinkedIn-Version: set api_version to a "
                "current one (YYYYMM, see LinkedIn's versioning page) and run pressbot check")
CONTENT_HINT = "LinkedIn refused this post as written: edit it (or its images) and approve again"
THROTTLE_WAIT = 3600.0
"""Seconds to wait after a 429 without Retry-After: LinkedIn's limits are per day."""
_DUPLICATE = regex.compile(r"duplicate of (urn:li:\w+:\d+)", regex.I)


def error_of(response: httpx.Response) -> tuple[str, str]:
    """LinkedIn's `code` (or the OAuth `error`) and message, shortened and redacted."""
    code, message = "", ""
    try:
        data: Any = json.loads(response.text or "")
    except ValueError:
        data = None
    if isinstance(data, dict):
        code = str(data.get("code") or data.get("error") or "")
        message = str(data.get("message") or data.get("error_description") or "")
        details = data.get("errorDetails")
        if isinstance(details, dict):
            codes = [str(e.get("code")) for e in details.get("inputErrors") or []
                     if isinstance(e, dict) and e.get("code")]
            code = ", ".join(codes) or code
    if not message:
        message = " ".join((response.text or "").split()) or "(empty body)"
    message = message[:300] + ("…" if len(message) > 300 else "")
    return redact.redact(code), redact.redact(message)


def classify(response: httpx.Response, where: str, *, creating: bool = False) -> ChannelError:
    """The channel error for a failed answer to the request `where` names."""
    status = response.status_code
    code, message = error_of(response)
    label = f"{PLATFORM} answered {status}{f' {code}' if code else ''} for {where}: {message}"
    if status == 401:
        return AuthFailed(label, f"the access token {_token_state(code)}: {REAUTH}")
    if status == 403:
        return AuthFailed(label, SCOPE_HINT)
    if status == 426:
        return AuthFailed(label, VERSION_HINT)
    if status == 429:
        return Transient(label, retry_after=parse_retry_after(response) or THROTTLE_WAIT,
                         throttled=True)
    if status == 422 and (duplicate := _DUPLICATE.search(message)):
        return Permanent(label, f"LinkedIn already shows this text on the Page as "
                                f"{duplicate.group(1)}: if that is this release, reject the "
                                "post here; otherwise edit the text and approve again")
    if status >= 500 or status == 408:
        if creating and status != 503:
            return Ambiguous(f"{label} — the post may have been made; looking it up")
        return Transient(label, retry_after=parse_retry_after(response), outage=True)
    return Permanent(label, CONTENT_HINT)


def _token_state(code: str) -> str:
    if "EXPIRED" in code:
        return "expired (LinkedIn's live 60 days)"
    if "REVOKED" in code:
        return "was revoked (the member withdrew the app's access, or changed password)"
    return "is not valid"
