//! Facts for the overview charts, gathered once from the judged events and the register:
//! transfers per recipient and month, and data categories declared versus observed per
//! recipient. Recipients are organisations, never pseudonymised.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use polars::prelude::*;

use crate::detect::chunk::{Chunk, Dictionaries};
use crate::finding::Finding;
use crate::register::RegisterSet;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Overview {
    /// recipient → month (`YYYY-MM`) → transfers and exports.
    pub transfers: BTreeMap<String, BTreeMap<String, u64>>,
    /// Recipients of an `undeclared_recipient` finding.
    pub undeclared: BTreeSet<String>,
    /// recipient → (declared categories in any version, categories observed in what it received).
    pub categories: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
    /// (date, version id) of each register version that came into force after another version
    /// of its processing: marked on the transfers chart.
    pub new_versions: Vec<(chrono::NaiveDate, String)>,
}

impl Overview {
    /// Adds another partition's transfers and observed categories (the register's part is added
    /// once, by [`Overview::finish`]).
    pub fn merge(&mut self, other: Overview) {
        for (recipient, months) in other.transfers {
            let mine = self.transfers.entry(recipient).or_default();
            for (month, transfers) in months {
                *mine.entry(month).or_default() += transfers;
            }
        }
        for (recipient, (declared, observed)) in other.categories {
            let mine = self.categories.entry(recipient).or_default();
            mine.0.extend(declared);
            mine.1.extend(observed);
        }
    }

    /// The same facts with each recipient renamed (pseudonyms for recipients who are people).
    pub fn renamed(self, rename: impl Fn(&str) -> String) -> Overview {
        Overview {
            transfers: self.transfers.into_iter().map(|(k, v)| (rename(&k), v)).collect(),
            undeclared: self.undeclared,
            categories: self.categories.into_iter().map(|(k, v)| (rename(&k), v)).collect(),
            new_versions: self.new_versions,
        }
    }
}

/// The overview's facts while the events stream by, in codes (`detect::chunk`): a transfer
/// costs a hash of two integers, not a month string and two recipient names.
#[derive(Default, Clone)]
pub struct OverviewScan {
    /// (recipient code, months since year 0) → transfers and exports.
    transfers: PlHashMap<(u32, i32), u64>,
    /// recipient code → category codes observed in what it received.
    categories: PlHashMap<u32, PlHashSet<u32>>,
    /// The last day seen and its month: consecutive transfers mostly share a day.
    last_day: Option<(i64, i32)>,
}

impl OverviewScan {
    /// Adds one chunk's transfers and exports.
    pub fn scan(&mut self, chunk: &Chunk) {
        let codes = chunk.codes;
        for row in (0..codes.len()).filter(|&row| codes.outbound[row]) {
            let month = self.month_of(codes.ts[row]);
            *self.transfers.entry((codes.recipient[row], month)).or_default() += 1;
            self.categories.entry(codes.recipient[row]).or_default().extend(codes.categories_of(row));
        }
    }

    fn month_of(&mut self, ts: i64) -> i32 {
        let day = ts.div_euclid(86_400_000_000);
        match self.last_day {
            Some((last, month)) if last == day => month,
            _ => {
                let date = chrono::DateTime::from_timestamp_micros(ts).map(|t| t.date_naive()).unwrap_or_default();
                let month = date.year() * 12 + date.month0() as i32;
                self.last_day = Some((day, month));
                month
            }
        }
    }

    /// The facts in words.
    pub fn finish(self, dictionaries: &Dictionaries) -> Overview {
        let recipient = |code: u32| dictionaries.recipient.name(code).to_string();
        let mut overview = Overview::default();
        for ((code, month), transfers) in self.transfers {
            let month = format!("{:04}-{:02}", month.div_euclid(12), month.rem_euclid(12) + 1);
            *overview.transfers.entry(recipient(code)).or_default().entry(month).or_default() += transfers;
        }
        for (code, categories) in self.categories {
            let observed = &mut overview.categories.entry(recipient(code)).or_default().1;
            observed.extend(categories.into_iter().filter_map(|c| dictionaries.category.text(c)).map(str::to_string));
        }
        overview
    }
}

impl Overview {
    /// Adds what the register declares and which recipients the findings say are undeclared.
    pub fn finish(mut self, register: &RegisterSet, findings: &[Finding]) -> Overview {
        for version in &register.versions {
            for entry in &version.doc.recipients {
                self.categories.entry(entry.id.clone()).or_default().0.extend(entry.categories.iter().cloned());
            }
        }
        // Versions are sorted by (processing, in_force_from): a version following one of the
        // same processing replaced it.
        for pair in register.versions.windows(2) {
            if pair[0].doc.processing == pair[1].doc.processing {
                self.new_versions.push((pair[1].from, pair[1].id.clone()));
            }
        }
        self.new_versions.sort();
        self.undeclared = findings
            .iter()
            .filter(|f| f.detector == "undeclared_recipient")
            .filter_map(|f| f.recipient.clone())
            .collect();
        self
    }
}
