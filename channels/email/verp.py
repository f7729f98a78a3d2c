"""Per-recipient envelope senders (VERP): `bounce+<post>-<subscriber>-<mac>@<bounce_domain>`.

A bounce goes back to the envelope sender, so a per-recipient one says whose message
bounced even when the report names a forwarded or rewritten address. The address carries
an HMAC of the ids under the bot's signing key: a forged report cannot mark a stranger.
"""

from __future__ import annotations

import hashlib
import hmac
import re

PREFIX = "bounce"
_VERP = re.compile(rf"{PREFIX}\+(\d+)-(\d+)-([0-9a-f]{{12}})@", re.I)


def _mac(key: str, post_id: int, subscriber_id: int) -> str:
    message = f"verp:{post_id}:{subscriber_id}".encode()
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()[:12]


def verp_address(key: str, domain: str, post_id: int, subscriber_id: int) -> str:
    return f"{PREFIX}+{post_id}-{subscriber_id}-{_mac(key, post_id, subscriber_id)}@{domain}"


def read_verp(key: str, text: str) -> tuple[int, int] | None:
    """(post id, subscriber id) from the first genuine VERP address in `text`, else None."""
    for match in _VERP.finditer(text):
        post_id, subscriber_id = int(match.group(1)), int(match.group(2))
        if hmac.compare_digest(match.group(3).lower(), _mac(key, post_id, subscriber_id)):
            return post_id, subscriber_id
    return None
