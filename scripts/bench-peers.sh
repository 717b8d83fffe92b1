#!/usr/bin/env bash
# driftwatch against an analyst's own DuckDB and Polars scripts and the scan floor, on the
# independent bench world of ../shared/bench (issue 17's compass). Generates the world once per
# size, builds the release binary, and runs ../shared/bench/side_by_side.sh (medians of ROUNDS
# alternated runs, peak RSS, ratio driftwatch/each). Run it before and after a change.
#   scripts/bench-peers.sh [EVENTS=1e7] [ROUNDS=3] [DIR=$CARGO_TARGET_DIR/driftwatch-bench/peers-EVENTS]
# Needs Python with duckdb, polars, pyarrow and numpy (pip install duckdb polars pyarrow numpy).
set -euo pipefail
events=${1:-1e7}
rounds=${2:-3}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/driftwatch-target}"
dir=${3:-$CARGO_TARGET_DIR/driftwatch-bench/peers-$events}
bench=../shared/bench
[ -d "$bench" ] || { echo "bench-peers: $bench not found beside the checkout" >&2; exit 2; }
cargo build --release --quiet
if [ ! -f "$dir/contract/events.parquet" ]; then
  python3 "$bench/gen_events.py" -n "$events" --out "$dir"
  python3 "$bench/to_contract.py" "$dir"
fi
"$bench/side_by_side.sh" "$CARGO_TARGET_DIR/release/driftwatch" "$dir" "$rounds"
