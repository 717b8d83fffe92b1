#!/usr/bin/env bash
# driftwatch against DuckDB on the same generated Parquet logs (issue 8's yardstick).
#   scripts/bench.sh [SIZES="1000000 10000000"] [ROUNDS=2]
# Generates each size with `driftwatch generate --format parquet`, creates a Python virtual
# environment with duckdb (scripts/duckdb_checks.py holds the SQL), runs both alternately, and
# prints wall time, peak RSS, events/s, the ratio, and both tools' finding counts per detector.
# Sizes above 10M need disk (50M: 430 MB of Parquet) and DuckDB needs memory (50M: 15 GB).
set -euo pipefail
sizes=${1:-"1000000 10000000"}
rounds=${2:-2}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/driftwatch-target}"
work="$CARGO_TARGET_DIR/driftwatch-bench"
mkdir -p "$work"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/driftwatch"
[ -x "$work/venv/bin/python" ] || { python3 -m venv "$work/venv" && "$work/venv/bin/pip" install --quiet "duckdb<2"; }  # 2.0.0 hits an internal error on the 10M run
detectors="undeclared_recipient category_creep individual_monitoring small_cell outside_habilitation retention_overrun"
echo "| events | round | driftwatch s | driftwatch RSS MiB | driftwatch events/s | DuckDB s | DuckDB RSS MiB | DuckDB events/s | ratio | findings driftwatch / DuckDB ($detectors) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for n in $sizes; do
  dir="$work/events-$n"
  [ -f "$dir/truth.json" ] || "$bin" generate --scenario all --events "$n" --seed 1 --out "$dir" 2>/dev/null
  for round in $(seq 1 "$rounds"); do
    /usr/bin/time -f "%e %M" -o "$work/dw.time" "$bin" audit --quiet --fail-on never --reveal-identities --format json \
      --events "$dir/events" --register "$dir/register" --habilitations "$dir/habilitations.csv" --out "$work/out-$n"
    /usr/bin/time -f "%e %M" -o "$work/db.time" "$work/venv/bin/python" scripts/duckdb_checks.py "$dir" > "$work/db.json"
    read -r dw_s dw_kb < "$work/dw.time"
    read -r db_s db_kb < "$work/db.time"
    counts=$(python3 - "$work/out-$n/findings.json" "$work/db.json" $detectors <<'PY'
import json, sys
ours = json.load(open(sys.argv[1]))["findings"]
theirs = json.load(open(sys.argv[2]))["findings"]
print(" ".join(f"{sum(1 for f in ours if f['detector'] == d)}/{theirs[d]}" for d in sys.argv[3:]))
PY
)
    rate() { python3 -c "print(f'{$n / $1 / 1e6:.2f} M')"; }
    echo "| $n | $round | $dw_s | $((dw_kb / 1024)) | $(rate "$dw_s") | $db_s | $((db_kb / 1024)) | $(rate "$db_s") | $(python3 -c "print(round($dw_s / $db_s, 2))") | $counts |"
  done
done
