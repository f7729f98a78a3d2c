"""One address shared by many people (an office's NAT, a proxy not in `trusted_proxies`):
failures of others behind it must not lock out a colleague who signed in from there
before, while an account that never did is still held back by the address limit.

The app is served on 127.0.0.1 (every browser here is that one address).
"""

from __future__ import annotations

import httpx

from bot.config import Config
from bot.store import Store
from bot.web.app import create_app
from tests.fakes.server import LiveServer
from tests.web.conftest import PASSWORD, add_user, sign_in


def test_failures_behind_a_shared_address_spare_its_known_accounts(config: Config,
                                                                  store: Store) -> None:
    for name in ("rita", "ed", "nina"):
        add_user(store, name, "reviewer")
    with LiveServer(create_app(config, store)) as server:
        def browser() -> httpx.Client:
            return httpx.Client(base_url=server.url, timeout=30, follow_redirects=False)

        with browser() as rita:
            assert sign_in(rita, "rita", PASSWORD).status_code == 303   # from the office
        with browser() as someone:                 # 21 failures from the same address
            codes = [sign_in(someone, f"nobody{i}", "guess").status_code for i in range(21)]
        assert codes == [401] * 20 + [429]         # the address limit (20) is reached
        with browser() as ed:                      # never signed in from here: held back
            assert sign_in(ed, "ed", PASSWORD).status_code == 429
        with browser() as rita:                    # signed in from here before: gets in
            assert sign_in(rita, "rita", PASSWORD).status_code == 303
        with browser() as intruder:                # … but guessing her password from here
            wrong = [sign_in(intruder, "rita", "guess").status_code for _ in range(6)]
            assert wrong == [401] * 5 + [429]      # still meets the account+address limit
            assert sign_in(intruder, "nina", PASSWORD).status_code == 429
