//! Input formats: one file each, behind one trait. A format turns one file into chunks of
//! [`RawTable`]s — the file's own columns and types, the line of each row, and the lines that
//! could not even be split into fields. What a record *means* (a source map, `mapping.rs`) and
//! type normalisation (`normalise.rs`) happen afterwards, in one place, whatever the format.
//!
//! Adding a format is adding a file here: implement [`InputFormat`], add a variant to
//! [`super::Format`] and return the reader from [`super::Format::reader`].

pub mod access_log;
pub mod columnar;
pub mod csv;
pub mod csv_records;
mod dictionary_lists;
pub mod jsonl;
mod parquet_dictionary;
pub mod pgaudit;

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;

use super::QuarantineRecord;
use crate::error::{Error, PolarsContext, Result};

/// A CSV record or JSON line longer than this is quarantined rather than read.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// One input format.
pub trait InputFormat: Sync {
    /// Reads `file` and calls `on_chunk(table, rows_before)` with at most `chunk_rows` data rows
    /// at a time, `rows_before` being the number of data rows of the file in earlier chunks.
    /// Always calls it at least once, so that an empty file's columns are still checked.
    fn read_chunks(&self, file: &InputFile, chunk_rows: usize, on_chunk: &mut ChunkSink) -> Result<()>;
}

/// Where a format sends its chunks.
pub type ChunkSink<'s> = dyn FnMut(RawTable, usize) -> Result<()> + 's;

/// One file to read, and how (from its source map, else the event frame's conventions).
pub struct InputFile<'a> {
    pub path: &'a Path,
    /// The path as the user gave it: what every message and the quarantine name.
    pub display: &'a str,
    pub options: &'a ReadOptions<'a>,
    /// How many chunks the reader may read ahead of the one being used, each on a thread of its
    /// own (only columnar readers do); 0 reads one chunk at a time (`--verbose`: each stage's CPU
    /// time its own).
    pub read_ahead: usize,
}

impl<'a> InputFile<'a> {
    /// A file read one chunk at a time.
    pub fn new(path: &'a Path, display: &'a str, options: &'a ReadOptions<'a>) -> InputFile<'a> {
        InputFile { path, display, options, read_ahead: 0 }
    }
}

/// How to read a file: the defaults read the event frame as the event model writes it.
#[derive(Clone, Copy, Default)]
pub struct ReadOptions<'a> {
    pub csv: csv::CsvOptions,
    /// JSON lines: nested objects become dotted columns (`user.id`) and arrays lists, for a
    /// source map to pick from; the event frame itself is flat.
    pub flatten_json: bool,
    /// Web access logs: the routes that turn requests into events.
    pub routes: Option<&'a access_log::RouteMap>,
    /// pgAudit logs: the accounts, recipients and tables that turn statements into events.
    pub pgaudit: Option<&'a pgaudit::PgAuditMap>,
    /// The judge's text columns (`event::CODED_COLUMNS`) may come as categoricals where the file
    /// stores them as dictionaries (Parquet): only a reader that takes both asks for it.
    pub coded_as_categories: bool,
}

/// One chunk of a file as read, before mapping and normalisation.
pub struct RawTable {
    pub frame: DataFrame,
    /// Physical line of each row, where the format has lines (1-based).
    pub lines: RowLines,
    /// Lines rejected while splitting the file into rows (e.g. invalid JSON).
    pub rejected: Vec<QuarantineRecord>,
    /// Rows (0-based in this chunk) already known to be unusable, with the first problem found:
    /// the source map marks them, the normaliser quarantines them.
    pub row_problems: BTreeMap<usize, RowProblem>,
    /// Records that are not events and are not errors either (a database log's other
    /// messages): counted, not quarantined.
    pub skipped: u64,
}

impl RawTable {
    pub fn new(frame: DataFrame, lines: RowLines) -> RawTable {
        RawTable { frame, lines, rejected: Vec::new(), row_problems: BTreeMap::new(), skipped: 0 }
    }

    /// Adds `more`'s rows after this table's, without copying values; columns are matched by
    /// name, a column one of them lacks being null there (JSON lines: later lines may bring keys).
    pub fn append(&mut self, more: RawTable) -> Result<()> {
        let height = self.frame.height();
        if self.frame.width() == 0 && height == 0 {
            self.frame = more.frame;
        } else {
            let mut more_frame = more.frame;
            for column in more_frame.columns() {
                if self.frame.column(column.name()).is_err() {
                    let nulls = Column::full_null(column.name().clone(), height, column.dtype());
                    self.frame.with_column(nulls).polars("stacking chunks")?;
                }
            }
            let more_height = more_frame.height();
            for column in self.frame.columns() {
                if more_frame.column(column.name()).is_err() {
                    let nulls = Column::full_null(column.name().clone(), more_height, column.dtype());
                    more_frame.with_column(nulls).polars("stacking chunks")?;
                }
            }
            let more_frame = more_frame.select(self.frame.get_column_names_owned()).polars("stacking chunks")?;
            self.frame.vstack_mut_owned(more_frame).polars("stacking chunks")?;
        }
        if let (RowLines::Listed(all), RowLines::Listed(more)) = (&mut self.lines, more.lines) {
            all.extend(more);
        }
        self.rejected.extend(more.rejected);
        self.skipped += more.skipped;
        self.row_problems.extend(more.row_problems.into_iter().map(|(row, p)| (row + height, p)));
        Ok(())
    }
}

/// Why a row cannot be used.
#[derive(Debug, Clone)]
pub struct RowProblem {
    /// The event field (or source column) at fault.
    pub column: String,
    pub value: String,
    pub reason: String,
}

impl RowProblem {
    pub fn new(column: &str, value: Option<&str>, reason: impl Into<String>) -> RowProblem {
        RowProblem {
            column: column.to_string(),
            value: value.unwrap_or("").chars().take(200).collect(),
            reason: reason.into(),
        }
    }
}

/// Where row `i` (0-based) sits in the file.
#[derive(Clone)]
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

    fn slice(&self, rows: std::ops::Range<usize>) -> RowLines {
        match self {
            RowLines::Listed(lines) => RowLines::Listed(lines[rows].to_vec()),
            RowLines::None => RowLines::None,
        }
    }
}

/// Reads a whole file as one table (reference tables such as habilitations, and tests).
pub fn read_whole(format: &dyn InputFormat, file: &InputFile) -> Result<RawTable> {
    let mut chunks: Vec<RawTable> = Vec::new();
    format.read_chunks(file, usize::MAX, &mut |table, _| {
        chunks.push(table);
        Ok(())
    })?;
    let mut chunks = chunks.into_iter();
    let mut whole = chunks.next().ok_or_else(|| Error::file(file.display, "no table read"))?;
    for chunk in chunks {
        whole.append(chunk).map_err(|e| Error::file(file.display, e.to_string()))?;
    }
    Ok(whole)
}

/// Sends `table` in slices of at most `chunk_rows` rows, `rows_before` being the file's rows
/// sent before it. Line rejects go with the first slice.
fn send_in_slices(table: RawTable, chunk_rows: usize, rows_before: usize, on_chunk: &mut ChunkSink) -> Result<()> {
    let RawTable { frame, lines, mut rejected, mut row_problems, skipped } = table;
    let (height, step) = (frame.height(), chunk_rows.max(1));
    let mut start = 0;
    loop {
        let length = step.min(height - start);
        let mut slice = RawTable::new(frame.slice(start as i64, length), lines.slice(start..start + length));
        slice.rejected = std::mem::take(&mut rejected);
        slice.skipped = if start == 0 { skipped } else { 0 };
        let rest = row_problems.split_off(&(start + length));
        slice.row_problems =
            std::mem::replace(&mut row_problems, rest).into_iter().map(|(row, p)| (row - start, p)).collect();
        on_chunk(slice, rows_before + start)?;
        start += length;
        if start >= height {
            return Ok(());
        }
    }
}

/// The string view of the field `data[range]`. A value of up to 12 bytes is held in the view
/// itself: it is read as one 16-byte word and masked (the buffers end with 16 bytes of
/// padding, `csv_records::PADDING`), not copied byte by byte — a copy through memory stalled
/// on every field, a third of the reading time.
#[inline]
pub(crate) fn view_of(data: &[u8], range: std::ops::Range<usize>, buffer: u32) -> polars_arrow::array::View {
    let length = range.len();
    // Cannot overflow: a part is a few tens of MiB (csv_records::PART_BYTES).
    let (start, length32) = (range.start as u32, length as u32);
    if length > polars_arrow::array::View::MAX_INLINE_SIZE as usize {
        let prefix = u32::from_le_bytes([
            data[range.start],
            data[range.start + 1],
            data[range.start + 2],
            data[range.start + 3],
        ]);
        return polars_arrow::array::View { length: length32, prefix, buffer_idx: buffer, offset: start };
    }
    let Some(word) = data.get(range.start..range.start + 16) else {
        return polars_arrow::array::View::new_from_bytes(&data[range], buffer, start);
    };
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(word);
    let word = u128::from_le_bytes(bytes);
    let kept = if length == 0 { 0 } else { word & (u128::MAX >> (128 - 8 * length)) };
    // An inline view: the length in its first four bytes, then the value.
    let inline = u128::from(length32) | (kept << 32);
    polars_arrow::array::View {
        length: length32,
        prefix: (inline >> 32) as u32,
        buffer_idx: (inline >> 64) as u32,
        offset: (inline >> 96) as u32,
    }
}

/// Reads from `source` onto the end of `buffer` until it holds `target` bytes; whether the
/// source ended (the window readers of CSV and JSON lines).
pub(crate) fn fill_to(source: &mut impl std::io::Read, buffer: &mut Vec<u8>, target: usize) -> std::io::Result<bool> {
    while buffer.len() < target {
        let start = buffer.len();
        buffer.resize(target, 0);
        let read = loop {
            match source.read(&mut buffer[start..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let read = read.inspect_err(|_| buffer.truncate(start))?;
        buffer.truncate(start + read);
        if read == 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Opens a file for reading, through gzip when its name ends in `.gz`.
pub(crate) fn open_maybe_gzipped(path: &Path) -> Result<Box<dyn std::io::Read>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gz")) {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    })
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
