"""The store: the single source of truth and the only place that writes SQL.

`Store` is a thin facade over one SQLAlchemy engine; each concern lives in its own
module (`releases`, `posts`, `sources`, …) as functions taking a connection, so that a
caller can compose several of them in one transaction.
"""

from bot.store.db import Store

__all__ = ["Store"]
