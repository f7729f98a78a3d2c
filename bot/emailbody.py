"""An email's body in three forms that say the same thing: Markdown, HTML and plain text.

A person edits an email as Markdown, the source its HTML is rendered from, so a heading
stays a heading and a list a list. The plain-text part is written from that same HTML
(never from the Markdown by a second set of rules), so both parts carry the same words:
every list item, every paragraph, and a link that is not http(s) (`mailto:`, `tel:`,
`javascript:`) as its plain text in both, since the HTML sanitiser drops its address.
The greeting, the footer, the unsubscribe link and the postal address are the layout's
(`templates/email/edited.*.j2`): they are never part of the text a person edits.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["content_html", "html_to_markdown", "html_to_text", "markdown_to_html"]

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4}
_BLOCKS = frozenset({"p", "div", "blockquote", "table", "tr", "h1", "h2", "h3", "h4"})
_INNER = re.compile(r'<td\b[^>]*\bclass="inner"[^>]*>(.*?)</td>\s*</tr>', re.S)
_NO_HREF_LINK = re.compile(r"<a\b(?![^>]*\bhref=)[^>]*>(.*?)</a>", re.S)
_ITEM = re.compile(r"\s*(?:-|\d+\.) ")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#])")
_MD_LINE_START = re.compile(r"^(\s*)([-+]|\d+[.)])(\s)", re.M)


def markdown_to_html(md: str) -> str:
    """Markdown → the HTML an email shows: CommonMark, raw HTML off, then sanitised; a link
    that is not http(s) becomes its text (no dead `<a>` styled as a link)."""
    from markdown_it import MarkdownIt

    from bot.htmltext import sanitize_html

    parser = MarkdownIt("commonmark", {"html": False})
    # every link becomes an <a>, so that the sanitiser, not the Markdown parser, decides:
    # a `javascript:` one is then its label, not its source text
    parser.validateLink = lambda url: True  # type: ignore[method-assign]
    html = _link_bare_urls(parser.render(md))
    return unwrap_dead_links(sanitize_html(html, headline=True)).strip()


_TAG = re.compile(r"(<[^>]*>)")


def _link_bare_urls(html: str) -> str:
    """A bare http(s) address in the text (not already in a link) becomes a link, as the
    review page shows it: `bot.fit.find_urls` finds it in time linear in the text, so no
    pasted string can make an edit hang."""
    from bot.fit import find_urls

    out: list[str] = []
    in_link = 0
    for piece in _TAG.split(html):
        if piece.startswith("<"):
            name = piece[1:].split(None, 1)[0].lower().rstrip(">") if len(piece) > 2 else ""
            in_link += name == "a"
            in_link -= name == "/a" and in_link > 0
            out.append(piece)
            continue
        if in_link or "http" not in piece:
            out.append(piece)
            continue
        position = 0
        for start, end in find_urls(piece):
            url = piece[start:end]
            out += [piece[position:start], f'<a href="{url}">{url}</a>']
            position = end
        out.append(piece[position:])
    return "".join(out)


def unwrap_dead_links(html: str) -> str:
    """`<a>` elements left without an address (the sanitiser removed a `mailto:` or
    `tel:` href) become their text. Sanitised HTML never nests one `<a>` in another."""
    return _NO_HREF_LINK.sub(r"\1", html)


def content_html(layout_html: str) -> str:
    """The content cell of a rendered email (`<td class="inner">`), greeting left out."""
    found = _INNER.search(layout_html)
    body = found.group(1) if found else layout_html
    from bot.placeholders import GREETING

    return re.sub(rf"<p\b[^>]*>\s*{re.escape(GREETING)}\s*</p>", "", body, count=1)


class _Writer(HTMLParser):
    """Sanitised email HTML → Markdown (`markdown=True`) or plain text."""

    def __init__(self, *, markdown: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.md = markdown
        self.blocks: list[str] = []
        self.line: list[str] = []
        self.lists: list[list[int]] = []  # per open list: [next number] or [] (bullets)
        self.links: list[str | None] = []
        self.link_start: list[int] = []
        self.heading = 0
        self.quote = 0

    def _flush(self) -> None:
        text = " ".join("".join(self.line).split())
        self.line = []
        if not text:
            return
        if self.heading and self.md:
            text = "#" * self.heading + " " + text
        if self.quote:
            text = "> " + text
        self.blocks.append(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in _BLOCKS:
            self._flush()
            self.heading = _HEADINGS.get(tag, 0)
            self.quote += tag == "blockquote"
        elif tag in ("ul", "ol"):
            self._flush()
            self.lists.append([1] if tag == "ol" else [])
        elif tag == "li":
            self._flush()
            numbering = self.lists[-1] if self.lists else []
            indent = "  " * max(0, len(self.lists) - 1)
            if numbering:
                self.line.append(f"{indent}{numbering[0]}. ")
                numbering[0] += 1
            else:
                self.line.append(f"{indent}- ")
        elif tag == "br":
            self._flush()
        elif tag == "a":
            href = a.get("href") or None
            self.links.append(href)
            self.link_start.append(len(self.line))
            if href and self.md:
                self.line.append("[")
        elif tag in ("strong", "b") and self.md:
            self.line.append("**")
        elif tag in ("em", "i") and self.md:
            self.line.append("*")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._flush()
            self.heading = 0
            self.quote = max(0, self.quote - (tag == "blockquote"))
        elif tag in ("ul", "ol"):
            self._flush()
            if self.lists:
                self.lists.pop()
        elif tag == "li":
            self._flush()
        elif tag == "a" and self.links:
            href, start = self.links.pop(), self.link_start.pop()
            if not href:
                return
            label = " ".join("".join(self.line[start:]).lstrip("[").split())
            if self.md:
                self.line.append(f"]({href})")
            elif label not in (href, href.split("://", 1)[-1]):
                self.line.append(f" ({href})")
            else:
                self.line[start:] = [href]
        elif tag in ("strong", "b") and self.md:
            self.line.append("**")
        elif tag in ("em", "i") and self.md:
            self.line.append("*")

    def handle_data(self, data: str) -> None:
        if self.md:
            data = _MD_SPECIAL.sub(r"\\\1", data)
            if not self.line:
                data = _MD_LINE_START.sub(r"\1\2\\\3", data)
        self.line.append(data)

    def result(self) -> str:
        self._flush()
        out: list[str] = []
        previous_item = False
        for block in self.blocks:  # list items one a line; a blank line between the rest
            item = _ITEM.match(block) is not None
            if out and not (item and previous_item):
                out.append("")
            out.append(block)
            previous_item = item
        return "\n".join(out)


def _write(html: str, *, markdown: bool) -> str:
    writer = _Writer(markdown=markdown)
    writer.feed(html)
    writer.close()
    return writer.result()


def html_to_markdown(html: str) -> str:
    """Sanitised email HTML as the Markdown that renders back to it."""
    return _write(html, markdown=True)


def html_to_text(html: str) -> str:
    """Sanitised email HTML as the plain-text part: headings and paragraphs apart by a
    blank line, list items `- ` or `1. ` one a line, a link as `text (address)`."""
    return _write(html, markdown=False)
