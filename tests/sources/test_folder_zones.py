"""A folder release's dates without a zone are wall-clock times where the comms office is.

`embargo: 2026-05-04 09:00` written in Brussels means 09:00 in Brussels (07:00 UTC in
summer), not 09:00 UTC: reading it as UTC would lift an embargo two hours late, or a
release dated by its day alone would land on the day before. The source's own
`timezone` wins over the bot's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from bot.store.db import Store
from bot.store.schema import releases
from tests.helpers import make_workspace

NEW_YORK = """
[sources.ny]
type = "folder"
path = "{root}/ny"
backlog = "all"
timezone = "America/New_York"
base_url = "https://www.example.org/ny/"
"""

MD = ("---\ntitle: Embargoed call for projects\ndate: 2026-05-04\n"
      "embargo: 2026-05-04 09:00\nurl: https://www.example.org/news/call\n---\n\n"
      "The programme opens its call for projects on Monday morning.\n")
TXT = ("Bridges reopen along the river\n\n12 March 2026\n\nThe two towns reopened the"
       " footbridge that joins them on Thursday, a year after the flood.\n")
HTML = ("<html><head><title>Fair opens</title><meta property='article:published_time'"
        " content='2026-07-01T10:30:00'></head><body><h1>Fair opens in the old harbour</h1>"
        "<p>The cross-border fair opened its doors in the old harbour on Wednesday.</p>"
        "</body></html>")


def stored(url: str) -> dict[tuple[str, str], tuple[datetime | None, datetime | None]]:
    """(source, key) → (published_at, embargo_at) as the store holds them."""
    with Store(url).begin() as conn:
        rows = conn.execute(sa.select(releases.c.source, releases.c.key,
                                      releases.c.published_at, releases.c.embargo_at)).all()
    return {(source, key): (published, embargo) for source, key, published, embargo in rows}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_zone_less_dates_are_read_in_the_source_or_bot_zone(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, extra=NEW_YORK.format(root=tmp_path))  # bot: Brussels
    (tmp_path / "ny").mkdir()
    for folder in (ws.content, tmp_path / "ny"):
        (folder / "call.md").write_text(MD, encoding="utf-8")
        (folder / "bridges.txt").write_text(TXT, encoding="utf-8")
        (folder / "fair.html").write_text(HTML, encoding="utf-8")
    assert ws.run("fetch").exit_code == 0
    got = stored(f"sqlite:///{tmp_path}/pressbot.db")
    assert len(got) == 6, got
    # Brussels is UTC+2 in May and July, UTC+1 on 12 March; New York is UTC-4 all three
    assert got["press", "call.md"] == (utc(2026, 5, 3, 22), utc(2026, 5, 4, 7))
    assert got["ny", "call.md"] == (utc(2026, 5, 4, 4), utc(2026, 5, 4, 13))
    assert got["press", "bridges.txt"][0] == utc(2026, 3, 11, 23)
    assert got["ny", "bridges.txt"][0] == utc(2026, 3, 12, 4)
    assert got["press", "fair.html"][0] == utc(2026, 7, 1, 8, 30)
    assert got["ny", "fair.html"][0] == utc(2026, 7, 1, 14, 30)


def test_an_explicit_offset_is_kept_and_preview_reads_as_fetch(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)  # bot: Brussels
    file = ws.content / "call.md"
    file.write_text(MD.replace("date: 2026-05-04", "date: 2026-05-04T09:00:00+05:30"),
                    encoding="utf-8")
    result = ws.run("preview", str(file), "--json")
    assert result.exit_code == 0, result.output
    published = {item["release"]["published"] for item in json.loads(result.stdout)}
    assert published == {"2026-05-04T03:30:00+00:00"}
    # a file outside every folder source is read as a new source would; dated by its day
    # alone, it is that day in every zone, not the instant of its midnight in Brussels
    loose = tmp_path / "loose.md"
    loose.write_text(MD, encoding="utf-8")
    result = ws.run("preview", str(loose), "--json")
    assert {i["release"]["published"] for i in json.loads(result.stdout)} == {"2026-05-04"}
