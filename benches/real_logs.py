#!/usr/bin/env python3
"""The periodic-transfer detector on the two real web logs, against labels made by hand.

Every request of `shared/real-logs/*/events.csv` is taken as a transfer to the client that made it
(recipient = client address, dataset = first path segment, as the file has them), no recipient
is declared, and the real binary audits each log. The findings are scored against
`benches/real-log-labels.csv`, per flow (client, dataset) and per client (a client is flagged when
any of its flows is), counting high findings and, separately, any finding.

    python3 benches/real_logs.py [--binary target/release/driftwatch] [--logs ../shared/real-logs]

How the labels were made (by reading raw timestamps, not with the detector): every flow with at
least four runs (requests less than 10 minutes apart are one run) was listed day by day, one line
per day with the clock time of each run; a flow is `periodic` when a clock time or an interval
repeats, to within minutes, on most days of the log (nightly downloads at 01:26, a file every
23 h 20 min, downloads only on a ten-minute grid), whatever else the client fetches; crawlers
that come back "about every" 45 minutes to a day, drifting by tens of minutes, and one-day
crawler sessions are `punctual`. The reason is written beside each label.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile

LOGS = ["erddap-voto-2024-05", "secrepo-2021-10"]


def prepare(logs, name, directory):
    source = os.path.join(logs, name, "events.csv")
    events = os.path.join(directory, f"{name}.csv")
    datasets = set()
    with open(source, newline="") as handle, open(events, "w", newline="") as out:
        reader = csv.DictReader(handle)
        writer = csv.DictWriter(out, fieldnames=reader.fieldnames)
        writer.writeheader()
        for row in reader:
            row["action"] = "transfer"
            datasets.add(row["dataset"])
            writer.writerow(row)
    register = os.path.join(directory, f"{name}-register.toml")
    quoted = ", ".join(json.dumps(d) for d in sorted(datasets))
    with open(register, "w") as out:
        out.write('processing = "web"\nin_force_from = "2000-01-01"\n')
        for dataset in sorted(datasets):
            out.write(f"[[dataset]]\nid = {json.dumps(dataset)}\n")
        out.write(f'[[role]]\nid = "web_client"\n[[purpose]]\nid = "publication"\ndatasets = [{quoted}]\nroles = ["web_client"]\n')
    return events, register


def audit(binary, events, register, out):
    subprocess.run([binary, "audit", "--quiet", "--reveal-identities", "--fail-on", "never", "--format", "json",
                    "--events", events, "--register", register, "--out", out],
                   check=True, env={**os.environ, "DRIFTWATCH_KEY": "00" * 16})
    with open(os.path.join(out, "findings.json")) as handle:
        findings = json.load(handle)["findings"]
    return {(f["recipient"], f["dataset"]): f for f in findings if f["detector"] == "periodic_transfer"}


def table(title, items):
    """items: (key, periodic, finding or None)."""
    print(f"| {title} | periodic found high | periodic found (any) | punctual flagged high | punctual flagged (any) |")
    print("|---|---:|---:|---:|---:|")
    positives = [i for i in items if i[1]]
    negatives = [i for i in items if not i[1]]
    high = lambda f: f is not None and f["severity"] == "high"
    print(f"| {len(positives)} periodic, {len(negatives)} punctual "
          f"| {sum(high(f) for _, _, f in positives)}/{len(positives)} "
          f"| {sum(f is not None for _, _, f in positives)}/{len(positives)} "
          f"| {sum(high(f) for _, _, f in negatives)}/{len(negatives)} "
          f"| {sum(f is not None for _, _, f in negatives)}/{len(negatives)} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument("--binary", default="target/release/driftwatch")
    parser.add_argument("--logs", default=os.path.join(here, "..", "..", "shared", "real-logs"))
    parser.add_argument("--labels", default=os.path.join(here, "real-log-labels.csv"))
    args = parser.parse_args()
    with open(args.labels, newline="") as handle:
        labels = list(csv.DictReader(handle))
    directory = tempfile.mkdtemp()
    flows, clients, surprises = [], {}, []
    for name in LOGS:
        events, register = prepare(args.logs, name, directory)
        found = audit(args.binary, events, register, os.path.join(directory, f"{name}-out"))
        labelled = {(l["client"], l["dataset"]) for l in labels if l["log"] == name}
        for key in found:
            if key not in labelled:
                surprises.append(f"{name} {key}: flagged but has fewer than four runs in the labels")
        for label in (l for l in labels if l["log"] == name):
            key = (label["client"], label["dataset"])
            periodic = label["label"] == "periodic"
            finding = found.get(key)
            flows.append((key, periodic, finding))
            client = clients.setdefault((name, label["client"]), [False, None])
            client[0] = client[0] or periodic
            if finding is not None and (client[1] is None or finding["severity"] == "high"):
                client[1] = finding
            if (finding is not None and finding["severity"] == "high") != periodic or (finding and not periodic):
                what = f"{finding['severity']} {finding['details']['cadence']['description']}" if finding else "not flagged"
                surprises.append(f"{name} {key[0]} {key[1]}: labelled {label['label']}, {what} ({label['reason']})")
    table("flows (client, dataset)", flows)
    print()
    table("clients", [(key, periodic, finding) for key, (periodic, finding) in sorted(clients.items())])
    if surprises:
        print()
        print("\n".join(sorted(surprises)))


if __name__ == "__main__":
    sys.exit(main())
