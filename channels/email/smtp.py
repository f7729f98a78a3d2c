"""Opening SMTP submission connections the safe way, and naming what went wrong.

`SmtpConnector` is the "SMTP connection factory" the service injects into the email
channel (tests inject one that trusts their self-signed certificate). `connect` opens an
aiosmtplib connection (checks, confirmations, notices: one message now and then); `open`
the same connection with the standard library's `smtplib`, blocking, for the newsletter's
send, whose connections each run in a thread of their own: a message costs about half the
CPU it costs through asyncio and aiosmtplib (`send.py`). Either never lets a
password cross the wire in clear: with `security = "starttls"` a server that does not
offer STARTTLS is refused rather than used in cleartext, and AUTH without TLS happens only
when the config says `security = "none"` explicitly.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
from functools import cache

import aiosmtplib

from bot.config import EmailConfig
from channels.base import ChannelError, Permanent, Transient


@cache
def _local_hostname() -> str:
    return socket.getfqdn() or "localhost"


def reply_text(exc: BaseException) -> str:
    """`550 5.1.1 no such user` from an aiosmtplib or smtplib error (one line, shortened)."""
    code = getattr(exc, "code", None) or getattr(exc, "smtp_code", None)
    message = getattr(exc, "message", None) or getattr(exc, "smtp_error", None) or exc
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    text = " ".join(str(message).split())[:300]
    return f"{code} {text}" if code else f"{type(exc).__name__}: {text}"


class SmtpConnector:
    """Opens one authenticated, encrypted (as configured) connection per `connect()`."""

    def __init__(self, cfg: EmailConfig, *, tls_context: ssl.SSLContext | None = None,
                 local_hostname: str | None = None) -> None:
        self.cfg = cfg
        self.tls_context = tls_context
        self.local_hostname = local_hostname
        self.where = f"{cfg.smtp_host}:{cfg.smtp_port}"

    def _context(self) -> ssl.SSLContext:
        return self.tls_context or ssl.create_default_context()

    async def connect(self) -> aiosmtplib.SMTP:
        """A connection ready for MAIL FROM; Transient or Permanent when it cannot be had."""
        cfg = self.cfg
        hostname = self.local_hostname or await asyncio.to_thread(_local_hostname)
        smtp = aiosmtplib.SMTP(
            hostname=cfg.smtp_host, port=cfg.smtp_port, use_tls=cfg.security == "ssl",
            start_tls=False, tls_context=self._context() if cfg.security != "none" else None,
            timeout=cfg.timeout.total_seconds(), local_hostname=hostname)
        try:
            await smtp.connect()
            await smtp.ehlo()
            if cfg.security == "starttls":
                if not smtp.supports_extension("starttls"):
                    raise Permanent(*_no_starttls(self.where))
                await smtp.starttls()
                await smtp.ehlo()
            if cfg.username:
                await self._login(smtp)
        except (ChannelError, asyncio.CancelledError):
            smtp.close()
            raise
        except Exception as exc:
            smtp.close()
            raise self._classify(exc) from exc
        return smtp

    def open(self) -> smtplib.SMTP:
        """`connect`, blocking and with `smtplib` (for a thread of its own): the same
        STARTTLS and AUTH rules, the same errors."""
        cfg = self.cfg
        hostname = self.local_hostname or _local_hostname()
        timeout = cfg.timeout.total_seconds()
        smtp: smtplib.SMTP | None = None
        try:
            # connected by the constructor, which also keeps the host name STARTTLS checks
            # the certificate against; a greeting other than 220 is SMTPConnectError
            if cfg.security == "ssl":
                smtp = smtplib.SMTP_SSL(cfg.smtp_host, cfg.smtp_port, local_hostname=hostname,
                                        timeout=timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, local_hostname=hostname,
                                    timeout=timeout)
            _ehlo(smtp)
            if cfg.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise Permanent(*_no_starttls(self.where))
                smtp.starttls(context=self._context())
                _ehlo(smtp)
            if cfg.username:
                self._login_blocking(smtp)
        except ChannelError:
            _close(smtp)
            raise
        except Exception as exc:
            _close(smtp)
            raise self._classify(exc) from exc
        return smtp

    def _login_blocking(self, smtp: smtplib.SMTP) -> None:
        cfg = self.cfg
        if smtp.sock is None or (not isinstance(smtp.sock, ssl.SSLSocket)
                                 and cfg.security != "none"):  # pragma: no cover - guarded
            raise Permanent(f"refusing AUTH to {self.where} without TLS")
        password = cfg.password.get_secret_value() if cfg.password else ""
        try:
            smtp.login(cfg.username or "", password)
        except smtplib.SMTPAuthenticationError as exc:
            raise Permanent(*_refused_login(self.where, cfg.username, exc)) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise Permanent(*_no_auth(self.where, exc)) from None

    async def _login(self, smtp: aiosmtplib.SMTP) -> None:
        cfg = self.cfg
        encrypted = smtp.get_transport_info("sslcontext") is not None
        if not encrypted and cfg.security != "none":  # pragma: no cover - guarded above
            raise Permanent(f"refusing AUTH to {self.where} without TLS")
        password = cfg.password.get_secret_value() if cfg.password else ""
        try:
            await smtp.login(cfg.username or "", password)
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise Permanent(*_refused_login(self.where, cfg.username, exc)) from None
        except aiosmtplib.SMTPException as exc:
            if "AUTH" in str(exc):
                raise Permanent(*_no_auth(self.where, exc)) from None
            raise

    def _classify(self, exc: BaseException) -> ChannelError:
        where = self.where
        cause: BaseException | None = exc
        while cause is not None:  # aiosmtplib wraps the ssl error in SMTPConnectError
            if isinstance(cause, ssl.SSLCertVerificationError):
                return Permanent(
                    f"TLS certificate of {where} is not valid: {cause.verify_message}",
                    "fix the server's certificate, or set smtp_host to the name it is for")
            cause = cause.__cause__ or cause.__context__
        if isinstance(exc, ssl.SSLError):
            return Transient(f"TLS with {where} failed: {exc}")
        code, greeting = None, False
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            code, greeting = exc.code, isinstance(exc, aiosmtplib.SMTPConnectError)
        elif isinstance(exc, smtplib.SMTPResponseException):
            code, greeting = exc.smtp_code, isinstance(exc, smtplib.SMTPConnectError)
        if code is not None:
            if 500 <= code < 600 and not greeting:
                return Permanent(f"SMTP server {where} refused us: {reply_text(exc)}",
                                 "check smtp_host, smtp_port and security")
            # a greeting other than 220 (421 "too busy", 554 "no service"), or a 4xx to
            # EHLO or STARTTLS: the server is not taking mail now, which is the channel's
            # outage, not a newsletter's failure
            return Transient(f"SMTP server {where} is not taking mail: {reply_text(exc)}",
                             outage=True)
        if isinstance(exc, aiosmtplib.SMTPException | smtplib.SMTPException | OSError
                      | asyncio.TimeoutError):
            return Transient(f"SMTP server {where} unreachable: {reply_text(exc)}", outage=True)
        return Transient(f"SMTP connection to {where} failed: {reply_text(exc)}")


async def close_quietly(smtp: aiosmtplib.SMTP | None) -> None:
    """QUIT politely, but never let a dead connection fail the caller."""
    if smtp is None:
        return
    try:
        if smtp.is_connected:
            await asyncio.wait_for(smtp.quit(), 5)
    except (TimeoutError, aiosmtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def quit_quietly(smtp: smtplib.SMTP | None) -> None:
    """`close_quietly` for a connection `SmtpConnector.open` made."""
    if smtp is None:
        return
    try:
        if smtp.sock is not None:
            smtp.sock.settimeout(5)
            smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def _ehlo(smtp: smtplib.SMTP) -> None:
    """EHLO, refused loudly as aiosmtplib's `ehlo` does (`smtplib` returns the reply)."""
    code, message = smtp.ehlo()
    if code != 250:
        raise smtplib.SMTPHeloError(code, message)


def _close(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()


def _no_starttls(where: str) -> tuple[str, str]:
    return (f"SMTP server {where} does not offer STARTTLS, so pressbot will not send mail "
            "or a password over it in clear",
            "use the server's submission port (587 with STARTTLS, or 465 with "
            "security = \"ssl\"); security = \"none\" only for a local relay")


def _refused_login(where: str, username: str | None,
                   exc: BaseException) -> tuple[str, str]:
    return (f"SMTP server {where} refused the login of {username!r} ({reply_text(exc)})",
            "check the username and the password (SMTP_PASSWORD)")


def _no_auth(where: str, exc: BaseException) -> tuple[str, str]:
    return (f"SMTP server {where} does not offer AUTH: {exc}",
            "remove username/password, or use the submission port")
