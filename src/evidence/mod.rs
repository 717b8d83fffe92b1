//! Evidence that outlives the run: the hash chain of a log (`chain`) and the Ed25519 signature
//! of a manifest (`signing`). The manifest itself is written with the outputs
//! (`report::manifest`); content hashes are `crate::hashing`.

pub mod chain;
pub mod signing;
