#!/usr/bin/env bash
# Audit benchmark: generates N events (Parquet) with `driftwatch generate`, pads the
# habilitations to G grants (extra grants for accounts that never act), and runs
# `driftwatch audit --verbose`, which prints each stage and each detector's time.
#   scripts/bench-audit.sh [EVENTS=10000000] [GRANTS=50000] [DIR=$CARGO_TARGET_DIR/driftwatch-bench/audit-EVENTS]
set -euo pipefail
events=${1:-10000000}
grants=${2:-50000}
# Its own directory by default: it is deleted and regenerated when EVENTS changes.
dir=${3:-${CARGO_TARGET_DIR:-$HOME/.cache/driftwatch-target}/driftwatch-bench/audit-$events}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/driftwatch-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/driftwatch"
if [ ! -f "$dir/truth.json" ] || [ "$(cat "$dir/.events" 2>/dev/null)" != "$events" ]; then
  rm -rf "$dir"
  "$bin" generate --scenario all --events "$events" --seed 1 --out "$dir"
  echo "$events" > "$dir/.events"
fi
have=$(($(wc -l < "$dir/habilitations.csv") - 1))
awk -v need=$((grants - have)) 'BEGIN { for (i = 1; i <= need; i++) printf "pad-%06d,agent,*,2020-01-01,,2022-06-30\n", i }' \
  | cat "$dir/habilitations.csv" - > "$dir/habilitations-padded.csv"
echo "events: $events, grants: $(($(wc -l < "$dir/habilitations-padded.csv") - 1))"
/usr/bin/time -f "total: %e s wall, %M KB peak" "$bin" audit --quiet --verbose --fail-on never \
  --events "$dir/events" --register "$dir/register" --habilitations "$dir/habilitations-padded.csv" --out "$dir/out"
