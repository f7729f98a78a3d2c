"""Properties over hostile and broken input: the text cleaner, the renderer, the feed parser.

Whatever text comes in: the cleaner never raises and never lets a boilerplate line it was
built to strip into the body; a rendered post never exceeds the channel's limit as the
platform counts it and never cuts a URL, hashtag or grapheme cluster; the feed parser
answers random or truncated bytes with releases or a SourceError, nothing else.

CI runs a small number of examples; `make fuzz` sets PRESSBOT_FUZZ_EXAMPLES=20000.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from functools import cache
from html import escape
from pathlib import Path

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import Config, load_config
from bot.errors import SourceError
from bot.fit import ELLIPSIS, count, find_urls
from bot.hashtags import hashtags
from bot.htmltext import html_to_text, sanitize_html
from bot.links import add_utm
from bot.models import Release
from bot.netguard import is_public_http_url
from bot.render import Target, render, targets
from bot.sources import feed
from bot.sources.extract import BOILERPLATE_MARKERS, extract_text
from channels.registry import kind
from tests.fakes.mastodon_text import status_length

EXAMPLES = int(os.environ.get("PRESSBOT_FUZZ_EXAMPLES", "100"))
PROFILE = settings(max_examples=EXAMPLES, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# ---------------------------------------------------------------- building blocks

_letters = st.sampled_from([
    "a", "e", "n", "r", "t", "Q", "é", "ß", "ž", "ж", "東", "한", "ع", "1", "7",
    "e\u0301",                                      # e + combining acute
    "\N{MAN}\u200d\N{WOMAN}\u200d\N{GIRL}",         # ZWJ family: one cluster of five code points
    "\U0001F1E6\U0001F1F9",                         # flag
    "\N{THUMBS UP SIGN}\U0001F3FD",                 # skin tone
    "\u0915\u094d\u0937",                           # Devanagari conjunct
])
_word = st.lists(_letters, min_size=1, max_size=8).map("".join)
_url = st.builds(
    lambda scheme, host, path, query: f"{scheme}://{host}/{path}{query}",
    st.sampled_from(["https", "http"]),
    st.sampled_from(["www.example.org", "presse.example.de", "bücher.example.com", "x.io"]),
    st.lists(st.sampled_from(["news", "2026", "é", "(x)", "a_b", "%20", "file.pdf"]),
             max_size=4).map("/".join),
    st.sampled_from(["", "?id=3", "?a=1&b=2", "#top"]))
_hashtag = st.lists(st.sampled_from([*"abcdefxyzé", "Ж", "東"]), min_size=1,
                    max_size=10).map(lambda s: "#" + "".join(s))
_mention = st.sampled_from(["@alice", "@press@example.social"])
_token = st.one_of(_word, _word, _word, _url, _hashtag, _mention)
_gap = st.sampled_from([" ", " ", " ", ". ", ", ", "! ", "? ", "\n", "\n\n", " (", ") ", "。"])
_prose = st.lists(st.tuples(_token, _gap), max_size=45).map(
    lambda pairs: "".join(t + g for t, g in pairs))


# ---------------------------------------------------------------- the text cleaner

# Lines the cleaner exists to strip: page numbers, end marks, share/read-more links,
# breadcrumbs, phone and e-mail lines (each matches one of BOILERPLATE_MARKERS).
_MARKER_LINES = [
    "Page 2 of 5", "page 3", "Seite 4 von 9", "- 3 -", "4/12", "###", "-ENDS-", "– End –",
    "-30-", "[ends]", "Read more »", "Continue reading…", "Share this article", "Tweet",
    "Print this page", "Back to news", "Related news:", "Skip to main content",
    "Home > News > 2026", "You are here: Home › Press › Releases", "Tel: +43 1 234 5678",
    "Phone. (0)30 123 456-7", "E-mail: press@example.org", "email: presse@region.example.de",
]
_sentence = st.lists(_word, min_size=3, max_size=14).map(lambda w: " ".join(w) + ".")
_line = st.one_of(
    _sentence, _sentence, _sentence,
    st.sampled_from(_MARKER_LINES).map(lambda s: s),
    st.sampled_from(_MARKER_LINES).map(lambda s: "  " + s.upper() + " \t"),
    st.just(""),
    st.text(max_size=60),
)
_document = st.lists(_line, max_size=40).map("\n".join)


def _marker_free(text: str) -> bool:
    return not any(m.search(text) for m in BOILERPLATE_MARKERS)


@PROFILE
@given(text=_document, title=st.none() | _sentence)
def test_cleaner_never_raises_nor_keeps_a_marker_line(text: str, title: str | None) -> None:
    result = extract_text(text, known_title=title)
    assert _marker_free(result.body), result.body
    # the lede is one of the body's lines (the first that can open a story), or nothing
    assert result.lede in result.body.split("\n") if result.body else not result.lede
    body_lines = {" ".join(line.split()).casefold() for line in result.body.split("\n")}
    for marker in _MARKER_LINES:
        assert marker.casefold() not in body_lines


@PROFILE
@given(text=st.text(max_size=400))
def test_cleaner_takes_any_text(text: str) -> None:
    result = extract_text(text)
    assert _marker_free(result.body)
    assert "\x00" not in result.body
    assert all(link.startswith(("http://", "https://")) for link in result.links)


_tag = st.sampled_from(["p", "div", "li", "ul", "h2", "a", "b", "table", "td", "br", "img",
                        "span", "article", "main", "body", "nav", "svg", "figure"])
_attr = st.sampled_from(["", ' class="x"', ' href="javascript:evil()"', ' onclick="evil()"',
                         ' src="https://www.example.org/a.jpg"', ' style="display:none"'])


_CLOSED_JUNK = ["&amp;", "&lt;", "&#x1F600;", "&bogus;", "<!-- c -->", "<![CDATA[x]]>",
                "<!DOCTYPE x>", "<br/>", "<p/>"]
_OPEN_JUNK = ["<!--", "-->", "<![CDATA[", "</", "<", "<!DOCTYPE ", "<?"]


@st.composite
def _html(draw: st.DrawFn, *, broken: bool) -> str:
    """HTML from tags, entities, scripts and prose; `broken` adds constructs left open."""
    junk = _CLOSED_JUNK + (_OPEN_JUNK if broken else [])
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 30))):
        choice = draw(st.integers(0, 5))
        if choice == 0:
            parts.append(f"<{draw(_tag)}{draw(_attr)}>")
        elif choice == 1:
            parts.append(f"</{draw(_tag)}>")
        elif choice == 2:
            parts.append("<script>var TOKEN_SCRIPT = 1;</script><style>p{TOKEN_STYLE}</style>")
        elif choice == 3:
            parts.append(draw(st.sampled_from(junk)))
        else:
            parts.append(escape(draw(_prose)))
    return "".join(parts)


@PROFILE
@given(html=_html(broken=False))
def test_html_to_text_never_shows_script_or_style(html: str) -> None:
    text = html_to_text(html)
    assert "TOKEN_SCRIPT" not in text
    assert "TOKEN_STYLE" not in text
    assert "<script" not in text


@PROFILE
@given(html=_html(broken=True) | st.text(max_size=300))
def test_html_cleaning_takes_any_markup_and_sanitising_lets_no_script_through(
        html: str) -> None:
    html_to_text(html)
    safe = sanitize_html(html).lower()
    for bad in ("<script", "javascript:", "onclick", "<style"):
        assert bad not in safe


@pytest.mark.parametrize("html", ["<p>Hi</p><!--<script>steal()</script>",
                                  "<p>Hi</p><![CDATA[<script>steal()</script>"])
def test_an_unclosed_comment_hides_what_follows(html: str) -> None:
    # Found by fuzzing. Browsers read an unclosed comment as running to the end.
    assert html_to_text(html) == "Hi"


# ---------------------------------------------------------------- the renderer


@cache
def _config() -> Config:
    """A real config file: real Mastodon, an outbox standing in for Facebook, small limits."""
    folder = Path(tempfile.mkdtemp(prefix="pressbot-props-"))
    file = folder / "pressbot.toml"
    file.write_text(f"""
[bot]
database_url = "sqlite:///{folder}/p.db"
outbox = "{folder}/outbox"

[channels.mastodon]
type = "mastodon"
base_url = "https://mastodon.example"
access_token = "not-a-real-token"
spoiler_text = "CW: test 🧪"
max_characters = 140
utm = {{ source = "mastodon", medium = "social" }}

[channels.mastodon_default]
type = "outbox"
like = "mastodon"

[channels.facebook]
type = "outbox"
like = "facebook"
max_characters = 120
""", encoding="utf-8")
    return load_config(file)


def _targets() -> list[Target]:
    return targets(_config())


_HASHTAG_RE = regex.compile(r"(?<![\w/#])#[\w·\u200c]+")


def _urls(text: str) -> set[str]:
    return {text[a:b] for a, b in find_urls(text)}


def _clusters(text: str) -> set[int]:
    return {m.start() for m in regex.finditer(r"\X", text)} | {len(text)}


def _flat(text: str) -> str:
    return " ".join(text.split())


@st.composite
def _releases(draw: st.DrawFn) -> Release:
    title = " ".join(draw(st.lists(st.one_of(_word, _word, _hashtag, _url), min_size=1,
                                   max_size=6)))
    return Release(
        source="props", key="k", title=title,
        url=draw(st.none() | _url),
        summary=draw(_prose),
        tags=draw(st.lists(st.one_of(_word, st.sampled_from(["Climate", "EU funding", "ß"])),
                           max_size=4)),
        published_at=datetime(2026, 3, 10, tzinfo=UTC),
    )


@PROFILE
@given(release=_releases())
def test_rendered_posts_fit_and_never_cut_inside_a_url_hashtag_or_grapheme(
        release: Release) -> None:
    for target in _targets():
        spoiler = getattr(target.cfg, "spoiler_text", None) or ""
        rendered = render(release, target, _config())
        limit = target.limits.max_chars
        assert limit is not None
        text = rendered.text
        assert rendered.length == count(text, target.limits, spoiler)
        if rendered.blocking:  # only when title, link and hashtags alone are too long
            bare = render(release.model_copy(update={"summary": ""}), target, _config())
            assert bare.length > limit
            continue
        assert rendered.length <= limit
        if kind(target.cfg) == "mastodon":  # the platform's own count (the fake's rules)
            assert status_length(text, spoiler) <= limit, text

        utm = target.cfg.utm
        link = add_utm(release.url, utm.source, utm.medium, utm.campaign) if release.url else ""
        tags = hashtags(release.tags) if target.cfg.hashtags else []
        sources = " ".join([release.title, release.summary, link or ""])
        assert _urls(text) <= _urls(sources) | ({link} if link else set()), text
        assert set(_HASHTAG_RE.findall(text)) <= set(_HASHTAG_RE.findall(sources)) | set(tags)

        # the post is title, (shortened) summary, link (Mastodon), hashtags — in that order
        title = _flat(release.title)
        tail = " ".join(x for x in [link if kind(target.cfg) == "mastodon" else "",
                                    " ".join(tags)] if x)
        flat = _flat(text)
        assert flat.startswith(title)
        assert flat.endswith(tail)
        kept = flat[len(title):len(flat) - len(tail)].strip()
        kept = kept.removesuffix(ELLIPSIS).rstrip()
        original = _flat(release.summary)
        assert original.startswith(kept), (kept, original)
        assert len(kept) in _clusters(original), (kept, original)


# ---------------------------------------------------------------- the feed parser


@PROFILE
@given(body=st.binary(max_size=3000),
       content_type=st.sampled_from(["application/rss+xml", "text/html", "", "text/plain",
                                     "application/xml; charset=utf-16"]))
def test_random_bytes_give_releases_or_a_source_error(body: bytes, content_type: str) -> None:
    _parse_or_source_error(body, content_type)


def _parse_or_source_error(body: bytes, content_type: str = "application/rss+xml",
                           ) -> list[Release] | None:
    try:
        found = feed.parse("fuzz", body, url="https://www.example.org/feed",
                           content_type=content_type)
    except SourceError as exc:
        error = str(exc)
    else:
        error = None
    if error is not None:
        assert error.startswith("https://www.example.org/feed")  # names the feed
        return None
    assert len({r.key for r in found}) == len(found)  # one release per key
    for release in found:
        assert release.title.strip()
        for image in release.images:
            assert is_public_http_url(image.url, allow_private=False), image.url
    return found


_xml_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=80)
_field_value = st.one_of(
    _xml_text.map(escape),                       # well escaped
    _xml_text,                                   # raw: & and < break the XML
    _prose.map(lambda s: f"<![CDATA[{s}]]>"),
    st.sampled_from(["", " ", "&amp;", "&nbsp;", "&#0;", "&#xD800;", "]]>", "<b>x</b>"]),
)
_dates = st.one_of(
    st.sampled_from(["Tue, 10 Mar 2026 09:00:00 +0100", "2026-03-10T09:00:00Z", "12. März 2026",
                     "yesterday", "31/02/2026", "Mon, 99 Foo 9999", "", "0", "1e400"]),
    _xml_text.map(escape))
_links = st.one_of(_url, st.sampled_from([
    "/relative/path", "news/a", "javascript:alert(1)", "file:///etc/passwd", "http://127.0.0.1/x",
    "", "https://", "mailto:x@example.org", "http://[::1]/a", "//cdn.example.org/a"]))
_image_urls = st.one_of(_url.map(lambda u: u + ".jpg"), st.sampled_from([
    "http://127.0.0.1:8080/a.png", "http://169.254.169.254/x", "file:///etc/passwd",
    "/img/a.png", "http://localhost/a.png", "data:image/png;base64,AAAA", "http://10.0.0.1/a"]))


@st.composite
def _feed_text(draw: st.DrawFn) -> tuple[str, str]:
    """An RSS document with odd items, and the encoding to send it in."""
    items = []
    for n in range(draw(st.integers(0, 6))):
        fields = []
        if draw(st.booleans()):
            fields.append(f"<title>{draw(_field_value)}</title>")
        if draw(st.booleans()):
            fields.append(f"<link>{escape(draw(_links))}</link>")
        if draw(st.booleans()):
            fields.append(f"<guid>{escape(draw(st.sampled_from(['a', 'a', 'b', ' ', str(n)])))}"
                          "</guid>")
        if draw(st.booleans()):
            fields.append(f"<pubDate>{draw(_dates)}</pubDate>")
        if draw(st.booleans()):
            fields.append(f"<description>{draw(_field_value)}</description>")
        if draw(st.booleans()):
            fields.append(f'<media:content url="{escape(draw(_image_urls))}" medium="image"/>')
        if draw(st.booleans()):
            fields.append(f'<enclosure url="{escape(draw(_image_urls))}" type="image/png"/>')
        if draw(st.booleans()):
            img = escape(f'<img src="{draw(_image_urls)}" alt="x">')
            fields.append(f"<description>{img}</description>")
        items.append("<item>" + "".join(draw(st.permutations(fields))) + "</item>")
    encoding = draw(st.sampled_from(["utf-8", "utf-16", "utf-16-be", "utf-32", "utf-7",
                                     "iso-8859-1", "windows-1252", "cp037"]))
    declared = draw(st.sampled_from([encoding, encoding, "utf-8", "bogus-enc"]))
    return (f'<?xml version="1.0" encoding="{declared}"?>\n'
            '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>'
            "<title>Fuzz</title><link>https://www.example.org/</link>"
            + "".join(items) + "</channel></rss>"), encoding


@st.composite
def _feed(draw: st.DrawFn) -> bytes:
    text, encoding = draw(_feed_text())
    body = text.encode(encoding, "replace")
    if draw(st.booleans()):  # cut off in transit
        body = body[:draw(st.integers(0, len(body)))]
    return body


@PROFILE
@given(body=_feed())
def test_generated_and_truncated_feeds_give_releases_or_a_source_error(body: bytes) -> None:
    _parse_or_source_error(body)


@PROFILE
@given(doc=_feed_text(), size=st.integers(min_value=0, max_value=3),
       spelling=st.sampled_from(["<!ENTITY", "<!entity", "<!ENTITY %"]))
def test_a_feed_with_an_entity_declaration_is_always_refused(
        doc: tuple[str, str], size: int, spelling: str) -> None:
    text, encoding = doc
    start = text.index("<rss")
    decl = f'<!DOCTYPE rss [\n{spelling} e "{"x" * size}">\n]>\n'
    body = (text[:start] + decl + text[start:]).encode(encoding, "replace")
    with pytest.raises(SourceError, match="entit"):
        feed.parse("fuzz", body, url="https://www.example.org/feed")
