"""One bad document never stops a source (issue 26).

Each hostile file is built on disk (tests/sources/bad_files.py) beside a good `.md`,
`.pdf` and `.docx` in a folder source, and `pressbot fetch` runs for real: the good
files are stored, the bad one is reported by name with the reason, and the next poll
does not read it again, unless it changed. A feed entry that cannot be read costs that
entry, not the feed.
"""

from __future__ import annotations

import json
import os
import re
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import ExtractError
from bot.health import Health
from bot.sources import doclimits
from bot.sources.files import read_release_file
from bot.store import sources as source_store
from bot.store.db import Store
from tests.fakes.feeds import FeedSite, Page, make_app, rss
from tests.fakes.server import LiveServer
from tests.helpers import CHANNELS, Workspace, make_workspace, write_release
from tests.sources import bad_files
from tests.sources.test_documents import TITLE, URL, make_docx, make_pdf

BAD: dict[str, tuple[Callable[[Path], Path], str]] = {
    "broken.docx": (bad_files.broken_xml_docx,
                    r"the Word file's XML is broken \(XMLSyntaxError: Premature end"),
    "laughs.docx": (bad_files.billion_laughs_docx,
                    r"part word/document\.xml declares an XML DOCTYPE or entities"),
    "bomb.docx": (lambda p: bad_files.zip_bomb_docx(p, megabytes=200),
                  r"part word/document\.xml is 200 MB uncompressed; pressbot reads parts of "
                  r"at most 20 MB"),
    "flate.pdf": (lambda p: bad_files.flate_bomb_pdf(p, megabytes=100),
                  r"the PDF goes beyond what pressbot reads \(pypdf's limit: Limit reached "
                  r"while decompressing"),
    "flat.pdf": (lambda p: bad_files.many_pages_pdf(p, 200_000),
                 r"the PDF goes beyond what pressbot reads \(pypdf's limit: Reached maximum "
                 r"array element count"),
    "nested.pdf": (lambda p: bad_files.many_pages_pdf(p, 1000, per_node=100),
                   r"the PDF has 1000 pages; pressbot reads at most 200"),
}


def good_folder(tmp_path: Path) -> Workspace:
    ws = make_workspace(tmp_path, channels=CHANNELS)
    write_release(ws.content, "good.md", "A good release")
    make_pdf(ws.content / "ferry.pdf")
    make_docx(ws.content / "ferry-word.docx", url=URL + "-word")
    return ws


def stored_titles(ws: Workspace) -> list[str]:
    out = ws.run("queue", "--json")
    assert out.exit_code == 0, out.output
    return sorted({p["release"]["title"] for p in json.loads(out.stdout)})


def failed_files(ws: Workspace) -> dict[str, str]:
    """The source state's record of the files that failed; /healthz shows the same."""
    store = Store(f"sqlite:///{ws.root}/pressbot.db")
    with store.begin() as conn:
        state = source_store.get(conn, "press")
    failed = {key: entry["error"] for key, entry in state.data.get("failed", {}).items()}
    _, health = Health(load_config(ws.config), store).report()
    assert health["sources"]["press"].get("failed_files", []) == list(failed.values())
    return failed


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_document_is_reported_once_and_the_rest_are_stored(tmp_path: Path,
                                                                  name: str) -> None:
    build, reason = BAD[name]
    ws = good_folder(tmp_path)
    bad = build(ws.content / name)

    first = ws.run("fetch")
    assert first.exit_code == 0, first.output
    assert "3 new" in first.output and "1 failed" in first.output, first.output
    [error] = [line for line in first.output.splitlines() if line.startswith("  ! ")]
    assert error.startswith(f"  ! {bad}: "), error
    assert re.search(reason, error), error
    assert stored_titles(ws) == sorted(["A good release", TITLE])
    assert list(failed_files(ws)) == [name]

    # unchanged: not read again, not reported again; the state still names it
    again = ws.run("fetch")
    assert again.exit_code == 0, again.output
    assert "0 failed" in again.output and "  ! " not in again.output, again.output
    assert "1 file that failed before not retried" in again.output
    assert re.search(reason, failed_files(ws)[name])

    # changed (a new mtime): read again, and reported again
    stat = bad.stat()
    os.utime(bad, (stat.st_atime, stat.st_mtime + 60))
    third = ws.run("fetch")
    assert "1 failed" in third.output and f"  ! {bad}: " in third.output, third.output


def test_a_page_tree_that_hides_its_pages_is_refused(tmp_path: Path) -> None:
    """The root says one page; the tree holds a thousand."""
    liar = bad_files.many_pages_pdf(tmp_path / "liar.pdf", 1000, per_node=100, count=1)
    with pytest.raises(ExtractError, match=rf"^{re.escape(str(liar))}: the PDF has more "
                                           r"than 200 pages \(pypdf: Maximum page tree "):
        read_release_file(liar, source="p", key="k")
    fine = bad_files.many_pages_pdf(tmp_path / "fine.pdf", 200, per_node=50)
    assert "Ferry service" in read_release_file(fine, source="p", key="k").title


def test_a_pdf_that_takes_too_long_stops_between_pages(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A clock that moves 10 s each time it is read: over 30 s after the third page."""
    ticks = iter(range(0, 1000, 10))
    monkeypatch.setattr(doclimits, "cpu_clock", lambda: float(next(ticks)))
    path = bad_files.many_pages_pdf(tmp_path / "slow.pdf", 5)
    with pytest.raises(ExtractError, match=r"slow\.pdf: reading the PDF took 40 s of CPU "
                                           r"time for 3 of its 5 pages; pressbot spends at "
                                           r"most 30 s on a document"):
        read_release_file(path, source="p", key="k")


def test_a_word_part_that_inflates_past_its_size_costs_no_more_than_its_size(
        tmp_path: Path) -> None:
    """Its deflated data runs 100 MB past the size and checksum it declares: python-docx
    alone would inflate all of it (zipfile cuts the read to the declared size after)."""
    path = bad_files.lying_part_docx(tmp_path / "lying.docx", megabytes=100)
    assert path.stat().st_size < 1024 * 1024
    read_release_file(make_docx(tmp_path / "warm.docx"), source="p", key="k")  # imports
    tracemalloc.start()
    try:
        release = read_release_file(path, source="p", key="k")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert release.title == TITLE
    assert peak < 20 * 1024 * 1024, f"{peak / 2**20:.0f} MB"


def test_an_oversized_file_is_refused_without_being_read(tmp_path: Path) -> None:
    big = tmp_path / "huge.md"
    with big.open("wb") as file:  # sparse: 11 MB on paper, nothing on disk
        file.truncate(11 * 1024 * 1024)
    with pytest.raises(ExtractError, match=r"huge\.md: the file is 11 MB or more; pressbot "
                                           r"reads files of at most 10 MB"):
        read_release_file(big, source="p", key="k")


def test_one_odd_feed_entry_costs_that_entry_only(tmp_path: Path) -> None:
    site = FeedSite()
    site.pages["/feed"] = Page(rss([
        {"title": "Partners meet in Linz", "link": "https://www.example.org/news/linz",
         "guid": "linz", "description": "Partners from six regions met."},
        # a year past 9999 once moved to UTC: no datetime holds it
        {"title": "Odd", "link": "https://www.example.org/news/odd", "guid": "odd-one",
         "pubDate": "Fri, 31 Dec 9999 23:00:00 -1200", "description": "Odd entry."},
        {"title": "Call for projects opens", "link": "https://www.example.org/news/call",
         "guid": "call", "description": "The second call opens today."},
    ]))
    with LiveServer(make_app(site)) as server:
        ws = make_workspace(tmp_path, channels=CHANNELS, extra=(
            f'\n[sources.news]\ntype = "feed"\nurl = "{server.url}/feed"\nbacklog = "all"\n'
            "allow_private = true\n"))
        out = ws.run("fetch")
    assert out.exit_code == 0, out.output
    assert re.search(r"news: 2 new, .* 1 failed", out.output), out.output
    assert re.search(rf"! {re.escape(server.url)}/feed: entry 2, 'Odd' "
                     r"\(https://www.example.org/news/odd\), cannot be read \(OverflowError: ",
                     out.output), out.output
    assert stored_titles(ws) == ["Call for projects opens", "Partners meet in Linz"]
