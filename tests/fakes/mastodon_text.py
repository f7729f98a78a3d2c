"""How Mastodon measures and renders a status's text, reimplemented for the fake server.

Kept apart from `bot.fit` on purpose: the fake must check the client's counting, not share it.
Sources: `app/validators/status_length_validator.rb` (URLs with a scheme weigh
`characters_reserved_per_url`, `@user@domain` counts as `@user`, the spoiler counts, grapheme
clusters) and the HTML Mastodon serves in `content` (paragraphs, `<br />`, links whose scheme
and tail sit in `invisible` spans, hashtags).
"""

from __future__ import annotations

import html

import regex

_URL = regex.compile(r"(?<![\p{L}\p{N}_/@.-])https?://[^\s<>\"]+", regex.IGNORECASE)
_MENTION = regex.compile(
    r"(?<![=/\p{L}\p{N}_])@([a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\p{L}\p{N}_.-]+[\p{L}\p{N}_]+)?",
    regex.IGNORECASE,
)
_HASHTAG = regex.compile(r"(?<![=/\p{L}\p{N}_#&])#([\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*)")


def _trim_url(url: str) -> str:
    """Drop trailing punctuation as twitter-text does (a closing `)` only when unbalanced)."""
    while url:
        last = url[-1]
        if last in ".,:;!?'\"*]}>" or (last == ")" and url.count("(") < url.count(")")):
            url = url[:-1]
        else:
            break
    return url


def url_spans(text: str) -> list[tuple[int, int]]:
    """Spans of URLs *with a scheme* whose host has a dot; bare `example.org` is no URL here."""
    spans = []
    for match in _URL.finditer(text):
        url = _trim_url(match.group())
        host = url.split("://", 1)[1].split("/", 1)[0]
        if "." in host.strip("."):
            spans.append((match.start(), match.start() + len(url)))
    return spans


def status_length(text: str, spoiler_text: str = "", url_weight: int = 23) -> int:
    """Mastodon's count: URLs weigh `url_weight`, `@u@domain` counts as `@u`, graphemes, spoiler."""
    urls = url_spans(text)
    pieces: list[str] = []
    pos = 0
    for start, end in urls:
        pieces.append(_rewrite_mentions(text[pos:start]))
        pieces.append("x" * url_weight)
        pos = end
    pieces.append(_rewrite_mentions(text[pos:]))
    return len(regex.findall(r"\X", spoiler_text + "".join(pieces)))


def _rewrite_mentions(text: str) -> str:
    return _MENTION.sub(lambda m: "@" + m.group(1), text)


# ---------------------------------------------------------------- HTML content

def _link(url: str, style: str = "mastodon") -> str:
    if style == "gotosocial":  # the text drops the scheme and is cut short; only href is whole
        rest = url.split("://", 1)[1]
        shown = rest if len(rest) <= 30 else rest[:29] + "…"
        return (f'<a href="{html.escape(url)}" rel="nofollow noreferrer noopener" '
                f'target="_blank">{html.escape(shown)}</a>')
    scheme, rest = url.split("://", 1)
    prefix = scheme + "://"
    if rest.startswith("www."):
        prefix, rest = prefix + "www.", rest[4:]
    shown, hidden = (rest[:30], rest[30:]) if len(rest) > 30 else (rest, "")
    css = "ellipsis" if hidden else ""
    return (f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener noreferrer" '
            f'translate="no"><span class="invisible">{html.escape(prefix)}</span>'
            f'<span class="{css}">{html.escape(shown)}</span>'
            f'<span class="invisible">{html.escape(hidden)}</span></a>')


def _line_html(line: str, base: str, style: str) -> str:
    out: list[str] = []
    pos = 0
    for start, end in url_spans(line):
        out.append(_tags_html(line[pos:start], base))
        out.append(_link(line[start:end], style))
        pos = end
    out.append(_tags_html(line[pos:], base))
    return "".join(out)


def _tags_html(text: str, base: str) -> str:
    out, pos = [], 0
    for match in _HASHTAG.finditer(text):
        tag = match.group(1)
        out.append(html.escape(text[pos:match.start()]))
        out.append(f'<a href="{base}/tags/{html.escape(tag.lower())}" class="mention hashtag" '
                   f'rel="tag">#<span>{html.escape(tag)}</span></a>')
        pos = match.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def render_content(text: str, base: str, style: str = "mastodon") -> str:
    """Status text as Mastodon serves it: paragraphs, `<br />`, linkified URLs and hashtags.
    `style = "gotosocial"` writes a link's text as GoToSocial does: no scheme, cut short."""
    paragraphs = [p for p in regex.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + "<br />".join(_line_html(line, base, style) for line in para.split("\n")) + "</p>"
        for para in paragraphs
    )


