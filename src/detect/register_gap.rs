//! `register_gap`: events that no register version judges — times when no version of the
//! processing was in force, a dataset the version in force does not declare, or a dataset no
//! register declares at all. A processing must be recorded before it runs (GDPR art. 30), and
//! an auditor must see which events could not be judged rather than have them vanish.
//!
//! One finding per uncovered period of a processing (the stretch between two versions, before
//! the first or after the last), per (dataset, version) for datasets missing from the version in
//! force, and per unknown dataset. Severity medium.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{Context, Detector, EventColumns, Scanner, Tally};
use crate::error::Result;
use crate::finding::{Finding, FindingDraft, Severity, facts};
use crate::register::RegisterSet;
use crate::register::versions::day_start_us;

pub struct RegisterGap;

/// Why an event could not be judged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
enum Gap {
    /// No version of `processing` in force between `after` and `before` (None = open end).
    Uncovered { processing: String, after: Option<NaiveDate>, before: Option<NaiveDate> },
    /// The version in force does not declare the dataset.
    DatasetNotInVersion { dataset: String, version: usize },
    /// No register declares the dataset.
    UnknownDataset { dataset: String },
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct GapEvents {
    tally: Tally,
    datasets: std::collections::BTreeSet<String>,
}

impl Detector for RegisterGap {
    fn name(&self) -> &'static str {
        "register_gap"
    }

    fn scanner(&self) -> Box<dyn Scanner> {
        Box::new(GapScanner::default())
    }
}

#[derive(Default)]
struct GapScanner {
    tallies: BTreeMap<Gap, GapEvents>,
}

impl Scanner for GapScanner {
    fn scan(&mut self, context: &Context, chunk: &super::chunk::Chunk) -> Result<()> {
        if !chunk.codes.version.contains(&-1) {
            return Ok(()); // every event has a register version in force
        }
        let columns = EventColumns::of(chunk.events)?;
        let codes = chunk.codes;
        for row in (0..codes.len()).filter(|&row| codes.version[row] == -1) {
            let Some(dataset) = chunk.dictionaries.dataset.text(codes.dataset[row]) else { continue };
            let gap = self.tallies.entry(classify(context.register, dataset, codes.ts[row])).or_default();
            columns.add_to(&mut gap.tally, row);
            gap.datasets.insert(dataset.to_string());
        }
        Ok(())
    }

    fn save(&self, _context: &Context) -> Box<super::state::Saved> {
        super::state::save_map(&self.tallies)
    }

    fn absorb(&mut self, _context: &Context, state: &super::state::Saved) -> Result<()> {
        super::state::absorb_map(RegisterGap.name(), "gaps", state, &mut self.tallies, |mine, theirs| {
            mine.tally.merge(theirs.tally);
            mine.datasets.extend(theirs.datasets);
        })
    }

    fn finish(self: Box<Self>, context: &Context) -> Result<Vec<Finding>> {
        Ok(self.tallies.into_iter().map(|(gap, tally)| RegisterGap.finding(context.register, gap, tally)).collect())
    }
}

impl RegisterGap {
    fn finding(&self, register: &RegisterSet, gap: Gap, events: GapEvents) -> Finding {
        let datasets: Vec<String> = events.datasets.into_iter().collect();
        let tally = events.tally.into_summary();
        let one_dataset = (datasets.len() == 1).then(|| datasets[0].clone());
        // The facts of the gap, from which the report writes its sentences; the key its id.
        let (facts, key) = match gap {
            Gap::Uncovered { processing, after, before } => {
                let from = after.map(|d| d.to_string()).unwrap_or_else(|| "the beginning".into());
                let to = before.map(|d| d.to_string()).unwrap_or_else(|| "now".into());
                let key = format!("{processing}|{from}|{to}");
                let facts = facts::Gap::Uncovered {
                    processing,
                    from: after.map(|d| d.to_string()),
                    to: before.map(|d| d.to_string()),
                };
                (facts, key)
            }
            Gap::DatasetNotInVersion { dataset, version } => {
                let version = register.get(version);
                let key = format!("{dataset}|{}", version.id);
                (
                    facts::Gap::DatasetNotInVersion {
                        dataset,
                        version: version.id.clone(),
                        version_file: version.file.clone(),
                    },
                    key,
                )
            }
            Gap::UnknownDataset { dataset } => {
                let key = format!("{dataset}|unknown");
                (facts::Gap::UnknownDataset { dataset }, key)
            }
        };
        FindingDraft {
            named_dataset: one_dataset,
            first_seen: Some(tally.first_seen),
            last_seen: Some(tally.last_seen),
            events: tally.events,
            score: 1.0,
            evidence: tally.evidence,
            ..Default::default()
        }
        .finish(facts::RegisterGap { gap: facts, datasets }, Severity::Medium, &[&key])
    }
}

fn classify(register: &RegisterSet, dataset: &str, ts: i64) -> Gap {
    let Some(processing) = register.processing_of(dataset) else {
        return Gap::UnknownDataset { dataset: dataset.into() };
    };
    let mut after = None;
    let mut before = None;
    for version in register.processing_versions(processing) {
        let starts = day_start_us(version.from);
        let ends = version.until.map(day_start_us);
        if starts <= ts && ends.is_none_or(|end| ts < end) {
            return Gap::DatasetNotInVersion { dataset: dataset.into(), version: version.index };
        }
        if ends.is_some_and(|end| end <= ts) {
            after = version.until;
        }
        if starts > ts && before.is_none() {
            before = Some(version.from);
        }
    }
    Gap::Uncovered { processing: processing.into(), after, before }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::*;

    #[test]
    fn one_finding_per_uncovered_period_and_unknown_dataset() {
        let v2_later = WIKIT_V2.replace("2022-03-01", "2022-04-01");
        let register = register(&[WIKIT_V1, &v2_later]);
        let findings = run(
            &RegisterGap,
            &register,
            &[
                "e0,2015-01-01T00:00:00Z,a1,agent,read,follow_ups,,,,",
                "e1,2022-02-28T23:59:59Z,a1,agent,read,follow_ups,,,,",
                "e2,2022-03-01T00:00:00Z,a1,agent,read,follow_ups,,,,",
                "e3,2022-03-31T12:00:00Z,a1,agent,read,follow_ups,,,,",
                "e4,2022-04-01T00:00:00Z,a1,agent,read,follow_ups,,,,",
                "e5,2022-04-02T00:00:00Z,a1,agent,read,payroll,,,,",
            ],
        );
        let rules: Vec<(String, u64, Vec<String>)> =
            findings.iter().map(|f| (rule(f), f.events, f.evidence.clone())).collect();
        assert_eq!(
            rules,
            vec![
                (
                    "no version of the register of \"wikit\" is in force from the beginning to 2015-10-06".to_string(),
                    1,
                    vec!["e0".to_string()]
                ),
                (
                    "no version of the register of \"wikit\" is in force from 2022-03-01 to 2022-04-01".to_string(),
                    2,
                    vec!["e2".to_string(), "e3".to_string()]
                ),
                ("no register declares dataset \"payroll\"".to_string(), 1, vec!["e5".to_string()]),
            ]
        );
    }

    #[test]
    fn a_dataset_missing_from_the_version_in_force_is_a_gap_of_that_version() {
        let v2_without_follow_ups = WIKIT_V2
            .replace("id = \"follow_ups\"\n[[role]]", "id = \"inspections\"\n[[role]]")
            .replace("datasets = [\"follow_ups\"]", "datasets = [\"inspections\"]");
        let register = register(&[WIKIT_V1, &v2_without_follow_ups]);
        let findings = run(&RegisterGap, &register, &["e1,2022-03-02T00:00:00Z,a1,agent,read,follow_ups,,,,"]);
        assert_eq!(findings.len(), 1);
        assert!(
            rule(&findings[0]).contains("wikit@2022-03-01") && rule(&findings[0]).contains("follow_ups"),
            "{}",
            rule(&findings[0])
        );
    }
}
