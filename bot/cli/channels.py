"""Pause and resume publishing: one channel, several, or everything at once.

A paused channel keeps its approved posts in line; nothing is counted as an attempt. The
publisher pauses a channel by itself when the platform refuses its credentials.
"""

from __future__ import annotations

import click

from bot.cli import App, cli, pass_app
from bot.cli.workflow import actor


def _targets(app: App, names: tuple[str, ...], every: bool) -> list[str]:
    from bot.errors import ConfigError
    from bot.store.channels import ALL

    if every == bool(names):
        raise click.UsageError("name one or more channels, or give --all")
    unknown = [n for n in names if n not in app.config.channels]
    if unknown:
        raise ConfigError(f"no channel named {', '.join(map(repr, unknown))} in "
                          f"{app.config.source_file} (channels: "
                          f"{', '.join(app.config.channels) or 'none'})")
    return [ALL] if every else list(names)


@cli.command()
@click.argument("channels", nargs=-1, metavar="[CHANNEL]...")
@click.option("--all", "every", is_flag=True, help="Pause every channel (the global switch).")
@click.option("--reason", default="paused by a person", help="Shown in the queue and health.")
@pass_app
def pause(app: App, channels: tuple[str, ...], every: bool, reason: str) -> None:
    """Stop publishing on channels (their approved posts wait in line)."""
    from bot.store import channels as channel_store

    who = actor()
    for name in _targets(app, channels, every):
        with app.store.begin_immediate() as conn:
            changed = channel_store.pause(conn, name, by=who, reason=reason)
        shown = "every channel" if name == channel_store.ALL else name
        click.echo(f"{shown}: {'paused' if changed else 'was already paused'}")


@cli.command()
@click.argument("channels", nargs=-1, metavar="[CHANNEL]...")
@click.option("--all", "every", is_flag=True, help="Lift the global pause.")
@pass_app
def resume(app: App, channels: tuple[str, ...], every: bool) -> None:
    """Publish again on paused channels, in the order the posts were queued."""
    from bot.store import channels as channel_store

    who = actor()
    for name in _targets(app, channels, every):
        with app.store.begin_immediate() as conn:
            changed = channel_store.resume(conn, name, by=who)
        shown = "every channel" if name == channel_store.ALL else name
        click.echo(f"{shown}: {'resumed' if changed else 'was not paused'}")
