"""Publishing to a Facebook Page through the Graph API.

Graph has no idempotency key, so a retry after a lost answer could post twice. Two
defences, in order:

1. `publish` first looks for this post among the Page's recent live posts (the same match
   `lookup` uses), so calling it twice for one post returns the first publication.
2. Link posts are published in two phases: create an unpublished draft
   (`published=false`), then flip it live (`POST /{post-id}` with `is_published=true`).
   A lost answer to the first phase leaves at most an invisible draft, so it is reported as
   `Transient`, not `Ambiguous`; a retry reuses that draft when it can find it. The flip is
   idempotent, so a lost answer to it is retried once at once; only a second loss is
   `Ambiguous`, and `lookup` then settles it.

Finding a draft is best-effort: drafts are matched by exact message (and link, when the
listing shows attachments) among `GET /{page}/promotable_posts?is_published=false`, created
since the post was queued. That edge and filter are UNCONFIRMED for current Graph
versions; when Graph refuses them the adapter creates a new draft, and the orphan stays
invisible (Meta does not show unpublished Page posts to readers). Matching by content rather
than by a marker keeps the text readers see untouched; the cost is that two pressbot posts
with identical text and link inside that window are treated as one.

Photo posts (`post_as = "photo"`) are single-phase: `POST /{page}/photos` answers with the
feed post's id, and a lost answer is `Ambiguous` (reconciled by `lookup`).

Errors are classified by `error.code` and `error_subcode`, not by HTTP status
(platform-apis.md §2.7). Usage headers are read on every answer: at 90 % of any limit the
channel stops writing until the platform's estimate of regained access (or a default pause)
has passed, so it slows down before Meta throttles it. That memo is the one piece of process
memory the channel keeps; it is rebuilt from the next answer after a restart.

Secrets: the Page token, app token, app secret and their `appsecret_proof`s are registered
with `bot.redact` at construction, and URLs in messages lose their query strings.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import mimetypes
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, quote_plus

import anyio
import httpx

from bot import redact
from bot.config import FacebookConfig
from bot.models import Post, Receipt
from channels.base import (
    Ambiguous,
    ChannelError,
    Check,
    Limits,
    Permanent,
    Transient,
    body_message,
    map_transport_error,
    parse_retry_after,
    user_agent,
)

log = logging.getLogger(__name__)

PLATFORM = "Facebook"
REQUIRED_SCOPES = ("pages_manage_posts", "pages_read_engagement")
THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001})
THROTTLE_BACKOFF = 600.0
"""Seconds to wait after a throttle answer that carries no estimate: calls made while
throttled count against the limit and lengthen the block (Meta's rate-limiting docs)."""
SLOWDOWN_AT = 90
SLOWDOWN_PAUSE = 300.0
LOOKUP_MARGIN = timedelta(minutes=10)
LOOKUP_PAGES = 4
SKIPPABLE_DRAFT_ERRORS = frozenset({3, 10, 12, 100, 200})

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


def proof(secret: str, token: str) -> str:
    """`appsecret_proof`: hex HMAC-SHA256 of the access token keyed with the app secret."""
    return hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()


def usage_of(response: httpx.Response) -> tuple[int, float | None]:
    """Highest usage percentage in the usage headers, and seconds until access regained."""
    highest, regain = 0, 0.0
    for header in ("x-app-usage", "x-page-usage", "x-business-use-case-usage"):
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        entries: list[Any] = [data] if header != "x-business-use-case-usage" else [
            e for v in (data.values() if isinstance(data, dict) else []) if isinstance(v, list)
            for e in v]
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            for key in ("call_count", "total_cputime", "total_time"):
                value = entry.get(key)
                if isinstance(value, int | float):
                    highest = max(highest, int(value))
            minutes = entry.get("estimated_time_to_regain_access")
            if isinstance(minutes, int | float):
                regain = max(regain, float(minutes) * 60)
    return highest, (regain or None)


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
            return _graph_error(Transient(text, retry_after=parse_retry_after(response)), None)
        if status in (401, 403):
            return _graph_error(Permanent(text, f"check the Page token: {REAUTH}"), None)
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
        return Permanent(label, TOKEN_HINTS.get(sub or 0, f"re-authorise: {REAUTH}"))
    if code in THROTTLE_CODES:
        wait = usage_of(response)[1] or parse_retry_after(response) or THROTTLE_BACKOFF
        return Transient(f"{label} — rate limited; waiting {wait:.0f} s", retry_after=wait)
    if code == 10 or (code is not None and 200 <= code <= 299):
        named = sorted(set(_PERMISSION.findall(message))) or list(REQUIRED_SCOPES)
        return Permanent(label, f"the token lacks the permission(s) {', '.join(named)}: make a "
                                f"new Page token with them granted and set FACEBOOK_PAGE_TOKEN")
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
        return Transient(label, retry_after=parse_retry_after(response) or usage_of(response)[1])
    return Permanent(label, user_msg or "Facebook refused the request; see the message")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _normal(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").strip().split("\n"))


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class FacebookChannel:
    """One Facebook Page. `publish` is safe to call twice: it finds an earlier publication."""

    limits = Limits(max_chars=63206, url_weight=None, graphemes=False, soft_chars=500,
                    max_images=1)
    """63,206 is the widely cited post maximum; past ~500 characters the text hides behind
    "See more" on desktop (≈125 on mobile), so longer posts get a readability warning."""

    def __init__(self, name: str, config: FacebookConfig, client: httpx.AsyncClient) -> None:
        self.name = name
        self.config = config
        self.client = client
        self._token = config.page_access_token.get_secret_value()
        self._secret = config.app_secret.get_secret_value() if config.app_secret else None
        self._app_token = config.app_token.get_secret_value() if config.app_token else None
        self._base = f"{str(config.graph_url).rstrip('/')}/{config.api_version}"
        self._timeout = config.timeout.total_seconds()
        self._slow_until = 0.0
        self._slow_reason = ""
        secrets = [self._token, self._secret, self._app_token]
        if self._secret:
            secrets += [proof(self._secret, t) for t in (self._token, self._app_token) if t]
        # httpx percent-encodes query values ("|" in app tokens), so mask those forms too.
        redact.register(*secrets, *(quote(s, safe="") for s in secrets if s),
                        *(quote_plus(s) for s in secrets if s))
        _guard_http_logs()

    # ── HTTP ──────────────────────────────────────────────────────────────────────────
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

    def _note_usage(self, response: httpx.Response) -> None:
        highest, regain = usage_of(response)
        if highest >= SLOWDOWN_AT:
            wait = regain or SLOWDOWN_PAUSE
            self._slow_until = max(self._slow_until, time.monotonic() + wait)
            self._slow_reason = f"Facebook reports {highest} % of a rate limit used"
            log.info("%s: pausing writes for %.0f s", self._slow_reason, wait)

    def _before_write(self) -> None:
        remaining = self._slow_until - time.monotonic()
        if remaining > 0:
            raise Transient(f"{self._slow_reason}: pausing writes to stay under 100 %",
                            retry_after=remaining)

    # ── check ─────────────────────────────────────────────────────────────────────────
    async def check(self) -> Check:
        try:
            if self._app_token:
                return await self._check_debug_token()
            return await self._check_me()
        except ChannelError as exc:
            return Check(ok=False, summary=f"Facebook Page {self.config.page_id}: {exc}")

    async def _check_debug_token(self) -> Check:
        page_id = self.config.page_id
        try:
            answer = await self._call("GET", "debug_token", {"input_token": self._token},
                                      token=self._app_token)
        except Permanent as exc:
            return Check(False, f"Facebook refused app_token for debug_token: {exc.reason} — "
                                "set app_token to the app's token ('APP_ID|APP_SECRET') or "
                                "remove it to check with the Page token alone")
        data = answer.get("data") or {}
        details = {k: data.get(k) for k in ("type", "profile_id", "scopes", "expires_at",
                                            "data_access_expires_at", "app_id")}
        if not data.get("is_valid"):
            err = data.get("error") or {}
            hint = TOKEN_HINTS.get(_int(err.get("subcode")) or 0, REAUTH)
            return Check(False, f"the Facebook Page token is not valid: "
                                f"{scrub(str(err.get('message') or 'no reason given'))} — {hint}",
                         details)
        problems: list[str] = []
        kind = data.get("type")
        if kind != "PAGE":
            problems.append(NEED_PAGE if kind == "USER" else
                            f"this is a {kind} token; a Page token is needed: get one from "
                            f"/me/accounts with a long-lived user token")
        elif str(data.get("profile_id")) != page_id:
            problems.append(f"the token is for Page {data.get('profile_id')}, not page_id "
                            f"{page_id}: use that Page's token from /me/accounts, or fix page_id")
        missing = [s for s in REQUIRED_SCOPES if s not in (data.get("scopes") or [])]
        if missing:
            problems.append(f"the token lacks the permission(s) {', '.join(missing)}: make a new "
                            f"Page token with them granted")
        warnings = self._expiry_warnings(data, problems)
        if problems:
            return Check(False, "Facebook: " + "; ".join(problems), details, warnings)
        page = await self._call("GET", page_id, {"fields": "id,name"})
        return Check(True, f"Facebook Page '{page.get('name')}' ({page_id}): the Page token is "
                           f"valid and may publish", details, warnings)

    def _expiry_warnings(self, data: dict[str, Any], problems: list[str]) -> list[str]:
        warnings: list[str] = []
        now = datetime.now(UTC)
        soon = now + timedelta(days=self.config.expiry_warning_days)
        for key, what in (("expires_at", "the Page token expires"),
                          ("data_access_expires_at", "the token's data access expires")):
            stamp = _int(data.get(key)) or 0
            if not stamp:
                continue  # 0 means never
            when = datetime.fromtimestamp(stamp, UTC)
            if when <= now:
                problems.append(f"{what.replace('expires', 'expired')} on {when:%Y-%m-%d}: "
                                f"{REAUTH}")
            elif when <= soon:
                warnings.append(f"{what} on {when:%Y-%m-%d %H:%M} UTC: {REAUTH}")
        return warnings

    async def _check_me(self) -> Check:
        page_id = self.config.page_id
        me = await self._call("GET", "me", {"fields": "id,name", "metadata": "1"})
        if str(me.get("id")) != page_id:
            kind = (me.get("metadata") or {}).get("type")
            who = f"'{me.get('name')}' ({me.get('id')})"
            if kind == "user":
                summary = f"the token belongs to the person {who}: {NEED_PAGE}"
            elif kind == "page":
                summary = (f"the token is for another Page {who}, not page_id {page_id}: use "
                           f"this Page's token from /me/accounts, or fix page_id")
            else:
                summary = (f"the token belongs to {who}, not Page {page_id}: if that is a "
                           f"person, {NEED_PAGE}")
            return Check(False, f"Facebook: {summary}", {"me": me.get("id")})
        page = await self._call("GET", page_id, {"fields": "id,name"})
        return Check(True, f"Facebook Page '{page.get('name')}' ({page_id}) reachable with its "
                           f"Page token", {"me": page_id},
                     ["set app_token to also check the token's permissions and expiry"])

    # ── publish ───────────────────────────────────────────────────────────────────────
    async def publish(self, post: Post) -> Receipt:
        found = await self.lookup(post)
        if found is not None:
            log.info("post %s is already on Facebook as %s", post.id, found.remote_id)
            return found
        self._before_write()
        if self.config.post_as == "photo" and post.images:
            return await self._publish_photo(post)
        return await self._publish_link(post)

    async def _publish_link(self, post: Post) -> Receipt:
        page_id = self.config.page_id
        draft = await self._find_draft(post)
        if draft is not None:
            post_id, permalink = draft
            log.info("post %s: reusing unpublished draft %s", post.id, post_id)
        else:
            if self.config.warm_up and post.link:
                await self._warm_up(post.link)
            params = {"message": post.text, "published": "false", "fields": "id,permalink_url"}
            if post.link:
                params["link"] = post.link
            try:
                created = await self._call("POST", f"{page_id}/feed", params, write=True)
            except _NoAnswer as exc:
                raise Transient(f"{exc}: at most an unpublished draft exists; the retry reuses "
                                "it when it can be found") from None
            post_id, permalink = str(created["id"]), created.get("permalink_url")
        await self._go_live(post_id)
        return Receipt(remote_id=post_id, remote_url=permalink or await self._permalink(post_id))

    async def _go_live(self, post_id: str) -> None:
        for attempt in (1, 2):
            try:
                await self._call("POST", post_id, {"is_published": "true"}, write=True)
                return
            except _NoAnswer as exc:
                if attempt == 2:
                    raise Ambiguous(f"{exc}: draft {post_id} may or may not be live; look it "
                                    "up before any retry") from None
                log.info("no answer to making %s live; asking again (it is idempotent)", post_id)

    async def _publish_photo(self, post: Post) -> Receipt:
        image = post.images[0]
        caption = self._caption(post)
        params = {"caption": caption, "published": "true"}
        if image.alt:
            params["alt_text_custom"] = image.alt
        files = None
        if image.url.startswith(("http://", "https://")):
            params["url"] = image.url
        else:
            path = anyio.Path(image.url.removeprefix("file://"))
            if not await path.is_file():
                raise Permanent(f"the image {image.url!r} is neither an http(s) URL nor a "
                                f"readable file", "fix the release's image or switch post_as "
                                                  "to \"link\"")
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            files = {"source": (path.name, await path.read_bytes(), mime)}
        created = await self._call("POST", f"{self.config.page_id}/photos", params, write=True,
                                   files=files)
        post_id = str(created.get("post_id") or created["id"])
        return Receipt(remote_id=post_id, remote_url=await self._permalink(post_id))

    async def _warm_up(self, link: str) -> None:
        """Ask Facebook to scrape the link first, so the preview card is fresh; optional."""
        try:
            scraped = await self._call("POST", "", {"id": link, "scrape": "true"})
        except ChannelError as exc:
            log.info("Facebook could not pre-scrape the link (posting anyway): %s", exc)
            return
        missing = [tag for tag, key in (("og:title", "title"), ("og:image", "image"))
                   if not scraped.get(key)]
        if missing:
            log.warning("the page %s lacks %s: Facebook's link card will be bare; add the "
                        "tags to the website's page", link, " and ".join(missing))

    async def _permalink(self, post_id: str) -> str:
        try:
            data = await self._call("GET", post_id, {"fields": "permalink_url"})
            if data.get("permalink_url"):
                return str(data["permalink_url"])
        except ChannelError as exc:
            log.info("post %s is live but its permalink could not be read: %s", post_id, exc)
        return f"https://www.facebook.com/{post_id}"

    @staticmethod
    def _caption(post: Post) -> str:
        """Photo posts show no link card, so the link goes into the caption when missing."""
        if post.link and post.link not in post.text:
            return f"{post.text.rstrip()}\n\n{post.link}"
        return post.text

    # ── finding earlier publications ──────────────────────────────────────────────────
    async def lookup(self, post: Post) -> Receipt | None:
        """The live Page post carrying this post's text (and link), created since it queued."""
        fields = "id,message,permalink_url,created_time,attachments{unshimmed_url,url}"
        async for item in self._scan("posts", {"fields": fields}, post):
            return Receipt(remote_id=str(item["id"]), remote_url=item.get("permalink_url"))
        return None

    async def _find_draft(self, post: Post) -> tuple[str, str | None] | None:
        fields = "id,message,permalink_url,created_time,is_published,attachments{unshimmed_url,url}"
        try:
            async for item in self._scan("promotable_posts",
                                         {"fields": fields, "is_published": "false"}, post):
                if item.get("is_published") is not True:
                    return str(item["id"]), item.get("permalink_url")
        except Permanent as exc:
            if getattr(exc, "graph_code", None) not in SKIPPABLE_DRAFT_ERRORS:
                raise
            log.info("cannot list unpublished drafts (creating a new one): %s", exc)
        return None

    async def _scan(self, edge: str, params: dict[str, str], post: Post,
                    ) -> AsyncIterator[dict[str, Any]]:
        since = self._since(post)
        query = params | {"since": str(int(since.timestamp())), "limit": "25"}
        texts = {_normal(post.text), _normal(self._caption(post))}
        for _ in range(LOOKUP_PAGES):
            data = await self._call("GET", f"{self.config.page_id}/{edge}", query)
            items = [i for i in data.get("data") or [] if isinstance(i, dict)]
            for item in items:
                created = _parse_time(item.get("created_time"))
                if created is not None and created < since:
                    continue
                if self._matches(item, post, texts):
                    yield item
            cursor = ((data.get("paging") or {}).get("cursors") or {}).get("after")
            if not items or not cursor or not (data.get("paging") or {}).get("next"):
                return
            query = query | {"after": str(cursor)}

    @staticmethod
    def _since(post: Post) -> datetime:
        times = [t for t in (post.created_at, post.publish_at, post.claimed_at) if t]
        earliest = min(times) if times else datetime.now(UTC) - timedelta(days=1)
        if earliest.tzinfo is None:
            earliest = earliest.replace(tzinfo=UTC)
        return earliest - LOOKUP_MARGIN

    @staticmethod
    def _matches(item: dict[str, Any], post: Post, texts: set[str]) -> bool:
        if _normal(str(item.get("message") or "")) not in texts:
            return False
        attachments = (item.get("attachments") or {}).get("data") or []
        urls = {str(a.get(k)) for a in attachments if isinstance(a, dict)
                for k in ("unshimmed_url", "url") if a.get(k)}
        shares = [a for a in attachments if isinstance(a, dict) and a.get("type") == "share"]
        # Only a link card can contradict the link; photo posts carry it in the caption.
        return not (post.link and shares and post.link not in urls)


def _guard_http_logs() -> None:
    """httpx logs every request URL at INFO, and Graph GETs carry the token in the query."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, redact.RedactingFilter) for f in logger.filters):
            logger.addFilter(redact.RedactingFilter())
