"""The corpus of odd and broken feeds in `tests/corpus/`: each one gives the right releases
or a clear SourceError, and a poll cycle over all of them stores the good ones and reports
the broken ones without stopping.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.config import FeedSourceConfig, load_config
from bot.errors import SourceError
from bot.ingest import fetch_all
from bot.sources import feed
from bot.store import Store, releases
from bot.store import posts as post_store
from bot.store import sources as source_store
from bot.store.sources import SourceState
from tests.fakes.feeds import FeedSite, Page, make_app, rss
from tests.fakes.server import LiveServer

CORPUS = Path(__file__).parent.parent / "corpus"
CONTENT_TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml",
                 ".rdf": "application/rdf+xml", ".xml": "text/html; charset=utf-8",
                 ".json": "application/json", ".bin": "application/octet-stream"}
# served with a header that contradicts the document, as misconfigured servers do
CONTENT_TYPE_OVERRIDES = {"windows1252.rss": "application/rss+xml; charset=utf-8",
                          "declared_utf8_is_latin1.rss": "text/xml; charset=utf-8"}


@dataclass(frozen=True)
class Item:
    title: str
    url: str | None = None
    key: str | None = None
    day: date | None = None
    image: str | None = None


@dataclass(frozen=True)
class Expect:
    items: list[Item] = field(default_factory=list)
    error: str | None = None  # a regex the SourceError must match


EXPECTED: dict[str, Expect] = {
    "no_guid.rss": Expect([
        Item("Bridge reopens after repairs", "https://www.example.org/news/bridge",
             key="https://www.example.org/news/bridge", day=date(2026, 3, 10)),
        Item("Volunteers plant 500 trees", None, key="hash:"),
    ]),
    "duplicate_guids.rss": Expect([
        Item("Call for projects opens", "https://www.example.org/news/call", key="news-17",
             day=date(2026, 3, 2)),
        Item("Jury announced", "https://www.example.org/news/jury", key="news-18"),
    ]),
    "xml_base.atom": Expect([
        Item("Treffen in Linz", "https://www.example.org/de/news/linz",
             key="tag:example.org,2026:linz", day=date(2026, 3, 10)),
        Item("Réunion à Besançon", "https://www.example.org/fr/actualites/besancon",
             day=date(2026, 3, 11),
             image="https://www.example.org/fr/actualites/photos/besancon.jpg"),
        Item("Meeting in Ljubljana",
             "https://www.example.org/en/news/ljubljana?lang=en&ref=feed"),
    ]),
    "foreign_dates.rss": Expect([
        Item("Konferenz in Graz", day=date(2026, 3, 12)),
        Item("Conférence à Strasbourg", day=date(2026, 3, 3)),
        Item("Jornada en Bilbao", day=date(2026, 2, 5)),
        Item("Srečanje v Mariboru", day=date(2026, 1, 7)),
        Item("Date nobody can read", "https://www.example.org/en/unknown"),
    ]),
    "declared_utf8_is_latin1.rss": Expect([
        Item("Coopération à Besançon", "https://www.example.org/fr/besancon")]),
    "windows1252.rss": Expect([Item("“Smart” villages – a guide")]),
    "bom_and_blank_lines.rss": Expect([
        Item("Žiri welcomes partners", "https://www.example.org/sl/ziri",
             day=date(2026, 3, 11))]),
    "rdf.rdf": Expect([
        Item("Old formats still work", "https://www.example.org/news/old-but-valid",
             day=date(2026, 2, 20))]),
    "truncated.rss": Expect([
        Item("Museum night draws record crowd", "https://www.example.org/news/museum-night")]),
    "markup_in_titles.rss": Expect([
        Item('Award for "Clean Rivers" project', "https://www.example.org/news/award"),
        Item("An item without a title still has a first line. And more text after it.",
             "https://www.example.org/news/untitled"),
    ]),
    "private_images.rss": Expect([
        Item("Metadata service", image="https://cdn.example.org/thumbs/a.jpg"),
        Item("Loopback in every spelling", image=None),
        Item("Public picture after a private one", image="https://www.example.org/img/c.jpg"),
    ]),
    "external_dtd.rss": Expect([
        Item("Harbour festival programme", "https://www.example.org/news/harbour")]),
    "zero_items.rss": Expect([]),
    "html_page.xml": Expect(error=r"an HTML page, expected RSS or Atom"),
    "json_feed.json": Expect(error=r"not a well-formed feed"),
    "random_bytes.bin": Expect(error=r"not a well-formed feed"),
    "gzip_without_header.rss": Expect(error=r"not a well-formed feed"),
    "billion_laughs.rss": Expect(error=r"declares XML entities"),
    "utf16_quadratic_entities.rss": Expect(error=r"declares XML entities"),
    "utf7_entities.rss": Expect(error=r"declares XML entities"),
    # strict parsing fails, and feedparser's loose fallback then crashes on the surrogate
    "surrogate_charref.rss": Expect(error=r"not a readable feed \(UnicodeEncodeError"),
}


def content_type(name: str) -> str:
    return CONTENT_TYPE_OVERRIDES.get(name) or CONTENT_TYPES[Path(name).suffix]


def test_every_corpus_file_has_an_expectation() -> None:
    assert {p.name for p in CORPUS.iterdir()} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_gives_releases_or_a_clear_error(name: str) -> None:
    expect = EXPECTED[name]
    url = f"https://www.example.org/feeds/{name}"
    body = (CORPUS / name).read_bytes()
    if expect.error:
        with pytest.raises(SourceError, match=expect.error) as caught:
            feed.parse("corpus", body, url=url, content_type=content_type(name))
        assert str(caught.value).startswith(url)  # says which feed
        assert len(str(caught.value)) < 400
        return
    found = feed.parse("corpus", body, url=url, content_type=content_type(name))
    assert [r.title for r in found] == [i.title for i in expect.items]
    for release, item in zip(found, expect.items, strict=True):
        if item.url is not None:
            assert release.url == item.url
        if item.key is not None:
            assert release.key.startswith(item.key) if item.key == "hash:" else (
                release.key == item.key)
        if item.day is not None:
            assert release.published_at is not None
            assert release.published_at.date() == item.day
        if "image" in name or item.image:
            assert [i.url for i in release.images] == ([item.image] if item.image else [])
    assert len({r.key for r in found}) == len(found)


def test_markup_and_scripts_never_reach_the_text() -> None:
    found = feed.parse("corpus", (CORPUS / "markup_in_titles.rss").read_bytes(),
                       url="https://www.example.org/feed")
    award = found[0]
    for text in (award.title, award.summary, award.body, award.body_html):
        assert "alert" not in text
        assert "<script" not in text
        assert "javascript:" not in text
        assert "onclick" not in text
    assert "<b>" not in award.title
    assert "The project wins." in award.body


def test_an_external_dtd_is_never_read() -> None:
    found = feed.parse("corpus", (CORPUS / "external_dtd.rss").read_bytes(),
                       url="https://www.example.org/feed")
    text = " ".join([found[0].title, found[0].summary, found[0].body])
    assert "root:" not in text
    assert "programme is out" in text


def test_private_images_are_kept_when_the_source_allows_them() -> None:
    found = feed.parse("corpus", (CORPUS / "private_images.rss").read_bytes(),
                       url="https://www.example.org/feed", allow_private_images=True)
    assert [[i.url for i in r.images] for r in found] == [
        ["http://169.254.169.254/latest/meta-data/iam"], ["http://127.1:8080/admin.png"],
        ["http://192.168.1.20/nas.png"]]


# ---------------------------------------------------------------- size and time


def _bounded(call: object, *, cpu_seconds: float, megabytes: float) -> object:
    """Run `call`, holding it to a peak of traced memory and to CPU time of this thread:
    both count work done, which other processes on a busy machine do not inflate (wall
    time would). A quadratic step on these megabytes would take hours, not seconds."""
    tracemalloc.start()
    started = time.thread_time()
    try:
        result = call()  # type: ignore[operator]
    finally:
        cpu = time.thread_time() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert cpu < cpu_seconds, f"took {cpu:.2f} s of CPU"
    assert peak < megabytes * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    return result


def test_a_one_megabyte_title_and_a_huge_item_stay_bounded() -> None:
    body = rss([
        {"title": "Big " * 250_000, "link": "https://www.example.org/big"},
        {"title": "Huge body", "link": "https://www.example.org/huge",
         "description": ("&lt;p&gt;" + "Lorem ipsum dolor sit amet. " * 40 + "&lt;/p&gt;")
         * 2_000},
        {"title": "Long date", "link": "https://www.example.org/date",
         "pubDate": "12 März " * 20_000},
    ])
    assert len(body) > 3_000_000
    found = _bounded(lambda: feed.parse("big", body, url="https://www.example.org/feed"),
                     cpu_seconds=60, megabytes=400)
    assert isinstance(found, list)
    big, huge, dated = found
    assert big.title.startswith("Big Big")
    assert len(huge.body) > 2_000_000
    assert dated.published_at is None  # not handed to dateparser: a date is never that long


def test_entity_bomb_is_refused_before_any_expansion() -> None:
    body = (CORPUS / "utf16_quadratic_entities.rss").read_bytes()
    with pytest.raises(SourceError):
        _bounded(lambda: feed.parse("bomb", body, url="https://www.example.org/feed"),
                 cpu_seconds=10, megabytes=20)


# ---------------------------------------------------------------- transport guards


@pytest.fixture
def site() -> Iterator[tuple[FeedSite, str]]:
    state = FeedSite()
    with LiveServer(make_app(state)) as server:
        yield state, server.url


class Drip:
    """An ASGI app answering 200 and then one byte every 0.1 s, for a minute, until the
    client hangs up; it records how far it got."""

    def __init__(self, steps: int = 600) -> None:
        self.steps, self.sent = steps, 0
        self.hung_up = threading.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()   # the request; the next message can only be the client leaving
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/rss+xml")]})
        await send({"type": "http.response.body", "body": b"<rss>", "more_body": True})
        for _ in range(self.steps):
            try:
                message = await asyncio.wait_for(receive(), 0.1)
            except TimeoutError:
                await send({"type": "http.response.body", "body": b" ", "more_body": True})
                self.sent += 1
                continue
            if message["type"] == "http.disconnect":
                self.hung_up.set()
                return
        await send({"type": "http.response.body", "body": b"</rss>"})


async def _poll(url: str, **cfg: Any) -> list[Any]:
    config = FeedSourceConfig(type="feed", url=url, allow_private=True, **cfg)
    async with httpx.AsyncClient() as client:
        _, found = await feed.poll("site", config, SourceState("site"), client)
    return found


def test_a_server_dripping_bytes_is_cut_off_at_the_timeout() -> None:
    """Each byte comes well within the timeout; the whole answer would take a minute."""
    drip = Drip()
    with LiveServer(drip) as server:
        with pytest.raises(SourceError, match=r"no complete answer within 0.5 s "
                                              r"\(sources\.site\.timeout\)"):
            asyncio.run(_poll(f"{server.url}/feed", timeout="0.5s"))
        assert drip.hung_up.wait(30), "the client never hung up"
    assert drip.sent < drip.steps   # cut off, not read to the end


def test_an_external_dtd_on_a_server_is_never_fetched(site: tuple[FeedSite, str]) -> None:
    state, base = site
    state.pages["/evil.dtd"] = Page(b'<!ENTITY secret "pwned">', content_type="text/plain")
    body = (f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{base}/evil.dtd">'
            '<rss version="2.0"><channel><title>t</title><item><title>Hello &secret;</title>'
            '<link>https://www.example.org/a</link></item></channel></rss>').encode()
    state.pages["/feed"] = Page(body)
    found = asyncio.run(_poll(f"{base}/feed"))
    assert "pwned" not in found[0].title
    assert state.hits("/evil.dtd") == []


def test_a_redirect_to_a_file_url_is_refused(site: tuple[FeedSite, str]) -> None:
    state, base = site
    state.pages["/feed"] = Page(b"", redirect_to="file:///etc/passwd")
    with pytest.raises(SourceError, match="non-http"):
        asyncio.run(_poll(f"{base}/feed"))


def test_images_on_the_feeds_own_private_host_need_allow_private_images(
        site: tuple[FeedSite, str]) -> None:
    state, base = site
    state.pages["/feed"] = Page(rss([{
        "title": "Relative picture", "link": "https://www.example.org/p",
        "description": '&lt;p&gt;Text&lt;img src="/img/p.png" alt="P"&gt;&lt;/p&gt;'}]))
    assert asyncio.run(_poll(f"{base}/feed"))[0].images == []  # resolves to 127.0.0.1
    allowed = asyncio.run(_poll(f"{base}/feed", allow_private_images=True))
    assert [i.url for i in allowed[0].images] == [f"{base}/img/p.png"]


# ---------------------------------------------------------------- a whole poll cycle


def _source_name(file: str) -> str:
    return re.sub(r"\W", "_", file)


def test_a_poll_cycle_stores_good_feeds_and_reports_broken_ones(
        site: tuple[FeedSite, str], tmp_path: Path) -> None:
    state, base = site
    tables = []
    for name in sorted(EXPECTED):
        state.pages[f"/{name}"] = Page((CORPUS / name).read_bytes(),
                                       content_type=content_type(name))
        tables.append(f'[sources.{_source_name(name)}]\ntype = "feed"\n'
                      f'url = "{base}/{name}"\nbacklog = "all"\nallow_private = true\n')
    # failures of the transport, beside those of the documents
    state.pages["/slow"] = Page(rss([{"title": "Late", "link": "https://e.example/l"}]),
                                delay=1.5)
    state.pages["/big"] = Page(b"<rss>" + b" " * 50_000 + b"</rss>")
    local = "allow_private = true\n"   # the test servers are on 127.0.0.1
    tables += [f'[sources.gone]\ntype = "feed"\nurl = "{base}/gone"\n{local}',
               f'[sources.slow]\ntype = "feed"\nurl = "{base}/slow"\ntimeout = "0.5s"\n{local}',
               f'[sources.big]\ntype = "feed"\nurl = "{base}/big"\nmax_bytes = 10000\n{local}',
               f'[sources.refused]\ntype = "feed"\nurl = "http://127.0.0.1:9/feed"\n{local}']
    config_file = tmp_path / "pressbot.toml"
    config_file.write_text(
        f'[bot]\ndatabase_url = "sqlite:///{tmp_path}/p.db"\noutbox = "{tmp_path}/outbox"\n\n'
        '[channels.mastodon]\ntype = "outbox"\nlike = "mastodon"\napproval = "manual"\n\n'
        + "\n".join(tables), encoding="utf-8")
    config = load_config(config_file)
    store = Store(config.bot.database_url)

    reports = {r.name: r for r in asyncio.run(fetch_all(config, store))}

    expected_errors = {_source_name(n): e.error for n, e in EXPECTED.items() if e.error}
    expected_errors |= {"gone": "HTTP 404", "slow": "answer within 0.5 s",
                        "big": "over the limit", "refused": "could not fetch"}
    good = {_source_name(n): len(e.items) for n, e in EXPECTED.items() if not e.error}
    assert set(reports) == set(expected_errors) | set(good)
    for name, pattern in expected_errors.items():
        report = reports[name]
        assert report.fatal, name
        assert report.new == 0, name
        assert len(report.errors) == 1, name
        assert re.search(pattern, report.errors[0]), (name, report.errors)
    for name, count in good.items():
        report = reports[name]
        assert report.errors == [], (name, report.errors)
        assert (report.new, report.queued) == (count, count), name

    with store.begin() as conn:
        assert releases.count(conn) == sum(good.values())
        queued = post_store.listing(conn, status=["pending"])
        states = {name: source_store.get(conn, name) for name in reports}
    assert len(queued) == sum(good.values())
    assert {p.release_uid.split(":", 1)[0] for p in queued if p.release_uid} == {
        n for n, c in good.items() if c}
    for name in expected_errors:
        assert states[name].last_error, name
        assert states[name].failures == 1, name
    for name in good:
        assert states[name].last_error is None, name
        assert states[name].last_ok_at is not None
        assert states[name].last_ok_at <= datetime.now(UTC)

    # a second cycle: everything unchanged (304s), nothing queued twice, errors counted again
    again = {r.name: r for r in asyncio.run(fetch_all(config, store))}
    assert all(again[n].new == 0 for n in again)
    assert all(again[n].not_modified for n in good)
    with store.begin() as conn:
        assert len(post_store.listing(conn)) == sum(good.values())
        assert source_store.get(conn, "gone").failures == 2
