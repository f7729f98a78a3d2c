"""Channel state: paused by a person or by an auth failure, or waiting out an outage.

A failure of the account (revoked token) or of the platform (connection refused, 5xx) is
the channel's, not the post's: the posts stay approved and keep their attempts, and the
channel waits. `ALL` is the row of the global pause switch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import clock
from bot.store.posts import add_event
from bot.store.schema import channel_state

ALL = "*"
PRESSBOT = "system"
"""`paused_by` of a pause pressbot made itself (the platform refused the credentials): the
only kind a passing `pressbot check` lifts. Any other actor is a person, whose pause — for
crisis communication, say — stays until a person resumes."""
log = logging.getLogger("pressbot.channels")


@dataclass(frozen=True)
class ChannelState:
    channel: str
    paused_at: datetime | None = None
    paused_by: str | None = None
    reason: str | None = None
    hint: str | None = None
    outage_until: datetime | None = None
    outages: int = 0

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    @property
    def paused_by_person(self) -> bool:
        return self.paused and self.paused_by != PRESSBOT

    def who(self) -> str:
        """Who paused, as a person reads it."""
        return "pressbot (credentials refused)" if self.paused_by == PRESSBOT \
            else str(self.paused_by or "someone")

    def waiting(self, now: datetime) -> bool:
        """True while the channel may not publish: paused, or inside an outage's backoff."""
        return self.paused or (self.outage_until is not None and self.outage_until > now)

    def as_dict(self) -> dict[str, Any]:
        return {"paused": self.paused,
                "paused_at": self.paused_at.isoformat() if self.paused_at else None,
                "paused_by": self.paused_by, "reason": self.reason, "hint": self.hint,
                "outage_until": self.outage_until.isoformat() if self.outage_until else None,
                "outages": self.outages}


_ALL_STATES = sa.select(channel_state)


def states(conn: Connection) -> dict[str, ChannelState]:
    """Every channel with a recorded state (the others are simply running)."""
    return {r.channel: ChannelState(**r._mapping) for r in conn.execute(_ALL_STATES)}


def _upsert(conn: Connection, channel: str, **values: Any) -> None:
    updated = conn.execute(channel_state.update().where(channel_state.c.channel == channel)
                           .values(**values)).rowcount
    if not updated:
        conn.execute(channel_state.insert().values(channel=channel, **values))


def pause(conn: Connection, channel: str, *, by: str, reason: str, hint: str = "") -> bool:
    """Pause a channel (or `ALL`); False when it already was (the first reason stays)."""
    current = states(conn).get(channel)
    if current is not None and current.paused:
        return False
    _upsert(conn, channel, paused_at=clock.now(), paused_by=by, reason=reason, hint=hint)
    if by != PRESSBOT:  # the publisher logs its own pauses, with the fix, at ERROR
        log.warning("channel=%s paused by %s: %s", channel, by, reason)
    add_event(conn, actor=by, action="pause",
              detail={"channel": channel, "reason": reason, **({"hint": hint} if hint else {})})
    return True


def resume(conn: Connection, channel: str, *, by: str) -> bool:
    """Lift a pause and any outage wait; False when the channel was not paused."""
    current = states(conn).get(channel)
    if current is None or not (current.paused or current.outage_until):
        return False
    _upsert(conn, channel, paused_at=None, paused_by=None, reason=None, hint=None,
            outage_until=None, outages=0)
    log.warning("channel=%s resumed by %s", channel, by)
    add_event(conn, actor=by, action="resume", detail={"channel": channel})
    return bool(current.paused)


def resume_after_check(conn: Connection, channel: str, *, by: str) -> bool:
    """A passing credentials check: lift pressbot's own pause, never a person's (that one
    keeps its reason until a person resumes); an outage wait ends either way, since the
    platform just answered. True when the channel was resumed."""
    current = states(conn).get(channel)
    if current is not None and current.paused_by_person:
        conn.execute(channel_state.update().where(channel_state.c.channel == channel)
                     .values(outage_until=None, outages=0))
        return False
    return resume(conn, channel, by=by)


def outage(conn: Connection, channel: str, *, until: datetime, error: str) -> int:
    """Record that the platform is unreachable; returns how many outages in a row."""
    current = states(conn).get(channel)
    count = (current.outages if current else 0) + 1
    _upsert(conn, channel, outage_until=until, outages=count)
    if count == 1:
        add_event(conn, actor="system", action="outage",
                  detail={"channel": channel, "error": error})
    return count


def recovered(conn: Connection, channel: str) -> None:
    """The channel answered again: forget its outage (cheap no-op when there was none)."""
    conn.execute(channel_state.update().where(channel_state.c.channel == channel,
                                              channel_state.c.outages > 0)
                 .values(outage_until=None, outages=0))
