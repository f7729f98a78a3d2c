"""PDF releases read by their layout: the title is the large type on page one, running
headers, footers and page numbers are no part of the story, and gaps between lines are
paragraph breaks. Each PDF is made here with fpdf2 the way office templates set them
(Word draws the page footer before the text, so it is the page's first line of text),
and read through `read_release_file`, as the folder source reads it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.sources.files import read_release_file
from tests.conftest import need

ORG = "Lake Region Transport Association"
ADDRESS = f"{ORG} · Harbour Street 1 · 4000 Lakeside"
STORY = [  # each paragraph's lines as the PDF wraps them
    ["The passenger ferry between Lakeside and Port Maren will sail again from 1 May, ten",
     "years after the last boat on the route was withdrawn and the old pier was closed down."],
    ["The new electric ferry carries 120 passengers and 40 bicycles and crosses the lake in",
     "25 minutes, every hour from 7 am to 9 pm between the start of May and the end of October."],
    ["Tickets cost the same as a bus ride, and regional travel passes are valid on board. The",
     "association expects 150,000 crossings in the first season, and more once the cycle path",
     "along the northern shore opens next spring and links the ferry to the railway station."],
    ["The municipalities around the lake will share the running costs for the first five years."],
]
PARAGRAPHS = [" ".join(lines) for lines in STORY]
LEDE = PARAGRAPHS[0]
FOOTER = [f"About the {ORG}",
          "The association brings together the twelve municipalities around the lake.",
          "Media contact: Jana Novak", "press@lakeregion.example"]
DATE = "Lakeside, 14 April 2026"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
PT = 25.4 / 72  # millimetres in a point


class Sheet:
    """An A4 release page by page: optional running header and footer lines (drawn
    before the page's text, as Word does), then blocks of lines in a given type size."""

    def __init__(self, *, head: list[str] = (), foot: list[str] = (),  # type: ignore[assignment]
                 family: str = "helvetica") -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4")
        self.pdf.set_auto_page_break(False)
        self.pdf.set_margins(20, 20)
        if family == "dejavu":
            self.pdf.add_font("dejavu", fname=str(FONT))
            self.pdf.add_font("dejavu", style="B", fname=str(FONT))
        self.family, self.head, self.foot = family, list(head), list(foot)

    def page(self) -> None:
        pdf = self.pdf
        pdf.add_page()
        pdf.set_font(self.family, size=8)
        for n, line in enumerate(self.foot):
            pdf.set_xy(20, 297 - 16 + 4 * n)
            pdf.cell(0, 4, line.replace("{page}", str(pdf.page)))
        for n, line in enumerate(self.head):
            pdf.set_xy(20, 8 + 4 * n)
            pdf.cell(0, 4, line.replace("{page}", str(pdf.page)))
        pdf.set_xy(20, 24)

    def lines(self, lines: list[str], size: float, *, bold: bool = False,
              after: float = 4) -> None:
        """Lines set solid (leading 1.2 × size), then `after` millimetres of space."""
        self.pdf.set_font(self.family, style="B" if bold else "", size=size)
        for line in lines:
            self.pdf.cell(0, 1.2 * size * PT, line, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(after)

    def story(self, paragraphs: list[list[str]], *, break_after: tuple[int, int] | None = None
              ) -> None:
        """Body paragraphs in 11 pt; `break_after=(p, l)` starts a new page after line `l`
        of paragraph `p`, in the middle of it."""
        for p, lines in enumerate(paragraphs):
            if break_after is not None and break_after[0] == p:
                self.lines(lines[:break_after[1] + 1], 11, after=0)
                self.page()
                self.lines(lines[break_after[1] + 1:], 11)
            else:
                self.lines(lines, 11)

    @contextmanager
    def sideways(self) -> Iterator[None]:
        with self.pdf.rotation(90, x=105, y=148):
            yield

    def save(self, path: Path) -> Path:
        self.pdf.output(str(path))
        return path


def release(path: Path, sheet: Sheet, *, title: list[str], size: float = 20,
            above: list[tuple[str, float]] = (), date: str | None = DATE,  # type: ignore[assignment]
            break_after: tuple[int, int] | None = None) -> Path:
    sheet.page()
    for text, text_size in above:
        sheet.lines([text], text_size, bold=text_size > 14)
    sheet.lines(title, size, bold=True, after=2)
    if date:
        sheet.lines([date], 11, after=6)
    sheet.story(STORY, break_after=break_after)
    sheet.lines(["-ENDS-"], 11)
    for line in FOOTER:
        sheet.lines([line], 11, after=2)
    return sheet.save(path)


def check(path: Path, title: str, *, never: list[str]) -> None:
    r = read_release_file(path, source="press", key=path.name)
    assert r.title == title
    assert r.published_at is not None and r.published_at.date().isoformat() == "2026-04-14"
    assert r.summary == LEDE
    assert r.body.split("\n\n") == PARAGRAPHS  # the paragraphs the gaps show, whole
    for phrase in never:
        assert phrase not in r.body and phrase not in r.title, phrase
    assert "Jana Novak" in r.notes


def test_a_running_footer_with_the_organisations_name_is_not_the_title(tmp_path: Path) -> None:
    sheet = Sheet(foot=[ADDRESS, "Page {page} of 2"])
    title = "Ferry service across the lake resumes after ten years"
    path = release(tmp_path / "footer.pdf", sheet, title=[title], break_after=(2, 0))
    check(path, title, never=[ORG, "Harbour Street", "Page 1", "Page 2"])
    assert "Harbour Street" not in read_release_file(path, source="p", key="k").notes


@pytest.mark.parametrize("lines", [
    ["Lakeside and Port Maren agree", "to run electric ferries across",
     "the lake every hour from May", "until the end of October"],
    ["Lakeside and Port Maren agree", "to run electric ferries on a sustain-",
     "able route across the lake every", "hour from the start of May", "until the end of October"],
])
def test_a_title_over_four_or_five_lines_keeps_every_line(tmp_path: Path, lines: list[str]
                                                          ) -> None:
    path = release(tmp_path / "long.pdf", Sheet(), title=lines, size=24)
    title = " ".join(" ".join(lines).replace("sustain- able", "sustainable").split())
    check(path, title, never=["October "])


def test_a_date_line_under_a_title_in_title_case(tmp_path: Path) -> None:
    lines = ["Ferry Service Across the Lake", "Resumes After Ten Years"]
    path = release(tmp_path / "dated.pdf", Sheet(), title=lines)
    check(path, "Ferry Service Across the Lake Resumes After Ten Years", never=["14 April"])


@pytest.mark.parametrize("banner", [["PRESS RELEASE"], []])
def test_a_letterhead_is_not_the_title(tmp_path: Path, banner: list[str]) -> None:
    # the letterhead is set larger than the title: its place above the banner, or the
    # name's return in the "About …" heading, says it is the sender, not the news
    title = "Ferry service across the lake resumes after ten years"
    path = release(tmp_path / "letterhead.pdf", Sheet(), title=[title],
                   above=[(ORG.upper(), 26), *[(line, 12) for line in banner]])
    check(path, title, never=[ORG.upper(), "PRESS RELEASE"])


def test_a_running_header_over_a_two_page_story(tmp_path: Path) -> None:
    head = f"{ORG} | News from the lake"
    sheet = Sheet(head=[head], foot=["{page}/2"])
    title = "Ferry service across the lake resumes after ten years"
    path = release(tmp_path / "two-pages.pdf", sheet, title=[title], break_after=(2, 1))
    # the third paragraph runs on over the page break: one paragraph, no header inside
    check(path, title, never=[head, "News from the lake", "1/2", "2/2"])


def test_a_russian_release_set_in_dejavu(tmp_path: Path) -> None:
    need(FONT.exists(), f"{FONT} (Debian: fonts-dejavu-core) to write Cyrillic into a PDF")
    sheet = Sheet(family="dejavu", foot=["Фонд «Книжный дом» · Вологда, ул. Мира, 1",
                                         "Страница {page}"])
    sheet.page()
    sheet.lines(["ПРЕСС-РЕЛИЗ"], 11, after=6)
    sheet.lines(["Детская библиотека «Радуга»", "открылась в центре Вологды"], 20, bold=True,
                after=2)
    sheet.lines(["Вологда, 10 марта 2026"], 11, after=6)
    lede = ["В центре Вологды открылась детская библиотека с читальным залом на шестьдесят",
            "мест, игровой комнатой и залом для занятий с родителями и малышами до трёх лет."]
    second = ["Библиотека работает каждый день, кроме понедельника, с десяти утра до семи",
              "вечера; записаться в неё можно бесплатно по паспорту одного из родителей."]
    sheet.lines(lede, 11)
    sheet.lines(second, 11)
    sheet.lines(["О фонде"], 11, after=2)
    sheet.lines(["Фонд «Книжный дом» работает с 2009 года."], 11, after=2)
    sheet.lines(["Контакты для СМИ:", "Тел.: +7 (8172) 00-00-00"], 11)
    path = sheet.save(tmp_path / "ru.pdf")
    r = read_release_file(path, source="p", key="k")
    assert r.title == "Детская библиотека «Радуга» открылась в центре Вологды"
    assert r.published_at is not None and r.published_at.date().isoformat() == "2026-03-10"
    assert r.summary == " ".join(lede)
    assert r.body.split("\n\n") == [" ".join(lede), " ".join(second)]
    assert "работает с 2009 года" in r.notes and "Мира" not in r.body + r.notes
    assert "Страница" not in r.body + r.notes


def test_gaps_between_lines_are_paragraph_breaks(tmp_path: Path) -> None:
    """The first paragraph's last line is as long as any: only the space under it says the
    paragraph ends there."""
    title = "Ferry service across the lake resumes after ten years"
    path = release(tmp_path / "plain.pdf", Sheet(), title=[title],
                   above=[("PRESS RELEASE", 12)])
    check(path, title, never=["PRESS RELEASE"])


def test_text_drawn_from_a_form_xobject_is_placed_on_the_page(tmp_path: Path) -> None:
    """Some PDF writers draw a page's content as a form XObject, in the form's own space:
    the text keeps its place (here: a form moved 400 pt down, drawn 400 pt up)."""
    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
    )

    lines = ["Lakeside and Port Maren agree", "to run electric ferries across",
             "the lake every hour from May", "until the end of October"]
    made = release(tmp_path / "made.pdf", Sheet(), title=lines, size=24)
    writer = PdfWriter(clone_from=made)
    page = writer.pages[0]
    form = DecodedStreamObject()
    form.set_data(b"1 0 0 1 0 -400 cm\n" + page.get_contents().get_data())
    form.update({NameObject("/Type"): NameObject("/XObject"),
                 NameObject("/Subtype"): NameObject("/Form"),
                 NameObject("/BBox"): ArrayObject(NumberObject(v) for v in (0, -400, 600, 850)),
                 NameObject("/Resources"): page["/Resources"]})
    resources = page["/Resources"].get_object()
    resources.setdefault(NameObject("/XObject"), DictionaryObject())
    resources["/XObject"][NameObject("/Fm0")] = writer._add_object(form)
    drawn = DecodedStreamObject()
    drawn.set_data(b"q 1 0 0 1 0 400 cm /Fm0 Do Q")
    page.replace_contents(drawn)
    path = tmp_path / "form.pdf"
    writer.write(path)
    check(path, " ".join(lines), never=["October "])


def test_a_pdf_with_its_story_set_sideways_is_read_as_plain_text(tmp_path: Path) -> None:
    """Turned text has no layout this reader trusts: when it holds much of the text, the
    release is read from pypdf's plain extraction, as before, rather than lose its story."""
    title = "Ferry service across the lake resumes after ten years"
    sheet = Sheet()
    sheet.page()
    sheet.lines(["PRESS RELEASE"], 11)
    sheet.lines([title], 16, bold=True)
    with sheet.sideways():
        sheet.pdf.set_xy(20, 80)
        sheet.lines([DATE], 11)
        sheet.story(STORY)
    path = sheet.save(tmp_path / "sideways.pdf")
    r = read_release_file(path, source="p", key="k")
    assert r.title == title
    assert r.published_at is not None and r.published_at.date().isoformat() == "2026-04-14"
    for line in STORY[-1]:
        assert line in r.body


def test_one_type_size_gives_no_title_and_loses_no_line(tmp_path: Path) -> None:
    from bot.sources.documents import read_document

    sheet = Sheet()
    sheet.page()
    sheet.lines(["Ferry service resumes"], 11)
    sheet.story(STORY)
    doc = read_document(sheet.save(tmp_path / "flat.pdf"))
    assert doc.title is None  # no larger type: the cleaning finds the title, as for text
    assert doc.text.split("\n") == ["Ferry service resumes", "", *STORY[0], "", *STORY[1], "",
                                     *STORY[2], "", *STORY[3]]
