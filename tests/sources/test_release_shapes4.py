"""Reading rules the fourth held-out set called for (tests/extraction/cases-heldout4.toml):
each test fails on the code before its rule."""

from __future__ import annotations

from bot.sources.footers import is_footer_heading


def test_french_au_sujet_de_heads_an_about_block() -> None:
    # `Au sujet de Debian` is French for `About Debian`, as `À propos de` is
    assert is_footer_heading("Au sujet de Debian")
    assert is_footer_heading("Au sujet de l'association")


def test_italian_su_and_a_proposito_di_head_an_about_block() -> None:
    assert is_footer_heading("Su Debian")
    assert is_footer_heading("A proposito di Legambiente")


def test_italian_su_needs_a_name_and_a_short_line() -> None:
    # a lower-case word after `su`, or a sentence, is story text, not a heading
    assert not is_footer_heading("su richiesta")
    assert not is_footer_heading(
        "Su questo punto il ministro ha risposto che la decisione spetta al governo.")
