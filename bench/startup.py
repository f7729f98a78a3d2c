"""How long `pressbot` takes to start, next to a bare Python.

    .venv/bin/python bench/startup.py [--runs 15]

Wall time, median of `--runs` runs each (after one warm-up run), of:
- `python -c pass` (the baseline: the interpreter alone),
- `pressbot --help`,
- `pressbot preview examples/content/<a .md file>` with the demo config.
Targets (issue 17): `--help` ≤ 0.15 s, `preview FILE` ≤ 0.3 s.
Then the ten heaviest imports of that preview by cumulative time (`python -X importtime`).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import PYTHON, ROOT, clean_env

RELEASE = "examples/content/2026-03-12-third-call-green-mobility.md"
SCRIPT = Path(PYTHON).parent / "pressbot"  # the console script people run
PRESSBOT = [str(SCRIPT)] if SCRIPT.exists() else [PYTHON, "-m", "bot"]


def timed(argv: list[str], runs: int) -> list[float]:
    env = clean_env()
    subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True)  # warm caches
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def heaviest_imports(argv: list[str], top: int) -> list[tuple[int, int, str]]:
    command = [PYTHON, "-X", "importtime", "-m", "bot", *argv[len(PRESSBOT):]]
    done = subprocess.run(command, cwd=ROOT, env=clean_env(), check=True, capture_output=True,
                          text=True)
    rows = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|", 2)
        rows.append((int(cumulative_us), int(self_us), name.rstrip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cases = {
        "python -c pass (baseline)": [PYTHON, "-c", "pass"],
        "pressbot --help": [*PRESSBOT, "--help"],
        f"pressbot preview {RELEASE}": [*PRESSBOT, "--config", "config/pressbot.toml",
                                        "preview", RELEASE],
    }
    medians = {}
    for label, argv in cases.items():
        times = timed(argv, args.runs)
        medians[label] = statistics.median(times)
        print(f"{label:<75} median {medians[label] * 1000:5.0f} ms   min "
              f"{min(times) * 1000:5.0f} ms   max {max(times) * 1000:5.0f} ms   ({args.runs} runs)")
    preview = medians[f"pressbot preview {RELEASE}"]
    base = medians["python -c pass (baseline)"]
    print(f"\npreview beyond the bare interpreter: {(preview - base) * 1000:.0f} ms")
    print("\nheaviest imports of `pressbot preview` (python -X importtime, cumulative):")
    print(f"  {'cumulative':>10} {'self':>8}  module")
    for cumulative, own, name in heaviest_imports(cases[f"pressbot preview {RELEASE}"], 10):
        print(f"  {cumulative / 1000:8.1f}ms {own / 1000:6.1f}ms  {name}")
    helped = medians["pressbot --help"]
    print("\ntargets:")
    print(f"  --help ≤ 0.15 s: {helped:.2f} s {'MET' if helped <= 0.15 else 'MISSED'}")
    print(f"  preview ≤ 0.3 s: {preview:.2f} s {'MET' if preview <= 0.3 else 'MISSED'}")


if __name__ == "__main__":
    main()
