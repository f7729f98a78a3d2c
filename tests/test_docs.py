"""The README, config/example.toml and the CLI must not drift apart."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import click
from pydantic import BaseModel

from bot import config as cfg
from tests.helpers import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = (ROOT / "config" / "example.toml").read_text(encoding="utf-8")


def test_readme_gives_exactly_two_setup_commands_that_exist() -> None:
    block = README.split("## Set-up: two commands", 1)[1].split("```sh", 1)[1].split("```")[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_cli_command_and_option_is_documented() -> None:
    table = README.split("## Command line", 1)[1].split("\n## ", 1)[0]
    for name, command in cli.commands.items():
        assert f"`{name}" in table, f"README does not document `pressbot {name}`"
        subcommands = command.commands if isinstance(command, click.Group) else {}
        for sub in subcommands:
            assert sub in table, f"README does not document `pressbot {name} {sub}`"
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                flag = max(param.opts, key=len)
                assert flag in table, f"README does not document `{name} {flag}`"


def _documented_keys(models: list[type[BaseModel]]) -> set[str]:
    keys: set[str] = set()
    for model in models:
        for name, field in model.model_fields.items():
            keys.add(field.alias or name)
    return keys


def _example_keys() -> set[str]:
    """Keys set or shown commented-out in the example config."""
    keys = set(re.findall(r"^#?\s*([a-z_]+)\s*=", EXAMPLE, re.M))
    keys |= set(re.findall(r"\b(source|medium|campaign)\s*=", EXAMPLE))
    return keys


def test_example_config_documents_every_key_and_only_real_keys() -> None:
    models: list[type[BaseModel]] = [
        cfg.BotConfig, cfg.WebConfig, cfg.NotifyConfig, cfg.NewsletterConfig,
        cfg.FolderSourceConfig, cfg.FeedSourceConfig, cfg.MastodonConfig, cfg.BlueskyConfig,
        cfg.FacebookConfig, cfg.LinkedInConfig, cfg.EmailConfig,
        cfg.OutboxConfig, cfg.Utm]
    real = _documented_keys(models)
    shown = _example_keys()
    assert real - shown == set(), f"keys missing from config/example.toml: {real - shown}"
    assert shown - real == set(), f"keys in config/example.toml that do not exist: {shown - real}"
    tomllib.loads(EXAMPLE)


def test_readme_documents_every_source_and_channel_type() -> None:
    for kind in ("feed", "folder", "mastodon", "bluesky", "facebook", "linkedin", "email",
                 "outbox"):
        assert f'type = "{kind}"' in README
    for key in ("title", "date", "summary", "url", "tags", "image", "image_alt", "language",
                "embargo", "channels"):
        assert f"`{key}`" in README
