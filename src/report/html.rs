//! `report.html`: one self-contained file (inline CSS, charts as data URIs, a small inline
//! script to sort and filter the findings table; no network: a Content-Security-Policy forbids
//! every request). Readable on screen and printed. Every value that comes from an input is
//! HTML-escaped; charts are embedded as `<img>` data, so nothing in them can run.

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine;

use super::RunSummary;
use super::i18n::{Lang, Msg};
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::ingest::timestamp::format_us;

pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4;cursor:pointer}td.n{text-align:right}
.high{color:#fff;background:#b3261e}.medium{background:#f2b84b}.low{background:#d9e7f5}
.sev{padding:.1rem .4rem;border-radius:.2rem;font-size:.8rem;font-weight:bold}
article{border:1px solid #ddd;border-radius:.3rem;padding:.5rem 1rem;margin:1rem 0;page-break-inside:avoid}
dt{font-weight:bold}dd{margin:0 0 .4rem 0}code{font-size:.85rem}img{max-width:100%}
#filter{padding:.4rem;width:20rem;margin:.5rem 0}
#top article{border-left:.4rem solid #b3261e;margin:.6rem 0;padding:.2rem .8rem}#top h3{margin:.4rem 0}#top p{margin:.3rem 0}
.scroll{overflow-x:auto}dd,p{overflow-wrap:anywhere}
@media (max-width:600px){body{margin:1rem auto;padding:0 .6rem}#filter{width:100%;box-sizing:border-box}h1{font-size:1.3rem}}
@page{size:A4;margin:15mm}
@media print{#filter{display:none}th{cursor:auto}body{margin:0;max-width:none;font-size:10pt}
a{color:inherit;text-decoration:none}figure{page-break-inside:avoid;margin:0}h2{page-break-after:avoid}
table{font-size:8pt}}
";

const SCRIPT: &str = "
(function(){
  var table=document.getElementById('findings');
  var rows=function(){return Array.prototype.slice.call(table.tBodies[0].rows);};
  document.getElementById('filter').addEventListener('input',function(e){
    var q=e.target.value.toLowerCase();
    rows().forEach(function(r){r.style.display=r.textContent.toLowerCase().indexOf(q)<0?'none':'';});
  });
  Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,i){
    th.addEventListener('click',function(){
      var asc=th.getAttribute('data-order')!=='asc';th.setAttribute('data-order',asc?'asc':'desc');
      var key=function(r){var c=r.cells[i];return c.getAttribute('data-sort')||c.textContent;};
      rows().sort(function(a,b){var x=key(a),y=key(b),nx=parseFloat(x),ny=parseFloat(y);
        var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);return asc?c:-c;})
        .forEach(function(r){table.tBodies[0].appendChild(r);});
    });
  });
  // Layout facts for the browser tests (no horizontal scroll, the top findings on the first screen).
  document.body.setAttribute('data-scroll-width',document.documentElement.scrollWidth);
  var cards=document.querySelectorAll('#top article');
  document.body.setAttribute('data-top-bottom',cards.length?Math.round(cards[cards.length-1].getBoundingClientRect().bottom):-1);
  document.body.setAttribute('data-ready','yes');
})();
";

/// An embedded chart (`charts/….svg` under `out`) as an image data URI.
fn chart(out: &Path, relative: &str, alt: &str) -> Result<String> {
    let path = out.join(relative);
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let data = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(format!("<figure><img alt=\"{}\" src=\"data:image/svg+xml;base64,{data}\"></figure>\n", escape(alt)))
}

fn severity_rank(severity: crate::finding::Severity) -> u8 {
    match severity {
        crate::finding::Severity::High => 0,
        crate::finding::Severity::Medium => 1,
        crate::finding::Severity::Low => 2,
    }
}

pub fn render(out: &Path, lang: Lang, summary: &RunSummary, findings: &[Finding]) -> Result<String> {
    let t = |m| escape(lang.text(m));
    let lang_code = match lang {
        Lang::En => "en",
        Lang::Fr => "fr",
    };
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"{lang_code}\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n<p>{} driftwatch {}</p>\n",
        t(Msg::Title),
        t(Msg::Title),
        t(Msg::GeneratedBy),
        env!("CARGO_PKG_VERSION")
    );
    let timezone = summary.timezone.unwrap_or(chrono_tz::UTC);
    html.push_str(&super::follow_up::since_html(lang, summary, findings, escape));
    top_section(&mut html, out, lang, timezone, findings)?;
    html.push_str(&super::follow_up::triage_html(lang, summary, findings, escape));
    findings_table(&mut html, lang, findings);
    let _ = write!(html, "<h2>{}</h2>\n", t(Msg::Details));
    let mut detector = "";
    for finding in findings_by_detector(findings, &summary.detectors) {
        if finding.detector != detector {
            detector = finding.detector;
            let _ = write!(
                html,
                "<h3>{} (<code>{detector}</code>)</h3>\n",
                escape(super::sentences::detector_name(lang, detector))
            );
        }
        finding_article(&mut html, out, lang, timezone, finding)?;
    }
    let overview = super::charts::overview_files(findings, &summary.overview);
    if !overview.is_empty() {
        let _ = write!(html, "<h2>{}</h2>\n", t(Msg::Overview));
        for file in overview {
            html.push_str(&chart(out, &file, &super::charts::overview_alt_text(lang, &file))?);
        }
    }
    summary_section(&mut html, lang, summary);
    let _ = write!(html, "<script>{SCRIPT}</script>\n</body></html>\n");
    Ok(html)
}

/// The first screen: the few most serious findings, one sentence each, what would explain them
/// away, and their charts.
fn top_section(html: &mut String, out: &Path, lang: Lang, timezone: chrono_tz::Tz, findings: &[Finding]) -> Result<()> {
    let top = super::top_findings(findings);
    if top.is_empty() {
        return Ok(());
    }
    let t = |m| escape(lang.text(m));
    let _ = write!(html, "<section id=top><h2>{}</h2>\n", t(Msg::TopFindings));
    for finding in &top {
        let _ = write!(
            html,
            "<article class=top><h3><span class=\"sev {}\">{}</span> {}</h3>\n<p>{}</p>\n<p class=against>{}<strong>{}</strong>: {} ({})</p>\n<p><strong>{}</strong>: {}</p>\n<p><a href=\"#{}\">{}</a></p>\n",
            finding.severity.as_str(),
            lang.severity(finding.severity),
            escape(super::sentences::detector_name(lang, finding.detector)),
            escape(&super::sentences::summary(lang, finding)),
            super::sentences::seen(lang, timezone, finding)
                .map(|seen| format!("<strong>{}</strong>: {} · ", t(Msg::Seen), escape(&seen)))
                .unwrap_or_default(),
            t(Msg::Rule),
            escape(&super::sentences::rule(lang, finding)),
            escape(&super::sentences::legal_ref(lang, finding)),
            t(Msg::ExplainedBy),
            escape(&super::sentences::explained_by(lang, finding)),
            finding.id,
            finding.id
        );
        html.push_str("</article>\n");
    }
    // The charts after the sentences, so that all of them fit on the first screen.
    for finding in top {
        for file in super::charts::files_of(finding) {
            html.push_str(&chart(out, &file, &super::charts::alt_text(lang, finding, &file))?);
        }
    }
    html.push_str("</section>\n");
    Ok(())
}

/// Findings grouped by detector (in the order detectors ran, as the run summary lists them),
/// most severe first within each.
fn findings_by_detector<'a>(findings: &'a [Finding], order: &[&'static str]) -> Vec<&'a Finding> {
    let mut sorted: Vec<&Finding> = findings.iter().collect();
    sorted.sort_by_key(|f| (order.iter().position(|d| *d == f.detector), severity_rank(f.severity)));
    sorted
}

fn summary_section(html: &mut String, lang: Lang, summary: &RunSummary) {
    let t = |m| escape(lang.text(m));
    let _ = write!(
        html,
        "<h2>{}</h2>\n<div class=scroll><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>\n",
        t(Msg::RunSummary),
        t(Msg::File),
        t(Msg::Format),
        t(Msg::RowsRead),
        t(Msg::RowsUsed),
        t(Msg::RowsQuarantined)
    );
    for file in &summary.files {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>\n",
            escape(&file.path),
            file.format,
            file.rows_read,
            file.rows_used,
            file.rows_quarantined
        );
    }
    for file in &summary.unreadable_files {
        let _ = write!(html, "<tr><td colspan=5 class=high>{}</td></tr>\n", escape(&file.error));
    }
    let _ = write!(
        html,
        "<tr><th>{}</th><td></td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr></tbody></table></div>\n<p>{}</p>\n",
        t(Msg::Total),
        summary.rows_read,
        summary.rows_used,
        summary.rows_quarantined,
        t(Msg::Quarantine)
    );
    for note in summary.input_notes(lang) {
        let _ = writeln!(html, "<p>{}</p>", escape(&note));
    }
    let bound = |b: &Option<String>| b.clone().unwrap_or_else(|| lang.text(Msg::Unbounded).to_string());
    let _ = write!(
        html,
        "<p>{}: {} → {}; {}: <span id=judged>{}</span>; {}: {}. {} {} → {}</p>\n",
        t(Msg::Window),
        escape(&bound(&summary.window.from)),
        escape(&bound(&summary.window.to)),
        t(Msg::EventsJudged),
        summary.events_judged,
        t(Msg::OutsideWindow),
        summary.events_outside_window,
        t(Msg::Period),
        escape(summary.first_event.as_deref().unwrap_or("–")),
        escape(summary.last_event.as_deref().unwrap_or("–"))
    );
    let _ = write!(
        html,
        "<h3>{}</h3>\n<div class=scroll><table><thead><tr><th>id</th><th>{}</th><th>{}</th><th>sha256</th></tr></thead><tbody>\n",
        t(Msg::RegisterVersions),
        t(Msg::File),
        t(Msg::InForce)
    );
    for version in &summary.register_versions {
        let _ = write!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{} → {}</td><td><code>{}</code></td></tr>\n",
            escape(&version.id),
            escape(&version.file),
            version.in_force_from,
            version.in_force_until.clone().unwrap_or_else(|| "…".into()),
            escape(&version.sha256)
        );
    }
    html.push_str("</tbody></table></div>\n");
    let _ = write!(
        html,
        "<h3>{}</h3>\n<div class=scroll><table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>\n",
        t(Msg::FindingsBySeverity),
        t(Msg::Detector),
        lang.severity(crate::finding::Severity::High),
        lang.severity(crate::finding::Severity::Medium),
        lang.severity(crate::finding::Severity::Low)
    );
    for detector in &summary.detectors {
        let counts = summary.findings_by_detector.get(*detector);
        let count = |s: &str| counts.and_then(|c| c.get(s)).copied().unwrap_or(0);
        let _ = write!(
            html,
            "<tr><td>{} (<code>{detector}</code>)</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>\n",
            escape(super::sentences::detector_name(lang, detector)),
            count("high"),
            count("medium"),
            count("low")
        );
    }
    html.push_str("</tbody></table></div>\n");
}

fn findings_table(html: &mut String, lang: Lang, findings: &[Finding]) {
    let t = |m| escape(lang.text(m));
    let _ = write!(
        html,
        "<h2>{} (<span id=finding-count>{}</span>)</h2>\n<input id=filter type=search placeholder=\"{}\">\n\
<div class=scroll><table id=findings><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>id</th></tr></thead><tbody>\n",
        t(Msg::Findings),
        findings.len(),
        t(Msg::Filter),
        t(Msg::Severity),
        t(Msg::Detector),
        t(Msg::Dataset),
        t(Msg::Recipient),
        t(Msg::Actor),
        t(Msg::FirstSeen),
        t(Msg::LastSeen),
        t(Msg::Events)
    );
    for finding in findings {
        let text = |v: &Option<String>| escape(v.as_deref().unwrap_or(""));
        let instant = |v: Option<i64>| v.map(format_us).unwrap_or_default();
        let _ = write!(
            html,
            "<tr><td data-sort={}><span class=\"sev {}\">{}</span></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=n>{}</td><td><a href=\"#{}\">{}</a></td></tr>\n",
            severity_rank(finding.severity),
            finding.severity.as_str(),
            lang.severity(finding.severity),
            finding.detector,
            text(&finding.dataset),
            text(&finding.recipient),
            text(&finding.actor),
            instant(finding.first_seen),
            instant(finding.last_seen),
            finding.events,
            finding.id,
            finding.id
        );
    }
    html.push_str("</tbody></table></div>\n");
}

fn finding_article(
    html: &mut String,
    out: &Path,
    lang: Lang,
    timezone: chrono_tz::Tz,
    finding: &Finding,
) -> Result<()> {
    let t = |m| escape(lang.text(m));
    let subject: Vec<String> =
        [&finding.dataset, &finding.recipient, &finding.purpose, &finding.actor, &finding.target]
            .into_iter()
            .flatten()
            .map(|v| escape(v))
            .collect();
    let _ = write!(
        html,
        "<article id=\"{}\"><h4><span class=\"sev {}\">{}</span> {} — {}</h4>\n<p>{}</p>\n<dl>\n<dt>{}</dt><dd>{}</dd>\n<dt>{}</dt><dd>{}</dd>\n<dt>{}</dt><dd>{}</dd>\n",
        finding.id,
        finding.severity.as_str(),
        lang.severity(finding.severity),
        escape(super::sentences::detector_name(lang, finding.detector)),
        subject.join(" · "),
        escape(&super::sentences::summary(lang, finding)),
        t(Msg::ExplainedBy),
        escape(&super::sentences::explained_by(lang, finding)),
        t(Msg::Rule),
        escape(&super::sentences::rule(lang, finding)),
        t(Msg::LegalRef),
        escape(&super::sentences::legal_ref(lang, finding))
    );
    for (label, line) in [
        (Msg::Status, super::follow_up::status_line(lang, finding)),
        (Msg::Decision, super::follow_up::decision_line(lang, finding)),
    ] {
        if let Some(line) = line {
            let _ = write!(html, "<dt>{}</dt><dd>{}</dd>\n", t(label), escape(&line));
        }
    }
    if let (Some(first), Some(last)) = (finding.first_seen, finding.last_seen) {
        let _ = write!(
            html,
            "<dt>{}</dt><dd>{} → {} ({} {})</dd>\n",
            t(Msg::Seen),
            escape(&super::sentences::people_time(lang, timezone, first)),
            escape(&super::sentences::people_time(lang, timezone, last)),
            finding.events,
            t(Msg::Events)
        );
    }
    if !finding.categories.is_empty() {
        let categories: Vec<String> = finding.categories.iter().map(|c| escape(c)).collect();
        let _ = write!(html, "<dt>{}</dt><dd>{}</dd>\n", t(Msg::Categories), categories.join(", "));
    }
    if !finding.register_versions.is_empty() {
        let _ =
            write!(html, "<dt>{}</dt><dd>{}</dd>\n", t(Msg::Versions), escape(&finding.register_versions.join(", ")));
    }
    let evidence: Vec<String> = finding.evidence.iter().map(|e| format!("<code>{}</code>", escape(e))).collect();
    let _ = write!(html, "<dt>{}</dt><dd>{}</dd>\n</dl>\n", t(Msg::Evidence), evidence.join(" "));
    for file in super::charts::files_of(finding) {
        html.push_str(&chart(out, &file, &super::charts::alt_text(lang, finding, &file))?);
    }
    html.push_str("</article>\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn inputs_cannot_inject_markup() {
        assert_eq!(escape("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_eq!(escape("a \"b\" & c"), "a &quot;b&quot; &amp; c");
    }
}
