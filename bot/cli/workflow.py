"""The approval workflow from the terminal: queue, show, approve, reject, edit, schedule."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Any

import click

from bot.cli import App, cli, pass_app, plural, require_channel

STATUSES = ["pending", "approved", "publishing", "published", "failed", "rejected", "held"]


def actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _local(app: App, value: Any) -> str:
    return value.astimezone(app.config.tz).strftime("%Y-%m-%d %H:%M") if value else "—"


def post_json(post: Any) -> dict[str, Any]:
    """A post in the contract's `queue --json` shape (plus a few extra keys)."""
    return {
        "id": post.id, "channel": post.channel, "status": str(post.status),
        "release": {"id": post.release_uid, "title": post.title, "url": post.release_url},
        "link": post.link,
        "text": post.text, "subject": post.subject,
        "publish_at": post.publish_at.isoformat() if post.publish_at else None,
        "remote_id": post.remote_id, "remote_url": post.remote_url,
        "last_error": post.last_error, "attempts": post.attempts,
        "warnings": post.warnings, "progress": post.extra.get("progress"),
    }


@cli.command()
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES),
              help="Only posts with this status (repeatable).")
@click.option("--channel", metavar="NAME", help="Only this channel.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_app
def queue(app: App, statuses: tuple[str, ...], channel: str | None, as_json: bool) -> None:
    """List posts and when each will go out."""
    from bot.store import channels as channel_store
    from bot.store import posts

    with app.store.begin() as conn:
        if channel:  # a channel since removed from the config still lists its posts
            require_channel(app, channel, also=posts.channel_names(conn))
        items = posts.listing(conn, status=list(statuses) or None, channel=channel)
        paused = {name: s for name, s in channel_store.states(conn).items() if s.paused}
    if as_json:
        click.echo(json.dumps([post_json(p) for p in items], indent=2, ensure_ascii=False))
        return
    for name, state in sorted(paused.items()):
        what = "EVERY CHANNEL" if name == channel_store.ALL else f"channel {name}"
        click.echo(f"⏸ {what} paused by {state.who()} since {_local(app, state.paused_at)}: "
                   f"{state.reason}"
                   + (f" — {state.hint}" if state.hint else "")
                   + f"  (resume: pressbot resume {'--all' if name == '*' else name})")
    if not items:
        click.echo("the queue is empty")
        return
    click.echo(f"{'ID':>5}  {'CHANNEL':<12} {'STATUS':<10} {'GOES OUT':<16}  TITLE")
    for p in items:
        when = _local(app, p.publish_at) if p.status in ("approved", "failed", "pending") else ""
        if p.status == "published":
            when = _local(app, p.updated_at)
        note = ""
        if p.status == "failed" and p.next_attempt_at:
            when = _local(app, p.next_attempt_at)
        if p.status in ("held", "failed") and p.last_error:
            note = f"  ← {p.last_error[:70]}"
        progress = p.extra.get("progress")
        if progress:
            note += f"  [{_recipients(progress)}]"
        click.echo(f"{p.id:>5}  {p.channel[:12]:<12} {p.status!s:<10} {when or '—':<16}  "
                   f"{p.title[:50]}{note}")
    click.echo(f"({plural(len(items), 'post')}; times in {app.config.bot.timezone})")


def _recipients(progress: dict[str, int]) -> str:
    """A newsletter's ledger in one line: `12 sent / 0 failed / 3 remaining / 1 uncertain`."""
    text = (f"{progress.get('sent', 0)} sent / {progress.get('failed', 0)} failed / "
            f"{progress.get('remaining', 0)} remaining")
    return text + (f" / {progress['uncertain']} uncertain" if progress.get("uncertain")
                   else "")


@cli.command()
@click.argument("post_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@pass_app
def show(app: App, post_id: int, as_json: bool) -> None:
    """Show one post in full, with its audit trail."""
    from bot.store import channels as channel_store
    from bot.store import posts

    with app.store.begin() as conn:
        post = posts.require(conn, post_id)
        events = posts.list_events(conn, post_id=post_id)
        states = channel_store.states(conn)
    pause = next((s for s in (states.get(channel_store.ALL), states.get(post.channel))
                  if s is not None and s.paused), None)
    if as_json:
        data = post_json(post) | {"events": [
            {**e, "at": e["at"].isoformat()} for e in reversed(events)]}
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))
        return
    click.echo(f"post {post.id} · {post.channel} · {post.status}")
    click.echo(f"release: {post.title} ({post.release_uid})")
    if post.link:
        click.echo(f"link: {post.link}")
    click.echo(f"goes out: {_local(app, post.publish_at)} · attempts: {post.attempts}")
    if post.remote_id:
        click.echo(f"published as {post.remote_id} {post.remote_url or ''}")
    if post.last_error:
        click.echo(f"last error: {post.last_error}")
    if pause is not None and post.status in ("approved", "failed"):
        what = "every channel" if pause.channel == channel_store.ALL else post.channel
        click.echo(f"waiting: {what} paused by {pause.who()} since "
                   f"{_local(app, pause.paused_at)}: {pause.reason}")
    if progress := post.extra.get("progress"):
        click.echo(f"recipients: {_recipients(progress)}")
        if progress.get("uncertain"):
            click.echo("  uncertain: the server may have their message, its answer never came "
                       "or was never recorded; not sent again (uncertain = \"skip\")")
    if post.subject:
        click.echo(f"subject: {post.subject}")
    from bot import i18n

    click.echo("\n" + i18n.fill(post.text, post.language) + "\n")  # an email's markers
    for warning in post.warnings:
        click.echo(f"  ⚠ {warning}")
    click.echo("history:")
    for e in reversed(events):
        change = f"{e['from_status'] or ''}→{e['to_status'] or ''}"
        click.echo(f"  {_local(app, e['at'])}  {e['actor']:<16} {e['action']:<10} {change}")


@cli.command()
@click.argument("post_ids", type=int, nargs=-1, required=True)
@pass_app
def approve(app: App, post_ids: tuple[int, ...]) -> None:
    """Approve posts; each takes its channel's next free slot."""
    from bot import workflow
    from bot.errors import WorkflowError

    failed = False
    for post_id in post_ids:
        try:
            with app.store.begin_immediate() as conn:
                post = workflow.approve(conn, app.config, post_id, actor())
            click.echo(f"post {post_id} approved: goes out {_local(app, post.publish_at)}")
        except WorkflowError as exc:
            click.echo(f"error: {exc}", err=True)
            failed = True
    if failed:
        raise SystemExit(1)


@cli.command()
@click.argument("post_id", type=int)
@click.option("--reason", default="", help="Why (kept in the audit trail).")
@pass_app
def reject(app: App, post_id: int, reason: str) -> None:
    """Reject a post: it will never go out."""
    from bot import workflow

    with app.store.begin_immediate() as conn:
        workflow.reject(conn, post_id, actor(), reason)
    click.echo(f"post {post_id} rejected")


MIN_TEXT = 20
"""Fewer characters than this is a slip far more often than a post: the README's tour once
read `edit 4 --text "…"`, and copying it saved a one-character post."""


@cli.command()
@click.argument("post_id", type=int)
@click.option("--text", help="The new text (otherwise $EDITOR opens).")
@click.option("--subject", help="New subject (email).")
@click.option("--force", is_flag=True,
              help=f"Save a text under {MIN_TEXT} characters without asking.")
@pass_app
def edit(app: App, post_id: int, text: str | None, subject: str | None, force: bool) -> None:
    """Edit a post's text; the original stays in the audit trail."""
    from bot import workflow
    from bot.store import posts

    if text is None:
        with app.store.begin() as conn:
            current = posts.require(conn, post_id)
        email = current.html is not None
        text = click.edit(workflow.editable_text(current), extension=".md" if email else ".txt")
        if text is None:
            click.echo("no change")
            return
    _confirm_short(post_id, text, force)
    with app.store.begin_immediate() as conn:
        post = workflow.edit(conn, app.config, post_id, actor(), text, subject)
        length, limit = workflow.measure(conn, app.config, post.channel, post.text)
    counted = f"{length}/{limit}" if limit else str(length)
    click.echo(f"post {post_id} edited: {counted} characters as {post.channel} counts them; "
               f"status {post.status}")
    _echo_changes(post)


def _echo_changes(post: Any) -> None:
    """The lines an edit changed from the generated text, `[-deleted-]{+inserted+}`."""
    from bot import workflow
    from bot.textdiff import diff

    original = workflow.original_text(post)
    if original is None:
        return
    changes = diff(original, workflow.editable_text(post))
    if not changes.changed:
        click.echo("same as the generated text")
        return
    click.echo(f"changed from the generated text: {plural(changes.inserted, 'word')} "
               f"inserted, {changes.deleted} deleted:")
    for line in changes.plain().splitlines():
        if any(mark in line for mark in ("[-", "-]", "{+", "+}")):
            click.echo(f"  {line}")


def _confirm_short(post_id: int, text: str, force: bool) -> None:
    """A text under MIN_TEXT: asked on a terminal, refused (exit 2) in a script unless
    `--force`. An empty one is left to the workflow, which refuses it whatever the flag."""
    size = len(text.strip())
    if force or not size or size >= MIN_TEXT:
        return
    warning = (f"post {post_id}: the new text is {plural(size, 'character')} long "
               f"(under {MIN_TEXT}): {text.strip()!r}")
    if sys.stdin.isatty() and sys.stdout.isatty():
        click.echo(f"⚠ {warning}", err=True)
        if click.confirm("Save it anyway?", default=False, err=True):
            return
        click.echo("not saved", err=True)
        sys.exit(1)
    raise click.UsageError(f"{warning}; not saved — give --force to save it anyway")


@cli.command()
@click.argument("post_id", type=int)
@click.option("--at", "when", required=True,
              help="ISO time or a phrase like 'tomorrow 09:00' (bot time zone).")
@pass_app
def schedule(app: App, post_id: int, when: str) -> None:
    """Set when a post goes out (it still needs approval if pending)."""
    from bot import clock, workflow
    from bot.when import parse_when

    try:
        at = parse_when(when, app.config.tz, clock.now())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from None
    with app.store.begin_immediate() as conn:
        post = workflow.schedule(conn, app.config, post_id, actor(), at)
    still = (f"; it still needs approval: pressbot approve {post_id}"
             if post.status == "pending" else "")
    click.echo(f"post {post_id} scheduled for {_local(app, post.publish_at)} "
               f"({app.config.bot.timezone}){still}")
