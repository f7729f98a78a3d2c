"""HTML → text for posts, HTML → safe HTML for e-mail, and the first real picture."""

from __future__ import annotations

import pytest

from bot.htmltext import first_image, html_to_text, read_page, sanitize_html


@pytest.mark.parametrize(("html", "expected"), [
    ("<p>Fish &amp; chips &eacute;t&eacute; &#8364;5 &lt;b&gt;</p>", "Fish & chips été €5 <b>"),
    ("<p>non&nbsp;breaking &nbsp; spaces</p>", "non breaking spaces"),
    ("<p>One</p><p>Two</p>", "One\n\nTwo"),
    ("<p>line one<br>line two<br/>line three</p>", "line one\nline two\nline three"),
    ("<ul><li>first</li><li>second</li></ul>", "- first\n- second"),
    ("<p>Intro:</p><ol><li>a</li><li>b</li></ol><p>After</p>", "Intro:\n\n- a\n- b\n\nAfter"),
    ("<ul><li><p>para in item</p></li><li>plain</li></ul>", "- para in item\n- plain"),
    ("<ul><li>outer<ul><li>inner</li></ul></li></ul>", "- outer\n- inner"),
    ("<p><strong>Bold <em>and italic</em></strong> text</p>", "Bold and italic text"),
    ("<h2>Heading</h2>Text under it", "Heading\n\nText under it"),
    ("<p>Read <a href='https://x.example/a'>the call</a>.</p>", "Read the call."),
    ("<p>a</p><script>alert('x')</script><style>p { color: red }</style><p>b</p>", "a\n\nb"),
    ("<nav><a href='/'>Home</a></nav><p>Body</p>", "Body"),
    ("<html><head><title>Tab title</title></head><body><p>Body</p></body></html>", "Body"),
    ("<head><title>T</title><p>Body without a body tag</p>", "Body without a body tag"),
    ("<div>  lots   of\n\n whitespace\t here </div>", "lots of whitespace here"),
    ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"),
    ("<p>unclosed <b>bold <p>next", "unclosed bold\n\nnext"),
    ("plain text, no tags", "plain text, no tags"),
    ("<figure><img src='a.jpg'><figcaption>Photo: someone</figcaption></figure><p>x</p>", "x"),
    ("", ""),
    ("<p>nul\x00byte</p>", "nulbyte"),
])
def test_html_to_text(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


@pytest.mark.parametrize("html", [
    "<![ broken declaration <p>still text</p>",
    "<p>still text</p><![if x",
    "<!x <p>still text",
])
def test_broken_declarations_do_not_stop_the_text(html: str) -> None:
    # the stdlib parser raises AssertionError on some of these; the text must still come out
    assert "still text" in html_to_text(html)
    assert "still text" in read_page(html).text


@pytest.mark.parametrize(("html", "kept", "gone"), [
    ("<p>Hi<script>alert(1)</script></p>", ["<p>Hi</p>"], ["script", "alert"]),
    ('<a href="javascript:alert(1)">x</a>', [">x</a>"], ["javascript", "href"]),
    ('<a href="JaVaScRiPt:alert(1)">x</a>', [">x</a>"], ["alert", "href"]),
    ('<img src="x.jpg" onerror="alert(1)" alt="a">', ['alt="a"'], ["onerror", "alert"]),
    ('<img src="data:image/png;base64,AAAA" alt="a">', ["<img"], ["data:", "AAAA"]),
    ('<p onclick="steal()" style="color:red" class="c">t</p>', ["<p>t</p>"],
     ["onclick", "style", "class"]),
    ('<a href="https://x.example/a" target="_blank">x</a>',
     ['href="https://x.example/a"', 'rel="noopener noreferrer"'], ["target"]),
    # only http(s) leaves pressbot (issue 14): a mailto link keeps its text, loses its href
    ('<a href="mailto:press@x.example">mail</a>', [">mail</a>"], ["mailto:"]),
    ('<a href="/news/1">rel</a><img src="img/a.png">', [">rel</a>"], ["/news/1", "img/a.png"]),
    ('<a href="ftp://x.example/file">f</a>', [">f</a>"], ["ftp:"]),
    ("<div><span>inner</span></div><iframe src='https://x.example'></iframe>", ["inner"],
     ["<div", "<span", "iframe"]),
    ("<h1>Top</h1><h2>Sub</h2><h5>Small</h5>", ["Top", "<h2>Sub</h2>", "Small"],
     ["<h1", "<h5"]),
    ("<ul><li><strong>a</strong> <em>b</em></li></ul><blockquote>q</blockquote>",
     ["<ul><li><strong>a</strong> <em>b</em></li></ul>", "<blockquote>q</blockquote>"], []),
    ('<img src="https://x.example/p.jpg" alt="Photo" width="600" height="400">',
     ['src="https://x.example/p.jpg"', 'width="600"', 'height="400"'], []),
    ("<p>a<!-- secret comment -->b</p><style>p{}</style>", ["<p>ab</p>"], ["secret", "p{}"]),
])
def test_sanitize_html(html: str, kept: list[str], gone: list[str]) -> None:
    clean = sanitize_html(html)
    for text in kept:
        assert text in clean
    for text in gone:
        assert text.lower() not in clean.lower()


@pytest.mark.parametrize(("html", "expected"), [
    ('<img src="https://x.example/a.jpg" alt="A  bus\nstop">',
     ("https://x.example/a.jpg", "A bus stop")),
    ('<img src="https://x.example/t.gif" width="1" height="1"><img src="/b.jpg" alt="B">',
     ("/b.jpg", "B")),
    ('<img src="https://x.example/spacer.gif"><img src="https://x.example/pixel.png?u=1">'
     '<img src="https://feeds.feedburner.com/~r/x/~4/abc"><img src="c.jpg">', ("c.jpg", "")),
    ('<img src="https://secure.gravatar.com/avatar/123?s=48" alt="">'
     '<img class="avatar avatar-48" src="https://x.example/u.jpg">'
     '<img class="wp-smiley emoji" src="https://s.w.org/images/core/emoji/72x72/1f600.png">'
     '<img src="https://x.example/d.jpg" alt="D">', ("https://x.example/d.jpg", "D")),
    ('<img src="data:image/gif;base64,R0lGOD"><img src="e.jpg" alt="E">', ("e.jpg", "E")),
    ('<img src="data:image/gif;base64,R0lGOD" data-src="https://x.example/lazy.jpg" alt="L">',
     ("https://x.example/lazy.jpg", "L")),
    ('<img src="f.jpg" width="2px"><img src="g.jpg" style="display:none">'
     '<img src="h.jpg" width="640">', ("h.jpg", "")),
    ('<img alt="no source"><img src="">', None),
    ("<p>no images</p>", None),
    ("", None),
])
def test_first_image(html: str, expected: tuple[str, str] | None) -> None:
    assert first_image(html) == expected


PAGE = """<!doctype html><html lang="sl-SI"><head>
<title>Release | Site</title>
<meta property="og:title" content="OG title">
<meta property="og:image" content="/media/og.jpg">
<meta name="description" content="A  description">
<meta property="article:tag" content="one"><meta property="article:tag" content="two">
<link rel="canonical" href="https://x.example/news/release">
</head><body>
<header><img src="/logo.png" alt="Logo"><h1>Site name</h1></header>
<main><p>Main intro</p>
<article><h1>Article title</h1><time datetime="2026-03-12T10:00:00Z">12 March</time>
<img src="/pic.jpg" alt="Pic"><p>Article text with <a href="/calls/3">a link</a>.</p></article>
<article><p>Second article is not the release</p></article>
</main></body></html>"""


def test_read_page_prefers_the_first_article() -> None:
    page = read_page(PAGE)
    assert page.text == "Article title\n\n12 March\n\nArticle text with a link."
    assert page.h1 == "Article title"  # not the site's name in the page header
    assert page.title == "Release | Site"
    assert page.meta["og:title"] == "OG title"
    assert page.meta["description"] == "A description"
    assert page.tags == ["one", "two"]
    assert page.lang == "sl-SI"
    assert page.canonical == "https://x.example/news/release"
    assert page.time == "2026-03-12T10:00:00Z"
    assert page.links == ["/calls/3"]
    assert page.image == ("/pic.jpg", "Pic")


def test_read_page_h1_falls_back_to_the_page() -> None:
    page = read_page("<h1>Outside <em>the</em> article</h1><article><p>Text</p></article>")
    assert page.h1 == "Outside the article"
    assert page.text == "Text"


@pytest.mark.parametrize(("html", "text"), [
    ("<body><main><p>in main</p></main><p>outside</p></body>", "in main"),
    ("<body><p>only body</p></body>", "only body"),
    ("<p>no body tag</p>", "no body tag"),
    ("<body><article></article><p>empty article falls back</p></body>",
     "empty article falls back"),
])
def test_read_page_falls_back_from_article_to_main_to_body(html: str, text: str) -> None:
    assert read_page(html).text == text
