"""`fetch`: read every source, store each new release once, queue its posts.

Sources are read side by side (bounded globally and per host, so one slow server
cannot stall the rest); each source's releases are then written in one transaction
of their own, so a broken source never touches what others, or earlier runs, stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.engine import Connection

from bot import clock
from bot.config import Config, FeedSourceConfig, FolderSourceConfig, SourceConfig
from bot.errors import PressbotError, SourceError
from bot.features import takes_pushes
from bot.models import Release
from bot.sources.http import Progress
from bot.sources.lanes import Lanes
from bot.store import Store, meta, posts, releases
from bot.store import sources as source_store
from bot.store.faults import cannot_write, unreachable

log = logging.getLogger("pressbot.fetch")


@dataclass
class SourceReport:
    """What one poll of one source did; printed by `fetch` and kept for /healthz."""

    name: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    not_retried: int = 0
    """Files that failed on an earlier poll and have not changed since (not read again;
    the source's state keeps their errors)."""
    queued: int = 0
    not_modified: bool = False
    fatal: bool = False
    """The source could not be read at all (as opposed to some of its files)."""
    errors: list[str] = field(default_factory=list)
    state: source_store.SourceState | None = field(default=None, repr=False)
    """The source's state as this poll left it, saved (None when the poll raised)."""

    @property
    def ok(self) -> bool:
        return not self.errors


def backlog_keep(policy: str, items: list[Release]) -> set[str]:
    """Keys of the releases to queue on first sight of a source; the rest are only stored."""
    now = clock.now()
    upcoming = {r.key for r in items if r.embargo_at and r.embargo_at > now}
    if policy == "all":
        return {r.key for r in items}
    if policy.startswith("latest:"):
        n = int(policy.split(":", 1)[1])
        oldest = datetime.min.replace(tzinfo=UTC)
        ranked = sorted(items, key=lambda r: r.published_at or oldest, reverse=True)
        return {r.key for r in ranked[:n]} | upcoming
    return upcoming


def store_releases(store: Store, config: Config, name: str, found: list[Release],
                   report: SourceReport) -> None:
    """Insert new releases, update changed ones, queue posts; one transaction per source.

    Rendering (Jinja2, the text fitter, 2 MB) is loaded only for a release that gets posts
    or changed: a first poll whose backlog is skipped leaves the service without it.
    """
    cfg = config.sources[name]
    with store.begin_immediate() as conn:
        state = source_store.get(conn, name)
        learned = meta.learned_limits(conn)
        keep = None if state.initialised else backlog_keep(cfg.backlog, found)
        known = releases.Known(conn, name, found)
        fresh: list[Release] = []
        changed: list[tuple[int, Release]] = []
        for release in found:
            row = known.find(release)
            if row is None:
                known.add(0, release)  # a later item of this batch that is the same: skipped
                fresh.append(release)
            elif row.id == 0 or row.content_hash == release.content_hash():
                report.unchanged += 1
            else:
                changed.append((row.id, release))
        history = _History(conn, name, fresh, changed)
        for row_id, release in changed:
            from bot.workflow import rerender_release

            cleaned = history.learn(release, row_id)
            releases.update(conn, row_id, cleaned, release.content_hash())
            rerender_release(conn, config, row_id, cleaned, learned=learned)
            report.updated += 1
        # new releases and their posts: a few statements per feed, not per item
        items: list[dict[str, Any]] = []
        planned: dict[str, datetime] = {}
        cleaned_fresh = [history.learn(r, -n) for n, r in enumerate(fresh, 1)]
        ids = releases.insert_many(conn, cleaned_fresh, [r.content_hash() for r in fresh])
        history.save(conn, ids, changed)
        for release_id, release in zip(ids, cleaned_fresh, strict=True):
            report.new += 1
            if keep is not None and release.key not in keep:
                report.skipped += 1
                continue
            from bot.workflow import plan_posts

            items += plan_posts(conn, config, release_id, release, cfg.channels,
                                learned=learned, planned=planned)
        report.queued += len(posts.insert_many(conn, items, actor="system"))
        state.initialised = True
        source_store.put(conn, state)


class _History:
    """A source's paragraphs, from its newest stored releases and this batch: what a release
    repeats from the others is boilerplate (`bot.sources.boilerplate`). A release of the
    batch is known by its row id when stored, else by -n (the n-th new one). Nothing is
    read when the batch holds nothing new or changed (a poll of an unchanged feed)."""

    def __init__(self, conn: Connection, name: str, fresh: list[Release],
                 changed: list[tuple[int, Release]]) -> None:
        from bot.sources import boilerplate
        from bot.store import prints

        self._boilerplate = boilerplate
        self._name = name
        self.history = boilerplate.History()
        self.read: dict[int, boilerplate.Paragraphs] = {}
        if not fresh and not changed:
            return
        stored = prints.recent(conn, name, boilerplate.WINDOW, _prints_json)
        for row_id, rows in stored.items():
            self.history.add(row_id, map(boilerplate.Print.from_json, rows))
        owned = [*((-n, r) for n, r in enumerate(fresh, 1)), *changed]
        for owner, release in owned:
            self.read[owner] = boilerplate.Paragraphs(release)
            self.history.add(owner, self.read[owner].stored)

    def learn(self, release: Release, owner: int) -> Release:
        return self._boilerplate.learn(release, self.history, owner, self.read[owner])

    def save(self, conn: Connection, ids: list[int], changed: list[tuple[int, Release]]
             ) -> None:
        """Keep the prints of the releases as the source gave them, for later releases."""
        from bot.store import prints

        owners = [*((-n, i) for n, i in enumerate(ids, 1)), *((i, i) for i, _ in changed)]
        prints.put(conn, self._name, [(i, [p.as_json() for p in self.read[owner].stored])
                                      for owner, i in owners])


def _prints_json(body: str, notes: str) -> list[list[int]]:
    from bot.sources.boilerplate import prints_of_text

    return [p.as_json() for p in prints_of_text(body, notes)]


async def poll_source(name: str, cfg: SourceConfig, config: Config, store: Store,
                      client: httpx.AsyncClient, limiter: Limiter,
                      state: source_store.SourceState | None = None) -> SourceReport:
    """Read one source and store what it found; never raises for the source's own faults.

    `state` may come preloaded (a whole cycle reads every source's state in one query, the
    service keeps each source's from its last poll).

    A poll that changed nothing (a 304, or a folder with the same files, and no error
    before or now) writes nothing and logs at DEBUG: an idle service polling every few
    seconds must not cost a write and an INFO line each time. The poll times stored with
    the state are then refreshed at most every `STATE_HEARTBEAT`.
    """
    report = SourceReport(name)
    if state is None:
        with store.begin() as conn:
            state = source_store.get(conn, name)
    before = _lasting(state)
    if state.saved_at is None:
        state.saved_at = state.last_polled_at
    state.last_polled_at = clock.now()
    succeeded = False
    try:
        if isinstance(cfg, FeedSourceConfig):
            from bot.sources import feed

            entry_errors: list[str] = []
            progress = Progress()
            async with limiter.slot(str(cfg.url)) as slot, slot.shared(name, progress):
                fetched = await feed.download(name, cfg, state, slot.client or client,
                                              progress)
            found = await feed.read(name, cfg, fetched, tz=config.tz, errors=entry_errors)
            report.errors.extend(entry_errors)
            report.failed += len(entry_errors)
            state.etag, state.last_modified = fetched.etag, fetched.last_modified
            report.not_modified = fetched.unchanged
            if not fetched.unchanged and takes_pushes(config, cfg):
                from bot import websub

                hub, topic = feed.hub_links(fetched.body, fetched.url, fetched.link)
                await asyncio.to_thread(websub.discovered, store, name, hub, topic)
        else:
            found = await asyncio.to_thread(_scan_folder, name, cfg, config, state, report)
            if cfg.check_link:
                from bot.linkcheck import confirm_derived

                found = await confirm_derived(name, found, client)
        if found:
            await asyncio.to_thread(store_releases, store, config, name, found, report)
        state.last_ok_at = clock.now() if not report.errors else state.last_ok_at
        state.last_error = "; ".join(report.errors)[:2000] or None
        state.failures = 0 if not report.errors else state.failures + 1
        succeeded = True
    except (SourceError, PressbotError) as exc:
        report.errors.append(str(exc))
        report.failed += 1
        report.fatal = True
        state.last_error, state.failures = str(exc)[:2000], state.failures + 1
    except Exception as exc:  # a bug must cost one source one poll, never the whole cycle
        if cannot_write(exc) or unreachable(exc):
            raise  # the database's condition, not the source's: the service reports it once
        log.exception("source=%s unexpected error", name)
        report.errors.append(f"unexpected error: {type(exc).__name__}: {exc}")
        report.failed += 1
        report.fatal = True
        state.last_error, state.failures = report.errors[-1][:2000], state.failures + 1
    idle = succeeded and not found and state.initialised and _lasting(state) == before
    if not idle or _heartbeat_due(state):
        with store.begin_immediate() as conn:
            source_store.save(conn, state, succeeded=succeeded)
        state.initialised = state.initialised or succeeded
        state.saved_at = state.last_polled_at
    report.state = state
    for error in report.errors:
        log.warning("source=%s error=%r", name, error)
    log.log(logging.DEBUG if idle else logging.INFO,
            "source=%s new=%d updated=%d unchanged=%d skipped=%d failed=%d not_modified=%s",
            name, report.new, report.updated, report.unchanged, report.skipped, report.failed,
            report.not_modified)
    return report


STATE_HEARTBEAT = timedelta(hours=1)
"""How stale the stored poll times of a source that never changes may get."""


def _lasting(state: source_store.SourceState) -> tuple[Any, ...]:
    """What a poll may change in a source's state, but its times."""
    return (state.etag, state.last_modified, state.initialised, state.last_error,
            state.failures, state.data)


def _heartbeat_due(state: source_store.SourceState) -> bool:
    return state.saved_at is None or state.last_polled_at is None or \
        state.last_polled_at - state.saved_at >= STATE_HEARTBEAT


def _scan_folder(name: str, cfg: FolderSourceConfig, config: Config,
                 state: source_store.SourceState, report: SourceReport) -> list[Release]:
    from bot.sources import folder

    scan = folder.scan(name, cfg, config.resolve(cfg.path), state, cfg.zone(config.tz))
    report.errors.extend(scan.errors)
    report.failed += len(scan.errors)
    report.unchanged += scan.unchanged
    report.not_retried += scan.not_retried
    state.data = {**state.data, "files": scan.fingerprints, "failed": scan.failed}
    return scan.releases


SLOT_RATE = 2048
"""Bytes a second under which an answer trickles (`Limiter`'s `share`)."""
SILENT_SHARES = 3
"""A server that has not even sent its answer's head may be slow to make the feed, or this
process slow to read it (a loaded machine at the first sight of a thousand feeds): it keeps
its slot three shares."""


class Limiter:
    """At most `total` fetches at once, and at most `per_host` to any one host.

    With `lanes` (as many as `total`), each slot also holds a lane (`bot.sources.lanes`): a
    client of its own with one kept-alive connection, preferably one that last talked to
    the same host.

    `share` (`bot.poll_share`; None: no limit): seconds a fetch may hold its slot while
    other sources wait for one and its answer trickles (`_Slot.shared`). A feed that
    trickles (a byte a second) would otherwise keep its slot for its whole `timeout` (20 s),
    and a site with a thousand feeds on one host would wait behind a few such feeds. Alone,
    a slow feed still has its whole `timeout`; and when this process itself is too busy to
    read (its event loop late by a second or more), a slow fetch is not the server's fault
    and keeps its slot."""

    def __init__(self, total: int, per_host: int, lanes: Lanes | None = None, *,
                 share: float | None = None) -> None:
        assert lanes is None or lanes.size >= total, "a lane for every slot"
        self.share = share
        self._total = asyncio.Semaphore(total)
        self._hosts: dict[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(per_host))
        self.lanes = lanes
        self.waiting: dict[str, int] = defaultdict(int)
        """Sources waiting for a slot, per host and in all ("")."""

    def slot(self, url: str) -> _Slot:
        parts = urlsplit(url)
        return _Slot(self, f"{parts.scheme.lower()}://{parts.netloc.lower()}", parts.netloc,
                     self._total, self._hosts[parts.netloc])


class _Slot:
    client: httpx.AsyncClient | None = None
    """The lane's client (None without lanes: the caller's shared client is used)."""

    def __init__(self, limiter: Limiter, origin: str, host: str,
                 *semaphores: asyncio.Semaphore) -> None:
        self._limiter, self._origin, self._host = limiter, origin, host
        self._semaphores = semaphores
        self._lane = -1

    async def __aenter__(self) -> _Slot:
        # host first: a busy host must not hold a global slot while it waits
        waiting = self._limiter.waiting
        taken: list[asyncio.Semaphore] = []
        try:
            for key, semaphore in zip((self._host, ""), reversed(self._semaphores),
                                      strict=True):
                waiting[key] += 1
                try:
                    await semaphore.acquire()
                finally:
                    waiting[key] -= 1
                taken.append(semaphore)
        except BaseException:   # cancelled while waiting: give back what it had
            for semaphore in taken:
                semaphore.release()
            raise
        if self._limiter.lanes is not None:
            self._lane, self.client = self._limiter.lanes.take(self._origin)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._limiter.lanes is not None:
            self._limiter.lanes.give(self._lane)
        for semaphore in self._semaphores:
            semaphore.release()

    def contended(self) -> bool:
        """Does another source wait for this slot (its host's, or any)?"""
        waiting = self._limiter.waiting
        return waiting[self._host] > 0 or waiting[""] > 0

    @contextlib.asynccontextmanager
    async def shared(self, name: str, progress: Progress) -> AsyncIterator[None]:
        """Give the slot up, ending the fetch with a SourceError (the next poll tries
        again), when others wait for one and the answer trickles: its body came at under
        `SLOT_RATE` bytes a second for the limiter's `share` of seconds since its head; or
        nothing came at all for `SILENT_SHARES` of them. (From the head on, not from the
        slot's start: a small feed on a loaded machine may be read a while after its head,
        but then at once.)"""
        share = self._limiter.share
        if share is None:
            yield
            return
        loop = asyncio.get_running_loop()
        began = loop.time()
        deadline = asyncio.timeout(None)

        def check(due: float) -> None:
            now = loop.time()
            starved = now - due > 1.0   # this process, not the server, is slow
            head_at = progress.head_at
            if head_at is None:
                slow = now - began >= SILENT_SHARES * share
            else:
                slow = now - head_at >= share and progress.received < SLOT_RATE * (now - head_at)
            if slow and self.contended() and not starved:
                deadline.reschedule(now)
                return
            then = now + share if head_at is None or now - head_at >= share else head_at + share
            timer[0] = loop.call_at(then, check, then)

        timer = [loop.call_at(began + share, check, began + share)]
        try:
            async with deadline:
                yield
        except TimeoutError:
            if deadline.expired():
                got = (f"{progress.received} bytes of its answer"
                       if progress.head_at is not None else "no answer yet")
                raise SourceError(
                    f"gave up its fetch slot after {loop.time() - began:.0f} s while other "
                    f"sources waited: {got} (sources.{name}: too slow for bot.poll_share; "
                    "tried again next poll)"
                ) from None
            raise
        finally:
            timer[0].cancel()


KEEP_ALIVE = 4
"""Idle connections the shared client keeps (hubs, link checks; feeds when `fetch_all` is
given a client). Feeds normally go through lanes (`feed_lanes`): httpcore checks every
pooled connection on each request, so one pool of 32 on one host cost more CPU than the
connects it saved (1,000 feeds on one host, all 304)."""


def http_client(config: Config) -> httpx.AsyncClient:
    """The one client sources use: pooled connections, a clear User-Agent, http(s) only."""
    from bot import tls
    from channels.base import user_agent

    return httpx.AsyncClient(
        headers={"User-Agent": user_agent()}, verify=tls.context(),
        limits=httpx.Limits(max_connections=config.bot.poll_concurrency,
                            max_keepalive_connections=KEEP_ALIVE),
        timeout=httpx.Timeout(20.0),
    )


def limiter_for(config: Config, lanes: Lanes | None) -> Limiter:
    """The fetch slots `config` allows (`bot.poll_concurrency`, `poll_per_host`,
    `poll_share`)."""
    return Limiter(config.bot.poll_concurrency, config.bot.poll_per_host, lanes,
                   share=config.bot.poll_share.total_seconds())


def feed_lanes(config: Config) -> Lanes:
    """The feeds' connection lanes (`bot.sources.lanes`), one per fetch slot."""
    from channels.base import user_agent

    return Lanes(config.bot.poll_concurrency, user_agent=user_agent())


async def fetch_all(config: Config, store: Store, *, only: str | None = None,
                    on_done: Callable[[SourceReport], None] | None = None,
                    client: httpx.AsyncClient | None = None) -> list[SourceReport]:
    """Poll every configured source (or `only`) once. Feeds go through lanes of their own,
    unless a `client` is given: then every fetch uses it."""
    names = [n for n in config.sources if only in (None, n)]
    own = client is None
    lanes = feed_lanes(config) if own else None
    limiter = limiter_for(config, lanes)
    client = client or http_client(config)
    with store.begin() as conn:
        states = source_store.all_states(conn)
    try:
        async def one(name: str) -> SourceReport:
            try:
                report = await poll_source(name, config.sources[name], config, store, client,
                                           limiter, states.get(name))
            except Exception as exc:  # the database's condition: this source's poll only
                why = cannot_write(exc) or unreachable(exc)
                if why is None:
                    raise
                report = SourceReport(name, failed=1, fatal=True,
                                      errors=[f"the database could not store it: {why}"])
            if on_done:
                on_done(report)
            return report

        return list(await asyncio.gather(*(one(n) for n in names)))
    finally:
        if own:
            await client.aclose()
        if lanes is not None:
            await lanes.aclose()
