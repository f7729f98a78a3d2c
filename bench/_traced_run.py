"""`pressbot …` watched from inside, for `bench/service_day.py`.

    python bench/_traced_run.py tracemalloc|profile:FILE|modules:FILE|memory:FILE  --config … run

SIGUSR1 marks the start of the measured window. `tracemalloc`: tracing starts at the mark;
at exit, the allocations made since then and still held are printed to stderr, biggest
first, grouped by traceback (what grows).
`profile:FILE`: cProfile runs from the mark to the exit and its stats go to FILE (read them
with `python -m pstats FILE`), so start-up is not in the profile.
`modules:FILE`: SIGUSR1 writes the names in `sys.modules` to FILE, one a line (what the
steady state has loaded; `bench/resident_modules.py` weighs them).
`memory:FILE`: SIGUSR1 writes to FILE (JSON) where the resident memory is: anonymous and
file-backed pages, Python's small-object arenas, the C heap (glibc's `mallinfo2`), what
SQLite holds, the threads, and the biggest file mappings (`bench/_memory.py`).
"""

from __future__ import annotations

import atexit
import cProfile
import signal
import sys
import time
import tracemalloc
from pathlib import Path
from types import FrameType

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FRAMES = 6
first: list[tracemalloc.Snapshot] = []
profiler = cProfile.Profile(time.process_time)  # CPU, not waits


def _snapshot(_sig: int, _frame: FrameType | None) -> None:
    # tracing starts here, not at start-up: the first poll of every source runs at full
    # speed, and what is still held at the end was allocated in the window
    tracemalloc.start(FRAMES)
    first[:] = [tracemalloc.take_snapshot()]


def _grown() -> None:
    if not first:
        return
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    start = first[0].filter_traces(ignore)
    end = tracemalloc.take_snapshot().filter_traces(ignore)
    stats = end.compare_to(start, "traceback")
    total = sum(s.size_diff for s in stats)
    print(f"tracemalloc: {total / 1024:+.1f} KiB traced between the window's start and end; "
          "what grew most:", file=sys.stderr)
    for stat in stats[:12]:
        if stat.size_diff <= 0:
            break
        print(f"  {stat.size_diff / 1024:+8.1f} KiB {stat.count_diff:+6d} blocks", file=sys.stderr)
        for line in stat.traceback.format()[-2 * FRAMES:]:
            print(f"      {line.strip()}", file=sys.stderr)


def _profile(_sig: int, _frame: FrameType | None) -> None:
    profiler.enable()


def _save_profile(out: str) -> None:
    profiler.disable()
    profiler.dump_stats(out)


def _modules(out: str) -> None:
    Path(out).write_text("".join(f"{name}\n" for name in sorted(sys.modules)), encoding="utf-8")


if __name__ == "__main__":
    mode = sys.argv.pop(1)
    if mode.startswith("memory:"):
        from bench._memory import write_breakdown

        signal.signal(signal.SIGUSR1, lambda _s, _f: write_breakdown(mode.split(":", 1)[1]))
    elif mode.startswith("modules:"):
        signal.signal(signal.SIGUSR1, lambda _s, _f: _modules(mode.removeprefix("modules:")))
    elif mode == "tracemalloc":
        signal.signal(signal.SIGUSR1, _snapshot)
        atexit.register(_grown)
    else:
        out = mode.removeprefix("profile:")
        signal.signal(signal.SIGUSR1, _profile)
        atexit.register(_save_profile, out)
    from bot.cli import main

    sys.argv[0] = "pressbot"
    main()
