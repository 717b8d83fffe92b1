//! A finding as findings.json's contract writes it: its fields, its English sentences (composed
//! from its facts) and its facts as `details`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::i18n::Lang;
use super::sentences;
use crate::finding::{Finding, Severity, Status, Triage, serialize_instant};

#[derive(Serialize)]
pub struct Record<'a> {
    id: &'a str,
    detector: &'static str,
    severity: Severity,
    dataset: &'a Option<String>,
    recipient: &'a Option<String>,
    actor: &'a Option<String>,
    target: &'a Option<String>,
    purpose: &'a Option<String>,
    #[serde(serialize_with = "serialize_instant")]
    first_seen: Option<i64>,
    #[serde(serialize_with = "serialize_instant")]
    last_seen: Option<i64>,
    events: u64,
    records: Option<i64>,
    score: f64,
    period_days: Option<f64>,
    categories: &'a [String],
    rule: String,
    legal_ref: String,
    register_versions: &'a [String],
    register_sha256: &'a [String],
    summary: String,
    evidence: &'a [String],
    details: BTreeMap<String, Value>,
    /// With `--baseline`: new or ongoing.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_severity: Option<Severity>,
    /// With `--triage`: the decision in force.
    #[serde(skip_serializing_if = "Option::is_none")]
    triage: &'a Option<Triage>,
}

impl<'a> Record<'a> {
    pub fn of(finding: &'a Finding) -> Record<'a> {
        Record {
            id: &finding.id,
            detector: finding.detector,
            severity: finding.severity,
            dataset: &finding.dataset,
            recipient: &finding.recipient,
            actor: &finding.actor,
            target: &finding.target,
            purpose: &finding.purpose,
            first_seen: finding.first_seen,
            last_seen: finding.last_seen,
            events: finding.events,
            records: finding.records,
            score: finding.score,
            period_days: finding.period_days,
            categories: &finding.categories,
            rule: sentences::rule(Lang::En, finding),
            legal_ref: sentences::legal_ref(Lang::En, finding),
            register_versions: &finding.register_versions,
            register_sha256: &finding.register_sha256,
            summary: sentences::summary(Lang::En, finding),
            evidence: &finding.evidence,
            details: finding.facts.details(),
            status: finding.status,
            previous_severity: finding.previous_severity,
            triage: &finding.triage,
        }
    }
}
