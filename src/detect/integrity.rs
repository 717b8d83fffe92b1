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

use crate::error::{PolarsContext, Result};
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
        let duplicated = context
            .events()
            .select([col(EVENT_ID)])
            .group_by([col(EVENT_ID)])
            .agg([len().alias("times")])
            .filter(col("times").gt(lit(1)))
            .sort([EVENT_ID], SortMultipleOptions::default())
            .collect()
            .polars("looking for duplicate event ids")?;
        if duplicated.height() == 0 {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = duplicated
            .column(EVENT_ID)
            .and_then(|c| c.str())
            .polars("event ids")?
            .iter()
            .flatten()
            .map(str::to_string)
            .collect();
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
