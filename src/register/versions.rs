//! Which register version judges each event: the version of the processing that declares the
//! event's dataset, in force at the event's timestamp. Computed as one lazy expression (a
//! `when/then` chain over the few versions), so it costs a single pass over the events.
//!
//! Register dates are whole days in UTC: a version in force from `2022-03-01` covers
//! `2022-03-01T00:00:00Z` onwards.

use chrono::NaiveDate;
use polars::prelude::*;

use super::RegisterSet;
use crate::event;

/// Column added to the event frame: index of the version in force, null when none covers it.
pub const REGISTER_VERSION: &str = "register_version";

pub fn day_start_us(date: NaiveDate) -> i64 {
    date.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_micros()
}

fn timestamp_literal(us: i64) -> Expr {
    lit(us).cast(event::timestamp_type())
}

/// `register_version` for each event (null where no version in force declares its dataset).
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
