//! `retention_overrun`: events that read, search, export or transfer records kept past their
//! retention period — the record's `record_date` plus its dataset's `retention_days` is before
//! the event's day (seed 002: five years after the end of the service or the last invalidation;
//! seed 003: excessive retention). Day granularity, UTC: a record may still be used on the last
//! day of its retention, not the day after.
//!
//! One finding per (dataset, action) with the oldest record, the largest excess in days and the
//! counts; severity high for exports and transfers (the data left), medium otherwise.

use std::collections::BTreeMap;

use polars_arrow::array::PrimitiveArray;

use super::chunk::{Chunk, Codes};
use super::{Context, Detector, EventColumns, Scanner, Tally};
use crate::error::{PolarsContext, Result};
use crate::event::RECORD_DATE;
use crate::finding::{Finding, FindingDraft, Severity, facts};

pub struct RetentionOverrun;

/// Actions that use a record's content.
const USES: [&str; 4] = ["read", "search", "export", "transfer"];
const DAY_US: i64 = 86_400_000_000;

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Overrun {
    tally: Tally,
    oldest_record: i32,
    largest_excess: i64,
    /// (instant, (retention days, legal reference)) of the latest event: what the finding cites.
    declared: (i64, (u32, String)),
}

impl Overrun {
    /// One overrunning event: its record's day, its excess, what it was judged against.
    fn add(
        &mut self,
        row: usize,
        record_day: i32,
        excess: i64,
        declared: (i64, (u32, String)),
        columns: &EventColumns,
    ) {
        if self.tally.is_empty() || record_day < self.oldest_record {
            self.oldest_record = record_day;
        }
        self.largest_excess = self.largest_excess.max(excess);
        if self.tally.is_empty() || (declared.0, &declared.1) > (self.declared.0, &self.declared.1) {
            self.declared = declared;
        }
        columns.add_to(&mut self.tally, row);
    }

    fn merge(&mut self, other: Overrun) {
        if other.tally.is_empty() {
            return;
        }
        if self.tally.is_empty() {
            *self = other;
            return;
        }
        self.oldest_record = self.oldest_record.min(other.oldest_record);
        self.largest_excess = self.largest_excess.max(other.largest_excess);
        super::state::latest(&mut self.declared, other.declared);
        self.tally.merge(other.tally);
    }
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

/// A situation without a declared retention (no register version, or none declared).
const NO_RETENTION: u32 = u32::MAX;

#[derive(Default)]
struct OverrunScanner {
    overruns: BTreeMap<(String, String), Overrun>,
    /// By situation code: the dataset's declared retention in days, or [`NO_RETENTION`];
    /// extended as situations appear, so a row costs one load.
    retention_days: Vec<u32>,
    /// By situation code: the legal reference of that retention (read for overruns only).
    legal_refs: Vec<String>,
}

/// The rows of one array of record days (its first row `first_row` in the chunk) whose event
/// uses a record past its declared retention, with the record day and the days in excess:
/// nearly none. A loop over slices alone (no scanner state it could change), so the compiler
/// keeps the tables in registers instead of reloading them through the scanner on every row.
fn past_retention(
    record_days: &PrimitiveArray<i32>,
    first_row: usize,
    codes: &Codes,
    retention_days: &[u32],
    uses: &[bool],
) -> Vec<(usize, i32, i64)> {
    let validity = record_days.validity();
    let mut rows = Vec::new();
    for (offset, &record_day) in record_days.values().iter().enumerate() {
        let row = first_row + offset;
        let retention = retention_days[codes.situation[row] as usize];
        // Past retention when the event's day comes after the record's last day of retention,
        // i.e. from the midnight after it on: a multiply instead of a division per row, and
        // the three conditions combined without a branch (the action alone was mispredicted
        // on a row in four).
        let first_late_day = i64::from(record_day) + i64::from(retention) + 1;
        let late = codes.ts[row] >= first_late_day.saturating_mul(DAY_US);
        if !(late & (retention != NO_RETENTION) & uses[codes.action[row] as usize]) {
            continue;
        }
        if validity.is_some_and(|valid| !valid.get_bit(offset)) {
            continue;
        }
        let excess = excess_days(record_day, retention, codes.ts[row].div_euclid(DAY_US));
        // Always so (the day after the last of retention, or later): kept as the rule's words.
        if excess > 0 {
            rows.push((row, record_day, excess));
        }
    }
    rows
}

impl Scanner for OverrunScanner {
    fn scan(&mut self, context: &Context, chunk: &Chunk) -> Result<()> {
        let (codes, dictionaries) = (chunk.codes, chunk.dictionaries);
        // By action code: the action uses the record's content (one index, not a search a row).
        let mut uses = vec![false; dictionaries.action.len() + 1];
        for code in USES.iter().filter_map(|action| dictionaries.action.code_of(action)) {
            if let Some(flag) = uses.get_mut(code as usize) {
                *flag = true;
            }
        }
        let record_days = chunk.events.column(RECORD_DATE).and_then(|c| c.date()).polars("record_date")?.physical();
        if !uses.contains(&true) || record_days.null_count() == record_days.len() {
            return Ok(());
        }
        self.learn_situations(context, chunk);
        let columns = EventColumns::of(chunk.events)?;
        let mut first_row = 0;
        for array in record_days.downcast_iter() {
            for (row, record_day, excess) in past_retention(array, first_row, codes, &self.retention_days, &uses) {
                let retention = self.retention_days[codes.situation[row] as usize];
                let declared = (codes.ts[row], (retention, self.legal_refs[codes.situation[row] as usize].clone()));
                let action = dictionaries.action.name(codes.action[row]);
                let key = (dictionaries.dataset.name(codes.dataset[row]).to_string(), action.to_string());
                self.overruns.entry(key).or_default().add(row, record_day, excess, declared, &columns);
            }
            first_row += array.len();
        }
        Ok(())
    }

    fn save(&self, _context: &Context) -> Box<super::state::Saved> {
        super::state::save_map(&self.overruns)
    }

    fn absorb(&mut self, _context: &Context, state: &super::state::Saved) -> Result<()> {
        super::state::absorb_map(RetentionOverrun.name(), "overruns", state, &mut self.overruns, Overrun::merge)
    }

    fn finish(self: Box<Self>, context: &Context) -> Result<Vec<Finding>> {
        Ok(self
            .overruns
            .into_iter()
            .map(|((dataset, action), overrun)| RetentionOverrun.finding(context, dataset, action, overrun))
            .collect())
    }
}

impl OverrunScanner {
    /// The declared retention of each situation that appeared since the last chunk.
    fn learn_situations(&mut self, context: &Context, chunk: &Chunk) {
        let dictionaries = chunk.dictionaries;
        for situation in dictionaries.situations.since(self.retention_days.len()) {
            let declared = (situation.version >= 0).then_some(()).and_then(|()| {
                let version = context.register.get(situation.version as usize);
                let dataset = dictionaries.dataset.text(situation.dataset)?;
                let declared = version.doc.datasets.iter().find(|d| d.id == dataset)?;
                let legal_ref = declared.legal_ref.clone().unwrap_or_else(|| version.legal_ref());
                declared.retention_days.map(|days| (days, legal_ref))
            });
            let (days, legal_ref) = declared.unwrap_or((NO_RETENTION, String::new()));
            self.retention_days.push(days);
            self.legal_refs.push(legal_ref);
        }
    }
}

impl RetentionOverrun {
    fn finding(&self, context: &Context, dataset: String, action: String, overrun: Overrun) -> Finding {
        let group = overrun.tally.into_summary();
        let oldest = chrono::NaiveDate::from_num_days_from_ce_opt(overrun.oldest_record + 719_163)
            .map(|d| d.to_string())
            .unwrap_or_default();
        let left = action == "export" || action == "transfer";
        let facts = facts::RetentionOverrun {
            reason: action.clone(),
            oldest_record_date: oldest,
            largest_excess_days: overrun.largest_excess,
            retention_days: overrun.declared.1.0,
            legal_ref: overrun.declared.1.1,
        };
        FindingDraft {
            dataset: Some(dataset.clone()),
            first_seen: Some(group.first_seen),
            last_seen: Some(group.last_seen),
            events: group.events,
            records: group.records,
            score: 1.0,
            register_versions: context.version_ids(&group.versions),
            evidence: group.evidence,
            ..Default::default()
        }
        .finish(facts, if left { Severity::High } else { Severity::Medium }, &[&action])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing;

    /// The findings on `rows` (with a `record_date` column) of a register keeping `files` 10 days,
    /// in force since 1960.
    fn overruns(rows: &[&str]) -> Vec<Finding> {
        let register = testing::register(&[r#"
processing = "files"
in_force_from = "1960-01-01"
legal_ref = "law"
[[dataset]]
id = "files"
retention_days = 10
[[role]]
id = "agent"
[[purpose]]
id = "casework"
datasets = ["files"]
roles = ["agent"]
"#]);
        let header =
            "event_id,ts,actor_id,actor_role,action,dataset,categories,recipient,purpose,record_count,record_date";
        let events = testing::judged_events_with(&register, header, rows);
        let context =
            Context { register: &register, habilitations: None, settings: Default::default(), input_files: &[] };
        crate::detect::run_one(&RetentionOverrun, &context, &events).unwrap()
    }

    /// Only actions that use the content count, each its own finding; a record updated past its
    /// retention (not a use) or still within it is not an overrun.
    #[test]
    fn only_uses_of_records_past_retention_are_overruns() {
        let findings = overruns(&[
            "e1,2022-01-20T10:00:00Z,ann,agent,read,files,,,casework,1,2022-01-01",
            "e2,2022-01-20T10:00:00Z,ann,agent,update,files,,,casework,1,2022-01-01",
            "e3,2022-01-20T11:00:00Z,ann,agent,export,files,,,casework,1,2022-01-01",
            "e4,2022-01-05T10:00:00Z,ann,agent,read,files,,,casework,1,2022-01-01",
            "e5,2022-01-21T10:00:00Z,ann,agent,delete,files,,,casework,1,2021-01-01",
        ]);
        let found: Vec<(String, u64, Severity)> =
            findings.iter().map(|f| (f.evidence.join(","), f.events, f.severity)).collect();
        assert_eq!(
            found,
            vec![("e3".to_string(), 1, Severity::High), ("e1".to_string(), 1, Severity::Medium)],
            "{findings:#?}"
        );
    }

    /// Through the scanner: a read at the last microsecond of the last day of retention is
    /// within it, one at the next midnight is past it (records of 1969 too, whose days are
    /// negative).
    #[test]
    fn retention_ends_at_the_midnight_after_its_last_day() {
        let findings = overruns(&[
            "e1,2022-01-11T23:59:59.999999Z,ann,agent,read,files,,,casework,1,2022-01-01",
            "e2,2022-01-12T00:00:00Z,ann,agent,read,files,,,casework,1,2022-01-01",
            "e3,1969-12-30T23:59:59.999999Z,ann,agent,read,files,,,casework,1,1969-12-20",
            "e4,1969-12-31T00:00:00Z,ann,agent,read,files,,,casework,1,1969-12-20",
            "e5,2022-01-15T08:00:00Z,ann,agent,search,files,,,casework,1,2022-01-01",
        ]);
        let evidence: Vec<String> = findings.iter().flat_map(|f| f.evidence.clone()).collect();
        assert_eq!(evidence.iter().filter(|id| ["e1", "e3"].contains(&id.as_str())).count(), 0, "{findings:#?}");
        for past in ["e2", "e4", "e5"] {
            assert!(evidence.iter().any(|id| id == past), "{past}: {findings:#?}");
        }
        assert_eq!(findings.iter().map(|f| f.events).sum::<u64>(), 3);
    }

    #[test]
    fn the_last_day_of_retention_is_still_within_it() {
        // Record of day 0 kept 10 days: usable through day 10, overrun from day 11.
        assert_eq!(excess_days(0, 10, 10), 0);
        assert_eq!(excess_days(0, 10, 11), 1);
        assert!(excess_days(0, 10, 9) < 0);
    }
}
