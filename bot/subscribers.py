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

import base64
import csv
import functools
import hashlib
import hmac
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection

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


_PLAIN = re.compile(
    r"(?=.{6,254}$)(?=[^@]{1,64}@)"
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:(?!-)(?![^.]*--)[A-Za-z0-9-]{1,63}(?<!-)\.)+(?![^.]*--)[A-Za-z]{2,63}")
"""An ASCII dot-atom address with an alphabetic top-level domain and no `--` in a label
(no IDNA `xn--` form to decode): every such address is valid and `email-validator`
would return it as it is (with the domain lowercased). It decides everything else."""
_SPECIAL_USE = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})


def normalise_email(raw: str) -> str:
    """A valid address in its one stored form, or SubscriberError saying what is wrong.

    A plain ASCII address is checked by `_PLAIN` (a few microseconds); `email-validator`
    (a quarter of a millisecond: most of a 10,000-row import) reads the rest."""
    value = (raw or "").strip()
    if _PLAIN.fullmatch(value) and value.rpartition(".")[2].lower() not in _SPECIAL_USE:
        return value.lower()
    from email_validator import EmailNotValidError, validate_email  # 20 ms: at first use

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
    return unsubscribe_signer(key)(subscriber_id, email)


_UNSUBSCRIBE_SALT = b"pressbot-unsubscribe"


@functools.lru_cache(maxsize=4)
def unsubscribe_signer(key: str) -> Callable[[int, str], str]:
    """`unsubscribe_token` for one key, made once: a newsletter signs one token per copy,
    and `URLSafeSerializer.dumps` derives its key, builds a signer and tries zlib on every
    call (half a millisecond, mostly zlib's set-up). The token is what it writes for a
    payload zlib does not shorten, which at these 25 bytes is all but every one; either
    way `URLSafeSerializer.loads` reads it (tested against both)."""
    # itsdangerous' defaults: "django-concat" key derivation, HMAC-SHA1, compact JSON,
    # base64url without padding; (SHA-1 is a key derivation and an HMAC here, as in every
    # link already sent)
    derived = hashlib.sha1(_UNSUBSCRIBE_SALT + b"signer" + key.encode()).digest()  # noqa: S324
    mac = hmac.new(derived, digestmod=hashlib.sha1)

    def sign(subscriber_id: int, email: str) -> str:
        value = _b64(json.dumps([subscriber_id, _bind(email)], separators=(",", ":"),
                                ensure_ascii=False).encode())
        signature = mac.copy()
        signature.update(value)
        return (value + b"." + _b64(signature.digest())).decode("ascii")

    return sign


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


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


@dataclass(frozen=True)
class Evidence:
    """What the subscribe form and the confirmation click record as proof of consent."""

    wording: str | None = None
    """The version of the form's wording (`newsletter.consent_wording_version`)."""
    ip: str | None = None
    """The client's address: only with `newsletter.record_client`."""
    user_agent: str | None = None

    def client(self, now: datetime) -> dict[str, object]:
        """The client columns to store, or nothing when none was recorded."""
        if self.ip is None and self.user_agent is None:
            return {}
        return {"consent_ip": (self.ip or "")[:45] or None,
                "consent_user_agent": (self.user_agent or "")[:300] or None,
                "consent_client_at": now}


def request(store: Store, email: str, *, name: str | None = None,
            language: str | None = None, evidence: Evidence | None = None
            ) -> Subscriber | None:
    """The subscribe form: a pending subscriber, with a confirmation mail queued (sent by
    `bot.confirmations` after the form's answer) unless one was queued less than
    CONFIRM_RESEND_AFTER ago. The form's time and wording (and client, if recorded) are
    kept as evidence.

    Returns the pending subscriber, or None when there is nothing to confirm (already
    active: nothing is queued). A suppressed address may ask again: that is the person.
    """
    address = normalise_email(email)
    name, language = normalise_name(name), normalise_language(language)
    evidence = evidence or Evidence()
    try:
        return _request(store, address, name, language, evidence)
    except sa_exc.IntegrityError:  # the same new address sent twice at once: the other
        return _request(store, address, name, language, evidence)  # inserted it first


def _request(store: Store, address: str, name: str | None, language: str | None,
             evidence: Evidence) -> Subscriber | None:
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
        sub_store.update(conn, found.id, requested_at=now, consent_wording=evidence.wording,
                         **evidence.client(now))
        sub_store.queue_confirmation(conn, found.id, now,
                                     not_since=now - CONFIRM_RESEND_AFTER)
        return sub_store.get(conn, found.id)


def confirm(store: Store, subscriber: Subscriber,
            evidence: Evidence | None = None) -> Subscriber:
    """Double opt-in done: active, with consent from the form; lifts an old suppression.
    The clicking client (if recorded) replaces the form's: the click is the consent."""
    now = clock.now()
    with store.begin() as conn:
        if subscriber.status != ACTIVE:
            sub_store.update(conn, subscriber.id, status=ACTIVE, consent_at=now,
                             consent_source="form", confirmed_at=now, bounces=0,
                             **(evidence or Evidence()).client(now))
        sub_store.unsuppress(conn, email_hash(subscriber.email))
        found = sub_store.get(conn, subscriber.id)
    assert found is not None
    return found


def set_language(store: Store, subscriber_id: int, language: str) -> None:
    """The subscriber chose the language of their mails (self-service page)."""
    chosen = normalise_language(language)
    with store.begin() as conn:
        sub_store.update(conn, subscriber_id, language=chosen)


def forget_clients(store: Store, retention_days: int) -> int:
    """Erase recorded client addresses and user agents older than the retention; returns
    how many subscribers' were erased. Run by `pressbot run` every minute (with the
    confirmation mails) and before anything shows or exports them."""
    with store.begin() as conn:
        return sub_store.forget_clients(conn, clock.now() - timedelta(days=retention_days))


def find(store: Store, email: str) -> tuple[Subscriber | None, str | None]:
    """(the subscriber, the suppression reason) of an address; either may be None."""
    address = normalise_email(email)
    with store.begin() as conn:
        found = sub_store.by_email(conn, address)
        reason = sub_store.suppression_reason(conn, email_hash(address))
    return found, reason


PERSONAL_FIELDS = ("email", "name", "language", "status", "consent_source", "consent_at",
                   "confirmed_at", "created_at", "updated_at", "bounces", "soft_bounces",
                   "confirm_sent_at", *("requested_at", "confirm_mailed_at", "consent_wording",
                                        "consent_ip", "consent_user_agent",
                                        "consent_client_at"))
"""Everything stored about a subscriber, as `personal_data` and `subscribers show` give it."""


def personal_data(subscriber: Subscriber, suppressed: str | None = None) -> dict[str, object]:
    """What is stored about a person, JSON-ready (the self-service download, `show`)."""
    data: dict[str, object] = {}
    for name in PERSONAL_FIELDS:
        value = getattr(subscriber, name)
        data[name] = value.isoformat() if isinstance(value, datetime) else value
    data["suppressed"] = suppressed
    return data


# ── import / export ───────────────────────────────────────────────────────────────────────

IMPORT_BATCH = 1000
"""Rows written per transaction: large enough that commits cost little, small enough
that a bad file stops early and another writer is not locked out for long."""

_STATUS_READ = {"": ACTIVE, "subscribed": ACTIVE, ACTIVE: ACTIVE, PENDING: PENDING,
                UNSUBSCRIBED: UNSUBSCRIBED, BOUNCED: BOUNCED, "cleaned": BOUNCED,
                "complained": UNSUBSCRIBED}
"""A status in a CSV (ours, or Mailchimp's words) → the status stored."""
_LEFT_REASON = {UNSUBSCRIBED: "unsubscribed", "complained": "complaint"}
"""Statuses that say the person asked to leave: they go on the suppression list too."""
_STAYS_OUT = (UNSUBSCRIBED, BOUNCED)
"""Stored statuses an import never changes: leaving, and a refused address, are final."""


@dataclass
class ImportReport:
    added: int = 0
    reactivated: int = 0
    unchanged: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    """(line, reason) for addresses that may not be mailed: unsubscribed, erased, bounced."""
    errors: list[tuple[int, str]] = field(default_factory=list)
    """(line, problem) for rows that are not valid."""
    left: int = 0
    """Rows imported as not mailed (unsubscribed, bounced, pending), as the file says."""
    suppressed: int = 0
    """Suppression entries imported (from a suppression file, or for a row that left)."""


@dataclass(frozen=True)
class _Row:
    line: int
    email: str
    name: str | None
    language: str | None
    status: str
    reason: str | None
    """The suppression reason when the row says the person left."""
    consent_source: str | None
    consent_at: datetime | None
    confirmed_at: datetime | None
    evidence: dict[str, object] = field(default_factory=dict)
    """The consent evidence columns the file gives (`EVIDENCE_FIELDS`), kept as written."""


def _evidence(row: dict[str, str]) -> dict[str, object]:
    found: dict[str, object] = {}
    for name in EVIDENCE_FIELDS:
        if name not in row:
            continue
        if name.endswith("_at"):
            found[name] = _when(row, name)
        else:
            found[name] = (row[name] or "").strip()[:_EVIDENCE_SIZE[name]] or None
    return found


def _when(row: dict[str, str], name: str) -> datetime | None:
    value = (row.get(name) or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SubscriberError(f"{name}: not an ISO 8601 time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _read_row(line: int, row: dict[str, str], has_status: bool, now: datetime) -> _Row:
    address = normalise_email(row.get("email") or "")
    name = normalise_name(row.get("name"))
    language = normalise_language(row.get("language"))
    if not has_status:  # a plain list: the operator vouches for consent, given now
        return _Row(line, address, name, language, ACTIVE, None, "import", now, None)
    given = (row.get("status") or "").strip().lower()
    if given not in _STATUS_READ:
        raise SubscriberError(f"status: {given!r} is not one of "
                              f"{', '.join(sorted(k for k in _STATUS_READ if k))}")
    status = _STATUS_READ[given]
    source = (row.get("consent_source") or "").strip()[:50] or None
    consent_at = _when(row, "consent_at")
    confirmed_at = _when(row, "confirmed_at")
    if status == ACTIVE and consent_at is None:  # active without a date: consent is the import
        source, consent_at = source or "import", now
    return _Row(line, address, name, language, status, _LEFT_REASON.get(given), source,
                consent_at, confirmed_at, _evidence(row))


def import_csv(store: Store, source: Path | str, *, suppressions: Path | str | None = None,
               progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import subscribers from CSV (`email`, optional `name`, `language`, and what `export`
    writes: `status`, `consent_source`, `consent_at`, `confirmed_at`).

    A file without a `status` column is a plain list: its people become active, with
    consent "import, now". With one, each row keeps its status and consent as written, so
    an export moved to a new database brings nobody back who left: an unsubscribed or
    complained row stays out (and is suppressed), a bounced one stays bounced, a pending
    one still has to confirm. An address already stored as unsubscribed or bounced, or on
    the suppression list, is never made active by an import. `suppressions` (what
    `export_suppressions` wrote) is read first, so the erased stay refused too.

    Line numbers are the file's own (the header is line 1), so a person can fix the rows
    the report names. Nothing is written when a header is unusable. Rows are written in
    batches of IMPORT_BATCH, one transaction each; `progress` is told each batch's size.
    """
    text = source.read_text(encoding="utf-8-sig") if isinstance(source, Path) else source
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if "email" not in header:
        raise SubscriberError("the CSV needs a header row with an 'email' column "
                              "(optional: 'name', 'language', 'status', 'consent_source', "
                              "'consent_at', 'confirmed_at')")
    hashes = _read_suppressions(suppressions) if suppressions is not None else []
    report = ImportReport()
    has_status = "status" in header
    seen: dict[str, int] = {}
    now = clock.now()
    rows: list[_Row] = []
    line = reader.line_num
    for record in reader:
        # a record may span lines (quoted newlines): report the line it starts on
        start, line = line + 1, reader.line_num
        if not any(v.strip() for v in record):
            continue
        try:
            row = _read_row(start, dict(zip(header, map(plain, record), strict=False)),
                            has_status, now)
        except SubscriberError as exc:
            report.errors.append((start, str(exc)))
            continue
        if row.email in seen:
            report.errors.append((start, f"{row.email} is already on line {seen[row.email]}"))
            continue
        seen[row.email] = start
        rows.append(row)
    if hashes:
        with store.begin() as conn:
            report.suppressed += sub_store.suppress_many(conn, hashes)
    with store.begin() as conn:
        blocked = sub_store.suppressed_hashes(conn)
    for first in range(0, len(rows), IMPORT_BATCH):
        batch = rows[first:first + IMPORT_BATCH]
        with store.begin() as conn:
            _import_batch(conn, batch, blocked, report, now)
        if progress is not None:
            progress(len(batch))
    return report


def _import_batch(conn: Connection, batch: list[_Row], blocked: set[str],
                  report: ImportReport, now: datetime) -> None:
    existing = sub_store.by_emails(conn, [r.email for r in batch])
    new: list[dict[str, object]] = []
    leaving: list[tuple[str, str, datetime]] = []
    for r in batch:
        hashed = email_hash(r.email)
        if r.reason is not None:
            leaving.append((hashed, r.reason, now))
            blocked.add(hashed)
        old = existing.get(r.email)
        if r.status == ACTIVE and hashed in blocked:
            report.refused.append((r.line, f"{r.email} unsubscribed or was erased"))
            continue
        if old is None:
            new.append({"email": r.email, "name": r.name, "language": r.language,
                        "status": r.status, "consent_at": r.consent_at,
                        "consent_source": r.consent_source, "confirmed_at": r.confirmed_at,
                        "bounces": 0, "created_at": now, "updated_at": now,
                        **dict.fromkeys(EVIDENCE_FIELDS), **r.evidence})
            if r.status == ACTIVE:
                report.added += 1
            else:
                report.left += 1
        elif old.status == r.status or old.status in _STAYS_OUT:
            if r.status == ACTIVE and old.status != ACTIVE:
                report.refused.append((r.line, f"{r.email} is {old.status}"))
            else:
                report.unchanged += 1
        elif r.status in _STAYS_OUT:  # the file says they left: that wins
            sub_store.update(conn, old.id, status=r.status)
            report.left += 1
        elif r.status == ACTIVE:  # pending here, active there: the consent of the file
            sub_store.update(conn, old.id, status=ACTIVE, consent_source=r.consent_source,
                             consent_at=r.consent_at, confirmed_at=r.confirmed_at,
                             name=r.name or old.name, language=r.language or old.language,
                             **r.evidence)
            report.reactivated += 1
        else:  # pending in the file, active here: this database's consent stands
            report.unchanged += 1
    if new:
        sub_store.insert_many(conn, new)
    if leaving:
        report.suppressed += sub_store.suppress_many(conn, leaving)


def listing(store: Store, status: Iterable[str] | None = None) -> list[Subscriber]:
    with store.begin() as conn:
        return sub_store.listing(conn, status=status)


EVIDENCE_FIELDS = ("requested_at", "confirm_mailed_at", "consent_wording", "consent_ip",
                   "consent_user_agent", "consent_client_at")
"""Consent evidence (issue 27): exported, and restored by an import as written."""
_EVIDENCE_SIZE = {"consent_wording": 50, "consent_ip": 45, "consent_user_agent": 300}
EXPORT_FIELDS = ("email", "name", "language", "status", "consent_source", "consent_at",
                 "confirmed_at", "created_at", *EVIDENCE_FIELDS)
SUPPRESSION_FIELDS = ("email_hash", "reason", "at")


def _csv(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for values in rows:
        writer.writerow([cell("" if v is None else v.isoformat() if isinstance(v, datetime)
                              else v) for v in values])
    return out.getvalue()


def export_csv(subscribers: Iterable[Subscriber]) -> str:
    """CSV with a header; re-importable (`email,name,language` come first), status and
    consent included so that `import_csv` restores them as they were. A name or an address
    a spreadsheet would read as a formula is written as text (`bot.csvcells`)."""
    return _csv(EXPORT_FIELDS, ([getattr(s, f) for f in EXPORT_FIELDS] for s in subscribers))


def export_suppressions(store: Store) -> str:
    """The suppression list as CSV (hashes only: an erased address is not in it)."""
    with store.begin() as conn:
        entries = sub_store.suppression_list(conn)
    return _csv(SUPPRESSION_FIELDS, entries)


def _read_suppressions(source: Path | str) -> list[tuple[str, str, datetime]]:
    text = source.read_text(encoding="utf-8-sig") if isinstance(source, Path) else source
    reader = csv.DictReader(io.StringIO(text))
    where = source if isinstance(source, Path) else "the suppression list"
    if reader.fieldnames is None or not set(SUPPRESSION_FIELDS) <= set(reader.fieldnames):
        raise SubscriberError(f"{where}: needs the header {','.join(SUPPRESSION_FIELDS)} "
                              "(as `subscribers export --suppressions` writes it)")
    entries = []
    for number, row in enumerate(reader, start=2):
        hashed = (row["email_hash"] or "").strip().lower()
        if not _HASH.fullmatch(hashed):
            raise SubscriberError(f"{where}:{number}: email_hash: not a SHA-256 hex digest")
        try:
            at = _when(row, "at") or clock.now()
        except SubscriberError as exc:
            raise SubscriberError(f"{where}:{number}: {exc}") from None
        entries.append((hashed, (row["reason"] or "").strip()[:50] or "unsubscribed", at))
    return entries


_HASH = re.compile(r"[0-9a-f]{64}")
