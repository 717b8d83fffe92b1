//! Detectors: each file flags one kind of purpose drift. They all share one shape: a
//! [`Detector`] gives a [`Scanner`] that is fed the judged events chunk by chunk (so an audit
//! never holds the whole log in memory) and then turns what it gathered into findings. A
//! detector knows nothing of output formats, languages or pseudonyms.

pub mod cadence;
mod category_creep;
pub mod chunk;
mod id_ranges;
mod individual_monitoring;
mod integrity;
pub mod occupancy;
mod outside_habilitation;
mod periodic_transfer;
mod register_gap;
mod retention_overrun;
mod small_cell;
mod stale_habilitation;
pub mod state;
#[cfg(test)]
mod state_tests;
mod undeclared_recipient;

use polars::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::event::{EVENT_ID, RECORD_COUNT, TS};
use crate::finding::{self, Finding, MAX_EVIDENCE};
use crate::register::RegisterSet;
use crate::register::habilitations::Habilitations;
use crate::register::versions::REGISTER_VERSION;

/// Column of the judged frame: the event's row number within its chunk, for detectors that
/// select rows with polars and come back to a row's other fields in Rust.
pub const ROW: &str = "event_row";

/// Detector parameters from the command line (defaults are the specs').
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// The local civil time of schedules and calendars.
    pub timezone: chrono_tz::Tz,
    pub cadence: cadence::CadenceParams,
    /// A grant not reviewed for this many days before the window's end is stale.
    pub review_days: u32,
    /// End of the audit window (`--to`), µs; else the last event.
    pub window_end: Option<i64>,
    /// The scanners' state will be saved (`--state-out`): a scanner that keeps less than its
    /// state needs when only its findings are asked for keeps it all (integrity: its event ids
    /// stay ranges, never turned into hashes).
    pub saving_state: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            timezone: chrono_tz::Europe::Paris,
            cadence: cadence::CadenceParams::default(),
            review_days: 365,
            window_end: None,
            saving_state: false,
        }
    }
}

/// What every detector sees besides the events.
pub struct Context<'a> {
    pub register: &'a RegisterSet,
    pub habilitations: Option<&'a Habilitations>,
    pub settings: Settings,
    /// The input files as given, in path order (the events' `source_file` indexes them).
    pub input_files: &'a [String],
}

impl Context<'_> {
    /// Ids of the register versions behind a set of version indexes, in version order.
    pub fn version_ids(&self, indexes: &[usize]) -> Vec<String> {
        indexes.iter().map(|&i| self.register.get(i).id.clone()).collect()
    }
}

pub trait Detector: Sync {
    /// The `detector` field of its findings.
    fn name(&self) -> &'static str;
    /// A fresh scanner for one audit.
    fn scanner(&self) -> Box<dyn Scanner>;
}

/// A detector's state during one audit.
pub trait Scanner: Send {
    /// Reads one chunk of judged events: the event frame (`crate::event`) plus
    /// `register_version` and `event_row` (the row's number within the chunk), and its coded
    /// columns ([`chunk`]). Chunks come in input order; a scanner must not depend on row order
    /// otherwise (aggregate, sort evidence).
    fn scan(&mut self, context: &Context, chunk: &chunk::Chunk) -> Result<()>;
    /// The findings, once every chunk has been scanned.
    fn finish(self: Box<Self>, context: &Context) -> Result<Vec<Finding>>;
    /// What it has gathered, as data in text (no codes): [`state`].
    fn save(&self, context: &Context) -> Box<state::Saved>;
    /// Adds the state another scanner of the same detector saved (another partition of the
    /// log): then `finish` gives the findings of one scan over both, whatever the order.
    fn absorb(&mut self, context: &Context, state: &state::Saved) -> Result<()>;
}

/// Every detector, in the order they run.
pub fn all() -> Vec<&'static dyn Detector> {
    vec![
        &register_gap::RegisterGap,
        &undeclared_recipient::UndeclaredRecipient,
        &category_creep::CategoryCreep,
        &periodic_transfer::PeriodicTransfer,
        &individual_monitoring::IndividualMonitoring,
        &small_cell::SmallCell,
        &outside_habilitation::OutsideHabilitation,
        &stale_habilitation::StaleHabilitation,
        &retention_overrun::RetentionOverrun,
        &integrity::Integrity,
    ]
}

/// Every detector's scanner over one audit: feed it chunks, then collect the findings.
pub struct Scanners {
    running: Vec<(&'static str, Box<dyn Scanner>, crate::cpu_time::Spent)>,
    /// Measure each detector's own CPU time: detectors then run one after another (side by
    /// side, their times would overlap and not add up).
    measured: bool,
}

impl Scanners {
    pub fn new(detectors: &[&'static dyn Detector]) -> Scanners {
        Scanners {
            running: detectors.iter().map(|d| (d.name(), d.scanner(), Default::default())).collect(),
            measured: false,
        }
    }

    /// Scanners whose own CPU time is measured (`--verbose`).
    pub fn measured(detectors: &[&'static dyn Detector]) -> Scanners {
        Scanners { measured: true, ..Scanners::new(detectors) }
    }

    /// Every scanner reads the chunk; detectors run side by side (each may also split the
    /// chunk across threads itself), or one after another when measured.
    pub fn scan(&mut self, context: &Context, chunk: &chunk::Chunk) -> Result<()> {
        use rayon::prelude::*;
        if self.measured {
            return self
                .running
                .iter_mut()
                .try_for_each(|(_, scanner, spent)| spent.measure(|| scanner.scan(context, chunk)));
        }
        self.running.par_iter_mut().try_for_each(|(_, scanner, _)| scanner.scan(context, chunk))
    }

    /// Every detector's state, by detector name ([`Scanner::save`]).
    pub fn save(&self, context: &Context) -> std::collections::BTreeMap<String, Box<state::Saved>> {
        self.running.iter().map(|(name, scanner, _)| (name.to_string(), scanner.save(context))).collect()
    }

    /// Adds the states another audit's scanners saved; every detector's must be there.
    pub fn absorb(
        &mut self,
        context: &Context,
        mut states: std::collections::BTreeMap<String, Box<state::Saved>>,
    ) -> Result<()> {
        for (name, scanner, _) in &mut self.running {
            let state = states.remove(*name).ok_or_else(|| {
                crate::error::Error::Usage(format!(
                    "the saved state has no {name} detector: it was written by another driftwatch"
                ))
            })?;
            scanner.absorb(context, &state)?;
        }
        Ok(())
    }

    /// Every detector's findings in the canonical order; when measured, each detector's CPU
    /// and wall-clock time on stderr.
    pub fn finish(self, context: &Context) -> Result<Vec<Finding>> {
        use rayon::prelude::*;
        let mut findings = Vec::new();
        if !self.measured {
            // Side by side: the cadence engine's finish is the longest, the others fit beside it.
            let found: Vec<Result<Vec<Finding>>> =
                self.running.into_par_iter().map(|(_, scanner, _)| scanner.finish(context)).collect();
            for detector in found {
                findings.extend(detector?);
            }
        } else {
            for (name, scanner, scanning) in self.running {
                let mut finishing = crate::cpu_time::Spent::default();
                findings.extend(finishing.measure(|| scanner.finish(context))?);
                eprintln!(
                    "driftwatch:   {name}: {:.2} s CPU, {:.2} s wall (scan {:.2} s CPU, finish {:.2} s CPU)",
                    (scanning.cpu + finishing.cpu).as_secs_f64(),
                    (scanning.wall + finishing.wall).as_secs_f64(),
                    scanning.cpu.as_secs_f64(),
                    finishing.cpu.as_secs_f64()
                );
            }
        }
        finding::sort(&mut findings);
        Ok(findings)
    }
}

/// Runs one detector over one frame of judged events.
pub fn run_one(detector: &dyn Detector, context: &Context, events: &DataFrame) -> Result<Vec<Finding>> {
    let mut dictionaries = chunk::Dictionaries::default();
    let codes = chunk::code(events, &mut dictionaries)?;
    let mut scanner = detector.scanner();
    scanner.scan(context, &chunk::Chunk { events, codes: &codes, dictionaries: &dictionaries })?;
    scanner.finish(context)
}

/// The facts every finding built from a group of events needs.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSummary {
    pub first_seen: i64,
    pub last_seen: i64,
    pub events: u64,
    pub records: Option<i64>,
    /// The earliest event ids (by ts, then id), at most [`MAX_EVIDENCE`].
    pub evidence: Vec<String>,
    pub versions: Vec<usize>,
}

/// A group's facts accumulated from events visited in any order, for detectors that classify
/// events in Rust (low-cardinality keys judged once, then applied row by row). Saved with its
/// evidence sorted (the heap's own order depends on arrival).
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
#[serde(from = "SavedTally", into = "SavedTally")]
pub struct Tally {
    first_seen: i64,
    last_seen: i64,
    events: u64,
    records: Option<i64>,
    /// The earliest evidence so far: a max-heap holding at most MAX_EVIDENCE (ts, id).
    evidence: std::collections::BinaryHeap<(i64, String)>,
    versions: std::collections::BTreeSet<usize>,
}

impl Tally {
    pub fn add(&mut self, ts: i64, event_id: &str, records: Option<i64>, version: Option<usize>) {
        if self.events == 0 || ts < self.first_seen {
            self.first_seen = ts;
        }
        if self.events == 0 || ts > self.last_seen {
            self.last_seen = ts;
        }
        self.events += 1;
        if let Some(records) = records {
            // A log can claim any count: a total past i64::MAX stays at i64::MAX (9.2e18, plainly
            // absurd in a report) rather than wrapping to a plausible number.
            self.records = Some(self.records.unwrap_or(0).saturating_add(records));
        }
        if let Some(version) = version {
            self.versions.insert(version);
        }
        let earlier = |latest: &(i64, String)| (ts, event_id) < (latest.0, latest.1.as_str());
        if self.evidence.len() < MAX_EVIDENCE || self.evidence.peek().is_some_and(earlier) {
            self.evidence.push((ts, event_id.to_string()));
            if self.evidence.len() > MAX_EVIDENCE {
                self.evidence.pop();
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.events == 0
    }

    /// Adds the events of another tally, as if they had been added here one by one.
    pub fn merge(&mut self, other: Tally) {
        if other.events == 0 {
            return;
        }
        if self.events == 0 {
            *self = other;
            return;
        }
        self.first_seen = self.first_seen.min(other.first_seen);
        self.last_seen = self.last_seen.max(other.last_seen);
        self.events += other.events;
        self.records = match (self.records, other.records) {
            (None, None) => None,
            (mine, theirs) => Some(mine.unwrap_or(0).saturating_add(theirs.unwrap_or(0))),
        };
        self.versions.extend(other.versions);
        for evidence in other.evidence {
            self.evidence.push(evidence);
            if self.evidence.len() > MAX_EVIDENCE {
                self.evidence.pop();
            }
        }
    }

    /// The instant of its latest event (for settings kept from the latest event).
    pub fn last_seen(&self) -> i64 {
        self.last_seen
    }

    pub fn into_summary(self) -> GroupSummary {
        GroupSummary {
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            events: self.events,
            records: self.records,
            evidence: self.evidence.into_sorted_vec().into_iter().map(|(_, id)| id).collect(),
            versions: self.versions.into_iter().collect(),
        }
    }
}

/// A [`Tally`] as saved: evidence as a sorted list.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedTally {
    first_seen: i64,
    last_seen: i64,
    events: u64,
    records: Option<i64>,
    evidence: Vec<(i64, String)>,
    versions: std::collections::BTreeSet<usize>,
}

impl From<Tally> for SavedTally {
    fn from(tally: Tally) -> SavedTally {
        SavedTally {
            first_seen: tally.first_seen,
            last_seen: tally.last_seen,
            events: tally.events,
            records: tally.records,
            evidence: tally.evidence.into_sorted_vec(),
            versions: tally.versions,
        }
    }
}

impl From<SavedTally> for Tally {
    fn from(saved: SavedTally) -> Tally {
        Tally {
            first_seen: saved.first_seen,
            last_seen: saved.last_seen,
            events: saved.events,
            records: saved.records,
            evidence: saved.evidence.into_iter().collect(),
            versions: saved.versions,
        }
    }
}

/// Row-addressable views of the event columns a Rust loop needs.
pub struct EventColumns<'a> {
    pub ts: &'a Int64Chunked,
    pub event_id: &'a StringChunked,
    pub record_count: &'a Int64Chunked,
    pub version: &'a Int32Chunked,
}

impl<'a> EventColumns<'a> {
    pub fn of(events: &'a DataFrame) -> Result<EventColumns<'a>> {
        let get = |name: &str| events.column(name).polars(format!("event column {name}"));
        Ok(EventColumns {
            ts: get(TS)?.datetime().polars("ts")?.physical(),
            event_id: get(EVENT_ID)?.str().polars("event_id")?,
            record_count: get(RECORD_COUNT)?.i64().polars("record_count")?,
            version: get(REGISTER_VERSION)?.i32().polars("register_version")?,
        })
    }

    /// Adds event `row` to `tally`.
    pub fn add_to(&self, tally: &mut Tally, row: usize) {
        tally.add(
            self.ts.get(row).unwrap_or_default(),
            self.event_id.get(row).unwrap_or_default(),
            self.record_count.get(row),
            self.version.get(row).map(|v| v as usize),
        );
    }
}

/// A numeric column's non-null values with their row numbers, read array by array: the chunked
/// array's own iterator dispatches per value, and a mostly-null column (a report's group size)
/// is read by the set bits of its mask, whole words of nulls skipped at once.
pub fn present_values<T: PolarsNumericType>(column: &ChunkedArray<T>) -> impl Iterator<Item = (usize, T::Native)> + '_ {
    column
        .downcast_iter()
        .scan(0, |start, array| {
            let first = *start;
            *start += array.len();
            let values = array.values();
            let rows: Box<dyn Iterator<Item = usize>> = match array.validity().filter(|v| v.unset_bits() > 0) {
                Some(valid) => Box::new(valid.true_idx_iter()),
                None => Box::new(0..array.len()),
            };
            Some(rows.map(move |offset| (first + offset, values[offset])))
        })
        .flatten()
}

/// A text column of a collected frame, with an error naming it.
pub fn text_column<'a>(frame: &'a DataFrame, name: &str) -> Result<&'a StringChunked> {
    frame.column(name).and_then(|c| c.str()).polars(format!("column `{name}`"))
}

/// `a, b and c` for summaries.
pub fn list_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod present_values_tests {
    use super::*;

    /// Every non-null value with its row, over several arrays, with and without nulls, whole
    /// words of nulls among them: what a walk of the column by index gives.
    #[test]
    fn present_values_are_the_non_null_ones_with_their_rows() {
        let first: Vec<Option<i64>> = (0..300).map(|i| (i % 97 == 5 || (200..207).contains(&i)).then_some(i)).collect();
        let second: Vec<Option<i64>> = (0..70).map(|i| Some(1_000 + i)).collect();
        let mut column = Int64Chunked::from_iter_options("sizes".into(), first.iter().copied());
        column.append(&Int64Chunked::from_iter_options("sizes".into(), second.iter().copied())).unwrap();
        assert_eq!(column.chunks().len(), 2);
        let expected: Vec<(usize, i64)> =
            first.iter().chain(&second).enumerate().filter_map(|(row, v)| v.map(|v| (row, v))).collect();
        assert_eq!(present_values(&column).collect::<Vec<_>>(), expected);
        assert_eq!(expected.len(), 4 + 7 + 70);
    }
}

/// Shorthand used by the detectors' unit tests: an event frame from a CSV text.
#[cfg(test)]
pub mod testing {
    use super::*;
    use crate::register::RegisterSet;
    use crate::report::i18n::Lang;
    use crate::report::sentences;

    /// A finding's English sentences, as findings.json writes them.
    pub fn summary(finding: &Finding) -> String {
        sentences::summary(Lang::En, finding)
    }

    pub fn rule(finding: &Finding) -> String {
        sentences::rule(Lang::En, finding)
    }

    pub fn legal_ref(finding: &Finding) -> String {
        sentences::legal_ref(Lang::En, finding)
    }

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

    const HEADER: &str = "event_id,ts,actor_id,actor_role,action,dataset,categories,recipient,purpose,record_count";

    /// Columns: event_id,ts,actor_id,actor_role,action,dataset,categories,recipient,purpose,record_count
    pub fn judged_events(register: &RegisterSet, rows: &[&str]) -> DataFrame {
        judged_events_with(register, HEADER, rows)
    }

    pub fn judged_events_with(register: &RegisterSet, header: &str, rows: &[&str]) -> DataFrame {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.csv");
        let mut text = format!("{header}\n");
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        let ingested = crate::ingest::load_all(&[(path, crate::ingest::Format::Csv)]).unwrap();
        assert!(ingested.quarantine.is_empty(), "{:?}", ingested.quarantine);
        chunk::Judge::new(register).judge(ingested.events).unwrap().0
    }

    fn run_frame(detector: &dyn Detector, register: &RegisterSet, events: DataFrame) -> Vec<Finding> {
        let context = Context { register, habilitations: None, settings: Settings::default(), input_files: &[] };
        run_one(detector, &context, &events).unwrap()
    }

    pub fn run(detector: &dyn Detector, register: &RegisterSet, rows: &[&str]) -> Vec<Finding> {
        run_frame(detector, register, judged_events(register, rows))
    }

    /// Like [`run`], with a last column `request_ref`.
    pub fn run_with_request_ref(detector: &dyn Detector, register: &RegisterSet, rows: &[&str]) -> Vec<Finding> {
        run_frame(detector, register, judged_events_with(register, &format!("{HEADER},request_ref"), rows))
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
