"""A feed host cannot point pressbot at its own network, and feed credentials never show.

Each test serves real HTTP on 127.0.0.1 and reads the servers' own records: the "internal"
server must see no request at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.feeds import FeedSite, Page, make_app
from tests.fakes.server import LiveServer
from tests.helpers import make_workspace

RSS = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
       b'<title>Hello</title><link>https://www.example.org/news/hello</link></item>'
       b'</channel></rss>')


@pytest.fixture
def sites() -> Iterator[tuple[FeedSite, str, FeedSite, str]]:
    feed, internal = FeedSite(), FeedSite()
    internal.pages["/internal-secret"] = Page(RSS)
    with LiveServer(make_app(feed)) as outside, LiveServer(make_app(internal)) as inside:
        yield feed, outside.url, internal, inside.url


def feed_source(url: str, *, private: bool) -> str:
    return (f'\n[sources.site]\ntype = "feed"\nurl = "{url}"\nbacklog = "all"\n'
            + ("allow_private = true\n" if private else ""))


@pytest.mark.parametrize("target", ["http://localhost:{port}/internal-secret",
                                    "http://127.0.0.2:{port}/internal-secret",
                                    "http://[::ffff:127.0.0.1]:{port}/internal-secret",
                                    "http://2130706433:{port}/internal-secret"])
def test_a_redirect_into_the_local_network_is_refused(
        tmp_path: Path, sites: tuple[FeedSite, str, FeedSite, str], target: str) -> None:
    feed, url, internal, internal_url = sites
    port = internal_url.rsplit(":", 1)[1]
    feed.pages["/feed"] = Page(b"", redirect_to=target.format(port=port))
    ws = make_workspace(tmp_path, extra=feed_source(f"{url}/feed", private=True))
    result = ws.run("fetch")
    assert result.exit_code == 1
    assert "not a public address" in result.output
    assert internal.requests == []                    # nothing reached the internal server
    assert len(feed.hits("/feed")) == 1


def test_a_private_feed_url_needs_the_source_to_say_so(
        tmp_path: Path, sites: tuple[FeedSite, str, FeedSite, str]) -> None:
    feed, url, _, _ = sites
    feed.pages["/feed"] = Page(RSS)
    ws = make_workspace(tmp_path, extra=feed_source(f"{url}/feed", private=False))
    refused = ws.run("fetch")
    assert refused.exit_code == 1 and "set allow_private = true" in refused.output
    assert feed.requests == []
    ws.config.write_text(ws.config.read_text() + "allow_private = true\n")
    assert ws.run("fetch").exit_code == 0
    assert len(feed.hits("/feed")) == 1


def test_feed_credentials_never_reach_errors_logs_or_the_store(
        tmp_path: Path, sites: tuple[FeedSite, str, FeedSite, str],
        caplog: pytest.LogCaptureFixture) -> None:
    feed, url, _, _ = sites
    feed.pages["/err"] = Page(b"boom", status=500)
    password, key = "Feed-Passw0rd-91", "apikey-7d1c0e55"
    secret_url = url.replace("http://", f"http://feeduser:{password}@") + f"/err?key={key}"
    ws = make_workspace(tmp_path, extra=feed_source(secret_url, private=True))
    with caplog.at_level(logging.DEBUG):
        result = ws.run("fetch")
    assert result.exit_code == 1 and "HTTP 500" in result.output
    import sqlite3

    with sqlite3.connect(tmp_path / "pressbot.db") as db:
        stored = " ".join(str(r) for r in db.execute("SELECT * FROM source_state"))
    assert "HTTP 500" in stored
    for shown in (result.output, caplog.text, stored):
        assert password not in shown and key not in shown
        assert "feeduser" not in shown
