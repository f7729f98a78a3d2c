"""Tell reviewers that posts wait: one short mail, sent again only when the waiting set changes.

The mail links to the review page and nothing else approves anything (see
`bot.web.notify`). It goes through the SMTP settings of `notify.channel`, or of the first
email channel, with the same safe connection rules as the newsletter.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from bot.config import Config, EmailConfig
from bot.models import PostStatus
from bot.store import Store, activity, meta
from bot.store import users as user_store
from bot.web.notify import pending_digest_text

log = logging.getLogger("pressbot.notify")


def smtp_settings(config: Config) -> EmailConfig | None:
    if config.notify is None:
        return None
    if config.notify.channel:
        cfg = config.channels.get(config.notify.channel)
        return cfg if isinstance(cfg, EmailConfig) else None
    return next((c for c in config.channels.values() if isinstance(c, EmailConfig)), None)


def recipients(config: Config, store: Store) -> list[str]:
    listed = list(config.notify.to) if config.notify else []
    with store.begin() as conn:
        listed += [u.email for u in user_store.listing(conn) if u.email and not u.disabled]
    usable: dict[str, str] = {}
    for address in listed:
        try:  # an account row written before addresses were checked must not reach `To:`
            checked = user_store.check_email(address)
        except user_store.UserError as exc:
            log.warning("notify: skipping %s", exc)
            continue
        if checked:
            usable[checked.lower()] = checked
    return sorted(usable.values())


def _fingerprint(store: Store) -> str:
    with store.begin() as conn:
        ids = [p.id for p in activity.posts_by_status(conn, [PostStatus.PENDING,
                                                             PostStatus.HELD])]
    return hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()


async def notify_reviewers(config: Config, store: Store, *, connector: object = None) -> bool:
    """Send the 'posts are waiting' mail if something new waits; True when a mail went out."""
    cfg = smtp_settings(config)
    if cfg is None:
        return False
    to = recipients(config, store)
    text = pending_digest_text(config, store)
    if not to or text is None:
        return False
    fingerprint = _fingerprint(store)
    with store.begin() as conn:
        if meta.get(conn, "notify:last") == fingerprint:
            return False
    await _send(cfg, to, "pressbot: posts are waiting for review", text, connector,
                await asyncio.to_thread(_envelope, config, store, cfg))
    with store.begin() as conn:
        meta.put(conn, "notify:last", fingerprint)
    log.info("notified reviewers=%d", len(to))
    return True


async def notify_channel_paused(config: Config, store: Store, channel: str, reason: str,
                                hint: str, *, connector: object = None) -> bool:
    """Tell reviewers a channel stopped publishing and what fixes it; True when mailed."""
    cfg = smtp_settings(config)
    to = recipients(config, store) if cfg is not None else []
    if cfg is None or not to:
        return False
    text = (f"pressbot paused the channel {channel!r}: nothing goes out on it until a person "
            f"resumes it.\n\nWhy: {reason}\n"
            + (f"What to do: {hint}\n" if hint else "")
            + f"\nAfter the fix, run `pressbot check` or `pressbot resume {channel}`"
            + (f", or use the review page: {config.bot.public_url}" if config.bot.public_url
               else "") + ".\nIts approved posts keep their place in line.\n")
    await _send(cfg, to, f"pressbot: channel {channel} is paused", text, connector,
                await asyncio.to_thread(_envelope, config, store, cfg))
    return True


def _envelope(config: Config, store: Store, cfg: EmailConfig) -> str | None:
    """A VERP envelope sender on the bounce domain (no issue, no subscriber: 0, 0), so a
    notice that bounces lands in the bounce mailbox, not in the sender's inbox."""
    if not cfg.bounce_domain:
        return None
    from bot.signing import signing_key
    from channels.email.verp import verp_address

    return verp_address(signing_key(config, store), cfg.bounce_domain, 0, 0)


async def _send(cfg: EmailConfig, to: list[str], subject: str, text: str,
                connector: object, envelope: str | None = None) -> None:
    """One short plain-text mail to the reviewers, headers built as the newsletter's."""
    from channels.email.headers import WIRE, fold_text, mailbox
    from channels.email.smtp import SmtpConnector, close_quietly

    # every header built by channels.email.headers, as the newsletter's: no value, decoded
    # or not, can start a new line
    name, sender = parseaddr(cfg.from_)
    message = EmailMessage(policy=WIRE)
    message.set_raw("Subject", fold_text("Subject", subject))
    message.set_raw("From", mailbox(name, sender, "From"))
    message.set_raw("To", ",\r\n ".join(mailbox(None, address) for address in to))
    message.set_raw("Date", formatdate(localtime=True))
    message.set_raw("Message-ID", make_msgid(domain=sender.rpartition("@")[2] or None))
    message.set_raw("Auto-Submitted", "auto-generated")
    message.set_content(text)
    smtp = await (connector or SmtpConnector(cfg)).connect()  # type: ignore[attr-defined]
    try:
        await smtp.sendmail(envelope or sender, to, message.as_bytes(policy=WIRE))
    finally:
        await close_quietly(smtp)
