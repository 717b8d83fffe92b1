//! JSON lines (`.jsonl`, `.ndjson`, plain or `.gz`), streamed a window of whole lines at a time
//! and parsed on every core. A line that is not UTF-8, not JSON or not an object is quarantined
//! with its number and the reason; every other line is read. A chunk's columns are the union of
//! its lines' keys and of the columns met in earlier chunks (absent → null).
//!
//! Read as the event frame, scalars become text and arrays text joined with `;` (the CSV
//! convention, split again by the normaliser); an object or array in a contract field is a
//! quarantined line. Read for a source map (`flatten_json`), nested objects become dotted
//! columns (`{"user": {"id": 7}}` → `user.id`) and a key holding arrays on every line of a chunk a
//! list.

use std::io::Read;

use polars::prelude::*;
use rayon::prelude::*;
use serde_json::{Map, Value};

use super::{ChunkSink, InputFile, InputFormat, MAX_RECORD_BYTES, RawTable, RowLines, line_reject};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::QuarantineRecord;

pub struct JsonLines;

impl InputFormat for JsonLines {
    fn read_chunks(&self, file: &InputFile, chunk_rows: usize, on_chunk: &mut ChunkSink) -> Result<()> {
        let mut windows = LineWindows::new(super::open_maybe_gzipped(file.path)?);
        let (mut known, mut rows_before, mut sent) = (Vec::<String>::new(), 0usize, false);
        let cannot_read = |e: std::io::Error| Error::file(file.display, format!("cannot read: {e}"));
        while let Some(window) = windows.next_window(WINDOW_BYTES).map_err(cannot_read)? {
            let mut table = read_window(&window, file)?;
            align_with_known(&mut table.frame, &mut known, file.display)?;
            if let Some((line, head, bytes)) = &window.too_long {
                let reason = format!("line of {bytes} bytes, longer than the {} MiB limit", MAX_RECORD_BYTES >> 20);
                table.rejected.insert(0, line_reject(file.display, *line, &String::from_utf8_lossy(head), &reason));
            }
            if table.frame.height() == 0 && table.rejected.is_empty() {
                continue;
            }
            let rows = table.frame.height();
            super::send_in_slices(table, chunk_rows, rows_before, on_chunk)?;
            rows_before += rows;
            sent = true;
        }
        if !sent {
            on_chunk(RawTable::new(DataFrame::empty(), RowLines::Listed(Vec::new())), 0)?;
        }
        Ok(())
    }
}

/// Bytes of whole lines read at a time: a few tens of MiB whatever the file's size.
const WINDOW_BYTES: usize = 32 << 20;

/// Gives a chunk the columns of the chunks before it (null where its lines lack them) and
/// remembers its new ones, so that every chunk of a file has the columns met so far.
fn align_with_known(frame: &mut DataFrame, known: &mut Vec<String>, display: &str) -> Result<()> {
    let height = frame.height();
    for name in known.iter() {
        if frame.column(name).is_err() {
            let column = Column::full_null(name.as_str().into(), height, &DataType::String);
            frame.with_column(column).polars(format!("{display}: building the table"))?;
        }
    }
    for name in frame.get_column_names() {
        if !known.iter().any(|k| k == name.as_str()) {
            known.push(name.to_string());
        }
    }
    Ok(())
}

/// A window of whole lines of a file.
struct LineWindow {
    bytes: Vec<u8>,
    /// The line `bytes` start on, 1-based.
    first_line: u64,
    /// A line longer than [`MAX_RECORD_BYTES`] skipped before this window: its number, its
    /// first bytes and its length.
    too_long: Option<(u64, Vec<u8>, u64)>,
}

/// A text source read a window of whole lines at a time (a UTF-8 byte-order mark at its start
/// dropped).
struct LineWindows<R> {
    source: R,
    /// Bytes read after the last whole line.
    pending: Vec<u8>,
    /// The line `pending` starts on.
    line: u64,
    source_done: bool,
    started: bool,
}

impl<R: Read> LineWindows<R> {
    fn new(source: R) -> LineWindows<R> {
        LineWindows { source, pending: Vec::new(), line: 1, source_done: false, started: false }
    }

    fn next_window(&mut self, size: usize) -> std::io::Result<Option<LineWindow>> {
        let mut too_long = None;
        loop {
            if self.pending.len() > MAX_RECORD_BYTES && memchr::memchr(b'\n', &self.pending).is_none() {
                too_long = Some(self.skip_line()?);
                continue;
            }
            self.fill(self.pending.len().max(size / 2) + size / 2)?;
            if !self.started && self.pending.len() >= 3 {
                self.started = true;
                if self.pending.starts_with(b"\xEF\xBB\xBF") {
                    self.pending.drain(..3);
                }
            }
            let cut = if self.source_done {
                self.pending.len()
            } else {
                match memchr::memrchr(b'\n', &self.pending) {
                    Some(at) => at + 1,
                    None => continue,
                }
            };
            if cut == 0 {
                return Ok(too_long.map(|too_long| LineWindow {
                    bytes: Vec::new(),
                    first_line: self.line,
                    too_long: Some(too_long),
                }));
            }
            let rest = self.pending.split_off(cut);
            let bytes = std::mem::replace(&mut self.pending, rest);
            let first_line = self.line;
            self.line += memchr::memchr_iter(b'\n', &bytes).count() as u64;
            return Ok(Some(LineWindow { bytes, first_line, too_long }));
        }
    }

    /// Reads until `pending` holds `target` bytes or the source ends.
    fn fill(&mut self, target: usize) -> std::io::Result<()> {
        while self.pending.len() < target && !self.source_done {
            let start = self.pending.len();
            self.pending.resize(target, 0);
            let read = loop {
                match self.source.read(&mut self.pending[start..]) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let read = read.inspect_err(|_| self.pending.truncate(start))?;
            self.pending.truncate(start + read);
            self.source_done = read == 0;
        }
        Ok(())
    }

    /// Skips the line `pending` starts with (no line end in it yet), reading on without holding it.
    fn skip_line(&mut self) -> std::io::Result<(u64, Vec<u8>, u64)> {
        let head = self.pending[..200].to_vec();
        let line = self.line;
        let mut length = self.pending.len() as u64;
        self.pending.clear();
        let mut piece = vec![0u8; 1 << 20];
        loop {
            let read = self.source.read(&mut piece)?;
            if read == 0 {
                self.source_done = true;
                return Ok((line, head, length));
            }
            if let Some(at) = memchr::memchr(b'\n', &piece[..read]) {
                self.pending.extend_from_slice(&piece[at + 1..read]);
                self.line += 1;
                return Ok((line, head, length + at as u64));
            }
            length += read as u64;
        }
    }
}

/// One window's lines as a table, parsed one part per core.
fn read_window(window: &LineWindow, file: &InputFile) -> Result<RawTable> {
    let flatten = file.options.flatten_json;
    let parts = line_parts(&window.bytes, rayon::current_num_threads().max(1));
    let parsed: Vec<ParsedLines> =
        parts.par_iter().map(|range| parse_lines(&window.bytes[range.clone()], flatten, file.display)).collect();
    let mut columns = Columns::default();
    let (mut lines, mut rejected) = (Vec::new(), Vec::new());
    let mut first_line = window.first_line;
    for part in parsed {
        lines.extend(part.lines.iter().map(|offset| first_line + offset));
        rejected.extend(part.rejected.into_iter().map(|mut reject| {
            reject.line = reject.line.map(|offset| first_line + offset);
            reject
        }));
        first_line += part.line_ends;
        columns.append(part.columns);
    }
    let mut table = RawTable::new(columns.into_frame(file.display)?, RowLines::Listed(lines));
    table.rejected = rejected;
    Ok(table)
}

/// Cuts `bytes` after line ends into about `count` parts.
fn line_parts(bytes: &[u8], count: usize) -> Vec<std::ops::Range<usize>> {
    let size = bytes.len().div_ceil(count).max(1);
    let mut parts = Vec::with_capacity(count);
    let mut start = 0;
    while start < bytes.len() {
        let aim = (start + size).min(bytes.len());
        let end = match memchr::memchr(b'\n', &bytes[aim..]) {
            Some(at) if aim < bytes.len() => aim + at + 1,
            _ => bytes.len(),
        };
        parts.push(start..end);
        start = end;
    }
    parts
}

/// The lines of one part: columns, each row's line and the rejected lines, lines counted from
/// the part's first (0).
struct ParsedLines {
    columns: Columns,
    lines: Vec<u64>,
    rejected: Vec<QuarantineRecord>,
    line_ends: u64,
}

fn parse_lines(bytes: &[u8], flatten: bool, display: &str) -> ParsedLines {
    let mut parsed = ParsedLines { columns: Columns::default(), lines: Vec::new(), rejected: Vec::new(), line_ends: 0 };
    let mut offset = 0u64;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        let ended = line.last() == Some(&b'\n');
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        read_line(text, offset, flatten, display, &mut parsed);
        offset += u64::from(ended);
    }
    parsed.line_ends = offset;
    parsed
}

/// One line: a row, a quarantined line, or nothing (blank).
fn read_line(bytes: &[u8], offset: u64, flatten: bool, display: &str, parsed: &mut ParsedLines) {
    if bytes.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
        return;
    }
    let mut reject = |text: &str, reason: &str| parsed.rejected.push(line_reject(display, offset, text, reason));
    let Ok(line) = std::str::from_utf8(bytes) else {
        reject(&String::from_utf8_lossy(bytes), "not valid UTF-8 (JSON lines are UTF-8)");
        return;
    };
    if line.len() > MAX_RECORD_BYTES {
        let reason = format!("line of {} bytes, longer than the {} MiB limit", line.len(), MAX_RECORD_BYTES >> 20);
        reject(line, &reason);
        return;
    }
    let object = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(object)) => object,
        Ok(_) => return reject(line, "not a JSON object"),
        Err(e) => return reject(line, &format!("invalid JSON: {e}")),
    };
    if !flatten
        && let Some((key, _)) = object.iter().find(|(key, value)| {
            crate::event::is_contract_column(key)
                && key.as_str() != "categories"
                && (value.is_object() || value.is_array())
        })
    {
        let reason = format!("field `{key}` is an object or array; the event model expects a single value");
        return reject(line, &reason);
    }
    parsed.lines.push(offset);
    let columns = &mut parsed.columns;
    if flatten {
        push_flattened(columns, "", object);
    } else {
        for (key, value) in object {
            columns.push(key, json_scalar_text(value).map(Cell::Text));
        }
    }
    columns.end_row();
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

    /// Adds the rows of `more` (another part's) after these.
    fn append(&mut self, more: Columns) {
        let rows = self.rows + more.rows;
        for (key, cells) in more.columns {
            let position = match self.columns.iter().position(|(name, _)| *name == key) {
                Some(position) => position,
                None => {
                    self.columns.push((key, Vec::new()));
                    self.columns.len() - 1
                }
            };
            let values = &mut self.columns[position].1;
            values.resize_with(self.rows, || None);
            values.extend(cells);
        }
        self.rows = rows;
        for (_, values) in self.columns.iter_mut() {
            values.resize_with(rows, || None);
        }
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
        crate::ingest::formats::read_whole(&JsonLines, &InputFile::new(&path, "e.jsonl", &options)).unwrap()
    }

    #[test]
    fn a_line_with_a_bad_byte_is_quarantined_and_the_others_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.jsonl");
        std::fs::write(&path, b"\xEF\xBB\xBF{\"a\":\"1\"}\r\n{\"a\":\"\xff\"}\n \t\r\n{\"a\":2}").unwrap();
        let options = ReadOptions::default();
        let raw = crate::ingest::formats::read_whole(&JsonLines, &InputFile::new(&path, "e.jsonl", &options)).unwrap();
        let values: Vec<Option<&str>> = raw.frame.column("a").unwrap().str().unwrap().iter().collect();
        assert_eq!(values, vec![Some("1"), Some("2")]);
        assert_eq!((raw.lines.line_of(0), raw.lines.line_of(1)), (Some(1), Some(4)));
        assert_eq!(raw.rejected.len(), 1);
        assert_eq!(raw.rejected[0].line, Some(2));
        assert!(raw.rejected[0].reason.starts_with("not valid UTF-8"));
    }

    #[test]
    fn windows_cut_at_line_ends_keep_every_line_and_its_number() {
        let text: String =
            (0..500).map(|i| if i % 7 == 3 { "\n".to_string() } else { format!("{{\"n\":{i}}}\n") }).collect();
        for size in [2, 3, 17, 64, 1000, 1 << 20] {
            let mut windows = LineWindows::new(text.as_bytes());
            let mut seen = Vec::new();
            while let Some(window) = windows.next_window(size).unwrap() {
                let parsed = parse_lines(&window.bytes, false, "e.jsonl");
                seen.extend(parsed.lines.iter().map(|offset| window.first_line + offset));
            }
            let expected: Vec<u64> = (0..500u64).filter(|i| i % 7 != 3).map(|i| i + 1).collect();
            assert_eq!(seen, expected, "windows of {size} bytes");
        }
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
