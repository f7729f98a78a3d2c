"""A fake LinkedIn (Posts, Images and OAuth APIs) for one organisation's Page, over real HTTP.

It enforces what docs/linkedin.md records of the real service, so `channels/linkedin/` is
proven against behaviour, not against mocks:

- every `/rest` call needs `LinkedIn-Version`: missing → 400 `VERSION_MISSING`, one not in
  `versions` (sunset, or never released) → 426 `NONEXISTENT_VERSION`;
- the commentary is little text: an unescaped reserved character that starts no element
  cuts the commentary there, and the post is published with the rest (201, no error);
  `#word` hashtags are stored as `{hashtag|\\#|word}` templates, as LinkedIn reads them back;
- images: `initializeUpload` (owner = the organisation) → `PUT` the bytes to the upload
  URL with the bearer token → `PROCESSING` → `AVAILABLE`; a post naming an image that is
  not `AVAILABLE` is refused;
- 401 (`EXPIRED_ACCESS_TOKEN`, `REVOKED_ACCESS_TOKEN`, `INVALID_ACCESS_TOKEN`), 403
  (`ACCESS_DENIED`: a scope or the Page role missing), 422 (duplicate, too long, bad
  content) and 429 (`TOO_MANY_REQUESTS`) with LinkedIn's JSON bodies; `fail_next` injects
  any of them;
- a create call finishes even when the client has gone: the post is stored before the
  answer starts, and `slow_after_processing` then stalls the answer or drops the
  connection mid-body;
- OAuth: refresh tokens (`/oauth/v2/accessToken`) and token introspection
  (`/oauth/v2/introspectToken`), with a clock tests move.

Choices where LinkedIn's documentation is silent, all UNCONFIRMED against the real service:
- a `/rest` call without `X-Restli-Protocol-Version: 2.0.0` is refused with 400, and so is
  a `q=author` query whose URN is not URL-encoded (Rest.li 2.0 wants it encoded);
- the 3,000-character limit is checked on the commentary as received, in UTF-16 units
  (422 `TOO_LONG`);
- a post whose stored commentary and content equal another post of the Page is refused
  422 `DUPLICATE_POST` (`detect_duplicates=False` turns that off, so a test proves that
  pressbot's own lookup prevents a second copy);
- `GET /rest/images/{urn}` answers `PROCESSING` `processing_polls` times after the upload.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import unquote

import regex
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tests.fakes.server import LiveServer

ORGANIZATION_ID = "2414183"
WRITE = "w_organization_social"
READ = "r_organization_social"
SCOPES = (WRITE, READ)
ACCESS_TTL = timedelta(days=60)
REFRESH_TTL = timedelta(days=365)
COMMENTARY_MAX = 3000
MULTI_IMAGE = (2, 20)
RESERVED = frozenset("\\|{}@[]()<>#*_~")
_TEMPLATE = regex.compile(r"\{hashtag\|\\#\|[^{}|\\]+\}")
_HASHTAG = regex.compile(r"#([\p{L}\p{N}]+)")
_MENTION = regex.compile(r"@\[[^\[\]\\]+\]\(urn:li:(?:person|organization):[\w-]+\)")

_BODIES: dict[int, dict[str, Any]] = {
    401: {"status": 401, "serviceErrorCode": 65600, "code": "INVALID_ACCESS_TOKEN",
          "message": "Invalid access token"},
    403: {"status": 403, "serviceErrorCode": 100, "code": "ACCESS_DENIED",
          "message": "Not enough permissions to access: partnerApiPostsExternal.CREATE.20260801"},
    422: {"errorDetailType": "com.linkedin.common.error.BadRequest",
          "message": "com.linkedin.content.common.exception.BadRequestResponseException: "
                     "Invalid content", "errorDetails": {"inputErrors": [
                         {"description": "Invalid content", "input": {}, "code": "INVALID"}]},
          "status": 422},
    429: {"status": 429, "serviceErrorCode": 101, "code": "TOO_MANY_REQUESTS",
          "message": "Resource level throttle APPLICATION DAY limit for calls to this resource "
                     "is reached."},
    500: {"status": 500, "message": "Internal Server Error"},
    503: {"status": 503, "message": "Service Unavailable"},
}


@dataclass
class Token:
    value: str
    scopes: tuple[str, ...]
    expires_at: datetime
    organizations: frozenset[str]
    revoked: bool = False
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class RefreshToken:
    value: str
    client_id: str
    expires_at: datetime
    scopes: tuple[str, ...]
    organizations: frozenset[str]
    revoked: bool = False


@dataclass
class FakeImage:
    urn: str
    owner: str
    status: str = "WAITING_UPLOAD"
    data: bytes = b""
    content_type: str = ""
    polls_left: int = 0


@dataclass
class FakePost:
    urn: str
    seq: int
    author: str
    received: str
    """The commentary as the client sent it."""
    commentary: str
    """The commentary as LinkedIn keeps (and shows) it: cut at an unescaped character."""
    cut: bool
    """Whether an unescaped reserved character cut the commentary short."""
    content: dict[str, Any] | None
    created: datetime
    body: dict[str, Any]


@dataclass
class Recorded:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    route: str
    body: Any = None


@dataclass
class _Stall:
    mode: Literal["stall", "drop"]
    seconds: float


class FakeLinkedIn:
    """The state of the fake: one Page, its tokens, images and posts, and steering knobs."""

    def __init__(self, *, organization_id: str = ORGANIZATION_ID,
                 versions: tuple[str, ...] = tuple(f"2026{m:02d}" for m in range(1, 13)),
                 detect_duplicates: bool = True, processing_polls: int = 1) -> None:
        self.lock = threading.RLock()
        self.released = threading.Event()
        self.organization_id = organization_id
        self.versions = set(versions)
        self.detect_duplicates = detect_duplicates
        self.processing_polls = processing_polls
        self.offset = timedelta(0)
        """How far the fake's clock is from the real one; tests move it with `advance`."""
        self.tokens: dict[str, Token] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.clients: dict[str, str] = {}
        self.posts: dict[str, FakePost] = {}
        self.images: dict[str, FakeImage] = {}
        self.uploads: dict[str, str] = {}
        self.requests: list[Recorded] = []
        self._failures: dict[str, deque[tuple[int, dict[str, Any]]]] = defaultdict(deque)
        self._stalls: dict[str, deque[_Stall]] = defaultdict(deque)
        self._seq = 0

    @property
    def author(self) -> str:
        return f"urn:li:organization:{self.organization_id}"

    @property
    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    # ── steering ──────────────────────────────────────────────────────────────────────
    def add_token(self, *, value: str | None = None, scopes: tuple[str, ...] = SCOPES,
                  ttl: timedelta = ACCESS_TTL, organizations: tuple[str, ...] | None = None
                  ) -> str:
        """A member's access token; by default an administrator of this Page."""
        token = Token(value or "AQV" + secrets.token_urlsafe(30), tuple(scopes), self.now + ttl,
                      frozenset(organizations if organizations is not None
                                else (self.organization_id,)), created_at=self.now)
        with self.lock:
            self.tokens[token.value] = token
        return token.value

    def add_client(self, client_id: str, secret: str) -> None:
        with self.lock:
            self.clients[client_id] = secret

    def add_refresh_token(self, client_id: str, *, ttl: timedelta = REFRESH_TTL) -> str:
        value = "AQX" + secrets.token_urlsafe(30)
        with self.lock:
            self.refresh_tokens[value] = RefreshToken(value, client_id, self.now + ttl, SCOPES,
                                                      frozenset((self.organization_id,)))
        return value

    def expire(self, token: str) -> None:
        with self.lock:
            self.tokens[token].expires_at = self.now - timedelta(seconds=1)

    def revoke(self, token: str) -> None:
        with self.lock:
            self.tokens[token].revoked = True

    def advance(self, delta: timedelta) -> None:
        with self.lock:
            self.offset += delta

    def fail_next(self, route: str, status: int, *, n: int = 1,
                  body: dict[str, Any] | None = None) -> None:
        """The next `n` calls of `route` ("posts.create", "posts.list", "images.init",
        "images.read", "upload", "token", "introspect", or "*") answer `status`."""
        with self.lock:
            for _ in range(n):
                self._failures[route].append((status, body or _BODIES.get(status, {
                    "status": status, "message": f"HTTP {status}"})))

    def slow_after_processing(self, route: str = "posts.create", *,
                              mode: Literal["stall", "drop"] = "stall", seconds: float = 5.0,
                              times: int = 1) -> None:
        """Do the work, then stall the answer (`stall`) or start it and hang up (`drop`)."""
        with self.lock:
            for _ in range(times):
                self._stalls[route].append(_Stall(mode, seconds))

    def pending_failures(self, route: str) -> int:
        with self.lock:
            return len(self._failures[route])

    def posts_of(self) -> list[FakePost]:
        with self.lock:
            return sorted(self.posts.values(), key=lambda p: p.seq)

    def requests_to(self, route: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.route == route]

    def _take(self, table: dict[str, deque[Any]], route: str) -> Any:
        with self.lock:
            for key in (route, "*"):
                if table[key]:
                    return table[key].popleft()
        return None


# ── little text, as LinkedIn reads it ──────────────────────────────────────────────────────

def read_little(text: str) -> tuple[str, bool]:
    """The commentary LinkedIn keeps: elements and escapes as they are, `#word` as a
    template, and nothing after the first reserved character that starts no element; and
    whether it was cut there."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            if i + 1 < len(text) and text[i + 1] in RESERVED:
                out.append(text[i:i + 2])
                i += 2
                continue
            return "".join(out), True
        if char == "{" and (m := _TEMPLATE.match(text, i)):
            out.append(m.group(0))
            i = m.end()
            continue
        if char == "@" and (m := _MENTION.match(text, i)):
            out.append(m.group(0))
            i = m.end()
            continue
        if char == "#" and (m := _HASHTAG.match(text, i)):
            out.append(f"{{hashtag|\\#|{m.group(1)}}}")
            i = m.end()
            continue
        if char in RESERVED:
            return "".join(out), True
        out.append(char)
        i += 1
    return "".join(out), False


# ── the app ───────────────────────────────────────────────────────────────────────────────

class LinkedInError(Exception):
    def __init__(self, status: int, body: dict[str, Any] | None = None, *,
                 code: str | None = None, message: str | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = dict(body or _BODIES.get(status, {"status": status}))
        if code is not None:
            self.body["code"] = code
        if message is not None:
            self.body["message"] = message


def _unprocessable(code: str, message: str) -> LinkedInError:
    return LinkedInError(422, {
        "errorDetailType": "com.linkedin.common.error.BadRequest",
        "message": f"com.linkedin.content.common.exception.BadRequestResponseException: "
                   f"{message}",
        "errorDetails": {"inputErrors": [{"description": message, "input": {}, "code": code}]},
        "status": 422})


class _Dropped(Response):
    """Starts the answer and abandons it: the client sees the connection close mid-body."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 201,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", b"200")]})
        await send({"type": "http.response.body", "body": b'{"id', "more_body": True})


def route_of(method: str, path: str) -> str:
    if path.startswith("/oauth/v2/accessToken"):
        return "token"
    if path.startswith("/oauth/v2/introspectToken"):
        return "introspect"
    if path.startswith("/upload/"):
        return "upload"
    if path == "/rest/posts":
        return "posts.create" if method == "POST" else "posts.list"
    if path.startswith("/rest/posts/"):
        return "posts.read"
    if path == "/rest/images":
        return "images.init"
    if path.startswith("/rest/images/"):
        return "images.read"
    return "unknown"


class _App:
    def __init__(self, fake: FakeLinkedIn) -> None:
        self.fake = fake

    async def handle(self, request: Request) -> Response:
        fake = self.fake
        path = request.url.path
        route = route_of(request.method, path)
        raw = await request.body()
        body: Any = None
        if raw and request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = json.loads(raw)
            except ValueError:
                return JSONResponse({"status": 400, "message": "Malformed JSON"}, 400)
        with fake.lock:
            fake.requests.append(Recorded(request.method, path, request.url.query,
                                          dict(request.headers), route, body))
        try:
            if path.startswith("/rest/"):
                self._versions(request)
            injected = fake._take(fake._failures, route)
            if injected is not None:
                raise LinkedInError(*injected)
            answer = await self._dispatch(request, route, raw, body)
        except LinkedInError as err:
            headers = {"x-restli-protocol-version": "2.0.0"}
            return JSONResponse(err.body, err.status, headers=headers)
        stall: _Stall | None = fake._take(fake._stalls, route)
        if stall is not None and stall.mode == "drop":
            return _Dropped()
        if stall is not None:
            await asyncio.to_thread(fake.released.wait, stall.seconds)
        return answer

    def _versions(self, request: Request) -> None:
        version = request.headers.get("linkedin-version")
        if not version:
            raise LinkedInError(400, {"status": 400, "code": "VERSION_MISSING",
                                      "message": "A version must be present. Please specify a "
                                                 "version by adding the LinkedIn-Version "
                                                 "header."})
        if version not in self.fake.versions:
            raise LinkedInError(426, {"status": 426, "code": "NONEXISTENT_VERSION",
                                      "message": f"Requested version {version} is not active"})
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            raise LinkedInError(400, {"status": 400, "code": "ILLEGAL_ARGUMENT",
                                      "message": "X-Restli-Protocol-Version 2.0.0 is required"})

    def _token(self, request: Request) -> Token:
        fake = self.fake
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise LinkedInError(401, {"status": 401, "serviceErrorCode": 65604,
                                      "code": "EMPTY_ACCESS_TOKEN",
                                      "message": "Empty oauth2_access_token"})
        with fake.lock:
            token = fake.tokens.get(value.strip())
            now = fake.now
        if token is None:
            raise LinkedInError(401)
        if token.revoked:
            raise LinkedInError(401, {"status": 401, "serviceErrorCode": 65602,
                                      "code": "REVOKED_ACCESS_TOKEN",
                                      "message": "The token used in the request has been "
                                                 "revoked by the user"})
        if token.expires_at <= now:
            raise LinkedInError(401, {"status": 401, "serviceErrorCode": 65601,
                                      "code": "EXPIRED_ACCESS_TOKEN",
                                      "message": "The token used in the request has expired"})
        return token

    def _may(self, token: Token, scope: str, organization: str, what: str) -> None:
        org_id = organization.rsplit(":", 1)[-1]
        if scope not in token.scopes or not organization.startswith("urn:li:organization:") \
                or org_id not in token.organizations:
            raise LinkedInError(403, message=f"Not enough permissions to access: {what}")

    async def _dispatch(self, request: Request, route: str, raw: bytes, body: Any) -> Response:
        if route == "token":
            return self._refresh(dict(await request.form()))
        if route == "introspect":
            return self._introspect(dict(await request.form()))
        token = self._token(request)
        if route == "posts.create" and request.method == "POST":
            return self._create(token, body)
        if route == "posts.list" and request.method == "GET":
            return self._list(token, request)
        if route == "images.init" and request.method == "POST":
            return self._init_upload(token, request, body)
        if route == "images.read" and request.method == "GET":
            return self._image(token, unquote(request.url.path.rsplit("/", 1)[1]))
        if route == "upload" and request.method == "PUT":
            return self._upload(request.url.path.rsplit("/", 1)[1], raw,
                                request.headers.get("content-type", ""))
        raise LinkedInError(404, {"status": 404, "message": f"No route {request.method} "
                                                            f"{request.url.path}"})

    # ── posts ─────────────────────────────────────────────────────────────────────────
    def _create(self, token: Token, body: Any) -> Response:
        fake = self.fake
        if not isinstance(body, dict):
            raise _unprocessable("MISSING_FIELD", "A JSON body is required")
        for name in ("author", "commentary", "visibility", "distribution", "lifecycleState"):
            if name not in body:
                raise _unprocessable("MISSING_FIELD", f"/{name} is required")
        author = str(body["author"])
        self._may(token, WRITE, author, "partnerApiPostsExternal.CREATE")
        received = str(body["commentary"])
        if len(received.encode("utf-16-le")) // 2 > COMMENTARY_MAX:
            raise _unprocessable("TOO_LONG", f"/commentary is longer than {COMMENTARY_MAX} "
                                             "characters")
        content = body.get("content")
        if content is not None:
            self._check_content(author, content)
        kept, cut = read_little(received)
        with fake.lock:
            if fake.detect_duplicates:
                for other in fake.posts.values():
                    if other.author == author and other.commentary == kept and \
                            other.content == content:
                        raise _unprocessable("DUPLICATE_POST",
                                             f"Content is a duplicate of {other.urn}")
            fake._seq += 1
            urn = f"urn:li:share:{7_400_000_000_000_000_000 + fake._seq}"
            fake.posts[urn] = FakePost(urn, fake._seq, author, received, kept, cut,
                                       content, fake.now, body)
        return Response(status_code=201, headers={"x-restli-id": urn,
                                                  "x-linkedin-id": urn.rsplit(":", 1)[1]})

    def _check_content(self, author: str, content: Any) -> None:
        if not isinstance(content, dict) or len(content) != 1:
            raise _unprocessable("INVALID_CONTENT", "/content takes exactly one kind")
        kind, value = next(iter(content.items()))
        if not isinstance(value, dict):
            raise _unprocessable("INVALID_CONTENT", f"/content/{kind} must be an object")
        if kind == "article":
            source = value.get("source")
            if not isinstance(source, str) or not source.startswith(("http://", "https://")):
                raise _unprocessable("FIELD_VALUE_REQUIRED", "/content/article/source must be "
                                                             "a URL")
            if not value.get("title"):
                raise _unprocessable("FIELD_VALUE_REQUIRED", "/content/article/title is "
                                                             "required")
            unknown = set(value) - {"source", "title", "description", "thumbnail",
                                    "thumbnailAltText"}
            if unknown:
                raise _unprocessable("UNKNOWN_FIELD", f"/content/article/{sorted(unknown)[0]}")
            if value.get("thumbnail"):
                self._usable(author, str(value["thumbnail"]))
        elif kind == "media":
            self._usable(author, str(value.get("id")))
        elif kind == "multiImage":
            images = value.get("images")
            low, high = MULTI_IMAGE
            if not isinstance(images, list) or not low <= len(images) <= high:
                raise _unprocessable("INVALID_CONTENT", f"/content/multiImage/images takes "
                                                        f"{low} to {high} images")
            for image in images:
                self._usable(author, str(image.get("id")) if isinstance(image, dict) else "")
        else:
            raise _unprocessable("INVALID_CONTENT", f"/content/{kind} is not supported")

    def _usable(self, author: str, urn: str) -> None:
        with self.fake.lock:
            image = self.fake.images.get(urn)
        if image is None or image.owner != author:
            raise _unprocessable("INVALID_IMAGE", f"{urn} does not exist or is not owned by "
                                                  f"{author}")
        if image.status != "AVAILABLE":
            raise _unprocessable("INVALID_IMAGE", f"{urn} is {image.status}, not AVAILABLE")

    def _list(self, token: Token, request: Request) -> Response:
        fake = self.fake
        params = request.query_params
        if params.get("q") != "author":
            raise LinkedInError(400, {"status": 400, "message": "Unsupported finder"})
        author = params.get("author", "")
        if "urn%3Ali%3A" not in request.url.query:
            raise LinkedInError(400, {"status": 400, "code": "ILLEGAL_ARGUMENT",
                                      "message": "Rest.li 2.0: the URN in the query must be "
                                                 "URL-encoded"})
        self._may(token, READ, author, "partnerApiPostsExternal.FINDER-author")
        count = max(1, min(int(params.get("count") or 10), 100))
        start = max(0, int(params.get("start") or 0))
        with fake.lock:
            mine = sorted((p for p in fake.posts.values() if p.author == author),
                          key=lambda p: (p.created, p.seq), reverse=True)
            page = mine[start:start + count]
            elements = [_element(p) for p in page]
        return JSONResponse({"elements": elements, "paging": {
            "start": start, "count": count, "links": [], "total": len(mine)}})

    # ── images ────────────────────────────────────────────────────────────────────────
    def _init_upload(self, token: Token, request: Request, body: Any) -> Response:
        fake = self.fake
        if request.query_params.get("action") != "initializeUpload":
            raise LinkedInError(400, {"status": 400, "message": "Unsupported action"})
        owner = ((body or {}).get("initializeUploadRequest") or {}).get("owner")
        if not isinstance(owner, str):
            raise _unprocessable("FIELD_VALUE_REQUIRED", "/initializeUploadRequest/owner is "
                                                         "required")
        self._may(token, WRITE, owner, "images.ACTION-initializeUpload")
        upload = secrets.token_urlsafe(12)
        urn = "urn:li:image:D4E" + secrets.token_hex(8).upper()
        with fake.lock:
            fake.images[urn] = FakeImage(urn, owner)
            fake.uploads[upload] = urn
        expires = int((fake.now + timedelta(days=1)).timestamp() * 1000)
        return JSONResponse({"value": {
            "uploadUrlExpiresAt": expires, "image": urn,
            "uploadUrl": f"{str(request.base_url).rstrip('/')}/upload/{upload}"}})

    def _upload(self, upload: str, data: bytes, content_type: str) -> Response:
        fake = self.fake
        with fake.lock:
            urn = fake.uploads.pop(upload, None)
            image = fake.images.get(urn or "")
            if image is None:
                raise LinkedInError(404, {"status": 404, "message": "Unknown upload"})
            image.data, image.content_type = data, content_type
            image.status = "PROCESSING" if fake.processing_polls else "AVAILABLE"
            image.polls_left = fake.processing_polls
        return Response(status_code=201)

    def _image(self, token: Token, urn: str) -> Response:
        with self.fake.lock:
            image = self.fake.images.get(urn)
            if image is None:
                raise LinkedInError(404, {"status": 404, "message": f"{urn} not found"})
            self._may(token, WRITE, image.owner, "images.GET")
            if image.status == "PROCESSING":
                image.polls_left -= 1
                if image.polls_left < 0:
                    image.status = "AVAILABLE"
            return JSONResponse({"id": urn, "owner": image.owner, "status": image.status})

    # ── OAuth ─────────────────────────────────────────────────────────────────────────
    def _client_ok(self, form: dict[str, Any]) -> bool:
        with self.fake.lock:
            return bool(form.get("client_id")) and \
                self.fake.clients.get(str(form["client_id"])) == form.get("client_secret")

    def _refresh(self, form: dict[str, Any]) -> Response:
        fake = self.fake
        if not self._client_ok(form):
            return JSONResponse({"error": "invalid_client",
                                 "error_description": "Client authentication failed"}, 401)
        with fake.lock:
            refresh = fake.refresh_tokens.get(str(form.get("refresh_token")))
            if form.get("grant_type") != "refresh_token" or refresh is None or \
                    refresh.revoked or refresh.expires_at <= fake.now or \
                    refresh.client_id != form.get("client_id"):
                return JSONResponse({"error": "invalid_request",
                                     "error_description": "The provided authorization grant "
                                                          "or refresh token is invalid, "
                                                          "expired or revoked"}, 400)
            value = fake.add_token(scopes=refresh.scopes,
                                   organizations=tuple(refresh.organizations))
            left = int((refresh.expires_at - fake.now).total_seconds())
        return JSONResponse({"access_token": value,
                             "expires_in": int(ACCESS_TTL.total_seconds()),
                             "refresh_token": refresh.value, "refresh_token_expires_in": left,
                             "scope": ",".join(refresh.scopes)})

    def _introspect(self, form: dict[str, Any]) -> Response:
        fake = self.fake
        if not self._client_ok(form):
            return JSONResponse({"error": "invalid_client",
                                 "error_description": "Client authentication failed"}, 401)
        with fake.lock:
            token = fake.tokens.get(str(form.get("token")))
            if token is None:
                return JSONResponse({"active": False})
            status = "revoked" if token.revoked else \
                "expired" if token.expires_at <= fake.now else "active"
            return JSONResponse({
                "active": status == "active", "client_id": next(iter(fake.clients), ""),
                "authorized_at": int(token.created_at.timestamp()),
                "created_at": int(token.created_at.timestamp()), "status": status,
                "expires_at": int(token.expires_at.timestamp()),
                "scope": ",".join(token.scopes), "auth_type": "3L"})


def _element(post: FakePost) -> dict[str, Any]:
    millis = int(post.created.timestamp() * 1000)
    element: dict[str, Any] = {
        "id": post.urn, "author": post.author, "commentary": post.commentary,
        "visibility": post.body.get("visibility"), "lifecycleState": "PUBLISHED",
        "distribution": post.body.get("distribution"), "createdAt": millis,
        "publishedAt": millis, "lastModifiedAt": millis, "isReshareDisabledByAuthor": False}
    if post.content is not None:
        element["content"] = post.content
    return element


def make_app(fake: FakeLinkedIn) -> Starlette:
    app = _App(fake)
    return Starlette(routes=[Route("/{path:path}", app.handle,
                                   methods=["GET", "POST", "PUT", "DELETE"])])


@contextmanager
def running(fake: FakeLinkedIn) -> Iterator[LiveServer]:
    """Serve `fake` on 127.0.0.1; on exit, release stalled answers so the server can stop."""
    server = LiveServer(make_app(fake)).start()
    try:
        yield server
    finally:
        fake.released.set()
        server.stop()

