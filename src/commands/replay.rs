//! `driftwatch replay <dir>/manifest.json`: proves which inputs produced which outputs. Checks
//! that every input still has its recorded SHA-256 (naming the first changed file otherwise,
//! exit 2), re-runs the audit with the recorded parameters into a temporary directory, and
//! compares every output's hash: exit 0 when all match, 1 with the list of differing files.
//!
//! Paths in a manifest are as the user gave them: run `replay` from the directory the audit ran
//! in. The pseudonymisation key must be the one recorded (by its id): `--key-file` as recorded,
//! else `DRIFTWATCH_KEY`, else the `.driftwatch-key` beside the manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::evidence::{manifest::hash_outputs, sha256_file};
use crate::pipeline::{self, AuditConfig};

#[derive(Deserialize)]
struct Manifest {
    parameters: AuditConfig,
    inputs: Vec<Hashed>,
    register_versions: Vec<RegisterEntry>,
    habilitations: Option<Hashed>,
    pseudonymisation: KeyEntry,
    outputs: Vec<Hashed>,
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

/// Outcome: the output files whose bytes differ from the recorded ones.
pub fn run(manifest_path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(manifest_path).map_err(|e| Error::io(manifest_path, e))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| Error::file(manifest_path.display(), format!("not a driftwatch manifest: {e}")))?;
    let recorded = manifest
        .inputs
        .iter()
        .chain(manifest.habilitations.iter())
        .map(|h| (h.path.as_str(), h.sha256.as_str()))
        .chain(manifest.register_versions.iter().map(|r| (r.file.as_str(), r.sha256.as_str())));
    for (path, sha256) in recorded {
        let now = sha256_file(Path::new(path))?;
        if now != sha256 {
            return Err(Error::file(path, format!("changed since the audit: SHA-256 {now}, recorded {sha256}")));
        }
    }
    let temporary = std::env::temp_dir().join(format!("driftwatch-replay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&temporary);
    let mut config = manifest.parameters;
    let original_out = config.out.clone();
    if config.key_file.is_none() && std::env::var_os(crate::pseudonym::KEY_ENV).is_none() {
        let beside = manifest_path.parent().unwrap_or(Path::new(".")).join(crate::pseudonym::KEY_FILE_NAME);
        if beside.is_file() {
            config.key_file = Some(beside);
        }
    }
    config.out = temporary.clone();
    config.quiet = true;
    let key_id = crate::pseudonym::load_key(config.key_file.as_deref(), &temporary)?.1.key_id;
    if key_id != manifest.pseudonymisation.key_id {
        let _ = std::fs::remove_dir_all(&temporary);
        return Err(Error::Usage(format!(
            "the pseudonymisation key here (id {key_id}) is not the one recorded (id {}): give it with DRIFTWATCH_KEY or put it beside the manifest",
            manifest.pseudonymisation.key_id
        )));
    }
    let result = pipeline::audit(&config);
    let differing = result.and_then(|_| {
        let recorded: BTreeMap<&str, &str> =
            manifest.outputs.iter().map(|o| (o.path.as_str(), o.sha256.as_str())).collect();
        let files: Vec<PathBuf> = manifest.outputs.iter().map(|o| PathBuf::from(&o.path)).collect();
        let replayed = hash_outputs(&temporary, &files);
        Ok(match replayed {
            Ok(hashes) => hashes
                .into_iter()
                .filter(|h| recorded.get(h.path.as_str()) != Some(&h.sha256.as_str()))
                .map(|h| original_out.join(&h.path).display().to_string())
                .collect(),
            Err(_) => manifest.outputs.iter().map(|o| original_out.join(&o.path).display().to_string()).collect(),
        })
    });
    let _ = std::fs::remove_dir_all(&temporary);
    let differing: Vec<String> = differing?;
    // An output edited after the audit differs from the manifest even if the replay matches it.
    let mut edited: Vec<String> = manifest
        .outputs
        .iter()
        .filter(|o| sha256_file(&original_out.join(&o.path)).map_or(true, |now| now != o.sha256))
        .map(|o| original_out.join(&o.path).display().to_string())
        .collect();
    edited.extend(differing);
    edited.sort();
    edited.dedup();
    Ok(edited)
}
