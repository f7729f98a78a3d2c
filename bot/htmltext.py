"""HTML in, two ways out: readable plain text for posts, and safe HTML for e-mail.

Plain text comes from the standard library's `html.parser` (cheap to import, forgiving of
broken markup); the same pass also reads what a release page says about itself (`<title>`,
`<h1>`, Open Graph tags, the first real picture) for the folder source, and leaves out
what its reader does not see or read as the release (`read_page`). A main-content
extractor (trafilatura) was measured against this on the corpus's saved pages and did
not read them better (`bench/html_extractors.py`). Sanitising is not
something to do with regular expressions: `sanitize_html` hands it to nh3 (ammonia) with
an explicit allow-list, imported only when called.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

__all__ = ["Page", "first_image", "html_to_text", "non_web_urls", "read_page", "sanitize_html"]

_BR, _PARA = "\x00br", "\x00p"
_BLOCK = frozenset({
    "p", "div", "section", "article", "header", "footer", "main", "aside", "h1", "h2", "h3",
    "h4", "h5", "h6", "blockquote", "pre", "table", "figure", "figcaption", "address", "dl",
    "hr", "form", "fieldset", "details", "summary", "center", "body"})
_LINE = frozenset({"tr", "dt", "dd"})
_LISTS = frozenset({"ul", "ol", "menu"})
_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "math", "iframe", "object",
                   "canvas", "select", "button", "nav", "title", "head", "figcaption",
                   "dialog", "label"})
_IN_HEAD = frozenset({"meta", "link", "title", "style", "script", "base", "noscript", "template"})
_VOID = frozenset({"br", "img", "meta", "link", "input", "hr", "source", "wbr", "col", "area",
                   "base", "embed", "param", "track"})
_SCOPES = ("article", "main", "body")
_PROSE_WORDS = 12  # a block this long outside lists and links is running text
_WORD = re.compile(r"\w")

_EMAIL_TAGS = {"p", "br", "a", "strong", "em", "b", "i", "ul", "ol", "li", "h2", "h3", "h4",
               "blockquote", "img"}
_EMAIL_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
_DROP_WITH_CONTENT = {"script", "style", "noscript", "template", "iframe", "object", "embed",
                      "svg", "math", "title", "head", "select", "textarea"}

_NOT_A_PICTURE = re.compile(
    r"pixel|spacer|tracker|tracking|1x1|blank\.(?:gif|png)|transparent\.(?:gif|png)|beacon"
    r"|avatar|gravatar|emoji|smiley|feeds\.feedburner|feedsportal|stats\.wordpress|pixel\.wp"
    r"|doubleclick|google-analytics|facebook\.com/tr|/wp-includes/images/smilies", re.I)
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
# class names that hide an element from sighted readers (Bootstrap's `hidden`/`d-none`,
# `sr-only`, `visually-hidden`, WordPress's `screen-reader-text`, `aural`, `u-hidden`…);
# not `overflow-hidden` (clips) nor `hidden-xs`/`mobile-hidden` (one screen size only)
_HIDDEN_CLASS = re.compile(
    r"(?<![\w-])(?:(?:u|is|h|js|util)-)?(?:hidden|hide|invisible|aural|d-none|sr-only"
    r"|visually-?hidden|screen-reader-text|element-invisible)(?![\w-])", re.I)
# a cookie or consent banner, by the names sites and consent managers give it: compounds
# only, since a bare "cookie" is also a state class on the body (`cookies-not-set`) and a
# topic class on a page about cookies
_CONSENT = re.compile(
    r"cookies?[-_]?(?:banner|bar|consent|notice|notification|law|popup|layer|dialog|modal"
    r"|message|hint|overlay|box|info|wall|settings)|(?:consent|privacy)[-_]?(?:banner|manager"
    r"|popup|layer|dialog|modal|sdk|wall)|gdpr[-_]?(?:banner|consent|popup|notice|bar)"
    r"|cookiebot|onetrust|usercentrics|borlabs|cmplz|didomi|iubenda|tarteaucitron|klaro"
    r"|cookieyes|cky-consent|sp_message", re.I)
# widgets that sit inside an article without being part of it: share buttons (and the
# privacy notes of two-click share buttons) and advertisements
_WIDGET = re.compile(
    r"social[-_]?share|share[-_]?(?:buttons?|bar|links?|tools|box|icons?|widget|privacy)"
    r"|shariff|sharing|addthis|a2a_kit|advert(?:isement)?s?(?![\w-])"
    r"|(?<![\w-])ads?[-_](?:banner|slot|container|wrapper|block)", re.I)
_ATTACHMENT = re.compile(r"\.(?:pdf|docx?|odt|rtf|xlsx?|ods|pptx?|odp|zip)(?:[?#]|$)", re.I)
# a picture's caption set in a box of its own (`<div class="photo-caption">`): like a
# <figcaption>, it describes the picture, it is not the story's lede
_CAPTION_CLASS = re.compile(
    r"(?:(?:photo|image|img|picture|pic|media|figure)[-_]?)?caption(?:[-_]text)?"
    r"|wp-caption-text", re.I)
_LAYOUT = re.compile(r"container|wrapper|content|main|article|body|layout|page", re.I)
# landmarks that are not the page's content: menus, search, dialogs (cookie, newsletter)
_NOT_CONTENT_ROLES = frozenset({"navigation", "search", "dialog", "alertdialog", "menubar",
                                "menu"})
_DECLARATION = re.compile(r"<!(?!--)")
_SUBHEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_LEADING_INT = re.compile(r"\s*(\d+)")


class _Text:
    """Text of one part of a page, with paragraph and line breaks kept as markers."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.bullet = False
        self.links: list[str] = []
        self.image: tuple[str, str] | None = None
        self.h1: list[str] | None = None  # text of this part's first <h1>
        self.in_h1 = False
        self.headings: list[list[str]] = []  # texts of its <h2>…<h6>: never a lede
        self.in_heading = False
        # the block being read (a list is one block): where it began, its links, whether it
        # has words outside links and how many outside lists and links
        self.mark = (0, 0)
        self.linked = 0
        self.plain = False
        self.words = 0
        self.prose = False  # a block of running text (not a title or a menu) has been read
        self.said = 0  # words outside links in the block, lists included
        self.end = 0  # where the last block with a sentence's worth of such words ended

    def data(self, text: str, *, in_link: bool, in_list: bool) -> None:
        if self.bullet and text.strip():
            self.parts.append("- ")
            self.bullet = False
        self.parts.append(text)
        if not in_link:
            self.plain = self.plain or _WORD.search(text) is not None
            self.said += len(text.split())
            if not in_list:
                self.words += len(text.split())

    def link(self, href: str) -> None:
        self.links.append(href)
        self.linked += 1

    def block(self, part: str, *, menus: bool) -> None:
        """End the block being read with `part`; with `menus`, drop it when it is only
        links (two or more, nothing but punctuation between them) and no running text
        came before it: a site's menu, breadcrumb, share buttons or tag list."""
        if menus and not self.prose and self.linked >= 2 and not self.plain:
            del self.parts[self.mark[0]:], self.links[self.mark[1]:]
        if self.words >= _PROSE_WORDS:
            self.prose = True
        self.parts.append(part)
        # a list of the release's own documents (PDF, Word…) after it is the release's too
        if self.said >= _PROSE_WORDS or (self.linked and all(
                _ATTACHMENT.search(href) for href in self.links[self.mark[1]:])):
            self.end = len(self.parts)
        self.linked, self.plain, self.words, self.said = 0, False, 0, 0
        self.mark = (len(self.parts), len(self.links))

    def item(self) -> None:
        self.parts.append(_BR)
        self.bullet = True

    def end_item(self) -> None:
        """An item that had no text (a share button's icon) puts no dash on what follows."""
        self.bullet = False

    def result(self, *, page: bool = False) -> str:
        """The text; of a whole `page`, only up to the last block that says something in
        a sentence's worth of words outside links, or lists the release's documents: what
        follows it (link lists, "back to top", "Related topics", a lone "Advertisements"
        title) is the page's furniture."""
        paras: list[str] = []
        lines: list[str] = []
        cur: list[str] = []
        end = len(self.parts) if self.said >= _PROSE_WORDS else self.end
        parts = self.parts[:end] if page and end else self.parts
        for part in [*parts, _PARA]:
            if part not in (_BR, _PARA):
                cur.append(part)
                continue
            line = " ".join("".join(cur).split())
            cur = []
            if line and line != "-":
                lines.append(line)
            if part == _PARA and lines:
                paras.append("\n".join(lines))
                lines = []
        return "\n\n".join(paras)


class _Parser(HTMLParser):
    """One pass over a document: text of the whole and of its article/main/body, and metadata."""

    def __init__(self, *, page: bool = False, reveal: bool = False) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page  # a whole page, whose leading link lists are its menus
        self.reveal = reveal  # read what the page hides too (its only text may be hidden)
        self.all = _Text()
        self.scopes = {name: _Text() for name in _SCOPES}
        self.depth = dict.fromkeys(_SCOPES, 0)
        self.done: set[str] = set()
        self.skip: list[str] = []
        self.lists = 0
        self.small = 0  # inside <small>: an <h1>'s kicker or date, not the headline
        self.in_link = 0
        self.meta: dict[str, str] = {}
        self.tags: list[str] = []
        self.lang: str | None = None
        self.canonical: str | None = None
        self.time: str | None = None
        self.title: list[str] | None = None
        self.in_title = False
        self.captions: list[list[str]] = []
        self.in_caption = False

    def _active(self) -> list[_Text]:
        return [self.all, *(self.scopes[s] for s in _SCOPES if self.depth[s])]

    def _emit(self, part: str) -> None:
        for sink in self._active():
            if part == _PARA and sink.bullet:
                continue  # a <p> right inside an <li> belongs on the item's line
            if part == _PARA:
                sink.block(part, menus=self.page)
            else:
                sink.parts.append(part)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if self.skip == ["head"] and tag not in _IN_HEAD:
            self.skip.clear()  # content before any <body>: the head ended without saying so
        if self.skip:
            self._metadata(tag, a, shown=False)
            if tag not in _VOID:  # every element inside a skipped one too, so that its
                self.skip.append(tag)  # own end tag closes it, not the skipped one
            return
        unread = not self.reveal and tag not in _VOID and _unread(tag, a)
        self._metadata(tag, a, shown=not unread)
        caption = tag == "figcaption" or (tag in ("div", "p", "span") and any(
            _CAPTION_CLASS.fullmatch(n) for n in a.get("class", "").split()))
        if tag in _SKIP or unread or caption:
            if tag not in _VOID:
                self.skip.append(tag)
                if caption and not unread:  # its text is kept apart till the skip ends
                    self.captions.append([])
                    self.in_caption = True
            return
        if tag in _SCOPES and tag not in self.done:
            self.depth[tag] += 1
        if tag == "small":
            self.small += 1
        if tag == "h1":
            for sink in self._active():
                if sink.h1 is None:
                    sink.h1, sink.in_h1 = [], True
        elif tag in _SUBHEADINGS:
            for sink in self._active():
                sink.headings.append([])
                sink.in_heading = True
        if tag in ("li", "p"):
            self.in_link = 0  # an <a> left open ends with its item or paragraph
        elif tag == "a":
            self.in_link += 1
        if tag == "br":
            self._emit(_BR)
        elif tag in _LISTS:
            self._emit(_BR if self.lists else _PARA)
            self.lists += 1
        elif tag == "li":
            for sink in self._active():
                sink.item()
        elif tag in _BLOCK:
            self._emit(_BR if self.lists else _PARA)
        elif tag in _LINE:
            self._emit(_BR)
        elif tag in ("td", "th"):
            self._emit(" ")
        elif tag == "a" and a.get("href"):
            for sink in self._active():
                sink.link(a["href"].strip())
        elif tag == "img" and (found := _picture(a)):
            for sink in self._active():
                sink.image = sink.image or found

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID:
            self.handle_starttag(tag, attrs)
        else:  # `<div/>` in HTML is an open tag, but XHTML-ish writers mean an empty one
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in self.skip:  # also closes skipped elements left open inside it
            del self.skip[len(self.skip) - 1 - self.skip[::-1].index(tag):]
            self.in_caption = self.in_caption and bool(self.skip)
            return
        if tag in _SCOPES and self.depth[tag]:
            self.depth[tag] -= 1
            if not self.depth[tag]:
                self.done.add(tag)
        if self.skip:
            return
        if tag == "h1":
            for sink in (self.all, *self.scopes.values()):
                sink.in_h1 = False
        elif tag in _SUBHEADINGS:
            for sink in (self.all, *self.scopes.values()):
                sink.in_heading = False
        elif tag == "small":
            self.small = max(0, self.small - 1)
        elif tag == "a":
            self.in_link = max(0, self.in_link - 1)
        elif tag in ("li", "p"):
            self.in_link = 0
        if tag in _LISTS or tag == "li":
            for sink in self._active():
                sink.end_item()
        if tag in _LISTS:
            self.lists = max(0, self.lists - 1)
            self._emit(_BR if self.lists else _PARA)
        elif tag == "li" or tag in _LINE:
            self._emit(_BR)
        elif tag in _BLOCK:
            self._emit(_BR if self.lists else _PARA)

    def handle_data(self, data: str) -> None:
        data = data.replace("\x00", "")
        if self.in_title and self.title is not None:
            self.title.append(data)
        if self.skip:
            if self.in_caption:
                self.captions[-1].append(data)
            return
        for sink in self._active():
            sink.data(data, in_link=bool(self.in_link), in_list=bool(self.lists))
            if sink.in_h1 and sink.h1 is not None and not self.small:
                sink.h1.append(data)
            elif sink.in_heading and sink.headings:
                sink.headings[-1].append(data)

    def _metadata(self, tag: str, a: dict[str, str], *, shown: bool) -> None:
        if tag == "title" and self.title is None:
            self.title, self.in_title = [], True
        elif tag == "html" and a.get("lang"):
            self.lang = a["lang"].strip()
        elif tag == "meta":
            name = (a.get("property") or a.get("name") or "").strip().lower()
            content = " ".join(a.get("content", "").replace("\u00ad", "").split())
            if name == "article:tag" and content:
                self.tags.append(content)
            elif name and content:
                self.meta.setdefault(name, content)
        elif tag == "link" and "canonical" in a.get("rel", "").lower().split() and a.get("href"):
            self.canonical = self.canonical or a["href"].strip()
        elif tag == "time" and shown and a.get("datetime") and self.time is None:
            self.time = a["datetime"].strip()
        elif tag == "body" and "head" in self.skip:
            self.skip.clear()  # a <head> nobody closed ends where the body starts


def _drop_unclosed(html: str) -> str:
    """Cut at a comment or CDATA section that never closes, as browsers read it: the stdlib
    parser would otherwise hand everything after it (scripts included) out as text."""
    for opener, closer in (("<!--", "-->"), ("<![CDATA[", "]]>")):
        start = html.find(opener)
        while start != -1:
            end = html.find(closer, start + len(opener))
            if end == -1:
                html = html[:start]
                break
            start = html.find(opener, end + len(closer))
    return html


_WRAPPERS = frozenset({"html", "body", "main", "article"})  # their classes are page states


def _unread(tag: str, a: dict[str, str]) -> bool:
    """An element no sighted reader sees (`hidden`, an inline `display: none`, a class that
    hides it: a site's duplicate menus, screen-reader labels, schema.org blocks) or does
    not read as the page's content (a cookie or consent banner, a menu or search box marked
    by its role, a dialog), whatever comes after it."""
    if "hidden" in a:
        return True
    style, names = a.get("style"), a.get("class", "")
    if (style and _HIDDEN.search(style)) or (names and _HIDDEN_CLASS.search(names)):
        return True
    if tag in _WRAPPERS:
        return False
    role = a.get("role")
    if role and role.strip().lower() in _NOT_CONTENT_ROLES:
        return True
    ident = a.get("id", "")
    return bool((ident or names) and (_CONSENT.search(f"{ident} {names}")
                                      or any(map(_is_widget, f"{ident} {names}".split()))))


def _is_widget(name: str) -> bool:
    """A class or id naming a share widget or an ad (`tx-socialshare-column-item`), not a
    layout box that holds the article beside one (`documentContent__sharingContainer`)."""
    return bool(_WIDGET.search(name)) and not _LAYOUT.search(name)


def _parse(html: str, *, page: bool = False, reveal: bool = False) -> _Parser:
    html = _drop_unclosed(html)
    parser = _Parser(page=page, reveal=reveal)
    for attempt in (html, _DECLARATION.sub("&lt;!", html)):
        parser = _Parser(page=page, reveal=reveal)
        try:
            parser.feed(attempt)
            parser.close()
        except AssertionError:  # the stdlib rejects some broken `<![` declarations this way
            continue
        return parser
    return parser


def _dimension(value: str) -> int | None:
    m = _LEADING_INT.match(value)
    return int(m.group(1)) if m else None


def _picture(a: dict[str, str]) -> tuple[str, str] | None:
    """(src, alt) when an <img> is a picture a reader would see, not a pixel, icon or avatar."""
    src = a.get("src", "").strip()
    if not src or src.lower().startswith("data:"):
        src = (a.get("data-src") or a.get("data-lazy-src") or "").strip()
    if not src or src.lower().startswith(("data:", "javascript:")):
        return None
    for dim in ("width", "height"):
        size = _dimension(a.get(dim, ""))
        if size is not None and size <= 2:
            return None
    path = urlsplit(src)
    if _NOT_A_PICTURE.search(path.netloc + path.path) or _HIDDEN.search(a.get("style", "")):
        return None
    if re.search(r"avatar|emoji|smiley|gravatar|tracking|pixel|icon", a.get("class", ""), re.I):
        return None
    return src, " ".join(a.get("alt", "").split())


def html_to_text(html: str) -> str:
    """Readable text: entities decoded, no tags or scripts, paragraphs apart by a blank line,
    list items as `- item`, link text kept without its address."""
    return _parse(html).all.result()


def first_image(html: str) -> tuple[str, str] | None:
    """(src, alt) of the first real picture, skipping tracking pixels, avatars and emoji."""
    if "<img" not in html.lower():  # most entries have none: no parse for them
        return None
    return _parse(html).all.image


def sanitize_html(html: str, *, headline: bool = False) -> str:
    """HTML safe to put in an e-mail: an allow-list of tags, absolute http(s) links and
    images only (a relative or `mailto:` link goes, its text stays), no scripts or event
    handlers, `rel="noopener noreferrer"` on links; with `headline`, `<h1>` stays (an
    email edited whole, whose title is its own `# heading`)."""
    import nh3  # compiled extension: only the e-mail path pays for loading it

    from bot.links import is_http_url

    def web_only(tag: str, attribute: str, value: str) -> str | None:
        return value if attribute not in _URL_ATTRS or is_http_url(value) else None

    return nh3.clean(
        html, tags=_EMAIL_TAGS | {"h1"} if headline else _EMAIL_TAGS, attributes=_EMAIL_ATTRS,
        clean_content_tags=_DROP_WITH_CONTENT,
        url_schemes={"http", "https"}, link_rel="noopener noreferrer",
        strip_comments=True, attribute_filter=web_only,
    )


_URL_ATTRS = frozenset({"href", "src", "srcset", "background", "action", "formaction",
                        "poster", "cite", "longdesc", "xlink:href", "data", "codebase"})


class _UrlFinder(HTMLParser):
    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = allowed
        self.bad: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        from bot.links import is_http_url

        for name, value in attrs:
            if name in _URL_ATTRS and value is not None and value not in self.allowed:
                urls = [v.strip().split(" ")[0] for v in value.split(",")] \
                    if name == "srcset" else [value]
                self.bad.extend(u for u in urls if not is_http_url(u))

    handle_startendtag = handle_starttag


def non_web_urls(html: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """Every link or image address in `html` that is not an absolute http(s) URL (values in
    `allowed`, such as a placeholder filled in later, excepted)."""
    finder = _UrlFinder(allowed)
    finder.feed(html)
    finder.close()
    return finder.bad


@dataclass(frozen=True)
class Page:
    """What a release page says about itself, and the text of its main part."""

    text: str
    title: str | None = None
    h1: str | None = None  # the first <h1> of the part the text comes from, else of the page
    headings: tuple[str, ...] = ()  # the part's <h2>…<h6>: subheadings, never its lede
    meta: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    lang: str | None = None
    canonical: str | None = None
    time: str | None = None
    links: list[str] = field(default_factory=list)
    image: tuple[str, str] | None = None
    captions: tuple[str, ...] = ()  # shown <figcaption>s: kept out of the text, but a
    # header picture's caption is where some sites set their standfirst


def read_page(html: str) -> Page:
    """The page's metadata and the text, links and first picture of its `<article>`, else
    `<main>`, else `<body>`, else the whole document.

    What a reader of the page does not read as the release is left out, so that it is
    never taken for the title or the lede: navigation, dialogs, cookie and consent
    banners, elements the page hides (`hidden`, `display: none`, `sr-only`…; a `<time>`
    in them is not the page's date) and, before the first paragraph of running text,
    blocks and lists of nothing but links (menus, breadcrumbs, share buttons, tags).
    A page left with no text that way (all of it hidden until a script shows it, or
    only links) is read whole."""
    p = _parse(html, page=True)
    if not p.all.result():  # a page that hides all it has (shown by a script) or is only
        p = _parse(html, reveal=True)  # links is read whole
    part = next((s for s in (*(p.scopes[n] for n in _SCOPES), p.all) if s.result()), p.all)

    def joined(chunks: list[str] | None) -> str | None:  # soft hyphens are layout, not text
        return (" ".join("".join(chunks).replace("\u00ad", "").split()) or None
                if chunks is not None else None)

    heads = tuple(h for h in (joined(c) for c in part.headings) if h)
    return Page(text=part.result(page=True), title=joined(p.title), h1=joined(part.h1 or p.all.h1),
                headings=heads,
                meta=p.meta,
                tags=p.tags, lang=p.lang, canonical=p.canonical, time=p.time,
                links=part.links, image=part.image,
                captions=tuple(c for c in map(joined, p.captions) if c))
