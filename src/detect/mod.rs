//! Detectors: each file flags one kind of purpose drift. They all share one signature
//! ([`Detector::run`]): the judged event frame and the register in, findings out. A detector
//! knows nothing of output formats, languages or pseudonyms.

mod category_creep;
mod register_gap;
mod undeclared_recipient;

use polars::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::event::{self, EVENT_ID, RECORD_COUNT, TS};
use crate::finding::{self, Finding, MAX_EVIDENCE};
use crate::register::RegisterSet;
use crate::register::habilitations::Habilitations;
use crate::register::versions::REGISTER_VERSION;

/// What every detector sees.
pub struct Context<'a> {
    /// The event frame (`crate::event`) plus `register_version`, sorted by (ts, event_id).
    pub events: &'a DataFrame,
    pub register: &'a RegisterSet,
    pub habilitations: Option<&'a Habilitations>,
}

impl Context<'_> {
    /// A lazy view of the events for a detector to plan its query on.
    pub fn events(&self) -> LazyFrame {
        self.events.clone().lazy()
    }

    /// Ids of the register versions behind a set of version indexes, in version order.
    pub fn version_ids(&self, indexes: &[usize]) -> Vec<String> {
        indexes.iter().map(|&i| self.register.get(i).id.clone()).collect()
    }
}

pub trait Detector: Sync {
    /// The `detector` field of its findings.
    fn name(&self) -> &'static str;
    fn run(&self, context: &Context) -> Result<Vec<Finding>>;
}

/// Every detector, in the order they run.
pub fn all() -> Vec<&'static dyn Detector> {
    vec![&register_gap::RegisterGap, &undeclared_recipient::UndeclaredRecipient, &category_creep::CategoryCreep]
}

/// Runs every detector and returns their findings in the canonical order.
pub fn run_all(context: &Context) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for detector in all() {
        findings.extend(detector.run(context)?);
    }
    finding::sort(&mut findings);
    Ok(findings)
}

/// The facts every finding built from a group of events needs.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSummary {
    /// The group's key values, in the order the keys were given.
    pub keys: Vec<Option<String>>,
    pub first_seen: i64,
    pub last_seen: i64,
    pub events: u64,
    pub records: Option<i64>,
    /// The earliest event ids (by ts, then id), at most [`MAX_EVIDENCE`].
    pub evidence: Vec<String>,
    pub versions: Vec<usize>,
}

/// Groups one-row-per-event frames by `keys` (text columns) and summarises each group.
/// Input rows must be in (ts, event_id) order, as the event frame is, so that the evidence
/// ids are the earliest ones.
pub fn summarise(events: LazyFrame, keys: &[&str]) -> Result<Vec<GroupSummary>> {
    let key_columns: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    let frame = events
        .group_by(key_columns)
        .agg([
            col(TS).min().cast(DataType::Int64).alias("first_seen"),
            col(TS).max().cast(DataType::Int64).alias("last_seen"),
            len().cast(DataType::Int64).alias("events"),
            col(RECORD_COUNT).sum().alias("records"),
            col(RECORD_COUNT).count().cast(DataType::Int64).alias("records_known"),
            col(EVENT_ID).head(Some(MAX_EVIDENCE)).alias("evidence"),
            col(REGISTER_VERSION).unique().alias("versions"),
        ])
        .sort(keys.iter().map(|k| PlSmallStr::from(*k)).collect::<Vec<_>>(), SortMultipleOptions::default())
        .collect()
        .polars("summarising findings")?;
    read_summaries(&frame, keys).polars("reading finding summaries")
}

fn read_summaries(frame: &DataFrame, keys: &[&str]) -> PolarsResult<Vec<GroupSummary>> {
    let key_columns: Vec<&StringChunked> = keys.iter().map(|k| frame.column(k)?.str()).collect::<PolarsResult<_>>()?;
    let int =
        |name: &str| -> PolarsResult<Int64Chunked> { Ok(frame.column(name)?.cast(&DataType::Int64)?.i64()?.clone()) };
    let (first, last, events, records, known) =
        (int("first_seen")?, int("last_seen")?, int("events")?, int("records")?, int("records_known")?);
    let evidence = frame.column("evidence")?.list()?;
    let versions = frame.column("versions")?.list()?;
    let mut summaries = Vec::with_capacity(frame.height());
    for row in 0..frame.height() {
        let ids = evidence.get_as_series(row).unwrap_or_default();
        let mut version_indexes: Vec<usize> = versions
            .get_as_series(row)
            .map(|s| s.cast(&DataType::Int64))
            .transpose()?
            .map(|s| s.i64().map(|c| c.iter().flatten().map(|v| v as usize).collect()))
            .transpose()?
            .unwrap_or_default();
        version_indexes.sort_unstable();
        summaries.push(GroupSummary {
            keys: key_columns.iter().map(|c| c.get(row).map(str::to_string)).collect(),
            first_seen: first.get(row).unwrap_or_default(),
            last_seen: last.get(row).unwrap_or_default(),
            events: events.get(row).unwrap_or_default() as u64,
            records: if known.get(row).unwrap_or_default() > 0 { records.get(row) } else { None },
            evidence: ids.str()?.iter().flatten().map(str::to_string).collect(),
            versions: version_indexes,
        });
    }
    Ok(summaries)
}

/// Frame of the distinct values of `columns` (for judging keys in Rust, then joining back).
pub fn distinct(events: LazyFrame, columns: &[&str]) -> Result<DataFrame> {
    events
        .select(columns.iter().map(|c| col(*c)).collect::<Vec<_>>())
        .unique_stable(None, UniqueKeepStrategy::First)
        .collect()
        .polars("listing distinct keys")
}

/// Keeps the events whose `columns` match a row of `keys` (a semi join).
pub fn keep_matching(events: LazyFrame, keys: DataFrame, columns: &[&str]) -> LazyFrame {
    let on: Vec<Expr> = columns.iter().map(|c| col(*c)).collect();
    events.join(keys.lazy(), on.clone(), on, JoinArgs::new(JoinType::Semi))
}

/// `a, b and c` for summaries.
pub fn list_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Shorthand used by the detectors' unit tests: an event frame from a CSV text.
#[cfg(test)]
pub mod testing {
    use super::*;
    use crate::register::{RegisterSet, versions};

    pub fn register(tomls: &[&str]) -> RegisterSet {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<_> = tomls
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let path = dir.path().join(format!("v{i}.toml"));
                std::fs::write(&path, text).unwrap();
                path
            })
            .collect();
        crate::register::load(&paths).unwrap()
    }

    /// Columns: event_id,ts,actor_id,actor_role,action,dataset,categories,recipient,purpose,record_count
    pub fn judged_events(register: &RegisterSet, rows: &[&str]) -> DataFrame {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.csv");
        let mut text =
            String::from("event_id,ts,actor_id,actor_role,action,dataset,categories,recipient,purpose,record_count\n");
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        let ingested = crate::ingest::load_all(&[(path, crate::ingest::Format::Csv)]).unwrap();
        assert!(ingested.quarantine.is_empty(), "{:?}", ingested.quarantine);
        ingested.events.lazy().with_column(versions::version_in_force(register)).collect().unwrap()
    }

    pub fn run(detector: &dyn Detector, register: &RegisterSet, rows: &[&str]) -> Vec<Finding> {
        let events = judged_events(register, rows);
        let context = Context { events: &events, register, habilitations: None };
        detector.run(&context).unwrap()
    }

    pub const WIKIT_V1: &str = r#"
processing = "wikit"
in_force_from = "2015-10-06"
in_force_until = "2022-03-01"
legal_ref = "CNIL deliberation 2015-10-06"
[[dataset]]
id = "follow_ups"
[[role]]
id = "agent"
[[purpose]]
id = "inspection"
datasets = ["follow_ups"]
roles = ["agent"]
categories = ["identity", "penal_follow_up"]
legal_ref = "purpose inspection"
"#;

    pub const WIKIT_V2: &str = r#"
processing = "wikit"
in_force_from = "2022-03-01"
legal_ref = "CNIL deliberation 2022"
[[dataset]]
id = "follow_ups"
[[role]]
id = "agent"
[[purpose]]
id = "inspection"
datasets = ["follow_ups"]
roles = ["agent"]
categories = ["identity", "penal_follow_up"]
[[recipient]]
id = "moe"
datasets = ["follow_ups"]
categories = ["identity", "declared_activity"]
mode = "on_request"
legal_ref = "CESEDA L.811-3"
"#;
}

pub use event::is_outbound;
