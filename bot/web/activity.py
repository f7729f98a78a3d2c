"""The audit trail as a page (newest first, in pages) and as CSV for reporting.

The CSV is streamed in id order in batches, so an export of years of events neither
holds a transaction open nor builds the file in memory. Cells that a spreadsheet would
read as a formula are prefixed with an apostrophe (`bot.csvcells`): a rejection note is
typed by people.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from typing import Any

from starlette.responses import Response, StreamingResponse

from bot import clock
from bot.csvcells import cell
from bot.store import activity
from bot.web import params
from bot.web.context import Ctx

PER_PAGE = 50
BATCH = 1000
COLUMNS = ["id", "at", "actor", "action", "post_id", "release_id", "from_status", "to_status",
           "detail"]


_HIDDEN = frozenset({"worker"})
"""Details for machines, not people (they stay in the CSV)."""
_LABELS = {"publish_at": "goes out", "retry_in": "next try in", "remote_id": "platform id",
           "url": "link", "previous_text": "text before", "error": "error"}


def summary(detail: dict[str, Any], tz: tzinfo = UTC) -> str:
    """One readable line of an event's detail: times in the bot's zone, lists as text,
    long texts shortened, internal keys left out."""
    parts = []
    for key, value in detail.items():
        if key in _HIDDEN or value in (None, "", [], {}):
            continue
        parts.append(f"{_LABELS.get(key, key.replace('_', ' '))}: {_readable(key, value, tz)}")
    return "; ".join(parts)


def _readable(key: str, value: Any, tz: tzinfo) -> str:
    if key == "retry_in" and isinstance(value, int | float):
        return f"{value:.0f} s" if value < 120 else f"{value / 60:.0f} min"
    if isinstance(value, list):
        text = "; ".join(str(v) for v in value)
    elif isinstance(value, str):
        text = value
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if when.tzinfo is not None and len(value) >= 16:
                text = when.astimezone(tz).strftime("%a %-d %b %Y, %H:%M")
    else:
        text = json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text[:117] + "…" if len(text) > 120 else text


def activity_page(ctx: Ctx) -> Response:
    page = params.page_number(ctx.request.query_params.get("page"))
    with ctx.begin() as conn:
        total = activity.events_count(conn)
        pages = max(1, -(-total // PER_PAGE))
        page = min(page, pages)
        events = activity.events_page(conn, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    for event in events:
        event["summary"] = summary(event["detail"] or {}, ctx.config.tz)
    return ctx.render("activity.html", events=events, page=page, pages=pages, total=total)


def _rows(ctx: Ctx) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    after = 0
    while True:
        with ctx.begin() as conn:
            batch = activity.events_after(conn, after, BATCH)
        for e in batch:
            writer.writerow([cell(v) for v in (
                e["id"], e["at"].isoformat(), e["actor"], e["action"], e["post_id"],
                e["release_id"], e["from_status"], e["to_status"],
                json.dumps(e["detail"] or {}, ensure_ascii=False, sort_keys=True))])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(batch) < BATCH:
            return
        after = batch[-1]["id"]


def activity_csv(ctx: Ctx) -> Response:
    name = f"pressbot-activity-{clock.now():%Y%m%d-%H%M}.csv"
    return StreamingResponse(_rows(ctx), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})
