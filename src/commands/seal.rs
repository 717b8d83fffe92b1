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

pub fn run(events: &[PathBuf], source_maps: &[PathBuf], out: &Path) -> Result<usize> {
    let format = Format::from_path(out)
        .filter(|f| matches!(f, Format::Csv | Format::Parquet))
        .ok_or_else(|| Error::Usage(format!("--out {}: seal writes .csv or .parquet", out.display())))?;
    let maps = ingest::source_map::SourceMaps::load(source_maps, None)?;
    let ingested = ingest::load(&ingest::discover(events, &maps)?, &maps, true)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::chain::{ProblemKind, VerifyParams};

    /// Problems `verify` finds in a CSV text.
    fn problems(dir: &Path, name: &str, text: &str) -> Vec<(ProblemKind, u32)> {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let ingested = ingest::load_all(&[(path, Format::Csv)]).unwrap();
        assert!(ingested.quarantine.is_empty());
        let params = VerifyParams { max_gap_us: i64::MAX, min_coverage_days: 0, timezone: chrono_tz::Europe::Paris };
        chain::verify(&chain::rows(&ingested.events).unwrap(), &params).into_iter().map(|p| (p.kind, p.row)).collect()
    }

    #[test]
    fn every_tampering_of_every_row_of_a_sealed_file_is_caught_and_located() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("log.csv");
        let mut text = String::from("event_id,ts,actor_id,actor_role,action,dataset,categories,record_count\n");
        for i in 0..15 {
            text.push_str(&format!(
                "e{i},2022-01-03T{:02}:00:00Z,a{},agent,read,follow_ups,identity;nir,{i}\n",
                6 + i,
                i % 4
            ));
        }
        std::fs::write(&source, text).unwrap();
        let sealed = dir.path().join("sealed.csv");
        assert_eq!(run(&[source], &[], &sealed).unwrap(), 15);
        let sealed_text = std::fs::read_to_string(&sealed).unwrap();
        assert!(problems(dir.path(), "copy.csv", &sealed_text).is_empty());
        let lines: Vec<&str> = sealed_text.lines().collect();
        let (header, rows) = (lines[0], &lines[1..]);
        let file = |rows: &[String]| format!("{header}\n{}\n", rows.join("\n"));
        for index in 0..rows.len() {
            let row = index as u32 + 1;
            let mut changed: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
            changed[index] = changed[index].replacen(",read,", ",export,", 1);
            assert!(
                problems(dir.path(), "t.csv", &file(&changed)).contains(&(ProblemKind::AlteredRow, row)),
                "change {row}"
            );

            let mut forged: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
            forged.insert(index, rows[index].replacen(&format!("e{index},"), "forged,", 1));
            let found = problems(dir.path(), "t.csv", &file(&forged));
            assert!(found.iter().any(|(_, r)| *r == row || *r == row + 1), "insert before {row}: {found:?}");

            if index + 1 < rows.len() {
                let mut deleted: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
                deleted.remove(index);
                assert!(
                    problems(dir.path(), "t.csv", &file(&deleted)).contains(&(ProblemKind::BrokenLink, row)),
                    "delete {row}"
                );

                let mut swapped: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
                swapped.swap(index, index + 1);
                assert!(
                    problems(dir.path(), "t.csv", &file(&swapped)).contains(&(ProblemKind::BrokenLink, row)),
                    "swap {row}"
                );
            }
        }
    }

    #[test]
    fn a_log_with_unreadable_rows_is_not_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("log.csv");
        std::fs::write(&source, "event_id,ts,actor_id,actor_role,action,dataset\ne1,yesterday,a,agent,read,d\n")
            .unwrap();
        let error = run(&[source], &[], &dir.path().join("out.csv")).err().unwrap().to_string();
        assert!(error.contains("log.csv") && error.contains("before sealing"), "{error}");
    }
}
