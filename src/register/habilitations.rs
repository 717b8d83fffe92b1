//! Habilitations (grants): `actor_id, role, scope, granted_at, revoked_at, reviewed_at`, from
//! CSV, JSON lines or Parquet. Reference data is strict: a bad row is an error naming the file,
//! the row and the column (exit 2), because silently dropping a grant would invent violations.

use std::path::Path;

use polars::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::ingest::timestamp::{parse_date_days, parse_timestamp_us};

pub const COLUMNS: [&str; 6] = ["actor_id", "role", "scope", "granted_at", "revoked_at", "reviewed_at"];
const REQUIRED: [&str; 4] = ["actor_id", "role", "scope", "granted_at"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub actor_id: String,
    pub role: String,
    /// A unit, or `*` for every unit.
    pub scope: String,
    /// Microseconds since the epoch, UTC.
    pub granted_at: i64,
    pub revoked_at: Option<i64>,
    pub reviewed_at: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct Habilitations {
    pub file: String,
    pub sha256: String,
    pub grants: Vec<Grant>,
}

pub fn load(path: &Path) -> Result<Habilitations> {
    let file = path.display().to_string();
    let (frame, lines) = crate::ingest::read_reference_table(path)?;
    for column in REQUIRED {
        if frame.column(column).is_err() {
            return Err(Error::MissingColumn {
                file,
                column: column.into(),
                required: REQUIRED.join(", "),
                hint: String::new(),
            });
        }
    }
    let text_columns: Vec<Option<Column>> = COLUMNS
        .iter()
        .map(|name| frame.column(name).ok().map(|c| c.cast(&DataType::String).unwrap_or_else(|_| c.clone())))
        .collect();
    let mut grants = Vec::with_capacity(frame.height());
    for row in 0..frame.height() {
        let cell = |index: usize| -> Option<String> {
            // Columns were cast to text above: read them as text, never through a Display
            // that might quote the value.
            let text = text_columns[index].as_ref()?.str().ok()?.get(row)?;
            Some(text.trim().to_string()).filter(|t| !t.is_empty())
        };
        let location = |column: &str| match lines.line_of(row) {
            Some(line) => format!("line {line}, column `{column}`"),
            None => format!("row {}, column `{column}`", row + 1),
        };
        let bad =
            |column: &str, message: String| Error::Input { file: file.clone(), location: location(column), message };
        let required = |index: usize| cell(index).ok_or_else(|| bad(COLUMNS[index], "empty required field".into()));
        let instant = |index: usize| -> Result<Option<i64>> {
            cell(index)
                .map(|text| parse_instant(&text).map_err(|reason| bad(COLUMNS[index], format!("`{text}`: {reason}"))))
                .transpose()
        };
        let grant = Grant {
            actor_id: required(0)?,
            role: required(1)?,
            scope: required(2)?,
            granted_at: instant(3)?.ok_or_else(|| bad("granted_at", "empty required field".into()))?,
            revoked_at: instant(4)?,
            reviewed_at: instant(5)?,
        };
        if grant.revoked_at.is_some_and(|revoked| revoked < grant.granted_at) {
            return Err(bad("revoked_at", "revoked before it was granted".into()));
        }
        grants.push(grant);
    }
    grants.sort_by(|a, b| {
        (&a.actor_id, &a.role, &a.scope, a.granted_at).cmp(&(&b.actor_id, &b.role, &b.scope, b.granted_at))
    });
    Ok(Habilitations { sha256: crate::hashing::sha256_file(path)?, file, grants })
}

/// A timestamp, or a plain date meaning midnight UTC.
fn parse_instant(text: &str) -> std::result::Result<i64, &'static str> {
    parse_timestamp_us(text).or_else(|_| {
        parse_date_days(text).map(|days| days as i64 * 86_400_000_000).map_err(|_| "not a date or RFC 3339 timestamp")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_reports_bad_rows_with_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("h.csv");
        std::fs::write(
            &good,
            "actor_id,role,scope,granted_at,revoked_at,reviewed_at\nag1,agent,UC-75,2020-01-01,,2021-01-01\nag2,agent,*,2020-01-01T08:00:00Z,2021-06-01,\n",
        )
        .unwrap();
        let loaded = load(&good).unwrap();
        assert_eq!(loaded.grants.len(), 2);
        assert_eq!(loaded.grants[1].revoked_at, Some(parse_instant("2021-06-01").unwrap()));

        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "actor_id,role,scope,granted_at\nag1,agent,*,2020-01-01\nag2,agent,*,soon\n").unwrap();
        let error = load(&bad).err().unwrap().to_string();
        assert!(error.contains("bad.csv:line 3, column `granted_at`"), "{error}");
    }
}
