#!/usr/bin/env python3
"""Writes an event-frame Parquet file (e.g. the bench world's contract/events.parquet) as the
event frame's CSV: `ts` RFC 3339 UTC, `categories` joined with `;`, empty fields for nulls.
Used by scripts/bench-mapped.sh; needs pyarrow.

    python3 parquet_to_frame_csv.py events.parquet events.csv
"""
import csv
import sys

import pyarrow.parquet as pq

COLUMNS = ["event_id", "ts", "actor_id", "actor_role", "actor_unit", "action", "dataset", "categories",
           "recipient", "purpose", "request_ref", "target_agent", "group_size", "record_count",
           "record_date", "report_kind"]


def text(name, value):
    if value is None:
        return ""
    if name == "ts":
        return value.strftime("%Y-%m-%dT%H:%M:%S") + (f".{value.microsecond:06d}" if value.microsecond else "") + "Z"
    if name == "categories":
        return ";".join(value)
    if name == "record_date":
        return value.isoformat()
    return str(value)


def main(source, target):
    parquet = pq.ParquetFile(source)
    present = [c for c in COLUMNS if c in parquet.schema_arrow.names]
    rows = 0
    with open(target, "w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(present)
        for group in range(parquet.num_row_groups):
            table = parquet.read_row_group(group, columns=present).to_pydict()
            for i in range(len(table[present[0]])):
                writer.writerow([text(c, table[c][i]) for c in present])
                rows += 1
    print(f"{rows} rows written to {target}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
