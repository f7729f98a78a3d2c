"""One file a comms officer dropped into the content folder → one `Release`.

Three shapes: Markdown with YAML front matter (the comms officer says exactly what they
mean), plain text pasted from a web page or pulled out of a PDF (we guess, with
`bot.sources.extract`), and a saved HTML page (its `<h1>` and Open Graph tags say most).
A file that holds no recognisable release raises `ExtractError` with a message that
names the file and what to change, so the folder source can report it and go on.

Dates: a datetime without a zone is a wall-clock time in the source's time zone
(`sources.*.timezone`, else `bot.timezone`): a comms officer in Ljubljana who writes
`embargo: 2026-05-04 09:00` means 09:00 there. Every time is stored timezone-aware in UTC.
A date without a time (`date: 2026-03-12`, a dateline) is that day: the release keeps it as
`published_day`, shown as written in every zone, and its instant is midnight in the
source's zone (for ordering and embargoes).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from bot.errors import ExtractError
from bot.htmltext import Page, html_to_text, read_page
from bot.models import Image, Release
from bot.sources.dates import as_instant, day_of, parse_date_line, parse_stamp
from bot.sources.doclimits import MB, read_bytes
from bot.sources.extract import (
    extract_text,
    find_links,
    heading_in,
    lede_of,
    normalise,
    rejoin_hyphenation,
)
from bot.sources.notes import story_html

__all__ = ["markdown_to_text", "read_release_file"]

MAX_TEXT_BYTES = 10 * MB
_KNOWN_KEYS = frozenset({"title", "date", "summary", "url", "tags", "image", "image_alt",
                         "language", "embargo", "channels"})
_ATX = re.compile(r"(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_HR = re.compile(r"(?:[-*_][ \t]*){3,}")
_SETEXT = re.compile(r"=+|-+")
_MD_BULLET = re.compile(r"[-*+][ \t]+(.*)")
_MD_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(<?([^)\s>]+)>?(?:[ \t]+\"[^\"\n]*\")?\)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\(<?([^)\s>]+)>?(?:[ \t]+\"[^\"\n]*\")?\)")
_MD_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)([^\n]{1,500}?)(?<=\S)\1")
_MD_EM = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]{1,500}?)(?<=\S)\*(?![\w*])"
                    r"|(?<![\w_])_(?=\S)([^_\n]{1,500}?)(?<=\S)_(?![\w_])")
_MD_CODE = re.compile(r"`([^`\n]+)`")
_OWN_LABEL = re.compile(
    r"^[ \t]*(?:source|original|permalink|url|online|web version|read (?:it |this )?online"
    r"|view (?:it )?online|published at|canonical|read more|read the full (?:story|release"
    r"|article|text)|full (?:story|release|text)|more|leer m[áa]s|ver m[áa]s|texto completo"
    r"|lire la suite|en savoir plus|texte (?:complet|int[ée]gral)|подробнее|читать (?:далее"
    r"|полностью)|полный текст)(?:[ \t]+(?:at|on|here|en|sur|ici|aqu[íi]|здесь|на сайте))?"
    r"[ \t]*[:→»>-]?[ \t]*(https?://\S+|www\.\S+)", re.I | re.M)
_NEWSY_PATH = re.compile(
    r"/(?:news|press|media|releases?|press-releases?|presse|pressemitteilungen|aktuelles"
    r"|novice|actualites|notizie|articles?|stories|blog)(?:/|$)|/\d{4}/\d{2}/", re.I)
_SLUG = re.compile(r"[^a-z0-9]+")
_SHARE_LINK = re.compile(r"/share\b|sharer|/intent/|sharearticle|/submit\?|addtoany", re.I)


def _fail(path: Path, message: str) -> ExtractError:
    return ExtractError(f"{path}: {message}")


_NOT_TEXT = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
"""Control characters, which text has (almost) none of and binary read as text is full of.
Other invisible characters are text: ZWJ (👩‍💻), ZWNJ (Persian), variation selectors, tags."""


def _read_text(path: Path) -> str:
    """The file's text: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252.
    A release's text is a few kB: a file over `MAX_TEXT_BYTES` is not read."""
    data = read_bytes(path, MAX_TEXT_BYTES)
    if data.startswith(b"%PDF-"):
        raise _fail(path, "is a PDF; copy its text into a .txt file (or save it as .md)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _fail(path, "is not valid UTF-16 text") from exc
    if b"\x00" in data:
        raise _fail(path, "looks like a binary file, not text; save the release as .md, .txt"
                    " or .html")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = data.decode("latin-1")
    sample = text[:65536]
    if sample and len(_NOT_TEXT.findall(sample)) > 0.05 * len(sample):
        raise _fail(path, "looks like a binary file, not text; save the release as .md, .txt"
                    " or .html")
    if not text.strip():
        raise _fail(path, "the file is empty")
    return text.lstrip("\ufeff")


def _when(value: Any, key: str, path: Path, tz: tzinfo) -> date | None:
    """A front-matter or meta date as written: a `date` when it gives no time, else an aware
    datetime (a zone-less one read in `tz`); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        found = parse_stamp(value, tz) or parse_date_line(value)
        if found:
            return found
    raise _fail(path, f"'{key}: {value}' is not a date; write it as YYYY-MM-DD or"
                f" YYYY-MM-DD HH:MM ({tz} unless it carries an offset like +01:00)")


def _to_utc(value: Any, key: str, path: Path, tz: tzinfo) -> datetime | None:
    """A front-matter or meta date as an aware UTC datetime (a day alone is its midnight in
    `tz`); None when absent."""
    found = _when(value, key, path, tz)
    return as_instant(found, tz) if found is not None else None


def _string_list(value: Any) -> list[str]:
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    seen: dict[str, None] = {}
    for item in items:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            text = str(item).strip().lstrip("#").strip()
            if text:
                seen.setdefault(text, None)
    return list(seen)


def _text_value(value: Any) -> str | None:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return " ".join(str(value).split()) or None
    return None


def _resolve(url: str, base_url: str | None) -> str:
    """Absolute URLs as given; relative ones against `base_url` when there is one."""
    if urlsplit(url).scheme or url.startswith("//") or not base_url:
        return url
    return urljoin(base_url if base_url.endswith("/") else base_url + "/", url)


def _slug_url(path: Path, base_url: str | None) -> str | None:
    if not base_url:
        return None
    slug = _SLUG.sub("-", path.stem.lower()).strip("-")
    return f"{base_url.rstrip('/')}/{slug}" if slug else None


def _own_page(text: str, links: list[str], title: str) -> str | None:
    """The link that is most likely this release's own web page, if any."""
    if labelled := _OWN_LABEL.search(text):
        found = find_links(labelled.group(1))
        if found:
            return found[0]
    title_words = {w for w in _SLUG.split(title.lower()) if len(w) >= 4}
    for link in links:
        path = urlsplit(link).path
        if len(path.strip("/")) < 3:
            continue
        shared = len(title_words & set(_SLUG.split(path.lower())))
        if shared >= 4 or (shared >= 2 and _NEWSY_PATH.search(path)):
            return link
    return None


# what an image link (`[![logo](logo.png)](home)`) leaves once its picture is gone
_MD_EMPTY_LINK = re.compile(r"\[[ \t]*\]\([^)\s]*\)")


def _inline(text: str) -> str:
    text = _MD_EMPTY_LINK.sub("", _MD_IMAGE.sub("", text))

    def link(m: re.Match[str]) -> str:
        label, url = m.group(1).strip(), m.group(2)
        if url.startswith("mailto:"):
            url = url[len("mailto:"):]
        return url if label in (url, url.split("://", 1)[-1]) else f"{label} ({url})"

    text = _MD_LINK.sub(link, text)
    text = _MD_AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
    text = _MD_CODE.sub(r"\1", text)
    text = _MD_STRONG.sub(r"\2", text)
    return " ".join(_MD_EM.sub(lambda m: m.group(1) or m.group(2), text).split())


def markdown_to_text(md: str) -> str:
    """Markdown → plain text: no `#`, `**` or link syntax (`[text](url)` → `text (url)`),
    paragraphs joined and apart by a blank line, list items on their own lines."""
    out: list[str] = []
    para: list[str] = []
    in_code = False

    def flush() -> None:
        if para:
            out.extend([" ".join(para), ""])
            para.clear()

    for raw in md.splitlines():
        line = raw.strip()
        if line.startswith(("```", "~~~")):
            flush()
            in_code = not in_code
            continue
        if in_code:
            out.append(raw.rstrip())
            continue
        line = re.sub(r"^(?:>[ \t]?)+", "", line)
        if not line:
            flush()
        elif para and len(para) == 1 and _SETEXT.fullmatch(line):
            heading = para[0]
            para.clear()
            out.extend([heading, ""])
        elif _HR.fullmatch(line):
            flush()
        elif m := _ATX.match(line):
            flush()
            out.extend([_inline(m.group(2)), ""])
        elif m := _MD_BULLET.match(line):
            flush()
            out.append("- " + _inline(m.group(1)))
        elif re.fullmatch(r"\d{1,3}[.)][ \t]+\S.*", line):
            flush()
            out.append(_inline(line))
        elif _MD_IMAGE.fullmatch(line):
            flush()
        else:
            para.append(_inline(line))
            if raw.endswith(("  ", "\\")):  # a Markdown hard line break
                para[-1] = para[-1].rstrip("\\").rstrip()
                out.append(" ".join(para))
                para.clear()
    flush()
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


# Site repositories often keep a release's body as HTML inside the Markdown file
_RAW_HTML = re.compile(r"</?(?:div|p|b|strong|i|em|u|span|br|a|ul|ol|li|h[1-6]|table|tr|td"
                       r"|section|article|center|font|img|blockquote)\b[^>\n]{0,500}>", re.I)


_DIV = re.compile(r"<(/?)(?:div|section|article|center)\b[^>]*>", re.I)


def has_raw_html(md: str) -> bool:
    """Whether Markdown carries HTML tags of its own (two or more)."""
    return len(_RAW_HTML.findall(md, 0, 200_000)[:2]) >= 2


def markdown_to_html(md: str, title: str | None) -> str:
    """Markdown → the sanitised HTML an email shows (headings, lists, links stay what they
    are); a leading `# Title` repeating the title is dropped, the email shows the title.
    HTML written in the Markdown is rendered, then sanitised like a feed's: only the tags
    and attributes `sanitize_html` allows survive, so a `<div><b>` is bold text, never
    markup of its own or a script."""
    from markdown_it import MarkdownIt

    from bot.htmltext import sanitize_html

    head = re.match(r"\s*#[ \t]+(.+?)[ \t#]*(?:\n|$)", md)
    if head and title and " ".join(_inline(head.group(1)).split()) == " ".join(title.split()):
        md = md[head.end():]
    raw = has_raw_html(md)
    html = MarkdownIt("commonmark", {"html": raw}).render(md)
    if raw:  # a `<div>` is a block of text: a paragraph once sanitised, not run together
        html = _DIV.sub(lambda m: f"<{m.group(1)}p>", html)
    return sanitize_html(html).strip()


_KEY_LINE = re.compile(r"[A-Za-z_][\w-]{0,40}[ \t]*:(?:[ \t]|$)")


# a blank or comment line indented with a tab: valid YAML 1.2 (a site's generator reads it),
# which PyYAML refuses; such a line can be no block scalar's content (indentation is spaces)
_TAB_COMMENT = re.compile(r"^ *\t[ \t]*(?:#.*)?$")
_TAB_BEFORE_COMMENT = re.compile(r"[ \t]*\t[ \t]*(?=#)")  # `date: 2025-01-28\t# …`


def _front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    lines = text.split("\n")
    # `--` opening a block of `key: value` lines closed by `---` is front matter mistyped
    # (a site's generator may forgive it): its lines are no part of the release's text
    mistyped = (len(lines) > 2 and lines[0].strip() == "--" and bool(_KEY_LINE.match(lines[1]))
                and any(s.rstrip() == "---" for s in lines[2:60]))
    if not lines or (lines[0].strip() != "---" and not mistyped):
        return {}, text
    end = next((n for n, s in enumerate(lines[1:], 1) if s.rstrip() in ("---", "...")), None)
    if end is None:
        raise _fail(path, "the front matter starts with '---' but has no closing '---' line")
    import yaml

    try:
        meta = yaml.safe_load("\n".join(_TAB_BEFORE_COMMENT.sub(" ", _TAB_COMMENT.sub("", s))
                                        for s in lines[1:end]))
    except yaml.YAMLError as exc:
        raise _fail(path, f"the front matter is not valid YAML ({' '.join(str(exc).split())})"
                    ) from exc
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise _fail(path, "the front matter must be 'key: value' lines")
    return {str(k).strip().lower(): v for k, v in meta.items()}, "\n".join(lines[end + 1:])


def _overrides(meta: dict[str, Any]) -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    for name, value in meta.items():
        if name in _KNOWN_KEYS or not isinstance(value, dict):
            continue
        table = {str(k): str(v).strip() for k, v in value.items()
                 if isinstance(v, (str, int, float)) and not isinstance(v, bool)}
        if isinstance(labels := value.get("labels"), list):  # `labels: [a, b]`: "a, b"
            table["labels"] = ", ".join(str(v).strip() for v in labels if isinstance(v, str))
        if {"text", "subject", "labels"} & table.keys():
            found[name] = table
    return found


def _images(meta: dict[str, Any], inline: list[tuple[str, str]], base_url: str | None
            ) -> list[Image]:
    alt = _text_value(meta.get("image_alt")) or ""
    wanted: list[tuple[str, str]] = []
    image = meta.get("image")
    for item in image if isinstance(image, list) else [image]:
        if isinstance(item, str) and item.strip():
            wanted.append((item.strip(), alt))
        elif isinstance(item, dict) and (src := item.get("url") or item.get("src")):
            wanted.append((str(src).strip(), _text_value(item.get("alt")) or ""))
    images: dict[str, Image] = {}
    for src, text in [*wanted, *inline]:
        url = _resolve(src, base_url)
        images.setdefault(url, Image(url=url, alt=text))
    return list(images.values())


# what site generators call a release's lead paragraph in front matter (Hugo's
# `description`, Jekyll's `excerpt`, a French site's `chapeau`, a British `standfirst`)
_LEAD_KEY = re.compile(r"(?:description|excerpt|lead|lede|intro|teaser|abstract|standfirst"
                       r"|chapeau|chapo|entradilla|vorspann|anrei(?:ss|ß)er)(?:[-_ ]?text)?")


def _lead_of(meta: dict[str, Any]) -> str | None:
    """The lead paragraph the front matter gives under one of its usual names, if any."""
    for key, value in meta.items():
        if _LEAD_KEY.fullmatch(key) and (text := _text_value(value)) and len(text.split()) >= 6:
            return text
    return None


_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.M)
# `# [Tor](../index.html.en)`, `# [![Logo](logo.png)](/)`: a site's name linking home, set as
# the page's first heading by a generator that saved the whole page as Markdown
_LINK_ONLY = re.compile(r"!?\[(?:[^\]]|\][^(])*\]\([^)]*\)|\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)")


def _without_logo_headings(body_md: str) -> str:
    """The Markdown without its `# headings` that are only a link (a site's logo or name
    linking home): page furniture, never the title nor the story's first line."""
    return _H1.sub(lambda m: "" if _LINK_ONLY.fullmatch(m.group(1)) else m.group(0), body_md)


def _read_markdown(text: str, path: Path, base_url: str | None,
                   tz: tzinfo) -> dict[str, Any]:
    meta, body_md = _front_matter(text, path)
    body_md = _without_logo_headings(body_md)
    title = _text_value(meta.get("title"))
    if title is None and (h1 := _H1.search(body_md)):
        title = " ".join(_inline(h1.group(1)).split())
        body_md = body_md[:h1.start()] + body_md[h1.end():]
    inline_images = [(m.group(2), " ".join(m.group(1).split()))
                     for m in _MD_IMAGE.finditer(body_md)]
    html = markdown_to_html(body_md, title)
    # a body written as HTML is read from its rendering: no `<div><b>` reaches a post
    text = html_to_text(html) if has_raw_html(body_md) else markdown_to_text(body_md)
    ex = extract_text(text, known_title=title)
    url = _text_value(meta.get("url"))
    return {
        "body_html": story_html(html),
        "title": title or ex.title, "extracted": ex,
        "url": _resolve(url, base_url) if url else None,
        "published": _when(meta.get("date"), "date", path, tz),
        "summary": _text_value(meta.get("summary")) or _lead_of(meta),
        "images": _images(meta, inline_images, base_url),
        "tags": _string_list(meta.get("tags")),
        "language": _text_value(meta.get("language")),
        "embargo_at": _to_utc(meta.get("embargo"), "embargo", path, tz),
        "channels": _string_list(meta["channels"]) if meta.get("channels") else None,
        "overrides": _overrides(meta),
        "links": find_links(_MD_IMAGE.sub("", body_md)),
        "raw": body_md,
    }


def _read_plain(text: str, path: Path, base_url: str | None,
                tz: tzinfo) -> dict[str, Any]:
    ex = extract_text(text)
    return {"title": ex.title, "extracted": ex, "raw": text, "links": ex.links}


_TITLE_SEP = re.compile(r"[ \t]+(?:[|–—·•»]|::|-)[ \t]+")


def _fold(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.casefold()).split())


def _without_site(title: str, site: str | None) -> str:
    """`Third call opens | Interreg X` → `Third call opens`: a trailing (or leading) part
    that is the site's name (`og:site_name`), or a short name after a bar or dash."""
    parts = _TITLE_SEP.split(title)
    if len(parts) < 2:
        return title
    seps = _TITLE_SEP.findall(title)
    folded_site = _fold(site) if site else ""
    for edge, rest in ((parts[-1], " ".join(parts[:-1])), (parts[0], " ".join(parts[1:]))):
        name = _fold(edge)
        named = bool(folded_site) and (name in folded_site or folded_site in name)
        if len(rest.split()) >= 3 and (named or (
                edge is parts[-1] and len(edge.split()) <= 4 and seps[-1].strip() != "-")):
            # keep the title's own punctuation: cut at the separator, not the split parts
            return title[:title.rfind(seps[-1])] if edge is parts[-1] else \
                title[title.find(seps[0]) + len(seps[0]):]
    return title


def _page_headline(page: Page) -> str | None:
    """The release's title on a saved page: its `<h1>` when the page's own title tags
    agree (a site's logo or a donation box can be the first `<h1>`), else `og:title`, else
    `<title>`, each without the site's name."""
    site = page.meta.get("og:site_name")
    named = [_without_site(t, site) for t in (page.meta.get("og:title"),
                                               page.meta.get("twitter:title"), page.title)
             if t and t.strip()]
    h1 = _without_site(page.h1, site) if page.h1 else None
    if h1 and named:
        # `Ernährung sichern Schulze: …` in the <h1>, `Schulze: …` in the title tags: the
        # words before it are a kicker set inside the heading
        for n in named:
            if len(_fold(n).split()) >= 3 and _fold(h1).endswith(" " + _fold(n)):
                return n
    if h1 and (not named or any(_fold(h1) in _fold(n) or _fold(n) in _fold(h1)
                                for n in named)):
        return h1
    return named[0] if named else h1


def _marked_date(html: str) -> str | None:
    """The publication date the page's markup gives beyond `article:published_time` and a
    visible `<time>`: JSON-LD, Dublin Core and other meta tags, elements classed as dates
    (htmldate, imported only when a page is read). Its extensive search (any date in the
    text) is not used: on a page without a marked date it takes one from the sidebar's
    older news, and no date is better than a wrong one.

    htmldate is handed a parsed tree, never the text: a string that starts with `http`
    it would download."""
    from htmldate import find_date
    from lxml import etree
    from lxml import html as lxml_html

    try:
        tree = lxml_html.document_fromstring(
            html.encode("utf-8", "replace"), parser=lxml_html.HTMLParser(encoding="utf-8"))
        return find_date(tree, original_date=True, extensive_search=False,
                         outputformat="%Y-%m-%d")
    except (ValueError, etree.LxmlError):  # markup lxml cannot read: the text's date is next
        return None


# "Published on: 13.10.2021", on one line or over two: the page says which date it is
_PUBLISHED_LABEL = re.compile(
    r"(?:erschienen|ver[öo]ffentlicht|published|posted|publi[ée]|publicad[oa]|опубликовано)"
    r"(?: (?:am|on|le|el))?[ \t]*:?[ \t]*", re.I)


def _labelled_date(text: str) -> date | None:
    """A date the page labels as its publication date, before any date a meta tag gives
    (`<meta name="date">` is often the day of the last edit, which the page labels apart)."""
    lines = [s for line in text.splitlines()[:400] if (s := " ".join(line.split()))]
    for n, line in enumerate(lines):
        if (m := _PUBLISHED_LABEL.match(line)) and len(line) <= 60:
            rest = line[m.end():] or (lines[n + 1] if n + 1 < len(lines) else "")
            if rest and (day := parse_date_line(rest)):
                return day
    return None


def _standfirst(page: Page) -> str | None:
    """The summary a page sets as the caption of its header picture, when the page says so
    itself by giving the same whole sentences as its description (a credit may follow).

    A standfirst in a paragraph above the story is already the body's first paragraph; a
    description shown nowhere, or further down (a pull quote), is for search engines and
    link cards, often cut short: the lede is then the story's own first paragraph."""
    desc = page.meta.get("og:description") or page.meta.get("description")
    if not desc or len(desc.split()) < 8 or not desc.endswith((".", "!", "?", "»", "“", '"')):
        return None
    folded = _fold(desc)
    return desc if any(_fold(c).startswith(folded) for c in page.captions) else None


def _read_html(text: str, path: Path, base_url: str | None,
               tz: tzinfo) -> dict[str, Any]:
    page = read_page(text)
    meta = page.meta
    title = _page_headline(page)
    ex = extract_text(page.text, known_title=title)
    url = page.canonical or meta.get("og:url")  # the canonical link is the page's own word
    url = _resolve(url, base_url) if url else None
    try:  # a page's broken date meta is the site's doing: fall back to the text's date
        published = _when(meta.get("article:published_time") or page.time, "date", path, tz)
    except ExtractError:
        published = None
    if published is None and (shown := _labelled_date(page.text)):
        published = _to_utc(shown.isoformat(), "date", path, tz)
    if published is None and (marked := _marked_date(text)):
        published = _to_utc(marked, "date", path, tz)

    def absolute(href: str) -> str:
        return urljoin(url, href) if url else _resolve(href, base_url)

    links = [link for link in map(absolute, page.links)
             if link.startswith(("http://", "https://")) and not _SHARE_LINK.search(link)]
    images: list[Image] = []
    if og_image := meta.get("og:image"):
        images.append(Image(url=absolute(og_image), alt=meta.get("og:image:alt", "")))
    elif page.image:
        images.append(Image(url=absolute(page.image[0]), alt=page.image[1]))
    lang = (page.lang or "").split("-")[0].lower() or None
    return {
        "title": title or ex.title, "extracted": ex, "url": url,
        "published": published,
        "summary": _standfirst(page) or lede_of(ex.body, headings=frozenset(page.headings))
        or ex.lede or meta.get("og:description") or meta.get("description"),
        "images": images,
        "tags": _string_list(page.tags), "language": lang,
        "links": list(dict.fromkeys([*links, *ex.links])), "raw": page.text,
    }


_READERS = {".md": _read_markdown, ".markdown": _read_markdown, ".txt": _read_plain,
            ".text": _read_plain, ".html": _read_html, ".htm": _read_html}


def _read_document(path: Path) -> dict[str, Any]:
    """A PDF or Word file: its text goes through the same cleaning as a `.txt` file."""
    from bot.sources.documents import read_document

    doc = read_document(path)
    ex = extract_text(doc.text, known_title=doc.title, marked=doc.marked)
    images = [Image(url=str(doc.image), alt=doc.image_alt)] if doc.image else []
    # the deck the layout saw (larger type under the title) stays in the body, never the lede
    deck = " ".join(rejoin_hyphenation(normalise(doc.deck)).split()) if doc.deck else None
    return {"title": doc.title or ex.title, "extracted": ex, "raw": doc.text,
            "links": list(dict.fromkeys([*doc.links, *ex.links])), "images": images,
            "summary": lede_of(ex.body, headings=frozenset({deck})) if deck else None}


_DOCUMENTS = (".pdf", ".docx")


def read_release_file(path: Path, *, source: str, key: str, base_url: str | None = None,
                      default_language: str | None = None, tz: tzinfo = UTC) -> Release:
    """Read one content file (.md with front matter, .txt, .html, .pdf, .docx) into a
    release; dates without a zone are read in `tz` (the source's time zone)."""
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if suffix in _DOCUMENTS:
        fields = _read_document(path)
    elif reader is None:
        raise _fail(path, f"unsupported file type '{path.suffix or path.name}'; use .md, .txt,"
                    " .html, .pdf or .docx")
    else:
        fields = reader(_read_text(path), path, base_url, tz)
    ex = fields.pop("extracted")
    raw = fields.pop("raw")
    title = fields.pop("title")
    doubts: list[str] = []
    if not title:  # never refuse a release for its title: take the best guess, and hold it
        if not (ex.lede or ex.body):
            raise _fail(path, "no release text found: neither a title nor a paragraph of a "
                        "story — is this the right file?")
        title = heading_in(ex.body) or _guess_title(ex.lede or ex.body, path)
        doubts.append(f"no title found in {path.name}; '{title}' was taken — check it, or add"
                      " a 'title:' line to the front matter or put the title on the first line")
    url = fields.pop("url", None) or _own_page(raw, fields["links"], title)
    derived = url is None and (url := _slug_url(path, base_url)) is not None
    published = fields.pop("published", None) or ex.date or _named_day(path)
    return Release(
        source=source, key=key, url=url, title=title,
        published_at=as_instant(published, tz) if published else None,
        published_day=day_of(published),
        summary=fields.pop("summary", None) or ex.lede, body=ex.body, notes=ex.notes,
        language=fields.pop("language", None) or default_language, url_derived=derived,
        doubts=doubts, **fields,
    )


_NAMED_DAY = re.compile(r"((?:19|20)\d\d)-(\d\d)-(\d\d)(?=[-_ .])")


def _named_day(path: Path) -> date | None:
    """The day a file's name starts with (`2011-08-28-tor-022-stable.md`: the `_posts`
    convention of Jekyll and of many sites' press folders), when the release itself gives
    none: the writer named the file by its day."""
    if not (m := _NAMED_DAY.match(path.name)):
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s")


def _guess_title(text: str, path: Path) -> str:
    """A title for a release that shows none: its first sentence, cut at a word near 100
    characters, else the file's name."""
    first = _SENTENCE_END.split(" ".join(text.split()), maxsplit=1)[0].strip()
    if len(first) > 100:
        first = first[:100].rsplit(" ", 1)[0] + "…"
    return first or path.stem.replace("-", " ").replace("_", " ").strip() or path.name
