"""Commands that talk to platforms or run the service: check, publish, run, web, init."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

from bot.cli import App, cli, pass_app, plural, run_async


@cli.command()
@click.option("--dry-run", is_flag=True,
              help="Write due posts to the outbox and console; change nothing in the queue.")
@pass_app
def publish(app: App, dry_run: bool) -> None:
    """Publish due approved posts once."""
    if dry_run:
        _publish_dry(app)
        return
    from bot import clock
    from bot.workers import anything_due

    with app.store.begin() as conn:
        idle = not anything_due(conn, clock.now())
    if idle:  # a cron run with nothing due loads no channel, HTTP or SMTP code at all
        click.echo("0 published, 0 failed (will retry), 0 held")
        return
    from bot.publisher import Publisher
    from bot.runtime import live_channels

    paused: dict[str, str] = {}

    async def go() -> tuple[int, int, int]:
        published = failed = held = 0
        async with live_channels(app.config, app.store, dry_run=False) as channels:
            _show_newsletter_progress(channels)
            publisher = Publisher(app.config, app.store, channels)
            for _ in range(10_000):
                report = await publisher.run_once()
                published += len(report.published)
                failed += len(report.failed)
                held += len(report.held)
                paused.update(report.paused)
                if not report.published:
                    break
        return published, failed, held

    published, failed, held = run_async(go())
    click.echo(f"{published} published, {failed} failed (will retry), {held} held")
    for name, reason in paused.items():
        click.echo(f"channel {name} paused (its posts stay approved): {reason}\n"
                   f"  after the fix: pressbot check, or pressbot resume {name}", err=True)
    if failed or held or paused:
        sys.exit(1)


def _show_newsletter_progress(channels: Mapping[str, object]) -> None:
    """A progress bar per newsletter on the terminal (stderr), fed by the channel's ledger."""
    if not sys.stderr.isatty():
        return
    bars: dict[int, ProgressBar[int]] = {}

    def update(post: object, counts: dict[str, int]) -> None:
        post_id = post.id  # type: ignore[attr-defined]
        total = counts["sent"] + counts["failed"] + counts["remaining"]
        bar = bars.get(post_id)
        if bar is None:
            bar = bars[post_id] = click.progressbar(length=total, file=sys.stderr,
                                                    label=f"newsletter {post_id}")
            bar.__enter__()
        bar.length = total
        bar.update(counts["sent"] + counts["failed"] - bar.pos)
        if not counts["remaining"]:
            bar.__exit__(None, None, None)

    for channel in channels.values():
        if hasattr(channel, "on_progress"):
            channel.on_progress = update


def _publish_dry(app: App) -> None:
    from bot import clock
    from bot.store import posts
    from channels.registry import outbox_for

    config = app.config
    with app.store.begin() as conn:
        due = [p for p in posts.listing(conn, status=["approved", "failed"])
               if max(filter(None, [p.publish_at, p.next_attempt_at]),
                      default=clock.now()) <= clock.now()]
    outbox = config.resolve(Path(config.bot.outbox))

    async def go() -> None:
        for post in due:
            cfg = config.channels.get(post.channel)
            if cfg is None:
                continue
            await outbox_for(post.channel, cfg, config, echo=True).publish(post)

    run_async(go())
    click.echo(f"dry run: {plural(len(due), 'due post')} written to {outbox} (queue unchanged)")


@cli.command()
@click.option("--offline", is_flag=True, help="Only config and templates; no network.")
@pass_app
def check(app: App, offline: bool) -> None:
    """Validate config and templates; online, check each channel's credentials."""
    from bot.checks import check_templates

    config = app.config
    click.echo(f"config: {config.source_file} OK ({len(config.sources)} sources, "
               f"{len(config.channels)} channels)")
    problems = check_templates(config)
    for line in problems:
        click.echo(f"  ! {line}")
    if not problems:
        click.echo("templates: every channel renders the sample release")
    failed = bool(problems)
    if not offline:
        from bot.checks import check_channels
        from bot.store import channels as channel_store

        for name, result in run_async(check_channels(config, app.store)):
            mark = "OK" if result.ok else "FAILED"
            click.echo(f"{name}: {mark}: {result.summary}")
            with app.store.begin_immediate() as conn:
                if result.ok and channel_store.resume_after_check(conn, name,
                                                                  by="pressbot check"):
                    click.echo(f"  ▶ {name} was paused; its credentials work again, so it "
                               "is resumed")
                elif (state := channel_store.states(conn).get(name)) and state.paused:
                    since = state.paused_at.astimezone(config.tz).strftime("%Y-%m-%d %H:%M") \
                        if state.paused_at else "?"
                    click.echo(f"  ⏸ {name} stays paused, by {state.who()} since {since}: "
                               f"{state.reason}")
                    if state.paused_by_person:
                        click.echo(f"    a person paused it: only `pressbot resume {name}` "
                                   "lifts it")
            for warning in result.warnings:
                click.echo(f"  ⚠ {warning}")
            failed = failed or not result.ok
    if failed:
        sys.exit(1)


@cli.command()
@click.option("--dry-run", is_flag=True, help="Every channel becomes the outbox.")
@pass_app
def run(app: App, dry_run: bool) -> None:
    """The service: polls sources, publishes due posts, serves the review page."""
    from bot.stopsignal import EarlyStop

    early = EarlyStop()   # first: a SIGTERM during start-up stops it cleanly
    from bot.logs import setup_logging
    from bot.service import serve

    config = app.config
    setup_logging(config.bot.log_level, config.bot.log_format, force=True)
    app.upgrade_schema = True   # what a package upgrade restarts; logged as a warning
    sys.exit(run_async(serve(config, app.store, dry_run=dry_run, early=early)))


@cli.command()
@pass_app
def web(app: App) -> None:
    """Only the review page (no polling, no publishing)."""
    from bot.stopsignal import EarlyStop

    early = EarlyStop()
    from bot.logs import setup_logging
    from bot.service import serve

    config = app.config
    setup_logging(config.bot.log_level, config.bot.log_format, force=True)
    sys.exit(run_async(serve(config, app.store, dry_run=True, workers=False, early=early)))


@cli.command()
@click.argument("folder", required=False, default=".", type=click.Path(file_okay=False))
def init(folder: str) -> None:
    """Write a commented config and template overrides to start from."""
    import shutil

    from bot import paths

    root = Path(folder)
    config_file = root / "config" / "pressbot.toml"
    if config_file.exists():
        raise click.ClickException(f"{config_file} exists; not overwriting it")
    config_file.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(paths.data_dir() / "config" / "example.toml", config_file)
    templates = root / "templates"
    if not templates.exists():
        shutil.copytree(paths.templates_dir(), templates)
    click.echo(f"wrote {config_file} and {templates}/ — edit them, then run `pressbot check`")

