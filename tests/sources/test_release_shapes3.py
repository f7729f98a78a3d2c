"""Shapes of real releases the third held-out set (tests/extraction/cases-heldout3.toml)
showed pressbot misreading, one rule each, on small made-up texts: press-release banners in
more languages, a section label under the letterhead, a screen reader's navigation heading, a
date glued inside a page's kicker, a reading time and an image's file name left by a copy, a
portal's preamble over the date with the headline under it, a hard-wrapped document whose
short list lines are no menus, a program's date stamp, empty date labels at a page's end, a
dateline in brackets, a group photo's caption and a cut-off teaser before the story, footer
headings in Italian, Portuguese, Dutch, Swedish, Polish and Czech, and a funder named in the
programme's run-in self-description."""

from __future__ import annotations

from datetime import date

import pytest

from bot.sources.extract import extract_text, is_lede, line_kind
from bot.sources.footers import is_boilerplate, is_footer_heading

STORY = [
    "Ninety organisations from two regions met in the town hall on Monday to look for "
    "partners for the programme's third call for projects.",
    "The call closes on 30 April; the secretariat answers questions until the last day and "
    "reviews draft applications on request.",
]


def text(*head: str, after: tuple[str, ...] = ()) -> str:
    """Paragraphs apart by blank lines: the head's lines, the story, what comes after it."""
    return "\n\n".join([*head, *STORY, *after])


@pytest.mark.parametrize("banner", ["KOMUNIKAT PRASOWY", "PERSBERICHT", "Pressmeddelande",
                                    "TLAČOVÁ SPRÁVA", "Comunicado de imprensa",
                                    "NOTA À IMPRENSA", "Informacja prasowa"])
def test_a_banner_in_more_languages_is_not_the_title(banner: str) -> None:
    got = extract_text(text(banner, "New bridge opens over the river"))
    assert got.title == "New bridge opens over the river"


def test_a_section_label_under_the_letterhead_is_passed_like_a_banner() -> None:
    got = extract_text(text("North Sea Ports", "NEWS", "New bridge opens over the river"))
    assert got.title == "New bridge opens over the river"


@pytest.mark.parametrize("line", ["Navigation und Service", "Zum Hauptinhalt"])
def test_a_navigation_heading_is_no_title(line: str) -> None:
    got = extract_text(text(line, "New bridge opens over the river", "Datum 31.08.2015"))
    assert got.title == "New bridge opens over the river"
    assert got.date == date(2015, 8, 31)


@pytest.mark.parametrize("line", ["Lesedauer: 1 Min", "City PortalLesedauer: 3 Min",
                                  "5 min read", "Temps de lecture : 2 min", "picture_3.jpg",
                                  "IMG_2041 (1).JPG"])
def test_a_reading_time_or_an_image_file_name_is_page_furniture(line: str) -> None:
    assert line_kind(line) == "stray"


def test_a_date_glued_inside_a_kicker_is_read_and_the_title_found() -> None:
    page = "\n".join(["City Portal", "Press article9. Mai 2016City PortalLesedauer: 1 Min", "",
                      "New bridge opens over the river", "", *STORY])
    got = extract_text(page)
    assert got.date == date(2016, 5, 9)
    assert "Lesedauer" not in got.body and "Press article" not in got.body


def test_a_preamble_over_the_date_with_the_headline_under_it() -> None:
    got = extract_text(text("Article from the City University",
                            "This article is based on a press release. Read how we work.",
                            "17 February 2005", "Two research groups of the university win "
                            "the council's strong research environment grants"))
    assert got.title == ("Two research groups of the university win the council's strong "
                         "research environment grants")
    assert got.date == date(2005, 2, 17)
    assert "based on a press release" not in got.body
    assert got.lede.startswith("Ninety organisations")


def test_a_hard_wrapped_document_with_a_short_list_is_no_copied_page() -> None:
    wrapped = "\n".join([
        "Regional Cooperation Programme",
        "NEWS",
        "Happy birthday to the cooperation programme!",
        "All through the year, we will be celebrating thirty years of programmes that bring",
        "regions on both sides of the border together in projects of every size and kind.",
        "This year's themes?",
        "• We all have a neighbour",
        "• Youth",
        "• Greener regions",
        "• Culture",
        "• Health",
        "• Transport",
        "We'll be taking stock of our past achievements and look forward to what can be done",
        "more and better in the future, with the partners who made the programme what it is.",
        "So watch this space for more information.",
    ])
    got = extract_text(wrapped)
    assert got.title == "Happy birthday to the cooperation programme!"
    assert got.lede.startswith("All through the year")


def test_empty_date_labels_at_a_pages_end_are_no_story() -> None:
    got = extract_text(text("New bridge opens over the river",
                            after=("Última actualização:", "Publicado a:")))
    assert "actualização" not in got.body and "Publicado" not in got.body


def test_a_dateline_in_brackets_opens_the_story() -> None:
    assert is_lede("(02.05.2019) You work on a project the EU pays for and want the world to "
                   "know? The campaign helps you show it.")


def test_a_group_photos_caption_is_no_lede() -> None:
    caption = ("Picture taken in May in the main building. Back row, from left to right: Ana "
               "Ruiz, Carlos Vega and Marta Gil.")
    got = extract_text(text("New bridge opens over the river", "20 June 2022", caption))
    assert got.lede.startswith("Ninety organisations")
    assert not is_lede("Fila trasera, de izquierda a derecha: Ana Ruiz y Carlos Vega, en la "
                       "inauguración del edificio.")


def test_a_teaser_cut_off_with_an_ellipsis_is_no_lede() -> None:
    teaser = ("The city has started a campaign to show residents the projects near them. All "
              "through May the projects open their doors. The city also runs...")
    got = extract_text(text("New bridge opens over the river", "9 May 2016", teaser))
    assert got.lede.startswith("Ninety organisations")


@pytest.mark.parametrize("heading", [
    "Indicazioni per i media:", "Persone di riferimento:", "Ufficio stampa", "Contatti stampa",
    "Assessoria de imprensa", "Contatos para a imprensa:", "Noot voor de redactie",
    "Perscontact:", "Presskontakt", "För mer information:", "Kontakt dla mediów:",
    "Kontakt pro média:"])
def test_footer_headings_in_more_languages(heading: str) -> None:
    assert is_footer_heading(heading)


def test_a_programmes_run_in_self_description_naming_its_funder_is_a_footer() -> None:
    about = ("Border Regions is a cross-border cooperation programme, co-funded by the "
             "European Union. The programme helps towns on both sides work together.")
    assert is_boilerplate(about)
    got = extract_text(text("New bridge opens over the river", after=(about,)))
    assert "co-funded" not in got.body
    assert "co-funded" in got.notes


def test_a_title_over_its_byline_date_and_subheadline_stays_the_title() -> None:
    # the guard of the rule above: a byline is no preamble, the subheadline no headline
    got = extract_text(text("New bridge opens", "By Jane Doe", "17 February 2005",
                            "Two towns are joined again after forty years apart"))
    assert got.title == "New bridge opens"
