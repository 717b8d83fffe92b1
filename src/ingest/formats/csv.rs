//! Delimited text (CSV, and any other single-byte delimiter), streamed a window at a time: every
//! field read as text (no type inference, so a bad value in row 9,000 cannot change how row 1 is
//! read); an empty field, quoted (`""`) or not, is a null. Records are split by csv-core
//! (`csv_records.rs`); a record with the wrong number of fields, bytes invalid in the file's
//! encoding, NUL bytes or more than 16 MiB is quarantined with its line, and every other is read.
//!
//! The columns point into the parsed bytes (Arrow string views) instead of copying each value:
//! the file is read about as fast as its records can be split, on every core.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use encoding_rs::{CoderResult, Decoder, Encoding, UTF_8};
use polars::prelude::*;
use polars_arrow::array::{Utf8ViewArray, View};
use polars_arrow::bitmap::Bitmap;
use polars_arrow::datatypes::ArrowDataType;
use polars_buffer::Buffer;

use super::csv_records::{Block, Dialect, Part, Record, RecordStream, ShiftLines, TooLong};
use super::{ChunkSink, InputFile, InputFormat, MAX_RECORD_BYTES, RawTable, RowLines, line_reject, view_of};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::QuarantineRecord;

/// How a delimited file is written (a source map's `delimiter`, `quote`, `escape`, `encoding`,
/// `header`).
#[derive(Debug, Clone, Copy)]
pub struct CsvOptions {
    pub dialect: Dialect,
    /// The text encoding; a byte-order mark in the file overrides it.
    pub encoding: &'static Encoding,
    /// Whether the first record names the columns; without one, columns are named `1`, `2`, …
    pub header: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { dialect: Dialect::default(), encoding: UTF_8, header: true }
    }
}

pub struct Csv;

impl InputFormat for Csv {
    fn read_chunks(&self, input: &InputFile, chunk_rows: usize, on_chunk: &mut ChunkSink) -> Result<()> {
        let mut file = CsvReader::open(input.path, input.display, input.options.csv)?;
        let mut batch = ChunkBatcher::new(chunk_rows);
        while let Some(tables) = file.next_tables()? {
            for table in tables {
                batch.push(table, on_chunk)?;
            }
        }
        batch.finish(file.empty_table()?, on_chunk)
    }
}

/// Gathers the tables of a file's parts into chunks of at most `chunk_rows` rows (a part holds
/// a few tens of thousands), counting the rows sent before each.
struct ChunkBatcher {
    chunk_rows: usize,
    gathered: Option<RawTable>,
    rows_before: usize,
    sent: bool,
}

impl ChunkBatcher {
    fn new(chunk_rows: usize) -> ChunkBatcher {
        ChunkBatcher { chunk_rows: chunk_rows.max(1), gathered: None, rows_before: 0, sent: false }
    }

    fn push(&mut self, table: RawTable, on_chunk: &mut ChunkSink) -> Result<()> {
        if let Some(gathered) = self.gathered.as_mut()
            && gathered.frame.height() + table.frame.height() <= self.chunk_rows
        {
            return gathered.append(table);
        }
        self.flush(on_chunk)?;
        if table.frame.height() <= self.chunk_rows {
            self.gathered = Some(table);
            return Ok(());
        }
        let rows = table.frame.height();
        super::send_in_slices(table, self.chunk_rows, self.rows_before, on_chunk)?;
        self.rows_before += rows;
        self.sent = true;
        Ok(())
    }

    fn flush(&mut self, on_chunk: &mut ChunkSink) -> Result<()> {
        if let Some(table) = self.gathered.take() {
            let rows = table.frame.height();
            on_chunk(table, self.rows_before)?;
            self.rows_before += rows;
            self.sent = true;
        }
        Ok(())
    }

    /// Sends what is gathered, or `empty` when nothing was ever sent (an empty file's columns
    /// are still checked).
    fn finish(mut self, empty: RawTable, on_chunk: &mut ChunkSink) -> Result<()> {
        self.flush(on_chunk)?;
        if !self.sent {
            on_chunk(empty, 0)?;
        }
        Ok(())
    }
}

impl ShiftLines for RawTable {
    fn shift_lines(&mut self, by: u64) {
        if let RowLines::Listed(lines) = &mut self.lines {
            lines.iter_mut().for_each(|line| *line += by);
        }
        for reject in &mut self.rejected {
            reject.line = reject.line.map(|line| line + by);
        }
    }
}

/// How a file's bytes are text.
enum Text {
    /// UTF-8 as written: each record is checked.
    Utf8,
    /// An encoding that is not ASCII-compatible (UTF-16), decoded to UTF-8 as it is read; once
    /// the decoder met bytes it could not decode (`errors`), records holding U+FFFD, its mark
    /// for them, are quarantined.
    Decoded { encoding: &'static Encoding, errors: Arc<AtomicBool> },
    /// An ASCII-compatible encoding (Windows-1252, ISO-8859-15, Shift_JIS…): delimiters, quotes
    /// and line ends are the ASCII bytes, so records are split in the raw bytes and each field is
    /// decoded. `total` when every byte decodes (most single-byte encodings).
    PerField { encoding: &'static Encoding, total: bool },
}

fn invalid_in(encoding: &'static Encoding) -> String {
    format!("bytes not valid in {} (is the source map's `encoding` right?)", encoding.name())
}

const NOT_UTF8: &str = "not valid UTF-8 (convert the file to UTF-8, or give its `encoding` in a source map)";

/// A delimited file being read: its records, and what they are read as.
struct CsvReader {
    stream: RecordStream<Box<dyn Read>>,
    layout: Layout,
}

/// How a delimited file's records become rows (shared by the threads building its parts).
struct Layout {
    display: String,
    text: Text,
    options: CsvOptions,
    /// The columns' names: the header's, or `1`, `2`, … (none for an empty file).
    names: Vec<String>,
}

impl CsvReader {
    fn open(path: &Path, display: &str, options: CsvOptions) -> Result<CsvReader> {
        let (source, text) =
            open_text(super::open_maybe_gzipped(path)?, options.encoding).map_err(|e| Error::io(path, e))?;
        let mut stream = RecordStream::new(source, options.dialect);
        let mut layout = Layout { display: display.to_string(), text, options, names: Vec::new() };
        let first = stream.first_record(options.header).map_err(|e| layout.header_error(1, e.to_string()))?;
        if let Some((line, fields, raw)) = first {
            layout.names = layout.names(line, &fields, &raw)?;
        }
        Ok(CsvReader { stream, layout })
    }

    /// The next window's tables, one per part; `None` at the end of the file.
    fn next_tables(&mut self) -> Result<Option<Vec<RawTable>>> {
        let layout = &self.layout;
        let build = |part: Part| layout.table(part);
        let window = match self.stream.next_window(&build) {
            Ok(window) => window,
            Err(e) => return Err(Error::file(&layout.display, format!("cannot read: {e}"))),
        };
        let Some(window) = window else { return Ok(None) };
        let mut tables = window.parts.into_iter().collect::<Result<Vec<_>>>()?;
        if let Some(too_long) = window.too_long {
            let reject = layout.too_long(&too_long);
            match tables.first_mut() {
                Some(first) => first.rejected.insert(0, reject),
                None => {
                    let mut table = layout.empty_table()?;
                    table.rejected.push(reject);
                    tables.push(table);
                }
            }
        }
        Ok(Some(tables))
    }

    fn empty_table(&self) -> Result<RawTable> {
        self.layout.empty_table()
    }
}

impl Layout {
    fn header_error(&self, line: u64, message: String) -> Error {
        Error::Input { file: self.display.clone(), location: format!("line {line}"), message }
    }

    /// The header's names, or positions for as many fields as the first record has.
    fn names(&self, line: u64, fields: &[Vec<u8>], raw: &[u8]) -> Result<Vec<String>> {
        let what = if self.options.header { "header" } else { "first record" };
        if let Some(reason) = self.record_problem(raw, None) {
            return Err(self.header_error(line, format!("{what}: {reason}")));
        }
        if !self.options.header {
            return Ok((1..=fields.len()).map(|n| n.to_string()).collect());
        }
        let mut names = Vec::with_capacity(fields.len());
        let mut seen = std::collections::BTreeSet::new();
        for field in fields {
            let name = match self.decode(field) {
                Some(name) => name.into_owned(),
                None => return Err(self.header_error(line, format!("{what}: {}", self.encoding_reason()))),
            };
            if !seen.insert(name.trim().to_string()) {
                return Err(self.header_error(
                    line,
                    format!("column `{}` appears twice in the header: which one is meant cannot be known", name.trim()),
                ));
            }
            names.push(name);
        }
        Ok(names)
    }

    fn too_long(&self, record: &TooLong) -> QuarantineRecord {
        let reason = format!("record of {} bytes, longer than the {} MiB limit", record.bytes, MAX_RECORD_BYTES >> 20);
        line_reject(&self.display, record.line, &self.lossy(&record.head), &reason)
    }

    /// A table with the file's columns and no row.
    fn empty_table(&self) -> Result<RawTable> {
        if self.names.is_empty() {
            return Ok(RawTable::new(DataFrame::empty(), RowLines::Listed(Vec::new())));
        }
        let columns =
            self.names.iter().map(|name| Column::new_empty(name.as_str().into(), &DataType::String)).collect();
        let frame = DataFrame::new(0, columns).polars(format!("{}: building the table", self.display))?;
        Ok(RawTable::new(frame, RowLines::Listed(Vec::new())))
    }

    /// One part's records as a table: its good records as rows, the others quarantined.
    fn table(&self, part: Part) -> Result<RawTable> {
        let Part { bytes, mut block, first_line } = part;
        let data = std::mem::take(&mut block.data);
        let mut columns = ColumnBuilders::new(self.names.len(), block.records.len(), data);
        let mut lines = Vec::with_capacity(block.records.len());
        let mut rejected = Vec::new();
        let mut decoded = Vec::with_capacity(self.names.len());
        // Most parts are clean text throughout: checked once, their records need no byte check.
        let clean = !matches!(self.text, Text::PerField { .. })
            && memchr::memchr(0, bytes).is_none()
            && match &self.text {
                Text::Utf8 => std::str::from_utf8(bytes).is_ok(),
                _ => !contains_replacement(bytes),
            };
        for record in &block.records {
            let line = first_line + record.line_offset;
            let raw = &bytes[record.raw.clone()];
            let problem = if clean && raw.len() <= MAX_RECORD_BYTES {
                self.field_count_problem(record)
            } else {
                self.record_problem(raw, Some(record))
            };
            let problem = problem.or_else(|| self.decode_fields(&block, record, &columns.data, &mut decoded).err());
            match problem {
                Some(reason) => rejected.push(line_reject(&self.display, line, &self.lossy(raw), &reason)),
                None => {
                    lines.push(line);
                    columns.push_row(&block, record, &decoded);
                }
            }
        }
        let frame = columns.finish(&self.names).polars(format!("{}: building the table", self.display))?;
        let mut table = RawTable::new(frame, RowLines::Listed(lines));
        table.rejected = rejected;
        Ok(table)
    }

    /// Why a record cannot be read, if it cannot (its encoding is checked field by field where
    /// the file is decoded per field).
    fn record_problem(&self, raw: &[u8], record: Option<&Record>) -> Option<String> {
        if raw.len() > MAX_RECORD_BYTES {
            return Some(format!(
                "record of {} bytes, longer than the {} MiB limit",
                raw.len(),
                MAX_RECORD_BYTES >> 20
            ));
        }
        let encoding_problem = match &self.text {
            Text::Utf8 => std::str::from_utf8(raw).is_err(),
            Text::Decoded { errors, .. } => errors.load(Ordering::Relaxed) && contains_replacement(raw),
            Text::PerField { .. } => false,
        };
        if encoding_problem {
            return Some(self.encoding_reason());
        }
        if memchr::memchr(0, raw).is_some() {
            return Some("contains NUL bytes (binary data in a text log?)".to_string());
        }
        self.field_count_problem(record?)
    }

    /// A record with another number of fields than the header.
    fn field_count_problem(&self, record: &Record) -> Option<String> {
        let fields = record.field_count();
        (fields != self.names.len()).then(|| {
            let what = if self.options.header { "the header has" } else { "the first record has" };
            format!("{fields} fields, {what} {}", self.names.len())
        })
    }

    fn encoding_reason(&self) -> String {
        match &self.text {
            Text::Utf8 => NOT_UTF8.to_string(),
            Text::Decoded { encoding, .. } | Text::PerField { encoding, .. } => invalid_in(encoding),
        }
    }

    /// For a file decoded per field, each field of `record` decoded into `decoded` (empty for
    /// UTF-8 text, whose fields are used as they are); the reason when one does not decode.
    fn decode_fields(
        &self,
        block: &Block,
        record: &Record,
        data: &[u8],
        decoded: &mut Vec<Option<String>>,
    ) -> std::result::Result<(), String> {
        decoded.clear();
        let Text::PerField { encoding, total } = self.text else { return Ok(()) };
        for range in block.fields(record) {
            let bytes = &data[range];
            if bytes.is_ascii() {
                decoded.push(None);
                continue;
            }
            match encoding.decode_without_bom_handling_and_without_replacement(bytes) {
                Some(text) => decoded.push(Some(text.into_owned())),
                None if total => decoded.push(Some(encoding.decode_without_bom_handling(bytes).0.into_owned())),
                None => return Err(invalid_in(encoding)),
            }
        }
        Ok(())
    }

    /// Bytes of the file as text, for a message (what does not decode shown as U+FFFD).
    fn lossy(&self, bytes: &[u8]) -> String {
        match &self.text {
            Text::PerField { encoding, .. } => encoding.decode_without_bom_handling(bytes).0.into_owned(),
            Text::Utf8 | Text::Decoded { .. } => String::from_utf8_lossy(bytes).into_owned(),
        }
    }

    /// A field of the header decoded, `None` when its bytes are not text in the encoding.
    fn decode<'b>(&self, bytes: &'b [u8]) -> Option<std::borrow::Cow<'b, str>> {
        match &self.text {
            Text::Utf8 | Text::Decoded { .. } => std::str::from_utf8(bytes).ok().map(std::borrow::Cow::Borrowed),
            Text::PerField { encoding, .. } => encoding.decode_without_bom_handling_and_without_replacement(bytes),
        }
    }
}

/// The text columns of one part, built as string views: a value of up to 12 bytes lives in its
/// view, a longer one points into the part's parsed bytes (`data`, shared by every column) or,
/// when it had to be decoded, into `decoded`.
struct ColumnBuilders {
    data: Vec<u8>,
    decoded: Vec<u8>,
    columns: Vec<ColumnBuilder>,
}

struct ColumnBuilder {
    views: Vec<View>,
    nulls: usize,
    bytes: usize,
}

const DATA_BUFFER: u32 = 0;
const DECODED_BUFFER: u32 = 1;

impl ColumnBuilders {
    fn new(width: usize, rows: usize, data: Vec<u8>) -> ColumnBuilders {
        let columns =
            (0..width).map(|_| ColumnBuilder { views: Vec::with_capacity(rows), nulls: 0, bytes: 0 }).collect();
        ColumnBuilders { data, decoded: Vec::new(), columns }
    }

    /// Adds a record with as many fields as there are columns (checked by the caller).
    fn push_row(&mut self, block: &Block, record: &Record, decoded: &[Option<String>]) {
        for (index, (column, range)) in self.columns.iter_mut().zip(block.fields(record)).enumerate() {
            let view = match decoded.get(index).and_then(Option::as_ref) {
                Some(text) => {
                    let offset = self.decoded.len();
                    self.decoded.extend_from_slice(text.as_bytes());
                    // Cannot overflow: a part is a few tens of MiB (csv_records::PART_BYTES).
                    View::new_from_bytes(text.as_bytes(), DECODED_BUFFER, offset as u32)
                }
                None => view_of(&self.data, range, DATA_BUFFER),
            };
            column.bytes += view.length as usize;
            column.nulls += usize::from(view.length == 0);
            column.views.push(view);
        }
    }

    fn finish(self, names: &[String]) -> PolarsResult<DataFrame> {
        let rows = self.columns.first().map_or(0, |c| c.views.len());
        let buffer_bytes = self.data.len() + self.decoded.len();
        let buffers: Buffer<Buffer<u8>> =
            Buffer::from_vec(vec![Buffer::from_vec(self.data), Buffer::from_vec(self.decoded)]);
        let columns = self
            .columns
            .into_iter()
            .zip(names)
            .map(|(column, name)| {
                // An empty field is a null (its view is the empty, all-zero one).
                let validity = (column.nulls > 0).then(|| Bitmap::from_iter(column.views.iter().map(|v| v.length > 0)));
                // SAFETY: every view was made from bytes of the buffer it names, at the offset
                // it names (`view_of`, `View::new_from_bytes`); those bytes are UTF-8 (checked
                // per record for UTF-8 text, decoded otherwise), and a field's bytes, cut from a
                // valid record at ASCII delimiters and quotes, are UTF-8 too.
                let array = unsafe {
                    Utf8ViewArray::new_unchecked(
                        ArrowDataType::Utf8View,
                        Buffer::from_vec(column.views),
                        buffers.clone(),
                        validity,
                        Some(column.bytes),
                        buffer_bytes,
                    )
                };
                StringChunked::with_chunk(name.as_str().into(), array).into_column()
            })
            .collect();
        DataFrame::new(rows, columns)
    }
}

/// Whether UTF-8 text holds U+FFFD, the decoder's mark for bytes it could not decode.
fn contains_replacement(text: &[u8]) -> bool {
    memchr::memmem::find(text, "\u{FFFD}".as_bytes()).is_some()
}

/// The file's bytes as the reader splits them, and how they are text: a byte-order mark decides
/// the encoding (and is dropped), else the declared one.
fn open_text(mut source: Box<dyn Read>, declared: &'static Encoding) -> std::io::Result<(Box<dyn Read>, Text)> {
    let mut head = Vec::with_capacity(3);
    (&mut source).take(3).read_to_end(&mut head)?;
    let (encoding, bom) = Encoding::for_bom(&head).unwrap_or((declared, 0));
    let rest: Box<dyn Read> = Box::new(std::io::Cursor::new(head[bom..].to_vec()).chain(source));
    if encoding == UTF_8 {
        return Ok((rest, Text::Utf8));
    }
    if encoding.is_ascii_compatible() && encoding != encoding_rs::ISO_2022_JP {
        let total =
            (0x80..=0xFFu8).all(|byte| encoding.decode_without_bom_handling_and_without_replacement(&[byte]).is_some());
        return Ok((rest, Text::PerField { encoding, total }));
    }
    let errors = Arc::new(AtomicBool::new(false));
    let decoded = DecodingReader::new(rest, encoding, errors.clone());
    Ok((Box::new(decoded), Text::Decoded { encoding, errors }))
}

/// Reads UTF-8 from a source in another encoding (UTF-16), a buffer at a time.
struct DecodingReader<R> {
    source: R,
    decoder: Decoder,
    input: Vec<u8>,
    /// `input[start..end]` is read and not yet decoded.
    start: usize,
    end: usize,
    source_done: bool,
    /// Decoded bytes that did not fit the caller's buffer.
    spill: Vec<u8>,
    errors: Arc<AtomicBool>,
}

impl<R: Read> DecodingReader<R> {
    fn new(source: R, encoding: &'static Encoding, errors: Arc<AtomicBool>) -> DecodingReader<R> {
        DecodingReader {
            source,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; 1 << 16],
            start: 0,
            end: 0,
            source_done: false,
            spill: Vec::new(),
            errors,
        }
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if !self.spill.is_empty() {
                let taken = self.spill.len().min(out.len());
                out[..taken].copy_from_slice(&self.spill[..taken]);
                self.spill.drain(..taken);
                return Ok(taken);
            }
            if self.start == self.end && !self.source_done {
                self.end = self.source.read(&mut self.input)?;
                self.start = 0;
                self.source_done = self.end == 0;
            }
            // Decoded into a buffer of its own: the caller's may be too small for one character.
            let mut decoded = vec![0u8; (self.end - self.start) * 3 + 16];
            let (result, read, written, had_errors) =
                self.decoder.decode_to_utf8(&self.input[self.start..self.end], &mut decoded, self.source_done);
            self.start += read;
            if had_errors {
                self.errors.store(true, Ordering::Relaxed);
            }
            decoded.truncate(written);
            self.spill = decoded;
            if self.spill.is_empty() && self.source_done && result == CoderResult::InputEmpty {
                return Ok(0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], options: CsvOptions) -> (Vec<RawTable>, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        std::fs::write(&path, bytes).unwrap();
        let mut reader = CsvReader::open(&path, "e.csv", options).unwrap();
        let mut tables = Vec::new();
        while let Some(more) = reader.next_tables().unwrap() {
            tables.extend(more);
        }
        (tables, reader.layout.names.clone())
    }

    fn text(tables: &[RawTable], column: &str) -> Vec<Option<String>> {
        tables
            .iter()
            .flat_map(|t| {
                t.frame.column(column).unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect::<Vec<_>>()
            })
            .collect()
    }

    fn rejected(tables: &[RawTable]) -> Vec<&QuarantineRecord> {
        tables.iter().flat_map(|t| t.rejected.iter()).collect()
    }

    #[test]
    fn windows_1252_semicolons_and_quoted_delimiters() {
        let encoding = Encoding::for_label(b"windows-1252").unwrap();
        let options = CsvOptions { dialect: Dialect::with_delimiter(b';'), encoding, header: true };
        let (tables, _) = read(b"nom;commentaire\nb\xe9a;\"d\xe9j\xe0 vu; deux fois, et bien plus long\"\n", options);
        assert_eq!(text(&tables, "commentaire"), vec![Some("déjà vu; deux fois, et bien plus long".to_string())]);
        assert_eq!(text(&tables, "nom"), vec![Some("béa".to_string())]);
    }

    #[test]
    fn utf16_with_a_bom_is_read_whatever_the_declared_encoding() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "a,b\né,2\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let (tables, _) = read(&bytes, CsvOptions::default());
        assert_eq!(text(&tables, "a"), vec![Some("é".to_string())]);
    }

    #[test]
    fn bytes_invalid_in_the_encoding_quarantine_their_record() {
        // Shift_JIS: 0x82 starts a two-byte character; 0x82 0x2C (a comma) is not one.
        let encoding = Encoding::for_label(b"shift_jis").unwrap();
        let (tables, _) = read(b"a,b\nx,1\ny\x82,2\nz,3\n", CsvOptions { encoding, ..CsvOptions::default() });
        assert_eq!(text(&tables, "a").len(), 2);
        let rejected = rejected(&tables);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].line, Some(3));
        assert!(rejected[0].reason.contains("not valid in Shift_JIS"), "{}", rejected[0].reason);
    }

    #[test]
    fn an_escape_character_and_another_quote_are_read() {
        let escaped = Dialect { escape: Some(b'\\'), ..Dialect::default() };
        let (tables, _) = read(
            b"a,b\n\"say \\\"hi\\\" \"\"twice\"\"\",2\n",
            CsvOptions { dialect: escaped, ..CsvOptions::default() },
        );
        assert_eq!(text(&tables, "a"), vec![Some("say \"hi\" \"twice\"".to_string())]);
        let single = Dialect { quote: b'\'', ..Dialect::default() };
        let (tables, _) = read(b"a,b\n'x, y',\"z\"\n", CsvOptions { dialect: single, ..CsvOptions::default() });
        assert_eq!(text(&tables, "a"), vec![Some("x, y".to_string())]);
        assert_eq!(text(&tables, "b"), vec![Some("\"z\"".to_string())]);
    }

    /// A view read as a masked word is the view polars makes of the same bytes.
    #[test]
    fn views_read_as_words_are_polars_views() {
        let mut data = b"abcdefghijklmnopqrstuvwxyz".to_vec();
        for start in 0..data.len() {
            for end in start..data.len() {
                let ours = view_of(&data, start..end, 0);
                let theirs = View::new_from_bytes(&data[start..end], 0, start as u32);
                assert_eq!(ours.as_u128(), theirs.as_u128(), "{start}..{end}");
            }
        }
        data.truncate(3);
        assert_eq!(view_of(&data, 1..3, 0).as_u128(), View::new_from_bytes(b"bc", 0, 1).as_u128());
    }

    #[test]
    fn without_a_header_columns_are_numbered() {
        let options = CsvOptions { dialect: Dialect::with_delimiter(b'|'), header: false, ..CsvOptions::default() };
        let (tables, names) = read(b"x|1\ny|2\n", options);
        assert_eq!(names, ["1", "2"]);
        assert_eq!(text(&tables, "2"), vec![Some("1".to_string()), Some("2".to_string())]);
    }

    #[test]
    fn quoted_empty_fields_are_null_and_stray_quotes_text() {
        let (tables, _) = read(
            b"\"a\",\"b\",\"c\"\n\"GE-67\"\"x\",\"\",\"a rather long value\"\nGE-67\"x,,z\n",
            CsvOptions::default(),
        );
        assert_eq!(text(&tables, "a"), vec![Some("GE-67\"x".to_string()), Some("GE-67\"x".to_string())]);
        assert_eq!(text(&tables, "b"), vec![None, None]);
        assert_eq!(text(&tables, "c"), vec![Some("a rather long value".to_string()), Some("z".to_string())]);
    }

    #[test]
    fn ragged_invalid_and_nul_records_are_quarantined_with_their_line() {
        let (tables, _) = read(b"a,b\n1,2\n1,2,3\n\xff,2\n\"multi\nline\",\x00\n3,4", CsvOptions::default());
        assert_eq!(text(&tables, "a"), vec![Some("1".to_string()), Some("3".to_string())]);
        let found: Vec<(Option<u64>, &str)> =
            rejected(&tables).iter().map(|r| (r.line, r.reason.split(' ').next().unwrap())).collect();
        assert_eq!(found, vec![(Some(3), "3"), (Some(4), "not"), (Some(5), "contains")]);
        assert_eq!(
            tables
                .iter()
                .flat_map(|t| match &t.lines {
                    RowLines::Listed(lines) => lines.clone(),
                    RowLines::None => Vec::new(),
                })
                .collect::<Vec<_>>(),
            vec![2, 7]
        );
    }
}
