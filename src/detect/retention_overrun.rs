//! `retention_overrun`: events that read, search, export or transfer records kept past their
//! retention period — the record's `record_date` plus its dataset's `retention_days` is before
//! the event's day (seed 002: five years after the end of the service or the last invalidation;
//! seed 003: excessive retention). Day granularity, UTC: a record may still be used on the last
//! day of its retention, not the day after.
//!
//! One finding per (dataset, action) with the oldest record, the largest excess in days and the
//! counts; severity high for exports and transfers (the data left), medium otherwise.

use std::collections::BTreeMap;

use polars::prelude::*;
use serde_json::json;

use super::{Context, Detector, EventColumns, ROW, Scanner, Tally};
use crate::error::{PolarsContext, Result};
use crate::event::{ACTION, DATASET, RECORD_DATE, TS};
use crate::finding::{Finding, FindingDraft, Severity};
use crate::register::versions::REGISTER_VERSION;

pub struct RetentionOverrun;

/// Actions that use a record's content.
const USES: [&str; 4] = ["read", "search", "export", "transfer"];
const DAY_US: i64 = 86_400_000_000;

#[derive(Default)]
struct Overrun {
    tally: Tally,
    oldest_record: i32,
    largest_excess: i64,
    retention_days: u32,
    legal_ref: String,
}

/// Days past the end of retention (> 0 means overrun) for an event on `event_day`.
pub fn excess_days(record_day: i32, retention_days: u32, event_day: i64) -> i64 {
    event_day - (i64::from(record_day) + i64::from(retention_days))
}

impl Detector for RetentionOverrun {
    fn name(&self) -> &'static str {
        "retention_overrun"
    }

    fn scanner(&self) -> Box<dyn Scanner> {
        Box::new(OverrunScanner::default())
    }
}

#[derive(Default)]
struct OverrunScanner {
    overruns: BTreeMap<(String, String), Overrun>,
}

impl Scanner for OverrunScanner {
    fn scan(&mut self, context: &Context, events: &DataFrame) -> Result<()> {
        let uses = USES.iter().fold(lit(false), |any, action| any.or(col(ACTION).eq(lit(*action))));
        let dated = events
            .clone()
            .lazy()
            .select([
                col(ROW),
                col(REGISTER_VERSION),
                col(DATASET),
                col(ACTION),
                col(TS).cast(DataType::Int64),
                col(RECORD_DATE).cast(DataType::Int32),
            ])
            .filter(col(REGISTER_VERSION).is_not_null().and(col(RECORD_DATE).is_not_null()).and(uses))
            .collect()
            .polars("selecting events on dated records")?;
        let text = |name: &str| super::text_column(&dated, name);
        let (datasets, actions) = (text(DATASET)?, text(ACTION)?);
        let versions = dated.column(REGISTER_VERSION).and_then(|c| c.i32()).polars("versions")?;
        let times = dated.column(TS).and_then(|c| c.i64()).polars("ts")?;
        let record_days = dated.column(RECORD_DATE).and_then(|c| c.i32()).polars("record_date")?;
        let rows = dated.column(ROW).and_then(|c| c.idx()).polars("rows")?;
        let columns = EventColumns::of(events)?;
        for index in 0..dated.height() {
            let (Some(version), Some(dataset), Some(action), Some(ts), Some(record_day)) = (
                versions.get(index),
                datasets.get(index),
                actions.get(index),
                times.get(index),
                record_days.get(index),
            ) else {
                continue;
            };
            let version = context.register.get(version as usize);
            let Some(declared) = version.doc.datasets.iter().find(|d| d.id == dataset) else { continue };
            let Some(retention) = declared.retention_days else { continue };
            let excess = excess_days(record_day, retention, ts.div_euclid(DAY_US));
            if excess <= 0 {
                continue;
            }
            let overrun = self.overruns.entry((dataset.to_string(), action.to_string())).or_default();
            if overrun.tally.is_empty() || record_day < overrun.oldest_record {
                overrun.oldest_record = record_day;
            }
            overrun.largest_excess = overrun.largest_excess.max(excess);
            overrun.retention_days = retention;
            overrun.legal_ref = declared.legal_ref.clone().unwrap_or_else(|| version.legal_ref());
            columns.add_to(&mut overrun.tally, rows.get(index).expect("row") as usize);
        }
        Ok(())
    }

    fn finish(self: Box<Self>, context: &Context) -> Result<Vec<Finding>> {
        Ok(self
            .overruns
            .into_iter()
            .map(|((dataset, action), overrun)| RetentionOverrun.finding(context, dataset, action, overrun))
            .collect())
    }
}

impl RetentionOverrun {
    fn finding(&self, context: &Context, dataset: String, action: String, overrun: Overrun) -> Finding {
        let group = overrun.tally.into_summary();
        let oldest = chrono::NaiveDate::from_num_days_from_ce_opt(overrun.oldest_record + 719_163)
            .map(|d| d.to_string())
            .unwrap_or_default();
        let mut details = BTreeMap::new();
        details.insert("reason".to_string(), json!(action));
        details.insert("oldest_record_date".to_string(), json!(oldest));
        details.insert("largest_excess_days".to_string(), json!(overrun.largest_excess));
        details.insert("retention_days".to_string(), json!(overrun.retention_days));
        let left = action == "export" || action == "transfer";
        FindingDraft {
            summary: format!(
                "{} {action} event(s) on \"{dataset}\" used records past their {}-day retention (oldest record {oldest}, up to {} days over)",
                group.events, overrun.retention_days, overrun.largest_excess
            ),
            dataset: Some(dataset.clone()),
            first_seen: Some(group.first_seen),
            last_seen: Some(group.last_seen),
            events: group.events,
            records: group.records,
            score: 1.0,
            rule: format!("[[dataset]] \"{dataset}\": retention_days = {}", overrun.retention_days),
            legal_ref: overrun.legal_ref,
            register_versions: context.version_ids(&group.versions),
            evidence: group.evidence,
            details,
            ..Default::default()
        }
        .finish(self.name(), if left { Severity::High } else { Severity::Medium }, &[&action])
    }
}

#[cfg(test)]
mod tests {
    use super::excess_days;

    #[test]
    fn the_last_day_of_retention_is_still_within_it() {
        // Record of day 0 kept 10 days: usable through day 10, overrun from day 11.
        assert_eq!(excess_days(0, 10, 10), 0);
        assert_eq!(excess_days(0, 10, 11), 1);
        assert!(excess_days(0, 10, 9) < 0);
    }
}
