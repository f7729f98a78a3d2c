"""One newsletter message per recipient, built with the `email` package's modern API.

Every header value passes through `clean_header`: titles from press releases carry
newlines, tabs and U+2028, and `EmailMessage` would refuse them (or, with hand-made
strings, a newline would start a new header). Addresses are built with
`email.headerregistry.Address`, never by string formatting. The body keeps the
placeholders `bot.render` left (greeting, unsubscribe link) until here, where each
recipient gets their own; the HTML part gets them HTML-escaped.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from bot import clock
from bot.config import Config, EmailConfig
from bot.models import Post
from bot.render import GREETING, UNSUBSCRIBE

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LABEL = re.compile(r"[^A-Za-z0-9-]+")


def clean_header(value: str) -> str:
    """One line of text: every run of whitespace (incl. U+2028/U+2029, \\x85) is one space."""
    return _CONTROL.sub("", " ".join(str(value).split()))


@dataclass(frozen=True)
class Sender:
    """What every message of one channel shares."""

    address: Address
    reply_to: str | None
    list_id: str
    unsubscribe_mailto: str | None
    domain: str

    @property
    def envelope_from(self) -> str:
        return self.address.addr_spec


def _address(value: str) -> Address:
    name, addr = parseaddr(value)
    return Address(display_name=clean_header(name), addr_spec=addr)


def sender_for(name: str, cfg: EmailConfig) -> Sender:
    address = _address(cfg.from_)
    domain = address.domain or "localhost"
    label = _LABEL.sub("-", name).strip("-") or "newsletter"
    list_id = cfg.list_id or f"{label}.{domain}"
    if "<" not in list_id:
        list_id = f"{clean_header(cfg.list_name or name)} <{list_id}>"
    mailto = cfg.unsubscribe_mailto
    if mailto and not mailto.startswith("mailto:"):
        mailto = f"mailto:{mailto}?subject=unsubscribe"
    return Sender(address=address, reply_to=cfg.reply_to, list_id=clean_header(list_id),
                  unsubscribe_mailto=clean_header(mailto) if mailto else None, domain=domain)


def message_id_for(post: Post, subscriber_id: int, domain: str) -> str:
    """Unique per (post, recipient), the same on every retry of that recipient.

    The post's creation time is mixed in so that a fresh database reusing post ids does not
    reuse Message-IDs (Gmail throttles a sender who repeats one).
    """
    stamp = post.created_at.isoformat() if post.created_at else ""
    digest = hashlib.sha256(f"{post.id}:{stamp}:{subscriber_id}".encode()).hexdigest()[:12]
    return f"<pressbot.{post.id}.{subscriber_id}.{digest}@{domain}>"


def greeting(name: str | None) -> str:
    name = clean_header(name or "")
    return f"Hello {name}," if name else "Hello,"


def _fill(template: str, hello: str, unsubscribe_url: str) -> str:
    return template.replace(GREETING, hello).replace(UNSUBSCRIBE, unsubscribe_url)


def build_message(post: Post, sender: Sender, *, to_email: str, to_name: str | None,
                  message_id: str, unsubscribe_url: str,
                  date: datetime | None = None) -> EmailMessage:
    """The message for one recipient; `ValueError` when the email package refuses a value."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["Subject"] = clean_header(post.subject or post.title or "Newsletter")
    msg["From"] = sender.address
    msg["To"] = Address(display_name=clean_header(to_name or ""), addr_spec=to_email)
    if sender.reply_to:
        msg["Reply-To"] = _address(sender.reply_to)
    msg["Date"] = format_datetime(date or clock.now())
    msg["Message-ID"] = message_id
    msg["List-Id"] = sender.list_id
    links = [f"<{clean_header(unsubscribe_url)}>"]
    if sender.unsubscribe_mailto:
        links.append(f"<{sender.unsubscribe_mailto}>")
    msg["List-Unsubscribe"] = ", ".join(links)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Precedence"] = "bulk"
    msg["Auto-Submitted"] = "auto-generated"
    if post.language:
        msg["Content-Language"] = clean_header(post.language)
    hello = greeting(to_name)
    msg.set_content(_fill(post.text, hello, unsubscribe_url))
    if post.html:
        msg.add_alternative(_fill(post.html, html.escape(hello), html.escape(unsubscribe_url)),
                            subtype="html")
    return msg


def serialise(msg: EmailMessage, to_email: str) -> tuple[bytes, list[str]]:
    """Wire bytes and the MAIL options they need (SMTPUTF8 for a non-ASCII address)."""
    if to_email.isascii():
        return msg.as_bytes(policy=policy.SMTP), []
    return msg.as_bytes(policy=policy.SMTPUTF8), ["SMTPUTF8"]


def sender_from_config(name: str, config: Config) -> Sender:
    """The sender of channel `name`; an outbox standing in for email gets a placeholder."""
    cfg = config.channels.get(name)
    if isinstance(cfg, EmailConfig):
        return sender_for(name, cfg)
    host = config.bot.public_url.host or "localhost"
    label = _LABEL.sub("-", name).strip("-") or "newsletter"
    return Sender(address=Address(display_name=clean_header(name),
                                  addr_spec=f"newsletter@{host}"),
                  reply_to=None, list_id=f"{clean_header(name)} <{label}.{host}>",
                  unsubscribe_mailto=None, domain=host)


def build_preview_message(post: Post, config: Config) -> bytes:
    """The `.eml` a dry run writes: the message as a subscriber named "Reader" gets it."""
    public_url = str(config.bot.public_url).rstrip("/")
    sender = sender_from_config(post.channel, config)
    msg = build_message(post, sender, to_email="reader@example.invalid", to_name="Reader",
                        message_id=message_id_for(post, 0, sender.domain),
                        unsubscribe_url=f"{public_url}/u/PREVIEW")
    return msg.as_bytes(policy=policy.SMTP)
