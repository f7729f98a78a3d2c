"""What a hostile document costs pressbot to read: peak memory and time, one fresh process
per file.

    .venv/bin/python bench/bad_documents.py [--tree PATH]

The files are built as the tests build them (tests/sources/bad_files.py), at the sizes
of the attack reported in issue 26: a Word zip bomb (600 KB inflating to 600 MB of XML),
a Word part that inflates 600 MB past the size it declares, a PDF of 20,000 pages in a
nested page tree, a PDF whose content stream inflates to 200 MB (a Flate bomb), a flat
page tree of 200,000 pages and a billion-laughs Word file. Each is read by
`read_release_file` in a child process; the figures are the child's peak resident
memory (ru_maxrss, the imports included: "imports only" is the floor), its wall and
CPU seconds for the one read, and what came of it.

`--tree` reads with the pressbot source at PATH instead of this checkout (e.g. an
export of main: `git archive main | tar -x -C /tmp/main`), for before/after figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import ROOT
from tests.sources import bad_files

CHILD = """
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from bot.sources.files import read_release_file
import docx, pypdf  # the floor: what reading any document costs
path = Path(sys.argv[2])
wall, cpu = time.perf_counter(), time.process_time()
outcome = "imports only"
if path.name != "-":
    try:
        release = read_release_file(path, source="bench", key=path.name)
        outcome = "stored: " + release.title[:40]
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {str(exc).replace(str(path), path.name)[:110]}"
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "outcome": outcome}))
"""

FILES: list[tuple[str, str, Callable[[Path], Path]]] = [
    ("zip bomb .docx (600 MB of XML)", "bomb.docx",
     lambda p: bad_files.zip_bomb_docx(p, megabytes=600)),
    ("part inflating 600 MB past its size", "lying.docx",
     lambda p: bad_files.lying_part_docx(p, megabytes=600)),
    ("billion laughs .docx", "laughs.docx", bad_files.billion_laughs_docx),
    ("20,000 pages, nested tree", "nested.pdf",
     lambda p: bad_files.many_pages_pdf(p, 20_000, per_node=100)),
    ("200,000 pages, flat tree", "flat.pdf", lambda p: bad_files.many_pages_pdf(p, 200_000)),
    ("Flate bomb PDF (200 MB stream)", "flate.pdf",
     lambda p: bad_files.flate_bomb_pdf(p, megabytes=200)),
]


def measure(tree: Path, path: Path | str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(path)],
                         capture_output=True, text=True, check=True, timeout=900)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="the pressbot source to read with (default: this checkout)")
    args = parser.parse_args()
    print(f"pressbot source: {args.tree}")
    print(f"{'file':<38} {'size':>8} {'peak RSS':>9} {'wall s':>7} {'CPU s':>6}  outcome")
    floor = measure(args.tree, "-")
    print(f"{'imports only':<38} {'':>8} {floor['rss_mb']:>6.0f} MB {'':>7} {'':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for label, name, build in FILES:
            path = build(Path(folder) / name)
            size = path.stat().st_size / 1024
            got = measure(args.tree, path)
            print(f"{label:<38} {size:>5.0f} kB {got['rss_mb']:>6.0f} MB {got['wall']:>7.2f} "
                  f"{got['cpu']:>6.2f}  {got['outcome']}")
            path.unlink()


if __name__ == "__main__":
    main()
