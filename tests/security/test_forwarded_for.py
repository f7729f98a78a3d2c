"""`X-Forwarded-For` cannot pick the address the sign-in limit counts, unless the operator
named the proxy that sends it (`web.trusted_proxies`). Runs the real `pressbot web`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.helpers import SAFETY, make_workspace
from tests.test_service import free_port, wait_for


def wrong_signins(base: str, spoofed: bool) -> list[int]:
    codes = []
    with httpx.Client(base_url=base, timeout=SAFETY) as client:
        page = client.get("/signin").text
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token
        for i in range(7):
            headers = {"X-Forwarded-For": f"203.0.113.{i}"} if spoofed else {}
            codes.append(client.post("/signin", headers=headers, data={
                "name": "ed", "password": f"guess-{i}", "csrf": token.group(1)}).status_code)
    return codes


@pytest.mark.parametrize("trusted", [False, True])
def test_forwarded_for_counts_only_from_a_trusted_proxy(tmp_path: Path, trusted: bool) -> None:
    port = free_port()
    proxies = '["127.0.0.1"]' if trusted else "[]"
    ws = make_workspace(tmp_path, extra=f'\n[web]\nlisten = "127.0.0.1:{port}"\n'
                                        f"trusted_proxies = {proxies}\n")
    added = ws.run("users", "add", "ed", "--role", "editor", "--password-stdin",
                   input="a-long-enough-password\n")
    assert added.exit_code == 0, added.output
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(ws.config), "web"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz")
        codes = wrong_signins(base, spoofed=True)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=SAFETY)
    if trusted:   # each forwarded address is its own client: none reaches its limit
        assert codes == [401] * 7
    else:         # the header is ignored: one client, limited after five failures
        assert codes == [401] * 5 + [429] * 2
