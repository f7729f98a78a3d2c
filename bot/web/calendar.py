"""A week of what goes out when, per channel; an editor moves a post to another time here.

Moving uses the post's own schedule action (`/posts/{id}/schedule`), so the same rules
apply: windows, embargo, the strict time reader; the calendar only lays posts out by day.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from starlette.responses import Response

from bot import clock
from bot.store.history import slotted
from bot.web import params
from bot.web.context import Ctx


def calendar_page(ctx: Ctx) -> Response:
    tz = ctx.config.tz
    today = clock.now().astimezone(tz).date()
    start = params.day("start", ctx.request.query_params.get("start")) or today
    start -= timedelta(days=start.weekday())            # weeks start on Monday
    begin = datetime.combine(start, time(0), tz)
    with ctx.begin() as conn:
        found = slotted(conn, begin, begin + timedelta(days=7))
    days: list[dict[str, Any]] = [{"date": start + timedelta(days=i), "posts": []}
                                  for i in range(7)]
    for post in found:
        assert post.publish_at is not None
        local = post.publish_at.astimezone(tz)
        days[(local.date() - start).days]["posts"].append(
            {"post": post, "time": local.strftime("%H:%M"),
             "value": local.strftime("%Y-%m-%dT%H:%M")})
    return ctx.render("calendar.html", days=days, start=start, today=today,
                      previous=(start - timedelta(days=7)).isoformat(),
                      following=(start + timedelta(days=7)).isoformat())
