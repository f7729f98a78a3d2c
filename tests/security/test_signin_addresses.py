"""The addresses an account signed in from live in the store: after a restart, and on any
replica, guesses from strangers' addresses cannot lock a person out of her usual one.

Runs real `pressbot web` processes on one database; `web.trusted_proxies` names 127.0.0.1,
so `X-Forwarded-For` plays each client's address (as a reverse proxy in front would).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers import Workspace, make_workspace
from tests.test_service import free_port, wait_for

PASSWORD = "a-long-enough-password"
OFFICE = "192.0.2.10"


def web_config(ws: Workspace, name: str) -> Path:
    """A copy of the workspace's config listening on a port of its own (a replica)."""
    path = ws.root / f"{name}.toml"
    path.write_text(ws.config.read_text(encoding="utf-8") +
                    f'\n[web]\nlisten = "127.0.0.1:{free_port()}"\n'
                    'trusted_proxies = ["127.0.0.1"]\n', encoding="utf-8")
    return path


@contextmanager
def pressbot_web(config: Path) -> Iterator[str]:
    port = re.search(r'listen = "127\.0\.0\.1:(\d+)"', config.read_text())
    assert port
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "web"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port.group(1)}"
    try:
        wait_for(base + "/healthz")
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=25)


def sign_in(base: str, address: str, password: str) -> int:
    """One browser at `address`: the sign-in page, then the form."""
    headers = {"X-Forwarded-For": address}
    with httpx.Client(base_url=base, timeout=30, headers=headers) as browser:
        token = re.search(r'name="csrf" value="([^"]+)"', browser.get("/signin").text)
        assert token
        return browser.post("/signin", data={"name": "rita", "password": password,
                                             "csrf": token.group(1)}).status_code


def test_a_known_address_is_known_to_every_process(tmp_path: Path) -> None:
    """Rita signs in through one replica; the guessing and her next sign-in reach another
    process, which never saw her sign in (as a restarted one would not have)."""
    ws = make_workspace(tmp_path)
    added = ws.run("users", "add", "rita", "--role", "reviewer", "--password-stdin",
                   input=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    with pressbot_web(web_config(ws, "first")) as first:
        assert sign_in(first, OFFICE, PASSWORD) == 303          # her usual address
        with pressbot_web(web_config(ws, "second")) as other:
            # empty passwords: counted like any failure, and no hash to wait for
            guesses = [sign_in(other, f"198.51.100.{i}", "") for i in range(10)
                       for _ in range(5)]
            stranger = sign_in(other, "203.0.113.7", PASSWORD)
            office = sign_in(other, OFFICE, PASSWORD)
    assert guesses == [401] * 50              # 5 from each of 10 addresses: no pair limit hit
    assert stranger == 429                    # the account limit (50) holds for strangers
    assert office == 303                      # … and spares the address she signed in from
