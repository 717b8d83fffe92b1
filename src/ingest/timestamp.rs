//! Parsing of the textual timestamps and dates found in CSV and JSON lines logs.
//!
//! Accepted: RFC 3339 with `Z` or a numeric offset (`2021-03-02T06:14:00Z`,
//! `2021-03-02T07:14:00+01:00`, a space instead of `T`, fractional seconds), and the same without
//! an offset, which is read as UTC (documented in docs/guide.md and the events schema). Everything is
//! normalised to microseconds since the Unix epoch, UTC.

use chrono::format::{Fixed, Item, Numeric, Pad};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

/// Microseconds since 1970-01-01T00:00:00Z, or a reason the text is not a timestamp.
pub fn parse_timestamp_us(text: &str) -> Result<i64, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty timestamp");
    }
    match parse_written(text) {
        Some(Written::Instant(us)) => Ok(us),
        Some(Written::Local(naive)) => Ok(naive.and_utc().timestamp_micros()),
        None => Err("not an RFC 3339 timestamp (expected e.g. 2021-03-02T06:14:00Z or 2021-03-02T07:14:00+01:00)"),
    }
}

/// What an RFC 3339 timestamp text says: an instant (it has an offset), or a wall-clock time
/// without one (the event frame reads it as UTC, a source map in its `timezone`).
pub enum Written {
    Instant(i64),
    Local(NaiveDateTime),
}

pub fn parse_written(text: &str) -> Option<Written> {
    // What exports write most (`2021-03-02T06:14:00Z`, with or without a fraction), read by
    // position; any other text goes to chrono, which decides (tests: the same instants).
    if let Some(utc) = UTC_LAYOUT.parse(text) {
        return Some(Written::Instant(utc.and_utc().timestamp_micros()));
    }
    if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
        return Some(Written::Instant(with_offset.timestamp_micros()));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(Written::Local)
}

/// An RFC 3339 instant in UTC as exports write it, and an ISO date: the text forms of CSV and
/// JSON-lines logs, parsed by position (ten times chrono's speed on 10M rows).
static UTC_LAYOUT: std::sync::LazyLock<NumericLayout> = std::sync::LazyLock::new(|| layout_of("%Y-%m-%dT%H:%M:%S%.fZ"));
static DATE_LAYOUT: std::sync::LazyLock<NumericLayout> = std::sync::LazyLock::new(|| layout_of("%Y-%m-%d"));

fn layout_of(format: &str) -> NumericLayout {
    let items: Vec<Item> = chrono::format::StrftimeItems::new(format).collect();
    // Cannot fail: constant formats of numbers and literals only.
    NumericLayout::compile(&items).expect("a numeric layout")
}

/// Days since 1970-01-01, or a reason the text is not a date. A full timestamp is accepted and
/// its UTC date kept, since some systems log `record_date` with a time.
pub fn parse_date_days(text: &str) -> Result<i32, &'static str> {
    let text = text.trim();
    if let Some(date) = DATE_LAYOUT.parse(text) {
        return Ok(days_since_epoch(date.date()));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(days_since_epoch(date));
    }
    match parse_timestamp_us(text) {
        Ok(us) => Ok(us.div_euclid(86_400_000_000) as i32),
        Err(_) => Err("not a date (expected YYYY-MM-DD)"),
    }
}

pub fn days_since_epoch(date: NaiveDate) -> i32 {
    // Cannot fail: a constant date.
    (date - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

/// Formats microseconds since the epoch as RFC 3339 UTC with second precision (`…Z`), or with
/// microseconds when the value has a sub-second part.
pub fn format_us(us: i64) -> String {
    // Cannot fail: instants are checked at ingest to lie in years 1-9999, far inside chrono's range.
    let dt = DateTime::from_timestamp_micros(us).expect("timestamp in chrono range");
    if us % 1_000_000 == 0 {
        dt.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    } else {
        dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }
}

/// A strftime format made only of zero-padded numbers (`%Y %m %d %H %M %S`, `%.f`) and literal
/// characters — what exports write — parsed by position, about ten times faster than chrono's
/// general parser. It accepts a subset of what chrono accepts (exact widths, exact literals) and
/// gives the same result there; a value it does not accept goes to chrono, which decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumericLayout {
    parts: Vec<Part>,
    has_time: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    /// `%.f`: nothing, or a dot and 1 to 9 digits.
    Fraction,
    Literal(u8),
}

impl NumericLayout {
    /// The layout of a parsed strftime format, if it is one.
    pub fn compile(items: &[Item]) -> Option<NumericLayout> {
        let mut parts = Vec::new();
        for item in items {
            match item {
                Item::Numeric(numeric, Pad::Zero) => parts.push(match numeric {
                    Numeric::Year => Part::Year,
                    Numeric::Month => Part::Month,
                    Numeric::Day => Part::Day,
                    Numeric::Hour => Part::Hour,
                    Numeric::Minute => Part::Minute,
                    Numeric::Second => Part::Second,
                    _ => return None,
                }),
                Item::Fixed(Fixed::Nanosecond) => parts.push(Part::Fraction),
                Item::Literal(text) | Item::Space(text) if text.is_ascii() => {
                    parts.extend(text.bytes().map(Part::Literal))
                }
                _ => return None,
            }
        }
        let count = |part: Part| parts.iter().filter(|p| **p == part).count();
        let date = [Part::Year, Part::Month, Part::Day].iter().all(|p| count(*p) == 1);
        let time = [Part::Hour, Part::Minute, Part::Second, Part::Fraction].iter().all(|p| count(*p) <= 1);
        let has_time = count(Part::Hour) == 1;
        // An hour without minutes, or minutes without an hour, is chrono's to judge.
        if !date || !time || has_time != (count(Part::Minute) == 1) {
            return None;
        }
        Some(NumericLayout { parts, has_time })
    }

    /// The date and time written, or `None` when the text does not follow the layout exactly.
    pub fn parse(&self, text: &str) -> Option<NaiveDateTime> {
        let bytes = text.as_bytes();
        let mut at = 0;
        let (mut year, mut month, mut day, mut hour, mut minute, mut second, mut nano) = (0, 0, 0, 0, 0, 0, 0);
        let digits = |at: &mut usize, width: usize| -> Option<u32> {
            let field = bytes.get(*at..*at + width)?;
            *at += width;
            field.iter().try_fold(0u32, |n, b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
        };
        for part in &self.parts {
            match part {
                Part::Year => year = digits(&mut at, 4)?,
                Part::Month => month = digits(&mut at, 2)?,
                Part::Day => day = digits(&mut at, 2)?,
                Part::Hour => hour = digits(&mut at, 2)?,
                Part::Minute => minute = digits(&mut at, 2)?,
                Part::Second => second = digits(&mut at, 2)?,
                Part::Fraction => {
                    if bytes.get(at) == Some(&b'.') {
                        let width = bytes[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
                        if !(1..=9).contains(&width) {
                            return None;
                        }
                        at += 1;
                        nano = digits(&mut at, width)? * 10u32.pow(9 - width as u32);
                    }
                }
                Part::Literal(byte) => {
                    if bytes.get(at) != Some(byte) {
                        return None;
                    }
                    at += 1;
                }
            }
        }
        if at != bytes.len() {
            return None;
        }
        let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
        let time =
            if self.has_time { NaiveTime::from_hms_nano_opt(hour, minute, second, nano)? } else { NaiveTime::MIN };
        Some(date.and_time(time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(format: &str) -> Option<NumericLayout> {
        NumericLayout::compile(&chrono::format::StrftimeItems::new(format).parse().unwrap())
    }

    #[test]
    fn numeric_layouts_parse_what_chrono_parses() {
        let french = layout("%d/%m/%Y %H:%M:%S").unwrap();
        let expected = NaiveDateTime::parse_from_str("07/09/2021 06:14:00", "%d/%m/%Y %H:%M:%S").unwrap();
        assert_eq!(french.parse("07/09/2021 06:14:00"), Some(expected));
        // Not exactly the layout: left to chrono.
        assert_eq!(french.parse("7/09/2021 06:14:00"), None);
        assert_eq!(french.parse("07/09/2021 06:14:00 "), None);
        assert_eq!(french.parse("31/09/2021 06:14:00"), None, "no 31 September");
        let fraction = layout("%Y-%m-%dT%H:%M:%S%.f").unwrap();
        let with = fraction.parse("2021-09-07T06:14:00.25").unwrap();
        assert_eq!(with, NaiveDateTime::parse_from_str("2021-09-07T06:14:00.25", "%Y-%m-%dT%H:%M:%S%.f").unwrap());
        assert!(fraction.parse("2021-09-07T06:14:00").is_some());
        assert_eq!(layout("%d/%m/%Y").unwrap().parse("01/02/2020").unwrap().to_string(), "2020-02-01 00:00:00");
        assert!(layout("%d/%m/%Y %H").is_none() && layout("%e/%m/%Y").is_none() && layout("%s").is_none());
    }

    proptest::proptest! {
        /// Where the layout accepts a text, chrono reads the same instant from it.
        #[test]
        fn numeric_layouts_agree_with_chrono(
            day in 0u32..33, month in 0u32..14, year in 1890i32..2110, hour in 0u32..25, minute in 0u32..61,
            second in 0u32..61, fraction in "(\\.[0-9]{1,10})?", noise in "[0-9/: .T-]{0,20}",
        ) {
            for (format, text) in [
                ("%d/%m/%Y %H:%M:%S", format!("{day:02}/{month:02}/{year:04} {hour:02}:{minute:02}:{second:02}")),
                ("%Y-%m-%dT%H:%M:%S%.f", format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}")),
                ("%d/%m/%Y %H:%M", noise.clone()),
            ] {
                let fast = layout(format).unwrap().parse(&text);
                if let Some(fast) = fast {
                    proptest::prop_assert_eq!(Some(fast), NaiveDateTime::parse_from_str(&text, format).ok(), "{}", text);
                } else if text == noise {
                    continue;
                }
            }
        }
    }

    /// The texts chrono alone read before the fast layouts: what it made of them.
    fn chrono_timestamp(text: &str) -> Option<i64> {
        let text = text.trim();
        if let Ok(with_offset) = DateTime::parse_from_rfc3339(text) {
            return Some(with_offset.timestamp_micros());
        }
        ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
            .iter()
            .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
            .map(|naive| naive.and_utc().timestamp_micros())
    }

    fn chrono_date(text: &str) -> Option<i32> {
        let text = text.trim();
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .map(days_since_epoch)
            .or_else(|| chrono_timestamp(text).map(|us| us.div_euclid(86_400_000_000) as i32))
    }

    proptest::proptest! {
        /// Timestamps and dates read by the fast layouts are read as chrono reads them, and so is
        /// any text near their forms (wrong digits, widths, separators, zones, leap seconds).
        #[test]
        fn fast_layouts_read_what_chrono_reads(
            year in 0i32..10000, month in 0u32..14, day in 0u32..33, hour in 0u32..25, minute in 0u32..61,
            second in 0u32..62, fraction in "(\\.[0-9]{0,10})?", zone in "(Z|z|[+-][0-9]{2}:[0-9]{2}|)",
            separator in "[T t]", noise in "[0-9TZ:. +-]{0,26}",
        ) {
            let instant = format!("{year:04}-{month:02}-{day:02}{separator}{hour:02}:{minute:02}:{second:02}{fraction}{zone}");
            for text in [instant.clone(), noise.clone(), format!(" {instant}")] {
                proptest::prop_assert_eq!(parse_timestamp_us(&text).ok(), chrono_timestamp(&text), "{}", text);
                proptest::prop_assert_eq!(parse_date_days(&text).ok(), chrono_date(&text), "{}", text);
            }
            let date = format!("{year:04}-{month:02}-{day:02}");
            proptest::prop_assert_eq!(parse_date_days(&date).ok(), chrono_date(&date), "{}", date);
        }
    }

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
