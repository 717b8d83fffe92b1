#!/usr/bin/env python3
"""Audit a partitioned log on a Dask cluster: one `driftwatch scan` task per partition, then one
`driftwatch merge` — the findings of one `driftwatch audit` over every partition.

usage:
  dask_audit.py --lake ROOT --register DIR_OR_FILE [--habilitations FILE] --out DIR
                [--scheduler tcp://HOST:8786 | --workers 2] [--states DIR] [--driftwatch BIN]
                [-- extra `scan` options, e.g. --timezone Europe/Paris]

ROOT holds Hive-style partitions, `month=YYYY-MM/` folders of event files (any format driftwatch
reads), as a local path or any fsspec URL (s3://…, gs://…, abfs://…, hdfs://…: each task then
copies its partition to a local temporary folder before scanning it). Without --scheduler, a
local cluster of --workers processes is started on the loopback interface. On a real cluster,
driftwatch must be installed on every worker (--driftwatch names it), and the register, the
habilitations and --states must be paths every worker and this client see (a shared
filesystem), since a state records the paths it was scanned with.

Prints one line per partition (seconds, peak memory of its scan, state size), then merges.
"""
import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def partitions(lake):
    """(name, location) of each `month=…` partition, in name order."""
    if "://" in lake:
        import fsspec

        fs, root = fsspec.core.url_to_fs(lake)
        found = [p for p in fs.ls(root, detail=False) if os.path.basename(p.rstrip("/")).startswith("month=")]
        protocol = lake.split("://", 1)[0]
        return sorted((os.path.basename(p.rstrip("/")), f"{protocol}://{p}") for p in found)
    return sorted(
        (name, os.path.join(lake, name))
        for name in os.listdir(lake)
        if name.startswith("month=") and os.path.isdir(os.path.join(lake, name))
    )


def scan(name, location, command, states):
    """One task: `driftwatch scan` of one partition; returns its figures."""
    started = time.monotonic()
    local, fetched = location, None
    if "://" in location:
        import fsspec

        fetched = tempfile.mkdtemp(prefix=f"driftwatch-{name}-")
        fs, path = fsspec.core.url_to_fs(location)
        fs.get(path.rstrip("/") + "/", fetched, recursive=True)
        local = fetched
    state = os.path.join(states, f"{name}.dwstate")
    try:
        run = subprocess.run(command + ["--events", local, "--state-out", state], capture_output=True, text=True)
    finally:
        if fetched:
            shutil.rmtree(fetched, ignore_errors=True)
    if run.returncode not in (0, 1):
        raise RuntimeError(f"{name}: driftwatch scan failed: {run.stderr.strip()}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"partition": name, "state": state, "seconds": time.monotonic() - started,
            "peak_mib": peak_kib / 1024, "state_bytes": os.path.getsize(state)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", required=True)
    parser.add_argument("--register", required=True)
    parser.add_argument("--habilitations")
    parser.add_argument("--out", required=True)
    parser.add_argument("--states", help="where the partitions' states go (default: OUT/states)")
    parser.add_argument("--scheduler", help="address of a running Dask scheduler")
    parser.add_argument("--workers", type=int, default=2, help="local cluster size (without --scheduler)")
    parser.add_argument("--driftwatch", default="driftwatch", help="the driftwatch binary on the workers")
    parser.add_argument("--merge-option", action="append", default=[], help="an option for merge (repeatable)")
    args, scan_options = parser.parse_known_args()
    scan_options = [o for o in scan_options if o != "--"]
    from dask.distributed import Client, LocalCluster

    states = os.path.abspath(args.states or os.path.join(args.out, "states"))
    os.makedirs(states, exist_ok=True)
    command = [args.driftwatch, "scan", "--quiet", "--register", args.register] + scan_options
    if args.habilitations:
        command += ["--habilitations", args.habilitations]
    found = partitions(args.lake)
    if not found:
        sys.exit(f"dask_audit.py: no month=… partition under {args.lake}")
    cluster = None
    if args.scheduler:
        client = Client(args.scheduler)
    else:
        # Processes (a scan is a process anyway), one task each at a time, loopback only.
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, host="127.0.0.1",
                               dashboard_address=None, processes=True)
        client = Client(cluster)
    started = time.monotonic()
    try:
        futures = [client.submit(scan, name, location, command, states, key=f"scan-{name}", pure=False)
                   for name, location in found]
        results = client.gather(futures)
    finally:
        client.close()
        if cluster:
            cluster.close()
    scanned = time.monotonic() - started
    for r in results:
        print(f"{r['partition']}: {r['seconds']:.2f} s, peak {r['peak_mib']:.0f} MiB, state {r['state_bytes']} bytes")
    merge = [args.driftwatch, "merge", "--quiet", "--out", args.out, "--state"] + [r["state"] for r in results]
    merge += args.merge_option
    began = time.monotonic()
    code = subprocess.run(merge).returncode
    print(f"scanned {len(results)} partitions in {scanned:.2f} s, merged in {time.monotonic() - began:.2f} s (exit {code})")
    sys.exit(code)


if __name__ == "__main__":
    main()
