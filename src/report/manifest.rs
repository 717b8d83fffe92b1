//! `manifest.json`: which tool, which parameters, which inputs (SHA-256) produced which outputs
//! (SHA-256). Paths are written as the user gave them, never made absolute, so a manifest can be
//! replayed on another machine; each input also says where it lies seen from the manifest's
//! folder (`from_manifest`), and `ran_in` names the folder the audit ran in the same way, so a
//! bundle copied or moved together with its inputs replays where it lands.

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
    /// The folder the audit ran in (where the relative paths given start), relative to the
    /// manifest's folder; absent when the two share nothing but the filesystem's root.
    #[serde(skip_serializing_if = "Option::is_none")]
    ran_in: Option<String>,
    inputs: Vec<Placed<'a, crate::ingest::FileReport>>,
    /// The source maps that read the inputs (when any), with their SHA-256.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    source_maps: Vec<Placed<'a, crate::ingest::source_map::MapSummary>>,
    register_versions: Vec<Placed<'a, crate::register::VersionSummary>>,
    habilitations: Option<Placed<'a, crate::report::HabilitationSummary>>,
    /// The previous audit this one was compared with (`--baseline`): its findings' and its
    /// manifest's SHA-256, so that a series of monthly audits chains.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<Placed<'a, crate::report::BaselineRecord>>,
    /// The triage file (`--triage`): path, SHA-256 and the day expiry was checked on.
    #[serde(skip_serializing_if = "Option::is_none")]
    triage: Option<TriageRecord<'a>>,
    /// Which pseudonymisation key was used (its id, never the key).
    pseudonymisation: &'a crate::pseudonym::KeyInfo,
    /// The Ed25519 key that signs this manifest (`manifest.json.sig`), when signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    signed_by: Option<&'a crate::evidence::signing::SignerInfo>,
    rows: Rows,
    outputs: Vec<OutputHash>,
}

/// A file the audit read, with its path seen from the manifest's folder beside the one given.
#[derive(Serialize)]
struct Placed<'a, T: Serialize> {
    #[serde(flatten)]
    entry: &'a T,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_manifest: Option<String>,
}

/// Where paths lie seen from the bundle (the folder the manifest is written to).
struct Bundle {
    /// The bundle's folder, absolute and without symbolic links.
    folder: PathBuf,
    /// The folder the audit runs in (relative paths given start there).
    working: PathBuf,
}

impl Bundle {
    fn new(out: &Path) -> Result<Bundle> {
        let folder = out.canonicalize().map_err(|e| Error::io(out, e))?;
        let working = std::env::current_dir().map_err(|e| Error::io(Path::new("."), e))?;
        Ok(Bundle { folder, working })
    }

    /// `path` (as given: relative to the working folder, or absolute) relative to the bundle's
    /// folder, with `/` separators; None when it does not exist or the only folder the two
    /// share is the filesystem's root (an input on another disk or tree: only as given).
    fn relative(&self, path: &Path) -> Option<String> {
        let absolute = self.working.join(path).canonicalize().ok()?;
        let relative = pathdiff::diff_paths(&absolute, &self.folder)?;
        let climbs = relative.components().take_while(|c| matches!(c, std::path::Component::ParentDir)).count();
        let below_root = self.folder.components().filter(|c| matches!(c, std::path::Component::Normal(_))).count();
        if climbs >= below_root {
            return None;
        }
        let text = relative.to_string_lossy().replace('\\', "/");
        Some(if text.is_empty() { ".".to_string() } else { text })
    }

    fn place<'a, T: Serialize>(&self, entry: &'a T, path: &str) -> Placed<'a, T> {
        Placed { entry, from_manifest: self.relative(Path::new(path)) }
    }
}

#[derive(Serialize)]
struct TriageRecord<'a> {
    file: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    from_manifest: Option<String>,
    sha256: &'a str,
    checked_on: &'a str,
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
                sha256: crate::hashing::sha256_file(&path)?,
                bytes,
            })
        })
        .collect()
}

/// Writes `manifest.json` into `staging`, a folder inside `out` (the bundle) whose files are
/// then moved into `out`: paths are placed from `out`.
#[allow(clippy::too_many_arguments)]
pub fn write<P: Serialize>(
    out: &Path,
    staging: &Path,
    parameters: &P,
    summary: &RunSummary,
    source_maps: &[crate::ingest::source_map::MapSummary],
    key: &crate::pseudonym::KeyInfo,
    signer: Option<&crate::evidence::signing::SignerInfo>,
    outputs: &[PathBuf],
) -> Result<()> {
    let bundle = Bundle::new(out)?;
    let manifest = Manifest {
        tool: crate::report::tables::tool(),
        command: "audit",
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        parameters,
        ran_in: bundle.relative(Path::new(".")),
        inputs: summary.files.iter().map(|file| bundle.place(file, &file.path)).collect(),
        source_maps: source_maps.iter().map(|map| bundle.place(map, &map.path)).collect(),
        register_versions: summary.register_versions.iter().map(|v| bundle.place(v, &v.file)).collect(),
        habilitations: summary.habilitations.as_ref().map(|h| bundle.place(h, &h.file)),
        baseline: summary.baseline.as_ref().map(|b| bundle.place(b, &b.path)),
        triage: summary.since.triage.as_ref().map(|t| TriageRecord {
            file: &t.file,
            from_manifest: bundle.relative(Path::new(&t.file)),
            sha256: &t.sha256,
            checked_on: &t.checked_on,
        }),
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
        outputs: hash_outputs(staging, outputs)?,
    };
    let path = staging.join("manifest.json");
    // Cannot fail: the manifest is structs of strings, numbers and string-keyed maps: serde_json cannot refuse them.
    let mut text = serde_json::to_string_pretty(&manifest).expect("manifest serialises");
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
}
