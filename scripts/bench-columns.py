#!/usr/bin/env python3
"""What each column of an events file costs to decode, alone, with Polars and with DuckDB.

usage: scripts/bench-columns.py EVENTS.parquet [ROUNDS]

Why: driftwatch reads every column a detector needs through polars' Parquet decoder, so the
decoder's own cost is a floor under any audit. This prints, per column, the CPU seconds
(user + system, best of ROUNDS, default 2) each engine takes to read that column alone and
reduce it, then the same for all columns at once. Compare the Polars total with the "reading"
share of `driftwatch audit --verbose` (the stage's CPU less judging, the run summary and the
detectors' scans).

Needs Python with `polars` and `duckdb` (`pip install polars duckdb`).
"""
import resource
import sys
import time


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def best_of(rounds, read):
    best_cpu, best_wall = float("inf"), float("inf")
    for _ in range(rounds):
        cpu, wall = cpu_seconds(), time.perf_counter()
        read()
        best_cpu = min(best_cpu, cpu_seconds() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return best_cpu, best_wall


def polars_reader(path, columns):
    import polars as pl

    # Reduced to one row so that the collect materialises nothing large; strings by byte
    # length and lists by length, so every value is really decoded.
    def reduce(name, dtype):
        if dtype == pl.String:
            return pl.col(name).str.len_bytes().sum()
        if isinstance(dtype, pl.List):
            return pl.col(name).list.len().sum()
        return pl.col(name).max()

    schema = pl.scan_parquet(path).collect_schema()
    return lambda: pl.scan_parquet(path).select([reduce(c, schema[c]) for c in columns]).collect()


def duckdb_reader(path, columns):
    import duckdb

    connection = duckdb.connect()
    types = dict(connection.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{path}'))").fetchall())

    def reduce(name):
        if types[name] == "VARCHAR":
            return f"sum(length({name}))"
        if types[name].endswith("[]"):
            return f"sum(len({name}))"
        # Not max(): DuckDB answers that from the row groups' statistics without decoding.
        return f"sum(hash({name}))"

    query = f"SELECT {', '.join(reduce(c) for c in columns)} FROM read_parquet('{path}')"
    return lambda: connection.execute(query).fetchall()


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    path = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    import polars as pl

    columns = pl.scan_parquet(path).collect_schema().names()
    print(f"{'column':<16} {'polars CPU s':>12} {'duckdb CPU s':>12}")
    for column in columns + ["(all at once)"]:
        chosen = columns if column == "(all at once)" else [column]
        polars_cpu, _ = best_of(rounds, polars_reader(path, chosen))
        duckdb_cpu, _ = best_of(rounds, duckdb_reader(path, chosen))
        print(f"{column:<16} {polars_cpu:>12.2f} {duckdb_cpu:>12.2f}")


if __name__ == "__main__":
    main()
