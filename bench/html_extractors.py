"""Today's reading of a saved release page against trafilatura's main-content extraction
(issue 24): per-field scores on the corpus's `shape = "html"` cases, side by side, the time
per page and what importing trafilatura costs.

    python bench/html_extractors.py [-v] [--tree PATH]

Every variant reads the page through `read_release_file` (what a folder source does), so
the score is the score of what pressbot would post; only the page's main text (and, when
the page's own markup gives no date, its date) is swapped:

- `today`: the text `bot.htmltext.read_page` takes (<article>, else <main>, else <body>);
- `traf-prec`, `traf`, `traf-rec`: the text of `trafilatura.extract(html,
  output_format="html", favor_precision / default / favor_recall)` read by `html_to_text`;
  the date found as today;
- `rec+date`: `traf-rec`, and trafilatura's metadata date (htmldate with its extensive
  search) when the page has no `article:published_time` or visible `<time>`.

All go into the same `extract_text` cleaning (title, date, lede, story vs footer).

`-v` lists every miss per variant. `--tree PATH` reads with the pressbot source at PATH
(e.g. `git archive main | tar -x -C /tmp/main`) for before/after figures. The import cost
is measured in fresh child processes: seconds and resident memory of `import
bot.sources.files`, then of `import htmldate` (what reading an .html file now loads), then
of `import trafilatura` on top of them (what adopting it would add).

Caveat for reading the figures: most of these pages come from trafilatura's and
htmldate's own test sets (the cases' `found` field), so both libraries are scored on pages
they were tuned on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

IMPORT_CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
def rss(field="VmRSS"):  # VmHWM: this process's peak (ru_maxrss keeps the parent's
    with open("/proc/self/status") as fh:  # across fork and exec)
        return next(int(l.split()[1]) for l in fh if l.startswith(field)) / 1024
out = {"python_mb": rss()}
t = time.perf_counter(); import bot.sources.files
out["files_s"], out["files_mb"] = time.perf_counter() - t, rss()
t = time.perf_counter(); import htmldate, lxml.html
out["htmldate_s"], out["htmldate_mb"] = time.perf_counter() - t, rss()
out["htmldate_peak_mb"] = rss("VmHWM")
t = time.perf_counter(); import trafilatura
out["traf_s"], out["traf_mb"] = time.perf_counter() - t, rss()
out["peak_mb"] = rss("VmHWM")
print(json.dumps(out))
"""


def import_cost(tree: Path, runs: int = 3) -> dict[str, float]:
    """Median over `runs` fresh interpreters (the page cache warm after the first)."""
    got = []
    for _ in range(runs + 1):
        out = subprocess.run([sys.executable, "-c", IMPORT_CHILD, str(tree)], check=True,
                             capture_output=True, text=True)
        got.append(json.loads(out.stdout))
    got = got[1:]  # the first run warms the disk cache
    return {k: statistics.median(g[k] for g in got) for k in got[0]}


def trafilatura_reader(read_page: Callable[[str], Any], html_to_text: Callable[[str], str],
                       *, its_date: bool = False, **options: bool) -> Callable[[str], Any]:
    """`read_page` with its text from trafilatura instead (today's when trafilatura finds
    none); with `its_date`, also trafilatura's date where the page has no
    `article:published_time` or `<time>` (otherwise the date is found as today)."""
    import trafilatura

    def read(html: str) -> Any:
        page = read_page(html)
        main = trafilatura.extract(html, output_format="html", include_comments=False,
                                   **options)
        text = html_to_text(main) if main else ""
        changes: dict[str, Any] = {"text": text} if text else {}
        if its_date and not (page.meta.get("article:published_time") or page.time):
            meta = trafilatura.extract_metadata(html)
            changes["time"] = meta.date if meta else None
        return dataclasses.replace(page, **changes)

    return read


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="pressbot source to read with (default: this checkout)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(args.tree.resolve()))

    import bot.sources.files as files
    try:
        import trafilatura  # noqa: F401  (the bench's own need, not pressbot's)
    except ImportError:
        print("trafilatura is not installed: pip install trafilatura", file=sys.stderr)
        return 2
    from bot.htmltext import html_to_text
    from tests.extraction.corpus import FIELDS, load_cases, score, table

    cases = [c for c in load_cases(ROOT / "tests" / "extraction") if c.shape == "html"]
    today = files.read_page
    variants: dict[str, Callable[[str], Any]] = {
        "today": today,
        "traf-prec": trafilatura_reader(today, html_to_text, favor_precision=True),
        "traf": trafilatura_reader(today, html_to_text),
        "traf-rec": trafilatura_reader(today, html_to_text, favor_recall=True),
        "rec+date": trafilatura_reader(today, html_to_text, its_date=True, favor_recall=True),
    }
    tables: dict[str, dict[str, tuple[int, int]]] = {}
    per_page: dict[str, float] = {}
    misses: dict[str, list[str]] = {}
    for name, reader in variants.items():
        files.read_page = reader  # type: ignore[assignment]
        score(cases[0])  # warm: lazy imports and compiled patterns are not a page's cost
        took = []
        outcomes = []
        for case in cases:
            began = time.perf_counter()
            outcomes.append(score(case))
            took.append(time.perf_counter() - began)
        files.read_page = today  # type: ignore[assignment]
        tables[name] = table(outcomes)
        per_page[name] = statistics.median(took) * 1000
        misses[name] = [f"{o.case.id} [{f}] {why[:150]}" for o in outcomes
                        for f, why in o.why.items()]

    print(f"pressbot source: {args.tree}; {len(cases)} html cases")
    print()
    print(f"{'field':<8}" + "".join(f"{n:>11}" for n in variants))
    for field in FIELDS:
        cells = [f"{r}/{n}" if n else "-" for r, n in (tables[v][field] for v in variants)]
        print(f"{field:<8}" + "".join(f"{c:>11}" for c in cells))
    totals = [sum(r for r, _ in tables[v].values()) for v in variants]
    print(f"{'all':<8}" + "".join(f"{t:>11}" for t in totals))
    print(f"{'ms/page':<8}" + "".join(f"{per_page[v]:>11.1f}" for v in variants))
    cost = import_cost(args.tree.resolve())
    print()
    print(f"import bot.sources.files: {cost['files_s']:.2f} s, RSS {cost['python_mb']:.0f} ->"
          f" {cost['files_mb']:.0f} MB")
    print(f"then import htmldate:     {cost['htmldate_s']:.2f} s, RSS -> "
          f"{cost['htmldate_mb']:.0f} MB (+{cost['htmldate_mb'] - cost['files_mb']:.0f} MB);"
          f" peak {cost['htmldate_peak_mb']:.0f} MB")
    print(f"then import trafilatura:  {cost['traf_s']:.2f} s, RSS -> {cost['traf_mb']:.0f} MB"
          f" (+{cost['traf_mb'] - cost['htmldate_mb']:.0f} MB); peak {cost['peak_mb']:.0f} MB")
    if args.verbose:
        for name, lines in misses.items():
            print(f"\n{name}:")
            print("\n".join(f"  {line}" for line in lines) or "  no miss")
    return 0


if __name__ == "__main__":
    sys.exit(main())
