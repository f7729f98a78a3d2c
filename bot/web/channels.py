"""The channel switches on the review page: a paused channel's banner, pause one channel
or all, resume.

The same store functions as `pressbot pause`/`resume`; anyone who reviews may stop a
channel (or everything) in an emergency, with a reason the banner and the audit trail
show, and it takes an editor to let posts flow again.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from bot import clock
from bot.store import channels as channel_store
from bot.web.context import Ctx, safe_next
from bot.web.wording import person


def _who(state: channel_store.ChannelState) -> str | None:
    if not state.paused:
        return None
    return state.who() if state.paused_by == channel_store.PRESSBOT else person(state.paused_by)


def banners(ctx: Ctx) -> list[dict[str, Any]]:
    """What the queue shows on top: every pause (the global one first), and outages."""
    now = clock.now()
    with ctx.begin() as conn:
        states = channel_store.states(conn)
    shown = []
    for name, state in sorted(states.items(), key=lambda item: item[0] != channel_store.ALL):
        if state.paused or state.waiting(now):
            shown.append({"channel": name, "all": name == channel_store.ALL,
                          "paused": state.paused, "by": _who(state),
                          "reason": state.reason, "hint": state.hint,
                          "since": state.paused_at, "until": state.outage_until})
    return shown


REASON_CHARS = 500


def switches(ctx: Ctx) -> list[dict[str, Any]]:
    """Every configured channel with its state, for the switch panel of the queue."""
    now = clock.now()
    with ctx.begin() as conn:
        states = channel_store.states(conn)
    shown = []
    for name in ctx.config.channels:
        state = states.get(name) or channel_store.ChannelState(channel=name)
        shown.append({"channel": name, "paused": state.paused, "by": _who(state),
                      "reason": state.reason,
                      "since": state.paused_at,
                      "until": state.outage_until if state.waiting(now) else None})
    return shown


def pause(ctx: Ctx) -> Response:
    """Pause one channel: its approved posts keep their place and wait."""
    name = ctx.request.path_params["channel"]
    if name not in ctx.config.channels:
        return ctx.refuse(404, f"There is no channel {name!r}.")
    typed = " ".join(ctx.form.get("reason", "").split())[:REASON_CHARS]
    with ctx.begin() as conn:
        changed = channel_store.pause(
            conn, name, by=ctx.actor,
            reason=typed or f"paused from the review page by {person(ctx.actor)}")
    ctx.flash("ok", f"Channel {name} is paused: nothing goes out on it until an editor "
                    "resumes it." if changed else f"Channel {name} was already paused.")
    return ctx.redirect(safe_next(ctx.form.get("next"), "/"))


def pause_all(ctx: Ctx) -> Response:
    with ctx.begin() as conn:
        changed = channel_store.pause(conn, channel_store.ALL, by=ctx.actor,
                                      reason=f"paused from the review page by {person(ctx.actor)}")
    ctx.flash("ok", "Every channel is paused: nothing goes out until an editor resumes."
              if changed else "Every channel was already paused.")
    return ctx.redirect(safe_next(ctx.form.get("next"), "/"))


def resume(ctx: Ctx) -> Response:
    name = ctx.request.path_params["channel"]
    if name != channel_store.ALL and name not in ctx.config.channels:
        return ctx.refuse(404, f"There is no channel {name!r}.")
    with ctx.begin() as conn:
        changed = channel_store.resume(conn, name, by=ctx.actor)
    shown = "Every channel" if name == channel_store.ALL else f"Channel {name}"
    ctx.flash("ok", f"{shown} resumed: approved posts go out in order."
              if changed else f"{shown} was not paused.")
    return ctx.redirect(safe_next(ctx.form.get("next"), "/"))
