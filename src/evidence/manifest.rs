//! `manifest.json`: which tool, which parameters, which inputs (SHA-256) produced which outputs
//! (SHA-256). Paths are written as the user gave them, never made absolute, so a manifest can be
//! replayed on another machine.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::report::RunSummary;

#[derive(Debug, Serialize)]
pub struct OutputHash {
    /// Relative to the output directory.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
}

#[derive(Serialize)]
struct Manifest<'a, P: Serialize> {
    tool: crate::report::tables::Tool,
    command: &'static str,
    /// Wall-clock time of the run: the only value in any output that changes between runs.
    generated_at: String,
    parameters: &'a P,
    inputs: &'a [crate::ingest::FileReport],
    /// The source maps that read the inputs (when any), with their SHA-256.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    source_maps: &'a [crate::ingest::source_map::MapSummary],
    register_versions: &'a [crate::register::VersionSummary],
    habilitations: &'a Option<crate::report::HabilitationSummary>,
    /// Which pseudonymisation key was used (its id, never the key).
    pseudonymisation: &'a crate::pseudonym::KeyInfo,
    /// The Ed25519 key that signs this manifest (`manifest.json.sig`), when signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    signed_by: Option<&'a super::signing::SignerInfo>,
    rows: Rows,
    outputs: Vec<OutputHash>,
}

#[derive(Serialize)]
struct Rows {
    read: u64,
    used: u64,
    quarantined: u64,
    judged: u64,
    outside_window: u64,
    findings: usize,
}

pub fn hash_outputs(out: &Path, files: &[PathBuf]) -> Result<Vec<OutputHash>> {
    files
        .iter()
        .map(|relative| {
            let path = out.join(relative);
            let bytes = std::fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len();
            Ok(OutputHash {
                path: relative.to_string_lossy().replace('\\', "/"),
                sha256: super::sha256_file(&path)?,
                bytes,
            })
        })
        .collect()
}

pub fn write<P: Serialize>(
    out: &Path,
    parameters: &P,
    summary: &RunSummary,
    source_maps: &[crate::ingest::source_map::MapSummary],
    key: &crate::pseudonym::KeyInfo,
    signer: Option<&super::signing::SignerInfo>,
    outputs: &[PathBuf],
) -> Result<()> {
    let manifest = Manifest {
        tool: crate::report::tables::tool(),
        command: "audit",
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        parameters,
        inputs: &summary.files,
        source_maps,
        register_versions: &summary.register_versions,
        habilitations: &summary.habilitations,
        pseudonymisation: key,
        signed_by: signer,
        rows: Rows {
            read: summary.rows_read,
            used: summary.rows_used,
            quarantined: summary.rows_quarantined,
            judged: summary.events_judged,
            outside_window: summary.events_outside_window,
            findings: summary.findings,
        },
        outputs: hash_outputs(out, outputs)?,
    };
    let path = out.join("manifest.json");
    let mut text = serde_json::to_string_pretty(&manifest).expect("manifest serialises");
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
}
