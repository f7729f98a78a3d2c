"""Review-page accounts: who may sign in, with which role, and the password check.

Passwords are kept only as argon2id hashes (argon2-cffi's defaults, RFC 9106). A name
that does not exist is checked against a dummy hash, so a wrong name and a wrong
password take the same time and say the same thing. Adding and disabling accounts are
audit events like any change of a post.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import clock
from bot.errors import PressbotError
from bot.store.posts import add_event
from bot.store.schema import signin_addresses, users

if TYPE_CHECKING:
    from argon2 import PasswordHasher

ROLES = ("reviewer", "editor", "admin")
"""Each role may do what the ones before it may: reviewers approve and reject, editors also
edit and schedule, admins also manage accounts."""

PASSWORD_MIN = 10
PASSWORD_MAX = 1024  # argon2 hashes anything, but a megabyte "password" is a denial of service
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$")

_dummy_hash: str | None = None


@cache
def _hasher() -> PasswordHasher:
    """argon2 (a compiled extension) loads at the first password, not with the web page."""
    from argon2 import PasswordHasher

    return PasswordHasher()


class UserError(PressbotError):
    """An account cannot be added or changed as asked."""


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: str
    email: str | None
    disabled: bool
    created_at: datetime
    password_hash: str = field(repr=False)

    def may(self, role: str) -> bool:
        """Does this account have `role` or a higher one?"""
        return not self.disabled and ROLES.index(self.role) >= ROLES.index(role)


def _user(row: sa.Row[Any]) -> User:
    m = row._mapping
    return User(id=m["id"], name=m["name"], role=m["role"], email=m["email"],
                disabled=bool(m["disabled"]), created_at=m["created_at"],
                password_hash=m["password_hash"])


def check_password(password: str) -> None:
    if len(password) < PASSWORD_MIN:
        raise UserError(f"the password is too short: use at least {PASSWORD_MIN} characters "
                        "(a few words make a good one)")
    if len(password) > PASSWORD_MAX:
        raise UserError(f"the password is too long: at most {PASSWORD_MAX} characters")


def check_email(email: str | None) -> str | None:
    """A reviewer's address for notices, validated (it goes into a `To:` header)."""
    if email is None or not email.strip():
        return None
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(email.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise UserError(f"not a valid email address: {email!r} ({exc})") from None


def add(conn: Connection, name: str, password: str, role: str, *, email: str | None = None,
        actor: str = "system") -> User:
    """Create an account; UserError names what is wrong with the name, role or password."""
    name = name.strip()
    if not _NAME.match(name):
        raise UserError(f"not a usable account name: {name!r} (letters, digits, '.', '_', "
                        "'-' and '@'; start with a letter or digit)")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: expected one of {', '.join(ROLES)}")
    check_password(password)
    if get(conn, name) is not None:
        raise UserError(f"an account named {name!r} already exists")
    email = check_email(email)
    conn.execute(users.insert().values(
        name=name, password_hash=_hasher().hash(password), role=role, email=email or None,
        disabled=False, created_at=clock.now()))
    add_event(conn, actor=actor, action="user-add", detail={"user": name, "role": role})
    created = get(conn, name)
    assert created is not None
    return created


def get(conn: Connection, name: str) -> User | None:
    row = conn.execute(sa.select(users).where(users.c.name == name)).first()
    return _user(row) if row else None


def listing(conn: Connection) -> list[User]:
    return [_user(r) for r in conn.execute(sa.select(users).order_by(users.c.name))]


def end_sessions(conn: Connection, name: str) -> None:
    """Every session of the account issued until now stops working (sign-out, disable,
    password change): a copied cookie cannot be replayed, and re-enabling an account does
    not bring old cookies back."""
    import time

    from bot.store import meta

    meta.put(conn, f"sessions-ended:{name}", time.time())


def end_session(conn: Connection, nonce: str, *, until: float) -> None:
    """One session stops working (sign-out on "this device"): its nonce is remembered
    until the cookie would have expired anyway (`until`), so a copy of that cookie is
    worthless while the account's other devices stay signed in. Expired marks are
    dropped here, so the list never outgrows the sessions still alive."""
    import time

    from bot.store import meta
    from bot.store.schema import meta as table

    now = time.time()
    for key, expires in meta.with_prefix(conn, _ENDED).items():
        if not isinstance(expires, int | float) or expires < now:
            conn.execute(table.delete().where(table.c.key == _ENDED + key))
    meta.put(conn, _ENDED + _nonce_key(nonce), until)


def session_ended(conn: Connection, nonce: str) -> bool:
    """Was this one session signed out ("this device")?"""
    from bot.store import meta

    return meta.get(conn, _ENDED + _nonce_key(nonce)) is not None


_ENDED = "session-ended:"


def _nonce_key(nonce: str) -> str:
    """The stored mark is a hash of the nonce: the nonce is what CSRF tokens derive from,
    and a database dump must not hand them out."""
    import hashlib

    return hashlib.sha256(nonce.encode()).hexdigest()[:32]


def sessions_ended_at(conn: Connection, name: str) -> float:
    from bot.store import meta

    return float(meta.get(conn, f"sessions-ended:{name}", 0.0))


KNOWN_FOR = timedelta(days=180)
"""An address the account has not signed in from for this long is a stranger's again."""


def knows_address(conn: Connection, name: str, address: str) -> bool:
    """Has the account `name` signed in from `address` (within KNOWN_FOR)?"""
    row = conn.execute(
        sa.select(signin_addresses.c.last_at)
        .join(users, users.c.id == signin_addresses.c.user_id)
        .where(users.c.name == name, signin_addresses.c.address == address[:100])).first()
    return row is not None and row[0] > clock.now() - KNOWN_FOR


def remember_address(conn: Connection, user: User, address: str) -> None:
    """Record a successful sign-in from `address`; forget the account's stale addresses.

    Inserted without a prior check (`ON CONFLICT DO NOTHING`), so two replicas signing the
    same person in at once do not fail on the key."""
    from sqlalchemy.dialects import postgresql, sqlite

    now = clock.now()
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(signin_addresses).values(
        user_id=user.id, address=address[:100], last_at=now).on_conflict_do_nothing())
    conn.execute(signin_addresses.update().where(
        signin_addresses.c.user_id == user.id, signin_addresses.c.address == address[:100])
        .values(last_at=now))
    conn.execute(signin_addresses.delete().where(
        signin_addresses.c.user_id == user.id, signin_addresses.c.last_at < now - KNOWN_FOR))


def set_password(conn: Connection, name: str, password: str, *, actor: str) -> None:
    """A new password; every session of the account ends."""
    user = get(conn, name)
    if user is None:
        raise UserError(f"no account named {name!r}")
    check_password(password)
    conn.execute(users.update().where(users.c.id == user.id)
                 .values(password_hash=_hasher().hash(password)))
    end_sessions(conn, name)
    add_event(conn, actor=actor, action="user-password", detail={"user": name})


def set_disabled(conn: Connection, name: str, disabled: bool, *, actor: str) -> User:
    user = get(conn, name)
    if user is None:
        raise UserError(f"no account named {name!r}")
    conn.execute(users.update().where(users.c.id == user.id).values(disabled=disabled))
    end_sessions(conn, name)
    add_event(conn, actor=actor, action="user-disable" if disabled else "user-enable",
              detail={"user": name})
    changed = get(conn, name)
    assert changed is not None
    return changed


def authenticate(conn: Connection, name: str, password: str) -> User | None:
    """The account if `password` is right and the account is enabled; otherwise None."""
    global _dummy_hash
    user = get(conn, name.strip()) if len(password) <= PASSWORD_MAX else None
    if user is None:
        if _dummy_hash is None:
            _dummy_hash = _hasher().hash("pressbot-no-such-user")
        _verify(_dummy_hash, password[:PASSWORD_MAX])
        return None
    if not _verify(user.password_hash, password) or user.disabled:
        return None
    if _hasher().check_needs_rehash(user.password_hash):
        # the session carries a fingerprint of the hash: it must be the new one, or the
        # first sign-in after a change of parameters ends at the next page
        user = replace(user, password_hash=_hasher().hash(password))
        conn.execute(users.update().where(users.c.id == user.id)
                     .values(password_hash=user.password_hash))
    return user


def _verify(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
