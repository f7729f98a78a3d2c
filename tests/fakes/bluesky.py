"""A fake PDS (AT Protocol personal data server): a real HTTP app enforcing the rules that bite.

The Bluesky channel has to be proven over real sockets against what a PDS actually does — not
against a mock that agrees with the client by construction. Each rule follows the lexicons
(`app.bsky.feed.post`, `app.bsky.richtext.facet`, `app.bsky.embed.images|external`,
`com.atproto.repo.*`, `com.atproto.server.*`) and the reference PDS's behaviour:

- sessions: `createSession` with an app password (401 `AuthenticationRequired` otherwise),
  access tokens that expire (**400** `ExpiredToken`), `refreshSession` rotating the refresh
  token (a used or revoked one: 400 `ExpiredToken` "Token has been revoked"); revoking an app
  password revokes its sessions;
- records: text at most 300 graphemes and 3000 UTF-8 bytes, facets whose byte ranges lie inside
  the text *and on UTF-8 character boundaries*, known facet features, blob references that
  exist for this account with the lexicon's size caps, `langs` at most 3, a `createdAt`
  datetime, a TID record key (the lexicon's `"key": "tid"`);
- replies (`reply`): root and parent are strong refs to records that exist, with their
  current cid, and the parent's thread has that root — what the AppView checks before it
  shows a reply in its thread (the PDS itself checks only their shape; the fake refuses,
  so a test sees a broken chain);
- self-labels (`labels`: `com.atproto.label.defs#selfLabels`, at most 10 values);
- `app.bsky.feed.threadgate` and `app.bsky.feed.postgate` records: the key must be the key
  of the post they gate, in the same repository (`post` its at-uri; a threadgate's post a
  thread root), their rules of the known types, at most 5 (kept in `gates`);
- rkey uniqueness: `putRecord` with `swapRecord: null` on a taken key is 400 `InvalidSwap`;
  `createRecord` on a taken key fails inside the repo tree with a 500, as the reference PDS
  does;
- rate limits with `RateLimit-Limit/Remaining/Reset/Policy` headers (reset in Unix seconds):
  write points per account (create 3, update 2) and `createSession` per identifier.

Tests build a `FakePDS`, add accounts, steer it (failures, answers lost after the work,
expiring sessions, revoked app passwords, limits), serve it with `running(state)` and inspect
what it stored (`records`, `blobs`) and received (`requests`). Every stored record keeps its
text's UTF-8 bytes (`text_bytes`), so tests can slice them with the facets' offsets.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import regex
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.mastodon import _Dropped
from tests.fakes.server import LiveServer

POST = "app.bsky.feed.post"
THREADGATE = "app.bsky.feed.threadgate"
POSTGATE = "app.bsky.feed.postgate"
GATE_RULES = {THREADGATE: ("mentionRule", "followingRule", "followerRule", "listRule"),
              POSTGATE: ("disableRule",)}
TID = regex.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
GRAPHEME = regex.compile(r"\X")
DATETIME = regex.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FEATURES = ("app.bsky.richtext.facet#link", "app.bsky.richtext.facet#tag",
            "app.bsky.richtext.facet#mention")
IMAGE_MAX = 1_000_000  # `maxSize` of app.bsky.embed.images#image and of the card's thumb
THUMB_MAX = 1_000_000
WRITE_POINTS = {"com.atproto.repo.createRecord": 3, "com.atproto.repo.putRecord": 2}


class XrpcError(Exception):
    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message


def invalid(message: str) -> XrpcError:
    return XrpcError(400, "InvalidRequest", message)


# ---------------------------------------------------------------- state

@dataclass
class Account:
    did: str
    handle: str
    app_passwords: set[str]
    status: str | None = None  # "takendown" | "deactivated"
    display_name: str = ""
    avatar: str = ""


@dataclass
class Token:
    did: str
    kind: Literal["access", "refresh"]
    app_password: str
    expires: float


@dataclass
class Blob:
    cid: str
    did: str
    mime: str
    data: bytes


@dataclass
class Stored:
    uri: str
    cid: str
    did: str
    rkey: str
    value: dict[str, Any]
    text_bytes: bytes
    body: bytes
    """The HTTP request body that wrote the record, as received."""
    like_count: int = 0
    repost_count: int = 0
    reply_count: int = 0
    quote_count: int = 0
    """What the AppView counts for the post (tests set them), served by getPosts."""


@dataclass
class Recorded:
    """One request as the fake received it (headers included: tests only)."""

    method: str
    nsid: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    received: float = 0.0
    """`time.monotonic()` when the request arrived, and when its answer left."""
    answered: float | None = None


@dataclass
class _Failure:
    status: int
    error: str
    message: str
    headers: dict[str, str]


@dataclass
class FakePDS:
    """The server's state and the knobs tests turn. Times come from `now()` (see `advance`)."""

    access_ttl: float = 7200.0
    refresh_ttl: float = 90 * 86400.0
    blob_limit: int = 5 * 1024 * 1024
    lexicon_blob_max: dict[int, int] = field(default_factory=dict)
    """A stricter `maxSize` than the lexicon's (lexicon cap → enforced cap), for tests of a
    PDS whose limit is below what pressbot knows."""
    write_points: int = 5000
    write_window: float = 3600.0
    session_limit: int = 30
    session_window: float = 300.0

    accounts: dict[str, Account] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)
    blobs: dict[str, Blob] = field(default_factory=dict)
    records: dict[tuple[str, str], Stored] = field(default_factory=dict)
    """Posts, by (did, rkey)."""
    gates: dict[tuple[str, str, str], Stored] = field(default_factory=dict)
    """Threadgate and postgate records, by (did, collection, rkey)."""
    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.RLock()
        self._skew = 0.0
        self._ids = itertools.count(1)
        self._failures: dict[str, deque[_Failure]] = {}
        self._drops: dict[str, int] = {}
        self._passes: dict[str, int] = {}
        """Calls of an nsid to let through before its failures and drops apply."""
        self._late: dict[str, deque[float]] = {}
        self._spent: dict[tuple[str, str, int], int] = {}

    # -- set-up and steering
    def add_account(self, handle: str, app_password: str) -> Account:
        with self.lock:
            digest = hashlib.sha256(handle.encode()).hexdigest()[:12]
            did = f"did:plc:fake{next(self._ids):04d}{digest}"
            account = Account(did=did, handle=handle, app_passwords={app_password})
            self.accounts[did] = account
            return account

    def revoke(self, app_password: str, *, access_survives: bool = False) -> None:
        """Revoke an app password and every session signed in with it. With
        `access_survives`, as the reference PDS does, the refresh tokens die but access
        tokens (stateless JWTs there) keep working until they expire."""
        with self.lock:
            for account in self.accounts.values():
                account.app_passwords.discard(app_password)
            for token, value in list(self.tokens.items()):
                if value.app_password == app_password and not (
                        access_survives and value.kind == "access"):
                    del self.tokens[token]

    def expire_access_tokens(self) -> None:
        """Every access token issued so far is now past its expiry."""
        with self.lock:
            for token in self.tokens.values():
                if token.kind == "access":
                    token.expires = self.now() - 1

    def fail(self, nsid: str, status: int = 500, *, times: int = 1, error: str = "",
             message: str = "", headers: dict[str, str] | None = None, after: int = 0) -> None:
        """Answer the next `times` calls of `nsid` with this error, before doing anything
        (after letting `after` calls through: a fault between two writes)."""
        with self.lock:
            self._passes[nsid] = after
            queue = self._failures.setdefault(nsid, deque())
            default = {500: "InternalServerError", 502: "UpstreamFailure",
                       503: "NotEnoughResources", 429: "RateLimitExceeded"}.get(status, "Error")
            for _ in range(times):
                queue.append(_Failure(status, error or default, message or default,
                                      dict(headers or {})))

    def drop_after_processing(self, nsid: str, *, times: int = 1, after: int = 0) -> None:
        """Do the work, then send half an answer and hang up (the client cannot know);
        `after` calls first go through whole."""
        with self.lock:
            self._passes[nsid] = after
            self._drops[nsid] = self._drops.get(nsid, 0) + times

    def answer_late(self, nsid: str, seconds: float, *, times: int = 1, after: int = 0) -> None:
        """Do the work of the next `times` calls of `nsid` (after `after` answered on time),
        then hold each answer `seconds` (a slow PDS); other requests go on meanwhile."""
        with self.lock:
            self._late.setdefault(nsid, deque()).extend([0.0] * after + [seconds] * times)

    def advance(self, seconds: float) -> None:
        with self.lock:
            self._skew += seconds

    def now(self) -> float:
        return time.time() + self._skew

    def posts_of(self, account: Account) -> list[Stored]:
        with self.lock:
            return [r for r in self.records.values() if r.did == account.did]

    def gates_of(self, account: Account, collection: str) -> list[Stored]:
        with self.lock:
            return [r for (did, kind, _), r in self.gates.items()
                    if did == account.did and kind == collection]

    def find(self, uri: str) -> Stored | None:
        """The record at an at-uri, of any collection."""
        did, _, rest = uri.removeprefix("at://").partition("/")
        collection, _, rkey = rest.partition("/")
        with self.lock:
            if collection == POST:
                return self.records.get((did, rkey))
            return self.gates.get((did, collection, rkey))

    def requests_to(self, nsid: str) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if r.nsid == nsid]

    # -- internals
    def _issue(self, did: str, app_password: str) -> dict[str, str]:
        access, refresh = (f"fake-{kind}-{secrets.token_urlsafe(24)}"
                           for kind in ("access", "refresh"))
        self.tokens[access] = Token(did, "access", app_password, self.now() + self.access_ttl)
        self.tokens[refresh] = Token(did, "refresh", app_password, self.now() + self.refresh_ttl)
        return {"accessJwt": access, "refreshJwt": refresh}

    def _bearer(self, request: Request, kind: Literal["access", "refresh"]) -> Token:
        header = request.headers.get("authorization", "")
        if not header:
            raise XrpcError(401, "AuthMissing", "Authentication Required")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise XrpcError(400, "InvalidToken", "Malformed authorization header")
        with self.lock:
            token = self.tokens.get(value)
        if token is None:
            if kind == "refresh":
                raise XrpcError(400, "ExpiredToken", "Token has been revoked")
            raise XrpcError(400, "InvalidToken", "Token could not be verified")
        if token.kind != kind:
            raise XrpcError(400, "InvalidToken", "Bad token scope")
        if token.expires < self.now():
            raise XrpcError(400, "ExpiredToken", "Token has expired")
        account = self.accounts[token.did]
        if account.status == "takendown":
            raise XrpcError(401, "AccountTakedown", "Account has been taken down")
        return token

    def _window(self, window: float) -> tuple[int, int]:
        index = int(self.now() // window)
        return index, int((index + 1) * window)

    def _spend(self, key: str, family: str, points: int, limit: int, window: float,
               request: Request) -> None:
        with self.lock:
            index, reset = self._window(window)
            used = self._spent.get((key, family, index), 0)
            if used + points > limit:
                request.state.rate = (limit, max(0, limit - used), reset, window)
                raise XrpcError(429, "RateLimitExceeded", "Rate Limit Exceeded")
            self._spent[(key, family, index)] = used + points
            request.state.rate = (limit, limit - used - points, reset, window)


def cid_for(data: bytes, codec: str = "bafkrei") -> str:
    """A CID-shaped content hash (the client never parses it)."""
    digest = base64.b32encode(hashlib.sha256(data).digest()).decode().lower().rstrip("=")
    return codec + digest


# ---------------------------------------------------------------- validation

def validate_post(state: FakePDS, did: str, record: Any) -> None:
    """The lexicon rules of app.bsky.feed.post that a PDS enforces (and the byte ranges)."""
    prefix = f"Invalid {POST} record:"
    if not isinstance(record, dict) or record.get("$type") != POST:
        raise invalid(f"{prefix} Record/$type must be {POST}")
    text = record.get("text")
    if not isinstance(text, str):
        raise invalid(f"{prefix} Record must have the property \"text\"")
    encoded = text.encode("utf-8")
    if len(GRAPHEME.findall(text)) > 300:
        raise invalid(f"{prefix} Record/text must not be longer than 300 graphemes")
    if len(encoded) > 3000:
        raise invalid(f"{prefix} Record/text must not be longer than 3000 characters")
    created = record.get("createdAt")
    if not isinstance(created, str) or not DATETIME.match(created):
        raise invalid(f"{prefix} Record/createdAt must be an valid atproto datetime")
    datetime.fromisoformat(created.replace("Z", "+00:00"))
    langs = record.get("langs", [])
    if not isinstance(langs, list) or len(langs) > 3 or \
            not all(isinstance(x, str) and x for x in langs):
        raise invalid(f"{prefix} Record/langs must be at most 3 language tags")
    for i, facet in enumerate(record.get("facets") or []):
        _validate_facet(facet, encoded, f"{prefix} Record/facets/{i}")
    embed = record.get("embed")
    if embed is not None:
        _validate_embed(state, did, embed, f"{prefix} Record/embed")
    if "reply" in record:
        _validate_reply(state, record["reply"], f"{prefix} Record/reply")
    if "labels" in record:
        _validate_labels(record["labels"], f"{prefix} Record/labels")


def _strong_ref(state: FakePDS, ref: Any, where: str) -> Stored:
    """A `com.atproto.repo.strongRef` to a post that exists, at its current cid."""
    if not isinstance(ref, dict) or not isinstance(ref.get("uri"), str) or \
            not isinstance(ref.get("cid"), str):
        raise invalid(f"{where} must be a strongRef with uri and cid")
    if not ref["uri"].startswith("at://") or f"/{POST}/" not in ref["uri"]:
        raise invalid(f"{where}/uri must be the at-uri of a post")
    found = state.find(ref["uri"])
    if found is None:
        raise invalid(f"{where}: no post at {ref['uri']}")
    if found.cid != ref["cid"]:
        raise invalid(f"{where}: the post at {ref['uri']} is at cid {found.cid}, "
                      f"not {ref['cid']}")
    return found


def _validate_reply(state: FakePDS, reply: Any, where: str) -> None:
    if not isinstance(reply, dict):
        raise invalid(f"{where} must be an object with root and parent")
    root = _strong_ref(state, reply.get("root"), f"{where}/root")
    parent = _strong_ref(state, reply.get("parent"), f"{where}/parent")
    if "reply" in root.value:
        raise invalid(f"{where}/root: {root.uri} is itself a reply, not a thread's root")
    parents_root = (parent.value.get("reply") or {}).get("root", {}).get("uri", parent.uri)
    if parents_root != root.uri:
        raise invalid(f"{where}/root: the parent's thread starts at {parents_root}, "
                      f"not {root.uri}")


def _validate_labels(labels: Any, where: str) -> None:
    if not isinstance(labels, dict) or labels.get("$type") != \
            "com.atproto.label.defs#selfLabels":
        raise invalid(f"{where} must be com.atproto.label.defs#selfLabels")
    values = labels.get("values")
    if not isinstance(values, list) or len(values) > 10:
        raise invalid(f"{where}/values must be an array of at most 10 labels")
    for i, value in enumerate(values):
        val = value.get("val") if isinstance(value, dict) else None
        if not isinstance(val, str) or not val or len(val) > 128:
            raise invalid(f"{where}/values/{i}/val must be a string of 1-128 characters")


def validate_gate(state: FakePDS, did: str, rkey: str, collection: str, record: Any) -> None:
    """A threadgate or postgate: at the key of the post it gates, in the same repository."""
    prefix = f"Invalid {collection} record:"
    if not isinstance(record, dict) or record.get("$type") != collection:
        raise invalid(f"{prefix} Record/$type must be {collection}")
    created = record.get("createdAt")
    if not isinstance(created, str) or not DATETIME.match(created):
        raise invalid(f"{prefix} Record/createdAt must be an valid atproto datetime")
    uri = record.get("post")
    if uri != f"at://{did}/{POST}/{rkey}":
        raise invalid(f"{prefix} Record/post must be the post with the same record key in "
                      f"this repository (at://{did}/{POST}/{rkey}), not {uri!r}")
    target = state.find(uri)
    if target is None:
        raise invalid(f"{prefix} no post at {uri}")
    field_name = "allow" if collection == THREADGATE else "embeddingRules"
    if collection == THREADGATE and "reply" in target.value:
        raise invalid(f"{prefix} {uri} is a reply: a threadgate gates a thread's root")
    rules = record.get(field_name, [])
    if not isinstance(rules, list) or len(rules) > 5:
        raise invalid(f"{prefix} Record/{field_name} must be an array of at most 5 rules")
    for i, rule in enumerate(rules):
        kind = rule.get("$type") if isinstance(rule, dict) else None
        if kind not in {f"{collection}#{name}" for name in GATE_RULES[collection]}:
            raise invalid(f"{prefix} Record/{field_name}/{i}: unknown rule {kind!r}")


def _validate_facet(facet: Any, encoded: bytes, where: str) -> None:
    index = facet.get("index") if isinstance(facet, dict) else None
    start = index.get("byteStart") if isinstance(index, dict) else None
    end = index.get("byteEnd") if isinstance(index, dict) else None
    if not isinstance(start, int) or not isinstance(end, int) or start < 0 or end < 0:
        raise invalid(f"{where}/index must have integer byteStart and byteEnd")
    if not start < end <= len(encoded):
        raise invalid(f"{where}/index: byte range {start}-{end} is outside the text "
                      f"({len(encoded)} bytes)")
    for at in (start, end):
        try:
            encoded[:at].decode("utf-8")
        except UnicodeDecodeError:
            raise invalid(f"{where}/index: byte {at} is inside a UTF-8 character") from None
    features = facet.get("features")
    if not isinstance(features, list) or not features:
        raise invalid(f"{where}/features must be a non-empty array")
    for feature in features:
        kind = feature.get("$type") if isinstance(feature, dict) else None
        if kind not in FEATURES:
            raise invalid(f"{where}/features: unknown feature {kind!r}")
        assert isinstance(feature, dict)
        if kind.endswith("#link") and not regex.match(r"^[a-z][a-z0-9+.-]*:\S+$",
                                                      str(feature.get("uri", ""))):
            raise invalid(f"{where}/features/uri must be a uri")
        if kind.endswith("#tag"):
            tag = feature.get("tag")
            if not isinstance(tag, str) or not tag or len(GRAPHEME.findall(tag)) > 64 \
                    or len(tag.encode()) > 640:
                raise invalid(f"{where}/features/tag must be 1-64 graphemes")
        if kind.endswith("#mention") and not str(feature.get("did", "")).startswith("did:"):
            raise invalid(f"{where}/features/did must be a did")


def _validate_blob(state: FakePDS, did: str, ref: Any, cap: int, where: str) -> None:
    if not isinstance(ref, dict) or ref.get("$type") != "blob":
        raise invalid(f"{where} should be a blob ref")
    link = (ref.get("ref") or {}).get("$link") if isinstance(ref.get("ref"), dict) else None
    with state.lock:
        blob = state.blobs.get(str(link))
    if blob is None or blob.did != did:
        raise XrpcError(400, "InvalidRequest", f"Could not find blob: {link}")
    if not str(ref.get("mimeType", "")).startswith("image/") or \
            not blob.mime.startswith("image/"):
        raise invalid(f"{where} has an unacceptable MIME type: {ref.get('mimeType')}")
    if ref.get("size") != len(blob.data):
        raise invalid(f"{where} size does not match the blob")
    if len(blob.data) > state.lexicon_blob_max.get(cap, cap):
        # as @atproto/pds answers a record whose blob is over the lexicon's maxSize
        raise XrpcError(400, "BlobTooLarge", f"This file is too large. It is "
                        f"{_size(len(blob.data))} but the maximum size is "
                        f"{_size(state.lexicon_blob_max.get(cap, cap))}.")


def _size(n: int) -> str:
    """Bytes as the `bytes` npm package formats them in the PDS's message (1024 base)."""
    for unit, scale in (("MB", 1024 ** 2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.2f}".rstrip("0").rstrip(".") + unit
    return f"{n}B"


def _validate_embed(state: FakePDS, did: str, embed: Any, where: str) -> None:
    kind = embed.get("$type") if isinstance(embed, dict) else None
    assert isinstance(embed, dict) or kind is None
    if kind == "app.bsky.embed.images":
        images = embed.get("images")
        if not isinstance(images, list) or not 1 <= len(images) <= 4:
            raise invalid(f"{where}/images must have 1 to 4 items")
        for i, item in enumerate(images):
            if not isinstance(item, dict) or not isinstance(item.get("alt"), str):
                raise invalid(f"{where}/images/{i} must have the property \"alt\"")
            _validate_blob(state, did, item.get("image"), IMAGE_MAX, f"{where}/images/{i}/image")
            ratio = item.get("aspectRatio")
            if ratio is not None and not (
                    isinstance(ratio, dict) and all(isinstance(ratio.get(k), int)
                                                    and ratio[k] >= 1
                                                    for k in ("width", "height"))):
                raise invalid(f"{where}/images/{i}/aspectRatio needs width and height >= 1")
    elif kind == "app.bsky.embed.external":
        card = embed.get("external")
        if not isinstance(card, dict) or not all(isinstance(card.get(k), str)
                                                 for k in ("uri", "title", "description")):
            raise invalid(f"{where}/external must have uri, title and description")
        if "thumb" in card:
            _validate_blob(state, did, card["thumb"], THUMB_MAX, f"{where}/external/thumb")
    else:
        raise invalid(f"{where}: unsupported embed type {kind!r}")


# ---------------------------------------------------------------- handlers

async def create_session(state: FakePDS, request: Request, body: Any) -> Response:
    if not isinstance(body, dict) or not isinstance(body.get("identifier"), str) or \
            not isinstance(body.get("password"), str):
        raise invalid("Input must have the properties identifier and password")
    identifier = body["identifier"].lower().removeprefix("@")
    state._spend(identifier, "createSession", 1, state.session_limit, state.session_window,
                 request)
    with state.lock:
        account = next((a for a in state.accounts.values()
                        if identifier in (a.did, a.handle.lower())), None)
        if account is None or body["password"] not in account.app_passwords:
            raise XrpcError(401, "AuthenticationRequired", "Invalid identifier or password")
        if account.status == "takendown":
            raise XrpcError(401, "AccountTakedown", "Account has been taken down")
        tokens = state._issue(account.did, body["password"])
    return JSONResponse({**tokens, **_session_json(account)})


async def refresh_session(state: FakePDS, request: Request, body: Any) -> Response:
    token = state._bearer(request, "refresh")
    with state.lock:
        old = next(k for k, v in state.tokens.items() if v is token)
        del state.tokens[old]  # rotated: a refresh token works once
        tokens = state._issue(token.did, token.app_password)
        account = state.accounts[token.did]
    return JSONResponse({**tokens, **_session_json(account)})


async def get_session(state: FakePDS, request: Request, body: Any) -> Response:
    token = state._bearer(request, "access")
    return JSONResponse(_session_json(state.accounts[token.did]))


def _session_json(account: Account) -> dict[str, Any]:
    body: dict[str, Any] = {"did": account.did, "handle": account.handle,
                            "active": account.status is None}
    if account.status:
        body["status"] = account.status
    return body


async def resolve_handle(state: FakePDS, request: Request, body: Any) -> Response:
    handle = request.query_params.get("handle", "").lower()
    with state.lock:
        account = next((a for a in state.accounts.values() if a.handle.lower() == handle), None)
    if account is None:
        raise invalid("Unable to resolve handle")
    return JSONResponse({"did": account.did})


async def upload_blob(state: FakePDS, request: Request, body: Any) -> Response:
    token = state._bearer(request, "access")
    data: bytes = request.state.raw
    if len(data) > state.blob_limit:
        raise XrpcError(413, "PayloadTooLarge", "request entity too large")
    mime = request.headers.get("content-type", "application/octet-stream").split(";")[0]
    cid = cid_for(data)
    with state.lock:
        state.blobs[cid] = Blob(cid, token.did, mime, data)
    return JSONResponse({"blob": {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime,
                                  "size": len(data)}})


def _write_target(state: FakePDS, request: Request, body: Any, nsid: str
                  ) -> tuple[Token, str, str]:
    token = state._bearer(request, "access")
    if not isinstance(body, dict):
        raise invalid("Input must be an object")
    repo = str(body.get("repo", ""))
    account = state.accounts[token.did]
    if repo not in (account.did, account.handle):
        raise XrpcError(401, "AuthenticationRequired", "Authentication Required")
    collection = body.get("collection")
    if collection not in (POST, THREADGATE, POSTGATE):
        raise invalid(f"Unknown or unsupported collection: {collection}")
    rkey = body.get("rkey")
    if nsid == "com.atproto.repo.createRecord" and rkey is None:
        rkey = _next_tid(state)
    if not isinstance(rkey, str) or not TID.match(rkey):
        raise invalid(f"Invalid record key for {collection}: must be a valid TID")
    state._spend(token.did, "repo-write", WRITE_POINTS[nsid], state.write_points,
                 state.write_window, request)
    if collection == POST:
        validate_post(state, token.did, body.get("record"))
    else:
        validate_gate(state, account.did, rkey, collection, body.get("record"))
    return token, account.did, rkey


def _next_tid(state: FakePDS) -> str:
    value = int(state.now() * 1_000_000) << 10 | 7
    alphabet = "234567abcdefghijklmnopqrstuvwxyz"
    return "".join(alphabet[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def _store(state: FakePDS, did: str, collection: str, rkey: str, record: dict[str, Any],
           raw: bytes) -> Stored:
    encoded = json.dumps(record, sort_keys=True, separators=(",", ":")).encode()
    stored = Stored(uri=f"at://{did}/{collection}/{rkey}", cid=cid_for(encoded, "bafyrei"),
                    did=did, rkey=rkey, value=record,
                    text_bytes=str(record.get("text", "")).encode("utf-8"), body=raw)
    if collection == POST:
        state.records[(did, rkey)] = stored
    else:
        state.gates[(did, collection, rkey)] = stored
    return stored


async def create_record(state: FakePDS, request: Request, body: Any) -> Response:
    _, did, rkey = _write_target(state, request, body, "com.atproto.repo.createRecord")
    with state.lock:
        if state.find(f"at://{did}/{body['collection']}/{rkey}") is not None:
            # The reference PDS: the repo tree throws "There is already a value at key".
            raise XrpcError(500, "InternalServerError", "Internal Server Error")
        stored = _store(state, did, body["collection"], rkey, body["record"], request.state.raw)
    return JSONResponse({"uri": stored.uri, "cid": stored.cid, "validationStatus": "valid"})


async def put_record(state: FakePDS, request: Request, body: Any) -> Response:
    _, did, rkey = _write_target(state, request, body, "com.atproto.repo.putRecord")
    with state.lock:
        current = state.find(f"at://{did}/{body['collection']}/{rkey}")
        if "swapRecord" in body:
            swap = body["swapRecord"]
            if (swap is None and current is not None) or (
                    swap is not None and (current is None or current.cid != swap)):
                raise XrpcError(400, "InvalidSwap",
                                f"Record was at {current.cid if current else 'null'}")
        stored = _store(state, did, body["collection"], rkey, body["record"], request.state.raw)
    return JSONResponse({"uri": stored.uri, "cid": stored.cid, "validationStatus": "valid"})


async def get_record(state: FakePDS, request: Request, body: Any) -> Response:
    query = request.query_params
    with state.lock:
        account = next((a for a in state.accounts.values()
                        if query.get("repo") in (a.did, a.handle)), None)
        if account is None:
            raise invalid(f"Could not find repo: {query.get('repo')}")
        uri = f"at://{account.did}/{query.get('collection')}/{query.get('rkey')}"
        stored = state.find(uri)
        if stored is None:
            raise XrpcError(400, "RecordNotFound", f"Could not locate record: {uri}")
        return JSONResponse({"uri": stored.uri, "cid": stored.cid, "value": stored.value})


async def list_records(state: FakePDS, request: Request, body: Any) -> Response:
    query = request.query_params
    try:
        limit = min(max(int(query.get("limit", "50")), 1), 100)
    except ValueError:
        raise invalid("limit must be an integer") from None
    reverse = query.get("reverse") in ("true", "1")
    cursor = query.get("cursor")
    with state.lock:
        account = next((a for a in state.accounts.values()
                        if query.get("repo") in (a.did, a.handle)), None)
        if account is None:
            raise invalid(f"Could not find repo: {query.get('repo')}")
        collection = query.get("collection", POST)
        every = state.records.values() if collection == POST else [
            r for (_, kind, _), r in state.gates.items() if kind == collection]
        items = sorted((r for r in every if r.did == account.did),
                       key=lambda r: r.rkey, reverse=not reverse)
        if cursor:
            items = [r for r in items if (r.rkey > cursor if reverse else r.rkey < cursor)]
        page = items[:limit]
        out: dict[str, Any] = {"records": [{"uri": r.uri, "cid": r.cid, "value": r.value}
                                           for r in page]}
        if len(page) == limit:
            out["cursor"] = page[-1].rkey
    return JSONResponse(out)


async def get_profile(state: FakePDS, request: Request, body: Any) -> Response:
    """app.bsky.actor.getProfile, which a PDS proxies to the AppView."""
    state._bearer(request, "access")
    actor = request.query_params.get("actor", "")
    with state.lock:
        account = next((a for a in state.accounts.values() if actor in (a.did, a.handle)),
                       None)
    if account is None:
        raise invalid("Profile not found")
    out: dict[str, Any] = {"did": account.did, "handle": account.handle}
    out |= {"displayName": account.display_name} if account.display_name else {}
    out |= {"avatar": account.avatar} if account.avatar else {}
    return JSONResponse(out)


async def get_posts(state: FakePDS, request: Request, body: Any) -> Response:
    """app.bsky.feed.getPosts: up to 25 `uris`; posts it does not know are left out."""
    state._bearer(request, "access")
    uris = request.query_params.getlist("uris")
    if not uris or len(uris) > 25:
        raise invalid("uris must have 1 to 25 items")
    with state.lock:
        found = [r for r in state.records.values() if r.uri in uris]
        posts = [{"uri": r.uri, "cid": r.cid, "record": r.value, "likeCount": r.like_count,
                  "repostCount": r.repost_count, "replyCount": r.reply_count,
                  "quoteCount": r.quote_count} for r in found]
    return JSONResponse({"posts": posts})


HANDLERS: dict[str, tuple[str, Any]] = {
    "com.atproto.server.createSession": ("POST", create_session),
    "com.atproto.server.refreshSession": ("POST", refresh_session),
    "com.atproto.server.getSession": ("GET", get_session),
    "com.atproto.identity.resolveHandle": ("GET", resolve_handle),
    "com.atproto.repo.uploadBlob": ("POST", upload_blob),
    "com.atproto.repo.createRecord": ("POST", create_record),
    "com.atproto.repo.putRecord": ("POST", put_record),
    "com.atproto.repo.getRecord": ("GET", get_record),
    "com.atproto.repo.listRecords": ("GET", list_records),
    "app.bsky.actor.getProfile": ("GET", get_profile),
    "app.bsky.feed.getPosts": ("GET", get_posts),
}


# ---------------------------------------------------------------- plumbing

def _error(status: int, error: str, message: str,
           headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": error, "message": message}, status, headers=headers)


def _rate_headers(request: Request, response: Response) -> None:
    rate = getattr(request.state, "rate", None)
    if rate is None:
        return
    limit, remaining, reset, window = rate
    response.headers["RateLimit-Limit"] = str(limit)
    response.headers["RateLimit-Remaining"] = str(max(remaining, 0))
    response.headers["RateLimit-Reset"] = str(reset)
    response.headers["RateLimit-Policy"] = f"{limit};w={int(window)}"


async def xrpc(request: Request) -> Response:
    state: FakePDS = request.app.state.pds
    nsid = request.path_params["nsid"]
    request.state.rate = None
    raw = await request.body()
    request.state.raw = raw
    recorded = Recorded(request.method, nsid, dict(request.query_params),
                        {k.lower(): v for k, v in request.headers.items()}, raw,
                        received=time.monotonic())
    with state.lock:
        state.requests.append(recorded)
    response = await _answer(state, request, nsid, raw)
    with state.lock:
        late = state._late.get(nsid)
        delay = late.popleft() if late else 0.0
    if delay:
        await asyncio.sleep(delay)
    recorded.answered = time.monotonic()
    return response


async def _answer(state: FakePDS, request: Request, nsid: str, raw: bytes) -> Response:
    found = HANDLERS.get(nsid)
    if found is None:
        return _error(501, "MethodNotImplemented", "Method Not Implemented")
    method, handler = found
    if request.method != method:
        return _error(400, "InvalidRequest", f"Incorrect HTTP method ({request.method})")
    with state.lock:
        passing = state._passes.get(nsid, 0)
        if passing:
            state._passes[nsid] = passing - 1
    failure = None if passing else state._failures.get(nsid)
    if failure:
        with state.lock:
            taken = failure.popleft() if failure else None
        if taken is not None:
            return _error(taken.status, taken.error, taken.message, taken.headers)
    body: Any = None
    if method == "POST" and nsid != "com.atproto.repo.uploadBlob" and raw:
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(400, "InvalidRequest", "Request body is not valid JSON")
    try:
        response: Response = await handler(state, request, body)
    except XrpcError as exc:
        response = _error(exc.status, exc.error, exc.message)
    _rate_headers(request, response)
    if response.status_code < 300 and not passing:
        with state.lock:
            drops = state._drops.get(nsid, 0)
            if drops:
                state._drops[nsid] = drops - 1
        if drops:
            return _Dropped(response.body)
    return response


def make_app(state: FakePDS) -> Starlette:
    """The Starlette app serving `state` (one app per state; serve it with `running`)."""
    app = Starlette(routes=[Route("/xrpc/{nsid}", xrpc, methods=["GET", "POST"])])
    app.state.pds = state
    return app


@contextmanager
def running(state: FakePDS) -> Iterator[LiveServer]:
    """Serve `state` on 127.0.0.1."""
    server = LiveServer(make_app(state)).start()
    try:
        yield server
    finally:
        server.stop()
