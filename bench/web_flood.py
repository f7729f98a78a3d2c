"""Memory of the review page's server under floods: failed sign-ins and oversized forms.

    .venv/bin/python bench/web_flood.py [--signins 80] [--posts 300] [--size 1000000]

Starts `pressbot web` on 127.0.0.1, sends N concurrent wrong passwords, then M concurrent
form posts of SIZE bytes each to a public page and to the sign-in form, and prints the
server's resident memory (VmRSS) and peak (VmHWM) after each phase, read from /proc. The
request loops are bounded and everything is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def memory_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def flood(base: str, signins: int, posts: int, size: int, pid: int) -> None:
    limits = httpx.Limits(max_connections=400)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        page = (await client.get("/signin")).text
        token = page.split('name="csrf" value="', 1)[1].split('"', 1)[0]

        async def wrong(i: int) -> int:
            answer = await client.post("/signin", data={"name": "ed", "password": f"g{i}",
                                                        "csrf": token})
            return answer.status_code

        began = time.monotonic()
        codes = await asyncio.gather(*(wrong(i) for i in range(signins)))
        rss, peak = memory_mb(pid)
        print(f"{signins} concurrent wrong sign-ins: {time.monotonic() - began:.1f} s, "
              f"answers {sorted(set(codes))}, RSS {rss:.0f} MB, peak {peak:.0f} MB")

        body = b"field=" + b"x" * size

        async def big(path: str) -> int:
            answer = await client.post(path, content=body, headers={
                "content-type": "application/x-www-form-urlencoded"})
            return answer.status_code

        for path in ("/subscribe", "/signin"):
            began = time.monotonic()
            codes = await asyncio.gather(*(big(path) for _ in range(posts)))
            rss, peak = memory_mb(pid)
            print(f"{posts} concurrent {size:,}-byte posts to {path}: "
                  f"{time.monotonic() - began:.1f} s, answers {sorted(set(codes))}, "
                  f"RSS {rss:.0f} MB, peak {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signins", type=int, default=80)
    parser.add_argument("--posts", type=int, default=300)
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "pressbot.toml"
        config.write_text(f'[bot]\ndatabase_url = "sqlite:///{tmp}/p.db"\n'
                          f'public_url = "http://127.0.0.1:{port}"\n'
                          f'[web]\nlisten = "127.0.0.1:{port}"\n'
                          '[channels.news]\ntype = "outbox"\nlike = "email"\n')
        bin_dir = Path(sys.executable).parent
        env = {**os.environ, "PRESSBOT_CONFIG": str(config)}
        subprocess.run([bin_dir / "pressbot", "users", "add", "ed", "--role", "editor",
                        "--password-stdin"], input=b"a-long-enough-password\n", env=env,
                       check=True, capture_output=True)
        server = subprocess.Popen([bin_dir / "pressbot", "web"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            rss, peak = memory_mb(server.pid)
            print(f"idle: RSS {rss:.0f} MB, peak {peak:.0f} MB")
            asyncio.run(flood(base, args.signins, args.posts, args.size, server.pid))
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    main()
