"""PDF and Word releases: the tests make the files themselves (fpdf2 writes the PDFs,
python-docx the Word files, Pillow the pictures) and read them back through pressbot —
nothing downloaded. Each must preview with the right title, date and lede, without its
banner, letterhead or footers, with its picture as the release image."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image as PILImage

from bot.errors import ExtractError
from bot.sources.files import read_release_file
from tests.conftest import need
from tests.helpers import CHANNELS, NEWSLETTER_OUTBOX, make_workspace

TITLE = "Ferry service across the lake resumes after ten years"
LEDE = ("Lakeside, 14 April 2026 - The passenger ferry between Lakeside and Port Maren will "
        "sail again from 1 May, ten years after the last boat was withdrawn.")
STORY = [
    LEDE,
    "The new electric ferry carries 120 passengers and 40 bicycles and crosses the lake in "
    "25 minutes. It will sail every hour from 7 am to 9 pm between May and October.",
    "Tickets cost the same as a bus ride, and regional travel passes are valid on board.",
]
FOOTER = [
    ("About the Lake Region Transport Association", "heading"),
    ("The association brings together the twelve municipalities around the lake and runs "
     "their shared bus and boat services.", "text"),
    ("This project is co-funded by the European Union.", "text"),
    ("Media contact: Jana Novak", "text"),
    ("Tel. +386 1 000 0000", "text"),
    ("press@lakeregion.example", "text"),
]
NOTES = ["About the Lake Region", "twelve municipalities", "co-funded by the European Union",
         "Jana Novak", "+386 1 000 0000", "press@lakeregion.example"]
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def picture(path: Path, size: tuple[int, int], color: str) -> Path:
    PILImage.new("RGB", size, color).save(path)
    return path


def make_pdf(path: Path, *, with_image: Path | None = None, text: bool = True) -> Path:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_font("helvetica", size=11)

    def header() -> None:  # a running head on every page, as press offices print them
        pdf.set_font("helvetica", size=8)
        pdf.cell(0, 5, "Lake Region Transport Association        PRESS RELEASE")
        pdf.ln(10)
        pdf.set_font("helvetica", size=11)

    pdf.add_page()
    if not text:
        assert with_image is not None
        pdf.image(str(with_image), x=10, y=10, w=180)
        pdf.output(str(path))
        return path
    header()
    pdf.cell(0, 6, "PRESS RELEASE")
    pdf.ln(8)
    pdf.cell(0, 6, "For immediate release")
    pdf.ln(12)
    pdf.set_font("helvetica", style="B", size=14)
    pdf.multi_cell(0, 7, TITLE)
    pdf.ln(4)
    pdf.set_font("helvetica", size=11)
    if with_image:
        pdf.image(str(with_image), w=120)
        pdf.ln(4)
    for para in STORY:
        pdf.multi_cell(0, 5, para)  # wrapped by fpdf2: hard line breaks in the text layer
        pdf.ln(3)
    pdf.multi_cell(0, 5, "Read more: https://www.lakeregion.example/news/ferry-resumes")
    pdf.ln(3)
    pdf.cell(0, 5, "Page 1 of 2")
    pdf.add_page()
    header()
    pdf.cell(0, 5, "-ENDS-")
    pdf.ln(8)
    for line, _kind in FOOTER:
        pdf.multi_cell(0, 5, line)
        pdf.ln(2)
    pdf.output(str(path))
    return path


URL = "https://www.lakeregion.example/news/ferry-resumes"


def make_docx(path: Path, *, image: Path | None = None, alt: str = "", url: str = URL) -> Path:
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    doc = docx.Document()
    # the letterhead lives in the page header: not part of the release
    doc.sections[0].header.paragraphs[0].text = "Lake Region Transport Association - PRESS"
    doc.add_paragraph("PRESS RELEASE")
    doc.add_paragraph(TITLE, style="Title")
    if image:
        doc.add_picture(str(image), width=Cm(12))
        if alt:
            doc.inline_shapes[0]._inline.docPr.set("descr", alt)
    for para in STORY:
        doc.add_paragraph(para)
    for item in ("Hourly crossings from 7 am to 9 pm", "Bicycles travel free"):
        doc.add_paragraph(item, style="List Bullet")
    # "Read more" as a Word hyperlink: the address is only in the relationship
    para = doc.add_paragraph()
    rid = para.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "Read more"
    run.append(text)
    link.append(run)
    para._p.append(link)
    doc.add_paragraph("###")
    for line, kind in FOOTER:
        doc.add_paragraph(line, style="Heading 2" if kind == "heading" else None)
    doc.save(str(path))
    return path


def check_release(path: Path) -> None:
    r = read_release_file(path, source="press", key=path.name)
    assert r.title == TITLE
    assert r.published_at is not None and r.published_at.date().isoformat() == "2026-04-14"
    assert r.summary == LEDE
    assert r.url == "https://www.lakeregion.example/news/ferry-resumes"
    assert not r.url_derived
    for para in STORY:
        assert para in r.body
    for phrase in [*NOTES, "PRESS RELEASE", "immediate release", "Page 1", "ENDS", "###"]:
        assert phrase not in r.body and phrase not in r.summary, phrase
    for phrase in NOTES:
        assert phrase in r.notes, phrase


@pytest.mark.parametrize("maker", [make_pdf, make_docx])
def test_pdf_and_word_releases_preview_right(tmp_path: Path, maker: object) -> None:
    path = maker(tmp_path / "ferry.doc")  # type: ignore[operator]
    path = path.rename(path.with_suffix(".pdf" if maker is make_pdf else ".docx"))
    ws = make_workspace(tmp_path / "ws", channels=CHANNELS + NEWSLETTER_OUTBOX)
    out = ws.run("preview", str(path), "--json")
    assert out.exit_code == 0, out.output
    items = json.loads(out.output)
    assert {i["channel"] for i in items} == {"mastodon", "facebook", "newsletter"}
    for item in items:
        assert item["release"]["title"] == TITLE
        # the document's "14 April 2026" is that day where the office is (the bot's zone)
        published = datetime.fromisoformat(item["release"]["published"])
        assert published.astimezone(ZoneInfo("Europe/Brussels")).date().isoformat() == \
            "2026-04-14"
        assert item["release"]["summary"] == LEDE
        shown = " ".join(str(item.get(k) or "") for k in ("text", "subject", "html"))
        for phrase in [*NOTES, "PRESS RELEASE", "Page 1 of 2", "ENDS"]:
            assert phrase not in shown, (item["channel"], phrase)


def test_a_pdf_release(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "ferry.pdf")
    check_release(path)
    assert read_release_file(path, source="p", key="k").images == []


def test_a_word_release(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "ferry.docx")
    check_release(path)
    r = read_release_file(path, source="p", key="k")
    assert "- Hourly crossings from 7 am to 9 pm\n- Bicycles travel free" in r.body
    assert "Lake Region Transport Association - PRESS" not in r.body + r.notes


def test_pictures_become_the_release_image(tmp_path: Path) -> None:
    photo = picture(tmp_path / "photo.png", (800, 500), "navy")
    logo = picture(tmp_path / "logo.png", (60, 30), "red")
    (tmp_path / "content").mkdir()
    word = make_docx(tmp_path / "content" / "ferry.docx", image=photo,
                     alt="The new electric ferry at the pier")
    r = read_release_file(word, source="p", key="k")
    [image] = r.images
    assert image.alt == "The new electric ferry at the pier"
    saved = Path(image.url)
    assert saved.parent.name == ".pressbot-images" and saved.parent.parent == word.parent
    with PILImage.open(saved) as im:
        assert im.size == (800, 500)
    # no alt text in the document: the image comes with a warning, never an invented alt
    bare = make_docx(tmp_path / "content" / "bare.docx", image=photo)
    ws = make_workspace(tmp_path / "ws", channels=CHANNELS)
    out = ws.run("preview", str(bare), "--json")
    assert out.exit_code == 0, out.output
    items = json.loads(out.output)
    assert items and all(any("alt text" in w for w in i["warnings"]) for i in items)
    # a PDF's pictures: the photo, not the logo
    pdf = make_pdf(tmp_path / "content" / "ferry.pdf", with_image=photo)
    pdf_logo = make_pdf(tmp_path / "content" / "logo.pdf", with_image=logo)
    [image] = read_release_file(pdf, source="p", key="k").images
    with PILImage.open(image.url) as im:
        assert im.size == (800, 500)
    assert image.alt == ""
    assert read_release_file(pdf_logo, source="p", key="k").images == []


def test_a_scanned_pdf_is_refused_clearly(tmp_path: Path) -> None:
    scan = picture(tmp_path / "scan.png", (1240, 1754), "white")
    path = make_pdf(tmp_path / "scan.pdf", with_image=scan, text=False)
    with pytest.raises(ExtractError) as err:
        read_release_file(path, source="p", key="k")
    assert str(err.value).startswith(f"{path}: ")
    assert "no text layer" in str(err.value) and "OCR" in str(err.value)


def test_a_folder_of_documents_is_fetched_and_reports_the_scan(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, channels=CHANNELS + NEWSLETTER_OUTBOX)
    make_pdf(ws.content / "ferry.pdf")
    make_docx(ws.content / "ferry-word.docx", url=URL + "-word")
    make_pdf(ws.content / "scan.pdf", text=False,
             with_image=picture(tmp_path / "scan.png", (1240, 1754), "white"))
    result = ws.run("fetch")
    assert "scan.pdf" in result.output and "no text layer" in result.output
    posts = json.loads(ws.run("queue", "--json").output)
    assert len(posts) == 2 * 3
    for post in posts:
        assert post["release"]["title"] == TITLE
        for phrase in NOTES:
            assert phrase not in post["text"], phrase


def test_a_russian_pdf(tmp_path: Path) -> None:
    from fpdf import FPDF

    need(FONT.exists(), f"{FONT} (Debian: fonts-dejavu-core) to write Cyrillic into a PDF")
    pdf = FPDF()
    pdf.add_font("dejavu", fname=str(FONT))
    pdf.set_font("dejavu", size=11)
    pdf.add_page()
    for line in ["ПРЕСС-РЕЛИЗ", "", "В Вологде открылась новая детская библиотека", "",
                 "Вологда, 10 марта 2026 года – В центре Вологды открылась детская "
                 "библиотека с читальным залом на 60 мест и игровой комнатой.",
                 "", "О фонде", "Фонд работает с 2009 года.", "Контакты для СМИ:",
                 "Тел.: +7 (8172) 00-00-00"]:
        pdf.multi_cell(0, 6, line or " ", new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "ru.pdf"
    pdf.output(str(path))
    r = read_release_file(path, source="p", key="k")
    assert r.title == "В Вологде открылась новая детская библиотека"
    assert r.published_at is not None and r.published_at.date().isoformat() == "2026-03-10"
    assert "Фонд работает" in r.notes and "Фонд работает" not in r.body


def test_reading_a_markdown_file_does_not_import_the_document_libraries(
        tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "r.md").write_text("---\ntitle: A short release\n---\nBody text here.\n")
    code = ("import sys, pathlib; from bot.sources.files import read_release_file as r; "
            f"r(pathlib.Path({str(tmp_path / 'r.md')!r}), source='p', key='k'); "
            "print(sorted(m for m in ('pypdf', 'docx', 'lxml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)   # a net against a hang, not a measure
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
