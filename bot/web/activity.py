"""The audit trail as a page (newest first, in pages) and as CSV for reporting, both in
sentences people read (`bot.web.wording`), with each event's title and channel.

The CSV is streamed in id order in batches, so an export of years of events neither
holds a transaction open nor builds the file in memory. Cells that a spreadsheet would
read as a formula are prefixed with an apostrophe (`bot.csvcells`): a rejection note is
typed by people.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from starlette.responses import Response, StreamingResponse

from bot import clock
from bot.csvcells import cell
from bot.store import activity
from bot.web import params
from bot.web.context import Ctx
from bot.web.wording import person, sentence, summary

PER_PAGE = 50
BATCH = 1000
COLUMNS = ["id", "at", "who", "action", "title", "channel", "what", "post_id", "release_id",
           "from_status", "to_status", "detail"]
"""`at` in UTC (ISO 8601); `what` is the page's sentence (its times in the bot's zone);
`detail` is the event's details as "label: value; …", in full."""


def activity_page(ctx: Ctx) -> Response:
    page = params.page_number(ctx.request.query_params.get("page"))
    with ctx.begin() as conn:
        total = activity.events_count(conn)
        pages = max(1, -(-total // PER_PAGE))
        page = min(page, pages)
        events = activity.events_page(conn, offset=(page - 1) * PER_PAGE, limit=PER_PAGE)
    for event in events:
        event["sentence"] = sentence(event, ctx.config.tz)
    return ctx.render("activity.html", events=events, page=page, pages=pages, total=total)


def _rows(ctx: Ctx) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    tz = ctx.config.tz
    after = 0
    while True:
        with ctx.begin() as conn:
            batch = activity.events_after(conn, after, BATCH)
        for e in batch:
            writer.writerow([cell(v) for v in (
                e["id"], e["at"].isoformat(), person(e["actor"]), e["action"], e["title"],
                e["channel"], sentence(e, tz, limit=None), e["post_id"], e["release_id"],
                e["from_status"], e["to_status"], summary(e["detail"] or {}, tz, limit=None))])
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
