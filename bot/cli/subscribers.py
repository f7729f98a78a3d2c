"""`pressbot subscribers …`: the newsletter audience."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.cli import App, cli, pass_app

STATUSES = ("pending", "active", "unsubscribed", "bounced")


@cli.group()
def subscribers() -> None:
    """Newsletter subscribers: add, remove, import, list, show, export."""


@subscribers.command()
@click.argument("email")
@click.option("--name", help="Used in the greeting: \"Hello NAME,\".")
@click.option("--language", help="Language tag, e.g. en or nl-BE.")
@pass_app
def add(app: App, email: str, name: str | None, language: str | None) -> None:
    """Add EMAIL as an active subscriber (you confirm they agreed)."""
    from bot import subscribers as subs

    found = subs.add(app.store, email, name=name, language=language, source="cli")
    click.echo(f"{found.email}: active (subscriber {found.id})")


@subscribers.command()
@click.argument("email")
@pass_app
def remove(app: App, email: str) -> None:
    """Erase EMAIL: delete the subscriber, keep only a hash so it is never mailed again."""
    from bot import subscribers as subs

    address = subs.normalise_email(email)
    if subs.erase(app.store, address):
        click.echo(f"{address}: erased; a hash stays on the suppression list")
    else:
        click.echo(f"{address}: not a subscriber; added to the suppression list anyway")


@subscribers.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--suppressions", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The suppression list `export --suppressions` wrote: read first.")
@pass_app
def import_(app: App, file: Path, suppressions: Path | None) -> None:
    """Import FILE.csv (header: email, optional name, language, status, consent_source,
    consent_at, confirmed_at).

    Without a status column every row becomes an active subscriber (consent: "import",
    now). With one (an `export`), each keeps its status and consent: nobody who left is
    brought back. Valid rows are imported even when others are not; the bad rows are
    listed by line number and the exit code is then 1.
    """
    from bot import subscribers as subs

    rows = max(0, file.read_bytes().count(b"\n") - 1)
    try:
        with click.progressbar(length=rows, label="importing", file=sys.stderr) as bar:
            report = subs.import_csv(app.store, file, suppressions=suppressions,
                                     progress=bar.update)
    except UnicodeDecodeError:
        raise subs.SubscriberError(f"{file}: not UTF-8 text; save the CSV as UTF-8") from None
    for line, problem in report.errors:
        click.echo(f"{file}:{line}: {problem}", err=True)
    for line, reason in report.refused:
        click.echo(f"{file}:{line}: not imported: {reason}", err=True)
    click.echo(f"{report.added} added, {report.reactivated} activated, {report.unchanged} "
               f"already subscribed, {report.left} not mailed (as the file says), "
               f"{report.suppressed} suppressed, {len(report.refused)} refused, "
               f"{len(report.errors)} invalid rows")
    if report.errors:
        sys.exit(1)


@subscribers.command(name="list")
@click.option("--status", type=click.Choice(STATUSES), multiple=True,
              help="Only these statuses (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="A JSON array, nothing else on stdout.")
@pass_app
def list_(app: App, status: tuple[str, ...], as_json: bool) -> None:
    """List subscribers."""
    from bot import subscribers as subs

    found = subs.listing(app.store, status=status or None)
    if as_json:
        click.echo(json.dumps([
            {"id": s.id, "email": s.email, "name": s.name, "language": s.language,
             "status": s.status, "consent_source": s.consent_source,
             "consent_at": s.consent_at.isoformat() if s.consent_at else None,
             "confirmed_at": s.confirmed_at.isoformat() if s.confirmed_at else None,
             "created_at": s.created_at.isoformat()} for s in found], indent=2))
        return
    for s in found:
        click.echo(f"{s.id:>6}  {s.status:<12}  {s.email}" + (f"  ({s.name})" if s.name else ""))
    click.echo(f"{len(found)} subscribers", err=True)


@subscribers.command()
@click.argument("address")
@click.option("--json", "as_json", is_flag=True, help="A JSON object, nothing else on stdout.")
@pass_app
def show(app: App, address: str, as_json: bool) -> None:
    """Everything stored about ADDRESS: status, consent and its evidence (when the form
    was sent, the confirmation mailed and clicked, the wording version, the client if
    recorded), and whether it is on the suppression list."""
    from bot import subscribers as subs

    subs.forget_clients(app.store, app.config.newsletter.client_retention_days)
    found, suppressed = subs.find(app.store, address)
    if found is None:
        if suppressed is None:
            raise subs.SubscriberError(f"{subs.normalise_email(address)} is not a subscriber "
                                       "and not on the suppression list")
        data: dict[str, object] = {"email": subs.normalise_email(address), "status": None,
                                   "suppressed": suppressed}
    else:
        data = subs.personal_data(found, suppressed)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    width = max(len(k) for k in data)
    for key, value in data.items():
        click.echo(f"{key:<{width}}  {'—' if value is None else value}")


@subscribers.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--status", type=click.Choice(STATUSES), multiple=True,
              help="Only these statuses (repeatable).")
@click.option("--suppressions", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the suppression list (hashes of addresses that left or "
                   "were erased) to this file; `import --suppressions` reads it.")
@pass_app
def export(app: App, file: Path | None, status: tuple[str, ...],
           suppressions: Path | None) -> None:
    """Write subscribers as CSV to FILE (default: stdout); `import` reads it back.

    Moving to a new database? Give `--suppressions` too: the erased have no row, only a
    hash on the suppression list, and without it they could be imported again later.
    """
    from bot import subscribers as subs

    subs.forget_clients(app.store, app.config.newsletter.client_retention_days)
    text = subs.export_csv(subs.listing(app.store, status=status or None))
    if suppressions is not None:
        listed = subs.export_suppressions(app.store)
        suppressions.write_text(listed, encoding="utf-8")
        click.echo(f"{suppressions}: {listed.count(chr(10)) - 1} suppressed addresses (hashed)",
                   err=True)
    if file is None:
        click.echo(text, nl=False)
    else:
        file.write_text(text, encoding="utf-8")
        click.echo(f"{file}: {text.count(chr(10)) - 1} subscribers", err=True)


@subscribers.command()
@click.option("--channel", help="Only this email channel's mailbox.")
@pass_app
def bounces(app: App, channel: str | None) -> None:
    """Read the bounce mailbox once (imap_host): bounces, complaints, unsubscribe mails.

    `pressbot run` does this every imap_every by itself.
    """
    from bot.bounces import bounce_channels, check_mailbox
    from bot.errors import ConfigError
    from channels.base import ChannelError

    mailboxes = list(bounce_channels(app.config))
    if channel and channel not in mailboxes:
        raise click.UsageError(f"no email channel with a bounce mailbox (imap_host) named "
                               f"{channel!r} in {app.config.source_file}; with one: "
                               f"{', '.join(mailboxes) or 'none'}")
    names = [n for n in mailboxes if channel in (None, n)]
    if not names:
        raise ConfigError("no email channel with a bounce mailbox (imap_host)")
    failed = False
    for name in names:
        try:
            outcome = check_mailbox(app.config, app.store, name)
        except ChannelError as exc:
            click.echo(f"{name}: {exc}", err=True)
            failed = True
            continue
        done = ", ".join(f"{count} {what}" for what, count in sorted(outcome.counts.items()))
        click.echo(f"{name}: {done or 'nothing new'}; {outcome.unknown} left for a person")
    if failed:
        sys.exit(1)
