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
    root._pressbot = True  # type: ignore[attr-defined]
