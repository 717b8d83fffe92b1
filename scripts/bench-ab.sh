#!/usr/bin/env bash
# Before/after a change: two (or more) driftwatch binaries audit the same bench world in
# alternated runs; prints each one's median wall time, median CPU time and peak RSS.
#   scripts/bench-ab.sh DIR ROUNDS BIN...
# DIR from ../shared/bench: `gen_events.py -n 1e7 --out DIR && to_contract.py DIR`.
# Keep a copy of the binary before the change (cp target/release/driftwatch /some/where/before).
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: scripts/bench-ab.sh DIR ROUNDS BIN... (DIR made by ../shared/bench/gen_events.py and to_contract.py)" >&2
  exit 2
fi
dir=$1 rounds=$2
shift 2
key="$(cd "$(dirname "$0")/.." && pwd)/sample-data/demo-pseudonymisation-key.txt"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in $(seq "$rounds"); do
  for index in $(seq $#); do
    bin=${!index}
    # An audit with findings exits 1: that is its answer, not a failure of the benchmark.
    /usr/bin/time -o "$work/time" -f "%e %U %S %M" "$bin" audit --quiet \
      --events "$dir/contract/events.parquet" --register "$dir/contract/register.toml" \
      --habilitations "$dir/contract/habilitations.parquet" --key-file "$key" \
      --out "$work/out-$index" >/dev/null 2>&1 || true
    echo "$bin $(tail -1 "$work/time")" >>"$work/all"
  done
done
python3 - "$work/all" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    bin, wall, user, system, kib = line.split()
    runs.setdefault(bin, []).append((float(wall), float(user) + float(system), int(kib) / 1024))
for bin, times in runs.items():
    wall = statistics.median(t[0] for t in times)
    cpu = statistics.median(t[1] for t in times)
    print(f"{bin}: wall {wall:.2f} s, CPU {cpu:.2f} s, peak {max(t[2] for t in times):.0f} MiB")
PY
