//! driftwatch: purpose-drift auditing of access and extraction logs against the declared
//! register. The pipeline, floor by floor (see `pipeline.rs` for the whole audit on one page):
//!
//! ingest (files → one event frame) → register (versions in force, habilitations) →
//! detect (one file per detector) → finding → report (tables, Markdown) + evidence (manifest).

pub mod audit_state;
pub mod calendar;
pub mod cli;
pub mod commands;
pub mod cpu_time;
pub mod detect;
pub mod error;
pub mod event;
pub mod evidence;
pub mod finding;
pub mod generate;
pub mod hashing;
pub mod history;
pub mod ingest;
pub mod pipeline;
pub mod progress;
pub mod pseudonym;
pub mod register;
pub mod report;

pub use error::{Error, Result};

#[cfg(test)]
mod fuzz_tests;

/// Writes to standard output. A closed stdout (`driftwatch schema findings | head -1`) ends the
/// command quietly with exit 0, as ripgrep does; any other write error is exit 2.
pub fn write_stdout(text: std::fmt::Arguments) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(error) = out.write_fmt(text).and_then(|()| out.flush()) {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("driftwatch: cannot write to standard output: {error}");
        std::process::exit(2);
    }
}

/// `print!` through [`write_stdout`].
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::write_stdout(format_args!($($arg)*)) };
}

/// `println!` through [`write_stdout`].
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => { $crate::write_stdout(format_args!("{}\n", format_args!($($arg)*))) };
}
