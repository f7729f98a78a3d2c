"""Mastodon: a post becomes a status (with its images), and can be found again after a lost answer.

Why it is built this way:
- Every status POST carries `Idempotency-Key: post.idempotency_key`, so a retry within the
  server's hour returns the first status instead of a second one. Past the hour, or on servers
  that ignore the key (Takahē), `lookup` reads the account's recent statuses and matches the
  post's link (or text): the publisher calls it before retrying an `Ambiguous` failure.
- Limits are the instance's (`/api/v2/instance`, falling back to v1), never a hard-coded 500.
- Media uploads have no idempotency; a failure there is never ambiguous (retrying leaves at most
  an orphan upload, which the server cleans up).
- Mastodon sends no `Retry-After`: waits come from the ISO `X-RateLimit-Reset`.
- With `thread = true` a long text goes out as a reply chain, each part with its own key
  (`pressbot-post-N-partI`). Nothing makes a thread atomic: a permanent failure mid-thread
  leaves the first parts up, and a lookup that finds the first part reports the post published.

State kept in the object, all of it caches a restart may lose without harm: the instance
configuration (after `check`/`load_limits`), the account (id, acct) from `verify_credentials`,
and the last `X-RateLimit-Remaining`/`Reset` seen per budget ("statuses" from status POSTs,
"requests" from everything else). When a budget has `RATE_RESERVE` or fewer calls left before
its reset, `publish` stops with `Transient(retry_after=…)` instead of walking into a 429.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import unicodedata
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urljoin, urlsplit, urlunsplit

import anyio
import httpx
import regex

from bot import netguard, redact
from bot.config import MastodonConfig
from bot.fit import count
from bot.models import Image, Post, Receipt
from channels.base import (
    Ambiguous,
    Check,
    Limits,
    Permanent,
    Transient,
    body_message,
    map_transport_error,
    parse_retry_after,
    raise_for_response,
    user_agent,
)

log = logging.getLogger(__name__)

PLATFORM = "Mastodon"
RATE_RESERVE = 2
LOOKUP_PAGES = 3
THREAD_PARTS = 4
LOOKUP_MARGIN = timedelta(minutes=10)
DEFAULT_MAX_CHARS = 500
DEFAULT_URL_WEIGHT = 23
DEFAULT_ALT_MAX = 1500
DEFAULT_IMAGE_MAX = 16 * 1024 * 1024

AUTH_HINT = ("the access token is invalid or revoked: create a new one under Preferences → "
              "Development and set MASTODON_TOKEN")
ACCOUNT_HINT = ("the account cannot act (disabled, unconfirmed or awaiting approval): sign in "
                "on the web to resolve it")
CONTENT_HINT = "Mastodon refused this post as written: edit it (or its images) and approve again"


def scope_hint(scope: str) -> str:
    return (f"the access token lacks the {scope} scope: create a token that has it under "
            "Preferences → Development and set MASTODON_TOKEN")


@dataclass(frozen=True)
class _Budget:
    remaining: int
    reset_at: datetime


class MastodonChannel:
    """One Mastodon account; `client` is the service's shared `httpx.AsyncClient`."""

    def __init__(self, name: str, config: MastodonConfig, client: httpx.AsyncClient, *,
                 poll_interval: float = 0.5, max_polls: int = 40) -> None:
        self.name = name
        self.config = config
        self._client = client
        self._base = str(config.base_url).rstrip("/")
        self._token = config.access_token.get_secret_value()
        redact.register(self._token)
        self._timeout = config.timeout.total_seconds()
        self._poll_interval = poll_interval
        self._max_polls = max_polls
        self._instance: dict[str, Any] | None = None
        self._account: dict[str, Any] | None = None
        self._budgets: dict[str, _Budget] = {}

    def __repr__(self) -> str:
        return f"MastodonChannel(name={self.name!r}, base_url={self._base!r})"

    # ------------------------------------------------------------------ limits

    @property
    def limits(self) -> Limits:
        """What the core renders against: one status, or a thread of up to `THREAD_PARTS`."""
        single = self.status_limits
        if not self.config.thread or single.max_chars is None:
            return single
        # Longer texts are fine: they go out as a reply chain; past one status, warn.
        return replace(single, max_chars=single.max_chars * THREAD_PARTS,
                       soft_chars=single.max_chars)

    @property
    def status_limits(self) -> Limits:
        """One status: the instance's limits once read, less the spoiler text's length."""
        conf = self._instance or {}
        statuses = conf.get("statuses") or {}
        media = conf.get("media_attachments") or {}
        max_chars = (self.config.max_characters or _positive(statuses.get("max_characters"))
                     or DEFAULT_MAX_CHARS)
        if self.config.spoiler_text:
            max_chars -= len(regex.findall(r"\X", self.config.spoiler_text))
        return Limits(
            max_chars=max_chars,
            url_weight=_positive(statuses.get("characters_reserved_per_url"))
            or DEFAULT_URL_WEIGHT,
            graphemes=True,
            mentions_local=True,
            max_images=_positive(statuses.get("max_media_attachments")) or 4,
            alt_max=_positive(media.get("description_limit")) or DEFAULT_ALT_MAX,
            image_max_bytes=_positive(media.get("image_size_limit")) or DEFAULT_IMAGE_MAX,
        )

    async def load_limits(self) -> Limits:
        """Read the instance's configuration (public, no token) and keep it for `limits`."""
        response = await self._request("GET", "/api/v2/instance", auth=False)
        if response.status_code in (404, 410):  # before 4.0, or a compatible server
            response = await self._request("GET", "/api/v1/instance", auth=False)
        self._raise(response, scope="", where="the instance information")
        data = _json(response)
        conf = data.get("configuration") if isinstance(data, dict) else None
        if not isinstance(conf, dict):
            conf = {}
        if not conf.get("statuses") and isinstance(data, dict) and data.get("max_toot_chars"):
            conf["statuses"] = {"max_characters": data["max_toot_chars"]}  # Pleroma/Akkoma
        conf["version"] = data.get("version") if isinstance(data, dict) else None
        self._instance = conf
        return self.limits

    # ------------------------------------------------------------------ check

    async def check(self) -> Check:
        details: dict[str, Any] = {"base_url": self._base}
        warnings: list[str] = []
        try:
            account = await self._verify()
        except Permanent as exc:
            return Check(ok=False, summary=str(exc), details=details)
        except (Transient, Ambiguous) as exc:
            return Check(ok=False, summary=f"cannot reach {self._base}: {exc}", details=details)
        try:
            limits = await self.load_limits()
        except (Permanent, Transient, Ambiguous) as exc:
            limits = self.limits
            warnings.append(f"could not read the instance limits ({exc}); using defaults")
        instance_max = _positive(((self._instance or {}).get("statuses") or {})
                                 .get("max_characters"))
        if self.config.max_characters and instance_max and self.config.max_characters > \
                instance_max:
            warnings.append(f"max_characters = {self.config.max_characters} is above the "
                            f"instance's limit of {instance_max}: posts would be refused")
        acct = f"@{account.get('acct') or account.get('username')}"
        details.update(account=acct, account_url=account.get("url"),
                       version=(self._instance or {}).get("version"), limits=asdict(limits))
        summary = (f"{acct} on {urlsplit(self._base).netloc}: {limits.max_chars} characters, "
                   f"up to {limits.max_images} images")
        return Check(ok=True, summary=summary, details=details, warnings=warnings)

    async def _verify(self) -> dict[str, Any]:
        if self._account is None:
            response = await self._request("GET", "/api/v1/accounts/verify_credentials")
            self._raise(response, scope="read:accounts (or profile)", where="the account")
            data = _json(response)
            if not isinstance(data, dict) or "id" not in data:
                raise Transient(f"{PLATFORM}: verify_credentials gave no account")
            self._account = data
        return self._account

    # ------------------------------------------------------------------ publish

    async def publish(self, post: Post) -> Receipt:
        self._guard()  # before any upload: no orphan media when we are about to stop anyway
        parts = self._parts(post)
        media_ids: list[str] = []
        images = post.images
        if len(images) > self.limits.max_images:
            log.warning("post %s: %d images, the instance takes %d; the rest are left out",
                        post.id, len(images), self.limits.max_images)
            images = images[: self.limits.max_images]
        for image in images:
            media_id = await self._upload(image)
            if media_id is not None:
                media_ids.append(media_id)
        language = post.language or self.config.language
        made: list[dict[str, Any]] = []
        for index, text in enumerate(parts):
            # Each part has its own key, so a retry after a crash mid-thread replays the parts
            # already made (within the server's hour) and continues with the rest.
            key = post.idempotency_key if index == 0 else f"{post.idempotency_key}-part{index}"
            made.append(await self._post_status(
                text, media_ids if index == 0 else [], key, language=language,
                reply_to=str(made[-1]["id"]) if made else None))
        return _receipt(made[0])

    def _parts(self, post: Post) -> list[str]:
        if not self.config.thread:
            return [post.text]
        return split_thread(post.text, self.status_limits) or [post.text]

    async def _post_status(self, text: str, media_ids: list[str], key: str, *,
                           language: str | None, reply_to: str | None = None) -> dict[str, Any]:
        self._guard()
        data: dict[str, Any] = {"status": text, "visibility": self.config.visibility}
        if language:
            data["language"] = language
        if self.config.spoiler_text:
            data["spoiler_text"] = self.config.spoiler_text
        if media_ids:
            data["media_ids[]"] = media_ids
        if reply_to:
            data["in_reply_to_id"] = reply_to
        response = await self._request("POST", "/api/v1/statuses", data=data,
                                       headers={"Idempotency-Key": key},
                                       budget="statuses", ambiguous=True)
        self._raise(response, scope="write:statuses", where="the post", ambiguous=True)
        status = _json(response)
        if not isinstance(status, dict) or not status.get("id"):
            # A 2xx means the status was probably made; only a lookup can tell.
            raise Ambiguous(f"{PLATFORM} answered {response.status_code} without a status id")
        return status

    # ------------------------------------------------------------------ media

    async def _upload(self, image: Image) -> str | None:
        loaded = await self._load_image(image)
        if loaded is None:
            return None
        data, content_type, filename = loaded
        form = {"description": image.alt} if image.alt else {}
        response = await self._request("POST", "/api/v2/media", data=form,
                                       files={"file": (filename, data, content_type)})
        self._raise(response, scope="write:media", where=f"the image {image.url}")
        body = _json(response)
        if not isinstance(body, dict) or not body.get("id"):
            raise Transient(f"{PLATFORM}: the media upload answered without an id")
        media_id = str(body["id"])
        if response.status_code == 202 or not body.get("url"):
            await self._wait_processed(media_id)
        return media_id

    async def _wait_processed(self, media_id: str) -> None:
        """Poll while the server answers 206; a status naming unprocessed media gets 422."""
        for _ in range(self._max_polls):
            await anyio.sleep(self._poll_interval)
            response = await self._request("GET", f"/api/v1/media/{media_id}")
            if response.status_code == 206:
                continue
            self._raise(response, scope="write:media", where="the uploaded image")
            return
        waited = self._max_polls * self._poll_interval
        raise Transient(f"{PLATFORM}: image {media_id} still processing after {waited:.0f} s")

    async def _load_image(self, image: Image) -> tuple[bytes, str, str] | None:
        """The image's bytes, type and file name; None (with a warning) when it is too big."""
        cap = self.limits.image_max_bytes or DEFAULT_IMAGE_MAX
        url = image.url
        declared: str | None = None
        if url.startswith(("http://", "https://")):
            fetched = await self._fetch_image(url, cap)
            if fetched is None:
                return None
            data, declared = fetched
            name = Path(unquote(urlsplit(url).path)).name
        else:
            path = anyio.Path(unquote(urlsplit(url).path) if url.startswith("file:") else url)
            if not await path.is_file():
                raise Permanent(f"image not found: {path}",
                                "fix the image path in the release or remove it, and approve again")
            if (await path.stat()).st_size > cap:
                log.warning("image %s is over the instance's %d bytes: left out", url, cap)
                return None
            data = await path.read_bytes()
            name = path.name
        content_type = (_sniff(data) or (declared or "").split(";")[0].strip()
                        or mimetypes.guess_type(name)[0] or "application/octet-stream")
        return data, content_type, name or "image"

    async def _fetch_image(self, url: str, cap: int) -> tuple[bytes, str | None] | None:
        # No Authorization header here: the token never goes to the image's host. Image
        # addresses come from feeds, so every hop is checked to be a public http(s) host
        # (unless `allow_private_images`), and the whole download is bounded in time.
        try:
            async with asyncio.timeout(self._timeout * 2):
                return await self._download(url, cap)
        except TimeoutError:
            raise Transient(f"image {url}: not downloaded within {self._timeout * 2:g} s") \
                from None

    async def _download(self, url: str, cap: int) -> tuple[bytes, str | None] | None:
        current = url
        for _ in range(6):
            try:
                await netguard.check_public(current, self.config.allow_private_images)
            except netguard.UnresolvedHost as exc:
                raise Transient(f"image {current}: {exc}") from None
            except netguard.NotPublicURL as exc:
                raise Permanent(f"image {current} refused: {exc}",
                                "use an image on a public website, or set "
                                "allow_private_images = true for this channel") from None
            with map_transport_error(f"image {url}", sent_is_ambiguous=False):
                async with self._client.stream("GET", current,
                                               headers={"User-Agent": user_agent()},
                                               timeout=self._timeout,
                                               follow_redirects=False) as resp:
                    if resp.has_redirect_location:
                        current = urljoin(current, resp.headers["location"])
                        continue
                    return await self._read_image(url, resp, cap)
        raise Permanent(f"image {url}: too many redirects",
                        "fix the image address in the release or remove it, and approve again")

    async def _read_image(self, url: str, resp: httpx.Response,
                          cap: int) -> tuple[bytes, str | None] | None:
        if resp.status_code >= 400:
            message = f"image {url} could not be fetched: HTTP {resp.status_code}"
            if resp.status_code == 429 or resp.status_code >= 500:
                raise Transient(message)
            raise Permanent(message, "fix the image address in the release or remove "
                                     "it, and approve again")
        length = resp.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            log.warning("image %s is over the instance's %d bytes: left out", url, cap)
            return None
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.aiter_bytes():
            total += len(chunk)
            if total > cap:
                log.warning("image %s is over the instance's %d bytes: left out", url, cap)
                return None
            chunks.append(chunk)
        return b"".join(chunks), resp.headers.get("content-type")

    # ------------------------------------------------------------------ lookup

    async def lookup(self, post: Post) -> Receipt | None:
        """Find this post among the account's recent statuses; the oldest match wins."""
        account = await self._verify()
        cutoff = _cutoff(post)
        url = f"{self._base}/api/v1/accounts/{account['id']}/statuses"
        params: dict[str, str] | None = {"limit": "40", "exclude_reblogs": "true"}
        found: dict[str, Any] | None = None
        seen: dict[str, dict[str, Any]] = {}
        try:
            first_text = self._parts(post)[0]
        except Permanent:
            first_text = post.text
        for _ in range(LOOKUP_PAGES):
            kwargs: dict[str, Any] = {"params": params} if params else {}
            response = await self._request("GET", url, **kwargs)
            if response.status_code == 403:
                # Without read:statuses the public timeline of the account is still readable.
                response = await self._request("GET", url, auth=False, **kwargs)
            self._raise(response, scope="read:statuses", where="the account's posts")
            statuses = _json(response)
            if not isinstance(statuses, list) or not statuses:
                break
            reached_cutoff = False
            for status in statuses:
                if not isinstance(status, dict):
                    continue
                seen[str(status.get("id"))] = status
                created = _parse_time(status.get("created_at"))
                if cutoff and created and created < cutoff:
                    reached_cutoff = True
                    continue
                if _matches(post, status, first_text):
                    found = status
            next_url = response.links.get("next", {}).get("url")
            if reached_cutoff or not next_url or not _same_origin(next_url, self._base):
                break  # a Link to another host would carry the token there
            url, params = next_url, None
        # A thread's link may sit in a later part: the receipt is the thread's first status.
        for _ in range(len(seen) if self.config.thread else 0):
            parent = seen.get(str((found or {}).get("in_reply_to_id")))
            if parent is None:
                break
            found = parent
        return _receipt(found) if found else None

    # ------------------------------------------------------------------ HTTP

    async def _request(self, method: str, path: str, *, auth: bool = True,
                       budget: str = "requests", ambiguous: bool = False,
                       headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        url = path if path.startswith(("http://", "https://")) else self._base + path
        sent = {"User-Agent": user_agent(), **(headers or {})}
        if auth:
            sent["Authorization"] = f"Bearer {self._token}"
        with map_transport_error(PLATFORM, sent_is_ambiguous=ambiguous):
            response = await self._client.request(method, url, headers=sent,
                                                  timeout=self._timeout, **kwargs)
        if auth:
            self._note_budget(response, budget)
        return response

    def _note_budget(self, response: httpx.Response, budget: str) -> None:
        remaining = response.headers.get("x-ratelimit-remaining", "")
        reset_at = _parse_time(response.headers.get("x-ratelimit-reset"))
        if remaining.strip().lstrip("-").isdigit() and reset_at is not None:
            self._budgets[budget] = _Budget(int(remaining), reset_at)

    def _guard(self) -> None:
        now = datetime.now(UTC)
        for name, budget in self._budgets.items():
            if budget.reset_at > now and budget.remaining <= RATE_RESERVE:
                raise Transient(
                    f"{PLATFORM} rate limit nearly used: {budget.remaining} {name} left until "
                    f"{budget.reset_at:%Y-%m-%d %H:%M:%S} UTC",
                    retry_after=(budget.reset_at - now).total_seconds(),
                )

    def _raise(self, response: httpx.Response, *, scope: str, where: str,
               ambiguous: bool = False) -> None:
        """Mastodon's table on top of `raise_for_response`; bodies may be HTML or plain text."""
        status = response.status_code
        if status < 300:
            return
        text = _error_text(response)
        message = f"{PLATFORM} answered {status} for {where}: {text}"
        lowered = text.lower()
        if status == 401 or (status == 400 and "token" in lowered):
            raise Permanent(message, AUTH_HINT)
        if status == 403:
            account_problem = any(w in lowered for w in ("login", "confirm", "approv", "suspend"))
            raise Permanent(message, ACCOUNT_HINT if account_problem or not scope
                            else scope_hint(scope))
        if status == 404 and where in ("the account", "the instance information"):
            raise Permanent(message, f"check base_url ({self._base}): is it a Mastodon server?")
        if status in (400, 404, 422):
            raise Permanent(message, CONTENT_HINT)
        if status == 429 or status == 503 or (status >= 500 and not ambiguous):
            # 503 is Mastodon's "temporary problem" (lock or storage): nothing was created.
            raise Transient(message, retry_after=parse_retry_after(response))
        if status >= 500:
            raise Ambiguous(message)  # a gateway error after the POST went out
        raise_for_response(response, PLATFORM, auth_hint=AUTH_HINT)


# ---------------------------------------------------------------------- helpers

_CUTS = (regex.compile(r"\n\s*\n"), regex.compile(r"(?<=[.!?…])\s+"), regex.compile(r"\s+"))


def split_thread(text: str, limits: Limits) -> list[str]:
    """Cut `text` into statuses that fit: at paragraphs, else sentences, else words.

    Cuts fall on whitespace only, so a URL, mention or hashtag is never split. A single word
    longer than a status is refused (the core should have shortened it).
    """
    budget = limits.max_chars or DEFAULT_MAX_CHARS
    parts: list[str] = []
    rest = text.strip()
    while rest and count(rest, limits) > budget:
        cut = None
        for pattern in _CUTS:
            fitting = [m for m in pattern.finditer(rest)
                       if m.start() > 0 and count(rest[:m.start()], limits) <= budget]
            # A paragraph or sentence cut that leaves a stub of a status is worse than a word cut.
            if fitting and (pattern is _CUTS[-1]
                            or count(rest[:fitting[-1].start()], limits) >= budget // 2):
                cut = fitting[-1]
                break
        if cut is None:
            raise Permanent(f"a word of the post is longer than one status ({budget} characters)",
                            CONTENT_HINT)
        parts.append(rest[:cut.start()].rstrip())
        rest = rest[cut.end():].strip()
    if rest:
        parts.append(rest)
    return parts


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _receipt(status: dict[str, Any]) -> Receipt:
    return Receipt(remote_id=str(status["id"]), remote_url=status.get("url") or status.get("uri"))


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _cutoff(post: Post) -> datetime | None:
    """Statuses older than the post itself (minus clock slack) cannot be this post."""
    times = [t if t.tzinfo else t.replace(tzinfo=UTC)
             for t in (post.created_at, post.claimed_at) if t is not None]
    return min(times) - LOOKUP_MARGIN if times else None


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


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


class _Content(HTMLParser):
    """Hrefs and visible-or-not text of a status's HTML (hidden URL parts are text too)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(v for k, v in attrs if k == "href" and v)
        elif tag in ("br", "p"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


_URL = regex.compile(r"https?://[^\s<>\"]+")
_MENTION = regex.compile(r"(?<![\w/=])@(\w+)@[\w.-]+\w")


def _norm_url(url: str) -> str:
    """Compare links loosely: case of host, fragments, tracking parameters, a trailing slash."""
    parts = urlsplit(url.strip().rstrip(".,;:!?)"))
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not k.lower().startswith("utm_")])
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"),
                       query, ""))


def _norm_text(text: str) -> str:
    text = _MENTION.sub(r"@\1", unicodedata.normalize("NFC", text))
    return " ".join(text.split()).casefold()


def _matches(post: Post, status: dict[str, Any], expected_text: str) -> bool:
    parser = _Content()
    parser.feed(str(status.get("content") or ""))
    text = "".join(parser.parts)
    if post.link:
        want = _norm_url(post.link)
        if any(_norm_url(u) == want for u in [*parser.hrefs, *_URL.findall(text)]):
            return True
    return bool(expected_text.strip()) and _norm_text(text) == _norm_text(expected_text)
