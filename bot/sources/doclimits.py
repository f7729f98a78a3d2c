"""What one PDF or Word file may cost pressbot to read, and the checks that keep it there.

A folder source reads whatever lands in its folder, so a file can be built to cost
without end: a `.docx` of 600 KB that inflates to 600 MB of XML, a PDF whose page tree
holds 20,000 pages. Each check here refuses such a file before the cost is paid, with
an `ExtractError` that names the file and the limit; the folder's other files go on.

- Size: a release file of more than `MAX_FILE_BYTES` is not read at all.
- Word: a `.docx` is a zip. The sizes its parts declare are checked first (each part,
  the whole, and the compression ratio: real Word XML shrinks about 10:1, a bomb
  1000:1); the parts are then inflated in small reads, which zipfile stops at the size
  each part declared, and handed to python-docx re-packed without compression:
  python-docx inflates a part in one call, and zipfile cuts such a call to the declared
  size only after inflating all of it (gigabytes, for a part that lies). No Word part
  has a DOCTYPE or declares entities, so one that does is refused before lxml sees it
  (python-docx's parser already has entity resolution off and huge trees off, and lxml
  refuses a billion laughs on its own; this gives the clear message and does not rest
  on either).
- PDF: at most `MAX_PDF_PAGES` pages (the count the page tree declares is read first,
  then the tree is walked with pypdf's own entry limit lowered to match), and at most
  `MAX_CPU_SECONDS` of CPU time, checked between pages. pypdf's own limits (inflated
  stream size, array length, nesting) do the rest, one of them lowered; its
  `LimitReachedError` is reported by name.
"""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from bot.errors import ExtractError

MB = 1024 * 1024
MAX_FILE_BYTES = 50 * MB
MAX_PDF_PAGES = 200
MAX_CPU_SECONDS = 30.0
MAX_PDF_STREAM_BYTES = 32 * MB
"""pypdf's own default is 75 MB; a Flate bomb then peaks at 190 MB, at 32 MB at 115 MB.
A page's text is far smaller; a picture larger than this (3,000 x 3,500 pixels, raw) is
skipped as the release's image, and the release keeps its text."""
MAX_PART_BYTES = 20 * MB
MAX_PACKAGE_BYTES = 60 * MB
MAX_RATIO = 100
_RATIO_FROM = MB  # small parts may shrink far more (a run of blank table cells)
_CHUNK = MB
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_CARRY = 64  # bytes kept between reads: a declaration may straddle two (UTF-32: 36 bytes)

cpu_clock: Callable[[], float] = time.thread_time
"""CPU seconds of the reading thread (other sources' threads do not count); tests swap in
a clock they move themselves."""


def _fail(path: Path, message: str) -> ExtractError:
    return ExtractError(f"{path}: {message}")


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n < 10 * MB else f"{n / MB:.0f} MB"


def read_bytes(path: Path, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The file's bytes; ExtractError when it cannot be read or is larger than `max_bytes`.

    Measured before it is read, then read a chunk at a time, so a file that grows while
    it is read is refused all the same (`read(max_bytes)` would allocate all of
    `max_bytes` up front, for a file of 2 kB)."""
    chunks: list[bytes] = []
    total = 0
    try:
        with path.open("rb") as file:
            total = os.fstat(file.fileno()).st_size
            if total <= max_bytes:
                total = 0
                while chunk := file.read(_CHUNK):
                    total += len(chunk)
                    if total > max_bytes:
                        break
                    chunks.append(chunk)
    except OSError as exc:
        raise _fail(path, f"cannot read the file ({exc.strerror or exc})") from exc
    if total > max_bytes:
        raise _fail(path, f"the file is {_size(total)} or more; pressbot reads files of at "
                          f"most {_size(max_bytes)}")
    return b"".join(chunks)


# --- PDF -----------------------------------------------------------------------------

def pdf_limits() -> AbstractContextManager[Any]:
    """pypdf's limits for one document, two of them lowered: the page tree walk is bounded
    near the page cap (a tree of 200 pages has far fewer than four entries a page), and a
    Flate stream inflates to at most `MAX_PDF_STREAM_BYTES`."""
    from pypdf import apply_configuration

    return apply_configuration(page_tree_maximum_entries=4 * MAX_PDF_PAGES,
                               zlib_maximum_output_length=MAX_PDF_STREAM_BYTES)


def pdf_page_count(path: Path, reader: Any) -> int:
    """The PDF's number of pages; ExtractError when there are more than `MAX_PDF_PAGES`.

    The count the page tree declares is read before the tree is walked; a tree that
    declares fewer pages than it holds stops at pypdf's (lowered) entry limit."""
    from pypdf.errors import LimitReachedError

    pages = reader.root_object.get("/Pages")
    declared = pages.get_object().get("/Count") if pages is not None else None
    if isinstance(declared, int) and declared > MAX_PDF_PAGES:
        raise _too_many_pages(path, f"{declared}")
    try:
        count = len(reader.pages)
    except LimitReachedError as exc:
        raise _too_many_pages(path, f"more than {MAX_PDF_PAGES}", exc) from None
    if count > MAX_PDF_PAGES:
        raise _too_many_pages(path, f"{count}")
    return count


def _too_many_pages(path: Path, count: str, why: Exception | None = None) -> ExtractError:
    detail = f" (pypdf: {why})" if why else ""
    return _fail(path, f"the PDF has {count} pages{detail}; pressbot reads at most "
                       f"{MAX_PDF_PAGES}: split it, or save the release's pages on their own")


class Budget:
    """The CPU time one document may take, checked between pages: the page being read is
    finished, the next one is not begun."""

    def __init__(self, path: Path, seconds: float = MAX_CPU_SECONDS) -> None:
        self._path, self._seconds, self._started = path, seconds, cpu_clock()

    def check(self, done: int, total: int) -> None:
        spent = cpu_clock() - self._started
        if spent > self._seconds:
            raise _fail(self._path, f"reading the PDF took {spent:.0f} s of CPU time for "
                                    f"{done} of its {total} pages; pressbot spends at most "
                                    f"{self._seconds:g} s on a document")


# --- Word ----------------------------------------------------------------------------

def checked_docx(path: Path, data: bytes) -> bytes:
    """The Word package re-packed, uncompressed, from parts read within the limits;
    ExtractError when a part or the whole is too large, too compressed, encrypted,
    compressed other than Word does, or declares XML entities.

    zipfile.BadZipFile (not a zip, or a part whose checksum does not match) is left
    to the caller, which says the file is not a Word file."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as package, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as stored:
        parts = package.infolist()
        _check_declared(path, parts)
        for info in parts:
            # a picture may be an SVG with a DOCTYPE of its own; python-docx keeps
            # pictures as bytes, and a part named .svg that it does parse still meets its
            # parser with entities off
            scan = not info.filename.lower().endswith(".svg")
            stored.writestr(zipfile.ZipInfo(info.filename, info.date_time),
                            _read_part(path, package, info, scan=scan))
    return out.getvalue()


def _check_declared(path: Path, parts: list[zipfile.ZipInfo]) -> None:
    """Refuse on the sizes the zip declares, before anything is inflated."""
    total = 0
    for info in parts:
        name = info.filename
        if info.flag_bits & 0x1:
            raise _fail(path, "the Word file is password-protected; save an unprotected copy")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _fail(path, f"the Word file's part {name} is compressed with method "
                              f"{info.compress_type}, which Word does not use; save it again "
                              "from Word or LibreOffice")
        if info.file_size > MAX_PART_BYTES:
            raise _fail(path, f"the Word file's part {name} is {_size(info.file_size)} "
                              f"uncompressed; pressbot reads parts of at most "
                              f"{_size(MAX_PART_BYTES)}")
        if info.file_size > _RATIO_FROM and info.file_size > MAX_RATIO * info.compress_size:
            ratio = info.file_size // max(info.compress_size, 1)
            raise _fail(path, f"the Word file's part {name} is compressed {ratio}:1 (a zip "
                              f"bomb?); pressbot reads parts compressed at most "
                              f"{MAX_RATIO}:1")
        total += info.file_size
    if total > MAX_PACKAGE_BYTES:
        raise _fail(path, f"the Word file is {_size(total)} uncompressed; pressbot reads "
                          f"Word files of at most {_size(MAX_PACKAGE_BYTES)}")


def _read_part(path: Path, package: zipfile.ZipFile, info: zipfile.ZipInfo, *,
               scan: bool) -> bytes:
    """One part, inflated a chunk at a time: zipfile stops at the size the part declared
    and checks its CRC there, so a part that inflates to more than it declared is cut
    there (and fails its checksum, unless built to match) at no more cost. With
    `scan`, a DOCTYPE or entity declaration refuses the file."""
    chunks: list[bytes] = []
    carry = b""
    with package.open(info) as part:
        while chunk := part.read(_CHUNK):
            window = (carry + chunk).replace(b"\x00", b"")  # UTF-16/32 around ASCII markup
            if scan and _DECLARATION.search(window):
                raise _fail(path, f"the Word file's part {info.filename} declares an XML "
                                  "DOCTYPE or entities, which Word never writes; refused "
                                  "(entity expansion guard)")
            carry = chunk[-_CARRY:]
            chunks.append(chunk)
    return b"".join(chunks)
