"""Shapes of real releases the eighth held-out set (tests/extraction/cases-heldout8.toml:
city and regional governments, a hospital, unions, a club, charities, a church) showed
pressbot misreading, one rule each, on small made-up texts: a search box and a scroll prompt
over the title, "read also" with its teaser, an archive's month and a title that names its
day, a masthead over a short headline, a byline with its date, the line above a banner when
the story follows the banner, an image's description, a headline under a site's notice, a
tags label under the last line, and a reading-time label opening the story."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from bot.sources.extract import extract_text
from bot.sources.files import read_release_file
from tests.sources.test_release_shapes5 import STORY, TITLE, text


def test_a_search_box_and_a_scroll_prompt_are_not_title_or_lede() -> None:
    got = extract_text(text("Suche", "Close this search box.", TITLE,
                            "Scrollen Sie nach unten um den Beitrag und alle Kommentare zu lesen."))
    assert got.title == TITLE
    assert got.lede.startswith(STORY[0][:40])


def test_read_also_with_its_teaser_is_not_the_story() -> None:
    teaser = ("Lesen Sie auch:  Konsumkredit-Index hält Kurs: Unsicherheit bremst die Käufe, "
              "und die Zinsen bleiben hoch, sagt die Bank")
    assert "Konsumkredit" not in extract_text(text(TITLE, after=(teaser,))).body


def test_an_archives_month_over_a_title_that_names_its_day() -> None:
    got = extract_text("Juni 2021\n\nRegierungsratssitzung vom 28.06.2021\n\n  • 28.06.2021\n\n"
                       + "\n\n".join(STORY))
    assert got.title == "Regierungsratssitzung vom 28.06.2021"
    assert got.date == date(2021, 6, 28)
    assert got.lede.startswith(STORY[0][:40])


def test_a_masthead_over_a_short_headline() -> None:
    got = extract_text(text("Radboud Universiteit Nijmegen", "\n", "NWO-subsidies voor Vuister"
                            " en Veltman"))
    assert got.title == "NWO-subsidies voor Vuister en Veltman"


def test_a_byline_with_its_date_dates_the_release() -> None:
    got = extract_text("\n".join([TITLE, "Submitted by jtadeusz on 4 October, 2010 - 16:26",
                                  "On September 28th, 2010 the city " + STORY[0][9:],
                                  *STORY[1:]]))
    assert got.date == date(2010, 10, 4)


def test_the_line_over_a_banner_is_the_title_when_the_story_follows_the_banner() -> None:
    got = extract_text("\n".join(["Prefeito divulga Nota para Imprensa", "Nota a imprensa",
                                  " ".join(STORY), STORY[0]]))
    assert got.title == "Prefeito divulga Nota para Imprensa"


def test_an_images_description_is_not_the_title() -> None:
    got = extract_text(text("nagłówek graficzny o treści: informacja o zebraniach wiejskich",
                            TITLE))
    assert got.title == TITLE


def test_a_headline_under_a_sites_notice_is_the_guessed_title(tmp_path: Path) -> None:
    notice = ("To prevent the spread of the new virus, ALL visits to patients at the hospital "
              "are forbidden until further notice.")
    path = tmp_path / "r.txt"
    only = ("Only relatives with a special permit may visit the hospital. To get a permit, "
            "call the ward where the patient is cared for.")
    path.write_text("\n\n".join(["2020-03-16, 15:59", notice, only, TITLE, *STORY]),
                    encoding="utf-8")
    release = read_release_file(path, source="s", key="r.txt")
    assert release.title == TITLE


def test_a_tags_label_under_the_last_line_is_no_part_of_it() -> None:
    got = extract_text(TITLE + "\n\n" + " ".join(STORY) + "\netiquetas:")
    assert "etiquetas" not in got.body
    assert "etiquetas" not in got.lede


def test_a_reading_time_label_opening_the_story_is_not_the_lede() -> None:
    got = extract_text(text(TITLE).replace(STORY[0], "1' di lettura 30/03/2009 - " + STORY[0]))
    assert got.lede.startswith(STORY[0][:40])
    assert got.date == date(2009, 3, 30)


def test_an_events_when_and_where_under_its_announcement_stay_in_the_story() -> None:
    got = extract_text(text(TITLE, after=(
        "o Bitte merken Sie vor:", "Zeit: Donnerstag, 3. Mai 2001, 10.30 Uhr\n"
        "Ort: Büro des Vizebürgermeisters, Rathaus, Eingang Felderstraße, Zimmer 231",
        "(Schluss) nk/", "Rückfragen & Kontakt:", "Norbert Kettner\nTel.: 4000/81 845")))
    assert "Ort: Büro des Vizebürgermeisters" in got.body
    assert "Kettner" not in got.body


def test_an_exhibitions_period_is_not_the_releases_date_its_dateline_is() -> None:
    got = extract_text("\n".join([
        "Domaine national", "COMMUNIQUÉ DE PRESSE", "Le Musée retrouvé",
        "3 avril – 24 juillet 2016", "Saint-Germain-en-Laye, le 9 décembre 2015", *STORY]))
    assert got.date == date(2015, 12, 9)
    # a period in the story's first paragraph is no date of the release either
    lede = STORY[0].replace("on Sunday", "for the summit on 18-19 November 2024")
    assert extract_text(text(TITLE).replace(STORY[0], lede)).date is None
