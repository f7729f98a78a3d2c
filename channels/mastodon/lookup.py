"""Finding a post again after a lost answer: the account's recent statuses, matched to it.

Past the server's idempotency hour, or on servers that ignore the key (Takahē), the
publisher calls `lookup` before retrying an `Ambiguous` failure. A status comes back as HTML,
so its text is read with a small parser (each link as its `href`, whatever text the server
shows for it) and compared as the server renders it (whitespace,
`@user@domain` mentions, Unicode normalisation). A status is ours only when it was created
after the post's first claim (less clock slack) AND carries the approved text: the release
link alone proves nothing (a colleague may have shared it). Paging never follows a `Link`
to another host, which would carry the token there.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import regex

from bot.models import Post, Receipt
from channels.base import Permanent
from channels.mastodon.api import MastodonApi, _json, _parse_time, _receipt

LOOKUP_PAGES = 3
LOOKUP_MARGIN = timedelta(minutes=2)
"""Clock slack between us and the server when comparing creation times."""


class MastodonLookup(MastodonApi):
    """`lookup` of `MastodonChannel`, which also splits the post into its thread's parts."""

    if TYPE_CHECKING:
        def _parts(self, post: Post) -> list[str]: ...

    async def lookup(self, post: Post) -> Receipt | None:
        """Find this post among the account's recent statuses: the best match, the oldest
        among equals; the receipt says why it matched."""
        account = await self._verify()
        cutoff = _cutoff(post)
        url = f"{self._base}/api/v1/accounts/{account['id']}/statuses"
        params: dict[str, str] | None = {"limit": "40", "exclude_reblogs": "true"}
        found: dict[str, Any] | None = None
        best = 0
        why = ""
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
                score, reason = _match(post, status, first_text)
                if score and score >= best:  # statuses come newest first: the oldest wins
                    found, best, why = status, score, reason
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
        if found is None:
            return None
        created = found.get("created_at")
        return _receipt(found).model_copy(update={"matched": f"{why}; created {created}"})


def _cutoff(post: Post) -> datetime | None:
    """Statuses older than the post's first claim (minus clock slack) cannot be this post:
    nothing was sent before it."""
    first = post.receipt_cutoff or post.created_at
    if first is None:
        return None
    return (first if first.tzinfo else first.replace(tzinfo=UTC)) - LOOKUP_MARGIN


def _same_origin(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower())


class _Content(HTMLParser):
    """A status's text as written: a link stands for its `href`, not its visible text.

    Servers show links differently — Mastodon hides the scheme and the tail in `invisible`
    spans, GoToSocial drops the scheme and cuts the text short — but every one keeps the
    address whole in `href`. Mentions (`@user`) and hashtags (`#tag`) keep their text: their
    `href` is the server's profile or tag page, not what was written."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._link: tuple[str, list[str]] | None = None
        """The open `<a>`: its href and the text read inside it so far."""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = next((v for k, v in attrs if k == "href" and v), None)
            self._link = (href, []) if href else None
        elif tag in ("br", "p"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._link is not None:
            href, inside = self._link
            self._link = None
            shown = "".join(inside)
            self.parts.append(shown if shown.lstrip().startswith(("#", "@")) else href)

    def handle_data(self, data: str) -> None:
        (self._link[1] if self._link is not None else self.parts).append(data)


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


def _match(post: Post, status: dict[str, Any], expected_text: str) -> tuple[int, str]:
    """How well a status matches the approved text: 3 identical as rendered, 2 identical
    but for the links' tracking parameters, 0 not ours. The link alone never matches."""
    if not expected_text.strip():
        return 0, ""
    parser = _Content()
    parser.feed(str(status.get("content") or ""))
    text = "".join(parser.parts)
    if _norm_text(text) == _norm_text(expected_text):
        return 3, "the approved text, as the server rendered it"
    if _URL.sub(_link_token, _norm_text(text)) == _URL.sub(_link_token,
                                                            _norm_text(expected_text)):
        return 2, "the approved text, links equal but for tracking parameters"
    return 0, ""


def _link_token(found: regex.Match[str]) -> str:
    return _norm_url(found.group(0))
