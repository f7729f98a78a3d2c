"""Mastodon: a post becomes a status (with its images), and can be found again after a lost answer.

Why it is built this way:
- Every status POST carries `Idempotency-Key: post.idempotency_key`, so a retry within the
  server's hour returns the first status instead of a second one. Past the hour, or on servers
  that ignore the key (Takahē), `lookup` reads the account's recent statuses and matches the
  post's link (or text): the publisher calls it before retrying an `Ambiguous` failure.
- Limits are the instance's (`/api/v2/instance`, falling back to v1), never a hard-coded 500.
- Media uploads have no idempotency; a failure there is never ambiguous (retrying leaves at most
  an orphan upload, which the server cleans up).
- Mastodon sends no `Retry-After`: waits come from the ISO `X-RateLimit-Reset`.
- With `thread = true` a long text goes out as a reply chain, each part with its own key
  (`pressbot-post-N-partI`). Nothing makes a thread atomic: a permanent failure mid-thread
  leaves the first parts up, and a lookup that finds the first part reports the post published.

State kept in the object, all of it caches a restart may lose without harm: the instance
configuration (after `check`/`load_limits`), the account (id, acct) from `verify_credentials`,
and the last `X-RateLimit-Remaining`/`Reset` seen per budget ("statuses" from status POSTs,
"requests" from everything else). When a budget has `RATE_RESERVE` or fewer calls left before
its reset, `publish` stops with `Transient(retry_after=…)` instead of walking into a 429.

The package, one job a module:

    channel   MastodonChannel: the instance's limits, `check`, publish and threads
    media     images downloaded (netguard on every hop), uploaded, waited on
    lookup    finding a post again among the account's statuses (HTML content matched)
    api       every request: the token, the rate-limit budgets, the account
    errors    Mastodon's error table and the hints a person acts on
"""

from channels.mastodon.api import RATE_RESERVE
from channels.mastodon.channel import (
    DEFAULT_ALT_MAX,
    DEFAULT_MAX_CHARS,
    DEFAULT_URL_WEIGHT,
    MastodonChannel,
)
from channels.mastodon.errors import ACCOUNT_HINT, AUTH_HINT, CONTENT_HINT, PLATFORM, scope_hint
from channels.mastodon.lookup import LOOKUP_MARGIN, LOOKUP_PAGES
from channels.mastodon.media import DEFAULT_IMAGE_MAX
from channels.threads import THREAD_PARTS, split_thread

__all__ = [
    "ACCOUNT_HINT",
    "AUTH_HINT",
    "CONTENT_HINT",
    "DEFAULT_ALT_MAX",
    "DEFAULT_IMAGE_MAX",
    "DEFAULT_MAX_CHARS",
    "DEFAULT_URL_WEIGHT",
    "LOOKUP_MARGIN",
    "LOOKUP_PAGES",
    "PLATFORM",
    "RATE_RESERVE",
    "THREAD_PARTS",
    "MastodonChannel",
    "scope_hint",
    "split_thread",
]
