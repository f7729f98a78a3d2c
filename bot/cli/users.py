"""`pressbot users …`: accounts for the review page."""

from __future__ import annotations

import click

from bot.cli import cli


@cli.group()
def users() -> None:
    """Review-page accounts (reviewer, editor, admin)."""
