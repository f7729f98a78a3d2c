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


def test_odd_ids_are_404_and_every_error_page_has_the_security_headers(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from bot.web.app import create_app

    config = write_config(tmp_path)
    store = Store(config.bot.database_url)
    add_user(store, "ed", "editor")
    app = create_app(config, store)
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        sign_in(client, "ed")
        for path in ("/posts/9223372036854775808", "/posts/99999999999999999999999",
                     "/posts/-1", "/posts/1e3", "/nowhere"):
            answer = client.get(path)
            assert answer.status_code == 404, path
            assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]

        def broken(request: object) -> None:
            raise RuntimeError("a bug")

        app.add_route("/broken", broken)
        failed = client.get("/broken")
        assert failed.status_code == 500 and "a bug" not in failed.text
        assert "frame-ancestors 'none'" in failed.headers["content-security-policy"]
        assert failed.headers["x-frame-options"] == "DENY"
    store.dispose()
