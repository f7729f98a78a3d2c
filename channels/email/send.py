"""One pass over a newsletter's due recipients through a small pool of SMTP connections.

Each connection is a worker taking recipients from one shared queue; it reconnects after
`per_connection` messages and after the server drops it or answers 421. Every outcome is
committed to the ledger right after the server's reply, before the worker moves on, so
what a crash can repeat is the message in flight on each connection, nothing more.

How replies become ledger states (RFC 5321 §4.2, per recipient):
- 250 after DATA → `sent`;
- 5yz on RCPT → `bounced` (and the subscriber counts a bounce); 5yz on DATA → `failed`;
- 4yz → pending again with a later `next_attempt_at`, `failed` after too many attempts;
- 421, a dropped connection, a timeout → reconnect and try that recipient again in this
  pass (a few times), then leave it pending for the next pass;
- 5yz on MAIL FROM or a refused login → stop the pass: a human must fix the config.
"""

from __future__ import annotations

import asyncio
import email.errors
import logging
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiosmtplib

from bot import clock
from bot.models import Post
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import subscribers as sub_store
from channels.base import ChannelError, Permanent, Transient
from channels.email.message import MessageFactory, Sender, serialise, wire_address
from channels.email.pace import Pace
from channels.email.smtp import SmtpConnector, close_quietly, reply_text

log = logging.getLogger("pressbot.email")
IN_PASS_TRIES = 3
"""Times one recipient is tried again after a dropped connection before the pass gives up."""


@dataclass
class Settings:
    connections: int
    per_connection: int
    bounce_after: int
    max_attempts: int
    retry_base: float
    retry_max: float


@dataclass
class PassResult:
    sent: int = 0
    last_error: str | None = None
    fatal: ChannelError | None = None
    budget_spent: bool = False
    stats: dict[str, int] = field(default_factory=dict)


class SendPass:
    """Sends one post to `due` recipients; `run()` returns what happened."""

    def __init__(self, *, post: Post, due: list[ledger.Delivery], store: Store,
                 connector: SmtpConnector, sender: Sender, settings: Settings, pace: Pace,
                 unsubscribe_url: Callable[[int, str], str],
                 envelope_from: Callable[[ledger.Delivery], str] | None = None,
                 on_progress: Callable[[], None] | None = None) -> None:
        self.post = post
        self.store = store
        self.connector = connector
        self.sender = sender
        self.settings = settings
        self.pace = pace
        self.unsubscribe_url = unsubscribe_url
        self.envelope_from = envelope_from or (lambda d: sender.envelope_from)
        self.factory = MessageFactory(post, sender)
        self.on_progress = on_progress
        self.queue: asyncio.Queue[ledger.Delivery] = asyncio.Queue()
        for item in due:
            self.queue.put_nowait(item)
        self.tries: dict[int, int] = {}
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ledger")
        self.result = PassResult()
        self.stopping = False
        self._last_progress = time.monotonic()

    async def run(self) -> PassResult:
        count = min(self.settings.connections, self.queue.qsize())
        try:
            if count:
                await asyncio.gather(*(self._worker() for _ in range(count)))
        finally:
            self.writer.shutdown(wait=True)
        return self.result

    # ── the ledger (synchronous SQL run in a thread; each call is one committed transaction)

    async def _write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        def go() -> None:
            with self.store.begin() as conn:
                fn(conn, *args, **kwargs)

        # one writer thread: connections committing side by side would only make SQLite's
        # busy handler sleep
        await asyncio.get_running_loop().run_in_executor(self.writer, go)

    async def _sent(self, d: ledger.Delivery) -> None:
        await self._write(ledger.mark_sent, d.post_id, d.subscriber_id,
                          reset_bounces=d.bounces > 0)
        self.result.sent += 1
        if self.on_progress and time.monotonic() - self._last_progress > 1.0:
            self._last_progress = time.monotonic()
            await asyncio.to_thread(self.on_progress)

    async def _bounced(self, d: ledger.Delivery, error: str) -> None:
        def both(conn: Any) -> None:
            ledger.mark_done(conn, d.post_id, d.subscriber_id, ledger.BOUNCED, error)
            sub_store.record_bounce(conn, d.subscriber_id, self.settings.bounce_after)

        await self._write(both)
        log.warning("post=%d subscriber=%d bounced: %s", d.post_id, d.subscriber_id, error)

    async def _failed(self, d: ledger.Delivery, error: str) -> None:
        await self._write(ledger.mark_done, d.post_id, d.subscriber_id, ledger.FAILED, error)
        log.warning("post=%d subscriber=%d failed: %s", d.post_id, d.subscriber_id, error)

    async def _later(self, d: ledger.Delivery, error: str) -> None:
        """A temporary refusal: try this recipient in a later pass, or give up."""
        self.result.last_error = error
        attempts = d.attempts + 1
        if attempts >= self.settings.max_attempts:
            await self._failed(d, f"gave up after {attempts} temporary failures: {error}")
            return
        ceiling = min(self.settings.retry_max, self.settings.retry_base * 2 ** (attempts - 1))
        delay = random.uniform(ceiling / 2, ceiling)
        await self._write(ledger.mark_retry, d.post_id, d.subscriber_id, error,
                          clock.now() + timedelta(seconds=delay))

    # ── one connection ────────────────────────────────────────────────────────────────────

    async def _worker(self) -> None:
        smtp: aiosmtplib.SMTP | None = None
        used = 0
        drops = 0
        try:
            while not self.stopping:
                try:
                    d = self.queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if d.subscriber_status != sub_store.ACTIVE:
                    await self._write(ledger.mark_done, d.post_id, d.subscriber_id,
                                      ledger.SKIPPED, f"subscriber is {d.subscriber_status}",
                                      attempted=False)
                    continue
                try:
                    data, options, to = self._build(d)
                except (ValueError, UnicodeError, TypeError, email.errors.MessageError) as exc:
                    await self._failed(d, f"the message could not be built: {exc}")
                    continue
                if smtp is not None and used >= self.settings.per_connection:
                    await close_quietly(smtp)
                    smtp = None
                if smtp is None:
                    try:
                        smtp = await self.connector.connect()
                        used = 0
                    except Permanent as exc:
                        self._stop(exc)
                        return
                    except Transient as exc:
                        # the server is unreachable: leave the rest pending for a later pass
                        self.result.last_error = str(exc)
                        self.stopping = True
                        return
                if not await self.pace.slot():
                    self.result.budget_spent = True
                    self.stopping = True
                    return
                used += 1
                dropped = await self._send(smtp, d, to, data, options)
                if dropped:
                    await close_quietly(smtp)
                    smtp = None
                    drops += 1
                    if drops >= IN_PASS_TRIES * 2:
                        self.stopping = True
                else:
                    drops = 0
        finally:
            await close_quietly(smtp)

    def _stop(self, exc: ChannelError) -> None:
        self.result.fatal = self.result.fatal or exc
        self.stopping = True

    def _build(self, d: ledger.Delivery) -> tuple[bytes, list[str], str]:
        msg = self.factory.build(to_email=d.email, to_name=d.name, message_id=d.message_id,
                                 unsubscribe_url=self.unsubscribe_url(d.subscriber_id, d.email),
                                 language=d.language)
        to = wire_address(d.email)
        return (*serialise(msg, to), to)

    async def _again(self, d: ledger.Delivery, error: str) -> None:
        """The connection failed under this recipient: retry it now, a few times."""
        self.result.last_error = error
        tries = self.tries.get(d.subscriber_id, 0) + 1
        self.tries[d.subscriber_id] = tries
        if tries >= IN_PASS_TRIES:
            await self._later(d, error)
        else:
            self.queue.put_nowait(d)

    async def _send(self, smtp: aiosmtplib.SMTP, d: ledger.Delivery, to: str, data: bytes,
                    options: list[str]) -> bool:
        """Send one message and record the outcome; True when the connection is gone."""
        try:
            await smtp.sendmail(self.envelope_from(d), [to], data, mail_options=options)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0]
            return await self._refused(d, refusal.code, reply_text(refusal), "RCPT")
        except aiosmtplib.SMTPSenderRefused as exc:
            if exc.code >= 500:
                self._stop(Permanent(
                    f"the SMTP server refused the sender {self.sender.envelope_from}: "
                    f"{reply_text(exc)}", "check `from` and that the account may send as it"))
                self.queue.put_nowait(d)
                return False
            return await self._refused(d, exc.code, reply_text(exc), "MAIL")
        except aiosmtplib.SMTPDataError as exc:
            return await self._refused(d, exc.code, reply_text(exc), "DATA")
        except aiosmtplib.SMTPNotSupported as exc:
            await self._failed(d, str(exc))
            return False
        except aiosmtplib.SMTPResponseException as exc:
            await self._again(d, reply_text(exc))
            return True
        except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
            await self._again(d, f"connection lost: {reply_text(exc)}")
            return True
        except ValueError as exc:  # aiosmtplib refuses an address it cannot send safely
            await self._failed(d, f"address not usable: {exc}")
            return False
        await self._sent(d)
        return False

    async def _refused(self, d: ledger.Delivery, code: int, error: str, stage: str) -> bool:
        if code == 421:  # the server closes the channel: reconnect, nothing was accepted
            await self._again(d, error)
            return True
        if 500 <= code < 600:
            if stage == "RCPT":
                await self._bounced(d, error)
            else:
                await self._failed(d, f"refused at {stage}: {error}")
            return False
        await self._later(d, error)
        return False
