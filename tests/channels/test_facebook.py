"""FacebookChannel against the fake Graph API over real HTTP on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import FacebookConfig
from bot.models import Image, Post, PostStatus
from channels.base import Ambiguous, Channel, ChannelError, Permanent, Transient
from channels.facebook import THROTTLE_BACKOFF, FacebookChannel
from tests.fakes.facebook import FakeGraph, FakePost, Usage, create_app, fresh_graph
from tests.fakes.server import LiveServer

pytestmark = pytest.mark.anyio
LINK = "https://example.org/news/solar-roofs"
TEXT = "The city puts solar panels on 40 school roofs this summer."


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer]:
    with LiveServer(create_app(FakeGraph())) as live:
        yield live


@pytest.fixture
def graph(server: LiveServer) -> FakeGraph:
    """A fresh fake Page for each test, served by the module's one server."""
    return fresh_graph(server)


@pytest.fixture
def make(server: LiveServer, graph: FakeGraph, client: httpx.AsyncClient) -> Any:
    def build(**overrides: Any) -> FacebookChannel:
        values: dict[str, Any] = {
            "type": "facebook", "page_id": graph.page_id, "page_access_token": graph.page_token,
            "graph_url": server.url, "api_version": "v21.0", "timeout": 3,
        } | overrides
        return FacebookChannel("facebook", FacebookConfig(**values), client)
    return build


def make_post(post_id: int = 1, **overrides: Any) -> Post:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": post_id, "channel": "facebook", "status": PostStatus.PUBLISHING, "text": TEXT,
        "link": LINK, "created_at": now - timedelta(minutes=5), "claimed_at": now,
    } | overrides
    return Post(**values)


async def test_is_a_channel_with_declared_limits(make: Any) -> None:
    channel = make()
    assert isinstance(channel, Channel)
    assert channel.limits.max_chars == 63206
    assert channel.limits.soft_chars == 500
    assert channel.limits.max_images == 1


async def test_link_post_goes_out_in_two_phases(make: Any, graph: FakeGraph) -> None:
    receipt = await make().publish(make_post())
    [live] = graph.live_posts()
    assert receipt.remote_id == live.id
    assert receipt.remote_url == live.permalink
    assert (live.message, live.link) == (TEXT, LINK)
    [create] = graph.requests_to("feed.create")
    assert create.params["published"] == "false"
    assert create.params["message"] == TEXT
    assert create.path == f"/v21.0/{graph.page_id}/feed"
    [flip] = graph.requests_to("post.update")
    assert flip.path == f"/v21.0/{live.id}"
    assert flip.params["is_published"] == "true"
    assert graph.requests.index(create) < graph.requests.index(flip)


async def test_publishing_twice_returns_the_first_publication(make: Any, graph: FakeGraph) -> None:
    channel = make()
    post = make_post()
    first = await channel.publish(post)
    second = await channel.publish(post)     # a retry: the same post, the same first claim
    assert first.remote_id == second.remote_id
    assert second.matched and "approved text" in second.matched
    assert len(graph.live_posts()) == 1
    assert len(graph.requests_to("feed.create")) == 1


async def test_photo_post_by_url(make: Any, graph: FakeGraph) -> None:
    url = graph.add_image("roofs.png")
    post = make_post(images=[Image(url=url, alt="Panels on a roof")])
    receipt = await make(post_as="photo").publish(post)
    [live] = graph.live_posts()
    assert receipt.remote_id == live.id
    assert live.photo_id is not None
    [call] = graph.requests_to("photos.create")
    assert call.params["url"] == url
    assert call.params["caption"] == f"{TEXT}\n\n{LINK}"
    assert call.params["alt_text_custom"] == "Panels on a roof"
    assert graph.requests_to("feed.create") == []


async def test_photo_post_uploads_a_local_file(make: Any, graph: FakeGraph,
                                               tmp_path: Path) -> None:
    image = tmp_path / "roofs.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n pretend image")
    await make(post_as="photo").publish(make_post(images=[Image(url=str(image))]))
    [photo] = graph.photos.values()
    assert photo["bytes"] == len(b"\x89PNG\r\n\x1a\n pretend image")


async def test_unreachable_photo_url_is_permanent(make: Any, graph: FakeGraph) -> None:
    post = make_post(images=[Image(url="https://images.invalid/missing.png")])
    with pytest.raises(Permanent, match="could not be downloaded"):
        await make(post_as="photo").publish(post)
    assert graph.live_posts() == []


async def test_appsecret_proof_is_sent_on_every_call(client: httpx.AsyncClient) -> None:
    secret = "app-secret-for-tests"
    graph = FakeGraph(app_secret=secret)
    with LiveServer(create_app(graph)) as live:
        graph.base_url = live.url
        config = FacebookConfig(type="facebook", page_id=graph.page_id,
                                page_access_token=graph.page_token, app_secret=secret,
                                app_token=graph.app_token, graph_url=live.url)
        channel = FacebookChannel("facebook", config, client)
        assert (await channel.check()).ok
        await channel.publish(make_post())
        assert len(graph.live_posts()) == 1
        assert len(graph.requests) >= 5
        for request in graph.requests:
            assert request.token is not None
            wanted = hmac.new(secret.encode(), request.token.encode(), hashlib.sha256).hexdigest()
            assert request.params["appsecret_proof"] == wanted

        wrong = FacebookChannel("facebook", config.model_copy(
            update={"app_secret": config.app_secret.__class__("not-the-secret")}), client)
        with pytest.raises(Permanent) as caught:
            await wrong.publish(make_post(2, text="Another text"))
        assert "appsecret_proof" in str(caught.value)
        assert "app_secret" in caught.value.hint


@pytest.mark.parametrize(("subcode", "words"), [
    (463, "expired"), (460, "password"), (467, "no longer valid"), (458, "authorise"),
    (492, "role"),
])
async def test_dead_token_is_permanent_with_a_specific_hint(make: Any, graph: FakeGraph,
                                                            subcode: int, words: str) -> None:
    graph.invalidate(graph.page_token, subcode)
    with pytest.raises(Permanent) as caught:
        await make().publish(make_post())
    assert words in caught.value.hint
    assert f"#190/{subcode}" in caught.value.reason
    assert graph.requests_to("feed.create") == []
    check = await make().check()
    assert not check.ok
    assert words in check.summary


async def test_check_accepts_the_page_token(make: Any, graph: FakeGraph) -> None:
    plain = await make().check()
    assert plain.ok
    assert graph.page_name in plain.summary
    assert any("app_token" in w for w in plain.warnings)
    deep = await make(app_token=graph.app_token).check()
    assert deep.ok
    assert deep.warnings == []
    assert deep.details["type"] == "PAGE"


async def test_check_explains_a_bad_app_token(make: Any, graph: FakeGraph) -> None:
    check = await make(app_token=graph.page_token).check()
    assert not check.ok
    assert "app_token" in check.summary


async def test_check_refuses_a_user_token(make: Any, graph: FakeGraph) -> None:
    for channel in (make(page_access_token=graph.user_token),
                    make(page_access_token=graph.user_token, app_token=graph.app_token)):
        check = await channel.check()
        assert not check.ok
        assert "this is a user token; a Page token is needed" in check.summary
        assert "/me/accounts" in check.summary


async def test_check_names_missing_permissions_and_warns_of_expiry(make: Any,
                                                                   graph: FakeGraph) -> None:
    soon = int((datetime.now(UTC) + timedelta(days=3)).timestamp())
    token = graph.add_token("PAGE", scopes=("pages_read_engagement",), expires_at=soon).value
    check = await make(page_access_token=token, app_token=graph.app_token).check()
    assert not check.ok
    assert "pages_manage_posts" in check.summary
    assert "pages_read_engagement" not in check.summary
    assert any("expires" in w for w in check.warnings)
    good = graph.add_token("PAGE", scopes=("pages_read_engagement", "pages_manage_posts"),
                           expires_at=soon).value
    fine = await make(page_access_token=good, app_token=graph.app_token).check()
    assert fine.ok
    assert len(fine.warnings) == 1


async def test_missing_permission_is_named(make: Any, graph: FakeGraph) -> None:
    token = graph.add_token("PAGE", scopes=("pages_read_engagement",)).value
    with pytest.raises(Permanent) as caught:
        await make(page_access_token=token).publish(make_post())
    assert "pages_manage_posts" in caught.value.hint
    assert graph.posts == {}
    unreadable = graph.add_token("PAGE", scopes=("pages_manage_posts",)).value
    with pytest.raises(Permanent) as caught:
        await make(page_access_token=unreadable).publish(make_post())
    assert "pages_read_engagement" in caught.value.hint


@pytest.mark.parametrize("code", [80001, 4, 17, 32, 613])
async def test_throttling_waits_as_long_as_the_header_says(make: Any, graph: FakeGraph,
                                                           code: int) -> None:
    graph.throttle(code, minutes=7)
    with pytest.raises(Transient) as caught:
        await make().publish(make_post())
    assert caught.value.retry_after == 7 * 60
    assert caught.value.throttled
    assert graph.posts == {}


async def test_throttling_without_an_estimate_backs_off_by_default(make: Any,
                                                                   graph: FakeGraph) -> None:
    graph.usage = None
    graph.fail_next("posts.list", 613, subcode=1996)
    with pytest.raises(Transient) as caught:
        await make().publish(make_post())
    assert caught.value.retry_after == THROTTLE_BACKOFF


async def test_usage_over_90_percent_pauses_writes(make: Any, graph: FakeGraph) -> None:
    graph.usage = Usage(call_count=95, total_cputime=12, total_time=20, regain_minutes=0)
    channel = make()
    with pytest.raises(Transient) as caught:
        await channel.publish(make_post())
    assert caught.value.retry_after is not None
    assert 200 < caught.value.retry_after <= 300
    assert "95 %" in str(caught.value)
    graph.usage = Usage(call_count=10)
    with pytest.raises(Transient):
        await channel.publish(make_post())
    assert graph.requests_to("feed.create") == []
    calm = make()
    await calm.publish(make_post())
    assert len(graph.live_posts()) == 1


async def test_usage_pause_follows_the_regain_estimate(make: Any, graph: FakeGraph) -> None:
    graph.usage = Usage(call_count=40, total_cputime=92, regain_minutes=2)
    with pytest.raises(Transient) as caught:
        await make().publish(make_post())
    assert caught.value.retry_after is not None
    assert 100 < caught.value.retry_after <= 120


@pytest.mark.parametrize("code", [1, 2])
async def test_service_errors_are_transient(make: Any, graph: FakeGraph, code: int) -> None:
    graph.fail_next("feed.create", code)
    channel = make()
    with pytest.raises(Transient):
        await channel.publish(make_post())
    await channel.publish(make_post())
    assert len(graph.live_posts()) == 1
    assert graph.drafts() == []


async def test_policy_block_368_is_permanent(make: Any, graph: FakeGraph) -> None:
    graph.fail_next("feed.create", 368)
    with pytest.raises(Permanent) as caught:
        await make().publish(make_post())
    assert "a person must" in caught.value.hint


async def test_invalid_parameter_prefers_the_user_message(make: Any, graph: FakeGraph) -> None:
    graph.fail_next("feed.create", 100, message="(#100) Param message is bad",
                    user_msg="The text contains a blocked word.")
    with pytest.raises(Permanent) as caught:
        await make().publish(make_post())
    assert "The text contains a blocked word." in caught.value.reason


async def test_plain_5xx_without_error_object_is_transient(make: Any, graph: FakeGraph) -> None:
    graph.fail_next("posts.list", 1, status=503, message="busy")
    with pytest.raises(Transient):
        await make().publish(make_post())


async def test_lost_flip_twice_is_ambiguous_and_lookup_settles_it(make: Any,
                                                                  graph: FakeGraph) -> None:
    graph.ambiguous_next("post.update", n=2)
    channel = make()
    with pytest.raises(Ambiguous):
        await channel.publish(make_post())
    found = await channel.lookup(make_post())
    [live] = graph.live_posts()
    assert found is not None
    assert found.remote_id == live.id
    again = await channel.publish(make_post())
    assert again.remote_id == live.id
    assert len(graph.live_posts()) == 1
    assert len(graph.requests_to("feed.create")) == 1


async def test_one_lost_flip_is_retried_at_once(make: Any, graph: FakeGraph) -> None:
    graph.ambiguous_next("post.update")
    receipt = await make().publish(make_post())
    assert [p.id for p in graph.live_posts()] == [receipt.remote_id]
    assert len(graph.requests_to("post.update")) == 2


async def test_lost_draft_is_transient_and_reused(make: Any, graph: FakeGraph) -> None:
    graph.ambiguous_next("feed.create")
    channel = make()
    with pytest.raises(Transient, match="draft"):
        await channel.publish(make_post())
    assert graph.live_posts() == []
    [draft] = graph.drafts()
    receipt = await channel.publish(make_post())
    assert receipt.remote_id == draft.id
    assert graph.drafts() == []
    assert len(graph.requests_to("feed.create")) == 1


async def test_unlistable_drafts_fall_back_to_a_new_draft(make: Any, graph: FakeGraph) -> None:
    graph.fail_next("drafts.list", 100, message="(#100) Unknown path components")
    await make().publish(make_post())
    assert len(graph.live_posts()) == 1


async def test_stalled_photo_is_ambiguous_then_found(make: Any, graph: FakeGraph) -> None:
    graph.ambiguous_next("photos.create", mode="stall", stall_seconds=1.0)
    channel = make(post_as="photo", timeout=0.3)
    post = make_post(images=[Image(url=graph.add_image("a.png"))])
    with pytest.raises(Ambiguous):
        await channel.publish(post)
    found = await channel.lookup(post)
    [live] = graph.live_posts()
    assert found is not None
    assert found.remote_id == live.id
    assert (await channel.publish(post)).remote_id == live.id
    assert len(graph.requests_to("photos.create")) == 1


async def test_duplicate_506_is_ambiguous(make: Any, graph: FakeGraph) -> None:
    channel = make()
    await channel.publish(make_post(1))
    other = make_post(2, link="https://example.org/news/other")
    with pytest.raises(Ambiguous, match="506"):
        await channel.publish(other)
    assert await channel.lookup(other) is None
    assert len(graph.live_posts()) == 1


async def test_lookup_reads_past_the_first_page_and_respects_the_window(
        make: Any, graph: FakeGraph) -> None:
    now = datetime.now(UTC)
    post = make_post(created_at=now - timedelta(hours=2), claimed_at=now - timedelta(hours=1))

    def add(n: int, message: str, created: datetime) -> str:
        post_id = f"{graph.page_id}_{n}"
        graph.posts[post_id] = FakePost(post_id, graph.page_id, n, message, LINK, created, True)
        return post_id

    add(1, TEXT, now - timedelta(days=2))  # the same text long before: not ours
    assert await make().lookup(post) is None
    ours = add(2, TEXT, now - timedelta(minutes=50))
    for n in range(3, 40):
        add(n, f"later post {n}", now - timedelta(minutes=40 - n))
    found = await make().lookup(post)
    assert found is not None
    assert found.remote_id == ours


async def test_lookup_ignores_same_text_with_another_link(make: Any, graph: FakeGraph) -> None:
    await make().publish(make_post(link="https://example.org/other"))
    assert await make().lookup(make_post()) is None


async def test_warm_up_scrapes_the_link_first(make: Any, graph: FakeGraph) -> None:
    await make(warm_up=True).publish(make_post())
    assert graph.scraped == [LINK]


async def test_secrets_never_leak_into_errors_or_logs(
        make: Any, graph: FakeGraph, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "app-secret-leak-test"
    graph.app_secret = secret
    token = graph.page_token
    proof = hmac.new(secret.encode(), token.encode(), hashlib.sha256).hexdigest()
    errors: list[ChannelError] = []

    async def attempt(post: Post) -> None:
        # A fresh channel each time: a throttle answer pauses the writes of the one that saw it.
        try:
            await make(app_secret=secret, app_token=graph.app_token, timeout=0.3).publish(post)
        except ChannelError as exc:
            errors.append(exc)

    graph.fail_next("feed.create", 100, message=(
        f"(#100) bad request https://graph.facebook.com/v21.0/me?access_token={token}"
        f"&appsecret_proof={proof} and {token}"))
    await attempt(make_post())
    graph.fail_next("posts.list", 80001, regain_minutes=1)
    await attempt(make_post())
    graph.ambiguous_next("post.update", n=2)
    await attempt(make_post())
    graph.ambiguous_next("post.update", n=2, mode="stall", stall_seconds=0.6)
    await attempt(make_post(2, text="Other text"))
    graph.invalidate(token, 463)
    await attempt(make_post(3, text="Third"))
    channel = make(app_secret=secret, app_token=graph.app_token)
    errors.append(ChannelError((await channel.check()).summary))

    kinds = [Permanent, Transient, Ambiguous, Ambiguous, Permanent, ChannelError]
    assert len(errors) == len(kinds)
    assert all(isinstance(e, k) for e, k in zip(errors, kinds, strict=True))
    texts = [str(e) for e in errors] + [str(e.__cause__) for e in errors if e.__cause__]
    texts += [r.getMessage() for r in caplog.records]
    texts += [caplog.text]
    assert any("HTTP Request" in t for t in texts), "httpx request logs were captured"
    for text in texts:
        for value in (token, proof, secret, graph.app_token):
            assert value not in text
    assert "access_token=" not in str(errors[0])
    for request in graph.requests:
        assert token not in request.path
        # debug_token names the token it inspects; nothing else may carry it.
        allowed = ("access_token", "input_token") if request.route == "debug_token" else (
            "access_token",)
        assert all(token not in v for k, v in request.params.items() if k not in allowed)
        assert all(token not in v for v in request.headers.values())


async def test_warm_up_warns_when_the_page_lacks_open_graph_tags(
        make: Any, graph: FakeGraph, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="channels.facebook"):
        await make(warm_up=True).publish(make_post())
    assert "lacks og:title and og:image" in caplog.text
    caplog.clear()
    graph.og[LINK] = {"title": "A title", "image": [{"url": "https://www.example.org/i.jpg"}]}
    with caplog.at_level(logging.WARNING, logger="channels.facebook"):
        await make(warm_up=True).publish(make_post(post_id=2, text="Another post " + LINK))
    assert "lacks" not in caplog.text


async def test_engagement_reads_the_reaction_summaries(make: Any, graph: FakeGraph) -> None:
    channel = make()
    receipt = await channel.publish(make_post())
    live = graph.posts[receipt.remote_id]
    live.reactions, live.comments = 12, 3
    assert await channel.engagement(receipt.remote_id) == {"reactions": 12, "comments": 3,
                                                           "shares": 0}
    live.shares = 2
    assert (await channel.engagement(receipt.remote_id))["shares"] == 2
    asked = graph.requests_to("post.read")[-1].params["fields"]
    assert "reactions.summary(total_count)" in asked  # counts only, never who reacted


async def test_check_reads_the_page_name_and_picture(make: Any, graph: FakeGraph) -> None:
    check = await make().check()
    assert check.details["profile"] == {
        "name": graph.page_name, "avatar": f"https://scontent.example/{graph.page_id}.jpg"}
