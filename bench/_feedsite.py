"""A deliberately small and fast feed website for the polling benchmarks, run in its own process.

    python bench/_feedsite.py --feeds 1000 --hosts 500 --items 10 [--slow 20 --slow-delay 2]

Prints one JSON line with its ports, then serves until stdin closes. It is a bare asyncio
HTTP/1.1 server (keep-alive, ETag/304) rather than the Starlette fake of the tests, so that
the server side costs a fraction of what the client does and cannot be the bottleneck of
what is measured. Real feeds live on many hosts; here each listening port is one "host"
for `bot.ingest.Limiter` (which keys on host:port), all on 127.0.0.1: `--hosts` ports
serve `/feed/N` at once, one more port serves `/slow/N` after `--slow-delay` seconds.

Hostile feeds, on every fast port (the same host as the others), are `/hostile/N`, of the
kind `HOSTILE[N % 5]`: "trickle" sends its head, then a byte a second, and would take an
hour to end; "huge" streams a body far over the default size limit (`HUGE_BYTES`, chunked,
no length declared, so a client finds out only by counting); "malformed" is a 200 whose
XML breaks off; "reset" resets the connection once the request is read; "500" answers
HTTP 500. `GET /_stats` counts their requests and the most bytes one huge answer wrote
before its client hung up.

Control (on any fast port): `POST /_bump?n=K` adds one new item to every (1000/K)-th feed
(K feeds change and get a new ETag); `GET /_stats` returns request counts and this
process's CPU seconds, so a benchmark can show the server was not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import struct
import sys
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs, urlsplit

PARAGRAPH = ("The regional council agreed today on a programme that supports small towns in "
             "the border region with grants for public transport, cycling paths and shared "
             "mobility hubs. ")
HOSTILE = ("trickle", "huge", "malformed", "reset", "500")
HUGE_BYTES = 1_000_000_000
"""A huge answer's length: a hundred times the default `max_bytes` (made as it is sent)."""
MALFORMED = (b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
             b"<title>Section</title><description>Broken off & <unclosed")


def item_xml(feed: int, n: int, body_chars: int) -> str:
    when = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n)
    text = (PARAGRAPH * (body_chars // len(PARAGRAPH) + 1))[:body_chars]
    return (f"<item><title>Feed {feed}: release number {n} on regional mobility</title>"
            f"<link>https://news{feed}.example.org/releases/{n}</link>"
            f"<guid isPermaLink=\"false\">feed{feed}-release{n}</guid>"
            f"<pubDate>{format_datetime(when)}</pubDate>"
            f"<category>mobility</category>"
            f"<description><![CDATA[<p>{text}</p><p>Contact: press office.</p>]]></description>"
            "</item>")


def feed_xml(feed: int, first: int, items: int, body_chars: int) -> bytes:
    newest_first = range(first + items - 1, first - 1, -1)
    entries = "".join(item_xml(feed, n, body_chars) for n in newest_first)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            f"<title>Example news {feed}</title><link>https://news{feed}.example.org/</link>"
            f"<description>Press releases</description><language>en</language>{entries}"
            "</channel></rss>").encode()


class Site:
    def __init__(self, feeds: int, items: int, body_chars: int, slow: int, delay: float) -> None:
        self.items, self.body_chars, self.delay = items, body_chars, delay
        self.huge_sent = 0
        """The most bytes of a huge body one answer wrote before its client went away."""
        self.first = [0] * feeds  # the oldest item's number: a bump slides the window by one
        self.generation = [0] * feeds
        self.bodies = [feed_xml(i, 0, items, body_chars) for i in range(feeds)]
        self.slow = [feed_xml(10_000 + i, 0, 3, body_chars) for i in range(slow)]
        self.requests = {"200": 0, "304": 0, "slow": 0, "other": 0,
                         **{f"hostile {kind}": 0 for kind in HOSTILE}}
        self.connections = 0

    def bump(self, n: int) -> int:
        step = max(1, len(self.bodies) // max(1, n))
        changed = 0
        for i in range(0, len(self.bodies), step):
            if changed == n:
                break
            self.first[i] += 1
            self.generation[i] += 1
            self.bodies[i] = feed_xml(i, self.first[i], self.items, self.body_chars)
            changed += 1
        return changed

    def stats(self) -> dict[str, object]:
        cpu = time.process_time()
        return {**self.requests, "connections": self.connections, "cpu_seconds": cpu,
                "huge_sent": self.huge_sent}


def response(status: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: keep-alive"]
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Handler(asyncio.Protocol):
    def __init__(self, site: Site, slow: bool) -> None:
        self.site, self.slow_host = site, slow
        self.buffer = b""
        self.queue: asyncio.Queue[tuple[str, str, dict[str, str]]] = asyncio.Queue()
        self.transport: asyncio.Transport | None = None
        self.worker: asyncio.Task[None] | None = None
        self.writable = asyncio.Event()
        self.writable.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.site.connections += 1
        self.worker = asyncio.get_running_loop().create_task(self.work())

    def connection_lost(self, exc: Exception | None) -> None:
        self.writable.set()
        if self.worker:
            self.worker.cancel()

    def pause_writing(self) -> None:
        self.writable.clear()

    def resume_writing(self) -> None:
        self.writable.set()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            self.buffer = self.buffer[length:]  # control requests carry no body we need
            self.queue.put_nowait((method, target, headers))

    async def work(self) -> None:
        while True:
            method, target, headers = await self.queue.get()
            answer = await self.answer(method, target, headers)
            if self.transport and not self.transport.is_closing():
                self.transport.write(answer)

    async def answer(self, method: str, target: str, headers: dict[str, str]) -> bytes:
        site = self.site
        url = urlsplit(target)
        parts = url.path.strip("/").split("/")
        if self.slow_host and parts[0] == "slow":
            site.requests["slow"] += 1
            await asyncio.sleep(site.delay)
            index = int(parts[1])
            tag = f'"slow-{index}"'
            if headers.get("if-none-match") == tag:
                return response("304 Not Modified", headers={"ETag": tag})
            return response("200 OK", site.slow[index], {
                "Content-Type": "application/rss+xml; charset=utf-8", "ETag": tag})
        if parts[0] == "hostile" and len(parts) == 2:
            kind = HOSTILE[int(parts[1]) % len(HOSTILE)]
            site.requests[f"hostile {kind}"] += 1
            return await self.hostile(kind)
        if parts[0] == "feed" and len(parts) == 2:
            index = int(parts[1])
            tag = f'"g{site.generation[index]}-{index}"'
            if headers.get("if-none-match") == tag:
                site.requests["304"] += 1
                return response("304 Not Modified", headers={"ETag": tag})
            site.requests["200"] += 1
            return response("200 OK", site.bodies[index], {
                "Content-Type": "application/rss+xml; charset=utf-8", "ETag": tag})
        site.requests["other"] += 1
        if parts[0] == "_bump" and method == "POST":
            n = int(parse_qs(url.query).get("n", ["0"])[0])
            return response("200 OK", json.dumps({"changed": site.bump(n)}).encode())
        if parts[0] == "_stats":
            return response("200 OK", json.dumps(site.stats()).encode(),
                            {"Content-Type": "application/json"})
        return response("404 Not Found", b"not found")

    async def hostile(self, kind: str) -> bytes:
        """Answer as a hostile feed of `kind` does; what it writes itself is not returned."""
        transport = self.transport
        assert transport is not None
        if kind == "500":
            return response("500 Internal Server Error", b"<h1>Internal Server Error</h1>")
        if kind == "malformed":
            return response("200 OK", MALFORMED, {"Content-Type": "application/rss+xml"})
        if kind == "reset":   # SO_LINGER 0: closing sends RST, not FIN
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
            return b""
        if kind == "trickle":
            body = feed_xml(0, 0, 1, self.site.body_chars)
            transport.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n"
                            "Content-Type: application/rss+xml\r\n\r\n".encode())
            for byte in body:
                await asyncio.sleep(1)
                if transport.is_closing():
                    break
                transport.write(bytes([byte]))
            return b""
        transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                        b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n")
        chunk = b"<item><title>x</title></item>" * 2184   # ~64 KiB
        framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        sent = 0
        try:
            while sent < HUGE_BYTES:
                await self.writable.wait()
                if transport.is_closing():
                    break
                transport.write(framed)
                sent += len(chunk)
                self.site.huge_sent = max(self.site.huge_sent, sent)
            else:
                transport.write(b"0\r\n\r\n")
        finally:
            self.site.huge_sent = max(self.site.huge_sent, sent)
        return b""


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--items", type=int, default=10)
    parser.add_argument("--body-chars", type=int, default=600)
    parser.add_argument("--slow", type=int, default=0)
    parser.add_argument("--slow-delay", type=float, default=2.0)
    args = parser.parse_args()
    site = Site(args.feeds, args.items, args.body_chars, args.slow, args.slow_delay)
    loop = asyncio.get_running_loop()
    fast = [await loop.create_server(lambda: Handler(site, False), "127.0.0.1", 0, backlog=256)
            for _ in range(args.hosts)]
    slow = await loop.create_server(lambda: Handler(site, True), "127.0.0.1", 0, backlog=256)
    ports = {"fast": [s.sockets[0].getsockname()[1] for s in fast],
             "slow": slow.sockets[0].getsockname()[1], "feed_bytes": len(site.bodies[0])}
    print(json.dumps(ports), flush=True)
    await asyncio.to_thread(sys.stdin.read)  # the parent closes our stdin to stop us


if __name__ == "__main__":
    asyncio.run(main())
