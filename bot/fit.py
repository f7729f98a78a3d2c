"""Measure post text the way each platform counts it, and shorten only what may be shortened.

Channels declare their limits as data (`channels.base.Limits`); this module is the one place that
measures text against them, for rendering and for preview alike. Mastodon is the demanding case
(platform-apis.md §1.8): it counts grapheme clusters after rewriting every URL with a scheme to a
fixed weight (23) and every `@user@domain` to `@user`, and the spoiler text counts too.

Counting errs on the high side where Mastodon's rules are uncertain: over-counting costs a few
words of summary, under-counting costs a 422 at publish time, after a human approved the post.

Only the *elastic* part of a post, the summary, is ever shortened: the title, link and hashtags are
what people approved and what readers click, so when they alone are too long the result is
blocking and a human edits it. Cuts fall on sentence boundaries, else between words, and never
inside a URL, hashtag, mention or grapheme cluster.

Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import regex

if TYPE_CHECKING:  # channels.base pulls in httpx and pydantic; keep this import cheap
    from channels.base import Limits

ELLIPSIS = "…"

_GRAPHEME = regex.compile(r"\X")

# A scheme glued to a word, handle or tag does not start a URL (twitter-text's preceding rule).
_SCHEME = regex.compile(r"(?<![\p{L}\p{N}\p{M}_@＠$#＃])https?://", regex.IGNORECASE)
# Nothing Mastodon accepts in a URL lies past these; stopping early only over-counts.
_RUN_STOP = regex.compile(r'[\s<>"]')
_HOST = regex.compile(r"[\p{L}\p{N}\p{M}_.-]+")
_NAMED_HOST = regex.compile(
    r"(?:[\p{L}\p{N}\p{M}_-]+\.)+(?:\p{L}[\p{L}\p{M}]+|xn--[a-z0-9-]+)", regex.IGNORECASE)
# Names Mastodon's TLD list lacks: there such "URLs" count literally, so weigh them as doubtful.
_UNLISTED_TLDS = frozenset({"example", "test", "invalid", "localhost", "local", "localdomain",
                            "internal", "lan", "home", "corp", "intranet", "private"})
_PORT = regex.compile(r":\d{1,5}")
# Characters Mastodon's URL regex refuses to end a path or a query with.
_PATH_END_BAD = frozenset("()?!*\"'「」<>;:=,.$%[]~&|@")
_QUERY_ASCII = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!?*'();:&=+$/%#[]-_.,~|@^")
_QUERY_END_ASCII = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_&=#/-")

# Marks are left out of the domain on purpose: a shorter match leaves more to count literally.
_MENTION = regex.compile(
    r"(?<![=/\w])@([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)@[\p{L}\p{N}_]+(?:[.-]+[\p{L}\p{N}_]+)*",
    regex.IGNORECASE)
_HANDLE = regex.compile(r"(?<![=/\w])@[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*(?:@\w+(?:[.-]+\w+)*)?",
                        regex.IGNORECASE)
_HASHTAG = regex.compile(r"(?<![\w/#])#[\w·\u200c]+")

_SENTENCE_END = regex.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)")
_CJK_SENTENCE_END = regex.compile(r"[。！？]+[」』）”’]*")
_PARAGRAPH = regex.compile(r"\n[^\S\n]*\n")
_GAP = regex.compile(r"\s+")
_NEXT_CHAR = regex.compile(r"\s*(\S)")
_CONTROL = regex.compile(r"[\p{Cc}]")
# A "." after these rarely ends a sentence.
_ABBREVIATIONS = frozenset({"dr", "mr", "mrs", "ms", "prof", "st", "no", "nr", "vs", "e.g", "i.e",
                            "z.b", "bzw", "ca", "approx", "cf", "mt", "jr", "sr", "inc", "ltd",
                            "dept", "fig", "p", "pp", "vol", "art", "ref", "etc"})
# Left dangling before an ellipsis these read as mistakes ("and,…").
_DANGLING = ",;:–—-([{/&+"


@dataclass(frozen=True)
class FitParts:
    """What `fit` may work with: the elastic summary and the spoiler (content warning).

    Everything else in the post (title, link, hashtags) lives in the `assemble` callable and is
    never altered.
    """

    summary: str
    spoiler: str = ""


@dataclass
class FitResult:
    """A post fitted to a channel: the text, its count as the platform counts it, and notes.

    `blocking` means it cannot go out as is: a human must edit it. `summary` is the summary
    that went into `text` (shortened, or "" when it was left out).
    """

    text: str
    length: int
    limit: int | None
    warnings: list[str] = field(default_factory=list)
    blocking: bool = False
    summary: str = ""


def _span_end(text: str, scheme_end: int) -> tuple[int, bool]:
    """End of the URL whose scheme ends at `scheme_end`; whether Mastodon surely links it."""
    stop_match = _RUN_STOP.search(text, scheme_end)
    stop = stop_match.start() if stop_match else len(text)
    host_match = _HOST.match(text, scheme_end, stop)
    host = host_match.group().rstrip(".-_") if host_match else ""
    named = bool(host) and _NAMED_HOST.fullmatch(host) is not None
    if not named or host.rsplit(".", 1)[-1].lower() in _UNLISTED_TLDS:
        # Doubtful: take the whole run, minus trailing punctuation; weighed at max(literal, weight).
        end = stop
        while end > scheme_end and text[end - 1] in _PATH_END_BAD:
            end -= 1
        return end, False
    end = scheme_end + len(host)
    port = _PORT.match(text, end, stop)
    if port:
        end = port.end()
    if end < stop and text[end] == "/":
        end = _path_end(text, end, stop)
    if end < stop and text[end] == "?":
        end = _query_end(text, end, stop)
    return end, True


def _path_end(text: str, slash: int, stop: int) -> int:
    """Paths run to whitespace or "?"; parentheses only when balanced (Wikipedia links)."""
    depth = 0
    open_at = slash
    end = slash
    while end < stop:
        char = text[end]
        if char == "?":
            break
        if char == "(":
            if depth == 0:
                open_at = end
            depth += 1
        elif char == ")":
            if depth == 0:
                break
            depth -= 1
        end += 1
    if depth:
        end = open_at
    while end > slash + 1 and text[end - 1] in _PATH_END_BAD and text[end - 1] != ")":
        end -= 1
    return end


def _query_end(text: str, mark: int, stop: int) -> int:
    end = mark + 1
    while end < stop and (text[end] in _QUERY_ASCII
                          or (ord(text[end]) >= 0xA0 and not text[end].isspace())):
        end += 1
    while end > mark + 1 and text[end - 1] not in _QUERY_END_ASCII and ord(text[end - 1]) < 0xA0:
        end -= 1
    return end if end > mark + 1 else mark


def _url_spans(text: str) -> list[tuple[int, int, bool]]:
    spans: list[tuple[int, int, bool]] = []
    position = 0
    while True:
        match = _SCHEME.search(text, position)
        if match is None:
            return spans
        end, sure = _span_end(text, match.end())
        spans.append((match.start(), end, sure))
        position = max(end, match.end())


def find_urls(text: str) -> list[tuple[int, int]]:
    """Spans `(start, end)` of the http(s) URLs in `text`, as Mastodon would link them.

    A URL needs its scheme (a bare `example.com` is just text) and does not take trailing
    sentence punctuation: in "see https://example.org/a." the "." is not part of it.
    """
    return [(start, end) for start, end, _ in _url_spans(text)]


def _length(text: str, graphemes: bool) -> int:
    if not graphemes:
        return len(text)
    if text.isascii():
        return len(text) - text.count("\r\n")  # CR LF is one cluster
    return len(_GRAPHEME.findall(text))


def _rewrite(text: str, limits: Limits) -> str:
    """The text as Mastodon measures it: URLs become placeholders, remote mentions local ones.

    Entities that overlap an earlier one are dropped, as Mastodon does: a mention inside a URL
    is part of the URL.
    """
    replacements: list[tuple[int, int, str]] = []
    urls = _url_spans(text)
    weight = limits.url_weight
    if weight is not None:
        for start, end, sure in urls:
            # A doubtful URL weighs max(literal, weight): right whichever way Mastodon sees it.
            if sure or _length(text[start:end], limits.graphemes) < weight:
                replacements.append((start, end, "x" * weight))
    if limits.mentions_local and "@" in text:
        for match in _MENTION.finditer(text):
            if not any(start < match.end() and match.start() < end for start, end, _ in urls):
                replacements.append((match.start(), match.end(), "@" + match.group(1)))
        replacements.sort()
    if not replacements:
        return text
    pieces: list[str] = []
    position = 0
    for start, end, replacement in replacements:
        pieces.append(text[position:start])
        pieces.append(replacement)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def count(text: str, limits: Limits, spoiler: str = "") -> int:
    """Length of `text` as the platform counts it, including the spoiler (content warning)."""
    if limits.little_text:
        from channels.linkedin.little import sent_length

        return sent_length(spoiler + text)
    if limits.url_weight is not None or limits.mentions_local:
        text = _rewrite(text, limits)
    return _length(spoiler + text, limits.graphemes)


def _protected(text: str) -> list[tuple[int, int]]:
    spans = find_urls(text)
    spans += [m.span() for m in _HASHTAG.finditer(text)]
    spans += [m.span() for m in _HANDLE.finditer(text)]
    return spans


def _cluster_starts(text: str) -> set[int] | None:
    """Positions where a grapheme cluster starts; None when every gap is one (plain ASCII)."""
    if text.isascii():
        return None
    starts = {m.start() for m in _GRAPHEME.finditer(text)}
    starts.add(len(text))
    return starts


def _is_abbreviation(text: str, dot: int) -> bool:
    word_start = max(text.rfind(" ", 0, dot), text.rfind("\n", 0, dot)) + 1
    word = text[word_start:dot].lstrip("(\"'“‘«").lower()
    return (len(word) == 1 and word.isalpha()) or word in _ABBREVIATIONS


def _sentence_cuts(text: str) -> list[int]:
    cuts = []
    for match in _SENTENCE_END.finditer(text):
        if match.group().startswith(".") and match.group().rstrip("\"'”’»)]") == ".":
            following = _NEXT_CHAR.match(text, match.end())
            lower_next = following is not None and following.group(1).islower()
            if lower_next or _is_abbreviation(text, match.start()):
                continue
        cuts.append(match.end())
    cuts += [m.end() for m in _CJK_SENTENCE_END.finditer(text)]
    cuts += [m.start() for m in _PARAGRAPH.finditer(text)]
    return sorted(set(cuts))


def _word_cuts(text: str) -> list[int]:
    return [m.start() for m in _GAP.finditer(text) if m.start() > 0]


def _usable(cuts: Sequence[int], text: str) -> list[int]:
    """Drop cuts inside a URL, hashtag, mention or grapheme cluster, and empty ones."""
    protected = _protected(text)
    clusters = _cluster_starts(text)
    return [p for p in cuts
            if 0 < p < len(text) and text[:p].strip()
            and (clusters is None or p in clusters)
            and not any(start < p < end for start, end in protected)]


def _with_ellipsis(kept: str) -> str:
    kept = kept.rstrip()
    last_token = kept[max(kept.rfind(" "), kept.rfind("\n"), kept.rfind("\t")) + 1:]
    if find_urls(last_token):
        # Glued to a URL, "…" would become part of the link (Mastodon takes it as a path char).
        return kept + " " + ELLIPSIS
    stripped = kept.rstrip(_DANGLING).rstrip()
    if not stripped or not _splits_cleanly(kept, len(stripped)):
        stripped = kept
    return stripped + ELLIPSIS


def _splits_cleanly(text: str, position: int) -> bool:
    """Whether `position` falls between two grapheme clusters of `text`."""
    if text.isascii():
        return text[position - 1:position + 1] != "\r\n"
    return any(m.start() == position for m in _GRAPHEME.finditer(text))


def _largest(cuts: Sequence[int], make: Callable[[int], str],
             fits: Callable[[str], bool]) -> str | None:
    """Binary search for the longest candidate that fits; only ever returns one that does."""
    best = None
    low, high = 0, len(cuts) - 1
    while low <= high:
        middle = (low + high) // 2
        candidate = make(cuts[middle])
        if fits(candidate):
            best = candidate
            low = middle + 1
        else:
            high = middle - 1
    return best


def _shorten(text: str, fits: Callable[[str], bool], *, sentences: bool = True) -> str:
    if fits(text):
        return text
    if sentences:
        cut = _largest(_usable(_sentence_cuts(text), text), lambda p: text[:p].rstrip(), fits)
        if cut:
            return cut
    cut = _largest(_usable(_word_cuts(text), text), lambda p: _with_ellipsis(text[:p]), fits)
    return cut or ""


def shorten(text: str, budget: int, limits: Limits) -> str:
    """`text` cut to at most `budget` counted characters, or "" when not one word fits.

    Cuts after the last sentence that fits; failing that, after the last word that fits, adding
    "…" (counted as 1). Never cuts inside a URL, hashtag, mention, word or grapheme cluster.
    """
    return _shorten(text, lambda s: count(s, limits) <= budget)


def _remembered(assemble: Callable[[str], str]) -> Callable[[str], str]:
    """`assemble` that renders each summary once (the search asks for some twice)."""
    seen: dict[str, str] = {}

    def once(summary: str) -> str:
        if summary not in seen:
            seen[summary] = assemble(summary)
        return seen[summary]

    return once


def fit(parts: FitParts | str, limits: Limits, assemble: Callable[[str], str], *,
        spoiler: str = "") -> FitResult:
    """The post `assemble(summary)` fitted to `limits.max_chars` by shortening only the summary.

    `assemble` renders the whole post around a given summary (e.g. a template); it is called
    several times, with shorter summaries, so it must be pure. When even `assemble("")` is over
    the limit the full text comes back unshortened with `blocking=True`: the link, title and
    hashtags are never cut behind anyone's back. `parts` may be the bare summary string;
    `spoiler`, when given, takes the place of `parts.spoiler`.
    """
    if isinstance(parts, str):
        parts = FitParts(parts)
    if spoiler:
        parts = FitParts(parts.summary, spoiler)
    assemble = _remembered(assemble)  # pure: each candidate summary is rendered once
    summary = parts.summary
    text = assemble(summary)
    length = count(text, limits, parts.spoiler)
    limit = limits.max_chars
    warnings: list[str] = []
    if limit is not None and length > limit:
        bare = count(assemble(""), limits, parts.spoiler)
        if bare > limit:
            warnings.append(f"too long: {bare}/{limit} characters even without the summary "
                            "— edit it")
            return FitResult(text, length, limit, warnings, blocking=True, summary=summary)
        summary = _shorten(summary, lambda s: count(assemble(s), limits, parts.spoiler) <= limit)
        text = assemble(summary)
        length = count(text, limits, parts.spoiler)
        warnings.append(f"summary shortened to fit {limit} characters" if summary
                        else f"summary left out to fit {limit} characters")
    if limits.soft_chars is not None and length > limits.soft_chars:
        warnings.append(f"long post: {length} characters; it goes out as a thread of "
                        f"posts of up to {limits.soft_chars}" if limits.thread else
                        f"long post: {length} characters; readers see about the first "
                        f"{limits.soft_chars} before “See more”")
    return FitResult(text, length, limit, warnings, blocking=False, summary=summary)


def subject_line(subject: str, soft_max: int) -> tuple[str, list[str]]:
    """`subject` on one line (every kind of line break collapsed), never shortened.

    A subject has no length limit (78 is a header *line* length, and pressbot folds long
    ones); past `soft_max` graphemes many inboxes show only the start, so it warns.
    """
    line = " ".join(_CONTROL.sub(" ", subject).split())
    length = _length(line, True)
    if length <= soft_max:
        return line, []
    return line, [f"long subject: {length} characters; many inboxes show about the first "
                  f"{soft_max} (nothing is cut)"]
