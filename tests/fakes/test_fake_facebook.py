"""The fake Graph API answers in the documented shapes: adapters can trust what it enforces."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.fakes.facebook import FakeGraph, FakePost, Usage, create_app, fresh_graph
from tests.fakes.server import LiveServer

V = "v21.0"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(create_app(FakeGraph())) as live:
        yield live


@pytest.fixture
def graph(server: LiveServer) -> FakeGraph:
    return fresh_graph(server)


@pytest.fixture
def http(server: LiveServer, graph: FakeGraph) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5) as client:
        yield client


def error_of(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body) == {"error"}
    err = body["error"]
    assert isinstance(err, dict)
    assert {"message", "type", "code", "is_transient", "fbtrace_id"} <= set(err)
    assert isinstance(err["fbtrace_id"], str)
    assert err["fbtrace_id"]
    return err


def test_unknown_token_is_190_in_the_documented_shape(http: httpx.Client) -> None:
    response = http.get(f"/{V}/me", params={"access_token": "EAAnot-a-token"})
    assert response.status_code == 400
    err = error_of(response)
    assert err["code"] == 190
    assert err["type"] == "OAuthException"
    assert err["is_transient"] is False
    assert "x-app-usage" in response.headers


@pytest.mark.parametrize("path", ["/me", "/v99.0/me"])
def test_missing_or_unknown_version_is_refused(http: httpx.Client, graph: FakeGraph,
                                               path: str) -> None:
    response = http.get(path, params={"access_token": graph.page_token})
    assert error_of(response)["code"] == 2635


def test_expired_and_invalidated_tokens_carry_their_subcodes(http: httpx.Client,
                                                            graph: FakeGraph) -> None:
    past = int((datetime.now(UTC) - timedelta(hours=1)).timestamp())
    expired = graph.add_token("PAGE", scopes=("pages_manage_posts",), expires_at=past).value
    err = error_of(http.get(f"/{V}/me", params={"access_token": expired}))
    assert (err["code"], err["error_subcode"]) == (190, 463)
    graph.invalidate(graph.page_token, 460)
    err = error_of(http.get(f"/{V}/me", params={"access_token": graph.page_token}))
    assert (err["code"], err["error_subcode"]) == (190, 460)
    assert "password" in str(err["message"])


def test_token_from_bearer_or_oauth_header(http: httpx.Client, graph: FakeGraph) -> None:
    for scheme in ("Bearer", "OAuth"):
        response = http.get(f"/{V}/me", headers={"Authorization": f"{scheme} {graph.page_token}"})
        assert response.json() == {"id": graph.page_id, "name": graph.page_name}


def test_appsecret_proof_is_required_and_verified() -> None:
    graph = FakeGraph(app_secret="app-secret-123")
    with LiveServer(create_app(graph)) as server, httpx.Client(base_url=server.url) as http:
        base = {"access_token": graph.page_token}
        missing = error_of(http.get(f"/{V}/me", params=base))
        assert missing["code"] == 100
        assert "appsecret_proof" in str(missing["message"])
        wrong = error_of(http.get(f"/{V}/me", params=base | {"appsecret_proof": "00" * 32}))
        assert wrong["code"] == 100
        assert "appsecret_proof" in str(wrong["message"])
        good = hmac.new(b"app-secret-123", graph.page_token.encode(), hashlib.sha256).hexdigest()
        ok = http.get(f"/{V}/me", params=base | {"appsecret_proof": good})
        assert ok.status_code == 200
        assert ok.json()["id"] == graph.page_id


def test_debug_token_describes_a_page_token(http: httpx.Client, graph: FakeGraph) -> None:
    response = http.get(f"/{V}/debug_token", params={"input_token": graph.page_token,
                                                     "access_token": graph.app_token})
    data = response.json()["data"]
    assert data["type"] == "PAGE"
    assert data["profile_id"] == graph.page_id
    assert data["is_valid"] is True
    assert data["expires_at"] == 0
    assert "pages_manage_posts" in data["scopes"]
    refused = http.get(f"/{V}/debug_token", params={"input_token": graph.page_token,
                                                    "access_token": graph.page_token})
    assert error_of(refused)["code"] == 100


def test_me_with_metadata_tells_a_person_from_a_page(http: httpx.Client, graph: FakeGraph) -> None:
    person = http.get(f"/{V}/me", params={"access_token": graph.user_token, "metadata": "1",
                                          "fields": "id,name"}).json()
    assert person["id"] == graph.user_id
    assert person["metadata"] == {"type": "user"}
    bad = http.get(f"/{V}/me", params={"access_token": graph.page_token, "fields": "id,nope"})
    assert "nonexisting field (nope)" in str(error_of(bad)["message"])


def test_two_phase_publishing(http: httpx.Client, graph: FakeGraph) -> None:
    token = {"access_token": graph.page_token}
    created = http.post(f"/{V}/{graph.page_id}/feed", data=token | {
        "message": "Hello", "link": "https://example.org/a", "published": "false",
        "fields": "id,permalink_url,created_time"}).json()
    post_id = created["id"]
    assert post_id.startswith(graph.page_id + "_")
    assert created["permalink_url"]
    live = http.get(f"/{V}/{graph.page_id}/posts", params=token).json()
    assert live["data"] == []
    drafts = http.get(f"/{V}/{graph.page_id}/promotable_posts",
                      params=token | {"is_published": "false", "fields": "id,is_published"})
    assert drafts.json()["data"] == [{"id": post_id, "is_published": False}]
    flip = http.post(f"/{V}/{post_id}", data=token | {"is_published": "true"})
    assert flip.json() == {"success": True}
    again = http.post(f"/{V}/{post_id}", data=token | {"is_published": "true"})
    assert again.json() == {"success": True}
    listed = http.get(f"/{V}/{graph.page_id}/feed",
                      params=token | {"fields": "id,message,attachments{unshimmed_url}"}).json()
    assert [p["id"] for p in listed["data"]] == [post_id]
    assert listed["data"][0]["attachments"]["data"][0]["unshimmed_url"] == "https://example.org/a"


def test_posting_rules(http: httpx.Client, graph: FakeGraph) -> None:
    url = f"/{V}/{graph.page_id}/feed"
    as_user = http.post(url, data={"access_token": graph.user_token, "message": "x"})
    assert error_of(as_user)["code"] == 200
    read_only = graph.add_token("PAGE", scopes=("pages_read_engagement",)).value
    err = error_of(http.post(url, data={"access_token": read_only, "message": "x"}))
    assert err["code"] == 200
    assert "pages_manage_posts" in str(err["message"])
    first = http.post(url, data={"access_token": graph.page_token, "message": "Same"})
    assert first.status_code == 200
    duplicate = error_of(http.post(url, data={"access_token": graph.page_token,
                                              "message": "Same"}))
    assert duplicate["code"] == 506
    assert duplicate["message"] == "(#506) Duplicate status message"
    assert duplicate["error_user_msg"]
    late = int((datetime.now(UTC) + timedelta(days=40)).timestamp())
    window = http.post(url, data={"access_token": graph.page_token, "message": "Later",
                                  "published": "false", "scheduled_publish_time": str(late)})
    assert error_of(window)["code"] == 100


def test_photos_by_url_and_upload(http: httpx.Client, graph: FakeGraph) -> None:
    url = f"/{V}/{graph.page_id}/photos"
    token = {"access_token": graph.page_token}
    image = graph.add_image("a.png")
    body = http.post(url, data=token | {"url": image, "caption": "Look"}).json()
    assert set(body) == {"id", "post_id"}
    assert body["post_id"].startswith(graph.page_id + "_")
    assert graph.posts[body["post_id"]].message == "Look"
    missing = http.post(url, data=token | {"url": "https://nowhere.invalid/x.png"})
    assert error_of(missing)["code"] == 100
    uploaded = http.post(url, data=token | {"caption": "Upload"},
                         files={"source": ("b.png", b"\x89PNG data", "image/png")}).json()
    assert graph.photos[uploaded["id"]]["bytes"] == len(b"\x89PNG data")


def test_injected_failures_have_documented_statuses(http: httpx.Client, graph: FakeGraph) -> None:
    graph.fail_next("me", 2)
    graph.fail_next("me", 368)
    params = {"access_token": graph.page_token}
    first = http.get(f"/{V}/me", params=params)
    assert first.status_code == 500
    assert error_of(first)["is_transient"] is True
    second = http.get(f"/{V}/me", params=params)
    assert second.status_code == 400
    assert error_of(second)["code"] == 368
    assert http.get(f"/{V}/me", params=params).status_code == 200


def test_throttle_reports_time_to_regain_access(http: httpx.Client, graph: FakeGraph) -> None:
    graph.throttle(80001, minutes=7)
    response = http.get(f"/{V}/me", params={"access_token": graph.page_token})
    assert error_of(response)["code"] == 80001
    usage = json.loads(response.headers["x-business-use-case-usage"])
    entry = usage[graph.page_id][0]
    assert entry["type"] == "pages"
    assert entry["estimated_time_to_regain_access"] == 7
    assert entry["call_count"] == 100
    graph.throttle(None)
    graph.usage = Usage(call_count=91)
    calm = http.get(f"/{V}/me", params={"access_token": graph.page_token})
    assert json.loads(calm.headers["x-business-use-case-usage"])[graph.page_id][0][
        "call_count"] == 91


def test_listing_pages_and_since(http: httpx.Client, graph: FakeGraph) -> None:
    now = datetime.now(UTC)
    for n in range(30):
        post_id = f"{graph.page_id}_{n}"
        graph.posts[post_id] = FakePost(post_id, graph.page_id, n, f"post {n}", None,
                                        now - timedelta(hours=30 - n), True)
    params = {"access_token": graph.page_token, "limit": "10"}
    first = http.get(f"/{V}/{graph.page_id}/posts", params=params).json()
    assert [p["message"] for p in first["data"]][:2] == ["post 29", "post 28"]
    assert first["paging"]["next"].startswith(graph.base_url)
    second = http.get(f"/{V}/{graph.page_id}/posts",
                      params=params | {"after": first["paging"]["cursors"]["after"]}).json()
    assert second["data"][0]["message"] == "post 19"
    since = int((now - timedelta(hours=5, minutes=30)).timestamp())
    recent = http.get(f"/{V}/{graph.page_id}/posts", params=params | {"since": str(since)})
    assert [p["message"] for p in recent.json()["data"]] == [f"post {n}" for n in range(29, 24, -1)]


def test_dropped_answer_still_creates_the_post(http: httpx.Client, graph: FakeGraph) -> None:
    graph.ambiguous_next("feed.create")
    with pytest.raises(httpx.RemoteProtocolError):
        http.post(f"/{V}/{graph.page_id}/feed", data={"access_token": graph.page_token,
                                                       "message": "lost"})
    assert [p.message for p in graph.live_posts()] == ["lost"]


def test_concurrent_posts_get_distinct_ids(http: httpx.Client, graph: FakeGraph) -> None:
    ids: list[str] = []

    def post(n: int) -> None:
        body = http.post(f"/{V}/{graph.page_id}/feed",
                         data={"access_token": graph.page_token, "message": f"m{n}"}).json()
        ids.append(body["id"])

    threads = [threading.Thread(target=post, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 12 == len(graph.live_posts())
    assert len(graph.requests_to("feed.create")) == 12
