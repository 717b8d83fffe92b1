//! `driftwatch verify --events <FILE|DIR>...`: checks a log's integrity chain (broken links,
//! altered, missing, reordered or inserted rows), duplicate event ids, time going backwards,
//! gaps longer than `--max-gap` in business-day time, and coverage of at least
//! `--min-coverage-days`. Exit 0 when all hold, 1 when a problem is found, 2 on input errors.

use crate::cli::VerifyArgs;
use crate::error::{Error, Result};
use crate::evidence::chain::{self, VerifyParams};
use crate::ingest;

pub fn run(args: &VerifyArgs) -> Result<i32> {
    let timezone = args
        .timezone
        .parse()
        .map_err(|_| Error::Usage(format!("--timezone {}: not an IANA time zone", args.timezone)))?;
    let params = VerifyParams {
        max_gap_us: i64::from(args.max_gap) * 3_600_000_000,
        min_coverage_days: args.min_coverage_days,
        timezone,
    };
    let maps = ingest::source_map::SourceMaps::load(&args.source_map, None)?;
    let inputs = ingest::discover(&args.events, &maps)?;
    let ingested = ingest::load(&inputs, &maps, true)?;
    let rows = chain::rows(&ingested.events)?;
    let problems = chain::verify(&rows, &params);
    let name = |file: usize| ingested.files.get(file).map_or("?", |f| f.path.as_str());
    for record in &ingested.quarantine {
        crate::outln!(
            "{}:{}: unreadable row ({}: {}), so the chain cannot include it",
            record.file,
            record.line.map_or_else(|| format!("row {}", record.row.unwrap_or(0)), |l| format!("line {l}")),
            record.column,
            record.reason
        );
    }
    for problem in &problems {
        crate::outln!(
            "{}:row {} ({}): {}: {}",
            name(problem.file),
            problem.row,
            problem.event_id,
            problem.kind.name(),
            problem.message
        );
    }
    let failed = !problems.is_empty() || !ingested.quarantine.is_empty();
    crate::outln!(
        "{}: {} row(s) in {} file(s), {} problem(s), {} unreadable row(s)",
        if failed { "FAILED" } else { "OK" },
        rows.len(),
        ingested.files.len(),
        problems.len(),
        ingested.quarantine.len()
    );
    Ok(i32::from(failed))
}
