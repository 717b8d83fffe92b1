//! An audit among the audits before it: the previous audit's findings (`--baseline`: new,
//! ongoing, resolved, escalated), the decisions recorded about findings (`--triage`), and the
//! differences between two audits (`driftwatch diff`). Above the findings and the
//! pseudonyms (ids are compared as written), below the reports that show it.

pub mod baseline;
pub mod diff;
pub mod triage;

pub use baseline::{Baseline, Previous};
pub use triage::{TriageFile, TriageReport};

/// What the reports say about this audit's place in the series: None without a baseline or a
/// triage file.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SinceLastAudit {
    /// The previous audit's findings that are gone (with `--baseline`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolved: Option<Vec<Previous>>,
    /// What the triage file did (with `--triage`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triage: Option<TriageReport>,
}
