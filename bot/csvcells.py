"""Cells of the CSV files pressbot writes, safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets read a cell that begins with `=`, `+`, `-`, `@`, a tab
or a carriage return as a formula: a subscriber named `=HYPERLINK(…)` would become a link
that sends the sheet's data away when clicked. Such a cell is written with an apostrophe
in front, which the spreadsheet takes as "text" and does not show. `plain` takes it off
again where pressbot reads its own file back (`subscribers import`), and an apostrophe
already in front of such a cell gets one more, so an export imports unchanged.
"""

from __future__ import annotations

import re
from typing import Any

_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def cell(value: Any) -> Any:
    """`value`, with an apostrophe in front if a spreadsheet would read it as a formula."""
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value
    return value


def plain(text: str) -> str:
    """A cell as `cell` was given it: the apostrophe that `cell` added taken off."""
    return text[1:] if text.startswith("'") and _FORMULA.match(text, 1) else text
