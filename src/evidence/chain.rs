//! The integrity hash chain: each row's `hash` is
//! `hex(SHA-256(prev_hash + "\n" + canonical(row)))`, where `prev_hash` is the previous row's
//! hash (64 zeros for the first row of a chain) and `canonical(row)` is the JSON array of the
//! row's fifteen contract columns other than `prev_hash`/`hash`, in the event model's order,
//! *after* normalisation: `ts` as RFC 3339 UTC (`format_us`), `action` lower-case, `categories`
//! as an array of text, integers as numbers, `record_date` as `YYYY-MM-DD`, absent as `null`.
//! So the chain does not depend on the file format: a sealed CSV converted to Parquet verifies.
//!
//! A low-level utility: `detect/integrity.rs`, `commands/seal.rs` and `commands/verify.rs` use it.

use std::collections::HashMap;

use chrono::NaiveTime;
use polars::prelude::*;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::calendar::{BusinessCalendar, TimeBase};
use crate::error::{PolarsContext, Result};
use crate::event::{self, Kind};
use crate::ingest::timestamp::format_us;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The next link of the chain.
pub fn link(prev_hash: &str, canonical: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// One event as the chain sees it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ChainRow {
    pub file: usize,
    /// Data row in its file, 1-based.
    pub row: u32,
    pub event_id: String,
    pub ts: i64,
    pub canonical: String,
    pub prev_hash: Option<String>,
    pub hash: Option<String>,
}

/// The canonical serialisation of every event of a normalised frame, in frame order.
pub fn rows(frame: &DataFrame) -> Result<Vec<ChainRow>> {
    // The values as written: text the Parquet reader handed on as categoricals is text again.
    let frame = &event::categoricals_as_text(frame).polars("reading the chained rows as text")?;
    let height = frame.height();
    let mut values: Vec<Vec<Value>> = vec![Vec::with_capacity(15); height];
    for spec in event::COLUMNS.iter().filter(|c| c.name != event::PREV_HASH && c.name != event::HASH) {
        let column = frame.column(spec.name).polars(spec.name.to_string())?;
        match spec.kind {
            Kind::Text => {
                for (row, value) in column.str().polars(spec.name.to_string())?.iter().enumerate() {
                    values[row].push(value.map_or(Value::Null, |v| json!(v)));
                }
            }
            Kind::Timestamp => {
                for (row, value) in column.datetime().polars("ts")?.physical().iter().enumerate() {
                    values[row].push(value.map_or(Value::Null, |v| json!(format_us(v))));
                }
            }
            Kind::Integer => {
                for (row, value) in column.i64().polars(spec.name.to_string())?.iter().enumerate() {
                    values[row].push(value.map_or(Value::Null, |v| json!(v)));
                }
            }
            Kind::Date => {
                for (row, value) in column.date().polars(spec.name.to_string())?.physical().iter().enumerate() {
                    let text = value.and_then(|d| chrono::NaiveDate::from_num_days_from_ce_opt(d + 719_163));
                    values[row].push(text.map_or(Value::Null, |d| json!(d.to_string())));
                }
            }
            Kind::Categories => {
                for (row, value) in column.list().polars("categories")?.amortized_iter().enumerate() {
                    let items = value.map(|series| {
                        let series = series.as_ref();
                        series
                            .str()
                            .map(|s| s.iter().map(|c| json!(c.unwrap_or(""))).collect::<Vec<_>>())
                            .unwrap_or_default()
                    });
                    values[row].push(items.map_or(Value::Null, Value::Array));
                }
            }
        }
    }
    let text = |name: &str| frame.column(name).and_then(|c| c.str()).polars(name.to_string());
    let (ids, prev, hash) = (text(event::EVENT_ID)?, text(event::PREV_HASH)?, text(event::HASH)?);
    let ts = frame.column(event::TS).and_then(|c| c.datetime()).polars("ts")?.physical();
    let files = frame.column(event::SOURCE_FILE).ok().and_then(|c| c.u32().ok().cloned());
    let source_rows = frame.column(event::SOURCE_ROW).and_then(|c| c.u32()).polars("source_row")?;
    Ok(values
        .into_iter()
        .enumerate()
        .map(|(row, values)| ChainRow {
            file: files.as_ref().and_then(|f| f.get(row)).unwrap_or(0) as usize,
            row: source_rows.get(row).unwrap_or(row as u32 + 1),
            event_id: ids.get(row).unwrap_or_default().to_string(),
            ts: ts.get(row).unwrap_or_default(),
            canonical: Value::Array(values).to_string(),
            prev_hash: prev.get(row).map(str::to_string),
            hash: hash.get(row).map(str::to_string),
        })
        .collect())
}

/// The chain over `rows` from the genesis: (prev_hash, hash) of each row.
pub fn seal(rows: &[ChainRow]) -> Vec<(String, String)> {
    let mut previous = GENESIS.to_string();
    rows.iter()
        .map(|row| {
            let hash = link(&previous, &row.canonical);
            let pair = (previous.clone(), hash.clone());
            previous = hash;
            pair
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    MissingHash,
    BrokenLink,
    AlteredRow,
    DuplicateEventId,
    TimeBackwards,
    Gap,
    ShortCoverage,
}

impl ProblemKind {
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::MissingHash => "missing_hash",
            ProblemKind::BrokenLink => "broken_link",
            ProblemKind::AlteredRow => "altered_row",
            ProblemKind::DuplicateEventId => "duplicate_event_id",
            ProblemKind::TimeBackwards => "time_backwards",
            ProblemKind::Gap => "gap",
            ProblemKind::ShortCoverage => "short_coverage",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub kind: ProblemKind,
    pub file: usize,
    pub row: u32,
    pub event_id: String,
    pub ts: i64,
    pub message: String,
}

#[derive(Debug, Clone, Copy)]
pub struct VerifyParams {
    /// Longest tolerated silence, counted in business-day time, µs.
    pub max_gap_us: i64,
    pub min_coverage_days: u32,
    pub timezone: chrono_tz::Tz,
}

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(16)]
}

/// Checks the chain links, duplicate ids, time order, gaps and coverage, file by file.
pub fn verify(rows: &[ChainRow], params: &VerifyParams) -> Vec<Problem> {
    let mut problems = Vec::new();
    let problem = |kind, row: &ChainRow, message: String| Problem {
        kind,
        file: row.file,
        row: row.row,
        event_id: row.event_id.clone(),
        ts: row.ts,
        message,
    };
    let mut seen: HashMap<&str, (usize, u32)> = HashMap::new();
    let mut previous: Option<&ChainRow> = None;
    let mut last_hash_of_previous_file: Option<&str> = None;
    let years =
        rows.iter().map(|r| chrono::DateTime::from_timestamp_micros(r.ts).map_or(1970, |d| chrono::Datelike::year(&d)));
    let (first_year, last_year) = years.fold((i32::MAX, i32::MIN), |(a, b), y| (a.min(y), b.max(y)));
    let calendar = BusinessCalendar::french(first_year.min(last_year), last_year.max(first_year));
    let base = TimeBase::Local(params.timezone);
    for row in rows {
        let same_file = previous.is_some_and(|p| p.file == row.file);
        if !same_file {
            last_hash_of_previous_file = previous.and_then(|p| p.hash.as_deref());
        }
        if let Some((file, at)) = seen.insert(&row.event_id, (row.file, row.row)) {
            problems.push(problem(
                ProblemKind::DuplicateEventId,
                row,
                format!("event id {} already used at row {at} of input {}", row.event_id, file + 1),
            ));
        }
        match (&row.prev_hash, &row.hash) {
            (Some(prev), Some(hash)) => {
                let expected_prev = if same_file { previous.and_then(|p| p.hash.as_deref()) } else { None };
                let link_ok = match expected_prev {
                    Some(expected) => prev == expected,
                    // A file starts a chain, or continues the previous file's (log rotation).
                    None => prev == GENESIS || Some(prev.as_str()) == last_hash_of_previous_file,
                };
                if !link_ok {
                    problems.push(problem(
                        ProblemKind::BrokenLink,
                        row,
                        format!(
                            "prev_hash {} does not match the previous row's hash {}: a row is missing, reordered or inserted before this one",
                            short(prev),
                            expected_prev.map_or("(chain start)", short)
                        ),
                    ));
                }
                let computed = link(prev, &row.canonical);
                if &computed != hash {
                    problems.push(problem(
                        ProblemKind::AlteredRow,
                        row,
                        format!(
                            "the row does not match its hash: expected {}, found {}",
                            short(&computed),
                            short(hash)
                        ),
                    ));
                }
            }
            _ => problems.push(problem(ProblemKind::MissingHash, row, "no prev_hash/hash on this row".into())),
        }
        if let Some(before) = previous.filter(|_| same_file) {
            if row.ts < before.ts {
                problems.push(problem(
                    ProblemKind::TimeBackwards,
                    row,
                    format!("time goes backwards: {} after {}", format_us(row.ts), format_us(before.ts)),
                ));
            } else if row.ts - before.ts > params.max_gap_us {
                let silent = business_time(before.ts, row.ts, base, &calendar);
                if silent > params.max_gap_us {
                    problems.push(problem(
                        ProblemKind::Gap,
                        row,
                        format!(
                            "{:.1} h of business-day time without any entry, from {} to {}",
                            silent as f64 / 3.6e9,
                            format_us(before.ts),
                            format_us(row.ts)
                        ),
                    ));
                }
            }
        }
        previous = Some(row);
    }
    if let (Some(first), Some(last)) = (rows.iter().min_by_key(|r| r.ts), rows.iter().max_by_key(|r| r.ts)) {
        let days = (last.ts - first.ts) as f64 / 86_400e6;
        if days < f64::from(params.min_coverage_days) {
            problems.push(problem(
                ProblemKind::ShortCoverage,
                first,
                format!(
                    "the log covers {days:.1} days ({} to {}); at least {} are required",
                    format_us(first.ts),
                    format_us(last.ts),
                    params.min_coverage_days
                ),
            ));
        }
    }
    problems
}

/// Time between two instants that falls on business days (in the local calendar), µs.
fn business_time(from: i64, to: i64, base: TimeBase, calendar: &BusinessCalendar) -> i64 {
    let mut total = 0;
    let mut day = base.wall_clock(from).date();
    let last = base.wall_clock(to).date();
    while day <= last {
        let start = base.instant(day.and_time(NaiveTime::MIN));
        let end = base.instant((day + chrono::Days::new(1)).and_time(NaiveTime::MIN));
        if calendar.is_business_day(day) {
            total += (to.min(end) - from.max(start)).max(0);
        }
        day = day + chrono::Days::new(1);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(count: usize) -> Vec<ChainRow> {
        // Business days in January 2022, every 2 hours during office hours.
        let start = chrono::NaiveDate::from_ymd_opt(2022, 1, 3)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros();
        let mut rows: Vec<ChainRow> = (0..count)
            .map(|i| ChainRow {
                file: 0,
                row: i as u32 + 1,
                event_id: format!("e{i}"),
                ts: start + i as i64 * 3_600_000_000,
                canonical: format!("[\"e{i}\",\"payload {i}\"]"),
                prev_hash: None,
                hash: None,
            })
            .collect();
        let chain = seal(&rows);
        for (row, (prev, hash)) in rows.iter_mut().zip(chain) {
            row.prev_hash = Some(prev);
            row.hash = Some(hash);
        }
        rows
    }

    fn params() -> VerifyParams {
        VerifyParams { max_gap_us: 24 * 3_600_000_000, min_coverage_days: 0, timezone: chrono_tz::Europe::Paris }
    }

    fn renumber(rows: &mut [ChainRow]) {
        for (i, row) in rows.iter_mut().enumerate() {
            row.row = i as u32 + 1;
        }
    }

    #[test]
    fn a_sealed_log_verifies() {
        assert_eq!(verify(&sample(12), &params()), vec![]);
    }

    /// Every row: changing a field, deleting it, swapping it with the next, inserting a forged
    /// row before it — each fails and names the row (or the one right after the damage).
    #[test]
    fn every_tampering_of_every_row_is_caught_and_located() {
        let original = sample(12);
        for index in 0..original.len() {
            let mut changed = original.clone();
            changed[index].canonical = changed[index].canonical.replace("payload", "PAYLOAD");
            let found = verify(&changed, &params());
            assert!(
                found.iter().any(|p| p.kind == ProblemKind::AlteredRow && p.row == index as u32 + 1),
                "change {index}: {found:?}"
            );

            if index + 1 < original.len() {
                let mut deleted = original.clone();
                deleted.remove(index);
                renumber(&mut deleted);
                let found = verify(&deleted, &params());
                assert!(
                    found.iter().any(|p| p.kind == ProblemKind::BrokenLink && p.row == index as u32 + 1),
                    "delete {index}: {found:?}"
                );

                let mut swapped = original.clone();
                swapped.swap(index, index + 1);
                renumber(&mut swapped);
                let found = verify(&swapped, &params());
                assert!(
                    found.iter().any(|p| p.kind == ProblemKind::BrokenLink && p.row == index as u32 + 1),
                    "swap {index}: {found:?}"
                );
            }

            let mut inserted = original.clone();
            let prev = if index == 0 { GENESIS.to_string() } else { original[index - 1].hash.clone().unwrap() };
            let canonical = "[\"forged\",\"payload\"]".to_string();
            let hash = link(&prev, &canonical);
            inserted.insert(
                index,
                ChainRow {
                    row: 0,
                    event_id: "forged".into(),
                    canonical,
                    prev_hash: Some(prev),
                    hash: Some(hash),
                    ..original[index].clone()
                },
            );
            renumber(&mut inserted);
            let found = verify(&inserted, &params());
            // The forged row links to its predecessor, so the break shows on the row after it.
            assert!(
                found.iter().any(|p| p.kind == ProblemKind::BrokenLink && p.row == index as u32 + 2),
                "insert {index}: {found:?}"
            );
        }
    }

    #[test]
    fn duplicates_time_order_gaps_and_coverage() {
        let mut rows = sample(6);
        rows[3].event_id = "e1".into();
        rows[4].ts = rows[3].ts - 1;
        let found: Vec<ProblemKind> = verify(&rows, &params()).iter().map(|p| p.kind).collect();
        assert!(
            found.contains(&ProblemKind::DuplicateEventId) && found.contains(&ProblemKind::TimeBackwards),
            "{found:?}"
        );
        // A silence over a weekend is not a gap; three business days is.
        let mut weekend = sample(2);
        let friday = chrono::NaiveDate::from_ymd_opt(2022, 1, 7)
            .unwrap()
            .and_hms_opt(17, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros();
        weekend[0].ts = friday;
        weekend[1].ts = friday + 62 * 3_600_000_000; // Monday 07:00
        assert!(!verify(&weekend, &params()).iter().any(|p| p.kind == ProblemKind::Gap));
        weekend[1].ts = friday + 4 * 24 * 3_600_000_000;
        assert!(verify(&weekend, &params()).iter().any(|p| p.kind == ProblemKind::Gap));
        let short = VerifyParams { min_coverage_days: 183, ..params() };
        assert!(verify(&sample(3), &short).iter().any(|p| p.kind == ProblemKind::ShortCoverage));
    }
}
