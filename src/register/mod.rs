//! The declared side: register versions (TOML) and habilitations, loaded and validated.
//!
//! Every register file is one version of one processing's declaration, in force on
//! `[in_force_from, in_force_until)`. An event belongs to the processing that declares its
//! dataset and is judged against the version in force at its timestamp (`versions.rs`).

pub mod categories;
pub mod habilitations;
pub mod model;
pub mod versions;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::{Error, Result};
pub use model::{Mode, Monitoring, Purpose, Recipient, RegisterFile};

/// Register files larger than this are refused: a declaration is a few kilobytes.
const MAX_REGISTER_BYTES: u64 = 4 << 20;

/// One loaded, validated version of a processing's declaration.
#[derive(Debug, Clone)]
pub struct RegisterVersion {
    /// Position in [`RegisterSet::versions`]; what the event frame's `register_version` holds.
    pub index: usize,
    /// `processing@in_force_from`, unique within a run.
    pub id: String,
    pub file: String,
    pub sha256: String,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
    pub recorded_at: Option<NaiveDate>,
    pub doc: RegisterFile,
}

/// What the run summary and the manifest say about a version.
#[derive(Debug, Clone, Serialize)]
pub struct VersionSummary {
    pub id: String,
    pub processing: String,
    pub file: String,
    pub sha256: String,
    pub in_force_from: String,
    pub in_force_until: Option<String>,
}

impl RegisterVersion {
    pub fn processing(&self) -> &str {
        &self.doc.processing
    }

    pub fn legal_ref(&self) -> String {
        self.doc.legal_ref.clone().unwrap_or_else(|| format!("register {}", self.id))
    }

    pub fn declares_dataset(&self, dataset: &str) -> bool {
        self.doc.datasets.iter().any(|d| d.id == dataset)
    }

    /// The `[[recipient]]` entry for (recipient, dataset), if declared.
    pub fn recipient_entry(&self, recipient: &str, dataset: &str) -> Option<&Recipient> {
        self.doc.recipients.iter().find(|r| r.id == recipient && r.datasets.iter().any(|d| d == dataset))
    }

    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.doc.purposes.iter().find(|p| p.id == id)
    }

    pub fn purposes_for_dataset<'a>(&'a self, dataset: &'a str) -> impl Iterator<Item = &'a Purpose> + 'a {
        self.doc.purposes.iter().filter(move |p| p.datasets.iter().any(|d| d == dataset))
    }

    pub fn summary(&self) -> VersionSummary {
        VersionSummary {
            id: self.id.clone(),
            processing: self.doc.processing.clone(),
            file: self.file.clone(),
            sha256: self.sha256.clone(),
            in_force_from: self.from.to_string(),
            in_force_until: self.until.map(|d| d.to_string()),
        }
    }
}

/// Every version of every processing, sorted by (processing, in_force_from).
#[derive(Debug, Clone, Default)]
pub struct RegisterSet {
    pub versions: Vec<RegisterVersion>,
}

impl RegisterSet {
    pub fn get(&self, index: usize) -> &RegisterVersion {
        &self.versions[index]
    }

    /// Versions of one processing, in time order.
    pub fn processing_versions<'a>(&'a self, processing: &'a str) -> impl Iterator<Item = &'a RegisterVersion> + 'a {
        self.versions.iter().filter(move |v| v.processing() == processing)
    }

    /// Only the versions known by `date` (`recorded_at`, or `in_force_from` when a file does not
    /// say), re-indexed.
    pub fn known_at(self, date: NaiveDate) -> RegisterSet {
        let mut versions: Vec<RegisterVersion> =
            self.versions.into_iter().filter(|v| v.recorded_at.unwrap_or(v.from) <= date).collect();
        for (index, version) in versions.iter_mut().enumerate() {
            version.index = index;
        }
        RegisterSet { versions }
    }

    /// The processing that declares `dataset` in any version.
    pub fn processing_of(&self, dataset: &str) -> Option<&str> {
        self.versions.iter().find(|v| v.declares_dataset(dataset)).map(|v| v.processing())
    }
}

/// Expands `--register` arguments (files, or directories of `.toml` files), sorted.
pub fn discover(arguments: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for argument in arguments {
        if argument.is_dir() {
            let entries = std::fs::read_dir(argument).map_err(|e| Error::io(argument, e))?;
            for entry in entries {
                let path = entry.map_err(|e| Error::io(argument, e))?.path();
                if path.extension().is_some_and(|e| e == "toml") {
                    files.push(path);
                }
            }
        } else if argument.is_file() {
            files.push(argument.clone());
        } else {
            return Err(Error::file(argument.display(), "register file not found"));
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(Error::Usage("no register file (.toml) given; see `driftwatch schema register`".into()));
    }
    Ok(files)
}

/// Loads and validates every register file; versions of one processing must not overlap.
pub fn load(files: &[PathBuf]) -> Result<RegisterSet> {
    let mut versions = Vec::with_capacity(files.len());
    for file in files {
        versions.push(load_version(file)?);
    }
    versions.sort_by(|a, b| (a.processing(), a.from).cmp(&(b.processing(), b.from)));
    check_overlaps(&versions)?;
    check_dataset_owners(&versions)?;
    for (index, version) in versions.iter_mut().enumerate() {
        version.index = index;
    }
    Ok(RegisterSet { versions })
}

fn load_version(path: &Path) -> Result<RegisterVersion> {
    let file = path.display().to_string();
    let size = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len();
    if size > MAX_REGISTER_BYTES {
        return Err(Error::file(&file, format!("register file is {size} bytes; the limit is {MAX_REGISTER_BYTES}")));
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let doc: RegisterFile = toml::from_str(&text).map_err(|e| Error::Register {
        file: file.clone(),
        key: e.span().map(|s| key_at(&text, s.start)).unwrap_or_else(|| "(document)".into()),
        message: e.message().to_string(),
    })?;
    let date = |key: &str, value: &model::DateValue| {
        value.to_date().map_err(|message| Error::Register { file: file.clone(), key: key.into(), message })
    };
    let from = date("in_force_from", &doc.in_force_from)?;
    let until = doc.in_force_until.as_ref().map(|v| date("in_force_until", v)).transpose()?;
    let recorded_at = doc.recorded_at.as_ref().map(|v| date("recorded_at", v)).transpose()?;
    if until.is_some_and(|until| until <= from) {
        return Err(Error::Register {
            file,
            key: "in_force_until".into(),
            message: format!("must be after in_force_from ({from})"),
        });
    }
    validate(&doc, &file)?;
    Ok(RegisterVersion {
        index: 0,
        id: format!("{}@{}", doc.processing, from),
        sha256: crate::hashing::sha256_bytes(text.as_bytes()),
        file,
        from,
        until,
        recorded_at,
        doc,
    })
}

/// "line 12 (`mode`)": where a TOML error sits, for the error message.
fn key_at(text: &str, offset: usize) -> String {
    let line = text[..offset.min(text.len())].matches('\n').count() + 1;
    let line_text = text.lines().nth(line - 1).unwrap_or("");
    let key = line_text.split('=').next().unwrap_or("").trim();
    if key.is_empty() || key.starts_with('[') { format!("line {line}") } else { format!("{key} (line {line})") }
}

fn validate(doc: &RegisterFile, file: &str) -> Result<()> {
    let error = |key: String, message: String| Error::Register { file: file.to_string(), key, message };
    if doc.processing.trim().is_empty() {
        return Err(error("processing".into(), "must not be empty".into()));
    }
    let unique = |kind: &str, ids: Vec<&String>| -> Result<BTreeSet<String>> {
        let mut seen = BTreeSet::new();
        for id in ids {
            if id.trim().is_empty() {
                return Err(error(format!("{kind}.id"), "must not be empty".into()));
            }
            if !seen.insert(id.clone()) {
                return Err(error(format!("{kind}.id = \"{id}\""), format!("duplicate {kind} id")));
            }
        }
        Ok(seen)
    };
    let datasets = unique("dataset", doc.datasets.iter().map(|d| &d.id).collect())?;
    let roles = unique("role", doc.roles.iter().map(|r| &r.id).collect())?;
    unique("purpose", doc.purposes.iter().map(|p| &p.id).collect())?;
    let known = |kind: &str, owner: String, names: &[String], declared: &BTreeSet<String>| -> Result<()> {
        for name in names {
            if !declared.contains(name) {
                let list = declared.iter().cloned().collect::<Vec<_>>().join(", ");
                return Err(error(owner, format!("names unknown {kind} `{name}` (declared: {list})")));
            }
        }
        Ok(())
    };
    for purpose in &doc.purposes {
        let owner = |field: &str| format!("purpose \"{}\".{field}", purpose.id);
        if purpose.datasets.is_empty() {
            return Err(error(owner("datasets"), "must name at least one dataset".into()));
        }
        known("dataset", owner("datasets"), &purpose.datasets, &datasets)?;
        known("role", owner("roles"), &purpose.roles, &roles)?;
    }
    let mut pairs = BTreeSet::new();
    for recipient in &doc.recipients {
        let owner = format!("recipient \"{}\".datasets", recipient.id);
        known("dataset", owner.clone(), &recipient.datasets, &datasets)?;
        for dataset in &recipient.datasets {
            if !pairs.insert((recipient.id.clone(), dataset.clone())) {
                return Err(error(
                    owner,
                    format!("(recipient `{}`, dataset `{dataset}`) is declared twice", recipient.id),
                ));
            }
        }
    }
    Ok(())
}

fn check_overlaps(versions: &[RegisterVersion]) -> Result<()> {
    for pair in versions.windows(2) {
        let (earlier, later) = (&pair[0], &pair[1]);
        if earlier.processing() != later.processing() {
            continue;
        }
        let earlier_end = earlier.until;
        if earlier_end.is_none_or(|end| end > later.from) {
            return Err(Error::Register {
                file: later.file.clone(),
                key: "in_force_from".into(),
                message: format!(
                    "version from {} overlaps the version in {} (in force {} to {}); versions of processing `{}` must not overlap",
                    later.from,
                    earlier.file,
                    earlier.from,
                    earlier_end.map(|d| d.to_string()).unwrap_or_else(|| "open end".into()),
                    later.processing()
                ),
            });
        }
    }
    Ok(())
}

/// A dataset id belongs to one processing, or events could not be attributed to a register.
fn check_dataset_owners(versions: &[RegisterVersion]) -> Result<()> {
    let mut owners: BTreeMap<&str, &RegisterVersion> = BTreeMap::new();
    for version in versions {
        for dataset in &version.doc.datasets {
            if let Some(owner) = owners.get(dataset.id.as_str())
                && owner.processing() != version.processing()
            {
                return Err(Error::Register {
                    file: version.file.clone(),
                    key: format!("dataset.id = \"{}\"", dataset.id),
                    message: format!(
                        "dataset is already declared by processing `{}` in {}; a dataset belongs to one processing",
                        owner.processing(),
                        owner.file
                    ),
                });
            }
            owners.entry(&dataset.id).or_insert(version);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIKIT: &str = r#"
processing    = "wikit"
in_force_from = "2015-10-06"
legal_ref     = "CNIL deliberation of 2015-10-06"

[[dataset]]
id = "follow_ups"
retention_days = 1825

[[role]]
id = "agent"

[[purpose]]
id = "inspection"
datasets = ["follow_ups"]
roles = ["agent"]
categories = ["identity"]

[[recipient]]
id = "prefecture_work_permits"
datasets = ["follow_ups"]
categories = ["declared_activity"]
mode = "on_request"
"#;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn load_error(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "reg.toml", text);
        load(&[path]).err().expect("should fail").to_string()
    }

    #[test]
    fn the_contract_example_loads() {
        let dir = tempfile::tempdir().unwrap();
        let set = load(&[write(dir.path(), "w.toml", WIKIT)]).unwrap();
        let version = set.get(0);
        assert_eq!(version.id, "wikit@2015-10-06");
        assert!(version.recipient_entry("prefecture_work_permits", "follow_ups").is_some());
        assert_eq!(version.recipient_entry("prefecture_work_permits", "follow_ups").unwrap().mode, Mode::OnRequest);
        assert_eq!(set.processing_of("follow_ups"), Some("wikit"));
    }

    #[test]
    fn errors_name_the_file_and_the_key() {
        let unknown_dataset =
            load_error(&WIKIT.replace("datasets = [\"follow_ups\"]\nroles", "datasets = [\"folow_ups\"]\nroles"));
        assert!(unknown_dataset.contains("reg.toml"), "{unknown_dataset}");
        assert!(
            unknown_dataset.contains("purpose \"inspection\".datasets") && unknown_dataset.contains("folow_ups"),
            "{unknown_dataset}"
        );

        let unknown_role = load_error(&WIKIT.replace("roles = [\"agent\"]", "roles = [\"boss\"]"));
        assert!(unknown_role.contains("purpose \"inspection\".roles"), "{unknown_role}");

        let duplicate = load_error(&format!("{WIKIT}\n[[dataset]]\nid = \"follow_ups\"\n"));
        assert!(duplicate.contains("dataset.id = \"follow_ups\"") && duplicate.contains("duplicate"), "{duplicate}");

        let bad_mode = load_error(&WIKIT.replace("on_request", "sometimes"));
        assert!(bad_mode.contains("reg.toml") && bad_mode.contains("on_request"), "{bad_mode}");

        let bad_date = load_error(&WIKIT.replace("2015-10-06\"\nlegal", "06/10/2015\"\nlegal"));
        assert!(bad_date.contains("in_force_from") && bad_date.contains("06/10/2015"), "{bad_date}");

        let typo = load_error(&WIKIT.replace("categories = [\"identity\"]", "catgories = [\"identity\"]"));
        assert!(typo.contains("catgories"), "{typo}");

        let twice = load_error(&format!(
            "{WIKIT}\n[[recipient]]\nid = \"prefecture_work_permits\"\ndatasets = [\"follow_ups\"]\nmode = \"scheduled\"\n"
        ));
        assert!(twice.contains("declared twice"), "{twice}");
    }

    #[test]
    fn overlapping_versions_name_both_files() {
        let dir = tempfile::tempdir().unwrap();
        let first = write(
            dir.path(),
            "v1.toml",
            &WIKIT.replace("legal_ref     =", "in_force_until = \"2022-03-01\"\nlegal_ref ="),
        );
        let second = write(dir.path(), "v2.toml", &WIKIT.replace("2015-10-06\"\nlegal", "2022-01-01\"\nlegal"));
        let error = load(&[first.clone(), second.clone()]).err().unwrap().to_string();
        assert!(error.contains("v1.toml") && error.contains("v2.toml") && error.contains("overlaps"), "{error}");

        let third = write(dir.path(), "v3.toml", &WIKIT.replace("2015-10-06\"\nlegal", "2022-03-01\"\nlegal"));
        let set = load(&[third, first]).unwrap();
        assert_eq!(set.versions.len(), 2);
        assert_eq!(set.get(0).id, "wikit@2015-10-06");
    }
}
