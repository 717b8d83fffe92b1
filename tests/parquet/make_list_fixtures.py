#!/usr/bin/env python3
"""Writes pyarrow_category_lists_v1.parquet and _v2.parquet: a `categories` list of text as
pyarrow writes it (items dictionary-encoded), with null lists, empty lists and, in the third
row group only, a null item; row groups of four rows, pages of a few values (so a row group has
several pages). The unit tests of
src/ingest/formats/dictionary_lists.rs decode it and compare with ROWS below.

usage: python3 tests/parquet/make_list_fixtures.py   (from the repository's root; pyarrow)
"""
import pyarrow as pa
import pyarrow.parquet as pq

ROWS = [
    ["health", "identity"], [], None, ["identity"],
    ["health", "health", "tax", "identity", "tax"], None, [], ["tax"],
    ["health", None], ["tax"], None, [],
]

table = pa.table({"categories": pa.array(ROWS, type=pa.list_(pa.string()))})
for version in ("1.0", "2.0"):
    target = f"tests/parquet/pyarrow_category_lists_v{version[0]}.parquet"
    pq.write_table(table, target, row_group_size=4, use_dictionary=True, compression="zstd",
                   data_page_size=1, write_batch_size=3, data_page_version=version)
    print(f"wrote {target}: {table.num_rows} rows")
