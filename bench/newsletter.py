"""How fast does one newsletter go out, next to the simplest possible sender?

    .venv/bin/python bench/newsletter.py [--subscribers 10000] [--runs 5]
        [--database postgresql+psycopg://postgres@127.0.0.1:5432/<a database to empty>]
        [--content example|synthetic]

The issue sent is a bundled example release as the demo configuration's newsletter renders
it (`--content example`, the default since 2026-12-07: the layout's 8 KB of HTML and 3 KB
of text); `--content synthetic` sends the shorter one-line HTML the earlier figures in
docs/performance.md were taken with.

`--runs N` repeats the round (the smtplib loop, then pressbot on each database, each run a
new post to the same subscribers) and prints medians: on a 2-core machine where the sink,
the sender and PostgreSQL share the cores, one round's rate moves by 20 % or more with
whatever else runs, and each ratio is taken within its own round.

Every run sends to the same local aiosmtpd sink, which runs in its own process so it does
not share the interpreter with the sender being measured:
- baseline: bare `smtplib` loops sending the very bytes pressbot sends (built before the
  clock starts), over the same number of connections (`connections` side by side, a new
  one every `per_connection` messages): no personalisation, no bookkeeping;
- pressbot on SQLite: `EmailChannel.publish` with the default pool settings, each copy
  filled into the issue's pre-serialised bytes (greeting, unsubscribe link, Message-ID),
  the recipient ledger written in batches (issue 27 items 17 and 18);
- pressbot on PostgreSQL, the same, when `--database` is given.
It prints side by side: messages per second of each and the ratio pressbot/smtplib
(target >= 0.9), CPU per message, and the PostgreSQL/SQLite ratio (target >= 0.8).

CPU per message is `time.process_time()` of this process (user + system, every thread:
pressbot's connection threads and ledger writer too) over the call measured, divided by
the subscribers; the sink runs in another process and is never counted. For pressbot the
call is `EmailChannel.publish`, all of it: the audience's snapshot into the ledger, each
copy's bytes, SMTP, the ledger's writes, the progress it stores once a second. Not
counted: imports, the CSV import, the database's own processes (PostgreSQL's backend).
For the smtplib loop it is the loop, its bytes built before the clock starts. The loop's
figure is printed as the yardstick: CPU per message moves with the machine and its load
(on 2026-12-07 the loop took 0.15-0.18 ms a message on one machine, 0.5-0.7 ms on the
next), so compare pressbot's CPU with the loop's of the same run.

It also prints the sender's resident memory sampled twice a second while it sends: flat
means the last sample is no higher than the one taken a tenth of the way in (plus a little
noise), so 100,000 subscribers cost no more memory than 10,000 (`--subscribers 100000
--no-baseline` checks that without the long smtplib run).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import ROOT, rss_mb

EXAMPLE = "examples/content/2026-03-12-third-call-green-mobility.md"


@dataclass(frozen=True)
class Content:
    """What every copy of the bench's issue says: `title` (and subject), `text`, `html`."""

    title: str
    text: str
    html: str


def example_content() -> Content:
    """A bundled example release rendered by the demo configuration's newsletter target,
    as the service would queue it: the layout's 8 KB of HTML with the greeting, date and
    unsubscribe link each on a short line of its own."""
    from bot.config import load_config
    from bot.render import render, targets
    from bot.sources.files import read_release_file

    config = load_config(str(ROOT / "config/pressbot.toml"))
    target = next(t for t in targets(config) if t.name == "newsletter")
    path = ROOT / EXAMPLE
    release = read_release_file(path, source="press", key=path.name,
                                base_url="https://www.example.org/news/")
    out = render(release, target, config)
    return Content(title=release.title, text=out.text, html=out.html or "")


SYNTHETIC = Content(
    title="Spring report",
    text="%%GREETING%%\n\n" + ("Our spring report is out: numbers, people, places. " * 40)
    + "\n\nUnsubscribe: %%UNSUBSCRIBE_URL%%\n",
    html=("<html><body><p>%%GREETING%%</p><h1>Spring report</h1>"
          + "<p>Our spring report is out: numbers, people, places.</p>" * 40
          + '<p><a href="%%UNSUBSCRIBE_URL%%">Unsubscribe</a></p></body></html>'))
"""The bench's content before 2026-12-07: 2.5 KB of HTML on one line, greeting and link in
it, so each copy quoted-printable-encodes the whole HTML again (the layout never does)."""


def _sink(ready: Any, port: Any, count: Any, stop: Any) -> None:
    from aiosmtpd.smtp import SMTP

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            with count.get_lock():
                count.value += 1
            return "250 2.0.0 queued"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(Handler(), hostname="sink.test", loop=loop), "127.0.0.1", 0)
        port.value = server.sockets[0].getsockname()[1]
        ready.set()
        await asyncio.to_thread(stop.wait)
        server.close()

    asyncio.run(main())


CONNECTIONS, PER_CONNECTION = 2, 100
"""The email channel's defaults (`connections`, `per_connection`)."""


def messages(n: int, content: Content) -> list[tuple[str, bytes]]:
    """(recipient, bytes) as pressbot writes them for this bench's post."""
    from datetime import UTC, datetime
    from email.headerregistry import Address

    from bot.models import Post
    from channels.email.message import MessageFactory, Sender

    now = datetime.now(UTC)
    post = Post(id=1, uid="bench", channel="newsletter", status="approved", text=content.text,
                html=content.html, subject=content.title, title=content.title, created_at=now,
                updated_at=now)
    sender = Sender(address=Address("Example News", "news", "example.org"), reply_to=None,
                    list_id="<newsletter.example.org>", unsubscribe_mailto=None,
                    domain="example.org")
    factory = MessageFactory(post, sender)
    out = []
    for i in range(n):
        to = f"reader{i}@example.net"
        token = f"{i}.{'x' * 40}"
        build = getattr(factory, "wire", None)
        if build is not None:
            data = build(to_email=to, to_name=f"Reader {i}" if i % 2 else None,
                         message_id=f"<pressbot.1.{i}.{'0' * 32}@example.org>",
                         unsubscribe_url=f"https://news.example.org/u/{token}",
                         unsubscribe_token=token)
        else:  # the code before pre-serialised bytes
            from channels.email.message import serialise

            data = serialise(factory.build(
                to_email=to, to_name=f"Reader {i}" if i % 2 else None,
                message_id=f"<pressbot.1.{i}.{'0' * 32}@example.org>",
                unsubscribe_url=f"https://news.example.org/u/{token}",
                unsubscribe_token=token), to)[0]
        out.append((to, data))
    return out


def baseline(port: int, n: int, content: Content) -> tuple[float, float]:
    """Seconds and CPU seconds of the smtplib loops."""
    prebuilt = messages(n, content)

    def loop(share: list[tuple[str, bytes]]) -> None:
        for first in range(0, len(share), PER_CONNECTION):
            with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.test") as smtp:
                for to, data in share[first:first + PER_CONNECTION]:
                    smtp.sendmail("news@example.org", [to], data)

    threads = [threading.Thread(target=loop, args=(prebuilt[k::CONNECTIONS],))
               for k in range(CONNECTIONS)]
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, time.process_time() - cpu


class Pressbot:
    """One database with the bench's subscribers imported and the email channel on the
    sink; `send()` publishes a new post to all of them (each run its own post, so runs
    can alternate with the smtplib loop on the same sink)."""

    def __init__(self, port: int, n: int, folder: Path, database: str | None,
                 content: Content) -> None:
        from bot import subscribers
        from bot.config import Config, EmailConfig
        from bot.store import Store
        from channels.email import EmailChannel, SmtpConnector

        self.content = content
        if database:
            wipe(database)
        self.store = store = Store(database or f"sqlite:///{folder}/bench.db")
        csv = "email,name\n" + "".join(
            f"reader{i}@example.net,{'Reader ' + str(i) if i % 2 else ''}\n" for i in range(n))
        started = time.perf_counter()
        subscribers.import_csv(store, csv)
        print(f"import of {n} subscribers from CSV: {time.perf_counter() - started:.2f} s")
        cfg = EmailConfig(type="email", smtp_host="127.0.0.1", smtp_port=port,
                          security="none", **{"from": "Example News <news@example.org>"})
        config = Config(bot={"database_url": store.url,
                             "public_url": "https://news.example.org",
                             "secret_key": "bench-signing-key-0123456789"},
                        channels={"newsletter": cfg})
        self.channel = EmailChannel("newsletter", cfg, config=config, store=store,
                                    smtp=SmtpConnector(cfg, local_hostname="bench.test"))

    def send(self) -> tuple[float, float, dict[str, int]]:
        """Seconds and CPU seconds of one `publish` to every subscriber, and its ledger."""
        from bot.models import PostStatus
        from bot.store import deliveries
        from bot.store import posts as post_store

        with self.store.begin() as conn:
            post = post_store.require(conn, post_store.insert(
                conn, channel="newsletter", status=PostStatus.APPROVED, actor="bench",
                release_id=None, title=self.content.title, subject=self.content.title,
                text=self.content.text, html=self.content.html))
        samples: list[tuple[float, float]] = []
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                samples.append((time.perf_counter(), rss_mb(os.getpid())))

        sampler = threading.Thread(target=sample, daemon=True)
        started, cpu = time.perf_counter(), time.process_time()
        sampler.start()
        asyncio.run(self.channel.publish(post))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        done.set()
        sampler.join()
        if len(samples) >= 4:
            early = samples[len(samples) // 10][1]
            print(f"  sender memory while sending: {samples[0][1]:.1f} MB at start, {early:.1f}"
                  f" MB a tenth in, {max(m for _, m in samples):.1f} MB peak,"
                  f" {samples[-1][1]:.1f} MB at the end ({len(samples)} samples): growth"
                  f" after the first tenth {samples[-1][1] - early:+.1f} MB")
        with self.store.begin() as conn:
            progress = deliveries.progress(conn, post.id)
        return elapsed, cpu, progress


def wipe(database: str) -> None:
    """Empty the PostgreSQL database the bench may use (its tables, not others')."""
    import sqlalchemy as sa

    from bot.store import Store
    from bot.store.schema import metadata

    store = Store(database)
    metadata.drop_all(store.engine)
    with store.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=1, help="rounds of the smtplib loop, "
                        "then pressbot on each database, back to back; medians are printed")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the smtplib loop (for the memory check at 100,000)")
    parser.add_argument("--content", choices=["example", "synthetic"], default="example",
                        help="the issue sent: a bundled example release rendered by the demo "
                        "configuration (default), or the earlier one-line synthetic HTML")
    parser.add_argument("--database", help="a PostgreSQL URL (a database that may be "
                        "emptied) to run pressbot on too, beside SQLite")
    args = parser.parse_args()
    n = args.subscribers
    content = example_content() if args.content == "example" else SYNTHETIC
    print(f"content: {args.content} ({len(content.text)} characters of text, "
          f"{len(content.html)} of HTML)")
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    port, count = ctx.Value("i", 0), ctx.Value("i", 0)
    sink = ctx.Process(target=_sink, args=(ready, port, count, stop), daemon=True)
    sink.start()
    names = ["SQLite"] + (["PostgreSQL"] if args.database else [])
    loop: list[tuple[float, float]] = []
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    wrong: list[str] = []
    try:
        if not ready.wait(20):
            raise SystemExit("the SMTP sink did not start")
        with tempfile.TemporaryDirectory() as tmp:
            senders = {name: Pressbot(port.value, n, Path(tmp),
                                      args.database if name == "PostgreSQL" else None, content)
                       for name in names}
            for run in range(args.runs):
                line = [f"run {run + 1}: load {os.getloadavg()[0]:.2f}"]
                if not args.no_baseline:
                    before = count.value
                    loop.append(baseline(port.value, n, content))
                    line.append(f"smtplib {n / loop[-1][0]:.0f} msg/s")
                    if count.value - before != n:
                        wrong.append(f"the smtplib loop, run {run + 1}")
                for name, sender in senders.items():
                    before = count.value
                    elapsed, cpu, progress = sender.send()
                    runs[name].append((elapsed, cpu))
                    line.append(f"{name} {n / elapsed:.0f} msg/s")
                    if count.value - before != n or progress["sent"] != n:
                        wrong.append(f"{name}, run {run + 1}: {count.value - before} accepted,"
                                     f" ledger {progress}")
                print(", ".join(line), flush=True)
            for sender in senders.values():
                sender.store.dispose()
    finally:
        stop.set()
        sink.join(10)
    report(n, loop, runs)
    if wrong:
        raise SystemExit("not every subscriber was mailed exactly once: " + "; ".join(wrong))


def report(n: int, loop: list[tuple[float, float]],
           runs: dict[str, list[tuple[float, float]]]) -> None:
    """Medians over the runs; each ratio is the median of the runs' own ratios, so a round
    the machine was busier for is compared with the loop of that same round."""
    med = statistics.median
    print(f"subscribers              {n}  ({len(runs['SQLite'])} run(s), medians)")
    if loop:
        print(f"smtplib loop             {med(n / e for e, _ in loop):8.0f} msg/s")
        print(f"  CPU                    {med(c for _, c in loop) / n * 1000:8.2f} ms/msg (the"
              " loop: this machine's yardstick)")
    for name, timings in runs.items():
        print(f"pressbot on {name:<12} {med(n / e for e, _ in timings):8.0f} msg/s")
        if loop:
            ratios = [le / e for (e, _), (le, _) in zip(timings, loop, strict=True)]
            print(f"  ratio to smtplib       {med(ratios):8.2f}  (target >= 0.9; runs:"
                  f" {' '.join(f'{r:.2f}' for r in ratios)})")
        cpu = med(c for _, c in timings)
        versus = f"; {cpu / med(c for _, c in loop):.1f} x the loop's" if loop else ""
        print(f"  CPU                    {cpu / n * 1000:8.2f} ms/msg (target <= 1; publish,"
              f" all its threads{versus})")
    if "PostgreSQL" in runs:
        ratios = [s / p for (s, _), (p, _) in zip(runs["SQLite"], runs["PostgreSQL"],
                                                   strict=True)]
        print(f"PostgreSQL / SQLite      {med(ratios):8.2f}  (target >= 0.8; runs:"
              f" {' '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
