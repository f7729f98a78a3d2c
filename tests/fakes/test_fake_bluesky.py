"""The fake PDS enforces the rules it claims to, over raw HTTP (no pressbot code involved).

A fake that accepted anything would let a broken client pass; each rule here is one the
Bluesky channel relies on the fake to enforce.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.bluesky import POST, POSTGATE, THREADGATE, FakePDS, running

PASSWORD = "abcd-efgh-ijkl-mnop"
RKEY = "3kabcdefghij2"


class Env:
    def __init__(self, state: FakePDS, url: str) -> None:
        self.state, self.url = state, url
        self.http = httpx.Client(base_url=f"{url}/xrpc/")
        self.did = next(iter(state.accounts))

    def login(self, password: str = PASSWORD) -> httpx.Response:
        return self.http.post("com.atproto.server.createSession",
                              json={"identifier": "newsroom.example.org", "password": password})

    def session(self) -> dict[str, Any]:
        answer = self.login()
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    def put(self, token: str, record: dict[str, Any], rkey: str = RKEY,
            collection: str = POST, **extra: Any) -> httpx.Response:
        return self.http.post("com.atproto.repo.putRecord",
                              headers={"Authorization": f"Bearer {token}"},
                              json={"repo": self.did, "collection": collection, "rkey": rkey,
                                    "record": record, **extra})


@pytest.fixture
def env() -> Iterator[Env]:
    state = FakePDS()
    state.add_account("newsroom.example.org", PASSWORD)
    with running(state) as server:
        environment = Env(state, server.url)
        yield environment
        environment.http.close()


def post(text: str = "Hello", **fields: Any) -> dict[str, Any]:
    return {"$type": POST, "text": text, "createdAt": "2026-03-01T09:00:00.000Z"} | fields


def error(answer: httpx.Response) -> tuple[int, str, str]:
    body = answer.json()
    return answer.status_code, body["error"], body["message"]


def test_sessions_expire_rotate_and_die_with_their_app_password(env: Env) -> None:
    assert error(env.login("wrong"))[:2] == (401, "AuthenticationRequired")
    first = env.session()
    assert env.put(first["accessJwt"], post()).status_code == 200
    env.state.expire_access_tokens()
    assert error(env.put(first["accessJwt"], post(), rkey="3kabcdefghij3"))[:2] == \
        (400, "ExpiredToken")
    refresh = {"Authorization": f"Bearer {first['refreshJwt']}"}
    renewed = env.http.post("com.atproto.server.refreshSession", headers=refresh)
    assert renewed.status_code == 200
    again = env.http.post("com.atproto.server.refreshSession", headers=refresh)
    assert error(again)[:2] == (400, "ExpiredToken")        # rotated: usable once
    assert env.put(renewed.json()["accessJwt"], post(), rkey="3kabcdefghij3").status_code == 200
    env.state.revoke(PASSWORD)
    assert error(env.put(renewed.json()["accessJwt"], post(), rkey="3kabcdefghij4"))[:2] == \
        (400, "InvalidToken")
    assert error(env.login())[:2] == (401, "AuthenticationRequired")


def test_text_over_300_graphemes_is_refused_but_300_emoji_families_pass(env: Env) -> None:
    token = env.session()["accessJwt"]
    family = "👩‍👩‍👧"   # one grapheme, five code points, 18 bytes
    assert error(env.put(token, post(family * 167)))[2].endswith("3000 characters")
    assert env.put(token, post("é" * 300)).status_code == 200
    status, name, message = error(env.put(token, post("a" * 301), rkey="3kabcdefghij3"))
    assert (status, name) == (400, "InvalidRequest")
    assert "300 graphemes" in message


@pytest.mark.parametrize(("start", "end", "why"), [
    (0, 40, "outside the text"), (5, 5, "outside the text"), (1, 6, "inside a UTF-8 character")])
def test_facet_ranges_must_lie_inside_the_text_on_character_boundaries(
        env: Env, start: int, end: int, why: str) -> None:
    token = env.session()["accessJwt"]
    facet = {"index": {"byteStart": start, "byteEnd": end},
             "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "x"}]}
    answer = env.put(token, post("🌞 #x and more", facets=[facet]))
    assert answer.status_code == 400
    assert why in error(answer)[2]


def test_blob_references_must_exist_for_the_account_and_fit(env: Env) -> None:
    token = env.session()["accessJwt"]
    auth = {"Authorization": f"Bearer {token}"}
    ghost = {"$type": "blob", "ref": {"$link": "bafkreighost"}, "mimeType": "image/png",
             "size": 3}
    images = {"$type": "app.bsky.embed.images", "images": [{"image": ghost, "alt": ""}]}
    assert "Could not find blob" in error(env.put(token, post(embed=images)))[2]
    big = env.http.post("com.atproto.repo.uploadBlob", content=b"\x89PNG" + b"0" * 1_000_000,
                        headers={**auth, "Content-Type": "image/png"}).json()["blob"]
    images["images"] = [{"image": big, "alt": "too big for a post"}]
    assert error(env.put(token, post(embed=images))) == (  # the lexicon's 1,000,000 bytes
        400, "BlobTooLarge", "This file is too large. It is 976.57KB but the maximum size "
                             "is 976.56KB.")
    small = env.http.post("com.atproto.repo.uploadBlob", content=b"\x89PNG small",
                          headers={**auth, "Content-Type": "image/png"}).json()["blob"]
    images["images"] = [{"image": small, "alt": "fits", "aspectRatio": {"width": 4,
                                                                        "height": 3}}]
    assert env.put(token, post(embed=images)).status_code == 200


def test_record_keys_are_tids_and_unique(env: Env) -> None:
    token = env.session()["accessJwt"]
    assert "valid TID" in error(env.put(token, post(), rkey="pressbot-post-1"))[2]
    first = env.put(token, post(), swapRecord=None)
    assert first.status_code == 200
    second = env.put(token, post("Another"), swapRecord=None)
    assert error(second)[:2] == (400, "InvalidSwap")
    created = env.http.post("com.atproto.repo.createRecord",
                            headers={"Authorization": f"Bearer {token}"},
                            json={"repo": env.did, "collection": POST, "rkey": RKEY,
                                  "record": post("Third")})
    assert created.status_code == 500                    # as the reference PDS's repo tree
    [stored] = env.state.records.values()
    assert stored.value["text"] == "Hello"
    found = env.http.get("com.atproto.repo.getRecord",
                         params={"repo": env.did, "collection": POST, "rkey": RKEY})
    assert found.json()["uri"] == first.json()["uri"]
    missing = env.http.get("com.atproto.repo.getRecord",
                           params={"repo": env.did, "collection": POST, "rkey": "3kabcdefghij9"})
    assert error(missing)[:2] == (400, "RecordNotFound")


def test_writes_are_rate_limited_with_reset_headers(env: Env) -> None:
    env.state.write_points = 4
    token = env.session()["accessJwt"]
    ok = env.put(token, post(), rkey="3kabcdefghij2")
    assert ok.headers["ratelimit-remaining"] == "2"
    assert env.put(token, post(), rkey="3kabcdefghij3").status_code == 200
    limited = env.put(token, post(), rkey="3kabcdefghij4")
    assert error(limited)[:2] == (429, "RateLimitExceeded")
    assert int(limited.headers["ratelimit-reset"]) > env.state.now()
    assert limited.headers["ratelimit-policy"] == "4;w=3600"


def test_a_reply_names_existing_posts_at_their_cid_under_one_root(env: Env) -> None:
    token = env.session()["accessJwt"]
    root = env.put(token, post("Root")).json()
    ref = {"uri": root["uri"], "cid": root["cid"]}
    stale = {"uri": root["uri"], "cid": "bafyreinotthisone"}
    ghost = {"uri": root["uri"].replace(RKEY, "3kabcdefghij9"), "cid": root["cid"]}
    for bad, why in ((stale, "is at cid"), (ghost, "no post at"),
                     ({"uri": root["uri"]}, "strongRef")):
        answer = env.put(token, post("Reply", reply={"root": ref, "parent": bad}),
                         rkey="3kabcdefghij3")
        assert error(answer)[:2] == (400, "InvalidRequest") and why in error(answer)[2]
    first = env.put(token, post("One", reply={"root": ref, "parent": ref}), rkey="3kabcdefghij3")
    assert first.status_code == 200, first.text
    one = {"uri": first.json()["uri"], "cid": first.json()["cid"]}
    # a reply's root must be its parent's root, and never a reply itself
    other = env.put(token, post("Other root"), rkey="3kabcdefghij4").json()
    wrong_root = {"uri": other["uri"], "cid": other["cid"]}
    assert "thread starts at" in error(env.put(
        token, post("Two", reply={"root": wrong_root, "parent": one}), rkey="3kabcdefghij5"))[2]
    assert "itself a reply" in error(env.put(
        token, post("Two", reply={"root": one, "parent": one}), rkey="3kabcdefghij5"))[2]
    assert env.put(token, post("Two", reply={"root": ref, "parent": one}),
                   rkey="3kabcdefghij5").status_code == 200


def test_self_labels_have_their_type_and_at_most_ten_values(env: Env) -> None:
    token = env.session()["accessJwt"]
    labels = {"$type": "com.atproto.label.defs#selfLabels", "values": [{"val": "graphic-media"}]}
    assert "selfLabels" in error(env.put(token, post(labels={"values": []})))[2]
    too_many = {**labels, "values": [{"val": "x"}] * 11}
    assert "at most 10" in error(env.put(token, post(labels=too_many)))[2]
    assert env.put(token, post(labels=labels)).status_code == 200


@pytest.mark.parametrize("collection", [THREADGATE, POSTGATE])
def test_a_gate_sits_at_its_post_s_key_in_the_same_repository(env: Env, collection: str) -> None:
    token = env.session()["accessJwt"]
    uri = env.put(token, post()).json()["uri"]
    rules = {"allow": [{"$type": f"{THREADGATE}#mentionRule"}]} if collection == THREADGATE \
        else {"embeddingRules": [{"$type": f"{POSTGATE}#disableRule"}]}
    gate = {"$type": collection, "post": uri, "createdAt": "2026-03-01T09:00:01.000Z", **rules}
    elsewhere = env.put(token, gate, rkey="3kabcdefghij3", collection=collection)
    assert error(elsewhere)[:2] == (400, "InvalidRequest")
    assert "same record key" in error(elsewhere)[2]
    orphan = {**gate, "post": uri.replace(RKEY, "3kabcdefghij3")}
    assert "no post at" in error(env.put(token, orphan, rkey="3kabcdefghij3",
                                         collection=collection))[2]
    unknown = {**gate, **{k: [{"$type": f"{collection}#everybodyRule"}] for k in rules}}
    assert "unknown rule" in error(env.put(token, unknown, collection=collection))[2]
    assert env.put(token, gate, collection=collection, swapRecord=None).status_code == 200
    assert error(env.put(token, gate, collection=collection, swapRecord=None))[1] == \
        "InvalidSwap"
    [stored] = env.state.gates.values()
    assert (stored.rkey, stored.value["post"]) == (RKEY, uri)
    assert list(env.state.records) == [(env.did, RKEY)]   # posts and gates apart
