"""Read-only peeks into an existing SQLite store without importing SQLAlchemy.

`preview` uses it: it must not create or migrate a database, and importing SQLAlchemy
would double its start-up time. Other databases (or none yet) give nothing.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any


def learned_limits(database_url: str) -> dict[str, dict[str, Any]]:
    """Per channel, the limits its platform reported at the last `check`."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix):
        return {}
    path = Path(database_url.removeprefix(prefix))
    if not path.is_file():
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2) as conn:
            rows = conn.execute("SELECT key, value FROM meta WHERE key LIKE 'limits:%'")
            return {k.removeprefix("limits:"): json.loads(v) for k, v in rows}
    except sqlite3.Error:
        return {}
