"""A saved release page (.html in a folder source): what its reader does not read as the
release (cookie banners, menus, hidden blocks) is never its title, lede or date, and a page
that begins with navigation is read, not refused (issue 24)."""

from __future__ import annotations

import contextlib
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from bot.errors import ExtractError
from bot.htmltext import html_to_text, read_page
from bot.models import Release
from bot.sources.files import read_release_file

CORPUS = Path(__file__).resolve().parents[1] / "extraction" / "corpus"

STORY = """
<h1>Harbour bridge reopens after repairs</h1>
<p>Example City, 4 March 2026 – The harbour bridge reopens to traffic on Monday after eight
months of repairs to its steel deck, the city's roads department said today.</p>
<p>Buses return to their usual routes from the first morning service. Cyclists get a
separate lane on the east side.</p>
"""
LEDE = "Example City, 4 March 2026 – The harbour bridge reopens"
COOKIE_TEXT = ("We use cookies to give you the best experience on our website. By clicking"
               " Accept all you agree to the storing of cookies on your device.")
MENU = """
<div class="top-menu"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/about">About us</a></li><li><a href="/contact">Contact</a></li></ul></div>
<p class="crumbs"><a href="/">Home</a> &gt; <a href="/news">News</a></p>
"""


def read(tmp_path: Path, html: str, name: str = "page.html") -> Release:
    path = tmp_path / name
    path.write_text(textwrap.dedent(html), encoding="utf-8")
    return read_release_file(path, source="press", key=name, tz=UTC)


def page(body: str, head: str = "<title>Harbour bridge reopens after repairs | City</title>"
         ) -> str:
    return f"<!DOCTYPE html><html lang='en'><head>{head}</head><body>{body}</body></html>"


@pytest.mark.parametrize("banner", [
    f'<div id="cookie-banner"><p>{COOKIE_TEXT}</p><a href="/privacy">Settings</a></div>',
    f'<div id="onetrust-consent-sdk"><div><p>{COOKIE_TEXT}</p></div></div>',
    f'<div class="cc-window" role="dialog"><p>{COOKIE_TEXT}</p></div>',
    f"<dialog open><p>{COOKIE_TEXT}</p></dialog>",
])
def test_a_cookie_banner_before_the_story_is_not_its_lede(tmp_path: Path, banner: str) -> None:
    release = read(tmp_path, page(banner + MENU + f'<div class="content">{STORY}</div>'))
    assert release.title == "Harbour bridge reopens after repairs"
    assert release.summary.startswith(LEDE)
    assert "cookies" not in release.body


def test_a_cookie_banner_is_not_the_title_of_a_page_without_one(tmp_path: Path) -> None:
    banner = f'<div class="cookie-notice"><p><strong>{COOKIE_TEXT}</strong></p></div>'
    release = read(tmp_path, page(banner + MENU + STORY, head=""))
    assert release.title == "Harbour bridge reopens after repairs"
    assert release.summary.startswith(LEDE)


def test_a_page_of_menus_without_title_tags_or_article_reads_the_story(tmp_path: Path) -> None:
    """No <title>, <h1>, Open Graph, <article> or <main>: only menus, then the story."""
    story = STORY.replace("<h1>", "<p><strong>").replace("</h1>", "</strong></p>")
    release = read(tmp_path, page(MENU + '<div class="content">' + story + "</div>"
                                  '<div class="footer"><p>City of Example, Town Hall Square 1'
                                  "</p></div>", head=""))
    assert release.title == "Harbour bridge reopens after repairs"
    assert release.summary.startswith(LEDE)
    assert release.published_at == datetime(2026, 3, 4, tzinfo=UTC)
    assert "About us" not in release.body


def test_links_after_the_story_began_stay_and_a_feed_keeps_a_list_of_links(
        tmp_path: Path) -> None:
    """Only links before any running text are a menu: a story's own list of documents
    stays, and an entry of a feed (no page around it) that is only links keeps them."""
    docs = ('<h2>Documents</h2><ul><li><a href="/a.pdf">Tender notice</a></li>'
            '<li><a href="/b.pdf">Traffic plan</a></li></ul>')
    release = read(tmp_path, page(MENU + STORY + docs))
    assert "- Tender notice\n- Traffic plan" in release.body
    assert html_to_text(docs) == "Documents\n\n- Tender notice\n- Traffic plan"


@pytest.mark.parametrize("tail", [
    # related links, a site's service menu and "back to top" after the story
    '<h2>Related topics</h2><ul><li><a href="/r1">What is radon?</a></li>'
    '<li><a href="/r2">Measuring radon</a></li></ul><p><a href="#top">Back to top</a></p>',
    '<div class="service"><p>Service</p><ul><li><a href="/jobs">Careers</a></li>'
    '<li><a href="/contact">Citizens\' contact</a></li></ul></div>',
    # a two-click share widget's privacy note, an ad slot, a newsletter form's consent
    '<div class="tx-socialshare-column-item"><p>By activating the share buttons, data is '
    'sent to the networks and stored there, which we cannot influence.</p></div>',
    '<div class="advertisements block"><div class="block-title">Advertisements</div></div>',
    '<form><input type="checkbox" id="c"><label for="c"><p>I agree that my data is processed'
    ' as the privacy policy says, and that I get a mail to confirm my subscription.</p>'
    '</label></form>',
])
def test_page_furniture_after_the_story_stays_out_of_the_body(tmp_path: Path,
                                                              tail: str) -> None:
    release = read(tmp_path, page(MENU + f'<div class="content">{STORY}{tail}</div>'))
    assert release.body.endswith("Cyclists get a separate lane on the east side.")


def test_a_share_box_around_the_story_is_not_a_share_widget(tmp_path: Path) -> None:
    """A layout box named for the share buttons beside the story (BEM naming) holds it."""
    release = read(tmp_path, page(
        f'<div class="documentContent__sharingContainer">{STORY}</div>'))
    assert release.body.endswith("Cyclists get a separate lane on the east side.")


@pytest.mark.parametrize(("h1", "og_title", "title"), [
    # a kicker set inside the <h1>, and soft hyphens that are layout, not text
    ("<span>Roads</span> Harbour bridge re\u00adopens after repairs",
     "Harbour bridge re\u00adopens after repairs", "Harbour bridge reopens after repairs"),
    ("Harbour bridge reopens after repairs", "Bridge", "Harbour bridge reopens after repairs"),
])
def test_the_headline_without_its_kicker(tmp_path: Path, h1: str, og_title: str,
                                         title: str) -> None:
    release = read(tmp_path, page(STORY.replace("<h1>Harbour bridge reopens after repairs",
                                                f"<h1>{h1}"),
                                  head=f'<meta property="og:title" content="{og_title}">'))
    assert release.title == title


def test_a_photo_caption_box_is_not_the_lede(tmp_path: Path) -> None:
    caption = ('<div class="photo-caption">The mayor (right) looks on as engineers test the'
               ' new steel deck of the harbour bridge on Friday.</div>')
    release = read(tmp_path, page(caption + STORY))
    assert release.summary.startswith(LEDE)


def test_the_date_the_page_labels_published_beats_its_date_meta(tmp_path: Path) -> None:
    """`<meta name="date">` often carries the day of the last edit; the page says which
    day it was published, and labels the edit apart."""
    story = STORY.replace("Example City, 4 March 2026 – ", "")
    release = read(tmp_path, page(
        "<p>Published on:</p><p>2 March 2026</p><p>Last updated on:</p><p>9 March 2026</p>"
        + story, head='<meta name="date" content="2026-03-09">'))
    assert release.published_at == datetime(2026, 3, 2, tzinfo=UTC)
    assert "Last updated" not in release.body


@pytest.mark.parametrize("hidden", [
    '<div hidden><p>{}</p></div>', '<div style="display: none"><p>{}</p></div>',
    '<p>Read the <a href="/plan">plan <span class="sr-only">{}</span></a>.</p>',
    '<div class="visually-hidden"><div>{}</div></div>',
])
def test_what_a_page_hides_is_not_read(tmp_path: Path, hidden: str) -> None:
    junk = "Metadata for machines 2021-10-27T20:35:36+01:00 de-DE"
    first, rest = STORY.split("</p>", 1)
    release = read(tmp_path, page(first + "</p>" + hidden.format(junk) + rest))
    assert release.summary.startswith(LEDE)
    assert "Metadata" not in release.body


def test_a_page_that_hides_all_it_has_is_read_whole(tmp_path: Path) -> None:
    release = read(tmp_path, page(f'<div id="app" style="display:none">{STORY}</div>'))
    assert release.summary.startswith(LEDE)


def test_hidden_microdata_is_neither_lede_nor_date() -> None:
    """A real page (DRK): a `display:none` schema.org block repeats title, dates and the
    whole story run together before the visible story, dated the evening before."""
    path = CORPUS / "de" / "drk-2021-10-28-klimakonferenz.html"
    release = read_release_file(path, source="press", key=path.name, tz=UTC)
    assert release.summary.startswith("Vor Beginn der UN-Klimakonferenz am 31. Oktober")
    assert "2021-10-27T20:35:36" not in release.body
    assert release.published_at is not None
    assert release.published_at.date().isoformat() == "2021-10-28"


def test_an_empty_share_list_puts_no_dash_on_the_lede() -> None:
    """A real page (Wikimedia): share buttons are list items with icons and no text."""
    path = CORPUS / "en" / "wikimedia-foundation-2020-01-15-turkey.html"
    release = read_release_file(path, source="press", key=path.name, tz=UTC)
    assert release.summary.startswith("Today, on Wikipedia’s 19th birthday")


def test_the_headline_leaves_out_the_h1s_date_and_screen_reader_labels() -> None:
    """A real page (BMBF): the <h1> holds the title, a screen-reader ': ' and a <small>
    topline with 'Datum: 26.01.2022 Pressemitteilung: 6/2022'."""
    path = CORPUS / "de" / "bmbf-2022-01-26-directions.html"
    release = read_release_file(path, source="press", key=path.name, tz=UTC)
    assert release.title == ("Stark-Watzinger: Forschungsprojekt legt Grundstein für"
                             " Datenschutzzertifizierung von Bildungsprodukten")


def test_a_date_in_the_markup_when_there_is_no_published_time(tmp_path: Path) -> None:
    """JSON-LD `datePublished` (htmldate) comes before a date the story's text mentions."""
    head = ('<title>Harbour bridge reopens after repairs</title><script type="application/'
            'ld+json">{"@type": "NewsArticle", "datePublished": "2026-03-02T10:00:00+01:00"}'
            "</script>")
    release = read(tmp_path, page(STORY, head=head))
    assert release.published_at == datetime(2026, 3, 2, tzinfo=UTC)


def test_no_date_from_a_sidebar_of_older_news(tmp_path: Path) -> None:
    """No marked date and none in the story: the sidebar's dates are other releases'."""
    story = STORY.replace("Example City, 4 March 2026 – ", "")
    sidebar = ("<aside><h2>Latest news</h2><ul><li>Budget adopted – 12 March 2021</li>"
               "<li>Council meets – 3 February 2021</li></ul></aside>")
    release = read(tmp_path, page(story + sidebar + "<footer>© 2019–2024 City</footer>"))
    assert release.published_at is None


class _Recorder(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html><head><title>Fetched</title></head></html>")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/release"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_page_that_is_an_address_is_not_fetched(tmp_path: Path, server: str) -> None:
    """htmldate downloads a string that starts with `http`: it is handed a parsed tree."""
    _Recorder.hits.clear()
    # held with a guessed title, or refused: either way read from the file alone
    with contextlib.suppress(ExtractError):
        read(tmp_path, server)
    assert _Recorder.hits == []


def test_read_page_keeps_metadata_of_a_page_whose_head_is_skipped() -> None:
    got = read_page('<html><head><title>T</title><meta property="og:title" content="O">'
                    '<link rel="canonical" href="https://x.example/r"></head>'
                    "<body><p>Text.</p></body></html>")
    assert (got.title, got.meta["og:title"], got.canonical) == ("T", "O", "https://x.example/r")
