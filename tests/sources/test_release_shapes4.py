"""Reading rules the fourth held-out set called for (tests/extraction/cases-heldout4.toml):
each test fails on the code before its rule."""

from __future__ import annotations

from datetime import UTC, date
from pathlib import Path

from bot.sources.extract import partition
from bot.sources.files import read_release_file
from bot.sources.footers import is_about, is_footer_heading


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


def test_a_self_description_opened_by_where_it_sits_is_an_about_paragraph() -> None:
    # wire releases' boilerplate often opens with the seat, not with "X is a …"
    assert is_about("Based in Dedham, MA, The Tor Project develops free and open-source "
                    "software that provides online anonymity to the everyday Internet user.")
    assert is_about("Con sede en Valencia, la fundación trabaja desde 1998 con familias de "
                    "toda la región para mejorar el acceso a la vivienda.")
    assert is_about("Mit Sitz in Bonn, setzt sich der Verein seit 30 Jahren für den Schutz "
                    "der Auen und Flüsse in ganz Deutschland ein.")


def test_a_story_sentence_about_a_place_is_not_an_about_paragraph() -> None:
    # the story may say where something is; only a self-description opens with the seat
    assert not is_about("The new bridge, based on a design from 1910, opens to cyclists and "
                        "walkers in May after two years of work on both banks.")
    assert not is_about("Located near the station, the new library will open on Monday with "
                        "a programme of readings for children and their parents.")


STORY = [
    "The city opens forty new cycle lanes this spring, connecting every school in the "
    "northern districts to the river path and to the central station.",
    "The works start in March and end in June; the lanes are lit and cleared of snow in "
    "winter, the council said on Tuesday after a vote of its transport committee.",
    "Residents can comment on the plans at the town hall until the end of February, and "
    "the first lanes open to cyclists before the school holidays begin.",
]
ABOUT = ("Based in Leeds, Open Streets develops free tools that help councils plan safe "
         "routes for cyclists and walkers, and has worked with forty cities since 2015.")
MORE = ("In addition to its tools, Open Streets publishes research on road safety each year "
        "and trains council staff in planning streets for people of every age.")
TRADEMARK = "“Open Streets” is a registered trademark of Open Streets Ltd."
CONTACT = "Contact: Jane Doe Tel: +44 113 496 0000 Email: press@openstreets.example"


def test_an_about_paragraph_followed_by_boilerplate_starts_the_footer_before_its_mark() -> None:
    # the contact line is the only mark, and it comes last; the trademark line above it shows
    # the footer began earlier, so the self-description is notes, not story
    paras = [*STORY, ABOUT, MORE, TRADEMARK, CONTACT]
    story, notes = partition(paras)
    assert story == [0, 1, 2]
    assert notes == [3, 4, 5, 6]


def test_an_about_paragraph_with_the_story_going_on_to_the_mark_stays_in_the_story() -> None:
    # with no boilerplate before the mark, the mark is trusted: a story may describe an
    # organisation (a partner) just before its own "About" heading
    paras = [*STORY, ABOUT, MORE, "About the council", "The council runs the city."]
    story, _ = partition(paras)
    assert 3 in story


def test_a_saved_pages_logo_heading_is_not_the_title_and_the_file_name_gives_the_day(
        tmp_path: Path) -> None:
    # a site generator saved the whole page as Markdown: its first `#` heading is the site's
    # name linking home, the second the release's; the date is only in the `_posts`-style
    # file name
    path = tmp_path / "2011-08-28-stable-release.md"
    path.write_text(
        "# [Open Streets](../index.html)\n\n"
        + "".join(f"  * [{name}](../{name.lower()}.html)\n" for name in (
            "Home", "About", "Documentation", "Press", "Blog", "Newsletter", "Contact"))
        + "\n"
        "# New cycle lanes open in forty schools\n\n"
        "The city opened forty new cycle lanes on Sunday, connecting every school in the "
        "northern districts to the river path and to the central station.\n\n"
        "The works took two years and were paid for by the regional transport fund, the "
        "council said after the opening on the river bank.\n", encoding="utf-8")
    release = read_release_file(path, source="press", key=path.name, tz=UTC)
    assert release.title == "New cycle lanes open in forty schools"
    assert release.published_day == date(2011, 8, 28)


def test_a_date_in_the_release_wins_over_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "2011-08-28-stable-release.md"
    path.write_text("---\ntitle: Lanes open\ndate: 2011-09-02\n---\n\nThe city opened forty "
                    "new cycle lanes on Sunday, connecting every school to the river.\n",
                    encoding="utf-8")
    release = read_release_file(path, source="press", key=path.name, tz=UTC)
    assert release.published_day == date(2011, 9, 2)
