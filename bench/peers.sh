#!/usr/bin/env bash
# pressbot side by side with the Python feed bots (issue 17), on 127.0.0.1 only.
#
#   make bench-peers                      # or: bash bench/peers.sh
#   N=50 PEERS="feed2toot pressbot" bash bench/peers.sh
#
# Runs the client's harness (../shared/peers/bench_peers.sh, or $PEERS_HARNESS): the same
# 200-item press-release feed to a fake Mastodon adding 50 ms to every request, each bot in
# turn; the peers are installed from the harness's pinned requirements into their own venvs.
# Then prints the issue's table with the targets and whether each holds.
#
# The harness serves the feed and its images on 127.0.0.1, which pressbot refuses to fetch
# unless the source and the channel say that host is local: the three variables below say
# so for this run only (the harness's config is not ours to edit).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="${PEERS_HARNESS:-$ROOT/../shared/peers}"
if [ ! -x "$HARNESS/bench_peers.sh" ] && [ ! -f "$HARNESS/bench_peers.sh" ]; then
  echo "no side-by-side harness at $HARNESS (set PEERS_HARNESS to the folder that holds bench_peers.sh)" >&2
  exit 2
fi
export PRESSBOT_SOURCES__SITE__ALLOW_PRIVATE=true
export PRESSBOT_SOURCES__SITE__ALLOW_PRIVATE_IMAGES=true
export PRESSBOT_CHANNELS__MASTODON__ALLOW_PRIVATE_IMAGES=true
export PEERS="${PEERS:-feed2toot feediverse pressbot}"
export PRESSBOT="${PRESSBOT:-$ROOT/.venv/bin/pressbot}"
export OUT="${OUT:-${TMPDIR:-/tmp}/pressbot-peers-$(date -u +%Y%m%dT%H%M%SZ)}"
export LATENCY_MS="${LATENCY_MS:-50}"
bash "$HARNESS/bench_peers.sh"
"$ROOT/.venv/bin/python" "$ROOT/bench/_peers_table.py" "$OUT" "$LATENCY_MS"
