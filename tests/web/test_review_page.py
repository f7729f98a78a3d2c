"""The review page made shorter and clearer (issue 29): the waiting count everywhere, a
compact queue, published posts folded away, one channel paused with its reason, signing
out here or everywhere, and a 404 that is a page of the site."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from bot import workflow
from bot.config import Config
from bot.store import Store
from bot.store import channels as channel_store
from bot.store import posts as post_store
from bot.web.sessions import COOKIE
from tests.web.conftest import client_for, csrf_of, queue, release, sign_in
from tests.web.test_session_revocation import replay, stolen_cookie


def test_the_waiting_count_is_in_every_title_and_the_navigation(
        client: TestClient, store: Store, config: Config, posts: dict[str, int]) -> None:
    sign_in(client, "rita")
    for path in ("/", "/activity", "/history", "/calendar"):
        page = client.get(path).text
        assert re.search(r"<title>\(3 waiting\) \w+", page), path
        assert re.search(r'>Queue <span class="waiting">3<span class="visually-hidden"> '
                         r"waiting</span>", page), path
    with store.begin() as conn:
        for post_id in posts.values():
            workflow.approve(conn, config, post_id, "web:ed")
    page = client.get("/").text
    assert "<title>Queue · pressbot</title>" in page and 'class="waiting"' not in page


def test_compact_queue_is_one_line_a_post_and_the_choice_is_kept(
        client: TestClient, store: Store, posts: dict[str, int]) -> None:
    sign_in(client, "rita")
    full = client.get("/").text
    assert "compact-post" not in full and 'href="/?view=compact"' in full
    compact = client.get("/?view=compact").text
    lines = re.findall(r'<details class="compact-post" id="line-(\d+)">\s*<summary>(.*?)'
                       r"</summary>", compact, re.S)
    assert sorted(int(i) for i, _ in lines) == sorted(posts.values())
    summary = dict(lines)[str(posts["mastodon"])]
    assert "<strong>mastodon</strong>" in summary and "pending" in summary
    # an approval redirects to the queue: it stays compact, until asked otherwise
    client.post(f"/posts/{posts['mastodon']}/approve", data={"csrf": csrf_of(compact)})
    assert "compact-post" in client.get("/").text
    assert "compact-post" not in client.get("/?view=full").text
    assert "compact-post" not in client.get("/").text
    assert client.get("/?view=tiny").status_code == 400


def test_published_and_rejected_posts_are_folded_away(client: TestClient, store: Store,
                                                      config: Config,
                                                      posts: dict[str, int]) -> None:
    with store.begin() as conn:
        workflow.reject(conn, posts["facebook"], "web:rita", "Not for Facebook")
    sign_in(client, "rita")
    page = client.get("/").text
    done = page[page.index('id="done"'):]
    assert re.search(r'<details class="done-list"><summary>Show the 1 post published or '
                     r"rejected</summary>", done)
    assert done.index('class="done-list"') < done.index(f'id="post-{posts["facebook"]}"')
    waiting = page[page.index('id="waiting"'):page.index('id="done"')]
    assert "done-list" not in waiting and f'id="post-{posts["mastodon"]}"' in waiting


def test_a_reviewer_pauses_one_channel_with_a_reason(client: TestClient, store: Store,
                                                     config: Config,
                                                     posts: dict[str, int]) -> None:
    sign_in(client, "rita")
    page = client.get("/").text
    assert "Channels: 3 running</summary>" in page
    assert client.post("/channels/mastodon/pause", data={"reason": "x"}).status_code == 403
    assert client.post("/channels/nope/pause", data={"csrf": csrf_of(page)}).status_code == 404
    done = client.post("/channels/mastodon/pause",
                       data={"csrf": csrf_of(page), "reason": "  Crisis:\n wait  "})
    assert done.status_code == 303
    with store.begin() as conn:
        state = channel_store.states(conn)["mastodon"]
        assert (state.paused_by, state.reason) == ("web:rita", "Crisis: wait")
        assert state.paused_at is not None
        when = state.paused_at
    page = client.get("/").text
    assert "Channel mastodon is paused</strong> by rita since " + \
        when.astimezone(config.tz).strftime("%a %-d %b %Y, %H:%M") in page
    assert "Why: Crisis: wait" in page
    assert "Channels: 2 running, 1 paused</summary>" in page
    assert 'action="/channels/mastodon/pause"' not in page      # already paused
    again = client.post("/channels/facebook/pause", data={"csrf": csrf_of(page)})
    assert again.status_code == 303
    with store.begin() as conn:
        assert channel_store.states(conn)["facebook"].reason == \
            "paused from the review page by rita"
    # the audit trail says it in a sentence, the CSV too
    activity = client.get("/activity").text
    assert "rita paused channel mastodon. Reason: Crisis: wait." in activity


def test_sign_out_here_keeps_the_other_devices(config: Config, store: Store,
                                               client: TestClient) -> None:
    sign_in(client, "ed")
    with client_for(config, store) as phone:
        sign_in(phone, "ed")
        laptop_cookie = stolen_cookie(client)
        page = client.get("/").text
        assert 'name="everywhere" value="1"' in page
        out = client.post("/signout", data={"csrf": csrf_of(page)})
        assert out.status_code == 303
        assert "signed out on this device" in client.get(out.headers["location"]).text
        assert replay(config, store, laptop_cookie) == 303     # this device's copy is dead
        assert phone.get("/").status_code == 200               # the phone stays signed in


def test_sign_out_everywhere_ends_every_session(config: Config, store: Store,
                                                client: TestClient) -> None:
    sign_in(client, "ed")
    with client_for(config, store) as phone:
        sign_in(phone, "ed")
        page = phone.get("/").text
        out = phone.post("/signout", data={"csrf": csrf_of(page), "everywhere": "1"})
        assert "signed out on every device" in phone.get(out.headers["location"]).text
        assert client.get("/").status_code == 303              # the laptop too
        sign_in(client, "ed")                                   # a new sign-in works
        assert client.get("/").status_code == 200


def test_an_unknown_address_gets_the_site_page(client: TestClient) -> None:
    anonymous = client.get("/no/such/page")
    assert anonymous.status_code == 404
    assert anonymous.headers["content-type"].startswith("text/html")
    assert anonymous.headers["x-frame-options"] == "DENY"
    page = anonymous.text
    assert '<html lang="en">' in page and "<title>Not found · pressbot</title>" in page
    assert 'href="/signin"' in page and "There is no page at this address" in page
    sign_in(client, "rita")
    signed_in = client.get("/static/nothing.css").text
    assert 'aria-label="Main"' in signed_in and "Back to the queue" in signed_in
    assert client.cookies.get(COOKIE)


def test_the_csv_has_titles_channels_and_no_json(client: TestClient, store: Store,
                                                 config: Config) -> None:
    import csv
    import io

    ids = queue(store, config, release(4))
    with store.begin() as conn:
        post_store.add_event(conn, actor="system", action="published", post_id=ids["mastodon"],
                             detail={"url": "file:///srv/outbox/mastodon/1.txt",
                                     "worker": "vm:1", "warnings": ["a", "b"]})
    sign_in(client, "rita")
    rows = list(csv.DictReader(io.StringIO(client.get("/activity.csv").text)))
    last = rows[-1]
    assert (last["title"], last["channel"]) == ("City opens riverside library number 4",
                                                "mastodon")
    assert last["what"] == "pressbot published it. Link: a file in the outbox; warnings: a; b."
    assert last["detail"] == "link: a file in the outbox; warnings: a; b"
    assert last["at"].endswith("+00:00")                       # UTC, ISO 8601
