"""A real `pressbot web` process for tests that must not share the interpreter with the
server: a stalled server (a regular expression holding the GIL) must not stall the client
that times it out."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.test_service import free_port, wait_for


def listening_copy(config: Path, name: str, extra: str = "") -> Path:
    """A copy of `config` (with a `[web]` table) listening on a free port of its own."""
    text = config.read_text(encoding="utf-8")
    port = f'listen = "127.0.0.1:{free_port()}"'
    if "[web]" in text:
        text = re.sub(r'^listen = ".*"$', port, text, flags=re.M).replace(
            "[web]\n", f"[web]\n{extra}", 1)
    else:
        text += f"\n[web]\n{port}\n{extra}"
    path = config.with_name(f"{name}.toml")
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def pressbot_web(config: Path) -> Iterator[str]:
    """`pressbot web` on `config`; yields its base URL, stops it (killed if stuck)."""
    port = re.search(r'^listen = "127\.0\.0\.1:(\d+)"', config.read_text(), re.M)
    assert port, f"{config} does not listen on a fixed port of 127.0.0.1"
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "web"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port.group(1)}"
    try:
        wait_for(base + "/healthz")
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=25)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
