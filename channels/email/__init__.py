"""The email newsletter channel (`type = "email"`).

    channel   EmailChannel: publish / lookup / check over the delivery ledger
    send      one pass over due recipients through a pool of SMTP connections
    message   one RFC 5322 message per recipient; `build_preview_message` for dry runs
    smtp      SmtpConnector: TLS and AUTH done safely, failures named
    pace      messages per second and per hour

The names below load on first use: the bounce reader (`bot.bounces`) needs only `reports`
and `verp`, and a service without a mailbox should not load the whole sending stack.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from channels.email.channel import EmailChannel
    from channels.email.message import build_preview_message
    from channels.email.smtp import SmtpConnector

__all__ = ["EmailChannel", "SmtpConnector", "build_preview_message"]

_WHERE = {"EmailChannel": "channel", "build_preview_message": "message",
          "SmtpConnector": "smtp"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"channels.email.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'channels.email' has no attribute {name!r}")
