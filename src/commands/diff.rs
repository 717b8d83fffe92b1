//! `driftwatch diff A B`: what changed between two audits (output folders or findings.json).
//! Exit 0 when nothing did, 1 when something did (as diff(1)), 2 when an input cannot be read.

use std::path::Path;

use crate::error::Result;
use crate::history::{Baseline, diff};

pub fn run(a: &Path, b: &Path, json: bool) -> Result<i32> {
    let (before, after) = (Baseline::load(a)?, Baseline::load(b)?);
    if let (Some(one), Some(other)) = (&before.key_id, &after.key_id)
        && one != other
        && before.revealed != Some(true)
    {
        eprintln!(
            "driftwatch: warning: {} and {} were pseudonymised with different keys ({one}, {other}): findings about agents cannot match",
            a.display(),
            b.display()
        );
    }
    let differences = diff::diff(&before, &after);
    if json {
        // Cannot fail: the differences are text, numbers and lists.
        crate::outln!("{}", serde_json::to_string_pretty(&differences).expect("differences serialise"));
    } else {
        crate::outln!("{}", differences.text());
    }
    Ok(i32::from(!differences.is_empty()))
}
