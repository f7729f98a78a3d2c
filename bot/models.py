"""Plain data that flows between the steps: releases found, posts rendered, receipts got.

Pure data, no I/O. Times are timezone-aware UTC; a release dated by its day alone also
keeps that day (`published_day`), which no zone may move.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, tzinfo
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Image(BaseModel):
    """An image of a release, referenced by URL (or a local path for folder sources)."""

    model_config = ConfigDict(frozen=True)

    url: str
    alt: str = ""


class Release(BaseModel):
    """What a source found: one press release, cleaned."""

    source: str
    key: str = Field(description="stable id within the source: guid, link, hash or file path")
    url: str | None = None
    title: str
    published_at: datetime | None = None
    published_day: date | None = Field(
        default=None, description="the day the release gave without a time (`date: "
        "2026-03-12`, a dateline): shown as written in every zone; `published_at` is then "
        "its midnight in the source's zone, for ordering and embargoes")
    summary: str = ""
    body: str = ""
    body_html: str = Field(default="", description="sanitised HTML body, when the source had HTML")
    images: list[Image] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    language: str | None = None
    embargo_at: datetime | None = None
    channels: list[str] | None = None
    overrides: dict[str, dict[str, str]] = Field(default_factory=dict)
    links: list[str] = Field(default_factory=list)
    notes: str = Field(default="", description="what the release says besides its story: "
                       "about-us blocks, funder notices, contacts; never posted")
    url_derived: bool = Field(default=False, description="the url was made from base_url and "
                              "the file name, not found: it may not exist")
    doubts: list[str] = Field(default_factory=list, description="what the reading was not sure "
                              "of (a guessed title): its posts wait for a person; not stored, "
                              "a post is made from the release as just read")

    def published_in(self, tz: tzinfo) -> date | None:
        """The release's date as a reader is shown it: the day as written when it gave no
        time (the same day in every zone), else the instant in `tz`, the bot's zone."""
        if self.published_day is not None:
            return self.published_day
        return self.published_at.astimezone(tz) if self.published_at else None

    @property
    def uid(self) -> str:
        """Identity across the whole bot: source name and key."""
        return f"{self.source}:{self.key}"

    def content_hash(self) -> str:
        """Hash of what readers see; a change of it makes an update, not a new release."""
        h = hashlib.sha256()
        for part in (self.title, self.url or "", self.summary, self.body,
                     " ".join(i.url for i in self.images), " ".join(self.tags),
                     self.embargo_at.isoformat() if self.embargo_at else ""):
            h.update(part.encode("utf-8", "replace"))
            h.update(b"\x00")
        # alt text goes out with the images: a new one is an update (added only when there
        # is one, so releases stored before alt text counted keep their hash)
        if any(i.alt for i in self.images):
            h.update("\x00".join(i.alt for i in self.images).encode("utf-8", "replace"))
        return h.hexdigest()


class PostStatus(StrEnum):
    """The contract strings of a post's life."""

    PENDING = "pending"
    APPROVED = "approved"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    REJECTED = "rejected"
    HELD = "held"


class Rendered(BaseModel):
    """A release rendered for one channel, with its count against the channel's limit."""

    text: str
    subject: str | None = None
    html: str | None = None
    link: str | None = None
    images: list[Image] = Field(default_factory=list)
    language: str | None = None
    length: int = 0
    limit: int | None = None
    warnings: list[str] = Field(default_factory=list)
    blocking: bool = Field(default=False, description="cannot go out without a human")
    subjects: dict[str, str] = Field(default_factory=dict)
    """A digest's subject in each catalogue's language (`bot.i18n.LANGUAGES`), for readers
    whose language is not the post's; kept in the post's `extra["subjects"]`."""


def new_post_uid() -> str:
    """A post's identity beyond its row id, unique across databases and time."""
    return uuid.uuid4().hex


class Post(BaseModel):
    """One release (or a digest of several) for one channel, as stored in the queue."""

    id: int
    uid: str = Field(default_factory=new_post_uid)
    channel: str
    status: PostStatus
    release_id: int | None = None
    release_uid: str | None = None
    release_url: str | None = None
    """The release's own address; `link` is the one the post carries (tagged, shortened)."""
    title: str = ""
    text: str = ""
    subject: str | None = None
    html: str | None = None
    link: str | None = None
    images: list[Image] = Field(default_factory=list)
    language: str | None = None
    warnings: list[str] = Field(default_factory=list)
    publish_at: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    claimed_at: datetime | None = None
    first_claimed_at: datetime | None = None
    lease_until: datetime | None = None
    claim_token: int = 0
    """Raised by every claim: the fencing token a worker's sends and writes must name."""
    remote_id: str | None = None
    remote_url: str | None = None
    last_error: str | None = None
    edited_by: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    digest_release_ids: list[int] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)
    original_text: str | None = None
    """The editable text as generated (`bot.store.schema.posts`); None on a post queued
    before pressbot kept it."""

    @property
    def idempotency_key(self) -> str:
        """Stable across retries and restarts, never reused: derived from the stored uid.

        Not from the row id, which a new or restored database hands out again, while a
        platform keeps a key for an hour and would answer with the old post's status.
        """
        return f"pressbot-{self.uid}"

    @property
    def receipt_cutoff(self) -> datetime | None:
        """Nothing on the platform older than the first claim can be this post's receipt."""
        return self.first_claimed_at or self.claimed_at


class Receipt(BaseModel):
    """Where a post went: the platform's id and a link a person can open."""

    remote_id: str
    remote_url: str | None = None
    matched: str | None = None
    """Set by `lookup`: why this platform post was taken as ours (kept in the audit trail)."""
