#!/usr/bin/env bash
# Past one machine, measured (issue 21): the bench world of ../shared/bench cut into Hive-style
# monthly partitions, audited once whole and once as partitions on a local Dask cluster of two
# workers (one `scan` each, one `merge`); checks the two give the same bytes, and prints the
# state sizes of a whole-log scan and of each month.
#   scripts/bench-partitions.sh [EVENTS=5e7] [DIR=$CARGO_TARGET_DIR/driftwatch-bench/partitions-EVENTS]
# Needs a Python with polars (to cut the world) and one with Dask distributed (Debian:
# python3-distributed); each python3 on the PATH is tried, or $PYTHON.
set -euo pipefail
events=${1:-5e7}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/driftwatch-target}"
dir=${2:-$CARGO_TARGET_DIR/driftwatch-bench/partitions-$events}
bench=../shared/bench
[ -d "$bench" ] || { echo "bench-partitions: $bench not found beside the checkout" >&2; exit 2; }
python_with() {
  for python in ${PYTHON:-} $(which -a python3 2>/dev/null); do
    "$python" -c "import $1" >/dev/null 2>&1 && { echo "$python"; return 0; }
  done
  echo "bench-partitions: no python3 here can import $1" >&2
  return 2
}
polars_python=$(python_with polars)
dask_python=$(python_with distributed)
cargo build --release --quiet
bin=$CARGO_TARGET_DIR/release/driftwatch
world=$dir/world
if [ ! -f "$world/contract/events.parquet" ]; then
  "$polars_python" "$bench/gen_events.py" -n "$events" --out "$world"
  "$polars_python" "$bench/to_contract.py" "$world"
fi
contract=$world/contract
lake=$dir/lake
if [ ! -d "$lake" ]; then
  # One lazy pass per month: memory stays that of one month.
  "$polars_python" - "$contract/events.parquet" "$lake" <<'PY'
import sys, pathlib, polars as pl
source, lake = sys.argv[1], pathlib.Path(sys.argv[2])
months = pl.scan_parquet(source).select(pl.col("ts").dt.strftime("%Y-%m").unique().sort()).collect()["ts"]
for month in months:
    folder = lake / f"month={month}"
    folder.mkdir(parents=True, exist_ok=True)
    pl.scan_parquet(source).filter(pl.col("ts").dt.strftime("%Y-%m") == month).sink_parquet(folder / "events.parquet")
print(f"{len(months)} monthly partitions in {lake}")
PY
fi
judged=(--register "$contract/register.toml" --habilitations "$contract/habilitations.parquet")
key=sample-data/demo-pseudonymisation-key.txt
mapfile -t folders < <(ls -d "$lake"/month=*/)
rm -rf "$dir/one" "$dir/dask" "$dir/whole.dwstate"
echo "== one audit of the ${#folders[@]} folders"
/usr/bin/time -f "one audit: %e s, peak %M KB" "$bin" audit --quiet --events "${folders[@]}" "${judged[@]}" \
  --out "$dir/one" --format json,md --key-file "$key" || true
echo "== the same folders on a local Dask cluster (2 workers)"
/usr/bin/time -f "dask run: %e s" "$dask_python" examples/distributed/dask_audit.py --lake "$lake" \
  --register "$contract/register.toml" --habilitations "$contract/habilitations.parquet" \
  --out "$dir/dask/out" --states "$dir/dask/states" --workers 2 --driftwatch "$bin" \
  --merge-option=--key-file="$key" --merge-option=--format=json,md || true
for file in findings.json report.md; do
  cmp "$dir/one/$file" "$dir/dask/out/$file" && echo "$file: the same bytes"
done
echo "== state sizes"
du -cb "$dir"/dask/states/*.dwstate | tail -1 | awk '{print "all monthly states: " $1 " bytes"}'
/usr/bin/time -f "whole-log scan --state-out: %e s, peak %M KB" "$bin" scan --quiet \
  --events "$contract/events.parquet" "${judged[@]}" --state-out "$dir/whole.dwstate"
"$polars_python" - "$dir/whole.dwstate" <<'PY'
import gzip, json, os, sys, zlib
path = sys.argv[1]
with gzip.open(path, "rt") as state:
    state.readline()
    body = json.loads(state.read())
print(f"whole-log state: {os.path.getsize(path)} bytes (gzip); per detector, compressed:")
for name, part in body["detectors"].items():
    print(f"  {name:22s} {len(zlib.compress(json.dumps(part, separators=(',', ':')).encode(), 6)):>10} bytes")
PY
