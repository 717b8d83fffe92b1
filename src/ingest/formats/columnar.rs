//! Parquet and Arrow IPC (`.arrow`, `.feather`, `.ipc`): typed columns, read one slice of rows
//! at a time through polars' lazy scans, so memory holds one chunk, not the file. The two
//! formats differ only in the scan that opens them, hence one file for both.

use std::path::Path;

use polars::prelude::*;

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

/// Parquet (`ipc: false`) or Arrow IPC (`ipc: true`).
pub struct Columnar {
    pub ipc: bool,
}

impl InputFormat for Columnar {
    fn read_chunks(&self, file: &InputFile, chunk_rows: usize, on_chunk: &mut ChunkSink) -> Result<()> {
        let total = self.count_rows(file.path, file.display)?;
        let lengths = match self.row_groups(file.path) {
            Some(groups) if total > 0 && groups.iter().sum::<usize>() == total => aligned_chunks(&groups, chunk_rows),
            _ => even_chunks(total, chunk_rows),
        };
        let mut start = 0;
        for length in lengths {
            on_chunk(self.read_rows(file.path, file.display, start, length)?, start)?;
            start += length;
        }
        Ok(())
    }
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

    /// The rows of each Parquet row group (None for Arrow IPC, or when the metadata cannot be read
    /// here: the reading itself will then say why).
    fn row_groups(&self, path: &Path) -> Option<Vec<usize>> {
        if self.ipc {
            return None;
        }
        let file = std::fs::File::open(path).ok()?;
        let mut reader = ParquetReader::new(file);
        let metadata = reader.get_metadata().ok()?;
        Some(metadata.row_groups.iter().map(|group| group.num_rows()).collect())
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

    /// Rows `start .. start + length`.
    fn read_rows(&self, path: &Path, display: &str, start: usize, length: usize) -> Result<RawTable> {
        let frame = self
            .scan(path)
            .and_then(|lazy| lazy.slice(start as i64, length as IdxSize).collect())
            .polars(format!("{display}: cannot read as {} (rows {} to {})", self.kind(), start + 1, start + length))?;
        Ok(RawTable::new(frame, RowLines::None))
    }
}

#[cfg(test)]
mod tests {
    use super::{aligned_chunks, even_chunks};

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
