"""Hostile PDF and Word files, built on the spot (nothing downloaded) for the tests of
`test_bad_documents.py` and the figures of `bench/bad_documents.py`.

Each builder writes as it goes, so a 300 MB zip bomb or a 200 MB Flate bomb costs the
test a few MB of memory, not the size it expands to.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

from tests.sources.test_documents import make_docx

MB = 1024 * 1024
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _docx_with(path: Path, document_xml: Iterable[bytes], *, declared: int = 0) -> Path:
    """A real Word file (made by python-docx) whose `word/document.xml` is replaced by the
    chunks given; the member is written as a stream (zip64 when `declared` is large)."""
    good = make_docx(path.with_name(path.stem + "-base.docx"))
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                out.writestr(info, src.read(info))
        member = zipfile.ZipInfo("word/document.xml")
        member.compress_type = zipfile.ZIP_DEFLATED
        with out.open(member, "w", force_zip64=declared > 1024 * MB) as w:
            for chunk in document_xml:
                w.write(chunk)
    good.unlink()
    return path


def broken_xml_docx(path: Path) -> Path:
    """A Word file whose body is cut off mid-element, as a failed upload leaves it."""
    return _docx_with(path, [f'<?xml version="1.0"?><w:document {_W}><w:body><w:p><w:r>'
                             "<w:t>The ferry sails again from".encode()])


def billion_laughs_docx(path: Path) -> Path:
    """A Word file whose body declares nested entities: ten to the ninth `lol`s."""
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">'
        for i in range(1, 10)]
    doc = (f'<?xml version="1.0"?><!DOCTYPE w:document [{"".join(entities)}]>'
           f"<w:document {_W}><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body>"
           "</w:document>")
    return _docx_with(path, [doc.encode()])


def zip_bomb_docx(path: Path, megabytes: int = 300) -> Path:
    """A Word file of well under 1 MB whose body is `megabytes` MB of one repeated letter."""
    head = f'<?xml version="1.0"?><w:document {_W}><w:body><w:p><w:r><w:t>'.encode()
    tail = b"</w:t></w:r></w:p></w:body></w:document>"
    block = b"a" * MB

    def chunks() -> Iterable[bytes]:
        yield head
        for _ in range(megabytes):
            yield block
        yield tail

    return _docx_with(path, chunks(), declared=megabytes * MB)


def write_pdf(path: Path, objects: list[bytes]) -> Path:
    """A PDF of the given objects (object n is `objects[n - 1]`, object 1 the catalog)
    with a correct cross-reference table, written byte by byte."""
    with path.open("wb") as out:
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for number, body in enumerate(objects, start=1):
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
        xref = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
        out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
        out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                  % (len(objects) + 1, xref))
    return path


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_TEXT = (b"BT /F1 11 Tf 72 720 Td (Ferry service across the lake resumes after ten years, "
         b"the association said on Tuesday.) Tj ET")


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def _page(contents: int, parent: int = 2) -> bytes:
    return (b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 4 0 R >> >> >>" % (parent, contents))


def flate_bomb_pdf(path: Path, megabytes: int = 200) -> Path:
    """A one-page PDF whose content stream inflates to `megabytes` MB of spaces."""
    packer = zlib.compressobj(9)
    packed = [packer.compress(_TEXT + b"\n")]
    block = b" " * MB
    packed += [packer.compress(block) for _ in range(megabytes)]
    packed.append(packer.flush())
    stream = _stream(b"".join(packed), b"/Filter /FlateDecode ")
    return write_pdf(path, [b"<< /Type /Catalog /Pages 2 0 R >>",
                            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                            _page(5), _FONT, stream])


def many_pages_pdf(path: Path, pages: int, *, per_node: int = 0, count: int | None = None
                   ) -> Path:
    """A PDF of `pages` pages that all show one short text (one page object, referenced
    `pages` times). `per_node` > 0 nests them: the root holds `/Pages` nodes of that many
    pages each; 0 puts them all in one flat `/Kids`. `count` is the `/Count` the root
    declares (default: the truth)."""
    declared = pages if count is None else count
    head = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", b"", _FONT, _stream(_TEXT)]
    if not per_node:
        head[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
            b" ".join([b"3 0 R"] * pages), declared)
        head[2] = _page(5)
        return write_pdf(path, head)
    nodes = [min(per_node, pages - start) for start in range(0, pages, per_node)]
    first = len(head) + 1
    head[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % (first + i) for i in range(len(nodes))), declared)
    page = first + len(nodes)
    head[2] = b"<< /Type /Catalog >>"  # unused: the page object sits after the nodes
    kids = [b"<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d >>"
            % (b" ".join([b"%d 0 R" % page] * n), n) for n in nodes]
    return write_pdf(path, [*head, *kids, _page(5, parent=first)])


def lying_part_docx(path: Path, megabytes: int = 100) -> Path:
    """A real Word file whose `word/document.xml` declares its true size and checksum but
    whose deflated data goes on with `megabytes` MB of trailing blanks: zipfile checks the
    declared size only after inflating everything a single read asks for."""
    good = make_docx(path.with_name(path.stem + "-base.docx"))
    name = "word/document.xml"
    with zipfile.ZipFile(good) as src:
        document = src.read(name)
        others = [(info, src.read(info)) for info in src.infolist() if info.filename != name]
    good.unlink()
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw deflate, as zip stores it
    block = b" " * MB
    raw = b"".join([packer.compress(document),
                    *(packer.compress(block) for _ in range(megabytes)), packer.flush()])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in others:
            out.writestr(info, data)
        out.writestr(zipfile.ZipInfo(name), raw, compress_type=zipfile.ZIP_STORED)
    # now say what zip readers are to believe: deflated, this size, this checksum
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as check:
        local = check.getinfo(name).header_offset
    central = data.index(b"PK\x01\x02")  # the first entry of the central directory
    while data[central + 46:central + 46 + len(name)] != name.encode():
        central = data.index(b"PK\x01\x02", central + 4)
    for at, method, crc, size in ((local, 8, 14, 22), (central, 10, 16, 24)):
        data[at + method:at + method + 2] = zipfile.ZIP_DEFLATED.to_bytes(2, "little")
        data[at + crc:at + crc + 4] = zlib.crc32(document).to_bytes(4, "little")
        data[at + size:at + size + 4] = len(document).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path
