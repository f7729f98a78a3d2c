"""The fake Mastodon itself: if it drifts from the documented behaviour, channel tests lie."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from tests.fakes.mastodon import Account, FakeMastodon, running
from tests.fakes.mastodon_text import status_length

TOKEN = "fake-token-0123456789"


@dataclass
class Env:
    state: FakeMastodon
    account: Account
    client: httpx.Client

    def post(self, token: str = TOKEN, key: str | None = None, **data: object) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        return self.client.post("/api/v1/statuses", data=data, headers=headers)

    def upload(self, content: bytes = b"\x89PNG\r\n\x1a\nxx", content_type: str = "image/png",
               description: str | None = None) -> httpx.Response:
        data = {"description": description} if description is not None else {}
        return self.client.post("/api/v2/media", files={"file": ("a.png", content, content_type)},
                                data=data, headers={"Authorization": f"Bearer {TOKEN}"})


@pytest.fixture
def state() -> FakeMastodon:
    return FakeMastodon()


@pytest.fixture
def env(state: FakeMastodon) -> Iterator[Env]:
    account = state.add_account("newsroom")
    state.add_token(TOKEN, account, "read write")
    with running(state) as server, httpx.Client(base_url=server.url, timeout=5) as client:
        yield Env(state, account, client)


# ------------------------------------------------------------------ the length rule

@pytest.mark.parametrize(("text", "spoiler", "expected"), [
    ("hello", "", 5),
    ("👨‍👩‍👧‍👦", "", 1),                                   # one grapheme, seven code points
    ("e\u0301te\u0301", "", 3),                            # combining accents count once
    ("see https://example.org/a/very/long/path?x=1", "", 4 + 23),
    ("see https://example.org.", "", 4 + 23 + 1),          # the full stop is not in the URL
    ("see example.org", "", 15),                           # no scheme: counted literally
    ("hi @alice@social.example.net", "", len("hi @alice")),
    ("hi @alice", "", 9),
    ("body", "CW: news", 12),                              # the spoiler counts
    ("https://example.org/@bob@x.example", "", 23),        # a mention inside a URL is the URL
])
def test_status_length_follows_mastodon(text: str, spoiler: str, expected: int) -> None:
    assert status_length(text, spoiler) == expected


def test_length_limit_is_enforced_at_the_edge(env: Env) -> None:
    env.state.max_characters = 50
    assert env.post(status="é" * 50).status_code == 200
    assert env.post(status="x" * 51).status_code == 422
    at_limit = "x" * 26 + " https://example.org/" + "z" * 200   # 26 + 1 + 23 = 50
    assert env.post(status=at_limit).status_code == 200
    over = env.post(status="x" + at_limit)
    assert over.status_code == 422
    assert over.json() == {"error": "Validation failed: Text character limit of 50 exceeded"}
    spoiled = env.post(status="x" * 45, spoiler_text="123456")
    assert spoiled.status_code == 422


# ------------------------------------------------------------------ auth, validation, entity

def test_auth_errors_and_scopes(env: Env) -> None:
    env.state.add_token("writer-only-token", env.account, "write:statuses write:media")
    env.state.add_token("profile-token", env.account, "profile")
    bad = env.post(token="nope", status="hi")
    assert bad.status_code == 401
    assert bad.json() == {"error": "The access token is invalid"}
    creds = env.client.get("/api/v1/accounts/verify_credentials",
                           headers={"Authorization": "Bearer writer-only-token"})
    assert creds.status_code == 403
    assert creds.json() == {"error": "This action is outside the authorized scopes"}
    assert env.client.get("/api/v1/accounts/verify_credentials",
                          headers={"Authorization": "Bearer profile-token"}).json()["id"] == \
        env.account.id
    assert env.post(token="profile-token", status="hi").status_code == 403
    assert env.post(token="writer-only-token", status="hi").status_code == 200


def test_compat_mode_answers_in_plain_text(env: Env) -> None:
    env.state.compat_mode = True
    bad = env.post(token="nope", status="hi")
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("text/plain")
    ok = env.post(status="hi")
    assert ok.status_code == 200
    assert "x-ratelimit-remaining" not in ok.headers


def test_status_validation_and_entity(env: Env) -> None:
    assert env.post(status="   ").json() == {"error": "Validation failed: Text can't be blank"}
    assert env.post(status="hi", visibility="everyone").status_code == 422
    assert env.post(status="hi", in_reply_to_id="999").status_code == 404
    response = env.post(status="A & B <b>\nsee https://example.org/x?a=1&b=2 #News",
                        language="nl", spoiler_text="CW", visibility="unlisted")
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["id"], str)
    assert body["url"].endswith(f"/@newsroom/{body['id']}")
    assert body["content"].startswith("<p>A &amp; B &lt;b&gt;<br />see <a href=")
    assert 'href="https://example.org/x?a=1&amp;b=2"' in body["content"]
    assert 'class="mention hashtag"' in body["content"]
    assert (body["language"], body["spoiler_text"], body["visibility"], body["sensitive"]) == \
        ("nl", "CW", "unlisted", True)
    reply = env.post(status="part 2", in_reply_to_id=body["id"])
    assert reply.json()["in_reply_to_id"] == body["id"]
    as_json = env.client.post("/api/v1/statuses", json={"status": "json body"},
                              headers={"Authorization": f"Bearer {TOKEN}"})
    assert as_json.json()["content"] == "<p>json body</p>"


# ------------------------------------------------------------------ idempotency

def test_idempotency_key_replays_then_expires(env: Env) -> None:
    first = env.post(key="k1", status="one")
    again = env.post(key="k1", status="one, edited")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert len(env.state.statuses) == 1
    env.state.advance(3601)
    later = env.post(key="k1", status="one")
    assert later.json()["id"] != first.json()["id"]
    assert len(env.state.statuses) == 2


def test_idempotency_is_per_account_and_can_be_ignored(env: Env) -> None:
    other = env.state.add_account("other")
    env.state.add_token("other-token-123", other, "write")
    a = env.post(key="same", status="a").json()["id"]
    b = env.post(token="other-token-123", key="same", status="b").json()["id"]
    assert a != b
    env.state.ignore_idempotency = True
    c = env.post(key="same", status="a").json()["id"]
    assert c not in (a, b)
    assert len(env.state.statuses) == 3


def test_failed_request_stores_no_key(env: Env) -> None:
    assert env.post(key="k", status="x" * 501).status_code == 422
    assert env.post(key="k", status="short").status_code == 200


# ------------------------------------------------------------------ media

def test_media_206_flow_and_attachment_rules(env: Env) -> None:
    env.state.slow_media = True
    upload = env.upload(description="A chart")
    assert upload.status_code == 202
    media = upload.json()
    assert media["url"] is None
    assert media["description"] == "A chart"
    early = env.post(status="with image", **{"media_ids[]": media["id"]})
    assert early.status_code == 422
    auth = {"Authorization": f"Bearer {TOKEN}"}
    codes = [env.client.get(f"/api/v1/media/{media['id']}", headers=auth).status_code
             for _ in range(3)]
    assert codes == [206, 206, 200]
    posted = env.post(status="with image", **{"media_ids[]": media["id"]})
    assert posted.status_code == 200
    assert posted.json()["media_attachments"][0]["description"] == "A chart"
    assert env.client.get(f"/api/v1/media/{media['id']}", headers=auth).status_code == 404
    reused = env.post(status="again", **{"media_ids[]": media["id"]})
    assert reused.status_code == 422


def test_media_limits(env: Env) -> None:
    env.state.description_limit = 10
    env.state.image_size_limit = 100
    assert env.upload(description="x" * 11).status_code == 422
    assert env.upload(content=b"x" * 101).status_code == 422
    assert env.upload(content_type="text/plain").status_code == 422
    ok = env.upload(description="short")
    assert ok.status_code == 200
    assert ok.json()["url"]
    ids = [env.upload().json()["id"] for _ in range(4)]
    five = env.post(status="many", **{"media_ids[]": [ok.json()["id"], *ids]})
    assert five.status_code == 422


def test_media_of_another_account_is_not_found(env: Env) -> None:
    other = env.state.add_account("other")
    env.state.add_token("other-token-123", other, "write")
    media_id = env.upload().json()["id"]
    stolen = env.post(token="other-token-123", status="mine", **{"media_ids[]": media_id})
    assert stolen.status_code == 422


# ------------------------------------------------------------------ reading back

def test_account_statuses_paging_with_link_headers(env: Env) -> None:
    ids = [env.post(status=f"post {i}").json()["id"] for i in range(45)]
    url = f"/api/v1/accounts/{env.account.id}/statuses"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    first = env.client.get(url, headers=auth)
    assert [s["id"] for s in first.json()] == ids[::-1][:20]   # newest first, default 20
    page = env.client.get(url, params={"limit": 100}, headers=auth)
    assert len(page.json()) == 40                               # the maximum
    next_url = page.links["next"]["url"]
    assert f"max_id={ids[5]}" in next_url
    rest = env.client.get(next_url, headers=auth)
    assert [s["id"] for s in rest.json()] == ids[4::-1]
    assert "next" not in rest.links
    prev = env.client.get(rest.links["prev"]["url"], headers=auth)
    assert [s["id"] for s in prev.json()] == ids[::-1][:40]
    assert env.client.get(url).status_code == 200               # public: no token needed
    env.state.add_token("write-only-token", env.account, "write")
    assert env.client.get(url, headers={"Authorization": "Bearer write-only-token"}
                          ).status_code == 403


# ------------------------------------------------------------------ rate limits and failures

def test_rate_limit_headers_and_statuses_family(env: Env) -> None:
    env.state.statuses_limit = 2
    first = env.post(status="1")
    reset = first.headers["x-ratelimit-reset"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", reset)
    assert datetime.fromisoformat(reset.replace("Z", "+00:00")) > datetime.now(UTC)
    assert (first.headers["x-ratelimit-limit"], first.headers["x-ratelimit-remaining"]) == \
        ("2", "1")
    assert env.post(status="2").headers["x-ratelimit-remaining"] == "0"
    third = env.post(status="3")
    assert third.status_code == 429
    assert third.json() == {"error": "Too many requests"}
    assert third.headers["x-ratelimit-remaining"] == "0"
    assert "retry-after" not in third.headers
    assert len(env.state.statuses) == 2
    env.state.advance(env.state.statuses_window)
    assert env.post(status="4").status_code == 200


def test_injected_failures_create_nothing(env: Env) -> None:
    env.state.fail("statuses", 502, kind="html", times=2)
    for _ in range(2):
        response = env.post(status="hi")
        assert response.status_code == 502
        assert response.headers["content-type"].startswith("text/html")
    assert not env.state.statuses
    assert env.post(status="hi").status_code == 200
    recorded = env.state.requests_to("statuses")
    assert len(recorded) == 3
    assert recorded[0].form["status"] == ["hi"]


def test_dropped_answer_after_processing_leaves_the_status(env: Env) -> None:
    env.state.slow_after_processing("statuses", mode="drop")
    with pytest.raises(httpx.RemoteProtocolError):
        env.post(key="k", status="lost answer")
    assert [s.text for s in env.state.statuses.values()] == ["lost answer"]


def test_stall_after_processing_outlasts_a_client_timeout(env: Env) -> None:
    env.state.slow_after_processing("statuses", seconds=3)
    with pytest.raises(httpx.ReadTimeout):
        env.client.post("/api/v1/statuses", data={"status": "slow"}, timeout=0.3,
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert [s.text for s in env.state.statuses.values()] == ["slow"]


def test_instance_v2_and_v1_fallback(env: Env) -> None:
    env.state.max_characters = 1000
    v2 = env.client.get("/api/v2/instance").json()
    assert v2["configuration"]["statuses"]["max_characters"] == 1000
    env.state.instance_v2 = False
    assert env.client.get("/api/v2/instance").status_code == 404
    v1 = env.client.get("/api/v1/instance").json()
    assert v1["configuration"]["statuses"]["characters_reserved_per_url"] == 23
