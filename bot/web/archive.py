"""The public archive of sent newsletters: an index and one page per issue.

Only email posts that were published are shown, and only from channels with
`archive = true` (the default). The page is the HTML subscribers got, filled the way a
subscriber without a name sees it, except that the per-recipient unsubscribe link (a
secret of one person) becomes the subscribe page. It is served with the same CSP as the
review page's email preview: inline styles and images, never a script.
"""

from __future__ import annotations

import asyncio
import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot.config import Config, EmailConfig, OutboxConfig
from bot.models import Post, PostStatus
from bot.store import Store, activity
from bot.store import posts as post_store
from bot.web import convertors  # noqa: F401  (registers {post_id:id})
from bot.web.security import EMAIL_CSP

PATH = "/newsletter"


def archive_channels(config: Config) -> set[str]:
    """Email channels (and outboxes standing in for one) whose issues are public."""
    return {name for name, cfg in config.channels.items()
            if (isinstance(cfg, EmailConfig) and cfg.archive)
            or (isinstance(cfg, OutboxConfig) and cfg.like == "email")}


def archive_url(public_url: str, post_id: int) -> str:
    return f"{public_url.rstrip('/')}{PATH}/{post_id}"


class Archive:
    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.public_url = str(config.bot.public_url).rstrip("/")
        self.channels = archive_channels(config)

    def _issues(self) -> list[Post]:
        with self.store.begin() as conn:
            found = activity.posts_by_status(conn, [PostStatus.PUBLISHED], newest_first=True)
        return [p for p in found if p.channel in self.channels and p.html]

    async def index(self, request: Request) -> Response:
        issues = await asyncio.to_thread(self._issues)
        items = "".join(
            f'<li><a href="{PATH}/{p.id}">{html.escape(p.subject or p.title)}</a> '
            f'<span class="date">{self._sent_on(p)}</span></li>' for p in issues)
        body = f"<ul class=\"archive\">{items}</ul>" if items else "<p>Nothing sent yet.</p>"
        return HTMLResponse(_page("Newsletter archive", body))

    def _sent_on(self, post: Post) -> str:
        """The day an issue went out, in the bot's zone: an issue sent in the evening in
        Bogotá is not listed under the next day."""
        sent = post.updated_at or post.created_at
        return sent.astimezone(self.config.tz).strftime("%-d %B %Y") if sent else ""

    def _issue(self, post_id: int) -> Post | None:
        with self.store.begin() as conn:
            post = post_store.get(conn, post_id)
        if post is None or post.status != PostStatus.PUBLISHED or not post.html or \
                post.channel not in self.channels:
            return None
        return post

    async def issue(self, request: Request) -> Response:
        from channels.email.message import fill_html

        post = await asyncio.to_thread(self._issue, int(request.path_params["post_id"]))
        if post is None:
            return HTMLResponse(_page("Not found", "<p>There is no such newsletter issue. "
                                      f"<a href=\"{PATH}\">See every issue</a>.</p>"),
                                status_code=404)
        page = fill_html(post.html or "", None, f"{self.public_url}/subscribe",
                         archive_url(self.public_url, post.id), fallback=post.language)
        return HTMLResponse(page, headers={"Content-Security-Policy": EMAIL_CSP,
                                           "X-Frame-Options": "SAMEORIGIN"})


def _page(title: str, body: str) -> str:
    """A page of the archive: a real document (language, title, the site's style)."""
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title>"
            "<link rel=\"stylesheet\" href=\"/static/style.css\"></head>"
            f"<body><main id=\"main\" class=\"public\"><h1>{html.escape(title)}</h1>"
            f"{body}<p><a href=\"/subscribe\">Subscribe</a></p></main></body></html>\n")


def archive_routes(config: Config, store: Store) -> list[Route]:
    pages = Archive(config, store)
    return [Route(PATH, pages.index, methods=["GET"]),
            Route(PATH + "/{post_id:id}", pages.issue, methods=["GET"])]
