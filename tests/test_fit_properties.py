"""Properties of fitting over generated texts full of emoji, accents, URLs and hashtags.

Whatever the text: a fitted post never exceeds the limit as counted; URLs, hashtags and grapheme
clusters come out whole or not at all; the title, link and hashtags are never altered.
"""

from __future__ import annotations

import os

import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.fit import ELLIPSIS, count, find_urls, fit, shorten
from channels.base import Limits

MASTODON = Limits(max_chars=500, url_weight=23, graphemes=True, mentions_local=True)
CODE_POINTS = Limits(max_chars=500, url_weight=None, graphemes=False)
PROFILE = settings(max_examples=int(os.environ.get("PRESSBOT_FUZZ_EXAMPLES", "150")), deadline=None)

_letters = st.sampled_from([
    "a", "b", "e", "z", "Q", "é", "ß", "ж", "東", "京", "한", "ع", "1", "7",
    "e\u0301",                                           # e + combining acute
    "\N{MAN}\u200d\N{WOMAN}\u200d\N{GIRL}",              # ZWJ family
    "\U0001F1E7\U0001F1EA",                              # flag
    "\N{THUMBS UP SIGN}\U0001F3FD",                      # skin tone modifier
    "\u0600",                                            # prepend mark
    "\u0301",                                            # a stray combining mark
])
_word = st.lists(_letters, min_size=1, max_size=9).map("".join)
_host = st.sampled_from(["example.org", "www.example.org", "presse.example.de", "localhost",
                         "127.0.0.1", "x.io", "bücher.example.com"])
_path = st.lists(st.sampled_from(["a", "news", "2025", "é", "(x)", "_", "-", ".", "~", "%20",
                                  "東。京"]),
                 max_size=6).map("/".join)
_url = st.builds(lambda scheme, host, path, query: f"{scheme}://{host}/{path}{query}",
                 st.sampled_from(["http", "https", "HTTPS"]), _host, _path,
                 st.sampled_from(["", "?id=3", "?a=1&b=2", "?q=x.", "#frag"]))
_hashtag = _word.map(lambda w: "#" + regex.sub(r"[^\w]", "", w) + "a")
_mention = st.sampled_from(["@alice", "@alice@example.social", "@bob_2@chaos.social"])
_token = st.one_of(_word, _word, _word, _url, _hashtag, _mention)
_separator = st.sampled_from([" ", " ", " ", ". ", ", ", "! ", "\n", "\n\n", ") ", " (", "。",
                              ".\u0301 "])
_text = st.lists(st.tuples(_token, _separator), max_size=40).map(
    lambda pairs: "".join(token + sep for token, sep in pairs))

_HASHTAG_RE = regex.compile(r"(?<![\w/#])#[\w·\u200c]+")


def _urls(text: str) -> list[str]:
    return [text[start:end] for start, end in find_urls(text)]


def _hashtags(text: str) -> set[str]:
    return set(_HASHTAG_RE.findall(text))


def _cluster_starts(text: str) -> set[int]:
    return {m.start() for m in regex.finditer(r"\X", text)} | {len(text)}


def _assert_whole_pieces(result: str, source: str) -> None:
    """Every URL and hashtag of `result` is one of `source`, and the cut is between clusters."""
    kept = result.removesuffix(ELLIPSIS).rstrip()
    assert source.startswith(kept)
    assert len(kept) in _cluster_starts(source)
    source_urls = set(_urls(source))
    assert all(url in source_urls for url in _urls(result)), (result, source)
    assert _hashtags(result) <= _hashtags(source)


@PROFILE
@given(text=_text, budget=st.integers(min_value=0, max_value=400))
def test_shorten_fits_and_keeps_pieces_whole(text: str, budget: int) -> None:
    for limits in (MASTODON, CODE_POINTS):
        result = shorten(text, budget, limits)
        assert count(result, limits) <= budget
        if count(text, limits) <= budget:
            assert result == text
        else:
            _assert_whole_pieces(result, text)


@PROFILE
@given(summary=_text, title=_word, link=_url,
       tags=st.lists(_hashtag, max_size=4).map(" ".join),
       limit=st.integers(min_value=20, max_value=500))
def test_fit_never_exceeds_the_limit_nor_touches_title_link_or_tags(
        summary: str, title: str, link: str, tags: str, limit: int) -> None:
    def assemble(text: str) -> str:
        middle = f"{text}\n\n" if text else ""
        return f"{title}\n\n{middle}{link}\n\n{tags}"

    limits = Limits(max_chars=limit, url_weight=23, graphemes=True, mentions_local=True)
    result = fit(summary, limits, assemble)
    assert result.length == count(result.text, limits)
    if result.blocking:
        assert result.text == assemble(summary)
        assert count(assemble(""), limits) > limit
        return
    assert result.length <= limit
    assert result.text == assemble(result.summary)
    assert result.text.startswith(f"{title}\n\n")
    assert result.text.endswith(f"{link}\n\n{tags}")
    if result.summary != summary:
        _assert_whole_pieces(result.summary, summary)
        assert result.warnings


_SIMPLE_URL = regex.compile(r"(?<![\p{L}\p{N}\p{M}_@＠$#＃])https?://\S+", regex.IGNORECASE)


@PROFILE
@given(text=_text)
def test_count_never_below_the_plainest_reading(text: str) -> None:
    # platform-apis.md §1.8's safe reading: every http(s) run up to whitespace is one URL.
    # Our finer URL rules may only add characters to that, never remove them.
    limits = Limits(url_weight=23, graphemes=True)
    plain = _SIMPLE_URL.sub("x" * 23, text)
    assert count(text, limits) >= len(regex.findall(r"\X", plain))


@PROFILE
@given(text=_text, spoiler=st.sampled_from(["", "CW: politics", "\N{WARNING SIGN}\ufe0f"]))
def test_count_never_below_the_fake_mastodon(text: str, spoiler: str) -> None:
    # The fake server enforces the limit in the adapter tests: a post we call fitting must pass.
    from tests.fakes.mastodon import status_length

    assert count(text, MASTODON, spoiler) >= status_length(text, spoiler)
