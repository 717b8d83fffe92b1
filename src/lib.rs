//! driftwatch: purpose-drift auditing of access and extraction logs against the declared
//! register. The pipeline, floor by floor (see `pipeline.rs` for the whole audit on one page):
//!
//! ingest (files → one event frame) → register (versions in force, habilitations) →
//! detect (one file per detector) → finding → report (tables, Markdown) + evidence (manifest).

pub mod cli;
pub mod commands;
pub mod cpu_time;
pub mod detect;
pub mod error;
pub mod event;
pub mod evidence;
pub mod finding;
pub mod generate;
pub mod ingest;
pub mod pipeline;
pub mod progress;
pub mod pseudonym;
pub mod register;
pub mod report;

pub use error::{Error, Result};

#[cfg(test)]
mod fuzz_tests;
