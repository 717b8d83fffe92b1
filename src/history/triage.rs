//! `--triage FILE.toml`: the decisions a DPO or auditor recorded about findings, so that an
//! examined finding does not come back every month as if nobody had looked at it.
//!
//! ```toml
//! [[finding]]
//! id       = "DW-863bf07caf67"
//! decision = "accepted"            # accepted | false_positive | investigating
//! reason   = "weekly export agreed with the CNIL, ref. 2022-117"
//! by       = "dpo@example.org"
//! date     = 2022-09-01
//! until    = 2023-09-01            # optional: the decision lapses after this day
//! ```
//!
//! Accepted findings and false positives no longer count for `--fail-on` / `--fail-on-new`; an
//! investigation still does. A decision whose `until` is before the audit's date (`--as-of`,
//! else today) has expired: it is not applied and is reported, as is any entry whose id no
//! finding has. A malformed file is refused (exit 2) naming the file, the entry and the key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::finding::{Decision, Finding, Triage};

/// One entry as the file writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    decision: Decision,
    reason: String,
    by: String,
    date: toml::Value,
    #[serde(default)]
    until: Option<toml::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriageToml {
    #[serde(default)]
    finding: Vec<Entry>,
}

/// A decision as read and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub id: String,
    pub triage: Triage,
    pub until: Option<NaiveDate>,
}

/// The triage file, read and checked.
#[derive(Debug, Clone)]
pub struct TriageFile {
    pub path: PathBuf,
    pub sha256: String,
    pub entries: Vec<Decided>,
}

/// What the triage did to this audit (findings.json's `triage`, the reports' triage section).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriageReport {
    pub file: String,
    pub sha256: String,
    /// The day expiry is judged on (`--as-of`, else the day of the audit).
    pub checked_on: String,
    /// Decisions applied to a finding of this audit.
    pub applied: usize,
    /// Decisions past their `until`: not applied.
    pub expired: Vec<Expired>,
    /// Entries whose id is no finding of this audit (resolved, or mistyped).
    pub unknown_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Expired {
    pub id: String,
    pub decision: Decision,
    pub until: String,
}

impl TriageFile {
    pub fn load(path: &Path) -> Result<TriageFile> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        // toml's message names the line, the column and the key (an unknown key, a decision
        // that is none of the three, a missing field).
        let parsed: TriageToml =
            toml::from_str(&text).map_err(|e| Error::file(&shown, format!("{}", e).trim_end().replace('\n', " ")))?;
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut entries = Vec::new();
        for (index, entry) in parsed.finding.into_iter().enumerate() {
            let at = |key: &str| format!("[[finding]] #{} (id {}), key `{key}`", index + 1, entry.id);
            if let Some(first) = seen.insert(entry.id.clone(), index + 1) {
                return Err(Error::file(
                    &shown,
                    format!(
                        "{}: the id is already triaged by [[finding]] #{first}; keep one decision per finding",
                        at("id")
                    ),
                ));
            }
            for (key, value) in [("reason", &entry.reason), ("by", &entry.by), ("id", &entry.id)] {
                if value.trim().is_empty() {
                    return Err(Error::file(
                        &shown,
                        format!("{}: must not be empty (say why, and who decided)", at(key)),
                    ));
                }
            }
            let date = day(&entry.date).map_err(|why| Error::file(&shown, format!("{}: {why}", at("date"))))?;
            let until = entry
                .until
                .as_ref()
                .map(day)
                .transpose()
                .map_err(|why| Error::file(&shown, format!("{}: {why}", at("until"))))?;
            if until.is_some_and(|until| until < date) {
                return Err(Error::file(&shown, format!("{}: before the decision's date {date}", at("until"))));
            }
            entries.push(Decided {
                id: entry.id,
                triage: Triage {
                    decision: entry.decision,
                    reason: entry.reason,
                    by: entry.by,
                    date: date.to_string(),
                    until: until.map(|d| d.to_string()),
                },
                until,
            });
        }
        Ok(TriageFile { path: path.to_path_buf(), sha256: crate::hashing::sha256_bytes(text.as_bytes()), entries })
    }

    /// Puts each decision in force on its finding; reports the expired and unknown entries.
    pub fn apply(&self, findings: &mut [Finding], checked_on: NaiveDate) -> TriageReport {
        let by_id: BTreeMap<String, usize> = findings.iter().enumerate().map(|(i, f)| (f.id.clone(), i)).collect();
        let (mut applied, mut expired, mut unknown_ids) = (0, Vec::new(), Vec::new());
        for entry in &self.entries {
            let Some(&index) = by_id.get(&entry.id) else {
                unknown_ids.push(entry.id.clone());
                continue;
            };
            match entry.until {
                Some(until) if until < checked_on => expired.push(Expired {
                    id: entry.id.clone(),
                    decision: entry.triage.decision,
                    until: until.to_string(),
                }),
                _ => {
                    findings[index].triage = Some(entry.triage.clone());
                    applied += 1;
                }
            }
        }
        unknown_ids.sort();
        expired.sort_by(|a, b| a.id.cmp(&b.id));
        TriageReport {
            file: self.path.display().to_string(),
            sha256: self.sha256.clone(),
            checked_on: checked_on.to_string(),
            applied,
            expired,
            unknown_ids,
        }
    }
}

/// A TOML date (`2022-09-01`) or the same as text; a date-time (TOML's or RFC 3339 text) stands
/// for its day.
fn day(value: &toml::Value) -> std::result::Result<NaiveDate, String> {
    let text = match value {
        toml::Value::Datetime(datetime) => match datetime.date {
            Some(date) => format!("{:04}-{:02}-{:02}", date.year, date.month, date.day),
            None => return Err(format!("`{datetime}`: a time without a date")),
        },
        toml::Value::String(text) => text.clone(),
        other => return Err(format!("expected a date (2022-09-01), found {}", other.type_str())),
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(&text).map(|instant| instant.date_naive()))
        .map_err(|_| format!("`{text}`: expected a date (2022-09-01)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{FindingDraft, Severity};

    fn write(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("triage.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn finding(dataset: &str) -> Finding {
        FindingDraft { dataset: Some(dataset.into()), ..Default::default() }.finish(
            "retention_overrun",
            Severity::High,
            &[],
        )
    }

    #[test]
    fn decisions_apply_until_they_expire() {
        let (a, b) = (finding("a"), finding("b"));
        let text = format!(
            "[[finding]]\nid = \"{}\"\ndecision = \"accepted\"\nreason = \"agreed\"\nby = \"dpo\"\ndate = 2022-01-01T09:30:00Z\n\n\
             [[finding]]\nid = \"{}\"\ndecision = \"false_positive\"\nreason = \"test account\"\nby = \"dpo\"\ndate = \"2022-01-01\"\nuntil = 2022-06-30\n\n\
             [[finding]]\nid = \"DW-000000000000\"\ndecision = \"investigating\"\nreason = \"?\"\nby = \"me\"\ndate = 2022-01-01\n",
            a.id, b.id
        );
        let (_dir, path) = write(&text);
        let triage = TriageFile::load(&path).unwrap();
        let mut findings = vec![a, b];
        let report = triage.apply(&mut findings, NaiveDate::from_ymd_opt(2022, 7, 1).unwrap());
        assert_eq!(triage.entries[0].triage.date, "2022-01-01");
        assert_eq!(findings[0].triage.as_ref().unwrap().decision, Decision::Accepted);
        assert!(!findings[0].counts());
        assert!(findings[1].triage.is_none() && findings[1].counts(), "an expired decision is not applied");
        assert_eq!(report.applied, 1);
        assert_eq!(report.expired.len(), 1);
        assert_eq!(report.unknown_ids, ["DW-000000000000"]);
        // The day before it lapses, the false positive still holds.
        let mut again = findings.clone();
        triage.apply(&mut again, NaiveDate::from_ymd_opt(2022, 6, 30).unwrap());
        assert!(again[1].triage.is_some());
    }

    #[test]
    fn bad_entries_name_the_file_and_the_key() {
        let cases = [
            (
                "[[finding]]\nid = \"x\"\ndecision = \"ignored\"\nreason = \"r\"\nby = \"b\"\ndate = 2022-01-01\n",
                "decision",
            ),
            (
                "[[finding]]\nid = \"x\"\ndecision = \"accepted\"\nreason = \"r\"\nby = \"b\"\ndate = 2022-01-01\nexpires = 2023-01-01\n",
                "expires",
            ),
            ("[[finding]]\nid = \"x\"\ndecision = \"accepted\"\nreason = \"r\"\ndate = 2022-01-01\n", "by"),
            (
                "[[finding]]\nid = \"x\"\ndecision = \"accepted\"\nreason = \"r\"\nby = \"b\"\ndate = \"soon\"\n",
                "`date`",
            ),
            (
                "[[finding]]\nid = \"x\"\ndecision = \"accepted\"\nreason = \"r\"\nby = \"b\"\ndate = 2022-01-01\nuntil = 2021-01-01\n",
                "`until`",
            ),
            (
                "[[finding]]\nid = \"x\"\ndecision = \"accepted\"\nreason = \"\"\nby = \"b\"\ndate = 2022-01-01\n",
                "`reason`",
            ),
            (
                "[[finding]]\nid = \"x\"\ndecision = \"accepted\"\nreason = \"r\"\nby = \"b\"\ndate = 2022-01-01\n[[finding]]\nid = \"x\"\ndecision = \"accepted\"\nreason = \"r\"\nby = \"b\"\ndate = 2022-01-01\n",
                "already triaged",
            ),
        ];
        for (text, named) in cases {
            let (_dir, path) = write(text);
            let message = TriageFile::load(&path).unwrap_err().to_string();
            assert!(message.contains("triage.toml") && message.contains(named), "{named}: {message}");
        }
    }
}
