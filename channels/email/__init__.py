"""The email newsletter channel (`type = "email"`).

    channel   EmailChannel: publish / lookup / check over the delivery ledger
    send      one pass over due recipients through a pool of SMTP connections
    message   one RFC 5322 message per recipient; `build_preview_message` for dry runs
    smtp      SmtpConnector: TLS and AUTH done safely, failures named
    pace      messages per second and per hour
"""

from channels.email.channel import EmailChannel
from channels.email.message import build_preview_message
from channels.email.smtp import SmtpConnector

__all__ = ["EmailChannel", "SmtpConnector", "build_preview_message"]
