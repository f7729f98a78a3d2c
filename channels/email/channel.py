"""The email newsletter channel: one post, mailed to every active subscriber, resumably.

`publish` is safe to call again and again for one post: the first call snapshots the
audience into the delivery ledger, every call sends to the recipients still due, and the
ledger decides when the post is done. While recipients remain (4xx answers, an outage,
the hourly budget) it raises `Transient` so the publisher comes back later; `lookup`
reads the same ledger. Progress goes to `posts.extra["progress"]` for `queue`/`show`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from bot import clock
from bot.config import Config, EmailConfig
from bot.models import Post, Receipt
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import subscribers as sub_store
from channels.base import ChannelError, Check, Permanent, Transient
from channels.email.message import sender_for
from channels.email.msgid import message_id_for
from channels.email.pace import Pace
from channels.email.send import SendPass, Settings
from channels.email.smtp import SmtpConnector, close_quietly
from channels.email.verp import verp_address
from channels.registry import DEFAULT_LIMITS

log = logging.getLogger("pressbot.email")
PAGE = 1000
"""Recipients read (and held) at a time, when the audience is snapshot and when it is sent."""


class EmailChannel:
    """Newsletter by SMTP submission; `smtp` is the injected connection factory."""

    def __init__(self, name: str, cfg: EmailConfig, *, config: Config, store: Store | None,
                 smtp: SmtpConnector | None = None, retry_base: float = 300.0,
                 retry_max: float = 6 * 3600.0) -> None:
        self.name = name
        self.cfg = cfg
        self.config = config
        self.store = store
        self.limits = DEFAULT_LIMITS["email"]
        self.smtp = smtp or SmtpConnector(cfg)
        self.public_url = str(config.bot.public_url).rstrip("/")
        self.sender = replace(sender_for(name, cfg),
                              archive_base=self.public_url if cfg.archive else None)
        self.settings = Settings(
            connections=cfg.connections, per_connection=cfg.per_connection,
            bounce_after=cfg.bounce_after,
            max_attempts=cfg.max_attempts or config.bot.max_attempts,
            retry_base=retry_base, retry_max=retry_max,
            resend_uncertain=cfg.uncertain == "resend")
        self.on_progress: Callable[[Post, dict[str, int]], None] | None = None
        """Called about once a second during a send (e.g. a CLI progress bar)."""
        self._key: str | None = None

    # ── helpers ───────────────────────────────────────────────────────────────────────────

    def _store(self) -> Store:
        if self.store is None:
            raise Permanent("the email channel was built without a database",
                            "this is a bug in how channels are built: report it")
        return self.store

    async def _signing_key(self) -> str:
        if self._key is None:
            from bot.signing import signing_key

            self._key = await asyncio.to_thread(signing_key, self.config, self._store())
        return self._key

    def _unsubscribe(self, key: str) -> Callable[[int, str], tuple[str, str]]:
        """A recipient's one-click unsubscribe URL and the signed token it carries."""
        from bot.subscribers import unsubscribe_token

        def link(subscriber_id: int, email: str) -> tuple[str, str]:
            token = unsubscribe_token(key, subscriber_id, email)
            return f"{self.public_url}/u/{token}", token

        return link

    def _envelope_from(self, key: str) -> Callable[[ledger.Delivery], str] | None:
        """VERP when a bounce domain is configured: each bounce says whose it is."""
        domain = self.cfg.bounce_domain
        if not domain:
            return None

        def envelope(d: ledger.Delivery) -> str:
            return verp_address(key, domain, d.post_id, d.subscriber_id)

        return envelope

    def _snapshot(self, post: Post, key: str) -> None:
        # read-then-write: take SQLite's write lock first, or a concurrent commit makes
        # the upgrade fail at once with "database is locked"
        with self._store().begin_immediate() as conn:
            if ledger.exists(conn, post.id):
                return
            # page by page, so the audience is never all in memory at once
            blocked = sub_store.suppressed_hashes(conn)
            after = 0
            while page := sub_store.addresses(conn, status=sub_store.ACTIVE, after=after,
                                              limit=PAGE):
                ledger.add(conn, post.id, [
                    (sid, message_id_for(key, post, sid, self.sender.domain))
                    for sid, email in page
                    if not blocked or sub_store.email_hash(email) not in blocked])
                after = page[-1][0]
            ledger.analyze(conn)

    def _due(self, post: Post, after: int = 0) -> tuple[list[ledger.Delivery], int | None]:
        """The next page of recipients due now (after subscriber id `after`), and how many
        messages the hourly limit still allows."""
        now = clock.now()
        with self._store().begin() as conn:
            due = ledger.due(conn, post.id, now, after=after, limit=PAGE)
            budget = None
            if self.cfg.rate_per_hour:
                budget = self.cfg.rate_per_hour - ledger.sent_since(
                    conn, self.name, now - timedelta(hours=1))
        return due, budget

    def _progress(self, post: Post) -> dict[str, int]:
        with self._store().begin_immediate() as conn:
            return ledger.write_progress(conn, post.id)

    def _settle(self, post: Post) -> None:
        """Recipients an earlier attempt left `sending`: their outcome is unknown."""
        with self._store().begin_immediate() as conn:
            count = ledger.settle(conn, post.id, resend=self.settings.resend_uncertain)
        if count:
            log.warning("post=%d: %d recipient(s) were left 'sending' by an earlier attempt: "
                        "%s", post.id, count, "sent again (uncertain = \"resend\")"
                        if self.settings.resend_uncertain else "uncertain, not sent again")

    def _retry_after(self, post: Post, budget_spent: bool) -> float | None:
        now = clock.now()
        with self._store().begin() as conn:
            if budget_spent:
                oldest = ledger.oldest_sent_since(conn, self.name, now - timedelta(hours=1))
                if oldest is not None:
                    return max(1.0, (oldest + timedelta(hours=1) - now).total_seconds())
            at = ledger.next_attempt_at(conn, post.id)
        return None if at is None else max(1.0, (at - now).total_seconds())

    # ── the channel interface ─────────────────────────────────────────────────────────────

    async def publish(self, post: Post) -> Receipt:
        key = await self._signing_key()
        await asyncio.to_thread(self._snapshot, post, key)
        await asyncio.to_thread(self._settle, post)
        before = (await asyncio.to_thread(self._progress, post))["remaining"]
        due, budget = await asyncio.to_thread(self._due, post)
        pace = Pace(self.cfg.rate_per_second, budget)

        def report() -> None:
            progress = self._progress(post)
            if self.on_progress:
                self.on_progress(post, progress)

        try:
            while True:  # one page of recipients at a time: memory stays flat at any size
                run = SendPass(post=post, due=due, store=self._store(), connector=self.smtp,
                               sender=self.sender, settings=self.settings, pace=pace,
                               unsubscribe=self._unsubscribe(key),
                               envelope_from=self._envelope_from(key), on_progress=report)
                result = await run.run()
                if run.stopping or result.fatal or len(due) < PAGE:
                    break
                due, _ = await asyncio.to_thread(self._due, post, due[-1].subscriber_id)
                if not due:
                    break
        finally:
            progress = await asyncio.to_thread(self._progress, post)
            if self.on_progress:
                self.on_progress(post, progress)
        remaining = progress["remaining"]
        if result.fatal is not None and remaining:
            raise result.fatal
        if not remaining:
            return self._receipt(post)
        retry_after = await asyncio.to_thread(self._retry_after, post,
                                              result.budget_spent and pace.exhausted)
        why = ("the hourly sending limit (rate_per_hour) is reached" if result.budget_spent
               else result.outage or result.last_error or "some recipients are due later")
        unknown = f", {progress['uncertain']} uncertain" if progress["uncertain"] else ""
        raise Transient(
            f"newsletter {post.id}: {progress['sent']} sent, {progress['failed']} failed"
            f"{unknown}, {remaining} remaining — {why}", retry_after=retry_after,
            progressed=remaining < before, outage=result.outage is not None)

    def _receipt(self, post: Post) -> Receipt:
        """Done; with the archive on, `remote_url` is the issue's public page."""
        url = f"{self.public_url}/newsletter/{post.id}" if self.cfg.archive else None
        return Receipt(remote_id=f"newsletter-{post.id}", remote_url=url)

    async def lookup(self, post: Post) -> Receipt | None:
        """The ledger is the truth: done when no recipient is pending or left `sending`
        any more (`publish` settles those first)."""
        def read() -> dict[str, int] | None:
            with self._store().begin() as conn:
                if not ledger.exists(conn, post.id):
                    return None
                return ledger.progress(conn, post.id)

        progress = await asyncio.to_thread(read)
        if progress is None or progress["remaining"]:
            return None
        return self._receipt(post)

    async def check(self) -> Check:
        cfg = self.cfg
        where = f"{cfg.smtp_host}:{cfg.smtp_port} ({cfg.security})"
        warnings: list[str] = []
        if not self.public_url.startswith("https://"):
            warnings.append(f"bot.public_url is {self.public_url}: one-click unsubscribe "
                            "(RFC 8058, required by Gmail and Yahoo) needs an https URL")
        if not (cfg.organisation and cfg.postal_address):
            warnings.append("organisation and postal_address are not set: the law in several "
                            "countries (CAN-SPAM, the EU's e-commerce rules) wants the sender's "
                            "name and postal address in every newsletter")
        if cfg.security == "none" and cfg.username:
            warnings.append("security = \"none\": the password crosses the network in clear")
        try:
            smtp = await self.smtp.connect()
        except ChannelError as exc:
            return Check(ok=False, summary=f"{where}: {exc}", warnings=warnings)
        try:
            tls = smtp.get_transport_info("ssl_object")
            details = {"host": cfg.smtp_host, "port": cfg.smtp_port,
                       "tls": tls.version() if tls is not None else None,
                       "auth": bool(cfg.username),
                       "extensions": sorted(smtp.esmtp_extensions)}
        finally:
            await close_quietly(smtp)
        if self.store is not None:
            counts = await asyncio.to_thread(self._counts)
            details["subscribers"] = counts
            if not counts.get(sub_store.ACTIVE):
                warnings.append("no active subscribers yet (pressbot subscribers add/import)")
        login = f", logged in as {cfg.username}" if cfg.username else ""
        tls_text = f", {details['tls']}" if details["tls"] else ", no TLS"
        return Check(ok=True, summary=f"{where} reachable{tls_text}{login}", details=details,
                     warnings=warnings)

    def _counts(self) -> dict[str, int]:
        with self._store().begin() as conn:
            return sub_store.counts(conn)

    async def aclose(self) -> None:
        """Connections live only for one send, so there is nothing to close."""
