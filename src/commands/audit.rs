//! `driftwatch audit`: validates the arguments into an [`AuditConfig`] and runs the pipeline.
//! With neither `--events` nor `--register`, audits the shipped `sample-data/`.

use std::path::{Path, PathBuf};

use crate::cli::{AuditArgs, FailOn, FollowUpArgs};
use crate::error::{Error, Result};
use crate::finding::Severity;
use crate::ingest::timestamp::{parse_date_days, parse_timestamp_us};
use crate::pipeline::{self, AuditConfig, AuditOutcome};
use crate::report::OutputFormat;

pub const SAMPLE_DIR: &str = "sample-data";

pub fn config(args: &AuditArgs) -> Result<AuditConfig> {
    let sample = args.events.is_empty() && args.register.is_empty();
    let (events, register, habilitations) = match (args.events.is_empty(), args.register.is_empty()) {
        (true, true) => sample_inputs(args.habilitations.clone())?,
        (false, false) => (args.events.clone(), args.register.clone(), args.habilitations.clone()),
        (false, true) => {
            return Err(Error::Usage("--events needs --register: the declarations to judge the events against".into()));
        }
        (true, false) => return Err(Error::Usage("--register needs --events: the logs to audit".into())),
    };
    // Order never matters to the audit; sorted, it does not change the manifest either.
    let (mut events, mut register) = (events, register);
    events.sort();
    events.dedup();
    register.sort();
    register.dedup();
    let from = args.from.as_deref().map(|t| parse_bound("--from", t)).transpose()?;
    let to = args.to.as_deref().map(|t| parse_bound("--to", t)).transpose()?;
    if let (Some(from), Some(to)) = (from, to)
        && from >= to
    {
        return Err(Error::Usage("--from must be before --to".into()));
    }
    if !(0.0..=1.0).contains(&args.cadence_threshold)
        || !(0.0..=args.cadence_threshold).contains(&args.review_threshold)
    {
        return Err(Error::Usage("thresholds must satisfy 0 <= --review-threshold <= --cadence-threshold <= 1".into()));
    }
    if !(args.tightness_scale.is_finite() && args.tightness_scale > 0.0) {
        return Err(Error::Usage(format!(
            "--tightness-scale {}: must be a positive number of minutes",
            args.tightness_scale
        )));
    }
    let as_of = args
        .as_of
        .as_deref()
        .map(|text| {
            chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map_err(|_| Error::Usage(format!("--as-of {text}: expected a date (2022-03-01)")))
        })
        .transpose()?;
    let output = &args.output;
    let (fail_on, fail_on_new) = exit_thresholds(output.fail_on, &output.follow_up);
    Ok(AuditConfig {
        events,
        register,
        habilitations,
        from,
        to,
        out: output.out.clone(),
        lang: output.lang,
        formats: formats(&output.format),
        fail_on,
        fail_on_new,
        baseline: output.follow_up.baseline.clone(),
        triage: output.follow_up.triage.clone(),
        triage_checked_on: triage_checked_on(&output.follow_up, as_of),
        reveal_identities: output.reveal_identities,
        key_file: output.key_file.clone().or_else(|| sample.then(sample_key).flatten()),
        sign_key: output.sign_key.clone(),
        verbose: args.verbose,
        timezone: args.timezone.clone(),
        cadence_threshold: args.cadence_threshold,
        review_threshold: args.review_threshold,
        run_gap_minutes: args.run_gap,
        slot_tolerance_minutes: args.slot_tolerance,
        tightness_scale_minutes: args.tightness_scale,
        chunk_rows: usize::try_from(args.chunk_rows).unwrap_or(usize::MAX),
        review_days: args.review_days,
        as_of,
        quiet: args.quiet,
        strict: args.strict,
        routes: args.routes.clone(),
        source_maps: args.source_map.clone(),
        state_in: args.state_in.clone(),
        state_out: args.state_out.clone(),
        write_reports: true,
    })
}

/// The outputs asked for, each once, in a fixed order.
pub fn formats(asked: &[OutputFormat]) -> Vec<OutputFormat> {
    let mut formats = asked.to_vec();
    formats.sort();
    formats.dedup();
    formats
}

/// (--fail-on, --fail-on-new): --fail-on-new replaces --fail-on; `never` means no exit code for
/// findings at all.
pub fn exit_thresholds(fail_on: FailOn, follow_up: &FollowUpArgs) -> (Option<Severity>, Option<Severity>) {
    match follow_up.fail_on_new {
        None => (severity_of(fail_on), None),
        Some(threshold) => (None, severity_of(threshold)),
    }
}

/// The day triage decisions' `until` is checked against: `--as-of`, else today (recorded in
/// the configuration, so that a replay judges the same day).
pub fn triage_checked_on(follow_up: &FollowUpArgs, as_of: Option<chrono::NaiveDate>) -> Option<chrono::NaiveDate> {
    follow_up.triage.as_ref().map(|_| as_of.unwrap_or_else(|| chrono::Utc::now().date_naive()))
}

pub fn severity_of(threshold: FailOn) -> Option<Severity> {
    match threshold {
        FailOn::High => Some(Severity::High),
        FailOn::Medium => Some(Severity::Medium),
        FailOn::Low => Some(Severity::Low),
        FailOn::Never => None,
    }
}

fn sample_inputs(habilitations: Option<PathBuf>) -> Result<(Vec<PathBuf>, Vec<PathBuf>, Option<PathBuf>)> {
    let root = Path::new(SAMPLE_DIR);
    if !root.is_dir() {
        return Err(Error::Usage(format!(
            "no --events/--register given and no `{SAMPLE_DIR}/` here: run from the driftwatch checkout, or name your inputs (driftwatch audit --help)"
        )));
    }
    let default_grants = root.join("habilitations.csv");
    let habilitations = habilitations.or_else(|| default_grants.is_file().then_some(default_grants));
    Ok((vec![root.join("events")], vec![root.join("register")], habilitations))
}

/// The sample audit's public demo key (`sample-data/README.md`), with which anyone reproduces the
/// committed `reports/`, unless the user gave a key in the environment. Never used for inputs the
/// user names.
fn sample_key() -> Option<PathBuf> {
    let key = Path::new(SAMPLE_DIR).join(crate::pseudonym::DEMO_KEY_FILE_NAME);
    (std::env::var_os(crate::pseudonym::KEY_ENV).is_none() && key.is_file()).then_some(key)
}

/// A date (midnight UTC) or an RFC 3339 instant, in microseconds since the epoch.
fn parse_bound(flag: &str, text: &str) -> Result<i64> {
    parse_timestamp_us(text)
        .or_else(|_| parse_date_days(text).map(|days| days as i64 * 86_400_000_000))
        .map_err(|_| Error::Usage(format!("{flag} {text}: expected a date (2022-03-01) or an RFC 3339 instant")))
}

pub fn run(args: &AuditArgs) -> Result<AuditOutcome> {
    let config = config(args)?;
    let outcome = pipeline::audit(&config)?;
    if !config.quiet {
        crate::out!("{}", crate::report::terminal_summary(&outcome.summary, &config.out));
    }
    for file in &outcome.summary.unreadable_files {
        eprintln!("driftwatch: {} (the other inputs were audited; --strict stops at the first)", file.error);
    }
    Ok(outcome)
}
