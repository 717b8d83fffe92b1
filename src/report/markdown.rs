//! `report.md`: what matters most first (the few most serious findings, one plain sentence
//! each, what would explain them away, their charts), then every finding, most serious first,
//! then the overview charts, and the run summary with its hashes last.
//! Every value that comes from a log or a register is escaped, so a field holding Markdown or
//! HTML is shown as text, never rendered.

use super::RunSummary;
use super::i18n::{Lang, Msg};
use crate::finding::Finding;

/// Escapes Markdown and HTML specials in a value taken from an input.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

pub fn render(lang: Lang, summary: &RunSummary, findings: &[Finding]) -> String {
    let t = |m| lang.text(m);
    let timezone = summary.timezone.unwrap_or(chrono_tz::UTC);
    let mut md = format!("# {}\n\n", t(Msg::Title));
    md.push_str(&super::follow_up::since_markdown(lang, summary, findings, escape));
    let top = super::top_findings(findings);
    if !top.is_empty() {
        md.push_str(&format!("## {}\n\n", t(Msg::TopFindings)));
        for finding in top {
            md.push_str(&format!(
                "- **{}** ({}, `{}`): {}\n{}  - {}: {} ({})\n  - {}: {}\n",
                super::sentences::detector_name(lang, finding.detector),
                lang.severity(finding.severity),
                finding.id,
                escape(&super::sentences::summary(lang, finding)),
                super::sentences::seen(lang, timezone, finding)
                    .map(|seen| format!("  - {}: {}\n", t(Msg::Seen), escape(&seen)))
                    .unwrap_or_default(),
                t(Msg::Rule),
                escape(&super::sentences::rule(lang, finding)),
                escape(&super::sentences::legal_ref(lang, finding)),
                t(Msg::ExplainedBy),
                escape(&super::sentences::explained_by(lang, finding))
            ));
            for chart in super::charts::files_of(finding) {
                md.push_str(&format!("\n  ![{}]({chart})\n", escape(&super::charts::alt_text(lang, finding, &chart))));
            }
        }
        md.push('\n');
    }
    md.push_str(&super::follow_up::triage_markdown(lang, summary, findings, escape));
    md.push_str(&format!("## {} ({})\n\n", t(Msg::AllFindings), findings.len()));
    if findings.is_empty() {
        md.push_str(t(Msg::NoFindings));
        md.push('\n');
    }
    for (number, finding) in findings.iter().enumerate() {
        md.push_str(&finding_section(lang, timezone, number + 1, finding));
    }
    let overview = super::charts::overview_files(findings, &summary.overview);
    if !overview.is_empty() {
        md.push_str(&format!("## {}\n", t(Msg::Overview)));
        for chart in overview {
            md.push_str(&format!("\n![{}]({chart})\n", escape(&super::charts::overview_alt_text(lang, &chart))));
        }
    }
    md.push_str(&run_summary(lang, summary));
    md
}

/// The run summary: inputs, window, register versions and habilitations with their hashes, and
/// the findings per detector and severity.
fn run_summary(lang: Lang, summary: &RunSummary) -> String {
    let t = |m| lang.text(m);
    let mut md = format!("\n## {}\n\n### {}\n\n", t(Msg::RunSummary), t(Msg::Inputs));
    md.push_str(&format!(
        "| {} | {} | {} | {} | {} |\n|---|---|---:|---:|---:|\n",
        t(Msg::File),
        t(Msg::Format),
        t(Msg::RowsRead),
        t(Msg::RowsUsed),
        t(Msg::RowsQuarantined)
    ));
    for file in &summary.files {
        md.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            escape(&file.path),
            file.format,
            file.rows_read,
            file.rows_used,
            file.rows_quarantined
        ));
    }
    for file in &summary.unreadable_files {
        md.push_str(&format!("| {} | **not read** | | | |\n", escape(&file.error)));
    }
    let notes: String = summary.input_notes(lang).iter().map(|note| format!("- {}\n", escape(note))).collect();
    md.push_str(&format!(
        "| **{}** | | {} | {} | {} |\n\n{notes}{}{}\n\n",
        t(Msg::Total),
        summary.rows_read,
        summary.rows_used,
        summary.rows_quarantined,
        if notes.is_empty() { "" } else { "\n" },
        t(Msg::Quarantine)
    ));
    let bound = |b: &Option<String>| b.clone().unwrap_or_else(|| t(Msg::Unbounded).to_string());
    md.push_str(&format!(
        "- {}: {} → {}; {}: {}; {}: {}\n",
        t(Msg::Window),
        bound(&summary.window.from),
        bound(&summary.window.to),
        t(Msg::EventsJudged),
        summary.events_judged,
        t(Msg::OutsideWindow),
        summary.events_outside_window
    ));
    if let (Some(first), Some(last)) = (&summary.first_event, &summary.last_event) {
        md.push_str(&format!("- {} {first} → {last}\n", t(Msg::Period)));
    }
    md.push_str(&format!(
        "\n### {}\n\n| id | {} | {} | sha256 |\n|---|---|---|---|\n",
        t(Msg::RegisterVersions),
        t(Msg::File),
        t(Msg::InForce)
    ));
    for version in &summary.register_versions {
        md.push_str(&format!(
            "| {} | {} | {} → {} | `{}` |\n",
            escape(&version.id),
            escape(&version.file),
            version.in_force_from,
            version.in_force_until.clone().unwrap_or_else(|| "…".into()),
            &version.sha256[..16]
        ));
    }
    if let Some(habilitations) = &summary.habilitations {
        md.push_str(&format!(
            "\n### {}\n\n{}: {} {} (sha256 `{}`)\n",
            t(Msg::Habilitations),
            escape(&habilitations.file),
            habilitations.grants,
            t(Msg::Grants),
            &habilitations.sha256[..16]
        ));
    }
    md.push_str(&format!(
        "\n### {}\n\n| {} | {} | {} | {} |\n|---|---:|---:|---:|\n",
        t(Msg::FindingsBySeverity),
        t(Msg::Detector),
        lang.severity(crate::finding::Severity::High),
        lang.severity(crate::finding::Severity::Medium),
        lang.severity(crate::finding::Severity::Low)
    ));
    for detector in &summary.detectors {
        let counts = summary.findings_by_detector.get(*detector);
        let count = |s: &str| counts.and_then(|c| c.get(s)).copied().unwrap_or(0);
        md.push_str(&format!(
            "| {} (`{detector}`) | {} | {} | {} |\n",
            super::sentences::detector_name(lang, detector),
            count("high"),
            count("medium"),
            count("low")
        ));
    }
    md
}

fn finding_section(lang: Lang, timezone: chrono_tz::Tz, number: usize, finding: &Finding) -> String {
    let t = |m| lang.text(m);
    let subject: Vec<String> =
        [&finding.dataset, &finding.recipient, &finding.purpose, &finding.actor, &finding.target]
            .into_iter()
            .flatten()
            .map(|v| escape(v))
            .collect();
    let mut md = format!(
        "### {number}. [{}] {} (`{}`) — {} ({})\n\n{}\n\n",
        lang.severity(finding.severity),
        super::sentences::detector_name(lang, finding.detector),
        finding.detector,
        subject.join(" · "),
        finding.id,
        escape(&super::sentences::summary(lang, finding))
    );
    md.push_str(&format!(
        "- **{}**: {}\n",
        t(Msg::ExplainedBy),
        escape(&super::sentences::explained_by(lang, finding))
    ));
    md.push_str(&format!("- **{}**: {}\n", t(Msg::Rule), escape(&super::sentences::rule(lang, finding))));
    md.push_str(&format!("- **{}**: {}\n", t(Msg::LegalRef), escape(&super::sentences::legal_ref(lang, finding))));
    for (label, line) in [
        (Msg::Status, super::follow_up::status_line(lang, finding)),
        (Msg::Decision, super::follow_up::decision_line(lang, finding)),
    ] {
        if let Some(line) = line {
            md.push_str(&format!("- **{}**: {}\n", t(label), escape(&line)));
        }
    }
    if let (Some(first), Some(last)) = (finding.first_seen, finding.last_seen) {
        let records = finding.records.map(|r| format!(", {r} {}", t(Msg::Records))).unwrap_or_default();
        md.push_str(&format!(
            "- **{}**: {} → {} ({} {}{records})\n",
            t(Msg::Seen),
            super::sentences::people_time(lang, timezone, first),
            super::sentences::people_time(lang, timezone, last),
            finding.events,
            t(Msg::Events)
        ));
    }
    if !finding.categories.is_empty() {
        let categories: Vec<String> = finding.categories.iter().map(|c| escape(c)).collect();
        md.push_str(&format!("- **{}**: {}\n", t(Msg::Categories), categories.join(", ")));
    }
    if !finding.register_versions.is_empty() {
        md.push_str(&format!("- **{}**: {}\n", t(Msg::Versions), escape(&finding.register_versions.join(", "))));
    }
    let evidence: Vec<String> = finding.evidence.iter().map(|e| escape(e)).collect();
    md.push_str(&format!("- **{}**: {}\n\n", t(Msg::Evidence), evidence.join(", ")));
    for chart in super::charts::files_of(finding) {
        md.push_str(&format!("![{}]({chart})\n\n", escape(&super::charts::alt_text(lang, finding, &chart))));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn log_values_cannot_inject_markup() {
        assert_eq!(escape("<script>alert(1)</script>"), "&lt;script&gt;alert(1)&lt;/script&gt;");
        assert_eq!(escape("**bold** | [x](y)"), "\\*\\*bold\\*\\* \\| \\[x\\](y)");
        assert_eq!(escape("a\nb"), "a b");
    }
}
