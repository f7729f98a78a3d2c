"""What an edit changed (`bot.textdiff`): the words marked, and nothing lost or doubled."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import textdiff
from bot.textdiff import diff


def marked(before: str, after: str) -> list[tuple[str, str]]:
    return [(p.kind, p.text) for p in diff(before, after).pieces if p.kind != "same"]


def test_one_changed_word_is_that_word_not_its_paragraph() -> None:
    before = "The library opens on Monday.\n\nIt has 40,000 books and a café.\n"
    after = "The library opens on Tuesday.\n\nIt has 40,000 books and a café.\n"
    assert marked(before, after) == [("del", "Monday"), ("ins", "Tuesday")]
    found = diff(before, after)
    assert (found.inserted, found.deleted, found.changed) == (1, 1, True)


def test_inserted_and_deleted_words_keep_their_order_and_spaces_outside() -> None:
    found = diff("a quick brown fox jumps", "a brown fox happily jumps")
    assert marked("a quick brown fox jumps", "a brown fox happily jumps") == [
        ("del", "quick"), ("ins", "happily")]
    assert found.plain() == "a [-quick-] brown fox {+happily+} jumps"


def test_a_new_paragraph_and_a_removed_one() -> None:
    before = "## Opening\n\nFirst.\n\nSecond.\n"
    after = "## Opening\n\nFirst.\n\n- a list item\n"
    assert marked(before, after) == [("del", "Second."), ("ins", "- a list item")]
    assert marked("It has books.", "It has books, comics.") == [("ins", ", comics")]


def test_the_same_text_or_only_spacing_changed_is_no_change() -> None:
    assert not diff("same words here", "same words here").changed
    assert not diff("one line\nand another", "one line and another").changed
    assert diff("", "").pieces == []


def test_a_block_too_big_for_the_word_pass_is_marked_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(textdiff, "WORD_PASS_MAX", 10)
    assert marked("one two three four five six", "one two three four five seven") == [
        ("del", "one two three four five six"), ("ins", "one two three four five seven")]


words = st.lists(st.sampled_from(["a", "b", "café", "<script>", "\n", "\n\n", " ", "x,", "40,000",
                                  ".", "e-mail", "(x)"]),
                 max_size=30).map(lambda parts: " ".join(parts))


@settings(max_examples=int(os.environ.get("PRESSBOT_FUZZ_EXAMPLES", "100")), deadline=None)
@given(words, words)
def test_the_pieces_read_as_either_text(before: str, after: str) -> None:
    """Without the deleted pieces the words are the new text's; without the inserted ones,
    the old text's (spacing may differ: a mark's spaces stand outside it)."""
    pieces = diff(before, after).pieces
    words = textdiff._WORD.findall
    assert words("".join(p.text for p in pieces if p.kind != "del")) == words(after)
    assert words("".join(p.text for p in pieces if p.kind != "ins")) == words(before)
    assert all(p.text.strip() == p.text and p.text for p in pieces if p.kind != "same")
