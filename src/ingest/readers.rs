//! Format readers: each turns one file into a [`RawTable`] — a DataFrame with the file's own
//! columns and types, plus the lines that could not even be split into fields (JSON lines only).
//! Type normalisation happens afterwards, in one place (`normalise.rs`), whatever the format.

use std::io::{BufRead, BufReader};
use std::path::Path;

use polars::prelude::*;
use serde_json::Value;

use super::{Format, QuarantineRecord};
use crate::error::{Error, PolarsContext, Result};

/// A CSV record or JSON line longer than this is quarantined rather than read.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// One file as read, before normalisation.
pub struct RawTable {
    pub frame: DataFrame,
    /// Physical line of each row, where the format has lines (1-based).
    pub lines: RowLines,
    /// Lines rejected while splitting the file into rows (e.g. invalid JSON).
    pub rejected: Vec<QuarantineRecord>,
}

/// Where row `i` (0-based) sits in the file.
pub enum RowLines {
    /// CSV and JSON lines: blank, rejected and multi-line records make line ≠ row + offset, so
    /// the first line of each row is recorded.
    Listed(Vec<u64>),
    /// Columnar formats have rows, not lines.
    None,
}

impl RowLines {
    pub fn line_of(&self, row: usize) -> Option<u64> {
        match self {
            RowLines::Listed(lines) => lines.get(row).copied(),
            RowLines::None => None,
        }
    }
}

pub fn read(path: &Path, format: Format, display: &str) -> Result<RawTable> {
    match format {
        Format::Csv => read_csv(path, display),
        Format::JsonLines => read_json_lines(path, display),
        Format::Parquet => read_columnar(path, display, false),
        Format::ArrowIpc => read_columnar(path, display, true),
        Format::AccessLog => Err(Error::file(display, "a web access log needs a route map (--routes)")),
    }
}

/// CSV: every field read as text (no type inference, so a bad value in row 9,000 cannot change
/// how row 1 is read); empty fields are nulls. Rows with the wrong number of fields or invalid
/// UTF-8 are quarantined with their line instead of failing the whole file.
fn read_csv(path: &Path, display: &str) -> Result<RawTable> {
    let file = CsvFile::scan(path, display)?;
    let mut table = file.table(0..file.rows())?;
    table.rejected = file.rejected;
    Ok(table)
}

/// A CSV file split into records, checked, ready to be parsed a range of rows at a time (the
/// audit streams it in chunks; the file's bytes stay in memory, its parsed rows do not).
pub struct CsvFile {
    display: String,
    bytes: Vec<u8>,
    /// The header record, then the records kept (valid), in file order.
    records: Vec<super::csv_records::Record>,
    /// Records that could not be used, with the reason.
    pub rejected: Vec<QuarantineRecord>,
}

impl CsvFile {
    pub fn scan(path: &Path, display: &str) -> Result<CsvFile> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let mut file = CsvFile { display: display.to_string(), bytes, records: Vec::new(), rejected: Vec::new() };
        if file.bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(file);
        }
        let records = super::csv_records::scan(&file.bytes);
        let header_fields = records.first().map_or(0, |r| r.fields);
        let problem = |record: &super::csv_records::Record| {
            let text = &file.bytes[record.bytes.clone()];
            if text.len() > MAX_RECORD_BYTES {
                Some(format!("record of {} bytes, longer than the {} MiB limit", text.len(), MAX_RECORD_BYTES >> 20))
            } else if std::str::from_utf8(text).is_err() {
                Some("not valid UTF-8 (convert the file to UTF-8)".to_string())
            } else if text.contains(&0) {
                Some("contains NUL bytes (binary data in a text log?)".to_string())
            } else if record.fields != header_fields {
                Some(format!("{} fields, the header has {header_fields}", record.fields))
            } else {
                None
            }
        };
        if let Some(reason) = records.first().and_then(problem) {
            return Err(Error::Input {
                file: display.into(),
                location: "line 1".into(),
                message: format!("header: {reason}"),
            });
        }
        if let Some(header) = records.first() {
            let text = String::from_utf8_lossy(&file.bytes[header.bytes.clone()]).to_string();
            let mut seen = std::collections::BTreeSet::new();
            for name in text.trim_start_matches('\u{feff}').split(',').map(|n| n.trim().trim_matches('"')) {
                if !seen.insert(name.to_string()) {
                    return Err(Error::Input {
                        file: display.into(),
                        location: "line 1".into(),
                        message: format!(
                            "column `{name}` appears twice in the header: which one is meant cannot be known"
                        ),
                    });
                }
            }
        }
        let mut kept = Vec::with_capacity(records.len());
        for (index, record) in records.into_iter().enumerate() {
            match problem(&record).filter(|_| index > 0) {
                Some(reason) => {
                    let text = String::from_utf8_lossy(&file.bytes[record.bytes.clone()]).to_string();
                    file.rejected.push(line_reject(display, record.line, &text, &reason));
                }
                None => kept.push(record),
            }
        }
        file.records = kept;
        Ok(file)
    }

    /// Data rows kept (the header is not one).
    pub fn rows(&self) -> usize {
        self.records.len().saturating_sub(1)
    }

    /// Data rows `rows` (0-based, among the rows kept) parsed as a table of text columns.
    pub fn table(&self, rows: std::ops::Range<usize>) -> Result<RawTable> {
        let Some(header) = self.records.first() else {
            return Ok(RawTable {
                frame: DataFrame::empty(),
                lines: RowLines::Listed(Vec::new()),
                rejected: Vec::new(),
            });
        };
        let chosen = &self.records[1 + rows.start..1 + rows.end];
        let mut source =
            Vec::with_capacity(chosen.iter().map(|r| r.bytes.len() + 1).sum::<usize>() + header.bytes.len() + 1);
        for record in std::iter::once(header).chain(chosen) {
            source.extend_from_slice(&self.bytes[record.bytes.clone()]);
            source.push(b'\n');
        }
        let frame = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .map_parse_options(|options| options.with_missing_is_null(true))
            .into_reader_with_file_handle(std::io::Cursor::new(source))
            .finish()
            .polars(format!("{}: cannot read as CSV", self.display))?;
        Ok(RawTable { frame, lines: RowLines::Listed(chosen.iter().map(|r| r.line).collect()), rejected: Vec::new() })
    }
}

fn read_columnar(path: &Path, display: &str, ipc: bool) -> Result<RawTable> {
    let frame = scan_columnar(path, ipc)
        .and_then(|lazy| lazy.collect())
        .polars(format!("{display}: cannot read as {}", columnar_kind(ipc)))?;
    Ok(RawTable { frame, lines: RowLines::None, rejected: Vec::new() })
}

fn scan_columnar(path: &Path, ipc: bool) -> PolarsResult<LazyFrame> {
    let path_text = path.to_string_lossy().to_string();
    if ipc {
        LazyFrame::scan_ipc(PlRefPath::new(path_text.as_str()), Default::default(), Default::default())
    } else {
        LazyFrame::scan_parquet(PlRefPath::new(path_text.as_str()), ScanArgsParquet::default())
    }
}

fn columnar_kind(ipc: bool) -> &'static str {
    if ipc { "Arrow IPC" } else { "Parquet" }
}

/// Rows in a Parquet or Arrow IPC file (from its metadata).
pub fn count_columnar_rows(path: &Path, display: &str, ipc: bool) -> Result<usize> {
    let counted = scan_columnar(path, ipc)
        .and_then(|lazy| lazy.select([len().cast(DataType::UInt64).alias("rows")]).collect())
        .polars(format!("{display}: cannot read as {}", columnar_kind(ipc)))?;
    let rows =
        counted.column("rows").and_then(|c| c.u64().map(|c| c.get(0))).polars(format!("{display}: row count"))?;
    Ok(rows.unwrap_or(0) as usize)
}

/// Rows `start .. start + length` of a Parquet or Arrow IPC file.
pub fn read_columnar_rows(path: &Path, display: &str, ipc: bool, start: usize, length: usize) -> Result<RawTable> {
    let frame =
        scan_columnar(path, ipc).and_then(|lazy| lazy.slice(start as i64, length as IdxSize).collect()).polars(
            format!("{display}: cannot read as {} (rows {} to {})", columnar_kind(ipc), start + 1, start + length),
        )?;
    Ok(RawTable { frame, lines: RowLines::None, rejected: Vec::new() })
}

/// JSON lines, parsed line by line so that one broken line is quarantined with its number
/// instead of failing the whole file. Scalars become text; `categories` arrays are joined with
/// `;` (the CSV convention) and split again by the normaliser.
fn read_json_lines(path: &Path, display: &str) -> Result<RawTable> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut columns: Vec<(String, Vec<Option<String>>)> = Vec::new();
    let mut lines = Vec::new();
    let mut rejected = Vec::new();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line_number = index as u64 + 1;
        let line = line.map_err(|e| Error::Input {
            file: display.to_string(),
            location: format!("line {line_number}"),
            message: format!("cannot read line: {e}"),
        })?;
        if line.trim().is_empty() {
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
        if line.len() > MAX_RECORD_BYTES {
            let reason = format!("line of {} bytes, longer than the {} MiB limit", line.len(), MAX_RECORD_BYTES >> 20);
            rejected.push(line_reject(display, line_number, &line, &reason));
            continue;
        }
        if let Some((key, _)) = object.iter().find(|(key, value)| {
            crate::event::is_contract_column(key)
                && key.as_str() != "categories"
                && (value.is_object() || value.is_array())
        }) {
            let reason = format!("field `{key}` is an object or array; the event model expects a single value");
            rejected.push(line_reject(display, line_number, &line, &reason));
            continue;
        }
        let row = lines.len();
        lines.push(line_number);
        for (key, value) in object {
            let position = match columns.iter().position(|(name, _)| *name == key) {
                Some(position) => position,
                None => {
                    columns.push((key, vec![None; row]));
                    columns.len() - 1
                }
            };
            columns[position].1.push(json_scalar_text(value));
        }
        for (_, values) in columns.iter_mut() {
            values.resize(row + 1, None);
        }
    }
    let height = lines.len();
    let frame_columns = columns.into_iter().map(|(name, values)| Column::new(name.into(), values)).collect();
    let frame = DataFrame::new(height, frame_columns).polars(format!("{display}: building the table"))?;
    Ok(RawTable { frame, lines: RowLines::Listed(lines), rejected })
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

fn line_reject(file: &str, line: u64, text: &str, reason: &str) -> QuarantineRecord {
    QuarantineRecord {
        file: file.to_string(),
        line: Some(line),
        row: None,
        column: String::new(),
        value: text.chars().take(200).collect(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_keep_line_numbers_and_reject_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.jsonl");
        std::fs::write(
            &path,
            "{\"event_id\":\"a\",\"categories\":[\"x\",\"y\"],\"record_count\":3}\n\n{oops\n[1]\n{\"event_id\":\"b\",\"extra\":true}\n",
        )
        .unwrap();
        let raw = read_json_lines(&path, "e.jsonl").unwrap();
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
}
