"""What each top-level package a running service holds costs in resident memory.

    .venv/bin/python bench/service_day.py --feeds 1 --interval 2 --polls 3 --peer-runs 0 \\
        --modules /tmp/modules.txt
    .venv/bin/python bench/resident_modules.py /tmp/modules.txt [--top 30]

The list is the service's `sys.modules` at the end of a steady-state window (one feed
answering 304, a publish pass with nothing due, the review page up but not visited). For
each top-level package, a fresh interpreter imports that package's modules from the list
and reads its VmRSS before and after: the figure includes what the package pulls in with it
(its dependencies, the shared libraries it maps), so the figures overlap and do not add up;
the last lines import the whole list in one interpreter, which is what the service pays,
and add the bare interpreter's own RSS: the difference to the service's RSS is what it
holds besides code (`bench/service_day.py --memory` says where).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import PYTHON, ROOT, clean_env

PROBE = """
import importlib, json, sys
def rss():
    for line in open(f"/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
names = json.loads(sys.argv[1])
before, count = rss(), len(sys.modules)
for name in names:
    try:
        importlib.import_module(name)
    except Exception:  # a module only its parent imports the right way (`__mp_main__`, …)
        pass
print(json.dumps([rss() - before, len(sys.modules) - count, before]))
"""


def weigh(names: list[str]) -> tuple[float, int, float]:
    """RSS in MB added by importing `names` in a fresh interpreter, modules added, and the
    interpreter's RSS before them."""
    out = subprocess.run([PYTHON, "-c", PROBE, json.dumps(names)], cwd=ROOT, env=clean_env(),
                         capture_output=True, text=True, check=True).stdout
    added, modules, bare = json.loads(out)
    return float(added), int(modules), float(bare)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", type=Path, help="one module name a line (service_day --modules)")
    parser.add_argument("--top", type=int, default=30, help="packages printed, dearest first")
    args = parser.parse_args()
    names = [n for n in args.modules.read_text().split() if n not in ("__main__", "__mp_main__")]
    fresh = set(subprocess.run([PYTHON, "-c", "import sys; print(*sys.modules)"], cwd=ROOT,
                               env=clean_env(), capture_output=True, text=True,
                               check=True).stdout.split())
    packages: dict[str, list[str]] = defaultdict(list)
    for name in names:
        if name not in fresh:
            packages[name.split(".", 1)[0]].append(name)
    rows = sorted(((*weigh(mods)[:2], top, len(mods)) for top, mods in packages.items()),
                  reverse=True)
    print(f"{len(names)} modules in the list ({len(fresh)} in a bare interpreter), "
          f"{len(packages)} top-level packages")
    print(f"{'package':<22} {'listed':>6} {'imported alone':>15} {'RSS MB':>7}")
    for added, modules, top, listed in rows[:args.top]:
        print(f"{top:<22} {listed:>6} {modules:>15} {added:>7.1f}")
    total, modules, bare = weigh([n for n in names if n not in fresh])
    print(f"{'all of them':<22} {len(names):>6} {modules:>15} {total:>7.1f}")
    print(f"the interpreter before them (importlib, json) holds {bare:.1f} MB; with all of them "
          f"{bare + total:.1f} MB: "
          "what the service's RSS would be if it held its code and nothing else")


if __name__ == "__main__":
    main()
