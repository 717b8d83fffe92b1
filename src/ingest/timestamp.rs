//! Parsing of the textual timestamps and dates found in CSV and JSON lines logs.
//!
//! Accepted: RFC 3339 with `Z` or a numeric offset (`2021-03-02T06:14:00Z`,
//! `2021-03-02T07:14:00+01:00`, a space instead of `T`, fractional seconds), and the same without
//! an offset, which is read as UTC (documented in the README and the events schema). Everything is
//! normalised to microseconds since the Unix epoch, UTC.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

/// Microseconds since 1970-01-01T00:00:00Z, or a reason the text is not a timestamp.
pub fn parse_timestamp_us(text: &str) -> Result<i64, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty timestamp");
    }
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
        return Ok(with_offset.timestamp_micros());
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(naive.and_utc().timestamp_micros());
        }
    }
    Err("not an RFC 3339 timestamp (expected e.g. 2021-03-02T06:14:00Z or 2021-03-02T07:14:00+01:00)")
}

/// Days since 1970-01-01, or a reason the text is not a date. A full timestamp is accepted and
/// its UTC date kept, since some systems log `record_date` with a time.
pub fn parse_date_days(text: &str) -> Result<i32, &'static str> {
    let text = text.trim();
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(days_since_epoch(date));
    }
    match parse_timestamp_us(text) {
        Ok(us) => Ok(us.div_euclid(86_400_000_000) as i32),
        Err(_) => Err("not a date (expected YYYY-MM-DD)"),
    }
}

pub fn days_since_epoch(date: NaiveDate) -> i32 {
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// Formats microseconds since the epoch as RFC 3339 UTC with second precision (`…Z`), or with
/// microseconds when the value has a sub-second part.
pub fn format_us(us: i64) -> String {
    let dt = DateTime::from_timestamp_micros(us).expect("timestamp in chrono range");
    if us % 1_000_000 == 0 {
        dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_normalised_to_utc() {
        let z = parse_timestamp_us("2021-03-02T06:14:00Z").unwrap();
        let plus_one = parse_timestamp_us("2021-03-02T07:14:00+01:00").unwrap();
        assert_eq!(z, plus_one);
        assert_eq!(format_us(z), "2021-03-02T06:14:00Z");
    }

    #[test]
    fn naive_and_space_separated_are_utc() {
        let z = parse_timestamp_us("2021-03-02T06:14:00Z").unwrap();
        assert_eq!(parse_timestamp_us("2021-03-02 06:14:00").unwrap(), z);
        assert_eq!(parse_timestamp_us("2021-03-02T06:14:00").unwrap(), z);
        assert_eq!(parse_timestamp_us(" 2021-03-02T06:14:00.000Z ").unwrap(), z);
    }

    #[test]
    fn fractional_seconds_are_kept() {
        let us = parse_timestamp_us("2021-03-02T06:14:00.123456Z").unwrap();
        assert_eq!(us % 1_000_000, 123_456);
        assert_eq!(format_us(us), "2021-03-02T06:14:00.123456Z");
    }

    #[test]
    fn garbage_is_rejected_with_a_reason() {
        for bad in ["", "yesterday", "2021-13-02T06:14:00Z", "2021-03-02", "1614665640"] {
            assert!(parse_timestamp_us(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date_days("1970-01-02").unwrap(), 1);
        assert_eq!(parse_date_days("1969-12-31").unwrap(), -1);
        assert_eq!(parse_date_days("2021-03-02T23:59:00Z").unwrap(), parse_date_days("2021-03-02").unwrap());
        assert!(parse_date_days("02/03/2021").is_err());
    }
}
