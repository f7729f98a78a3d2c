"""Reading the bounce mailbox over IMAP (the standard library's `imaplib`, in a thread).

The same safety rules as SMTP: `imap_security = "ssl"` (993) or `"starttls"`; a password
goes in clear only with `"none"` said explicitly. Messages are fetched with `BODY.PEEK[]`,
so one that pressbot fails on midway stays unread for the next pass; once its outcome is
committed, the caller marks it done (deleted) or seen (left for a person to read).
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from bot.config import EmailConfig
from channels.base import Permanent, Transient

MAX_PER_PASS = 500
"""Messages read in one pass; the rest wait for the next (a flood must not stall `run`)."""


class Mailbox:
    """One logged-in, selected IMAP session."""

    def __init__(self, imap: imaplib.IMAP4) -> None:
        self.imap = imap
        self.deleted = 0

    def unseen(self) -> Iterator[tuple[str, bytes]]:
        """(uid, raw message) of each unread message, oldest first."""
        status, data = self.imap.uid("SEARCH", "UNSEEN")
        if status != "OK":
            raise Transient(f"IMAP SEARCH failed: {data!r}")
        uids = [u.decode("ascii") for u in (data[0] or b"").split()[:MAX_PER_PASS]]
        for uid in uids:
            status, parts = self.imap.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts if isinstance(p, tuple) and len(p) > 1), None)
            if status == "OK" and isinstance(raw, bytes):
                yield uid, raw

    def done(self, uid: str) -> None:
        self.imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen \Deleted)")
        self.deleted += 1

    def keep(self, uid: str) -> None:
        self.imap.uid("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")


@contextmanager
def open_mailbox(cfg: EmailConfig, *, tls_context: ssl.SSLContext | None = None
                 ) -> Iterator[Mailbox]:
    if not cfg.imap_host:
        raise Permanent("no bounce mailbox configured", "set imap_host and imap_username")
    where = f"{cfg.imap_host}:{cfg.imap_port}"
    context = tls_context or ssl.create_default_context()
    timeout = cfg.timeout.total_seconds()
    try:
        if cfg.imap_security == "ssl":
            imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(cfg.imap_host, cfg.imap_port,
                                                    ssl_context=context, timeout=timeout)
        else:
            imap = imaplib.IMAP4(cfg.imap_host, cfg.imap_port, timeout=timeout)
            if cfg.imap_security == "starttls":
                imap.starttls(ssl_context=context)
    except (OSError, imaplib.IMAP4.error) as exc:
        raise Transient(f"IMAP server {where} unreachable: {exc}") from exc
    try:
        password = cfg.imap_password.get_secret_value() if cfg.imap_password else ""
        try:
            imap.login(cfg.imap_username or "", password)
        except imaplib.IMAP4.error:
            raise Permanent(f"IMAP server {where} refused the login of "
                            f"{cfg.imap_username!r}", "check imap_username and "
                            "imap_password") from None
        status, data = imap.select(_quote(cfg.imap_folder))
        if status != "OK":
            raise Permanent(f"IMAP folder {cfg.imap_folder!r} on {where} cannot be opened: "
                            f"{data!r}", "check imap_folder")
        box = Mailbox(imap)
        yield box
        if box.deleted:
            imap.expunge()
    except (OSError, imaplib.IMAP4.abort) as exc:
        raise Transient(f"IMAP connection to {where} lost: {exc}") from exc
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            imap.logout()


def _quote(folder: str) -> str:
    return '"' + re.sub(r'(["\\])', r"\\\1", folder) + '"'
