"""The key that signs sessions, CSRF tokens and unsubscribe links.

`bot.secret_key` when configured; otherwise one is generated on first use and kept in
the store, so links in sent newsletters stay valid across restarts and replicas.
"""

from __future__ import annotations

import secrets

from bot.config import Config
from bot.store import Store, meta


def signing_key(config: Config, store: Store) -> str:
    if config.bot.secret_key:
        return config.bot.secret_key.get_secret_value()
    # The write lock up front: a read-then-write transaction cannot upgrade on SQLite while a
    # publisher lane writes ("database is locked", with no wait).
    with store.begin_immediate() as conn:
        key = meta.get(conn, "secret_key")
    if key is None:
        # read-then-write: take SQLite's write lock first, or a commit by another connection
        # between the read and the write fails the upgrade at once ("database is locked")
        with store.begin_immediate() as conn:
            key = meta.get(conn, "secret_key")
            if key is None:
                key = secrets.token_urlsafe(48)
                meta.put(conn, "secret_key", key)
    from bot import redact

    redact.register(key)
    return str(key)
