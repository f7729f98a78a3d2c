"""The subscribe form's confirmation mails: queued in the store, sent after the answer.

The form answers before any mail goes out, and answers alike for a new address and one
already subscribed: neither the mail server's speed nor whether it is up at all can tell
a stranger who reads the newsletter. The mail is queued in the transaction that records
the pending subscriber (`subscribers.confirm_due_at`), so a crash or an outage loses
none. The web process sends it right after the answer (`Sender.kick`); `pressbot run`
sends whatever is still due every minute (a mail that failed, or one whose process died).

A mail is claimed for LEASE before it is sent, so two processes do not both send it; one
that failed is tried again after RETRY_AFTER, and given up GIVE_UP_AFTER after it was
queued (the person can send the form again).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

from bot import clock, i18n
from bot.config import Config, EmailConfig, OutboxConfig
from bot.features import newsletter
from bot.store import Store
from bot.store import subscribers as sub_store

log = logging.getLogger("pressbot.confirmations")

LEASE = timedelta(minutes=10)
RETRY_AFTER = timedelta(minutes=5)
GIVE_UP_AFTER = timedelta(days=1)


def list_name(config: Config, language: str | None = None) -> str:
    """The newsletter's name as configured, else "our newsletter" in `language`."""
    found = newsletter(config)
    named = found[1].list_name if found and isinstance(found[1], EmailConfig) else None
    return named or i18n.gettext(language, "our newsletter")


async def send_due(config: Config, store: Store, *, smtp: object | None = None,
                   dry_run: bool = False, key: str | None = None) -> int:
    """Send the confirmation mails that are due, oldest first; returns how many went out.

    Stops at the first failure: the others would most likely meet the same server. `smtp`
    (a `SmtpConnector`) overrides the channel's server; `dry_run` writes to the outbox."""
    found = newsletter(config)
    if found is None:
        return 0
    sent = 0
    while True:
        now = clock.now()
        subscriber = await asyncio.to_thread(_claim, store, now)
        if subscriber is None:
            return sent
        if key is None:  # read when there is something to sign: an idle pass only looks
            from bot.signing import signing_key

            key = await asyncio.to_thread(signing_key, config, store)
        try:
            await _send(config, found, subscriber, key, smtp=smtp, dry_run=dry_run)
        except Exception as exc:
            await asyncio.to_thread(_failed, store, subscriber, now, exc)
            return sent
        await asyncio.to_thread(_reschedule, store, subscriber.id, now + LEASE, None,
                                clock.now())
        sent += 1


def _claim(store: Store, now: datetime) -> sub_store.Subscriber | None:
    with store.begin() as conn:  # nothing due (the usual case): no write lock taken
        if not sub_store.confirmation_due(conn, now):
            return None
    for _ in range(5):  # another process took the one we looked at: look again
        with store.begin_immediate() as conn:  # read, then write: the write lock first
            claimed = sub_store.claim_due_confirmation(conn, now, until=now + LEASE)
            if claimed is not None or not sub_store.confirmation_due(conn, now):
                return claimed
    return None


def _reschedule(store: Store, subscriber_id: int, claimed_until: datetime,
                due: datetime | None, mailed: datetime | None = None) -> None:
    """Due again at `due` (or done); `mailed`: when the mail went out (consent evidence)."""
    with store.begin() as conn:
        sub_store.reschedule_confirmation(conn, subscriber_id, claimed_until, due)
        if mailed is not None:
            sub_store.update(conn, subscriber_id, confirm_mailed_at=mailed)


def _failed(store: Store, subscriber: sub_store.Subscriber, now: datetime,
            exc: Exception) -> None:
    retry = now + RETRY_AFTER
    if retry - (subscriber.confirm_sent_at or now) > GIVE_UP_AFTER:
        log.error("confirmation mail to subscriber %d not sent, given up after %s: %s: %s",
                  subscriber.id, GIVE_UP_AFTER, type(exc).__name__, exc)
        _reschedule(store, subscriber.id, now + LEASE, None)
        return
    log.warning("confirmation mail to subscriber %d not sent (next try in %s): %s: %s",
                subscriber.id, RETRY_AFTER, type(exc).__name__, exc)
    _reschedule(store, subscriber.id, now + LEASE, retry)


async def _send(config: Config, channel: tuple[str, EmailConfig | OutboxConfig],
                subscriber: sub_store.Subscriber, key: str, *, smtp: object | None,
                dry_run: bool) -> None:
    from bot import subscribers as subs  # itsdangerous: not for a service with nothing to send
    from channels.email.message import (
        greeting,
        sender_from_config,
        serialise,
        single_message,
        wire_address,
    )
    from channels.email.verp import verp_address
    from channels.email.words import words_for

    name, cfg = channel
    language = i18n.best(subscriber.language)  # the language chosen on the form
    title = list_name(config, language)
    token = subs.confirm_token(key, subscriber)
    link = f"{str(config.bot.public_url).rstrip('/')}/confirm/{token}"
    sender = sender_from_config(name, config)
    to = wire_address(subscriber.email)
    who = [getattr(cfg, "organisation", None), getattr(cfg, "postal_address", None)]
    signed = " · ".join(w for w in who if w)
    msg = single_message(
        sender=sender, to_email=to, to_name=subscriber.name,
        subject=i18n.gettext(language, "Confirm your subscription to {list}", list=title),
        text=f"{greeting(subscriber.name, words_for(language))}\n\n"
             + i18n.gettext(language, "Someone, probably you, asked to receive {list} at this "
                            "address. To confirm, open this link within 7 days:", list=title)
             + f"\n\n{link}\n\n"
             + i18n.gettext(language, "If it was not you, ignore this message: nothing will "
                            "be sent.") + "\n"
             + (f"\n-- \n{signed}\n" if signed else ""))
    bounce_domain = getattr(cfg, "bounce_domain", None)
    # VERP as for the newsletter (post 0: no issue), so a bounce reaches the processor
    envelope = verp_address(key, bounce_domain, 0, subscriber.id) if bounce_domain \
        else sender.envelope_from
    data, options = serialise(msg, to)
    if dry_run or cfg.dry_run or not isinstance(cfg, EmailConfig):  # to the outbox
        folder = config.resolve(Path(config.bot.outbox)) / name
        await asyncio.to_thread(_write, folder / f"confirm-{subscriber.id}.eml", data)
        return
    from channels.email.smtp import SmtpConnector, close_quietly

    connector = smtp if isinstance(smtp, SmtpConnector) else SmtpConnector(cfg)
    connection = await connector.connect()
    try:
        await connection.sendmail(envelope, [to], data, mail_options=options)
    finally:
        await close_quietly(connection)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


class Sender:
    """Sends a process's queued confirmations in one background task at a time.

    `kick` returns at once: the form's answer never waits for the mail, nor for a mail
    server that is slow or down (the request's connection is not held either)."""

    def __init__(self, config: Config, store: Store, smtp: object | None = None) -> None:
        self.config = config
        self.store = store
        self.smtp = smtp
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def kick(self) -> None:
        """Send what is due, after the current request (call from the event loop)."""
        if self._task is not None and not self._task.done():
            self._again = True  # the running pass looks once more when it is done
            return
        self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while True:
            self._again = False
            try:
                await send_due(self.config, self.store, smtp=self.smtp)
            except Exception:  # the store itself failed: `pressbot run` tries again later
                log.exception("sending confirmation mails failed")
            if not self._again:
                return
