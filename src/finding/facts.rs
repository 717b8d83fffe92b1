//! What each detector found, as facts: one variant per detector. Detectors write facts only;
//! `report/` composes every sentence from them (the summary, the rule broken, the legal reference,
//! in English and in French), with one exhaustive `match` per language, so a new detector does
//! not compile until it has its words.
//!
//! `findings.json`'s `details` is the serialised facts (keys sorted): fields marked
//! `#[serde(skip)]` are what the sentences need beyond the machine fields (the declared list a
//! rule quotes, a legal reference quoted from the register), so `details` gains nothing by
//! accident. The subject of a finding (dataset, recipient, actor, target, purpose) is never
//! repeated here: the sentences read it from the finding, after pseudonymisation.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One detector's facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Facts {
    RegisterGap(RegisterGap),
    UndeclaredRecipient(UndeclaredRecipient),
    CategoryCreep(CategoryCreep),
    PeriodicTransfer(Box<PeriodicTransfer>),
    IndividualMonitoring(IndividualMonitoring),
    SmallCell(SmallCell),
    OutsideHabilitation(OutsideHabilitation),
    StaleHabilitation(StaleHabilitation),
    RetentionOverrun(RetentionOverrun),
    Integrity(Integrity),
}

impl Facts {
    /// The detector that found these facts (its `Detector::name`).
    pub fn detector(&self) -> &'static str {
        match self {
            Facts::RegisterGap(_) => "register_gap",
            Facts::UndeclaredRecipient(_) => "undeclared_recipient",
            Facts::CategoryCreep(_) => "category_creep",
            Facts::PeriodicTransfer(_) => "periodic_transfer",
            Facts::IndividualMonitoring(_) => "individual_monitoring",
            Facts::SmallCell(_) => "small_cell",
            Facts::OutsideHabilitation(_) => "outside_habilitation",
            Facts::StaleHabilitation(_) => "stale_habilitation",
            Facts::RetentionOverrun(_) => "retention_overrun",
            Facts::Integrity(_) => "integrity",
        }
    }

    /// The machine fields, keys sorted (`findings.json`'s `details`, the tables' `details`).
    pub fn details(&self) -> BTreeMap<String, Value> {
        // Cannot fail: facts are structs of text, numbers, lists and text-keyed maps.
        match serde_json::to_value(self).expect("facts serialise") {
            Value::Object(fields) => fields.into_iter().collect(),
            _ => BTreeMap::new(),
        }
    }
}

/// Events no register version covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegisterGap {
    #[serde(flatten)]
    pub gap: Gap,
    /// The datasets of the events.
    pub datasets: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "gap", rename_all = "snake_case")]
pub enum Gap {
    /// No version of the processing's register in force between these dates (None: open).
    Uncovered { processing: String, from: Option<String>, to: Option<String> },
    /// The version in force does not declare the dataset.
    DatasetNotInVersion {
        #[serde(skip)]
        dataset: String,
        version: String,
        version_file: String,
    },
    /// No register declares the dataset at all.
    UnknownDataset {
        #[serde(skip)]
        dataset: String,
    },
}

/// A transfer or export to a recipient the register in force does not declare for the dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UndeclaredRecipient {
    /// The processing whose register was read.
    #[serde(skip)]
    pub processing: String,
    /// The datasets the recipient is declared for (none: not declared at all).
    #[serde(skip)]
    pub declared_for: Vec<String>,
    #[serde(skip)]
    pub legal_ref: String,
}

/// Categories sent or read beyond those declared (the undeclared ones are the finding's
/// `categories`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryCreep {
    /// What the events were judged against.
    #[serde(skip)]
    pub against: Declaration,
    /// The categories it declares.
    #[serde(skip)]
    pub declared: Vec<String>,
    #[serde(skip)]
    pub legal_ref: String,
}

/// The declaration a category creep was judged against.
#[derive(Debug, Clone, PartialEq)]
pub enum Declaration {
    /// The `[[recipient]]` entry for the dataset (the finding's recipient).
    Recipient,
    /// The purpose the events name (the finding's purpose).
    Purpose,
    /// Every purpose covering the dataset (the events name none): their ids.
    PurposesCovering(Vec<String>),
    /// No purpose of the processing covers the dataset.
    NoPurpose { processing: String },
}

/// A flow of transfers that follows a schedule where only punctual communication is lawful.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodicTransfer {
    /// The schedule as machine fields (family, parameters, time of day, time base, description).
    pub cadence: Value,
    /// `all`, or `without_request_ref` (the transfers carrying no request reference).
    pub subset: &'static str,
    pub runs: usize,
    pub matched_slots: usize,
    pub expected_slots: usize,
    pub coverage: f64,
    pub explained_share: f64,
    pub spread_minutes: f64,
    /// `fixed_instant`, `once_per_period` or `interval`.
    pub kind: Value,
    /// Periods holding a run, excused periods (once-per-period schedules only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub occupancy: Option<Value>,
    pub rejected_hypotheses: Value,
    pub missed_slot_dates: Vec<String>,
    /// The first ad-hoc transfers (no slot explains them).
    pub ad_hoc_events: Vec<String>,
    pub total_volume: f64,
    /// How many transfers no slot explains (`ad_hoc_events` is capped).
    #[serde(skip)]
    pub ad_hoc: usize,
    /// Whether the register in force declares the recipient for the dataset (on request).
    #[serde(skip)]
    pub recipient_declared: bool,
    #[serde(skip)]
    pub processing: String,
    #[serde(skip)]
    pub legal_ref: String,
}

/// A management role watching individual agents where only aggregated statistics are allowed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndividualMonitoring {
    pub agents_watched: usize,
    pub months_active: usize,
    pub months: BTreeSet<String>,
    pub events_by_unit: BTreeMap<String, u64>,
    pub agents_watched_by_month: BTreeMap<String, usize>,
    pub rankings: u64,
    /// The first 50 agents watched (pseudonymised with the finding).
    pub watched_agents: Vec<String>,
    #[serde(skip)]
    pub legal_ref: String,
}

/// Aggregated reports whose cells are smaller than the declared minimum.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SmallCell {
    pub smallest_cell: i64,
    pub min_group_size: u32,
    #[serde(skip)]
    pub legal_ref: String,
}

/// Events outside every grant of the actor, or in a role no purpose allows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutsideHabilitation {
    pub reason: HabilitationReason,
    pub datasets: Vec<String>,
    pub roles: Vec<String>,
    /// The habilitations file the grants were looked for in (first 16 hex digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub habilitations_sha256: Option<String>,
    #[serde(skip)]
    pub processing: String,
    /// The register's legal reference (for a role no purpose allows).
    #[serde(skip)]
    pub legal_ref: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HabilitationReason {
    RoleNotAllowed,
    NeverGranted,
    NotYetGranted,
    Revoked,
    OutOfScope,
}

impl HabilitationReason {
    pub fn name(self) -> &'static str {
        match self {
            HabilitationReason::RoleNotAllowed => "role_not_allowed",
            HabilitationReason::NeverGranted => "never_granted",
            HabilitationReason::NotYetGranted => "not_yet_granted",
            HabilitationReason::Revoked => "revoked",
            HabilitationReason::OutOfScope => "out_of_scope",
        }
    }
}

/// A grant not reviewed in time or unused, or no review recorded at all.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason")]
pub enum StaleHabilitation {
    #[serde(rename = "not_reviewed")]
    NotReviewed(StaleGrant),
    #[serde(rename = "unused")]
    Unused(StaleGrant),
    #[serde(rename = "not_reviewed+unused")]
    NotReviewedAndUnused(StaleGrant),
    /// No active grant records a review date: one finding for all of them.
    #[serde(rename = "no_review_recorded")]
    NoReviewRecorded {
        grants: usize,
        /// Active grants per role.
        roles: BTreeMap<String, u64>,
        review_days: u32,
    },
}

impl StaleHabilitation {
    /// The grant and why it is stale: (grant, not reviewed in time, unused in the window);
    /// None when the finding is about every grant (no review recorded).
    pub fn grant(&self) -> Option<(&StaleGrant, bool, bool)> {
        match self {
            StaleHabilitation::NotReviewed(grant) => Some((grant, true, false)),
            StaleHabilitation::Unused(grant) => Some((grant, false, true)),
            StaleHabilitation::NotReviewedAndUnused(grant) => Some((grant, true, true)),
            StaleHabilitation::NoReviewRecorded { .. } => None,
        }
    }

    /// How many active grants the finding is about.
    pub fn grants(&self) -> usize {
        match self {
            StaleHabilitation::NoReviewRecorded { grants, .. } => *grants,
            _ => 1,
        }
    }

    /// The review period the audit used (`--review-days`).
    pub fn review_days(&self) -> u32 {
        match self {
            StaleHabilitation::NotReviewed(grant)
            | StaleHabilitation::Unused(grant)
            | StaleHabilitation::NotReviewedAndUnused(grant) => grant.review_days,
            StaleHabilitation::NoReviewRecorded { review_days, .. } => *review_days,
        }
    }
}

/// The grant a stale-habilitation finding is about (its actor is the finding's).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleGrant {
    pub role: String,
    pub scope: String,
    /// RFC 3339.
    pub granted_at: String,
    /// RFC 3339; None: never reviewed.
    pub reviewed_at: Option<String>,
    pub review_days: u32,
}

/// Records used past the retention declared for their dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetentionOverrun {
    /// The action that used them (`export`, `read`…).
    pub reason: String,
    /// `YYYY-MM-DD`.
    pub oldest_record_date: String,
    pub largest_excess_days: i64,
    pub retention_days: u32,
    #[serde(skip)]
    pub legal_ref: String,
}

/// A problem with the log itself.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Integrity {
    /// Event ids used by more than one row (the first of them are the evidence).
    DuplicateIds {
        /// Always `duplicate_event_id`.
        reason: &'static str,
        duplicated_ids: usize,
    },
    /// Broken links, altered rows, missing hashes, time backwards, gaps, short coverage: one
    /// kind of problem in one file.
    Chain {
        /// The kind of problem (`broken_link`, `gap`…).
        reason: &'static str,
        file: String,
        /// The rows concerned (the first of them).
        rows: Vec<u32>,
        /// The first problems, each "row N: what".
        messages: Vec<String>,
        #[serde(skip)]
        first_row: u32,
        #[serde(skip)]
        first_message: String,
    },
}

macro_rules! facts_from {
    ($($variant:ident($type:ty)),* $(,)?) => {
        $(impl From<$type> for Facts {
            fn from(facts: $type) -> Facts {
                Facts::$variant(facts.into())
            }
        })*
    };
}

facts_from!(
    RegisterGap(RegisterGap),
    UndeclaredRecipient(UndeclaredRecipient),
    CategoryCreep(CategoryCreep),
    PeriodicTransfer(PeriodicTransfer),
    IndividualMonitoring(IndividualMonitoring),
    SmallCell(SmallCell),
    OutsideHabilitation(OutsideHabilitation),
    StaleHabilitation(StaleHabilitation),
    RetentionOverrun(RetentionOverrun),
    Integrity(Integrity),
);

/// Tests build findings of a detector by its name: the simplest facts it can have.
#[cfg(test)]
impl From<&str> for Facts {
    fn from(detector: &str) -> Facts {
        let grant = || StaleGrant {
            role: "agent".into(),
            scope: "*".into(),
            granted_at: "2020-01-01T00:00:00Z".into(),
            reviewed_at: None,
            review_days: 365,
        };
        match detector {
            "register_gap" => RegisterGap { gap: Gap::UnknownDataset { dataset: "d".into() }, datasets: vec!["d".into()] }.into(),
            "undeclared_recipient" => UndeclaredRecipient { processing: "p".into(), declared_for: vec![], legal_ref: "register p".into() }.into(),
            "category_creep" => CategoryCreep { against: Declaration::Recipient, declared: vec![], legal_ref: "register p".into() }.into(),
            "periodic_transfer" => PeriodicTransfer {
                cadence: serde_json::json!({"family": "daily", "description": "every day at 06:00", "time": "06:00", "time_base": "UTC"}),
                subset: "all",
                runs: 0,
                matched_slots: 0,
                expected_slots: 0,
                coverage: 0.0,
                explained_share: 0.0,
                spread_minutes: 0.0,
                kind: serde_json::json!("fixed_instant"),
                occupancy: None,
                rejected_hypotheses: serde_json::json!([]),
                missed_slot_dates: vec![],
                ad_hoc_events: vec![],
                total_volume: 0.0,
                ad_hoc: 0,
                recipient_declared: true,
                processing: "p".into(),
                legal_ref: "register p".into(),
            }
            .into(),
            "individual_monitoring" => IndividualMonitoring {
                agents_watched: 0,
                months_active: 0,
                months: BTreeSet::new(),
                events_by_unit: BTreeMap::new(),
                agents_watched_by_month: BTreeMap::new(),
                rankings: 0,
                watched_agents: vec![],
                legal_ref: "register p".into(),
            }
            .into(),
            "small_cell" => SmallCell { smallest_cell: 1, min_group_size: 5, legal_ref: "register p".into() }.into(),
            "outside_habilitation" => OutsideHabilitation {
                reason: HabilitationReason::NeverGranted,
                datasets: vec!["d".into()],
                roles: vec!["agent".into()],
                habilitations_sha256: None,
                processing: "p".into(),
                legal_ref: "register p".into(),
            }
            .into(),
            "stale_habilitation" => StaleHabilitation::NotReviewed(grant()).into(),
            "retention_overrun" => RetentionOverrun {
                reason: "read".into(),
                oldest_record_date: "2020-01-01".into(),
                largest_excess_days: 1,
                retention_days: 30,
                legal_ref: "register p".into(),
            }
            .into(),
            _ => Integrity::DuplicateIds { reason: "duplicate_event_id", duplicated_ids: 1 }.into(),
        }
    }
}
