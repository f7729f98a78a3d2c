"""How long the review page takes to build its queue with 500 pending posts.

    .venv/bin/python bench/review_page.py [--posts 500] [--runs 5] [--role reviewer]
                                          [--path /]

`--role editor` adds what only editors get (edit, schedule and pictures forms in each card);
`--path "/calendar?view=month"` times another page (the calendar's sidebar lists 100).

Prints the time for the whole request (session, store, counts, template) and for the
part that scales with the queue (`queue_sections` + rendering). Target: well under 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot import clock, workflow
from bot.config import load_config
from bot.models import Image, Release
from bot.store import Store
from bot.store import releases as release_store
from bot.store import users as user_store
from bot.web.app import create_app
from bot.web.previews import queue_sections
from tests.helpers import CHANNELS, NEWSLETTER_OUTBOX

CONFIG = """
[bot]
database_url = "sqlite:///{db}"
timezone = "Europe/Brussels"

""" + CHANNELS + NEWSLETTER_OUTBOX


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--role", default="reviewer", choices=["reviewer", "editor"])
    parser.add_argument("--path", default="/")
    args = parser.parse_args()
    from starlette.testclient import TestClient

    with tempfile.TemporaryDirectory() as folder:
        file = Path(folder) / "pressbot.toml"
        file.write_text(CONFIG.format(db=Path(folder) / "bench.db"), encoding="utf-8")
        config = load_config(file)
        store = Store(config.bot.database_url)
        started = time.perf_counter()
        made = 0
        with store.begin() as conn:
            user_store.add(conn, "bench", "bench password 123", args.role)
            n = 0
            while made < args.posts:
                n += 1
                release = Release(
                    source="bench", key=f"r{n}", url=f"https://www.example.org/news/{n}",
                    title=f"Release number {n}: the council agrees a new budget",
                    published_at=datetime(2026, 1, 1, tzinfo=UTC),
                    summary="A summary of reasonable length. " * 6, body="Body text. " * 40,
                    images=[Image(url=f"https://www.example.org/img/{n}.jpg", alt="A photo")],
                    tags=["budget", "council"])
                release_id = release_store.insert(conn, release)
                made += len(workflow.queue_release(conn, config, release_id, release, None))
        print(f"setup: {made} pending posts in {time.perf_counter() - started:.2f} s")

        build = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            with store.begin() as conn:
                sections = queue_sections(conn, config, clock.now())
            build.append(time.perf_counter() - t0)
        print(f"queue_sections ({sections[0].size} waiting): median "
              f"{statistics.median(build) * 1000:.0f} ms")

        with TestClient(create_app(config, store)) as client:
            page = client.get("/signin")
            token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            client.post("/signin", data={"name": "bench", "password": "bench password 123",
                                         "csrf": token})
            timings = []
            size = 0
            for _ in range(args.runs):
                t0 = time.perf_counter()
                response = client.get(args.path)
                timings.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.status_code
                size = len(response.content)
        print(f"GET {args.path} as {args.role} with {made} pending posts: median "
              f"{statistics.median(timings) * 1000:.0f} ms, best {min(timings) * 1000:.0f} ms, "
              f"page {size / 1024:.0f} KiB")
        store.dispose()


if __name__ == "__main__":
    main()
