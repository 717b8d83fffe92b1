//! Ingest: find the input files, read each with its format's reader (`formats/`), apply its
//! source map if it has one (`mapping.rs`), normalise it into the event frame (`normalise.rs`),
//! and account for every row (used or quarantined, with the reason).

pub mod formats;
pub mod mapping;
mod normalise;
pub mod sniff;
pub mod source_map;
pub mod sql;
pub mod timestamp;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::error::{Error, PolarsContext, Result};
use crate::event;
use formats::{InputFile, InputFormat, RawTable, ReadOptions};
use source_map::{SourceMap, SourceMaps};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Format {
    Csv,
    JsonLines,
    Parquet,
    ArrowIpc,
    /// Apache/nginx combined or common log, plain or gzipped; needs a route map.
    AccessLog,
    /// A PostgreSQL log written by pgAudit (csvlog or stderr); read only through its map.
    PgAudit,
}

impl Format {
    pub const EXTENSIONS: &'static str =
        ".csv, .jsonl, .ndjson (+ .gz), .parquet, .arrow, .feather, .ipc, .log (+ .gz, rotated .log.N)";

    /// The format of an event-frame file, from its name; `None` for names it cannot tell (a
    /// source map may still claim them).
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        // Rotated web logs: access.log.1, access.log.2.gz …
        if name.contains(".log.") || name.ends_with(".log") || name.ends_with(".log.gz") {
            return Some(Format::AccessLog);
        }
        let extension = extension_before_gz(&name)?;
        let format = [Format::Csv, Format::JsonLines, Format::Parquet, Format::ArrowIpc]
            .into_iter()
            .find(|format| format.canonical_extensions().contains(&extension))?;
        // Text is read through gzip; a columnar file compresses itself.
        (!name.ends_with(".gz") || matches!(format, Format::Csv | Format::JsonLines)).then_some(format)
    }

    fn canonical_extensions(self) -> &'static [&'static str] {
        match self {
            Format::Csv => &["csv"],
            Format::JsonLines => &["jsonl", "ndjson"],
            Format::Parquet => &["parquet"],
            Format::ArrowIpc => &["arrow", "feather", "ipc"],
            Format::AccessLog => &["log"],
            Format::PgAudit => &["csv", "log"],
        }
    }

    /// Whether a file found in a directory looks like this format (what a source map without
    /// `files` reads there): its extensions, and for text formats `.txt`/`.tsv`/`.json` too.
    pub fn suits(self, path: &Path) -> bool {
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_ascii_lowercase) else {
            return false;
        };
        if self == Format::AccessLog {
            return Format::from_path(path) == Some(Format::AccessLog);
        }
        if self == Format::PgAudit {
            return matches!(Format::from_path(path), Some(Format::Csv | Format::AccessLog));
        }
        let Some(extension) = extension_before_gz(&name) else { return false };
        let also: &[&str] = match self {
            Format::Csv => &["tsv", "txt"],
            Format::JsonLines => &["json"],
            _ => &[],
        };
        self.canonical_extensions().contains(&extension) || also.contains(&extension)
    }

    /// The reader of this format.
    pub fn reader(self) -> &'static dyn InputFormat {
        match self {
            Format::Csv => &formats::csv::Csv,
            Format::JsonLines => &formats::jsonl::JsonLines,
            Format::Parquet => &formats::columnar::Columnar { ipc: false },
            Format::ArrowIpc => &formats::columnar::Columnar { ipc: true },
            Format::AccessLog => &formats::access_log::AccessLog,
            Format::PgAudit => &formats::pgaudit::PgAudit,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
            Format::Parquet => "parquet",
            Format::ArrowIpc => "arrow-ipc",
            Format::AccessLog => "access-log",
            Format::PgAudit => "pgaudit",
        }
    }
}

/// `events.csv.gz` → `csv`; `events.csv` → `csv`.
fn extension_before_gz(name: &str) -> Option<&str> {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    name.rsplit_once('.').map(|(_, extension)| extension)
}

/// One input file: its path, how to read it, and the source map that reads it (an index for
/// [`SourceMaps::get`]; `None` = the event frame).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    pub format: Format,
    pub map: Option<usize>,
}

/// The rows of all inputs when their metadata says so before reading (Parquet, Arrow IPC
/// only), for a progress bar with a total; None when any input is text or unreadable here.
pub fn known_row_count(inputs: &[Input]) -> Option<u64> {
    inputs.iter().try_fold(0u64, |total, input| {
        let columnar = match input.format {
            Format::Parquet => formats::columnar::Columnar { ipc: false },
            Format::ArrowIpc => formats::columnar::Columnar { ipc: true },
            _ => return None,
        };
        let rows = columnar.count_rows(&input.path, &input.path.display().to_string()).ok()?;
        Some(total + rows as u64)
    })
}

impl Input {
    /// An event-frame file (tests, and callers without source maps).
    pub fn plain(path: PathBuf, format: Format) -> Input {
        Input { path, format, map: None }
    }
}

/// A row (or line) that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
pub struct QuarantineRecord {
    pub file: String,
    /// Physical line in the file (CSV, JSON lines), when the format has lines.
    pub line: Option<u64>,
    /// Data row, 1-based (the header is not a row).
    pub row: Option<u64>,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// What happened to one input file.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct FileReport {
    /// The path as the user gave it (or as found under a directory they gave).
    pub path: String,
    pub format: String,
    pub sha256: String,
    pub rows_read: u64,
    pub rows_used: u64,
    pub rows_quarantined: u64,
    /// The source map that read it (as given), when one did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_map: Option<String>,
    /// Local times written during the autumn change (they happen twice): the earlier instant
    /// was taken for each.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ambiguous_local_times: u64,
    /// Records that are not events (a database log's other messages): not rows, not errors.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub records_skipped: u64,
}

fn is_zero(count: &u64) -> bool {
    *count == 0
}

/// Every input, normalised and concatenated in path order (the order of the files on the
/// command line never changes a result). The events' `source_file` is the file's position among
/// the inputs given (the same as in `files` when every file could be read).
pub struct Ingested {
    pub events: DataFrame,
    pub files: Vec<FileReport>,
    pub quarantine: Vec<QuarantineRecord>,
    /// Files that could not be read at all (only when not strict), with the reason.
    pub unreadable: Vec<UnreadableFile>,
}

/// A whole input file that could not be read (missing column, corrupt Parquet, …).
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct UnreadableFile {
    pub path: String,
    pub error: String,
}

/// Expands the `--events` arguments: files as given, directories walked recursively for the
/// supported extensions and the files a source map claims. Sorted and de-duplicated.
pub fn discover(arguments: &[PathBuf], maps: &SourceMaps) -> Result<Vec<Input>> {
    let mut found = Vec::new();
    for argument in arguments {
        if argument.is_dir() {
            walk(argument, maps, &mut found)?;
        } else if argument.is_file() {
            let input = classify(argument, maps, true)?.ok_or_else(|| {
                Error::file(
                    argument.display(),
                    format!(
                        "unsupported extension; supported: {} — any other file is read through a source map (--source-map)",
                        Format::EXTENSIONS
                    ),
                )
            })?;
            found.push(input);
        } else {
            return Err(Error::file(argument.display(), "no such file or directory"));
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found.dedup_by(|a, b| a.path == b.path);
    if found.is_empty() {
        return Err(Error::Usage(format!(
            "no event files found in {} (supported: {})",
            arguments.iter().map(|a| a.display().to_string()).collect::<Vec<_>>().join(", "),
            Format::EXTENSIONS
        )));
    }
    Ok(found)
}

/// How a file is read: through the map that claims it, else by its extension.
fn classify(path: &Path, maps: &SourceMaps, named: bool) -> Result<Option<Input>> {
    if let Some(index) = maps.claim(path, named)? {
        let format = maps.get(index).map_or(Format::Csv, |map| map.format);
        return Ok(Some(Input { path: path.to_path_buf(), format, map: Some(index) }));
    }
    Ok(Format::from_path(path).map(|format| Input::plain(path.to_path_buf(), format)))
}

fn walk(directory: &Path, maps: &SourceMaps, found: &mut Vec<Input>) -> Result<()> {
    let entries = std::fs::read_dir(directory).map_err(|e| Error::io(directory, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io(directory, e))?.path();
        if path.is_dir() {
            walk(&path, maps, found)?;
        } else if let Some(input) = classify(&path, maps, false)? {
            found.push(input);
        }
    }
    Ok(())
}

/// `str::trim`, skipped when the first and last bytes are plain ASCII (nearly every value of a
/// log): a Unicode-aware trim of every field cost a twentieth of a mapped audit. Used wherever a
/// field's text is trimmed (source maps, categories).
pub(crate) fn trimmed(value: &str) -> &str {
    let plain = |byte: Option<&u8>| byte.is_some_and(|b| b.is_ascii() && !(*b as char).is_whitespace());
    if plain(value.as_bytes().first()) && plain(value.as_bytes().last()) { value } else { value.trim() }
}

/// Reads and normalises every event-frame file into one frame (tests and small tools).
pub fn load_all(inputs: &[(PathBuf, Format)]) -> Result<Ingested> {
    let inputs: Vec<Input> = inputs.iter().map(|(path, format)| Input::plain(path.clone(), *format)).collect();
    load(&inputs, &SourceMaps::default(), true)
}

/// Like [`load_all`], through the source maps; unless `strict`, a file that cannot be read is
/// set aside (reported in `unreadable`) and every other file is still read. Holds every event
/// in memory: the audit streams instead ([`stream`]).
pub fn load(inputs: &[Input], maps: &SourceMaps, strict: bool) -> Result<Ingested> {
    let mut chunks = Vec::new();
    let streamed = stream(inputs, maps, strict, usize::MAX, |chunk| {
        chunks.push(chunk);
        Ok(())
    })?;
    Ok(Ingested {
        events: stack(chunks)?,
        files: streamed.files,
        quarantine: streamed.quarantine,
        unreadable: streamed.unreadable,
    })
}

/// Rows per chunk of an audit (`--chunk-rows`): memory grows with it, per-chunk overhead
/// shrinks with it. 2^18 is the row group Polars and DuckDB write by default, so a Parquet
/// chunk is one row group; on the 10M bench world it took the peak from 715 to 530 MiB and the
/// median time from 4.30 to 3.61 s against 500,000 (less memory first touched, same findings).
pub const DEFAULT_CHUNK_ROWS: usize = 262_144;

/// What streaming the inputs accounted for: every file's counts, the quarantined rows, the
/// files set aside.
#[derive(Debug, Default)]
pub struct Streamed {
    pub files: Vec<FileReport>,
    pub quarantine: Vec<QuarantineRecord>,
    pub unreadable: Vec<UnreadableFile>,
    /// (field, value) → rows, over every mapped file: values no `map` entry translates.
    pub unmapped: BTreeMap<(&'static str, String), u64>,
}

/// Reads the inputs in path order and hands their normalised events to `on_chunk`, at most
/// `chunk_rows` rows at a time, each chunk from one file: columns in `event::COLUMNS` order,
/// then `source_file` (the file's position in `inputs`), `source_row`, and the file's extra
/// columns. Files are read a chunk at a time where the format allows, so memory holds one
/// chunk, not the log. Unless `strict`, a file that cannot be read is set aside, provided none
/// of its rows went out yet (a Parquet file corrupt past its first chunk stops the audit).
pub fn stream(
    inputs: &[Input],
    maps: &SourceMaps,
    strict: bool,
    chunk_rows: usize,
    on_chunk: impl FnMut(DataFrame) -> Result<()>,
) -> Result<Streamed> {
    stream_reading(inputs, maps, strict, chunk_rows, 0, on_chunk)
}

/// [`stream`], each file's reader reading up to `read_ahead` chunks ahead where it can.
fn stream_reading(
    inputs: &[Input],
    maps: &SourceMaps,
    strict: bool,
    chunk_rows: usize,
    read_ahead: usize,
    mut on_chunk: impl FnMut(DataFrame) -> Result<()>,
) -> Result<Streamed> {
    let mut streamed = Streamed::default();
    for (index, input) in inputs.iter().enumerate() {
        let map = input.map.and_then(|i| maps.get(i));
        let mut file = FileStream::new(index as u32, chunk_rows, read_ahead, map);
        match file.read(&input.path, input.format, &mut on_chunk) {
            Ok(report) => {
                streamed.files.push(report);
                streamed.quarantine.extend(file.quarantine);
                for (key, rows) in file.unmapped {
                    *streamed.unmapped.entry(key).or_default() += rows;
                }
            }
            Err(error) if !strict && file.chunks_sent == 0 => {
                streamed
                    .unreadable
                    .push(UnreadableFile { path: input.path.display().to_string(), error: error.to_string() });
            }
            Err(error) => return Err(error),
        }
    }
    streamed.quarantine.sort();
    Ok(streamed)
}

/// Like [`stream`], with the reading one chunk ahead: files are read, decoded and normalised on
/// a thread of their own while `on_chunk` works on the chunk before, so an audit waits for the
/// slower of the two, not for both. Columnar files are also read a few chunks ahead, each on a
/// thread of its own (`formats::columnar::READ_AHEAD`). Chunks arrive in the same order; memory
/// holds a few chunks more (a rendezvous: the next chunk waits, decoded, until the current one is
/// done).
pub fn stream_ahead(
    inputs: &[Input],
    maps: &SourceMaps,
    strict: bool,
    chunk_rows: usize,
    mut on_chunk: impl FnMut(DataFrame) -> Result<()>,
) -> Result<Streamed> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<DataFrame>(0);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            // The consumer hanging up (it failed) stops the reading; its own error is the one reported.
            stream_reading(inputs, maps, strict, chunk_rows, formats::columnar::READ_AHEAD, |chunk| {
                sender.send(chunk).map_err(|_| Error::Usage("the audit stopped reading".into()))
            })
        });
        let mut consumed = Ok(());
        while let Ok(chunk) = receiver.recv() {
            consumed = on_chunk(chunk);
            if consumed.is_err() {
                break;
            }
        }
        drop(receiver);
        let read = reader.join().map_err(|_| Error::Usage("reading the events failed unexpectedly".into()))?;
        consumed?;
        read
    })
}

/// One file being streamed.
struct FileStream<'m> {
    /// Its position among the inputs (the chunks' `source_file`).
    index: u32,
    chunk_rows: usize,
    /// Chunks the file's reader may read ahead ([`InputFile::read_ahead`]).
    read_ahead: usize,
    map: Option<&'m SourceMap>,
    chunks_sent: usize,
    quarantine: Vec<QuarantineRecord>,
    unmapped: BTreeMap<(&'static str, String), u64>,
    ambiguous_local_times: u64,
}

impl<'m> FileStream<'m> {
    fn new(index: u32, chunk_rows: usize, read_ahead: usize, map: Option<&'m SourceMap>) -> FileStream<'m> {
        FileStream {
            index,
            chunk_rows,
            read_ahead,
            map,
            chunks_sent: 0,
            quarantine: Vec::new(),
            unmapped: BTreeMap::new(),
            ambiguous_local_times: 0,
        }
    }

    /// A file's events, and its SHA-256 for the manifest.
    fn read(
        &mut self,
        path: &Path,
        format: Format,
        on_chunk: &mut impl FnMut(DataFrame) -> Result<()>,
    ) -> Result<FileReport> {
        // A source map prefixes the ids it makes with the file's hash: then it comes first.
        if self.map.is_some() {
            let sha256 = crate::hashing::sha256_file(path)?;
            let report = self.read_rows(path, format, &sha256, on_chunk)?;
            return Ok(FileReport { sha256, ..report });
        }
        // Else the file is hashed beside its reading (a second read, from the page cache):
        // 0.2 s of a 10M-event audit no longer spent before the first row.
        std::thread::scope(|scope| {
            let hashing = scope.spawn(|| crate::hashing::sha256_file(path));
            let report = self.read_rows(path, format, "", on_chunk);
            let sha256 = hashing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            Ok(FileReport { sha256, ..report? })
        })
    }

    /// Every format goes through the same loop: its reader's chunks, the source map, the
    /// normaliser, the counts. `sha256` is the file's when it has a source map (else empty).
    fn read_rows(
        &mut self,
        path: &Path,
        format: Format,
        sha256: &str,
        on_chunk: &mut impl FnMut(DataFrame) -> Result<()>,
    ) -> Result<FileReport> {
        let display = path.display().to_string();
        // The event frame as the detectors take it: a file without a source map may hand on the
        // judge's text columns as categoricals (a source map's fields are text it works on).
        let options = ReadOptions {
            coded_as_categories: self.map.is_none(),
            ..self.map.map(SourceMap::read_options).unwrap_or_default()
        };
        let input = InputFile { read_ahead: self.read_ahead, ..InputFile::new(path, &display, &options) };
        let map = self.map;
        let target = map.map(|m| mapping::MapTarget { file: &display, map: &m.display, id_prefix: &sha256[..16] });
        let (mut rows_read, mut rows_used, mut records_skipped) = (0u64, 0u64, 0u64);
        format.reader().read_chunks(&input, self.chunk_rows, &mut |raw: RawTable, rows_before: usize| {
            rows_read += (raw.frame.height() + raw.rejected.len()) as u64;
            records_skipped += raw.skipped;
            let raw = match (map.and_then(SourceMap::fields), &target) {
                (Some(fields), Some(target)) => {
                    let mapped = mapping::apply(fields, raw, target, rows_before)?;
                    self.ambiguous_local_times += mapped.ambiguous_local_times;
                    for (key, rows) in mapped.unmapped {
                        *self.unmapped.entry(key).or_default() += rows;
                    }
                    mapped.table
                }
                _ => raw,
            };
            let normalised = normalise::normalise_rows(raw, &display, rows_before)?;
            rows_used += normalised.frame.height() as u64;
            self.quarantine.extend(normalised.quarantined);
            if normalised.frame.height() > 0 {
                self.send(normalised.frame, on_chunk)?;
            }
            Ok(())
        })?;
        Ok(FileReport {
            sha256: String::new(),
            path: display,
            format: format.name().to_string(),
            rows_read,
            rows_used,
            rows_quarantined: rows_read - rows_used,
            source_map: map.map(|m| m.display.clone()),
            ambiguous_local_times: self.ambiguous_local_times,
            records_skipped,
        })
    }

    fn send(&mut self, frame: DataFrame, on_chunk: &mut impl FnMut(DataFrame) -> Result<()>) -> Result<()> {
        // No rechunk: a chunk's columns have either the file's row-group boundaries or a single
        // chunk (rebuilt by the normaliser), and polars lines those up by slicing, not copying.
        self.chunks_sent += 1;
        on_chunk(arrange(frame, self.index)?)
    }
}

/// Puts a normalised frame's columns in the stream's order and adds `source_file`.
fn arrange(frame: DataFrame, file_index: u32) -> Result<DataFrame> {
    let height = frame.height();
    let mut columns: Vec<Column> = Vec::with_capacity(frame.width() + 1);
    for spec in event::COLUMNS.iter() {
        columns.push(frame.column(spec.name).polars("arranging the event columns")?.clone());
    }
    columns.push(Column::new_scalar(
        event::SOURCE_FILE.into(),
        Scalar::new(DataType::UInt32, AnyValue::UInt32(file_index)),
        height,
    ));
    columns.push(frame.column(event::SOURCE_ROW).polars("arranging the event columns")?.clone());
    for extra in frame.columns() {
        if !event::is_contract_column(extra.name()) && !event::is_internal_column(extra.name()) {
            columns.push(extra.clone());
        }
    }
    DataFrame::new(height, columns).polars("arranging the event columns")
}

/// Stacks chunks into one frame without copying values; extra columns are aligned by name
/// (absent → null) in order of first appearance.
fn stack(chunks: Vec<DataFrame>) -> Result<DataFrame> {
    let fixed = event::COLUMNS.len() + 2;
    let mut extra_names: Vec<PlSmallStr> = Vec::new();
    for chunk in &chunks {
        for name in chunk.get_column_names().into_iter().skip(fixed) {
            if !extra_names.contains(name) {
                extra_names.push(name.clone());
            }
        }
    }
    let mut stacked: Option<DataFrame> = None;
    for chunk in chunks {
        // Text the Parquet reader handed on as categoricals is text again: chunks stack only
        // when their types agree, and the whole-log commands read values as written.
        let chunk = event::categoricals_as_text(&chunk).polars("reading the events as text")?;
        let height = chunk.height();
        let mut columns: Vec<Column> = chunk.columns()[..fixed].to_vec();
        for name in &extra_names {
            columns.push(match chunk.column(name) {
                Ok(column) => column.clone(),
                Err(_) => Column::full_null(name.clone(), height, &DataType::String),
            });
        }
        let aligned = DataFrame::new(height, columns).polars("aligning the input files")?;
        match stacked.as_mut() {
            None => stacked = Some(aligned),
            Some(all) => {
                all.vstack_mut_owned(aligned).polars("stacking the input files")?;
            }
        }
    }
    // No global sort: every detector aggregates order-independently (min/max, counts, evidence
    // sorted by (ts, event_id)), and a sort of every column costs more than all detectors.
    Ok(stacked.unwrap_or_else(empty_event_frame))
}

/// The CSV record scanner, for the property tests: (first line, byte range) of each record.
#[cfg(test)]
pub fn csv_records_for_tests(bytes: &[u8]) -> Vec<(u64, std::ops::Range<usize>)> {
    let block = formats::csv_records::parse(&formats::csv_records::Dialect::default(), bytes, true);
    block.records.iter().map(|r| (r.line_offset + 1, r.raw.clone())).collect()
}

/// Reads any supported table file as text-or-native columns, with the line of each row.
/// Used for reference tables (habilitations), which are strict: a rejected line is an error.
pub fn read_reference_table(path: &Path) -> Result<(DataFrame, formats::RowLines)> {
    let display = path.display().to_string();
    let format = Format::from_path(path).filter(|f| *f != Format::AccessLog).ok_or_else(|| {
        Error::file(&display, "unsupported extension; supported: .csv, .jsonl, .ndjson, .parquet, .arrow")
    })?;
    let options = ReadOptions::default();
    let raw = formats::read_whole(format.reader(), &InputFile::new(path, &display, &options))?;
    if let Some(reject) = raw.rejected.first() {
        return Err(Error::Input {
            file: display,
            location: format!("line {}", reject.line.unwrap_or(0)),
            message: reject.reason.clone(),
        });
    }
    Ok((raw.frame, raw.lines))
}

pub fn empty_event_frame() -> DataFrame {
    let mut columns: Vec<Column> =
        event::COLUMNS.iter().map(|c| Column::full_null(c.name.into(), 0, &event::dtype_of(c.kind))).collect();
    columns.push(Column::full_null(event::SOURCE_ROW.into(), 0, &DataType::UInt32));
    DataFrame::new(0, columns).unwrap_or_else(|_| DataFrame::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast trim is `str::trim` on every mix of ASCII, ASCII and Unicode white space.
    #[test]
    fn the_fast_trim_is_str_trim() {
        let pieces = ["", "a", " ", "\t", "\u{b}", "\u{c}", "\r", "\u{85}", "\u{a0}", "é", "x y"];
        for first in pieces {
            for middle in pieces {
                for last in pieces {
                    let text = format!("{first}{middle}{last}");
                    assert_eq!(trimmed(&text), text.trim(), "{text:?}");
                }
            }
        }
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    const HEADER: &str = "event_id,ts,actor_id,actor_role,action,dataset,categories,recipient,record_count\n";

    fn rows_file(dir: &Path, rows: usize) -> Input {
        let mut text = HEADER.to_string();
        for i in 0..rows {
            text.push_str(&format!("e{i},2021-03-02T06:{:02}:00Z,a{},agent,read,follow_ups,,,\n", i % 60, i % 7));
        }
        Input::plain(write(dir, "e.csv", &text), Format::Csv)
    }

    #[test]
    fn reading_ahead_hands_out_the_same_chunks_in_the_same_order() {
        let dir = tempfile::tempdir().unwrap();
        let inputs = [rows_file(dir.path(), 50)];
        let (mut direct, mut ahead) = (Vec::new(), Vec::new());
        stream(&inputs, &SourceMaps::default(), true, 7, |chunk| Ok(direct.push(chunk))).unwrap();
        let streamed = stream_ahead(&inputs, &SourceMaps::default(), true, 7, |chunk| Ok(ahead.push(chunk))).unwrap();
        assert_eq!(direct.len(), 8);
        assert_eq!(direct, ahead);
        assert_eq!(streamed.files[0].rows_used, 50);
    }

    #[test]
    fn a_failing_consumer_stops_the_reading_ahead_with_its_own_error() {
        let dir = tempfile::tempdir().unwrap();
        let inputs = [rows_file(dir.path(), 50)];
        let mut seen = 0;
        let failed = stream_ahead(&inputs, &SourceMaps::default(), false, 7, |_| {
            seen += 1;
            if seen == 2 { Err(Error::Usage("detector gave up".into())) } else { Ok(()) }
        });
        assert!(matches!(failed, Err(Error::Usage(message)) if message == "detector gave up"));
        assert_eq!(seen, 2, "no chunk is handed out after the failure");
    }

    #[test]
    fn blank_required_fields_are_quarantined_and_text_starting_otherwise_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{HEADER}e1,2021-03-02T06:14:00Z,\" \",agent,read,follow_ups,,,\n\
             e2,2021-03-02T06:14:00Z,\"\t\",agent,read,follow_ups,,,\n\
             e3,2021-03-02T06:14:00Z,été,agent,read,follow_ups,,,\n\
             e4,2021-03-02T06:14:00Z,\" padded\",agent,read,follow_ups,,,\n"
        );
        let ingested = load_all(&[(write(dir.path(), "e.csv", &text), Format::Csv)]).unwrap();
        let quarantined: Vec<(Option<u64>, &str)> =
            ingested.quarantine.iter().map(|q| (q.row, q.reason.as_str())).collect();
        assert_eq!(quarantined, vec![(Some(1), "empty required field"), (Some(2), "empty required field")]);
        let actors: Vec<Option<&str>> = ingested.events.column("actor_id").unwrap().str().unwrap().iter().collect();
        assert_eq!(actors, vec![Some("été"), Some(" padded")]);
    }

    #[test]
    fn csv_rows_are_used_or_quarantined_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{HEADER}e1,2021-03-02T06:14:00Z,a1,agent,READ,follow_ups,identity; penal_follow_up,,\n\
             e2,not-a-date,a1,agent,read,follow_ups,,,\n\
             e3,2021-03-02T07:00:00+01:00,a1,agent,transfer,follow_ups,identity,moe,12\n\
             e4,2021-03-02T08:00:00Z,a1,agent,transfer,follow_ups,,moe,many\n\
             e5,2021-03-02T08:00:00Z,,agent,read,follow_ups,,,\n\
             e6,2021-03-02T08:00:00Z,a1,agent,peek,follow_ups,,,\n"
        );
        let path = write(dir.path(), "e.csv", &text);
        let ingested = load_all(&[(path, Format::Csv)]).unwrap();
        let report = &ingested.files[0];
        assert_eq!((report.rows_read, report.rows_used, report.rows_quarantined), (6, 2, 4));
        let reasons: Vec<(Option<u64>, &str)> =
            ingested.quarantine.iter().map(|q| (q.line, q.column.as_str())).collect();
        assert_eq!(
            reasons,
            vec![(Some(3), "ts"), (Some(5), "record_count"), (Some(6), "actor_id"), (Some(7), "action")]
        );
        // e1 and e3 kept in file order; action lower-cased; categories split and trimmed.
        let ids = ingested.events.column("event_id").unwrap().str().unwrap();
        assert_eq!((ids.get(0), ids.get(1)), (Some("e1"), Some("e3")));
        assert_eq!(ingested.events.column("action").unwrap().str().unwrap().get(0), Some("read"));
        let categories = ingested.events.column("categories").unwrap().list().unwrap().get_as_series(0).unwrap();
        assert_eq!(categories.len(), 2);
    }

    #[test]
    fn malformed_csv_records_are_quarantined_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = format!(
            "{HEADER}e1,2021-03-02T06:14:00Z,a1,agent,read,follow_ups,,,\n\
             e2,2021-03-02T06:15:00Z,a1,agent,read,follow_ups,,,,EXTRA\n\
             e3,2021-03-02T06:16:00Z,a1,agent,read,follow_ups,\"identity;\nnir\",,\n"
        )
        .into_bytes();
        text.extend_from_slice(b"e4,2021-03-02T06:17:00Z,a\xff,agent,read,follow_ups,,,\ne5,2021-03-02T06:18:00Z,a1,agent,bad,follow_ups,,,\n");
        let path = dir.path().join("e.csv");
        std::fs::write(&path, text).unwrap();
        let ingested = load_all(&[(path, Format::Csv)]).unwrap();
        let report = &ingested.files[0];
        assert_eq!((report.rows_read, report.rows_used, report.rows_quarantined), (5, 2, 3));
        let where_why: Vec<(Option<u64>, &str)> =
            ingested.quarantine.iter().map(|q| (q.line, q.reason.as_str())).collect();
        assert_eq!(where_why[0], (Some(3), "10 fields, the header has 9"));
        assert_eq!(
            where_why[1],
            (Some(6), "not valid UTF-8 (convert the file to UTF-8, or give its `encoding` in a source map)")
        );
        // e3 spans lines 4-5, so e5 starts on line 7.
        assert_eq!(where_why[2].0, Some(7));
    }

    #[test]
    fn an_empty_file_is_zero_rows_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "empty.csv", "");
        let ingested = load_all(&[(path, Format::Csv)]).unwrap();
        assert_eq!((ingested.files[0].rows_read, ingested.events.height()), (0, 0));
    }

    #[test]
    fn missing_required_column_names_file_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let path =
            write(dir.path(), "bad.csv", "event_id,ts,actor_id,action,dataset\ne1,2021-03-02T06:14:00Z,a,read,d\n");
        let error = load_all(&[(path, Format::Csv)]).err().unwrap().to_string();
        assert!(error.contains("bad.csv"), "{error}");
        assert!(error.contains("`actor_role`"), "{error}");
    }

    #[test]
    fn directories_are_walked_in_sorted_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("2021")).unwrap();
        write(dir.path(), "b.csv", HEADER);
        write(&dir.path().join("2021"), "a.jsonl", "");
        write(dir.path(), "notes.txt", "ignored");
        let found = discover(&[dir.path().to_path_buf()], &SourceMaps::default()).unwrap();
        let names: Vec<String> =
            found.iter().map(|input| input.path.strip_prefix(dir.path()).unwrap().display().to_string()).collect();
        assert_eq!(names, vec!["2021/a.jsonl", "b.csv"]);
    }

    /// Columnar inputs keep their native types: a naive Datetime is UTC, lists stay lists,
    /// integers and dates are cast, and Parquet and Arrow IPC read the same.
    #[test]
    fn parquet_and_arrow_ipc_are_normalised_alike() {
        let dir = tempfile::tempdir().unwrap();
        let ts = Column::new("ts".into(), vec![1_614_665_640_000i64, 1_614_665_700_000])
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .unwrap();
        let mut categories = ListStringChunkedBuilder::new("categories".into(), 2, 4);
        categories.append_values_iter(["identity", "nir"].into_iter());
        categories.append_null();
        let mut frame = DataFrame::new(
            2,
            vec![
                Column::new("event_id".into(), ["e1", "e2"]),
                ts,
                Column::new("actor_id".into(), ["a1", "a2"]),
                Column::new("actor_role".into(), ["agent", "agent"]),
                Column::new("action".into(), ["Transfer", "read"]),
                Column::new("dataset".into(), ["follow_ups", "follow_ups"]),
                categories.finish().into_column(),
                Column::new("record_count".into(), [3i32, -4]),
                Column::new("site".into(), ["x", "y"]),
            ],
        )
        .unwrap();
        let parquet = dir.path().join("e.parquet");
        ParquetWriter::new(std::fs::File::create(&parquet).unwrap()).finish(&mut frame).unwrap();
        let ipc = dir.path().join("e.arrow");
        IpcWriter::new(std::fs::File::create(&ipc).unwrap()).finish(&mut frame).unwrap();
        let parquet_read = load_all(&[(parquet, Format::Parquet)]).unwrap();
        // A negative count in a native integer column is quarantined like a text one.
        assert_eq!(parquet_read.quarantine.len(), 1);
        assert_eq!(parquet_read.quarantine[0].reason, "negative count");
        let from_parquet = parquet_read.events;
        let from_ipc = load_all(&[(ipc, Format::ArrowIpc)]).unwrap().events;
        assert!(from_parquet.equals_missing(&from_ipc));
        assert_eq!(from_parquet.column("ts").unwrap().dtype(), &event::timestamp_type());
        assert_eq!(from_parquet.column("record_count").unwrap().dtype(), &DataType::Int64);
        assert_eq!(from_parquet.column("action").unwrap().str().unwrap().get(0), Some("transfer"));
        assert_eq!(from_parquet.column("site").unwrap().str().unwrap().get(0), Some("x"));
        let first = from_parquet.column("ts").unwrap().datetime().unwrap().physical().get(0);
        assert_eq!(first, Some(1_614_665_640_000_000));
    }

    #[test]
    fn an_arrow_file_with_no_rows_and_a_parquet_file_of_wrong_types() {
        let dir = tempfile::tempdir().unwrap();
        let text = |name: &str| Column::new(name.into(), Vec::<String>::new());
        let mut empty = DataFrame::new(
            0,
            vec![text("event_id"), text("ts"), text("actor_id"), text("actor_role"), text("action"), text("dataset")],
        )
        .unwrap();
        let arrow = dir.path().join("empty.arrow");
        IpcWriter::new(std::fs::File::create(&arrow).unwrap()).finish(&mut empty).unwrap();
        let ingested = load_all(&[(arrow, Format::ArrowIpc)]).unwrap();
        assert_eq!((ingested.files[0].rows_read, ingested.events.height()), (0, 0));

        // ts as a boolean cannot be a timestamp: a clear error naming file, column and types.
        let mut wrong = DataFrame::new(
            1,
            vec![
                Column::new("event_id".into(), [1i64]),
                Column::new("ts".into(), [true]),
                Column::new("actor_id".into(), ["a"]),
                Column::new("actor_role".into(), ["agent"]),
                Column::new("action".into(), ["read"]),
                Column::new("dataset".into(), ["d"]),
            ],
        )
        .unwrap();
        let parquet = dir.path().join("wrong.parquet");
        ParquetWriter::new(std::fs::File::create(&parquet).unwrap()).finish(&mut wrong).unwrap();
        let error = load_all(&[(parquet, Format::Parquet)]).err().unwrap().to_string();
        assert!(error.contains("wrong.parquet") && error.contains("`ts`") && error.contains("bool"), "{error}");
    }

    #[test]
    fn gzipped_csv_and_json_lines_are_read_through_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let gzip = |name: &str, text: &str| {
            let path = dir.path().join(name);
            let mut encoder =
                flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::default());
            std::io::Write::write_all(&mut encoder, text.as_bytes()).unwrap();
            encoder.finish().unwrap();
            path
        };
        let csv = gzip("e.csv.gz", &format!("{HEADER}e1,2021-03-02T06:14:00Z,a1,agent,read,follow_ups,,,\n"));
        let jsonl = gzip(
            "e.jsonl.gz",
            "{\"event_id\":\"e2\",\"ts\":\"2021-03-02T06:15:00Z\",\"actor_id\":\"a\",\"actor_role\":\"agent\",\"action\":\"read\",\"dataset\":\"d\"}\n",
        );
        let inputs = discover(&[csv, jsonl], &SourceMaps::default()).unwrap();
        assert_eq!(inputs.iter().map(|i| i.format).collect::<Vec<_>>(), [Format::Csv, Format::JsonLines]);
        let ingested = load(&inputs, &SourceMaps::default(), true).unwrap();
        assert_eq!(ingested.events.height(), 2);
    }

    #[test]
    fn formats_from_names() {
        let of = |name: &str| Format::from_path(Path::new(name));
        assert_eq!(of("e.csv.gz"), Some(Format::Csv));
        assert_eq!(of("e.NDJSON"), Some(Format::JsonLines));
        assert_eq!(of("e.parquet.gz"), None);
        assert_eq!(of("access.log.2.gz"), Some(Format::AccessLog));
        assert_eq!(of("export.txt"), None);
        assert!(Format::Csv.suits(Path::new("export.TXT")) && !Format::Csv.suits(Path::new("e.parquet")));
    }

    #[test]
    fn unsupported_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "events.xml", "");
        let error = discover(&[path], &SourceMaps::default()).err().unwrap().to_string();
        assert!(error.contains("events.xml") && error.contains(".jsonl"), "{error}");
    }
}
