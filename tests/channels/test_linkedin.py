"""The LinkedIn adapter call by call, against the fake LinkedIn over real HTTP.

`test_contract.py` proves the shared promises; this proves LinkedIn's own: the version
headers, little text, articles and images with alt text, tokens (refresh, introspection,
expiry), LinkedIn's error answers, and finding a post again after a lost answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import LinkedInConfig
from bot.fit import count
from bot.models import Image, Post, PostStatus
from channels.base import Ambiguous, AuthFailed, Permanent, Transient
from channels.linkedin.channel import LinkedInChannel, content_kind
from channels.linkedin.little import display, sent_length, to_little, to_plain
from channels.registry import DEFAULT_LIMITS
from tests.fakes.linkedin import FakeLinkedIn, read_little, running

pytestmark = pytest.mark.anyio
TOKEN = "AQVunit-linkedin-token-1234"
PNG = b"\x89PNG\r\n\x1a\n" + b"roof" * 40


@pytest.fixture
def fake() -> Iterator[tuple[FakeLinkedIn, str]]:
    state = FakeLinkedIn(detect_duplicates=False)
    state.add_token(value=TOKEN)
    with running(state) as server:
        yield state, server.url


def channel(url: str, client: httpx.AsyncClient, **options: Any) -> LinkedInChannel:
    values = {"type": "linkedin", "organization_id": "2414183", "access_token": TOKEN,
              "api_url": url, "oauth_url": url, "api_version": "202608", "timeout": "2s"}
    config = LinkedInConfig.model_validate(values | options)
    return LinkedInChannel("linkedin", config, client, poll_interval=0.01)


def post(n: int = 1, text: str | None = None, **fields: Any) -> Post:
    link = f"https://www.example.org/news/linkedin-{n}"
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": n, "channel": "linkedin", "status": PostStatus.PUBLISHING,
        "title": f"Solar roofs, part {n}",
        "text": text or f"Solar roofs, part {n}\n\nForty schools (phase {n}) get panels.\n\n"
                        f"{link}\n\n#Solar #EUFunding",
        "link": link, "created_at": now, "claimed_at": now} | fields
    return Post.model_validate(values)


def pictures(tmp_path: Path, n: int) -> list[Image]:
    images = []
    for i in range(n):
        path = tmp_path / f"roof-{i}.png"
        path.write_bytes(PNG + bytes([i]))
        images.append(Image(url=str(path), alt=f"Roof {i} with panels"))
    return images


# ── little text ───────────────────────────────────────────────────────────────────────────

def test_every_reserved_character_is_escaped_and_read_back() -> None:
    text = r"Cost (net): 5 * 2 [est.] <b> a_b ~ | {x} \ C# #1 me@example.org"
    little = to_little(text)
    kept, cut = read_little(little)        # the fake reads it as LinkedIn does
    assert not cut
    assert kept == little
    assert to_plain(little) == text


def test_hashtags_become_templates_and_organisation_mentions_stay() -> None:
    text = "Thanks @[Example Org](urn:li:organization:42) for #EUFunding and #Solar2030"
    little = to_little(text)
    assert "{hashtag|\\#|EUFunding}" in little
    assert "{hashtag|\\#|Solar2030}" in little
    assert "@[Example Org](urn:li:organization:42)" in little
    assert to_plain(little) == text
    assert display(text) == "Thanks Example Org for #EUFunding and #Solar2030"
    # a person's URN, or an underscore in the tag: plain text, escaped
    assert to_little("@[Ann](urn:li:person:abc) #EU_funds") == \
        r"\@\[Ann\]\(urn:li:person:abc\) \#EU\_funds"


def test_an_unescaped_reserved_character_cuts_the_text_on_the_fake() -> None:
    kept, cut = read_little("Forty schools (phase 2) get panels")
    assert cut
    assert kept == "Forty schools "


def test_the_core_counts_the_commentary_as_sent() -> None:
    limits = DEFAULT_LIMITS["linkedin"]
    text = "(a) b_c 😀"
    assert count(text, limits) == sent_length(text) == len(r"\(a\) b\_c ") + 2
    long = "(" * 1500 + "x"
    assert count(long, limits) == 3001   # 1,501 characters, 3,001 once escaped


def test_content_kind() -> None:
    assert content_kind("auto", images=0, link=True) == "article"
    assert content_kind("auto", images=1, link=True) == "article"
    assert content_kind("auto", images=3, link=True) == "images"
    assert content_kind("article", images=3, link=True) == "article"
    assert content_kind("images", images=1, link=True) == "images"
    assert content_kind("images", images=0, link=True) is None
    assert content_kind("auto", images=0, link=False) is None


# ── publishing ────────────────────────────────────────────────────────────────────────────

async def test_a_link_post_is_an_article_with_the_whole_text(
        fake: tuple[FakeLinkedIn, str], client: httpx.AsyncClient, tmp_path: Path) -> None:
    state, url = fake
    sent = post(images=pictures(tmp_path, 1))
    receipt = await channel(url, client).publish(sent)
    [made] = state.posts_of()
    assert receipt.remote_id == made.urn
    assert receipt.remote_url == f"https://www.linkedin.com/feed/update/{made.urn}/"
    assert not made.cut
    assert to_plain(made.commentary) == sent.text.strip()
    assert "{hashtag|\\#|EUFunding}" in made.commentary
    article = made.content["article"]  # type: ignore[index]
    assert article["source"] == sent.link
    assert article["title"] == "Solar roofs, part 1"
    assert article["description"].startswith("Forty schools (phase 1) get panels.")
    assert article["thumbnailAltText"] == "Roof 0 with panels"
    image = state.images[article["thumbnail"]]
    assert (image.data, image.status, image.owner) == (PNG + b"\x00", "AVAILABLE", state.author)
    for request in state.requests:
        if request.path.startswith("/rest/"):
            assert request.headers["linkedin-version"] == "202608"
            assert request.headers["x-restli-protocol-version"] == "2.0.0"


@pytest.mark.parametrize("n", [1, 3])
async def test_pictures_go_out_with_their_alt_text(
        fake: tuple[FakeLinkedIn, str], client: httpx.AsyncClient, tmp_path: Path,
        n: int) -> None:
    state, url = fake
    sent = post(images=pictures(tmp_path, n))
    await channel(url, client, post_as="images").publish(sent)
    [made] = state.posts_of()
    content: dict[str, Any] = made.content or {}
    items = [content["media"]] if n == 1 else content["multiImage"]["images"]
    assert [i["altText"] for i in items] == [f"Roof {i} with panels" for i in range(n)]
    assert [state.images[i["id"]].data for i in items] == [PNG + bytes([i]) for i in range(n)]
    assert len(state.requests_to("images.init")) == n


async def test_a_sunset_version_pauses_the_channel_naming_api_version(
        fake: tuple[FakeLinkedIn, str], client: httpx.AsyncClient) -> None:
    state, url = fake
    old = channel(url, client, api_version="202401")
    result = await old.check()
    assert not result.ok
    assert "426" in result.summary and "api_version" in result.summary
    with pytest.raises(AuthFailed, match="NONEXISTENT_VERSION"):
        await old.publish(post())
    assert state.posts == {}


def test_the_fake_wants_a_version_and_the_protocol_header(
        fake: tuple[FakeLinkedIn, str]) -> None:
    _, url = fake
    auth = {"Authorization": f"Bearer {TOKEN}"}
    answer = httpx.get(f"{url}/rest/images/x", headers=auth)
    assert (answer.status_code, answer.json()["code"]) == (400, "VERSION_MISSING")
    answer = httpx.get(f"{url}/rest/images/x", headers=auth | {"LinkedIn-Version": "202608"})
    assert answer.status_code == 400
    assert "X-Restli-Protocol-Version" in answer.json()["message"]


async def test_lookup_first_publishes_once_and_a_lost_answer_is_ambiguous(
        fake: tuple[FakeLinkedIn, str], client: httpx.AsyncClient) -> None:
    state, url = fake
    state.slow_after_processing(mode="drop")
    sent = post()
    with pytest.raises(Ambiguous):
        await channel(url, client).publish(sent)
    [made] = state.posts_of()             # the post was finished although the client left
    found = await channel(url, client).lookup(sent)
    assert found is not None
    assert found.remote_id == made.urn
    assert "approved text" in (found.matched or "")
    again = await channel(url, client).publish(sent)
    assert again.remote_id == made.urn
    assert len(state.posts) == 1
    assert len(state.requests_to("posts.create")) == 1


async def test_lookup_takes_neither_a_colleagues_share_nor_an_older_copy(
        fake: tuple[FakeLinkedIn, str], client: httpx.AsyncClient) -> None:
    state, url = fake
    sent = post()
    linkedin = channel(url, client)
    earlier = sent.model_copy(update={"created_at": sent.created_at - timedelta(hours=2),
                                      "claimed_at": sent.created_at - timedelta(hours=2)})
    state.advance(-timedelta(hours=1))
    await linkedin.publish(earlier)           # the same text an hour before this claim
    state.advance(timedelta(hours=1))
    colleague = post(text=f"Worth a read: {sent.link}")
    await linkedin.publish(colleague)
    assert await channel(url, client).lookup(sent) is None
    await channel(url, client).publish(sent)
    assert len(state.posts) == 3


@pytest.mark.parametrize(("status", "error"), [
    (401, AuthFailed), (403, AuthFailed), (422, Permanent), (429, Transient),
    (500, Ambiguous), (503, Transient)])
async def test_linkedin_answers_become_channel_errors(
        fake: tuple[FakeLinkedIn, str], client: httpx.AsyncClient, status: int,
        error: type[Exception]) -> None:
    state, url = fake
    state.fail_next("posts.create", status)
    with pytest.raises(error) as caught:
        await channel(url, client).publish(post())
    assert state.posts == {}
    if status == 429:
        assert caught.value.throttled  # type: ignore[attr-defined]
    assert TOKEN not in str(caught.value)


async def test_a_duplicate_names_the_post_linkedin_has(
        fake: tuple[FakeLinkedIn, str], client: httpx.AsyncClient) -> None:
    state, url = fake
    state.detect_duplicates = True
    sent = post()
    old = sent.model_copy(update={"created_at": sent.created_at - timedelta(days=2),
                                  "claimed_at": sent.created_at - timedelta(days=2)})
    state.advance(-timedelta(days=1))
    first = await channel(url, client).publish(old)
    state.advance(timedelta(days=1))
    with pytest.raises(Permanent, match=first.remote_id) as caught:
        await channel(url, client).publish(sent)
    assert "reject" in caught.value.hint


# ── tokens ────────────────────────────────────────────────────────────────────────────────

async def test_an_expired_token_is_refreshed_and_the_post_goes_out(
        fake: tuple[FakeLinkedIn, str], client: httpx.AsyncClient) -> None:
    state, url = fake
    state.add_client("app-1", "app-secret-9")
    refresh = state.add_refresh_token("app-1")
    state.expire(TOKEN)
    linkedin = channel(url, client, refresh_token=refresh, client_id="app-1",
                       client_secret="app-secret-9")
    receipt = await linkedin.publish(post())
    assert [p.urn for p in state.posts_of()] == [receipt.remote_id]
    assert len(state.requests_to("token")) == 1
    result = await linkedin.check()
    assert result.ok, result.summary
    act_by = datetime.fromisoformat(result.details["act_by"])   # the refresh token's year
    assert timedelta(days=364) < act_by - datetime.now(UTC) <= timedelta(days=366)


async def test_a_refused_refresh_pauses_without_showing_secrets(
        fake: tuple[FakeLinkedIn, str], client: httpx.AsyncClient) -> None:
    state, url = fake
    state.add_client("app-1", "app-secret-9")
    state.expire(TOKEN)
    linkedin = channel(url, client, refresh_token="AQXnot-a-refresh-token",
                       client_id="app-1", client_secret="app-secret-9")
    with pytest.raises(AuthFailed, match="refresh") as caught:
        await linkedin.publish(post())
    for secret in ("AQXnot-a-refresh-token", "app-secret-9", TOKEN):
        assert secret not in str(caught.value)
    assert state.posts == {}


async def test_check_reads_the_expiry_and_warns_a_week_before(
        fake: tuple[FakeLinkedIn, str], client: httpx.AsyncClient) -> None:
    state, url = fake
    state.add_client("app-1", "app-secret-9")
    soon = state.add_token(ttl=timedelta(days=5))
    linkedin = channel(url, client, access_token=soon, client_id="app-1",
                       client_secret="app-secret-9")
    result = await linkedin.check()
    assert result.ok, result.summary
    assert result.details["token_status"] == "active"
    [warning] = result.warnings
    assert "access token expires on" in warning and "LINKEDIN_ACCESS_TOKEN" in warning
    state.expire(soon)
    result = await linkedin.check()
    assert not result.ok
    assert "401" in result.summary and "expired" in result.summary


async def test_without_client_credentials_check_takes_token_expires(
        fake: tuple[FakeLinkedIn, str], client: httpx.AsyncClient) -> None:
    _, url = fake
    today = datetime.now(UTC).date()
    result = await channel(url, client, token_expires=today + timedelta(days=30)).check()
    assert result.ok
    assert result.warnings == []
    assert result.details["act_by"].startswith(str(today + timedelta(days=30)))
    result = await channel(url, client, token_expires=today + timedelta(days=2)).check()
    assert any("expires on" in w for w in result.warnings)
    result = await channel(url, client, token_expires=date(2020, 1, 1)).check()
    assert not result.ok and "expired" in result.summary
    result = await channel(url, client).check()
    assert result.ok
    assert "cannot tell when the token expires" in result.warnings[0]


async def test_an_upload_address_off_linkedin_never_gets_the_token(
        client: httpx.AsyncClient) -> None:
    linkedin = channel("https://api.linkedin.com", client)
    assert linkedin.may_carry_token("https://www.linkedin.com/dms-uploads/abc")
    assert linkedin.may_carry_token("https://api.linkedin.com/upload/x")
    assert not linkedin.may_carry_token("https://evil.example/linkedin.com")
    assert not linkedin.may_carry_token("http://www.linkedin.com/dms-uploads/abc")
