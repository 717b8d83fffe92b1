//! The whole audit on one page: ingest → judge against the register → detectors → outputs.

use std::path::PathBuf;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit_state::{AuditState, Fingerprint, SummaryState};
use crate::detect::{self, Context};
use crate::error::{PolarsContext, Result};
use crate::event::TS;
use crate::finding::{Finding, Severity, Status};
use crate::history::{self, Baseline, SinceLastAudit, TriageFile};
use crate::ingest::{self, timestamp::format_us};
use crate::pseudonym::{self, Pseudonymiser};
use crate::register::{self, habilitations};
use crate::report::{self, HabilitationSummary, Lang, OutputFormat, RunSummary, Window};

/// A validated `audit` invocation. Serialised as-is into the manifest (paths as given).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuditConfig {
    pub events: Vec<PathBuf>,
    pub register: Vec<PathBuf>,
    pub habilitations: Option<PathBuf>,
    /// Route map for web access logs.
    #[serde(default)]
    pub routes: Option<PathBuf>,
    /// Source maps: how foreign logs become events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_maps: Vec<PathBuf>,
    /// Inclusive lower bound, microseconds since the epoch (UTC).
    #[serde(serialize_with = "serialize_bound", deserialize_with = "deserialize_bound")]
    pub from: Option<i64>,
    /// Exclusive upper bound.
    #[serde(serialize_with = "serialize_bound", deserialize_with = "deserialize_bound")]
    pub to: Option<i64>,
    /// Judge with the register versions known (`recorded_at`) by this date: "what could the
    /// controller have known then".
    #[serde(default)]
    pub as_of: Option<chrono::NaiveDate>,
    pub out: PathBuf,
    pub lang: Lang,
    pub formats: Vec<OutputFormat>,
    /// Exit 1 when a finding is at least this severe; None = never.
    pub fail_on: Option<Severity>,
    /// The previous audit (`--baseline`): its output folder or findings.json.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<PathBuf>,
    /// Decisions about findings (`--triage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage: Option<PathBuf>,
    /// The day triage decisions' `until` is checked against (`--as-of`, else the day of the
    /// audit), recorded so that a replay judges them on the same day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triage_checked_on: Option<chrono::NaiveDate>,
    /// Exit 1 only for new findings at least this severe (`--fail-on-new`; replaces `fail_on`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_on_new: Option<Severity>,
    /// Saved audit states to start from (`--state-in`, `driftwatch merge`): other partitions of
    /// the log, or last month's whole state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub state_in: Vec<PathBuf>,
    /// Where to save this audit's state (`--state-out`, `driftwatch scan`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_out: Option<PathBuf>,
    /// Write findings and reports (false for `driftwatch scan`: the state only).
    #[serde(skip, default = "yes")]
    pub write_reports: bool,
    pub reveal_identities: bool,
    /// Pseudonymisation key file (else DRIFTWATCH_KEY, else <out>/.driftwatch-key).
    pub key_file: Option<PathBuf>,
    /// Local civil time of schedules (IANA name).
    pub timezone: String,
    /// Cadence score at or above which a flow is systematic.
    pub cadence_threshold: f64,
    /// Cadence score at or above which a flow is reported for review (low severity).
    pub review_threshold: f64,
    /// Events closer than this many minutes form one run.
    pub run_gap_minutes: u32,
    /// How far (minutes) a run may sit from a calendar slot and still match it.
    pub slot_tolerance_minutes: u32,
    /// Spread (robust σ, minutes) of run times at which the tightness factor halves.
    #[serde(default = "default_tightness_scale")]
    pub tightness_scale_minutes: f64,
    /// Grants not reviewed for this many days are stale.
    pub review_days: u32,
    /// Stop at the first unreadable input file instead of auditing the others.
    #[serde(default)]
    pub strict: bool,
    /// Rows per chunk of the stream (memory, not results: outputs are the same whatever it is).
    #[serde(skip, default = "default_chunk_rows")]
    pub chunk_rows: usize,
    /// Print each stage's duration on stderr.
    #[serde(skip)]
    pub verbose: bool,
    /// Print nothing but errors (not an output parameter).
    #[serde(skip)]
    pub quiet: bool,
    /// Ed25519 private key signing the manifest (never recorded: a replay does not sign).
    #[serde(skip)]
    pub sign_key: Option<PathBuf>,
}

fn yes() -> bool {
    true
}

fn default_chunk_rows() -> usize {
    ingest::DEFAULT_CHUNK_ROWS
}

/// Manifests written before `--tightness-scale` existed replay with the then fixed 40 minutes.
fn default_tightness_scale() -> f64 {
    40.0
}

impl AuditConfig {
    /// The detectors' parameters, validated.
    pub fn detector_settings(&self) -> Result<detect::Settings> {
        let timezone: chrono_tz::Tz = self.timezone.parse().map_err(|_| {
            crate::error::Error::Usage(format!(
                "--timezone {}: not an IANA time zone (e.g. Europe/Paris, UTC)",
                self.timezone
            ))
        })?;
        let minute = 60_000_000;
        Ok(detect::Settings {
            timezone,
            cadence: detect::cadence::CadenceParams {
                run_gap_us: i64::from(self.run_gap_minutes) * minute,
                calendar_tolerance_us: i64::from(self.slot_tolerance_minutes) * minute,
                systematic_score: self.cadence_threshold,
                review_score: self.review_threshold,
                tightness_scale_min: self.tightness_scale_minutes,
                ..Default::default()
            },
            review_days: self.review_days,
            window_end: self.to,
            saving_state: self.state_out.is_some(),
        })
    }
}

/// Stage timings on stderr under `--verbose`, and the progress spinner's next stage (never in an
/// output file: outputs stay byte-stable).
struct Stopwatch {
    enabled: bool,
    started: std::time::Instant,
    cpu_started: std::time::Duration,
    progress: crate::progress::Progress,
}

impl Stopwatch {
    fn new(enabled: bool, progress: crate::progress::Progress) -> Stopwatch {
        Stopwatch { enabled, started: std::time::Instant::now(), cpu_started: crate::cpu_time::process(), progress }
    }

    /// Ends a stage (its wall-clock and CPU time under `--verbose`) and names the next one.
    fn lap(&mut self, stage: &str, next: &str) {
        if self.enabled {
            self.progress.finish();
            let cpu = crate::cpu_time::process().saturating_sub(self.cpu_started);
            eprintln!(
                "driftwatch: {stage}: {:.2} s ({:.2} s CPU)",
                self.started.elapsed().as_secs_f64(),
                cpu.as_secs_f64()
            );
        }
        self.progress.stage(next);
        self.started = std::time::Instant::now();
        self.cpu_started = crate::cpu_time::process();
    }
}

fn deserialize_bound<'de, D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Option<i64>, D::Error> {
    let text: Option<String> = Option::deserialize(deserializer)?;
    text.map(|t| crate::ingest::timestamp::parse_timestamp_us(&t).map_err(serde::de::Error::custom)).transpose()
}

fn serialize_bound<S: serde::Serializer>(value: &Option<i64>, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    match value {
        Some(us) => serializer.serialize_str(&format_us(*us)),
        None => serializer.serialize_none(),
    }
}

pub struct AuditOutcome {
    pub summary: RunSummary,
    pub findings: Vec<Finding>,
    /// 0: nothing at or above `--fail-on`; 1: something is; 2: an input file could not be read.
    pub exit_code: i32,
}

pub fn audit(config: &AuditConfig) -> Result<AuditOutcome> {
    let progress = crate::progress::Progress::stages(!config.quiet && !config.verbose);
    progress.stage("loading the register");
    let mut stopwatch = Stopwatch::new(config.verbose, progress);
    // Declarations first: a broken register should fail before minutes of reading logs.
    let mut register = register::load(&register::discover(&config.register)?)?;
    let maps = ingest::source_map::SourceMaps::load(&config.source_maps, config.routes.as_deref())?;
    if let Some(date) = config.as_of {
        register = register.known_at(date);
    }
    let habilitations = config.habilitations.as_deref().map(habilitations::load).transpose()?;
    let signing_key = config.sign_key.as_deref().map(crate::evidence::signing::load_signing_key).transpose()?;
    // The previous audit and the decisions, read before the logs: a typo fails in a second.
    let baseline = config.baseline.as_deref().map(Baseline::load).transpose()?;
    let triage = config.triage.as_deref().map(TriageFile::load).transpose()?;
    stopwatch.lap("register and habilitations loaded", "reading, judging and scanning the events");
    // A merge reads no log: its events are in the states.
    let inputs = if config.events.is_empty() && !config.state_in.is_empty() {
        Vec::new()
    } else {
        ingest::discover(&config.events, &maps)?
    };
    check_output_directory(config, &inputs)?;
    // Saved states (other partitions, last month): they must have been judged as this run is.
    let fingerprint = Fingerprint::of(config, &register, habilitations.as_ref());
    let previous = crate::audit_state::read_mergeable(&config.state_in, &fingerprint)?;
    // The key of the previous audit's folder carries over (same agents, same pseudonyms, same
    // ids); a baseline whose ids cannot match this audit's is refused before any reading. A scan
    // writes no identities: it needs no key.
    let key = if config.write_reports {
        let (key, key_info) = pseudonym::load_key_inheriting(
            config.key_file.as_deref(),
            &config.out,
            baseline.as_ref().map(Baseline::folder),
        )?;
        if let Some(baseline) = &baseline {
            baseline.check_comparable(&key_info.key_id, config.reveal_identities)?;
        }
        Some((key, key_info))
    } else {
        None
    };
    // Events are indexed by their position among the inputs (`source_file`); the files of
    // absorbed states follow (their chained rows name them by path).
    let mut input_files: Vec<String> = inputs.iter().map(|input| input.path.display().to_string()).collect();
    for file in previous.iter().flat_map(|state| &state.files) {
        if !input_files.contains(&file.path) {
            input_files.push(file.path.clone());
        }
    }
    let context = Context {
        register: &register,
        habilitations: habilitations.as_ref(),
        settings: config.detector_settings()?,
        input_files: &input_files,
    };
    // One pass over the log: each chunk is judged, read by every detector and by the run
    // summary, then dropped. Memory holds one chunk plus what the detectors keep.
    let mut scanners =
        if config.verbose { detect::Scanners::measured(&detect::all()) } else { detect::Scanners::new(&detect::all()) };
    let mut seen = Seen::default();
    let mut earlier = ingest::Streamed::default();
    for state in previous {
        scanners.absorb(&context, state.detectors)?;
        seen.absorb(state.summary);
        earlier.files.extend(state.files);
        earlier.unreadable.extend(state.unreadable);
        earlier.quarantine.extend(state.quarantine);
    }
    let (progress, mut rows_streamed) = (&stopwatch.progress, 0usize);
    let (mut windowing, mut judging, mut summarising) =
        (crate::cpu_time::Spent::default(), crate::cpu_time::Spent::default(), crate::cpu_time::Spent::default());
    // Codes of the text columns, stable over the whole stream (`detect::chunk`).
    let mut judge = detect::chunk::Judge::new(&register);
    // Columnar inputs say how many rows they hold: then the spinner is a bar with time left.
    let total_rows = if config.quiet || config.verbose { None } else { ingest::known_row_count(&inputs) };
    if let Some(total) = total_rows {
        progress.rows(total, "reading");
    }
    let on_chunk = |chunk: DataFrame| {
        rows_streamed += chunk.height();
        match total_rows {
            Some(_) => progress.set_rows(rows_streamed as u64),
            None => progress.stage(&format!("reading, judging and scanning the events: {rows_streamed} so far")),
        }
        let events = windowing.measure(|| within_window(chunk, config))?;
        let (events, codes) = judging.measure(|| judge.judge(events))?;
        let chunk = detect::chunk::Chunk { events: &events, codes: &codes, dictionaries: &judge.dictionaries };
        if config.verbose {
            summarising.measure(|| seen.scan(&chunk, &register))?;
            return scanners.scan(&context, &chunk);
        }
        // The run summary beside the detectors: it is one more reader of the same chunk.
        let (summarised, scanned) = rayon::join(|| seen.scan(&chunk, &register), || scanners.scan(&context, &chunk));
        summarised.and(scanned)
    };
    // Under --verbose, one stage at a time, so that each one's CPU time is its own.
    let mut streamed = if config.verbose {
        ingest::stream(&inputs, &maps, config.strict, config.chunk_rows, on_chunk)?
    } else {
        ingest::stream_ahead(&inputs, &maps, config.strict, config.chunk_rows, on_chunk)?
    };
    // With absorbed states, the files of every partition, in path order (as one audit lists them).
    if !config.state_in.is_empty() {
        streamed.files.extend(earlier.files);
        streamed.files.sort_by(|a, b| a.path.cmp(&b.path));
        streamed.unreadable.extend(earlier.unreadable);
        streamed.quarantine.extend(earlier.quarantine);
        streamed.quarantine.sort();
    }
    stopwatch.progress.rows_done();
    stopwatch.lap("events read, judged and scanned", "finishing the detectors");
    if config.verbose {
        // The stage's CPU time is reading and normalising (the rest), judging, the run summary,
        // and each detector's scan (below, with its finish).
        for (what, spent) in
            [("keeping the audit window", windowing), ("judging and coding", judging), ("run summary", summarising)]
        {
            eprintln!(
                "driftwatch:   {what}: {:.2} s CPU, {:.2} s wall",
                spent.cpu.as_secs_f64(),
                spent.wall.as_secs_f64()
            );
        }
    }
    if let Some(path) = &config.state_out {
        let state = AuditState {
            fingerprint,
            config: config.clone(),
            files: streamed.files.clone(),
            unreadable: streamed.unreadable.clone(),
            quarantine: streamed.quarantine.clone(),
            summary: seen.saved(&judge.dictionaries),
            detectors: scanners.save(&context),
        };
        state.write(path)?;
    }
    let Some((key, key_info)) = key else {
        // A scan: the state is its output.
        stopwatch.progress.finish();
        let exit_code = if streamed.unreadable.is_empty() { 0 } else { 2 };
        let summary = RunSummary {
            rows_read: streamed.files.iter().map(|f| f.rows_read).sum(),
            rows_used: streamed.files.iter().map(|f| f.rows_used).sum(),
            rows_quarantined: streamed.files.iter().map(|f| f.rows_quarantined).sum(),
            events_judged: seen.events_judged,
            files: streamed.files,
            unreadable_files: streamed.unreadable,
            ..RunSummary::default()
        };
        return Ok(AuditOutcome { summary, findings: Vec::new(), exit_code });
    };
    let findings = scanners.finish(&context)?;
    stopwatch.lap("detectors finished", "writing the reports");

    // Agents are pseudonymised once, here, so every output goes through the same code.
    let people = seen.actors.difference(&seen.service_accounts).cloned().collect();
    let pseudonymiser = Pseudonymiser::new(key, seen.service_accounts, config.reveal_identities).with_people(people);
    let mut safe_findings: Vec<Finding> = findings.iter().map(|f| pseudonymiser.finding(f)).collect();
    for finding in &mut safe_findings {
        finding.register_sha256 = finding
            .register_versions
            .iter()
            .filter_map(|id| register.versions.iter().find(|v| &v.id == id).map(|v| v.sha256.clone()))
            .collect();
    }
    crate::finding::sort(&mut safe_findings);
    // Against last month's audit and the decisions taken: on the ids as written.
    let since = SinceLastAudit {
        resolved: baseline.as_ref().map(|baseline| history::baseline::compare(&mut safe_findings, baseline)),
        triage: triage
            .as_ref()
            .zip(config.triage_checked_on)
            .map(|(triage, day)| triage.apply(&mut safe_findings, day)),
    };
    let safe_quarantine: Vec<_> = streamed.quarantine.iter().map(|q| pseudonymiser.quarantine(q)).collect();

    let rows_used: u64 = streamed.files.iter().map(|f| f.rows_used).sum();
    let mut summary = RunSummary {
        rows_read: streamed.files.iter().map(|f| f.rows_read).sum(),
        rows_used,
        rows_quarantined: streamed.files.iter().map(|f| f.rows_quarantined).sum(),
        files: streamed.files,
        unreadable_files: streamed.unreadable.clone(),
        window: Window { from: config.from.map(format_us), to: config.to.map(format_us) },
        events_outside_window: rows_used - seen.events_judged,
        events_judged: seen.events_judged,
        first_event: seen.first_event.map(format_us),
        last_event: seen.last_event.map(format_us),
        register_versions: register.versions.iter().map(|v| v.summary()).collect(),
        habilitations: habilitations.as_ref().map(|h| HabilitationSummary {
            file: h.file.clone(),
            sha256: h.sha256.clone(),
            grants: h.grants.len(),
        }),
        detectors: detect::all().iter().map(|d| d.name()).collect(),
        findings_by_detector: Default::default(),
        overview: {
            let mut overview = seen.overview.finish(&judge.dictionaries);
            overview.merge(seen.absorbed_overview);
            overview
        }
        .finish(&register, &safe_findings)
        .renamed(|r| pseudonymiser.recipient(r)),
        findings: 0,
        timezone: Some(context.settings.timezone),
        since,
        baseline: baseline.as_ref().map(|b| report::BaselineRecord {
            path: b.findings_file.display().to_string(),
            findings_sha256: b.findings_sha256.clone(),
            manifest_sha256: b.manifest_sha256.clone(),
        }),
    };
    summary.count_findings(&findings);
    // Outputs are written to a staging directory and moved into place one by one, so an
    // interrupted run never leaves a half-written report behind.
    let staging = config.out.join(format!(".driftwatch-staging-{}", std::process::id()));
    let written = report::write_all(&staging, &config.formats, config.lang, &summary, &safe_findings, &safe_quarantine)
        .and_then(|outputs| {
            let signer = signing_key.as_ref().map(crate::evidence::signing::signer);
            crate::report::manifest::write(
                &config.out,
                &staging,
                config,
                &summary,
                &maps.summaries(),
                &key_info,
                signer.as_ref(),
                &outputs,
            )?;
            Ok(outputs)
        })
        .and_then(|mut outputs| {
            outputs.push(PathBuf::from("manifest.json"));
            if let Some(key) = &signing_key {
                crate::evidence::signing::sign(&staging.join("manifest.json"), key)?;
                outputs.push(PathBuf::from(crate::evidence::signing::SIGNATURE_FILE));
            }
            publish(&staging, &config.out, &outputs)
        });
    let _ = std::fs::remove_dir_all(&staging);
    written?;
    stopwatch.lap("outputs written", "");
    stopwatch.progress.finish();

    let failing = fails(config, &safe_findings);
    let exit_code = if summary.unreadable_files.is_empty() { i32::from(failing) } else { 2 };
    Ok(AuditOutcome { summary, findings: safe_findings, exit_code })
}

/// Whether the findings call for exit code 1: with `--fail-on-new`, a new finding (every finding
/// without a baseline) at least that severe; else any finding at least `--fail-on`. Findings
/// the triage accepted or found false never count.
fn fails(config: &AuditConfig, findings: &[Finding]) -> bool {
    let mut counting = findings.iter().filter(|f| f.counts());
    match (config.fail_on_new, config.fail_on) {
        (Some(threshold), _) => {
            counting.filter(|f| f.status != Some(Status::Ongoing)).any(|f| f.severity.at_least(threshold))
        }
        (None, Some(threshold)) => counting.any(|f| f.severity.at_least(threshold)),
        (None, None) => false,
    }
}

/// Keeps a chunk's events inside the audit window (`--from`, `--to`).
fn within_window(events: DataFrame, config: &AuditConfig) -> Result<DataFrame> {
    if config.from.is_none() && config.to.is_none() {
        return Ok(events);
    }
    let mut plan = events.lazy();
    if let Some(from) = config.from {
        plan = plan.filter(col(TS).gt_eq(lit(from).cast(crate::event::timestamp_type())));
    }
    if let Some(to) = config.to {
        plan = plan.filter(col(TS).lt(lit(to).cast(crate::event::timestamp_type())));
    }
    plan.collect().polars("keeping the audit window")
}

/// Moves the staged outputs into the output directory (a rename each: atomic per file).
fn publish(staging: &std::path::Path, out: &std::path::Path, outputs: &[PathBuf]) -> Result<()> {
    for relative in outputs {
        let (from, to) = (staging.join(relative), out.join(relative));
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| crate::error::Error::io(parent, e))?;
        }
        std::fs::rename(&from, &to).map_err(|e| crate::error::Error::io(&to, e))?;
    }
    Ok(())
}

/// Refuses an output directory that would overwrite an input or be read as one next time.
fn check_output_directory(config: &AuditConfig, inputs: &[ingest::Input]) -> Result<()> {
    // Absolute without resolving links: the output directory may not exist yet.
    let canonical = |p: &std::path::Path| std::path::absolute(p).ok();
    let Some(out) = canonical(&config.out) else { return Ok(()) };
    let mut inputs_and_dirs: Vec<PathBuf> = inputs.iter().map(|input| input.path.clone()).collect();
    inputs_and_dirs.extend(config.events.iter().filter(|p| p.is_dir()).cloned());
    for path in inputs_and_dirs {
        let Some(input) = canonical(&path) else { continue };
        let clash = if path.is_dir() { out.starts_with(&input) } else { input.starts_with(&out) };
        if clash {
            return Err(crate::error::Error::Usage(format!(
                "--out {} would mix reports with the inputs ({}): choose an output directory outside the event directories",
                config.out.display(),
                path.display()
            )));
        }
    }
    Ok(())
}

/// What the run summary needs from the events, gathered chunk by chunk.
#[derive(Default)]
struct Seen {
    events_judged: u64,
    first_event: Option<i64>,
    last_event: Option<i64>,
    /// Every actor id.
    actors: std::collections::BTreeSet<String>,
    /// Actors that acted under a service role (`Role::is_service`) in any register version:
    /// not people, never pseudonymised. Every other actor is a person, and a recipient with one
    /// of their ids (a web client, say) is pseudonymised like an actor.
    service_accounts: std::collections::BTreeSet<String>,
    /// By actor code: 0 not seen yet, 1 seen, 2 seen under a service role.
    actor_state: Vec<u8>,
    overview: report::overview::OverviewScan,
    /// The overview of saved states absorbed (`--state-in`).
    absorbed_overview: report::overview::Overview,
}

impl Seen {
    /// What it gathered, in text (a saved state's run summary).
    fn saved(&self, dictionaries: &detect::chunk::Dictionaries) -> SummaryState {
        let mut overview = self.overview.clone().finish(dictionaries);
        overview.merge(self.absorbed_overview.clone());
        SummaryState {
            events_judged: self.events_judged,
            first_event: self.first_event,
            last_event: self.last_event,
            actors: self.actors.clone(),
            service_accounts: self.service_accounts.clone(),
            overview,
        }
    }

    /// Adds another partition's run summary.
    fn absorb(&mut self, other: SummaryState) {
        self.events_judged += other.events_judged;
        self.first_event = self.first_event.into_iter().chain(other.first_event).min();
        self.last_event = self.last_event.into_iter().chain(other.last_event).max();
        self.actors.extend(other.actors);
        self.service_accounts.extend(other.service_accounts);
        self.absorbed_overview.merge(other.overview);
    }

    fn scan(&mut self, chunk: &detect::chunk::Chunk, register: &register::RegisterSet) -> Result<()> {
        let codes = chunk.codes;
        self.events_judged += codes.len() as u64;
        self.first_event = self.first_event.into_iter().chain(codes.ts.iter().copied().min()).min();
        self.last_event = self.last_event.into_iter().chain(codes.ts.iter().copied().max()).max();
        let service_roles: Vec<u32> = register
            .versions
            .iter()
            .flat_map(|v| v.doc.roles.iter().filter(|r| r.is_service()))
            .filter_map(|role| chunk.dictionaries.role.code_of(&role.id))
            .collect();
        // By role code: the state an actor reaches acting under it (a table, not a search a row).
        let mut state_under_role = vec![1u8; chunk.dictionaries.role.len()];
        for role in service_roles {
            state_under_role[role as usize] = 2;
        }
        self.actor_state.resize(chunk.dictionaries.actor.len(), 0);
        for (&actor, &role) in codes.actor.iter().zip(&codes.role) {
            let state = state_under_role[role as usize];
            if actor == detect::chunk::NULL || self.actor_state[actor as usize] >= state {
                continue;
            }
            let id = chunk.dictionaries.actor.name(actor);
            if self.actor_state[actor as usize] == 0 {
                self.actors.insert(id.to_string());
            }
            if state == 2 {
                self.service_accounts.insert(id.to_string());
            }
            self.actor_state[actor as usize] = state;
        }
        self.overview.scan(chunk);
        Ok(())
    }
}
