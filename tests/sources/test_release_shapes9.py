"""Shapes of real releases the ninth held-out set (tests/extraction/cases-heldout9.toml:
English-speaking councils, agencies and charities, and pages in nl, de, pt, es, fr, it)
showed pressbot misreading, one rule each, on small made-up texts: a banner image's text, an
accessibility section and a theme's "you are viewing" over the title; a headline after a
banner's colon; a subject line's headline and day; a month and year under a PDF's title; a
PDF's press-kit banner; a PDF's short headline under its banner; a date label glued to its
date; opening hours and the links to the posts before and after under the story."""

from __future__ import annotations

from datetime import date

import pytest

from bot.sources.extract import extract_text
from tests.sources.test_release_shapes5 import STORY, TITLE, text

LAST = STORY[-1]
# a PDF's text: hard-wrapped lines, as pypdf gives them
WRAPPED = ("The city opened forty new cycle lanes on Sunday, connecting every school in\n"
           "the northern districts to the river path and to the central station. The works\n"
           "took two years and were paid for by the regional transport fund, the council\n"
           "said after the opening on the river bank with the mayor and two hundred pupils.\n"
           "Residents can comment on the next lanes at the town hall until the end of\n"
           "February, and the first of them open before the school holidays begin.\n"
           "The next lanes follow in the western districts, where the council plans to\n"
           "connect the schools to the new tram line and to the park along the canal by\n"
           "the end of next year, once the works on the bridges have been completed and\n"
           "the residents have been heard at the meetings planned for the spring.")


@pytest.mark.parametrize("furniture", [
    "Linkage Projects 2020 Round 3 Announcement Banner",
    "Seção de atalhos e links de acessibilidade",
    "No momento, você está visualizando New cycle lanes open in forty schools"])
def test_page_furniture_over_the_title_is_not_the_title(furniture: str) -> None:
    assert extract_text(text(furniture, TITLE)).title == TITLE


def test_a_headline_after_a_banners_colon_is_the_title() -> None:
    got = extract_text(text("Skip to main content", "PRESS RELEASE: " + TITLE.upper(),
                            "For Immediate Release", "Date: 19 September 2024"))
    assert got.title == TITLE.upper()
    assert got.date == date(2024, 9, 19)


def test_a_subject_lines_headline_and_its_day() -> None:
    got = extract_text(text("COMUNICATO STAMPA N.3 giovedì 15 novembre 2007 OGGETTO: " + TITLE))
    assert got.title == TITLE
    assert got.date == date(2007, 11, 15)


def test_a_month_and_year_under_a_pdfs_title_is_not_part_of_it() -> None:
    got = extract_text("PRESS RELEASE\nNEW CYCLE LANES OPEN IN\nFORTY SCHOOLS OF THE\n"
                       "NORTHERN DISTRICTS\nJuly 2021\n" + WRAPPED)
    assert got.title == "NEW CYCLE LANES OPEN IN FORTY SCHOOLS OF THE NORTHERN DISTRICTS"


def test_a_press_kits_banner_under_the_letterhead() -> None:
    got = extract_text("Ville de Perpignan · Université de Perpignan\nDOSSIER DE PRESSE\n"
                       "L'université investit le cœur de ville\n" + WRAPPED)
    assert got.title == "L'université investit le cœur de ville"


def test_a_pdfs_short_headline_under_its_banner() -> None:
    got = extract_text("Polizei Bremerhaven\nPRESSEMITTEILUNG\nScheibe eingeschlagen\n" + WRAPPED)
    assert got.title == "Scheibe eingeschlagen"


def test_a_date_label_glued_to_its_date() -> None:
    assert extract_text(text(TITLE, "Published3rd April 2020")).date == date(2020, 4, 3)


@pytest.mark.parametrize("after", [
    ("Öffnungszeiten Rathaus:", "Mo - Fr 8.00 - 12.00 Uhr",
     "Das Rathaus ist vom 24.12.2018 - 07.01.2019 geschlossen"),
    ("Vorig bericht €2 miljoen voor de fietspaden van de stad",
     "Volgend artikel Stakingsacties bij de fabriek in de haven"),
])
def test_opening_hours_and_the_next_posts_under_the_story_are_not_the_story(
        after: tuple[str, ...]) -> None:
    got = extract_text(text(TITLE, after=after))
    assert got.body.endswith(LAST)
