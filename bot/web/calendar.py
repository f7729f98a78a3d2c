"""What goes out when, per channel, by week or by month; an editor moves posts here.

Every day shows each channel's publishing windows (shaded hours), so a person sees where
a post may land. A post is moved by dropping it on a day (pointer drag, `calendar.js`),
by its "previous day"/"next day" buttons, or by giving it a time; the waiting and
unscheduled posts in the sidebar are dropped (or given a day) the same way. Every one of
those is a plain form POST, so the page works without JavaScript, and every one ends in
`workflow.schedule`: the same checks as the post's own date field (the strict time
reader's bounds, the channel's windows, the embargo) and the same audit event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from starlette.responses import Response

from bot import clock
from bot.errors import WorkflowError
from bot.models import Post
from bot.schedule import inside, spans_on
from bot.store import posts as post_store
from bot.store.history import slotted, unslotted
from bot.web import params
from bot.web.context import Ctx, safe_next

MOVABLE = ("pending", "approved", "failed", "held")
"""What a person may still move (as `workflow.EDITABLE`)."""
DEFAULT_TIME = time(9, 0)
"""A post without a time, dropped on a day of a channel without windows, goes out at 09:00."""
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


@dataclass
class Bar:
    """One channel's opening hours on one day: 24 hours, each open or closed."""

    channel: str
    text: str
    hours: list[bool]


@dataclass
class Day:
    date: date
    posts: list[dict[str, Any]] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    in_month: bool = True

    @property
    def closed(self) -> bool:
        """Every channel with windows is closed all day (none has windows: never)."""
        return bool(self.bars) and not any(any(b.hours) for b in self.bars)


def _bars(ctx: Ctx, day: date) -> list[Bar]:
    bars = []
    for name, cfg in ctx.config.channels.items():
        if not cfg.windows:
            continue
        spans = spans_on(day, list(cfg.windows))
        hours = [any(s <= time(h, 59) and e > time(h) for s, e in spans) for h in range(24)]
        text = ", ".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in spans) or "closed"
        bars.append(Bar(name, text, hours))
    return bars


def _item(ctx: Ctx, post: Post) -> dict[str, Any]:
    tz = ctx.config.tz
    cfg = ctx.config.channels.get(post.channel)
    local = post.publish_at.astimezone(tz) if post.publish_at else None
    return {"post": post, "movable": post.status in MOVABLE,
            "time": local.strftime("%H:%M") if local else "",
            "when": local.strftime("%a %-d %b, %H:%M") if local else "",
            "value": local.strftime("%Y-%m-%dT%H:%M") if local else "",
            "day": local.date() if local else None,
            "previous_day": (local.date() - timedelta(days=1)) if local else None,
            "next_day": (local.date() + timedelta(days=1)) if local else None,
            "outside": bool(post.publish_at and cfg and
                            not inside(post.publish_at, list(cfg.windows), tz))}


def _span(view: str, anchor: date) -> tuple[date, date, date | None, date | None]:
    """The first and last day shown, and the anchors of the periods before and after
    (None past the years the calendar shows)."""
    if view == "month":
        first = anchor.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        begin = first - timedelta(days=first.weekday())          # weeks start on Monday
        last = following - timedelta(days=1)
        end = last + timedelta(days=6 - last.weekday())
        previous = (first - timedelta(days=1)).replace(day=1)
        return begin, end, previous if previous >= params.FIRST_DAY else None, \
            following if following <= params.LAST_DAY else None
    begin = anchor - timedelta(days=anchor.weekday())
    return begin, begin + timedelta(days=6), begin - timedelta(days=7), begin + timedelta(days=7)


def calendar_page(ctx: Ctx) -> Response:
    tz = ctx.config.tz
    query = ctx.request.query_params
    today = clock.now().astimezone(tz).date()
    view = params.choice("view", query.get("view"), ("week", "month")) or "week"
    anchor = params.day("start", query.get("start")) or today
    begin, end, previous, following = _span(view, anchor)
    since = datetime.combine(begin, time(0), tz)
    with ctx.begin() as conn:
        found = slotted(conn, since, datetime.combine(end + timedelta(days=1), time(0), tz))
        loose = unslotted(conn)
    days = [Day(begin + timedelta(days=i)) for i in range((end - begin).days + 1)]
    for day in days:
        day.bars = _bars(ctx, day.date)
        day.in_month = view == "week" or day.date.month == anchor.month
    for post in found:
        item = _item(ctx, post)
        days[(item["day"] - begin).days].posts.append(item)
    shown = begin if view == "week" else anchor.replace(day=1)
    here = f"/calendar?view={view}&start={shown.isoformat()}"
    return ctx.render("calendar.html", view=view, days=days, begin=begin, anchor=anchor,
                      today=today, previous=previous, following=following, here=here,
                      sidebar=[_item(ctx, p) for p in loose])


def _clock(raw: str) -> time | None:
    if not raw:
        return None
    if not _CLOCK.fullmatch(raw):
        raise params.BadParameter(f"time: expected a time of day like 09:30, not {raw[:40]!r}")
    return time(int(raw[:2]), int(raw[3:]))


def landing_time(ctx: Ctx, post: Post, day: date, given: time | None) -> time:
    """The time a post dropped on `day` goes out: the one asked for; else its own time of
    day; else its channel's first opening that day; else DEFAULT_TIME."""
    if given is not None:
        return given
    if post.publish_at is not None:
        return post.publish_at.astimezone(ctx.config.tz).time().replace(tzinfo=None)
    cfg = ctx.config.channels.get(post.channel)
    spans = spans_on(day, list(cfg.windows)) if cfg else []
    return spans[0][0] if spans else DEFAULT_TIME


def move(ctx: Ctx) -> Response:
    """Put a post on a day (drag and drop, a day button, the sidebar's day field)."""
    from bot import workflow

    raw_id = ctx.form.get("post", "")
    post_id = params.row_id(raw_id)
    if post_id is None:
        raise params.BadParameter(f"post: expected a post number, not {raw_id[:40]!r}")
    day = params.day("day", ctx.form.get("day", "").strip())
    given = _clock(ctx.form.get("time", "").strip())
    back = safe_next(ctx.form.get("next"), "/calendar")
    if day is None:
        ctx.flash("error", f"Post {post_id}: pick a day to move it to.")
        return ctx.redirect(back)
    try:
        with ctx.begin() as conn:
            post = post_store.require(conn, post_id)
            when = datetime.combine(day, landing_time(ctx, post, day, given), ctx.config.tz)
            shown = f"{when:%a %-d %b %Y, %H:%M} ({ctx.config.bot.timezone})"
            if when <= clock.now():
                raise WorkflowError(f"{shown} has passed: pick a time still to come")
            post = workflow.schedule(conn, ctx.config, post_id, ctx.actor, when,
                                     in_windows=True)
    except WorkflowError as exc:
        ctx.flash("error", f"Post {post_id} not moved: {exc}")
        return ctx.redirect(back)
    still = " It still needs approval." if post.status == "pending" else ""
    ctx.flash("ok", f"Post {post_id} ({post.channel}) moved to {shown}.{still}")
    return ctx.redirect(back)
