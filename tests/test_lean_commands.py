"""Cron-style commands load only what their work needs (issue 17).

Read from the process itself: `python -X importtime` lists every module a command
imported, so a test fails the day a change pulls the HTTP stack, the channels or Jinja2
back into a run that has nothing to do.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

from bot.cli import HOMES, cli
from tests.helpers import make_workspace, write_release

RUN = "import sys; from bot.cli import main; sys.argv[0] = 'pressbot'; main()"


def imported(config: Path, *args: str) -> tuple[set[str], str]:
    """The modules `pressbot --config CONFIG ARGS` imported, and what it printed."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", RUN, "--config",
                           str(config), *args], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    return names, done.stdout


def test_publish_with_nothing_due_loads_no_channel_or_http_code(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)   # manual approval: a fetched release waits, not due
    write_release(ws.content, "r1.md", "Release one")
    names, out = imported(ws.config, "fetch")
    assert "1 new release, 2 posts queued" in out
    names, out = imported(ws.config, "publish")
    assert out.strip() == "0 published, 0 failed (will retry), 0 held"
    assert "sqlalchemy" in names                        # it did read the queue
    assert not {"httpx", "channels.registry", "bot.publisher", "jinja2"} & names

    first = min(p["id"] for p in json.loads(ws.run("queue", "--json").stdout))
    assert ws.run("approve", str(first)).exit_code == 0
    names, out = imported(ws.config, "publish")        # now one is due: the real pass
    assert out.startswith("1 published"), out
    assert "bot.publisher" in names


def test_fetch_with_nothing_new_renders_nothing(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    write_release(ws.content, "r1.md", "Release one")
    assert ws.run("fetch").exit_code == 0
    names, out = imported(ws.config, "fetch")
    assert "0 new releases" in out
    assert not {"jinja2", "bot.render", "bot.workflow", "alembic", "argon2", "starlette",
                "css_inline", "dateparser", "aiosmtplib"} & names


def test_a_first_poll_whose_backlog_is_skipped_loads_no_rendering(tmp_path: Path) -> None:
    """The service's first poll of a source records its backlog as seen: nothing to render,
    so the service stays without Jinja2's sandbox and the fitter (2 MB) until a release
    really gets posts."""
    ws = make_workspace(tmp_path, backlog="skip")
    write_release(ws.content, "r1.md", "Release one")
    names, out = imported(ws.config, "fetch")
    assert "1 new release, 0 posts queued" in out, out
    assert "bot.ingest" in names
    assert not {"bot.workflow", "bot.render", "bot.fit", "jinja2"} & names
    write_release(ws.content, "r2.md", "Release two")      # a new one after that: rendered
    names, out = imported(ws.config, "fetch")
    assert "1 new release, 2 posts queued" in out, out
    assert {"bot.workflow", "bot.render", "jinja2"} <= names


def test_the_review_page_loads_password_hashing_at_the_first_sign_in() -> None:
    """argon2 is a compiled extension the page needs only when someone signs in, address
    validation (20 ms to import) only when an address comes in, and the workflow with its
    rendering and fitting stack only when a page is shown or a button pressed: an idle
    service does not hold them."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import bot.web.app, bot.web.public"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    assert "starlette" in names and "bot.subscribers" in names
    assert not {"argon2", "email_validator", "bot.workflow", "bot.render", "bot.fit",
                "regex"} & names


def test_a_command_imports_only_its_own_module_of_the_command_line() -> None:
    """`pressbot run` lives for weeks: the other commands' modules must not stay resident
    in it. Each command is registered by the module `bot.cli.HOMES` names, imported when
    the command is asked for, and `--help` still lists them all."""
    cli_modules = {f"bot.cli.{home}" for home in HOMES.values()}
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", RUN, "users", "--help"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "add" in done.stdout and "passwd" in done.stdout
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:") and "|" in line}
    assert names & cli_modules == {"bot.cli.users"}

    everything = subprocess.run([sys.executable, "-c", RUN, "--help"], capture_output=True,
                                text=True, timeout=300)
    assert everything.returncode == 0, everything.stderr[-2000:]
    listed = {line.split()[0] for line in everything.stdout.split("Commands:", 1)[1]
              .splitlines() if line.startswith("  ") and not line.startswith("   ")}
    assert listed == set(HOMES)


def test_the_table_of_commands_names_the_module_each_is_defined_in() -> None:
    """A command added to a module without its line in `HOMES` could not be called."""
    import bot.cli

    for found in pkgutil.iter_modules(bot.cli.__path__):
        importlib.import_module(f"bot.cli.{found.name}")
    registered = {name: command.callback.__module__.rsplit(".", 1)[1]
                  for name, command in cli.commands.items() if command.callback}
    assert registered == HOMES
