"""Extraction of title, date, lede, body and links from pasted pages and PDF text."""

from __future__ import annotations

import os
import random
import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.sources.extract import (
    BOILERPLATE_MARKERS,
    extract_text,
    find_date,
    find_links,
    line_kind,
    normalise,
    parse_date_line,
    rejoin_hyphenation,
    split_paragraphs,
)

SAMPLES = Path(__file__).parent / "samples"


@pytest.mark.parametrize(("raw", "expected"), [
    ("a\r\nb\rc", "a\nb\nc"),
    ("page one\fpage two", "page one\npage two"),
    ("see <u>https://x.example</u> now", "see https://x.example now"),
    ("see <U>https://x.example", "see https://x.example"),
    ("<u>https://x.example/long-\npath</u>", "https://x.example/long-path"),
    ("nul\x00byte\x07bell", "nulbytebell"),
    ("coope\u00ad\nration", "cooperation"),
    ("non\u00a0breaking\tspace", "non breaking space"),
    ("zero\u200bwidth\ufeff", "zerowidth"),
])
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("Cross-border coope-\nration works.", "Cross-border cooperation works."),
    ("the uni-\nversities", "the universities"),
    ("in the cross-\nborder region", "in the cross-border region"),
    ("the Drava-\nKarawanken area", "the Drava-Karawanken area"),
    ("COVID-\n19 measures", "COVID-19 measures"),
    ("a long-\nterm plan", "a long-term plan"),
    ("see www.drava-\nkarawanken.example", "see www.drava-karawanken.example"),
    ("pre-financing now, and pre-\nfinancing later", "pre-financing now, and pre-financing later"),
    ("partners -\nthe two hospitals", "partners -\nthe two hospitals"),
    ("no hyphen\nhere", "no hyphen\nhere"),
    ("trailing hyphen-", "trailing hyphen-"),
])
def test_rejoin_hyphenation(raw: str, expected: str) -> None:
    assert rejoin_hyphenation(raw) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("12 March 2026", date(2026, 3, 12)),
    ("on the 12th of March, 2026 we met", date(2026, 3, 12)),
    ("1st Sept 2026", date(2026, 9, 1)),
    ("March 12, 2026", date(2026, 3, 12)),
    ("Mar. 12 2026", date(2026, 3, 12)),
    ("12.03.2026", date(2026, 3, 12)),
    ("12/03/2026", date(2026, 3, 12)),
    ("5.3.2026", date(2026, 3, 5)),
    ("03/25/2026", date(2026, 3, 25)),  # day-first is impossible here
    ("2026-03-12", date(2026, 3, 12)),
    ("2026-03-12T09:00:00+01:00", date(2026, 3, 12)),
    ("2026/03/12", date(2026, 3, 12)),
    ("on 31.02.2026 or 1 March 2026", date(2026, 3, 1)),
    ("Vienna, 9 September 2025 – today, and 1 October 2025", date(2025, 9, 9)),
    ("12. März 2026", date(2026, 3, 12)),
    ("12 de marzo de 2026", date(2026, 3, 12)),
    ("3 février 2026", date(2026, 2, 3)),
    ("3. veljače 2026", date(2026, 2, 3)),
    ("no date in here", None),
    ("in 2026", None),
    ("version 1.2.3", None),
    ("12 projects 2026", None),
    ("March 2026", None),
])
def test_find_date(text: str, expected: date | None) -> None:
    assert find_date(text) == expected


@pytest.mark.parametrize(("line", "expected"), [
    ("12 March 2026", date(2026, 3, 12)),
    ("Published: 12/03/2026", date(2026, 3, 12)),
    ("Thursday, 12 March 2026", date(2026, 3, 12)),
    ("Klagenfurt, 12 March 2026", date(2026, 3, 12)),
    ("12.03.2026 | 10:30 CET", date(2026, 3, 12)),
    ("Posted on March 18, 2026 | 10:30", date(2026, 3, 18)),
    ("Last updated: 2026-03-12", date(2026, 3, 12)),
    ("Veröffentlicht am 12. März 2026", date(2026, 3, 12)),
    ("10 March 2026 – Call for small projects opens in April", None),
    ("The call closes on 30 June 2026.", None),
    ("Title without a date", None),
    ("12 March 2026 " + "words " * 20, None),
])
def test_parse_date_line(line: str, expected: date | None) -> None:
    assert parse_date_line(line) == expected


@pytest.mark.parametrize(("line", "kind"), [
    ("PRESS RELEASE", "banner"),
    ("Press release", "banner"),
    ("PRESS INFORMATION", "banner"),
    ("For immediate release", "banner"),
    ("Press release – 12 March 2026", "banner"),
    ("EMBARGOED until 5 May 2031, 09:00 CEST", "banner"),
    ("Home > News > Calls", "breadcrumb"),
    ("You are here: Home / Press", "breadcrumb"),
    ("Read more", "stray"),
    ("Read more »", "stray"),
    ("Share", "stray"),
    ("Share this article", "stray"),
    ("Print this page", "stray"),
    ("Related news", "related"),
    ("You may also like", "related"),
    ("Page 2 of 3", "page"),
    ("- 2 -", "page"),
    ("2", "page"),
    ("###", "end"),
    ("-ENDS-", "end"),
    ("- ENDS -", "end"),
    ("– End –", "end"),
    ("About the programme", "footer"),
    ("About us", "footer"),
    ("About Interreg Drava-Karawanken", "footer"),
    ("About the programme: Interreg Drava-Karawanken supports cooperation.", "footer"),
    ("Notes to editors", "footer"),
    ("Note for editors:", "footer"),
    ("Press contact:", "footer"),
    ("Media contacts", "footer"),
    ("Contact: Lena Hribar, press@drava-karawanken.example", "footer"),
    ("For more information, please contact:", "footer"),
    ("Tel. +43 463 000 1234", "boiler"),
    ("+386 2 000 1234", "boiler"),
    ("E-mail: press@drava-karawanken.example", "boiler"),
    ("Lena Hribar, press@drava-karawanken.example", "boiler"),
    ("Seeweg 14, 9020 Klagenfurt am Wörthersee, Austria", "boiler"),
    ("Interreg Drava-Karawanken is co-funded by the European Union.", "boiler"),
    ("This project is financed by the European Regional Development Fund.", "boiler"),
    ("Follow us on Facebook and Mastodon", "boiler"),
    ("Tags: calls, mobility", "boiler"),
    ("Ref. 12/2026", "boiler"),
    ("12 March 2026", "date"),
    ("- first item", "bullet"),
    ("• first item", "bullet"),
    ("About 200 people came to the opening of the new bridge in Lavamünd.", "text"),
    ("Contact the secretariat to book a consultation.", "text"),
    ("The third call, co-funded by the European Union, offers €14 million to partnerships.",
     "text"),
    ("Send your questions to calls@drava-karawanken.example.", "text"),
    ("Press releases are sent to 400 journalists in both countries every month.", "text"),
    ("Third call for projects opens", "text"),
    ("", "blank"),
])
def test_line_kind(line: str, kind: str) -> None:
    assert line_kind(line) == kind


@pytest.mark.parametrize(("lines", "expected"), [
    # a hard-wrapped PDF paragraph is one paragraph again; a short last line ends it
    (["The nature parks on both sides of the Karawanken have founded a joint",
      "network to protect the last free-flowing mountain rivers of the region and",
      "will monitor water quality together with the universities of the region.",
      "A second sentence starts here after the paragraph ended early.",
      "",
      "Short line."],
     ["The nature parks on both sides of the Karawanken have founded a joint network to protect"
      " the last free-flowing mountain rivers of the region and will monitor water quality"
      " together with the universities of the region.",
      "A second sentence starts here after the paragraph ended early.", "Short line."]),
    # a pasted page: one paragraph per line
    (["First paragraph of a pasted page, written as one long line without any wrapping.",
      "Second paragraph of the same page."],
     ["First paragraph of a pasted page, written as one long line without any wrapping.",
      "Second paragraph of the same page."]),
    # a line that continues in lower case belongs to the one before
    (["The project partners will meet", "in Maribor on Friday."],
     ["The project partners will meet in Maribor on Friday."]),
    # junk lines never merge into text, bullets stay items
    (["Some text ends here without a stop", "Read more", "* bullet one", "• bullet two"],
     ["Some text ends here without a stop", "Read more", "- bullet one", "- bullet two"]),
    ([], []),
    (["", "  ", ""], []),
])
def test_split_paragraphs(lines: list[str], expected: list[str]) -> None:
    assert split_paragraphs(lines) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("see <u>https://x.example/a</u>.", ["https://x.example/a"]),
    ("(see https://x.example/a).", ["https://x.example/a"]),
    ("https://en.wikipedia.org/wiki/Drava_(river), a river", ["https://en.wikipedia.org/wiki/Drava_(river)"]),
    ("at www.drava-karawanken.example/calls.", ["https://www.drava-karawanken.example/calls"]),
    ("https://x.example/a and again https://x.example/a!", ["https://x.example/a"]),
    ("https://x.example/a, https://y.example/b; http://z.example/c?d=1&e=2",
     ["https://x.example/a", "https://y.example/b", "http://z.example/c?d=1&e=2"]),
    ("\u201chttps://x.example/quoted\u201d", ["https://x.example/quoted"]),
    ("mail press@www.x.example or ftp://x.example", []),
    ("https:// broken and http://nohost", []),
    ("<https://x.example/angle>", ["https://x.example/angle"]),
    ("", []),
])
def test_find_links(text: str, expected: list[str]) -> None:
    assert find_links(text) == expected


# file, title, date, lede start, in body, not in body, links
SAMPLE_CASES = [
    ("web_dotted_date.txt",
     "Lake Faak water taxi links Austrian and Slovenian shores for the summer season",
     date(2026, 3, 5), "From 1 May 2026, a solar-powered water taxi",
     ["tickets for the bus line are valid on board.", "said the project manager."],
     ["Share on Facebook", "Tweet", "Read more", "Related", "Cycle route", "Home"], []),
    ("web_iso_date.txt", "Monitoring Committee approves nine projects worth €11.3 million",
     date(2026, 1, 20), "The Monitoring Committee of the Interreg",
     ["shared services for small municipalities."],
     ["Partner search forum", "Home / News", "Contact", "Phone", "Joint Secretariat\n"],
     ["https://www.drava-karawanken.example/projects/approved-2026"]),
    ("web_us_date.txt", "Youth ambassadors wanted for the border region", date(2026, 3, 18),
     "Are you between 18 and 30", ["a travel budget and a certificate."],
     ["Share this article", "Follow us", "Unsubscribe", "Posted on"],
     ["https://www.drava-karawanken.example/youth"]),
    ("web_german.txt", "Dritter Projektaufruf für grüne Mobilität geöffnet", date(2026, 3, 12),
     "Das Interreg-Programm Drava-Karawanken hat heute", ["1,2 Millionen Euro"],
     ["Teilen", "Startseite", "Veröffentlicht"],
     ["https://www.drava-karawanken.example/de/aufruf-3"]),
    ("pdf_banner_two_line_title.txt",
     "New cross-border nature park network protects the wild rivers of the Karawanken",
     date(2026, 2, 3), "The nature parks on both sides of the Karawanken have founded a joint"
     " network to protect",
     ["dragonflies and river birds", "said the network's coordinator."],
     ["PRESS INFORMATION", "Page 1", "###", "About Interreg", "net- work", "<u>"],
     ["https://www.karawanken-rivers.example/schools"]),
    ("pdf_immediate_release.txt",
     "JOINT FIRE BRIGADE EXERCISE TESTS RESCUE IN THE KARAWANKEN TUNNEL",
     date(2026, 4, 21), "Rosenbach, 21.04.2026 – More than 200 volunteer firefighters",
     ["a language barrier between the rescue teams.", "present their findings in June."],
     ["Press release", "IMMEDIATE", "End", "Media contact", "+43"],
     ["https://www.drava-karawanken.example/projects/safe-tunnel"]),
    ("pdf_footer_heavy.txt", "Twenty schools start exchanging pupils across the border",
     date(2025, 9, 9), "Maribor, 9 September 2025 – From this school year",
     ["receives €450,000 from the Interreg Drava-Karawanken Cooperation Programme."],
     ["Press release", "ENDS", "Notes to editors", "Seeweg", "Tel.", "E-mail",
      "co-funded", "\n2\n"], []),
]


@pytest.mark.parametrize(("name", "title", "when", "lede", "present", "absent", "links"),
                         SAMPLE_CASES, ids=[c[0] for c in SAMPLE_CASES])
def test_samples(name: str, title: str, when: date, lede: str, present: list[str],
                 absent: list[str], links: list[str]) -> None:
    got = extract_text((SAMPLES / name).read_text(encoding="utf-8"))
    assert got.title == title
    assert got.date == when
    assert got.lede.startswith(lede)
    assert "\n" not in got.lede
    assert "  " not in got.lede
    assert got.body.startswith(got.lede)
    for text in present:
        assert text in got.body
    for text in absent:
        assert text not in got.body, text
    assert got.links == links


@pytest.mark.parametrize(("text", "title", "lede"), [
    ("", None, ""),
    ("   \n\n  ", None, ""),
    # no line fit to be a title: the body starts at once
    ("The programme opened its third call today, and partnerships from both countries can"
     " apply until the end of June for cleaner transport between small towns.",
     None, "The programme opened its third call today"),
    # a title that ends like a fragment, with nothing after it to complete it
    ("Programme opens its third call for\n\nPartners from both countries can apply until June"
     " for transport projects.", None, "Partners from both countries"),
    ("PRESS RELEASE\n\nOnly a title here", "Only a title here", ""),
    ("Title line here\nShort one.", "Title line here", "Short one."),
    ("PRESS RELEASE\nNo. 12/2026\n\nThird call opens\n\nThe programme opened its third call"
     " today.", "Third call opens", "The programme opened"),
    ("12 % 34 5678\n\nThe programme opened its third call today, with money for partners.",
     None, "The programme opened"),
    ("-ENDS-\nNothing before the end marker but junk", None, ""),
])
def test_edge_cases(text: str, title: str | None, lede: str) -> None:
    got = extract_text(text)
    assert got.title == title
    assert got.lede.startswith(lede)
    assert bool(got.lede) == bool(lede)


def test_known_title_replaces_detection_and_leaves_the_body() -> None:
    text = "Short subheading\n\nThe programme opened its third call today, and partners can apply."
    assert extract_text(text).title == "Short subheading"
    got = extract_text(text, known_title="Third call opens")
    assert got.title == "Third call opens"
    assert got.body == "The programme opened its third call today, and partners can apply."
    again = extract_text("Third call opens\n" + text, known_title="Third call opens")
    assert again.body == got.body


def test_footers_after_the_end_marker_are_gone_whatever_they_say() -> None:
    text = ("Title of the release\n\nThe first paragraph is long enough to count as a lede of"
            " the release.\n\n###\n\nThis paragraph looks like body text but follows the end"
            " marker, so it is a footer.")
    got = extract_text(text)
    assert "follows the end marker" not in got.body
    assert got.body == got.lede


def _marker_soup(rng: random.Random) -> str:
    pieces = ["Page 2 of 3", "###", "-ENDS-", "Read more", "Share", "Home > News",
              "Tel. +43 463 000 1234", "E-mail: a@b.example", "- 3 -", "12",
              "A normal sentence that is long enough to be part of the body text.",
              "Title of a release", "", "About us", "Related news"]
    return "\n".join(rng.choice(pieces) for _ in range(60))


def test_body_never_holds_a_marker_line() -> None:
    rng = random.Random(7)
    for _ in range(200):
        body = extract_text(_marker_soup(rng)).body
        for marker in BOILERPLATE_MARKERS:
            assert marker.search(body) is None, (marker.pattern, body)


@settings(max_examples=int(os.environ.get("PRESSBOT_FUZZ_EXAMPLES", "150")), deadline=None)
@given(st.text(max_size=2000))
@example(",0\r=")  # no real paragraph, the first a fragment: the body began above the lede
def test_never_raises_on_any_text(text: str) -> None:
    got = extract_text(text)
    assert got.body.startswith(got.lede)
    assert got.title is None or 0 < len(got.title) <= 200
    for marker in BOILERPLATE_MARKERS:
        assert marker.search(got.body) is None


@pytest.mark.parametrize("text", [
    "\x00\x01\x02" * 1000,
    bytes(range(256)).decode("latin-1") * 50,
    "<u>" * 10000,
    "-\n" * 10000,
    "https://" + "(" * 5000 + ")" * 5000,
    "12 Foo 2026\n" * 500,
])
def test_never_raises_on_junk(text: str) -> None:
    got = extract_text(text)
    assert got.body.startswith(got.lede)
    assert got.title is None or len(got.title) <= 200


@pytest.mark.parametrize("kind", ["release", "one-line", "wrapped-junk"])
def test_a_megabyte_costs_no_more_than_linear_work(kind: str) -> None:
    """A megabyte takes ~0.4 s of CPU (bench/big_inputs.py prints the figures); a step
    quadratic in the text, or a regex backtracking over it, would take hours. CPU time of
    this thread counts the work done: a busy machine slows the clock on the wall, not it."""
    sample = (SAMPLES / "pdf_footer_heavy.txt").read_text(encoding="utf-8")
    text = {
        "release": sample * (1_000_000 // len(sample)),
        "one-line": "word-" * 200_000,
        "wrapped-junk": "ab-\ncd https://x.example/( 12.03.2026 Read more\n" * 20_000,
    }[kind]
    start = time.thread_time()
    extract_text(text)
    cpu = time.thread_time() - start
    assert cpu < 10, f"{cpu:.1f} s of CPU for a megabyte"


@pytest.mark.parametrize(("line", "story"), [
    # a sentence that gives an address, in any language, with the story going on after it
    ("Send your application to award@drava-karawanken.example", True),
    ("Заявку отправляйте на адрес award@drava-karawanken.example", True),
    ("Anmeldungen bitte bis Freitag per E-Mail an forum@drava-karawanken.example", True),
    ("Las inscripciones se envían a foro@drava-karawanken.example", True),
    # contact lines are notes wherever they stand
    ("Press contact Lena Hribar press@drava-karawanken.example", False),
    ("E-mail: press@drava-karawanken.example", False),
    ("Lena Hribar, press@drava-karawanken.example, +43 463 000 1234", False),
])
def test_an_address_in_a_sentence_stays_in_the_story(line: str, story: bool) -> None:
    text = "\n\n".join([
        "Partner forum in Graz", "Graz, 15 January 2026",
        "Ninety organisations from Austria and Slovenia met in Graz on Monday to look for "
        "partners for the programme's third call for projects.",
        line,
        "The call closes on 30 April; the secretariat answers questions until the last day "
        "and reviews draft applications on request.",
    ])
    body = extract_text(text).body
    assert (line in body) is story
    assert "The call closes on 30 April" in body


@pytest.mark.parametrize("line", [
    "Das könnte Sie auch interessieren", "Verwandte Themen", "À lire aussi",
    "Noticias relacionadas", "Читайте также", "More news",
])
def test_related_lists_in_many_languages_end_the_story(line: str) -> None:
    text = "\n\n".join([
        "Partner forum in Graz",
        "Ninety organisations from Austria and Slovenia met in Graz on Monday to look for "
        "partners for the programme's third call for projects.",
        line,
        "The ministry opened a new office for rural affairs in Klagenfurt, where twelve "
        "people advise municipalities on the programme's calls.",
    ])
    assert "new office for rural affairs" not in extract_text(text).body
