"""Bluesky threads, self-labels, reply and quote gates, and card thumbnails, against the fake
PDS over real HTTP (and a real SQLite store for the ledger a restart reads).

The fake refuses a reply whose root or parent is not a record at that cid, and a gate whose
key is not its post's: so every chain and gate asserted here is one the PDS took. What was
posted is read from the fake's own records, never from the channel's receipt alone.
"""

from __future__ import annotations

import io
import random
from typing import Any

import httpx
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

from bot.config import BlueskyConfig
from bot.fit import count, fit
from bot.models import Image, Post
from bot.store import Store, meta
from channels.base import Ambiguous, Limits, Transient
from channels.bluesky import SHORT_URL, BlueskyChannel, build, short_url
from channels.bluesky.rkey import decode_tid, part_key, record_key
from channels.registry import limits_for
from channels.threads import THREAD_PARTS, split_thread
from tests.channels import test_bluesky, test_bluesky_session
from tests.channels.test_bluesky import HANDLE, PASSWORD, Images, make_post
from tests.fakes.bluesky import POSTGATE, THREADGATE, FakePDS, Stored
from tests.fakes.server import LiveServer

pytestmark = pytest.mark.anyio
# the fixtures of the channel's own tests: the fake PDS served, an image host, a store (the
# shared HTTP client is tests/channels/conftest.py's)
fake, server, images = test_bluesky.fake, test_bluesky.server, test_bluesky.images
store = test_bluesky_session.store
PUT = "com.atproto.repo.putRecord"
GRAPHEME = regex.compile(r"\X")
LINK = "https://www.example.org/news/2026/03/solar-panels-on-forty-school-roofs?utm_source=bsky"
SENTENCES = [
    "Forty primary schools get solar panels on their roofs this spring.",
    "The panels cover a third of each school's electricity over a year.",
    "Pupils follow the output on a screen in the hall, 🌞 day by day.",
    "Ελληνικά σχολεία συμμετέχουν επίσης στο πρόγραμμα της περιφέρειας.",
    "Die Gemeinden zahlen nichts: der Fonds trägt die Kosten vollständig.",
    "Installers start in March and finish before the summer holidays.",
    "Parents can visit an open day at each school in June 👩‍👩‍👧 with the installers.",
    "The region will publish the figures of the first year in 2027.",
]


def long_text() -> str:
    body, again = " ".join(SENTENCES), " ".join(reversed(SENTENCES))
    return (f"Solar roofs for forty schools #Energy\n\n{body}\n\n{again}\n\n"
            f"Read more: {LINK}\n\n#EUFunding #Schools")


def channel(server: LiveServer, client: httpx.AsyncClient, store: Store | None = None,
            **options: Any) -> BlueskyChannel:
    config = BlueskyConfig.model_validate({
        "type": "bluesky", "pds_url": server.url, "handle": HANDLE, "app_password": PASSWORD,
        "allow_private_images": True, "timeout": "3s", **options})
    return BlueskyChannel("bluesky", config, client, store=store)


def thread_of(fake: FakePDS) -> list[Stored]:
    """The posts on the PDS in thread order, read from their own reply refs."""
    posts = list(fake.records.values())
    [root] = [p for p in posts if "reply" not in p.value]
    chain = [root]
    while children := [p for p in posts if p.value.get("reply", {}).get("parent", {})
                       .get("uri") == chain[-1].uri]:
        assert len(children) == 1, "two replies to one part"
        chain.append(children[0])
    assert len(chain) == len(posts), "a part is outside the chain"
    return chain


def sliced(stored: Stored) -> list[tuple[str, dict[str, Any]]]:
    return [(stored.text_bytes[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode("utf-8"),
             f["features"][0]) for f in stored.value.get("facets", [])]


def check_chain(chain: list[Stored], post: Post) -> None:
    """Root and parent refs name the records as stored (uri and cid), and the parts read,
    in order, as the post's text with its link shown short."""
    for index, part in enumerate(chain):
        assert len(GRAPHEME.findall(part.value["text"])) <= 300
        if index:
            assert part.value["reply"] == {
                "root": {"uri": chain[0].uri, "cid": chain[0].cid},
                "parent": {"uri": chain[index - 1].uri, "cid": chain[index - 1].cid}}
    joined = " ".join(p.value["text"] for p in chain)
    assert " ".join(joined.split()) == " ".join(post.text.replace(LINK, short_url(LINK)).split())


# ------------------------------------------------------------------ threads

async def test_a_long_text_becomes_a_chain_of_replies_in_order(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    post = make_post(text=long_text(), link=LINK)
    bsky = channel(server, client, thread=True)
    assert count(post.text, bsky.limits) <= bsky.limits.max_chars == 300 * THREAD_PARTS
    receipt = await bsky.publish(post)
    chain = thread_of(fake)
    assert len(chain) >= 3
    check_chain(chain, post)
    # the receipt is the thread's first post, at the post's own key; the parts' keys follow
    assert receipt.remote_id == chain[0].uri
    rkey = record_key(post.idempotency_key, post.created_at)
    assert [p.rkey for p in chain] == [part_key(rkey, i) for i in range(len(chain))]
    assert [decode_tid(p.rkey) for p in chain] == sorted(decode_tid(p.rkey) for p in chain)
    # facets are each part's own, at its UTF-8 byte offsets
    pieces = [piece for part in chain for piece in sliced(part)]
    assert ("#Energy", {"$type": "app.bsky.richtext.facet#tag", "tag": "Energy"}) in pieces
    assert (short_url(LINK), {"$type": "app.bsky.richtext.facet#link", "uri": LINK}) in pieces
    assert pieces[-1] == ("#Schools", {"$type": "app.bsky.richtext.facet#tag", "tag": "Schools"})
    assert all(p.value["langs"] == ["en"] for p in chain)
    assert "embed" in chain[0].value and all("embed" not in p.value for p in chain[1:])
    # the lookup a publisher makes after an unknown outcome finds the whole thread out
    found = await channel(server, client, thread=True).lookup(post)
    assert found is not None and found.remote_id == receipt.remote_id


async def test_without_thread_a_long_text_is_refused_before_any_call(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    from channels.base import Permanent

    with pytest.raises(Permanent, match="too long for Bluesky"):
        await channel(server, client).publish(make_post(text=long_text(), link=LINK))
    assert fake.requests_to(PUT) == []


def test_the_renderer_counts_a_threaded_channel_as_up_to_four_posts() -> None:
    config = BlueskyConfig.model_validate({"type": "bluesky", "handle": HANDLE,
                                           "app_password": PASSWORD, "thread": True})
    limits = limits_for(config)
    assert (limits.max_chars, limits.soft_chars, limits.thread) == (300 * THREAD_PARTS, 300,
                                                                    True)
    plain = limits_for(config.model_copy(update={"thread": False}))
    assert (plain.max_chars, plain.soft_chars) == (300, None)
    # a long summary is kept whole, and the warning says it goes out as a thread
    summary = " ".join(SENTENCES)
    result = fit(summary, limits, lambda s: f"Solar roofs\n\n{s}\n\n{LINK}")
    assert result.summary == summary and not result.blocking
    [warning] = result.warnings
    assert "thread of posts of up to 300" in warning and "See more" not in warning


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(
    st.sampled_from(SENTENCES), st.sampled_from([
        LINK, "https://ex.org/ü?q=ß", "#Energy", "#Καλή", "👨‍👩‍👧‍👦", "\n\n", "é", "🇪🇺"])),
    min_size=1, max_size=80))
def test_every_part_fits_300_graphemes_and_its_facets_its_own_bytes(pieces: list[str]) -> None:
    single = Limits(max_chars=300, url_weight=SHORT_URL, graphemes=True)
    text = " ".join(pieces)
    for part in split_thread(text, single):
        rich = build(part)
        assert len(GRAPHEME.findall(rich.text)) <= 300
        encoded = rich.text.encode("utf-8")
        for facet in rich.facets:
            piece = encoded[facet["index"]["byteStart"]:facet["index"]["byteEnd"]].decode()
            feature = facet["features"][0]
            assert piece == (short_url(feature["uri"]) if "uri" in feature
                             else f"#{feature['tag']}")


@pytest.mark.parametrize("fault", ["answer lost after part 3", "refused before part 3"])
async def test_a_crash_between_parts_then_a_restart_posts_each_part_once(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, store: Store,
        fault: str) -> None:
    post = make_post(text=long_text(), link=LINK)
    if fault == "answer lost after part 3":   # the PDS wrote part 3; the process never knew
        fake.drop_after_processing(PUT, after=2)
        expected: type[Exception] = Ambiguous
    else:                                      # the process died before part 3 went out
        fake.fail(PUT, 503, after=2)
        expected = Transient
    first = channel(server, client, store, thread=True)
    with pytest.raises(expected):
        await first.publish(post)
    # The ledger holds the plan and what was written: parts 1-2 with their cids, part 3
    # marked as being sent (its createdAt), before the call that failed.
    with store.begin() as conn:
        ledger = meta.get(conn, f"bluesky-thread:bluesky:{post.uid}")
    written = {name: step for name, step in ledger["steps"].items() if "cid" in step}
    assert sorted(written) == ["app.bsky.feed.post/0", "app.bsky.feed.post/1"]
    assert set(ledger["steps"]["app.bsky.feed.post/2"]) == {"createdAt"}
    made = len(fake.records)
    assert made == (3 if expected is Ambiguous else 2)
    planned = ledger["steps"]["app.bsky.feed.post/2"]["createdAt"]
    if expected is Ambiguous:   # part 3 as it reached the PDS is the record the ledger kept
        rkey = record_key(post.idempotency_key, post.created_at)
        assert fake.records[(next(iter(fake.accounts)), part_key(rkey, 2))] \
            .value["createdAt"] == planned
    # A new process on the same store: the thread is not all out, so the lookup says so
    # and publishing goes on where it stopped.
    restarted = channel(server, client, store, thread=True)
    assert await restarted.lookup(post) is None
    receipt = await restarted.publish(post)
    chain = thread_of(fake)
    check_chain(chain, post)
    assert receipt.remote_id == chain[0].uri
    texts = [p.value["text"] for p in chain]
    assert len(texts) == len(set(texts)), "a part went out twice"
    # nothing written twice: one successful write per part, the retried part refused once
    ok_puts = [r for r in fake.requests_to(PUT) if r.answered is not None]
    assert len(chain) == len(fake.records) and len(ok_puts) >= len(chain)
    # a third process asked about it finds the whole thread
    assert (await channel(server, client, store, thread=True).lookup(post)) == receipt
    with store.begin() as conn:   # the thread is out: its ledger is gone (a lookup writes none)
        assert meta.get(conn, f"bluesky-thread:bluesky:{post.uid}") is None


async def test_without_a_store_the_keys_alone_keep_each_part_once(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient) -> None:
    post = make_post(text=long_text(), link=LINK)
    fake.drop_after_processing(PUT, after=2)
    with pytest.raises(Ambiguous):
        await channel(server, client, thread=True).publish(post)
    restarted = channel(server, client, thread=True)
    assert await restarted.lookup(post) is None
    await restarted.publish(post)   # part 3 is found at its key (InvalidSwap), not repeated
    check_chain(thread_of(fake), post)


# ------------------------------------------------------------------ labels and gates

def test_a_bad_replies_setting_says_what_it_takes() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match='"everybody", "nobody" or a list of any of '
                                              '"mentioned", "following", "followers"'):
        BlueskyConfig.model_validate({"type": "bluesky", "handle": HANDLE,
                                      "app_password": PASSWORD, "replies": ["everyone"]})


async def test_self_labels_threadgate_and_postgate_are_on_the_pds(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, store: Store) -> None:
    post = make_post(text=long_text(), link=LINK, extra={"labels": ["nudity", "unknown"]})
    bsky = channel(server, client, store, thread=True, labels=["graphic-media"],
                   replies=["mentioned", "following"], quotes=False)
    await bsky.publish(post)
    chain = thread_of(fake)
    account = next(iter(fake.accounts.values()))
    for part in chain:
        assert part.value["labels"] == {
            "$type": "com.atproto.label.defs#selfLabels",
            "values": [{"val": "graphic-media"}, {"val": "nudity"}]}
    [gate] = fake.gates_of(account, THREADGATE)   # on the thread's root, at its key
    assert (gate.rkey, gate.value["post"]) == (chain[0].rkey, chain[0].uri)
    assert gate.value["allow"] == [{"$type": "app.bsky.feed.threadgate#mentionRule"},
                                   {"$type": "app.bsky.feed.threadgate#followingRule"}]
    quotes = fake.gates_of(account, POSTGATE)     # one per part, each at its part's key
    assert sorted((g.rkey, g.value["post"]) for g in quotes) == \
        sorted((p.rkey, p.uri) for p in chain)
    assert all(g.value["embeddingRules"] == [{"$type": "app.bsky.feed.postgate#disableRule"}]
               for g in quotes)
    # the threadgate went out right after the root, before any reply could come in
    order = [r.body for r in fake.requests_to(PUT)]
    assert b'"app.bsky.feed.threadgate"' in order[1]


async def test_replies_from_nobody_is_an_empty_allow_list_written_once_across_a_crash(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, store: Store) -> None:
    post = make_post()
    fake.drop_after_processing(PUT, after=1)  # the threadgate is written, its answer lost
    with pytest.raises(Ambiguous):
        await channel(server, client, store, replies="nobody").publish(post)
    restarted = channel(server, client, store, replies="nobody")
    assert await restarted.lookup(post) is not None   # the last write (the gate) is there
    receipt = await restarted.publish(post)            # and publishing again adds nothing
    account = next(iter(fake.accounts.values()))
    [gate] = fake.gates_of(account, THREADGATE)
    [stored] = fake.records.values()
    assert gate.value["allow"] == [] and gate.rkey == stored.rkey
    assert receipt.remote_id == stored.uri
    assert "labels" not in stored.value


async def test_a_plain_post_keeps_no_ledger(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, store: Store) -> None:
    await channel(server, client, store, thread=True).publish(make_post())
    with store.begin() as conn:
        assert meta.with_prefix(conn, "bluesky-thread:") == {}
    assert len(fake.requests_to(PUT)) == 1


# ------------------------------------------------------------------ card thumbnails

def press_photo(target: int) -> bytes:
    """A JPEG of about `target` bytes that the lexicon's 1 MB cap alone would let through."""
    rng = random.Random(11)
    side = 600
    while True:
        noise = PILImage.frombytes("RGB", (side, side * 2 // 3),
                                   rng.randbytes(side * (side * 2 // 3) * 3))
        picture = noise.resize((side * 2, side * 4 // 3))   # smooth it: a photo, not static
        out = io.BytesIO()
        picture.save(out, "JPEG", quality=92)
        if out.tell() >= target:
            return out.getvalue()
        side += 20


async def test_a_big_card_thumbnail_arrives_under_300_kb(
        fake: FakePDS, server: LiveServer, client: httpx.AsyncClient, images: Images) -> None:
    photo = press_photo(900_000)
    assert 900_000 <= len(photo) <= 1_000_000   # today's case: ~970 KB went as it was
    url = images.add("photo.jpg", photo)
    post = make_post(link=LINK, images=[Image(url=url, alt="Roof")])
    await channel(server, client, embed="card").publish(post)
    [stored] = fake.records.values()
    card = stored.value["embed"]["external"]
    thumb = fake.blobs[card["thumb"]["ref"]["$link"]]
    assert len(thumb.data) <= 300_000
    assert card["thumb"]["size"] == len(thumb.data)
    shown = PILImage.open(io.BytesIO(thumb.data))
    assert max(shown.size) <= 1200
