//! JSON lines (`.jsonl`, `.ndjson`, plain or `.gz`), parsed line by line so that one broken line
//! is quarantined with its number instead of failing the whole file. A file's columns are the
//! union of its lines' keys, so it is read whole, then sent in chunks.
//!
//! Read as the event frame, scalars become text and arrays text joined with `;` (the CSV
//! convention, split again by the normaliser); an object or array in a contract field is a
//! quarantined line. Read for a source map (`flatten_json`), nested objects become dotted
//! columns (`{"user": {"id": 7}}` → `user.id`) and a key holding arrays on every line a list.

use std::io::{BufRead, BufReader};

use polars::prelude::*;
use serde_json::{Map, Value};

use super::{ChunkSink, InputFile, InputFormat, MAX_RECORD_BYTES, RawTable, RowLines, line_reject};
use crate::error::{Error, PolarsContext, Result};

pub struct JsonLines;

impl InputFormat for JsonLines {
    fn read_chunks(&self, file: &InputFile, chunk_rows: usize, on_chunk: &mut ChunkSink) -> Result<()> {
        let table = read(file, file.options.flatten_json)?;
        super::send_in_slices(table, chunk_rows, on_chunk)
    }
}

/// One value of a line, before the column's type is known.
enum Cell {
    Text(String),
    List(Vec<String>),
}

/// The columns being built, in order of first appearance.
#[derive(Default)]
struct Columns {
    columns: Vec<(String, Vec<Option<Cell>>)>,
    rows: usize,
}

impl Columns {
    fn push(&mut self, key: String, cell: Option<Cell>) {
        let position = match self.columns.iter().position(|(name, _)| *name == key) {
            Some(position) => position,
            None => {
                self.columns.push((key, Vec::new()));
                self.columns.len() - 1
            }
        };
        let values = &mut self.columns[position].1;
        values.resize_with(self.rows, || None);
        values.push(cell);
    }

    fn end_row(&mut self) {
        self.rows += 1;
        for (_, values) in self.columns.iter_mut() {
            values.resize_with(self.rows, || None);
        }
    }

    /// A column of lists when every value is a list, else of text (lists joined with `;`).
    fn into_frame(self, display: &str) -> Result<DataFrame> {
        let rows = self.rows;
        let columns = self
            .columns
            .into_iter()
            .map(|(name, cells)| {
                let all_lists =
                    cells.iter().flatten().all(|c| matches!(c, Cell::List(_))) && cells.iter().any(|c| c.is_some());
                if all_lists {
                    let mut builder = ListStringChunkedBuilder::new(name.as_str().into(), rows, rows * 2);
                    for cell in cells {
                        match cell {
                            Some(Cell::List(items)) => builder.append_values_iter(items.iter().map(String::as_str)),
                            _ => builder.append_null(),
                        }
                    }
                    builder.finish().into_column()
                } else {
                    let texts: Vec<Option<String>> = cells
                        .into_iter()
                        .map(|cell| match cell {
                            Some(Cell::Text(text)) => Some(text),
                            Some(Cell::List(items)) => Some(items.join(";")),
                            None => None,
                        })
                        .collect();
                    Column::new(name.as_str().into(), texts)
                }
            })
            .collect();
        DataFrame::new(rows, columns).polars(format!("{display}: building the table"))
    }
}

fn read(input: &InputFile, flatten: bool) -> Result<RawTable> {
    let (path, display) = (input.path, input.display);
    let reader = super::open_maybe_gzipped(path)?;
    let mut columns = Columns::default();
    let mut lines = Vec::new();
    let mut rejected = Vec::new();
    for (index, line) in BufReader::new(reader).lines().enumerate() {
        let line_number = index as u64 + 1;
        let line = line.map_err(|e| Error::Input {
            file: display.to_string(),
            location: format!("line {line_number}"),
            message: format!("cannot read line: {e} (JSON lines are UTF-8)"),
        })?;
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > MAX_RECORD_BYTES {
            let reason = format!("line of {} bytes, longer than the {} MiB limit", line.len(), MAX_RECORD_BYTES >> 20);
            rejected.push(line_reject(display, line_number, &line, &reason));
            continue;
        }
        let object = match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(object)) => object,
            Ok(_) => {
                rejected.push(line_reject(display, line_number, &line, "not a JSON object"));
                continue;
            }
            Err(e) => {
                rejected.push(line_reject(display, line_number, &line, &format!("invalid JSON: {e}")));
                continue;
            }
        };
        if !flatten
            && let Some((key, _)) = object.iter().find(|(key, value)| {
                crate::event::is_contract_column(key)
                    && key.as_str() != "categories"
                    && (value.is_object() || value.is_array())
            })
        {
            let reason = format!("field `{key}` is an object or array; the event model expects a single value");
            rejected.push(line_reject(display, line_number, &line, &reason));
            continue;
        }
        lines.push(line_number);
        if flatten {
            push_flattened(&mut columns, "", object);
        } else {
            for (key, value) in object {
                columns.push(key, json_scalar_text(value).map(Cell::Text));
            }
        }
        columns.end_row();
    }
    let frame = columns.into_frame(display)?;
    let mut table = RawTable::new(frame, RowLines::Listed(lines));
    table.rejected = rejected;
    Ok(table)
}

/// Nested objects as dotted keys; arrays of scalars as lists; anything else as its JSON text.
fn push_flattened(columns: &mut Columns, prefix: &str, object: Map<String, Value>) {
    for (key, value) in object {
        let name = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
        match value {
            Value::Object(inner) => push_flattened(columns, &name, inner),
            Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
                columns.push(name, Some(Cell::List(items.into_iter().filter_map(json_scalar_text).collect())));
            }
            Value::Array(items) => columns.push(name, Some(Cell::Text(Value::Array(items).to_string()))),
            scalar => columns.push(name, json_scalar_text(scalar).map(Cell::Text)),
        }
    }
}

fn json_scalar_text(value: Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text),
        Value::Array(items) => {
            let parts: Vec<String> = items.into_iter().filter_map(json_scalar_text).collect();
            Some(parts.join(";"))
        }
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::formats::ReadOptions;

    fn read_text(text: &str, flatten: bool) -> RawTable {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.jsonl");
        std::fs::write(&path, text).unwrap();
        let options = ReadOptions { flatten_json: flatten, ..ReadOptions::default() };
        read(&InputFile::new(&path, "e.jsonl", &options), flatten).unwrap()
    }

    #[test]
    fn json_lines_keep_line_numbers_and_reject_bad_lines() {
        let raw = read_text(
            "{\"event_id\":\"a\",\"categories\":[\"x\",\"y\"],\"record_count\":3}\n\n{oops\n[1]\n{\"event_id\":\"b\",\"extra\":true}\n",
            false,
        );
        assert_eq!(raw.frame.height(), 2);
        assert_eq!(raw.rejected.len(), 2);
        assert_eq!(raw.rejected[0].line, Some(3));
        assert_eq!(raw.rejected[1].reason, "not a JSON object");
        assert_eq!(raw.lines.line_of(1), Some(5));
        let categories = raw.frame.column("categories").unwrap().str().unwrap().get(0);
        assert_eq!(categories, Some("x;y"));
        let extra = raw.frame.column("extra").unwrap().str().unwrap();
        assert_eq!((extra.get(0), extra.get(1)), (None, Some("true")));
    }

    #[test]
    fn flattened_lines_have_dotted_columns_and_lists() {
        let raw = read_text(
            "{\"user\":{\"id\":7,\"unit\":{\"code\":\"UD75\"}},\"fields\":[\"a;b\",\"c\"]}\n{\"user\":{\"id\":8},\"fields\":null}\n",
            true,
        );
        let ids = raw.frame.column("user.id").unwrap().str().unwrap();
        assert_eq!((ids.get(0), ids.get(1)), (Some("7"), Some("8")));
        assert_eq!(raw.frame.column("user.unit.code").unwrap().str().unwrap().get(1), None);
        let fields = raw.frame.column("fields").unwrap().list().unwrap();
        assert_eq!(fields.get_as_series(0).unwrap().len(), 2, "an item holding `;` stays one item");
        assert!(fields.get_as_series(1).is_none());
    }
}
