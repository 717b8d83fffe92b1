#!/usr/bin/env bash
# Mapped-CSV benchmark: the same log audited twice, as the event frame's CSV and as a French
# application export (`;`, Windows-1252, French columns and verbs, Paris local times, codes, no
# event id, a quoted comment) read through a source map. Prints each run, the medians of ROUNDS
# alternated runs, the ratio mapped / canonical and the finding counts of both.
#
# The log is the bench world (../shared/bench/gen_events.py, written independently of
# driftwatch; needs numpy and pyarrow); the export is written by examples/french-export/
# to_french_export.py, which also writes the map.
#   scripts/bench-mapped.sh [EVENTS=2000000] [ROUNDS=3] [DIR=$CARGO_TARGET_DIR/driftwatch-bench/mapped-EVENTS]
set -euo pipefail
events=${1:-2000000}
rounds=${2:-3}
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/driftwatch-target}"
dir=${3:-$CARGO_TARGET_DIR/driftwatch-bench/mapped-$events}
bench=../shared/bench
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/driftwatch"
if [ ! -f "$dir/export.toml" ]; then
  mkdir -p "$dir"
  python3 "$bench/gen_events.py" -n "$events" --out "$dir/world"
  python3 "$bench/to_contract.py" "$dir/world"
  python3 scripts/parquet_to_frame_csv.py "$dir/world/contract/events.parquet" "$dir/events.csv"
  python3 examples/french-export/to_french_export.py "$dir/events.csv" "$dir/export.csv" --map "$dir/export.toml"
fi
contract="$dir/world/contract"
# One pseudonymisation key for both, so that their findings can be compared.
export DRIFTWATCH_KEY=bench-mapped-key-0123456789
run() { # name, then the audit's own arguments
  local name=$1; shift
  local start end
  start=$(date +%s.%N)
  "$bin" audit --quiet --fail-on never --register "$contract/register.toml" \
    --habilitations "$contract/habilitations.parquet" --out "$dir/out-$name" "$@"
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f\n", e - s }'
}
declare -a canonical mapped
for round in $(seq "$rounds"); do
  canonical+=("$(run canonical --events "$dir/events.csv")")
  mapped+=("$(run mapped --events "$dir/export.csv" --source-map "$dir/export.toml")")
  echo "round $round: canonical ${canonical[-1]} s, mapped ${mapped[-1]} s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
c=$(median "${canonical[@]}")
m=$(median "${mapped[@]}")
echo "events: $events; medians of $rounds: canonical CSV $c s, mapped export $m s, ratio $(awk -v m="$m" -v c="$c" 'BEGIN { printf "%.2f", m / c }')"
# The same findings? Event ids differ by design (the export has none: they are derived), so
# the lists of them (evidence, a periodic flow's ad-hoc events) are left out of the comparison.
python3 - "$dir/out-canonical/findings.json" "$dir/out-mapped/findings.json" <<'PY'
import json, sys
def without_ids(finding):
    finding = {k: v for k, v in finding.items() if k != "evidence"}
    finding["details"] = {k: v for k, v in finding.get("details", {}).items() if k != "ad_hoc_events"}
    return finding
load = lambda path: {f["id"]: without_ids(f) for f in json.load(open(path))["findings"]}
canonical, mapped = load(sys.argv[1]), load(sys.argv[2])
differing = sorted(i for i in canonical.keys() | mapped.keys() if canonical.get(i) != mapped.get(i))
ambiguous = sum(i.get("ambiguous_local_times", 0) for i in json.load(open(sys.argv[2]))["inputs"])
print(f"findings: canonical {len(canonical)}, mapped {len(mapped)}, differing {len(differing)}; "
      f"local times at the autumn change in the export: {ambiguous}")
for i in differing[:5]:
    a, b = canonical.get(i, {}), mapped.get(i, {})
    print("  ", i, {k: (a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)})
PY
