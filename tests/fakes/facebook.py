"""A fake Facebook Graph API for publishing to a Page, served over real HTTP.

It enforces what `platform-apis.md` §2 documents (versioned paths, Page versus user tokens,
`appsecret_proof`, the error object, usage headers, 506 duplicates, two-phase publishing) so
that `channels/facebook/` is proven against behaviour, not against mocks. `FakeGraph` holds
the state; tests read it and steer it (inject failures, throttle, drop connections).

Choices where Meta's documentation is silent, all UNCONFIRMED against the real service:
- A call without a version, or with one outside `versions`, fails with code 2635. The real
  Graph API answers unversioned calls with the app's default version and upgrades expired
  ones; the fake refuses both on purpose, to prove the adapter always pins a version.
- HTTP status: 500 for codes 1 and 2, 400 for every other error.
- A missing or wrong `appsecret_proof` (when an app secret is configured) is code 100.
- An unreachable photo `url` is code 100 (the reference says 100 or 324).
- `GET /{page}/posts`, `/feed` and `/published_posts` list live posts only. Unpublished posts
  (drafts of two-phase publishing) are listed by `GET /{page}/promotable_posts` with
  `is_published=false`; `is_published=true` lists live ones and no filter lists both.
- 506 fires when a post's message equals the message of the Page's latest live post, both
  when it is created (published or not) and when a draft is flipped live.
- `GET /me?metadata=1` adds `{"metadata": {"type": "page"|"user"|"application"}}`.
- Photo `url`s are "reachable" only when served by the fake (`add_image`) or listed in
  `reachable_urls`: the fake never touches the network.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

READ_PERMISSION = "pages_read_engagement"
WRITE_PERMISSION = "pages_manage_posts"
PAGE_SCOPES = ("pages_show_list", READ_PERMISSION, WRITE_PERMISSION)
THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001})
TRANSIENT_CODES = frozenset({1, 2}) | THROTTLE_CODES
POST_FIELDS = frozenset({"id", "message", "created_time", "updated_time", "permalink_url",
                         "is_published", "attachments", "from", "status_type", "reactions",
                         "comments", "shares"})
PAGE_FIELDS = frozenset({"id", "name", "category", "link", "picture"})

DEFAULT_MESSAGES = {
    1: "An unknown error occurred",
    2: "An unexpected error has occurred. Please retry your request later.",
    4: "(#4) Application request limit reached",
    10: "(#10) This endpoint requires the 'pages_read_engagement' permission",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    100: "(#100) Invalid parameter",
    190: "Error validating access token",
    200: "(#200) Permissions error",
    341: "(#341) Application limit reached",
    368: "(#368) The action attempted has been deemed abusive or is otherwise disallowed",
    506: "(#506) Duplicate status message",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: "There have been too many calls to this Page account. Wait a bit and try again.",
}
TOKEN_MESSAGES = {
    458: "Error validating access token: The user has not authorized application.",
    459: "Error validating access token: You cannot access the app till you log in to "
         "www.facebook.com and follow the instructions given.",
    460: "Error validating access token: The session has been invalidated because the user "
         "changed their password or Facebook has changed the session for security reasons.",
    463: "Error validating access token: Session has expired.",
    464: "Error validating access token: Sessions for the user are not allowed because the "
         "user is not a confirmed user.",
    467: "Error validating access token: The access token is invalid since the user logged out.",
    492: "Error validating access token: The user does not have a role on the Page.",
}
WRITE_DENIED = ("(#200) If posting to a page, requires both pages_read_engagement and "
                "pages_manage_posts as an admin with sufficient administrative permission")


class GraphError(Exception):
    """An error the fake answers with, in the documented `{"error": {...}}` shape."""

    def __init__(self, code: int, message: str | None = None, *, subcode: int | None = None,
                 type_: str = "OAuthException", status: int | None = None,
                 is_transient: bool | None = None, user_title: str | None = None,
                 user_msg: str | None = None, regain_minutes: int | None = None) -> None:
        super().__init__(message or DEFAULT_MESSAGES.get(code, f"(#{code}) Error"))
        self.code, self.subcode, self.type = code, subcode, type_
        self.message = str(self.args[0])
        self.status = status or (500 if code in (1, 2) else 400)
        self.is_transient = code in TRANSIENT_CODES if is_transient is None else is_transient
        self.user_title, self.user_msg = user_title, user_msg
        self.regain_minutes = regain_minutes

    def body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
        err["is_transient"] = self.is_transient
        if self.user_title:
            err["error_user_title"] = self.user_title
        if self.user_msg:
            err["error_user_msg"] = self.user_msg
        err["fbtrace_id"] = "A" + secrets.token_urlsafe(14).replace("-", "x").replace("_", "y")
        return {"error": err}


@dataclass
class Token:
    value: str
    kind: str  # "PAGE" | "USER" | "APP"
    profile_id: str
    scopes: tuple[str, ...] = ()
    expires_at: int = 0  # 0 = never
    data_access_expires_at: int = 0
    dead_subcode: int | None = None  # set when invalidated: 458, 460, 467, …


@dataclass
class FakePost:
    id: str
    page_id: str
    seq: int
    message: str
    link: str | None
    created: datetime
    published: bool
    photo_id: str | None = None
    reactions: int = 0
    comments: int = 0
    shares: int = 0
    """What people did with it (tests set them): `reactions.summary(total_count)` & co."""

    @property
    def permalink(self) -> str:
        return f"https://www.facebook.com/{self.page_id}/posts/{self.id.split('_', 1)[1]}"


@dataclass
class Recorded:
    """One request as the fake saw it: for asserting what the adapter sent."""

    method: str
    path: str
    version: str | None
    params: dict[str, str]
    headers: dict[str, str]
    token: str | None
    route: str = ""


@dataclass
class Usage:
    """Percentages reported in the usage headers, and minutes until access is regained."""

    call_count: int = 2
    total_cputime: int = 1
    total_time: int = 1
    regain_minutes: int = 0


@dataclass
class _Ambiguity:
    mode: str  # "drop" | "stall"
    stall_seconds: float


class FakeGraph:
    """State of the fake Graph API: one Page, its tokens and posts, and steering knobs."""

    def __init__(self, *, page_id: str = "1234567890", page_name: str = "Example News",
                 app_id: str = "4242", app_secret: str | None = None,
                 versions: tuple[str, ...] = tuple(f"v{n}.0" for n in range(18, 27)),
                 clock: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.page_id, self.page_name = page_id, page_name
        self.user_id, self.user_name = "100077", "Alex Example"
        self.app_id, self.app_secret = app_id, app_secret
        self.versions = set(versions)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.tokens: dict[str, Token] = {}
        self.posts: dict[str, FakePost] = {}
        self.photos: dict[str, dict[str, Any]] = {}
        self.images: dict[str, bytes] = {}
        self.reachable_urls: set[str] = set()
        self.broken_links: set[str] = set()
        self.scraped: list[str] = []
        self.og: dict[str, dict[str, Any]] = {}
        """Open Graph data the 'scraper' finds per URL (title, image); none by default."""
        self.requests: list[Recorded] = []
        self.usage: Usage | None = Usage()
        self.app_usage: Usage | None = Usage()
        self.throttled: tuple[int, int] | None = None  # (code, minutes)
        self.base_url = ""  # set by the tests once the server listens (for paging/media URLs)
        self._failures: dict[str, deque[GraphError]] = defaultdict(deque)
        self._ambiguous: dict[str, deque[_Ambiguity]] = defaultdict(deque)
        self._seq = 0
        self.page_token = self.add_token("PAGE", scopes=PAGE_SCOPES).value
        self.user_token = self.add_token("USER", scopes=("public_profile", "pages_show_list")).value
        self.app_token = self.add_token("APP", value=f"{app_id}|{secrets.token_hex(12)}").value

    # ── steering ──────────────────────────────────────────────────────────────────────
    def add_token(self, kind: str, *, value: str | None = None, scopes: tuple[str, ...] = (),
                  expires_at: int = 0, data_access_expires_at: int = 0,
                  profile_id: str | None = None) -> Token:
        """Register a token; PAGE tokens belong to this Page unless `profile_id` says other."""
        default_id = {"PAGE": self.page_id, "USER": self.user_id, "APP": self.app_id}[kind]
        token = Token(value or f"EAA{kind[0]}{secrets.token_urlsafe(24)}", kind,
                      profile_id or default_id, tuple(scopes), expires_at,
                      data_access_expires_at)
        with self.lock:
            self.tokens[token.value] = token
        return token

    def invalidate(self, token: str, subcode: int = 467) -> None:
        """Kill a token: every later use answers code 190 with this subcode."""
        with self.lock:
            self.tokens[token].dead_subcode = subcode

    def fail_next(self, route: str, code: int, *, n: int = 1, subcode: int | None = None,
                  message: str | None = None, status: int | None = None,
                  is_transient: bool | None = None, user_title: str | None = None,
                  user_msg: str | None = None, regain_minutes: int | None = None) -> None:
        """The next `n` calls of `route` (see `route_of`, or "*" for any) fail with `code`."""
        with self.lock:
            for _ in range(n):
                self._failures[route].append(GraphError(
                    code, message, subcode=subcode, status=status, is_transient=is_transient,
                    user_title=user_title, user_msg=user_msg, regain_minutes=regain_minutes))

    def ambiguous_next(self, route: str, *, n: int = 1, mode: str = "drop",
                       stall_seconds: float = 1.0) -> None:
        """The next `n` calls of `route` are processed, then the answer is lost.

        "drop" closes the connection mid-response; "stall" answers only after
        `stall_seconds`, past a client's read timeout.
        """
        with self.lock:
            for _ in range(n):
                self._ambiguous[route].append(_Ambiguity(mode, stall_seconds))

    def throttle(self, code: int | None = 80001, minutes: int = 5) -> None:
        """Every call fails with a rate-limit `code` until `throttle(None)`."""
        with self.lock:
            self.throttled = None if code is None else (code, minutes)

    def add_image(self, name: str, data: bytes = b"\x89PNG fake") -> str:
        """Serve an image at a URL the fake itself can "fetch" for `photos?url=`."""
        with self.lock:
            self.images[name] = data
        return f"{self.base_url}/_media/{name}"

    def live_posts(self) -> list[FakePost]:
        with self.lock:
            return sorted((p for p in self.posts.values() if p.published), key=lambda p: p.seq)

    def drafts(self) -> list[FakePost]:
        with self.lock:
            return sorted((p for p in self.posts.values() if not p.published),
                          key=lambda p: p.seq)

    def requests_to(self, route: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.route == route]

    # ── internals used by the app ─────────────────────────────────────────────────────
    def _next_id(self) -> int:
        self._seq += 1
        return 9_000_000_000 + self._seq

    def _take(self, table: dict[str, deque[Any]], route: str) -> Any:
        with self.lock:
            for key in (route, "*"):
                if table[key]:
                    return table[key].popleft()
        return None


def route_of(method: str, parts: list[str], fake: FakeGraph) -> str:
    """Name a request for steering and assertions.

    debug_token, me, page (GET /{page}), feed.create, photos.create, post.update
    (POST /{post}), post.read, posts.list (/posts, /feed, /published_posts), drafts.list
    (/promotable_posts), scrape (POST /).
    """
    if not parts:
        return "scrape" if method == "POST" else "root"
    head = parts[0]
    if head == "debug_token":
        return "debug_token"
    if head == "me":
        return "me"
    if len(parts) == 1:
        if head == fake.page_id:
            return "page"
        return "post.update" if method == "POST" else "post.read"
    edge = parts[1]
    if edge == "feed" and method == "POST":
        return "feed.create"
    if edge == "photos" and method == "POST":
        return "photos.create"
    return "drafts.list" if edge == "promotable_posts" else "posts.list"


def _flag(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes")


def _fields(value: str | None) -> list[str]:
    """Split `a,b{c,d},e` at top-level commas; sub-selections are accepted and ignored."""
    if not value:
        return []
    out, depth, current = [], 0, ""
    for char in value:
        if char == "," and depth == 0:
            out.append(current)
            current = ""
            continue
        depth += (char == "{") - (char == "}")
        current += char
    out.append(current)
    return [re.split(r"[{.]", f, maxsplit=1)[0].strip() for f in out if f.strip()]


def _time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _parse_since(value: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise GraphError(100, f"(#100) Invalid time for parameter since: {value}") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _Dropped(Response):
    """Starts a response and abandons it: the client sees the connection close mid-body."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"200")]})
        await send({"type": "http.response.body", "body": b'{"id', "more_body": True})


class _Graph:
    """The request handler; one instance per app, all state in `fake`."""

    def __init__(self, fake: FakeGraph) -> None:
        self.fake = fake

    async def handle(self, request: Request) -> Response:
        fake = self.fake
        params, upload = await self._params(request)
        path = request.url.path.strip("/")
        parts = [p for p in path.split("/") if p]
        version = parts.pop(0) if parts and parts[0].startswith("v") and "." in parts[0] else None
        token = self._token(request, params)
        route = route_of(request.method, parts, fake)
        with fake.lock:
            fake.requests.append(Recorded(request.method, "/" + path, version, dict(params),
                                          dict(request.headers), token, route))
        kind: Token | None = None
        try:
            if version is None or version not in fake.versions:
                raise GraphError(2635, f"(#2635) Unsupported or missing API version "
                                       f"{version or '(none)'}: call /vNN.N/… with one of "
                                       f"{sorted(fake.versions)}", type_="OAuthException")
            injected = fake._take(fake._failures, route)
            if injected is not None:
                raise injected
            kind = self._authenticate(token, params)
            if fake.throttled and route != "debug_token":
                code, minutes = fake.throttled
                raise GraphError(code, regain_minutes=minutes)
            body = await self._dispatch(request, route, parts, params, upload, kind)
        except GraphError as err:
            return self._respond(err.body(), err.status, kind, err)
        ambiguity = fake._take(fake._ambiguous, route)
        if ambiguity is not None:
            if ambiguity.mode == "drop":
                return _Dropped()
            await asyncio.sleep(ambiguity.stall_seconds)
        return self._respond(body, 200, kind, None)

    async def _params(self, request: Request) -> tuple[dict[str, str], bytes | None]:
        params = dict(request.query_params)
        upload: bytes | None = None
        if request.method == "POST":
            ctype = request.headers.get("content-type", "")
            if ctype.startswith("application/json"):
                data = json.loads(await request.body() or b"{}")
                for key, value in data.items():
                    params[key] = json.dumps(value) if isinstance(value, bool) else str(value)
            else:
                async with request.form() as form:
                    for key, value in form.multi_items():
                        if isinstance(value, str):
                            params[key] = value
                        elif key == "source":
                            upload = await value.read()
        return params, upload

    def _token(self, request: Request, params: dict[str, str]) -> str | None:
        if params.get("access_token"):
            return params["access_token"]
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() in ("bearer", "oauth") and value:
            return value.strip()
        return None

    def _authenticate(self, value: str | None, params: dict[str, str]) -> Token:
        fake = self.fake
        if not value:
            raise GraphError(104, "An access token is required to request this resource.")
        with fake.lock:
            token = fake.tokens.get(value)
        if token is None:
            raise GraphError(190, "Invalid OAuth access token - Cannot parse access token")
        if token.dead_subcode:
            raise GraphError(190, TOKEN_MESSAGES.get(token.dead_subcode),
                             subcode=token.dead_subcode)
        if token.expires_at and token.expires_at <= fake.clock().timestamp():
            raise GraphError(190, TOKEN_MESSAGES[463], subcode=463)
        if fake.app_secret:
            proof = params.get("appsecret_proof")
            if not proof:
                raise GraphError(100, "API calls from the server require an appsecret_proof "
                                      "argument", type_="GraphMethodException")
            wanted = hmac.new(fake.app_secret.encode(), value.encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(proof, wanted):
                raise GraphError(100, "Invalid appsecret_proof provided in the API argument",
                                 type_="GraphMethodException")
        return token

    def _respond(self, body: dict[str, Any], status: int, token: Token | None,
                 err: GraphError | None) -> Response:
        fake = self.fake
        headers = {"facebook-api-version": sorted(fake.versions)[-1]}
        usage = fake.usage
        if err is not None and err.code in THROTTLE_CODES:
            usage = Usage(100, 100, 100, err.regain_minutes or 0)
        if fake.app_usage is not None:
            app = usage if err is not None and err.code in (4, 17) else fake.app_usage
            headers["x-app-usage"] = json.dumps({"call_count": app.call_count,
                                                 "total_cputime": app.total_cputime,
                                                 "total_time": app.total_time})
        if usage is not None and (token is None or token.kind == "PAGE"):
            headers["x-business-use-case-usage"] = json.dumps({fake.page_id: [{
                "type": "pages", "call_count": usage.call_count,
                "total_cputime": usage.total_cputime, "total_time": usage.total_time,
                "estimated_time_to_regain_access": usage.regain_minutes}]})
        if err is not None and err.code == 190:
            headers["www-authenticate"] = f'OAuth "Facebook Platform" "invalid_token" ' \
                                          f'"{err.message}"'
        return JSONResponse(body, status_code=status, headers=headers)

    async def _dispatch(self, request: Request, route: str, parts: list[str],
                        params: dict[str, str], upload: bytes | None, token: Token) -> Any:
        handler = {
            "debug_token": self._debug_token, "me": self._me, "page": self._page,
            "feed.create": self._create_feed, "photos.create": self._create_photo,
            "post.update": self._update_post, "post.read": self._read_post,
            "posts.list": self._list, "drafts.list": self._list, "scrape": self._scrape,
        }.get(route)
        if handler is None:
            raise GraphError(100, "Unsupported request: method type: " + request.method.lower(),
                             type_="GraphMethodException")
        return handler(request, parts, params, upload, token)

    # ── handlers ──────────────────────────────────────────────────────────────────────
    def _need_page(self, token: Token, page_id: str, permission: str, code: int) -> None:
        if token.kind != "PAGE" or token.profile_id != page_id:
            if code == 200:
                raise GraphError(200, WRITE_DENIED)
            raise GraphError(10, f"(#10) This endpoint requires the '{permission}' permission "
                                 "or the 'Page Public Content Access' feature.")
        if code == 200 and not {READ_PERMISSION, WRITE_PERMISSION} <= set(token.scopes):
            raise GraphError(200, WRITE_DENIED)
        if permission not in token.scopes:
            raise GraphError(code, f"(#{code}) This endpoint requires the '{permission}' "
                                   "permission")

    def _debug_token(self, request: Request, parts: list[str], params: dict[str, str],
                     upload: bytes | None, token: Token) -> Any:
        fake = self.fake
        if token.kind != "APP":
            raise GraphError(100, "(#100) You must provide an app access token, or a user "
                                  "access token that is an owner or developer of the app")
        with fake.lock:
            inspected = fake.tokens.get(params.get("input_token", ""))
        if inspected is None:
            return {"data": {"is_valid": False, "scopes": [], "error": {
                "code": 190, "message": "Invalid OAuth access token."}}}
        expired = bool(inspected.expires_at and inspected.expires_at <= fake.clock().timestamp())
        data: dict[str, Any] = {
            "app_id": fake.app_id, "type": inspected.kind, "application": "pressbot",
            "data_access_expires_at": inspected.data_access_expires_at,
            "expires_at": inspected.expires_at,
            "is_valid": not expired and inspected.dead_subcode is None,
            "issued_at": int(fake.clock().timestamp()) - 3600,
            "scopes": list(inspected.scopes),
            "user_id": fake.user_id if inspected.kind != "APP" else None,
        }
        if inspected.kind == "PAGE":
            data["profile_id"] = inspected.profile_id
        subcode = inspected.dead_subcode or (463 if expired else None)
        if subcode:
            data["error"] = {"code": 190, "subcode": subcode, "message": TOKEN_MESSAGES[subcode]}
        return {"data": {k: v for k, v in data.items() if v is not None}}

    def _node(self, token: Token, node_id: str, fields: list[str], metadata: bool) -> Any:
        fake = self.fake
        if node_id == fake.page_id:
            values = {"id": fake.page_id, "name": fake.page_name, "category": "Media/news company",
                      "link": f"https://www.facebook.com/{fake.page_id}",
                      "picture": {"data": {"is_silhouette": False, "height": 50, "width": 50,
                                           "url": f"https://scontent.example/{fake.page_id}.jpg"}}}
            kind = "page"
        elif token.kind == "USER" and node_id == token.profile_id:
            values, kind = {"id": fake.user_id, "name": fake.user_name}, "user"
        else:
            raise GraphError(100, _missing(node_id), subcode=33, type_="GraphMethodException")
        wanted = fields or ["id", "name"]
        unknown = [f for f in wanted if f not in values]
        if unknown:
            raise GraphError(100, f"(#100) Tried accessing nonexisting field ({unknown[0]}) on "
                                  f"node type ({kind.capitalize()})")
        out = {f: values[f] for f in wanted}
        if metadata:
            out["metadata"] = {"type": kind}
        return out

    def _me(self, request: Request, parts: list[str], params: dict[str, str],
            upload: bytes | None, token: Token) -> Any:
        if token.kind == "APP":
            raise GraphError(2500, "An active access token must be used to query information "
                                   "about the current user.")
        return self._node(token, token.profile_id, _fields(params.get("fields")),
                          _flag(params.get("metadata"), False))

    def _page(self, request: Request, parts: list[str], params: dict[str, str],
              upload: bytes | None, token: Token) -> Any:
        if request.method == "POST":
            raise GraphError(100, "(#100) Unsupported post request on a Page")
        return self._node(token, parts[0], _fields(params.get("fields")),
                          _flag(params.get("metadata"), False))

    def _check_duplicate(self, page_id: str, message: str, exclude: str | None = None) -> None:
        if not message:
            return
        live = [p for p in self.fake.live_posts() if p.page_id == page_id and p.id != exclude]
        if live and live[-1].message == message:
            raise GraphError(506, DEFAULT_MESSAGES[506], type_="OAuthException",
                             user_title="Duplicate post",
                             user_msg="This status update is identical to the last one you "
                                      "posted. Try posting something different.")

    def _create_feed(self, request: Request, parts: list[str], params: dict[str, str],
                     upload: bytes | None, token: Token) -> Any:
        fake, page_id = self.fake, parts[0]
        if page_id != fake.page_id:
            raise GraphError(100, _missing(page_id), subcode=33, type_="GraphMethodException")
        self._need_page(token, page_id, WRITE_PERMISSION, 200)
        message, link = params.get("message", ""), params.get("link") or None
        if not message and not link:
            raise GraphError(100, "(#100) Missing message or attachment")
        published = _flag(params.get("published"), True)
        scheduled = params.get("scheduled_publish_time")
        if scheduled:
            if published:
                raise GraphError(100, "(#100) You cannot specify a scheduled publish time on a "
                                      "published post")
            when = _parse_since(scheduled)
            now = fake.clock()
            if not now + timedelta(minutes=10) <= when <= now + timedelta(days=30):
                raise GraphError(100, "(#100) The specified scheduled publish time is invalid.")
        if link and link in fake.broken_links:
            raise GraphError(1609005, "Error Posting Link", user_title="Error Posting Link",
                             user_msg="There was a problem scraping data from the provided link.")
        with fake.lock:
            self._check_duplicate(page_id, message)
            post = FakePost(f"{page_id}_{fake._next_id()}", page_id, fake._seq, message, link,
                            fake.clock(), published)
            fake.posts[post.id] = post
        return _with_fields({"id": post.id}, post, params)

    def _create_photo(self, request: Request, parts: list[str], params: dict[str, str],
                      upload: bytes | None, token: Token) -> Any:
        fake, page_id = self.fake, parts[0]
        if page_id != fake.page_id:
            raise GraphError(100, _missing(page_id), subcode=33, type_="GraphMethodException")
        self._need_page(token, page_id, WRITE_PERMISSION, 200)
        url = params.get("url")
        if upload is None and not url:
            raise GraphError(324, "(#324) Requires upload file")
        if upload is not None and not upload:
            raise GraphError(324, "(#324) Missing or invalid image file")
        if url and not self._reachable(url):
            raise GraphError(100, f"(#100) url should represent a valid URL: could not fetch "
                                  f"{url}", user_msg="The image could not be downloaded.")
        published = _flag(params.get("published"), True)
        caption = params.get("caption") or params.get("message") or ""
        with fake.lock:
            photo_id = str(fake._next_id())
            fake.photos[photo_id] = {"url": url, "bytes": len(upload or b""), "data": upload,
                                     "caption": caption, "published": published}
            if not published:
                return {"id": photo_id}
            post = FakePost(f"{page_id}_{fake._next_id()}", page_id, fake._seq, caption, None,
                            fake.clock(), True, photo_id=photo_id)
            fake.posts[post.id] = post
        return {"id": photo_id, "post_id": post.id}

    def _reachable(self, url: str) -> bool:
        fake = self.fake
        prefix = f"{fake.base_url}/_media/"
        if fake.base_url and url.startswith(prefix):
            return url[len(prefix):] in fake.images
        return url in fake.reachable_urls

    def _post(self, post_id: str, token: Token, permission: str, code: int) -> FakePost:
        with self.fake.lock:
            post = self.fake.posts.get(post_id)
        if post is None:
            raise GraphError(100, _missing(post_id), subcode=33, type_="GraphMethodException")
        self._need_page(token, post.page_id, permission, code)
        return post

    def _update_post(self, request: Request, parts: list[str], params: dict[str, str],
                     upload: bytes | None, token: Token) -> Any:
        post = self._post(parts[0], token, WRITE_PERMISSION, 200)
        if "is_published" not in params:
            raise GraphError(100, "(#100) The fake supports only is_published on a post update")
        if _flag(params["is_published"], False):
            with self.fake.lock:
                if not post.published:
                    self._check_duplicate(post.page_id, post.message, exclude=post.id)
                    post.published = True
        elif post.published:
            raise GraphError(100, "(#100) A published post cannot be unpublished")
        return {"success": True}

    def _read_post(self, request: Request, parts: list[str], params: dict[str, str],
                   upload: bytes | None, token: Token) -> Any:
        post = self._post(parts[0], token, READ_PERMISSION, 10)
        return _render(post, _fields(params.get("fields")) or ["id", "message", "created_time"])

    def _list(self, request: Request, parts: list[str], params: dict[str, str],
              upload: bytes | None, token: Token) -> Any:
        fake, page_id, edge = self.fake, parts[0], parts[1]
        if page_id != fake.page_id or len(parts) != 2:
            raise GraphError(100, _missing("/".join(parts)), subcode=33,
                             type_="GraphMethodException")
        if edge not in ("posts", "feed", "published_posts", "promotable_posts"):
            raise GraphError(100, f"(#100) Unknown path components: /{edge}")
        self._need_page(token, page_id, READ_PERMISSION, 10)
        with fake.lock:
            posts = [p for p in fake.posts.values() if p.page_id == page_id]
        if edge == "promotable_posts":
            if "is_published" in params:
                wanted = _flag(params["is_published"], True)
                posts = [p for p in posts if p.published == wanted]
        else:
            posts = [p for p in posts if p.published]
        if params.get("since"):
            since = _parse_since(params["since"])
            posts = [p for p in posts if p.created >= since]
        posts.sort(key=lambda p: p.seq, reverse=True)
        limit = max(1, min(int(params.get("limit") or 25), 100))
        offset = int(base64.urlsafe_b64decode(params["after"]).decode()) if params.get("after") \
            else 0
        page = posts[offset:offset + limit]
        fields = _fields(params.get("fields")) or ["id", "message", "created_time"]
        body: dict[str, Any] = {"data": [_render(p, fields) for p in page]}
        if page:
            cursor = base64.urlsafe_b64encode(str(offset + len(page)).encode()).decode()
            body["paging"] = {"cursors": {
                "before": base64.urlsafe_b64encode(str(offset).encode()).decode(),
                "after": cursor}}
            if offset + len(page) < len(posts):
                query = {k: v for k, v in params.items() if k != "after"} | {"after": cursor}
                body["paging"]["next"] = f"{fake.base_url}{request.url.path}?{urlencode(query)}"
        return body

    def _scrape(self, request: Request, parts: list[str], params: dict[str, str],
                upload: bytes | None, token: Token) -> Any:
        url = params.get("id", "")
        if not _flag(params.get("scrape"), False) or not url:
            raise GraphError(100, "(#100) The parameter id is required")
        with self.fake.lock:
            self.fake.scraped.append(url)
            found = dict(self.fake.og.get(url, {}))
        return {"url": url, "id": "77" + str(abs(hash(url)) % 10**10), "type": "website",
                **found}


def _missing(node: str) -> str:
    return (f"Unsupported get request. Object with ID '{node}' does not exist, cannot be loaded "
            "due to missing permissions, or does not support this operation.")


def _render(post: FakePost, fields: list[str]) -> dict[str, Any]:
    unknown = [f for f in fields if f not in POST_FIELDS]
    if unknown:
        raise GraphError(100, f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node "
                              "type (PagePost)")
    out: dict[str, Any] = {}
    for name in fields:
        if name == "id":
            out["id"] = post.id
        elif name == "message" and post.message:
            out["message"] = post.message
        elif name in ("created_time", "updated_time"):
            out[name] = _time(post.created)
        elif name == "permalink_url":
            out[name] = post.permalink
        elif name == "is_published":
            out[name] = post.published
        elif name == "status_type":
            out[name] = "added_photos" if post.photo_id else "shared_story"
        elif name == "from":
            out[name] = {"id": post.page_id}
        elif name in ("reactions", "comments"):  # as `x.summary(total_count).limit(0)`
            out[name] = {"data": [], "summary": {"total_count": getattr(post, name)}}
        elif name == "shares" and post.shares:     # Graph leaves it out while it is 0
            out[name] = {"count": post.shares}
        elif name == "attachments" and (post.link or post.photo_id):
            kind = "photo" if post.photo_id else "share"
            target = post.link or f"https://www.facebook.com/photo/?fbid={post.photo_id}"
            out[name] = {"data": [{"type": kind, "unshimmed_url": target,
                                   "url": "https://l.facebook.com/l.php?u=" + target}]}
    return out


def _with_fields(body: dict[str, Any], post: FakePost, params: dict[str, str]) -> dict[str, Any]:
    """Read-after-write: a create call may ask for fields of what it created."""
    fields = [f for f in _fields(params.get("fields")) if f != "id"]
    return body | (_render(post, fields) if fields else {})


async def _media(request: Request) -> Response:
    fake: FakeGraph = request.app.state.fake
    with fake.lock:
        data = fake.images.get(request.path_params["name"])
    if data is None:
        return Response(status_code=404)
    return Response(data, media_type="image/png")


async def _graph(request: Request) -> Response:
    return await _Graph(request.app.state.fake).handle(request)


def create_app(fake: FakeGraph) -> Starlette:
    """The ASGI app: `/_media/{name}` serves images, everything else is the Graph API.

    The state lives in `app.state.fake`; a test may swap in a fresh `FakeGraph` between
    tests to reuse one server.
    """
    app = Starlette(routes=[
        Route("/_media/{name}", _media, methods=["GET"]),
        Route("/{path:path}", _graph, methods=["GET", "POST", "DELETE"]),
    ])
    app.state.fake = fake
    return app


def fresh_graph(server: Any, **options: Any) -> FakeGraph:
    """Swap a new `FakeGraph` into a running server: one server per module, a clean Page per
    test."""
    fake = FakeGraph(**options)
    fake.base_url = server.url
    server.app.state.fake = fake
    return fake
