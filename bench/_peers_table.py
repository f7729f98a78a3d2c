"""The issue-17 table from a side-by-side run (`bench/peers.sh`), with each target's verdict.

    .venv/bin/python bench/_peers_table.py OUT_DIR [LATENCY_MS]

Reads the harness's `summary.jsonl` (GNU time and the fake server's records, judged by its
`analyze_run.py`). "Whole command" is run1 (fetch + publish of 200 items), "nothing new" is
run2 (the same command again), overhead is the server's first→last status span per status
less the fake's added latency. Targets are ratios against feed2toot measured in the same run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROWS = [
    ("200 posts, whole command (fetch + publish), s", "wall_s", "run1"),
    ("overhead per request beyond the latency, ms", "overhead_ms", "run1"),
    ("CPU (user) for that run, s", "user_s", "run1"),
    ("peak memory, MB", "max_rss_mb", "run1"),
    ("a poll with nothing new (start to exit), s", "wall_s", "run2"),
    ("statuses created / links intact", "quality", "run1"),
]


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 0
    out = Path(sys.argv[1])
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 50.0
    runs: dict[tuple[str, str], dict[str, object]] = {}
    for line in (out / "summary.jsonl").read_text().splitlines():
        row = json.loads(line)
        runs.setdefault((row["peer"], row["run"]), row)
    peers = list(dict.fromkeys(peer for peer, _ in runs))

    def value(peer: str, key: str, run: str) -> float | str | None:
        row = runs.get((peer, run))
        if row is None:
            return None
        if key == "overhead_ms":
            span, n = row.get("server_span_first_to_last_status_s"), row["statuses_created"]
            if not span or int(n) < 2:  # type: ignore[call-overload]
                return None
            return round(float(span) / (int(n) - 1) * 1000 - latency, 1)  # type: ignore[arg-type, call-overload]
        if key == "quality":
            return f"{row['statuses_created']} / {row['link_intact']}"
        got = row.get(key)
        return float(got) if isinstance(got, (int, float)) else None

    print("| | " + " | ".join(peers) + " |")
    print("| --- |" + " --- |" * len(peers))
    for label, key, run in ROWS:
        cells = [value(p, key, run) for p in peers]
        print(f"| {label} | " + " | ".join("–" if c is None else str(c) for c in cells) + " |")

    if "pressbot" not in peers or "feed2toot" not in peers:
        return 0
    for peer in ("pressbot", "feed2toot"):   # a fast run that posted nothing proves nothing
        row = runs.get((peer, "run1"), {})
        if row.get("statuses_created") != row.get("items_in_feed") or row.get("exit") != 0:
            print(f"\nINVALID: {peer} created {row.get('statuses_created')} of "
                  f"{row.get('items_in_feed')} statuses (exit {row.get('exit')}); see "
                  f"{out / peer / 'run1.log'}")
            return 1
    me = {key + run: value("pressbot", key, run) for _, key, run in ROWS}
    them = {key + run: value("feed2toot", key, run) for _, key, run in ROWS}
    checks = [
        ("whole command ≤ 0.9 × feed2toot", me["wall_srun1"], 0.9 * them["wall_srun1"]),  # type: ignore[operator]
        ("overhead per request ≤ 2 ms", me["overhead_msrun1"], 2.0),
        ("CPU ≤ feed2toot", me["user_srun1"], them["user_srun1"]),
        ("peak memory ≤ 60 MB", me["max_rss_mbrun1"], 60.0),
        ("nothing new ≤ 0.5 s", me["wall_srun2"], 0.5),
    ]
    print()
    for name, got, limit in checks:
        ok = isinstance(got, float) and isinstance(limit, float) and got <= limit
        shown = f"{got} vs {limit:.2f}" if isinstance(limit, float) else str(got)
        print(f"{'met ' if ok else 'MISS'}  {name}: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
