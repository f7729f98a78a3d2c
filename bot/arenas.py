"""Fewer malloc arenas for the long-running service, and freed heap given back after a burst.

glibc gives each thread that finds the main heap busy an arena of its own (up to eight per
core) and keeps the memory freed in each for later. The service's threads (database calls
handed off by the event loop, the web page's handlers) each keep such a reserve: with 50
feeds that was about 3.5 MB of the service's resident memory, for no speed it could measure,
since its work is one event loop. Two arenas are set from inside the process because
`MALLOC_ARENA_MAX` in the environment is read before Python starts, where neither systemd
units nor `pressbot run` typed at a shell can be relied on to set it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging

M_ARENA_MAX = -8
"""`mallopt`'s parameter number in glibc's malloc.h."""
ARENAS = 2

log = logging.getLogger("pressbot.service")


def limit() -> bool:
    """Cap the arenas threads created from now on may use; False where the C library is not
    glibc (musl, macOS), which have no such setting or need none."""
    try:
        mallopt = ctypes.CDLL(None).mallopt   # the C library the interpreter runs on
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    done = bool(mallopt(M_ARENA_MAX, ARENAS))
    log.debug("malloc arenas capped at %d: %s", ARENAS, done)
    return done


TRIM_AFTER = 5.0
"""Seconds of quiet after the last burst of work before the heap is trimmed: one trim for
a whole round of polls that stored releases, not one per source."""
_pending: list[asyncio.TimerHandle] = []


def trim_soon() -> None:
    """After work that allocated and freed a lot (reading new releases), hand the free pages
    at the heap's top and in its holes back to the system (`malloc_trim`): without it the
    service keeps its busiest moment's footprint for good (about 1 MB after a first sight of
    50 feeds). Debounced; a no-op where the C library has no `malloc_trim`."""
    for handle in _pending:
        handle.cancel()
    _pending[:] = [asyncio.get_running_loop().call_later(TRIM_AFTER, _trim)]


def _trim() -> None:
    _pending.clear()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)
