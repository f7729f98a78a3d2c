"""What reading releases costs: the notes corpus, PDF and Word files, and `preview` of each.

    .venv/bin/python bench/documents.py [--runs 9]

- in-process, per release (median of `--runs` passes): the 12 corpus releases of
  `tests/releases/` (story/notes split included), a 2-page PDF and a Word file made
  like the tests make them (fpdf2, python-docx);
- wall time of `pressbot preview FILE` (a fresh process, demo config) for a `.md`, the
  PDF and the Word file: only the latter two pay for importing pypdf / python-docx.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import ROOT
from bench.startup import PRESSBOT, RELEASE, timed
from bot.sources.files import read_release_file
from tests.sources.test_documents import make_docx, make_pdf


def per_file(paths: list[Path], runs: int) -> float:
    """Median milliseconds to read one of `paths` into a release."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for path in paths:
            read_release_file(path, source="bench", key=path.name)
        times.append((time.perf_counter() - started) / len(paths) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        pdf = make_pdf(Path(folder) / "ferry.pdf")
        docx = make_docx(Path(folder) / "ferry.docx")
        corpus = sorted((ROOT / "tests" / "releases").iterdir())
        print("in-process, ms per release (median):")
        for label, paths in ((f"corpus ({len(corpus)} releases, en/es/fr/ru)", corpus),
                             ("PDF, 2 pages", [pdf]), ("Word .docx", [docx])):
            read_release_file(paths[0], source="bench", key="warm")  # imports, caches
            print(f"  {label:<40} {per_file(paths, args.runs):8.2f}")
        print("`pressbot preview FILE`, wall seconds (median):")
        for label, target in ((".md", str(ROOT / RELEASE)), (".pdf", str(pdf)),
                              (".docx", str(docx))):
            wall = statistics.median(timed([*PRESSBOT, "preview", target], args.runs))
            print(f"  {label:<40} {wall:8.3f}")


if __name__ == "__main__":
    main()
