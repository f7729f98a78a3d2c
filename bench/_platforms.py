"""The fake platforms of `tests/fakes/` behind a fixed latency, in a process of their own.

    python bench/_platforms.py --latency 0.02

Serves two fake Mastodon instances (one account each) and one fake Graph API (one Page),
each with uvicorn on its own 127.0.0.1 port, and prints one JSON line with their URLs and
tokens (made up by the fakes). Stops when stdin closes.

Every request's answer is held `--latency` seconds before it starts (the platform's time),
and the wrapper records when each request arrived and when its answer was complete, and
from which client port: `GET /_bench` on any port returns those records, this process's
CPU seconds and each fake's timeline, so the benchmark can subtract the server's time,
count connections and check the order of posts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.facebook import FakeGraph, create_app
from tests.fakes.mastodon import FakeMastodon, make_app

TOKEN = "bench-mastodon-token-{n}"


class Timed:
    """ASGI wrapper: fixed latency, per-request timing and client port, a stats route."""

    def __init__(self, app: Any, latency: float, timeline: Any) -> None:
        self.app, self.latency, self.timeline = app, latency, timeline
        self.records: list[tuple[float, float, int, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/_bench":
            body = json.dumps({"requests": self.records, "timeline": self.timeline(),
                               "cpu_seconds": time.process_time()}).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        arrived = time.monotonic()

        async def late_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(self.latency)
            await send(message)

        await self.app(scope, receive, late_send)
        self.records.append((arrived, time.monotonic(), scope["client"][1],
                             f"{scope['method']} {scope['path']}"))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", type=float, default=0.02)
    args = parser.parse_args()
    apps: dict[str, Timed] = {}
    info: dict[str, Any] = {}
    for n in (1, 2):
        state = FakeMastodon(request_limit=1_000_000, statuses_limit=1_000_000)
        account = state.add_account(f"newsroom{n}")
        state.add_token(TOKEN.format(n=n), account, "read write")
        apps[f"mastodon{n}"] = Timed(
            make_app(state), args.latency,
            lambda state=state, account=account: [s.text for s in state.statuses_of(account)])
        info[f"mastodon{n}"] = {"token": TOKEN.format(n=n)}
    graph = FakeGraph()
    apps["facebook"] = Timed(create_app(graph), args.latency,
                             lambda: [p.message for p in graph.live_posts()])
    info["facebook"] = {"token": graph.page_token, "page_id": graph.page_id}
    servers = {}
    for name, app in apps.items():
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off",
                                               log_level="warning", access_log=False,
                                               timeout_keep_alive=30))
        server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
        servers[name] = server
    tasks = [asyncio.create_task(s.serve()) for s in servers.values()]
    while not all(s.started for s in servers.values()):  # noqa: ASYNC110 (uvicorn has a flag only)
        await asyncio.sleep(0.01)
    for name, server in servers.items():
        port = server.servers[0].sockets[0].getsockname()[1]
        info[name]["url"] = f"http://127.0.0.1:{port}"
    graph.base_url = info["facebook"]["url"]
    print(json.dumps(info), flush=True)
    await asyncio.to_thread(sys.stdin.read)
    for server in servers.values():
        server.should_exit = True
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    asyncio.run(main())
