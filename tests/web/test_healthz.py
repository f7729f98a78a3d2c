"""/healthz tells strangers only whether all is well; staff and a monitor's token see why."""

from __future__ import annotations

from pathlib import Path

from bot.store import Store
from bot.store import channels as channel_store
from tests.web.conftest import add_user, client_for, sign_in, write_config


def test_anonymous_callers_get_the_status_only(tmp_path: Path) -> None:
    config = write_config(tmp_path, extra_web='health_token = "monitor-token-0c41e7"')
    store = Store(config.bot.database_url)
    add_user(store, "rita", "reviewer")
    with store.begin() as conn:
        channel_store.pause(conn, "mastodon", by="system", reason="Mastodon answered 401 at "
                            "http://10.0.0.5:3000/api", hint="set MASTODON_TOKEN")
    with client_for(config, store) as client:
        anonymous = client.get("/healthz")
        assert anonymous.status_code == 503                   # a paused channel pages someone
        assert anonymous.json() == {"ok": False, "status": "degraded"}
        assert "10.0.0.5" not in anonymous.text
        assert "set-cookie" not in anonymous.headers

        wrong = client.get("/healthz", headers={"Authorization": "Bearer guess"})
        assert set(wrong.json()) == {"ok", "status"}
        monitor = client.get("/healthz", headers={"Authorization": "Bearer monitor-token-0c41e7"})
        assert monitor.json()["channels"]["mastodon"]["state"] == "paused"
        assert "channel mastodon paused" in monitor.json()["problems"]

        sign_in(client, "rita")
        staff = client.get("/healthz").json()
        assert staff["channels"]["mastodon"]["hint"] == "set MASTODON_TOKEN"
    store.dispose()
