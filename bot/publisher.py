"""The publisher: claim due posts, call their channels, record what happened — durably.

Exactly once, by construction:
1. A claim (status → publishing, with a lease) is committed *before* any network call.
2. The outcome (published + receipt, failed + next attempt, held + reason) is committed
   right after it.
3. Anything that leaves the outcome unknown — a timeout after the request was sent, a
   dropped connection, a crash, an expired lease — marks the post *uncertain*, and an
   uncertain post is looked up on the platform (`Channel.lookup`) before any new attempt.

One post per channel is in flight at a time, so an account's timeline keeps the queue's
order; different channels publish side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.engine import Connection

from bot import clock, metrics
from bot.config import Config
from bot.models import Post, PostStatus, Receipt
from bot.store import Store
from bot.store import posts as post_store
from channels.base import Ambiguous, Channel, Permanent, Transient

log = logging.getLogger("pressbot.publish")
S = PostStatus
_CLAIM_LOCK = 0x70726573  # pg advisory lock id: serialises the (tiny) claim step of replicas


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class PassReport:
    published: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    reconciled: list[int] = field(default_factory=list)


def backoff(attempt: int, base: timedelta, cap: timedelta,
            retry_after: float | None = None) -> timedelta:
    """Exponential backoff with jitter; a platform's own Retry-After wins when longer."""
    if retry_after is not None:
        return timedelta(seconds=retry_after + random.uniform(0, 0.1 * retry_after + 0.05))
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2 ** max(0, attempt - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


class Publisher:
    """Publishes due posts through the given channels, one pass at a time."""

    def __init__(self, config: Config, store: Store, channels: dict[str, Channel],
                 *, worker: str | None = None) -> None:
        self.config = config
        self.store = store
        self.channels = channels
        self.worker = worker or worker_id()
        self.lease = config.bot.lease
        self.stopping = False
        self.in_flight: set[int] = set()
        self._handoff: dict[str, list[tuple[Post, bool]]] = {}
        """A channel's next post, claimed in the same transaction that recorded the last."""

    def claim(self, channel: str | None = None) -> list[tuple[Post, bool]]:
        """Claim the head post of every channel (or one) that may publish now."""
        if channel is not None and channel not in self.channels:
            return []
        with self.store.begin_immediate() as conn:
            return self._claim_in(conn, channel)

    def _claim_in(self, conn: Connection, channel: str | None) -> list[tuple[Post, bool]]:
        if not self.store.is_sqlite:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_CLAIM_LOCK})")
        heads = post_store.due_heads(conn, clock.now(), channel)
        return [(post_store.claim(conn, post_id, worker=self.worker, lease=self.lease,
                                  uncertain=uncertain), uncertain)
                for post_id, uncertain in heads]

    async def run_once(self, limit: int = 1000) -> PassReport:
        """Publish everything due: one lane per channel, side by side, each in queue order.

        A lane claims its channel's next post as soon as the previous one is recorded, so
        a backlog drains at the platform's pace, not at the scheduler's interval.
        """
        report = PassReport()
        if self.stopping:
            return report
        claimed = await asyncio.to_thread(self.claim)

        async def lane(post: Post, uncertain: bool) -> None:
            for _ in range(limit):
                if not await self._publish(post, uncertain, report) or self.stopping:
                    return
                following = self._handoff.pop(post.channel, None)
                if following is None:
                    following = await asyncio.to_thread(self.claim, post.channel)
                if not following:
                    return
                post, uncertain = following[0]

        await asyncio.gather(*(lane(post, uncertain) for post, uncertain in claimed))
        return report

    async def _publish(self, post: Post, uncertain: bool, report: PassReport) -> bool:
        """Publish one claimed post and record the outcome; True when it went out."""
        channel = self.channels.get(post.channel)
        if channel is None:
            await self._record(post, S.HELD, report.held, action="hold",
                               last_error=f"channel {post.channel!r} is not configured: add it "
                                          "back to the config, or reject the post")
            return False
        self.in_flight.add(post.id)
        renewer = asyncio.create_task(self._renew(post.id))
        started = time.monotonic()
        try:
            receipt: Receipt | None = None
            if uncertain:
                receipt = await channel.lookup(post)
                if receipt is not None:
                    await self._published(post, receipt, report, reconciled=True)
                    return True
            receipt = await channel.publish(post)
        except Transient as exc:
            await self._retry(post, str(exc), exc.retry_after, report, uncertain=uncertain,
                              counts=not (exc.progressed or exc.throttled))
        except Ambiguous as exc:
            await self._retry(post, str(exc), None, report, uncertain=True)
        except Permanent as exc:
            await self._record(post, S.HELD, report.held, action="hold", last_error=str(exc),
                               uncertain=uncertain, claim_next=True)
            return True  # a held post leaves the line: the channel goes on
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._retry(post, "interrupted by shutdown", 0, report,
                                                 uncertain=True))
            raise
        except Exception as exc:  # an adapter bug must not lose the post: treat as unknown
            log.exception("post=%d channel=%s unexpected error", post.id, post.channel)
            await self._retry(post, f"unexpected error: {type(exc).__name__}: {exc}", None,
                              report, uncertain=True)
        else:
            metrics.publish_seconds.labels(post.channel).observe(time.monotonic() - started)
            await self._published(post, receipt, report)
            return True
        finally:
            renewer.cancel()
            self.in_flight.discard(post.id)
        return False

    async def _renew(self, post_id: int) -> None:
        interval = max(0.5, self.lease.total_seconds() / 3)
        while True:
            await asyncio.sleep(interval)
            with self.store.begin() as conn:
                post_store.renew(conn, post_id, self.worker, self.lease)

    async def _published(self, post: Post, receipt: Receipt, report: PassReport,
                         reconciled: bool = False) -> None:
        await self._record(post, S.PUBLISHED, report.published,
                           action="reconciled" if reconciled else "published",
                           detail={"remote_id": receipt.remote_id, "url": receipt.remote_url},
                           remote_id=receipt.remote_id, remote_url=receipt.remote_url,
                           last_error=None, uncertain=False, lease_until=None,
                           claim_next=True)
        if reconciled:
            report.reconciled.append(post.id)
        log.info("post=%d channel=%s published remote_id=%s%s", post.id, post.channel,
                 receipt.remote_id, " (found by reconcile)" if reconciled else "")

    async def _retry(self, post: Post, error: str, retry_after: float | None,
                     report: PassReport, *, uncertain: bool, counts: bool = True) -> None:
        attempts = post.attempts + 1 if counts else post.attempts
        cfg = self.config.channels.get(post.channel)
        limit = (cfg.max_attempts if cfg and cfg.max_attempts else None) or \
            self.config.bot.max_attempts
        if attempts >= limit:
            await self._record(post, S.HELD, report.held, action="hold", attempts=attempts,
                               last_error=f"gave up after {attempts} attempts: {error}",
                               uncertain=uncertain)
            return
        delay = backoff(max(1, attempts), self.config.bot.retry_base,
                        self.config.bot.retry_max, retry_after)
        if counts:
            log.warning("post=%d channel=%s attempt=%d failed, retry in %.1fs: %s", post.id,
                        post.channel, attempts, delay.total_seconds(), error)
        else:
            log.info("post=%d channel=%s waiting %.1fs (not a failure): %s", post.id,
                     post.channel, delay.total_seconds(), error)
        await self._record(post, S.FAILED, report.failed, action="retry", attempts=attempts,
                           last_error=error, next_attempt_at=clock.now() + delay,
                           uncertain=uncertain, detail={"retry_in": delay.total_seconds()})

    async def _record(self, post: Post, to: PostStatus, bucket: list[int], *, action: str,
                      detail: dict[str, object] | None = None, claim_next: bool = False,
                      **fields: object) -> None:
        """Commit the outcome; with `claim_next`, claim the channel's next post in the same
        transaction (one commit and one thread hop per post instead of two)."""
        def write() -> list[tuple[Post, bool]] | None:
            # the write lock up front: a deferred transaction that read the post first cannot
            # upgrade once another lane's claim committed (SQLite: "database is locked")
            with self.store.begin_immediate() as conn:
                post_store.change(conn, post.id, allowed_from=[S.PUBLISHING], to=to,
                                  actor="system", action=action, returning=False,
                                  detail={**(detail or {}), "worker": self.worker,
                                          **({"error": fields["last_error"]}
                                             if fields.get("last_error") else {})},
                                  **fields)
                if claim_next and not self.stopping and post.channel in self.channels:
                    return self._claim_in(conn, post.channel)
            return None

        following = await asyncio.to_thread(write)
        if following is not None:
            self._handoff[post.channel] = following
        bucket.append(post.id)
        metrics.publish_outcomes.labels(post.channel, str(to)).inc()
        if to == S.FAILED:
            metrics.retries.labels(post.channel).inc()
