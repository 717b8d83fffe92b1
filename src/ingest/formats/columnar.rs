//! Parquet and Arrow IPC (`.arrow`, `.feather`, `.ipc`): typed columns, read one slice of rows
//! at a time through polars' lazy scans, so memory holds one chunk, not the file. The two
//! formats differ only in the scan that opens them, hence one file for both.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use polars::io::parquet::read::FileMetadata;
use polars::prelude::*;

use super::parquet_dictionary::DictionaryColumns;
use super::{ChunkSink, InputFile, InputFormat, RawTable, RowLines};
use crate::error::{PolarsContext, Result};

/// Chunks of whole row groups: a chunk that ended inside a row group would have it decoded
/// twice (once for each chunk). Row groups are gathered while the chunk stays within a quarter
/// above `chunk_rows`; a row group larger than that is cut evenly. The chunk size never changes an
/// output byte, only the work.
fn aligned_chunks(groups: &[usize], chunk_rows: usize) -> Vec<usize> {
    let limit = chunk_rows.max(1).saturating_add(chunk_rows / 4);
    let mut lengths = Vec::new();
    let mut current = 0;
    for &group in groups.iter().filter(|g| **g > 0) {
        if current > 0 && current + group > limit {
            lengths.push(current);
            current = 0;
        }
        if group > limit {
            lengths.extend(even_chunks(group, chunk_rows));
        } else {
            current += group;
        }
    }
    if current > 0 {
        lengths.push(current);
    }
    lengths
}

/// `total` rows in chunks of `chunk_rows` (the last shorter); one empty chunk for an empty file,
/// so that its columns are still checked.
fn even_chunks(total: usize, chunk_rows: usize) -> Vec<usize> {
    let step = chunk_rows.max(1);
    if total == 0 {
        return vec![0];
    }
    (0..total.div_ceil(step)).map(|i| step.min(total - i * step)).collect()
}

/// Chunks read ahead of the one being used: two kept the 10M bench audit's reader ahead of its
/// detectors (one gave most of it; memory holds a chunk more each).
pub const READ_AHEAD: usize = 2;

/// Parquet (`ipc: false`) or Arrow IPC (`ipc: true`).
pub struct Columnar {
    pub ipc: bool,
}

impl InputFormat for Columnar {
    fn read_chunks(&self, file: &InputFile, chunk_rows: usize, on_chunk: &mut ChunkSink) -> Result<()> {
        // Parquet's metadata gives the row groups (and so the rows); Arrow IPC is counted.
        let metadata = self.metadata(file.path);
        let groups: Option<Vec<usize>> =
            metadata.as_ref().map(|m| m.row_groups.iter().map(|group| group.num_rows()).collect());
        let lengths = match &groups {
            Some(groups) if groups.iter().sum::<usize>() > 0 => aligned_chunks(groups, chunk_rows),
            _ => even_chunks(self.count_rows(file.path, file.display)?, chunk_rows),
        };
        let spans = group_spans(groups.as_deref().unwrap_or_default(), &lengths);
        // The judge's text columns straight from their dictionaries, where the caller takes them.
        let dictionary = metadata
            .filter(|_| file.options.coded_as_categories)
            .and_then(|metadata| DictionaryColumns::of(metadata, &crate::event::CODED_COLUMNS));
        let starts: Vec<usize> =
            lengths.iter().scan(0, |next, length| Some(std::mem::replace(next, *next + length))).collect();
        // The next chunks are read while this one is normalised and judged: reading one chunk at
        // a time left the audit waiting on the reader a quarter of the time (issue 17). Each read
        // is its own thread: a slice of the file, decoded by polars.
        std::thread::scope(|scope| {
            let read = |index: usize| {
                let (start, length, groups) = (starts[index], lengths[index], spans[index].clone());
                let dictionary = dictionary.as_ref().zip(groups);
                scope.spawn(move || match dictionary {
                    Some((dictionary, groups)) => self.read_groups(file, dictionary, groups, start, length),
                    None => self.read_rows(file.path, file.display, start, length, None),
                })
            };
            let mut reading = std::collections::VecDeque::new();
            for (index, start) in starts.iter().enumerate() {
                // The first chunk is read alone: the detectors wait for it, and reads side by
                // side would share the cores.
                if reading.is_empty() {
                    reading.push_back(read(index));
                }
                // Cannot be empty: the chunk at `index` is being read.
                let handle = reading.pop_front().expect("a chunk being read");
                let table = handle.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
                // The next chunks are asked for before this one is handed on.
                while reading.len() < file.read_ahead && index + 1 + reading.len() < starts.len() {
                    reading.push_back(read(index + 1 + reading.len()));
                }
                on_chunk(table, *start)?;
            }
            Ok(())
        })
    }
}

/// The row groups each chunk covers, for the chunks made of whole row groups (None for a slice
/// of a row group cut in parts, and for Arrow IPC).
fn group_spans(groups: &[usize], lengths: &[usize]) -> Vec<Option<Range<usize>>> {
    // The row each group starts at, then the end of the last.
    let bounds: Vec<usize> = std::iter::once(0)
        .chain(groups.iter().scan(0, |end, rows| {
            *end += rows;
            Some(*end)
        }))
        .collect();
    let group_at = |row: usize| bounds.binary_search(&row).ok();
    let mut start = 0;
    lengths
        .iter()
        .map(|length| {
            let span = group_at(start).zip(group_at(start + length)).map(|(first, end)| first..end);
            start += length;
            span.filter(|span| !span.is_empty() && !groups.is_empty())
        })
        .collect()
}

impl Columnar {
    fn scan(&self, path: &Path) -> PolarsResult<LazyFrame> {
        let path_text = path.to_string_lossy().to_string();
        if self.ipc {
            LazyFrame::scan_ipc(PlRefPath::new(path_text.as_str()), Default::default(), Default::default())
        } else {
            LazyFrame::scan_parquet(PlRefPath::new(path_text.as_str()), ScanArgsParquet::default())
        }
    }

    fn kind(&self) -> &'static str {
        if self.ipc { "Arrow IPC" } else { "Parquet" }
    }

    /// A Parquet file's metadata (None for Arrow IPC, or when the metadata cannot be read here:
    /// the reading itself will then say why).
    fn metadata(&self, path: &Path) -> Option<Arc<FileMetadata>> {
        if self.ipc {
            return None;
        }
        let file = std::fs::File::open(path).ok()?;
        let mut reader = ParquetReader::new(file);
        reader.get_metadata().ok().cloned()
    }

    /// Rows in the file (from its metadata).
    pub fn count_rows(&self, path: &Path, display: &str) -> Result<usize> {
        let counted = self
            .scan(path)
            .and_then(|lazy| lazy.select([len().cast(DataType::UInt64).alias("rows")]).collect())
            .polars(format!("{display}: cannot read as {}", self.kind()))?;
        let rows =
            counted.column("rows").and_then(|c| c.u64().map(|c| c.get(0))).polars(format!("{display}: row count"))?;
        Ok(rows.unwrap_or(0) as usize)
    }

    /// Rows `start .. start + length`: every column, or only `columns` when given.
    fn read_rows(
        &self,
        path: &Path,
        display: &str,
        start: usize,
        length: usize,
        columns: Option<&[&str]>,
    ) -> Result<RawTable> {
        let frame = self
            .scan(path)
            .and_then(|lazy| {
                let lazy = match columns {
                    Some(names) => lazy.select(names.iter().map(|name| col(*name)).collect::<Vec<_>>()),
                    None => lazy,
                };
                lazy.slice(start as i64, length as IdxSize).collect()
            })
            .polars(format!("{display}: cannot read as {} (rows {} to {})", self.kind(), start + 1, start + length))?;
        Ok(RawTable::new(frame, RowLines::None))
    }

    /// Row groups `groups` (rows `start .. start + length`): the judge's text columns from their
    /// dictionaries where they can be, the other columns through polars; in the file's order.
    fn read_groups(
        &self,
        file: &InputFile,
        dictionary: &DictionaryColumns,
        groups: Range<usize>,
        start: usize,
        length: usize,
    ) -> Result<RawTable> {
        let mut categorical: Vec<(&str, Column)> = dictionary
            .read(file.path, groups)
            .into_iter()
            .filter_map(|(name, column)| column.filter(|c| c.len() == length).map(|c| (name, c)))
            .collect();
        // The other columns, named from the metadata already read (not from a schema per chunk).
        let others: Vec<&str> = dictionary
            .file_columns()
            .iter()
            .map(String::as_str)
            .filter(|name| !categorical.iter().any(|(apart, _)| apart == name))
            .collect();
        let RawTable { frame, lines, .. } = self.read_rows(file.path, file.display, start, length, Some(&others))?;
        let mut rest = frame.into_columns().into_iter();
        let columns: Vec<Column> = dictionary
            .file_columns()
            .iter()
            .filter_map(|name| match categorical.iter().position(|(apart, _)| apart == name) {
                Some(at) => Some(categorical.swap_remove(at).1),
                None => rest.next(),
            })
            .collect();
        let frame = DataFrame::new(length, columns).polars(format!(
            "{}: assembling rows {} to {}",
            file.display,
            start + 1,
            start + length
        ))?;
        Ok(RawTable::new(frame, lines))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Parquet file of 1,000 rows in several row groups read with 400-row chunks: one chunk
    /// per whole row group (no group cut in two), every row once and in order; its row count
    /// known before reading.
    #[test]
    fn parquet_is_read_in_whole_row_groups() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.parquet");
        let ids: Vec<String> = (0..1000).map(|i| format!("e{i}")).collect();
        let mut frame = DataFrame::new(1000, vec![Column::new("event_id".into(), ids.clone())]).unwrap();
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .with_row_group_size(Some(300))
            .finish(&mut frame)
            .unwrap();
        let options = crate::ingest::formats::ReadOptions::default();
        let display = path.display().to_string();
        let groups: Vec<usize> =
            Columnar { ipc: false }.metadata(&path).unwrap().row_groups.iter().map(|g| g.num_rows()).collect();
        assert!(groups.len() > 1 && groups.iter().all(|g| *g < 400), "{groups:?}");
        // One chunk at a time, and with chunks read ahead on their own threads: the same.
        for read_ahead in [0, 1, READ_AHEAD, 5] {
            let file = InputFile { read_ahead, ..InputFile::new(&path, &display, &options) };
            let (mut heights, mut starts, mut seen) = (Vec::new(), Vec::new(), Vec::new());
            Columnar { ipc: false }
                .read_chunks(&file, 400, &mut |table, start| {
                    heights.push(table.frame.height());
                    starts.push(start);
                    let column = table.frame.column("event_id").unwrap().str().unwrap().clone();
                    seen.extend(column.iter().map(|v| v.unwrap().to_string()));
                    Ok(())
                })
                .unwrap();
            assert_eq!(heights, groups, "a chunk per row group, {read_ahead} ahead");
            let group_starts: Vec<usize> =
                groups.iter().scan(0, |row, g| Some(std::mem::replace(row, *row + g))).collect();
            assert_eq!(starts, group_starts, "{read_ahead} ahead");
            assert_eq!(seen, ids, "{read_ahead} ahead");
        }
        let input = crate::ingest::Input::plain(path.clone(), crate::ingest::Format::Parquet);
        assert_eq!(crate::ingest::known_row_count(&[input]), Some(1000));
    }

    /// pyarrow's Parquet (text and the categories list dictionary-encoded, `purpose` plain, four
    /// row groups): the judge's text columns come as categoricals when asked, a plain column as
    /// text, and the values are those read as text, whatever the chunks.
    #[test]
    fn dictionary_encoded_text_comes_as_categoricals_with_the_same_values() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/parquet/pyarrow_wikit_transfers.parquet");
        let display = path.display().to_string();
        let read = |coded_as_categories: bool, chunk_rows: usize| {
            let options = crate::ingest::formats::ReadOptions { coded_as_categories, ..Default::default() };
            let file = InputFile { read_ahead: 1, ..InputFile::new(&path, &display, &options) };
            let mut chunks = Vec::new();
            Columnar { ipc: false }
                .read_chunks(&file, chunk_rows, &mut |table, _| {
                    chunks.push(table.frame);
                    Ok(())
                })
                .unwrap();
            chunks
        };
        let as_text = read(false, usize::MAX).remove(0);
        assert!(as_text.height() > 3000);
        for chunk_rows in [1000, 2000, 700, usize::MAX] {
            let chunks = read(true, chunk_rows);
            let first = &chunks[0];
            let kind = |name: &str| first.column(name).unwrap().dtype().clone();
            // 700 cuts row groups: those chunks are read through polars, as text.
            let whole_groups = chunk_rows != 700;
            assert_eq!(kind("actor_id").is_categorical(), whole_groups, "{chunk_rows}");
            assert_eq!(matches!(kind("categories"), DataType::List(item) if item.is_categorical()), whole_groups);
            assert_eq!(kind("purpose"), DataType::String, "a plain column stays text");
            assert_eq!(kind("event_id"), DataType::String, "not a judged column");
            assert_eq!(first.get_column_names(), as_text.get_column_names(), "the file's order");
            let mut stacked = crate::event::categoricals_as_text(&chunks[0]).unwrap();
            for chunk in &chunks[1..] {
                stacked.vstack_mut_owned(crate::event::categoricals_as_text(chunk).unwrap()).unwrap();
            }
            assert!(stacked.equals_missing(&as_text), "{chunk_rows}: the same values");
        }
    }

    #[test]
    fn chunks_follow_row_groups_and_cover_every_row() {
        assert_eq!(aligned_chunks(&[262_144; 4], 500_000), vec![524_288, 524_288]);
        assert_eq!(aligned_chunks(&[100, 100, 100], 150), vec![100, 100, 100]);
        assert_eq!(aligned_chunks(&[1_000, 10], 300), vec![300, 300, 300, 100, 10]);
        assert_eq!(even_chunks(0, 10), vec![0]);
        assert_eq!(even_chunks(25, 10), vec![10, 10, 5]);
        for (groups, chunk) in [(vec![7, 0, 13, 1, 40], 9), (vec![262_144; 39], 500_000)] {
            assert_eq!(aligned_chunks(&groups, chunk).iter().sum::<usize>(), groups.iter().sum::<usize>());
        }
    }
}
