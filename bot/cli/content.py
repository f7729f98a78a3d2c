"""`fetch` and `preview`: read sources; show what would go out."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from bot.cli import App, cli, pass_app, plural, require_channel, run_async


@cli.command()
@click.option("--source", "only", metavar="NAME", help="Poll only this source.")
@pass_app
def fetch(app: App, only: str | None) -> None:
    """Poll sources once, store new releases and queue their posts."""
    from bot.ingest import SourceReport, fetch_all

    config = app.config
    if only and only not in config.sources:
        raise click.UsageError(f"no source named {only!r} in {config.source_file}; "
                               f"configured: {', '.join(config.sources) or 'none'}")
    store = app.store
    names = [n for n in config.sources if only in (None, n)]
    # a bar on the terminal for many sources; none in logs, pipes or cron mail
    shown = len(names) >= 5 and sys.stderr.isatty()
    with click.progressbar(length=len(names), label="polling sources", file=sys.stderr,
                           hidden=not shown) as bar:

        def done(_: SourceReport) -> None:
            bar.update(1)

        reports = run_async(fetch_all(config, store, only=only, on_done=done))
    failed = 0
    for r in reports:
        state = "not modified" if r.not_modified else (
            f"{r.new} new, {r.updated} updated, {r.unchanged} unchanged, {r.skipped} skipped "
            f"(backlog), {r.failed} failed, {plural(r.queued, 'post')} queued")
        if r.not_retried:
            state += f"; {plural(r.not_retried, 'file')} that failed before not retried " \
                     "(unchanged since)"
        click.echo(f"{r.name}: {state}")
        for error in r.errors:
            click.echo(f"  ! {error}")
        failed += bool(r.errors)
    total_new = sum(r.new for r in reports)
    click.echo(f"{plural(len(reports), 'source')}, {plural(total_new, 'new release')}, "
               f"{plural(sum(r.queued for r in reports), 'post')} queued, "
               f"{plural(failed, 'source')} with errors")
    if any(r.fatal for r in reports):
        sys.exit(1)


@cli.command()
@click.argument("target", required=False, metavar="[PATH|URL]")
@click.option("--channel", metavar="NAME", help="Only this channel.")
@click.option("--source", metavar="NAME",
              help="Read the path as this folder source does (default: the source whose "
                   "folder holds it).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (the contract shape).")
@pass_app
def preview(app: App, target: str | None, channel: str | None, source: str | None,
            as_json: bool) -> None:
    """Render without storing or sending: a content file, a folder, a feed file or URL.

    With no argument, shows the queue's pending posts as they are stored.
    """
    from bot import preview as previewing
    from bot.config import FolderSourceConfig

    config = app.config
    if channel:
        require_channel(app, channel)
    folders = [n for n, c in config.sources.items() if isinstance(c, FolderSourceConfig)]
    if source and source not in folders:
        raise click.UsageError(f"no folder source named {source!r} in {config.source_file}; "
                               f"folder sources: {', '.join(folders) or 'none'}")
    is_url = target is not None and re.match(r"^https?://", target, re.I)
    if target is not None and not is_url and not Path(target).exists():
        raise click.UsageError(f"{target}: no such file or folder")
    if target is None:
        items = previewing.from_queue(app.store, channel)
    else:
        origin = None if is_url else previewing.origin_of(config, Path(target), source)
        releases, errors = previewing.load(target, origin, config.tz)
        for error in errors:
            click.echo(f"! {error}", err=True)
        if not releases and errors:
            sys.exit(1)
        items = previewing.render_all(config, releases, channel)
    if as_json:
        click.echo(json.dumps([i.as_json() for i in items], indent=2, ensure_ascii=False))
    else:
        previewing.print_human(items)
    if items and all(any(w.startswith("template error") for w in i.rendered.warnings)
                     for i in items):
        sys.exit(1)   # nothing could be rendered: a broken template is a failure

