//! `driftwatch generate`: seeded synthetic scenarios mirroring the seed documents, with
//! background noise and hard negatives, and a `truth.json` of the findings they must produce.
//! Same scenario, size and seed → same bytes. Events are produced day by day and written in
//! chunks (`sink.rs`), so 100M events stay within memory.

pub mod cadence;
mod registers;
mod scenarios;
mod sink;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{Datelike, NaiveDate, Weekday};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::error::{Error, Result};
pub use scenarios::Scenario;
use sink::EventSink;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EventFormat {
    Csv,
    Jsonl,
    Parquet,
}

impl EventFormat {
    fn extension(self) -> &'static str {
        match self {
            EventFormat::Csv => "csv",
            EventFormat::Jsonl => "jsonl",
            EventFormat::Parquet => "parquet",
        }
    }
}

/// First day of every generated log (inclusive) and the day after the last.
pub const WINDOW_START: (i32, u32, u32) = (2021, 9, 1);
pub const WINDOW_END: (i32, u32, u32) = (2022, 9, 1);

pub fn window() -> (NaiveDate, NaiveDate) {
    // Cannot fail: constant dates of the generated window.
    let date = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).expect("valid date");
    (date(WINDOW_START), date(WINDOW_END))
}

/// One event before it is written; `event_id` is assigned once the day is sorted.
#[derive(Debug, Clone, Default)]
pub struct GeneratedEvent {
    pub event_id: String,
    pub ts: i64,
    pub actor_id: String,
    pub actor_role: &'static str,
    pub actor_unit: String,
    pub action: &'static str,
    pub dataset: &'static str,
    pub categories: Vec<&'static str>,
    pub recipient: Option<&'static str>,
    pub purpose: Option<&'static str>,
    pub request_ref: Option<String>,
    pub target_agent: Option<String>,
    pub group_size: Option<i64>,
    pub record_count: Option<i64>,
    pub record_date: Option<NaiveDate>,
    /// Extra column (passed through): `per_agent`, `aggregate` or `ranking` for activity reports.
    pub report_kind: Option<&'static str>,
}

/// What one expected finding is about; its JSON is what tests compare with `findings.json`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ExpectedKey {
    pub detector: &'static str,
    pub dataset: Option<String>,
    pub recipient: Option<String>,
    pub purpose: Option<String>,
    pub actor: Option<String>,
    /// `details.reason` of the finding, for detectors with several kinds per subject.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ExpectedTally {
    pub events: u64,
    pub categories: BTreeSet<String>,
    /// Distinct agents watched (individual_monitoring) or the smallest cell (small_cell).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measure: Option<i64>,
    #[serde(skip)]
    targets: BTreeSet<String>,
}

/// The findings a scenario must produce, counted while its events are generated.
#[derive(Debug, Default)]
pub struct Truth {
    expected: BTreeMap<ExpectedKey, ExpectedTally>,
}

impl Truth {
    pub fn expect(&mut self, key: ExpectedKey, categories: &[&str]) -> &mut ExpectedTally {
        let tally = self.expected.entry(key).or_default();
        tally.events += 1;
        tally.categories.extend(categories.iter().map(|c| c.to_string()));
        tally
    }

    /// A finding with no events behind it (e.g. a grant never reviewed).
    pub fn exists(&mut self, key: ExpectedKey) {
        self.expected.entry(key).or_default();
    }

    pub fn watched(&mut self, key: ExpectedKey, target: &str) {
        let tally = self.expect(key, &[]);
        tally.targets.insert(target.to_string());
        tally.measure = Some(tally.targets.len() as i64);
    }

    pub fn small_cell(&mut self, key: ExpectedKey, size: i64) {
        let tally = self.expect(key, &[]);
        tally.measure = Some(tally.measure.map_or(size, |m| m.min(size)));
    }
}

#[derive(Serialize)]
struct TruthFile {
    scenario: String,
    seed: u64,
    events: u64,
    window: [String; 2],
    /// Which detectors each entry is for; detectors not yet implemented are listed too, so the
    /// scenario is ready when they land.
    expected: Vec<serde_json::Value>,
}

pub struct GenerateReport {
    pub events: u64,
    pub expected_findings: usize,
}

/// Stable per-scenario seed, so a scenario generated alone or inside `all` is the same stream.
fn scenario_rng(seed: u64, scenario: Scenario) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(scenario as u64))
}

pub fn generate(
    scenario: Scenario,
    total_events: u64,
    seed: u64,
    format: EventFormat,
    out: &Path,
) -> Result<GenerateReport> {
    let parts = scenario.parts();
    let register_dir = out.join("register");
    std::fs::create_dir_all(&register_dir).map_err(|e| Error::io(&register_dir, e))?;
    let mut truth = Truth::default();
    let mut grants = BTreeSet::new();
    let mut written = 0;
    let mut used: BTreeSet<(String, &'static str)> = BTreeSet::new();
    let mut last_event = i64::MIN;
    let per_scenario = total_events / parts.len() as u64;
    for part in &parts {
        let mut generator = part.generator();
        for (name, text) in generator.register_files() {
            let path = register_dir.join(name);
            std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        }
        grants.extend(generator.grants());
        let mut rng = scenario_rng(seed, *part);
        let mut sink = EventSink::new(format, &out.join("events"), part.name())?;
        let (start, end) = window();
        let weights: Vec<f64> = start.iter_days().take_while(|d| *d < end).map(day_weight).collect();
        let progress = crate::progress::Progress::bar(true, weights.len() as u64, part.name());
        let total_weight: f64 = weights.iter().sum();
        let background = per_scenario.saturating_sub(generator.signal_estimate()) as f64;
        let (mut allocated, mut cumulative, mut sequence) = (0u64, 0.0, 0u64);
        for (date, weight) in start.iter_days().zip(&weights) {
            cumulative += weight;
            let target = (background * cumulative / total_weight).round() as u64;
            let mut day = generator.day(date, target - allocated, &mut rng, &mut truth);
            allocated = target;
            progress.step();
            day.sort_by(|a, b| (a.ts, &a.actor_id).cmp(&(b.ts, &b.actor_id)));
            for mut event in day {
                used.insert((event.actor_id.clone(), event.actor_role));
                last_event = last_event.max(event.ts);
                sequence += 1;
                event.event_id = format!("{}-{sequence:09}", part.id_prefix());
                sink.push(event)?;
            }
        }
        written += sink.finish()?;
        progress.finish();
    }
    write_grants(&out.join("habilitations.csv"), &grants)?;
    expect_stale_grants(&mut truth, &grants, &used, last_event);
    let expected = truth
        .expected
        .iter()
        .map(|(key, tally)| {
            // Cannot fail: the truth file is structs of strings and numbers: serde_json cannot refuse them.
            let mut value = serde_json::to_value(key).expect("serialisable");
            // Cannot fail: the truth file is structs of strings and numbers: serde_json cannot refuse them.
            let extra = serde_json::to_value(tally).expect("serialisable");
            // Cannot fail: both values serialise from structs, so are JSON objects.
            value.as_object_mut().expect("object").extend(extra.as_object().expect("object").clone());
            value
        })
        .collect::<Vec<_>>();
    let (start, end) = window();
    let file = TruthFile {
        scenario: scenario.name().to_string(),
        seed,
        events: written,
        window: [start.to_string(), end.to_string()],
        expected,
    };
    let path = out.join("truth.json");
    // Cannot fail: the truth file is structs of strings and numbers: serde_json cannot refuse them.
    let text = serde_json::to_string_pretty(&file).expect("serialisable") + "\n";
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    Ok(GenerateReport { events: written, expected_findings: truth.expected.len() })
}

/// The grants `stale_habilitation` must report: active at the last event, and not reviewed
/// within 365 days of it, or never used.
fn expect_stale_grants(
    truth: &mut Truth,
    grants: &BTreeSet<GrantRow>,
    used: &BTreeSet<(String, &'static str)>,
    end: i64,
) {
    let day_us = 86_400_000_000i64;
    let instant = |text: &str| {
        crate::ingest::timestamp::parse_date_days(text)
            .map(|d| i64::from(d) * day_us)
            // Cannot fail: the generator draws dates inside its window.
            .expect("generator dates are valid")
    };
    for (actor, role, _, granted, revoked, reviewed) in grants {
        let active = instant(granted) <= end && revoked.as_deref().is_none_or(|r| instant(r) > end);
        let not_reviewed = reviewed.as_deref().is_none_or(|r| instant(r) < end - 365 * day_us);
        let unused = !used.contains(&(actor.clone(), *role));
        let reason = match (not_reviewed, unused) {
            (true, true) => "not_reviewed+unused",
            (true, false) => "not_reviewed",
            (false, true) => "unused",
            (false, false) => continue,
        };
        if active {
            truth.exists(ExpectedKey {
                detector: "stale_habilitation",
                dataset: None,
                recipient: None,
                purpose: None,
                actor: Some(actor.clone()),
                reason: Some(reason.to_string()),
            });
        }
    }
}

/// Offices work on weekdays: five times the weekend's activity.
fn day_weight(date: NaiveDate) -> f64 {
    match date.weekday() {
        Weekday::Sat | Weekday::Sun => 0.2,
        _ => 1.0,
    }
}

/// A grant row: actor, role, scope, granted, revoked, reviewed (dates as text).
pub type GrantRow = (String, &'static str, String, String, Option<String>, Option<String>);

fn write_grants(path: &Path, grants: &BTreeSet<GrantRow>) -> Result<()> {
    let mut text = String::from("actor_id,role,scope,granted_at,revoked_at,reviewed_at\n");
    for (actor, role, scope, granted, revoked, reviewed) in grants {
        text.push_str(&format!(
            "{actor},{role},{scope},{granted},{},{}\n",
            revoked.clone().unwrap_or_default(),
            reviewed.clone().unwrap_or_default()
        ));
    }
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}
