//! An audit's state saved to a file (`.dwstate`, issue 21): what `driftwatch scan` writes for one
//! partition of a log and `driftwatch merge` (or `audit --state-in`) reads back — every
//! detector's state, the run summary's, the input files with their SHA-256 and row counts, the
//! quarantined rows, and the scan's parameters. Merged states give the findings of one audit
//! over all partitions.
//!
//! The file is gzip-compressed text: a first line `{"format", "version", "sha256"}`, then the
//! state as JSON; `sha256` is the digest of that JSON, checked on reading. States from another
//! tool version, register, habilitations file or judging parameter refuse to merge, naming the
//! difference. A state holds raw identities (the log's actor ids, its quarantined rows): keep it
//! as the log itself is kept.

use std::collections::BTreeMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ingest::{FileReport, QuarantineRecord, UnreadableFile};
use crate::pipeline::AuditConfig;
use crate::report::overview::Overview;

pub const FORMAT: &str = "driftwatch-state";
/// 2: event ids as ranges (`detect/id_ranges.rs`), flows' transfers as steps.
pub const VERSION: u32 = 2;

/// What makes two states mergeable: the same tool, register versions, habilitations and
/// judging parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub tool_version: String,
    /// (version id, SHA-256) of each register version.
    pub register: Vec<(String, String)>,
    /// SHA-256 of the habilitations file.
    pub habilitations: Option<String>,
    /// The parameters that judge events (window, time zone, thresholds, review period…).
    pub parameters: BTreeMap<String, serde_json::Value>,
}

impl Fingerprint {
    pub fn of(
        config: &AuditConfig,
        register: &crate::register::RegisterSet,
        habilitations: Option<&crate::register::habilitations::Habilitations>,
    ) -> Fingerprint {
        let mut parameters = BTreeMap::new();
        // Cannot fail: the configuration serialises (it is written to every manifest).
        let all = serde_json::to_value(config).expect("configuration serialises");
        for key in [
            "from",
            "to",
            "as_of",
            "timezone",
            "cadence_threshold",
            "review_threshold",
            "run_gap_minutes",
            "slot_tolerance_minutes",
            "tightness_scale_minutes",
            "review_days",
        ] {
            parameters.insert(key.to_string(), all[key].clone());
        }
        Fingerprint {
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            register: register.versions.iter().map(|v| (v.id.clone(), v.sha256.clone())).collect(),
            habilitations: habilitations.map(|h| h.sha256.clone()),
            parameters,
        }
    }

    /// The first difference from `other`, in words; None when they match.
    pub fn difference(&self, other: &Fingerprint) -> Option<String> {
        if self.tool_version != other.tool_version {
            return Some(format!("driftwatch {} against {}", self.tool_version, other.tool_version));
        }
        if self.register != other.register {
            let list = |r: &[(String, String)]| {
                r.iter().map(|(id, sha)| format!("{id} {}", &sha[..12.min(sha.len())])).collect::<Vec<_>>().join(", ")
            };
            return Some(format!("register versions [{}] against [{}]", list(&self.register), list(&other.register)));
        }
        if self.habilitations != other.habilitations {
            return Some(format!(
                "habilitations {} against {}",
                self.habilitations.as_deref().unwrap_or("none"),
                other.habilitations.as_deref().unwrap_or("none")
            ));
        }
        self.parameters.iter().find(|(key, value)| other.parameters.get(*key) != Some(*value)).map(|(key, value)| {
            format!("{key} = {value} against {}", other.parameters.get(key).cloned().unwrap_or_default())
        })
    }
}

/// The run summary's part of a state: what `pipeline::Seen` gathered.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SummaryState {
    pub events_judged: u64,
    pub first_event: Option<i64>,
    pub last_event: Option<i64>,
    pub actors: std::collections::BTreeSet<String>,
    pub service_accounts: std::collections::BTreeSet<String>,
    /// Transfers per recipient and month, categories observed (the register's part is added
    /// when the findings are written).
    pub overview: Overview,
}

/// One partition's (or several merged partitions') audit state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditState {
    pub fingerprint: Fingerprint,
    /// The scan's configuration (paths as given): a merge takes the register, the
    /// habilitations and the judging parameters from it.
    pub config: AuditConfig,
    pub files: Vec<FileReport>,
    pub unreadable: Vec<UnreadableFile>,
    pub quarantine: Vec<QuarantineRecord>,
    pub summary: SummaryState,
    /// Detector name → its state (`detect::Scanner::save`), kept as JSON text until absorbed.
    pub detectors: BTreeMap<String, Box<crate::detect::state::Saved>>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    sha256: String,
}

impl AuditState {
    pub fn write(&self, path: &Path) -> Result<()> {
        // Cannot fail: states are text, numbers, lists and maps of them.
        let body = serde_json::to_string(self).expect("state serialises");
        let header =
            Header { format: FORMAT.into(), version: VERSION, sha256: crate::hashing::sha256_bytes(body.as_bytes()) };
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        // The default level: a tenth smaller than the fastest, for a second at 50M events.
        let mut gzip = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        // Cannot fail: the header is two strings and a number.
        let header = serde_json::to_string(&header).expect("header serialises");
        gzip.write_all(header.as_bytes())
            .and_then(|()| gzip.write_all(b"\n"))
            .and_then(|()| gzip.write_all(body.as_bytes()))
            .and_then(|()| gzip.finish().map(|_| ()))
            .map_err(|e| Error::io(path, e))
    }

    pub fn read(path: &Path) -> Result<AuditState> {
        let shown = path.display().to_string();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
        let mut first = String::new();
        reader.read_line(&mut first).map_err(|e| Error::file(&shown, format!("not a driftwatch state ({e})")))?;
        let header: Header = serde_json::from_str(first.trim_end()).map_err(|_| {
            Error::file(&shown, "not a driftwatch state (no header line): write one with `driftwatch scan`")
        })?;
        if header.format != FORMAT || header.version != VERSION {
            return Err(Error::file(
                &shown,
                format!(
                    "a {} version {} file; this driftwatch reads {FORMAT} version {VERSION}: scan the partition again with this driftwatch",
                    header.format, header.version
                ),
            ));
        }
        let mut body = String::new();
        reader.read_to_string(&mut body).map_err(|e| Error::file(&shown, format!("truncated state ({e})")))?;
        if crate::hashing::sha256_bytes(body.as_bytes()) != header.sha256 {
            return Err(Error::file(
                &shown,
                "the state does not match its checksum: the file was altered or truncated",
            ));
        }
        serde_json::from_str(&body).map_err(|e| {
            Error::file(&shown, format!("line 2, column {}: the state does not fit this driftwatch ({e})", e.column()))
        })
    }
}

/// Reads states and checks that each can merge with `ours`.
pub fn read_mergeable(paths: &[PathBuf], ours: &Fingerprint) -> Result<Vec<AuditState>> {
    paths
        .iter()
        .map(|path| {
            let state = AuditState::read(path)?;
            match ours.difference(&state.fingerprint) {
                None => Ok(state),
                Some(difference) => Err(Error::file(
                    path.display(),
                    format!("cannot merge: this state was scanned with {difference} (this run's first)"),
                )),
            }
        })
        .collect()
}
