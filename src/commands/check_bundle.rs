//! `driftwatch check-bundle DIR [--public-key FILE]`: the receiving side's check, without
//! re-running anything — the manifest's Ed25519 signature (against the key given, else the one
//! the manifest names; an unsigned manifest is said so, not an error) and every output file's
//! SHA-256. Exit 0 intact, 1 a file missing or changed or a signature that does not verify.

use std::path::Path;

use serde::Deserialize;

use super::replay::Problem;
use crate::error::{Error, Result};
use crate::evidence::signing::{self, SignerInfo, Verdict};
use crate::hashing::sha256_file;

#[derive(Deserialize)]
struct Manifest {
    outputs: Vec<Output>,
    #[serde(default)]
    signed_by: Option<SignerInfo>,
}

#[derive(Deserialize)]
struct Output {
    path: String,
    sha256: String,
}

pub struct Checked {
    pub signature: Verdict,
    pub problems: Vec<(String, Problem)>,
    pub files: usize,
}

pub fn run(dir: &Path, public_key: Option<&Path>) -> Result<Checked> {
    let manifest_path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
    let manifest: Manifest = serde_json::from_str(&text)
        .map_err(|e| Error::file(manifest_path.display(), format!("not a driftwatch manifest: {e}")))?;
    let trusted = public_key.map(signing::load_public_key).transpose()?;
    let signature = signing::check(&manifest_path, manifest.signed_by.as_ref(), trusted.as_ref())?;
    let problems = output_problems(dir, manifest.outputs.iter().map(|o| (o.path.as_str(), o.sha256.as_str())))?;
    Ok(Checked { signature, problems, files: manifest.outputs.len() })
}

/// Each listed output absent from the bundle or with other bytes than recorded.
pub fn output_problems<'a>(
    bundle: &Path,
    outputs: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<Vec<(String, Problem)>> {
    let mut problems = Vec::new();
    for (relative, sha256) in outputs {
        let path = bundle.join(relative);
        let shown = path.display().to_string();
        if !path.is_file() {
            problems.push((shown, Problem::Missing));
        } else if sha256_file(&path)? != sha256 {
            problems.push((shown, Problem::Changed));
        }
    }
    Ok(problems)
}
