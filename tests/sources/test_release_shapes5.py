"""Shapes of real releases the fifth held-out set (tests/extraction/cases-heldout5.toml)
showed pressbot misreading, one rule each, on small made-up texts: the Swiss "media release"
label over the date, a breadcrumb whose first crumb was lost, a masthead over the headline, a
"featured" badge run into the headline, a language switcher, share and "back to top" links, an
image's placeholder word and a site generator's credit, a deck over a tag, date and picture, a
deck over the dateline's paragraph, a feed whose description is only the title, a press
officer's office under the name, a writer's `/Name` signature with a sidebar under it, a date
run into a category tag after the story, an about-heading naming `Node.js`, attachments and
`Kontaktperson:` headings, a contact sentence with two labelled numbers, an about-block told in
several paragraphs without its heading, and what an image link leaves in Markdown."""

from __future__ import annotations

from datetime import UTC, date
from pathlib import Path

import pytest

from bot.sources import feed
from bot.sources.extract import extract_text, line_kind
from bot.sources.files import markdown_to_text, read_release_file
from bot.sources.footers import is_contact_block, is_footer_heading

TITLE = "New cycle lanes open in forty schools"
STORY = [
    "The city opened forty new cycle lanes on Sunday, connecting every school in the "
    "northern districts to the river path and to the central station.",
    "The works took two years and were paid for by the regional transport fund, the council "
    "said after the opening on the river bank with the mayor and two hundred pupils.",
    "Residents can comment on the next lanes at the town hall until the end of February, and "
    "the first of them open before the school holidays begin.",
]


def text(*head: str, after: tuple[str, ...] = ()) -> str:
    """Paragraphs apart by blank lines: the head's lines, the story, what comes after it."""
    return "\n\n".join([*head, *STORY, *after])


def test_the_swiss_media_release_label_with_its_category_is_not_the_title() -> None:
    got = extract_text(text("COMMUNIQUÉS AUX MÉDIAS Divers", "12 décembre 2016", TITLE))
    assert got.title == TITLE
    assert got.date == date(2016, 12, 12)


def test_a_breadcrumb_whose_home_crumb_was_lost_is_not_the_title() -> None:
    got = extract_text(text("> Cycling in the city >New cycle lanes open", TITLE.upper()))
    assert got.title == TITLE.upper()


@pytest.mark.parametrize("masthead", [("idw - Informationsdienst", "Wissenschaft"),
                                      ("OPEN STREETS PROGRAMME",
                                       "With the support of the regional fund")])
def test_a_masthead_over_the_headline_is_not_the_title(masthead: tuple[str, ...]) -> None:
    headline = "Forty schools in the northern districts get new cycle lanes this spring"
    got = extract_text(text(*masthead, headline, "6 July 2020"))
    assert got.title == headline


def test_a_short_title_over_its_first_sentence_stays_the_title() -> None:
    # the masthead rule wants a headline under it, not the story's first sentence
    got = extract_text("\n\n".join(["Lanes open today", "Forty schools in the northern "
                                    "districts get new cycle lanes this spring.", *STORY]))
    assert got.title == "Lanes open today"


def test_a_featured_badge_run_into_the_headline_is_dropped() -> None:
    got = extract_text(text(TITLE + " Destacado", "Escrito por G.C."))
    assert got.title == TITLE


@pytest.mark.parametrize("line", ["euskaraespañol", "English | Deutsch | Français", "Partilhar:",
                                  "Scroll to Top", "Image", "plugins premium WordPress",
                                  "Proudly powered by WordPress"])
def test_switchers_share_links_placeholders_and_credits_are_page_furniture(line: str) -> None:
    assert line_kind(line) == "stray"


def test_a_deck_over_a_tag_a_date_and_a_picture_is_no_lede() -> None:
    deck = ("The project of nine universities was chosen by the Commission and will be "
            "funded for two years")
    got = extract_text(text(TITLE, deck, "• News", "First publication date: 04/05/2020",
                            "Image"))
    assert got.lede.startswith("The city opened forty new cycle lanes")
    assert got.date == date(2020, 5, 4)


def test_a_deck_over_the_datelines_paragraph_is_no_lede() -> None:
    deck = "A great success for the last call: the winners are named early next year."
    dateline = ("LEEDS (CPO). Cross-border cooperation between the two regions draws great "
                "interest: fifty-two projects were handed in by the deadline.")
    got = extract_text(text(TITLE, deck, dateline))
    assert got.lede.startswith("LEEDS (CPO). Cross-border cooperation")


def test_a_feed_whose_description_is_the_title_takes_the_lede_from_the_content() -> None:
    paras = "".join(f"<p>{p}</p>" for p in STORY)
    xml = f"""<?xml version="1.0"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>News</title><link>https://example.org/</link><description>x</description>
<item><title>{TITLE}</title><link>https://example.org/lanes</link>
<description>{TITLE}</description>
<content:encoded><![CDATA[<blockquote><p>{TITLE}</p></blockquote>{paras}]]></content:encoded>
</item></channel></rss>"""
    release = feed.parse("news", xml.encode(), url="https://example.org/feed")[0]
    assert release.summary.startswith("The city opened forty new cycle lanes")


def test_a_press_officers_office_under_the_name_is_the_signature() -> None:
    got = extract_text(text(TITLE, after=("Dr. Jane Doe", "Pressesprecher")))
    assert "Jane Doe" not in got.body
    assert "Jane Doe" in got.notes


def test_a_writers_slash_signature_ends_the_article_and_its_sidebar_is_notes() -> None:
    sidebar = ("Open Streets works to make the region's needs heard in the EU's regional "
               "policy, from its office in Brussels for the two northern counties.")
    got = extract_text(text(TITLE, after=("/Martin Persson", "Regional policy", sidebar)))
    assert "Open Streets works" not in got.body
    assert "Open Streets works" in got.notes


def test_a_date_run_into_a_category_tag_after_the_story_is_the_day() -> None:
    got = extract_text(text(TITLE, after=("17 Jun 2008 Regional policy",)))
    assert got.date == date(2008, 6, 17)


@pytest.mark.parametrize("heading", ["About Node.js Foundation", "Über die Booking.com AG",
                                     "Open / Download:", "Attachments", "Pièces jointes",
                                     "Kontaktperson: Mikael Janson"])
def test_more_footer_headings(heading: str) -> None:
    assert is_footer_heading(heading)


def test_a_number_in_an_about_sentence_is_still_no_heading() -> None:
    assert not is_footer_heading("About 3.5 million people cycle to work in the region.")


def test_a_sentence_naming_whom_to_ask_with_two_labelled_numbers_is_a_contact_block() -> None:
    assert is_contact_block("Further information is given by Dr. Jane Doe of the Institute of "
                            "Media Studies at the university, Tel: 030/809038-19, "
                            "Fax: 030/809038-20")


def test_an_about_block_in_several_paragraphs_without_its_heading_is_the_footer() -> None:
    about = [
        "The Open Streets Service is an open planning platform providing councils with the "
        "maps and counts they need to plan safe routes for cyclists and walkers.",
        "The Open Streets Service aims to cut the cost of planning by sharing the same maps "
        "between councils, and to let residents comment on every plan online.",
        "For more information about the Open Streets Service, see its website.",
    ]
    got = extract_text(text(TITLE, after=tuple(about)))
    assert "open planning platform" not in got.body
    assert "open planning platform" in got.notes
    assert got.body.endswith("before the school holidays begin.")


def test_a_story_that_goes_on_after_defining_a_name_keeps_it() -> None:
    # a name defined in the story, with the story going on about something else after it
    defined = ("The Open Streets Service is an open planning platform that the council "
               "chose last year to plan its routes.")
    got = extract_text(text(TITLE, after=(defined, "Work on the southern districts starts "
                                          "in autumn, once the budget is agreed by the "
                                          "council in September.")))
    assert "open planning platform" in got.body


def test_an_image_link_leaves_nothing_in_markdown(tmp_path: Path) -> None:
    assert markdown_to_text("[![](logo.png)](https://example.org/)Open Streets is a tool.") \
        == "Open Streets is a tool."
    path = tmp_path / "lanes.md"
    path.write_text(f"---\ntitle: {TITLE}\n---\n\n[![](logo.png)](//example.org/){STORY[0]}\n",
                    encoding="utf-8")
    release = read_release_file(path, source="press", key=path.name, tz=UTC)
    assert release.summary.startswith("The city opened forty")


def test_a_pdfs_deck_under_the_title_in_larger_type_is_no_lede(tmp_path: Path) -> None:
    # the layout sets the date right under the title, so the deck reads between the date and
    # the story; its larger type tells it from the story's first paragraph
    from tests.extraction.make_documents import build, parse

    source = tmp_path / "lanes.txt"
    source.write_text(
        f"out: lanes.pdf\nkind: pdf\ntitle: {TITLE}\nsubtitle: The city opens forty lanes "
        "this spring. Every school in the north is linked to the river path.\n"
        "date: 21/12/2023\n\n" + "\n\n".join(STORY) + "\n", encoding="utf-8")
    pdf = tmp_path / "lanes.pdf"
    pdf.write_bytes(build(parse(source)))
    release = read_release_file(pdf, source="press", key=pdf.name, tz=UTC)
    assert release.summary.startswith("The city opened forty new cycle lanes on Sunday")
    assert "The city opens forty lanes this spring" in release.body


def test_a_path_alone_on_its_line_is_no_signature() -> None:
    # one word after the slash is a site's path (`/News`), not the writer's name
    assert line_kind("/News") != "end"
