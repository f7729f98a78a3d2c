"""Per-field extraction score over the corpus of real press releases (issue 24).

    python bench/extraction.py            # the table, by field and by shape
    python bench/extraction.py -v         # and every miss, with what was read instead
    python bench/extraction.py --json     # the figures, for a note

The corpus and the scoring live in `tests/extraction/` (the test there holds a floor).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.extraction.corpus import FIELDS, SHAPES, load_cases, score, table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--shape", choices=SHAPES, help="only cases of this shape")
    args = parser.parse_args()
    cases = [c for c in load_cases() if args.shape in (None, c.shape)]
    began = time.perf_counter()
    outcomes = [score(c) for c in cases]
    took = time.perf_counter() - began
    totals = table(outcomes)
    refused = [o for o in outcomes if o.error]
    if args.json:
        print(json.dumps({"cases": len(cases), "refused": len(refused),
                          "fields": {k: {"right": r, "scored": n} for k, (r, n) in totals.items()},
                          "seconds": round(took, 3)}))
        return 0
    languages = sorted({c.language for c in cases})
    organisations = len({c.organisation for c in cases})
    print(f"{len(cases)} releases, {organisations} organisations, languages {', '.join(languages)};"
          f" read in {took:.2f} s; refused: {len(refused)}")
    print()
    print(f"{'field':<8} {'right':>6} {'of':>4} {'score':>7}")
    for name in FIELDS:
        right, scored = totals[name]
        pct = f"{100 * right / scored:.1f} %" if scored else "-"
        print(f"{name:<8} {right:>6} {scored:>4} {pct:>7}")
    print()
    print(f"{'shape':<11} {'n':>3} " + " ".join(f"{f:>7}" for f in FIELDS))
    for shape in SHAPES:
        mine = [o for o in outcomes if o.case.shape == shape]
        if not mine:
            continue
        sub = table(mine)
        cells = [f"{r}/{n}" if n else "-" for r, n in (sub[f] for f in FIELDS)]
        print(f"{shape:<11} {len(mine):>3} " + " ".join(f"{c:>7}" for c in cells))
    if args.verbose:
        print()
        for out in outcomes:
            for name, why in out.why.items():
                print(f"{out.case.id} [{name}] {why}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
