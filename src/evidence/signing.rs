//! Signed manifests: an Ed25519 signature of `manifest.json`'s bytes in `manifest.json.sig`, so
//! a bundle received on a USB key or in a court file can be checked without re-running anything.
//! The manifest names the public key (hex) and its fingerprint (first 16 hex digits of the key's
//! SHA-256); the receiving side checks the signature against a public key it trusts.
//!
//! Key files are 64 hex digits: `driftwatch keygen` writes the private seed (mode 0600) and the
//! public key beside it.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hashing::hex;

/// The signature's file name beside the manifest.
pub const SIGNATURE_FILE: &str = "manifest.json.sig";

/// Who signed: what the manifest records.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignerInfo {
    pub algorithm: String,
    pub public_key: String,
    pub fingerprint: String,
}

pub fn fingerprint(public_key: &VerifyingKey) -> String {
    crate::hashing::sha256_bytes(public_key.as_bytes())[..16].to_string()
}

fn hex_bytes<const N: usize>(text: &str, path: &Path, what: &str) -> Result<[u8; N]> {
    let text = text.trim();
    let bytes: Option<Vec<u8>> = (text.len() == 2 * N)
        .then(|| (0..N).map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()).collect())
        .flatten();
    bytes
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::file(path.display(), format!("not {what}: expected {} hex digits", 2 * N)))
}

/// A private key file (64 hex digits).
pub fn load_signing_key(path: &Path) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    Ok(SigningKey::from_bytes(&hex_bytes::<32>(&text, path, "an Ed25519 private key")?))
}

/// A public key file (64 hex digits).
pub fn load_public_key(path: &Path) -> Result<VerifyingKey> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    public_key_from_hex(&text, path)
}

fn public_key_from_hex(text: &str, origin: &Path) -> Result<VerifyingKey> {
    VerifyingKey::from_bytes(&hex_bytes::<32>(text, origin, "an Ed25519 public key")?)
        .map_err(|e| Error::file(origin.display(), format!("not an Ed25519 public key: {e}")))
}

/// What the manifest records of a signing key.
pub fn signer(key: &SigningKey) -> SignerInfo {
    let public = key.verifying_key();
    SignerInfo { algorithm: "ed25519".into(), public_key: hex(public.as_bytes()), fingerprint: fingerprint(&public) }
}

/// Signs a manifest's bytes into the signature file beside it.
pub fn sign(manifest: &Path, key: &SigningKey) -> Result<PathBuf> {
    let bytes = std::fs::read(manifest).map_err(|e| Error::io(manifest, e))?;
    let signature = key.sign(&bytes);
    let path = manifest.with_file_name(SIGNATURE_FILE);
    std::fs::write(&path, format!("{}\n", hex(&signature.to_bytes()))).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

/// The verdict on a bundle's signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Unsigned,
    /// Verified with the key the manifest names (not one the caller said it trusts).
    SignedByNamedKey {
        fingerprint: String,
    },
    /// Verified with the public key the caller gave.
    SignedByTrustedKey {
        fingerprint: String,
    },
    Invalid {
        reason: String,
    },
}

/// Checks `manifest.json.sig` beside a manifest, against `trusted` when given, else against the
/// key the manifest names.
pub fn check(manifest: &Path, named: Option<&SignerInfo>, trusted: Option<&VerifyingKey>) -> Result<Verdict> {
    let signature_path = manifest.with_file_name(SIGNATURE_FILE);
    if !signature_path.is_file() {
        return Ok(match named {
            Some(_) => {
                Verdict::Invalid { reason: format!("the manifest names a signing key but {SIGNATURE_FILE} is missing") }
            }
            None => Verdict::Unsigned,
        });
    }
    let Some(named) = named else {
        return Ok(Verdict::Invalid { reason: "a signature without a signing key in the manifest".into() });
    };
    let text = std::fs::read_to_string(&signature_path).map_err(|e| Error::io(&signature_path, e))?;
    let signature = Signature::from_bytes(&hex_bytes::<64>(&text, &signature_path, "an Ed25519 signature")?);
    let named_key = public_key_from_hex(&named.public_key, manifest)?;
    let key = trusted.unwrap_or(&named_key);
    if let Some(trusted) = trusted
        && fingerprint(trusted) != named.fingerprint
    {
        return Ok(Verdict::Invalid {
            reason: format!("signed by key {}, not by the key given ({})", named.fingerprint, fingerprint(trusted)),
        });
    }
    let bytes = std::fs::read(manifest).map_err(|e| Error::io(manifest, e))?;
    Ok(match key.verify(&bytes, &signature) {
        Ok(()) if trusted.is_some() => Verdict::SignedByTrustedKey { fingerprint: named.fingerprint.clone() },
        Ok(()) => Verdict::SignedByNamedKey { fingerprint: named.fingerprint.clone() },
        Err(_) => {
            Verdict::Invalid { reason: "the signature does not verify: the manifest was changed after signing".into() }
        }
    })
}

/// Writes a fresh key pair: `driftwatch-signing.key` (private, 0600) and `driftwatch-signing.pub`.
pub fn keygen(dir: &Path) -> Result<(PathBuf, PathBuf)> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| Error::file(dir.display(), format!("no randomness for a key: {e}")))?;
    let key = SigningKey::from_bytes(&seed);
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let (private, public) = (dir.join("driftwatch-signing.key"), dir.join("driftwatch-signing.pub"));
    for path in [&private, &public] {
        if path.exists() {
            return Err(Error::file(path.display(), "already exists: keygen never overwrites a key"));
        }
    }
    crate::hashing::write_private(&private, format!("{}\n", crate::hashing::hex(&seed)).as_bytes())?;
    std::fs::write(&public, format!("{}\n", hex(key.verifying_key().as_bytes()))).map_err(|e| Error::io(&public, e))?;
    Ok((private, public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_manifest_verifies_and_any_change_breaks_it() {
        let dir = tempfile::tempdir().unwrap();
        let (private, public) = keygen(dir.path()).unwrap();
        let key = load_signing_key(&private).unwrap();
        let manifest = dir.path().join("manifest.json");
        std::fs::write(&manifest, "{\"a\": 1}\n").unwrap();
        sign(&manifest, &key).unwrap();
        let named = signer(&key);
        let trusted = load_public_key(&public).unwrap();
        assert_eq!(
            check(&manifest, Some(&named), Some(&trusted)).unwrap(),
            Verdict::SignedByTrustedKey { fingerprint: named.fingerprint.clone() }
        );
        std::fs::write(&manifest, "{\"a\": 2}\n").unwrap();
        assert!(matches!(check(&manifest, Some(&named), None).unwrap(), Verdict::Invalid { .. }));
        let other = SigningKey::from_bytes(&[7u8; 32]).verifying_key();
        assert!(matches!(check(&manifest, Some(&named), Some(&other)).unwrap(), Verdict::Invalid { .. }));
        assert!(keygen(dir.path()).is_err(), "never overwrites");
    }
}
