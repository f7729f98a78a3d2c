"""Shared test helpers: a workspace with its own config, and the CLI run in-process."""

from __future__ import annotations

import logging
import shutil
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot import paths
from bot.cli import cli, content, service, subscribers, users, workflow  # noqa: F401

EXAMPLES = paths.data_dir() / "examples" / "content"

SAFETY = 300.0
"""Seconds a test waits for a process, a server or a count before it gives up: a net against
a hang on a machine busy with other work, never the thing a test asserts (a test proves order
and outcome; durations are for bench/)."""

CHANNELS = """
[channels.mastodon]
type = "outbox"
like = "mastodon"
approval = "manual"

[channels.facebook]
type = "outbox"
like = "facebook"
approval = "manual"
"""
"""Two dry-run channels, manual approval: the default of test and bench workspaces."""

NEWSLETTER_OUTBOX = """
[channels.newsletter]
type = "outbox"
like = "email"
approval = "manual"
"""


@dataclass
class Workspace:
    root: Path
    config: Path

    @property
    def content(self) -> Path:
        return self.root / "content"

    def run(self, *args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, ["--config", str(self.config), *args], input=input,
                                  catch_exceptions=False)


def make_workspace(root: Path, *, database_url: str | None = None, extra: str = "",
                   channels: str = CHANNELS, backlog: str = "all",
                   copy_examples: bool = False) -> Workspace:
    (root / "content").mkdir(parents=True, exist_ok=True)
    if copy_examples:
        for file in EXAMPLES.iterdir():
            shutil.copy(file, root / "content" / file.name)
    database_url = database_url or f"sqlite:///{root}/pressbot.db"
    config = root / "pressbot.toml"
    config.write_text(textwrap.dedent(f"""
        [bot]
        database_url = "{database_url}"
        timezone = "Europe/Brussels"
        outbox = "{root}/outbox"
        retry_base = "0.05s"
        retry_max = "0.5s"
        publish_every = "0.2s"

        [sources.press]
        type = "folder"
        path = "{root}/content"
        backlog = "{backlog}"
        base_url = "https://www.example.org/news/"
        """) + channels + extra, encoding="utf-8")
    return Workspace(root, config)


def write_release(folder: Path, name: str, title: str, *, date: str = "2026-03-10",
                  extra: str = "", body: str = "The body of the release.") -> Path:
    path = folder / name
    path.write_text(f"---\ntitle: {title}\ndate: {date}\nsummary: {title} — in short.\n"
                    f"url: https://www.example.org/news/{Path(name).stem}\n{extra}---\n\n{body}\n",
                    encoding="utf-8")
    return path


def checked_logs(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
                 secrets: list[str]) -> Iterator[pytest.LogCaptureFixture]:
    """For an autouse fixture (`yield from`): capture every log record of the in-process
    CLI and fail the test if one shows a secret.

    `setup_logging` replaces the root handlers once per process (pytest's capture handler
    with them); marking it done keeps the records flowing to caplog unfiltered, so this
    checks the records themselves, not a handler's scrubbing.
    """
    monkeypatch.setattr(logging.getLogger(), "_pressbot", True, raising=False)
    # set_level also sets caplog's handler level: the last call must be the lowest.
    caplog.set_level(logging.WARNING, logger="sqlalchemy")
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="httpx")
    yield caplog
    # In teardown `caplog.records` is teardown's (empty) list: read the test's own records.
    records = caplog.get_records("setup") + caplog.get_records("call")
    assert records, "no log records were captured: the check below would prove nothing"
    for secret in secrets:
        assert not [r.getMessage() for r in records if secret in r.getMessage()]


def wait_until(what: Callable[[], bool], seconds: float, log: Path) -> None:
    """Poll `what` until it holds; after `seconds` (give `SAFETY`) fail with the tail of the
    service's log."""
    deadline = time.monotonic() + seconds
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; service log:\n{log.read_text()[-3000:]}")
        time.sleep(0.1)
