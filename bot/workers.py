"""Who is publishing: a worker's name, and whether a local worker's process has ended.

Its own module so `pressbot publish` can ask "is anything due?" before it loads the
publisher, the channels and their HTTP stack.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

from sqlalchemy.engine import Connection

__all__ = ["anything_due", "worker_gone", "worker_id"]


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_gone(worker: str) -> bool:
    """True when `worker` ran on this host and its process no longer exists.

    Its claim then cannot be in flight, so a restart reconciles it at once instead of
    waiting out the lease. A worker on another host (or a pid that was reused) keeps its
    lease: only time proves it gone.
    """
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def anything_due(conn: Connection, now: datetime) -> bool:
    """Whether a pass would find a post to publish now (or a stale claim to reconcile):
    the same heads the publisher claims, read without claiming them."""
    from bot.store import channels as channel_store
    from bot.store import posts as post_store

    states = channel_store.states(conn)
    if channel_store.ALL in states and states[channel_store.ALL].paused:
        return False
    waiting = {name for name, state in states.items() if state.waiting(now)}
    return bool(post_store.due_heads(conn, now, waiting=waiting, gone=worker_gone))
