"""`pressbot run`: the polls, the publisher and the web page in one asyncio process.

Polls (each source on its interval, with jitter), publish passes and upkeep run as loops
timed on the event loop's monotonic clock (`bot.loops`), so a wall clock stepped back does
not stop them; APScheduler only fires the digests' cron schedules, which are about wall
time. Nothing here holds state that matters: everything lives in the store, so a restart
loses nothing. Work starts at once, not one interval later. SIGTERM/SIGINT stop the
claiming, let in-flight requests finish (or leave them for reconcile), and exit 0 within
the contract's 20 s. SIGHUP, and a channel resumed (by `check`, `resume` or the review
page), re-read the channels' credentials (`bot.runtime.LiveChannels.reload`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import signal
from pathlib import Path
from typing import IO, Any

from bot import arenas, clock, features, metrics, quiet
from bot.config import Config, EmailConfig, FolderSourceConfig
from bot.errors import PressbotError
from bot.health import Health
from bot.ingest import feed_lanes, http_client, limiter_for, poll_source
from bot.loops import Loops
from bot.publisher import Publisher
from bot.runtime import live_channels
from bot.sources.lanes import Lanes
from bot.stopsignal import EarlyStop
from bot.store import Store
from bot.store.faults import cannot_write, unreachable
from bot.store.sources import SourceState

log = logging.getLogger("pressbot.service")
SHUTDOWN_GRACE = 15.0


def single_instance_lock(store: Store) -> IO[str] | None:
    """On SQLite, a second `run` on the same file refuses to start instead of racing."""
    if not store.is_sqlite:
        return None
    database = store.engine.url.database
    if not database or database == ":memory:":
        return None
    lock_path = Path(database + ".lock")
    handle = lock_path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise PressbotError(
            f"another `pressbot run` is already using {database} (lock {lock_path}); "
            "stop it first, or use PostgreSQL (bot.database_url) to run several replicas"
        ) from None
    handle.write(f"{clock.now().isoformat()}\n")
    handle.flush()
    return handle


async def serve(config: Config, store: Store, *, dry_run: bool, workers: bool = True,
                early: EarlyStop | None = None) -> int:
    """Run until SIGTERM/SIGINT (or at once when `early` caught one); returns the exit
    code."""
    arenas.limit()   # before the threads that would each take an arena of their own
    lock = single_instance_lock(store) if workers else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if early is not None and early.received is not None:
        stop.set()
    health = Health(config, store)
    metrics.attach_store(store, config)
    async with live_channels(config, store, dry_run=dry_run) as channels, \
            http_client(config) as feed_client, feed_lanes(config) as lanes:
        publisher = Publisher(config, store, channels)
        publisher.on_resume = channels.reload
        reloads: set[asyncio.Task[Any]] = set()

        def reload_all() -> None:
            task = asyncio.create_task(channels.reload(set(channels), why="SIGHUP"))
            reloads.add(task)
            task.add_done_callback(reloads.discard)

        loop.add_signal_handler(signal.SIGHUP, reload_all)
        loops = Loops(lambda name, exc: _failed(name, exc, health), health.pass_done)
        scheduler = _schedule_work(loops, config, store, publisher, feed_client, lanes,
                                   health) if workers else None
        health.loops = loops if workers else None
        web_task = asyncio.create_task(_web(config, store, health, publisher))
        watch_task = asyncio.create_task(_watch_folders(config, loops)) if workers else None
        mode, what = what_leaves(config, dry_run=dry_run, workers=workers)
        log.info("pressbot running sources=%d channels=%d web=%s mode=%s %s",
                 len(config.sources), len(channels), config.web.listen, mode, what)
        await stop.wait()
        log.info("stopping: no new claims; waiting for in-flight posts")
        publisher.stopping = True
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)
        if watch_task:
            watch_task.cancel()
        # a publish pass in flight finishes (or is left to reconcile after the lease)
        await loops.stop(SHUTDOWN_GRACE, finish={"publish"})
        web_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(web_task, 3)
    if lock:
        lock.close()
    log.info("stopped")
    return 0


def _failed(name: str, exc: Exception, health: Health) -> None:
    """A loop's pass failed: a database that cannot write, or cannot be reached, is one
    condition, reported once (health); anything else is logged with its traceback."""
    why = cannot_write(exc)
    if why is not None:
        health.write_failed(why, exc)
    elif (lost := unreachable(exc)) is not None:
        health.database_unreachable(lost)
    elif name == "publish":
        log.exception("publish pass failed", exc_info=exc)
    else:
        log.exception("%s failed", name, exc_info=exc)


def what_leaves(config: Config, *, dry_run: bool, workers: bool) -> tuple[str, str]:
    """What this process will send, in a word and a sentence, for the start-up line.

    `dry_run=False` read as "live" when every channel was an outbox anyway."""
    outboxes = sorted(n for n, c in config.channels.items() if c.type == "outbox" or c.dry_run)
    live = sorted(n for n in config.channels if n not in outboxes)
    if not workers:
        return "web", "review page only: nothing is fetched or published"
    if dry_run:
        return "dry-run", "--dry-run: every channel is an outbox; nothing leaves this machine"
    if not live:
        return "outbox", "every channel is an outbox; nothing leaves this machine"
    kept = f"; outbox only: {', '.join(outboxes)}" if outboxes else ""
    return "live", f"publishing to {', '.join(live)}{kept}"


def _schedule_work(loops: Loops, config: Config, store: Store, publisher: Publisher,
                   feed_client: Any, lanes: Lanes, health: Health) -> Any:
    """Start the loops; returns the APScheduler that fires the digests (None without any)."""
    limiter = limiter_for(config, lanes)
    pushed = {name for name, cfg in config.sources.items() if features.takes_pushes(config, cfg)}
    states: dict[str, SourceState] = {}
    """Each source's state as its last completed poll left it (and saved it): read from
    the store once, not on every poll. A poll that fails drops it, so the next one reads
    what the store really holds."""

    async def poll(name: str) -> None:
        # a live WebSub subscription that spoke lately makes the poll unnecessary
        if name in pushed:
            from bot import websub

            if not await asyncio.to_thread(websub.should_poll, store, name,
                                           config.sources[name]):
                return
        report = await poll_source(name, config.sources[name], config, store, feed_client,
                                   limiter, states.pop(name, None))
        if report.state is not None:
            states[name] = report.state
        if report.new or report.updated:
            arenas.trim_soon()
        metrics.polls.labels(name).inc()
        if report.errors:
            metrics.poll_errors.labels(name).inc()
        health.polled(name, report.ok)

    publish_pass = functools.partial(quiet.publish_pass, quiet.PassGate(store), publisher,
                                     health)

    for name, cfg in config.sources.items():
        every = cfg.poll_every.total_seconds()
        loops.start(f"poll:{name}", every, functools.partial(poll, name),
                    jitter=min(60, every / 10), watched=True)
    loops.start("publish", config.bot.publish_every.total_seconds(), publish_pass,
                delay=0.2, watched=True)

    async def websub_pass() -> None:
        from bot import websub

        try:
            await websub.maintain(config, store, feed_client)
        except Exception as exc:  # a hub's trouble must not stop the service: polling goes on
            if cannot_write(exc) is None:
                log.exception("websub maintenance failed")
            else:
                raise

    # each of these loops' code is imported only when the configuration asks for the loop
    if pushed:
        loops.start("websub", 30, websub_pass, delay=2)
    if features.newsletter(config) is not None:
        loops.start("confirmations", 60, functools.partial(_confirmations, config, store),
                    delay=5)
    bounce_every = features.bounce_check_every(config)
    if bounce_every is not None:
        from bot.bounces import check_all

        loops.start("bounces", bounce_every.total_seconds(),
                    functools.partial(check_all, config, store))
    if features.engagement_readers(publisher.channels):
        from bot import engagement

        loops.start("engagement", engagement.PASS_EVERY.total_seconds(),
                    functools.partial(engagement.refresh, store, publisher.channels),
                    jitter=30, delay=60)
    if config.notify is not None:
        loops.start("notify", config.notify.every.total_seconds(),
                    functools.partial(_notify, config, store), delay=30)
        loops.start("mentions", 60, functools.partial(_mentions, config, store), delay=10)
        if config.notify.weekly:
            from bot.summary import send_weekly

            loops.start("summary", 900, functools.partial(send_weekly, config, store),
                        delay=45)
    digests = {name: c for name, c in config.channels.items()
               if isinstance(c, EmailConfig) and c.mode == "digest"}
    if not digests:
        return None
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = AsyncIOScheduler(timezone=config.tz)
    for name, channel_cfg in digests.items():
        scheduler.add_job(_digest, CronTrigger.from_crontab(channel_cfg.schedule,
                                                            timezone=config.tz),
                          args=[config, store, name], id=f"digest:{name}",
                          max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler


async def _digest(config: Config, store: Store, channel: str) -> None:
    from bot.workflow import queue_digest

    def build() -> int | None:
        with store.begin() as conn:
            return queue_digest(conn, config, channel)

    post_id = await asyncio.to_thread(build)
    log.info("digest channel=%s post=%s", channel, post_id or "skipped (nothing new)")


async def _confirmations(config: Config, store: Store) -> None:
    """The subscribe form's mails still due: failed ones, or those of a web process that
    stopped before sending them (the web process sends the others at once). Also the
    housekeeping of consent evidence: client addresses past their retention are erased."""
    from bot import subscribers as subs
    from bot.confirmations import send_due

    try:
        await asyncio.to_thread(subs.forget_clients, store,
                                config.newsletter.client_retention_days)
        await send_due(config, store)
    except Exception:  # the store's trouble must not stop the service; the next pass retries
        log.exception("sending confirmation mails failed")


async def _notify(config: Config, store: Store) -> None:
    from bot.notify import notify_reviewers

    try:
        await notify_reviewers(config, store)
    except Exception as exc:  # a mail problem must not stop the service; it is logged
        log.warning("could not notify reviewers: %s: %s", type(exc).__name__, exc)


async def _mentions(config: Config, store: Store) -> None:
    """Comments' mention notices the web process could not send (they stay due)."""
    from bot.mentions import send_due

    await send_due(config, store)


async def _watch_folders(config: Config, loops: Loops) -> None:
    """Poll a folder source as soon as a file changes, when watchfiles is installed."""
    folders = {name: config.resolve(cfg.path) for name, cfg in config.sources.items()
               if isinstance(cfg, FolderSourceConfig) and cfg.watch}
    folders = {n: p for n, p in folders.items() if p.is_dir()}
    if not folders:
        return
    try:
        from watchfiles import awatch
    except ImportError:
        return
    by_path = {str(p.resolve()): n for n, p in folders.items()}
    async for changes in awatch(*by_path):
        for _, changed in changes:
            for root, name in by_path.items():
                if changed.startswith(root):
                    loops.wake(f"poll:{name}")


async def _web(config: Config, store: Store, health: Health, publisher: Publisher) -> None:
    if not config.web.enabled:  # without the web server's code (uvicorn, ~2 MB resident)
        await asyncio.Event().wait()
    import uvicorn

    from bot.webfront import Front
    from bot.webserver import Server

    host, _, port = config.web.listen.rpartition(":")
    app = Front(config, store, health=health)  # the review page is built on first use
    proxies = config.web.trusted_proxies
    server = Server(uvicorn.Config(app, host=host.strip("[]"), port=int(port),
                                   log_config=None, access_log=False,
                                   lifespan="off", proxy_headers=bool(proxies),
                                   forwarded_allow_ips=proxies or None))
    # the service owns SIGTERM/SIGINT; uvicorn must neither take nor re-raise them
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
    try:
        await server.serve()
    except asyncio.CancelledError:
        server.should_exit = True
        raise
