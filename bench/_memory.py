"""Where a running process's resident memory is, read from inside it (`_traced_run.py`).

The parts, in MB: `VmRSS` split into anonymous and file-backed pages (`/proc/self/status`);
of the anonymous, Python's small-object allocator (its 1 MiB arenas and the bytes in live
blocks, from `sys._debugmallocstats`) and the C heap (glibc's `mallinfo2`: bytes in use and
free inside it, plus large blocks mapped on their own); what SQLite's allocator holds (page
caches and statements of every connection); the threads; and the file mappings that hold
the most (shared libraries: the code the process has run). Linux and glibc only; a part
that cannot be read is left out.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

MB = 1024 * 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _status() -> dict[str, float]:
    wanted = ("VmRSS", "RssAnon", "RssFile", "Threads")
    found: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in wanted:
            number = int(value.split()[0])
            found[key] = number if key == "Threads" else round(number / 1024, 2)
    return found


def _c_heap() -> dict[str, float]:
    info = ctypes.CDLL(None).mallinfo2
    info.restype = _MallInfo2
    got = info()
    return {"heap": round(got.arena / MB, 2), "in use": round(got.uordblks / MB, 2),
            "free inside": round(got.fordblks / MB, 2), "mapped blocks": round(got.hblkhd / MB, 2)}


def _pymalloc() -> dict[str, float]:
    """Python's arenas and the bytes of live small objects in them."""
    with tempfile.TemporaryFile("w+") as out:
        saved = os.dup(2)
        os.dup2(out.fileno(), 2)   # _debugmallocstats writes to the C stderr
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read()

    def number(label: str) -> int:
        m = re.search(rf"^# {label}\s*=\s*([\d,]+)", text, re.M)
        return int(m.group(1).replace(",", "")) if m else 0

    return {"arenas": number("arenas allocated current"),
            "live blocks": round(number("bytes in allocated blocks") / MB, 2)}


def _sqlite() -> float | None:
    for line in Path("/proc/self/maps").read_text().splitlines():
        if "libsqlite3" in line:
            lib = ctypes.CDLL(line.split()[-1])
            lib.sqlite3_memory_used.restype = ctypes.c_int64
            return round(int(lib.sqlite3_memory_used()) / MB, 2)
    return None


def _mappings(top: int = 8) -> list[tuple[str, float]]:
    """The file mappings holding the most resident pages, and the anonymous ones together."""
    held: dict[str, int] = {}
    name = "[anonymous]"
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and not head[0].endswith(":"):
            name = head[5] if len(head) > 5 else "[anonymous]"
        elif head and head[0] == "Rss:":
            held[name] = held.get(name, 0) + int(head[1])
    ranked = sorted(held.items(), key=lambda item: -item[1])[:top]
    return [(Path(n).name if n.startswith("/") else n, round(kb / 1024, 2)) for n, kb in ranked]


def breakdown() -> dict[str, Any]:
    parts: dict[str, Any] = {"status": _status()}
    for key, read in (("python arenas", _pymalloc), ("c heap", _c_heap), ("sqlite", _sqlite),
                      ("mappings", _mappings)):
        try:
            parts[key] = read()
        except (OSError, AttributeError, ValueError) as exc:
            parts[key] = f"unreadable: {exc}"
    parts["threads"] = sorted(t.name for t in threading.enumerate())
    return parts


def write_breakdown(path: str) -> None:
    Path(path + ".part").write_text(json.dumps(breakdown(), indent=1), encoding="utf-8")
    os.replace(path + ".part", path)
