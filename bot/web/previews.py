"""What a reviewer sees of each post: its count as the platform counts it, its warnings,
and the pieces of a faithful preview (card, link card, email), grouped by release.

Counts are computed here, on every page view, with the same `bot.fit.count` and
`channels.registry.limits_for` the workflow uses to refuse a post, so the page can never
call a post fine that approval would then refuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Connection

from bot.config import BlueskyConfig, ChannelConfig, Config, LinkedInConfig, MastodonConfig
from bot.models import Image, Post, PostStatus, Release
from bot.store import activity, meta
from bot.store import comments as comment_store
from bot.store import engagement as engagement_store
from bot.store.meta import learned_limits
from channels.base import Limits
from channels.registry import kind, limits_for

S = PostStatus
WAITING = (S.PENDING,)
ATTENTION = (S.HELD, S.FAILED, S.APPROVED, S.PUBLISHING)
DONE = (S.PUBLISHED, S.REJECTED)
RECENT = timedelta(days=7)
RECENT_MAX = 100
_RECOMPUTED = ("too long", "no image alt text", "embargoed until", "long subject")
"""Stored warnings the page recomputes from the current text and time instead of showing."""


@dataclass
class PostView:
    post: Post
    kind: str
    limits: Limits
    length: int
    limit: int | None
    spoiler: str = ""
    handle: str = ""
    warnings: list[str] = field(default_factory=list)
    advice: str | None = None
    embed: str | None = None
    """What the post carries: Bluesky "images" or a link "card"; LinkedIn "images" or an
    "article"."""
    description: str = ""
    """Bluesky: the link card's description."""
    gates: list[str] = field(default_factory=list)
    """Bluesky: self-labels, who may reply, quoting off."""
    name: str = ""
    """The account's display name as `check` last read it (else the channel's name)."""
    avatar: str | None = None
    engagement: dict[str, Any] | None = None
    """A published post's counts ({"counts", "fetched_at"}), as last read back."""
    comments: int = 0
    """Comments in the post's own thread."""
    card_picture: Image | None = None
    """Mastodon: the link card's picture (the release's first image)."""

    @property
    def platform(self) -> str:
        """The platform's name as people write it."""
        return {"linkedin": "LinkedIn"}.get(self.kind, self.kind.capitalize())

    @property
    def too_long(self) -> bool:
        return self.limit is not None and self.length > self.limit

    @property
    def link_host(self) -> str:
        return (urlsplit(self.post.link).hostname or "") if self.post.link else ""

    @property
    def card_image(self) -> Image | None:
        return next((i for i in self.post.images if i.url.startswith(("https://", "http://"))),
                    None)

    @property
    def attachments(self) -> list[Image]:
        return self.post.images[:self.limits.max_images]


@dataclass
class Group:
    """The posts of one release (or one digest) in one section of the queue."""

    title: str
    url: str | None
    release: Release | None
    posts: list[PostView] = field(default_factory=list)


@dataclass
class Section:
    heading: str
    slug: str
    groups: list[Group]

    @property
    def size(self) -> int:
        return sum(len(g.posts) for g in self.groups)


class Viewer:
    """Builds `PostView`s for one request: reads learned limits once."""

    def __init__(self, conn: Connection, config: Config, now: datetime) -> None:
        self.config = config
        self.now = now
        self.tz: ZoneInfo = config.tz
        self.learned = learned_limits(conn)
        self.tokens = meta.with_prefix(conn, "token:")
        self.profiles = meta.with_prefix(conn, "profile:")
        self.comments = comment_store.counts(conn)
        self.conn = conn
        self.engagement: dict[int, dict[str, Any] | None] = {}

    def read_engagement(self, posts: list[Post]) -> None:
        """The counts of the published ones among `posts`, in one query (None: none yet)."""
        ids = [p.id for p in posts if p.status == S.PUBLISHED]
        self.engagement.update(dict.fromkeys(ids))
        self.engagement.update(engagement_store.for_posts(self.conn, ids))

    def view(self, post: Post, release: Release | None) -> PostView:
        from bot.fit import count  # with its Unicode-aware regex: at the first page view

        cfg = self.config.channels.get(post.channel)
        platform = kind(cfg) if cfg else "mastodon"
        limits = limits_for(cfg, self.learned.get(post.channel)) if cfg else Limits()
        spoiler = (getattr(cfg, "spoiler_text", None) or "") if cfg else ""
        length = count(post.text, limits, spoiler)
        handle = post.channel
        if isinstance(cfg, MastodonConfig):
            handle = f"{post.channel}@{cfg.base_url.host}"
        elif isinstance(cfg, BlueskyConfig):
            handle = cfg.handle
        elif isinstance(cfg, LinkedInConfig):
            handle = f"urn:li:organization:{cfg.organization_id}"
        view = PostView(post=post, kind=platform, limits=limits, length=length,
                        limit=limits.max_chars, spoiler=spoiler, handle=handle)
        view.comments = self.comments.get(post.id, 0)
        known = self.profiles.get(post.channel) or {}
        view.name = str(known.get("name") or post.channel)
        view.avatar = known.get("avatar") if str(known.get("avatar", "")).startswith(
            "https://") else None
        if post.status == S.PUBLISHED:
            if post.id not in self.engagement:
                self.read_engagement([post])
            view.engagement = self.engagement.get(post.id)
        if platform == "bluesky":
            from channels.bluesky import card_description, embed_kind
            from channels.bluesky.channel import gates_of

            mode = cfg.embed if isinstance(cfg, BlueskyConfig) else "auto"
            view.embed = embed_kind(mode, images=bool(post.images), link=bool(post.link))
            view.description = card_description(post) if view.embed == "card" else ""
            view.gates = gates_of(cfg, post) if isinstance(cfg, BlueskyConfig) else []
        elif platform == "mastodon" and post.link and not post.images:
            from channels.bluesky import card_description

            # Mastodon fetches the link's preview card when a status has no media: the
            # release page's own title, summary and picture
            view.embed = "card"
            view.description = (release.summary if release and release.summary
                                else card_description(post))
            view.card_picture = next((i for i in (release.images if release else [])
                                      if i.url.startswith("https://")), None)
        elif platform == "linkedin":
            from channels.bluesky import card_description
            from channels.linkedin.channel import content_kind

            view.embed = content_kind(cfg.post_as if isinstance(cfg, LinkedInConfig) else "auto",
                                      images=len(post.images), link=bool(post.link))
            view.description = card_description(post) if view.embed == "article" else ""
        view.warnings = self._warnings(view, release, configured=cfg is not None)
        if isinstance(cfg, LinkedInConfig) and post.status not in DONE:
            view.warnings[:0] = self._token_warning(post.channel, cfg)
        if post.status in (S.HELD, S.FAILED):
            view.advice = advice(post)
        return view

    def _warnings(self, view: PostView, release: Release | None, *,
                  configured: bool) -> list[str]:
        post, limits = view.post, view.limits
        found: list[str] = []
        if not configured:
            found.append(f"channel {post.channel!r} is no longer configured: reject this post")
        if view.too_long:
            found.append(f"too long: {view.length}/{view.limit} characters as "
                         f"{view.platform} counts them — edit it")
        if limits.soft_chars and view.length > limits.soft_chars and not view.too_long:
            found.append(f"over {limits.soft_chars} characters: it goes out on "
                         f"{view.platform} as a thread" if limits.thread else
                         f"over {limits.soft_chars} characters: {view.platform} "
                         "shows the start and hides the rest behind “See more”")
        missing_alt = [i for i in post.images if not i.alt.strip()]
        if missing_alt:
            found.append(f"no alt text on {len(missing_alt)} image"
                         f"{'s' * (len(missing_alt) != 1)}: add image_alt so everyone can "
                         "read it")
        if len(post.images) > limits.max_images:
            found.append(f"{len(post.images)} images: {view.platform} shows "
                         f"{limits.max_images}; the rest are left out")
        if view.kind == "email" and post.subject and limits.subject_max and \
                len(post.subject) > limits.subject_max:
            found.append(f"subject is {len(post.subject)} characters: many mail apps cut it "
                         f"after {limits.subject_max}")
        if release and release.embargo_at and release.embargo_at > self.now:
            local = release.embargo_at.astimezone(self.tz).strftime("%a %-d %b %Y, %H:%M")
            found.append(f"embargoed until {local} ({self.tz.key}): it will not go out before")
        found.extend(w for w in post.warnings if not w.startswith(_RECOMPUTED))
        return found


    def _token_warning(self, name: str, cfg: ChannelConfig) -> list[str]:
        """LinkedIn's tokens end (60 days; a refresh token's year): say so a week before."""
        assert isinstance(cfg, LinkedInConfig)
        refreshes = bool(cfg.refresh_token and cfg.client_id and cfg.client_secret)
        known = (self.tokens.get(name) or {}).get("act_by")
        configured = cfg.refresh_token_expires if refreshes else cfg.token_expires
        act_by = datetime.fromisoformat(known) if isinstance(known, str) else (
            datetime.combine(configured, time.max, UTC) if configured else None)
        if act_by is None:
            return []
        what = "refresh token" if refreshes else "access token"
        local = act_by.astimezone(self.tz).strftime("%a %-d %b %Y")
        renew = ("authorise the app again on LinkedIn as a Page administrator, set the new "
                 "token, then run pressbot check")
        if act_by <= self.now:
            return [f"the LinkedIn {what} expired on {local}: nothing goes out on "
                    f"{name} until you {renew}"]
        if act_by - self.now <= timedelta(days=cfg.expiry_warning_days):
            days = (act_by - self.now).days
            return [f"the LinkedIn {what} expires on {local} (in {days} day"
                    f"{'s' * (days != 1)}): {renew}"]
        return []


def advice(post: Post) -> str:
    """What a person can do about a held or failed post, from its last error."""
    error = (post.last_error or "").lower()
    if post.status == S.FAILED:
        return ("pressbot retries this post by itself. Approve it to retry now, or reject it "
                "to stop.")
    if "too long" in error:
        return "Edit the text so it fits, then approve it again."
    if "template" in error:
        return ("Fix the template named above (or edit the text by hand), then approve the "
                "post again.")
    if "not configured" in error:
        return "Add the channel back to the configuration, or reject the post."
    if any(word in error for word in ("token", "credential", "password", "permission",
                                      "401", "403", "auth")):
        return ("Renew the credential named above in the configuration or its environment "
                "variable, restart pressbot, then approve the post again to retry it.")
    if "gave up" in error or "ambiguous" in error or "may have" in error:
        return ("Check on the platform whether the post went out. If it did not, approve it "
                "again to retry; if it did, reject it here so it is not sent twice.")
    return "Fix the cause above, then approve the post again to retry it — or edit or reject it."


def _group(views: list[tuple[PostView, Release | None]]) -> list[Group]:
    groups: dict[Any, Group] = {}
    for view, release in views:
        post = view.post
        key = post.release_id if post.release_id is not None else f"digest-{post.id}"
        if key not in groups:
            url = release.url if release else None
            groups[key] = Group(title=release.title if release else post.title or "Digest",
                                url=url, release=release)
        groups[key].posts.append(view)
    return list(groups.values())


def queue_sections(conn: Connection, config: Config, now: datetime) -> list[Section]:
    """The queue page: waiting posts first, then those scheduled or in trouble, then the
    recently published or rejected."""
    waiting = activity.posts_by_status(conn, WAITING)
    attention = activity.posts_by_status(conn, ATTENTION)
    done = activity.posts_by_status(conn, DONE, since=now - RECENT, limit=RECENT_MAX,
                                    newest_first=True)
    releases = activity.releases_by_id(
        conn, (p.release_id for p in [*waiting, *attention, *done] if p.release_id is not None))
    viewer = Viewer(conn, config, now)
    viewer.read_engagement(done)
    # held and failed posts lead their section: they need a person, approved ones do not
    attention.sort(key=lambda p: p.status not in (S.HELD, S.FAILED))

    def build(items: list[Post]) -> list[Group]:
        return _group([(viewer.view(p, releases.get(p.release_id or -1)),
                        releases.get(p.release_id or -1)) for p in items])

    return [
        Section("Waiting for approval", "waiting", build(waiting)),
        Section("Scheduled, or needing attention", "scheduled", build(attention)),
        Section("Published or rejected in the last 7 days", "done", build(done)),
    ]
