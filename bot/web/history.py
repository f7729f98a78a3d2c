"""Find any post: filters by status, channel, source and date, title words, page by page;
each published post links to where it went (an outbox file is served, not a `file:` link).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit
from urllib.request import url2pathname

from starlette.responses import FileResponse, Response

from bot.models import PostStatus
from bot.store.history import Filters, search
from bot.web import params
from bot.web.context import Ctx

PER_PAGE = 50


def history_page(ctx: Ctx) -> Response:
    query = ctx.request.query_params
    tz = ctx.config.tz
    page = params.page_number(query.get("page"))
    since, until = params.day("from", query.get("from")), params.day("to", query.get("to"))
    filters = Filters(
        status=params.choice("status", query.get("status"), [s.value for s in PostStatus]),
        channel=params.choice("channel", query.get("channel"), ctx.config.channels),
        source=params.choice("source", query.get("source"), ctx.config.sources),
        since=datetime.combine(since, time(0), tz) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(0), tz) if until else None,
        words=query.get("q", "")[:200])
    with ctx.begin() as conn:
        found, total = search(conn, filters, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    pages = max(1, -(-total // PER_PAGE))
    if page > pages:
        return ctx.refuse(404, f"There is no page {page}: the posts found fill {pages} "
                               f"page{'s' * (pages != 1)}.")
    kept = {k: v for k, v in query.items() if k != "page" and v}
    return ctx.render("history.html", posts=found, total=total, page=page, pages=pages,
                      query=kept, statuses=[s.value for s in PostStatus],
                      channels=list(ctx.config.channels), sources=list(ctx.config.sources),
                      link=lambda n: "/history?" + urlencode({**kept, "page": n}))


def outbox_file(ctx: Ctx) -> Response:
    """A dry-run post as the outbox wrote it: only files inside the configured outbox."""
    root = ctx.config.resolve(Path(ctx.config.bot.outbox)).resolve()
    try:
        wanted = (root / ctx.request.path_params["path"]).resolve()
        found = wanted.is_relative_to(root) and wanted.is_file()
    except (OSError, ValueError):  # a NUL in the path, a name too long for the system
        found = False
    if not found:
        return ctx.refuse(404, "There is no such outbox file.")
    media = "text/plain; charset=utf-8" if wanted.suffix in (".txt", ".eml", ".json") \
        else "application/octet-stream"
    return FileResponse(wanted, media_type=media,
                        headers={"Content-Security-Policy": "default-src 'none'"})


def live_link(url: str | None, outbox: Path) -> str | None:
    """Where a published post can be seen: its URL, or an outbox file served by us."""
    if not url:
        return None
    if url.startswith("file:"):
        path = Path(url2pathname(urlsplit(url).path)).resolve()
        return f"/outbox/{path.relative_to(outbox).as_posix()}" \
            if path.is_relative_to(outbox) else None
    return url
