//! `--baseline`: the previous audit's findings, read back from its `findings.json` (the folder
//! holding it, or the file), so that this audit says which findings are new, which go on, and
//! which stopped. Findings are matched by id: ids hash the detector and the subject (and the
//! pseudonymisation key), never the audit window, so a drift that goes on keeps its id as the
//! log grows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::finding::{Finding, Severity, Status};

/// A finding of a previous audit, as its findings.json wrote it (the fields a comparison and a
/// report need; the others are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Previous {
    pub id: String,
    pub detector: String,
    pub severity: Severity,
    #[serde(default)]
    pub dataset: Option<String>,
    #[serde(default)]
    pub recipient: Option<String>,
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub first_seen: Option<String>,
    #[serde(default)]
    pub last_seen: Option<String>,
    #[serde(default)]
    pub events: u64,
    #[serde(default)]
    pub summary: String,
}

/// A previous audit: its findings and what identifies it.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Its findings.json.
    pub findings_file: PathBuf,
    pub findings_sha256: String,
    /// Its manifest.json, when it lies beside the findings.
    pub manifest_sha256: Option<String>,
    /// The pseudonymisation key id and whether identities were revealed, from its manifest.
    pub key_id: Option<String>,
    pub revealed: Option<bool>,
    pub findings: Vec<Previous>,
}

#[derive(Deserialize)]
struct FindingsFile {
    findings: Vec<Previous>,
}

#[derive(Deserialize)]
struct ManifestFile {
    #[serde(default)]
    parameters: Option<ManifestParameters>,
    #[serde(default)]
    pseudonymisation: Option<KeyRecord>,
}

#[derive(Deserialize)]
struct ManifestParameters {
    #[serde(default)]
    reveal_identities: Option<bool>,
}

#[derive(Deserialize)]
struct KeyRecord {
    key_id: String,
}

impl Baseline {
    /// Reads `path`: an audit's output folder (its findings.json and manifest.json) or a
    /// findings.json itself.
    pub fn load(path: &Path) -> Result<Baseline> {
        let findings_file = if path.is_dir() { path.join("findings.json") } else { path.to_path_buf() };
        if !findings_file.is_file() {
            return Err(Error::Usage(format!(
                "--baseline {}: no findings.json there; give the previous audit's output folder or its findings.json",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(&findings_file).map_err(|e| Error::io(&findings_file, e))?;
        let parsed: FindingsFile = serde_json::from_str(&text).map_err(|e| {
            Error::file(
                findings_file.display(),
                format!("line {}, column {}: not a driftwatch findings.json ({e})", e.line(), e.column()),
            )
        })?;
        let manifest_path = findings_file.with_file_name("manifest.json");
        let (manifest_sha256, key_id, revealed) = if manifest_path.is_file() {
            let text = std::fs::read_to_string(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
            let manifest: ManifestFile = serde_json::from_str(&text).map_err(|e| {
                Error::file(manifest_path.display(), format!("line {}, column {}: {e}", e.line(), e.column()))
            })?;
            (
                Some(crate::hashing::sha256_bytes(text.as_bytes())),
                manifest.pseudonymisation.map(|k| k.key_id),
                manifest.parameters.and_then(|p| p.reveal_identities),
            )
        } else {
            (None, None, None)
        };
        Ok(Baseline {
            findings_sha256: crate::hashing::sha256_bytes(text.as_bytes()),
            findings_file,
            manifest_sha256,
            key_id,
            revealed,
            findings: parsed.findings,
        })
    }

    /// The folder the previous audit wrote (where its pseudonymisation key may lie).
    pub fn folder(&self) -> &Path {
        self.findings_file.parent().unwrap_or(Path::new("."))
    }

    /// Refuses a comparison whose ids cannot match: another pseudonymisation key, or
    /// identities revealed in one audit and not in the other.
    pub fn check_comparable(&self, key_id: &str, revealed: bool) -> Result<()> {
        let shown = self.findings_file.display();
        if let Some(before) = self.revealed
            && before != revealed
        {
            return Err(Error::Usage(format!(
                "--baseline {shown}: the previous audit {} --reveal-identities and this one {}: the ids of findings about agents differ; run both the same way",
                if before { "used" } else { "did not use" },
                if revealed { "does" } else { "does not" }
            )));
        }
        if !revealed
            && let Some(before) = &self.key_id
            && before != key_id
        {
            return Err(Error::Usage(format!(
                "--baseline {shown}: the previous audit pseudonymised with key {before}, this one with key {key_id}: no id would match. Pass the same --key-file (or DRIFTWATCH_KEY), or leave both unset to reuse the key kept in the previous audit's folder"
            )));
        }
        Ok(())
    }
}

/// Marks each finding new or ongoing (and its previous severity when it changed); returns the
/// previous findings that are gone, most severe first.
pub fn compare(findings: &mut [Finding], baseline: &Baseline) -> Vec<Previous> {
    let before: BTreeMap<&str, &Previous> = baseline.findings.iter().map(|p| (p.id.as_str(), p)).collect();
    for finding in findings.iter_mut() {
        match before.get(finding.id.as_str()) {
            Some(previous) => {
                finding.status = Some(Status::Ongoing);
                finding.previous_severity = (previous.severity != finding.severity).then_some(previous.severity);
            }
            None => finding.status = Some(Status::New),
        }
    }
    let now: std::collections::HashSet<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    let mut resolved: Vec<Previous> =
        baseline.findings.iter().filter(|p| !now.contains(p.id.as_str())).cloned().collect();
    resolved.sort_by(|a, b| (a.severity, &a.detector, &a.id).cmp(&(b.severity, &b.detector, &b.id)));
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::FindingDraft;

    fn finding(dataset: &str, severity: Severity) -> Finding {
        FindingDraft { dataset: Some(dataset.into()), ..Default::default() }.finish("retention_overrun", severity, &[])
    }

    fn previous(finding: &Finding, severity: Severity) -> Previous {
        Previous {
            id: finding.id.clone(),
            detector: finding.detector.to_string(),
            severity,
            dataset: finding.dataset.clone(),
            recipient: None,
            actor: None,
            target: None,
            purpose: None,
            first_seen: None,
            last_seen: None,
            events: 1,
            summary: String::new(),
        }
    }

    #[test]
    fn findings_are_new_ongoing_or_resolved() {
        let (kept, gone) = (finding("kept", Severity::High), finding("gone", Severity::Low));
        let baseline = Baseline {
            findings_file: PathBuf::from("a/findings.json"),
            findings_sha256: String::new(),
            manifest_sha256: None,
            key_id: None,
            revealed: None,
            findings: vec![previous(&kept, Severity::Medium), previous(&gone, Severity::Low)],
        };
        let mut now = vec![kept.clone(), finding("fresh", Severity::Medium)];
        let resolved = compare(&mut now, &baseline);
        assert_eq!(now[0].status, Some(Status::Ongoing));
        assert_eq!(now[0].previous_severity, Some(Severity::Medium));
        assert!(now[0].escalated());
        assert_eq!(now[1].status, Some(Status::New));
        assert_eq!(resolved.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), [gone.id.as_str()]);
    }

    #[test]
    fn ids_from_another_key_or_mode_are_refused() {
        let baseline = Baseline {
            findings_file: PathBuf::from("a/findings.json"),
            findings_sha256: String::new(),
            manifest_sha256: None,
            key_id: Some("k1".into()),
            revealed: Some(false),
            findings: vec![],
        };
        assert!(baseline.check_comparable("k1", false).is_ok());
        assert!(baseline.check_comparable("k2", false).unwrap_err().to_string().contains("key k1"));
        assert!(baseline.check_comparable("k1", true).unwrap_err().to_string().contains("--reveal-identities"));
    }
}
