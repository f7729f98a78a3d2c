"""Feed edge cases: what relative links are relative to, FeedBurner's original links,
and dates feedparser misreads or writes without a zone — over a real HTTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.config import FeedSourceConfig
from bot.models import Release
from bot.sources import feed
from bot.store.sources import SourceState
from tests.fakes.feeds import FeedSite, Page, make_app
from tests.fakes.server import LiveServer
from tests.helpers import make_workspace

pytestmark = pytest.mark.anyio

ATOM_NS = 'xmlns:atom="http://www.w3.org/2005/Atom"'
FB_NS = 'xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0"'


def doc(items: str, head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0" {ATOM_NS} {FB_NS}>'
            f"<channel><title>News</title>{head}{items}</channel></rss>").encode()


ITEM = ("<item><title>Bridge reopens</title><link>news/bridge</link><guid>b1</guid>"
        "<description>&lt;p&gt;See &lt;a href=\"docs/plan.pdf\"&gt;the plan&lt;/a&gt;"
        "&lt;/p&gt;</description></item>")
SELF = '<atom:link rel="self" href="https://www.example.org/blog/feed.xml"/>'


@pytest.fixture
def site() -> Iterator[tuple[FeedSite, str]]:
    state = FeedSite()
    with LiveServer(make_app(state)) as server:
        yield state, server.url


async def _poll(url: str, **cfg: object) -> list[Release]:
    source = FeedSourceConfig(type="feed", url=url, allow_private=True,  # on 127.0.0.1
                              **cfg)  # type: ignore[arg-type]
    async with httpx.AsyncClient() as client:
        _, releases = await feed.poll("site", source, SourceState("site"), client,
                                      tz=ZoneInfo("Europe/Brussels"))
    return releases


@pytest.mark.parametrize(("head", "headers", "expected"), [
    (SELF, {"Content-Location": "https://cdn.example.net/x/feed.xml"},
     "https://www.example.org/blog/"),  # rel=self before Content-Location
    ("", {"Content-Location": "https://www.example.org/press/feed.xml"},
     "https://www.example.org/press/"),
    ("", {}, None),  # the address fetched
])
async def test_relative_links_resolve_against_self_then_content_location_then_fetch_url(
        site: tuple[FeedSite, str], head: str, headers: dict[str, str],
        expected: str | None) -> None:
    state, base = site
    state.pages["/feeds/news.xml"] = Page(doc(ITEM, head), headers=headers)
    [r] = await _poll(f"{base}/feeds/news.xml")
    root = expected or f"{base}/feeds/"
    assert r.url == root + "news/bridge"
    assert f'href="{root}docs/plan.pdf"' in r.body_html


async def test_xml_base_comes_first(site: tuple[FeedSite, str]) -> None:
    state, base = site
    item = ITEM.replace("<item>", '<item xml:base="https://www.example.org/fr/">')
    state.pages["/feed"] = Page(doc(item, SELF))
    [r] = await _poll(f"{base}/feed")
    assert r.url == "https://www.example.org/fr/news/bridge"


def test_a_feed_file_never_resolves_against_its_path(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    bare = tmp_path / "blog" / "feed.xml"
    bare.parent.mkdir()
    bare.write_bytes(doc(ITEM))
    out = ws.run("preview", str(bare), "--json")
    assert out.exit_code == 0, out.output
    assert "file:" not in out.output
    items = json.loads(out.output)
    assert items and all("news/bridge" not in (i["text"] or "") for i in items)
    assert all(any("not an http(s) address" in w for w in i["warnings"]) for i in items)
    with_self = tmp_path / "blog" / "self.xml"
    with_self.write_bytes(doc(ITEM, SELF))
    items = json.loads(ws.run("preview", str(with_self), "--json").output)
    assert {i["release"]["url"] for i in items} == {"https://www.example.org/blog/news/bridge"}


async def test_feedburner_orig_link_beats_the_proxy_link(site: tuple[FeedSite, str]) -> None:
    state, base = site
    item = ("<item><title>Call opens</title>"
            "<link>https://feeds.feedburner.example/~r/news/~3/Xy12/</link>"
            "<feedburner:origLink>https://www.example.org/news/call-opens"
            "</feedburner:origLink><pubDate>Tue, 10 Mar 2026 09:00:00 GMT</pubDate></item>"
            "<item><title>No proxy here</title><link>https://www.example.org/news/plain</link>"
            "</item>")
    state.pages["/feed"] = Page(doc(item))
    call, plain = await _poll(f"{base}/feed")
    assert call.url == "https://www.example.org/news/call-opens"
    assert call.links == ["https://www.example.org/news/call-opens"]
    assert plain.url == "https://www.example.org/news/plain"


@pytest.mark.parametrize(("raw", "zone", "expected"), [
    # feedparser reads this as 1 December 2020; it is 10 January, 14:33 in Brussels
    ("2020/1/10 14:33:00", None, datetime(2020, 1, 10, 13, 33, tzinfo=UTC)),
    ("10.01.2020 14:33", None, datetime(2020, 1, 10, 13, 33, tzinfo=UTC)),
    # no zone: the source's own time zone, when it has one
    ("Fri, 10 Jan 2020 14:33:00", "America/New_York", datetime(2020, 1, 10, 19, 33,
                                                               tzinfo=UTC)),
    ("2020-07-10T14:33:00", None, datetime(2020, 7, 10, 12, 33, tzinfo=UTC)),
    # a zone written in the stamp is the stamp's
    ("Fri, 10 Jan 2020 14:33:00 +0100", "America/New_York",
     datetime(2020, 1, 10, 13, 33, tzinfo=UTC)),
    ("2020-01-10T14:33:00Z", None, datetime(2020, 1, 10, 14, 33, tzinfo=UTC)),
])
async def test_dates_are_read_carefully(site: tuple[FeedSite, str], raw: str,
                                        zone: str | None, expected: datetime) -> None:
    state, base = site
    state.pages["/feed"] = Page(doc(f"<item><title>Dated</title><guid>d</guid>"
                                    f"<pubDate>{raw}</pubDate></item>"))
    [r] = await _poll(f"{base}/feed", **({"timezone": zone} if zone else {}))
    assert r.published_at == expected


def test_a_summary_opening_with_a_press_release_banner_gives_the_real_lede() -> None:
    """A CMS that writes "PRESS RELEASE / For immediate release" atop the description must
    not have that posted as the lede (it reads as the whole message on Mastodon)."""
    lede = ("Ljubljana, 3 May 2026 – Interreg partners opened the new cross-border cycling"
            " route between the two towns on Saturday.")
    item = ("<item><title>Cycling route opens</title><guid>c1</guid>"
            "<link>https://www.example.org/news/c1</link><description><![CDATA["
            "<p>PRESS RELEASE<br/>For immediate release</p>"
            f"<p>{lede}</p><p>More partners joined later.</p>]]></description>"
            "<content:encoded><![CDATA[<p>PRESS RELEASE<br/>For immediate release</p>"
            f"<p>{lede}</p><p>More partners joined later.</p><p>The full story.</p>]]>"
            "</content:encoded></item>")
    body = doc(item).replace(b"<rss ", b'<rss xmlns:content='
                             b'"http://purl.org/rss/1.0/modules/content/" ', 1)
    [r] = feed.parse("site", body, url="https://www.example.org/feed")
    assert r.summary == lede
    assert "PRESS RELEASE" not in r.body and "immediate release" not in r.body
