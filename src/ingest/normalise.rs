//! Normalisation of one raw table into the event frame (`crate::event`): type conversion,
//! required-field checks and the action vocabulary. A value that cannot be converted sends its
//! row to quarantine with the column and the reason; it never stops the run. A missing required
//! column or a column of an impossible type does stop it (exit 2), since no row could be used.

use polars::prelude::*;
use rayon::prelude::*;

use super::QuarantineRecord;
use super::formats::{RawTable, RowProblem};
use super::timestamp::{parse_date_days, parse_timestamp_us};
use crate::error::{Error, PolarsContext, Result};
use crate::event::{self, COLUMNS, Kind};

/// Rejected rows by row number, first problem wins (so the quarantine names the leftmost bad
/// column). Sparse: a clean file of millions of rows costs nothing here.
#[derive(Default)]
struct Rejects(std::collections::BTreeMap<usize, RowProblem>);

impl Rejects {
    fn mark(&mut self, row: usize, column: &'static str, value: Option<&str>, reason: impl Into<String>) {
        self.0.entry(row).or_insert_with(|| RowProblem::new(column, value, reason));
    }
}

pub struct Normalised {
    pub frame: DataFrame,
    pub quarantined: Vec<QuarantineRecord>,
}

/// Normalises a chunk of a file that starts at data row `first_row` (0-based), so that row
/// numbers (`source_row`, quarantine) stay the file's own.
pub fn normalise_rows(raw: RawTable, file: &str, first_row: usize) -> Result<Normalised> {
    let RawTable { frame, lines, rejected, row_problems, .. } = raw;
    let height = frame.height();
    if frame.width() == 0 && height == 0 {
        // An empty file (a rotated log with nothing in it): zero rows, nothing to check.
        return Ok(Normalised { frame: super::empty_event_frame(), quarantined: rejected });
    }
    for column in event::required_columns() {
        if frame.column(column).is_err() {
            let header = frame.get_column_names().iter().map(|n| n.to_string()).collect::<Vec<_>>().join(",");
            let hint = [(';', "semicolon"), ('\t', "tab"), ('|', "pipe")]
                .iter()
                .find(|(separator, _)| header.contains(*separator))
                .map(|(_, name)| {
                    format!(" (the header looks {name}-separated: the event frame is comma-separated CSV; to read this layout, write a source map: driftwatch map init --events {file})")
                })
                .unwrap_or_else(|| format!(" (to read another layout, write a source map: driftwatch map init --events {file})"));
            return Err(Error::MissingColumn {
                file: file.to_string(),
                column: column.to_string(),
                required: event::required_columns().join(", "),
                hint,
            });
        }
    }
    // Columns are normalised side by side, each noting its own rejects; merged left to right,
    // the leftmost problem of a row wins, as if they had been checked one after another.
    let normalised: Vec<Result<(Column, Rejects)>> = COLUMNS
        .par_iter()
        .map(|spec| {
            let mut rejects = Rejects::default();
            let column = match frame.column(spec.name) {
                Ok(input) => normalise_column(input, spec.name, spec.kind, spec.required, file, &mut rejects)?,
                Err(_) => Column::full_null(spec.name.into(), height, &event::dtype_of(spec.kind)),
            };
            Ok((column, rejects))
        })
        .collect();
    // Rows the source map already marked come first: their problem is the one reported.
    let mut rejects = Rejects(row_problems);
    let mut columns = Vec::with_capacity(frame.width());
    for result in normalised {
        let (column, column_rejects) = result?;
        for (row, reject) in column_rejects.0 {
            rejects.0.entry(row).or_insert(reject);
        }
        columns.push(column);
    }
    for extra in
        frame.columns().iter().filter(|c| !event::is_contract_column(c.name()) && !event::is_internal_column(c.name()))
    {
        // Extra columns are passed through; text is the one type every format can agree on.
        columns.push(extra.cast(&DataType::String).unwrap_or_else(|_| extra.clone()));
    }
    let first_row = first_row as u32;
    columns
        .push(Column::new(event::SOURCE_ROW.into(), (first_row + 1..=first_row + height as u32).collect::<Vec<u32>>()));
    let frame = DataFrame::new(height, columns)
        .and_then(|df| {
            if rejects.0.is_empty() {
                return Ok(df); // the usual case: no copy
            }
            let keep: BooleanChunked = (0..height).map(|row| !rejects.0.contains_key(&row)).collect();
            df.filter(&keep)
        })
        .polars(format!("{file}: assembling the event frame"))?;
    let mut quarantined = rejected;
    quarantined.extend(rejects.0.into_iter().map(|(row, r)| QuarantineRecord {
        file: file.to_string(),
        line: lines.line_of(row),
        row: Some((first_row as usize + row) as u64 + 1),
        column: r.column,
        value: r.value,
        reason: r.reason,
    }));
    Ok(Normalised { frame, quarantined })
}

fn normalise_column(
    input: &Column,
    name: &'static str,
    kind: Kind,
    required: bool,
    file: &str,
    rejects: &mut Rejects,
) -> Result<Column> {
    let wrong_type = || Error::ColumnType {
        file: file.to_string(),
        column: name.to_string(),
        found: input.dtype().to_string(),
        expected: describe(kind),
    };
    let column = match (kind, input.dtype()) {
        (Kind::Timestamp, DataType::String) => parse_text(input, name, rejects, |t| parse_timestamp_us(t).map(Some))
            .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
            .into_column(),
        (Kind::Timestamp, DataType::Datetime(_, _) | DataType::Date) => {
            native_instants(input, name, rejects).polars(format!("{file}: converting `{name}` to UTC"))?
        }
        (Kind::Date, DataType::String) => {
            parse_text(input, name, rejects, |t| parse_date_days(t).map(|d| Some(d as i64)))
                .cast(&DataType::Int32)
                .and_then(|days| days.cast(&DataType::Date))
                .polars(format!("{file}: converting `{name}` to dates"))?
                .into_column()
        }
        (Kind::Date, DataType::Date | DataType::Datetime(_, _)) => {
            native_dates(input, name, rejects).polars(format!("{file}: converting `{name}` to dates"))?
        }
        (Kind::Integer, DataType::String) => parse_text(input, name, rejects, |t| match t.trim().parse::<i64>() {
            Ok(n) if n < 0 => Err("negative count"),
            Ok(n) => Ok(Some(n)),
            Err(_) => Err("not an integer"),
        })
        .into_column(),
        (Kind::Integer, dtype) if dtype.is_integer() => {
            if dtype.is_unsigned_integer() {
                mark_above_i64(input, name, rejects);
            }
            // A value above i64::MAX (only an unsigned column holds one) casts to null, marked above.
            let values = input.cast(&DataType::Int64).polars(format!("{file}: converting `{name}` to Int64"))?;
            // Counts are never negative, whatever the format says.
            // Cannot fail: the column was just cast to Int64.
            let values = values.i64().expect("cast to Int64");
            if every_value(values, |n| n >= 0) {
                // The usual case: nothing to quarantine, the column kept as it is (no copy).
                return finish_column(values.clone().with_name(name.into()).into_column(), name, required, rejects);
            }
            let checked: Int64Chunked = values
                .iter()
                .enumerate()
                .map(|(row, value)| match value {
                    Some(n) if n < 0 => {
                        rejects.mark(row, name, Some(&n.to_string()), "negative count");
                        None
                    }
                    other => other,
                })
                .collect();
            checked.with_name(name.into()).into_column()
        }
        (Kind::Categories, DataType::String) => clean_category_text(input)?.into_column(),
        // `;`-separated categories read from a Parquet dictionary: split as text.
        (Kind::Categories, DataType::Categorical(..)) => {
            let texts = input.cast(&DataType::String).polars(format!("{file}: converting `{name}` to text"))?;
            clean_category_text(&texts)?.into_column()
        }
        // Categories read from a Parquet dictionary stay categoricals (the judge codes them).
        (Kind::Categories, DataType::List(item)) if item.is_categorical() && event::CODED_COLUMNS.contains(&name) => {
            input.clone()
        }
        (Kind::Categories, DataType::List(_)) => input
            .cast(&event::dtype_of(Kind::Categories))
            .polars(format!("{file}: converting `{name}` to a list of text"))?,
        (Kind::Text, DataType::String) => input.clone(),
        (Kind::Text, DataType::Categorical(..)) if event::CODED_COLUMNS.contains(&name) => input.clone(),
        // Other columns written as categoricals (by polars, say) are text for every reader.
        (Kind::Text, DataType::Categorical(..) | DataType::Enum(..)) => {
            input.cast(&DataType::String).polars(format!("{file}: converting `{name}` to text"))?
        }
        (Kind::Text, dtype) if dtype.is_primitive_numeric() || dtype.is_bool() => {
            input.cast(&DataType::String).polars(format!("{file}: converting `{name}` to text"))?
        }
        (_, DataType::Null) => Column::full_null(name.into(), input.len(), &event::dtype_of(kind)),
        _ => return Err(wrong_type()),
    };
    let column = if name == event::ACTION { check_actions(&column, rejects)? } else { column };
    finish_column(column, name, required, rejects)
}

/// The checks every normalised column ends with.
fn finish_column(mut column: Column, name: &'static str, required: bool, rejects: &mut Rejects) -> Result<Column> {
    // A sorted flag read from a file is the file's claim, not a fact: later minima and maxima
    // must look at the values.
    column.set_sorted_flag(polars::series::IsSorted::Not);
    if required {
        mark_missing(&column, name, rejects);
    }
    Ok(column.with_name(name.into()))
}

fn describe(kind: Kind) -> String {
    match kind {
        Kind::Text => "text".into(),
        Kind::Timestamp => "an RFC 3339 timestamp or a Datetime".into(),
        Kind::Categories => "text separated by `;` or a list of text".into(),
        Kind::Integer => "an integer".into(),
        Kind::Date => "a date (YYYY-MM-DD) or a Date".into(),
    }
}

/// Years a value may have (what RFC 3339 writes, and what the reports can print).
const FIRST_DAY: i64 = -719_162; // 0001-01-01, in days since 1970-01-01
const LAST_DAY: i64 = 2_932_896; // 9999-12-31
const DAY_US: i64 = 86_400_000_000;

/// A native Datetime or Date column's values as (raw value, ticks per second or per day), read
/// from its physical integers. The column's sorted flag is not trusted: a file can claim any
/// order, and min/max under a false flag would let bad values through.
fn native_ticks(input: &Column) -> PolarsResult<(Int64Chunked, NativeUnit)> {
    Ok(match input.dtype() {
        DataType::Datetime(unit, _) => (input.datetime()?.physical().clone(), NativeUnit::Time(*unit)),
        _ => (input.date()?.physical().cast(&DataType::Int64)?.i64()?.clone(), NativeUnit::Days),
    })
}

#[derive(Clone, Copy)]
enum NativeUnit {
    Time(TimeUnit),
    Days,
}

impl NativeUnit {
    fn name(self) -> &'static str {
        match self {
            NativeUnit::Time(TimeUnit::Nanoseconds) => "nanoseconds",
            NativeUnit::Time(TimeUnit::Microseconds) => "microseconds",
            NativeUnit::Time(TimeUnit::Milliseconds) => "milliseconds",
            NativeUnit::Days => "days",
        }
    }

    /// Microseconds since 1970, None when the value overflows them. Rounded down (toward the
    /// past), as a cast does.
    fn micros(self, value: i64) -> Option<i64> {
        match self {
            NativeUnit::Time(TimeUnit::Nanoseconds) => Some(value.div_euclid(1000)),
            NativeUnit::Time(TimeUnit::Microseconds) => Some(value),
            NativeUnit::Time(TimeUnit::Milliseconds) => value.checked_mul(1000),
            NativeUnit::Days => value.checked_mul(DAY_US),
        }
    }
}

/// Native timestamps (any unit, any zone: the physical values are UTC instants; a naive one is
/// read as UTC) in microseconds, UTC. A value that overflows microseconds or lies outside years
/// 1–9999 is quarantined like an unparsable text timestamp (a cast would wrap it silently).
fn native_instants(input: &Column, name: &'static str, rejects: &mut Rejects) -> PolarsResult<Column> {
    let (ticks, unit) = native_ticks(input)?;
    let in_range = |us: i64| (FIRST_DAY * DAY_US..(LAST_DAY + 1) * DAY_US).contains(&us);
    let converted = |value: i64| unit.micros(value).filter(|us| in_range(*us));
    let reason = format!("timestamp outside years 1-9999 ({} since 1970)", unit.name());
    let micros: Int64Chunked =
        if matches!(unit, NativeUnit::Time(TimeUnit::Microseconds)) && every_value(&ticks, in_range) {
            ticks // the usual case: already microseconds, all in range, no copy
        } else {
            checked_values(&ticks, name, &reason, rejects, converted)
        };
    Ok(micros.with_name(name.into()).into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)).into_column())
}

/// Whether every non-null value passes `keep`: the test before keeping a column as read (the
/// usual case), array by array, without building a value per row. Every value is tested first,
/// those under nulls too, in one pass without a branch or a mask per row (the usual answer);
/// values under nulls may be anything, so only a failure is checked again on the non-null ones.
fn every_value<T: PolarsNumericType>(values: &ChunkedArray<T>, keep: impl Fn(T::Native) -> bool) -> bool {
    values.downcast_iter().all(|array| {
        array.values().iter().fold(true, |all, &value| all & keep(value)) || array.non_null_values_iter().all(&keep)
    })
}

/// Native dates (or the dates of native timestamps, rounded down as a cast does); one outside
/// years 1–9999 is quarantined.
fn native_dates(input: &Column, name: &'static str, rejects: &mut Rejects) -> PolarsResult<Column> {
    if let DataType::Date = input.dtype() {
        let days = input.date()?.physical();
        let in_range = |day: i32| (FIRST_DAY..=LAST_DAY).contains(&i64::from(day));
        if every_value(days, in_range) {
            // The usual case: dates already, all in range, kept as they are (no copy).
            return Ok(input.clone().with_name(name.into()));
        }
    }
    let (ticks, unit) = native_ticks(input)?;
    let day = |value: i64| match unit {
        NativeUnit::Days => value,
        NativeUnit::Time(time) => {
            let per_day = match time {
                TimeUnit::Nanoseconds => DAY_US * 1000,
                TimeUnit::Microseconds => DAY_US,
                TimeUnit::Milliseconds => DAY_US / 1000,
            };
            value.div_euclid(per_day)
        }
    };
    let reason = format!("date outside years 1-9999 ({} since 1970)", unit.name());
    let days = checked_values(&ticks, name, &reason, rejects, |value| {
        Some(day(value)).filter(|d| (FIRST_DAY..=LAST_DAY).contains(d))
    });
    days.cast(&DataType::Int32)?.cast(&DataType::Date).map(|dates| dates.with_name(name.into()).into_column())
}

/// Each value through `convert`; a value it refuses is marked with `reason` and becomes null.
fn checked_values(
    values: &Int64Chunked,
    name: &'static str,
    reason: &str,
    rejects: &mut Rejects,
    convert: impl Fn(i64) -> Option<i64>,
) -> Int64Chunked {
    values
        .iter()
        .enumerate()
        .map(|(row, value)| {
            let value = value?;
            let converted = convert(value);
            if converted.is_none() {
                rejects.mark(row, name, Some(&value.to_string()), reason.to_string());
            }
            converted
        })
        .collect()
}

/// Marks the values of an unsigned integer column that no signed 64-bit count can hold.
fn mark_above_i64(input: &Column, name: &'static str, rejects: &mut Rejects) {
    let Ok(values) = input.cast(&DataType::UInt64) else { return };
    let Ok(values) = values.u64() else { return };
    for (row, value) in values.iter().enumerate() {
        if let Some(n) = value.filter(|n| i64::try_from(*n).is_err()) {
            rejects.mark(row, name, Some(&n.to_string()), "count above 2^63-1");
        }
    }
}

/// Parses a text column value by value; failures are marked, nulls stay null.
fn parse_text(
    input: &Column,
    name: &'static str,
    rejects: &mut Rejects,
    parse: impl Fn(&str) -> std::result::Result<Option<i64>, &'static str>,
) -> Series {
    // Cannot fail: called only for a String column (the match on its dtype).
    let texts = input.str().expect("caller checked the dtype");
    let values: Int64Chunked = texts
        .iter()
        .enumerate()
        .map(|(row, text)| match text {
            None => None,
            Some(text) => match parse(text) {
                Ok(value) => value,
                Err(reason) => {
                    rejects.mark(row, name, Some(text), reason);
                    None
                }
            },
        })
        .collect();
    values.with_name(name.into()).into_series()
}

/// `"identity; penal_follow_up;"` → `["identity", "penal_follow_up"]`; an empty field → null.
fn clean_category_text(input: &Column) -> Result<Series> {
    // Cannot fail: called only for a String column (the match on its dtype).
    let texts = input.str().expect("caller checked the dtype");
    let mut builder = ListStringChunkedBuilder::new(event::CATEGORIES.into(), texts.len(), texts.len() * 2);
    for text in texts.iter() {
        match text {
            None => builder.append_null(),
            Some(text) => {
                // No list per row: the parts are walked twice instead (most rows hold one to four).
                let parts = || text.split(';').map(super::trimmed).filter(|p| !p.is_empty());
                if parts().next().is_none() {
                    builder.append_null();
                } else {
                    builder.append_values_iter(parts());
                }
            }
        }
    }
    Ok(builder.finish().into_series())
}

/// Lower-cases `action` and quarantines values outside the vocabulary. Most logs already
/// write the vocabulary exactly, so the column is only rebuilt when some value needs it.
fn check_actions(column: &Column, rejects: &mut Rejects) -> Result<Column> {
    if let Ok(categorical) = column.cat32() {
        if each_category(categorical, |action| event::ACTIONS.contains(&action)) {
            return Ok(column.clone());
        }
        // Some action needs lower-casing or is unknown: checked as text, as any other file's.
        let texts = column.cast(&DataType::String).polars("converting `action` to text")?;
        return check_actions(&texts, rejects);
    }
    // Cannot fail: action is a text column of the event model, normalised to String (or kept a
    // categorical, above).
    let texts = column.str().expect("action is text");
    if all_in_vocabulary(texts) {
        return Ok(column.clone());
    }
    let normalised: StringChunked = texts
        .iter()
        .enumerate()
        .map(|(row, text)| {
            let text = text?;
            let lower = text.trim().to_ascii_lowercase();
            if lower.is_empty() {
                return None; // reported as an empty required field
            }
            if event::ACTIONS.contains(&lower.as_str()) {
                Some(lower)
            } else {
                rejects.mark(
                    row,
                    event::ACTION,
                    Some(text),
                    format!("unknown action, must be one of: {}", event::ACTIONS.join(", ")),
                );
                None
            }
        })
        .collect();
    Ok(normalised.with_name(event::ACTION.into()).into_column())
}

/// Every action is written exactly as the vocabulary does (nulls aside). Actions are short, so
/// their Arrow views hold the whole text: comparing views is comparing 16 bytes.
fn all_in_vocabulary(texts: &StringChunked) -> bool {
    use polars_arrow::array::Array;
    let vocabulary: Vec<u128> = event::ACTIONS
        .iter()
        .map(|action| polars_arrow::array::View::new_from_bytes(action.as_bytes(), 0, 0).as_u128())
        .collect();
    // The views already found in the vocabulary, direct-mapped: a row then costs one compare,
    // not a walk through the dozen actions.
    let mut known = [u128::MAX; 64];
    let mut in_vocabulary = |view: u128| {
        let slot = (((view as u64) ^ ((view >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize;
        if known[slot] == view {
            return true;
        }
        let found = vocabulary.contains(&view);
        if found {
            known[slot] = view;
        }
        found
    };
    texts.downcast_iter().all(|array| {
        let validity = array.validity();
        array
            .views()
            .iter()
            .enumerate()
            .all(|(row, view)| validity.is_some_and(|valid| !valid.get_bit(row)) || in_vocabulary(view.as_u128()))
    })
}

/// A yes-or-no answer per category id of one array, worked out once per id. The ids a chunk
/// uses are nearly always a narrow range (a Parquet dictionary interns its values together), so
/// the answers are a table over that range, filled before the rows are walked: a row then costs
/// one load, and a column whose every id passes is not walked at all. A wider range (ids from
/// many sources) falls back to answering each id on first sight.
struct IdVerdicts<Judge: Fn(u32) -> bool> {
    judge: Judge,
    /// The first id of the tabulated range, and the answers from it on (empty: not tabulated).
    first: u32,
    table: Vec<bool>,
    /// Answers on first sight, when the range was too wide to tabulate.
    seen: Vec<Option<bool>>,
}

/// The widest range of ids tabulated up front (about a second of work per thousand chunks).
const MAX_TABULATED_IDS: u32 = 1 << 16;

impl<Judge: Fn(u32) -> bool> IdVerdicts<Judge> {
    /// The answers for the ids of `ids` (null slots included: an id there is only a wider range).
    fn of(ids: &[u32], judge: Judge) -> Self {
        let (first, last) = ids.iter().fold((u32::MAX, 0), |(low, high), &id| (low.min(id), high.max(id)));
        let table = match first <= last && last - first < MAX_TABULATED_IDS {
            true => (first..=last).map(&judge).collect(),
            false => Vec::new(),
        };
        IdVerdicts { judge, first, table, seen: Vec::new() }
    }

    /// Every id of the array passes: known without walking the rows.
    fn all_pass(&self) -> bool {
        !self.table.is_empty() && self.table.iter().all(|&pass| pass)
    }

    #[inline]
    fn get(&mut self, id: u32) -> bool {
        if let Some(&pass) = self.table.get(id.wrapping_sub(self.first) as usize) {
            return pass;
        }
        self.on_first_sight(id)
    }

    #[cold]
    fn on_first_sight(&mut self, id: u32) -> bool {
        let index = id as usize;
        if index >= self.seen.len() {
            self.seen.resize(index + 1, None);
        }
        *self.seen[index].get_or_insert_with(|| (self.judge)(id))
    }
}

/// Whether every (non-null) value of a categorical column passes `keep`.
fn each_category(column: &Categorical32Chunked, keep: impl Fn(&str) -> bool) -> bool {
    let mapping = column.get_mapping();
    column.physical().downcast_iter().all(|array| {
        let mut verdicts = IdVerdicts::of(array.values(), |id| mapping.cat_to_str(id).is_some_and(&keep));
        if verdicts.all_pass() {
            return true;
        }
        let validity = array.validity();
        array
            .values()
            .iter()
            .enumerate()
            .all(|(row, &id)| validity.is_some_and(|valid| !valid.get_bit(row)) || verdicts.get(id))
    })
}

fn mark_missing(column: &Column, name: &'static str, rejects: &mut Rejects) {
    use polars_arrow::array::Array;
    if let Ok(categorical) = column.cat32() {
        let mapping = categorical.get_mapping();
        let not_blank = |id| mapping.cat_to_str(id).is_some_and(|t: &str| !t.trim().is_empty());
        let mut first_row = 0;
        for array in categorical.physical().downcast_iter() {
            let mut present = IdVerdicts::of(array.values(), not_blank);
            // The usual chunk: no null, no blank value; nothing to walk.
            if array.null_count() == 0 && present.all_pass() {
                first_row += array.len();
                continue;
            }
            let validity = array.validity();
            for (index, &id) in array.values().iter().enumerate() {
                let valid = validity.is_none_or(|valid| valid.get_bit(index));
                if valid && present.get(id) {
                    continue;
                }
                rejects.mark(
                    first_row + index,
                    name,
                    valid.then(|| mapping.cat_to_str(id)).flatten(),
                    "empty required field",
                );
            }
            first_row += array.len();
        }
    } else if let Ok(texts) = column.str() {
        let mut first_row = 0;
        for array in texts.downcast_iter() {
            let validity = array.validity();
            for (index, view) in array.views().iter().enumerate() {
                // A value whose first byte (every view keeps the first four) is a visible ASCII
                // character is not blank: most rows are decided without reading the text.
                let surely_present = view.length > 0 && (view.prefix as u8).is_ascii_graphic();
                if surely_present && validity.is_none_or(|valid| valid.get_bit(index)) {
                    continue;
                }
                let text = array.is_valid(index).then(|| array.value(index));
                if text.is_none_or(|t| t.trim().is_empty()) {
                    rejects.mark(first_row + index, name, text, "empty required field");
                }
            }
            first_row += array.len();
        }
    } else if column.null_count() > 0 {
        let nulls = column.is_null();
        for (row, is_null) in nulls.iter().enumerate() {
            if is_null == Some(true) {
                rejects.mark(row, name, None, "empty required field");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dates(days: &[Option<i32>]) -> Column {
        Column::new(event::RECORD_DATE.into(), days).cast(&DataType::Date).unwrap()
    }

    fn days_of(column: &Column) -> Vec<Option<i32>> {
        column.date().unwrap().physical().iter().collect()
    }

    /// The table over a narrow range and the answers on first sight agree with the judge, ids
    /// outside the table included; "all pass" is only claimed from a full table.
    #[test]
    fn id_verdicts_answer_alike_tabulated_or_not() {
        let judge = |id: u32| id % 3 != 0;
        let mut narrow = IdVerdicts::of(&[5, 7, 8], judge);
        let mut wide = IdVerdicts::of(&[1, MAX_TABULATED_IDS + 5], judge);
        assert!(!narrow.table.is_empty() && wide.table.is_empty());
        for id in [5, 6, 7, 8, 300, 301] {
            assert_eq!(narrow.get(id), judge(id), "narrow, id {id}");
        }
        for id in [1, 3, MAX_TABULATED_IDS + 5] {
            assert_eq!(wide.get(id), judge(id), "wide, id {id}");
        }
        assert!(!narrow.all_pass(), "6 fails");
        assert!(IdVerdicts::of(&[4, 5], judge).all_pass());
        assert!(!IdVerdicts::of(&[], judge).all_pass());
        assert!(!wide.all_pass());
    }

    /// Native dates within years 1–9999 are kept as read; one beyond is quarantined and nulled,
    /// the others kept, whichever path the column takes.
    #[test]
    fn native_dates_in_range_are_kept_and_the_others_quarantined() {
        let within = [Some(FIRST_DAY as i32), None, Some(19_000), Some(LAST_DAY as i32)];
        let mut rejects = Rejects::default();
        let kept = native_dates(&dates(&within), event::RECORD_DATE, &mut rejects).unwrap();
        assert!(rejects.0.is_empty());
        assert_eq!((kept.dtype(), days_of(&kept)), (&DataType::Date, within.to_vec()));

        let beyond = [Some(19_000), Some(LAST_DAY as i32 + 1), None, Some(FIRST_DAY as i32 - 1)];
        let checked = native_dates(&dates(&beyond), event::RECORD_DATE, &mut rejects).unwrap();
        assert_eq!(days_of(&checked), vec![Some(19_000), None, None, None]);
        assert_eq!(rejects.0.keys().copied().collect::<Vec<_>>(), vec![1, 3]);
        assert!(rejects.0[&1].reason.contains("outside years 1-9999"), "{:?}", rejects.0[&1].reason);
    }

    /// A frame whose judged text columns are categoricals (as read from a Parquet dictionary)
    /// is normalised as its text would be: the same rows quarantined for the same reasons (an
    /// upper-case action lowered, an unknown one and a blank actor refused), the same values.
    #[test]
    fn categorical_text_is_checked_as_text_is() {
        let text = |name: &str, values: &[Option<&str>]| Column::new(name.into(), values);
        let frame = DataFrame::new(
            4,
            vec![
                text(event::EVENT_ID, &[Some("e1"), Some("e2"), Some("e3"), Some("e4")]),
                text(event::TS, &[Some("2023-01-02T10:00:00Z"); 4]),
                text(event::ACTOR_ID, &[Some("ann"), Some("  "), Some("bob"), None]),
                text(event::ACTOR_ROLE, &[Some("agent"); 4]),
                text(event::ACTION, &[Some("READ"), Some("read"), Some("peek"), Some("export")]),
                text(event::DATASET, &[Some("files"); 4]),
                text(event::CATEGORIES, &[Some("identity;health"), None, Some("identity"), Some("")]),
            ],
        )
        .unwrap();
        let categorical = DataType::from_categories(Categories::global());
        // The coded columns as a Parquet dictionary gives them, and an id column a polars writer
        // stored as categorical: not one the judge codes, so it must come out as text.
        let as_category = |name: &str| event::CODED_COLUMNS.contains(&name) || name == event::EVENT_ID;
        let coded: Vec<Column> = frame
            .columns()
            .iter()
            .map(|c| match as_category(c.name().as_str()) {
                true => c.cast(&categorical).unwrap(),
                false => c.clone(),
            })
            .collect();
        let coded = DataFrame::new(4, coded).unwrap();
        assert!(coded.column(event::ACTION).unwrap().dtype().is_categorical());
        let normalise = |frame: DataFrame| {
            normalise_rows(RawTable::new(frame, super::super::formats::RowLines::None), "t", 0).unwrap()
        };
        let (as_text, as_categories) = (normalise(frame), normalise(coded));
        assert_eq!(as_categories.frame.column(event::EVENT_ID).unwrap().dtype(), &DataType::String);
        let reasons = |n: &Normalised| {
            n.quarantined
                .iter()
                .map(|q| (q.row, q.column.clone(), q.value.clone(), q.reason.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(reasons(&as_text).len(), 3, "{:?}", reasons(&as_text));
        assert_eq!(reasons(&as_text), reasons(&as_categories));
        let frame = crate::event::categoricals_as_text(&as_categories.frame).unwrap();
        assert!(frame.equals_missing(&as_text.frame), "{frame}\n{}", as_text.frame);
    }
}
