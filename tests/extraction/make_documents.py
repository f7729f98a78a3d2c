"""Rebuild the generated PDF, Word and PDF-text files of the extraction corpus.

    python tests/extraction/make_documents.py           # write every generated file
    python tests/extraction/make_documents.py --check   # exit 1 if a committed file differs

Few real press-release PDFs and Word files are public in repositories, so most documents
of the corpus are made here from the real text of a real release (one file per release
in `sources/`, with where it came from), laid out the way press offices lay them out:
letterhead line, a "PRESS RELEASE" banner, the headline in large type, the date on its
own line, body paragraphs, a running header and a "page n/N" footer on every page, and the
organisation's footer (about-us, contacts, funder or trademark notice) at the end, set
smaller. PDF body text is hyphenated the way a layout program does it (soft hyphens that
print as "-" only at a line end), so a reader has to rejoin "Ver-/hältnis". A `pdf-text`
file is what pypdf extracts from such a PDF: hard-wrapped lines, running headers and page
numbers repeated per page.

Output is deterministic (fixed creation dates, fixed zip timestamps), so `--check` can
prove the committed files are what the committed sources make.

Source format: `key: value` header lines, a blank line, then paragraphs separated by blank
lines; a line `=== footer ===` starts the organisation's footer. In a paragraph, a first
line starting `## ` is a subheading, lines starting `- ` are list items, `> ` a photo
caption (set small and italic under a grey picture box), `! ` an end mark set centred
("-ENDS-", "# # #"). Header keys: out, kind (pdf | docx | pdf-text), letterhead, banner,
running, title, subtitle, date, font (sans | serif), align (J | L), titlestyle (title |
bold, Word only), source (informational).
"""

from __future__ import annotations

import io
import re
import sys
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
SOURCES = HERE / "sources"
CORPUS = HERE / "corpus"
FONTS = Path("/usr/share/fonts/truetype/dejavu")
FIXED = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
SOFT = "\u00ad"
_VOWELS = set("aeiouyäöüéèêëáíóúàâîôûïœæ" "аеёиоуыэюяі")
_WORD = re.compile(r"[^\W\d_]{10,}")


@dataclass
class Block:
    kind: str  # para | heading | list | caption | end
    lines: list[str]


@dataclass
class Source:
    name: str
    head: dict[str, str]
    story: list[Block] = field(default_factory=list)
    footer: list[Block] = field(default_factory=list)

    def get(self, key: str, default: str = "") -> str:
        return self.head.get(key, default)


def parse(path: Path) -> Source:
    """One source file → header and blocks; a malformed file fails naming it."""
    text = path.read_text(encoding="utf-8")
    head_text, _, body = text.partition("\n\n")
    head: dict[str, str] = {}
    for line in head_text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{path}: header line without ':': {line!r}")
        head[key.strip()] = value.strip()
    for key in ("out", "kind", "title"):
        if key not in head:
            raise ValueError(f"{path}: header lacks {key!r}")
    if head["kind"] not in ("pdf", "docx", "pdf-text"):
        raise ValueError(f"{path}: kind {head['kind']!r} is not pdf, docx or pdf-text")
    src = Source(path.stem, head)
    target = src.story
    for chunk in re.split(r"\n\s*\n", body.strip()):
        lines = [ln.rstrip() for ln in chunk.strip().splitlines()]
        if lines == ["=== footer ==="]:
            target = src.footer
            continue
        if lines[0].startswith("## "):
            target.append(Block("heading", [lines[0][3:]]))
            lines = lines[1:]
            if not lines:
                continue
        if all(ln.startswith("- ") for ln in lines):
            target.append(Block("list", [ln[2:] for ln in lines]))
        elif lines[0].startswith("> "):
            target.append(Block("caption", [" ".join(ln.lstrip("> ") for ln in lines)]))
        elif lines[0].startswith("! "):
            target.append(Block("end", [lines[0][2:]]))
        else:
            target.append(Block("para", lines))
    return src


def hyphenate(text: str) -> str:
    """Soft hyphens at vowel-consonant-vowel breaks of long words, 3+ letters each side:
    not a dictionary's hyphenation, but the shape a layout program leaves at line ends."""
    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        out = [word[0]]
        for i in range(1, len(word)):
            if (3 <= i <= len(word) - 3 and word[i - 1].lower() in _VOWELS
                    and word[i].lower() not in _VOWELS and word[i + 1].lower() in _VOWELS
                    and SOFT not in out[-3:]):
                out.append(SOFT)
            out.append(word[i])
        return "".join(out)
    return _WORD.sub(one, text)


# ---------------------------------------------------------------- PDF

def _pdf_bytes(src: Source) -> bytes:
    from fpdf import FPDF

    serif = src.get("font", "sans") == "serif"
    family = "DejaVuSerif" if serif else "DejaVuSans"
    running = src.get("running")
    align = src.get("align", "J")

    class Release(FPDF):  # type: ignore[misc]
        def header(self) -> None:
            if running and self.page_no() > 1:
                self.set_font(family, "", 8)
                self.set_text_color(90, 90, 90)
                self.cell(0, 5, running, align="R", new_x="LMARGIN", new_y="NEXT")
                self.ln(4)
                self.set_text_color(0, 0, 0)

        def footer(self) -> None:
            self.set_y(-14)
            self.set_font(family, "", 8)
            self.set_text_color(90, 90, 90)
            left = src.get("letterhead") or running
            self.cell(0, 5, f"{left}", align="L")
            self.set_x(self.l_margin)
            self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="R")
            self.set_text_color(0, 0, 0)

    pdf = Release(format="A4")
    pdf.set_creation_date(FIXED)
    pdf.set_producer("make_documents.py (fpdf2)")
    pdf.set_margins(22, 18, 22)
    pdf.set_auto_page_break(True, margin=20)
    for style, suffix in (("", ""), ("B", "-Bold"), ("I", "-Oblique" if not serif else
                                                          "-Italic")):
        pdf.add_font(family, style, str(FONTS / f"{family}{suffix}.ttf"))
    pdf.alias_nb_pages()
    pdf.add_page()
    if src.get("letterhead"):
        pdf.set_font(family, "B", 13)
        pdf.set_text_color(20, 60, 120)
        pdf.cell(0, 7, src.get("letterhead"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_draw_color(20, 60, 120)
        pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
        pdf.ln(6)
        pdf.set_text_color(0, 0, 0)
    if src.get("banner"):
        pdf.set_font(family, "B", 10)
        pdf.set_fill_color(20, 60, 120)
        pdf.set_text_color(255, 255, 255)
        pdf.cell(pdf.get_string_width(src.get("banner")) + 8, 7, src.get("banner"),
                 fill=True, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
        pdf.ln(5)
    pdf.set_font(family, "B", 21)
    pdf.multi_cell(0, 9.5, src.get("title"), align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if src.get("subtitle"):
        pdf.set_font(family, "I", 12.5)
        pdf.multi_cell(0, 6.5, src.get("subtitle"), align="L", new_x="LMARGIN",
                       new_y="NEXT")
        pdf.ln(2)
    if src.get("date"):
        pdf.set_font(family, "", 10.5)
        pdf.cell(0, 6, src.get("date"), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    for block in src.story:
        _pdf_block(pdf, family, block, 10.5, align)
    if src.footer:
        pdf.ln(3)
        pdf.set_draw_color(160, 160, 160)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + 40, pdf.get_y())
        pdf.ln(3)
        for block in src.footer:
            _pdf_block(pdf, family, block, 8.5, align)
    return bytes(pdf.output())


def _pdf_block(pdf: object, family: str, block: Block, size: float, align: str) -> None:
    from fpdf import FPDF

    assert isinstance(pdf, FPDF)
    lead = size * 0.5
    if block.kind == "heading":
        pdf.set_font(family, "B", size + 1)
        pdf.multi_cell(0, lead + 1, block.lines[0], align="L", new_x="LMARGIN",
                       new_y="NEXT")
        pdf.ln(1.5)
        return
    if block.kind == "list":
        pdf.set_font(family, "", size)
        for item in block.lines:
            pdf.set_x(pdf.l_margin + 4)
            pdf.multi_cell(0, lead, "• " + hyphenate(item), align="L", new_x="LMARGIN",
                           new_y="NEXT")
        pdf.ln(2.5)
        return
    if block.kind == "caption":
        pdf.set_fill_color(200, 200, 200)
        pdf.rect(pdf.l_margin, pdf.get_y(), 90, 45, style="F")
        pdf.ln(47)
        pdf.set_font(family, "I", size - 2)
        pdf.multi_cell(110, lead - 0.5, block.lines[0], align="L", new_x="LMARGIN",
                       new_y="NEXT")
        pdf.ln(3)
        return
    if block.kind == "end":
        pdf.set_font(family, "B", size)
        pdf.cell(0, lead, block.lines[0], align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        return
    pdf.set_font(family, "", size)
    for line in block.lines:  # lines of a paragraph: hard breaks (contact blocks)
        pdf.multi_cell(0, lead, hyphenate(line), align=align if len(block.lines) == 1
                       else "L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2.5)


def pdf_text(data: bytes) -> str:
    """What a comms officer gets out of the PDF: pypdf's text, page after page."""
    from pypdf import PdfReader

    pages = [page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages]
    return "\n".join(p.rstrip("\n") for p in pages) + "\n"


# ---------------------------------------------------------------- Word

def _docx_bytes(src: Source) -> bytes:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt, RGBColor

    doc = Document()
    props = doc.core_properties
    props.created = props.modified = FIXED.replace(tzinfo=None)
    props.last_modified_by = props.author = src.get("letterhead") or "press office"
    props.revision = 1
    section = doc.sections[0]
    if src.get("letterhead"):
        head = section.header.paragraphs[0]
        run = head.add_run(src.get("letterhead"))
        run.bold = True
        run.font.color.rgb = RGBColor(20, 60, 120)
    if src.get("running"):
        section.footer.paragraphs[0].text = src.get("running")
    if src.get("banner"):
        para = doc.add_paragraph()
        run = para.add_run(src.get("banner"))
        run.bold = True
        run.font.size = Pt(10)
    if src.get("titlestyle", "title") == "title":
        doc.add_paragraph(src.get("title"), style="Title")
    else:
        run = doc.add_paragraph().add_run(src.get("title"))
        run.bold = True
        run.font.size = Pt(20)
    if src.get("subtitle"):
        para = doc.add_paragraph()
        run = para.add_run(src.get("subtitle"))
        run.italic = True
        run.font.size = Pt(13)
    if src.get("date"):
        doc.add_paragraph(src.get("date"))
    for block in src.story:
        _docx_block(doc, block, None)
    for block in src.footer:
        _docx_block(doc, block, Pt(8.5))
    for para in doc.paragraphs:
        if para.alignment is None and para.style is not None and \
                para.style.name == "Normal" and src.get("align") == "J":
            para.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    raw = io.BytesIO()
    doc.save(raw)
    return _fixed_zip(raw.getvalue())


def _docx_block(doc: object, block: Block, size: object) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    if block.kind == "heading":
        doc.add_paragraph(block.lines[0], style="Heading 2")  # type: ignore[attr-defined]
        return
    if block.kind == "list":
        for item in block.lines:
            doc.add_paragraph(item, style="List Bullet")  # type: ignore[attr-defined]
        return
    if block.kind == "caption":
        doc.add_paragraph(block.lines[0], style="Caption")  # type: ignore[attr-defined]
        return
    para = doc.add_paragraph()  # type: ignore[attr-defined]
    if block.kind == "end":
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for i, line in enumerate(block.lines):
        run = para.add_run(line)
        if size is not None:
            run.font.size = size
        if i < len(block.lines) - 1:
            run.add_break()


def _fixed_zip(data: bytes) -> bytes:
    """The same package with fixed member timestamps, so a rebuild is byte-identical."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as old, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 12, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            new.writestr(fixed, old.read(info.filename))
    return out.getvalue()


# ---------------------------------------------------------------- main

def build(src: Source) -> bytes:
    kind = src.get("kind")
    if kind == "docx":
        return _docx_bytes(src)
    data = _pdf_bytes(src)
    return data if kind == "pdf" else pdf_text(data).encode("utf-8")


def main(argv: list[str]) -> int:
    check = "--check" in argv
    differ: list[str] = []
    for path in sorted(SOURCES.glob("*.txt")):
        src = parse(path)
        data = build(src)
        target = CORPUS / src.get("out")
        if check:
            if not target.is_file() or target.read_bytes() != data:
                differ.append(str(target.relative_to(HERE)))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        print(f"{target.relative_to(HERE)}  {len(data) // 1024} KB")
    if differ:
        print("differ from their sources: " + ", ".join(differ))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
