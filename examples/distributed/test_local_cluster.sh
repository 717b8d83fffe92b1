#!/bin/sh
# The shipped sample as twelve monthly partitions, audited by a local Dask cluster of two workers
# (dask_audit.py: one `driftwatch scan` per partition, one `merge`) and by one `driftwatch audit`:
# the outputs must be the same bytes. Loopback only.
#
#   DRIFTWATCH=target/release/driftwatch [PYTHON=python3] examples/distributed/test_local_cluster.sh
set -eu
BIN=${DRIFTWATCH:?set DRIFTWATCH to the driftwatch binary}
PY=${PYTHON:-python3}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
KEY="$ROOT/sample-data/demo-pseudonymisation-key.txt"
JUDGED="--register $ROOT/sample-data/register --habilitations $ROOT/sample-data/habilitations.csv"

# Hive-style partitions: lake/month=YYYY-MM/<file>-YYYY-MM.csv, split on the ts column.
for file in "$ROOT"/sample-data/events/*.csv; do
    name=$(basename "$file" .csv)
    awk -F, -v lake="$WORK/lake" -v name="$name" '
        NR == 1 { for (i = 1; i <= NF; i++) if ($i == "ts") column = i; header = $0; next }
        { month = substr($column, 1, 7); folder = lake "/month=" month
          out = folder "/" name "-" month ".csv"
          if (!(out in started)) { system("mkdir -p " folder); print header > out; started[out] = 1 }
          print >> out }' "$file"
done

code=0
"$BIN" audit --quiet --events "$WORK"/lake/month=*/ $JUDGED --key-file "$KEY" --out "$WORK/one" || code=$?
[ "$code" -le 1 ] || exit "$code"
code=0
"$PY" "$HERE/dask_audit.py" --lake "$WORK/lake" $JUDGED --out "$WORK/dask" --workers 2 \
    --driftwatch "$BIN" --merge-option=--key-file="$KEY" || code=$?
[ "$code" -le 1 ] || exit "$code"
for output in findings.json findings.csv findings.parquet findings.xlsx report.md report.html quarantine.csv; do
    cmp "$WORK/one/$output" "$WORK/dask/$output"
done
diff -r "$WORK/one/charts" "$WORK/dask/charts"
echo "the Dask run and one audit wrote the same bytes ($(ls -d "$WORK"/lake/month=* | wc -l) partitions)"
