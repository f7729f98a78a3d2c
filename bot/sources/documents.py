"""PDF and Word files → text (and their best picture) for the same cleaning as `.txt`.

Press offices send releases as PDFs and `.docx` files. Each is read with a well-kept
library, imported only when such a file is read (`pressbot preview` of a `.md` stays
fast):

- PDF: pypdf — pure Python (no system library to install), maintained, reads the text
  layer page by page and the embedded images. `bot.sources.pdf_layout` reads where each
  line stands and how large it is set: the title is the large type on page one, running
  headers and footers are dropped, gaps between lines mark paragraphs. Lines keep their
  hard breaks, which `bot.sources.extract` rejoins as for pasted PDF text; when the layout
  cannot be read, the plain extraction is used as it is.
  A PDF without a text layer (a scan) is refused with a clear error: no OCR here.
- Word: python-docx — the standard reader of Office Open XML: paragraphs in order with
  their style (so the `Title` paragraph is the title and list items stay items), link
  targets, and inline pictures with the alt text Word stores (`descr`). Page headers and
  footers (letterheads) are not part of the body and are left out.

Both read hostile files too: `bot.sources.doclimits` bounds what one may cost (size,
pages, CPU time, a Word file's parts), and every error the libraries raise on a broken
file becomes an `ExtractError` that names the file.

The largest picture (at least `MIN_SIDE` pixels wide and high: logos and icons are not
a release's image) is written beside the document, in a hidden `.pressbot-images` folder
the folder source does not scan, so channels read it like any local image.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import ExtractError
from bot.sources.doclimits import Budget, checked_docx, pdf_limits, pdf_page_count, read_bytes

log = logging.getLogger("pressbot.documents")

__all__ = ["DOCUMENT_SUFFIXES", "Document", "read_document"]

DOCUMENT_SUFFIXES = (".pdf", ".docx")
MIN_SIDE = 200
IMAGE_DIR = ".pressbot-images"
_MIN_TEXT = 40  # fewer letters than this in a whole PDF: no text layer


@dataclass
class Document:
    text: str
    title: str | None = None
    links: list[str] = field(default_factory=list)
    image: Path | None = None
    image_alt: str = ""
    marked: bool = False  # paragraphs apart by blank lines where the page leaves a gap
    deck: str | None = None  # a PDF's standfirst under the title, set in larger type


@dataclass
class _Picture:
    data: bytes
    ext: str
    area: int
    alt: str = ""


def _fail(path: Path, message: str) -> ExtractError:
    return ExtractError(f"{path}: {message}")


def read_document(path: Path) -> Document:
    """The text, title, links and image of a `.pdf` or `.docx` file; ExtractError when
    it cannot be read or holds no text."""
    data = read_bytes(path)
    if path.suffix.lower() == ".pdf":
        doc, pictures = _read_pdf(path, data)
    else:
        doc, pictures = _read_docx(path, data)
    best = max((p for p in pictures if p.area >= MIN_SIDE * MIN_SIDE), key=lambda p: p.area,
               default=None)
    if best is not None:
        doc.image = _save_picture(path, best)
        doc.image_alt = best.alt
    return doc


def _save_picture(path: Path, picture: _Picture) -> Path:
    digest = hashlib.sha256(picture.data).hexdigest()[:16]
    folder = path.parent / IMAGE_DIR
    target = folder / f"{path.stem}-{digest}.{picture.ext}"
    if not target.exists():
        folder.mkdir(exist_ok=True)
        partial = target.with_suffix(target.suffix + ".part")
        partial.write_bytes(picture.data)
        partial.replace(target)  # never a half-written image for a channel to read
    return target.resolve()


def _read_pdf(path: Path, data: bytes) -> tuple[Document, list[_Picture]]:
    if not data.startswith(b"%PDF-"):
        raise _fail(path, "is not a PDF file (it does not start with %PDF-)")
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

    from bot.sources.pdf_layout import LayoutReader

    layout = LayoutReader()
    try:
        with pdf_limits():
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise _fail(path, "the PDF is password-protected; save an unprotected copy")
            total = pdf_page_count(path, reader)
            budget = Budget(path)
            texts: list[str] = []
            links: list[str] = []
            pictures: list[_Picture] = []
            for number, page in enumerate(reader.pages):
                budget.check(number, total)
                texts.append(layout.read_page(page))
                links.extend(_pdf_links(page))
                pictures.extend(_pdf_pictures(page))
    except ExtractError:
        raise
    except LimitReachedError as exc:
        raise _fail(path, f"the PDF goes beyond what pressbot reads (pypdf's limit: "
                          f"{str(exc)[:160]})") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, OSError) as exc:
        raise _fail(path, f"the PDF cannot be read ({type(exc).__name__}: "
                          f"{str(exc)[:120]})") from None
    text = "\n\f\n".join(texts)
    if sum(c.isalpha() for c in text) < _MIN_TEXT:
        raise _fail(path, "the PDF has no text layer (a scanned page?): run text "
                          "recognition (OCR) on it, or save its text as a .txt file")
    links = list(dict.fromkeys(links))
    laid = layout.result()
    # a layout that dropped (nearly) everything as running heads — every page alike — is
    # no reading of the release: the plain text is
    if laid is not None and sum(c.isalpha() for c in laid.text) >= _MIN_TEXT:
        return Document(text=laid.text, title=laid.title, links=links, marked=True,
                        deck=laid.deck), pictures
    return Document(text=text, links=links), pictures


def _pdf_links(page: Any) -> list[str]:
    found: list[str] = []
    for annot in page.get("/Annots") or []:
        try:
            action = annot.get_object().get("/A") or {}
            uri = action.get("/URI")
        except (AttributeError, KeyError, TypeError):
            continue
        if isinstance(uri, str) and uri.lower().startswith(("http://", "https://")):
            found.append(uri)
    return found


def _pdf_pictures(page: Any) -> list[_Picture]:
    pictures: list[_Picture] = []
    try:
        images = list(page.images)
    except Exception:  # an odd image must not cost the release its text
        return []
    for image in images:
        try:
            width, height = image.image.size if image.image is not None else (0, 0)
            ext = (Path(image.name).suffix.lstrip(".") or "png").lower()
            pictures.append(_Picture(image.data, ext, width * height))
        except Exception as exc:  # an image pypdf cannot decode is not the release's image
            log.info("skipped a PDF image pypdf cannot read: %s", type(exc).__name__)
    return pictures


_DOCX_BULLET = re.compile(r"list|bullet|number", re.I)


def _read_docx(path: Path, data: bytes) -> tuple[Document, list[_Picture]]:
    import zipfile

    from docx import Document as open_docx
    from docx.opc.exceptions import PackageNotFoundError
    from lxml.etree import LxmlError

    try:
        doc = open_docx(io.BytesIO(checked_docx(path, data)))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise _fail(path, f"is not a Word .docx file ({type(exc).__name__}); save it as "
                          ".docx from Word or LibreOffice") from None
    except LxmlError as exc:
        raise _fail(path, f"the Word file's XML is broken ({type(exc).__name__}: "
                          f"{str(exc)[:160]}); open it in Word or LibreOffice and save it "
                          "again") from None
    title: str | None = None
    lines: list[str] = []
    links: list[str] = []
    for para in doc.paragraphs:
        style = (para.style.name if para.style is not None else "") or ""
        text = _docx_text(para, links)
        if not text.strip():
            lines.append("")
            continue
        if style == "Title" and title is None:
            title = " ".join(text.split())
        if _DOCX_BULLET.search(style):
            text = "- " + text
        # a Word paragraph is a paragraph: blank lines keep them apart for the cleaning
        lines.extend([text, ""])
    text = "\n".join(lines)
    if sum(c.isalpha() for c in text) < _MIN_TEXT:
        raise _fail(path, "the document holds no text")
    return Document(text=text, title=title, links=list(dict.fromkeys(links))), \
        _docx_pictures(doc)


def _docx_text(para: Any, links: list[str]) -> str:
    """A paragraph's text with its links' addresses: `text (url)`, or `Read more: url`
    when the link is the whole paragraph."""
    parts: list[str] = []
    for item in para.iter_inner_content():
        url = getattr(item, "url", None)
        text = item.text or ""
        if url and url.lower().startswith(("http://", "https://")):
            links.append(url)
            if text.strip() in ("", url):
                text = url
            elif text.strip() == para.text.strip():
                text = f"{text.strip()}: {url}"
            else:
                text = f"{text} ({url})"
        parts.append(text)
    return "".join(parts)


def _docx_pictures(doc: Any) -> list[_Picture]:
    from docx.oxml.ns import qn

    pictures: list[_Picture] = []
    for shape in doc.inline_shapes:
        try:
            inline = shape._inline
            alt = (inline.docPr.get("descr") or inline.docPr.get("title") or "").strip()
            blip = inline.xpath(".//a:blip")[0]
            part = doc.part.related_parts[blip.get(qn("r:embed"))]
            ext = part.partname.ext.lower() or "png"
            # EMU → pixels at 96 dpi, as Word lays the picture out
            area = int(shape.width / 9525) * int(shape.height / 9525)
            pictures.append(_Picture(part.blob, ext, area, " ".join(alt.split())))
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            continue
    return pictures
