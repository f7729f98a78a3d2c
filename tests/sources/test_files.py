"""Reading one content file (.md with front matter, .txt, .html) into a release."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.errors import ExtractError
from bot.models import Image, Release
from bot.paths import data_dir
from bot.sources.files import markdown_to_text, read_release_file
from tests.helpers import make_workspace

EXAMPLES = data_dir() / "examples" / "content"
BASE = "https://www.drava-karawanken.example/news/"


def read(path: Path, **kwargs: str | None) -> Release:
    return read_release_file(path, source="press", key=path.name, **kwargs)  # type: ignore[arg-type]


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


EXAMPLE_CASES = [
    ("2026-03-12-third-call-green-mobility.md",
     "Third call for projects: €14 million for green mobility across the Drava and the"
     " Karawanken", datetime(2026, 3, 12, 8, 0, tzinfo=UTC)),
    ("2031-05-annual-conference-maribor.md",
     "Annual conference 2031 in Maribor puts cross-border health services first",
     datetime(2031, 5, 5, tzinfo=UTC)),
    ("2026-02-small-project-fund-results.txt",
     "Small project fund: 23 people-to-people projects selected in the second round",
     datetime(2026, 2, 24, tzinfo=UTC)),
    ("2026-04-cross-border-health-pdf.txt",
     "Villach and Slovenj Gradec hospitals start a video interpreting service for patients"
     " from across the border", datetime(2026, 4, 14, tzinfo=UTC)),
    ("2026-05-citizens-dialogue-villach.html",
     "Citizens' dialogue in Villach: what should the border region look like in 2035?",
     datetime(2026, 5, 20, 8, 0, tzinfo=UTC)),
]


def test_every_example_is_covered() -> None:
    assert sorted(p.name for p in EXAMPLES.iterdir() if p.is_file()) == sorted(
        c[0] for c in EXAMPLE_CASES)


@pytest.mark.parametrize(("name", "title", "published"), EXAMPLE_CASES,
                         ids=[c[0] for c in EXAMPLE_CASES])
def test_examples_parse(name: str, title: str, published: datetime) -> None:
    release = read(EXAMPLES / name, base_url=BASE)
    assert release.title == title
    assert release.published_at == published
    assert release.summary
    assert release.body.startswith(release.summary) or name.endswith((".md", ".html"))
    assert 800 < len(release.body) < 6000
    for footer in ("Press contact", "Media contact", "Tel.", "+43 463", "Seeweg 14",
                   "co-funded by the European Union", "About the programme", "ENDS", "###"):
        assert footer not in release.body, footer


def test_markdown_example_front_matter() -> None:
    release = read(EXAMPLES / "2026-03-12-third-call-green-mobility.md", base_url=BASE,
                   default_language="de")
    assert release.url == "https://www.drava-karawanken.example/news/third-call-green-mobility"
    assert release.tags == ["calls", "green mobility", "cross-border transport"]
    assert release.language == "en"
    assert release.channels == ["mastodon", "facebook", "newsletter"]
    assert release.images == [Image(
        url=BASE + "images/third-call-bus-stop.jpg",
        alt="A regional bus waits at a stop in a border village, with the Karawanken range"
            " behind it.")]
    assert release.overrides["mastodon"]["text"].startswith("Third call open!")
    assert release.overrides["newsletter"] == {
        "subject": "Third call open: €14 million for green mobility"}
    assert release.summary.startswith("The Interreg Drava-Karawanken programme opens")
    assert "**" not in release.body
    assert "#" not in release.body
    assert "call page (https://www.drava-karawanken.example/calls/third-call)" in release.body
    assert "- shared timetables and a single ticket" in release.body
    assert release.links == ["https://apply.drava-karawanken.example/calls/3",
                             "https://www.drava-karawanken.example/calls/third-call"]
    assert release.embargo_at is None


def test_markdown_example_with_embargo() -> None:
    release = read(EXAMPLES / "2031-05-annual-conference-maribor.md", base_url=BASE)
    assert release.embargo_at == datetime(2031, 5, 5, 7, 0, tzinfo=UTC)
    assert release.embargo_at > datetime.now(UTC)
    assert release.url == "https://www.drava-karawanken.example/news/annual-conference-2031"
    assert release.tags == ["conference", "health", "Maribor"]
    assert set(release.overrides) == {"facebook", "newsletter"}
    assert "EMBARGOED" not in release.body
    assert release.channels is None


def test_relative_image_without_base_url_is_kept_as_given() -> None:
    release = read(EXAMPLES / "2026-03-12-third-call-green-mobility.md")
    assert release.images[0].url == "images/third-call-bus-stop.jpg"


def test_html_example_uses_open_graph() -> None:
    release = read(EXAMPLES / "2026-05-citizens-dialogue-villach.html")
    assert release.url == "https://www.drava-karawanken.example/news/citizens-dialogue-villach"
    # the lede is the story's own first paragraph, not the site's og:description teaser
    assert release.summary.startswith("Villach, 20 May 2026 – On 6 June 2026, 120 residents")
    assert release.images[0].url.endswith("/media/citizens-dialogue-villach.jpg")
    assert release.images[0].alt.startswith("Residents sit at round tables")
    assert release.tags == ["citizens' dialogue", "post-2027"]
    assert release.language == "en"
    assert release.links == ["https://www.drava-karawanken.example/post-2027/ideas"]
    assert release.body.startswith("Villach, 20 May 2026 – On 6 June 2026")
    for junk in ("Home", "Share", "Mastodon", "Related news", "window.dataLayer", "Photo:"):
        assert junk not in release.body, junk


@pytest.mark.parametrize(("name", "url"), [
    ("2026-02-small-project-fund-results.txt", BASE.rstrip("/") + "/2026-02-small-project"
     "-fund-results"),
    ("2026-04-cross-border-health-pdf.txt", BASE.rstrip("/") + "/2026-04-cross-border-health-pdf"),
])
def test_text_examples_url_from_base_url(name: str, url: str) -> None:
    assert read(EXAMPLES / name, base_url=BASE).url == url
    assert read(EXAMPLES / name).url is None


# --- Markdown ---------------------------------------------------------------------------

@pytest.mark.parametrize(("md", "text"), [
    ("# Title\n\nBody text.", "Title\n\nBody text."),
    ("## Sub heading ##\ntext", "Sub heading\n\ntext"),
    ("Title\n=====\n\nBody", "Title\n\nBody"),
    ("**bold** and __also__, *em* and _em_, not snake_case_name", "bold and also, em and em,"
     " not snake_case_name"),
    ("See [the call](https://x.example/call) now.", "See the call (https://x.example/call) now."),
    ("[https://x.example](https://x.example)", "https://x.example"),
    ("[x.example/a](https://x.example/a)", "https://x.example/a"),
    ("Write to [us](mailto:press@x.example).", "Write to us (press@x.example)."),
    ("Go to <https://x.example/a>.", "Go to https://x.example/a."),
    ("![A photo](img/a.jpg)\n\nText ![inline](b.png) here", "Text here"),
    ("* one\n* two\n+ three\n1. four", "- one\n- two\n- three\n1. four"),
    ("a hard-wrapped\nparagraph joins\n\nnext", "a hard-wrapped paragraph joins\n\nnext"),
    ("line with break  \nnext line", "line with break\nnext line"),
    ("> quoted\n> text", "quoted text"),
    ("Use `code` here", "Use code here"),
    ("before\n\n---\n\nafter", "before\n\nafter"),
    ("```\nraw **stays**\n```", "raw **stays**"),
])
def test_markdown_to_text(md: str, text: str) -> None:
    assert markdown_to_text(md) == text


def test_markdown_title_falls_back_to_heading_then_text(tmp_path: Path) -> None:
    heading = write(tmp_path, "a.md", """
        ---
        date: 2026-03-12
        ---
        Intro line before the heading.

        # Heading title here

        The first real paragraph of the release is long enough to be the lede.
        """)
    release = read(heading)
    assert release.title == "Heading title here"
    assert "Heading title here" not in release.body
    assert release.summary == ("The first real paragraph of the release is long enough to be"
                               " the lede.")

    plain = write(tmp_path, "b.md", """
        Title on the first line

        The first real paragraph of the release is long enough to be the lede.
        """)
    assert read(plain).title == "Title on the first line"
    assert read(plain).published_at is None


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-03-12", datetime(2026, 3, 12, tzinfo=UTC)),
    ("2026-03-12 09:30:00", datetime(2026, 3, 12, 9, 30, tzinfo=UTC)),
    ("2026-03-12T09:30:00+02:00", datetime(2026, 3, 12, 7, 30, tzinfo=UTC)),
    ('"2026-03-12T09:30:00Z"', datetime(2026, 3, 12, 9, 30, tzinfo=UTC)),
    ('"12 March 2026"', datetime(2026, 3, 12, tzinfo=UTC)),
    ('"12.03.2026"', datetime(2026, 3, 12, tzinfo=UTC)),
])
def test_front_matter_dates(tmp_path: Path, value: str, expected: datetime) -> None:
    path = write(tmp_path, "r.md", f"---\ntitle: A title here\ndate: {value}\n"
                                   f"embargo: {value}\n---\nBody text of the release here.\n")
    release = read(path)
    assert release.published_at == expected
    assert release.embargo_at == expected
    assert release.published_at.tzinfo is UTC  # type: ignore[union-attr]


def test_front_matter_with_tab_indented_comments_and_blank_lines(tmp_path: Path) -> None:
    """YAML 1.2 lets a comment or blank line start with a tab (a site's generator reads it;
    PyYAML refuses it): such a file is read, and a literal block keeps its own `#` lines."""
    path = write(tmp_path, "r.md", "---\ntitle: A title here\n\t# the date, day first\n"
                                   "date: 2025-01-28\t# a trailing comment\n\t\n"
                                   "summary: |\n  # not a comment in a block\n  Deck.\n"
                                   "---\nBody text of the release here.\n")
    release = read(path)
    assert release.title == "A title here"
    assert release.published_at == datetime(2025, 1, 28, tzinfo=UTC)
    assert release.summary.startswith("# not a comment in a block")


@pytest.mark.parametrize(("line", "tags", "channels"), [
    ("tags: [a, b, a]\nchannels: [mastodon]", ["a", "b"], ["mastodon"]),
    ("tags: 'a, #b , c'\nchannels: mastodon, newsletter", ["a", "b", "c"],
     ["mastodon", "newsletter"]),
    ("tags: solo", ["solo"], None),
    ("tags:", [], None),
])
def test_front_matter_lists(tmp_path: Path, line: str, tags: list[str],
                            channels: list[str] | None) -> None:
    path = write(tmp_path, "r.md", f"---\ntitle: A title here\n{line}\n---\nBody text.\n")
    release = read(path)
    assert release.tags == tags
    assert release.channels == channels


def test_front_matter_overrides_and_images(tmp_path: Path) -> None:
    path = write(tmp_path, "r.md", """
        ---
        title: A title here
        url: /news/a-title
        image: /media/a.jpg
        image_alt: Alt text
        mastodon: {text: "Short post"}
        newsletter:
          subject: Subject line
          text: Longer text
        unrelated: {colour: blue}
        extra: just a string
        ---
        Body text of the release, long enough to be a paragraph of its own.

        ![Inline picture](img/b.jpg)
        """)
    release = read(path, base_url="https://x.example/site/")
    assert release.overrides == {"mastodon": {"text": "Short post"},
                                 "newsletter": {"subject": "Subject line", "text": "Longer text"}}
    assert release.url == "https://x.example/news/a-title"
    assert release.images == [Image(url="https://x.example/media/a.jpg", alt="Alt text"),
                              Image(url="https://x.example/site/img/b.jpg", alt="Inline picture")]


# --- plain text and HTML ----------------------------------------------------------------

@pytest.mark.parametrize(("extra", "url"), [
    ("Source: https://x.example/2026/03/third-call\n", "https://x.example/2026/03/third-call"),
    ("More at https://x.example/news/third-call-opens-today\n",
     "https://x.example/news/third-call-opens-today"),
    ("Apply at https://x.example/calls/apply\n", None),
])
def test_text_url_is_the_release_page_when_one_is_linked(tmp_path: Path, extra: str,
                                                         url: str | None) -> None:
    path = write(tmp_path, "r.txt", "Third call opens today\n\nThe programme opened its third"
                 " call for projects today, and partners can apply.\n" + extra)
    assert read(path).url == url


def test_html_without_h1_or_open_graph(tmp_path: Path) -> None:
    path = write(tmp_path, "r.html", """
        <html><head>
        <title>Partner forum in Graz brings 90 organisations together | Site</title></head>
        <body><p>Published: 15/01/2026</p>
        <img src="https://x.example/pixel.gif" width="1" height="1">
        <img src="img/forum.jpg" alt="Forum">
        <p>Ninety organisations from Austria and Slovenia met in Graz to look for project
        partners.</p>
        <p><a href="calls/3">Third call</a> and <a href="javascript:void(0)">nothing</a>.</p>
        </body></html>
        """)
    release = read(path, base_url="https://x.example/news/")
    assert release.title == "Partner forum in Graz brings 90 organisations together"
    assert release.published_at == datetime(2026, 1, 15, tzinfo=UTC)
    assert release.images == [Image(url="https://x.example/news/img/forum.jpg", alt="Forum")]
    assert release.links == ["https://x.example/news/calls/3"]
    assert release.summary.startswith("Ninety organisations")
    assert release.url == "https://x.example/news/r"


def test_html_with_a_broken_date_meta_uses_the_text_date(tmp_path: Path) -> None:
    path = write(tmp_path, "r.html", """
        <meta property="article:published_time" content="soon">
        <article><h1>Partner forum in Graz</h1><p>Graz, 15 January 2026 – Ninety organisations
        met in Graz to look for project partners.</p></article>
        """)
    assert read(path).published_at == datetime(2026, 1, 15, tzinfo=UTC)


@pytest.mark.parametrize(("caption", "description", "lede"), [
    # the header picture's caption is the page's own standfirst: its description, shown
    ("Ninety organisations met in Graz to look for partners for the third call. Photo: X",
     "Ninety organisations met in Graz to look for partners for the third call.",
     "Ninety organisations met in Graz"),
    # a caption that only describes the picture: the story's first paragraph is the lede
    ("The forum's opening session in the Graz town hall.",
     "Ninety organisations met in Graz to look for partners for the third call.",
     "The forum opened on Monday"),
    # a description cut short for link cards is never taken, even where a caption starts so
    ("Ninety organisations met in Graz to look for partners for the third…",
     "Ninety organisations met in Graz to look for partners for the third…",
     "The forum opened on Monday"),
])
def test_a_standfirst_set_as_the_header_caption_is_the_lede(
        tmp_path: Path, caption: str, description: str, lede: str) -> None:
    path = write(tmp_path, "r.html", f"""
        <html><head><meta property="og:description" content="{description}"></head><body>
        <h1>Partner forum in Graz</h1>
        <figure><img src="forum.jpg" alt="Forum"><figcaption>{caption}</figcaption></figure>
        <p>The forum opened on Monday with a welcome by the programme's managing authority,
        followed by speed-dating sessions between project ideas.</p>
        <p>The description may recur further down: Ninety organisations met in Graz.</p>
        </body></html>
        """)
    assert read(path).summary.startswith(lede)


# --- encodings and bad files ------------------------------------------------------------

@pytest.mark.parametrize("data", [
    "Tisková zpráva o projektu\n\nPříspěvek 1,2 mil. € pro partnery v regionu.".encode(),
    b"\xef\xbb\xbfTitle with a BOM\n\nBody text.",
    "Title in UTF-16 here\n\nBody text.".encode("utf-16"),
    "Title in Windows-1252 – €5\n\nBody text, naïve.".encode("cp1252"),
])
def test_encodings(tmp_path: Path, data: bytes) -> None:
    release = read(write(tmp_path, "r.txt", data))
    assert release.title
    assert not release.title.startswith("\ufeff")
    assert "\ufffd" not in release.title
    if "1252" in release.title:
        assert release.title == "Title in Windows-1252 – €5"


@pytest.mark.parametrize(("name", "data", "message"), [
    ("bin.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("noise.txt", bytes(range(1, 32)) * 20, "binary"),
    ("doc.txt", b"%PDF-1.7\n%\xe2\xe3", "PDF"),
    ("empty.md", b"", "empty"),
    ("blank.txt", b"  \n\n \t\n", "empty"),
    ("notitle.txt", b"PRESS RELEASE\n\nRead more\n", "no release text found"),
    ("yaml.md", b"---\ntitle: [unclosed\n---\nBody", "not valid YAML"),
    ("list.md", b"---\n- a\n- b\n---\nBody", "key: value"),
    ("open.md", b"---\ntitle: A title\nBody without the closing line", "no closing"),
    ("date.md", b"---\ntitle: A title here\ndate: next Tuesday\n---\nBody", "'date: next Tuesday'"),
    ("release.docx", b"PK\x03\x04", "is not a Word .docx file"),
    ("release.pdf", b"PDF-1.7 missing its percent", "is not a PDF file"),
    ("broken.pdf", b"%PDF-1.7\n%\xe2\xe3\n1 0 obj garbage", "the PDF"),
    ("release.odt", b"PK\x03\x04", "unsupported file type '.odt'"),
    ("README", b"text", "unsupported file type"),
])
def test_bad_files(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    path = write(tmp_path, name, data)
    with pytest.raises(ExtractError) as err:
        read(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)


def test_a_release_without_a_title_is_read_and_held_with_the_reason(tmp_path: Path) -> None:
    """Never lose a release: the best guess is its title, and its posts wait for a person
    with a warning that says why and what to do."""
    ws = make_workspace(tmp_path)
    (ws.content / "notitle.md").write_bytes(
        b"---\ndate: 2026-03-12\n---\nThis body is one long sentence that goes on and on and"
        b" never stops to give a title, with more words than any title would have in it. A"
        b" second sentence follows it.")
    assert ws.run("fetch").exit_code == 0
    queued = json.loads(ws.run("queue", "--json").output)
    mine = [p for p in queued if p["release"]["title"].startswith("This body is one long")]
    assert mine and all(p["status"] == "held" for p in mine), queued
    assert all("no title found in notitle.md" in p["last_error"] for p in mine)
    assert all("add a 'title:' line" in p["last_error"] for p in mine)


def test_unreadable_directory(tmp_path: Path) -> None:
    path = tmp_path / "folder.txt"
    path.mkdir()
    with pytest.raises(ExtractError, match=r"folder\.txt: cannot read the file \(Is a directory"):
        read(path)


def test_unreadable_broken_symlink(tmp_path: Path) -> None:
    path = tmp_path / "gone.md"
    path.symlink_to(tmp_path / "missing.md")
    with pytest.raises(ExtractError, match=r"gone\.md: cannot read the file \(No such file"):
        read(path)


def test_importing_files_stays_light() -> None:
    code = ("import sys, bot.sources.files; "
            "print(sorted(m for m in ('dateparser', 'nh3', 'yaml') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.strip() == "[]"
