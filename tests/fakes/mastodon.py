"""A fake Mastodon server: a real HTTP app that enforces what the client API documents.

The Mastodon channel has to be proven over real sockets against the behaviour that bites in
production — grapheme counting with the URL and mention rules, idempotency keys that expire,
media still processing, rate-limit headers with ISO timestamps, proxies answering HTML, a
response lost after the status was created — not against mocks that agree with the client by
construction. Each rule follows the Mastodon docs and source (methods/statuses, methods/media,
api/rate-limits, `status_length_validator.rb`, `post_status_service.rb`).

Tests build a `FakeMastodon`, add accounts and tokens, steer it (limits, injected failures,
stalls, compatibility quirks), serve it with `running(state)` and inspect what it stored
(`statuses`, `media`) and received (`requests`). All state sits behind one lock: the server runs
in its own thread while the test reads and steers.

Wording that the docs leave unconfirmed (media validation messages, the 429 text) follows the
Mastodon English locale as far as it is known; tests should not depend on it word for word.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.fakes.mastodon_text import render_content, status_length
from tests.fakes.server import LiveServer

# Which scopes open which route; `write`/`read` imply their sub-scopes (docs: api/oauth-scopes).
SCOPES: dict[str, tuple[str, ...]] = {
    "verify_credentials": ("read", "read:accounts", "profile"),
    "statuses": ("write", "write:statuses"),
    "media": ("write", "write:media"),
    "media_get": ("write", "write:media"),
    "account_statuses": ("read", "read:statuses"),
    "status": ("read", "read:statuses"),
}
SLOW_TYPES = frozenset({"image/gif", "video/mp4", "video/webm", "video/quicktime", "audio/mpeg"})
VISIBILITIES = ("public", "unlisted", "private", "direct")
HTML_502 = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>"
            "<center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")

# ---------------------------------------------------------------- state

def iso(ts: float, digits: int = 3) -> str:
    """UTC ISO 8601 with `digits` fractional digits (3 for entities, 6 for rate-limit resets)."""
    text = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text[: len(text) - (6 - digits)] + "Z"


@dataclass
class Account:
    id: str
    username: str


@dataclass
class Media:
    id: str
    account_id: str
    content_type: str
    size: int
    description: str | None
    polls_left: int
    status_id: str | None = None
    data: bytes = b""  # the uploaded bytes, as a visitor would fetch them

    @property
    def processed(self) -> bool:
        return self.polls_left <= 0


@dataclass
class Status:
    id: str
    account_id: str
    text: str
    spoiler_text: str
    visibility: str
    language: str | None
    media_ids: list[str]
    in_reply_to_id: str | None
    created_at: float
    url: str
    uri: str
    content: str
    idempotency_key: str | None
    reblogs_count: int = 0
    favourites_count: int = 0
    replies_count: int = 0


@dataclass
class Recorded:
    """One request as the fake received it (the Authorization header included: tests only)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, list[str]]
    route: str | None = None
    received: float = field(default_factory=time.monotonic)
    """When the request arrived, and when its answer left (None: not yet, or never)."""
    answered: float | None = None


@dataclass
class _Failure:
    status: int
    kind: Literal["json", "html", "text"]
    body: str | None
    headers: dict[str, str] | Callable[[], dict[str, str]]
    """Fixed, or made when the failure is answered (a rate limit's reset, from then)."""


@dataclass
class _Stall:
    mode: Literal["stall", "drop"]
    seconds: float


@dataclass
class FakeMastodon:
    """The server's state and the knobs tests turn. Times come from `now()` (see `advance`)."""

    max_characters: int = 500
    characters_reserved_per_url: int = 23
    max_media_attachments: int = 4
    description_limit: int = 1500
    image_size_limit: int = 16 * 1024 * 1024
    instance_v2: bool = True
    ignore_idempotency: bool = False
    idempotency_ttl: float = 3600.0
    statuses_limit: int = 300
    statuses_window: float = 3 * 3600.0
    request_limit: int = 300
    request_window: float = 300.0
    compat_mode: bool = False
    raw_counting: bool = False
    """Count as Takahē does (while advertising 23): `len()` of spoiler + text, i.e. code
    points with links and mentions in full, and refuse with 400 "Status is too long"."""
    slow_media: bool = False
    processing_polls: int = 2
    version: str = "4.3.0"
    link_style: Literal["mastodon", "gotosocial"] = "mastodon"
    """How a status's links read in `content`: GoToSocial shows them without the scheme."""

    accounts: dict[str, Account] = field(default_factory=dict)
    tokens: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    statuses: dict[str, Status] = field(default_factory=dict)
    media: dict[str, Media] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self.released = threading.Event()
        self._skew = 0.0
        self._ids = itertools.count(1)
        self._last_status_id = 0
        self._keys: dict[tuple[str, str], tuple[str, float]] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._stalls: dict[str, deque[_Stall]] = {}
        self._counters: dict[tuple[str, str, int], int] = {}

    # -- set-up and steering
    def add_account(self, username: str = "newsroom") -> Account:
        with self.lock:
            account = Account(id=str(100 + next(self._ids)), username=username)
            self.accounts[account.id] = account
            return account

    def add_token(self, token: str, account: Account,
                  scopes: str = "read write") -> None:
        with self.lock:
            self.tokens[token] = (account.id, frozenset(scopes.split()))

    def fail(self, route: str, status: int = 500, *, times: int = 1,
             kind: Literal["json", "html", "text"] = "json", body: str | None = None,
             headers: dict[str, str] | Callable[[], dict[str, str]] | None = None) -> None:
        """Answer the next `times` requests to `route` with this error, before doing anything.

        `headers` may be a function, called as each such answer is made."""
        with self.lock:
            queue = self._failures.setdefault(route, deque())
            for _ in range(times):
                queue.append(_Failure(status, kind, body,
                                      headers if callable(headers) else dict(headers or {})))

    def pending_failures(self, route: str) -> int:
        """Injected failures of `route` not yet answered."""
        with self.lock:
            return len(self._failures.get(route, ()))

    def slow_after_processing(self, route: str = "statuses", *, mode: Literal["stall", "drop"]
                              = "stall", seconds: float = 5.0, times: int = 1) -> None:
        """Do the work, then stall the answer (`stall`) or send half of it and hang up (`drop`)."""
        with self.lock:
            queue = self._stalls.setdefault(route, deque())
            for _ in range(times):
                queue.append(_Stall(mode, seconds))

    def advance(self, seconds: float) -> None:
        """Move the server's clock forward (idempotency TTL, rate-limit windows, created_at)."""
        with self.lock:
            self._skew += seconds

    def now(self) -> float:
        return time.time() + self._skew

    def statuses_of(self, account: Account) -> list[Status]:
        """The account's statuses, oldest first."""
        with self.lock:
            return [s for s in self.statuses.values() if s.account_id == account.id]

    def requests_to(self, route: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.route == route]

    # -- internals used by the app
    def _take(self, table: dict[str, deque[Any]], route: str) -> Any:
        with self.lock:
            queue = table.get(route)
            return queue.popleft() if queue else None

    def _authorize(self, request: Request, route: str, *, optional: bool = False) -> str | None:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not token and optional:
            return None
        with self.lock:
            found = self.tokens.get(token)
        if found is None:
            raise ApiError(401, "The access token is invalid")
        account_id, scopes = found
        if not scopes & set(SCOPES[route]):
            raise ApiError(403, "This action is outside the authorized scopes")
        request.state.account_id = account_id
        self._spend(account_id, "requests", self.request_limit, self.request_window, request)
        return account_id

    def _window(self, window: float) -> tuple[int, float]:
        """Fixed windows aligned to the epoch, as Mastodon's RateLimiter uses."""
        index = int(self.now() // window)
        return index, (index + 1) * window

    def _spend(self, account_id: str, family: str, limit: int, window: float,
               request: Request, *, check_only: bool = False) -> None:
        with self.lock:
            index, reset = self._window(window)
            key = (account_id, family, index)
            used = self._counters.get(key, 0)
            if used >= limit:
                request.state.rate = (limit, 0, reset)
                raise ApiError(429, "Too many requests")
            if not check_only:
                used += 1
                self._counters[key] = used
            request.state.rate = (limit, limit - used, reset)

    def _new_status_id(self) -> str:
        # Snowflake-like: milliseconds in the high bits, so ids sort by time and never repeat.
        candidate = int(self.now() * 1000) << 16
        self._last_status_id = max(candidate, self._last_status_id + 1)
        return str(self._last_status_id)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# ---------------------------------------------------------------- entities

def _account_json(account: Account, base: str) -> dict[str, Any]:
    return {
        "id": account.id, "username": account.username, "acct": account.username,
        "display_name": account.username.title(), "url": f"{base}/@{account.username}",
        # avatars live on the server's media host, as on most instances
        "avatar": f"https://files.example/avatars/{account.username}.png",
        "avatar_static": f"https://files.example/avatars/{account.username}.png",
        "locked": False, "bot": True, "note": "", "followers_count": 0,
        "created_at": "2024-01-01T00:00:00.000Z",
    }


def _media_json(media: Media, base: str) -> dict[str, Any]:
    kind = media.content_type.split("/")[0]
    kind = "gifv" if media.content_type == "image/gif" else kind
    ready = media.processed
    return {
        "id": media.id, "type": kind if kind in ("image", "video", "audio", "gifv") else "unknown",
        "url": f"{base}/system/media_attachments/{media.id}/original" if ready else None,
        "preview_url": f"{base}/system/media_attachments/{media.id}/small",
        "remote_url": None, "description": media.description, "blurhash": None, "meta": {},
    }


def _status_json(state: FakeMastodon, status: Status, base: str) -> dict[str, Any]:
    account = state.accounts[status.account_id]
    parent = state.statuses.get(status.in_reply_to_id or "")
    return {
        "id": status.id, "created_at": iso(status.created_at), "url": status.url,
        "uri": status.uri, "content": status.content, "visibility": status.visibility,
        "language": status.language, "spoiler_text": status.spoiler_text,
        "sensitive": bool(status.spoiler_text), "in_reply_to_id": status.in_reply_to_id,
        "in_reply_to_account_id": parent.account_id if parent else None,
        "media_attachments": [_media_json(state.media[m], base) for m in status.media_ids],
        "mentions": [], "tags": [], "emojis": [], "reblog": None, "poll": None,
        "reblogs_count": status.reblogs_count, "favourites_count": status.favourites_count,
        "replies_count": status.replies_count,
        "application": {"name": "pressbot", "website": None},
        "account": _account_json(account, base),
    }


# ---------------------------------------------------------------- handlers

def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _instance_config(state: FakeMastodon) -> dict[str, Any]:
    return {
        "statuses": {"max_characters": state.max_characters,
                     "max_media_attachments": state.max_media_attachments,
                     "characters_reserved_per_url": state.characters_reserved_per_url},
        "media_attachments": {"description_limit": state.description_limit,
                              "image_size_limit": state.image_size_limit,
                              "supported_mime_types": ["image/jpeg", "image/png", "image/gif",
                                                       "image/webp", "video/mp4"]},
    }


async def instance_v2(state: FakeMastodon, request: Request, form: dict[str, list[str]]
                      ) -> Response:
    if not state.instance_v2:
        return Response("Not Found", 404, media_type="text/plain")
    host = request.url.netloc
    return JSONResponse({"domain": host, "title": "Fake Mastodon", "version": state.version,
                         "api_versions": {"mastodon": 2},
                         "configuration": _instance_config(state)})


async def instance_v1(state: FakeMastodon, request: Request, form: dict[str, list[str]]
                      ) -> Response:
    return JSONResponse({"uri": request.url.netloc, "title": "Fake Mastodon",
                         "version": state.version, "configuration": _instance_config(state)})


async def verify_credentials(state: FakeMastodon, request: Request,
                             form: dict[str, list[str]]) -> Response:
    account_id = state._authorize(request, "verify_credentials")
    with state.lock:
        account = state.accounts[str(account_id)]
    body = _account_json(account, _base(request))
    body["source"] = {"privacy": "public", "language": "en", "note": ""}
    return JSONResponse(body)


async def get_status(state: FakeMastodon, request: Request,
                     form: dict[str, list[str]]) -> Response:
    """GET /api/v1/statuses/:id — with its counts, which tests set on `state.statuses`."""
    state._authorize(request, "status")
    with state.lock:
        status = state.statuses.get(request.path_params["id"])
        if status is None:
            raise ApiError(404, "Record not found")
        return JSONResponse(_status_json(state, status, _base(request)))


def _first(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name)
    return values[0] if values else None


async def create_status(state: FakeMastodon, request: Request, form: dict[str, list[str]]
                        ) -> Response:
    account_id = str(state._authorize(request, "statuses"))
    base = _base(request)
    text = _first(form, "status") or ""
    spoiler = _first(form, "spoiler_text") or ""
    media_ids = form.get("media_ids[]", []) or form.get("media_ids", [])
    reply_to = _first(form, "in_reply_to_id") or None
    visibility = _first(form, "visibility") or "public"
    language = _first(form, "language") or None
    key = request.headers.get("idempotency-key")
    with state.lock:
        if reply_to is not None and reply_to not in state.statuses:
            raise ApiError(404, "The post you are trying to reply to does not appear to exist.")
        if key and not state.ignore_idempotency:
            stored = state._keys.get((account_id, key))
            if stored and state.now() - stored[1] < state.idempotency_ttl:
                return JSONResponse(_status_json(state, state.statuses[stored[0]], base))
        if len(media_ids) > state.max_media_attachments:
            raise ApiError(422, f"Cannot attach more than {state.max_media_attachments} files")
        found = [state.media.get(m) for m in media_ids]
        if any(m is None or m.account_id != account_id or m.status_id for m in found):
            raise ApiError(422, "Media not found or already attached to another post")
        if any(m is not None and not m.processed for m in found):
            raise ApiError(422, "Cannot attach files that have not finished processing. "
                                "Try again in a moment!")
        if visibility not in VISIBILITIES:
            raise ApiError(422, "Validation failed: Visibility is not included in the list")
        if not text.strip() and not media_ids:
            raise ApiError(422, "Validation failed: Text can't be blank")
        # Takahē: len() of the text, 400 "Status is too long"
        if state.raw_counting and len(spoiler + text) > state.max_characters:
            raise ApiError(400, "Status is too long")
        length = status_length(text, spoiler, state.characters_reserved_per_url)
        if not state.raw_counting and length > state.max_characters:
            raise ApiError(422, "Validation failed: Text character limit of "
                                f"{state.max_characters} exceeded")
        state._spend(account_id, "statuses", state.statuses_limit, state.statuses_window, request)
        account = state.accounts[account_id]
        status_id = state._new_status_id()
        status = Status(
            id=status_id, account_id=account_id, text=text, spoiler_text=spoiler,
            visibility=visibility, language=language, media_ids=list(media_ids),
            in_reply_to_id=reply_to, created_at=state.now(),
            url=f"{base}/@{account.username}/{status_id}",
            uri=f"{base}/users/{account.username}/statuses/{status_id}",
            content=render_content(text, base, state.link_style), idempotency_key=key,
        )
        state.statuses[status_id] = status
        for media in found:
            if media is not None:
                media.status_id = status_id
        if key and not state.ignore_idempotency:
            state._keys[(account_id, key)] = (status_id, state.now())
        return JSONResponse(_status_json(state, status, base))


async def upload_media(state: FakeMastodon, request: Request, form: dict[str, list[str]]
                       ) -> Response:
    account_id = str(state._authorize(request, "media"))
    upload = request.state.upload
    if not isinstance(upload, UploadFile):
        raise ApiError(422, "Validation failed: File can't be blank")
    data = await upload.read()
    content_type = (upload.content_type or "").split(";")[0].strip()
    if not content_type.startswith(("image/", "video/", "audio/")):
        raise ApiError(422, "Validation failed: File content type is invalid, File is invalid")
    if content_type.startswith("image/") and len(data) > state.image_size_limit:
        mib = state.image_size_limit // (1024 * 1024)
        raise ApiError(422, f"Validation failed: File file size must be less than {mib} MB")
    description = _first(form, "description")
    if description is not None and len(description) > state.description_limit:
        raise ApiError(422, "Validation failed: Description is too long (maximum is "
                            f"{state.description_limit} characters)")
    slow = state.slow_media or content_type in SLOW_TYPES
    with state.lock:
        media = Media(id=str(900000 + next(state._ids)), account_id=account_id,
                      content_type=content_type, size=len(data), description=description,
                      polls_left=state.processing_polls if slow else 0, data=data)
        state.media[media.id] = media
        return JSONResponse(_media_json(media, _base(request)), 202 if slow else 200)


async def get_media(state: FakeMastodon, request: Request, form: dict[str, list[str]]
                    ) -> Response:
    account_id = state._authorize(request, "media_get")
    with state.lock:
        media = state.media.get(request.path_params["id"])
        # Attached media is looked up with status_id: nil upstream, hence 404 once attached.
        if media is None or media.account_id != account_id or media.status_id:
            raise ApiError(404, "Record not found")
        if not media.processed:
            media.polls_left -= 1
            return JSONResponse(_media_json(media, _base(request)) | {"url": None}, 206)
        return JSONResponse(_media_json(media, _base(request)))


async def delete_media(state: FakeMastodon, request: Request, form: dict[str, list[str]]
                       ) -> Response:
    """Mastodon 4.4's `DELETE /api/v1/media/:id`: only unattached media of the account."""
    account_id = state._authorize(request, "media")
    with state.lock:
        media = state.media.get(request.path_params["id"])
        if media is None or media.account_id != account_id:
            raise ApiError(404, "Record not found")
        if media.status_id:
            raise ApiError(422, "Media attachment is currently used by a status")
        del state.media[media.id]
        return JSONResponse({})


async def account_statuses(state: FakeMastodon, request: Request, form: dict[str, list[str]]
                           ) -> Response:
    # Public statuses need no token; a token given must be valid and carry a read scope.
    viewer = state._authorize(request, "account_statuses", optional=True)
    account_id = request.path_params["id"]
    query = request.query_params
    try:
        limit = min(max(int(query.get("limit", "20")), 1), 40)
    except ValueError:
        limit = 20
    max_id, min_id, since_id = query.get("max_id"), query.get("min_id"), query.get("since_id")
    with state.lock:
        if account_id not in state.accounts:
            raise ApiError(404, "Record not found")
        shown = ("public", "unlisted", "private") if viewer == account_id else ("public",
                                                                                "unlisted")
        items = sorted((s for s in state.statuses.values()
                        if s.account_id == account_id and s.visibility in shown
                        and not (query.get("exclude_replies") in ("true", "1")
                                 and s.in_reply_to_id)),
                       key=lambda s: int(s.id), reverse=True)
        if max_id:
            items = [s for s in items if int(s.id) < int(max_id)]
        if since_id:  # the newest page above since_id
            items = [s for s in items if int(s.id) > int(since_id)]
        if min_id:  # the page immediately above min_id
            items = [s for s in items if int(s.id) > int(min_id)][-limit:]
        page = items[:limit]
        base = _base(request)
        body = [_status_json(state, s, base) for s in page]
    links = []
    path = f"{base}/api/v1/accounts/{account_id}/statuses"
    if len(page) == limit:
        links.append(f'<{path}?{urlencode({"limit": limit, "max_id": page[-1].id})}>; rel="next"')
    if page:
        links.append(f'<{path}?{urlencode({"limit": limit, "min_id": page[0].id})}>; rel="prev"')
    headers = {"Link": ", ".join(links)} if links else {}
    return JSONResponse(body, headers=headers)


# ---------------------------------------------------------------- plumbing

class _Dropped(Response):
    """Start a 200, send a fragment of the body, then hang up: the client sees a broken read."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(self.body) + 512).encode())]})
        await send({"type": "http.response.body", "body": self.body[:10], "more_body": True})


def _error_response(state: FakeMastodon, status: int, message: str) -> Response:
    if state.compat_mode:
        # Some compatible servers answer in plain text, and a bad token with 400.
        return Response(message, 400 if status == 401 else status, media_type="text/plain")
    return JSONResponse({"error": message}, status)


def _failure_response(failure: _Failure) -> Response:
    headers = dict(failure.headers() if callable(failure.headers) else failure.headers)
    if failure.kind == "html":
        body = failure.body or HTML_502.replace("502 Bad Gateway", f"{failure.status} Error")
        return Response(body, failure.status, headers=headers, media_type="text/html")
    if failure.kind == "text":
        return Response(failure.body or "upstream connect error", failure.status,
                        headers=headers, media_type="text/plain")
    default = {429: "Too many requests", 503: "There was a temporary problem serving your "
               "request, please try again"}.get(failure.status, "Internal server error")
    return JSONResponse({"error": failure.body or default}, failure.status, headers=headers)


def _rate_headers(state: FakeMastodon, request: Request, response: Response) -> None:
    rate = getattr(request.state, "rate", None)
    if rate is None or state.compat_mode:
        return
    limit, remaining, reset = rate
    response.headers["X-RateLimit-Limit"] = str(limit)
    response.headers["X-RateLimit-Remaining"] = str(max(remaining, 0))
    response.headers["X-RateLimit-Reset"] = iso(reset, digits=6)


async def _read_form(request: Request) -> dict[str, list[str]]:
    request.state.upload = None
    content_type = request.headers.get("content-type", "")
    form: dict[str, list[str]] = {}
    if content_type.startswith("application/json"):
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            raise ApiError(422, "Error while parsing request body") from None
        for name, value in (data.items() if isinstance(data, dict) else []):
            values = value if isinstance(value, list) else [value]
            form[name] = ["" if v is None else str(v) for v in values]
    elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        parsed = await request.form()
        request.state.form = parsed
        for name, value in parsed.multi_items():
            if isinstance(value, UploadFile):
                request.state.upload = value
                form.setdefault(name, []).append(f"<file {value.filename} {value.content_type}>")
            else:
                form.setdefault(name, []).append(value)
    return form


def _endpoint(state: FakeMastodon, route: str, handler: Any) -> Any:
    async def endpoint(request: Request) -> Response:
        request.state.rate = None
        request.state.form = None
        try:
            return await _serve(state, route, handler, request)
        finally:
            if request.state.form is not None:  # uploads spool to temporary files
                await request.state.form.close()

    return endpoint


async def _serve(state: FakeMastodon, route: str, handler: Any, request: Request) -> Response:
    try:
        form = await _read_form(request)
    except ApiError as exc:
        return _error_response(state, exc.status, exc.message)
    record = Recorded(request.method, request.url.path, dict(request.query_params),
                      {k.lower(): v for k, v in request.headers.items()}, form, route)
    with state.lock:
        state.requests.append(record)
    response = await _answer(state, route, handler, request, form)
    record.answered = time.monotonic()
    return response


async def _answer(state: FakeMastodon, route: str, handler: Any, request: Request,
                  form: dict[str, list[str]]) -> Response:
    failure = state._take(state._failures, route)
    if failure is not None:
        return _failure_response(failure)
    try:
        response: Response = await handler(state, request, form)
    except ApiError as exc:
        response = _error_response(state, exc.status, exc.message)
    _rate_headers(state, request, response)
    if response.status_code < 300:
        stall: _Stall | None = state._take(state._stalls, route)
        if stall is not None and stall.mode == "drop":
            return _Dropped(response.body)
        if stall is not None:
            await asyncio.to_thread(state.released.wait, stall.seconds)
    return response


def make_app(state: FakeMastodon) -> Starlette:
    """The Starlette app serving `state` (one app per state; serve it with `running`)."""
    table: list[tuple[str, str, str, Any]] = [
        ("/api/v2/instance", "GET", "instance", instance_v2),
        ("/api/v1/instance", "GET", "instance_v1", instance_v1),
        ("/api/v1/accounts/verify_credentials", "GET", "verify_credentials",
         verify_credentials),
        ("/api/v1/statuses", "POST", "statuses", create_status),
        ("/api/v2/media", "POST", "media", upload_media),
        ("/api/v1/media/{id}", "GET", "media_get", get_media),
        ("/api/v1/media/{id}", "DELETE", "media_delete", delete_media),
        ("/api/v1/accounts/{id}/statuses", "GET", "account_statuses", account_statuses),
        ("/api/v1/statuses/{id}", "GET", "status", get_status),
    ]
    routes = [Route(path, _endpoint(state, name, handler), methods=[method])
              for path, method, name, handler in table]
    return Starlette(routes=routes)


@contextmanager
def running(state: FakeMastodon) -> Iterator[LiveServer]:
    """Serve `state` on 127.0.0.1; on exit, release stalled requests so the server can stop."""
    server = LiveServer(make_app(state)).start()
    try:
        yield server
    finally:
        state.released.set()
        server.stop()
