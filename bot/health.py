"""What `/healthz` reports: database reachable and writable, loops alive, polls, channels,
overdue posts.

Three states. `ok`; `degraded` — the service runs but posts are not going out as planned
(a channel paused or waiting out an outage, a channel's head post failing, approved posts
overdue, everything paused, a poll or publish pass not completed for twice its interval);
`unhealthy` — the database is unreachable or cannot write (disk full). Only `ok` answers
200: a paused channel must page someone, not pass a check.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import clock
from bot.config import Config, EmailConfig
from bot.redact import safe_url
from bot.store import Store, meta
from bot.store import channels as channel_store
from bot.store import sources as source_store
from bot.store.schema import posts

if TYPE_CHECKING:
    from bot.loops import Loops

OVERDUE_AFTER = timedelta(minutes=5)
log = logging.getLogger("pressbot.health")


class Health:
    """Remembers the service's heartbeats; `report` reads the rest from the store."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.started_at = clock.now()
        self.last_pass_at: datetime | None = None
        self.loops: Loops | None = None
        """The service's loops, whose last completed passes tell liveness (None: `web`)."""
        self.cannot_write: str | None = None
        """Why the database refuses writes ("disk full"), until a probe write succeeds."""
        self.unreachable: tuple[str, float, int] | None = None
        """The database could not be reached: (the driver's first line, since when on the
        monotonic clock, failed passes), until a pass completes again."""
        self.last_ok: dict[str, datetime] = {}
        """Each source's last successful poll in this process: an unchanged poll writes no
        state row, so the store's `last_ok_at` may be older (by up to `STATE_HEARTBEAT`)."""

    def published(self) -> None:
        self.last_pass_at = clock.now()

    def write_failed(self, why: str, exc: BaseException) -> None:
        """A pass failed because the database refuses writes: one log line per episode."""
        if self.cannot_write is None:
            log.error("unhealthy: database cannot write (%s): %s — polls and publishing "
                      "wait; they resume on their own once it can", why,
                      str(getattr(exc, "orig", None) or exc).splitlines()[0][:200])
        self.cannot_write = why

    def database_unreachable(self, why: str) -> None:
        """A pass failed because the database could not be reached: one line when it begins
        (not one traceback per failed pass); `pass_done` logs the end."""
        if self.unreachable is None:
            log.error("database unreachable, retrying: %s", why)
            self.unreachable = (why, time.monotonic(), 1)
        else:
            first, since, failed = self.unreachable
            self.unreachable = (first, since, failed + 1)

    def pass_done(self, name: str) -> None:
        """A loop's pass completed. A publish pass always reads the store (an idle poll
        may not touch it at all), so its completion ends an "unreachable" episode."""
        if self.unreachable is not None and name == "publish":
            _, since, failed = self.unreachable
            self.unreachable = None
            log.warning("database reachable again after %.0f s (%d pass(es) failed meanwhile)",
                        time.monotonic() - since, failed)

    def probe_writes(self) -> None:
        """While writes fail, one small write per publish pass tells when they work again
        (raises as long as they do not)."""
        if self.cannot_write is None:
            return
        with self.store.begin_immediate() as conn:
            meta.put(conn, "health:write-probe", clock.now().isoformat())
        log.warning("database writes again (it could not: %s)", self.cannot_write)
        self.cannot_write = None

    def polled(self, name: str, ok: bool) -> None:
        """Poll outcomes are kept in the store's source state, but an unchanged poll does not
        write it: its time is kept here."""
        if ok:
            self.last_ok[name] = clock.now()

    def report(self) -> tuple[bool, dict[str, Any]]:
        now = clock.now()
        data: dict[str, Any] = {"started_at": self.started_at.isoformat()}
        try:
            with self.store.begin() as conn:
                states = source_store.all_states(conn)
                pushes = meta.with_prefix(conn, "websub:")
                channels = channel_report(conn, self.config, now)
                overdue, overdue_count = conn.execute(
                    sa.select(sa.func.min(posts.c.publish_at), sa.func.count()).where(
                        posts.c.status.in_(("approved", "failed")),
                        sa.func.coalesce(posts.c.next_attempt_at, posts.c.publish_at)
                        < now - OVERDUE_AFTER)).one()
            data["database"] = "ok"
        except sa.exc.SQLAlchemyError as exc:
            lost = self.unreachable
            return False, {**data, "status": "unhealthy",
                           "database": f"unreachable: {type(exc).__name__}",
                           **({"failed_passes": lost[2]} if lost is not None else {})}
        stalled = self.loops.stalled() if self.loops is not None else []
        data["scheduler"] = "off" if self.loops is None else "stalled" if stalled else "ok"
        if self.cannot_write:
            data["database"] = f"cannot write ({self.cannot_write})"
        data["last_publish_pass_at"] = self.last_pass_at.isoformat() if self.last_pass_at \
            else None
        data["sources"] = {
            name: {"last_ok_at": _latest(s.last_ok_at, self.last_ok.get(name)),
                   "last_error": s.last_error, "failures": s.failures,
                   # a folder's files that failed stay listed until they change: they are
                   # reported once by the poll that read them, then not read again
                   **({"failed_files": [f.get("error") for f in s.data["failed"].values()]}
                      if isinstance(s.data, dict) and s.data.get("failed") else {}),
                   **({"websub": _push(pushes[name])} if _push(pushes.get(name)) else {})}
            for name, s in states.items() if name in self.config.sources}
        data["oldest_overdue_post_at"] = overdue.isoformat() if overdue else None
        data["overdue_posts"] = int(overdue_count or 0)
        data["channels"] = channels
        problems = [f"channel {name} {info['state']}" for name, info in channels.items()
                    if info["state"] != "ok"]
        if overdue_count:
            problems.append(f"{overdue_count} approved post(s) overdue")
        for loop, age in stalled:
            what = "publish pass" if loop.name == "publish" else \
                f"poll of source {loop.name.removeprefix('poll:')}"
            problems.append(f"{what} stalled: none completed for {age:.0f} s "
                            f"(every {loop.every:g} s)")
        if self.cannot_write:
            problems.insert(0, f"database cannot write ({self.cannot_write})")
            data["status"] = "unhealthy"
        else:
            data["status"] = "degraded" if problems else "ok"
        data["problems"] = problems
        return data["status"] == "ok", data


def _latest(*times: datetime | None) -> str | None:
    known = [t for t in times if t is not None]
    return max(known).isoformat() if known else None


def _push(state: Any) -> dict[str, Any] | None:
    """A source's WebSub subscription as a monitor reads it: where it stands, the hub
    (credentials never shown), the lease and the hub's last signed push (nonces and
    callbacks never shown: they are what proves a verification came from the hub)."""
    if not isinstance(state, dict) or not state.get("status"):
        return None
    hub = state.get("subscribed_hub") or state.get("hub")
    return {"status": state["status"], "hub": safe_url(str(hub)) if hub else None,
            **{key: state.get(key) for key in ("lease_until", "last_push_at", "error")}}


_HEAD_FAILING = (sa.select(posts.c.channel, sa.func.count())
                 .where(posts.c.status == "failed", posts.c.attempts > 0)
                 .group_by(posts.c.channel))


def channel_report(conn: Connection, config: Config, now: datetime) -> dict[str, dict[str, Any]]:
    """Per configured channel: `ok`, `paused` (a person must act), `outage` (the platform
    did not answer, and has not answered since: also between two backoff waits), `failing`
    (a post is being retried) — and `paused` for all under pause-all. A newsletter channel
    also counts its `uncertain_recipients` (a message whose answer never came, not re-sent)."""
    states = channel_store.states(conn)
    failing: dict[str, int] = {str(c): int(n) for c, n in conn.execute(_HEAD_FAILING)}
    unknown: dict[str, int] = {}
    if any(isinstance(c, EmailConfig) for c in config.channels.values()):
        from bot.store import deliveries  # the newsletter's ledger: only a site with one

        unknown = deliveries.uncertain_by_channel(conn)
    everything = states.get(channel_store.ALL)
    report: dict[str, dict[str, Any]] = {}
    for name in config.channels:
        state = states.get(name)
        detail: channel_store.ChannelState | None
        if everything is not None and everything.paused:
            kind, detail = "paused", everything
        elif state is not None and state.paused:
            kind, detail = "paused", state
        elif state is not None and (state.waiting(now) or state.outages):
            kind, detail = "outage", state
        elif failing.get(name):
            kind, detail = "failing", state
        else:
            kind, detail = "ok", state
        report[name] = {"state": kind, "failing_posts": int(failing.get(name, 0)),
                        **({"paused_by": detail.who(), "reason": detail.reason,
                            "hint": detail.hint,
                            "since": detail.paused_at.isoformat() if detail.paused_at else None}
                           if kind == "paused" and detail is not None else {}),
                        **({"until": detail.outage_until.isoformat()}
                           if kind == "outage" and detail is not None and detail.outage_until
                           else {}),
                        **({"uncertain_recipients": unknown.get(name, 0)}
                           if isinstance(config.channels[name], EmailConfig) else {})}
    return report
