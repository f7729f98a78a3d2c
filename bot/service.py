"""`pressbot run`: the scheduler, the publisher and the web page in one asyncio process.

APScheduler only triggers work — poll each source on its interval (with jitter), run a
publish pass every few seconds, build digests on their cron — and holds no state that
matters: everything lives in the store, so a restart loses nothing. Work starts at once,
not one interval later. SIGTERM/SIGINT stop the claiming, let in-flight requests finish
(or leave them for reconcile), and exit 0 within the contract's 20 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import signal
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from bot import clock, metrics
from bot.config import Config, EmailConfig, FolderSourceConfig
from bot.errors import PressbotError
from bot.health import Health
from bot.ingest import Limiter, http_client, poll_source
from bot.publisher import Publisher
from bot.runtime import live_channels
from bot.store import Store

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


async def serve(config: Config, store: Store, *, dry_run: bool, workers: bool = True) -> int:
    """Run until SIGTERM/SIGINT; returns the process exit code."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    lock = single_instance_lock(store) if workers else None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    health = Health(config, store)
    metrics.attach_store(store, config)
    scheduler = AsyncIOScheduler(timezone=config.tz)
    async with live_channels(config, store, dry_run=dry_run) as channels, \
            http_client(config) as feed_client:
        publisher = Publisher(config, store, channels)
        passes: set[asyncio.Task[Any]] = set()
        if workers:
            _schedule_work(scheduler, config, store, publisher, feed_client, health, passes)
            scheduler.start()
        web_task = asyncio.create_task(_web(config, store, health, publisher))
        watch_task = asyncio.create_task(_watch_folders(config, scheduler)) if workers else None
        log.info("pressbot running sources=%d channels=%d dry_run=%s web=%s",
                 len(config.sources), len(channels), dry_run, config.web.listen)
        await stop.wait()
        log.info("stopping: no new claims; waiting for in-flight posts")
        publisher.stopping = True
        if scheduler.running:
            scheduler.shutdown(wait=False)
        if watch_task:
            watch_task.cancel()
        pending = [t for t in passes if not t.done()]
        if pending:
            _, late = await asyncio.wait(pending, timeout=SHUTDOWN_GRACE)
            for task in late:  # left publishing: reconcile finds them after the lease
                task.cancel()
        web_task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(web_task, 3)
    if lock:
        lock.close()
    log.info("stopped")
    return 0


def _schedule_work(scheduler: Any, config: Config, store: Store, publisher: Publisher,
                   feed_client: Any, health: Health, passes: set[asyncio.Task[Any]]) -> None:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    now = clock.now()
    limiter = Limiter(config.bot.poll_concurrency, config.bot.poll_per_host)

    async def poll(name: str) -> None:
        from bot import websub

        # a live WebSub subscription that spoke lately makes the poll unnecessary
        if not await asyncio.to_thread(websub.should_poll, store, name, config.sources[name]):
            return
        report = await poll_source(name, config.sources[name], config, store, feed_client,
                                   limiter)
        metrics.polls.labels(name).inc()
        if report.errors:
            metrics.poll_errors.labels(name).inc()
        health.polled(name, report.ok)

    async def publish_pass() -> None:
        task = asyncio.create_task(publisher.run_once())
        passes.add(task)
        try:
            await task
            health.published()
        except Exception:
            log.exception("publish pass failed")
        finally:
            passes.discard(task)

    for name, cfg in config.sources.items():
        every = cfg.poll_every.total_seconds()
        scheduler.add_job(poll, IntervalTrigger(seconds=every, jitter=min(60, every / 10)),
                          args=[name], id=f"poll:{name}", next_run_time=now, max_instances=1,
                          coalesce=True, misfire_grace_time=int(every))
    scheduler.add_job(publish_pass, IntervalTrigger(seconds=config.bot.publish_every
                                                    .total_seconds()),
                      id="publish", next_run_time=now + timedelta(seconds=0.2),
                      max_instances=1, coalesce=True)
    async def websub_pass() -> None:
        from bot import websub

        try:
            await websub.maintain(config, store, feed_client)
        except Exception:  # a hub's trouble must not stop the service: polling goes on
            log.exception("websub maintenance failed")

    from bot import websub

    if any(websub.wanted(config, c) for c in config.sources.values()):
        scheduler.add_job(websub_pass, IntervalTrigger(seconds=30), id="websub",
                          next_run_time=now + timedelta(seconds=2), max_instances=1,
                          coalesce=True)
    from bot.confirmations import newsletter

    if newsletter(config) is not None:
        scheduler.add_job(_confirmations, IntervalTrigger(seconds=60), args=[config, store],
                          id="confirmations", next_run_time=now + timedelta(seconds=5),
                          max_instances=1, coalesce=True)
    from bot.bounces import check_all, check_every

    bounce_every = check_every(config)
    if bounce_every is not None:
        scheduler.add_job(check_all, IntervalTrigger(seconds=bounce_every.total_seconds()),
                          args=[config, store], id="bounces", max_instances=1, coalesce=True,
                          next_run_time=now)
    if config.notify is not None:
        scheduler.add_job(_notify, IntervalTrigger(seconds=config.notify.every.total_seconds()),
                          args=[config, store], id="notify", max_instances=1, coalesce=True,
                          next_run_time=now + timedelta(seconds=30))
    for name, channel_cfg in config.channels.items():
        if isinstance(channel_cfg, EmailConfig) and channel_cfg.mode == "digest":
            scheduler.add_job(_digest, CronTrigger.from_crontab(channel_cfg.schedule,
                                                                timezone=config.tz),
                              args=[config, store, name], id=f"digest:{name}",
                              max_instances=1, coalesce=True)


async def _digest(config: Config, store: Store, channel: str) -> None:
    from bot.workflow import queue_digest

    def build() -> int | None:
        with store.begin() as conn:
            return queue_digest(conn, config, channel)

    post_id = await asyncio.to_thread(build)
    log.info("digest channel=%s post=%s", channel, post_id or "skipped (nothing new)")


async def _confirmations(config: Config, store: Store) -> None:
    """The subscribe form's mails still due: failed ones, or those of a web process that
    stopped before sending them (the web process sends the others at once)."""
    from bot.confirmations import send_due

    try:
        await send_due(config, store)
    except Exception:  # the store's trouble must not stop the service; the next pass retries
        log.exception("sending confirmation mails failed")


async def _notify(config: Config, store: Store) -> None:
    from bot.notify import notify_reviewers

    try:
        await notify_reviewers(config, store)
    except Exception as exc:  # a mail problem must not stop the service; it is logged
        log.warning("could not notify reviewers: %s: %s", type(exc).__name__, exc)


async def _watch_folders(config: Config, scheduler: Any) -> None:
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
                    job = scheduler.get_job(f"poll:{name}")
                    if job:
                        job.modify(next_run_time=clock.now())


async def _web(config: Config, store: Store, health: Health, publisher: Publisher) -> None:
    import uvicorn

    from bot.web.app import create_app

    if not config.web.enabled:
        await asyncio.Event().wait()
    host, _, port = config.web.listen.rpartition(":")
    app = create_app(config, store, health=health)
    proxies = config.web.trusted_proxies
    server = uvicorn.Server(uvicorn.Config(app, host=host.strip("[]"), port=int(port),
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
