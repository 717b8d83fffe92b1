//! `findings.xlsx`: one sheet per detector (auditors live in spreadsheets), frozen header row,
//! filters on every column, `first_seen`/`last_seen` as real dates. The workbook's creation
//! time is pinned to the epoch so the same findings give the same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

use crate::error::{Error, Result};
use crate::finding::Finding;

const HEADERS: [&str; 18] = [
    "id",
    "severity",
    "dataset",
    "recipient",
    "actor",
    "target",
    "purpose",
    "first_seen",
    "last_seen",
    "events",
    "records",
    "score",
    "categories",
    "rule",
    "legal_ref",
    "status",
    "triage",
    "triage_reason",
];

fn xlsx_error(path: &Path, error: rust_xlsxwriter::XlsxError) -> Error {
    Error::file(path.display(), format!("writing the workbook failed: {error}"))
}

pub fn write(path: &Path, findings: &[Finding]) -> Result<()> {
    let fail = |e| xlsx_error(path, e);
    let mut workbook = Workbook::new();
    // Cannot fail: the epoch is a valid instant.
    let epoch = chrono::DateTime::<chrono::Utc>::from_timestamp(0, 0).expect("epoch");
    workbook.set_properties(&DocProperties::new().set_creation_datetime(&epoch).set_title("driftwatch findings"));
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let mut by_detector: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for finding in findings {
        by_detector.entry(finding.detector).or_default().push(finding);
    }
    if by_detector.is_empty() {
        by_detector.insert("no findings", Vec::new());
    }
    for (detector, rows) in by_detector {
        let sheet = workbook.add_worksheet();
        // Sheet names are at most 31 characters.
        sheet.set_name(detector.chars().take(31).collect::<String>()).map_err(fail)?;
        for (column, header) in HEADERS.iter().enumerate() {
            sheet.write_string_with_format(0, column as u16, *header, &bold).map_err(fail)?;
        }
        for (index, finding) in rows.iter().enumerate() {
            let row = index as u32 + 1;
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            let cells = [
                finding.id.clone(),
                finding.severity.as_str().to_string(),
                text(&finding.dataset),
                text(&finding.recipient),
                text(&finding.actor),
                text(&finding.target),
                text(&finding.purpose),
            ];
            for (column, value) in cells.iter().enumerate() {
                sheet.write_string(row, column as u16, value).map_err(fail)?;
            }
            for (column, instant) in [(7u16, finding.first_seen), (8, finding.last_seen)] {
                if let Some(us) = instant {
                    // Excel dates run from 1900 to 9999; an earlier instant (a log can hold one)
                    // is written as its RFC 3339 text rather than failing the workbook.
                    match ExcelDateTime::from_timestamp(us.div_euclid(1_000_000)) {
                        Ok(when) => sheet.write_datetime_with_format(row, column, &when, &date).map_err(fail)?,
                        Err(_) => {
                            sheet.write_string(row, column, crate::ingest::timestamp::format_us(us)).map_err(fail)?
                        }
                    };
                }
            }
            sheet.write_number(row, 9, finding.events as f64).map_err(fail)?;
            if let Some(records) = finding.records {
                sheet.write_number(row, 10, records as f64).map_err(fail)?;
            }
            sheet.write_number(row, 11, finding.score).map_err(fail)?;
            sheet.write_string(row, 12, finding.categories.join(";")).map_err(fail)?;
            sheet.write_string(row, 13, super::sentences::rule(super::i18n::Lang::En, finding)).map_err(fail)?;
            sheet.write_string(row, 14, super::sentences::legal_ref(super::i18n::Lang::En, finding)).map_err(fail)?;
            // Month after month: new or ongoing (with --baseline), the decision in force (--triage).
            let follow_up = [
                finding.status.map(|s| s.as_str().to_string()),
                finding.triage.as_ref().map(|t| t.decision.as_str().to_string()),
                finding.triage.as_ref().map(|t| t.reason.clone()),
            ];
            for (column, value) in (15u16..).zip(follow_up) {
                if let Some(value) = value {
                    sheet.write_string(row, column, value).map_err(fail)?;
                }
            }
        }
        sheet.set_freeze_panes(1, 0).map_err(fail)?;
        sheet.autofilter(0, 0, rows.len() as u32, HEADERS.len() as u16 - 1).map_err(fail)?;
        for (column, width) in [(0u16, 17.0), (7, 19.0), (8, 19.0), (13, 60.0), (14, 40.0)] {
            sheet.set_column_width(column, width).map_err(fail)?;
        }
    }
    workbook.save(path).map_err(|e| xlsx_error(path, e))
}
