"""`pressbot users …`: accounts for the review page."""

from __future__ import annotations

import json
import sys

import click

from bot.cli import App, cli, pass_app

ROLES = ["reviewer", "editor", "admin"]


@cli.group()
def users() -> None:
    """Review-page accounts (reviewer, editor, admin)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True,
              help="reviewer: approve and reject; editor: also edit and schedule; "
                   "admin: also manage accounts.")
@click.option("--email", metavar="ADDRESS", help="Where 'posts are waiting' mails go.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of stdin (otherwise prompt).")
@pass_app
def add(app: App, name: str, role: str, email: str | None, password_stdin: bool) -> None:
    """Add an account; the password is prompted for (never an argument)."""
    from bot.store import users as user_store
    from bot.store.users import UserError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user_store.check_password(password)
    except UserError as exc:
        raise click.BadParameter(str(exc), param_hint="password") from None
    with app.store.begin() as conn:
        user = user_store.add(conn, name, password, role, email=email, actor="cli")
    click.echo(f"account {user.name} added ({user.role})")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of stdin (otherwise prompt).")
@pass_app
def passwd(app: App, name: str, password_stdin: bool) -> None:
    """Set a new password; every session of the account ends (signed-in browsers too)."""
    from bot.store import users as user_store
    from bot.store.users import UserError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        with app.store.begin() as conn:
            user_store.set_password(conn, name, password, actor="cli")
    except UserError as exc:
        raise click.BadParameter(str(exc), param_hint="password or name") from None
    click.echo(f"password of {name} changed; its sessions have ended")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@pass_app
def list_(app: App, as_json: bool) -> None:
    """List accounts (never their passwords)."""
    from bot.store import users as user_store

    with app.store.begin() as conn:
        accounts = user_store.listing(conn)
    if as_json:
        click.echo(json.dumps([{"name": u.name, "role": u.role, "email": u.email,
                                "disabled": u.disabled, "created_at": u.created_at.isoformat()}
                               for u in accounts], indent=2))
        return
    if not accounts:
        click.echo("no accounts yet: add one with `pressbot users add NAME --role admin`")
        return
    for u in accounts:
        state = "disabled" if u.disabled else "active"
        click.echo(f"{u.name:<24} {u.role:<9} {state:<9} {u.email or ''}")
