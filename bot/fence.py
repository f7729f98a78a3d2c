"""Fencing: right before a request that creates something, check the claim is still ours.

A lease alone cannot stop a worker that was paused past it (SIGSTOP, a long GC pause, a
frozen VM, a closed laptop lid): it wakes up believing it still owns its post while
another worker has taken the post over and maybe published it. Every claim raises the
post's `claim_token`; the publisher puts a check of its token in the context of the
channel's `publish`, and a channel awaits `hold()` before each request that would create
a second copy (a status, a record, a page post), so a stale worker stops there with
`LostClaim`. The newsletter does the same inside the transaction that marks a recipient
`sending` (`bot.store.deliveries.start`), which also makes each address claimable.

The check narrows the window to the time between it and the request; a platform's own
idempotency key (Mastodon) or record key (Bluesky) closes the rest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Check = Callable[[], Awaitable[None]]
_current: ContextVar[Check | None] = ContextVar("pressbot_fence", default=None)


async def hold() -> None:
    """Raise `LostClaim` when the post being published was claimed by another worker since
    (a no-op outside the publisher, e.g. in `pressbot check` or a channel's own tests)."""
    check = _current.get()
    if check is not None:
        await check()


@contextmanager
def fenced(check: Check) -> Iterator[None]:
    """Make `check` what `hold()` runs, for the code (and the tasks it starts) inside."""
    token = _current.set(check)
    try:
        yield
    finally:
        _current.reset(token)
