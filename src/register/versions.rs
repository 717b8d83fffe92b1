//! Which register version judges each event: the version of the processing that declares the
//! event's dataset, in force at the event's timestamp. The audit looks it up per dataset code
//! ([`declaring`], [`in_force_at`], used by `detect::chunk::Judge`); in tests, `reference::version_in_force`
//! says the same as one lazy expression (a `when/then` chain over the few versions), the
//! reference the lookup is checked against.
//!
//! Register dates are whole days in UTC: a version in force from `2022-03-01` covers
//! `2022-03-01T00:00:00Z` onwards.

use chrono::NaiveDate;

use super::RegisterSet;

/// Column added to the event frame: index of the version in force, null when none covers it.
pub const REGISTER_VERSION: &str = "register_version";

pub fn day_start_us(date: NaiveDate) -> i64 {
    // Cannot fail: 00:00:00 is a time of every day.
    date.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_micros()
}

/// When a version declaring a dataset is in force: from (µs, inclusive), until (µs, exclusive),
/// and the version's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InForce {
    pub from_us: i64,
    pub until_us: Option<i64>,
    pub version: i32,
}

/// The versions declaring `dataset`, in the order [`version_in_force`] tries them.
pub fn declaring(register: &RegisterSet, dataset: &str) -> Vec<InForce> {
    register
        .versions
        .iter()
        .filter(|version| version.doc.datasets.iter().any(|d| d.id == dataset))
        .map(|version| InForce {
            from_us: day_start_us(version.from),
            until_us: version.until.map(day_start_us),
            version: version.index as i32,
        })
        .collect()
}

/// The version in force at `ts` among those declaring a dataset ([`declaring`]), the same as
/// `reference::version_in_force` computes for a frame: the first whose period holds `ts`.
pub fn in_force_at(periods: &[InForce], ts: i64) -> Option<i32> {
    periods.iter().find(|p| ts >= p.from_us && p.until_us.is_none_or(|until| ts < until)).map(|p| p.version)
}

#[cfg(test)]
pub mod reference {
    //! The version in force as one lazy expression: what [`super::in_force_at`] is checked against.
    use polars::prelude::*;

    use super::*;
    use crate::event;

    fn timestamp_literal(us: i64) -> Expr {
        lit(us).cast(event::timestamp_type())
    }

    /// `register_version` for each event (null where no version in force declares its dataset), as
    /// one lazy expression: the reference [`in_force_at`] is tested against.
    pub fn version_in_force(register: &RegisterSet) -> Expr {
        let mut expression = lit(NULL).cast(DataType::Int32);
        for version in register.versions.iter().rev() {
            let datasets: Vec<Expr> =
                version.doc.datasets.iter().map(|d| col(event::DATASET).eq(lit(d.id.clone()))).collect();
            let Some(declares) = datasets.into_iter().reduce(|a, b| a.or(b)) else {
                continue;
            };
            let mut condition = declares.and(col(event::TS).gt_eq(timestamp_literal(day_start_us(version.from))));
            if let Some(until) = version.until {
                condition = condition.and(col(event::TS).lt(timestamp_literal(day_start_us(until))));
            }
            expression = when(condition).then(lit(version.index as i32)).otherwise(expression);
        }
        expression.alias(REGISTER_VERSION)
    }
}
