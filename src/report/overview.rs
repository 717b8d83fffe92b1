//! Facts for the overview charts, gathered once from the judged events and the register:
//! transfers per recipient and month, and data categories declared versus observed per
//! recipient. Recipients are organisations, never pseudonymised.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use polars::prelude::*;

use crate::error::{PolarsContext, Result};
use crate::event::{self, CATEGORIES, RECIPIENT, TS};
use crate::finding::Finding;
use crate::register::RegisterSet;

#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// recipient → month (`YYYY-MM`) → transfers and exports.
    pub transfers: BTreeMap<String, BTreeMap<String, u64>>,
    /// Recipients of an `undeclared_recipient` finding.
    pub undeclared: BTreeSet<String>,
    /// recipient → (declared categories in any version, categories observed in what it received).
    pub categories: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
}

impl Overview {
    /// The same facts with each recipient renamed (pseudonyms for recipients who are people).
    pub fn renamed(self, rename: impl Fn(&str) -> String) -> Overview {
        Overview {
            transfers: self.transfers.into_iter().map(|(k, v)| (rename(&k), v)).collect(),
            undeclared: self.undeclared,
            categories: self.categories.into_iter().map(|(k, v)| (rename(&k), v)).collect(),
        }
    }
}

/// Overview facts from the judged events and the register (one frame; [`Overview::scan`] and
/// [`Overview::finish`] do the same chunk by chunk).
pub fn gather(events: &DataFrame, register: &RegisterSet, findings: &[Finding]) -> Result<Overview> {
    let mut overview = Overview::default();
    overview.scan(events)?;
    Ok(overview.finish(register, findings))
}

impl Overview {
    /// Adds one chunk's transfers and exports.
    pub fn scan(&mut self, events: &DataFrame) -> Result<()> {
        let outbound = events
            .clone()
            .lazy()
            .select([
                col(RECIPIENT),
                col(TS).cast(DataType::Int64),
                col(CATEGORIES),
                event::is_outbound().alias("outbound"),
            ])
            .filter(col("outbound"))
            .collect()
            .polars("gathering transfers for the overview")?;
        let recipients = outbound.column(RECIPIENT).and_then(|c| c.str()).polars("recipient")?;
        let times = outbound.column(TS).and_then(|c| c.i64()).polars("ts")?;
        let categories = outbound.column(CATEGORIES).and_then(|c| c.list()).polars("categories")?;
        for ((recipient, ts), list) in recipients.iter().zip(times.iter()).zip(categories.amortized_iter()) {
            let (Some(recipient), Some(ts)) = (recipient, ts) else { continue };
            let date = chrono::DateTime::from_timestamp_micros(ts).expect("timestamp").date_naive();
            let month = format!("{:04}-{:02}", date.year(), date.month());
            *self.transfers.entry(recipient.to_string()).or_default().entry(month).or_default() += 1;
            let observed = &mut self.categories.entry(recipient.to_string()).or_default().1;
            if let Some(series) = list
                && let Ok(values) = series.as_ref().str()
            {
                observed.extend(values.iter().flatten().map(str::to_string));
            }
        }
        Ok(())
    }

    /// Adds what the register declares and which recipients the findings say are undeclared.
    pub fn finish(mut self, register: &RegisterSet, findings: &[Finding]) -> Overview {
        for version in &register.versions {
            for entry in &version.doc.recipients {
                self.categories.entry(entry.id.clone()).or_default().0.extend(entry.categories.iter().cloned());
            }
        }
        self.undeclared = findings
            .iter()
            .filter(|f| f.detector == "undeclared_recipient")
            .filter_map(|f| f.recipient.clone())
            .collect();
        self
    }
}
