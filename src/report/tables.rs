//! Machine-readable findings: JSON (the contract's envelope), CSV (one row per finding, lists
//! joined with `;`) and Parquet (typed: timestamps, lists). Also the quarantine CSV.

use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use super::RunSummary;
use super::i18n::Lang;
use super::sentences;
use crate::error::{Error, PolarsContext, Result};
use crate::event;
use crate::finding::Finding;
use crate::ingest::QuarantineRecord;
use crate::ingest::timestamp::format_us;

#[derive(Serialize)]
struct Envelope<'a> {
    tool: Tool,
    summary: &'a RunSummary,
    inputs: &'a [crate::ingest::FileReport],
    findings: Vec<super::record::Record<'a>>,
    /// With `--baseline`: the previous audit's findings that are gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved: Option<&'a [crate::history::Previous]>,
    /// With `--triage`: what the decisions did.
    #[serde(skip_serializing_if = "Option::is_none")]
    triage: Option<&'a crate::history::TriageReport>,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

pub fn tool() -> Tool {
    Tool { name: env!("CARGO_PKG_NAME"), version: env!("CARGO_PKG_VERSION") }
}

pub fn write_json(path: &Path, summary: &RunSummary, findings: &[Finding]) -> Result<()> {
    let findings = findings.iter().map(super::record::Record::of).collect();
    let envelope = Envelope {
        tool: tool(),
        summary,
        inputs: &summary.files,
        findings,
        resolved: summary.since.resolved.as_deref(),
        triage: summary.since.triage.as_ref(),
    };
    // Cannot fail: findings are structs of strings, numbers and string-keyed maps: serde_json cannot refuse them.
    let mut text = serde_json::to_string_pretty(&envelope).expect("findings serialise");
    text.push('\n');
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

fn joined(items: &[String]) -> String {
    items.join(";")
}

fn text_column<'a>(name: &str, findings: &'a [Finding], get: impl Fn(&'a Finding) -> Option<String>) -> Column {
    Column::new(name.into(), findings.iter().map(get).collect::<Vec<Option<String>>>())
}

/// Columns shared by the CSV and Parquet tables, in the contract's order.
fn common_columns(findings: &[Finding]) -> Vec<Column> {
    vec![
        text_column("id", findings, |f| Some(f.id.clone())),
        text_column("detector", findings, |f| Some(f.detector.to_string())),
        text_column("severity", findings, |f| Some(f.severity.as_str().to_string())),
        text_column("dataset", findings, |f| f.dataset.clone()),
        text_column("recipient", findings, |f| f.recipient.clone()),
        text_column("actor", findings, |f| f.actor.clone()),
        text_column("target", findings, |f| f.target.clone()),
        text_column("purpose", findings, |f| f.purpose.clone()),
    ]
}

fn trailing_columns(findings: &[Finding]) -> Vec<Column> {
    vec![
        Column::new("events".into(), findings.iter().map(|f| f.events).collect::<Vec<u64>>()),
        Column::new("records".into(), findings.iter().map(|f| f.records).collect::<Vec<Option<i64>>>()),
        Column::new("score".into(), findings.iter().map(|f| f.score).collect::<Vec<f64>>()),
        Column::new("period_days".into(), findings.iter().map(|f| f.period_days).collect::<Vec<Option<f64>>>()),
    ]
}

fn write_frame_csv(path: &Path, frame: &mut DataFrame) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    CsvWriter::new(file).finish(frame).polars(format!("writing {}", path.display()))
}

pub fn write_csv(path: &Path, findings: &[Finding]) -> Result<()> {
    let mut columns = common_columns(findings);
    columns.push(text_column("first_seen", findings, |f| f.first_seen.map(format_us)));
    columns.push(text_column("last_seen", findings, |f| f.last_seen.map(format_us)));
    columns.extend(trailing_columns(findings));
    columns.push(text_column("categories", findings, |f| Some(joined(&f.categories))));
    columns.push(text_column("rule", findings, |f| Some(sentences::rule(Lang::En, f))));
    columns.push(text_column("legal_ref", findings, |f| Some(sentences::legal_ref(Lang::En, f))));
    columns.push(text_column("register_versions", findings, |f| Some(joined(&f.register_versions))));
    columns.push(text_column("summary", findings, |f| Some(sentences::summary(Lang::En, f))));
    columns.push(text_column("evidence", findings, |f| Some(joined(&f.evidence))));
    columns.push(text_column("details", findings, details_json));
    columns.extend(follow_up_columns(findings));
    let mut frame = DataFrame::new(findings.len(), columns).polars("building the findings table")?;
    write_frame_csv(path, &mut frame)
}

/// The month-after-month columns, always present (empty without `--baseline` / `--triage`), so
/// that tables of successive audits stack: `status` (new, ongoing), `previous_severity`,
/// `triage` (the decision in force) and `triage_reason`.
fn follow_up_columns(findings: &[Finding]) -> Vec<Column> {
    vec![
        text_column("status", findings, |f| f.status.map(|s| s.as_str().to_string())),
        text_column("previous_severity", findings, |f| f.previous_severity.map(|s| s.as_str().to_string())),
        text_column("triage", findings, |f| f.triage.as_ref().map(|t| t.decision.as_str().to_string())),
        text_column("triage_reason", findings, |f| f.triage.as_ref().map(|t| t.reason.clone())),
    ]
}

/// Detector-specific details as one JSON object (empty when a detector has none).
fn details_json(finding: &Finding) -> Option<String> {
    let details = finding.facts.details();
    // Cannot fail: details are a string-keyed JSON map: serde_json cannot refuse it.
    (!details.is_empty()).then(|| serde_json::to_string(&details).expect("details serialise"))
}

fn list_column(name: &str, findings: &[Finding], get: impl Fn(&Finding) -> &Vec<String>) -> Column {
    let mut builder = ListStringChunkedBuilder::new(name.into(), findings.len(), findings.len() * 4);
    for finding in findings {
        builder.append_values_iter(get(finding).iter().map(String::as_str));
    }
    builder.finish().into_column()
}

fn instant_column(name: &str, findings: &[Finding], get: impl Fn(&Finding) -> Option<i64>) -> Result<Column> {
    Column::new(name.into(), findings.iter().map(get).collect::<Vec<Option<i64>>>())
        .cast(&event::timestamp_type())
        .polars("building timestamps")
}

pub fn write_parquet(path: &Path, findings: &[Finding]) -> Result<()> {
    let mut columns = common_columns(findings);
    columns.push(instant_column("first_seen", findings, |f| f.first_seen)?);
    columns.push(instant_column("last_seen", findings, |f| f.last_seen)?);
    columns.extend(trailing_columns(findings));
    columns.push(list_column("categories", findings, |f| &f.categories));
    columns.push(text_column("rule", findings, |f| Some(sentences::rule(Lang::En, f))));
    columns.push(text_column("legal_ref", findings, |f| Some(sentences::legal_ref(Lang::En, f))));
    columns.push(list_column("register_versions", findings, |f| &f.register_versions));
    columns.push(text_column("summary", findings, |f| Some(sentences::summary(Lang::En, f))));
    columns.push(list_column("evidence", findings, |f| &f.evidence));
    columns.push(text_column("details", findings, details_json));
    columns.extend(follow_up_columns(findings));
    let mut frame = DataFrame::new(findings.len(), columns).polars("building the findings table")?;
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    ParquetWriter::new(file).finish(&mut frame).map(|_| ()).polars(format!("writing {}", path.display()))
}

/// `quarantine.csv`: every row that was read but not used, with file, line, row, column, reason.
pub fn write_quarantine(path: &Path, records: &[QuarantineRecord]) -> Result<()> {
    let text = |get: fn(&QuarantineRecord) -> Option<String>| records.iter().map(get).collect::<Vec<_>>();
    let columns = vec![
        Column::new("file".into(), text(|r| Some(r.file.clone()))),
        Column::new("line".into(), records.iter().map(|r| r.line).collect::<Vec<_>>()),
        Column::new("row".into(), records.iter().map(|r| r.row).collect::<Vec<_>>()),
        Column::new("column".into(), text(|r| Some(r.column.clone()))),
        Column::new("value".into(), text(|r| Some(r.value.clone()))),
        Column::new("reason".into(), text(|r| Some(r.reason.clone()))),
    ];
    let mut frame = DataFrame::new(records.len(), columns).polars("building the quarantine table")?;
    write_frame_csv(path, &mut frame)
}
