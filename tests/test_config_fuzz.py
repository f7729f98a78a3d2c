"""Every invalid value of every config key: exit code 2 and a message naming the key.

The cases are derived from the config models themselves (type, bounds, pattern, literal
choices, custom validators), so a key added to `bot/config.py` is fuzzed without anyone
remembering to; `test_every_key_is_fuzzed` fails if a key gets no case. The bulk runs the
CLI in-process; a few cases go through the installed `pressbot` script end to end.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import types
import typing
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import annotated_types
import pytest
from click.testing import CliRunner
from pydantic import BaseModel, HttpUrl, SecretStr

from bot.cli import cli, content, service, subscribers, users, workflow  # noqa: F401
from bot.config import (
    BlueskyConfig,
    BotConfig,
    EmailConfig,
    FacebookConfig,
    FeedSourceConfig,
    FolderSourceConfig,
    MastodonConfig,
    NotifyConfig,
    OutboxConfig,
    Utm,
    WebConfig,
)

SECRET = "s3cr3t-value-never-shown"

# A config using every table; `check --offline` accepts it (proved below).
BASE: dict[str, Any] = {
    "bot": {"database_url": "sqlite:///DB", "timezone": "Europe/Brussels",
            "public_url": "http://127.0.0.1:8080", "outbox": "OUTBOX"},
    "web": {"listen": "127.0.0.1:8080"},
    "notify": {"to": ["comms@example.org"], "channel": "newsletter", "every": "1h"},
    "sources": {
        "press": {"type": "folder", "path": "content", "backlog": "skip"},
        "site": {"type": "feed", "url": "https://www.example.org/feed/"},
    },
    "channels": {
        "mastodon": {"type": "mastodon", "base_url": "https://mastodon.example",
                     "access_token": "token", "utm": {"source": "mastodon"}},
        "bluesky": {"type": "bluesky", "handle": "newsroom.bsky.social",
                    "app_password": "abcd-efgh-ijkl-mnop"},
        "facebook": {"type": "facebook", "page_id": "1234567890",
                     "page_access_token": "token"},
        "newsletter": {"type": "email", "smtp_host": "smtp.example.org",
                       "from": "News <news@example.org>"},
        "preview": {"type": "outbox", "like": "mastodon"},
    },
}

TABLES: dict[str, type[BaseModel]] = {
    "bot": BotConfig, "web": WebConfig, "notify": NotifyConfig,
    "sources.press": FolderSourceConfig, "sources.site": FeedSourceConfig,
    "channels.mastodon": MastodonConfig, "channels.bluesky": BlueskyConfig,
    "channels.facebook": FacebookConfig,
    "channels.newsletter": EmailConfig, "channels.preview": OutboxConfig,
    "channels.mastodon.utm": Utm,
}

# Values only a custom validator refuses, by key name.
CUSTOM: dict[str, list[Any]] = {
    "timezone": ["Mars/Olympus_Mons", ""],
    "listen": ["8080", "127.0.0.1:99999", ":8080"],
    "backlog": ["latest:0", "latest", "some"],
    "database_url": [f"mysql://user:{SECRET}@db.example.org/press", "var/pressbot.db"],
    "schedule": ["every monday", "61 9 * * MON"],
    "windows": [["sometimes"], ["mon-fri 25:00-26:00"]],
    "from": ["not an address", "News <news@example.org>\nBcc: all@example.org"],
    "reply_to": ["nobody"],
    "page_id": ["my-page", "12a"],
    "api_version": ["21.0", "v21"],
    "url": ["ftp://www.example.org/feed", "www.example.org/feed"],
    "base_url": ["mastodon.example", "ftp://mastodon.example"],
    "public_url": ["localhost:8080"],
    "graph_url": ["graph.facebook.com"],
    "pds_url": ["bsky.social"],
    "app_url": ["bsky.app"],
    "handle": ["news room.bsky.social", "x"],
    "replies": ["somebody", ["mentioned", "friends"], 3],
}
# Keys whose invalid values the models cannot see (any string is a valid value).
FREE_TEXT = {"language", "template", "spoiler_text", "smtp_host", "username", "list_id",
             "list_name", "unsubscribe_mailto", "channel", "source", "medium", "campaign"}


def _base_type(annotation: Any) -> Any:
    """`X | None` → X."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def invalid_values(name: str, field: Any) -> list[Any]:
    """Values of the wrong type, out of bounds, off-pattern or refused by a validator."""
    kind = _base_type(field.annotation)
    origin = typing.get_origin(kind)
    values: list[Any] = list(CUSTOM.get(name, []))
    if kind is bool:
        values += ["maybe", 2]
    elif kind is int:
        values += ["many", 1.5]
    elif kind is float:
        values += ["fast"]
    elif kind is timedelta:
        values += ["10 parsecs", -5, "-1m"]
    elif kind is HttpUrl:
        values += ["not a url", 42]
    elif kind is Path:
        values += [42, ["a", "b"]]
    elif kind is SecretStr:
        values += [42, [SECRET]]
    elif origin is Literal:
        values += ["bogus", 1]
    elif origin is list:
        values += ["not-a-list", [1, 2]]
    elif isinstance(kind, type) and issubclass(kind, BaseModel):
        values += ["not-a-table"]
    elif kind is str:
        values += [42, ["a", "b"]]
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Ge):
            values.append(rule.ge - 1)
        elif isinstance(rule, annotated_types.Gt):
            values.append(rule.gt)
        elif isinstance(rule, annotated_types.Le):
            values.append(rule.le + 1)
        elif getattr(rule, "pattern", None) and name not in CUSTOM:
            values.append("does-not-match!")
    return values


def _cases() -> list[tuple[str, str, Any]]:
    cases = []
    for table, model in TABLES.items():
        for attr, field in model.model_fields.items():
            key = field.alias or attr
            for value in invalid_values(key, field):
                cases.append((table, key, value))
    return cases


CASES = _cases()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(value)


def _toml(config: dict[str, Any]) -> str:
    lines: list[str] = []

    def table(path: str, body: dict[str, Any]) -> None:
        lines.append(f"[{path}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in body.items())
        lines.append("")

    for top, body in config.items():
        if top in ("sources", "channels"):
            for name, sub in body.items():
                table(f"{top}.{name}", sub)
        else:
            table(top, body)
    return "\n".join(lines)


def _write(tmp_path: Path, config: dict[str, Any]) -> Path:
    text = _toml(config).replace("sqlite:///DB", f"sqlite:///{tmp_path}/p.db")
    text = text.replace('"OUTBOX"', json.dumps(str(tmp_path / "outbox")))
    file = tmp_path / "pressbot.toml"
    file.write_text(text, encoding="utf-8")
    (tmp_path / "content").mkdir(exist_ok=True)
    return file


def _with(table: str, key: str, value: Any) -> dict[str, Any]:
    config = copy.deepcopy(BASE)
    node = config
    for part in table.split("."):
        node = node.setdefault(part, {})
    node[key] = value
    return config


def test_the_base_config_is_valid(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(_write(tmp_path, BASE)), "check",
                                      "--offline"])
    assert result.exit_code == 0, result.output


def test_every_key_is_fuzzed() -> None:
    covered = {(table, key) for table, key, _ in CASES}
    for table, model in TABLES.items():
        for attr, field in model.model_fields.items():
            assert (table, field.alias or attr) in covered, f"{table}.{attr} has no case"
    assert len(CASES) > 150


@pytest.mark.parametrize(("table", "key", "value"), CASES,
                         ids=[f"{t}.{k}={v!r}"[:80] for t, k, v in CASES])
def test_invalid_value_exits_2_naming_the_key(tmp_path: Path, table: str, key: str,
                                              value: Any) -> None:
    file = _write(tmp_path, _with(table, key, value))
    result = CliRunner().invoke(cli, ["--config", str(file), "check", "--offline"])
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "configuration error" in result.stderr
    named = [line for line in result.stderr.splitlines() if f"{table}.{key}" in line]
    assert named, result.stderr
    assert SECRET not in result.stderr
    assert "Traceback" not in result.output
    for line in named:  # says what was wrong, not just where
        assert len(line.split(f"{table}.{key}", 1)[1].strip(" :.")) > 8, line


@pytest.mark.parametrize("table", ["sources.site", "channels.mastodon", "channels.bluesky",
                                   "channels.facebook", "channels.newsletter"])
def test_a_wrong_type_names_the_table_and_the_choices_but_no_secret(tmp_path: Path,
                                                                    table: str) -> None:
    config = _with(table, "type", "rss")
    for channel, key in (("mastodon", "access_token"), ("bluesky", "app_password"),
                         ("facebook", "page_access_token"), ("newsletter", "password")):
        config["channels"][channel][key] = SECRET
    result = CliRunner().invoke(cli, ["--config", str(_write(tmp_path, config)), "check",
                                      "--offline"])
    assert result.exit_code == 2
    assert f"{table}.type: expected one of" in result.stderr
    assert "got 'rss'" in result.stderr
    assert SECRET not in result.output  # the error's input is the whole table, tokens and all


def test_choices_keep_their_case_and_list_items_say_which(tmp_path: Path) -> None:
    config = _with("bot", "log_level", "verbose")
    config["channels"]["mastodon"]["windows"] = ["mon-fri 09:00-18:00", "whenever"]
    result = CliRunner().invoke(cli, ["--config", str(_write(tmp_path, config)), "check",
                                      "--offline"])
    assert result.exit_code == 2
    assert "bot.log_level: input should be 'DEBUG', 'INFO', 'WARNING' or 'ERROR'" in (
        result.stderr)
    assert "channels.mastodon.windows.1: expected a window like" in result.stderr


@pytest.mark.parametrize("table", sorted(TABLES))
def test_an_unknown_key_is_named(tmp_path: Path, table: str) -> None:
    file = _write(tmp_path, _with(table, "colour", "blue"))
    result = CliRunner().invoke(cli, ["--config", str(file), "check", "--offline"])
    assert result.exit_code == 2
    assert f"{table}.colour: unknown key" in result.stderr


def test_a_missing_required_key_is_named(tmp_path: Path) -> None:
    config = copy.deepcopy(BASE)
    del config["channels"]["mastodon"]["access_token"]
    del config["sources"]["site"]["url"]
    result = CliRunner().invoke(cli, ["--config", str(_write(tmp_path, config)), "check",
                                      "--offline"])
    assert result.exit_code == 2
    assert "channels.mastodon.access_token: required key is missing" in result.stderr
    assert "sources.site.url: required key is missing" in result.stderr


def test_several_problems_are_all_listed(tmp_path: Path) -> None:
    config = _with("web", "listen", "nohost")
    config["bot"]["max_attempts"] = 0
    config["channels"]["facebook"]["post_as"] = "video"
    result = CliRunner().invoke(cli, ["--config", str(_write(tmp_path, config)), "check",
                                      "--offline"])
    assert result.exit_code == 2
    for key in ("web.listen", "bot.max_attempts", "channels.facebook.post_as"):
        assert key in result.stderr


@pytest.mark.parametrize("text", ["[bot\nfoo = 1", "bot = [", "\x00"])
def test_a_file_that_is_not_toml_exits_2(tmp_path: Path, text: str) -> None:
    file = tmp_path / "broken.toml"
    file.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(file), "check", "--offline"])
    assert result.exit_code == 2
    assert "not valid TOML" in result.stderr


def test_a_missing_variable_names_the_key_and_the_variable(tmp_path: Path) -> None:
    file = _write(tmp_path, _with("channels.mastodon", "access_token", "${NO_SUCH_TOKEN}"))
    result = CliRunner().invoke(cli, ["--config", str(file), "check", "--offline"])
    assert result.exit_code == 2
    assert "channels.mastodon.access_token: environment variable NO_SUCH_TOKEN" in result.stderr


# ---------------------------------------------------------------- end to end

SCRIPT = Path(sys.executable).parent / "pressbot"


@pytest.mark.parametrize(("table", "key", "value"), [
    ("channels.mastodon", "base_url", "mastodon.example"),
    ("sources.site", "poll_every", "10 parsecs"),
    ("channels.newsletter", "smtp_port", 70000),
])
def test_the_installed_script_exits_2_naming_the_key(tmp_path: Path, table: str, key: str,
                                                     value: Any) -> None:
    assert SCRIPT.exists(), f"console script not installed at {SCRIPT}"
    file = _write(tmp_path, _with(table, key, value))
    done = subprocess.run([str(SCRIPT), "--config", str(file), "check", "--offline"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert f"{table}.{key}:" in done.stderr
    assert done.stdout == ""


# Values a single field accepts but the rest of the config contradicts, or that would make
# the service misbehave: checked across the whole config.
@pytest.mark.parametrize(("table", "key", "value"), [
    ("notify", "channel", "no-such-channel"),
    ("notify", "to", ["not-an-address"]),
    ("sources.site", "channels", ["no-such-channel"]),
    ("bot", "publish_every", "0s"),
    ("bot", "lease", "0s"),
])
def test_values_checked_across_the_config(tmp_path: Path, table: str, key: str,
                                            value: Any) -> None:
    file = _write(tmp_path, _with(table, key, value))
    result = CliRunner().invoke(cli, ["--config", str(file), "check", "--offline"])
    assert result.exit_code == 2
    assert f"{table}.{key}" in result.stderr
