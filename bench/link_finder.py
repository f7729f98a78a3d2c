"""The edited email's link finder on hostile text: the backtracking pattern it replaced
against `bot.render.text_to_html` (which uses `bot.fit.find_urls`).

    .venv/bin/python bench/link_finder.py [--sizes 2000,8000,20000] [--old-up-to 20000]

Each input is "http://a", n dots and an "x" (the lookahead scans the dots again at every
step of the lazy match: quadratic), and the same with "&" and "<" after the dots. The old
pattern is run only up to `--old-up-to` characters (it needs minutes beyond); the new
finder up to the edit limit (`bot.workflow.EDIT_MAX`) and the 1 MB request body limit.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from markupsafe import escape

from bot.render import text_to_html
from bot.workflow import EDIT_MAX

OLD = re.compile(r"https?://[^\s<>\"']+?(?=[.,;:!?)\]]*(?:\s|$))")
"""The pattern of `bot.render` before: a lazy match and a lookahead over the punctuation."""


def old(line: str) -> str:
    return OLD.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', str(escape(line)))


def seconds(run: object, text: str) -> float:
    start = time.perf_counter()
    run(text)  # type: ignore[operator]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="2000,8000,20000")
    parser.add_argument("--old-up-to", type=int, default=20_000)
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")] + [EDIT_MAX, 1_000_000]
    print(f"{'dots':>9} {'tail':>4} {'old pattern s':>14} {'find_urls s':>12}")
    for n in sizes:
        for tail in ("x", "&", "<"):
            text = "http://a" + "." * n + tail
            before = f"{seconds(old, text):14.3f}" if n <= args.old_up_to else f"{'-':>14}"
            after = seconds(lambda t: text_to_html(t, links=True), text)
            print(f"{n:>9} {tail:>4} {before} {after:12.4f}")


if __name__ == "__main__":
    main()
