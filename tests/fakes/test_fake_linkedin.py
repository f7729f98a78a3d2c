"""The fake LinkedIn itself, over raw HTTP: it must refuse and cut as docs/linkedin.md says,
or the adapter's tests would prove nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.linkedin import FakeLinkedIn, running

TOKEN = "AQVfake-test-token-5555"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "LinkedIn-Version": "202608",
           "X-Restli-Protocol-Version": "2.0.0"}


@pytest.fixture
def fake() -> Iterator[tuple[FakeLinkedIn, str]]:
    state = FakeLinkedIn()
    state.add_token(value=TOKEN)
    with running(state) as server:
        yield state, server.url


def body(state: FakeLinkedIn, commentary: str, **extra: Any) -> dict[str, Any]:
    return {"author": state.author, "commentary": commentary, "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED"}, "lifecycleState": "PUBLISHED",
            **extra}


def test_versions_are_enforced(fake: tuple[FakeLinkedIn, str]) -> None:
    state, url = fake
    missing = {k: v for k, v in HEADERS.items() if k != "LinkedIn-Version"}
    answer = httpx.post(f"{url}/rest/posts", json=body(state, "x"), headers=missing)
    assert (answer.status_code, answer.json()["code"]) == (400, "VERSION_MISSING")
    answer = httpx.post(f"{url}/rest/posts", json=body(state, "x"),
                        headers=HEADERS | {"LinkedIn-Version": "202401"})
    assert answer.status_code == 426
    assert answer.json() == {"status": 426, "code": "NONEXISTENT_VERSION",
                             "message": "Requested version 202401 is not active"}
    assert state.posts == {}


def test_an_unescaped_reserved_character_cuts_the_post_it_still_makes(
        fake: tuple[FakeLinkedIn, str]) -> None:
    state, url = fake
    answer = httpx.post(f"{url}/rest/posts", headers=HEADERS,
                        json=body(state, "Forty roofs (phase 2) #Solar"))
    assert answer.status_code == 201
    [made] = state.posts_of()
    assert answer.headers["x-restli-id"] == made.urn
    assert (made.commentary, made.cut) == ("Forty roofs ", True)
    answer = httpx.post(f"{url}/rest/posts", headers=HEADERS,
                        json=body(state, r"Forty roofs \(phase 2\) #Solar"))
    assert answer.status_code == 201
    assert state.posts_of()[-1].commentary == r"Forty roofs \(phase 2\) {hashtag|\#|Solar}"


def test_the_image_flow_and_its_refusals(fake: tuple[FakeLinkedIn, str]) -> None:
    state, url = fake
    init = httpx.post(f"{url}/rest/images?action=initializeUpload", headers=HEADERS,
                      json={"initializeUploadRequest": {"owner": state.author}})
    value = init.json()["value"]
    urn = value["image"]
    assert httpx.get(f"{url}/rest/images/{urn}", headers=HEADERS).json()["status"] == \
        "WAITING_UPLOAD"
    content = {"media": {"id": urn, "altText": "A roof"}}
    refused = httpx.post(f"{url}/rest/posts", headers=HEADERS,
                         json=body(state, "x", content=content))
    assert refused.status_code == 422
    assert httpx.put(value["uploadUrl"], content=b"\x89PNG...").status_code == 401
    assert httpx.put(value["uploadUrl"], content=b"\x89PNG...",
                     headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 201
    statuses = [httpx.get(f"{url}/rest/images/{urn}", headers=HEADERS).json()["status"]
                for _ in range(2)]
    assert statuses == ["PROCESSING", "AVAILABLE"]
    made = httpx.post(f"{url}/rest/posts", headers=HEADERS,
                      json=body(state, "x", content=content))
    assert made.status_code == 201


def test_scopes_and_the_page_role(fake: tuple[FakeLinkedIn, str]) -> None:
    state, url = fake
    reader = state.add_token(scopes=("r_organization_social",))
    stranger = state.add_token(organizations=())
    for token in (reader, stranger):
        answer = httpx.post(f"{url}/rest/posts", json=body(state, "x"),
                            headers=HEADERS | {"Authorization": f"Bearer {token}"})
        assert (answer.status_code, answer.json()["code"]) == (403, "ACCESS_DENIED")
    listing = httpx.get(f"{url}/rest/posts?author={state.author}&q=author", headers=HEADERS)
    assert listing.status_code == 400          # Rest.li 2.0: the URN must be encoded


def test_tokens_expire_and_are_revoked(fake: tuple[FakeLinkedIn, str]) -> None:
    state, url = fake
    state.expire(TOKEN)
    answer = httpx.post(f"{url}/rest/posts", json=body(state, "x"), headers=HEADERS)
    assert (answer.status_code, answer.json()["serviceErrorCode"]) == (401, 65601)
    other = state.add_token()
    state.revoke(other)
    answer = httpx.post(f"{url}/rest/posts", json=body(state, "x"),
                        headers=HEADERS | {"Authorization": f"Bearer {other}"})
    assert answer.json()["code"] == "REVOKED_ACCESS_TOKEN"


def test_duplicates_throttles_and_a_finished_post_when_the_client_has_gone(
        fake: tuple[FakeLinkedIn, str]) -> None:
    state, url = fake
    first = httpx.post(f"{url}/rest/posts", json=body(state, "Same text"), headers=HEADERS)
    again = httpx.post(f"{url}/rest/posts", json=body(state, "Same text"), headers=HEADERS)
    assert again.status_code == 422
    assert f"duplicate of {first.headers['x-restli-id']}" in again.json()["message"]
    state.fail_next("posts.create", 429)
    throttled = httpx.post(f"{url}/rest/posts", json=body(state, "Other"), headers=HEADERS)
    assert (throttled.status_code, throttled.json()["code"]) == (429, "TOO_MANY_REQUESTS")
    state.slow_after_processing(mode="drop")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{url}/rest/posts", json=body(state, "Lost answer"), headers=HEADERS)
    assert [p.commentary for p in state.posts_of()] == ["Same text", "Lost answer"]
