"""Counting as the platforms count, shortening the summary, and fitting whole posts."""

from __future__ import annotations

import time

import pytest
import regex

from bot.fit import (
    ELLIPSIS,
    FitParts,
    FitResult,
    count,
    find_urls,
    fit,
    shorten,
    subject_line,
)
from channels.base import Limits

MASTODON = Limits(max_chars=500, url_weight=23, graphemes=True, mentions_local=True)
PLAIN = Limits(max_chars=None, url_weight=None, graphemes=False)
LONG_URL = "https://www.example.org/press/2025/05/a-rather-long-slug-for-a-release?id=42&x=y"
FAMILY = "\N{MAN}\u200d\N{WOMAN}\u200d\N{GIRL}\u200d\N{BOY}"
E_ACUTE = "e\u0301"
FLAG_BE = "\U0001F1E7\U0001F1EA"


@pytest.mark.parametrize(("text", "expected"), [
    ("", 0),
    ("hello", 5),
    (LONG_URL, 23),
    ("http://example.org", 23),
    ("HTTPS://EXAMPLE.ORG/X", 23),
    (f"Read {LONG_URL} now", 5 + 23 + 4),
    (f"Two: {LONG_URL} {LONG_URL}", 5 + 23 + 1 + 23),
    (f"See {LONG_URL}.", 4 + 23 + 1),
    (f"See {LONG_URL}, then", 4 + 23 + 6),
    (f"({LONG_URL})", 1 + 23 + 1),
    ("https://en.wikipedia.org/wiki/Bruges_(city) ok", 23 + 3),
    ("(https://en.wikipedia.org/wiki/Bruges_(city)).", 1 + 23 + 2),
    ("https://example.org/a?q=1!", 23 + 1),
    ("example.com", 11),
    ("www.example.com/path", 20),
    ("mail press@example.org", 22),
    (FAMILY, 1),
    (E_ACUTE, 1),
    (f"caf{E_ACUTE}", 4),
    (FLAG_BE, 1),
    (FLAG_BE + "\U0001F1EA\U0001F1FA", 2),
    ("東京都庁", 4),
    ("한국어", 3),
    ("@alice@example.social", 6),
    ("hi @alice@example.social and @bob", 3 + 6 + 5 + 4),
    ("@alice", 6),
    ("a\r\nb", 3),
    ("#Climate", 8),
    (f"{FAMILY} {LONG_URL} @alice@example.social {E_ACUTE}", 1 + 1 + 23 + 1 + 6 + 1 + 1),
])
def test_count_like_mastodon(text: str, expected: int) -> None:
    assert count(text, MASTODON) == expected


def test_spoiler_counts_too() -> None:
    assert count("body", MASTODON, spoiler="CW: politics") == 4 + 12
    assert count(LONG_URL, MASTODON, spoiler="x") == 24


@pytest.mark.parametrize(("text", "expected"), [
    (LONG_URL, len(LONG_URL)),
    (FAMILY, 7),
    (E_ACUTE, 2),
    ("@alice@example.social", 21),
])
def test_count_code_points_and_literal_urls(text: str, expected: int) -> None:
    assert count(text, PLAIN) == expected


def test_url_weight_is_data_not_a_constant() -> None:
    assert count(LONG_URL, Limits(url_weight=30)) == 30


def test_doubtful_urls_never_count_below_either_reading() -> None:
    # Hosts Mastodon does not link (no listed TLD) count literally there; we take the maximum.
    assert count("http://localhost", MASTODON) == 23
    long_local = "http://localhost:8080/" + "a" * 40
    assert count(long_local, MASTODON) == len(long_local)
    reserved = "https://mastodon.example/@bob/1234567890123"
    assert count(reserved, MASTODON) == len(reserved)


@pytest.mark.parametrize(("text", "urls"), [
    ("no links here", []),
    ("bare example.com", []),
    (f"go {LONG_URL}.", [LONG_URL]),
    ("a https://a.org/x), b", ["https://a.org/x"]),
    ("x https://a.org/x?y=1&z=2#f! y", ["https://a.org/x?y=1&z=2#f"]),
    ("https://a.org/x https://b.org/", ["https://a.org/x", "https://b.org/"]),
    ("<https://a.org/x>", ["https://a.org/x"]),
    ("https://a.org/é/ü?q=ß.", ["https://a.org/é/ü?q=ß"]),
    ("xhttps://a.org/", []),
    ("see https://a.org/news/a. Next", ["https://a.org/news/a"]),
    ("https://a.org/a/b;", ["https://a.org/a/b"]),
    ("https://a.org/a/b/?!", ["https://a.org/a/b/"]),
    ("https://a.org:8443/x", ["https://a.org:8443/x"]),
    ("https://a.org/東。京 x", ["https://a.org/東。京"]),
])
def test_find_urls(text: str, urls: list[str]) -> None:
    assert [text[start:end] for start, end in find_urls(text)] == urls


def test_count_of_a_long_post_costs_linear_work() -> None:
    """~1.5 ms of CPU for 5,000 characters (bench/big_inputs.py prints the figure): a step
    quadratic in the text would cost far more. CPU time of this thread counts the work
    done, which other processes on a busy machine do not inflate (wall time would)."""
    post = (f"Brussels, 3 May — {FAMILY} Caf{E_ACUTE} news {LONG_URL} #Tag @a@b.social " * 60)
    post = post[:5000]
    count(post, MASTODON)
    runs = 20
    started = time.thread_time()
    for _ in range(runs):
        count(post, MASTODON)
    per_call = (time.thread_time() - started) / runs
    assert per_call < 0.02, f"{per_call * 1000:.2f} ms of CPU for 5,000 characters"


SENTENCES = "The council met today. It approved the budget for 2025. Work starts in June."


@pytest.mark.parametrize(("budget", "expected"), [
    (200, SENTENCES),
    (len(SENTENCES) - 1, "The council met today. It approved the budget for 2025."),
    (40, "The council met today."),
    (22, "The council met today."),
    (21, "The council met…"),
    (4, "The…"),
    (3, ""),
    (0, ""),
])
def test_shorten_prefers_sentences_then_words(budget: int, expected: str) -> None:
    result = shorten(SENTENCES, budget, MASTODON)
    assert result == expected
    assert count(result, MASTODON) <= budget


def test_shorten_does_not_take_abbreviations_for_sentence_ends() -> None:
    text = "Dr. Smith and Prof. Jones met e.g. the mayor. Then they left the building together."
    assert shorten(text, 60, MASTODON) == "Dr. Smith and Prof. Jones met e.g. the mayor."


def test_shorten_cuts_at_paragraphs_and_cjk_sentence_ends() -> None:
    assert shorten("Heading without stop\n\nA longer paragraph follows here.", 25,
                   MASTODON) == "Heading without stop"
    assert shorten("東京で会議。予算を承認した。", 7, MASTODON) == "東京で会議。"


def test_shorten_never_cuts_inside_a_url() -> None:
    text = f"Read the details in {LONG_URL} and tell us what you think about it"
    result = shorten(text, 45, MASTODON)
    assert result == f"Read the details in {LONG_URL} {ELLIPSIS}"
    assert count(result, MASTODON) == 20 + 23 + 2
    assert shorten(text, 44, MASTODON) == f"Read the details in{ELLIPSIS}"
    assert shorten(text, 19, MASTODON) == f"Read the details{ELLIPSIS}"


def test_shorten_never_cuts_inside_a_hashtag_or_a_word() -> None:
    text = "Together #CrossBorderCooperation works wonders"
    assert shorten(text, 30, MASTODON) == f"Together{ELLIPSIS}"
    assert shorten("Unbreakablewordthatgoesonandon", 10, MASTODON) == ""


def _cluster_starts(text: str) -> set[int]:
    starts = {m.start() for m in regex.finditer(r"\X", text)}
    return starts | {len(text)}


@pytest.mark.parametrize("text", [
    f"one{FAMILY} two {E_ACUTE}three four{FLAG_BE} five",
    # U+0600 is a "prepend" mark: it and the space after it are one cluster.
    "aaa \u0600 bbb \u0600, ccc ddd",
    # A space followed by a combining accent is one cluster too.
    "aaa bbb \u0301ccc ddd",
])
def test_shorten_never_cuts_inside_a_grapheme_cluster(text: str) -> None:
    starts = _cluster_starts(text)
    seen = set()
    for budget in range(count(text, MASTODON) + 1):
        result = shorten(text, budget, MASTODON)
        kept = result.removesuffix(ELLIPSIS).rstrip()
        assert text.startswith(kept)
        assert len(kept) in starts, (budget, result)
        assert count(result, MASTODON) <= budget
        seen.add(result)
    assert len(seen) >= 3  # the loop really produced several different cuts


def test_shorten_strips_dangling_punctuation_before_the_ellipsis() -> None:
    assert shorten("Apples, pears, and many other fruits grow here", 15, MASTODON) == \
        f"Apples, pears{ELLIPSIS}"


def test_shorten_counts_urls_at_their_weight() -> None:
    text = f"{LONG_URL} is where the whole story is told in great detail"
    assert count(text, MASTODON) > 40
    result = shorten(text, 40, MASTODON)
    assert result.startswith(LONG_URL)
    assert count(result, MASTODON) <= 40


def _post(summary: str, title: str = "Council approves budget",
          link: str = LONG_URL, tags: str = "#Budget #Council") -> str:
    middle = f"{summary}\n\n" if summary else ""
    return f"{title}\n\n{middle}{link}\n\n{tags}"


def test_fit_leaves_a_fitting_post_alone() -> None:
    result = fit("Short summary.", MASTODON, _post)
    assert result == FitResult(text=_post("Short summary."), length=count(
        _post("Short summary."), MASTODON), limit=500, warnings=[], blocking=False,
        summary="Short summary.")


def test_fit_shortens_only_the_summary() -> None:
    summary = " ".join(f"Sentence number {i} says something useful." for i in range(40))
    result = fit(summary, MASTODON, _post)
    assert not result.blocking
    assert result.length == count(result.text, MASTODON) <= 500
    assert result.text.startswith("Council approves budget\n\n")
    assert result.text.endswith(f"\n\n{LONG_URL}\n\n#Budget #Council")
    assert result.summary.endswith("useful.")
    assert summary.startswith(result.summary)
    assert result.warnings == ["summary shortened to fit 500 characters"]
    # The longest cut that fits: one more sentence would not.
    longer = summary[:summary.index(" Sentence", len(result.summary) + 1)]
    assert count(_post(longer), MASTODON) > 500


def test_fit_drops_the_summary_when_nothing_of_it_fits() -> None:
    limit = count(_post(""), MASTODON) + 5
    limits = Limits(max_chars=limit, url_weight=23)
    result = fit("Unusually-long-hyphenated-opening-word follows", limits, _post)
    assert result.summary == ""
    assert result.text == _post("")
    assert result.warnings == [f"summary left out to fit {limit} characters"]
    assert not result.blocking


def test_fit_blocks_instead_of_cutting_title_link_or_tags() -> None:
    limits = Limits(max_chars=40, url_weight=23)
    result = fit("A summary.", limits, _post)
    assert result.blocking
    assert result.text == _post("A summary.")
    assert result.length == count(_post("A summary."), limits)
    bare = count(_post(""), limits)
    assert result.warnings == [f"too long: {bare}/40 characters even without the summary "
                               "— edit it"]


def test_fit_counts_the_spoiler() -> None:
    summary = "One sentence here. Another sentence there."
    spoiler = "CW: budget talk"
    limits = Limits(max_chars=count(_post(summary), MASTODON), url_weight=23)
    without = fit(FitParts(summary), limits, _post)
    assert without.summary == summary
    assert without.warnings == []
    spoiled = fit(FitParts(summary, spoiler=spoiler), limits, _post)
    assert spoiled.summary == "One sentence here."
    assert spoiled.length == count(spoiled.text, limits, spoiler=spoiler) <= limits.max_chars
    assert fit(summary, limits, _post, spoiler=spoiler) == spoiled


def test_fit_soft_limit_warns_without_blocking() -> None:
    facebook = Limits(max_chars=None, url_weight=None, graphemes=False, soft_chars=50)
    summary = "A summary that is long enough to pass the fold on a phone screen."
    result = fit(summary, facebook, _post)
    assert result.summary == summary
    assert not result.blocking
    assert result.limit is None
    assert len(result.warnings) == 1
    assert "See more" in result.warnings[0]
    assert str(result.length) in result.warnings[0]
    assert fit("x", Limits(soft_chars=500), _post).warnings == []


@pytest.mark.parametrize(("subject", "soft_max", "expected", "warned"), [
    ("Budget approved", 60, "Budget approved", False),
    ("Budget\napproved\u2028today\u2029\x0bnow\x85ok\r\nyes", 60,
     "Budget approved today now ok yes", False),
    ("  spaced   out\t", 60, "spaced out", False),
    ("Council approves the budget for 2025", 20, "Council approves the budget for 2025", True),
    (f"{FAMILY}{FAMILY}{FAMILY}", 2, f"{FAMILY}{FAMILY}{FAMILY}", True),
    (f"{FAMILY}{FAMILY}", 2, f"{FAMILY}{FAMILY}", False),
    ("bell\x07ring", 60, "bell ring", False),
])
def test_subject_line_is_never_cut(subject: str, soft_max: int, expected: str,
                                   warned: bool) -> None:
    line, warnings = subject_line(subject, soft_max)
    assert line == expected
    assert line.splitlines() == [line]
    assert bool(warnings) == warned
