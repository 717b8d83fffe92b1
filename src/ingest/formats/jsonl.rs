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
use polars_arrow::array::{Utf8ViewArray, View};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::ArrowDataType;
use polars_buffer::Buffer;
use rayon::prelude::*;
use serde_json::{Map, Value};

use super::{ChunkSink, InputFile, InputFormat, MAX_RECORD_BYTES, RawTable, RowLines, line_reject, view_of};
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
        if !self.source_done {
            self.source_done = super::fill_to(&mut self.source, &mut self.pending, target)?;
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
    let parts = line_parts(&window.bytes, 2 * rayon::current_num_threads().max(1));
    let parsed: Vec<ParsedLines> =
        parts.par_iter().map(|range| parse_lines(&window.bytes[range.clone()], flatten, file.display)).collect();
    let (mut lines, mut rejected, mut columns) = (Vec::new(), Vec::new(), Vec::with_capacity(parsed.len()));
    let mut first_line = window.first_line;
    for part in parsed {
        lines.extend(part.lines.iter().map(|offset| first_line + offset));
        rejected.extend(part.rejected.into_iter().map(|mut reject| {
            reject.line = reject.line.map(|offset| first_line + offset);
            reject
        }));
        first_line += part.line_ends;
        columns.push(part.columns);
    }
    let frame = Columns::into_frame(columns).polars(format!("{}: building the table", file.display))?;
    let mut table = RawTable::new(frame, RowLines::Listed(lines));
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
    // Text values take at most the part's bytes: the arena never grows (nor is copied).
    parsed.columns.arena.reserve(bytes.len());
    let (mut offset, mut start) = (0u64, 0usize);
    let ends = memchr::memchr_iter(b'\n', bytes).chain((bytes.last() != Some(&b'\n')).then_some(bytes.len()));
    for end in ends {
        let line = &bytes[start..end];
        let text = line.strip_suffix(b"\r").unwrap_or(line);
        read_line(text, offset, flatten, display, &mut parsed);
        offset += u64::from(end < bytes.len());
        start = end + 1;
    }
    parsed.line_ends = offset;
    parsed
}

/// One line: a row, a quarantined line, or nothing (blank).
fn read_line(bytes: &[u8], offset: u64, flatten: bool, display: &str, parsed: &mut ParsedLines) {
    if bytes.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
        return;
    }
    let Ok(line) = std::str::from_utf8(bytes) else {
        let reject =
            line_reject(display, offset, &String::from_utf8_lossy(bytes), "not valid UTF-8 (JSON lines are UTF-8)");
        parsed.rejected.push(reject);
        return;
    };
    let read = if line.len() > MAX_RECORD_BYTES {
        Err(format!("line of {} bytes, longer than the {} MiB limit", line.len(), MAX_RECORD_BYTES >> 20))
    } else if flatten {
        read_flattened(line, &mut parsed.columns)
    } else {
        read_event_line(line, &mut parsed.columns)
    };
    match read {
        Ok(()) => {
            parsed.columns.commit_line();
            parsed.lines.push(offset);
        }
        Err(reason) => {
            parsed.columns.drop_line();
            parsed.rejected.push(line_reject(display, offset, line, &reason));
        }
    }
}

/// Why a line that is not an object could not be read: not JSON, or JSON of another kind.
fn not_an_object(line: &str) -> String {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(_)) | Ok(_) => "not a JSON object".to_string(),
        Err(e) => format!("invalid JSON: {e}"),
    }
}

/// A line read as the event frame: each key a column, its value as text. The object is walked
/// by serde_json without building it (keys borrowed from the line, values as their raw JSON
/// text), so a line costs no allocation but its text.
fn read_event_line(line: &str, columns: &mut Columns) -> std::result::Result<(), String> {
    if !line.trim_start_matches([' ', '\t', '\r']).starts_with('{') {
        return Err(not_an_object(line));
    }
    let mut deserializer = serde_json::Deserializer::from_str(line);
    let mut refused = None;
    let walked =
        serde::Deserializer::deserialize_map(&mut deserializer, ObjectWalker { columns, refused: &mut refused });
    walked.and_then(|()| deserializer.end()).map_err(|e| refused.unwrap_or_else(|| format!("invalid JSON: {e}")))
}

/// Walks a line's object into [`Columns`].
struct ObjectWalker<'c> {
    columns: &'c mut Columns,
    /// Why a value was refused, when one was (the JSON itself may be fine).
    refused: &'c mut Option<String>,
}

impl<'de> serde::de::Visitor<'de> for ObjectWalker<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            let raw: &'de serde_json::value::RawValue = map.next_value()?;
            let text = match event_text(&key, raw.get()) {
                Ok(text) => text,
                Err(reason) => {
                    *self.refused = Some(reason);
                    return Err(serde::de::Error::custom("refused"));
                }
            };
            self.columns.push(&key, text.as_deref());
        }
        Ok(())
    }
}

/// A key of a line, borrowed from it unless it holds escapes.
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> serde::de::Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, key: &'de str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Borrowed(key)))
            }
            fn visit_str<E>(self, key: &str) -> std::result::Result<Key<'de>, E> {
                Ok(Key(std::borrow::Cow::Owned(key.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A value as the event frame's text: strings as they are, numbers and booleans as JSON writes
/// them, arrays of scalars joined with `;` (categories), other objects and arrays as JSON text;
/// `None` for null. An object or array in a contract field other than `categories` is an error.
fn event_text<'v>(key: &str, raw: &'v str) -> std::result::Result<Option<std::borrow::Cow<'v, str>>, String> {
    use std::borrow::Cow;
    let invalid = |e: serde_json::Error| format!("invalid JSON: {e}");
    match raw.as_bytes().first() {
        Some(b'"') if !raw.contains('\\') => Ok(Some(Cow::Borrowed(&raw[1..raw.len() - 1]))),
        Some(b'"') => serde_json::from_str::<String>(raw).map(|text| Some(Cow::Owned(text))).map_err(invalid),
        Some(b'n') => Ok(None),
        Some(b't' | b'f') => Ok(Some(Cow::Borrowed(raw))),
        Some(b'[' | b'{') if crate::event::is_contract_column(key) && key != crate::event::CATEGORIES => {
            Err(format!("field `{key}` is an object or array; the event model expects a single value"))
        }
        Some(b'[') => match serde_json::from_str::<Vec<&str>>(raw) {
            // Strings without escapes, the usual list of categories: joined as they are.
            Ok(items) => Ok(Some(Cow::Owned(items.join(";")))),
            Err(_) => {
                serde_json::from_str::<Value>(raw).map(|value| json_scalar_text(value).map(Cow::Owned)).map_err(invalid)
            }
        },
        Some(b'{') => {
            serde_json::from_str::<Value>(raw).map(|value| Some(Cow::Owned(value.to_string()))).map_err(invalid)
        }
        // A number, written as serde_json writes it (`1e2` → `100.0`).
        _ => serde_json::from_str::<serde_json::Number>(raw).map(|n| Some(Cow::Owned(n.to_string()))).map_err(invalid),
    }
}

/// A line read for a source map: nested objects as dotted columns, arrays of scalars as lists.
fn read_flattened(line: &str, columns: &mut Columns) -> std::result::Result<(), String> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(object)) => {
            push_flattened(columns, "", object);
            Ok(())
        }
        Ok(_) => Err("not a JSON object".to_string()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

/// One value of a row: text held in its part's arena, a list (flattened arrays), or null.
#[derive(Clone)]
enum Cell {
    Null,
    Text { start: u32, length: u32 },
    List(Vec<String>),
}

/// The columns of one part, in order of first appearance: text values back to back in one
/// arena, each row's cells pointing into it (the frame's string views then point there too).
#[derive(Default)]
struct Columns {
    names: Vec<String>,
    cells: Vec<Vec<Cell>>,
    arena: Vec<u8>,
    /// The arena once frozen (padded), which the frame's views point into.
    buffer: Buffer<u8>,
    rows: usize,
    /// The line being read, kept aside until the whole line proves good.
    line: Vec<(usize, Cell)>,
    line_start: usize,
    /// The column after the last one met: lines mostly repeat their keys in one order.
    next: usize,
}

impl Columns {
    fn column(&mut self, key: &str) -> usize {
        // From the column after the last one met, onwards then from the start: a line that
        // leaves out a key (a null) finds the next one a step further.
        let count = self.names.len();
        let found = (0..count).map(|step| (self.next + step) % count).find(|&index| self.names[index] == key);
        let index = found.unwrap_or_else(|| {
            self.names.push(key.to_string());
            self.cells.push(vec![Cell::Null; self.rows]);
            self.names.len() - 1
        });
        self.next = index + 1;
        index
    }

    fn push(&mut self, key: &str, text: Option<&str>) {
        let column = self.column(key);
        let cell = match text {
            None => Cell::Null,
            Some(text) => {
                let start = self.arena.len();
                self.arena.extend_from_slice(text.as_bytes());
                // Cannot overflow: a part is a few tens of MiB of lines of at most 16 MiB.
                Cell::Text { start: start as u32, length: text.len() as u32 }
            }
        };
        self.line.push((column, cell));
    }

    fn push_list(&mut self, key: &str, items: Vec<String>) {
        let column = self.column(key);
        self.line.push((column, Cell::List(items)));
    }

    /// The line read is a row (a key given twice keeps its last value, as in a JSON object).
    fn commit_line(&mut self) {
        for cells in &mut self.cells {
            cells.push(Cell::Null);
        }
        for (column, cell) in self.line.drain(..) {
            self.cells[column][self.rows] = cell;
        }
        self.rows += 1;
        self.line_start = self.arena.len();
        self.next = 0;
    }

    /// The line read is not a row: what it added is forgotten.
    fn drop_line(&mut self) {
        self.line.clear();
        self.arena.truncate(self.line_start);
        self.next = 0;
    }

    /// The parts' rows as one frame: a column of lists where every value is a list, else of
    /// text (lists joined with `;`), as string views into the parts' arenas.
    fn into_frame(mut parts: Vec<Columns>) -> PolarsResult<DataFrame> {
        let rows: usize = parts.iter().map(|part| part.rows).sum();
        // Frozen once, shared by every column; padded for `view_of`.
        for part in &mut parts {
            let mut arena = std::mem::take(&mut part.arena);
            arena.resize(arena.len() + super::csv_records::PADDING, 0);
            part.buffer = Buffer::from_vec(arena);
        }
        let mut names: Vec<&str> = Vec::new();
        for part in &parts {
            for name in &part.names {
                if !names.contains(&name.as_str()) {
                    names.push(name);
                }
            }
        }
        // Each column built on its own core (they share only the frozen arenas).
        let columns = names.par_iter().map(|name| {
            let cells: Vec<(u32, Option<&[Cell]>, usize)> = parts
                .iter()
                .enumerate()
                .map(|(index, part)| {
                    let cells = part.names.iter().position(|n| n == name).map(|column| part.cells[column].as_slice());
                    (index as u32, cells, part.rows)
                })
                .collect();
            column_of(name, &parts, &cells, rows)
        });
        let columns: Vec<Column> = columns.collect::<PolarsResult<_>>()?;
        DataFrame::new(rows, columns)
    }
}

/// One column of the parts' rows (`cells`: per part, its cells, or none when it lacks the key).
fn column_of(
    name: &str,
    parts: &[Columns],
    cells: &[(u32, Option<&[Cell]>, usize)],
    rows: usize,
) -> PolarsResult<Column> {
    // A column of lists when it holds a list and no text; one pass over the cells, stopping at
    // the first text (most columns).
    let (mut any_list, mut any_text) = (false, false);
    for cell in cells.iter().filter_map(|(_, cells, _)| *cells).flatten() {
        match cell {
            Cell::Text { .. } => {
                any_text = true;
                break;
            }
            Cell::List(_) => any_list = true,
            Cell::Null => {}
        }
    }
    let lists = any_list && !any_text;
    if lists {
        let mut builder = ListStringChunkedBuilder::new(name.into(), rows, rows * 2);
        for (_, part_cells, part_rows) in cells {
            match part_cells {
                None => (0..*part_rows).for_each(|_| builder.append_null()),
                Some(part_cells) => part_cells.iter().for_each(|cell| match cell {
                    Cell::List(items) => builder.append_values_iter(items.iter().map(String::as_str)),
                    _ => builder.append_null(),
                }),
            }
        }
        return Ok(builder.finish().into_column());
    }
    // Lists among text are joined into a buffer of their own, after the parts' arenas.
    let joined_buffer = parts.len() as u32;
    let mut joined: Vec<u8> = Vec::new();
    let (mut views, mut valid, mut bytes) = (Vec::with_capacity(rows), Vec::with_capacity(rows), 0usize);
    for (part, part_cells, part_rows) in cells {
        let Some(part_cells) = part_cells else {
            views.extend(std::iter::repeat_n(View::default(), *part_rows));
            valid.extend(std::iter::repeat_n(false, *part_rows));
            continue;
        };
        let arena = &parts[*part as usize].buffer;
        for cell in *part_cells {
            let view = match cell {
                Cell::Null => None,
                Cell::Text { start, length } => {
                    let range = *start as usize..(*start + *length) as usize;
                    Some(view_of(arena, range, *part))
                }
                Cell::List(items) => {
                    let text = items.join(";");
                    let start = joined.len() as u32;
                    joined.extend_from_slice(text.as_bytes());
                    Some(View::new_from_bytes(text.as_bytes(), joined_buffer, start))
                }
            };
            bytes += view.map_or(0, |v| v.length as usize);
            valid.push(view.is_some());
            views.push(view.unwrap_or_default());
        }
    }
    let buffers: Vec<Buffer<u8>> =
        parts.iter().map(|part| part.buffer.clone()).chain([Buffer::from_vec(joined)]).collect();
    let buffer_bytes = buffers.iter().map(|b| b.len()).sum();
    let validity = valid.iter().any(|v| !v).then(|| Bitmap::from_iter(valid));
    // SAFETY: each view was made by `View::new_from_bytes` from the bytes of the buffer it names
    // (a part's arena, or the joined lists), at the offset it names; those are UTF-8, copied from
    // the line's `str` or from `String`s.
    let array = unsafe {
        Utf8ViewArray::new_unchecked(
            ArrowDataType::Utf8View,
            Buffer::from_vec(views),
            Buffer::from_vec(buffers),
            validity,
            Some(bytes),
            buffer_bytes,
        )
    };
    Ok(StringChunked::with_chunk(name.into(), array).into_column())
}

/// Nested objects as dotted keys; arrays of scalars as lists; anything else as its JSON text.
fn push_flattened(columns: &mut Columns, prefix: &str, object: Map<String, Value>) {
    for (key, value) in object {
        let name = if prefix.is_empty() { key } else { format!("{prefix}.{key}") };
        match value {
            Value::Object(inner) => push_flattened(columns, &name, inner),
            Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
                columns.push_list(&name, items.into_iter().filter_map(json_scalar_text).collect());
            }
            Value::Array(items) => columns.push(&name, Some(&Value::Array(items).to_string())),
            scalar => columns.push(&name, json_scalar_text(scalar).as_deref()),
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

    /// Chunks whose lines brought different keys stack by name (a whole-file read).
    #[test]
    fn tables_with_other_keys_append_by_name() {
        let table = |text: &str| {
            let parsed = parse_lines(text.as_bytes(), false, "e.jsonl");
            RawTable::new(Columns::into_frame(vec![parsed.columns]).unwrap(), RowLines::Listed(parsed.lines))
        };
        let mut first = table("{\"a\":\"1\",\"b\":\"2\"}\n");
        first.append(table("{\"c\":\"3\",\"a\":\"4\"}\n")).unwrap();
        let column = |name: &str| {
            first.frame.column(name).unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect::<Vec<_>>()
        };
        assert_eq!(column("a"), vec![Some("1".to_string()), Some("4".to_string())]);
        assert_eq!(column("b"), vec![Some("2".to_string()), None]);
        assert_eq!(column("c"), vec![None, Some("3".to_string())]);
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
