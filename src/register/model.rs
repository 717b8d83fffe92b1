//! The register as written in TOML (`schemas/register.schema.json`, `contracts.md`): one file
//! per version of one processing's declaration. Unknown keys are rejected so that a typo
//! (`catgories = [...]`) is an error naming the key rather than a silently empty declaration.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterFile {
    pub processing: String,
    #[serde(default)]
    pub title: Option<String>,
    pub in_force_from: DateValue,
    /// Exclusive; absent = still in force.
    #[serde(default)]
    pub in_force_until: Option<DateValue>,
    /// When this version became known (used by `--as-of`); optional.
    #[serde(default)]
    pub recorded_at: Option<DateValue>,
    #[serde(default)]
    pub legal_ref: Option<String>,
    #[serde(default, rename = "dataset")]
    pub datasets: Vec<Dataset>,
    #[serde(default, rename = "role")]
    pub roles: Vec<Role>,
    #[serde(default, rename = "purpose")]
    pub purposes: Vec<Purpose>,
    #[serde(default, rename = "recipient")]
    pub recipients: Vec<Recipient>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dataset {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    /// Counted from each event's `record_date`.
    #[serde(default)]
    pub retention_days: Option<u32>,
    #[serde(default)]
    pub legal_ref: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    /// Management roles may not watch one agent's own activity.
    #[serde(default)]
    pub management: bool,
    /// Service or batch accounts: not people, so never pseudonymised. Roles named `batch` or
    /// `service` are service roles even without this key.
    #[serde(default)]
    pub service: bool,
}

impl Role {
    pub fn is_service(&self) -> bool {
        self.service || self.id == "batch" || self.id == "service"
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Purpose {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    pub datasets: Vec<String>,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub legal_ref: Option<String>,
    #[serde(default)]
    pub monitoring: Option<Monitoring>,
    #[serde(default)]
    pub min_group_size: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Monitoring {
    /// Only aggregated statistics: no event may target one agent; every cell ≥ min_group_size.
    AggregateOnly,
    /// Individual follow-up is part of the declared purpose.
    Individual,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Recipient {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    pub datasets: Vec<String>,
    #[serde(default)]
    pub categories: Vec<String>,
    pub mode: Mode,
    #[serde(default)]
    pub legal_ref: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Punctual communication, each transfer justified by a `request_ref`; no schedule.
    OnRequest,
    /// A declared automatic flow.
    Scheduled,
}

/// A date written as a TOML string (`"2015-10-06"`, as in the contract) or a bare TOML date.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum DateValue {
    Text(String),
    Toml(toml::value::Datetime),
}

impl DateValue {
    pub fn to_date(&self) -> Result<NaiveDate, String> {
        let text = match self {
            DateValue::Text(text) => text.clone(),
            DateValue::Toml(datetime) => datetime.to_string(),
        };
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map_err(|_| format!("`{text}` is not a date (expected YYYY-MM-DD)"))
    }
}
