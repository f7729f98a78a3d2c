"""The record key of a post: a valid TID, derived from the post's idempotency key alone.

`app.bsky.feed.post` records are keyed by TID (lexicon `"key": "tid"`, and the PDS validates
it): 13 characters of base32-sortable over a 64-bit number whose top bit is 0, then 53 bits
of microseconds since the epoch and 10 bits of "clock id". Choosing the key ourselves is what
makes a retry unable to create a second post: the second write to the same key is refused
(`putRecord` with `swapRecord: null`), and `getRecord` finds the first.

The key must be the same in every process for the same post, so it is computed, never stored:
46 bits of SHA-256 of `post.idempotency_key` pick the clock id (10 bits) and an offset of up
to 2^36 µs (≈ 19 hours) *before* the post was queued (`created_at`, whole seconds, which no
database round trip changes). So the TID reads as a time near the post's own rather than a
random date centuries away (repo browsers and some readers order by rkey), is never in the
future, and two posts of one account share a key only with odds of about n²/2^47 for n posts
queued in the same second.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import regex

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID = regex.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_SPREAD_BITS = 36
_FALLBACK_ANCHOR = datetime(2024, 1, 1, tzinfo=UTC)
"""Anchor for a post without `created_at` (never one from the store)."""


def encode_tid(value: int) -> str:
    """A 63-bit number as the 13-character base32-sortable TID."""
    if not 0 <= value < 1 << 63:
        raise ValueError(f"a TID holds 63 bits: got {value}")
    chars = []
    for _ in range(13):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode_tid(tid: str) -> int:
    """The number a TID encodes (for tests and lookups)."""
    if not TID.match(tid):
        raise ValueError(f"not a TID: {tid!r}")
    value = 0
    for char in tid:
        value = value << 5 | ALPHABET.index(char)
    return value


def record_key(idempotency_key: str, created_at: datetime | None) -> str:
    """The post's rkey: the same for the same key and queue time, in any process."""
    digest = int.from_bytes(hashlib.sha256(idempotency_key.encode("utf-8")).digest()[:8], "big")
    clock_id = digest & 0x3FF
    offset = (digest >> 10) & ((1 << _SPREAD_BITS) - 1)
    anchor = created_at or _FALLBACK_ANCHOR
    if anchor.tzinfo is None:
        anchor = anchor.replace(tzinfo=UTC)  # the store keeps UTC
    micros = max(0, int(anchor.timestamp()) * 1_000_000 - offset)
    return encode_tid(micros << 10 | clock_id)


def part_key(rkey: str, index: int) -> str:
    """The key of a thread's part `index` (0: the post's own `rkey`): `index` µs after it,
    same clock id — ordered as the thread reads, derived again by any process."""
    return encode_tid(decode_tid(rkey) + (index << 10))
