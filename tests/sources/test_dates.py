"""Dates as releases in English, Spanish, French, German and Russian write them.

Datelines ("Madrid, 12 de marzo de 2024.–", "Москва, 12 марта 2024 г."), a label alone on
its line with the date below ("Publié le" / "12 mars 2024"), and a "Last updated" line that
must not win over the publication date. Each form here is one seen on real press pages.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.sources import feed
from bot.sources.dates import find_date, parse_date_line, parse_stamp
from bot.sources.extract import extract_text, line_kind
from bot.sources.files import read_release_file
from tests.fakes.feeds import rss

MARCH_12 = date(2024, 3, 12)


@pytest.mark.parametrize("line", [
    "12 марта 2024 г.",
    "12.03.2024 г.",
    "12 марта 2024 года",
    "Москва, 12 марта 2024 г.",
    "Опубликовано: 12.03.2024",
    "Опубликовано 12 марта 2024 г.",
    "Дата публикации: 12.03.2024",
    "12 de marzo de 2024",
    "Madrid, 12 de marzo de 2024.–",
    "Madrid, 12 de marzo de 2024.-",
    "MADRID, 12 de marzo de 2024 –",
    "Publicado el 12 de marzo de 2024",
    "Fecha de publicación: 12/03/2024",
    "martes, 12 de marzo de 2024",
    "le 12 mars 2024",
    "Paris, le 12 mars 2024",
    "Publié le 12 mars 2024 à 10h30",
    "Date de publication : 12 mars 2024",
    "mardi 12 mars 2024",
    "12. März 2024",
    "Berlin, 12. März 2024",
    "Veröffentlicht am 12.03.2024",
    "Dienstag, 12. März 2024",
    "12 March 2024",
    "Published on 12 March 2024",
])
def test_date_lines(line: str) -> None:
    assert parse_date_line(line) == MARCH_12
    assert line_kind(line) == "date"


@pytest.mark.parametrize(("line", "expected"), [
    ("1er mars 2024", date(2024, 3, 1)),
    ("1º de marzo de 2024", date(2024, 3, 1)),
    ("3 févr. 2024", date(2024, 2, 3)),
    ("3 дек. 2024 г.", date(2024, 12, 3)),
    ("5. Mai 2024", date(2024, 5, 5)),
    ("Zuletzt aktualisiert am 15.03.2024", date(2024, 3, 15)),
    ("Dernière mise à jour : 15 mars 2024", date(2024, 3, 15)),
    ("Última actualización: 15 de marzo de 2024", date(2024, 3, 15)),
    ("Обновлено 15 марта 2024 г.", date(2024, 3, 15)),
    # a sentence that starts with a date is not a date line
    ("Le 12 mars 2024, la ville a inauguré le pont.", None),
    ("El 12 de marzo de 2024 se inauguró el puente.", None),
    ("12 марта 2024 г. в Москве открылся мост", None),
    ("02.12.19", date(2019, 12, 2)),
    ("version 1.2.19", None),
    ("12/25/24", None),
    # Italian, Portuguese and Dutch months; a two-digit year on a date line (held-out set 2)
    ("( Pescasseroli, 14 Gennaio 20 )", date(2020, 1, 14)),
    ("Roma, 1° luglio 2020", date(2020, 7, 1)),
    ("Roma, 4 aprile 2023", date(2023, 4, 4)),
    ("Lisboa, 12 de março de 2024", date(2024, 3, 12)),
    ("Amsterdam, 12 maart 2024", date(2024, 3, 12)),
    ("3 dicembre 2024", date(2024, 12, 3)),
    # a program's date stamp (Unix `date`, Java) and a zone offset (held-out set 3)
    ("Tue Sep 27 11:32:00 CEST 2022", date(2022, 9, 27)),
    ("Mon Jan 5 09:02 UTC 2026", date(2026, 1, 5)),
    ("lunes 20 de junio de 2022 - 10:31 GMT+0000", date(2022, 6, 20)),
    ("20 June 2022, 10:31 +02:00", date(2022, 6, 20)),
])
def test_more_date_lines(line: str, expected: date | None) -> None:
    assert parse_date_line(line) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Madrid, 12 de marzo de 2024.– El Ayuntamiento ha presentado hoy el nuevo puente.",
     MARCH_12),
    ("12 марта 2024 г. в Москве состоялось открытие моста.", MARCH_12),
    ("Strasbourg, le 12 mars 2024 – La Région a inauguré la passerelle.", MARCH_12),
    ("Wien, 12. März 2024 – Die Stadt eröffnet die Brücke.", MARCH_12),
    ("Quedan 12 ejemplares de 2024 en el almacén.", None),
])
def test_find_date_in_an_opening_paragraph(text: str, expected: date | None) -> None:
    assert find_date(text) == expected


LEDE = {
    "en": "The two towns reopened the footbridge that joins them on Thursday, a year after"
          " the flood.",
    "es": "Las dos ciudades han reabierto la pasarela que las une este jueves, un año después"
          " de la riada.",
    "fr": "Les deux villes ont rouvert jeudi la passerelle qui les relie, un an après la crue.",
    "de": "Die beiden Städte haben am Donnerstag die Fußgängerbrücke wieder eröffnet, ein"
          " Jahr nach dem Hochwasser.",
    "ru": "Два города в четверг вновь открыли пешеходный мост, который их соединяет, через"
          " год после наводнения.",
}
TITLE = {"en": "Bridges reopen along the river", "es": "Los puentes vuelven a abrir",
         "fr": "Les ponts rouvrent le long du fleuve", "de": "Die Brücken sind wieder offen",
         "ru": "Мосты снова открыты"}


def page(lang: str, *head: str, above: tuple[str, ...] = ()) -> str:
    return "\n".join([*above, TITLE[lang], "", *head, "", LEDE[lang], ""])


@pytest.mark.parametrize(("text", "expected"), [
    # a label alone on its line, the date on the next
    (page("en", "Published", "12 March 2024"), MARCH_12),
    (page("en", "Published:", "12/03/2024"), MARCH_12),
    (page("fr", "Publié le", "12 mars 2024"), MARCH_12),
    (page("es", "Publicado", "12 de marzo de 2024"), MARCH_12),
    (page("de", "Veröffentlicht", "12. März 2024"), MARCH_12),
    (page("ru", "Опубликовано", "12 марта 2024 г."), MARCH_12),
    (page("en", above=("Published", "12 March 2024", "")), MARCH_12),
    # a bare date line, above or below the title
    (page("en", "12 March 2024"), MARCH_12),
    (page("en", above=("12.03.2024", "")), MARCH_12),
    # datelines
    (page("ru", "12.03.2024 г."), MARCH_12),
    (page("ru", "Москва, 12 марта 2024 г."), MARCH_12),
    (page("es", "Madrid, 12 de marzo de 2024.–"), MARCH_12),
    (page("fr", "Paris, le 12 mars 2024"), MARCH_12),
    (page("de", "Berlin, 12. März 2024"), MARCH_12),
    (TITLE["es"] + "\n\nMadrid, 12 de marzo de 2024.– " + LEDE["es"] + "\n", MARCH_12),
    (TITLE["ru"] + "\n\n12 марта 2024г. - " + LEDE["ru"] + "\n", MARCH_12),
    # "Last updated" never wins over the publication date, wherever it stands
    (page("en", "Last updated: 15 March 2024", "Published: 12 March 2024"), MARCH_12),
    (page("en", "Updated 15 March 2024", "", "12 March 2024"), MARCH_12),
    (page("en", "Last updated", "15 March 2024", "Published", "12 March 2024"), MARCH_12),
    (page("en", "12 March 2024", above=("Updated: 15/03/2024", "")), MARCH_12),
    (page("fr", "Mis à jour le 15 mars 2024", "Publié le 12 mars 2024"), MARCH_12),
    (page("es", "Actualizado: 15/03/2024", "Publicado: 12/03/2024"), MARCH_12),
    (page("de", "Zuletzt aktualisiert am 15.03.2024", "Veröffentlicht am 12.03.2024"),
     MARCH_12),
    (page("ru", "Обновлено: 15.03.2024", "Опубликовано: 12.03.2024"), MARCH_12),
    (TITLE["es"] + "\n\nActualizado: 15/03/2024\n\nMadrid, 12 de marzo de 2024.– "
     + LEDE["es"] + "\n", MARCH_12),
    # … and is taken only when the release gives no other date
    (page("en", "Last updated: 15 March 2024"), date(2024, 3, 15)),
    # a date line a few short lines on: under a title a PDF broke over lines, under a byline
    # or tags, after a section name above the title, with a two-digit year
    ("Trust Stamp\nPRESS RELEASE\nTrust Stamp secures full participant\nstatus in the United"
     " Nations Global\nCompact\nMarch 12, 2024\n" + LEDE["en"] + "\n", MARCH_12),
    (page("de", "- Energiewende", "- Klimaschutz", "", "12.03.2024"), MARCH_12),
    (page("en", "By Sarah Hinger, Staff Attorney", "12 March 2024 | 11:15 PM"), MARCH_12),
    ("Presse\n\n12.03.2024\n\n" + page("de"), MARCH_12),
    ("In the media\n\n12.03.24\n\n" + page("en"), MARCH_12),
    ("Москва\n\n" + page("ru") + "\n", None),
])
def test_the_date_of_a_release_head(text: str, expected: date | None) -> None:
    assert extract_text(text).date == expected


def test_a_label_above_its_date_is_no_part_of_the_story() -> None:
    found = extract_text(f"{TITLE['en']}\n\nPublished\n12 March 2024\n\nThe bridge is open.\n")
    assert found.date == MARCH_12
    assert found.body == found.lede == "The bridge is open."


def test_these_languages_need_no_dateparser() -> None:
    """dateparser costs about a second to import: the languages releases come in are read
    by the module's own patterns, and dateparser stays the last resort."""
    code = ("import sys\nfrom bot.sources.extract import extract_text\n"
            "from tests.sources.test_dates import LEDE, TITLE, page\n"
            "heads = [('Publié le', '12 mars 2024'), ('Москва, 12 марта 2024 г.',),"
            " ('Madrid, 12 de marzo de 2024.–',), ('Berlin, 12. März 2024',)]\n"
            "for lang, head in zip(('fr', 'ru', 'es', 'de'), heads):\n"
            "    assert extract_text(page(lang, *head)).date is not None, lang\n"
            "print('dateparser' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-03-12", date(2026, 3, 12)),
    ("12.03.2026", date(2026, 3, 12)),
    ("2026-03-12T00:00:00", datetime(2026, 3, 12, tzinfo=ZoneInfo("Asia/Dhaka"))),
    ("2026-03-12T09:30:00Z", datetime(2026, 3, 12, 9, 30, tzinfo=UTC)),
])
def test_a_stamp_without_a_time_is_a_day(raw: str, expected: date) -> None:
    found = parse_stamp(raw, ZoneInfo("Asia/Dhaka"))
    assert found == expected
    assert type(found) is type(expected)


@pytest.mark.parametrize(("stamp", "day", "instant"), [
    ("<updated>2026-03-12</updated>", date(2026, 3, 12), datetime(2026, 3, 12, 5, tzinfo=UTC)),
    ("<pubDate>12 de marzo de 2026</pubDate>", date(2026, 3, 12),
     datetime(2026, 3, 12, 5, tzinfo=UTC)),
    ("<pubDate>Thu, 12 Mar 2026 23:30:00 -0500</pubDate>", None,
     datetime(2026, 3, 13, 4, 30, tzinfo=UTC)),
])
def test_a_feed_date_without_a_time_is_kept_as_its_day(stamp: str, day: date | None,
                                                       instant: datetime) -> None:
    body = rss([{"title": "Puente", "link": "https://www.example.org/p", "_raw": stamp}])
    [release] = feed.parse("site", body, url="https://www.example.org/feed",
                           tz=ZoneInfo("America/Bogota"))
    assert release.published_day == day
    assert release.published_at == instant


HTML = ("<html><head><meta property='article:published_time' content='{stamp}'></head><body>"
        "<h1>Fair opens in the old harbour</h1><p>The cross-border fair opened its doors in"
        " the old harbour on Wednesday.</p></body></html>")


@pytest.mark.parametrize(("name", "content", "day", "instant"), [
    ("a.md", "---\ntitle: Fair opens\ndate: 2026-03-12\n---\nThe fair opened today.\n",
     date(2026, 3, 12), datetime(2026, 3, 11, 18, tzinfo=UTC)),
    ("b.md", "---\ntitle: Fair opens\ndate: '12 March 2026'\n---\nThe fair opened today.\n",
     date(2026, 3, 12), datetime(2026, 3, 11, 18, tzinfo=UTC)),
    ("c.md", "---\ntitle: Fair opens\ndate: 2026-03-12 09:30\n---\nThe fair opened today.\n",
     None, datetime(2026, 3, 12, 3, 30, tzinfo=UTC)),
    ("d.txt", "Fair opens in the old harbour\n\nDhaka, 12 March 2026\n\n" + LEDE["en"],
     date(2026, 3, 12), datetime(2026, 3, 11, 18, tzinfo=UTC)),
    ("e.html", HTML.format(stamp="2026-03-12"), date(2026, 3, 12),
     datetime(2026, 3, 11, 18, tzinfo=UTC)),
    ("f.html", HTML.format(stamp="2026-03-12T10:30:00+01:00"), None,
     datetime(2026, 3, 12, 9, 30, tzinfo=UTC)),
])
def test_a_folder_date_without_a_time_is_kept_as_its_day(
        tmp_path: Path, name: str, content: str, day: date | None, instant: datetime) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    release = read_release_file(path, source="press", key=name, tz=ZoneInfo("Asia/Dhaka"))
    assert (release.published_day, release.published_at) == (day, instant)
