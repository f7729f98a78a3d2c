"""The current time, in one place, so tests (and demos) can freeze it.

`PRESSBOT_CLOCK` (ISO 8601 with offset) pins "now" for every process that reads it —
CLI tests run real subprocesses, so an injected object would not reach them.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime


def now() -> datetime:
    """Timezone-aware UTC now (or the frozen time)."""
    frozen = os.environ.get("PRESSBOT_CLOCK")
    if frozen:
        value = datetime.fromisoformat(frozen)
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return datetime.now(UTC)
