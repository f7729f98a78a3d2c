"""The `pressbot` command. Heavy modules are imported inside the commands that use them,
so `pressbot --help` and `pressbot preview FILE` start fast.

Exit codes: 0 done, 1 the operation failed, 2 usage or configuration error.
"""

from __future__ import annotations

import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from bot.config import Config
    from bot.store import Store


class App:
    """Lazily loaded config and store, shared by the commands of one invocation."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._config: Config | None = None
        self._store: Store | None = None
        self.upgrade_schema = False
        """Only the service upgrades an older schema by itself; the other commands
        refuse it (`pressbot db upgrade`)."""

    @property
    def config(self) -> Config:
        if self._config is None:
            from bot.config import load_config
            from bot.logs import setup_logging

            self._config = load_config(self.config_path)
            # one-shot commands print their own summary; the service logs at the set level
            quiet = "WARNING" if self._config.bot.log_level in ("DEBUG", "INFO") else None
            setup_logging(quiet or self._config.bot.log_level, self._config.bot.log_format)
        return self._config

    @property
    def store(self) -> Store:
        if self._store is None:
            from bot.store import Store

            self._store = Store(self.config.bot.database_url,
                                migrate=True if self.upgrade_schema else "new")
        return self._store


pass_app = click.make_pass_decorator(App)
T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run`, importing asyncio on first use: `--help` and `preview FILE` start
    without it (~20 ms)."""
    import asyncio

    return asyncio.run(coroutine)


def require_channel(app: App, name: str, *, also: frozenset[str] = frozenset()) -> None:
    """Refuse an unknown channel name as a usage error (exit 2), naming the configured ones.

    Without it `queue --channel nope` listed nothing and exited 0: a typo read as "no posts".
    `also` admits names the caller knows another way (posts of a channel since removed).
    """
    if name in app.config.channels or name in also:
        return
    raise click.UsageError(f"no channel named {name!r} in {app.config.source_file}; "
                           f"configured: {', '.join(app.config.channels) or 'none'}")


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 post`, `2 posts` — counts in messages read as a person would write them."""
    return f"{n} {word if n == 1 else many or word + 's'}"


HOMES: dict[str, str] = {
    "approve": "workflow", "edit": "workflow", "queue": "workflow", "reject": "workflow",
    "schedule": "workflow", "show": "workflow", "pause": "channels", "resume": "channels",
    "fetch": "content", "preview": "content", "backup": "operate", "db": "operate",
    "check": "service", "init": "service", "publish": "service", "run": "service",
    "web": "service", "subscribers": "subscribers", "users": "users",
}
"""Each command's module under `bot.cli`: a command is registered when its module is
imported, and only the one asked for is. The service lives for weeks, and the other
modules (their imports and click's objects, ~0.5 MB) would have stayed resident in it for
nothing; a test keeps this table equal to what the modules register."""


def _load(home: str) -> None:
    """Import `bot.cli.<home>`, which registers its commands. `__import__` rather than
    `importlib.import_module`, so that `python -X importtime` (the lean-commands tests)
    still lists it."""
    __import__(f"bot.cli.{home}")


class Group(click.Group):
    """Turns pressbot's own errors into a one-line message and the contract's exit code,
    and imports a command's module when the command is asked for (`HOMES`)."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        home = HOMES.get(cmd_name)
        if home is not None and cmd_name not in self.commands:
            _load(home)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command (`--help`, shell completion): all the modules."""
        for home in sorted(set(HOMES.values())):
            _load(home)
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        from bot.errors import ConfigError, PressbotError

        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"configuration error:\n{exc}", err=True)
            sys.exit(2)
        except PressbotError as exc:
            from bot.redact import redact

            click.echo(f"error: {redact(str(exc))}", err=True)
            sys.exit(1)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", metavar="PATH", envvar="PRESSBOT_CONFIG",
              help="Config file (default: config/pressbot.toml, else the bundled demo).")
@click.version_option(package_name="pressbot")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """pressbot: press releases in, approved posts out on Mastodon, Facebook and email."""
    ctx.obj = App(config_path)


def main() -> None:
    cli(prog_name="pressbot")
