"""Shapes of real releases the seventh held-out set (tests/extraction/cases-heldout7.toml:
governments, police services, foundations, museums and companies outside the EU's cooperation
programmes) showed pressbot misreading, one rule each, on small made-up texts: a "view more"
link, a blog's archive heading and a site's accessibility bar over the title, a note with a
web address or a site's name bar atop the page, a title whose deck made the block too long,
a title wrapped before its last word, a wire's dateline under a PDF's title, the Norwegian
banner, a date glued to the first sentence, photo captions over the story, a sentence that
opens with the press contacts, and "to learn more, visit our website"."""

from __future__ import annotations

from datetime import date

import pytest

from bot.sources.extract import extract_text
from tests.sources.test_release_shapes5 import STORY, TITLE, text

LAST = STORY[-1]


@pytest.mark.parametrize("furniture", [
    "View More In This Section", "Category Archive: Company Updates",
    "Acessibilidade Mapa do Site", "Plan du site Accessibilité"])
def test_page_furniture_over_the_title_is_not_the_title(furniture: str) -> None:
    assert extract_text(text(furniture, TITLE)).title == TITLE


@pytest.mark.parametrize("first", [
    ">> NOTE: this announcement is also available online at http://example.org/xyz",
    "City Hall – Ayuntamiento :: City Hall of the Northern District"])
def test_a_note_or_a_sites_name_bar_atop_the_page_gives_way_to_the_title(first: str) -> None:
    got = extract_text(text(first, TITLE))
    assert got.title == TITLE
    assert got.lede.startswith(STORY[0][:40])


def test_a_title_whose_deck_made_the_block_too_long_is_the_first_line() -> None:
    deck = ["The community of volunteers developing and promoting",
            "the cycle lanes sets up an independent foundation to drive",
            "the further growth of the network in the northern districts"]
    got = extract_text("\n".join([TITLE, *deck]) + "\n" + "\n\n".join(STORY))
    assert got.title == TITLE


def test_a_title_wrapped_before_its_last_word_is_joined() -> None:
    head = "The Regional Transport Fund Announces Forty New Cycle Lanes as a Top-Level \nProject"
    got = extract_text(text(head))
    assert got.title == ("The Regional Transport Fund Announces Forty New Cycle Lanes as a "
                         "Top-Level Project")


def test_a_wires_dateline_under_a_pdf_title_is_not_part_of_it() -> None:
    got = extract_text("Kreispolizeibehörde Nordstadt\nPRESSEMITTEILUNG\n"
                       "POL-NS: Polizei sucht nach weiteren\nZeugen oder Hinweisgebern\n"
                       "53937 Nordstadt (ots)\n" + "\n".join(STORY))
    assert got.title == "POL-NS: Polizei sucht nach weiteren Zeugen oder Hinweisgebern"


def test_the_norwegian_banner_under_the_letterhead() -> None:
    got = extract_text("Statsministerens kontor\nPRESSEMELDING\nStatsministeren kommenterer Trine"
                       "\nSkei Grandes avgang\n" + "\n".join(STORY))
    assert got.title == "Statsministeren kommenterer Trine Skei Grandes avgang"


def test_a_date_glued_to_the_first_sentence_dates_the_release() -> None:
    got = extract_text(text(TITLE).replace(STORY[0], "17 marzo, 2025" + STORY[0]))
    assert got.date == date(2025, 3, 17)
    assert got.lede.startswith(STORY[0][:40])
    # a year written with its abbreviation stays with it: `2023г.`, `2023r.`
    ru = extract_text(text(TITLE).replace(STORY[0], "14 сентября 2023г. - " + STORY[0]))
    assert ru.lede.startswith("14 сентября 2023г.")


def test_photo_captions_over_the_story_are_not_the_lede() -> None:
    captions = ["The mayor and two pupils at the opening.", "The crowd on the river bank.",
                "Bicycles of the northern school in the new rack."]
    assert extract_text(text(TITLE, *captions)).lede.startswith(STORY[0][:40])
    # a short lede alone over a long paragraph stays the lede
    short = "2025 marks the tenth year of the cycle plan."
    assert extract_text(text(TITLE, short)).lede.startswith(short)


@pytest.mark.parametrize("contact", [
    "Pressekontakter er statssekretær Rune Hansen, telefon 915 58 419, e-post rh@example.no "
    "og kommunikasjonssjef Anne Berg, telefon 99 21 46 10, e-post ab@example.no.",
    "Media contacts are Jane Doe, press officer, on +44 20 7946 0000 and at "
    "press@example.org, and John Roe on +44 20 7946 0001.",
])
def test_a_sentence_that_opens_with_the_press_contacts_is_notes(contact: str) -> None:
    got = extract_text(text(TITLE, after=(contact,)))
    assert got.body.endswith(LAST)
    assert contact[:25] in got.notes


@pytest.mark.parametrize("pointer", [
    "Pour en savoir plus sur l'association, rendez-vous sur notre site internet.",
    "To learn more about the network, visit our website.",
])
def test_learn_more_on_our_website_is_notes(pointer: str) -> None:
    got = extract_text(text(TITLE, after=(pointer,)))
    assert pointer not in got.body
    assert pointer in got.notes
