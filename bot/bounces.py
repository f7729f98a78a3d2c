"""The bounce mailbox applied to the audience, the way bulk senders are expected to.

- a hard bounce (a DSN saying 5.x.x) stops mail to the address at once (`bounced`);
- a complaint (an ARF feedback report from a mailbox provider) unsubscribes at once and
  puts the address on the suppression list, like the person's own unsubscribe;
- a soft bounce (a DSN saying `failed` with 4.x.x) counts; after `soft_bounce_after` of
  them the address is `bounced`. `delayed` reports change nothing;
- a mail to the `unsubscribe_mailto` address unsubscribes (RFC 2369's mailto).

Anyone can mail this mailbox, and a report or a request that names an address proves
nothing, so what each counts for comes from proof only pressbot or the subscriber has:
- a bounce or a complaint is the subscriber's whose signed VERP envelope address it was
  delivered to (`channels.email.verp`; a complaint's Original-Mail-From counts too), else
  whose keyed Message-ID the returned message carries (`channels.email.msgid`) as the
  ledger holds it for them. A Message-ID in the unkeyed format of earlier versions counts
  only beside that same subscriber's signed unsubscribe link in the returned headers;
- an unsubscribe request is the subscriber's whose signed token its Subject or To carries
  (the `mailto:` URI in List-Unsubscribe puts it in the subject), else its sender's when
  the receiving server's Authentication-Results (`imap_authserv_id`) says DMARC, or SPF
  and DKIM, passed for the `From` domain.
Anything else, a report naming only an address included, is left for a person.
Each message's outcome is committed before the message is deleted from the mailbox; one
pressbot does not understand is left there, marked read, for a person.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Config, EmailConfig
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import subscribers as sub_store
from bot.store.subscribers import Subscriber, email_hash

# a service that reads no bounce mailbox loads none of the reading: the report parser
# (authres, email parsing) and the signed tokens (itsdangerous) come with the first pass
if TYPE_CHECKING:
    import ssl

    from channels.email import reports

log = logging.getLogger("pressbot.bounces")


@dataclass
class Outcome:
    """What one pass over a bounce mailbox did."""

    counts: dict[str, int] = field(default_factory=dict)
    unknown: int = 0

    def add(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


def _requester(store: Store, key: str, report: reports.Report) -> Subscriber | None:
    """Whose unsubscribe request it is: a signed token's, else an authenticated sender's."""
    from bot import subscribers

    for token in report.tokens:
        found = subscribers.read_unsubscribe_token(store, key, token)
        if found is not None:
            return found
    if not (report.authenticated and report.recipients):
        return None  # `From:` alone is what anyone can write
    with store.begin() as conn:
        return sub_store.by_email(conn, report.recipients[0])


def _token_holders(store: Store, key: str, report: reports.Report) -> set[int]:
    """The subscribers whose signed unsubscribe links the returned message carries."""
    from bot import subscribers

    found = (subscribers.read_unsubscribe_token(store, key, t) for t in report.tokens)
    return {s.id for s in found if s is not None}


def _subscriber(store: Store, key: str, report: reports.Report) -> Subscriber | None:
    from channels.email import msgid, reports
    from channels.email.verp import read_verp

    if report.kind == reports.UNSUBSCRIBE:
        return _requester(store, key, report)
    verp = read_verp(key, report.envelope)
    cited = [(m, c) for m in report.message_ids if (c := msgid.cited(m)) is not None]
    # an unkeyed id of earlier versions is derivable by anyone: believed only beside the
    # same person's signed link
    holders = _token_holders(store, key, report) if any(c.legacy for _, c in cited) else set()
    with store.begin() as conn:
        if verp is not None:
            return sub_store.get(conn, verp[1])
        for message_id, ours in cited:
            if ours.legacy and ours.subscriber_id not in holders:
                continue
            if ledger.issued(conn, ours.post_id, ours.subscriber_id, message_id):
                return sub_store.get(conn, ours.subscriber_id)
    return None  # an address named in a report proves nothing: left for a person


def apply(store: Store, cfg: EmailConfig, key: str, report: reports.Report) -> str | None:
    """Change the subscriber a report is about; what happened, or None when it names nobody
    pressbot knows (or says nothing to act on)."""
    from channels.email import reports

    if report.kind is None:
        return None
    if report.kind == reports.DELAYED:
        return "delayed (nothing changed)"
    subscriber = _subscriber(store, key, report)
    if subscriber is None:
        return None
    with store.begin() as conn:
        if report.kind == reports.HARD:
            changed = sub_store.mark_bounced(conn, subscriber.id)
            what = "bounced" if changed else "bounced (already not mailed)"
        elif report.kind == reports.SOFT:
            changed = sub_store.record_soft_bounce(conn, subscriber.id, cfg.soft_bounce_after)
            what = "bounced after soft bounces" if changed else "soft bounce counted"
        else:  # a complaint or an unsubscribe request: the person's wish, kept like one
            reason = "complaint" if report.kind == reports.COMPLAINT else "unsubscribed"
            sub_store.suppress(conn, email_hash(subscriber.email), reason)
            if subscriber.status in (sub_store.ACTIVE, sub_store.PENDING):
                sub_store.update(conn, subscriber.id, status=sub_store.UNSUBSCRIBED)
            what = reason
    log.info("bounce mailbox: subscriber=%d %s (%s)", subscriber.id, what, report.detail)
    return what


def check_mailbox(config: Config, store: Store, channel: str, *,
                  tls_context: ssl.SSLContext | None = None) -> Outcome:
    """One pass over channel `channel`'s bounce mailbox (blocking: run it in a thread)."""
    from bot.signing import signing_key
    from channels.email import reports
    from channels.email.mailbox import open_mailbox

    cfg = config.channels[channel]
    assert isinstance(cfg, EmailConfig)
    key = signing_key(config, store)
    outcome = Outcome()
    with open_mailbox(cfg, tls_context=tls_context) as box:
        for uid, data in box.unseen():
            report = reports.parse(data, cfg.unsubscribe_mailto, cfg.imap_authserv_id)
            what = apply(store, cfg, key, report)
            if what is None:
                outcome.unknown += 1
                log.info("bounce mailbox: message %s left for a person (%s)", uid,
                         report.detail or report.kind)
                box.keep(uid)
            else:
                outcome.add(what)
                box.done(uid)
    return outcome


def bounce_channels(config: Config) -> list[str]:
    return [name for name, cfg in config.channels.items()
            if isinstance(cfg, EmailConfig) and cfg.imap_host and not cfg.dry_run]


async def check_all(config: Config, store: Store) -> None:
    """The service's job: every email channel's mailbox; a failure is logged, not raised."""
    for name in bounce_channels(config):
        try:
            outcome = await asyncio.to_thread(check_mailbox, config, store, name)
        except Exception as exc:
            log.warning("bounce mailbox of %s not read: %s: %s", name, type(exc).__name__, exc)
            continue
        if outcome.counts or outcome.unknown:
            log.info("bounce mailbox channel=%s %s unknown=%d", name, outcome.counts,
                     outcome.unknown)
