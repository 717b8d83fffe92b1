//! Month after month, in the reports: "since the last audit" (new, escalated, resolved; first
//! in the report when `--baseline` is given) and the triaged findings with their decisions
//! (`--triage`), in Markdown and HTML, in the report's language.

use super::RunSummary;
use super::i18n::{Lang, Msg};
use super::sentences::{detector_name, summary};
use crate::finding::{Finding, Status};
use crate::history::Previous;

/// One item of a list: (severity word, detector in words, id, sentence).
struct Item {
    severity: &'static str,
    detector: &'static str,
    id: String,
    sentence: String,
}

/// The "since the last audit" facts: the headline and the three lists (new, escalated, resolved).
struct Since {
    headline: String,
    lists: Vec<(String, Vec<Item>)>,
}

fn since(lang: Lang, run: &RunSummary, findings: &[Finding]) -> Option<Since> {
    let resolved = run.since.resolved.as_ref()?;
    let t = |m| lang.text(m);
    let item = |f: &Finding| Item {
        severity: lang.severity(f.severity),
        detector: detector_name(lang, f.detector),
        id: f.id.clone(),
        sentence: summary(lang, f),
    };
    let new: Vec<Item> = findings.iter().filter(|f| f.status == Some(Status::New)).map(item).collect();
    let ongoing = findings.iter().filter(|f| f.status == Some(Status::Ongoing)).count();
    let escalated: Vec<Item> = findings
        .iter()
        .filter(|f| f.escalated())
        .map(|f| {
            let was = f.previous_severity.map(|s| lang.severity(s)).unwrap_or("?");
            Item { sentence: format!("{was} → {} — {}", lang.severity(f.severity), summary(lang, f)), ..item(f) }
        })
        .collect();
    let gone: Vec<Item> = resolved.iter().map(|p| resolved_item(lang, p)).collect();
    // French typography: a space before the colon.
    let colon = if lang == Lang::Fr { " :" } else { ":" };
    let headline = format!(
        "{} {}{colon} {} {}, {ongoing} {}, {} {}, {} {}",
        t(Msg::ComparedWith),
        run.baseline.as_ref().map(|b| b.path.as_str()).unwrap_or("?"),
        new.len(),
        t(Msg::NewFindings),
        t(Msg::OngoingFindings),
        gone.len(),
        t(Msg::ResolvedFindings),
        escalated.len(),
        t(Msg::EscalatedFindings)
    );
    let lists = vec![
        (t(Msg::NewFindings).to_string(), new),
        (t(Msg::EscalatedFindings).to_string(), escalated),
        (t(Msg::ResolvedFindings).to_string(), gone),
    ];
    Some(Since { headline, lists })
}

/// A finding of the previous audit that is gone. Its English sentence is the one that audit
/// wrote; in French, what it was about (the previous findings.json holds no French).
fn resolved_item(lang: Lang, previous: &Previous) -> Item {
    let sentence = match lang {
        Lang::En => previous.summary.clone(),
        Lang::Fr => {
            let mut about = Vec::new();
            let mut push = |label: &str, value: &Option<String>| {
                if let Some(value) = value {
                    about.push(format!("{label} « {value} »"));
                }
            };
            push("jeu de données", &previous.dataset);
            push("destinataire", &previous.recipient);
            push("acteur", &previous.actor);
            push("agent", &previous.target);
            push("finalité", &previous.purpose);
            format!("{} événement(s) ; {}", previous.events, about.join(", "))
        }
    };
    Item {
        severity: lang.severity(previous.severity),
        detector: detector_name(lang, &previous.detector),
        id: previous.id.clone(),
        sentence,
    }
}

/// A triaged finding's decision, for its own section and its line in the finding's details.
pub fn decision_line(lang: Lang, finding: &Finding) -> Option<String> {
    let triage = finding.triage.as_ref()?;
    let until = triage.until.as_ref().map(|u| format!(", {} {u}", lang.text(Msg::Until))).unwrap_or_default();
    Some(format!(
        "{} — {} ({} {}, {}{until})",
        lang.decision(triage.decision),
        triage.reason,
        lang.text(Msg::DecidedBy),
        triage.by,
        triage.date
    ))
}

/// A finding's status against the previous audit, for its details.
pub fn status_line(lang: Lang, finding: &Finding) -> Option<String> {
    let status = lang.status(finding.status?);
    Some(match finding.previous_severity {
        Some(before) => format!("{status} ({} → {})", lang.severity(before), lang.severity(finding.severity)),
        None => status.to_string(),
    })
}

pub fn since_markdown(lang: Lang, run: &RunSummary, findings: &[Finding], escape: fn(&str) -> String) -> String {
    let Some(since) = since(lang, run, findings) else { return String::new() };
    let mut md = format!("## {}\n\n{}\n\n", lang.text(Msg::SinceLastAudit), escape(&since.headline));
    for (title, items) in since.lists.iter().filter(|(_, items)| !items.is_empty()) {
        md.push_str(&format!("### {} ({})\n\n", escape(title), items.len()));
        for item in items {
            md.push_str(&format!(
                "- **{}** ({}, `{}`): {}\n",
                item.detector,
                item.severity,
                item.id,
                escape(&item.sentence)
            ));
        }
        md.push('\n');
    }
    md
}

pub fn since_html(lang: Lang, run: &RunSummary, findings: &[Finding], escape: fn(&str) -> String) -> String {
    let Some(since) = since(lang, run, findings) else { return String::new() };
    let mut html =
        format!("<section id=since><h2>{}</h2>\n<p>{}</p>\n", lang.text(Msg::SinceLastAudit), escape(&since.headline));
    for (title, items) in since.lists.iter().filter(|(_, items)| !items.is_empty()) {
        html.push_str(&format!("<h3>{} ({})</h3>\n<ul>\n", escape(title), items.len()));
        for item in items {
            html.push_str(&format!(
                "<li><strong>{}</strong> ({}, <a href=\"#{id}\">{id}</a>): {}</li>\n",
                escape(item.detector),
                item.severity,
                escape(&item.sentence),
                id = item.id
            ));
        }
        html.push_str("</ul>\n");
    }
    html.push_str("</section>\n");
    html
}

/// The triage section's rows: (id, detector in words, severity, decision, reason, by, date, until).
fn triaged(lang: Lang, findings: &[Finding]) -> Vec<[String; 8]> {
    findings
        .iter()
        .filter_map(|f| {
            let triage = f.triage.as_ref()?;
            Some([
                f.id.clone(),
                detector_name(lang, f.detector).to_string(),
                lang.severity(f.severity).to_string(),
                lang.decision(triage.decision).to_string(),
                triage.reason.clone(),
                triage.by.clone(),
                triage.date.clone(),
                triage.until.clone().unwrap_or_else(|| "–".into()),
            ])
        })
        .collect()
}

/// An expired decision in words: "false positive (until 2023-01-01)".
fn expired_words(lang: Lang, expired: &crate::history::triage::Expired) -> String {
    format!("{} ({} {})", lang.decision(expired.decision), lang.text(Msg::Until), expired.until)
}

fn triage_headers(lang: Lang) -> [&'static str; 8] {
    let t = |m| lang.text(m);
    [
        "id",
        t(Msg::Detector),
        t(Msg::Severity),
        t(Msg::Decision),
        t(Msg::Reason),
        t(Msg::DecidedBy),
        t(Msg::DecidedOn),
        t(Msg::Until),
    ]
}

pub fn triage_markdown(lang: Lang, run: &RunSummary, findings: &[Finding], escape: fn(&str) -> String) -> String {
    let Some(report) = &run.since.triage else { return String::new() };
    let t = |m| lang.text(m);
    let mut md = format!(
        "## {}\n\n{} `{}` (sha256 {}, {}).\n\n",
        t(Msg::Triaged),
        t(Msg::TriageFile),
        escape(&report.file),
        &report.sha256[..16],
        report.checked_on
    );
    let rows = triaged(lang, findings);
    if rows.is_empty() {
        md.push_str(&format!("{}.\n\n", t(Msg::None)));
    } else {
        let headers = triage_headers(lang);
        md.push_str(&format!("| {} |\n|{}\n", headers.join(" | "), "---|".repeat(headers.len())));
        for row in rows {
            md.push_str(&format!("| {} |\n", row.iter().map(|cell| escape(cell)).collect::<Vec<_>>().join(" | ")));
        }
        md.push('\n');
    }
    if !report.expired.is_empty() {
        md.push_str(&format!("**{}**:\n\n", t(Msg::TriageExpired)));
        for expired in &report.expired {
            md.push_str(&format!("- `{}`: {}\n", expired.id, expired_words(lang, expired)));
        }
        md.push('\n');
    }
    if !report.unknown_ids.is_empty() {
        md.push_str(&format!(
            "**{}**: {}\n\n",
            t(Msg::TriageUnknown),
            report.unknown_ids.iter().map(|id| format!("`{id}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    md
}

pub fn triage_html(lang: Lang, run: &RunSummary, findings: &[Finding], escape: fn(&str) -> String) -> String {
    let Some(report) = &run.since.triage else { return String::new() };
    let t = |m| lang.text(m);
    let mut html = format!(
        "<section id=triage><h2>{}</h2>\n<p>{} <code>{}</code> (sha256 {}, {}).</p>\n",
        t(Msg::Triaged),
        t(Msg::TriageFile),
        escape(&report.file),
        &report.sha256[..16],
        report.checked_on
    );
    let rows = triaged(lang, findings);
    if rows.is_empty() {
        html.push_str(&format!("<p>{}.</p>\n", t(Msg::None)));
    } else {
        html.push_str("<div class=scroll><table><thead><tr>");
        for header in triage_headers(lang) {
            html.push_str(&format!("<th>{}</th>", escape(header)));
        }
        html.push_str("</tr></thead><tbody>\n");
        for row in rows {
            html.push_str("<tr>");
            html.push_str(&format!("<td><a href=\"#{id}\">{id}</a></td>", id = row[0]));
            for cell in &row[1..] {
                html.push_str(&format!("<td>{}</td>", escape(cell)));
            }
            html.push_str("</tr>\n");
        }
        html.push_str("</tbody></table></div>\n");
    }
    if !report.expired.is_empty() {
        html.push_str(&format!("<p><strong>{}</strong>:</p><ul>\n", t(Msg::TriageExpired)));
        for expired in &report.expired {
            html.push_str(&format!(
                "<li><code>{}</code>: {}</li>\n",
                expired.id,
                escape(&expired_words(lang, expired))
            ));
        }
        html.push_str("</ul>\n");
    }
    if !report.unknown_ids.is_empty() {
        let ids: Vec<String> = report.unknown_ids.iter().map(|id| format!("<code>{}</code>", escape(id))).collect();
        html.push_str(&format!("<p><strong>{}</strong>: {}</p>\n", t(Msg::TriageUnknown), ids.join(", ")));
    }
    html.push_str("</section>\n");
    html
}
