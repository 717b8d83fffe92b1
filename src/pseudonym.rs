//! Pseudonyms for agents (actors and targets) in every output: `ag-` + the first 12 hex digits
//! of HMAC-SHA-256(key, id). Stable across runs with the same key, unlinkable without it.
//! Service accounts (roles marked `service = true` in the register, or named `batch`/`service`)
//! and recipients (organisations) are not people and stay as they are.
//!
//! The key comes from `--key-file`, else `DRIFTWATCH_KEY`, else `<out>/.driftwatch-key`, which
//! is created (mode 0600) on the first run into a directory and reused after. Only its id (the
//! first 16 hex digits of SHA-256(key)) is ever written, in the manifest.

use std::collections::BTreeSet;
use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::error::{Error, Result};
use crate::finding::{Facts, Finding};
use crate::ingest::QuarantineRecord;

pub const KEY_FILE_NAME: &str = ".driftwatch-key";
pub const KEY_ENV: &str = "DRIFTWATCH_KEY";
/// The file name of the public demo key shipped with the sample data (never for real logs).
pub const DEMO_KEY_FILE_NAME: &str = "demo-pseudonymisation-key.txt";

/// Where the key came from, for the manifest (never the key itself).
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyInfo {
    pub key_id: String,
    pub source: &'static str,
}

pub struct Pseudonymiser {
    key: Vec<u8>,
    /// Ids left as they are: service accounts.
    keep: BTreeSet<String>,
    /// Actor ids of people: a recipient with such an id (a web client) is pseudonymised too.
    people: std::collections::HashSet<String>,
    reveal: bool,
}

impl Pseudonymiser {
    pub fn new(key: Vec<u8>, service_accounts: BTreeSet<String>, reveal: bool) -> Pseudonymiser {
        Pseudonymiser { key, keep: service_accounts, people: Default::default(), reveal }
    }

    pub fn with_people(mut self, people: std::collections::HashSet<String>) -> Pseudonymiser {
        self.people = people;
        self
    }

    /// A recipient as it may be written: organisations as they are, people pseudonymised.
    pub fn recipient(&self, id: &str) -> String {
        if self.people.contains(id) { self.name(id) } else { id.to_string() }
    }

    /// The pseudonym of an agent id (or the id itself for service accounts or when revealing).
    pub fn name(&self, id: &str) -> String {
        if self.reveal || self.keep.contains(id) {
            return id.to_string();
        }
        // Cannot fail: HMAC accepts a key of any length (RFC 2104).
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        format!("ag-{hex}")
    }

    /// The finding as it may be written: agents replaced in the subject fields and in the facts
    /// that name agents. Its sentences are composed afterwards, from these fields: no text is
    /// searched and replaced.
    pub fn finding(&self, finding: &Finding) -> Finding {
        let mut safe = finding.clone();
        if self.reveal {
            return safe;
        }
        let mut renamed = false;
        for field in [&mut safe.actor, &mut safe.target] {
            if let Some(id) = field.as_mut() {
                let pseudonym = self.name(id);
                renamed |= pseudonym != *id;
                *id = pseudonym;
            }
        }
        if let Some(recipient) = safe.recipient.as_mut() {
            let pseudonym = self.recipient(recipient);
            renamed |= pseudonym != *recipient;
            *recipient = pseudonym;
        }
        if renamed {
            // The id hashes the raw subject: anyone with a list of agents could recompute it.
            // Keyed, it stays stable with the same key and says nothing without it.
            safe.id = format!("DW-{}", &self.name(&finding.id)["ag-".len()..]);
        }
        self.facts(&mut safe.facts);
        safe
    }

    /// The facts that name agents, pseudonymised. Every variant is listed: a detector whose
    /// facts name people must say so here.
    fn facts(&self, facts: &mut Facts) {
        match facts {
            Facts::IndividualMonitoring(watch) => {
                for agent in &mut watch.watched_agents {
                    *agent = self.name(agent);
                }
            }
            Facts::RegisterGap(_)
            | Facts::UndeclaredRecipient(_)
            | Facts::CategoryCreep(_)
            | Facts::PeriodicTransfer(_)
            | Facts::SmallCell(_)
            | Facts::OutsideHabilitation(_)
            | Facts::StaleHabilitation(_)
            | Facts::RetentionOverrun(_)
            | Facts::Integrity(_) => {}
        }
    }

    /// Quarantined values of agent columns are pseudonymised; whole rejected lines are withheld
    /// (they may hold identities in any field).
    pub fn quarantine(&self, record: &QuarantineRecord) -> QuarantineRecord {
        let mut safe = record.clone();
        if self.reveal {
            return safe;
        }
        match record.column.as_str() {
            "actor_id" | "target_agent" if !record.value.is_empty() => safe.value = self.name(&record.value),
            "" if !record.value.is_empty() => {
                safe.value = "(line withheld: it may identify agents; rerun with --reveal-identities)".into()
            }
            _ => {}
        }
        safe
    }
}

/// Loads or creates the pseudonymisation key.
pub fn load_key(key_file: Option<&Path>, out: &Path) -> Result<(Vec<u8>, KeyInfo)> {
    load_key_inheriting(key_file, out, None)
}

/// Like [`load_key`]; when `out` holds no key yet and `previous` (the folder of the audit given
/// as `--baseline`) does, that key is copied into `out` (mode 0600) and used: month after month,
/// the same agents keep the same pseudonyms and the same findings their ids.
pub fn load_key_inheriting(key_file: Option<&Path>, out: &Path, previous: Option<&Path>) -> Result<(Vec<u8>, KeyInfo)> {
    let (key, source) = if let Some(path) = key_file {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let demo = path.file_name().is_some_and(|name| name == DEMO_KEY_FILE_NAME);
        (trimmed(bytes), if demo { "demo-key (public, sample data only)" } else { "key-file" })
    } else if let Ok(text) = std::env::var(KEY_ENV) {
        (trimmed(text.into_bytes()), "environment")
    } else {
        let path = out.join(KEY_FILE_NAME);
        let inherited = previous.map(|folder| folder.join(KEY_FILE_NAME)).filter(|key| key.is_file());
        if path.is_file() {
            (trimmed(std::fs::read(&path).map_err(|e| Error::io(&path, e))?), "output-directory")
        } else if let Some(previous_key) = inherited {
            let key = trimmed(std::fs::read(&previous_key).map_err(|e| Error::io(&previous_key, e))?);
            std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
            crate::hashing::write_private(&path, &key)?;
            (key, "baseline-folder")
        } else {
            std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
            let mut random = [0u8; 32];
            getrandom::getrandom(&mut random)
                .map_err(|e| Error::file(path.display(), format!("no randomness for a key: {e}")))?;
            let text: String = random.iter().map(|b| format!("{b:02x}")).collect();
            crate::hashing::write_private(&path, text.as_bytes())?;
            (text.into_bytes(), "created")
        }
    };
    if key.len() < 16 {
        return Err(Error::Usage("the pseudonymisation key must be at least 16 bytes".into()));
    }
    let key_id = crate::hashing::sha256_bytes(&key)[..16].to_string();
    Ok((key, KeyInfo { key_id, source }))
}

fn trimmed(mut bytes: Vec<u8>) -> Vec<u8> {
    while bytes.last().is_some_and(|b| b.is_ascii_whitespace()) {
        bytes.pop();
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudonyms_are_keyed_stable_and_spare_service_accounts() {
        let service: BTreeSet<String> = ["svc-batch".to_string()].into();
        let a = Pseudonymiser::new(b"0123456789abcdef".to_vec(), service.clone(), false);
        let b = Pseudonymiser::new(b"0123456789abcdef".to_vec(), service.clone(), false);
        let other = Pseudonymiser::new(b"fedcba9876543210".to_vec(), service, false);
        assert_eq!(a.name("wk-ag-0001"), b.name("wk-ag-0001"));
        assert_ne!(a.name("wk-ag-0001"), other.name("wk-ag-0001"));
        assert_ne!(a.name("wk-ag-0001"), a.name("wk-ag-0002"));
        assert!(a.name("wk-ag-0001").starts_with("ag-") && a.name("wk-ag-0001").len() == 15);
        assert_eq!(a.name("svc-batch"), "svc-batch");
    }

    #[test]
    fn the_key_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let (first, info) = load_key(None, dir.path()).unwrap();
        assert_eq!(info.source, "created");
        let (again, info_again) = load_key(None, dir.path()).unwrap();
        assert_eq!((first, info.key_id), (again, info_again.key_id));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE_NAME)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
