//! `driftwatch scan` (one partition of a log → its saved state) and `driftwatch merge` (saved
//! states → the findings, reports and manifest of one audit over every partition): the two
//! halves of `audit`, for logs audited partition by partition on several machines.

use crate::audit_state::AuditState;
use crate::cli::{AuditArgs, MergeArgs};
use crate::error::{Error, Result};
use crate::pipeline::{self, AuditOutcome};

/// Scans the events `args` name and writes their state to `--state-out`; no report.
pub fn scan(args: &AuditArgs) -> Result<i32> {
    let mut config = super::audit::config(args)?;
    let Some(path) = config.state_out.clone() else {
        return Err(Error::Usage("driftwatch scan needs --state-out FILE: where the partition's state goes".into()));
    };
    config.write_reports = false;
    let outcome = pipeline::audit(&config)?;
    if !config.quiet {
        let summary = &outcome.summary;
        crate::outln!(
            "{} file(s), {} rows read, {} used, {} quarantined; {} events judged; state written to {}",
            summary.files.len(),
            summary.rows_read,
            summary.rows_used,
            summary.rows_quarantined,
            summary.events_judged,
            path.display()
        );
    }
    for file in &outcome.summary.unreadable_files {
        eprintln!("driftwatch: {} (the other inputs were scanned)", file.error);
    }
    Ok(outcome.exit_code)
}

/// Merges saved states into one audit's outputs. The register, the habilitations and the
/// judging parameters are the first state's (every state must match them).
pub fn merge(args: &MergeArgs) -> Result<AuditOutcome> {
    let first = args.state.first().ok_or_else(|| Error::Usage("driftwatch merge needs --state FILE…".into()))?;
    let mut config = AuditState::read(first)?.config;
    config.events = Vec::new();
    config.state_in = args.state.clone();
    config.state_out = None;
    config.write_reports = true;
    let output = &args.output;
    config.out = output.out.clone();
    config.lang = output.lang;
    config.formats = super::audit::formats(&output.format);
    (config.fail_on, config.fail_on_new) = super::audit::exit_thresholds(output.fail_on, &output.follow_up);
    config.baseline = output.follow_up.baseline.clone();
    config.triage = output.follow_up.triage.clone();
    // The states were judged as of their --as-of: triage is checked on that day too.
    config.triage_checked_on = super::audit::triage_checked_on(&output.follow_up, config.as_of);
    config.reveal_identities = output.reveal_identities;
    config.key_file = output.key_file.clone();
    config.sign_key = output.sign_key.clone();
    config.quiet = args.quiet;
    config.verbose = false;
    let outcome = pipeline::audit(&config)?;
    if !config.quiet {
        crate::out!("{}", crate::report::terminal_summary(&outcome.summary, &config.out));
    }
    Ok(outcome)
}
