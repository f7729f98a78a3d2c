"""The store: the single source of truth and the only place that writes SQL.

`Store` is a thin facade over one SQLAlchemy engine; each concern lives in its own
module (`releases`, `posts`, `sources`, …) as functions taking a connection, so that a
caller can compose several of them in one transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.store.db import Store

__all__ = ["Store"]


def __getattr__(name: str) -> Any:
    # lazy: `bot.store.peek` must be importable without pulling in SQLAlchemy
    if name == "Store":
        from bot.store.db import Store

        return Store
    raise AttributeError(name)
