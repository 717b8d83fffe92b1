#!/bin/sh
# Three month-end audits of one growing log, each against the month before, with a triage file:
# what an auditor's monthly job does (docs/guide.md, "Running driftwatch every month").
#
#   examples/monthly/run.sh [WORK_DIR]
#
# DRIFTWATCH names the binary (default: driftwatch on PATH; from a checkout,
# DRIFTWATCH=target/release/driftwatch). WORK_DIR (default: a new temporary folder) receives the
# generated log, the key, the triage file and audits/2021-09, audits/2021-10, audits/2021-11.
set -eu
BIN=${DRIFTWATCH:-driftwatch}
WORK=${1:-$(mktemp -d)}
mkdir -p "$WORK/audits"

# A year of logs (September 2021 - August 2022) from the seeded scenarios of the seed documents.
"$BIN" generate --scenario all --events 20000 --seed 7 --out "$WORK/log" >"$WORK/generate.log" 2>&1

# One pseudonymisation key for the whole series, kept outside the audit folders (0600): the same
# agents keep the same pseudonyms and the same findings their ids, month after month.
KEY="$WORK/pseudonymisation.key"
if [ ! -f "$KEY" ]; then
    (umask 077 && od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$KEY")
fi

# exit 0: nothing to act on; 1: findings to act on (the job goes on); 2: an input error (stop).
audit() {
    month=$1
    shift
    code=0
    "$BIN" audit --quiet --events "$WORK/log/events" --register "$WORK/log/register" \
        --habilitations "$WORK/log/habilitations.csv" --key-file "$KEY" \
        --out "$WORK/audits/$month" "$@" || code=$?
    [ "$code" -le 1 ] || exit "$code"
    echo "$month: exit $code"
    sed -n '/^## Since the last audit/,/^### /p' "$WORK/audits/$month/report.md" | sed -n 3p
}

# September: the log up to the end of September, the first audit of the series.
audit 2021-09 --to 2021-10-01

# The DPO examines September's findings and records decisions: the first high finding is a
# documented exception, the first medium one is being looked into.
accepted=$(awk -F, 'NR > 1 && $3 == "high" { print $1; exit }' "$WORK/audits/2021-09/findings.csv")
investigated=$(awk -F, 'NR > 1 && $3 == "medium" { print $1; exit }' "$WORK/audits/2021-09/findings.csv")
cat >"$WORK/triage.toml" <<TOML
[[finding]]
id       = "$accepted"
decision = "accepted"
reason   = "documented exception, decision of the processing's controller ref. 2022-117"
by       = "dpo@example.org"
date     = 2021-10-04

[[finding]]
id       = "$investigated"
decision = "investigating"
reason   = "asked the unit for the request references"
by       = "dpo@example.org"
date     = 2021-10-04
until    = 2099-12-31
TOML

# October and November: each against the month before; the job fails only on news.
audit 2021-10 --to 2021-11-01 --baseline "$WORK/audits/2021-09" --triage "$WORK/triage.toml" --fail-on-new high
audit 2021-11 --to 2021-12-01 --baseline "$WORK/audits/2021-10" --triage "$WORK/triage.toml" --fail-on-new high

# What changed over the quarter.
code=0
"$BIN" diff "$WORK/audits/2021-09" "$WORK/audits/2021-11" | tail -1 || code=$?
[ "$code" -le 1 ] || exit "$code"
echo "audits in $WORK/audits"
