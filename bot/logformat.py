"""Log lines as machines read them: fields as their own keys, in JSON or in logfmt.

pressbot's messages carry their fields in the format string (`"post=%d channel=%s
published"`). Rather than rewrite every call site, a filter reads each `key=%s` token of
the format string with its argument and keeps the value as it was passed (an int stays an
int in JSON); the rest of the string is the message. It runs before the redacting filter,
which flattens the record, and scrubs each value the same way.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from bot.redact import redact

_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_.]*)=(\S+)$")
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?"
                          r"([diouxXeEfFgGcrsa%])")
_RESERVED = {"ts", "level", "logger", "msg", "exc"}


def split_fields(record: logging.LogRecord) -> tuple[str, dict[str, Any]]:
    """The record's message without its `key=value` tokens, and those as a dict.

    Anything this cannot read exactly (mapping arguments, a count mismatch) is left whole
    in the message: a field lost is better than a wrong one.
    """
    fmt, args = record.msg, record.args
    if not isinstance(fmt, str) or isinstance(args, Mapping):
        return record.getMessage(), {}
    if not args:   # logging formats nothing then: "100%" stays as written
        fmt = fmt.replace("%", "%%")
    values = list(args or ())
    words: list[str] = []
    fields: dict[str, Any] = {}
    for token in re.split(r"(\s+)", fmt):
        wanted = [m for m in _PLACEHOLDER.finditer(token) if m.group(1) != "%"]
        if len(wanted) > len(values):
            return record.getMessage(), {}
        used, values = values[:len(wanted)], values[len(wanted):]
        field = _FIELD.match(token)
        if field and field.group(1) not in _RESERVED:
            template = field.group(2)
            whole = len(used) == 1 and template == wanted[0].group(0) and \
                wanted[0].group(1) in "sd" and isinstance(used[0], (int, float, bool))
            fields[field.group(1)] = used[0] if whole else _render(template, used)
        else:
            words.append(_render(token, used) if used or "%" in token else token)
    if values:
        return record.getMessage(), {}
    return "".join(words).strip(), fields


def _render(template: str, values: list[Any]) -> str:
    try:
        return template % tuple(values)
    except (TypeError, ValueError):
        return " ".join([template, *map(str, values)])


class FieldsFilter(logging.Filter):
    """Stores the message and its fields on the record, scrubbed, before redaction
    renders the record flat."""

    def filter(self, record: logging.LogRecord) -> bool:
        message, fields = split_fields(record)
        record.pressbot_msg = redact(message)
        record.pressbot_fields = {k: redact(v) if isinstance(v, str) else v
                                  for k, v in fields.items()}
        return True


def _iso(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parts(record: logging.LogRecord, formatter: logging.Formatter) -> dict[str, Any]:
    message = getattr(record, "pressbot_msg", None)
    fields = getattr(record, "pressbot_fields", None)
    if message is None or fields is None:   # a handler without FieldsFilter
        message, fields = record.getMessage(), {}
    data: dict[str, Any] = {"ts": _iso(record), "level": record.levelname.lower(),
                            "logger": record.name, "msg": message}
    for key, value in fields.items():
        data[key if key not in data else f"field.{key}"] = value
    if record.exc_info or record.exc_text:
        data["exc"] = record.exc_text or formatter.formatException(
            record.exc_info)  # type: ignore[arg-type]
    return data


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (ISO 8601 UTC), level, logger, msg, then each field."""

    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(_parts(record, self), ensure_ascii=False, default=str)


_BARE = re.compile(r"[^\s=\"\\]+")


def logfmt_value(value: Any) -> str:
    """A value as logfmt writes it: bare when it can be, else a double-quoted string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return '""'
    text = str(value)
    if _BARE.fullmatch(text):
        return text
    return json.dumps(text, ensure_ascii=False)   # quotes, backslashes, newlines escaped


class LogfmtFormatter(logging.Formatter):
    """logfmt (`ts=… level=info logger=… msg="…" post=3`): one line, every value quoted
    where a space, `=` or quote would break it."""

    def format(self, record: logging.LogRecord) -> str:
        return " ".join(f"{key}={logfmt_value(value)}"
                        for key, value in _parts(record, self).items())
