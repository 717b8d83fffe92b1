//! `driftwatch replay <dir>/manifest.json [--inputs-root DIR]`: proves which inputs produced
//! which outputs, on the bundle it is given — the folder holding the manifest, wherever it was
//! copied or moved. Every output file of that folder is checked against its recorded SHA-256
//! (`missing`, `changed`); every input against its own (a changed or missing input is exit 2,
//! naming the file); then the audit is re-run with the recorded parameters into a temporary
//! directory and each output compared (`not reproduced`). Exit 0 when everything matches, 1 with
//! the list of problems, 2 when the inputs or the manifest cannot be trusted.
//!
//! Input paths are recorded as the user gave them. Relative ones are resolved in the folder the
//! audit ran in: the manifest's `ran_in` (that folder seen from the bundle: `..` for a bundle
//! `o1/` made from `audits/`, so a bundle moved together with its inputs replays where it lands),
//! else, for manifests without it, the bundle's folder less the recorded `--out`; or the folder
//! `--inputs-root` names when the inputs now live elsewhere. The pseudonymisation key must
//! be the one recorded (by its id): `--key-file` as recorded, else `DRIFTWATCH_KEY`, else the
//! `.driftwatch-key` in the bundle.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::hashing::sha256_file;
use crate::pipeline::{self, AuditConfig};
use crate::report::manifest::hash_outputs;

#[derive(Deserialize)]
struct Manifest {
    parameters: AuditConfig,
    /// The folder the audit ran in, relative to the manifest's folder (absent in older manifests).
    #[serde(default)]
    ran_in: Option<String>,
    inputs: Vec<Hashed>,
    register_versions: Vec<RegisterEntry>,
    habilitations: Option<Hashed>,
    pseudonymisation: KeyEntry,
    outputs: Vec<Hashed>,
    #[serde(default)]
    signed_by: Option<crate::evidence::signing::SignerInfo>,
}

#[derive(Deserialize)]
struct Hashed {
    #[serde(alias = "file")]
    path: String,
    sha256: String,
}

#[derive(Deserialize)]
struct RegisterEntry {
    file: String,
    sha256: String,
}

#[derive(Deserialize)]
struct KeyEntry {
    key_id: String,
}

/// What is wrong with one output file of a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    /// Listed in the manifest, absent from the bundle.
    Missing,
    /// In the bundle, with other bytes than the manifest records.
    Changed,
    /// The re-run audit wrote other bytes than the manifest records.
    NotReproduced,
}

impl Problem {
    pub fn word(self) -> &'static str {
        match self {
            Problem::Missing => "missing",
            Problem::Changed => "changed",
            Problem::NotReproduced => "not reproduced",
        }
    }
}

/// Outcome: each output file with a problem (its path in the bundle), sorted.
pub fn run(manifest_path: &Path, inputs_root: Option<&Path>) -> Result<Vec<(String, Problem)>> {
    let text = std::fs::read_to_string(manifest_path).map_err(|e| Error::io(manifest_path, e))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| Error::file(manifest_path.display(), format!("not a driftwatch manifest: {e}")))?;
    let bundle = manifest_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let shown = |relative: &str| bundle.join(relative).display().to_string();
    // The bundle as received: every output present, with its recorded bytes.
    let mut problems = super::check_bundle::output_problems(
        bundle,
        manifest.outputs.iter().map(|o| (o.path.as_str(), o.sha256.as_str())),
    )?;
    // A signed manifest must still verify (with the key it names; check-bundle takes a trusted one).
    if let crate::evidence::signing::Verdict::Invalid { .. } =
        crate::evidence::signing::check(manifest_path, manifest.signed_by.as_ref(), None)?
    {
        problems.push((manifest_path.display().to_string(), Problem::Changed));
    }
    let bundle_absolute = bundle.canonicalize().map_err(|e| Error::io(bundle, e))?;
    let recorded_root = manifest.ran_in.as_ref().map(|ran_in| bundle_absolute.join(ran_in)).filter(|p| p.is_dir());
    let audit_root = match (inputs_root, recorded_root) {
        (Some(root), _) => root.canonicalize().map_err(|e| Error::io(root, e))?,
        (None, Some(recorded)) => recorded.canonicalize().map_err(|e| Error::io(&recorded, e))?,
        (None, None) => folder_the_audit_ran_in(&bundle_absolute, &manifest.parameters.out)?,
    };
    let key_beside = bundle_absolute.join(crate::pseudonym::KEY_FILE_NAME);
    let here = std::env::current_dir().map_err(|e| Error::io(Path::new("."), e))?;
    std::env::set_current_dir(&audit_root).map_err(|e| Error::io(&audit_root, e))?;
    let replayed = rerun(manifest, &key_beside, inputs_root.is_some(), &audit_root);
    std::env::set_current_dir(&here).map_err(|e| Error::io(&here, e))?;
    problems.extend(replayed?.into_iter().map(|relative| (shown(&relative), Problem::NotReproduced)));
    problems.sort();
    problems.dedup();
    Ok(problems)
}

/// The folder the audit ran in, from the bundle's place and the recorded `--out`: the bundle's
/// folder less as many levels as `--out` had (`o1` → its parent); the current folder when `--out`
/// was absolute or climbed (`..`).
fn folder_the_audit_ran_in(bundle: &Path, recorded_out: &Path) -> Result<PathBuf> {
    use std::path::Component;
    let levels = recorded_out.components().filter(|c| !matches!(c, Component::CurDir)).count();
    let plain = recorded_out.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    match (plain, bundle.ancestors().nth(levels)) {
        (true, Some(folder)) if levels > 0 => Ok(folder.to_path_buf()),
        _ => std::env::current_dir().map_err(|e| Error::io(Path::new("."), e)),
    }
}

/// Checks the inputs and re-runs the audit (in the folder it ran in); returns the outputs whose
/// replayed bytes differ from the recorded ones (paths relative to the bundle).
fn rerun(manifest: Manifest, key_beside: &Path, root_given: bool, audit_root: &Path) -> Result<Vec<String>> {
    let recorded = manifest
        .inputs
        .iter()
        .chain(manifest.habilitations.iter())
        .map(|h| (h.path.as_str(), h.sha256.as_str()))
        .chain(manifest.register_versions.iter().map(|r| (r.file.as_str(), r.sha256.as_str())));
    for (path, sha256) in recorded {
        if !Path::new(path).is_file() {
            let hint = if root_given {
                ""
            } else {
                ": if the inputs now live elsewhere, name the folder the audit ran in with --inputs-root"
            };
            return Err(Error::file(path, format!("not found (looked from {}){hint}", audit_root.display())));
        }
        let now = sha256_file(Path::new(path))?;
        if now != sha256 {
            return Err(Error::file(path, format!("changed since the audit: SHA-256 {now}, recorded {sha256}")));
        }
    }
    let temporary = std::env::temp_dir().join(format!("driftwatch-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&temporary);
    let mut config = manifest.parameters;
    if config.key_file.is_none() && std::env::var_os(crate::pseudonym::KEY_ENV).is_none() && key_beside.is_file() {
        config.key_file = Some(key_beside.to_path_buf());
    }
    config.out = temporary.clone();
    config.quiet = true;
    let key_id = crate::pseudonym::load_key(config.key_file.as_deref(), &temporary)?.1.key_id;
    if key_id != manifest.pseudonymisation.key_id {
        let _ = std::fs::remove_dir_all(&temporary);
        return Err(Error::Usage(format!(
            "the pseudonymisation key here (id {key_id}) is not the one recorded (id {}): give it with DRIFTWATCH_KEY or put it in the bundle",
            manifest.pseudonymisation.key_id
        )));
    }
    let result = pipeline::audit(&config);
    let differing = result.map(|_| {
        let recorded: BTreeMap<&str, &str> =
            manifest.outputs.iter().map(|o| (o.path.as_str(), o.sha256.as_str())).collect();
        let files: Vec<PathBuf> = manifest.outputs.iter().map(|o| PathBuf::from(&o.path)).collect();
        match hash_outputs(&temporary, &files) {
            Ok(hashes) => hashes
                .into_iter()
                .filter(|h| recorded.get(h.path.as_str()) != Some(&h.sha256.as_str()))
                .map(|h| h.path)
                .collect(),
            Err(_) => manifest.outputs.iter().map(|o| o.path.clone()).collect(),
        }
    });
    let _ = std::fs::remove_dir_all(&temporary);
    differing
}
