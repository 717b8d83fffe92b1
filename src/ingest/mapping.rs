//! Applying a source map's `[fields]` to a chunk of records: the one place where a foreign
//! log's columns become event fields. Renames are zero-copy; constants, value maps, split lists,
//! strftime timestamps in the map's time zone and derived event ids are computed here, each
//! field on its own core. A value the map cannot translate (no entry and no `"*"`, a timestamp
//! that does not parse, a local time that does not exist) marks its row for quarantine with the
//! field, the value and the reason; the normaliser then checks types as for any input.

use std::collections::{BTreeMap, HashMap};

use chrono::format::{ParseErrorKind, Parsed};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Offset, TimeZone as _};
use polars::prelude::*;
use rayon::prelude::*;

use super::formats::{RawTable, RowLines, RowProblem};
use super::source_map::{FieldMap, FieldRule, FieldSource, TimeFormat};
use super::timestamp::Written;
use crate::error::{Error, PolarsContext, Result};
use crate::event::{self, Kind};

/// Which file a chunk comes from, for messages and derived ids.
pub struct MapTarget<'a> {
    pub file: &'a str,
    pub map: &'a str,
    /// The first 16 hex digits of the file's SHA-256: derived event ids are `<prefix>:<line>`
    /// (`<prefix>:row<n>` for columnar files), stable for the same bytes.
    pub id_prefix: &'a str,
}

/// A mapped chunk, and what the mapping noticed.
pub struct Mapped {
    pub table: RawTable,
    /// Local times at the autumn change (they happen twice): the earlier instant was taken.
    pub ambiguous_local_times: u64,
    /// (field, value) → rows: values that no `map` entry translates.
    pub unmapped: BTreeMap<(&'static str, String), u64>,
}

/// One field computed for a chunk.
struct FieldOutput {
    column: Column,
    problems: Vec<(usize, RowProblem)>,
    ambiguous: u64,
    unmapped: HashMap<String, u64>,
}

impl FieldOutput {
    fn new(column: Column) -> FieldOutput {
        FieldOutput { column, problems: Vec::new(), ambiguous: 0, unmapped: HashMap::new() }
    }
}

/// Turns a chunk's source columns into event fields; `first_row` is the number of data rows
/// of the file before this chunk.
pub fn apply(map: &FieldMap, raw: RawTable, target: &MapTarget, first_row: usize) -> Result<Mapped> {
    let RawTable { frame, lines, rejected, row_problems, skipped } = raw;
    let height = frame.height();
    if frame.width() == 0 && height == 0 {
        let table = RawTable { frame, lines, rejected, row_problems, skipped };
        return Ok(Mapped { table, ambiguous_local_times: 0, unmapped: BTreeMap::new() });
    }
    check_columns(map, &frame, target)?;
    let outputs: Vec<Result<FieldOutput>> =
        map.rules.par_iter().map(|rule| map_field(rule, &frame, map.timezone, target)).collect();
    let mut mapped =
        Mapped { table: RawTable::new(DataFrame::empty(), lines), ambiguous_local_times: 0, unmapped: BTreeMap::new() };
    let mut problems = row_problems;
    let mut columns = Vec::with_capacity(frame.width() + 1);
    if map.derive_event_id {
        columns.push(derived_ids(&mapped.table.lines, target.id_prefix, first_row, height));
    }
    for (rule, output) in map.rules.iter().zip(outputs) {
        let output = output?;
        for (row, problem) in output.problems {
            problems.entry(row).or_insert(problem);
        }
        mapped.ambiguous_local_times += output.ambiguous;
        for (value, rows) in output.unmapped {
            *mapped.unmapped.entry((rule.field, value)).or_default() += rows;
        }
        columns.push(output.column.with_name(rule.field.into()));
    }
    columns.extend(passed_through(map, &frame));
    mapped.table.frame = DataFrame::new(height, columns).polars(format!("{}: applying the source map", target.file))?;
    mapped.table.rejected = rejected;
    mapped.table.row_problems = problems;
    mapped.table.skipped = skipped;
    Ok(mapped)
}

/// Every column the map names must be in the file: a typo in the map is exit 2, not a
/// quarantine of every row.
fn check_columns(map: &FieldMap, frame: &DataFrame, target: &MapTarget) -> Result<()> {
    for rule in &map.rules {
        if let FieldSource::Column(name) = &rule.source
            && frame.column(name).is_err()
        {
            let mut names: Vec<String> = frame.get_column_names().iter().map(|n| n.to_string()).collect();
            names.truncate(40);
            return Err(Error::Input {
                file: target.file.to_string(),
                location: format!("column `{name}`"),
                message: format!(
                    "not in the file, but the source map {} reads fields.{} from it (the file's columns: {})",
                    target.map,
                    rule.field,
                    names.join(", ")
                ),
            });
        }
    }
    Ok(())
}

/// Source columns no field consumes, kept as extra columns (unless their name is an event
/// field's, which the map now fills).
fn passed_through(map: &FieldMap, frame: &DataFrame) -> Vec<Column> {
    let consumed: Vec<&str> = map
        .rules
        .iter()
        .filter_map(|rule| match &rule.source {
            FieldSource::Column(name) => Some(name.as_str()),
            FieldSource::Value(_) => None,
        })
        .collect();
    frame
        .columns()
        .iter()
        .filter(|c| {
            let name = c.name().as_str();
            !consumed.contains(&name)
                && !event::is_contract_column(name)
                && !event::is_internal_column(name)
                && !map.rules.iter().any(|rule| rule.field == name)
        })
        .cloned()
        .collect()
}

fn derived_ids(lines: &RowLines, prefix: &str, first_row: usize, height: usize) -> Column {
    use std::fmt::Write as _;
    let mut builder = StringChunkedBuilder::new(event::EVENT_ID.into(), height);
    let mut id = String::with_capacity(prefix.len() + 24);
    for row in 0..height {
        id.clear();
        id.push_str(prefix);
        let _ = match lines.line_of(row) {
            Some(line) => write!(id, ":{line}"),
            None => write!(id, ":row{}", first_row + row + 1),
        };
        builder.append_value(&id);
    }
    builder.finish().into_column()
}

fn map_field(rule: &FieldRule, frame: &DataFrame, timezone: chrono_tz::Tz, target: &MapTarget) -> Result<FieldOutput> {
    let height = frame.height();
    let source = match &rule.source {
        FieldSource::Column(name) => frame.column(name).polars(format!("{}: column `{name}`", target.file))?.clone(),
        FieldSource::Value(value) => Column::new(rule.field.into(), vec![value.as_str(); height]),
    };
    let context = || format!("{}: fields.{} from column `{}`", target.file, rule.field, source.name());
    match (rule.kind, source.dtype()) {
        (Kind::Categories, DataType::String | DataType::List(_)) => Ok(categories(rule, &source)),
        (Kind::Timestamp, DataType::String) => Ok(timestamps(rule, &source, timezone)),
        (Kind::Timestamp, DataType::Datetime(_, None)) if timezone != chrono_tz::UTC => {
            let naive = source.cast(&DataType::Datetime(TimeUnit::Microseconds, None)).polars(context())?;
            Ok(localised_datetimes(rule, &naive, timezone))
        }
        (Kind::Date, DataType::String) if rule.time_format.is_some() => Ok(dates(rule, &source)),
        (_, DataType::String) => Ok(texts(rule, &source)),
        // A typed column (Parquet, Arrow) without a map: the normaliser converts it.
        (_, _) if rule.map.is_none() => Ok(FieldOutput::new(source)),
        (_, _) => {
            let as_text = source.cast(&DataType::String).polars(context())?;
            Ok(texts(rule, &as_text))
        }
    }
}

/// A text value trimmed and translated by the field's map: `Ok(None)` for an empty value,
/// `Err(())` when the map has no entry for it.
fn translate<'a>(rule: &'a FieldRule, value: &'a str) -> std::result::Result<Option<&'a str>, ()> {
    let value = if rule.trim { super::trimmed(value) } else { value };
    if value.is_empty() {
        return Ok(None);
    }
    match &rule.map {
        None => Ok(Some(value)),
        Some(map) => map.get(value).map(|v| Some(v).filter(|v| !v.is_empty())).ok_or(()),
    }
}

fn unmapped_reason(rule: &FieldRule) -> String {
    format!("no entry for this value in fields.{}.map, and no \"*\" default", rule.field)
}

fn texts(rule: &FieldRule, source: &Column) -> FieldOutput {
    // Cannot fail: called only for a String column (the match on its dtype).
    let values = source.str().expect("caller checked the dtype");
    let needs_work = rule.map.is_some()
        || (rule.trim && values.iter().any(|v| v.is_some_and(|v| v.len() != super::trimmed(v).len() || v.is_empty())));
    if !needs_work {
        return FieldOutput::new(source.clone()); // a rename: no copy
    }
    let mut output = FieldOutput::new(Column::default());
    let mapped: StringChunked = values
        .iter()
        .enumerate()
        .map(|(row, value)| match translate(rule, value?) {
            Ok(text) => text,
            Err(()) => {
                let value = value.unwrap_or_default();
                output.problems.push((row, RowProblem::new(rule.field, Some(value), unmapped_reason(rule))));
                *output.unmapped.entry(value.trim().to_string()).or_default() += 1;
                None
            }
        })
        .collect();
    output.column = mapped.with_name(rule.field.into()).into_column();
    output
}

fn categories(rule: &FieldRule, source: &Column) -> FieldOutput {
    let height = source.len();
    let mut output = FieldOutput::new(Column::default());
    let mut builder = ListStringChunkedBuilder::new(rule.field.into(), height, height * 2);
    let separator = rule.split.as_deref().unwrap_or(";");
    let mut push_items = |row: usize, items: &mut dyn Iterator<Item = &str>, builder: &mut ListStringChunkedBuilder| {
        let mut kept: Vec<&str> = Vec::new();
        for item in items {
            match translate(rule, item) {
                Ok(Some(value)) => kept.push(value),
                Ok(None) => {}
                Err(()) => {
                    let item = item.trim();
                    output.problems.push((row, RowProblem::new(rule.field, Some(item), unmapped_reason(rule))));
                    *output.unmapped.entry(item.to_string()).or_default() += 1;
                }
            }
        }
        if kept.is_empty() {
            builder.append_null();
        } else {
            builder.append_values_iter(kept.into_iter());
        }
    };
    match source.dtype() {
        DataType::List(_) => {
            // Cannot fail: any list casts to a list of text (items are numbers, text or booleans here).
            let lists = source.cast(&DataType::List(Box::new(DataType::String))).expect("a list casts to text items");
            // Cannot fail: the column was just cast to a list.
            for (row, list) in lists.list().expect("a list column").amortized_iter().enumerate() {
                match list {
                    None => builder.append_null(),
                    Some(items) => {
                        // Cannot fail: the items were just cast to text.
                        let items = items.as_ref().str().expect("text items").clone();
                        push_items(row, &mut items.iter().flatten(), &mut builder);
                    }
                }
            }
        }
        _ => {
            // Cannot fail: called only for a String column (the match on its dtype).
            for (row, text) in source.str().expect("caller checked the dtype").iter().enumerate() {
                match text {
                    None => builder.append_null(),
                    Some(text) => push_items(row, &mut text.split(separator), &mut builder),
                }
            }
        }
    }
    output.column = builder.finish().into_column();
    output
}

/// Local civil time → UTC, remembering each whole hour's offset when the hour holds no change
/// of offset (almost every hour), so that most rows cost a hash lookup.
struct Localiser {
    timezone: chrono_tz::Tz,
    /// Local hour (seconds since the epoch of the naive time / 3600) → offset in seconds.
    steady_hours: HashMap<i64, i64>,
    /// The last steady hour seen (logs are nearly in time order): no lookup at all.
    last: Option<(i64, i64)>,
}

enum Local {
    Instant(i64),
    /// At the autumn change: the earlier of the two instants.
    Ambiguous(i64),
    /// In the spring gap.
    Missing,
}

impl Localiser {
    fn new(timezone: chrono_tz::Tz) -> Localiser {
        Localiser { timezone, steady_hours: HashMap::new(), last: None }
    }

    fn to_utc_us(&mut self, naive: NaiveDateTime) -> Local {
        let naive_us = naive.and_utc().timestamp_micros();
        if self.timezone == chrono_tz::UTC {
            return Local::Instant(naive_us);
        }
        let hour = naive_us.div_euclid(3_600_000_000);
        if let Some((last_hour, offset)) = self.last
            && last_hour == hour
        {
            return Local::Instant(naive_us - offset * 1_000_000);
        }
        if let Some(&offset) = self.steady_hours.get(&hour) {
            self.last = Some((hour, offset));
            return Local::Instant(naive_us - offset * 1_000_000);
        }
        let offset_at = |naive: NaiveDateTime| match self.timezone.offset_from_local_datetime(&naive) {
            chrono::LocalResult::Single(offset) => Some(i64::from(offset.fix().local_minus_utc())),
            _ => None,
        };
        let start = DateTime::from_timestamp(hour * 3600, 0).map(|d| d.naive_utc());
        let end = DateTime::from_timestamp(hour * 3600 + 3599, 0).map(|d| d.naive_utc());
        if let (Some(Some(a)), Some(Some(b))) = (start.map(offset_at), end.map(offset_at))
            && a == b
        {
            self.steady_hours.insert(hour, a);
            self.last = Some((hour, a));
            return Local::Instant(naive_us - a * 1_000_000);
        }
        match self.timezone.from_local_datetime(&naive) {
            chrono::LocalResult::Single(instant) => Local::Instant(instant.timestamp_micros()),
            chrono::LocalResult::Ambiguous(earlier, _) => Local::Ambiguous(earlier.timestamp_micros()),
            chrono::LocalResult::None => Local::Missing,
        }
    }
}

fn parse_written(text: &str, format: Option<&TimeFormat>) -> std::result::Result<Written, String> {
    if let Some(written) = format.and_then(|f| f.layout.as_ref()).and_then(|layout| layout.parse(text)) {
        return Ok(Written::Local(written));
    }
    let Some(format) = format else {
        // No format: RFC 3339; without an offset, a local time.
        return crate::ingest::timestamp::parse_written(text).ok_or_else(|| {
            "not an RFC 3339 timestamp (give the field a `format`, e.g. \"%d/%m/%Y %H:%M:%S\")".to_string()
        });
    };
    let wrong = |e: chrono::format::ParseError| format!("not a timestamp in the format `{}` ({e})", format.text);
    let mut parsed = Parsed::new();
    chrono::format::parse(&mut parsed, text, format.items.iter()).map_err(wrong)?;
    if parsed.offset().is_some() {
        return Ok(Written::Instant(parsed.to_datetime().map_err(wrong)?.timestamp_micros()));
    }
    if parsed.timestamp().is_some() {
        let utc = parsed.to_naive_datetime_with_offset(0).map_err(wrong)?;
        return Ok(Written::Instant(utc.and_utc().timestamp_micros()));
    }
    match parsed.to_naive_datetime_with_offset(0) {
        Ok(naive) => Ok(Written::Local(naive)),
        // A date alone is the start of that local day.
        Err(e) if e.kind() == ParseErrorKind::NotEnough => {
            parsed.to_naive_date().map(|date| Written::Local(date.and_time(chrono::NaiveTime::MIN))).map_err(wrong)
        }
        Err(e) => Err(wrong(e)),
    }
}

fn timestamps(rule: &FieldRule, source: &Column, timezone: chrono_tz::Tz) -> FieldOutput {
    // Cannot fail: called only for a String column (the match on its dtype).
    let values = source.str().expect("caller checked the dtype");
    let mut output = FieldOutput::new(Column::default());
    let mut localiser = Localiser::new(timezone);
    let instants: Int64Chunked = values
        .iter()
        .enumerate()
        .map(|(row, value)| {
            let raw = value?;
            let text = match translate(rule, raw) {
                Ok(text) => text?,
                Err(()) => {
                    output.problems.push((row, RowProblem::new(rule.field, Some(raw), unmapped_reason(rule))));
                    *output.unmapped.entry(raw.trim().to_string()).or_default() += 1;
                    return None;
                }
            };
            let written = match parse_written(text, rule.time_format.as_ref()) {
                Ok(written) => written,
                Err(reason) => {
                    output.problems.push((row, RowProblem::new(rule.field, Some(raw), reason)));
                    return None;
                }
            };
            match written {
                Written::Instant(us) => Some(us),
                Written::Local(naive) => place(&mut localiser, naive, row, rule, raw, &mut output),
            }
        })
        .collect();
    output.column = utc_column(instants, rule.field);
    output
}

/// A local time placed in the time zone, or its row marked when it never happened.
fn place(
    localiser: &mut Localiser,
    naive: NaiveDateTime,
    row: usize,
    rule: &FieldRule,
    raw: &str,
    output: &mut FieldOutput,
) -> Option<i64> {
    match localiser.to_utc_us(naive) {
        Local::Instant(us) => Some(us),
        Local::Ambiguous(us) => {
            output.ambiguous += 1;
            Some(us)
        }
        Local::Missing => {
            let reason =
                format!("local time {naive} does not exist in {} (the clocks went forward)", localiser.timezone.name());
            output.problems.push((row, RowProblem::new(rule.field, Some(raw), reason)));
            None
        }
    }
}

/// Microseconds since the epoch as the event frame's `ts` column.
fn utc_column(instants: Int64Chunked, field: &str) -> Column {
    instants
        .with_name(field.into())
        .into_datetime(TimeUnit::Microseconds, Some(polars::prelude::TimeZone::UTC))
        .into_column()
}

/// Naive Datetimes of a columnar file read as local times of the map's time zone.
fn localised_datetimes(rule: &FieldRule, naive: &Column, timezone: chrono_tz::Tz) -> FieldOutput {
    let mut output = FieldOutput::new(Column::default());
    let mut localiser = Localiser::new(timezone);
    // Cannot fail: the column was just cast to Datetime.
    let physical = naive.datetime().expect("cast to Datetime").physical().clone();
    let instants: Int64Chunked = physical
        .iter()
        .enumerate()
        .map(|(row, us)| {
            let us = us?;
            let Some(local) = DateTime::from_timestamp_micros(us).map(|d| d.naive_utc()) else {
                output
                    .problems
                    .push((row, RowProblem::new(rule.field, Some(&us.to_string()), "timestamp out of range")));
                return None;
            };
            place(&mut localiser, local, row, rule, &local.to_string(), &mut output)
        })
        .collect();
    output.column = utc_column(instants, rule.field);
    output
}

fn dates(rule: &FieldRule, source: &Column) -> FieldOutput {
    // Cannot fail: the map's validation requires time_format for this field.
    let format = rule.time_format.as_ref().expect("caller checked the format");
    // Cannot fail: called only for a String column (the match on its dtype).
    let values = source.str().expect("caller checked the dtype");
    let mut output = FieldOutput::new(Column::default());
    // Cannot fail: a constant date.
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("the epoch is a date");
    let days: Int32Chunked = values
        .iter()
        .enumerate()
        .map(|(row, value)| {
            let raw = value?;
            let text = if rule.trim { super::trimmed(raw) } else { raw };
            if text.is_empty() {
                return None;
            }
            let date = match format.layout.as_ref().and_then(|layout| layout.parse(text)) {
                Some(written) => Ok(written.date()),
                None => {
                    let mut parsed = Parsed::new();
                    chrono::format::parse(&mut parsed, text, format.items.iter())
                        .and_then(|()| parsed.to_naive_date())
                        .map_err(|e| format!("not a date in the format `{}` ({e})", format.text))
                }
            };
            match date {
                Ok(date) => Some((date - epoch).num_days() as i32),
                Err(reason) => {
                    output.problems.push((row, RowProblem::new(rule.field, Some(raw), reason)));
                    None
                }
            }
        })
        .collect();
    output.column = days.with_name(rule.field.into()).into_date().into_column();
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ingest::source_map::SourceMap;

    fn map(fields: &str, timezone: &str) -> FieldMap {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map.toml");
        std::fs::write(&path, format!("format = \"csv\"\ntimezone = \"{timezone}\"\n[fields]\n{fields}")).unwrap();
        match SourceMap::load(&path).unwrap().meaning {
            crate::ingest::source_map::Meaning::Fields(fields) => fields,
            _ => panic!("a csv map has fields"),
        }
    }

    const REQUIRED: &str = "actor_id = \"who\"\nactor_role = { value = \"agent\" }\ndataset = { value = \"d\" }\n";

    fn chunk(columns: Vec<Column>) -> RawTable {
        let height = columns[0].len();
        RawTable::new(DataFrame::new(height, columns).unwrap(), RowLines::Listed((2..2 + height as u64).collect()))
    }

    fn target() -> MapTarget<'static> {
        MapTarget { file: "export.csv", map: "map.toml", id_prefix: "0123456789abcdef" }
    }

    #[test]
    fn paris_local_times_become_utc_and_the_autumn_change_is_counted() {
        let fields = map(
            &format!(
                "ts = {{ column = \"quand\", format = \"%d/%m/%Y %H:%M:%S\" }}\naction = {{ value = \"read\" }}\n{REQUIRED}"
            ),
            "Europe/Paris",
        );
        let raw = chunk(vec![
            Column::new(
                "quand".into(),
                ["07/09/2021 06:14:00", "31/10/2021 02:30:00", "28/03/2021 02:30:00", "32/01/2021 00:00:00"],
            ),
            Column::new("who".into(), ["a", "b", "c", "d"]),
        ]);
        let mapped = apply(&fields, raw, &target(), 0).unwrap();
        let ts = mapped.table.frame.column("ts").unwrap().datetime().unwrap().physical().clone();
        assert_eq!(crate::ingest::timestamp::format_us(ts.get(0).unwrap()), "2021-09-07T04:14:00Z");
        // 02:30 on 31 October happened twice: the earlier one is 00:30 UTC (CEST).
        assert_eq!(crate::ingest::timestamp::format_us(ts.get(1).unwrap()), "2021-10-31T00:30:00Z");
        assert_eq!(mapped.ambiguous_local_times, 1);
        let problems: Vec<(usize, &str)> =
            mapped.table.row_problems.iter().map(|(row, p)| (*row, p.reason.as_str())).collect();
        assert_eq!(problems.len(), 2);
        assert!(problems[0].0 == 2 && problems[0].1.contains("does not exist in Europe/Paris"), "{problems:?}");
        assert!(problems[1].0 == 3 && problems[1].1.contains("not a timestamp in the format"), "{problems:?}");
        let ids = mapped.table.frame.column("event_id").unwrap().str().unwrap().clone();
        assert_eq!(ids.get(0), Some("0123456789abcdef:2"));
    }

    #[test]
    fn value_maps_defaults_split_lists_and_pass_through() {
        let fields = map(
            &format!(
                "ts = {{ value = \"2021-09-07T06:14:00Z\" }}\naction = {{ column = \"op\", map = {{ CONSULTATION = \"read\", ENVOI = \"transfer\" }} }}\n\
                 categories = {{ column = \"rub\", split = \"|\", map = {{ NOM = \"identity.name\", PV = \"penal_follow_up\", \"*\" = \"other\" }} }}\n{REQUIRED}"
            ),
            "UTC",
        );
        let raw = chunk(vec![
            Column::new("op".into(), [" CONSULTATION ", "ENVOI", "PEEK"]),
            Column::new("rub".into(), [Some("NOM|PV"), Some("XX| "), None]),
            Column::new("who".into(), ["a", "b", "c"]),
            Column::new("commentaire".into(), ["déjà", "vu", ""]),
        ]);
        let mapped = apply(&fields, raw, &target(), 10).unwrap();
        let frame = &mapped.table.frame;
        let actions = frame.column("action").unwrap().str().unwrap().clone();
        assert_eq!((actions.get(0), actions.get(1), actions.get(2)), (Some("read"), Some("transfer"), None));
        let categories = frame.column("categories").unwrap().list().unwrap().clone();
        let first: Vec<String> =
            categories.get_as_series(0).unwrap().str().unwrap().iter().flatten().map(String::from).collect();
        assert_eq!(first, ["identity.name", "penal_follow_up"]);
        let second = categories.get_as_series(1).unwrap();
        assert_eq!(second.str().unwrap().get(0), Some("other"));
        assert!(categories.get_as_series(2).is_none());
        assert_eq!(frame.column("commentaire").unwrap().str().unwrap().get(0), Some("déjà"));
        assert_eq!(mapped.unmapped.get(&("action", "PEEK".to_string())), Some(&1));
        let problem = &mapped.table.row_problems[&2];
        assert_eq!((problem.column.as_str(), problem.value.as_str()), ("action", "PEEK"));
        assert!(frame.column("op").is_err(), "a consumed column is not passed through");
    }

    #[test]
    fn a_column_the_map_names_must_exist() {
        let fields = map(&format!("ts = \"quand\"\naction = \"op\"\n{REQUIRED}"), "UTC");
        let raw = chunk(vec![Column::new("who".into(), ["a"]), Column::new("op".into(), ["read"])]);
        let error = apply(&fields, raw, &target(), 0).err().unwrap().to_string();
        assert!(error.contains("export.csv") && error.contains("`quand`") && error.contains("fields.ts"), "{error}");
    }

    #[test]
    fn localiser_caches_steady_hours_but_not_changing_ones() {
        let mut localiser = Localiser::new(chrono_tz::Europe::Paris);
        let at = |text: &str| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
        for _ in 0..2 {
            assert!(matches!(localiser.to_utc_us(at("2021-10-31 02:59:59")), Local::Ambiguous(_)));
            assert!(matches!(localiser.to_utc_us(at("2021-03-28 02:00:00")), Local::Missing));
            let Local::Instant(us) = localiser.to_utc_us(at("2021-10-31 03:00:00")) else { panic!() };
            assert_eq!(crate::ingest::timestamp::format_us(us), "2021-10-31T02:00:00Z");
        }
    }
}
