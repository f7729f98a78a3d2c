"""The session cookie and the CSRF token derived from it.

The whole session lives in one signed cookie (itsdangerous, keyed by `bot.signing`), so
replicas share sign-ins without a session table. Every visitor gets a session, signed in
or not, because the sign-in form needs a CSRF token too; signing in replaces the
session's random nonce (no fixation), and the CSRF token is an HMAC of that nonce, so a
token from one session is worthless in another.

A signed-in session names the account and a fingerprint of its password hash: changing
the password or disabling the account ends every session at once. Sessions end
`web.session_hours` after sign-in, however active.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "pressbot_session"
CSRF_FIELD = "csrf"


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


class SessionCodec:
    """Turns the session dict into a cookie value and back; computes CSRF tokens."""

    def __init__(self, key: str, *, hours: int, secure: bool) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="pressbot.web.session")
        self._csrf_key = hashlib.sha256(b"pressbot.web.csrf\x00" + key.encode()).digest()
        self.max_age = hours * 3600
        self.secure = secure

    def new(self) -> dict[str, Any]:
        return {"n": secrets.token_urlsafe(18)}

    def load(self, cookie: str | None) -> dict[str, Any] | None:
        """The session in a cookie, or None if it is missing, forged or expired."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("n"), str):
            return None
        signed_in_at = data.get("t")
        if isinstance(signed_in_at, int | float) and time.time() - signed_in_at > self.max_age:
            return None
        return data

    def dump(self, session: dict[str, Any]) -> str:
        return self._serializer.dumps(session)

    def csrf_token(self, session: dict[str, Any]) -> str:
        return hmac.new(self._csrf_key, session["n"].encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: dict[str, Any], token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), str(token))

    def cookie_args(self) -> dict[str, Any]:
        return {"key": COOKIE, "max_age": self.max_age, "httponly": True, "samesite": "lax",
                "secure": self.secure, "path": "/"}
