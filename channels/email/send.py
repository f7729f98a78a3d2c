"""One pass over a newsletter's due recipients through a small pool of SMTP connections.

Each connection is a thread taking recipients from one shared queue, a batch at a time; it
reconnects after `per_connection` messages and after the server drops it or answers 421.
A connection talks SMTP with the standard library's `smtplib`, blocking, and writes each
message as bytes prepared before its turn (the MAIL and RCPT lines when its batch is
taken, the body, dot-stuffed, while the server takes in the message before it): that
costs about half the CPU of asyncio and aiosmtplib, and the connection waits for its
ledger writes (`GroupWriter`, one more thread) without an event loop between them. The
event loop only starts the pass and awaits its end.
A batch is reserved (`claimed`) in one committed transaction that checks the post's claim
(`ledger.claim`), and each message's recipient is marked `sending` before its DATA
(`ledger.start`, checking the claim again), committed together with the previous
message's answer (`GroupWriter`): two workers never mail one address, and a worker whose
claim was taken over stops. What a crash, a database outage or a late answer can leave
open is the message in flight on each connection, and that one is `uncertain`, never sent
blindly again; the rest of a batch never went out and is pending again.

How replies become ledger states (RFC 5321 §4.2, per recipient):
- 250 after DATA → `sent`;
- 5yz on RCPT → `bounced` (and the subscriber counts a bounce); 5yz on DATA → `failed`;
- 4yz → pending again with a later `next_attempt_at`, `failed` after too many attempts;
- 421, a dropped connection or a timeout before DATA → pending again (nothing went out),
  reconnect and try that recipient again in this pass (a few times);
- a dropped connection or a timeout after DATA (the body may have been delivered: the
  server's "250" may be on its way) → `uncertain`;
- the server unreachable, or dropping every connection → stop the pass: an outage;
- 5yz on MAIL FROM or a refused login → stop the pass: a human must fix the config.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.errors
import functools
import logging
import random
import re
import smtplib
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiosmtplib.email import quote_address

from bot import clock
from bot.models import Post
from bot.store import Store
from bot.store import deliveries as ledger
from bot.store import subscribers as sub_store
from channels.base import ChannelError, Permanent, Transient
from channels.email.ledgerwriter import GroupWriter
from channels.email.message import MessageFactory, Sender, wire_address
from channels.email.pace import Pace
from channels.email.smtp import SmtpConnector, quit_quietly, reply_text

log = logging.getLogger("pressbot.email")
IN_PASS_TRIES = 3
"""Times one recipient is tried again after a dropped connection before the pass gives up."""
BATCH = 50
"""Recipients a connection reserves at once: one durable commit per batch."""
AHEAD = 10
"""Messages left in a connection's batch when it claims its next one."""


@dataclass
class Settings:
    connections: int
    per_connection: int
    bounce_after: int
    max_attempts: int
    retry_base: float
    retry_max: float
    resend_uncertain: bool = False
    """At least once instead of at most once for a message whose answer never came."""


@dataclass
class PassResult:
    sent: int = 0
    last_error: str | None = None
    fatal: ChannelError | None = None
    outage: str | None = None
    """The server was unreachable or dropped every connection: the channel's outage."""
    budget_spent: bool = False
    error: BaseException | None = None
    """What stopped the pass from outside SMTP: a lost claim, a database error."""
    stats: dict[str, int] = field(default_factory=dict)


_ANSWER_LOST = (TimeoutError, smtplib.SMTPException, OSError)
_UNBUILDABLE = (ValueError, UnicodeError, TypeError, email.errors.MessageError)
"""What building a recipient's message raises for a message it cannot make."""


class _Refused(Exception):
    """The server answered a command with something else than it takes to go on."""

    def __init__(self, code: int, message: bytes) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message.decode("utf-8", "replace")


@dataclass
class _Built:
    """One recipient's message and SMTP commands, as bytes ready for the wire. The
    envelope is made when the batch is taken (an address the server cannot take fails
    there, before the claim); the body while the connection waits for the server's answer
    to the message before it (`SendPass._body`), so building it costs the send no time."""

    mail: bytes
    """`MAIL FROM:<…>` (and SMTPUTF8), without SIZE or the line end."""
    rcpt: bytes
    """`RCPT TO:<…>` and its line end."""
    to: str
    envelope: str
    utf8: bool
    data: bytes | None = None
    """The body as DATA carries it: dot-stuffed, ended by CRLF . CRLF."""
    size: int = 0
    failed: BaseException | None = None
    """What building the body raised; raised again (or recorded) when its turn comes."""


class SendPass:
    """Sends one post to `due` recipients; `run()` returns what happened."""

    def __init__(self, *, post: Post, due: list[ledger.Delivery], store: Store,
                 connector: SmtpConnector, sender: Sender, settings: Settings, pace: Pace,
                 unsubscribe: Callable[[int, str], tuple[str, str]],
                 envelope_from: Callable[[ledger.Delivery], str] | None = None,
                 on_progress: Callable[[], None] | None = None) -> None:
        self.post = post
        self.token = post.claim_token
        self.store = store
        self.connector = connector
        self.sender = sender
        self.settings = settings
        self.pace = pace
        self.unsubscribe = unsubscribe
        """(subscriber id, address) → (one-click URL, the signed token in it)."""
        self.envelope_from = envelope_from or (lambda d: sender.envelope_from)
        self.factory = MessageFactory(post, sender)
        self.on_progress = on_progress
        self.queue: deque[ledger.Delivery] = deque(due)
        self.tries: dict[int, int] = {}
        self.writer: GroupWriter | None = None
        self.claims: GroupWriter | None = None
        """The writer batch claims go through: `writer`, or on PostgreSQL one of their own."""
        self.lock = threading.Lock()
        """Guards what the connections share: `unsent`, `answers`, `result`, progress."""
        self.unsent: list[tuple[int, bool]] = []
        """Answers (subscriber id, reset bounces) the next `start` carries."""
        self.answers: list[Future[Any]] = []
        """Answers handed to the writer and not yet seen committed: checked before DATA."""
        self.result = PassResult()
        self.stopping = False
        self._last_progress = time.monotonic()

    async def run(self) -> PassResult:
        """Send; raises what stopped a connection from outside SMTP (`LostClaim`, a database
        error) once every connection has recorded the message it had in flight. Cancelled,
        it tells the connections to stop after the message each has in flight, and they
        still record it."""
        try:
            await asyncio.shield(asyncio.get_running_loop().run_in_executor(None, self._run))
        except asyncio.CancelledError:
            self.stopping = True
            raise
        if self.result.error is not None:
            raise self.result.error
        return self.result

    def _run(self) -> None:
        self.writer = GroupWriter(self.store)
        # PostgreSQL: batch claims commit on a connection of their own, so waiting for
        # the disk (a claim is durable) never holds up the `start` a connection is about
        # to send DATA after; SQLite has one writer at a time, so one connection does all
        self.claims = self.writer if self.store.is_sqlite else GroupWriter(self.store)
        try:
            count = min(self.settings.connections, len(self.queue))
            threads = [threading.Thread(target=self._guarded, name=f"smtp-{n + 1}",
                                        daemon=True) for n in range(count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self._answered()
        except Exception as exc:
            self.result.error = self.result.error or exc
        finally:
            if self.claims is not self.writer:
                self.claims.stop()
            self.writer.stop()

    def _guarded(self) -> None:
        try:
            self._worker()
        except Exception as exc:  # the other connections stop at their next recipient
            with self.lock:
                self.result.error = self.result.error or exc
            self.stopping = True

    # ── the ledger (the writer's thread commits; a connection waits for its own writes) ──

    def _write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        assert self.writer is not None
        return self.writer.run(fn, *args, **kwargs)

    def _answered(self) -> None:
        """Raise what recording an earlier answer met (a database error): no DATA goes
        out after an answer the ledger failed to keep (answers no `start` has carried yet,
        another connection's, are handed over first)."""
        with self.lock:
            self._flush()
            answers = list(self.answers)
        for future in answers:
            future.result()
        with self.lock:
            self.answers = [f for f in self.answers if not f.done()]

    def _sent(self, d: ledger.Delivery) -> None:
        # written by the next message's `start`, in its statement, and checked before that
        # message's DATA (`_answered`); the last of a batch by `_flush`
        report = False
        with self.lock:
            self.unsent.append((d.subscriber_id, d.bounces > 0))
            self.result.sent += 1
            if self.on_progress and time.monotonic() - self._last_progress > 1.0:
                self._last_progress = time.monotonic()
                report = True
        if report and self.on_progress:
            self.on_progress()

    def _flush(self) -> None:
        """Hand the answers no `start` will carry to the writer (end of a batch, of a
        connection, of the pass); with `lock` held."""
        if self.unsent:
            assert self.writer is not None
            carried, self.unsent = self.unsent, []
            self.answers.append(self.writer.sent(self.post.id, self.token, carried))

    def _start(self, d: ledger.Delivery) -> Future[Any]:
        """`start` for this recipient, carrying the answers not yet handed to the writer."""
        assert self.writer is not None
        with self.lock:
            carried, self.unsent = self.unsent, []
            started = self.writer.start(d.post_id, d.subscriber_id, self.token, sent=carried)
            if carried:
                self.answers.append(started)
        return started

    def _bounced(self, d: ledger.Delivery, error: str) -> None:
        def both(conn: Any) -> None:
            ledger.mark_done(conn, d.post_id, d.subscriber_id, ledger.BOUNCED, error,
                             token=self.token)
            sub_store.record_bounce(conn, d.subscriber_id, self.settings.bounce_after)

        self._write(both)
        log.warning("post=%d subscriber=%d bounced: %s", d.post_id, d.subscriber_id, error)

    def _failed(self, d: ledger.Delivery, error: str, *, sent: bool = True) -> None:
        """Failed for good; `sent=False` for a message that never reached `sending`."""
        self._write(ledger.mark_done, d.post_id, d.subscriber_id, ledger.FAILED, error,
                    token=self.token if sent else None)
        log.warning("post=%d subscriber=%d failed: %s", d.post_id, d.subscriber_id, error)

    def _uncertain(self, d: ledger.Delivery, error: str) -> None:
        """The body went out and no answer came: the server may have the message."""
        self.result.last_error = error
        if self.settings.resend_uncertain:
            self._again(d, error)
            return
        self._write(ledger.mark_done, d.post_id, d.subscriber_id, ledger.UNCERTAIN,
                    f"no answer after the message was sent, not sent again: {error}",
                    token=self.token)
        log.warning("post=%d subscriber=%d uncertain (not sent again): %s", d.post_id,
                    d.subscriber_id, error)

    def _later(self, d: ledger.Delivery, error: str) -> None:
        """A temporary refusal: try this recipient in a later pass, or give up."""
        self.result.last_error = error
        attempts = d.attempts + 1
        if attempts >= self.settings.max_attempts:
            self._failed(d, f"gave up after {attempts} temporary failures: {error}")
            return
        ceiling = min(self.settings.retry_max, self.settings.retry_base * 2 ** (attempts - 1))
        delay = random.uniform(ceiling / 2, ceiling)
        self._write(ledger.mark_retry, d.post_id, d.subscriber_id, self.token, error,
                    clock.now() + timedelta(seconds=delay))

    # ── one connection ────────────────────────────────────────────────────────────────────

    def _worker(self) -> None:
        smtp: smtplib.SMTP | None = None
        used = 0
        drops = 0
        batch: deque[tuple[ledger.Delivery, _Built]] = deque()
        ahead: _Claim | None = None
        try:
            while not self.stopping:
                if not batch and ahead is None and not self.queue:
                    return
                if smtp is not None and used >= self.settings.per_connection:
                    quit_quietly(smtp)
                    smtp = None
                if smtp is None:
                    try:
                        smtp = self.connector.open()
                        used = 0
                    except Permanent as exc:
                        self._stop(exc)
                        return
                    except Transient as exc:
                        # the server is unreachable: leave the rest pending for a later pass
                        self.result.last_error = str(exc)
                        if exc.outage:
                            self.result.outage = str(exc)
                        self.stopping = True
                        return
                if not batch:
                    if ahead is not None:
                        batch, ahead = ahead.taken(), None
                    else:
                        with self.lock:
                            self._flush()  # committed with the claim, or before it
                        batch = self._take().taken()
                    continue
                if ahead is None and len(batch) <= AHEAD and self.queue:
                    # the next batch is taken and its claim (a durable commit) sent to the
                    # writer while this one's last messages go out, not between two messages
                    ahead = self._take()
                if not self.pace.slot():
                    self.result.budget_spent = True
                    self.stopping = True
                    return
                d, built = batch.popleft()
                if built.data is None:
                    self._body(d, built)
                if built.failed is not None:
                    self._unbuilt(d, built.failed)
                    continue
                started = self._start(d)
                used += 1
                dropped = self._send(smtp, d, built, started,
                                     functools.partial(self._prepare, batch, ahead))
                if dropped:
                    quit_quietly(smtp)
                    smtp = None
                    drops += 1
                    if drops >= IN_PASS_TRIES * 2:  # every connection dies: the server's fault
                        self.result.outage = f"the SMTP server keeps dropping the " \
                                             f"connection: {self.result.last_error}"
                        self.stopping = True
                else:
                    drops = 0
        finally:
            if ahead is not None:  # claimed for this connection, never sent: pending again
                try:
                    batch.extend(ahead.taken())
                except Exception as exc:  # the error that stopped this worker is raised
                    log.debug("post=%d: the batch claimed ahead failed: %r", self.post.id, exc)
            with self.lock:
                self._flush()
            quit_quietly(smtp)
            if batch:
                self._unclaim([d for d, _ in batch])

    def _take(self) -> _Claim:
        """The next batch from the queue, its envelopes made, and its reservation for this
        claim (one committed transaction; rows no longer pending are left out) on its way.
        Bodies are built later, one at a time, while the server is busy (`_prepare`)."""
        ready: list[tuple[ledger.Delivery, _Built]] = []
        while len(ready) < BATCH:
            try:
                d = self.queue.popleft()
            except IndexError:
                break
            if d.subscriber_status != sub_store.ACTIVE:
                self._write(ledger.mark_done, d.post_id, d.subscriber_id, ledger.SKIPPED,
                            f"subscriber is {d.subscriber_status}")
                continue
            try:
                ready.append((d, self._envelope(d)))
            except _UNBUILDABLE as exc:
                self._failed(d, f"the message could not be built: {exc}", sent=False)
        if not ready:
            return _Claim(ready, None)
        assert self.claims is not None
        return _Claim(ready, self.claims.submit(
            ledger.claim, ready[0][0].post_id, [d.subscriber_id for d, _ in ready],
            self.token, durable=True))

    def _unclaim(self, left: list[ledger.Delivery]) -> None:
        """The pass stopped before these went out: pending again. When the database is
        down the next pass's `settle` does it."""
        try:
            self._write(ledger.unclaim, left[0].post_id, [d.subscriber_id for d in left],
                        self.token)
        except Exception as exc:
            log.warning("post=%d: %d reserved recipient(s) left for the next pass: %s",
                        left[0].post_id, len(left), exc)

    def _stop(self, exc: ChannelError) -> None:
        self.result.fatal = self.result.fatal or exc
        self.stopping = True

    def _envelope(self, d: ledger.Delivery) -> _Built:
        to = wire_address(d.email)
        envelope = self.envelope_from(d)
        utf8 = not to.isascii()
        encoding = "utf-8" if utf8 else "ascii"
        # quoted (and checked) here: what would be refused mid-transaction
        mail = b"MAIL FROM:" + _quoted(envelope, encoding)
        if utf8:
            mail += b" SMTPUTF8"
        return _Built(mail=mail, rcpt=b"RCPT TO:" + _quoted(to, encoding) + b"\r\n", to=to,
                      envelope=envelope, utf8=utf8)

    def _body(self, d: ledger.Delivery, built: _Built) -> None:
        """The recipient's own copy, as DATA carries it. Any error is kept for the
        recipient's turn: this may run while another message's answer is awaited."""
        try:
            url, token = self.unsubscribe(d.subscriber_id, d.email)
            data = self.factory.wire(to_email=d.email, to_name=d.name,
                                     message_id=d.message_id, unsubscribe_url=url,
                                     unsubscribe_token=token, language=d.language)
            built.data, built.size = dot_stuffed(data, crlf=True), len(data)
        except Exception as exc:
            built.failed = exc

    def _prepare(self, batch: deque[tuple[ledger.Delivery, _Built]],
                 ahead: _Claim | None) -> None:
        """Build the next recipient's body (of this batch, or of the one claimed ahead),
        between writing a message and reading the server's answer to it."""
        waiting = batch or (ahead.ready if ahead is not None else ())
        for d, built in waiting:
            if built.data is None and built.failed is None:
                self._body(d, built)
            return

    def _unbuilt(self, d: ledger.Delivery, exc: BaseException) -> None:
        """A body that could not be built: that recipient fails (it was reserved for this
        pass and nothing went out); an error that is not about the message is raised."""
        if not isinstance(exc, _UNBUILDABLE):
            raise exc
        self._write(ledger.mark_done, d.post_id, d.subscriber_id, ledger.FAILED,
                    f"the message could not be built: {exc}", claimed=self.token)
        log.warning("post=%d subscriber=%d failed: the message could not be built: %s",
                    d.post_id, d.subscriber_id, exc)

    def _again(self, d: ledger.Delivery, error: str) -> None:
        """Nothing went out (the connection failed under this recipient): pending again,
        and tried again now, a few times; no attempt is spent either way."""
        self.result.last_error = error
        self._write(ledger.release, d.post_id, d.subscriber_id, self.token, error)
        with self.lock:
            tries = self.tries.get(d.subscriber_id, 0) + 1
            self.tries[d.subscriber_id] = tries
        if tries < IN_PASS_TRIES:
            self.queue.append(d)

    def _send(self, smtp: smtplib.SMTP, d: ledger.Delivery, built: _Built,
              started: Future[Any], meanwhile: Callable[[], None]) -> bool:
        """Send one message (MAIL, RCPT, DATA) and record the outcome; True when the
        connection is gone. Step by step, so a lost answer after DATA is told apart from
        one before it: only the first may have delivered the message. MAIL and RCPT go
        while `started` (the recipient's `start`) commits; DATA only once it has, and
        once every earlier answer is recorded. `meanwhile` runs while the server takes
        the body in (the longest of its answers)."""
        assert built.data is not None
        if built.utf8 and not smtp.has_extn("smtputf8"):
            if started.result():
                self._failed(d, "SMTPUTF8 is not supported by this server, so it "
                                f"cannot take the address {built.to}")
            return False
        size = b" SIZE=%d" % built.size if smtp.has_extn("size") else b""
        stage = "MAIL"
        try:
            code, message = _command(smtp, built.mail + size + b"\r\n")
            if code != 250:
                raise _Refused(code, message)
            stage = "RCPT"
            code, message = _command(smtp, built.rcpt)
            if code not in (250, 251):
                raise _Refused(code, message)
            if not self._ours(smtp, started):
                return False
            stage = "DATA"
            code, message = _command(smtp, b"DATA\r\n")
            if code != 354:
                raise _Refused(code, message)
            smtp.send(built.data)
            meanwhile()
            code, message = smtp.getreply()
            if code != 250:
                raise _Refused(code, message)
        except _Refused as exc:
            if stage == "MAIL":
                return self._sender_refused(smtp, d, exc, started)
            if stage != "DATA":
                _reset(smtp)
                if not started.result():
                    return exc.code == 421
            return self._refused(d, exc.code, reply_text(exc), stage)
        except _ANSWER_LOST as exc:
            if stage == "DATA":
                self._uncertain(d, f"{reply_text(exc)} after DATA")
            elif started.result():
                self._again(d, f"connection lost: {reply_text(exc)}")
            return True
        self._sent(d)
        return False

    def _sender_refused(self, smtp: smtplib.SMTP, d: ledger.Delivery, exc: _Refused,
                        started: Future[Any]) -> bool:
        _reset(smtp)
        if not started.result():
            return False
        if exc.code >= 500:
            self._stop(Permanent(
                f"the SMTP server refused the sender {self.sender.envelope_from}: "
                f"{reply_text(exc)}", "check `from` and that the account may send as it"))
            self._write(ledger.release, d.post_id, d.subscriber_id, self.token,
                        reply_text(exc))
            return False
        return self._refused(d, exc.code, reply_text(exc), "MAIL")

    def _ours(self, smtp: smtplib.SMTP, started: Future[Any]) -> bool:
        """Before DATA: the recipient is `sending` for this claim, and every earlier answer
        is in the ledger; else RSET (the server then forgets MAIL and RCPT) and raise what
        failed, or False when another worker has the recipient."""
        try:
            ours = started.result()
            self._answered()
        except BaseException:
            _reset(smtp)
            raise
        if not ours:
            _reset(smtp)
        return bool(ours)

    def _refused(self, d: ledger.Delivery, code: int, error: str, stage: str) -> bool:
        if code == 421:  # the server closes the channel: reconnect, nothing was accepted
            self._again(d, error)
            return True
        if 500 <= code < 600:
            if stage == "RCPT":
                self._bounced(d, error)
            else:
                self._failed(d, f"refused at {stage}: {error}")
            return False
        self._later(d, error)
        return False


@dataclass
class _Claim:
    """A built batch and its claim, committing in the writer's thread."""

    ready: list[tuple[ledger.Delivery, _Built]]
    claim: Future[Any] | None

    def taken(self) -> deque[tuple[ledger.Delivery, _Built]]:
        """Wait for the claim: the recipients of the batch now reserved for this pass."""
        if self.claim is None:
            return deque()
        taken = self.claim.result()
        return deque(item for item in self.ready if item[0].subscriber_id in taken)


def _command(smtp: smtplib.SMTP, line: bytes) -> tuple[int, bytes]:
    """Write prepared bytes and read the reply (`smtplib`'s own `send` and `getreply`)."""
    smtp.send(line)
    return smtp.getreply()


_LINE_END = re.compile(rb"\r\n|\r|\n")


def dot_stuffed(data: bytes, *, crlf: bool = False) -> bytes:
    """`data` as DATA carries it (RFC 5321 §4.5.2): CRLF line ends, a line that starts
    with a dot given a second one, and CRLF . CRLF at the end, as `smtplib.data` and
    aiosmtplib write it, with `bytes.replace` for the CRLF text pressbot writes. `crlf`:
    every line already ends in CRLF (what `MessageFactory.wire` writes), so the line ends
    are not counted (three passes over the message, most of this function's time)."""
    if not crlf and (data.count(b"\n") != data.count(b"\r\n")
                     or data.count(b"\r") != data.count(b"\n")):
        data = _LINE_END.sub(b"\r\n", data)
    if data.startswith(b"."):
        data = b"." + data
    if b"\r\n." in data:
        data = data.replace(b"\r\n.", b"\r\n..")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


_PLAIN = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*")
"""A dot-atom address (RFC 5321 §4.1.2) of ASCII letters, digits and the atom's symbols:
`quote_address` would give it back as it is, in angle brackets."""


def _quoted(address: str, encoding: str) -> bytes:
    """`<address>` as aiosmtplib's `quote_address` writes it, without its parse (the
    `email` package's address parser, 50 µs a call) for the plain addresses nearly every
    list is made of."""
    if _PLAIN.fullmatch(address):
        return f"<{address}>".encode("ascii")
    return quote_address(address).encode(encoding)


def _reset(smtp: smtplib.SMTP) -> None:
    """RSET after a refusal, so the connection can take the next message."""
    with contextlib.suppress(smtplib.SMTPException, OSError):
        smtp.rset()
