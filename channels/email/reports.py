"""What a mail in the bounce mailbox says: a bounce (RFC 3464 delivery status
notification), a complaint (RFC 5965 feedback report), an unsubscribe request to the
`List-Unsubscribe` mailto address, or nothing pressbot understands.

Only the structured parts are read (`message/delivery-status`, `message/feedback-report`
and the returned headers); the human-readable text of a bounce is never guessed at, so an
auto-reply ("I am on holiday") is not mistaken for a bounce.

This module only reads; it collects what could prove whose a report is (a VERP address,
Message-IDs, signed unsubscribe tokens, the receiving server's verdict on the sender) and
`bot.bounces` decides what of it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from channels.email.authresults import from_domain_passed

HARD, SOFT, DELAYED = "hard", "soft", "delayed"
COMPLAINT, UNSUBSCRIBE = "complaint", "unsubscribe"
_STATUS = re.compile(r"^([245])\.\d{1,3}\.\d{1,3}")
_MSGID = re.compile(r"<pressbot\.[^<>\s]+>")
_SIGNED = r"[A-Za-z0-9_-]{8,200}\.[A-Za-z0-9_-]{27}(?![A-Za-z0-9_-])"
"""An unsubscribe token as `itsdangerous` signs it: payload, '.', a 27-character HMAC."""
_LINK_TOKEN = re.compile(rf"/u/({_SIGNED})")
_BARE_TOKEN = re.compile(rf"(?<![A-Za-z0-9_.-]){_SIGNED}")
MAX_TOKENS = 5
"""Candidate tokens checked per mail: a flood of look-alikes costs no more than this."""


@dataclass
class Report:
    kind: str | None
    """HARD, SOFT, DELAYED, COMPLAINT, UNSUBSCRIBE, or None (not ours to act on)."""
    recipients: list[str] = field(default_factory=list)
    """Addresses the report is about (Final-Recipient, Original-Rcpt-To, the sender of an
    unsubscribe request)."""
    message_ids: list[str] = field(default_factory=list)
    """pressbot Message-IDs found in the returned message."""
    envelope: str = ""
    """Where the report was delivered (To, Delivered-To, X-Original-To; a complaint's
    Original-Mail-From too): where a VERP address is looked for."""
    detail: str = ""
    tokens: list[str] = field(default_factory=list)
    """Unsubscribe tokens (signature not yet checked): from the returned message's
    List-Unsubscribe in a report, from the Subject or To of an unsubscribe request."""
    authenticated: bool = False
    """An unsubscribe request whose `From` domain the receiving server authenticated."""


def _fields(block: Message) -> dict[str, str]:
    return {k.lower(): " ".join(str(v).split()) for k, v in block.items()}


def _address(value: str) -> str:
    """`rfc822; ann@example.org` → `ann@example.org`."""
    _, _, addr = value.rpartition(";")
    return parseaddr(addr.strip())[1].strip().lower()


def _returned(msg: EmailMessage) -> tuple[list[str], list[str]]:
    """pressbot Message-IDs and unsubscribe tokens in the returned message or headers."""
    ids: list[str] = []
    tokens: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            inner = part.get_payload()
            inner = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(inner, Message):
                ids += _MSGID.findall(str(inner.get("Message-ID", "")))
                tokens += _LINK_TOKEN.findall(str(inner.get("List-Unsubscribe", "")))
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers",
                       "text/global-headers"):
            text = str(part.get_payload(decode=False) or "")
            ids += _MSGID.findall(text)
            tokens += _LINK_TOKEN.findall(text)
    return list(dict.fromkeys(ids)), list(dict.fromkeys(tokens))[:MAX_TOKENS]


def _delivery_status(part: Message) -> list[dict[str, str]]:
    """The per-recipient field blocks of a `message/delivery-status` part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        blocks = [_fields(b) for b in payload if isinstance(b, Message)]
    else:  # some parsers leave it as text: blocks are separated by blank lines
        blocks = []
        for chunk in re.split(r"\r?\n\r?\n", str(payload)):
            parsed = BytesParser(policy=policy.default).parsebytes(chunk.strip().encode())
            blocks.append(_fields(parsed))
    return [b for b in blocks if "final-recipient" in b or "original-recipient" in b]


def parse(data: bytes, unsubscribe_address: str | None = None,
          authserv_id: str | None = None) -> Report:
    """What one mail in the bounce mailbox says. `authserv_id` names the receiving server
    whose Authentication-Results header is believed (see `authresults`)."""
    msg = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(msg, EmailMessage)
    envelope = ", ".join(str(v) for h in ("To", "Cc", "Delivered-To", "X-Original-To",
                                          "Envelope-To") for v in msg.get_all(h, []))
    ctype = msg.get_content_type()
    report_type = (msg.get_param("report-type") or "") if ctype == "multipart/report" else ""
    ids, tokens = _returned(msg)
    if str(report_type).lower() == "feedback-report":
        report = _feedback(msg, ids, envelope)
    elif str(report_type).lower() == "delivery-status":
        report = _dsn(msg, ids, envelope)
    else:
        return _unsubscribe(msg, envelope, unsubscribe_address, authserv_id)
    report.tokens = tokens
    return report


def _feedback(msg: EmailMessage, ids: list[str], envelope: str) -> Report:
    for part in msg.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        payload = part.get_payload()
        block = payload[0] if isinstance(payload, list) and payload else None
        if isinstance(block, Message):
            fields = _fields(block)
        else:
            fields = _fields(BytesParser(policy=policy.default).parsebytes(
                str(payload).strip().encode()))
        kind = fields.get("feedback-type", "").lower()
        recipients = [_address(fields[k]) for k in ("original-rcpt-to",) if k in fields]
        # the envelope sender of the reported message: our VERP address, when it was one
        envelope = ", ".join(filter(None, [envelope, fields.get("original-mail-from")]))
        if kind in ("abuse", "fraud", "virus", "other", ""):
            return Report(COMPLAINT, recipients, ids, envelope, f"feedback-type {kind or '?'}")
        return Report(None, recipients, ids, envelope, f"feedback-type {kind}: ignored")
    return Report(None, [], ids, envelope, "feedback report without its report part")


def _dsn(msg: EmailMessage, ids: list[str], envelope: str) -> Report:
    hard: list[str] = []
    soft: list[str] = []
    delayed: list[str] = []
    details: list[str] = []
    for part in msg.walk():
        if part.get_content_type() not in ("message/delivery-status",
                                           "message/global-delivery-status"):
            continue
        for fields in _delivery_status(part):
            action = fields.get("action", "").lower()
            status = _STATUS.match(fields.get("status", ""))
            who = _address(fields.get("original-recipient") or fields["final-recipient"])
            if action == "delayed":
                delayed.append(who)
            if action != "failed" or status is None:
                continue  # delayed, delivered, relayed, expanded: nothing failed (yet)
            (hard if status.group(1) == "5" else soft).append(who)
            details.append(f"{who}: {fields.get('status')} "
                           f"{fields.get('diagnostic-code', '')}".strip())
    if hard:
        return Report(HARD, hard, ids, envelope, "; ".join(details)[:500])
    if soft:
        return Report(SOFT, soft, ids, envelope, "; ".join(details)[:500])
    if delayed:
        return Report(DELAYED, delayed, ids, envelope, "delivery delayed, still trying")
    return Report(None, [], ids, envelope, "delivery report with no failed recipient")


def _unsubscribe(msg: EmailMessage, envelope: str, address: str | None,
                 authserv_id: str | None) -> Report:
    if not address:
        return Report(None, detail="not a report")
    target = address.removeprefix("mailto:").split("?", 1)[0].lower()
    sent_to = {a.lower() for _, a in getaddresses([envelope])}
    if target not in sent_to:
        return Report(None, detail="not a report")
    sender = parseaddr(str(msg.get("From", "")))[1].lower()
    carried = " ".join(str(v) for h in ("Subject", "To") for v in msg.get_all(h, []))
    tokens = list(dict.fromkeys(_BARE_TOKEN.findall(carried)))[:MAX_TOKENS]
    return Report(UNSUBSCRIBE, [sender] if "@" in sender else [], [], envelope,
                  f"mail to {target} from {sender or '?'}", tokens=tokens,
                  authenticated=from_domain_passed(msg, authserv_id))
