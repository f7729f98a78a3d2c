"""The publisher: claim due posts, call their channels, record what happened — durably.

Exactly once, by construction:
1. A claim (status → publishing, with a lease) is committed *before* any network call.
2. The outcome (published + receipt, failed + next attempt, held + reason) is committed
   right after it.
3. Anything that leaves the outcome unknown — a timeout after the request was sent, a
   dropped connection, a crash, an expired lease — marks the post *uncertain*, and an
   uncertain post is looked up on the platform (`Channel.lookup`) before any new attempt.
4. Every claim carries a fencing token (`posts.claim_token`). A worker paused past its
   lease while another took the post over finds, at its next check — before each request
   that creates something (`bot.fence`), in each outcome it writes, at each renewal —
   that its token is stale, and stops: it sends nothing more and records nothing.

One post per channel is in flight at a time, so an account's timeline keeps the queue's
order; different channels publish side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot import clock, metrics
from bot.config import Config
from bot.errors import LostClaim
from bot.fence import fenced
from bot.models import Post, PostStatus, Receipt
from bot.store import Store
from bot.store import channels as channel_store
from bot.store import posts as post_store
from bot.workers import worker_gone, worker_id
from channels.base import Ambiguous, AuthFailed, Channel, Permanent, Transient

log = logging.getLogger("pressbot.publish")
S = PostStatus
_CLAIM_LOCK = 0x70726573  # pg advisory lock id: serialises the (tiny) claim step of replicas
NEVER = datetime.max.replace(tzinfo=UTC)
"""`Publisher.quiet_until` when nothing can become due by the clock alone."""


@dataclass
class PassReport:
    published: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    reconciled: list[int] = field(default_factory=list)
    paused: dict[str, str] = field(default_factory=dict)
    """Channels this pass paused, with the reason and fix."""


def backoff(attempt: int, base: timedelta, cap: timedelta,
            retry_after: float | None = None) -> timedelta:
    """Exponential backoff with jitter; a platform's own Retry-After wins when longer."""
    if retry_after is not None:
        return timedelta(seconds=retry_after + random.uniform(0, 0.1 * retry_after + 0.05))
    ceiling = min(cap.total_seconds(), base.total_seconds() * 2 ** max(0, attempt - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


class _Claim:
    """This worker's claim on one post: the fence its channel checks before each send."""

    def __init__(self, store: Store, post: Post) -> None:
        self.store = store
        self.post = post
        self.lost = False
        """Set by a failed renewal: no need to ask the database again."""

    def _holds(self) -> bool:
        with self.store.begin() as conn:
            return post_store.holds(conn, self.post.id, self.post.claim_token)

    async def check(self) -> None:
        if not self.lost and await asyncio.to_thread(self._holds):
            return
        self.lost = True
        raise LostClaim(f"post {self.post.id}: another worker took it over after this "
                        f"worker's lease ran out (claim {self.post.claim_token} is stale); "
                        "not sending")


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
        self._upcoming: dict[str, Post] = {}
        """The post likely to follow a channel's claimed one (read in the claim's
        transaction), for channels that `prepare` posts ahead (upload their images)."""
        self._preparing: set[asyncio.Task[None]] = set()
        self._outages: set[str] = set()
        """Channels whose state showed an outage at the last claim (read in its transaction)."""
        self._paused: set[str] = set()
        """Channels (and `*`) paused at the last claim; one no longer paused was resumed."""
        self._resumed: set[str] = set()
        self.on_resume: Callable[[set[str]], Awaitable[object]] | None = None
        """Called with the channels resumed since the last pass (`*`: every channel),
        before any of their posts is sent: the service re-reads their credentials."""
        self.quiet_until: datetime | None = None
        """Set by a claim of every channel that found nothing to claim: no post can be due
        before then unless the store changes (`NEVER`: not before it changes). None after
        a claim that found work, or any other."""

    def claim(self, channel: str | None = None) -> list[tuple[Post, bool]]:
        """Claim the head post of every channel (or one) that may publish now."""
        if channel is not None and channel not in self.channels:
            return []
        with self.store.begin_immediate() as conn:
            return self._claim_in(conn, channel)

    def _claim_in(self, conn: Connection, channel: str | None) -> list[tuple[Post, bool]]:
        if not self.store.is_sqlite:
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_CLAIM_LOCK})")
        self.quiet_until = None
        now = clock.now()
        states = channel_store.states(conn)
        # channels with an outage on record: their next success clears it
        self._outages = {name for name, state in states.items() if state.outages}
        paused = {name for name, state in states.items() if state.paused}
        self._resumed |= self._paused - paused
        self._paused = paused
        if channel_store.ALL in states and states[channel_store.ALL].paused:
            if channel is None:
                self.quiet_until = NEVER
            return []
        waiting = {name for name, state in states.items() if state.waiting(now)}
        if channel is None and self.config.bot.stale_after:
            self._hold_stale(conn, now, waiting)
        later: list[datetime] = []
        heads = post_store.due_heads(conn, now, channel, waiting=waiting, gone=worker_gone,
                                     later=later)
        if channel is None and not heads:
            # an outage's backoff ends by the clock; a pause only by a commit
            later += [state.outage_until for state in states.values()
                      if not state.paused and state.outage_until and state.outage_until > now]
            self.quiet_until = min(later, default=NEVER)
        claimed = [(post, uncertain) for post_id, uncertain in heads
                   if (post := post_store.claim(conn, post_id, worker=self.worker,
                                                lease=self.lease, uncertain=uncertain))]
        for post, _ in claimed:
            if hasattr(self.channels.get(post.channel), "prepare") and \
                    (upcoming := post_store.peek(conn, post.channel, now)):
                self._upcoming[post.channel] = upcoming
        return claimed

    def _hold_stale(self, conn: Connection, now: datetime, waiting: set[str]) -> None:
        """Approved posts whose slot passed long ago (the bot was down) wait for a person
        instead of going out late in a burst."""
        assert self.config.bot.stale_after
        age = self.config.bot.stale_after
        for post_id, channel, slot in post_store.stale(conn, now - age, exclude=waiting):
            late = _ago(now - slot)
            post_store.change(conn, post_id, allowed_from=[S.APPROVED], to=S.HELD,
                              actor="system", action="hold", returning=False,
                              detail={"reason": "stale", "slot": slot.isoformat()},
                              last_error=f"its slot passed {late} ago (more than "
                                         f"bot.stale_after = {_ago(age)}): approve it again "
                                         "to give it a new slot, or reject it")
            log.warning("post=%d channel=%s held: stale, slot passed %s ago", post_id,
                        channel, late)
            metrics.holds.labels(channel, "stale").inc()

    async def run_once(self, limit: int = 1000) -> PassReport:
        """Publish everything due: one lane per channel, side by side, each in queue order.

        A lane claims its channel's next post as soon as the previous one is recorded, so
        a backlog drains at the platform's pace, not at the scheduler's interval.
        """
        report = PassReport()
        if self.stopping:
            return report
        claimed = await asyncio.to_thread(self.claim)
        if self._resumed and self.on_resume is not None:
            resumed, self._resumed = self._resumed, set()
            await self.on_resume(resumed)

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
        # a head start still running is finished, not cut off mid-upload
        await asyncio.gather(*self._preparing, return_exceptions=True)
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
        claim = _Claim(self.store, post)
        renewer = asyncio.create_task(self._renew(claim))
        self._prepare_upcoming(channel, post)
        try:
            with fenced(claim.check):
                return await self._attempt(channel, post, uncertain, report)
        except LostClaim as exc:
            # the post is another worker's now: what this one would write is stale
            log.warning("post=%d channel=%s stopped: %s", post.id, post.channel, exc)
            metrics.lost_claims.labels(post.channel).inc()
            return False
        finally:
            renewer.cancel()
            self.in_flight.discard(post.id)

    async def _attempt(self, channel: Channel, post: Post, uncertain: bool,
                       report: PassReport) -> bool:
        started = time.monotonic()
        try:
            receipt: Receipt | None = None
            if uncertain:
                receipt = await channel.lookup(post)
                if receipt is not None:
                    await self._published(post, receipt, report, reconciled=True)
                    return True
            receipt = await channel.publish(post)  # it checks the fence before it sends
        except LostClaim:
            raise
        except AuthFailed as exc:
            report.paused[post.channel] = str(exc)
            await self._pause(post, exc, uncertain=uncertain)
        except Transient as exc:
            if exc.outage:  # also after some progress: a newsletter half sent, SMTP down
                await self._outage(post, exc, report, uncertain=uncertain)
            else:
                await self._retry(post, str(exc), exc.retry_after, report,
                                  uncertain=uncertain,
                                  counts=not (exc.progressed or exc.throttled),
                                  answered=exc.progressed or exc.throttled)
        except Ambiguous as exc:
            await self._retry(post, str(exc), None, report, uncertain=True)
        except Permanent as exc:
            log.warning("post=%d channel=%s held: %s", post.id, post.channel, exc)
            metrics.holds.labels(post.channel, "refused").inc()
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
        return False

    def _prepare_upcoming(self, channel: Channel, post: Post) -> None:
        """While `post` goes out, let the channel get the next one ready (upload its images
        on a second connection), so uploads leave the one-at-a-time status line.

        Only a head start: nothing is claimed or recorded, the next `publish` waits for it
        and redoes what failed, and a post that turns out not to come next costs at most an
        unattached upload, which the platform expires.
        """
        upcoming = self._upcoming.pop(post.channel, None)
        prepare = getattr(channel, "prepare", None)
        if upcoming is None or prepare is None or upcoming.id == post.id or self.stopping:
            return
        async def ahead() -> None:
            try:
                await prepare(upcoming)
            except Exception as exc:  # the post's own turn redoes it, and reports it
                log.info("post=%d channel=%s not prepared ahead: %s", upcoming.id,
                         upcoming.channel, exc)

        task = asyncio.create_task(ahead())
        self._preparing.add(task)
        task.add_done_callback(self._preparing.discard)

    async def _renew(self, claim: _Claim) -> None:
        """Keep the lease while the post is in flight; a renewal that finds the claim gone
        (this worker was paused past its lease) marks it lost, so the next fence check
        stops the send without asking the database."""
        post = claim.post
        interval = max(0.5, self.lease.total_seconds() / 3)

        def renew() -> bool:
            with self.store.begin() as conn:
                return post_store.renew(conn, post.id, self.worker, self.lease,
                                        post.claim_token)

        while True:
            await asyncio.sleep(interval)
            try:
                held = await asyncio.to_thread(renew)
            except sa.exc.SQLAlchemyError as exc:  # the fence still guards every send
                log.warning("post=%d channel=%s lease not renewed: %s", post.id, post.channel,
                            exc)
                continue
            if not held:
                claim.lost = True
                log.warning("post=%d channel=%s lease lost to another worker: stopping",
                            post.id, post.channel)
                return

    async def _pause(self, post: Post, exc: AuthFailed, *, uncertain: bool) -> None:
        """The account, not the post, failed: pause the channel, give the post back."""
        def write() -> bool:
            with self.store.begin_immediate() as conn:
                post_store.change(conn, post.id, allowed_from=[S.PUBLISHING], to=S.APPROVED,
                                  actor="system", action="wait", returning=False,
                                  fence=post.claim_token,
                                  detail={"reason": "channel paused", "worker": self.worker},
                                  uncertain=uncertain, lease_until=None,
                                  last_error=f"channel paused: {exc}")
                return channel_store.pause(conn, post.channel, by=channel_store.PRESSBOT,
                                           reason=exc.reason, hint=exc.hint)

        if not await asyncio.to_thread(write):
            return
        # known paused now, not only at the next claim: a `check` that resumes it before
        # then must still count as a resume, so the credentials are re-read
        self._paused.add(post.channel)
        metrics.pauses.labels(post.channel).inc()
        log.error("channel=%s paused: %s — fix: %s; then `pressbot check` or `pressbot resume "
                  "%s`", post.channel, exc.reason, exc.hint or "see the error", post.channel)
        from bot.notify import notify_channel_paused  # the mail stack only when needed

        try:
            await notify_channel_paused(self.config, self.store, post.channel, exc.reason,
                                        exc.hint)
        except Exception as error:  # a notice that cannot go out must not stop publishing
            log.warning("channel=%s could not notify reviewers of the pause: %s",
                        post.channel, error)

    async def _outage(self, post: Post, exc: Transient, report: PassReport, *,
                      uncertain: bool) -> None:
        """The platform is unreachable: the channel backs off; the post keeps its attempts."""
        def write() -> timedelta:
            with self.store.begin_immediate() as conn:
                state = channel_store.states(conn).get(post.channel)
                delay = backoff((state.outages if state else 0) + 1, self.config.bot.retry_base,
                                self.config.bot.retry_max, exc.retry_after)
                until = clock.now() + delay
                channel_store.outage(conn, post.channel, until=until, error=str(exc))
                post_store.change(conn, post.id, allowed_from=[S.PUBLISHING], to=S.FAILED,
                                  actor="system", action="retry", returning=False,
                                  fence=post.claim_token,
                                  detail={"retry_in": delay.total_seconds(), "outage": True,
                                          "error": str(exc), "worker": self.worker},
                                  last_error=str(exc), next_attempt_at=until,
                                  uncertain=uncertain)
                return delay

        delay = await asyncio.to_thread(write)
        report.failed.append(post.id)
        metrics.outages.labels(post.channel).inc()
        log.warning("channel=%s unreachable, waiting %.0fs (post=%d keeps its attempts): %s",
                    post.channel, delay.total_seconds(), post.id, exc)

    async def _published(self, post: Post, receipt: Receipt, report: PassReport,
                         reconciled: bool = False) -> None:
        await self._record(post, S.PUBLISHED, report.published,
                           action="reconciled" if reconciled else "published",
                           detail={"remote_id": receipt.remote_id, "url": receipt.remote_url,
                                   **({"matched": receipt.matched} if receipt.matched else {})},
                           remote_id=receipt.remote_id, remote_url=receipt.remote_url,
                           last_error=None, uncertain=False, lease_until=None,
                           claim_next=True)
        if reconciled:
            report.reconciled.append(post.id)
            metrics.reconciles.labels(post.channel).inc()
        log.info("post=%d channel=%s published remote_id=%s%s", post.id, post.channel,
                 receipt.remote_id, " (found by reconcile)" if reconciled else "")

    async def _retry(self, post: Post, error: str, retry_after: float | None,
                     report: PassReport, *, uncertain: bool, counts: bool = True,
                     answered: bool = False) -> None:
        """Try again later; `answered`: the platform did answer (mailed some, or set a rate
        limit), which ends an outage on record as a published post does."""
        attempts = post.attempts + 1 if counts else post.attempts
        cfg = self.config.channels.get(post.channel)
        limit = (cfg.max_attempts if cfg and cfg.max_attempts else None) or \
            self.config.bot.max_attempts
        if attempts >= limit:
            log.warning("post=%d channel=%s held: gave up after %d attempts: %s", post.id,
                        post.channel, attempts, error)
            metrics.holds.labels(post.channel, "attempts").inc()
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
                           uncertain=uncertain, detail={"retry_in": delay.total_seconds()},
                           answered=answered)

    async def _record(self, post: Post, to: PostStatus, bucket: list[int], *, action: str,
                      detail: dict[str, object] | None = None, claim_next: bool = False,
                      answered: bool = False, **fields: object) -> None:
        """Commit the outcome; with `claim_next`, claim the channel's next post in the same
        transaction (one commit and one thread hop per post instead of two)."""
        def write() -> list[tuple[Post, bool]] | None:
            # the write lock up front: a deferred transaction that read the post first cannot
            # upgrade once another lane's claim committed (SQLite: "database is locked")
            with self.store.begin_immediate() as conn:
                post_store.change(conn, post.id, allowed_from=[S.PUBLISHING], to=to,
                                  actor="system", action=action, returning=False,
                                  fence=post.claim_token,
                                  detail={**(detail or {}), "worker": self.worker,
                                          **({"error": fields["last_error"]}
                                             if fields.get("last_error") else {})},
                                  **fields)
                if (to == S.PUBLISHED or answered) and post.channel in self._outages:
                    channel_store.recovered(conn, post.channel)
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


def _ago(delta: timedelta) -> str:
    hours, rest = divmod(int(delta.total_seconds()), 3600)
    return f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min"
