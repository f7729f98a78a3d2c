"""Messy press-release text in; title, date, lede, clean body and links out.

Releases reach the bot as copies of web pages (a date line, navigation crumbs and
"related news" around the article) or as text pulled out of PDFs (banners, hard-wrapped
lines, hyphenation, page numbers), both with long footers nobody wants in a post. Each
step is a small pure function with its own table of tests; `extract_text` composes them.

`extract_text` never raises and stays linear in its input: line checks run only on short
lines, patterns have no nested quantifiers, and dateparser is imported only as a last
resort for dates not written in English or digits (see `bot.sources.dates`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from bot.sources.dates import date_line_span, find_date, parse_date_line

__all__ = ["BOILERPLATE_MARKERS", "Extracted", "extract_text", "find_date", "find_links",
           "line_kind", "normalise", "parse_date_line", "rejoin_hyphenation",
           "split_paragraphs"]


@dataclass(frozen=True)
class Extracted:
    title: str | None
    date: date | None
    lede: str
    body: str
    links: list[str] = field(default_factory=list)


# A body line never matches any of these (checked with `search`; each is anchored to a line).
BOILERPLATE_MARKERS: tuple[re.Pattern[str], ...] = tuple(re.compile(p, re.I | re.M) for p in (
    r"^[ \t]*(?:page|seite|p\.)[ \t]*\d{1,4}(?:[ \t]*(?:of|/|von|sur|di)[ \t]*\d{1,4})?[ \t]*$",
    r"^[ \t]*(?:-[ \t]*\d{1,4}[ \t]*-|\d{1,3}(?:[ \t]*/[ \t]*\d{1,3})?)[ \t]*$",
    r"^[ \t]*(?:#{3,}|\[?[-–—]*[ \t]*ends?[ \t]*[-–—]*\]?|[-–—]+[ \t]*end[ \t]*[-–—]+|-30-)[ \t]*$",
    r"^[ \t]*(?:read more|continue reading|share(?: this(?: article| page| post)?)?|tweet"
    r"|print(?: this page)?|back to (?:news|overview|top)|related (?:news|articles|posts)"
    r"|more news|latest news|skip to (?:main )?content)[ \t]*[.:…»›>]*[ \t]*$",
    r"^[ \t]*(?:you are here:?[ \t]*)?(?:home|start|startseite|accueil)[ \t]*[>»›|/].{0,200}$",
    r"^[ \t]*(?:tel(?:ephone)?|phone|mobile|fax)[ \t]*[.:]?[ \t]*\+?[\d(][\d ()./-]{5,40}$",
    r"^[ \t]*e-?mail[ \t]*:[ \t]*\S{0,80}@\S{1,80}[ \t]*$",
))

_TERMINAL = (".", "!", "?", "…", '"', "”", "’", "»")
_FRAGMENT_END = re.compile(
    r"(?:[,;:(/&–—-]|\b(?:and|or|of|the|a|an|to|for|in|on|with|by|at|from|as|into|its|their"
    r"|und|der|die|das|für|mit|et|de|la|le|des|per|il|e|in))$", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff]")
_U_TAG = re.compile(r"</?u[ \t]*>", re.I)
_U_WRAPPED = re.compile(r"<u>[ \t]*([^<\s]+(?:\n[^<\s]+)+)[ \t]*</u>", re.I)
_HYPHEN_EOL = re.compile(r"(?<=\w)-[ \t]*\n[ \t]*(?=\w)")
_HYPHENATED = re.compile(r"\b[^\W\d_]+-[^\W\d_]+")
_KEEP_HYPHEN = frozenset((
    "cross", "self", "non", "well", "long", "short", "small", "large", "high", "low", "all", "ex",
    "world", "state", "follow", "mid", "far", "full", "half", "multi", "year", "day", "eu", "co"))
_BANNER = re.compile(
    r"(?:press|media|news)[ \t]+(?:release|information|info|statement|notice|note|announcement)s?"
    r"|pressemitteilung|presseinformation|presseaussendung|communiqu[ée] de presse"
    r"|comunicato stampa|nota de prensa|sporočilo za javnost|tiskov[aá] zpráva"
    r"|(?:for )?immediate (?:release|publication)|embargo(?:ed)?\b", re.I)
_BREADCRUMB = re.compile(r"(?:you are here:?[ \t]*)?(?:home|start|startseite|accueil)[ \t]*[>»›|/]",
                         re.I)
_CRUMB_SEP = re.compile(r"[ \t][>»›][ \t]")
_STRAY = re.compile(
    r"(?:read more|more|read the full (?:story|article)|continue reading|share|share this"
    r"(?: article| page| post)?|share on \w+|tweet|print|print this page|e-?mail this|back"
    r"|back to (?:news|overview|top|the list)|see all news|all news|news|skip to (?:main )?content"
    r"|menu|search|top|subscribe|previous|next|newer|older|facebook|twitter|linkedin|x|instagram"
    r"|youtube|whatsapp|mastodon|bluesky|threads|copy link|download pdf|pdf|top of page)", re.I)
_LABEL_LINE = re.compile(r"(?:tags|categories|category|keywords|filed under|posted in|photos?"
                         r"|images?|credits?|foto|source|copyright)\b[ \t]*:|©|\(c\)[ \t]"
                         r"|(?:no|nr|ref(?:erence)?)\.?[ \t]*:?[ \t]*\d[\d/.-]*$", re.I)
_RELATED = re.compile(r"(?:related|more|latest|other|recent) (?:news|articles|posts|stories"
                      r"|content|releases)|you (?:may|might) also (?:like|be interested in)"
                      r"|see also", re.I)
_FOOTER_HEAD = re.compile(
    r"about[ \t]+(?![\d€$£])[^\n.!?:]{1,80}|about"
    r"|notes?[ \t]+(?:to|for)[ \t]+(?:the[ \t]+)?editors?"
    r"|editor['’]?s['’]?[ \t]+notes?|(?:press|media)[ \t]+(?:contacts?|enquiries|inquiries|office)"
    r"|contacts?(?:[ \t]+(?:for|details|information)[^\n:.]{0,40})?|enquiries|inquiries"
    r"|for (?:further|more) information,?[ \t]*(?:please[ \t]+)?(?:contact[^\n:]{0,30})?"
    r"|further information|background information for editors", re.I)
_PHONE = re.compile(r"(?:tel(?:ephone)?|phone|mobile|mob|cell|fax|[tmf])\.?[ \t]*:?[ \t]*"
                    r"\+?[\d(][\d ()./-]{5,}|\+\d[\d ()./-]{6,}$", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_POSTCODE = re.compile(r"\b(?:[A-Z]{1,2}-)?\d{4,5}[ \t]+[A-ZÄÖÜ][\w-]+")
_FUNDER = re.compile(
    r"(?:co-?)?(?:funded|financed)[ \t]+by|views and opinions expressed|(?:[\w'’ –-]{0,100}?[ \t])?"
    r"(?:is|are|was|were|has been|have been)[ \t]+(?:co-?)?(?:funded|financed|co-financed)[ \t]+by",
    re.I)
_FUNDER_WHO = re.compile(r"european union|\beu\b|erdf|european regional development fund"
                         r"|interreg|european commission", re.I)
_SOCIAL = re.compile(r"(?:follow us|find us|join us|stay in touch|connect with us|unsubscribe"
                     r"|web(?:site)?[ \t]*:|internet[ \t]*:|(?:facebook|twitter|x|linkedin"
                     r"|instagram|youtube|mastodon|bluesky)[ \t]*:)", re.I)
_BULLET = re.compile(r"(?:[-*•–·▪]|\d{1,2}[.)])[ \t]+(?=\S)")

_LINK = re.compile(r"(?:https?://|(?<![\w/.@:-])www\.)[^\s<>\"'`{}|\\^\[\]]+", re.I)
_LINK_TRAIL = ".,;:!?'\"”’»…*"


def normalise(text: str) -> str:
    """One newline style, no control characters, no `<u>` tags, spaces instead of tabs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\u00ad\n", "")
    # a link underlined in a PDF and broken over lines is one link: the tags say where it ends
    text = _U_WRAPPED.sub(lambda m: m.group(1).replace("\n", ""), text)
    text = _U_TAG.sub("", text).replace("\u00ad", "")
    return _CONTROL.sub("", text).replace("\t", " ").replace("\u00a0", " ")


def rejoin_hyphenation(text: str) -> str:
    """`coope-\\nration` → `cooperation`; keeps the hyphen in `cross-\\nborder`, `Danube-\\nAlps`
    and in URLs, and where the text spells the same word with a hyphen elsewhere."""
    known = {w.lower() for w in _HYPHENATED.findall(text)}

    def join(m: re.Match[str]) -> str:
        start = m.start()
        left = text[max(0, start - 80):start].rsplit(None, 1)[-1] if start else ""
        right = re.match(r"\w*", text[m.end():m.end() + 80])
        right_word = right.group(0) if right else ""
        if left.startswith(("-", "–", "—")):  # a marker such as -ENDS-, not a broken word
            return m.group(0)
        last = left.rsplit("-", 1)[-1]
        last = re.sub(r"^\W+", "", last)
        keep = (not right_word[:1].islower() or any(c in left for c in "/@:")
                or "www." in left.lower() or last.lower() in _KEEP_HYPHEN
                or f"{last}-{right_word}".lower() in known)
        return "-" if keep else ""

    return _HYPHEN_EOL.sub(join, text)


def _bare(line: str) -> str:
    return line.strip(" .:…»«›‹→←>|<-–—*•")


def is_footer_heading(text: str) -> bool:
    """`About the programme`, `Notes to editors`, `Press contact:` — alone or before a colon."""
    head = text[:140]
    m = _FOOTER_HEAD.match(head)
    if not m:
        return False
    rest = head[m.end():].lstrip(" \t")
    if rest.startswith(":"):
        return True
    return not rest and len(text) <= 100 and not text.endswith((".", "!", "?"))


def is_boilerplate(par: str) -> bool:
    """A paragraph that belongs to a footer wherever it stands: phone, e-mail, address, funder."""
    if len(par) <= 200 and _PHONE.match(par):
        return True
    if len(par) <= 160 and (re.match(r"e-?mail[ \t]*:", par, re.I) or (
            _EMAIL.search(par) and len(par.split()) <= 8 and not par.endswith(_TERMINAL))):
        return True
    if (len(par) <= 150 and "," in par and _POSTCODE.search(par)
            and not par.endswith((".", "!", "?")) and len(par.split()) <= 16):
        return True
    if len(par) <= 400 and _FUNDER.match(par) and _FUNDER_WHO.search(par):
        return True
    return len(par) <= 200 and bool(_SOCIAL.match(par) or _LABEL_LINE.match(par))


def _banner_rest(line: str) -> str | None:
    m = _BANNER.match(line)
    if not m:
        return None
    if m.group(0).lower().startswith("embargo"):
        return ""
    rest = line[m.end():].strip(" \t-–—|:,/")
    return rest if len(rest.split()) <= 4 or date_line_span(rest, parse_foreign=False) else None


def line_kind(line: str) -> str:
    """What a whitespace-normalised line (or paragraph) is: `text`, `bullet` or a kind of junk:
    page, end, footer, related, banner, date, breadcrumb, stray, boiler."""
    if not line:
        return "blank"
    if any(m.search(line) for m in BOILERPLATE_MARKERS[:3]):
        return "end" if BOILERPLATE_MARKERS[2].search(line) else "page"
    if is_footer_heading(line):
        return "footer"
    if len(line) <= 160:
        bare = _bare(line)
        if _RELATED.fullmatch(bare):
            return "related"
        if _banner_rest(line) is not None:
            return "banner"
        if date_line_span(line, parse_foreign=False):
            return "date"
        if _BREADCRUMB.match(line) or len(_CRUMB_SEP.findall(line)) >= 2:
            return "breadcrumb"
        if not bare or _STRAY.fullmatch(bare) or any(m.search(line) for m in BOILERPLATE_MARKERS):
            return "stray"
    if is_boilerplate(line):
        return "boiler"
    return "bullet" if _BULLET.match(line) else "text"


def _wrap_width(lines: list[str]) -> int | None:
    """The column a hard-wrapped text (PDF extraction) breaks at, or None for unwrapped text."""
    lengths = sorted(len(s) for s in lines if len(s) >= 25)
    if len(lengths) < 4:
        return None
    typical = lengths[int(0.9 * (len(lengths) - 1))]
    near = sum(1 for n in lengths if n >= 0.75 * typical)
    if typical > 130 or near < 0.4 * len(lengths):
        return None
    return max(n for n in lengths if n <= 1.15 * typical)


def _continues(prev: str, nxt: str, width: int | None) -> bool:
    if nxt[:1].islower() or _FRAGMENT_END.search(prev):
        return True
    if width is None:
        return False
    room = len(prev) + 1 + len(nxt.split(None, 1)[0])
    if prev.endswith(_TERMINAL) and nxt[:1].isupper():
        return room > width  # the next word would have fitted: the writer broke the line
    return room > 0.8 * width


def split_paragraphs(lines: list[str]) -> list[str]:
    """Lines → paragraphs: re-joins hard-wrapped lines; junk lines stay on their own."""
    clean = [" ".join(s.split()) for s in lines]
    width = _wrap_width(clean)
    paras: list[str] = []
    cur: list[str] = []
    for s in clean:
        kind = line_kind(s) if s else "blank"
        if kind == "text" and cur and _continues(cur[-1], s, width):
            cur.append(s)
            continue
        if cur:
            paras.append(" ".join(cur))
            cur = []
        if kind == "bullet" and (m := _BULLET.match(s)) and s[0] in "*•–·▪":
            s = "- " + s[m.end():]
        if kind in ("text", "bullet"):
            cur = [s]
        elif kind != "blank":
            paras.append(s)
    if cur:
        paras.append(" ".join(cur))
    return paras


def _is_title(title: str) -> bool:
    words = title.split()
    wordy = [w for w in words if sum(c.isalpha() for c in w) >= 2]
    if len(wordy) < 2 or sum(c.isalpha() for c in title) < 8:
        return False
    if len(words) > 30 or len(title) > 200 or _FRAGMENT_END.search(title):
        return False
    return not (title.endswith(".") and len(words) >= 15)


def _title_at(lines: list[str], i: int) -> tuple[str, int]:
    """The title starting at line `i`, joining a PDF title broken over up to three lines."""
    parts = [lines[i]]
    j = i + 1
    while j < len(lines) and len(parts) < 3:
        nxt = lines[j]
        cur = " ".join(parts)
        if (not nxt or line_kind(nxt) != "text" or len(cur) + len(nxt) > 200
                or not (nxt[:1].islower() or _FRAGMENT_END.search(cur)
                        or (cur.isupper() and nxt.isupper()))):
            break
        parts.append(nxt)
        j += 1
    return " ".join(parts), j


_JUNK = frozenset({"page", "end", "banner", "date", "breadcrumb", "stray", "related", "boiler",
                   "footer"})
_MAX_DATEPARSER_TRIES = 2


def _read_head(lines: list[str], known_title: str | None
               ) -> tuple[str | None, date | None, int]:
    """The title, a date from a date line around it, and the index where the rest starts."""
    head_date: date | None = None
    tries = 0

    def line_date(s: str, kind: str) -> date | None:
        nonlocal tries
        rest = s if kind == "date" else _banner_rest(s)
        if not rest or tries >= _MAX_DATEPARSER_TRIES:
            return None
        tries += 1
        return parse_date_line(rest)

    i = 0
    while i < len(lines):
        kind = line_kind(lines[i])
        if kind in ("date", "banner") and head_date is None:
            head_date = line_date(lines[i], kind)
        if kind == "end":  # everything after an end marker is footer, even the first line
            return known_title, head_date, len(lines)
        if kind != "blank" and kind not in _JUNK:
            break
        i += 1
    if i >= len(lines):
        return known_title, head_date, i
    candidate, j = _title_at(lines, i)
    if known_title is not None:
        same = candidate.casefold() == " ".join(known_title.split()).casefold()
        title, rest_at = known_title, (j if same else i)
    elif _is_title(candidate):
        title, rest_at = candidate, j
    else:
        title, rest_at = None, i
    for s in lines[rest_at:rest_at + 8]:
        kind = line_kind(s)
        if kind == "date" and head_date is None:
            head_date = line_date(s, kind)
        if kind in ("text", "bullet", "related", "footer"):
            break
    return title, head_date, rest_at


_GAP = re.compile(r"[ \t]{3,}")


def _drop_running_heads(raw_lines: list[str]) -> list[str]:
    """Whitespace-normalised lines without a PDF's running headers and footers: a line laid out
    in columns around a banner or page number, a repeated banner line, and later repeats of
    any other short line (the title printed again atop page 2)."""
    lines = []
    for raw in raw_lines:
        cells = _GAP.split(raw.strip()) if len(raw) <= 200 else [raw]
        if len(cells) > 1 and any(line_kind(" ".join(c.split())) in ("banner", "page")
                                  for c in cells):
            raw = ""
        lines.append(" ".join(raw.split()))
    counts: dict[str, int] = {}
    for s in lines:
        if 15 <= len(s) <= 100:
            counts[s] = counts.get(s, 0) + 1
    seen: set[str] = set()
    for n, s in enumerate(lines):
        if counts.get(s, 0) > 1 and (s in seen or _BANNER.search(s)):
            lines[n] = ""
        seen.add(s)
    return lines


def _is_real_paragraph(par: str) -> bool:
    words = len(par.split())
    return (words >= 6 and par.endswith(_TERMINAL)) or words >= 20


def _body_paragraphs(paras: list[str], title: str | None) -> list[str]:
    """From the lede (first real paragraph) to the footer, without junk in between."""
    kinds = [line_kind(p) for p in paras]
    folded_title = title.casefold() if title else None
    starts = [n for n, (p, k) in enumerate(zip(paras, kinds, strict=True))
              if k == "text" and p.casefold() != folded_title]
    end = next((n for n, k in enumerate(kinds) if k == "end"), len(paras))
    real = [n for n in starts if n < end and _is_real_paragraph(paras[n])]
    if not real and not [n for n in starts if n < end]:
        return []
    first = real[0] if real else next(n for n in starts if n < end)
    body: list[str] = []
    for p, kind in zip(paras[first:end], kinds[first:end], strict=True):
        if kind in ("footer", "related"):
            break
        if kind in ("text", "bullet", "date"):
            body.append(p)
    return body


def _join_body(paras: list[str]) -> str:
    """Paragraphs apart by a blank line, list items by a newline; marker lines never survive."""
    kept = [p for p in paras if not any(m.search(p) for m in BOILERPLATE_MARKERS)]
    out: list[str] = []
    for n, p in enumerate(kept):
        if n:
            both_items = _BULLET.match(p) and _BULLET.match(kept[n - 1])
            out.append("\n" if both_items else "\n\n")
        out.append(p)
    return "".join(out)


def _clean_link(raw: str) -> str | None:
    end = len(raw)
    unmatched = raw.count(")") - raw.count("(")
    while end:
        last = raw[end - 1]
        if last in _LINK_TRAIL or (last == ")" and unmatched > 0):
            unmatched -= last == ")"
            end -= 1
        else:
            break
    url = raw[:end]
    if url.lower().startswith("www."):
        url = "https://" + url
    host = url.split("://", 1)[-1].split("/", 1)[0]
    return url if "." in host.strip(".") or host.startswith("localhost") else None


def find_links(text: str) -> list[str]:
    """Every http(s) URL and bare `www.` address, cleaned and de-duplicated in order."""
    seen: dict[str, None] = {}
    for m in _LINK.finditer(_U_TAG.sub("", text)):
        url = _clean_link(m.group(0))
        if url:
            seen.setdefault(url, None)
    return list(seen)


def extract_text(text: str, *, known_title: str | None = None) -> Extracted:
    """Title, date, lede, body and links of a pasted page or PDF extraction.

    `known_title` (from HTML or front matter) replaces title detection; a leading line equal
    to it is dropped from the body.
    """
    if not isinstance(text, str):
        text = str(text)
    text = rejoin_hyphenation(normalise(text))
    lines = _drop_running_heads(text.split("\n"))
    title, found_date, rest_at = _read_head(lines, known_title)
    paras = _body_paragraphs(split_paragraphs(lines[rest_at:]), title)
    if found_date is None and paras:
        found_date = find_date(" ".join(paras[:2])[:4000])
    body = _join_body(paras)
    lede = body.split("\n", 1)[0] if body else ""
    return Extracted(title=title, date=found_date, lede=lede, body=body, links=find_links(text))
