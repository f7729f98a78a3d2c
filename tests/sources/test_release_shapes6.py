"""Shapes of real releases the sixth held-out set and the set in the EU's other languages
(tests/extraction/cases-heldout6.toml, cases-eulang.toml) showed pressbot misreading, one rule
each, on small made-up texts: short lines under the story's last sentence (a "see more", a
label, a caption), a blog's comment section, a cookie notice, a logo's alternative text, the
skip, "read more", share and print links of the EU's languages, source and picture-credit
labels, a banner run into the title, a banner with its date in columns under the title, a
portal's bar of empty cells, an account bar and a section's name atop the page, an
introduction ending in a colon, a page's repeated buttons, a sidebar's heading glued to the
last sentence, and an about-paragraph in a language without articles."""

from __future__ import annotations

from datetime import date

import pytest

from bot.sources.extract import extract_text, line_kind
from tests.sources.test_release_shapes5 import STORY, TITLE, text

LAST = STORY[-1]


@pytest.mark.parametrize("furniture", [
    ("VAATA LISA",), ("Approfondisci",), ("Mayor Jane Doe at the opening", "The new lane"),
    ("Najave",), ("Download photos", "Back")])
def test_short_lines_under_the_last_sentence_are_not_the_story(
        furniture: tuple[str, ...]) -> None:
    got = extract_text(text(TITLE, after=furniture))
    assert got.body.endswith(LAST)
    assert all(line not in got.body for line in furniture)


@pytest.mark.parametrize("after", [
    # a list the last sentence introduces, a line with its link, a sentence without its stop
    ("The lanes opened today are these:", "Northern Avenue", "River Path"),
    ("More on the lanes https://example.org/lanes",),
    ("the next lanes are planned for the western districts from the spring of next year",),
    ("- Northern Avenue", "- River Path"),
])
def test_what_ends_a_story_without_a_full_stop_stays(after: tuple[str, ...]) -> None:
    got = extract_text(text(TITLE, after=after))
    assert all(line.lstrip("- ") in got.body for line in after)


@pytest.mark.parametrize("section", [
    ("LASCIA UN COMMENTO", "Please enter your comment!", "Please enter your name here",
     "You have entered an incorrect email address! Please enter your email address here."),
    ("Δεν υπάρχουν σχόλια:", "Δημοσίευση σχολίου",
     "Τα σχόλια γίνονται για ενημέρωση των αναγνωστών μας και βαρύνουν τους σχολιαστές."),
    ("Leave a Reply", "Your email address will not be published. Required fields are marked."),
    ("3 Kommentare", "Kommentar schreiben"),
])
def test_a_blogs_comment_section_is_not_the_story(section: tuple[str, ...]) -> None:
    got = extract_text(text(TITLE, after=section))
    assert got.body.endswith(LAST)
    assert not any(line in got.body or line in got.notes for line in section)


@pytest.mark.parametrize("notice", [
    "Acest site foloseste cookies. Navigand in continuare va exprimati acordul asupra "
    "folosirii cookie-urilor.",
    "We use cookies to give you the best experience on our website. By continuing you agree.",
    "Ta spletna stran uporablja piškotke za boljšo uporabniško izkušnjo.",
])
def test_a_cookie_notice_is_no_part_of_the_release(notice: str) -> None:
    for place in ((notice, TITLE), (TITLE,)):
        got = extract_text(text(*place, after=() if notice in place else (notice,)))
        assert got.title == TITLE
        assert notice not in got.body and notice not in got.notes


def test_a_story_about_cookies_keeps_its_paragraph() -> None:
    about = ("The bakery of the northern school sold ten thousand cookies at the opening, and "
             "the money goes to the pupils' cycling club.")
    got = extract_text(text(TITLE, after=(about,)))
    assert about in got.body


@pytest.mark.parametrize("alt", ["jems logo", "interreg_europe_logo", "EU-logo_CMYK"])
def test_a_logos_alternative_text_is_neither_title_nor_story(alt: str) -> None:
    got = extract_text(text(alt, TITLE, after=(alt,)))
    assert got.title == TITLE
    assert alt not in got.body


@pytest.mark.parametrize("link", [
    "Μετάβαση στο περιεχόμενο", "Zum Inhalt springen", "Siirry sisältöön", "Preskoči na vsebino",
    "Drukāt", "Tulosta", "Megosztás", "Comparteix:", "Lue lisää", "Pročitaj više",
])
def test_the_skip_print_share_and_more_links_of_the_eus_languages_are_page_furniture(
        link: str) -> None:
    assert line_kind(link) == "stray"
    got = extract_text(text(link, TITLE, after=(link,)))
    assert got.title == TITLE
    assert link.rstrip(":") not in got.body


@pytest.mark.parametrize("label", ["Forrás: MTI", "Bildnachweis: GS Interreg BY-AT",
                                   "Informa: Laia Ferré", "Izvor: Ministarstvo turizma",
                                   "Πηγή: ΑΠΕ"])
def test_source_and_picture_credit_labels_are_notes(label: str) -> None:
    got = extract_text(text(TITLE, after=(label,)))
    assert label not in got.body
    assert label in got.notes


@pytest.mark.parametrize("banner", ["Sajtóközlemény - ", "Pressemeddelelse: ",
                                    "Δελτίο Τύπου – ", "Comunicat de presă | "])
def test_a_banner_run_into_the_title_is_not_part_of_it(banner: str) -> None:
    got = extract_text(text(banner + TITLE))
    assert got.title == TITLE


def test_a_banner_and_its_date_in_columns_under_the_title_date_the_release() -> None:
    # a regression guard: the banner words of the EU's languages made this line a banner,
    # which the running-head rule for PDFs then dropped with its date, and under a newsroom's
    # name the title went to the name
    got = extract_text(text("Roskilde Newsroom", TITLE,
                            "Pressemeddelelse   •   Feb 10, 2011 09:59 CET"))
    assert got.title == TITLE
    assert got.date == date(2011, 2, 10)


def test_a_portals_bar_with_empty_cells_is_not_the_title() -> None:
    got = extract_text(text("Principaux portails publics | |", TITLE))
    assert got.title == TITLE


@pytest.mark.parametrize("head", [("Ești membru? Cont nou / Autentificare", "Ştiri"),
                                  ("Log in | Register",), ("Tiedotteet",), ("Uudised",)])
def test_an_account_bar_and_a_sections_name_atop_the_page_are_not_title_or_lede(
        head: tuple[str, ...]) -> None:
    # a title that ends with a day (`… 9.9.`) reads like a sentence: only where the page
    # starts tells it from the story's first paragraph
    for title in (TITLE, "Webinar on the new cycle lanes for schools 9.9."):
        got = extract_text(text(*head, title))
        assert got.title == title
        assert got.lede.startswith(STORY[0][:40])


def test_an_introduction_ending_in_a_colon_is_the_lede() -> None:
    intro = ("The summer has started warm and tropical, and in cooperation too the season has "
             "begun well for three projects of the programme, which received support this month:")
    got = extract_text("\n\n".join([TITLE, intro, "Euregional roses Growers of the region",
                                    *STORY]))
    assert got.lede.startswith(intro[:40])


def test_a_pages_repeated_buttons_are_not_the_story() -> None:
    got = extract_text(text(TITLE, after=("Union Europea", *["• Pulsa"] * 5)))
    assert "Pulsa" not in got.body


def test_a_sidebars_heading_glued_to_the_last_sentence_leaves_the_story() -> None:
    got = extract_text(text(TITLE).replace(LAST, LAST + "Najave"))
    assert got.body.endswith(LAST)


@pytest.mark.parametrize("about", [
    # Lithuanian, Latvian, Estonian: an organisation defined with "is" and no article
    "Miesto dviračių tinklas yra nepelno organizacija, kurią remia savivaldybė. "
    "Daugiau informacijos https://example.org/tinklas.",
    "Pilsētas velosipēdu tīkls ir bezpeļņas organizācija, ko atbalsta pašvaldība. "
    "Vairāk informācijas https://example.org/tikls.",
    "Linna rattavõrgustik on mittetulundusühing ja organisatsioon, mida toetab vald ja "
    "mitu kooli. Lisainfo https://example.org/vork.",
])
def test_an_about_paragraph_in_a_language_without_articles_is_notes(about: str) -> None:
    got = extract_text(text(TITLE, after=(about,)))
    assert got.body.endswith(LAST)
    assert about[:30] in got.notes


def test_a_one_word_comments_heading_inside_the_story_does_not_end_it() -> None:
    # `Reacties` (reactions) may head a story's own quotes: only a comment form's longer
    # words (`Leave a comment`, `3 Kommentare`) end the story
    got = extract_text("\n\n".join([TITLE, STORY[0], "Reacties", *STORY[1:]]))
    assert got.body.endswith(LAST)
