"""The channel interface, its errors, and the one place HTTP outcomes become those errors.

    ChannelError
    ├── Transient(retry_after)   try again later (5xx, 429, connect error before sending)
    ├── Permanent(reason, hint)  a human must act (rejected content) → held
    │   └── AuthFailed           the account's credentials stopped working → channel paused
    └── Ambiguous                the request may have reached the platform → lookup first

Adapters add only their platform's codes (a small table); `raise_for_response` and
`map_transport_error` do the rest, so every adapter classifies failures the same way.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bot.errors import PressbotError
from bot.models import Post, Receipt
from bot.redact import redact

if TYPE_CHECKING:  # httpx (and the CLI helpers it pulls in) only where requests are made
    import httpx


@dataclass(frozen=True)
class Limits:
    """What a channel accepts, declared as data; the core renders and checks against it."""

    max_chars: int | None = None
    url_weight: int | None = None
    """Characters every URL counts as (Mastodon: 23); None counts URLs literally."""
    graphemes: bool = True
    mentions_local: bool = False
    """Count `@user@domain` as `@user` (Mastodon)."""
    soft_chars: int | None = None
    """Over this a post is still valid but gets a readability warning."""
    thread: bool = False
    """Past `soft_chars` the text goes out as a thread of posts of that size (the warning
    says so, not "See more")."""
    max_images: int = 4
    alt_max: int | None = None
    image_max_bytes: int | None = None
    subject_max: int | None = None
    """Past this a subject gets a warning (what inboxes show), never a cut."""
    little_text: bool = False
    """Count the text as LinkedIn receives it: in its "little" format (reserved characters
    escaped, hashtags as templates), in UTF-16 units, the high side of what it may count."""


@dataclass
class Check:
    """Result of `check`: ok, what was found, and anything the team should act on."""

    ok: bool
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def profile(name: Any, avatar: Any) -> dict[str, str] | None:
    """The account as a platform shows it (`check` caches it for the review page's
    previews): its display name and an https avatar address, either may be missing."""
    out = {}
    if isinstance(name, str) and name.strip():
        out["name"] = name.strip()[:200]
    if isinstance(avatar, str) and avatar.startswith("https://"):
        out["avatar"] = avatar[:2000]
    return out or None


def counts(data: dict[str, Any], **names: str) -> dict[str, int]:
    """{our name: the platform's count under its key}, a missing or odd value as 0."""
    out = {}
    for ours, theirs in names.items():
        value = data.get(theirs)
        out[ours] = value if isinstance(value, int) and value >= 0 else 0
    return out


@runtime_checkable
class Channel(Protocol):
    """One platform account. Safe to call `publish` twice for a post: it dedupes or reconciles."""

    name: str
    limits: Limits

    async def check(self) -> Check: ...

    async def publish(self, post: Post) -> Receipt: ...

    async def lookup(self, post: Post) -> Receipt | None: ...


class ChannelError(PressbotError):
    """A channel could not publish a post."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


class Transient(ChannelError):
    """Worth retrying later; `retry_after` (seconds) when the platform said when.

    None of the kinds below counts toward the post's attempt limit, since the post did not
    fail: `progressed` — this attempt got part of the work done (a newsletter mailed some
    recipients); `throttled` — the platform asked us to wait (a rate limit), so waiting is
    the plan, not a failure; `outage` — the platform is down or unreachable, which is the
    channel's problem: the publisher backs off the whole channel.
    """

    def __init__(self, message: str, retry_after: float | None = None, *,
                 progressed: bool = False, throttled: bool = False,
                 outage: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.progressed = progressed
        self.throttled = throttled
        self.outage = outage


class Permanent(ChannelError):
    """Retrying will not help; `hint` tells a comms person what to do."""

    def __init__(self, reason: str, hint: str = "") -> None:
        super().__init__(f"{reason} — {hint}" if hint else reason)
        self.reason = redact(reason)
        self.hint = redact(hint)


class AuthFailed(Permanent):
    """The credentials are revoked, expired or lack a scope: no post can go out until fixed.

    The fault is the channel's, not the post's, so the publisher pauses the channel and
    leaves its posts approved rather than holding each of them.
    """


class Ambiguous(ChannelError):
    """The request may have been processed: look the post up before any retry."""


def body_message(response: httpx.Response, limit: int = 300) -> str:
    """The platform's error text, from JSON when it is JSON, else the raw body, shortened."""
    text = response.text or ""
    with contextlib.suppress(ValueError):
        data = json.loads(text)
        if isinstance(data, dict):
            err = data.get("error")
            if isinstance(err, dict):
                err = err.get("message")
            if err:
                desc = data.get("error_description")
                text = f"{err}: {desc}" if desc else str(err)
    text = " ".join(text.split())
    return redact(text[:limit] + ("…" if len(text) > limit else ""))


def parse_retry_after(response: httpx.Response, now: datetime | None = None) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or an ISO `X-RateLimit-Reset`."""
    now = now or datetime.now(UTC)
    value = response.headers.get("retry-after")
    if value:
        with contextlib.suppress(ValueError):
            return max(0.0, float(value))
        from email.utils import parsedate_to_datetime

        with contextlib.suppress(TypeError, ValueError):
            return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    reset = response.headers.get("x-ratelimit-reset")
    if reset:
        with contextlib.suppress(ValueError):
            at = datetime.fromisoformat(reset.replace("Z", "+00:00"))
            if at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            return max(0.0, (at - now).total_seconds())
        with contextlib.suppress(ValueError):
            return max(0.0, float(reset) - now.timestamp())
    return None


def raise_for_response(response: httpx.Response, platform: str, *, auth_hint: str = "") -> None:
    """Map a finished HTTP response onto the channel errors; returns on 2xx."""
    status = response.status_code
    if status < 300:
        return
    message = f"{platform} answered {status}: {body_message(response)}"
    if status in (401, 403):
        raise AuthFailed(message, auth_hint or "check the access token and its permissions")
    if status == 429:
        raise Transient(message, retry_after=parse_retry_after(response), throttled=True)
    if status == 408 or status >= 500:
        raise Transient(message, retry_after=parse_retry_after(response), outage=True)
    raise Permanent(message, "the platform refused this post as written; edit it and approve again")


@contextlib.contextmanager
def map_transport_error(platform: str, *, sent_is_ambiguous: bool = True) -> Iterator[None]:
    """Turn httpx transport failures into channel errors.

    A failure before the request left (connect error, connect timeout, pool timeout) is
    transient. One after it may have left (read/write timeout, dropped connection) is
    ambiguous when `sent_is_ambiguous`, i.e. for requests that create something.
    """
    import httpx

    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise Transient(f"{platform} unreachable: {type(exc).__name__}: {exc}",
                        outage=True) from exc
    except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError,
            httpx.WriteError, httpx.NetworkError) as exc:
        message = f"{platform}: no answer after the request was sent ({type(exc).__name__})"
        if sent_is_ambiguous:
            raise Ambiguous(message) from exc
        raise Transient(message, outage=True) from exc
    except httpx.HTTPError as exc:
        raise Transient(f"{platform}: {type(exc).__name__}: {exc}") from exc


def user_agent() -> str:
    """The User-Agent every HTTP request of pressbot carries."""
    from bot import __version__

    return f"pressbot/{__version__}"
