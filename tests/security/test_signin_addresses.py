"""The addresses an account signed in from live in the store: after a restart, and on any
replica, guesses from strangers' addresses cannot lock a person out of her usual one.

Runs real `pressbot web` processes on one database; `web.trusted_proxies` names 127.0.0.1,
so `X-Forwarded-For` plays each client's address (as a reverse proxy in front would).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.helpers import make_workspace
from tests.web.live import listening_copy, pressbot_web

PASSWORD = "a-long-enough-password"
OFFICE = "192.0.2.10"


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
    proxy = 'trusted_proxies = ["127.0.0.1"]\n'
    with pressbot_web(listening_copy(ws.config, "first", proxy)) as first:
        assert sign_in(first, OFFICE, PASSWORD) == 303          # her usual address
        with pressbot_web(listening_copy(ws.config, "second", proxy)) as other:
            # empty passwords: counted like any failure, and no hash to wait for
            guesses = [sign_in(other, f"198.51.100.{i}", "") for i in range(10)
                       for _ in range(5)]
            stranger = sign_in(other, "203.0.113.7", PASSWORD)
            office = sign_in(other, OFFICE, PASSWORD)
    assert guesses == [401] * 50              # 5 from each of 10 addresses: no pair limit hit
    assert stranger == 429                    # the account limit (50) holds for strangers
    assert office == 303                      # … and spares the address she signed in from
