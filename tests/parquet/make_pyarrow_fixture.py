#!/usr/bin/env python3
"""Writes pyarrow_wikit_transfers.parquet: the sample's WIKIT transfers as another writer (pyarrow,
as pandas, Spark and DuckDB users write Parquet) stores them: every text column and the categories
list dictionary-encoded, in row groups of 1,000 rows, except `purpose`, left plain (a writer's
fallback when a dictionary grows too large). tests/cli.rs audits it against the CSV it came from.

usage: python3 tests/parquet/make_pyarrow_fixture.py   (from the repository's root; pyarrow)
"""
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as csv
import pyarrow.parquet as pq

SOURCE = "sample-data/events/wikit-transfers.csv"
TARGET = "tests/parquet/pyarrow_wikit_transfers.parquet"

text = {name: pa.string() for name in [
    "event_id", "actor_id", "actor_role", "actor_unit", "action", "dataset", "categories",
    "recipient", "purpose", "request_ref", "target_agent", "report_kind"]}
table = csv.read_csv(SOURCE, convert_options=csv.ConvertOptions(
    column_types={**text, "ts": pa.timestamp("us", tz="UTC"), "group_size": pa.int64(),
                  "record_count": pa.int64(), "record_date": pa.date32()},
    strings_can_be_null=True))
categories = pc.split_pattern(table["categories"], ";")
table = table.set_column(table.schema.get_field_index("categories"), "categories", categories)
dictionary = [name for name in table.column_names if name not in ("purpose", "categories")]
dictionary.append("categories.list.element")
pq.write_table(table, TARGET, row_group_size=1000, use_dictionary=dictionary, compression="zstd")
print(f"wrote {TARGET}: {table.num_rows} rows")
