"""What the Bluesky channel costs on our side: shrinking photos, and one post's round trips.

    .venv/bin/python bench/bluesky.py [--posts 200]

1. `channels.bluesky.fit_image` on synthetic press photos (a smooth gradient with grain, so
   JPEG compresses them about as well as a real photo; one pure-noise worst case): input
   size, output size, the size it ends at and CPU seconds. It runs in a worker thread at
   publish time, so this is how long a post with a big photo holds its lane.
2. `--posts` link posts published by `BlueskyChannel` against the fake PDS on 127.0.0.1
   (`tests/fakes/bluesky.py`): requests per post and milliseconds per post, sign-in
   included once. Facets and the rkey are computed per post.
3. `--threads` long posts with `thread = true` and a SQLite store: the ledger's writes
   (plan, before and after each part) are what a thread costs beyond its records.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from PIL import Image as PILImage

from bot.config import BlueskyConfig
from bot.models import Post, PostStatus
from bot.store import Store
from channels.bluesky import IMAGE_MAX, THUMB_MAX, BlueskyChannel, fit_image
from channels.bluesky.media import LONG_SIDE, THUMB_SIDE
from tests.fakes.bluesky import FakePDS, running


def photo(width: int, height: int, grain: int, fmt: str) -> bytes:
    rng = random.Random(1)
    base = PILImage.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = PILImage.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    picture = PILImage.blend(base, noise, grain / 100)
    out = io.BytesIO()
    picture.save(out, fmt, **({"quality": 95} if fmt == "JPEG" else {}))
    return out.getvalue()


def shrink() -> None:
    cases = [("12 MP JPEG q95, light grain", 4000, 3000, 8, "JPEG"),
             ("12 MP JPEG q95, heavy grain", 4000, 3000, 30, "JPEG"),
             ("6 MP PNG, light grain", 3000, 2000, 8, "PNG"),
             ("2 MP pure noise PNG (worst case)", 1800, 1200, 100, "PNG")]
    print("image shrinking (fit_image):")
    for label, width, height, grain, fmt in cases:
        data = photo(width, height, grain, fmt)
        kind = "image/jpeg" if fmt == "JPEG" else "image/png"
        for cap, side, name in ((IMAGE_MAX, LONG_SIDE, "post image ≤ 1 MB"),
                                (THUMB_MAX, THUMB_SIDE, "card thumb ≤ 300 KB")):
            started = time.process_time()
            fitted = fit_image(data, kind, cap, side)
            spent = time.process_time() - started
            assert fitted is not None
            out, _, size = fitted
            print(f"  {label:34} {len(data) / 1e6:5.1f} MB → {name}: {len(out) / 1e6:4.2f} MB "
                  f"{size[0] if size else '?'}×{size[1] if size else '?'}  {spent:5.2f} CPU-s")


async def publish(posts: int) -> None:
    state = FakePDS(write_points=10**9)
    state.add_account("newsroom.example.org", "abcd-efgh-ijkl-mnop")
    with running(state) as server:
        config = BlueskyConfig(type="bluesky", pds_url=server.url, handle="newsroom.example.org",
                               app_password="abcd-efgh-ijkl-mnop")
        async with httpx.AsyncClient() as client:
            channel = BlueskyChannel("bluesky", config, client)
            now = datetime.now(UTC)
            started = time.perf_counter()
            for n in range(posts):
                link = f"https://www.example.org/news/2026/03/release-number-{n}?utm_source=bsky"
                await channel.publish(Post(
                    id=n + 1, channel="bluesky", status=PostStatus.PUBLISHING,
                    title=f"Release {n} 🌞", link=link, language="en", created_at=now,
                    text=f"Release {n} 🌞\n\nΗλιακά πάνελ — 太陽光パネル.\n\n{link}\n\n#Energy"))
            wall = time.perf_counter() - started
    print(f"\npublishing {posts} link posts to the fake PDS: {len(state.records)} records, "
          f"{len(state.requests) / posts:.2f} requests a post, {wall / posts * 1000:.1f} ms a post "
          "(fake server in the same process)")


async def threads(count: int, folder: Path) -> None:
    state = FakePDS(write_points=10**9)
    state.add_account("newsroom.example.org", "abcd-efgh-ijkl-mnop")
    store = Store(f"sqlite:///{folder}/bench.db")
    sentence = "Forty primary schools get solar panels on their roofs, 🌞 says the region. "
    with running(state) as server:
        config = BlueskyConfig(type="bluesky", pds_url=server.url, handle="newsroom.example.org",
                               app_password="abcd-efgh-ijkl-mnop", thread=True)
        async with httpx.AsyncClient() as client:
            channel = BlueskyChannel("bluesky", config, client, store=store)
            now = datetime.now(UTC)
            started = time.perf_counter()
            for n in range(count):
                link = f"https://www.example.org/news/2026/03/release-number-{n}"
                await channel.publish(Post(
                    id=n + 1, channel="bluesky", status=PostStatus.PUBLISHING,
                    title=f"Release {n}", link=link, language="en", created_at=now,
                    text=f"Release {n}\n\n{sentence * 9}\n\n{link}\n\n#Energy"))
            wall = time.perf_counter() - started
    store.dispose()
    print(f"publishing {count} threads: {len(state.records) / count:.1f} parts a thread, "
          f"{len(state.requests) / count:.2f} requests a thread, {wall / count * 1000:.1f} ms "
          "a thread (ledger in SQLite)")


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--threads", type=int, default=50)
    args = parser.parse_args()
    shrink()
    asyncio.run(publish(args.posts))
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(threads(args.threads, Path(folder)))


if __name__ == "__main__":
    main()
