"""WebSub end to end: a feed on a fake site names a hub (a real server written for these
tests); pressbot discovers it on a poll, subscribes with a callback on its public URL,
answers the hub's verification, ingests signed pushes at once, drops forged ones, renews
its lease, and polls again when the hub goes silent or refuses."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot import clock, websub
from bot.config import Config, FeedSourceConfig, load_config
from bot.features import takes_pushes
from bot.ingest import fetch_all
from bot.store import Store
from bot.store import releases as release_store
from bot.web.app import create_app
from tests.fakes.feeds import FeedSite, Page, make_app, rss
from tests.fakes.server import LiveServer
from tests.fakes.websub_hub import Hub
from tests.fakes.websub_hub import make_app as make_hub
from tests.helpers import SAFETY, make_workspace

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _item(n: int) -> dict[str, str]:
    return {"title": f"Release number {n} from the site", "guid": f"r{n}",
            "link": f"https://www.example.org/news/{n}",
            "description": f"Body of release {n}, long enough to be a lede."}


DEFAULT_SOURCE = """websub = true                         # public_url is 127.0.0.1 here
websub_silence = "1h"
allow_private = true                  # the test servers are on 127.0.0.1"""


class World:
    def __init__(self, tmp_path: Path, source: str = DEFAULT_SOURCE,
                 database_url: str | None = None) -> None:
        self.site_state = FeedSite()
        self.hub = Hub()
        self.site = LiveServer(make_app(self.site_state)).start()
        self.hub_server = LiveServer(make_hub(self.hub)).start()
        port = _free_port()
        self.public = f"http://127.0.0.1:{port}"
        (tmp_path / "pressbot.toml").write_text(f"""
[bot]
database_url = "{database_url or f"sqlite:///{tmp_path / 'pressbot.db'}"}"
public_url = "{self.public}"
outbox = "{tmp_path / 'outbox'}"

[sources.site]
type = "feed"
url = "{self.site.url}/feed"
backlog = "all"
{source}

[web]
health_token = "monitor-token-websub-1"

[channels.mastodon]
type = "outbox"
like = "mastodon"
""", encoding="utf-8")
        self.config: Config = load_config(tmp_path / "pressbot.toml")
        self.store = Store(self.config.bot.database_url)
        self.bot = LiveServer(create_app(self.config, self.store), port=port).start()
        self.topic = f"{self.site.url}/feed"

    def serve_feed(self, *numbers: int) -> bytes:
        head = (f'<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="hub" '
                f'href="{self.hub_server.url}/hub"/>'
                f'<atom:link xmlns:atom="http://www.w3.org/2005/Atom" rel="self" '
                f'href="{self.topic}"/>')
        body = rss([_item(n) for n in numbers], extra=head)
        self.site_state.pages["/feed"] = Page(body)
        return body

    def titles(self) -> set[str]:
        with self.store.begin() as conn:
            found = (release_store.get(conn, n) for n in range(1, 50))
            return {r.title for r in found if r}

    def close(self) -> None:
        for server in (self.bot, self.hub_server, self.site):
            server.stop()
        self.store.dispose()


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> Iterator[World]:
    """On SQLite, and on PostgreSQL when configured: a verification and a push change the
    same stored state, and only one of them may win a race on each."""
    w = World(tmp_path, database_url=database_url)
    yield w
    w.close()


def _wait(what: object, seconds: float = SAFETY) -> None:
    deadline = time.monotonic() + seconds
    while not what():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


async def _subscribe(world: World) -> None:
    async with httpx.AsyncClient() as client:
        await fetch_all(world.config, world.store)
        outcome = await websub.maintain(world.config, world.store, client)
    assert outcome and "requested" in outcome[0]
    _wait(lambda: any(v["ok"] for v in world.hub.verifications))


async def test_subscribe_verify_push_and_renew(world: World,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    world.serve_feed(1)
    await _subscribe(world)
    # what the hub received: our public callback with a nonce, the feed's self link, a secret
    [request] = world.hub.requests
    first_callback = request["hub.callback"]
    assert first_callback.startswith(f"{world.public}/websub/site/")
    assert len(first_callback.rsplit("/", 1)[1]) >= 32
    assert request["hub.topic"] == world.topic
    assert request["hub.mode"] == "subscribe" and len(request["hub.secret"]) == 64
    assert websub.load(world.store, "site")["status"] == "active"
    # verified, but nothing delivered yet: polling goes on
    assert websub.should_poll(world.store, "site", world.config.sources["site"])

    # a signed push is stored at once, its posts queued; now the polls may rest
    assert world.hub.push(world.topic, world.serve_feed(1, 2)) == [204]
    assert "Release number 2 from the site" in world.titles()
    assert not websub.should_poll(world.store, "site", world.config.sources["site"])
    # a monitor sees the subscription in /healthz's details, and no nonce
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{world.public}/healthz", timeout=5, headers={
            "Authorization": "Bearer monitor-token-websub-1"})
    health = answer.json()
    push = health["sources"]["site"]["websub"]
    assert (push["status"], push["hub"]) == ("active", f"{world.hub_server.url}/hub")
    assert push["lease_until"] and push["last_push_at"]
    assert first_callback.rsplit("/", 1)[1] not in answer.text
    # a forged one is acknowledged (as the spec asks) and dropped
    forged = rss([_item(3)])
    assert world.hub.push(world.topic, forged, secret="not-the-secret") == [202]
    assert "Release number 3 from the site" not in world.titles()
    async with httpx.AsyncClient() as client:
        unsigned = await client.post(first_callback, content=forged)
        assert unsigned.status_code == 202
        assert "Release number 3 from the site" not in world.titles()

        # intents the bot never had are refused
        for params in ({"hub.mode": "subscribe", "hub.topic": "https://elsewhere.example/f",
                        "hub.challenge": "x"},
                       {"hub.mode": "unsubscribe", "hub.topic": world.topic,
                        "hub.challenge": "x"}):
            refused = await client.get(first_callback, params=params)
            assert refused.status_code == 404
        unknown = await client.get(f"{world.public}/websub/nope/x", params={
            "hub.mode": "subscribe", "hub.topic": world.topic, "hub.challenge": "x"})
        assert unknown.status_code == 404

    # renewal: with a fifth of the lease left, the bot asks again, on a new callback, and
    # the hub verifies that one
    later = clock.now() + timedelta(seconds=3600 * 0.85)
    monkeypatch.setenv("PRESSBOT_CLOCK", later.isoformat())
    async with httpx.AsyncClient() as client:
        assert await websub.maintain(world.config, world.store, client)
    _wait(lambda: sum(v["ok"] for v in world.hub.verifications) == 2)
    assert len(world.hub.requests) == 2
    assert world.hub.requests[1]["hub.callback"] != first_callback
    state = websub.load(world.store, "site")
    assert state["status"] == "active"
    assert state["lease_until"] > (later + timedelta(seconds=3500)).isoformat()
    async with httpx.AsyncClient() as client:  # nothing due now
        assert await websub.maintain(world.config, world.store, client) == []
    # the hub still pushes to the replaced callback too: stored once, and answered 410 so
    # the hub lets that subscription go
    assert sorted(world.hub.push(world.topic, world.serve_feed(1, 2, 4))) == [204, 410]
    assert "Release number 4 from the site" in world.titles()
    assert [s.callback for s in world.hub.subscriptions.values()] == [
        world.hub.requests[1]["hub.callback"]]
    assert world.hub.push(world.topic, world.serve_feed(1, 2, 4)) == [204]

    # a silent hub: polling comes back websub_silence after the last push
    monkeypatch.setenv("PRESSBOT_CLOCK", (later + timedelta(minutes=59)).isoformat())
    assert not websub.should_poll(world.store, "site", world.config.sources["site"])
    monkeypatch.setenv("PRESSBOT_CLOCK", (later + timedelta(minutes=61)).isoformat())
    assert websub.should_poll(world.store, "site", world.config.sources["site"])


async def test_a_refusing_or_unverified_hub_leaves_polling_on(world: World) -> None:
    world.serve_feed(1)
    world.hub.refuse = True
    async with httpx.AsyncClient() as client:
        await fetch_all(world.config, world.store)
        [outcome] = await websub.maintain(world.config, world.store, client)
        assert "refused" in outcome
        # no retry storm: the next pass waits
        assert await websub.maintain(world.config, world.store, client) == []
    assert websub.should_poll(world.store, "site", world.config.sources["site"])
    assert not world.hub.verifications


async def test_a_feed_without_a_hub_is_only_polled(world: World) -> None:
    world.site_state.pages["/feed"] = Page(rss([_item(1)]))
    async with httpx.AsyncClient() as client:
        await fetch_all(world.config, world.store)
        assert await websub.maintain(world.config, world.store, client) == []
    assert not world.hub.requests
    assert websub.should_poll(world.store, "site", world.config.sources["site"])


def test_no_subscription_by_default_when_no_hub_could_reach_us(tmp_path: Path) -> None:
    world = World(tmp_path, source="allow_private = true")  # public_url is 127.0.0.1
    try:
        world.serve_feed(1)
        assert not takes_pushes(world.config, world.config.sources["site"])

        async def run() -> list[str]:
            async with httpx.AsyncClient() as client:
                await fetch_all(world.config, world.store)
                return await websub.maintain(world.config, world.store, client)

        import anyio

        assert anyio.run(run) == []
        assert not world.hub.requests
        assert "Release number 1 from the site" in world.titles()
    finally:
        world.close()


async def test_a_hub_in_the_local_network_is_refused(tmp_path: Path) -> None:
    world = World(tmp_path, source="websub = true")  # allow_private off
    try:
        websub.discovered(world.store, "site", f"{world.hub_server.url}/hub", world.topic)
        async with httpx.AsyncClient() as client:
            [outcome] = await websub.maintain(world.config, world.store, client)
        assert "not a public address" in outcome
        assert not world.hub.requests  # nothing reached the hub
        assert websub.should_poll(world.store, "site", world.config.sources["site"])
    finally:
        world.close()


def test_a_hub_named_in_the_link_header_is_found(tmp_path: Path) -> None:
    from bot.sources.feed import hub_links

    header = ('<https://hub.example.net/>; rel="hub", <https://www.example.org/feed>; '
              'rel="self"')
    assert hub_links(b"<rss/>", "https://www.example.org/f", header) == (
        "https://hub.example.net/", "https://www.example.org/feed")
    assert hub_links(b"<rss/>", "https://www.example.org/f", "<https://x.example/>; rel=next"
                     ) == (None, None)


async def test_discovery_over_http_uses_the_link_header(world: World) -> None:
    world.site_state.pages["/feed"] = Page(rss([_item(1)]), headers={
        "Link": f'<{world.hub_server.url}/hub>; rel="hub", <{world.topic}>; rel="self"'})
    async with httpx.AsyncClient() as client:
        await fetch_all(world.config, world.store)
        [outcome] = await websub.maintain(world.config, world.store, client)
    assert "requested" in outcome
    _wait(lambda: any(v["ok"] for v in world.hub.verifications))
    assert world.hub.requests[0]["hub.topic"] == world.topic


async def test_turning_websub_off_unsubscribes(world: World, tmp_path: Path) -> None:
    world.serve_feed(1)
    await _subscribe(world)
    assert world.hub.subscriptions
    off = tmp_path / "off.toml"
    off.write_text((tmp_path / "pressbot.toml").read_text().replace(
        "websub = true", "websub = false"), encoding="utf-8")
    config = load_config(off)
    async with httpx.AsyncClient() as client:
        [outcome] = await websub.maintain(config, world.store, client)
    assert "unsubscribe" in outcome
    _wait(lambda: any(v["mode"] == "unsubscribe" and v["ok"]
                      for v in world.hub.verifications))
    assert world.hub.requests[-1]["hub.mode"] == "unsubscribe"
    assert not world.hub.subscriptions  # the hub let go
    assert world.hub.push(world.topic, world.serve_feed(1, 2)) == []
    assert websub.load(world.store, "site")["status"] == "unsubscribed"
    assert websub.should_poll(world.store, "site", config.sources["site"])
    async with httpx.AsyncClient() as client:  # once is enough
        assert await websub.maintain(config, world.store, client) == []


async def test_a_local_feed_may_name_a_hub_only_on_its_own_host(tmp_path: Path) -> None:
    """`allow_private` lets the feed's own host be local; a hub the feed names on another
    private address (the router, a metadata service) is never contacted — not to subscribe,
    nor later to unsubscribe from a stored one."""
    store = Store(f"sqlite:///{tmp_path}/p.db")
    ws = make_workspace(tmp_path, extra="")
    config = load_config(ws.config)
    cfg = FeedSourceConfig(type="feed", url="http://127.0.0.1:8081/feed.xml",
                           allow_private=True)
    contacted: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        contacted.append(str(request.url))
        return httpx.Response(202)

    async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as client:
        websub._update(store, "site", hub="http://10.255.255.1/hub",
                       topic="http://127.0.0.1:8081/feed.xml")
        said = await websub.subscribe(config, store, client, "site", cfg)
        assert "not a public address" in said and contacted == []
        websub._update(store, "site", hub="http://127.0.0.1:9090/hub")   # its own host
        said = await websub.subscribe(config, store, client, "site", cfg)
        assert contacted == ["http://127.0.0.1:9090/hub"], said
        # a stored private hub of a source no longer configured: not contacted
        websub._update(store, "site", subscribed_hub="http://127.0.0.1:9090/hub")
        said = await websub.unsubscribe(config, store, client, "site", None)
        assert "not contacted" in said and len(contacted) == 1
    store.dispose()


# -- who may answer: only the hub pressbot asked, only while it waits (issue 26, 7 and 8) --

YEAR = "31536000"


async def _ask(world: World) -> str:
    """pressbot asks a hub that holds its answer back: the pending request's callback."""
    world.hub.hold = True
    async with httpx.AsyncClient() as client:
        await fetch_all(world.config, world.store)
        [outcome] = await websub.maintain(world.config, world.store, client)
    assert "requested" in outcome
    return world.hub.requests[-1]["hub.callback"]


def _get(url: str, **params: str) -> httpx.Response:
    """A GET to a callback, as a hub (or anyone) sends it: `mode=…` is `hub.mode=…`."""
    return httpx.get(url, params={f"hub.{k}": v for k, v in params.items()}, timeout=5)


def _polls(world: World) -> bool:
    return websub.should_poll(world.store, "site", world.config.sources["site"])


async def test_a_strangers_verification_is_not_an_answer(world: World) -> None:
    """The attack: while pressbot waits for its hub (or at any time), anyone sends the
    verification GET with a year's lease. It must change nothing; the hub's own answer,
    to the nonce only it was given, must still count — also after a restart."""
    world.serve_feed(1)
    callback = await _ask(world)
    bare = f"{world.public}/websub/site"
    for url in (bare, f"{bare}/{'A' * 32}", callback + "x", callback[:-1]):
        answer = _get(url, mode="subscribe", topic=world.topic, challenge="x",
                      lease_seconds=YEAR)
        assert answer.status_code == 404, url
        assert "x" not in answer.text
    # the right callback, but not what pressbot asked for
    assert _get(callback, mode="subscribe", topic="https://elsewhere.example/f",
                challenge="x").status_code == 404
    assert _get(callback, mode="unsubscribe", topic=world.topic,
                challenge="x").status_code == 404
    state = websub.load(world.store, "site")
    assert state["status"] == "pending" and not state.get("lease_until")
    assert _polls(world)
    assert callback.startswith(bare + "/")  # the nonce: given to the hub, and only to it

    # the pending request is in the store: a restarted web process still knows it
    world.bot.stop()
    restarted = Store(world.config.bot.database_url)
    world.bot = LiveServer(create_app(world.config, restarted), port=world.bot.port).start()
    world.hub.release()
    [verification] = world.hub.verifications
    assert verification["ok"] and verification["status"] == 200
    state = websub.load(world.store, "site")
    assert state["status"] == "active" and state["lease_seconds"] == 3600
    # answered once: the same GET again (whoever saw the callback) is refused
    assert _get(callback, mode="subscribe", topic=world.topic, challenge="y",
                lease_seconds=YEAR).status_code == 404
    assert websub.load(world.store, "site")["lease_until"] == state["lease_until"]
    world.bot.stop()
    restarted.dispose()


async def test_polls_rest_only_after_signed_pushes_and_never_longer_than_the_silence(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """A verification is not a delivery: until the hub pushes something signed, polling
    goes on, and it comes back `websub_silence` (1 h here) after the last signed push,
    however long the lease (a day here) — a stranger's 'year' can't stop it either."""
    world.hub.lease = 86400
    world.serve_feed(1)
    await _subscribe(world)
    state = websub.load(world.store, "site")
    assert state["status"] == "active" and state["lease_seconds"] == 86400
    assert _polls(world)
    bare = f"{world.public}/websub/site"
    assert _get(bare, mode="subscribe", topic=world.topic, challenge="x",
                lease_seconds=YEAR).status_code == 404
    assert websub.load(world.store, "site")["lease_until"] == state["lease_until"]
    assert _polls(world)
    # a forged push is no delivery either
    assert world.hub.push(world.topic, world.serve_feed(1, 2), secret="guess") == [202]
    assert _polls(world)
    assert world.hub.push(world.topic, world.serve_feed(1, 2)) == [204]
    assert not _polls(world)
    start = clock.now()
    monkeypatch.setenv("PRESSBOT_CLOCK", (start + timedelta(minutes=59)).isoformat())
    assert not _polls(world)
    monkeypatch.setenv("PRESSBOT_CLOCK", (start + timedelta(minutes=61)).isoformat())
    assert _polls(world)
    assert websub.load(world.store, "site")["lease_until"] > clock.now().isoformat()


async def test_a_lease_is_bounded_by_what_was_asked(world: World) -> None:
    """A hub (or anyone) granting 10**14 seconds got a 500; now the hub's grant is cut to
    the lease pressbot asked for (`websub_lease`, a day by default)."""
    world.hub.lease = 99999999999999
    world.serve_feed(1)
    callback = await _ask(world)
    assert _get(f"{world.public}/websub/site", mode="subscribe", topic=world.topic,
                challenge="x", lease_seconds="99999999999999").status_code == 404
    world.hub.release()
    [verification] = world.hub.verifications
    assert (verification["status"], verification["ok"]) == (200, True)
    state = websub.load(world.store, "site")
    assert state["lease_seconds"] == 86400
    verified_at = datetime.fromisoformat(state["verified_at"])
    assert state["lease_until"] == (verified_at + timedelta(days=1)).isoformat()
    assert world.hub.requests[0]["hub.lease_seconds"] == "86400"
    assert callback == verification["callback"]


async def test_nonsense_in_a_verification_is_a_400(world: World) -> None:
    world.serve_feed(1)
    callback = await _ask(world)
    for lease in ("abc", "-5", "0", "1e9", "3.5", "\u0663\u0660", "9" * 40, ""):
        answer = _get(callback, mode="subscribe", topic=world.topic, challenge="x",
                      lease_seconds=lease)
        assert answer.status_code == 400, lease
        assert "hub.lease_seconds" in answer.text
    assert _get(callback, mode="subscribe", topic=world.topic).status_code == 400
    assert _get(callback, mode="subscribed", topic=world.topic,
                challenge="x").status_code == 400
    assert _get(callback, mode="subscribe", challenge="x").status_code == 400
    assert websub.load(world.store, "site")["status"] == "pending"
    world.hub.release()  # none of that spent the request: the hub's answer still counts
    assert [v["ok"] for v in world.hub.verifications] == [True]
    assert websub.load(world.store, "site")["status"] == "active"


async def test_a_strangers_denial_leaves_a_live_subscription_alone(world: World) -> None:
    world.serve_feed(1)
    await _subscribe(world)
    assert world.hub.push(world.topic, world.serve_feed(1, 2)) == [204]
    bare = f"{world.public}/websub/site"
    for url in (bare, f"{bare}/{'A' * 32}"):
        answer = _get(url, mode="denied", topic=world.topic, reason="go away")
        assert answer.status_code == 404, url
    state = websub.load(world.store, "site")
    assert state["status"] == "active" and not state.get("error")
    assert not _polls(world)
    # the hub itself may withdraw what it granted, on the callback only it knows
    callback = world.hub.requests[0]["hub.callback"]
    assert _get(callback, mode="denied", topic=world.topic,
                reason="publisher revoked").status_code == 200
    state = websub.load(world.store, "site")
    assert (state["status"], state["error"]) == ("denied", "publisher revoked")
    assert _polls(world)


async def test_a_hub_that_denies_a_request_puts_polling_back_and_is_asked_again(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world.hub.deny = True
    world.serve_feed(1)
    async with httpx.AsyncClient() as client:
        await fetch_all(world.config, world.store)
        [outcome] = await websub.maintain(world.config, world.store, client)
    assert "requested" in outcome
    _wait(lambda: world.hub.verifications)
    [denial] = world.hub.verifications
    assert (denial["mode"], denial["status"]) == ("denied", 200)
    state = websub.load(world.store, "site")
    assert (state["status"], state["error"]) == ("denied", "not on the list")
    assert _polls(world)
    async with httpx.AsyncClient() as client:
        assert await websub.maintain(world.config, world.store, client) == []
        monkeypatch.setenv("PRESSBOT_CLOCK",
                           (clock.now() + websub.RETRY_AFTER * 1.1).isoformat())
        world.hub.deny = False
        [outcome] = await websub.maintain(world.config, world.store, client)
    assert "requested" in outcome
    _wait(lambda: len(world.hub.verifications) == 2)
    assert world.hub.requests[1]["hub.callback"] != world.hub.requests[0]["hub.callback"]
    assert websub.load(world.store, "site")["status"] == "active"


def test_pressbot_run_keeps_polling_after_a_strangers_verification(tmp_path: Path) -> None:
    """The attack as it was run: `pressbot run` asks a (slow) hub; a stranger answers the
    verification first with a year's lease. Before, polling stopped there and new releases
    were never fetched; now the next poll still brings them in."""
    import os
    import subprocess
    import sys

    site_state, hub = FeedSite(), Hub(hold=True)
    site, hub_server = LiveServer(make_app(site_state)).start(), LiveServer(make_hub(hub)).start()
    port = _free_port()
    topic = f"{site.url}/feed"

    def serve(*numbers: int) -> None:
        site_state.pages["/feed"] = Page(rss([_item(n) for n in numbers]), headers={
            "Link": f'<{hub_server.url}/hub>; rel="hub", <{topic}>; rel="self"'})

    serve(1)
    config = tmp_path / "pressbot.toml"
    config.write_text(f"""
[bot]
database_url = "sqlite:///{tmp_path / 'pressbot.db'}"
public_url = "http://127.0.0.1:{port}"
outbox = "{tmp_path / 'outbox'}"

[sources.site]
type = "feed"
url = "{topic}"
backlog = "all"
poll_every = "1s"
{DEFAULT_SOURCE}

[web]
listen = "127.0.0.1:{port}"

[channels.mastodon]
type = "outbox"
like = "mastodon"
""", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    store = Store(f"sqlite:///{tmp_path / 'pressbot.db'}", migrate=False)

    def titles() -> set[str]:
        with store.begin() as conn:
            return {r.title for r in (release_store.get(conn, n) for n in range(1, 9)) if r}

    try:
        _wait(lambda: hub.requests, seconds=60)  # polled, found the hub, asked it
        assert "Release number 1 from the site" in titles()
        stranger = httpx.get(f"http://127.0.0.1:{port}/websub/site", timeout=5, params={
            "hub.mode": "subscribe", "hub.topic": topic, "hub.challenge": "x",
            "hub.lease_seconds": YEAR})
        serve(1, 2)
        _wait(lambda: "Release number 2 from the site" in titles(), seconds=15)
        assert stranger.status_code == 404
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        store.dispose()
        hub_server.stop()
        site.stop()
