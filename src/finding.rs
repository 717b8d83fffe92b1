//! Findings: what a detector reports, with a stable id and a total order so that the same
//! inputs always give the same bytes.

pub mod facts;

use serde::Serialize;

use crate::ingest::timestamp::format_us;
pub use facts::Facts;

/// Evidence lists are capped: the finding points at the log, it does not copy it.
pub const MAX_EVIDENCE: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    pub fn parse(text: &str) -> Option<Severity> {
        match text {
            "high" => Some(Severity::High),
            "medium" => Some(Severity::Medium),
            "low" => Some(Severity::Low),
            _ => None,
        }
    }

    /// True when `self` is at least as severe as `threshold`.
    pub fn at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }
}

/// A finding: its subject, its numbers and its facts. Its sentences (summary, rule, legal
/// reference) are composed by `report/` from these, in the report's language;
/// `report::record` writes it as findings.json's contract says.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub id: String,
    pub detector: &'static str,
    pub severity: Severity,
    pub dataset: Option<String>,
    pub recipient: Option<String>,
    pub actor: Option<String>,
    pub target: Option<String>,
    /// The declared purpose the events were judged against (category creep on reads).
    pub purpose: Option<String>,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub events: u64,
    /// Sum of `record_count` over the events, when the log carries it.
    pub records: Option<i64>,
    pub score: f64,
    pub period_days: Option<f64>,
    pub categories: Vec<String>,
    /// Register versions (`processing@in_force_from`) the events were judged against.
    pub register_versions: Vec<String>,
    /// SHA-256 of each of those versions' files, in the same order.
    pub register_sha256: Vec<String>,
    pub evidence: Vec<String>,
    /// What the detector found (findings.json's `details`, and every sentence's matter).
    pub facts: Facts,
    /// What the evidence charts draw; not written to the tables.
    pub timeline: Option<Timeline>,
    /// Against the previous audit (`--baseline`): new or ongoing; None without a baseline.
    pub status: Option<Status>,
    /// An ongoing finding's severity in the previous audit, when it changed.
    pub previous_severity: Option<Severity>,
    /// What the DPO or auditor decided about it (`--triage`), when the decision is in force.
    pub triage: Option<Triage>,
}

impl Finding {
    /// The facts as findings.json's `details` (for tests and tools reading them as JSON).
    pub fn details(&self) -> std::collections::BTreeMap<String, serde_json::Value> {
        self.facts.details()
    }

    /// Whether it still counts for `--fail-on`: not accepted, not a false positive.
    pub fn counts(&self) -> bool {
        !self.triage.as_ref().is_some_and(|triage| triage.decision.dismisses())
    }

    /// Ongoing with a higher severity than in the previous audit.
    pub fn escalated(&self) -> bool {
        self.previous_severity.is_some_and(|before| self.severity < before)
    }
}

/// A finding against the previous audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not in the previous audit.
    New,
    /// In the previous audit too (same id).
    Ongoing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Ongoing => "ongoing",
        }
    }
}

/// A decision recorded in the triage file (`--triage`) for one finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Triage {
    pub decision: Decision,
    pub reason: String,
    /// Who decided.
    pub by: String,
    /// When (YYYY-MM-DD).
    pub date: String,
    /// When the decision lapses (YYYY-MM-DD), if it does.
    pub until: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// A documented exception: the drift is known and accepted.
    Accepted,
    /// The finding is wrong (the evidence shows a lawful use).
    FalsePositive,
    /// Being looked into: still counts.
    Investigating,
}

impl Decision {
    pub const ALL: [Decision; 3] = [Decision::Accepted, Decision::FalsePositive, Decision::Investigating];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Accepted => "accepted",
            Decision::FalsePositive => "false_positive",
            Decision::Investigating => "investigating",
        }
    }

    /// Accepted and false positives no longer count for `--fail-on` and `--fail-on-new`.
    pub fn dismisses(self) -> bool {
        matches!(self, Decision::Accepted | Decision::FalsePositive)
    }
}

/// A periodic flow laid out for its chart: expected slots (hit or missed) and runs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Timeline {
    /// The clock the schedule follows (`Europe/Paris`, `UTC`).
    pub time_base: crate::calendar::TimeBase,
    /// (slot, run) instants of matched slots, µs.
    pub hits: Vec<(i64, i64)>,
    pub missed: Vec<i64>,
    /// Runs no slot explains.
    pub ad_hoc: Vec<i64>,
    /// Every run's (instant, weekday 0 = Monday, hour) in the schedule's clock.
    pub runs: Vec<(i64, u8, u8)>,
}

pub fn serialize_instant<S: serde::Serializer>(value: &Option<i64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(us) => serializer.serialize_str(&format_us(*us)),
        None => serializer.serialize_none(),
    }
}

/// The fields a detector fills in; [`FindingDraft::finish`] adds the stable id.
#[derive(Debug, Clone, Default)]
pub struct FindingDraft {
    pub dataset: Option<String>,
    /// A dataset the finding names without it being part of its id: the only dataset of its
    /// events so far, which a longer log may add to (the finding stays the same one).
    pub named_dataset: Option<String>,
    pub recipient: Option<String>,
    pub actor: Option<String>,
    pub target: Option<String>,
    pub purpose: Option<String>,
    pub first_seen: Option<i64>,
    pub last_seen: Option<i64>,
    pub events: u64,
    pub records: Option<i64>,
    pub score: f64,
    pub period_days: Option<f64>,
    pub categories: Vec<String>,
    pub register_versions: Vec<String>,
    pub evidence: Vec<String>,
    pub timeline: Option<Timeline>,
}

impl FindingDraft {
    /// `key` is what makes this finding unique within its detector (besides the subject
    /// fields), e.g. the uncovered period of a register gap. The facts name the detector.
    pub fn finish(self, facts: impl Into<Facts>, severity: Severity, key: &[&str]) -> Finding {
        let facts = facts.into();
        let detector = facts.detector();
        let subject = [&self.dataset, &self.recipient, &self.actor, &self.target, &self.purpose];
        let mut identity = String::from(detector);
        for part in subject.iter().map(|f| f.as_deref().unwrap_or("")).chain(key.iter().copied()) {
            identity.push('\u{1f}');
            identity.push_str(part);
        }
        let digest = crate::hashing::sha256_bytes(identity.as_bytes());
        let mut evidence = self.evidence;
        evidence.truncate(MAX_EVIDENCE);
        Finding {
            id: format!("DW-{}", &digest[..12]),
            detector,
            severity,
            dataset: self.dataset.or(self.named_dataset),
            recipient: self.recipient,
            actor: self.actor,
            target: self.target,
            purpose: self.purpose,
            first_seen: self.first_seen,
            last_seen: self.last_seen,
            events: self.events,
            records: self.records,
            score: self.score,
            period_days: self.period_days,
            categories: self.categories,
            register_versions: self.register_versions,
            register_sha256: Vec::new(),
            evidence,
            facts,
            timeline: self.timeline,
            status: None,
            previous_severity: None,
            triage: None,
        }
    }
}

/// Most severe first, then by detector and subject, then time; the id breaks any tie.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        (a.severity, a.detector, &a.dataset, &a.recipient, &a.purpose, &a.actor, &a.target, a.first_seen, &a.id).cmp(&(
            b.severity,
            b.detector,
            &b.dataset,
            &b.recipient,
            &b.purpose,
            &b.actor,
            &b.target,
            b.first_seen,
            &b.id,
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(dataset: &str) -> FindingDraft {
        FindingDraft {
            dataset: Some(dataset.into()),
            evidence: (0..30).map(|i| format!("e{i}")).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn ids_are_stable_and_depend_on_the_subject() {
        let a = draft("d").finish("category_creep", Severity::High, &[]);
        let b = draft("d").finish("category_creep", Severity::High, &[]);
        let c = draft("e").finish("category_creep", Severity::High, &[]);
        let d = draft("d").finish("undeclared_recipient", Severity::High, &[]);
        assert_eq!(a.id, b.id);
        assert_ne!(a.id, c.id);
        assert_ne!(a.id, d.id);
        assert_eq!(a.evidence.len(), MAX_EVIDENCE);
    }

    /// A dataset named but not hashed: the finding keeps its id when a longer log adds another.
    #[test]
    fn a_named_dataset_is_not_part_of_the_id() {
        let named = FindingDraft { named_dataset: Some("d".into()), ..Default::default() }.finish(
            "outside_habilitation",
            Severity::High,
            &[],
        );
        let none = FindingDraft::default().finish("outside_habilitation", Severity::High, &[]);
        assert_eq!(named.dataset.as_deref(), Some("d"));
        assert_eq!(named.id, none.id);
        assert_ne!(named.id, draft("d").finish("outside_habilitation", Severity::High, &[]).id);
    }

    #[test]
    fn severity_order_and_threshold() {
        assert!(Severity::High.at_least(Severity::Medium));
        assert!(!Severity::Low.at_least(Severity::Medium));
        let mut findings = vec![
            draft("b").finish("x", Severity::Low, &[]),
            draft("a").finish("x", Severity::High, &[]),
            draft("c").finish("x", Severity::High, &[]),
        ];
        sort(&mut findings);
        let order: Vec<_> = findings.iter().map(|f| f.dataset.clone().unwrap()).collect();
        assert_eq!(order, vec!["a", "c", "b"]);
    }
}
