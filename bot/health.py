"""What `/healthz` reports: database reachable, scheduler alive, polls, overdue posts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from bot import clock
from bot.config import Config
from bot.store import Store
from bot.store import sources as source_store
from bot.store.schema import posts


class Health:
    """Remembers the service's heartbeats; `report` reads the rest from the store."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.started_at = clock.now()
        self.last_pass_at: datetime | None = None

    def published(self) -> None:
        self.last_pass_at = clock.now()

    def polled(self, name: str, ok: bool) -> None:
        """Poll outcomes are kept in the store's source state; nothing to hold here."""

    def report(self) -> tuple[bool, dict[str, Any]]:
        now = clock.now()
        data: dict[str, Any] = {"started_at": self.started_at.isoformat()}
        try:
            with self.store.begin() as conn:
                states = source_store.all_states(conn)
                overdue = conn.execute(
                    sa.select(sa.func.min(posts.c.publish_at)).where(
                        posts.c.status == "approved",
                        posts.c.publish_at < now - timedelta(minutes=5))).scalar()
            data["database"] = "ok"
        except sa.exc.SQLAlchemyError as exc:
            return False, {**data, "database": f"unreachable: {type(exc).__name__}"}
        every = self.config.bot.publish_every.total_seconds()
        alive = self.last_pass_at is not None and (
            now - self.last_pass_at).total_seconds() < max(60, every * 6)
        starting = (now - self.started_at).total_seconds() < 60
        data["scheduler"] = "ok" if alive or starting else "stalled"
        data["last_publish_pass_at"] = self.last_pass_at.isoformat() if self.last_pass_at \
            else None
        data["sources"] = {
            name: {"last_ok_at": s.last_ok_at.isoformat() if s.last_ok_at else None,
                   "last_error": s.last_error, "failures": s.failures}
            for name, s in states.items() if name in self.config.sources}
        data["oldest_overdue_post_at"] = overdue.isoformat() if overdue else None
        healthy = data["scheduler"] == "ok"
        return healthy, data
