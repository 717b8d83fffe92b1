//! Delimited text (CSV, and any other single-byte delimiter): every field read as text (no type
//! inference, so a bad value in row 9,000 cannot change how row 1 is read); empty fields are
//! nulls. The file is split into records once, by a quote-aware scan, so that rows with the
//! wrong number of fields or bytes invalid in the file's encoding are quarantined with their
//! line instead of failing the whole file; then it is parsed a chunk of rows at a time.

use std::io::Read;
use std::path::Path;

use encoding_rs::{Encoding, UTF_8};
use polars::prelude::*;

use super::csv_records::{self, Record};
use super::{ChunkSink, InputFile, InputFormat, MAX_RECORD_BYTES, RawTable, RowLines, line_reject};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::QuarantineRecord;

/// How a delimited file is written (a source map's `delimiter`, `encoding`, `header`).
#[derive(Debug, Clone, Copy)]
pub struct CsvOptions {
    pub delimiter: u8,
    /// The text encoding; a byte-order mark in the file overrides it.
    pub encoding: &'static Encoding,
    /// Whether the first record names the columns; without one, columns are named `1`, `2`, …
    pub header: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { delimiter: b',', encoding: UTF_8, header: true }
    }
}

pub struct Csv;

impl InputFormat for Csv {
    fn read_chunks(&self, input: &InputFile, chunk_rows: usize, on_chunk: &mut ChunkSink) -> Result<()> {
        let file = CsvFile::scan(input.path, input.display, input.options.csv)?;
        let total = file.rows();
        let mut rejected = file.rejected.clone();
        let mut start = 0;
        loop {
            let end = start + chunk_rows.min(total - start);
            let mut table = file.table(start..end)?;
            table.rejected = std::mem::take(&mut rejected);
            on_chunk(table, start)?;
            start = end;
            if start >= total {
                return Ok(());
            }
        }
    }
}

/// A delimited file split into records, checked, ready to be parsed a range of rows at a time
/// (the file's text stays in memory, its parsed rows do not).
pub struct CsvFile {
    display: String,
    /// The file's bytes: UTF-8, or in `text`'s encoding.
    bytes: Vec<u8>,
    text: Text,
    options: CsvOptions,
    /// The header record when the file has one.
    header: Option<Record>,
    /// The data records kept (valid), in file order.
    records: Vec<Record>,
    /// Fields per record (the header's, or the first record's).
    fields: usize,
    /// Records that could not be used, with the reason.
    pub rejected: Vec<QuarantineRecord>,
}

/// How a file's bytes are text.
enum Text {
    /// UTF-8 (as written, or decoded whole from an encoding that is not ASCII-compatible, such
    /// as UTF-16); each record is checked. `invalid` is the reason for records that held bytes
    /// the whole-file decoder replaced.
    Utf8 { invalid: Option<String> },
    /// An ASCII-compatible encoding (Windows-1252, ISO-8859-15, Shift_JIS…): delimiters, quotes
    /// and line breaks are the ASCII bytes, so records are found in the raw bytes, and each
    /// chunk's records are decoded as they are parsed — no second copy of the whole file.
    /// `total` when every byte decodes (most single-byte encodings): nothing to check.
    PerRecord { encoding: &'static Encoding, total: bool },
}

impl Text {
    fn of(raw: Vec<u8>, declared: &'static Encoding) -> (Vec<u8>, Text) {
        let encoding = Encoding::for_bom(&raw).map_or(declared, |(bom, _)| bom);
        if encoding == UTF_8 {
            return (raw, Text::Utf8 { invalid: None });
        }
        if encoding.is_ascii_compatible() && encoding != encoding_rs::ISO_2022_JP {
            let total = (0x80..=0xFFu8)
                .all(|byte| encoding.decode_without_bom_handling_and_without_replacement(&[byte]).is_some());
            return (raw, Text::PerRecord { encoding, total });
        }
        let (text, _, had_errors) = encoding.decode(&raw);
        let invalid = had_errors.then(|| invalid_in(encoding));
        (text.into_owned().into_bytes(), Text::Utf8 { invalid })
    }
}

fn invalid_in(encoding: &'static Encoding) -> String {
    format!("bytes not valid in {} (is the source map's `encoding` right?)", encoding.name())
}

impl CsvFile {
    pub fn scan(path: &Path, display: &str, options: CsvOptions) -> Result<CsvFile> {
        let mut raw = Vec::new();
        super::open_maybe_gzipped(path)?.read_to_end(&mut raw).map_err(|e| Error::io(path, e))?;
        let (bytes, text) = Text::of(raw, options.encoding);
        let mut file = CsvFile {
            display: display.to_string(),
            bytes,
            text,
            options,
            header: None,
            records: Vec::new(),
            fields: 0,
            rejected: Vec::new(),
        };
        if file.bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(file);
        }
        let mut records = csv_records::scan(&file.bytes, options.delimiter).into_iter();
        // Cannot fail: the caller returned early for a file of blank bytes only.
        let first = records.next().expect("a file with a non-blank byte has a record");
        file.fields = first.fields;
        if let Some(reason) = file.problem(&first) {
            return Err(Error::Input {
                file: display.into(),
                location: "line 1".into(),
                message: format!("{}: {reason}", if options.header { "header" } else { "first record" }),
            });
        }
        let mut data = Vec::new();
        if options.header {
            file.check_header_names(&first)?;
            file.header = Some(first);
        } else {
            data.push(first);
        }
        for record in records {
            match file.problem(&record) {
                Some(reason) => {
                    let text = file.record_text(&record).into_owned();
                    file.rejected.push(line_reject(display, record.line, &text, &reason));
                }
                None => data.push(record),
            }
        }
        file.records = data;
        Ok(file)
    }

    /// Why a record cannot be read, if it cannot.
    fn problem(&self, record: &Record) -> Option<String> {
        let text = &self.bytes[record.bytes.clone()];
        let encoding_problem = match &self.text {
            Text::Utf8 { invalid: None } => std::str::from_utf8(text).is_err().then(|| {
                "not valid UTF-8 (convert the file to UTF-8, or give its `encoding` in a source map)".to_string()
            }),
            Text::Utf8 { invalid: Some(reason) } => contains_replacement(text).then(|| reason.clone()),
            Text::PerRecord { total: true, .. } => None,
            Text::PerRecord { encoding, total: false } => encoding
                .decode_without_bom_handling_and_without_replacement(text)
                .is_none()
                .then(|| invalid_in(encoding)),
        };
        if text.len() > MAX_RECORD_BYTES {
            Some(format!("record of {} bytes, longer than the {} MiB limit", text.len(), MAX_RECORD_BYTES >> 20))
        } else if encoding_problem.is_some() {
            encoding_problem
        } else if text.contains(&0) {
            Some("contains NUL bytes (binary data in a text log?)".to_string())
        } else if record.fields != self.fields {
            let what = if self.options.header { "the header has" } else { "the first record has" };
            Some(format!("{} fields, {what} {}", record.fields, self.fields))
        } else {
            None
        }
    }

    /// A record as text (bytes that do not decode shown as U+FFFD).
    fn record_text(&self, record: &Record) -> std::borrow::Cow<'_, str> {
        let bytes = &self.bytes[record.bytes.clone()];
        match &self.text {
            Text::PerRecord { encoding, .. } => encoding.decode_without_bom_handling(bytes).0,
            Text::Utf8 { .. } => String::from_utf8_lossy(bytes),
        }
    }

    fn check_header_names(&self, header: &Record) -> Result<()> {
        let text = self.record_text(header).into_owned();
        let mut seen = std::collections::BTreeSet::new();
        for name in text
            .trim_start_matches('\u{feff}')
            .split(self.options.delimiter as char)
            .map(|n| n.trim().trim_matches('"'))
        {
            if !seen.insert(name.to_string()) {
                return Err(Error::Input {
                    file: self.display.clone(),
                    location: "line 1".into(),
                    message: format!("column `{name}` appears twice in the header: which one is meant cannot be known"),
                });
            }
        }
        Ok(())
    }

    /// Appends a record's text, as UTF-8, to a chunk being assembled for the parser.
    fn push_record(&self, source: &mut Vec<u8>, record: &Record) {
        let bytes = &self.bytes[record.bytes.clone()];
        match &self.text {
            Text::PerRecord { encoding, .. } => {
                let mut decoder = encoding.new_decoder_without_bom_handling();
                let start = source.len();
                let room = decoder.max_utf8_buffer_length_without_replacement(bytes.len()).unwrap_or(bytes.len() * 3);
                source.resize(start + room, 0);
                let (_, _, written) = decoder.decode_to_utf8_without_replacement(bytes, &mut source[start..], true);
                source.truncate(start + written);
            }
            Text::Utf8 { .. } => source.extend_from_slice(bytes),
        }
    }

    /// Data rows kept (the header is not one).
    pub fn rows(&self) -> usize {
        self.records.len()
    }

    /// Data rows `rows` (0-based, among the rows kept) parsed as a table of text columns.
    pub fn table(&self, rows: std::ops::Range<usize>) -> Result<RawTable> {
        if self.header.is_none() && self.records.is_empty() {
            return Ok(RawTable::new(DataFrame::empty(), RowLines::Listed(Vec::new())));
        }
        let chosen = &self.records[rows];
        let mut source = Vec::with_capacity(chosen.iter().map(|r| r.bytes.len() + 1).sum::<usize>() + 64);
        match &self.header {
            Some(header) => self.push_record(&mut source, header),
            // No header: the columns are named by their position, 1-based.
            None => {
                let names: Vec<String> = (1..=self.fields).map(|n| n.to_string()).collect();
                source.extend_from_slice(names.join(&(self.options.delimiter as char).to_string()).as_bytes());
            }
        }
        source.push(b'\n');
        for record in chosen {
            self.push_record(&mut source, record);
            source.push(b'\n');
        }
        let frame = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .map_parse_options(|options| options.with_missing_is_null(true).with_separator(self.options.delimiter))
            .into_reader_with_file_handle(std::io::Cursor::new(source))
            .finish()
            .polars(format!("{}: cannot read as CSV", self.display))?;
        Ok(RawTable::new(frame, RowLines::Listed(chosen.iter().map(|r| r.line).collect())))
    }
}

/// Whether UTF-8 text holds U+FFFD, the decoder's mark for bytes it could not decode.
fn contains_replacement(text: &[u8]) -> bool {
    text.windows(3).any(|w| w == [0xEF, 0xBF, 0xBD])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(bytes: &[u8], options: CsvOptions) -> CsvFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        std::fs::write(&path, bytes).unwrap();
        CsvFile::scan(&path, "e.csv", options).unwrap()
    }

    fn text(file: &CsvFile, column: &str) -> Vec<Option<String>> {
        let table = file.table(0..file.rows()).unwrap();
        table.frame.column(column).unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect()
    }

    #[test]
    fn windows_1252_semicolons_and_quoted_delimiters() {
        let encoding = Encoding::for_label(b"windows-1252").unwrap();
        let options = CsvOptions { delimiter: b';', encoding, header: true };
        let file = scan(b"nom;commentaire\nb\xe9a;\"d\xe9j\xe0 vu; deux fois\"\n", options);
        assert_eq!(text(&file, "commentaire"), vec![Some("déjà vu; deux fois".to_string())]);
        assert_eq!(text(&file, "nom"), vec![Some("béa".to_string())]);
    }

    #[test]
    fn utf16_with_a_bom_is_read_whatever_the_declared_encoding() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "a,b\né,2\n".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let file = scan(&bytes, CsvOptions::default());
        assert_eq!(text(&file, "a"), vec![Some("é".to_string())]);
    }

    #[test]
    fn bytes_invalid_in_the_encoding_quarantine_their_record() {
        // Shift_JIS: 0x82 starts a two-byte character; 0x82 0x2C (a comma) is not one.
        let encoding = Encoding::for_label(b"shift_jis").unwrap();
        let file = scan(b"a,b\nx,1\ny\x82,2\nz,3\n", CsvOptions { encoding, ..CsvOptions::default() });
        assert_eq!(file.rows(), 2);
        assert_eq!(file.rejected.len(), 1);
        assert_eq!(file.rejected[0].line, Some(3));
        assert!(file.rejected[0].reason.contains("not valid in Shift_JIS"), "{}", file.rejected[0].reason);
    }

    #[test]
    fn without_a_header_columns_are_numbered() {
        let file = scan(b"x|1\ny|2\n", CsvOptions { delimiter: b'|', header: false, ..CsvOptions::default() });
        assert_eq!(file.rows(), 2);
        assert_eq!(text(&file, "2"), vec![Some("1".to_string()), Some("2".to_string())]);
    }
}
