"""A post as the ordered writes that make it, and the ledger that keeps each one durable.

A Bluesky post can take several records: the text's parts as a thread of replies (`thread =
true`), a threadgate on the first part (who may reply: `replies`), a postgate on each part
(no quoting: `quotes = false`). Every write has a key derived from the post
(`rkey.part_key`; a gate takes the key of the post it gates, as the lexicons require) and
is a `putRecord` with `swapRecord: null`, so a repeat cannot make a second record. The writes
go out strictly in `steps` order, one after another; so the last one being on the PDS means
every one is, and that is what `lookup` asks.

A reply names its root and parent by uri *and* cid, and a cid is only known once its record
is written; the ledger (store `meta`, key `bluesky-thread:CHANNEL:POST_UID`) therefore keeps
the plan — the parts as first cut, each write's `createdAt` — before the first write (so
each record is known whole before its call), and each written record's uri and cid after
its call. A process that died between two writes resumes
where the ledger says; one that died during a write sends the same record to the same key
again, and the PDS's `InvalidSwap` answer says it is there already (its cid is then read
with `getRecord`). Without a store the ledger lives only as long as the `publish` call; the
keys alone still keep every write to once.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot import clock

if TYPE_CHECKING:
    from bot.store import Store

POST = "app.bsky.feed.post"
THREADGATE = "app.bsky.feed.threadgate"
POSTGATE = "app.bsky.feed.postgate"
KEEP = timedelta(days=7)
"""How long the ledger of a post that never finished is kept (one that finishes is dropped)."""
RULES = {"mentioned": "mentionRule", "following": "followingRule", "followers": "followerRule"}


@dataclass(frozen=True)
class Step:
    """One write: a record of `collection` for part `part` of the post."""

    collection: str
    part: int

    @property
    def name(self) -> str:
        return f"{self.collection}/{self.part}"


def steps(parts: int, *, threadgate: bool, postgate: bool) -> list[Step]:
    """The writes of a post of `parts` parts, in the order they go out: each part, its gates
    right after it (the threadgate on the first part, before any reply can come in)."""
    out: list[Step] = []
    for index in range(parts):
        out.append(Step(POST, index))
        if index == 0 and threadgate:
            out.append(Step(THREADGATE, 0))
        if postgate:
            out.append(Step(POSTGATE, index))
    return out


def threadgate_record(post_uri: str, replies: str | Sequence[str], created: str) -> dict[str, Any]:
    """Who may reply to the thread rooted at `post_uri`: an empty `allow` means nobody."""
    allow = [] if isinstance(replies, str) else [
        {"$type": f"{THREADGATE}#{RULES[rule]}"} for rule in dict.fromkeys(replies)]
    return {"$type": THREADGATE, "post": post_uri, "allow": allow, "createdAt": created}


def postgate_record(post_uri: str, created: str) -> dict[str, Any]:
    """Nobody may quote (embed) `post_uri`."""
    return {"$type": POSTGATE, "post": post_uri, "createdAt": created,
            "embeddingRules": [{"$type": f"{POSTGATE}#disableRule"}]}


def now_iso() -> str:
    return _iso(clock.now())


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Ledger:
    """The post's plan and what of it is written; each change is one committed transaction."""

    def __init__(self, store: Store | None, key: str, data: dict[str, Any]) -> None:
        self._store = store
        self._key = key
        self.data = data

    @classmethod
    async def open(cls, store: Store | None, channel: str, uid: str, text: str,
                   cut: list[str]) -> Ledger:
        """The ledger of this post: the one kept for its text, else a new plan of `cut`
        (kept by `schedule`; a lookup only reads)."""
        key = f"bluesky-thread:{channel}:{uid}"
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        kept = await asyncio.to_thread(_read, store, key)
        if isinstance(kept, dict) and kept.get("text") == digest and \
                isinstance(kept.get("parts"), list) and isinstance(kept.get("steps"), dict):
            return cls(store, key, kept)
        # No ledger, or one for an earlier text (edited after a failure): parts already
        # out are found again at their keys; the rest follow the new cut.
        return cls(store, key, {"at": clock.now().isoformat(), "text": digest,
                                "parts": cut, "steps": {}})

    async def schedule(self, plan: list[Step]) -> None:
        """Give every write of `plan` its `createdAt` and keep the plan, in one commit before
        anything is sent: each record is then known whole (its refs come from the writes
        before it) before its own call. Parts are a millisecond apart, in thread order."""
        base = clock.now()
        changed = not self.data["steps"]
        for index, step in enumerate(plan):
            entry = self.data["steps"].setdefault(step.name, {})
            if not isinstance(entry.get("createdAt"), str):
                entry["createdAt"] = _iso(base + timedelta(milliseconds=index))
                changed = True
        if changed and self._store is not None:
            await asyncio.to_thread(_write, self._store, self._key, self.data, sweep=True)

    @property
    def parts(self) -> list[str]:
        return [str(part) for part in self.data["parts"]]

    def written(self, step: Step) -> dict[str, str] | None:
        """`{"uri", "cid"}` of a write known to be done."""
        entry = self.data["steps"].get(step.name) or {}
        if isinstance(entry.get("uri"), str) and isinstance(entry.get("cid"), str):
            return {"uri": entry["uri"], "cid": entry["cid"]}
        return None

    async def sending(self, step: Step) -> str:
        """`step`'s `createdAt`, kept before it is sent (by `schedule`, else now): on a
        repeat the same record goes to the same key."""
        entry = self.data["steps"].setdefault(step.name, {})
        if not isinstance(entry.get("createdAt"), str):
            entry["createdAt"] = now_iso()
            await self._save()
        return str(entry["createdAt"])

    async def wrote(self, step: Step, ref: dict[str, str]) -> None:
        self.data["steps"].setdefault(step.name, {}).update(ref)
        await self._save()

    async def drop(self) -> None:
        """The post is out: nothing to resume."""
        if self._store is not None:
            await asyncio.to_thread(_write, self._store, self._key, None)

    async def _save(self) -> None:
        if self._store is not None:
            await asyncio.to_thread(_write, self._store, self._key, self.data)


def _read(store: Store | None, key: str) -> Any:
    if store is None:
        return None
    from bot.store import meta

    with store.begin() as conn:
        return meta.get(conn, key)


def _write(store: Store | None, key: str, value: dict[str, Any] | None, *,
           sweep: bool = False) -> None:
    if store is None:
        return
    from bot.store import meta

    with store.begin() as conn:
        if value is None:
            meta.delete(conn, key)
        else:
            meta.put(conn, key, value)
        if sweep:  # ledgers of posts that never finished (rejected after a failure)
            prefix = key.rpartition(":")[0] + ":"
            cutoff = (clock.now() - KEEP).isoformat()
            for uid, data in meta.with_prefix(conn, prefix).items():
                if not isinstance(data, dict) or str(data.get("at", "")) < cutoff:
                    meta.delete(conn, prefix + uid)
