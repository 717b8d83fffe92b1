//! Outputs: the run summary, findings tables, the Markdown report, the quarantine, and the
//! manifest that hashes them all. Every output is a pure function of the run's results, so the
//! same inputs give the same bytes (the manifest's `generated_at` is the one exception).

pub mod charts;
mod follow_up;
mod html;
pub mod i18n;
pub mod manifest;
mod markdown;
pub mod overview;
pub mod record;
pub mod sentences;
pub mod tables;
mod xlsx;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use i18n::Lang;
use i18n::Msg;

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::ingest::{FileReport, QuarantineRecord};
use crate::register::VersionSummary;

/// Which outputs `--format` asks for (the manifest and the quarantine are always written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    Json,
    Csv,
    Parquet,
    Md,
    Html,
    Xlsx,
}

impl OutputFormat {
    pub const ALL: [OutputFormat; 6] = [
        OutputFormat::Json,
        OutputFormat::Csv,
        OutputFormat::Parquet,
        OutputFormat::Md,
        OutputFormat::Html,
        OutputFormat::Xlsx,
    ];

    fn file_name(self) -> &'static str {
        match self {
            OutputFormat::Json => "findings.json",
            OutputFormat::Csv => "findings.csv",
            OutputFormat::Parquet => "findings.parquet",
            OutputFormat::Md => "report.md",
            OutputFormat::Html => "report.html",
            OutputFormat::Xlsx => "findings.xlsx",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Window {
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HabilitationSummary {
    pub file: String,
    pub sha256: String,
    pub grants: usize,
}

/// How many findings the reports put first, under "what matters most".
pub const TOP_FINDINGS: usize = 3;

/// Which drifts a reader needs first, among findings of one severity: data leaving for whom it
/// was not declared, then agents watched, then the rest.
const FIRST_READ: [&str; 10] = [
    "periodic_transfer",
    "undeclared_recipient",
    "individual_monitoring",
    "category_creep",
    "outside_habilitation",
    "retention_overrun",
    "small_cell",
    "register_gap",
    "integrity",
    "stale_habilitation",
];

/// The few most serious findings, for the reports' first screen: at most [`TOP_FINDINGS`] of the
/// most severe level present, one per detector (the one with the most events), in the order of
/// [`FIRST_READ`]. Findings come sorted, most severe first.
pub fn top_findings(findings: &[Finding]) -> Vec<&Finding> {
    // A finding the triage accepted or found false is in its own section, not on the first screen.
    let counting: Vec<&Finding> = findings.iter().filter(|f| f.counts()).collect();
    let Some(first) = counting.first() else { return Vec::new() };
    let rank = |detector: &str| FIRST_READ.iter().position(|d| *d == detector).unwrap_or(FIRST_READ.len());
    let mut candidates: Vec<&Finding> = counting.iter().copied().filter(|f| f.severity == first.severity).collect();
    candidates.sort_by_key(|f| (rank(f.detector), std::cmp::Reverse(f.events), f.id.as_str()));
    candidates.dedup_by_key(|f| f.detector);
    candidates.truncate(TOP_FINDINGS);
    candidates
}

/// What the reports' run summary says (their last section; findings.json's `summary`): what was read and what was found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSummary {
    pub files: Vec<FileReport>,
    /// Input files that could not be read at all; the audit judged the others.
    pub unreadable_files: Vec<crate::ingest::UnreadableFile>,
    pub rows_read: u64,
    pub rows_used: u64,
    pub rows_quarantined: u64,
    pub window: Window,
    /// Used rows outside `--from`/`--to`, not judged.
    pub events_outside_window: u64,
    pub events_judged: u64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    pub register_versions: Vec<VersionSummary>,
    pub habilitations: Option<HabilitationSummary>,
    pub detectors: Vec<&'static str>,
    /// detector → severity → count.
    pub findings_by_detector: BTreeMap<String, BTreeMap<String, u64>>,
    pub findings: usize,
    /// What the overview charts draw (not part of findings.json).
    #[serde(skip)]
    pub overview: overview::Overview,
    /// The zone the reports write dates for people in (`--timezone`; not part of findings.json).
    #[serde(skip)]
    pub timezone: Option<chrono_tz::Tz>,
    /// Against the previous audit and the triage file (findings.json's top-level `resolved` and
    /// `triage`, the reports' first section).
    #[serde(skip)]
    pub since: crate::history::SinceLastAudit,
    /// The previous audit compared with (`--baseline`), for the manifest: months chain.
    #[serde(skip)]
    pub baseline: Option<BaselineRecord>,
}

/// The previous audit an audit was compared with, as its manifest records it.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineRecord {
    /// Its findings.json, as given.
    pub path: String,
    pub findings_sha256: String,
    /// Its manifest.json's SHA-256, when it lay beside the findings: the chain of months.
    pub manifest_sha256: Option<String>,
}

impl RunSummary {
    /// One note per input read through a source map, and per file with local times at the
    /// autumn change (the earlier instant taken): text, unescaped.
    pub fn input_notes(&self, lang: Lang) -> Vec<String> {
        let mut notes = Vec::new();
        for file in &self.files {
            if let Some(map) = &file.source_map {
                notes.push(format!("{}: {} {map}", file.path, lang.text(Msg::ReadThrough)));
            }
            if file.ambiguous_local_times > 0 {
                notes.push(format!(
                    "{}: {} {}",
                    file.path,
                    file.ambiguous_local_times,
                    lang.text(Msg::AmbiguousLocalTimes)
                ));
            }
        }
        notes
    }

    pub fn count_findings(&mut self, findings: &[Finding]) {
        self.findings = findings.len();
        for finding in findings {
            *self
                .findings_by_detector
                .entry(finding.detector.to_string())
                .or_default()
                .entry(finding.severity.as_str().to_string())
                .or_default() += 1;
        }
    }
}

/// Writes the requested outputs into `out` and returns their paths (relative to `out`), sorted.
pub fn write_all(
    out: &Path,
    formats: &[OutputFormat],
    lang: Lang,
    summary: &RunSummary,
    findings: &[Finding],
    quarantine: &[QuarantineRecord],
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    // Each output is its own file: written side by side (the end of an audit is otherwise one
    // core's work), then the HTML report, which embeds the charts.
    let write_table = |format: &OutputFormat| -> Result<Option<PathBuf>> {
        let path = out.join(format.file_name());
        match format {
            OutputFormat::Json => tables::write_json(&path, summary, findings)?,
            OutputFormat::Csv => tables::write_csv(&path, findings)?,
            OutputFormat::Parquet => tables::write_parquet(&path, findings)?,
            OutputFormat::Md => {
                let text = markdown::render(lang, summary, findings);
                std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
            }
            OutputFormat::Xlsx => xlsx::write(&path, findings)?,
            // Written once the charts are (below).
            OutputFormat::Html => return Ok(None),
        }
        Ok(Some(PathBuf::from(format.file_name())))
    };
    let (charts, tables) = rayon::join(
        || charts::write_all(out, lang, findings, &summary.overview),
        || {
            use rayon::prelude::*;
            let quarantine_path = out.join("quarantine.csv");
            let tables: Vec<Option<PathBuf>> = formats.par_iter().map(write_table).collect::<Result<_>>()?;
            let mut written: Vec<PathBuf> = tables.into_iter().flatten().collect();
            tables::write_quarantine(&quarantine_path, quarantine)?;
            written.push(PathBuf::from("quarantine.csv"));
            Ok::<_, Error>(written)
        },
    );
    let mut written = charts?;
    written.extend(tables?);
    if formats.contains(&OutputFormat::Html) {
        let path = out.join(OutputFormat::Html.file_name());
        let text = html::render(out, lang, summary, findings)?;
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        written.push(PathBuf::from(OutputFormat::Html.file_name()));
    }
    written.sort();
    Ok(written)
}

/// The short run summary printed on the terminal.
pub fn terminal_summary(summary: &RunSummary, out: &Path) -> String {
    let mut text = String::new();
    text.push_str(&format!(
        "driftwatch {}: {} file(s), {} rows read, {} used, {} quarantined; {} events judged",
        env!("CARGO_PKG_VERSION"),
        summary.files.len(),
        summary.rows_read,
        summary.rows_used,
        summary.rows_quarantined,
        summary.events_judged
    ));
    if summary.events_outside_window > 0 {
        text.push_str(&format!(" ({} outside --from/--to)", summary.events_outside_window));
    }
    text.push('\n');
    text.push_str(&format!(
        "register: {} version(s): {}\n",
        summary.register_versions.len(),
        summary.register_versions.iter().map(|v| v.id.as_str()).collect::<Vec<_>>().join(", ")
    ));
    text.push_str(&format!("findings: {}\n", summary.findings));
    for (detector, severities) in &summary.findings_by_detector {
        let counts: Vec<String> =
            ["high", "medium", "low"].iter().filter_map(|s| severities.get(*s).map(|n| format!("{n} {s}"))).collect();
        text.push_str(&format!("  {detector:<22} {}\n", counts.join(", ")));
    }
    text.push_str(&format!("reports written to {}\n", out.display()));
    for file in &summary.unreadable_files {
        text.push_str(&format!("NOT READ: {}\n", file.error));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{FindingDraft, Severity};

    fn finding(detector: &'static str, severity: Severity, events: u64, key: &str) -> Finding {
        FindingDraft { events, ..Default::default() }.finish(detector, severity, &[key])
    }

    /// The first screen: the most severe level only, one finding per detector (its largest),
    /// data leaving first, at most three.
    #[test]
    fn the_top_findings_are_few_diverse_and_the_most_serious() {
        let mut findings = vec![
            finding("category_creep", Severity::High, 45, "a"),
            finding("category_creep", Severity::High, 19, "b"),
            finding("individual_monitoring", Severity::High, 211, "c"),
            finding("outside_habilitation", Severity::High, 500, "d"),
            finding("undeclared_recipient", Severity::High, 47, "e"),
            finding("periodic_transfer", Severity::High, 92, "f"),
            finding("retention_overrun", Severity::Medium, 25, "g"),
        ];
        crate::finding::sort(&mut findings);
        let top: Vec<(&str, u64)> = top_findings(&findings).iter().map(|f| (f.detector, f.events)).collect();
        assert_eq!(top, [("periodic_transfer", 92), ("undeclared_recipient", 47), ("individual_monitoring", 211)]);
        let lows = vec![finding("stale_habilitation", Severity::Low, 0, "h")];
        assert_eq!(top_findings(&lows).len(), 1, "the most severe level present, whatever it is");
        assert!(top_findings(&[]).is_empty());
    }
}
