"""A scriptable SMTP server (aiosmtpd) on 127.0.0.1, for the email channel's tests and bench.

It is a real server over real sockets: STARTTLS or implicit TLS with a self-signed
certificate made on the spot, AUTH (refused before TLS, as submission servers do), many
transactions per connection. Tests script it:

    fake.script("a@x.org", "451 4.3.0 try later")           # first RCPT refused, then ok
    fake.script("b@x.org", then="550 5.1.1 no such user")   # every RCPT refused
    fake.drop_after = 3        # close each connection when it starts a 4th message
    fake.on_data = hook        # called before a message is accepted; may return a reply
    fake.greeting = "421 4.3.2 too busy"   # greet new connections so, and hang up
    fake.answer_late.add("c@x.org")        # accept c's next message, and answer only once
                                           # the client gave up waiting (never, so)

and read back `fake.messages` (raw bytes, envelope, TLS and login of each accepted one).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import threading
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser, Parser
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass(frozen=True)
class Cert:
    """A self-signed certificate for 127.0.0.1/localhost and a client context trusting it."""

    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert_file))


def make_cert(folder: Path) -> Cert:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return Cert(cert_file, key_file)


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    tls: bool
    login: str | None
    mail_options: list[str] = field(default_factory=list)

    def parse(self) -> EmailMessage:
        """The message; UTF-8 headers (SMTPUTF8) are read as text, not as escaped bytes."""
        try:
            text = self.data.decode("utf-8")
        except UnicodeDecodeError:
            return BytesParser(policy=policy.default).parsebytes(self.data)  # type: ignore[return-value]
        return Parser(policy=policy.default).parsestr(text)  # type: ignore[return-value]


@dataclass
class FakeSMTP:
    """The server's state and script; `with fake.running():` serves it on a free port."""

    security: str = "none"                   # "none" | "starttls" | "ssl"
    cert: Cert | None = None
    users: dict[str, str] = field(default_factory=dict)
    plain_auth: bool = False                 # allow AUTH without TLS (for security = "none")
    drop_after: int | None = None
    drop_limit: int | None = None            # stop dropping after this many drops
    on_data: Callable[[Envelope], str | None] | None = None
    greeting: str | None = None
    answer_late: set[str] = field(default_factory=set)
    messages: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    connections: int = 0
    drops: int = 0
    host: str = "127.0.0.1"
    port: int = 0
    _rcpt: dict[str, deque[str]] = field(default_factory=dict)
    _rcpt_then: dict[str, str] = field(default_factory=dict)
    _data: dict[str, deque[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def script(self, address: str, *replies: str, then: str | None = None,
               at: str = "RCPT") -> None:
        """Answer `address`'s next RCPT (or DATA) with `replies`, then `then` for ever."""
        target = self._rcpt if at == "RCPT" else self._data
        target.setdefault(address.lower(), deque()).extend(replies)
        if then is not None and at == "RCPT":
            self._rcpt_then[address.lower()] = then

    def counts(self) -> Counter[str]:
        """Accepted copies per recipient."""
        with self._lock:
            return Counter(r for m in self.messages for r in m.rcpt_tos)

    # ── aiosmtpd handler hooks ────────────────────────────────────────────────────────────

    async def handle_EHLO(self, server: SMTP, session: Session, envelope: Envelope,
                          hostname: str, responses: list[str]) -> list[str]:
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        count = getattr(session, "accepted", 0)
        if self.drop_after is not None and count >= self.drop_after and (
                self.drop_limit is None or self.drops < self.drop_limit):
            self.drops += 1
            assert server.transport is not None
            server.transport.abort()
            return "421 4.3.2 closing"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, options: list[str]) -> str:
        key = address.lower()
        queue = self._rcpt.get(key)
        if queue:
            return queue.popleft()
        if key in self._rcpt_then:
            return self._rcpt_then[key]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for address in envelope.rcpt_tos:
            queue = self._data.get(address.lower())
            if queue:
                return queue.popleft()
        if self.on_data is not None:
            reply = self.on_data(envelope)
            if reply:
                return reply
        data = envelope.original_content or envelope.content
        assert isinstance(data, bytes)
        with self._lock:
            self.messages.append(Received(
                str(envelope.mail_from), list(envelope.rcpt_tos), data,
                tls=session.ssl is not None or self.security == "ssl",
                login=getattr(session, "login_name", None),
                mail_options=list(envelope.mail_options)))
            late = [a for a in envelope.rcpt_tos if a.lower() in self.answer_late]
            self.answer_late.difference_update(a.lower() for a in late)
        session.accepted = getattr(session, "accepted", 0) + 1  # type: ignore[attr-defined]
        if late:  # queued for delivery; the "250" would come after the client gave up:
            await asyncio.sleep(120)  # aiosmtpd cancels this when the client hangs up
        return "250 2.0.0 queued"

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        ok = self.users.get(login) == password
        if ok:
            session.login_name = login  # type: ignore[attr-defined]
            self.logins.append(login)
        return AuthResult(success=ok, handled=False)

    # ── serving ───────────────────────────────────────────────────────────────────────────

    def _factory(self, loop: asyncio.AbstractEventLoop) -> asyncio.Protocol:
        self.connections += 1
        if self.greeting is not None:
            return _Greeting(self.greeting)
        tls = self.cert.server_context() if self.cert and self.security == "starttls" else None
        return SMTP(self, hostname="fake.smtp.test", loop=loop, tls_context=tls,
                    authenticator=self._authenticate if self.users else None,
                    auth_require_tls=self.security == "starttls" and not self.plain_auth,
                    enable_SMTPUTF8=True, decode_data=False)

    def running(self) -> Running:
        return Running(self)

    def wait(self, count: int, seconds: float) -> list[Received]:
        """Block until `count` messages were accepted (fail after `seconds`, a safety net)."""
        import time

        deadline = time.monotonic() + seconds
        while len(self.messages) < count:
            assert time.monotonic() < deadline, \
                f"the SMTP server got {len(self.messages)} messages, expected {count}"
            time.sleep(0.05)
        return self.messages


class _Greeting(asyncio.Protocol):
    """A server that is up but not taking mail: it greets with a refusal and hangs up."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(f"{self.reply}\r\n".encode())
        transport.close()


class Running:
    """Serves a FakeSMTP from a background thread with its own event loop."""

    def __init__(self, fake: FakeSMTP) -> None:
        self.fake = fake
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server: asyncio.AbstractServer | None = None

    def __enter__(self) -> FakeSMTP:
        fake = self.fake
        ssl_ctx = fake.cert.server_context() if fake.cert and fake.security == "ssl" else None
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(self.loop.create_server(
            lambda: fake._factory(self.loop), fake.host, fake.port, ssl=ssl_ctx), self.loop)
        self.server = future.result(10)
        fake.port = self.server.sockets[0].getsockname()[1]
        return fake

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        async def stop() -> None:
            assert self.server is not None
            self.server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
