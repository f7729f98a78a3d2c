"""Shapes of real releases the second held-out set (tests/extraction/cases-heldout2.toml)
showed pressbot misreading, one rule each, on small made-up texts: a page's date run into
its title, a kicker over the headline, the menus under a copied page's story, a deck between
a document's title and its date line, footers without a heading ("Note to media:", a run-in
"About …" that tells when the organisation was created), a two-digit year after an Italian
month name, and front matter opened by a mistyped `--`."""

from __future__ import annotations

import textwrap
from datetime import UTC, date
from pathlib import Path

import pytest

from bot.sources.dates import find_date, parse_date_line
from bot.sources.extract import extract_text
from bot.sources.files import read_release_file
from bot.sources.footers import is_footer_heading, is_run_in_about

STORY = [
    "Ninety organisations from Austria and Slovenia met in Graz on Monday to look for "
    "partners for the programme's third call for projects.",
    "The call closes on 30 April; the secretariat answers questions until the last day and "
    "reviews draft applications on request.",
]
MENU = ["Home", "About us", "Projects", "Calls", "Partners", "Press", "Contact",
        "Newsletter", "Jobs", "Search"]


def page(*middle: str, after: list[str] | None = None) -> str:
    """A copied web page: menus, the article's lines, more menus."""
    return "\n".join([*MENU, *middle, *STORY, *(after or [])])


def test_a_two_digit_year_is_believed_only_on_a_date_line() -> None:
    assert find_date("Il 14 gennaio 20 volontari hanno contato gli orsi.") is None
    assert parse_date_line("Il 14 gennaio 20 volontari hanno contato gli orsi.") is None


def test_a_date_run_into_the_title_is_split_off() -> None:
    got = extract_text(page("27.01.2022MineralölINFO November 2021 (Mineralölabsatz)"))
    assert got.title == "MineralölINFO November 2021 (Mineralölabsatz)"
    assert got.date == date(2022, 1, 27)


def test_a_kicker_over_the_headline_is_not_the_title() -> None:
    got = extract_text(page("21.01.2022 Aktuelle Meldung", "Deutsche G7-Präsidentschaft 2022",
                            "Bundeskabinett legt Schwerpunkte der Präsidentschaft fest"))
    assert got.title == "Bundeskabinett legt Schwerpunkte der Präsidentschaft fest"


def test_the_title_seen_before_in_the_breadcrumb_is_still_the_title() -> None:
    title = "Partner forum in Graz draws ninety organisations"
    got = extract_text(page(title, "Share", "Read aloud", "Facebook", "Twitter", "E-mail",
                            "WhatsApp", "Print page", "12.01.2026 News", title))
    assert got.title == title
    assert got.date == date(2026, 1, 12)


def test_an_enumeration_does_not_cut_the_article_in_two() -> None:
    more = [f"Delegation {n} described its plans for the call in a short talk, and the "
            "secretariat noted each of them for the partner search that follows." for n in
            range(1, 5)]
    text = "\n".join([*MENU, "Partner forum in Graz draws ninety organisations", "12.01.2026",
                      "The programme sets five priorities for the call:", "a greener economy,",
                      "cross-border transport,", "a shared labour market,", "tourism and",
                      "a healthy life.", "Priorities of the region", *more])
    got = extract_text(text)
    assert got.title == "Partner forum in Graz draws ninety organisations"
    assert got.lede.startswith("The programme sets five priorities")


def test_menus_under_a_copied_page_story_are_not_in_the_post() -> None:
    got = extract_text(page("Partner forum in Graz draws ninety organisations", "12.01.2026",
                            after=["Next entry", "Forum in Maribor opens its doors", "Back to list",
                                   "Imprint | Privacy | Accessibility", "Facebook", "Instagram",
                                   "Wildlife and nature", "The territory"]))
    assert "The call closes on 30 April" in got.body
    for furniture in ("Forum in Maribor", "Imprint", "Wildlife and nature"):
        assert furniture not in got.body


def test_a_table_in_the_story_is_not_a_menu() -> None:
    rows = [cell for row in (("Petrol", "15,02 Mio. t", "0,7 %"), ("Diesel", "32,23 Mio. t",
                                                                     "0,1 %"))
            for cell in row]
    text = "\n".join(["Fuel sales in 2021", "27.01.2022", STORY[0], "Sales by product:", *rows,
                      "Monthly figures are published in the official oil data of the office."])
    assert "Monthly figures are published" in extract_text(text).body


def test_a_deck_between_the_title_and_the_date_line_is_not_the_lede() -> None:
    text = "\n\n".join([
        "COMUNICATO STAMPA",
        "Bonus Vacanze: da oggi è possibile richiederlo tramite l’app IO",
        "È attiva su IO la funzione per richiedere fino al 31 dicembre 2020 il Bonus Vacanze. "
        "Necessario possedere un’identità digitale SPID per accedere all’app.",
        "1 luglio 2020",
        "Roma, 1° luglio 2020 - È disponibile su IO la nuova funzionalità per richiedere e "
        "utilizzare il Bonus Vacanze, a partire da oggi e fino al 31 dicembre.",
        "Il Bonus è rivolto ai nuclei familiari con un reddito ISEE non superiore a 40 mila euro.",
    ])
    got = extract_text(text)
    assert got.date == date(2020, 7, 1)
    assert got.lede.startswith("Roma, 1° luglio 2020")


@pytest.mark.parametrize("label", [
    "Note to media: Images of the forum are available for download here.",
    "Notes to editors: Images of the forum are available for download here.",
    "Media, please note: Images of the forum are available for download here.",
    "Nota para los medios: las imágenes del foro pueden descargarse aquí.",
])
def test_a_note_to_the_media_is_a_footer(label: str) -> None:
    assert is_footer_heading(label)
    got = extract_text("\n\n".join(["Partner forum in Graz", *STORY, label]))
    assert "available for download" not in got.body and "descargarse" not in got.body
    assert label in got.notes


@pytest.mark.parametrize(("par", "run_in"), [
    ("About the City of Graz Department for Families The Department for Families was "
     "officially created in 2022 to set goals for reducing poverty in the city.", True),
    ("À propos de la Fondation La Fondation a été créée en 1998 pour soutenir la recherche.",
     True),
    ("About 300 people were created equal in 2022, the organisers joked on stage.", False),
    ("About ninety organisations attended the forum, which was founded as a yearly meeting.",
     False),
])
def test_a_run_in_about_that_tells_when_it_was_created(par: str, run_in: bool) -> None:
    assert is_run_in_about(par) is run_in


def test_mistyped_front_matter_is_still_front_matter(tmp_path: Path) -> None:
    path = tmp_path / "release.md"
    path.write_text(textwrap.dedent("""\
        --
        layout: internal
        title: "E-distribuzione sbarca sull'app IO"
        date: 2023-04-04

        ---

        Roma, 4 aprile 2023 - E-Distribuzione è il primo distributore di energia elettrica ad
        aver scelto di integrarsi a IO, l'app dei servizi pubblici.
        """), encoding="utf-8")
    release = read_release_file(path, source="s", key="release.md", tz=UTC)
    assert release.title == "E-distribuzione sbarca sull'app IO"
    assert release.published_day == date(2023, 4, 4)
    assert release.summary.startswith("Roma, 4 aprile 2023")
    assert "layout" not in release.body
