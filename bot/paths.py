"""Where the data the package needs lives: templates, default config, example content.

In a wheel they are package data under `bot/_data` (hatch force-include); in a checkout
or an editable install they are the top-level folders of the repository.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path


@cache
def data_dir() -> Path:
    """The folder holding `templates/`, `config/` and `examples/`."""
    packaged = Path(__file__).parent / "_data"
    if (packaged / "templates").is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


def templates_dir() -> Path:
    return data_dir() / "templates"
