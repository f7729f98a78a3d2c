"""Structured logs: one line per event, `key=value` or JSON, secrets scrubbed."""

from __future__ import annotations

import json
import logging
import sys

from bot.redact import RedactingFilter


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                "logger": record.name, "msg": record.getMessage()}
        if record.exc_text or record.exc_info:
            data["exc"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(data, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "kv", *, force: bool = False) -> None:
    """Configure the root logger once; stderr, so `--json` output on stdout stays clean."""
    root = logging.getLogger()
    if getattr(root, "_pressbot", False) and not force:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(
            "at=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"))
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
