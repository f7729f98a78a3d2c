"""Publishing to a Facebook Page through the Graph API.

Graph has no idempotency key, so a retry after a lost answer could post twice. Two
defences, in order:

1. `publish` first looks for this post among the Page's recent live posts (the same match
   `lookup` uses), so calling it twice for one post returns the first publication.
2. Link posts are published in two phases: create an unpublished draft
   (`published=false`), then flip it live (`POST /{post-id}` with `is_published=true`).
   A lost answer to the first phase leaves at most an invisible draft, so it is reported as
   `Transient`, not `Ambiguous`; a retry reuses that draft when it can find it. The flip is
   idempotent, so a lost answer to it is retried once at once; only a second loss is
   `Ambiguous`, and `lookup` then settles it.

Finding a draft is best-effort: drafts are matched by exact message (and link, when the
listing shows attachments) among `GET /{page}/promotable_posts?is_published=false`, created
since the post was queued. That edge and filter are UNCONFIRMED for current Graph
versions; when Graph refuses them the adapter creates a new draft, and the orphan stays
invisible (Meta does not show unpublished Page posts to readers). Matching by content rather
than by a marker keeps the text readers see untouched; the cost is that two pressbot posts
with identical text and link inside that window are treated as one.

Photo posts (`post_as = "photo"`) are single-phase: `POST /{page}/photos` answers with the
feed post's id, and a lost answer is `Ambiguous` (reconciled by `lookup`).

Errors are classified by `error.code` and `error_subcode`, not by HTTP status
(platform-apis.md §2.7). Usage headers are read on every answer: at 90 % of any limit the
channel stops writing until the platform's estimate of regained access (or a default pause)
has passed, so it slows down before Meta throttles it. That memo is the one piece of process
memory the channel keeps; it is rebuilt from the next answer after a restart.

Secrets: the Page token, app token, app secret and their `appsecret_proof`s are registered
with `bot.redact` at construction, and URLs in messages lose their query strings.

The package, one job a module:

    channel   FacebookChannel: publish (look first, draft, go live; photos) and lookup
    check     the token: a Page token for page_id, its permissions and expiry
    graph     one Graph call with appsecret_proof; httpx logs redacted
    errors    Graph's error codes as Transient/Permanent/Ambiguous, with hints; scrub
    usage     usage headers, and the pause before Meta throttles
"""

from channels.facebook.channel import (
    LOOKUP_MARGIN,
    LOOKUP_PAGES,
    SKIPPABLE_DRAFT_ERRORS,
    FacebookChannel,
)
from channels.facebook.errors import (
    NEED_PAGE,
    PLATFORM,
    REAUTH,
    REQUIRED_SCOPES,
    THROTTLE_BACKOFF,
    THROTTLE_CODES,
    TOKEN_HINTS,
    classify,
    scrub,
)
from channels.facebook.graph import proof
from channels.facebook.usage import SLOWDOWN_AT, SLOWDOWN_PAUSE, usage_of

__all__ = [
    "LOOKUP_MARGIN",
    "LOOKUP_PAGES",
    "NEED_PAGE",
    "PLATFORM",
    "REAUTH",
    "REQUIRED_SCOPES",
    "SKIPPABLE_DRAFT_ERRORS",
    "SLOWDOWN_AT",
    "SLOWDOWN_PAUSE",
    "THROTTLE_BACKOFF",
    "THROTTLE_CODES",
    "TOKEN_HINTS",
    "FacebookChannel",
    "classify",
    "proof",
    "scrub",
    "usage_of",
]
