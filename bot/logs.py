"""Structured logs: one line per event, logfmt or JSON (bot.logformat), secrets scrubbed."""

from __future__ import annotations

import logging
import sys

from bot.logformat import FieldsFilter, JsonFormatter, LogfmtFormatter
from bot.redact import RedactingFilter


def setup_logging(level: str = "INFO", fmt: str = "kv", *, force: bool = False) -> None:
    """Configure the root logger once; stderr, so `--json` output on stdout stays clean."""
    root = logging.getLogger()
    if getattr(root, "_pressbot", False) and not force:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(FieldsFilter())   # first: it reads the arguments redaction flattens
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else LogfmtFormatter())
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "apscheduler", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, BusyJobFilter) for f in scheduler_log.filters):
        scheduler_log.addFilter(BusyJobFilter())
    root._pressbot = True  # type: ignore[attr-defined]


class BusyJobFilter(logging.Filter):
    """Drops APScheduler's "skipped: maximum number of running instances reached".

    A publish pass that drains a backlog outlasts its interval by design (max_instances=1
    makes the next tick wait for it), so the warning would repeat every interval and bury
    the lines that matter.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in str(record.msg)
