"""Releases: insert once, find again by key, then link, then content hash."""

from __future__ import annotations

import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import clock
from bot.links import normalise_url
from bot.models import Image, Release
from bot.store.schema import releases

KEY_MAX = 1000


def store_key(key: str) -> str:
    """Keys longer than the column are stored as their hash, so no key is ever cut."""
    if len(key) <= KEY_MAX:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


# The dedup lookups and the insert run for every item of every changed feed: built once,
# since building a statement costs SQLAlchemy more than running it on an indexed table.
_SAME_SOURCE = sa.select(releases).where(releases.c.source == sa.bindparam("source"))
_BY_KEY = _SAME_SOURCE.where(releases.c.key == sa.bindparam("key"))
_BY_LINK = _SAME_SOURCE.where(releases.c.url_norm == sa.bindparam("url_norm")).limit(1)
_BY_HASH = _SAME_SOURCE.where(releases.c.content_hash == sa.bindparam("content_hash")).limit(1)
_INSERT = releases.insert()


def find(conn: Connection, release: Release) -> sa.Row[Any] | None:
    """The stored release this one is (an update of): same key, else same link, else same hash."""
    source = release.source
    row = conn.execute(_BY_KEY, {"source": source, "key": store_key(release.key)}).first()
    if row is None and release.url:
        row = conn.execute(_BY_LINK, {"source": source,
                                      "url_norm": normalise_url(release.url)}).first()
    if row is None:
        row = conn.execute(_BY_HASH, {"source": source,
                                      "content_hash": release.content_hash()}).first()
    return row


class Known:
    """What the store already holds of a batch's releases, looked up in three queries.

    `find` answers exactly as the one-by-one lookup would, including releases added to
    the batch's own source after the look-up (call `add`): a feed of 700 items costs three
    round trips, not 2,100.
    """

    def __init__(self, conn: Connection, source: str, batch: list[Release]) -> None:
        self.by_key: dict[str, sa.Row[Any]] = {}
        self.by_url: dict[str, sa.Row[Any]] = {}
        self.by_hash: dict[str, sa.Row[Any]] = {}
        keys = [store_key(r.key) for r in batch]
        urls = [normalise_url(r.url) for r in batch if r.url]
        hashes = [r.content_hash() for r in batch]
        for column, wanted, into in ((releases.c.key, keys, self.by_key),
                                     (releases.c.url_norm, urls, self.by_url),
                                     (releases.c.content_hash, hashes, self.by_hash)):
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                query = (sa.select(releases).where(releases.c.source == source,
                                                   column.in_(chunk))
                         .order_by(releases.c.id))
                for row in conn.execute(query):
                    into.setdefault(getattr(row, column.name), row)

    def find(self, release: Release) -> sa.Row[Any] | None:
        row = self.by_key.get(store_key(release.key))
        if row is None and release.url:
            row = self.by_url.get(normalise_url(release.url))
        if row is None:
            row = self.by_hash.get(release.content_hash())
        return row

    def add(self, release_id: int, release: Release) -> None:
        values = _values(release)
        row = _Added(id=release_id, **values)
        self.by_key.setdefault(values["key"], row)  # type: ignore[arg-type]
        if values["url_norm"]:
            self.by_url.setdefault(values["url_norm"], row)  # type: ignore[arg-type]
        self.by_hash.setdefault(values["content_hash"], row)  # type: ignore[arg-type]


class _Added:
    """A just-inserted release, shaped like a row for `Known.find`'s callers."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def _values(release: Release, content_hash: str | None = None) -> dict[str, Any]:
    """A row's values; `content_hash` is the hash of the release as its source gave it, when
    what is stored differs (learned boilerplate moved to the notes): a poll compares what the
    source says now with what it said, not with what pressbot made of it."""
    return {
        "source": release.source,
        "key": store_key(release.key),
        "url": release.url,
        "url_norm": normalise_url(release.url)[:KEY_MAX] if release.url else None,
        "title": release.title,
        "published_at": release.published_at,
        "published_day": release.published_day,
        "summary": release.summary,
        "body": release.body,
        "body_html": release.body_html,
        "images": [i.model_dump() for i in release.images],
        "tags": release.tags,
        "language": release.language,
        "embargo_at": release.embargo_at,
        "channels": release.channels,
        "overrides": release.overrides,
        "links": release.links,
        "notes": release.notes,
        "url_derived": release.url_derived,
        "content_hash": content_hash or release.content_hash(),
    }


def insert(conn: Connection, release: Release) -> int:
    now = clock.now()
    result = conn.execute(_INSERT, {**_values(release), "first_seen_at": now, "updated_at": now})
    return int(result.inserted_primary_key[0])  # type: ignore[index]


_INSERT_MANY = releases.insert().returning(releases.c.id, sort_by_parameter_order=True)


def insert_many(conn: Connection, batch: list[Release],
                hashes: list[str] | None = None) -> list[int]:
    """Insert releases in one statement; their ids in the batch's order. `hashes`: each
    release's hash as its source gave it (see `_values`)."""
    if not batch:
        return []
    now = clock.now()
    rows = [{**_values(r, h), "first_seen_at": now, "updated_at": now}
            for r, h in zip(batch, hashes or [r.content_hash() for r in batch], strict=True)]
    return [int(i) for i in conn.execute(_INSERT_MANY, rows).scalars()]


def update(conn: Connection, release_id: int, release: Release,
           content_hash: str | None = None) -> None:
    values = _values(release, content_hash)
    values.pop("key")  # the identity stays the one first seen
    conn.execute(
        releases.update().where(releases.c.id == release_id).values(**values,
                                                                   updated_at=clock.now())
    )


def get(conn: Connection, release_id: int) -> Release | None:
    row = conn.execute(sa.select(releases).where(releases.c.id == release_id)).first()
    return to_model(row) if row else None


def to_model(row: sa.Row[Any]) -> Release:
    m = row._mapping
    return Release(
        source=m["source"], key=m["key"], url=m["url"], title=m["title"],
        published_at=m["published_at"], published_day=m["published_day"],
        summary=m["summary"], body=m["body"],
        body_html=m["body_html"],
        images=[Image(**i) for i in m["images"] or []], tags=m["tags"] or [],
        language=m["language"], embargo_at=m["embargo_at"], channels=m["channels"],
        overrides=m["overrides"] or {}, links=m["links"] or [], notes=m["notes"] or "",
        url_derived=bool(m["url_derived"]),
    )


def count(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(releases)).scalar_one())
