"""The newsletter audience: who may be mailed, how they got there, and how they leave.

Rules kept here so the CLI, the public web pages and the email channel agree:
- an address is validated with `email-validator` (syntax only, no DNS) and stored lowercased,
  so `Ann@Example.org` and `ann@example.org` are one subscriber;
- consent is recorded (`consent_source`: "cli", "import", "form") with its time;
- leaving is final until the person asks again: unsubscribing and erasure put a hash of the
  address on the suppression list, which blocks `add` and `import`; only a confirmed
  double opt-in (the person clicking the link mailed to them) lifts it;
- links in mails carry signed tokens (`itsdangerous`, key from `bot.signing`), bound to the
  subscriber id *and* a hash of the address, so a reused row id cannot be unsubscribed
  through someone else's old link.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import exc as sa_exc

from bot import clock
from bot.csvcells import cell, plain
from bot.errors import PressbotError
from bot.store import Store
from bot.store import subscribers as sub_store
from bot.store.subscribers import ACTIVE, BOUNCED, PENDING, UNSUBSCRIBED, Subscriber, email_hash

CONFIRM_MAX_AGE = 7 * 24 * 3600
"""Seconds a double opt-in link stays valid."""
CONFIRM_RESEND_AFTER = timedelta(minutes=15)
"""At most one confirmation mail per address in this time, however often the form is sent:
the form must not become a way to flood someone's inbox."""

_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
__all__ = ["ACTIVE", "BOUNCED", "PENDING", "UNSUBSCRIBED", "Subscriber", "email_hash"]


class SubscriberError(PressbotError):
    """An address or a request about a subscriber that cannot be accepted as given."""


def normalise_email(raw: str) -> str:
    """A valid address in its one stored form, or SubscriberError saying what is wrong."""
    from email_validator import EmailNotValidError, validate_email  # 20 ms: at first use

    value = (raw or "").strip()
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise SubscriberError(f"not a valid email address: {value!r} ({exc})") from None
    return str(result.normalized).lower()


def normalise_name(raw: str | None) -> str | None:
    """One line of at most 200 characters; a name that is, or decodes to, something with
    control characters or line breaks is refused, since it goes into a `To:` header."""
    from channels.email.headers import breaks_lines

    name = " ".join((raw or "").split())[:200]
    if breaks_lines(name):
        raise SubscriberError(
            f"the name {name!r} contains control characters or an encoded line break "
            "(=?…?= decoding to CR/LF): give the name as plain text")
    return name or None


def normalise_language(raw: str | None) -> str | None:
    value = (raw or "").strip()
    if not value:
        return None
    if not _LANGUAGE.match(value):
        raise SubscriberError(f"not a language tag: {value!r} (expected e.g. 'en' or 'nl-BE')")
    return value.replace("_", "-")


# ── tokens ────────────────────────────────────────────────────────────────────────────────

def _bind(email: str) -> str:
    return email_hash(email)[:16]


def unsubscribe_token(key: str, subscriber_id: int, email: str) -> str:
    """Never expires: a newsletter from last year must still let its reader leave."""
    return str(URLSafeSerializer(key, salt="pressbot-unsubscribe")
               .dumps([subscriber_id, _bind(email)]))


def confirm_token(key: str, subscriber: Subscriber) -> str:
    """Carries when it was issued (microseconds, from `bot.clock`), to be compared with a
    later unsubscribe."""
    issued = int(clock.now().timestamp() * 1_000_000)
    return str(URLSafeTimedSerializer(key, salt="pressbot-confirm")
               .dumps([subscriber.id, _bind(subscriber.email), issued]))


def _resolve(store: Store, payload: object) -> Subscriber | None:
    if not (isinstance(payload, list) and len(payload) in (2, 3)
            and isinstance(payload[0], int)):
        return None
    with store.begin() as conn:
        found = sub_store.get(conn, payload[0])
    if found is None or _bind(found.email) != payload[1]:
        return None
    return found


def read_unsubscribe_token(store: Store, key: str, token: str) -> Subscriber | None:
    """The subscriber a valid token names, or None (forged, or the person was erased)."""
    try:
        payload = URLSafeSerializer(key, salt="pressbot-unsubscribe").loads(token)
    except BadSignature:
        return None
    return _resolve(store, payload)


def is_signed_unsubscribe_token(key: str, token: str) -> bool:
    """True for a token we signed, even if its subscriber no longer exists."""
    try:
        URLSafeSerializer(key, salt="pressbot-unsubscribe").loads(token)
    except BadSignature:
        return False
    return True


def read_confirm_token(store: Store, key: str, token: str,
                       max_age: int = CONFIRM_MAX_AGE) -> Subscriber:
    """The subscriber a valid, unexpired link names. A link mailed before the person last
    unsubscribed is refused: leaving must not be undone by an old mail."""
    try:
        payload, issued = URLSafeTimedSerializer(key, salt="pressbot-confirm").loads(
            token, max_age=max_age, return_timestamp=True)
    except SignatureExpired:
        raise SubscriberError("this confirmation link has expired: subscribe again") from None
    except BadSignature:
        raise SubscriberError("this confirmation link is not valid") from None
    found = _resolve(store, payload)
    if found is None:
        raise SubscriberError("this confirmation link is not valid") from None
    with store.begin() as conn:
        left = sub_store.suppressed_at(conn, email_hash(found.email))
    if len(payload) == 3 and isinstance(payload[2], int):
        sent = payload[2] / 1_000_000
    else:  # a link from before issue times were carried: whole seconds
        sent, left = issued.timestamp(), left.replace(microsecond=0) if left else None
    if left is not None and left.timestamp() > sent:
        raise SubscriberError("this confirmation link was sent before you unsubscribed: "
                              "subscribe again to get a new one")
    return found


# ── changes ───────────────────────────────────────────────────────────────────────────────

def add(store: Store, email: str, *, name: str | None = None, language: str | None = None,
        source: str = "cli") -> Subscriber:
    """An active subscriber whose consent was given to the operator (CLI)."""
    address = normalise_email(email)
    name, language = normalise_name(name), normalise_language(language)
    now = clock.now()
    with store.begin() as conn:
        if sub_store.is_suppressed(conn, email_hash(address)):
            raise SubscriberError(
                f"{address} unsubscribed or was erased: only they can subscribe again "
                "(through the subscribe form)")
        existing = sub_store.by_email(conn, address)
        if existing is not None:
            if existing.status == ACTIVE:
                raise SubscriberError(f"{address} is already subscribed")
            if existing.status == BOUNCED:
                raise SubscriberError(f"{address} bounced earlier: the server refused it")
            sub_store.update(conn, existing.id, status=ACTIVE, name=name or existing.name,
                             language=language or existing.language, consent_at=now,
                             consent_source=source)
            found = sub_store.get(conn, existing.id)
            assert found is not None
            return found
        return sub_store.insert(conn, email=address, name=name, language=language,
                                status=ACTIVE, consent_source=source, consent_at=now)


def unsubscribe(store: Store, subscriber_id: int) -> bool:
    """Stop mailing a subscriber; True when this call changed something (idempotent)."""
    with store.begin() as conn:
        found = sub_store.get(conn, subscriber_id)
        if found is None:
            return False
        sub_store.suppress(conn, email_hash(found.email), "unsubscribed")
        if found.status == UNSUBSCRIBED:
            return False
        sub_store.update(conn, subscriber_id, status=UNSUBSCRIBED)
        return True


def erase(store: Store, email: str) -> bool:
    """Forget an address (GDPR erasure), keeping only its hash to refuse it later.

    True when a subscriber was deleted; the hash is stored either way, because an erasure
    request for an unknown address still means "never mail me".
    """
    address = normalise_email(email)
    with store.begin() as conn:
        sub_store.suppress(conn, email_hash(address), "erased")
        found = sub_store.by_email(conn, address)
        if found is None:
            return False
        sub_store.delete(conn, found.id)
        return True


def request(store: Store, email: str, *, name: str | None = None,
            language: str | None = None) -> Subscriber | None:
    """The subscribe form: a pending subscriber, with a confirmation mail queued (sent by
    `bot.confirmations` after the form's answer) unless one was queued less than
    CONFIRM_RESEND_AFTER ago.

    Returns the pending subscriber, or None when there is nothing to confirm (already
    active: nothing is queued). A suppressed address may ask again: that is the person.
    """
    address = normalise_email(email)
    name, language = normalise_name(name), normalise_language(language)
    try:
        return _request(store, address, name, language)
    except sa_exc.IntegrityError:  # the same new address sent twice at once: the other
        return _request(store, address, name, language)  # request inserted it first


def _request(store: Store, address: str, name: str | None,
             language: str | None) -> Subscriber | None:
    now = clock.now()
    with store.begin_immediate() as conn:  # read, then write: SQLite's write lock first
        existing = sub_store.by_email(conn, address)
        if existing is None:
            found = sub_store.insert(conn, email=address, name=name, language=language,
                                     status=PENDING, consent_source=None)
        elif existing.status == ACTIVE:
            return None
        else:
            sub_store.update(conn, existing.id, name=name or existing.name,
                             language=language or existing.language)
            found = existing
        sub_store.queue_confirmation(conn, found.id, now,
                                     not_since=now - CONFIRM_RESEND_AFTER)
        return sub_store.get(conn, found.id)


def confirm(store: Store, subscriber: Subscriber) -> Subscriber:
    """Double opt-in done: active, with consent from the form; lifts an old suppression."""
    now = clock.now()
    with store.begin() as conn:
        if subscriber.status != ACTIVE:
            sub_store.update(conn, subscriber.id, status=ACTIVE, consent_at=now,
                             consent_source="form", confirmed_at=now, bounces=0)
        sub_store.unsuppress(conn, email_hash(subscriber.email))
        found = sub_store.get(conn, subscriber.id)
    assert found is not None
    return found


# ── import / export ───────────────────────────────────────────────────────────────────────

@dataclass
class ImportReport:
    added: int = 0
    reactivated: int = 0
    unchanged: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    """(line, reason) for addresses that may not be mailed: unsubscribed, erased, bounced."""
    errors: list[tuple[int, str]] = field(default_factory=list)
    """(line, problem) for rows that are not valid."""


def import_csv(store: Store, source: Path | str) -> ImportReport:
    """Import `email[,name,language]` rows as active subscribers (consent source "import").

    Line numbers are the file's own (the header is line 1), so a person can fix the rows
    the report names. Nothing is written when the header is unusable.
    """
    text = source.read_text(encoding="utf-8-sig") if isinstance(source, Path) else source
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if "email" not in header:
        raise SubscriberError("the CSV needs a header row with an 'email' column "
                              "(optional: 'name', 'language')")
    report = ImportReport()
    seen: dict[str, int] = {}
    now = clock.now()
    rows: list[tuple[int, str, str | None, str | None]] = []
    line = reader.line_num
    for record in reader:
        # a record may span lines (quoted newlines): report the line it starts on
        start, line = line + 1, reader.line_num
        if not any(v.strip() for v in record):
            continue
        row = dict(zip(header, map(plain, record), strict=False))
        try:
            address = normalise_email(row.get("email") or "")
            name = normalise_name(row.get("name"))
            language = normalise_language(row.get("language"))
        except SubscriberError as exc:
            report.errors.append((start, str(exc)))
            continue
        if address in seen:
            report.errors.append((start, f"{address} is already on line {seen[address]}"))
            continue
        seen[address] = start
        rows.append((start, address, name, language))
    with store.begin() as conn:
        blocked = sub_store.suppressed_hashes(conn)
        for start, address, name, language in rows:
            if email_hash(address) in blocked:
                report.refused.append((start, f"{address} unsubscribed or was erased"))
                continue
            existing = sub_store.by_email(conn, address)
            if existing is None:
                sub_store.insert(conn, email=address, name=name, language=language,
                                 status=ACTIVE, consent_source="import", consent_at=now)
                report.added += 1
            elif existing.status == ACTIVE:
                report.unchanged += 1
            elif existing.status == PENDING:
                sub_store.update(conn, existing.id, status=ACTIVE, consent_source="import",
                                 consent_at=now, name=name or existing.name,
                                 language=language or existing.language)
                report.reactivated += 1
            else:
                report.refused.append((start, f"{address} is {existing.status}"))
    return report


def listing(store: Store, status: Iterable[str] | None = None) -> list[Subscriber]:
    with store.begin() as conn:
        return sub_store.listing(conn, status=status)


EXPORT_FIELDS = ("email", "name", "language", "status", "consent_source", "consent_at",
                 "confirmed_at", "created_at")


def export_csv(subscribers: Iterable[Subscriber]) -> str:
    """CSV with a header; re-importable (`email,name,language` come first). A name or an
    address a spreadsheet would read as a formula is written as text (`bot.csvcells`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_FIELDS)
    for s in subscribers:
        values = [getattr(s, f) for f in EXPORT_FIELDS]
        writer.writerow([cell("" if v is None else v.isoformat() if hasattr(v, "isoformat")
                              else v) for v in values])
    return out.getvalue()
