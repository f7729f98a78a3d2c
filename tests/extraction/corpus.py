"""The corpus of real press releases and how a reading of one is scored, field by field.

Each case in `cases*.toml` names a file under `corpus/` (a pasted web page, a PDF's text,
a real PDF or Word file, an HTML page, Markdown from a site's repository, or a feed) and
what a careful person reads in it: title, date, lede, own link, a few short markers of the
organisation's footer (which must appear nowhere in what is posted — field `footer` — and,
except on web pages, whose site footer is page furniture, in the release's notes — field
`notes`) and of the story's last paragraph (which must stay in the body). Where the text came
from is recorded with it (`source`, `found`).

The reading goes through the same entry points a folder or feed source uses
(`read_release_file`, `feed.parse`), so the score is the score of what pressbot posts.
`bench/extraction.py` prints the table; `tests/extraction/test_corpus.py` holds a floor.
"""

from __future__ import annotations

import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date
from pathlib import Path

from bot.errors import PressbotError
from bot.htmltext import html_to_text
from bot.models import Release

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
SHAPES = ("pasted-web", "pdf-text", "pdf", "docx", "html", "markdown", "feed")
FIELDS = ("title", "date", "lede", "link", "footer", "notes", "story")
# a web page's site footer is page furniture: kept out of the post, it need not be in notes
PAGE_SHAPES = ("pasted-web", "html")


@dataclass(frozen=True)
class Case:
    id: str
    file: str
    shape: str
    language: str
    organisation: str
    source: str
    title: str
    lede: str
    date: date | None = None
    link: str | None = None
    notes: tuple[str, ...] = ()
    story: tuple[str, ...] = ()
    entry: str | None = None  # for a feed: the entry's id or link; else its first entry

    @property
    def path(self) -> Path:
        return CORPUS / self.file


@dataclass
class Outcome:
    case: Case
    release: Release | None
    error: str | None = None
    right: dict[str, bool] = field(default_factory=dict)  # only the fields the case scores
    why: dict[str, str] = field(default_factory=dict)


def load_cases(folder: Path = HERE) -> list[Case]:
    """Every case of every `cases*.toml`; a malformed case fails loudly, naming it."""
    cases: list[Case] = []
    for data_file in sorted(folder.glob("cases*.toml")):
        with data_file.open("rb") as fh:
            data = tomllib.load(fh)
        for raw in data.get("case", []):
            where = f"{data_file.name}: case {raw.get('id', '?')!r}"
            missing = {"id", "file", "shape", "language", "organisation", "source", "title",
                       "lede"} - raw.keys()
            if missing:
                raise ValueError(f"{where}: missing {sorted(missing)}")
            if raw["shape"] not in SHAPES:
                raise ValueError(f"{where}: shape {raw['shape']!r} is not one of {SHAPES}")
            raw_date = raw.get("date") or None
            cases.append(Case(
                id=raw["id"], file=raw["file"], shape=raw["shape"], language=raw["language"],
                organisation=raw["organisation"], source=raw["source"], title=raw["title"],
                lede=raw["lede"],
                date=raw_date if isinstance(raw_date, date) or raw_date is None
                else date.fromisoformat(raw_date),
                link=raw.get("link") or None, notes=tuple(raw.get("notes", ())),
                story=tuple(raw.get("story", ())), entry=raw.get("entry")))
            if not cases[-1].path.is_file():
                raise ValueError(f"{where}: no file {cases[-1].path}")
    ids = [c.id for c in cases]
    if len(ids) != len(set(ids)):
        raise ValueError("case ids repeat: " + ", ".join(sorted({i for i in ids
                                                                  if ids.count(i) > 1})))
    return cases


def norm(text: str) -> str:
    """Text as compared: NFKC, case-folded, one kind of quote and dash, single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    for old, new in (("“", '"'), ("”", '"'), ("„", '"'), ("«", '"'), ("»", '"'), ("‘", "'"),
                     ("’", "'"), ("–", "-"), ("—", "-"), ("\u00a0", " ")):
        text = text.replace(old, new)
    return " ".join(text.split()).strip(" .")


def read_case(case: Case) -> Release:
    """The release pressbot reads from the case's file, as a folder or feed source would."""
    if case.shape == "feed":
        from bot.sources import feed

        found = feed.parse("corpus", case.path.read_bytes(), url=case.source)
        if not found:
            raise LookupError("the feed gave no entries")
        if case.entry is None:
            return found[0]
        for release in found:
            if case.entry in (release.key, release.url):
                return release
        raise LookupError(f"no entry {case.entry!r} in the feed")
    from bot.sources.files import read_release_file

    return read_release_file(case.path, source="corpus", key=case.file, tz=UTC)


def score(case: Case) -> Outcome:
    """Read one case and judge each field it names."""
    try:
        release = read_case(case)
    except (PressbotError, LookupError) as exc:
        out = Outcome(case, None, error=str(exc))
        for name in _fields_of(case):
            out.right[name] = False
            out.why[name] = "refused: " + str(exc)[:200]
        return out
    out = Outcome(case, release)
    body = release.body + "\n" + (html_to_text(release.body_html) if release.body_html else "")
    posted = norm(release.summary + "\n" + body)

    def judge(name: str, ok: bool, why: str) -> None:
        out.right[name] = ok
        if not ok:
            out.why[name] = why

    judge("title", norm(release.title) == norm(case.title), f"got {release.title!r}")
    if case.date is not None:
        # a day written without a time is kept as written; a time is read in UTC here
        day = getattr(release, "published_day", None)  # None on code before the day was kept
        got = day or (release.published_at.astimezone(UTC).date()
                      if release.published_at else None)
        judge("date", got == case.date, f"got {got}")
    summary = norm(release.summary)
    judge("lede", bool(summary) and summary.startswith(norm(case.lede))
          and not any(norm(m) in summary for m in case.notes),
          f"got {release.summary[:160]!r}")
    if case.link is not None:
        judge("link", (release.url or "").rstrip("/") == case.link.rstrip("/"),
              f"got {release.url!r}")
    if case.notes:
        leaked = [m for m in case.notes if norm(m) in posted]
        judge("footer", not leaked, f"in the post: {leaked}")
        if case.shape not in PAGE_SHAPES:
            unfound = [m for m in case.notes if norm(m) not in norm(release.notes)]
            judge("notes", not unfound, f"not in the notes: {unfound}")
    if case.story:
        lost = [m for m in case.story if norm(m) not in norm(release.body)]
        judge("story", not lost, f"lost from the body: {lost}")
    return out


def _fields_of(case: Case) -> list[str]:
    names = ["title", "lede"]
    if case.date is not None:
        names.append("date")
    if case.link is not None:
        names.append("link")
    if case.notes:
        names.append("footer")
        if case.shape not in PAGE_SHAPES:
            names.append("notes")
    if case.story:
        names.append("story")
    return names


def table(outcomes: Iterable[Outcome]) -> dict[str, tuple[int, int]]:
    """Per field: (right, scored)."""
    counts = {name: [0, 0] for name in FIELDS}
    for out in outcomes:
        for name, ok in out.right.items():
            counts[name][0] += ok
            counts[name][1] += 1
    return {name: (r, n) for name, (r, n) in counts.items()}
