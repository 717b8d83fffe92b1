//! `driftwatch seal --events <in>... --out <file>`: writes a copy of a log with `prev_hash` and
//! `hash` filled in (one chain over the inputs in path order, from the genesis), so a system
//! without a tamper-evident log can start one. `verify` accepts the copy. Rows that cannot be
//! read are not sealed silently: any quarantined row stops the command (exit 2).

use std::path::{Path, PathBuf};

use polars::prelude::*;

use crate::error::{Error, PolarsContext, Result};
use crate::event;
use crate::evidence::chain;
use crate::ingest::{self, Format, timestamp::format_us};

pub fn run(events: &[PathBuf], out: &Path) -> Result<usize> {
    let format = Format::from_path(out)
        .filter(|f| matches!(f, Format::Csv | Format::Parquet))
        .ok_or_else(|| Error::Usage(format!("--out {}: seal writes .csv or .parquet", out.display())))?;
    let ingested = ingest::load_all(&ingest::discover(events)?)?;
    if let Some(first) = ingested.quarantine.first() {
        return Err(Error::Input {
            file: first.file.clone(),
            location: first.line.map_or_else(|| format!("row {}", first.row.unwrap_or(0)), |l| format!("line {l}")),
            message: format!(
                "{} row(s) cannot be read ({}); fix or remove them before sealing, so that nothing is left out of the chain",
                ingested.quarantine.len(),
                first.reason
            ),
        });
    }
    let rows = chain::rows(&ingested.events)?;
    let links = chain::seal(&rows);
    let (prev, hash): (Vec<String>, Vec<String>) = links.into_iter().unzip();
    let mut frame = ingested.events.drop_many([event::SOURCE_FILE, event::SOURCE_ROW]);
    frame
        .with_column(Column::new(event::PREV_HASH.into(), prev))
        .and_then(|f| f.with_column(Column::new(event::HASH.into(), hash)))
        .polars("adding the chain")?;
    write(&mut frame, out, format)?;
    Ok(rows.len())
}

fn write(frame: &mut DataFrame, out: &Path, format: Format) -> Result<()> {
    let file = std::fs::File::create(out).map_err(|e| Error::io(out, e))?;
    match format {
        Format::Parquet => {
            ParquetWriter::new(file).finish(frame).map(|_| ()).polars(format!("writing {}", out.display()))
        }
        _ => {
            // CSV: timestamps as RFC 3339 UTC, categories joined with `;` (the input convention).
            let ts: Vec<Option<String>> = frame
                .column(event::TS)
                .and_then(|c| c.datetime())
                .polars("ts")?
                .physical()
                .iter()
                .map(|t| t.map(format_us))
                .collect();
            let categories: Vec<Option<String>> = frame
                .column(event::CATEGORIES)
                .and_then(|c| c.list())
                .polars("categories")?
                .amortized_iter()
                .map(|list| {
                    list.and_then(|s| s.as_ref().str().ok().map(|c| c.iter().flatten().collect::<Vec<_>>().join(";")))
                })
                .collect();
            frame
                .with_column(Column::new(event::TS.into(), ts))
                .and_then(|f| f.with_column(Column::new(event::CATEGORIES.into(), categories)))
                .polars("preparing CSV columns")?;
            CsvWriter::new(file).finish(frame).polars(format!("writing {}", out.display()))
        }
    }
}
