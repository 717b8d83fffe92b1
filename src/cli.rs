//! Command-line arguments (clap derive). Parsing only: `commands/` turns them into validated
//! configurations.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::{Lang, OutputFormat};

#[derive(Debug, Parser)]
#[command(
    name = "driftwatch",
    version,
    about = "Finds purpose drift in the access and extraction logs of public-administration systems",
    long_about = "driftwatch joins access and extraction logs against the register of what was declared \
(purposes, recipients, data categories, roles, transfer mode, retention) and reports drift with evidence.\n\n\
Exit codes: 0 no finding at or above --fail-on, 1 findings at or above it, 2 usage or input error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit event logs against the register; with no arguments, audits the shipped sample-data/
    #[command(
        after_help = "Examples:\n  driftwatch audit\n  driftwatch audit --events logs/2022-03/ --register register/ --habilitations grants.csv --out reports/2022-03\n  driftwatch audit --events events.parquet --register wikit-v1.toml wikit-v2.toml --from 2022-01-01 --to 2022-04-01"
    )]
    Audit(AuditArgs),
    /// Write a seeded synthetic scenario (events, register, habilitations, truth.json)
    #[command(after_help = "Scenarios: wikit-transfers (seed 000), wikit-monitoring (001), sipsi-cip (002), \
social-files (003), imilo-id-numbers (004), all.\n\nExample:\n  driftwatch generate --scenario all --events 100000 --out scenario --seed 7")]
    Generate(GenerateArgs),
    /// Write an Ed25519 key pair for signing manifests (driftwatch-signing.key, .pub)
    #[command(after_help = "Example:\n  driftwatch keygen --out ~/.config/driftwatch")]
    Keygen {
        /// Folder for the key pair (created; existing keys are never overwritten)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Check a received bundle without re-running: the manifest's signature and every output's hash
    #[command(
        after_help = "Exit 0 intact (signed or not, said), 1 a file missing or changed or a bad signature.\nExample:\n  driftwatch check-bundle court-file/audit-2022-03 --public-key dpo-signing.pub"
    )]
    CheckBundle {
        /// The bundle: the folder holding manifest.json
        dir: PathBuf,
        /// The public key the signature must verify with (else the one the manifest names)
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
    },
    /// Re-run an audit from its manifest and check that inputs and outputs are unchanged
    #[command(
        after_help = "The folder holding the manifest is the bundle checked. Exit 0 all reproduced, 1 problems listed, 2 inputs changed or missing.\nExample:\n  driftwatch replay reports/manifest.json"
    )]
    Replay {
        /// The manifest.json of the bundle to replay (the folder holding it is the bundle)
        manifest: PathBuf,
        /// The folder the audit ran in, when the inputs (given as relative paths) now live
        /// elsewhere than beside the bundle
        #[arg(long, value_name = "DIR")]
        inputs_root: Option<PathBuf>,
    },
    /// Check a log's integrity chain, event ids, time order, gaps and coverage
    #[command(after_help = "Example:\n  driftwatch verify --events security-log/ --min-coverage-days 183")]
    Verify(VerifyArgs),
    /// Write a copy of a log with prev_hash/hash filled in (start a tamper-evident chain)
    #[command(after_help = "Example:\n  driftwatch seal --events export.csv --out export-sealed.csv")]
    Seal {
        /// Event files or directories, chained in path order
        #[arg(long, num_args = 1.., required = true, value_name = "FILE|DIR")]
        events: Vec<PathBuf>,
        /// The sealed copy (.csv or .parquet)
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Source maps for logs that are not the event frame (see `audit --help`)
        #[arg(long, num_args = 1.., value_name = "FILE")]
        source_map: Vec<PathBuf>,
    },
    /// Check a source map against a log, or draft one from a log
    #[command(subcommand)]
    Map(MapCommand),
    /// Scan one partition of a log (same options as audit) and save its state: no report
    #[command(
        after_help = "Example (one month of a partitioned log):\n  driftwatch scan --events lake/month=2022-03/ --register register/ --habilitations grants.csv --state-out states/2022-03.dwstate"
    )]
    Scan(AuditArgs),
    /// Merge saved states (driftwatch scan) into one audit's findings, reports and manifest
    #[command(
        after_help = "The findings are those of one audit over every partition. States from another register, habilitations file, judging parameter or driftwatch version refuse to merge.\nExample:\n  driftwatch merge --state states/*.dwstate --out audits/2022"
    )]
    Merge(MergeArgs),
    /// Compare two audits' findings: new, resolved and changed (severity, events, period)
    #[command(
        after_help = "A and B are output folders (or their findings.json). Exit 0 no difference, 1 differences listed, 2 unreadable input.\nExample:\n  driftwatch diff audits/2022-06 audits/2022-07 --json"
    )]
    Diff {
        /// The earlier audit
        a: PathBuf,
        /// The later audit
        b: PathBuf,
        /// Write the differences as JSON on stdout
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of an input or output
    Schema {
        #[arg(value_enum)]
        which: SchemaName,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Event files or directories (.csv, .jsonl/.ndjson, .parquet, .arrow/.feather); directories are walked
    #[arg(long, num_args = 1.., value_name = "FILE|DIR")]
    pub events: Vec<PathBuf>,
    /// Register files (TOML, one per version) or directories of them
    #[arg(long, num_args = 1.., value_name = "FILE|DIR")]
    pub register: Vec<PathBuf>,
    /// Habilitations (CSV, JSON lines or Parquet)
    #[arg(long, value_name = "FILE")]
    pub habilitations: Option<PathBuf>,
    /// Route map (TOML) turning web access-log lines (.log, .log.N, .gz) into events
    #[arg(long, value_name = "FILE")]
    pub routes: Option<PathBuf>,
    /// Source maps (TOML) saying how a foreign log becomes events; several maps each claim
    /// their files with `files = ["glob"]` (see `driftwatch schema source-map`)
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub source_map: Vec<PathBuf>,
    /// Audit only events at or after this date or RFC 3339 instant (inclusive)
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Audit only events before this date or RFC 3339 instant (exclusive)
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Judge with only the register versions known (recorded_at) by this date; also the day
    /// triage decisions' `until` is checked against (default: today)
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Saved audit states to start from (driftwatch scan, or last month's --state-out): their
    /// findings are found again together with this run's events, without re-reading their logs
    #[arg(long, num_args = 1.., value_name = "FILE", help_heading = "Month after month")]
    pub state_in: Vec<PathBuf>,
    /// Save this audit's state (every detector's, the run summary's, the inputs' hashes) for a
    /// later --state-in or driftwatch merge; it holds raw identities: keep it as the log
    #[arg(long, value_name = "FILE", help_heading = "Month after month")]
    pub state_out: Option<PathBuf>,
    /// Stop at the first unreadable input file (default: report it, audit the others, exit 2)
    #[arg(long)]
    pub strict: bool,
    /// Print nothing on success
    #[arg(long, short)]
    pub quiet: bool,
    /// Local civil time of schedules and calendars (IANA name)
    #[arg(long, default_value = "Europe/Paris", help_heading = "Periodic transfers")]
    pub timezone: String,
    /// Cadence score at or above which a flow is a systematic transfer (high)
    #[arg(long, default_value_t = 0.5, help_heading = "Periodic transfers")]
    pub cadence_threshold: f64,
    /// Cadence score at or above which a flow is reported for review (low)
    #[arg(long, default_value_t = 0.35, help_heading = "Periodic transfers")]
    pub review_threshold: f64,
    /// Events closer than this (minutes) form one run, e.g. a paged extraction
    #[arg(long, default_value_t = 10, value_name = "MINUTES", help_heading = "Periodic transfers")]
    pub run_gap: u32,
    /// How far (minutes) a run may sit from its calendar slot
    #[arg(long, default_value_t = 90, value_name = "MINUTES", help_heading = "Periodic transfers")]
    pub slot_tolerance: u32,
    /// Events read per chunk: a larger chunk uses more memory and slightly less time; the
    /// findings are the same whatever the size
    #[arg(long, default_value_t = crate::ingest::DEFAULT_CHUNK_ROWS as u64, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(1..))]
    pub chunk_rows: u64,
    /// Spread of run times (robust σ, minutes) at which the tightness factor T halves
    #[arg(long, default_value_t = 45.0, value_name = "MINUTES", help_heading = "Periodic transfers")]
    pub tightness_scale: f64,
    /// A habilitation not reviewed for this many days before the window's end is stale
    #[arg(long, default_value_t = 365, value_name = "DAYS", help_heading = "Habilitations")]
    pub review_days: u32,
    /// Print the duration of each stage on stderr
    #[arg(long, short)]
    pub verbose: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Saved states (driftwatch scan --state-out, audit --state-out)
    #[arg(long, num_args = 1.., required = true, value_name = "FILE")]
    pub state: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Print nothing on success
    #[arg(long, short)]
    pub quiet: bool,
}

/// What an audit writes, where, and when it exits 1: the options `audit` and `merge` share.
#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Output directory
    #[arg(long, value_name = "DIR", default_value = "reports")]
    pub out: PathBuf,
    /// Language of the report
    #[arg(long, value_enum, default_value_t = Lang::En)]
    pub lang: Lang,
    /// Write agent identities raw instead of keyed pseudonyms (ag-…)
    #[arg(long)]
    pub reveal_identities: bool,
    /// Pseudonymisation key (else $DRIFTWATCH_KEY, else <out>/.driftwatch-key, created 0600)
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Sign the manifest with this Ed25519 private key (driftwatch keygen): manifest.json.sig
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
    /// Outputs to write (comma-separated); quarantine.csv and manifest.json are always written
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = OutputFormat::ALL.to_vec())]
    pub format: Vec<OutputFormat>,
    /// Exit with 1 when a finding is at least this severe
    #[arg(long, value_enum, default_value_t = FailOn::High)]
    pub fail_on: FailOn,
    #[command(flatten)]
    pub follow_up: FollowUpArgs,
}

/// Month after month: the options `audit` and `merge` share to compare with the previous audit.
#[derive(Debug, Args)]
pub struct FollowUpArgs {
    /// The previous audit (its output folder, or its findings.json): each finding is new or
    /// ongoing, and the previous findings now gone are listed as resolved
    #[arg(long, value_name = "DIR|FILE", help_heading = "Month after month")]
    pub baseline: Option<PathBuf>,
    /// Decisions about findings (TOML: [[finding]] id, decision = accepted | false_positive |
    /// investigating, reason, by, date, until); accepted and false positives no longer count
    /// for --fail-on and --fail-on-new
    #[arg(long, value_name = "FILE", help_heading = "Month after month")]
    pub triage: Option<PathBuf>,
    /// Exit with 1 only for new findings (not in --baseline, not dismissed by --triage) at
    /// least this severe; replaces --fail-on. Without --baseline every finding is new
    #[arg(long, value_enum, value_name = "SEVERITY", help_heading = "Month after month")]
    pub fail_on_new: Option<FailOn>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Event files or directories
    #[arg(long, num_args = 1.., required = true, value_name = "FILE|DIR")]
    pub events: Vec<PathBuf>,
    /// Longest tolerated silence, in hours of business-day time
    #[arg(long, default_value_t = 24, value_name = "HOURS")]
    pub max_gap: u32,
    /// The log must cover at least this many days (183: six months)
    #[arg(long, default_value_t = 183, value_name = "DAYS")]
    pub min_coverage_days: u32,
    /// Calendar of business days and local time (IANA name)
    #[arg(long, default_value = "Europe/Paris")]
    pub timezone: String,
    /// Source maps for logs that are not the event frame (see `audit --help`)
    #[arg(long, num_args = 1.., value_name = "FILE")]
    pub source_map: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum MapCommand {
    /// Print the first records beside the events they become, and count, over the whole file,
    /// the values no map entry translates (exit 1 when there are any)
    #[command(after_help = "Example:\n  driftwatch map check --events export.csv --source-map export.toml --rows 5")]
    Check(MapCheckArgs),
    /// Sniff a log (delimiter, encoding, header, timestamp format) and write a draft source map
    #[command(after_help = "Example:\n  driftwatch map init --events export.csv --out export.toml")]
    Init(MapInitArgs),
}

#[derive(Debug, Args)]
pub struct MapCheckArgs {
    /// The log to read
    #[arg(long, value_name = "FILE")]
    pub events: PathBuf,
    /// The source map to check
    #[arg(long, value_name = "FILE")]
    pub source_map: PathBuf,
    /// How many records to show side by side
    #[arg(long, default_value_t = 20)]
    pub rows: usize,
}

#[derive(Debug, Args)]
pub struct MapInitArgs {
    /// The log to sniff
    #[arg(long, value_name = "FILE")]
    pub events: PathBuf,
    /// Its format, when the extension does not tell
    #[arg(long, value_enum)]
    pub format: Option<MapFormat>,
    /// Where to write the draft (default: standard output); an existing file is not overwritten
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MapFormat {
    Csv,
    Jsonl,
    Parquet,
    Arrow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    High,
    Medium,
    Low,
    Never,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Which seed document to mirror
    #[arg(long, value_enum)]
    pub scenario: crate::generate::Scenario,
    /// Approximate number of events to write
    #[arg(long, default_value_t = 50_000)]
    pub events: u64,
    /// Output directory (events/, register/, habilitations.csv, truth.json)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Random seed: the same seed gives the same bytes
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Event file format
    #[arg(long, value_enum, default_value_t = crate::generate::EventFormat::Parquet)]
    pub format: crate::generate::EventFormat,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaName {
    Events,
    Register,
    Habilitations,
    Findings,
    SourceMap,
    Routes,
    Triage,
}
