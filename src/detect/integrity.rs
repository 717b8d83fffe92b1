//! `integrity`: when the log carries a hash chain (`prev_hash`/`hash`), the audit checks it as
//! `driftwatch verify` does (`evidence/chain.rs`): broken links, altered rows, missing hashes,
//! duplicate event ids, time going backwards, business-day gaps over 24 h, and coverage of at
//! least 183 days (seed 002: a security log kept with its integrity for six months). One
//! finding per (file, kind of problem); severity high for the chain and duplicate ids, medium
//! for time order and gaps, low for short coverage.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Context, Detector};
use crate::error::Result;
use crate::event::HASH;
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
            return Ok(Vec::new());
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
