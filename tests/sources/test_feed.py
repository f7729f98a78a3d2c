"""The feed source against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from bot.config import FeedSourceConfig
from bot.errors import SourceError
from bot.sources import feed
from bot.sources.http import fetch
from bot.store.sources import SourceState
from tests.fakes.feeds import FeedSite, Page, make_app, rss
from tests.fakes.server import LiveServer

pytestmark = pytest.mark.anyio

ITEMS = [
    {"title": "Partners meet in Linz", "link": "https://www.example.org/news/linz",
     "guid": "https://www.example.org/news/linz", "pubDate": "Tue, 10 Mar 2026 09:00:00 +0100",
     "description": "&lt;p&gt;Partners from six regions met.&lt;/p&gt;&lt;p&gt;More.&lt;/p&gt;"},
    {"title": "Call for projects opens", "link": "https://www.example.org/news/call",
     "guid": "call-2026", "pubDate": "Mon, 02 Mar 2026 10:00:00 +0100",
     "description": "The second call opens today."},
]


LOCAL = {"private_host": "127.0.0.1"}
"""The test feed servers are on 127.0.0.1, which only a source may declare private."""


@pytest.fixture
def site() -> Iterator[tuple[FeedSite, str]]:
    state = FeedSite()
    with LiveServer(make_app(state)) as server:
        yield state, server.url


def cfg(url: str, **kw: object) -> FeedSourceConfig:
    kw.setdefault("allow_private", True)   # the test servers are on 127.0.0.1
    return FeedSourceConfig(type="feed", url=url, **kw)  # type: ignore[arg-type]


async def test_conditional_get_answers_304_the_second_time(site: tuple[FeedSite, str]) -> None:
    state, base = site
    state.pages["/feed"] = Page(rss(ITEMS))
    source = SourceState("site")
    async with httpx.AsyncClient() as client:
        fetched, releases = await feed.poll("site", cfg(f"{base}/feed"), source, client)
        assert fetched.status == 200 and len(releases) == 2
        source.etag, source.last_modified = fetched.etag, fetched.last_modified
        again, none = await feed.poll("site", cfg(f"{base}/feed"), source, client)
    assert again.unchanged and none == []
    second = state.hits("/feed")[1]
    assert second["if-none-match"] == fetched.etag
    assert second["if-modified-since"] == "Tue, 10 Mar 2026 08:00:00 GMT"


async def test_last_modified_alone_gives_304(site: tuple[FeedSite, str]) -> None:
    state, base = site
    state.pages["/lm"] = Page(rss(ITEMS), etag=False)
    async with httpx.AsyncClient() as client:
        first = await fetch(client, f"{base}/lm", **LOCAL)
        second = await fetch(client, f"{base}/lm", last_modified=first.last_modified, **LOCAL)
    assert first.status == 200 and second.unchanged


async def test_entries_become_clean_releases(site: tuple[FeedSite, str]) -> None:
    state, base = site
    state.pages["/feed"] = Page(rss(ITEMS))
    async with httpx.AsyncClient() as client:
        _, releases = await feed.poll("site", cfg(f"{base}/feed"), SourceState("site"), client)
    linz = releases[0]
    assert linz.title == "Partners meet in Linz"
    assert linz.summary == "Partners from six regions met."
    assert "<p>" not in linz.body and "More." in linz.body
    assert linz.published_at == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
    assert linz.key == "https://www.example.org/news/linz"
    assert releases[1].key.endswith("call-2026")  # a permalink guid resolves like a link


async def test_redirects_are_followed_up_to_the_limit(site: tuple[FeedSite, str]) -> None:
    state, base = site
    state.pages["/old"] = Page(b"", redirect_to="/feed")
    state.pages["/feed"] = Page(rss(ITEMS))
    state.pages["/loop"] = Page(b"", redirect_to="/loop")
    async with httpx.AsyncClient() as client:
        fetched = await fetch(client, f"{base}/old", **LOCAL)
        assert fetched.status == 200 and fetched.url.endswith("/feed")
        with pytest.raises(SourceError, match="more than 3 redirects"):
            await fetch(client, f"{base}/loop", max_redirects=3, **LOCAL)


async def test_size_cap_refuses_huge_responses(site: tuple[FeedSite, str]) -> None:
    state, base = site
    state.pages["/huge"] = Page(b"x" * 50_000, status=299)
    state.pages["/big"] = Page(b"<rss>" + b" " * 20_000 + b"</rss>")
    async with httpx.AsyncClient() as client:
        with pytest.raises(SourceError, match="over the limit"):
            await fetch(client, f"{base}/huge", max_bytes=100_000, **LOCAL)
        with pytest.raises(SourceError, match="over the limit"):
            await fetch(client, f"{base}/big", max_bytes=10_000, **LOCAL)


async def test_slow_server_times_out_with_a_clear_error(site: tuple[FeedSite, str]) -> None:
    state, base = site
    state.pages["/slow"] = Page(rss(ITEMS), delay=2)
    async with httpx.AsyncClient() as client:
        with pytest.raises(SourceError, match=r"no answer within 0\.3 s"):
            await fetch(client, f"{base}/slow", timeout=0.3, **LOCAL)


async def test_unreachable_and_http_errors(site: tuple[FeedSite, str]) -> None:
    _, base = site
    async with httpx.AsyncClient() as client:
        with pytest.raises(SourceError, match="HTTP 404"):
            await fetch(client, f"{base}/missing", **LOCAL)
        with pytest.raises(SourceError, match="could not fetch"):
            await fetch(client, "http://127.0.0.1:9/feed", timeout=2, **LOCAL)


def test_html_instead_of_a_feed_is_a_clear_error() -> None:
    html = b"<!DOCTYPE html><html><head><title>News</title></head><body><p>hi</body></html>"
    with pytest.raises(SourceError, match="HTML page"):
        feed.parse("site", html, url="https://www.example.org/news", content_type="text/html")


@pytest.mark.parametrize("body", [b"", b"\x00\x01\x02garbage\xff" * 20, b"{\"json\": true}"])
def test_garbage_is_a_clear_error(body: bytes) -> None:
    with pytest.raises(SourceError):
        feed.parse("site", body, url="https://www.example.org/feed")


def test_entity_declarations_are_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;">]><rss><channel><item><title>&lol2;</title>'
            b"</item></channel></rss>")
    with pytest.raises(SourceError, match="entit"):
        feed.parse("site", bomb, url="https://www.example.org/feed")


def test_non_utf8_encoding_is_decoded() -> None:
    body = rss([{"title": "Coopération transfrontalière à Besançon",
                 "link": "https://www.example.org/fr/besancon", "description": "Réunion."}],
               encoding="iso-8859-1")
    releases = feed.parse("site", body, url="https://www.example.org/feed",
                          content_type="application/rss+xml")
    assert releases[0].title == "Coopération transfrontalière à Besançon"


@pytest.mark.parametrize("declared", ["iso-8859-1", None])
async def test_a_wrong_charset_in_the_header_falls_back_to_the_document(
        site: tuple[FeedSite, str], caplog: pytest.LogCaptureFixture,
        declared: str | None) -> None:
    """A latin-1 feed served as `charset=utf-16`: read by its XML declaration, else by what
    its bytes look like, with a warning naming the wrong header."""
    state, base = site
    body = rss([{"title": "Coopération transfrontalière à Besançon",
                 "link": "https://www.example.org/fr/besancon",
                 "description": "Réunion des partenaires à Besançon, première étape."}],
               encoding="iso-8859-1")
    if declared is None:  # no encoding in the declaration: only the bytes can tell
        body = body.replace(b' encoding="iso-8859-1"', b"")
    body += b"\n" * (len(body) % 2)  # even: it decodes as UTF-16, into garbage
    state.pages["/feed"] = Page(body, content_type="application/rss+xml; charset=utf-16")
    async with httpx.AsyncClient() as client:
        _, releases = await feed.poll("site", cfg(f"{base}/feed"), SourceState("site"), client)
    assert [r.title for r in releases] == ["Coopération transfrontalière à Besançon"]
    [warning] = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert "charset=utf-16" in warning and "source=site" in warning
    assert ("XML declaration" if declared else "sniffed") in warning


async def test_a_right_charset_in_the_header_is_taken_silently(
        site: tuple[FeedSite, str], caplog: pytest.LogCaptureFixture) -> None:
    state, base = site
    body = rss([{"title": "Москва: партнёры встретились", "link": "https://www.example.org/ru"}],
               encoding="koi8-r", declared="windows-1251")   # the header wins over the document
    state.pages["/feed"] = Page(body, content_type="application/rss+xml; charset=koi8-r")
    async with httpx.AsyncClient() as client:
        _, releases = await feed.poll("site", cfg(f"{base}/feed"), SourceState("site"), client)
    assert [r.title for r in releases] == ["Москва: партнёры встретились"]
    assert not [r for r in caplog.records if r.levelname == "WARNING"]


def test_relative_links_resolve_against_the_feed_url() -> None:
    body = (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
            b'xml:base="https://www.example.org/de/"><title>t</title><id>x</id>'
            b"<updated>2026-03-01T00:00:00Z</updated><entry><title>Treffen</title>"
            b'<id>tag:example.org,2026:1</id><link href="news/treffen"/>'
            b"<updated>2026-03-01T00:00:00Z</updated><summary>Kurz.</summary></entry></feed>")
    releases = feed.parse("site", body, url="https://www.example.org/feeds/de.atom",
                          content_type="application/atom+xml")
    assert releases[0].url == "https://www.example.org/de/news/treffen"


def test_malformed_feed_with_entries_is_still_read() -> None:
    body = rss(ITEMS).replace(b"</channel></rss>", b"<item><title>broken &amp stuff</title>")
    releases = feed.parse("site", body, url="https://www.example.org/feed")
    assert [r.title for r in releases][:2] == ["Partners meet in Linz", "Call for projects opens"]


def test_dates_in_other_languages_fall_back_to_dateparser() -> None:
    body = rss([{"title": "Konferenz", "link": "https://www.example.org/k",
                 "pubDate": "12. März 2026"}])
    releases = feed.parse("site", body, url="https://www.example.org/feed")
    assert releases[0].published_at is not None
    assert releases[0].published_at.date().isoformat() == "2026-03-12"


def test_images_from_media_enclosure_and_content() -> None:
    media = {"title": "A", "link": "https://www.example.org/a",
             "_raw": '<media:content url="https://www.example.org/a.jpg" medium="image"/>'}
    enclosure = {"title": "B", "link": "https://www.example.org/b",
                 "_raw": '<enclosure url="https://www.example.org/b.png" type="image/png" '
                         'length="100"/>'}
    inline = {"title": "C", "link": "https://www.example.org/c",
              "description": '&lt;img src="https://stats.example.org/pixel.gif" width="1" '
                             'height="1"&gt;&lt;p&gt;x&lt;img src="https://www.example.org/c.jpg" '
                             'alt="Harbour at dawn"&gt;&lt;/p&gt;'}
    releases = feed.parse("site", rss([media, enclosure, inline]),
                          url="https://www.example.org/feed")
    assert [r.images[0].url for r in releases] == [
        "https://www.example.org/a.jpg", "https://www.example.org/b.png",
        "https://www.example.org/c.jpg"]
    assert releases[2].images[0].alt == "Harbour at dawn"


def test_entry_without_guid_or_link_is_keyed_by_content() -> None:
    releases = feed.parse("site", rss([{"title": "No id", "description": "Body text."}]),
                          url="https://www.example.org/feed")
    assert releases[0].key.startswith("hash:")


def test_future_date_sets_an_embargo() -> None:
    releases = feed.parse("site", rss([{"title": "Soon", "link": "https://www.example.org/s",
                                        "pubDate": "Mon, 01 Jan 2035 09:00:00 +0000"}]),
                          url="https://www.example.org/feed")
    assert releases[0].embargo_at == datetime(2035, 1, 1, 9, tzinfo=UTC)


def test_zero_item_feed_is_fine() -> None:
    assert feed.parse("site", rss([]), url="https://www.example.org/feed") == []
