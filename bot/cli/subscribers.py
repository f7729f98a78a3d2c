"""`pressbot subscribers …`: the newsletter audience."""

from __future__ import annotations

import click

from bot.cli import cli


@cli.group()
def subscribers() -> None:
    """Newsletter subscribers: add, remove, import, list, export."""
