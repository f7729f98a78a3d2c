"""Small helpers the benchmarks share: child processes, /proc readings, figures.

Servers the benchmarks talk to run as child processes, so their CPU time is never counted
as pressbot's; `/proc/PID/stat` and `/proc/PID/status` give a child's CPU and memory.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
TICK = os.sysconf("SC_CLK_TCK")


def clean_env() -> dict[str, str]:
    """The environment without a developer's pressbot settings or tokens."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PRESSBOT_")
            and k not in ("MASTODON_TOKEN", "FACEBOOK_PAGE_TOKEN", "SMTP_PASSWORD")}


class Child:
    """A helper server in its own process: it prints one JSON line when ready and stops when
    its stdin closes (so it also dies with the benchmark)."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen([PYTHON, *args], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, cwd=ROOT, env=clean_env())
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"helper server {args[0]} did not start")
        self.info: dict[str, Any] = json.loads(line)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def get_json(url: str, method: str = "GET") -> Any:
    request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


def wait_until(condition: Any, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False
