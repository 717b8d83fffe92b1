//! `integrity`: when the log carries a hash chain (`prev_hash`/`hash`), the audit checks it as
//! `driftwatch verify` does (`evidence/chain.rs`): broken links, altered rows, missing hashes,
//! duplicate event ids, time going backwards, business-day gaps over 24 h, and coverage of at
//! least 183 days (seed 002: a security log kept with its integrity for six months). One
//! finding per (file, kind of problem); severity high for the chain and duplicate ids, medium
//! for time order and gaps, low for short coverage.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Context, Detector};
use polars::prelude::*;

use crate::error::Result;
use crate::event::{EVENT_ID, HASH};
use crate::evidence::chain::{self, ProblemKind, VerifyParams};
use crate::finding::{Finding, FindingDraft, MAX_EVIDENCE, Severity};

pub struct Integrity;

const LEGAL_REF: &str = "CNIL: security events logged with their integrity preserved for six months (journalisation)";

impl Detector for Integrity {
    fn name(&self) -> &'static str {
        "integrity"
    }

    fn run(&self, context: &Context) -> Result<Vec<Finding>> {
        let chained = context.events.column(HASH).map(|c| c.null_count() < c.len()).unwrap_or(false);
        if !chained {
            // Without a chain, still make sure every piece of evidence names one event.
            return self.duplicate_ids(context);
        }
        let events = context.events.drop_many([crate::register::versions::REGISTER_VERSION, super::ROW]);
        let rows = chain::rows(&events)?;
        let params = VerifyParams {
            max_gap_us: 24 * 3_600_000_000,
            min_coverage_days: 183,
            timezone: context.settings.timezone,
        };
        let mut grouped: BTreeMap<(usize, ProblemKind), Vec<chain::Problem>> = BTreeMap::new();
        for problem in chain::verify(&rows, &params) {
            grouped.entry((problem.file, problem.kind)).or_default().push(problem);
        }
        Ok(grouped.into_iter().map(|((file, kind), problems)| self.finding(context, file, kind, problems)).collect())
    }
}

impl Integrity {
    /// Event ids used more than once across the inputs: evidence citing them is ambiguous.
    fn duplicate_ids(&self, context: &Context) -> Result<Vec<Finding>> {
        let ids = super::text_column(context.events, EVENT_ID)?;
        let ids: Vec<String> = duplicated_values(ids).into_iter().collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut details = BTreeMap::new();
        details.insert("reason".to_string(), json!(ProblemKind::DuplicateEventId.name()));
        details.insert("duplicated_ids".to_string(), json!(ids.len()));
        Ok(vec![
            FindingDraft {
                summary: format!(
                    "{} event id(s) are used by more than one row across the inputs, first {}",
                    ids.len(),
                    ids[0]
                ),
                events: ids.len() as u64,
                score: 1.0,
                rule: "event_id is unique within the log (event model)".into(),
                legal_ref: LEGAL_REF.into(),
                evidence: ids.into_iter().take(MAX_EVIDENCE).collect(),
                details,
                ..Default::default()
            }
            .finish(self.name(), Severity::High, &["duplicates"]),
        ])
    }

    fn finding(&self, context: &Context, file: usize, kind: ProblemKind, problems: Vec<chain::Problem>) -> Finding {
        let path = context.input_files.get(file).cloned().unwrap_or_default();
        let severity = match kind {
            ProblemKind::TimeBackwards | ProblemKind::Gap => Severity::Medium,
            ProblemKind::ShortCoverage => Severity::Low,
            _ => Severity::High,
        };
        let mut details = BTreeMap::new();
        details.insert("reason".to_string(), json!(kind.name()));
        details.insert("file".to_string(), json!(path));
        details
            .insert("rows".to_string(), json!(problems.iter().take(MAX_EVIDENCE).map(|p| p.row).collect::<Vec<_>>()));
        details.insert(
            "messages".to_string(),
            json!(problems.iter().take(5).map(|p| format!("row {}: {}", p.row, p.message)).collect::<Vec<_>>()),
        );
        let first = problems.iter().map(|p| p.ts).min();
        let last = problems.iter().map(|p| p.ts).max();
        FindingDraft {
            summary: format!(
                "{path}: {} {} problem(s), first at row {}: {}",
                problems.len(),
                kind.name(),
                problems[0].row,
                problems[0].message
            ),
            first_seen: first,
            last_seen: last,
            events: problems.len() as u64,
            score: 1.0,
            rule: "a tamper-evident log: every row chained to the previous by SHA-256, no gap, kept at least 183 days"
                .into(),
            legal_ref: LEGAL_REF.into(),
            evidence: problems.iter().take(MAX_EVIDENCE).map(|p| p.event_id.clone()).collect(),
            details,
            ..Default::default()
        }
        .finish(self.name(), severity, &[&path, kind.name()])
    }
}

/// The values present more than once, sorted. Hashes and sorts (hash, row) pairs instead of
/// grouping the strings: ten million distinct ids would build a ten-million-entry hash table.
fn duplicated_values(values: &StringChunked) -> std::collections::BTreeSet<String> {
    use rayon::prelude::*;
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    let hasher = BuildHasherDefault::<DefaultHasher>::default();
    let mut hashed: Vec<(u64, u32)> =
        (0..values.len()).into_par_iter().map(|row| (hasher.hash_one(values.get(row)), row as u32)).collect();
    hashed.par_sort_unstable();
    let mut duplicated = std::collections::BTreeSet::new();
    for run in hashed.chunk_by(|a, b| a.0 == b.0).filter(|run| run.len() > 1) {
        // Equal hashes: compare the values themselves (a collision is not a duplicate).
        let mut texts: Vec<Option<&str>> = run.iter().map(|(_, row)| values.get(*row as usize)).collect();
        texts.sort_unstable();
        for pair in texts.windows(2) {
            if let [Some(a), Some(b)] = pair
                && a == b
            {
                duplicated.insert(a.to_string());
            }
        }
    }
    duplicated
}

#[cfg(test)]
mod duplicate_tests {
    use super::*;

    #[test]
    fn duplicated_values_are_found_once_each_and_sorted() {
        let values = StringChunked::new("id".into(), &["b", "a", "c", "b", "a", "b", "d"]);
        let found: Vec<String> = duplicated_values(&values).into_iter().collect();
        assert_eq!(found, ["a", "b"]);
        assert!(duplicated_values(&StringChunked::new("id".into(), &["x", "y"])).is_empty());
    }
}
