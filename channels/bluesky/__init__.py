"""Bluesky (AT Protocol): a post becomes an `app.bsky.feed.post` record, exactly once.

Why it is built this way:
- Sign-in is an app password (`createSession`), never the account password; the access token
  is refreshed once when the PDS calls it expired, and a refused app password is `AuthFailed`,
  which pauses the channel instead of holding post after post.
- The record key is computed from the post (`rkey`), and the record is written with
  `putRecord` + `swapRecord: null`: a retry after a lost answer finds the first record instead
  of making a second, and `lookup` is one `getRecord` (with a scan of the latest records for
  a post written under another key).
- Links, hashtags and mentions are facets over UTF-8 byte ranges (`richtext`); links show a
  short form in the text, as in Bluesky's app, so 300 graphemes go to words.
- Bluesky renders no link previews itself: the card (title, description, thumbnail) travels in
  the record. Images are shrunk to the lexicon's 1,000,000-byte blob limit rather than dropped
  (`media`), and shrunk further when the PDS still answers `BlobTooLarge`.
- Rate limits are read from `RateLimit-Remaining`/`-Reset` (a Unix time): a write that would
  overdraw the budget waits before it is sent, a 429 waits too, and neither counts as a
  failed attempt.

The package, one job a module:

    channel   BlueskyChannel: limits, `check`, the record and its embed, publish
    lookup    getRecord at the post's key, else the account's latest records matched
    media     images fetched, shrunk, measured, uploaded as blobs
    richtext  short links and facets at UTF-8 byte offsets
    rkey      the post's TID record key, derived from its idempotency key
    api       every XRPC call: the session, refresh, sign-in again
    errors    XRPC error names and the hints a person acts on
"""

from channels.bluesky.channel import (
    ALT_MAX,
    MAX_GRAPHEMES,
    MAX_IMAGES,
    BlueskyChannel,
    card_description,
    embed_kind,
)
from channels.bluesky.errors import ACCOUNT_HINT, AUTH_HINT, CONTENT_HINT, PLATFORM
from channels.bluesky.lookup import COLLECTION, LOOKUP_MARGIN, LOOKUP_PAGES
from channels.bluesky.media import IMAGE_MAX, THUMB_MAX, fit_image
from channels.bluesky.richtext import SHORT_URL, build, short_url
from channels.bluesky.rkey import record_key

__all__ = [
    "ACCOUNT_HINT",
    "ALT_MAX",
    "AUTH_HINT",
    "COLLECTION",
    "CONTENT_HINT",
    "IMAGE_MAX",
    "LOOKUP_MARGIN",
    "LOOKUP_PAGES",
    "MAX_GRAPHEMES",
    "MAX_IMAGES",
    "PLATFORM",
    "SHORT_URL",
    "THUMB_MAX",
    "BlueskyChannel",
    "build",
    "card_description",
    "embed_kind",
    "fit_image",
    "record_key",
    "short_url",
]
