//! Parquet and Arrow IPC (`.arrow`, `.feather`, `.ipc`): typed columns, read one slice of rows
//! at a time through polars' lazy scans, so memory holds one chunk, not the file. The two
//! formats differ only in the scan that opens them, hence one file for both.

use std::path::Path;

use polars::prelude::*;

use super::{ChunkSink, InputFile, InputFormat, RawTable, RowLines};
use crate::error::{PolarsContext, Result};

/// Parquet (`ipc: false`) or Arrow IPC (`ipc: true`).
pub struct Columnar {
    pub ipc: bool,
}

impl InputFormat for Columnar {
    fn read_chunks(&self, file: &InputFile, chunk_rows: usize, on_chunk: &mut ChunkSink) -> Result<()> {
        let total = self.count_rows(file.path, file.display)?;
        let mut start = 0;
        loop {
            let length = chunk_rows.min(total - start);
            on_chunk(self.read_rows(file.path, file.display, start, length)?, start)?;
            start += length;
            if start >= total {
                return Ok(());
            }
        }
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
