//! The one event frame every input is normalised into (`../schemas/events.schema.json`).
//!
//! Detectors only ever see this frame: `ts` is `Datetime[μs, UTC]`, `categories` is
//! `List[String]`, `group_size`/`record_count` are `Int64`, `record_date` is `Date`, every other
//! column is `String`. Columns an input does not carry are added as nulls, so detectors never
//! need to ask whether a column exists.

use polars::prelude::*;

pub const EVENT_ID: &str = "event_id";
pub const TS: &str = "ts";
pub const ACTOR_ID: &str = "actor_id";
pub const ACTOR_ROLE: &str = "actor_role";
pub const ACTOR_UNIT: &str = "actor_unit";
pub const ACTION: &str = "action";
pub const DATASET: &str = "dataset";
pub const CATEGORIES: &str = "categories";
pub const RECIPIENT: &str = "recipient";
pub const PURPOSE: &str = "purpose";
pub const REQUEST_REF: &str = "request_ref";
pub const TARGET_AGENT: &str = "target_agent";
pub const GROUP_SIZE: &str = "group_size";
pub const RECORD_COUNT: &str = "record_count";
pub const RECORD_DATE: &str = "record_date";
pub const PREV_HASH: &str = "prev_hash";
pub const HASH: &str = "hash";

/// How a column of the event model is stored once normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Timestamp,
    Categories,
    Integer,
    Date,
}

pub struct ColumnSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
}

const fn spec(name: &'static str, kind: Kind, required: bool) -> ColumnSpec {
    ColumnSpec { name, kind, required }
}

/// The contract columns, in output order.
pub const COLUMNS: [ColumnSpec; 17] = [
    spec(EVENT_ID, Kind::Text, true),
    spec(TS, Kind::Timestamp, true),
    spec(ACTOR_ID, Kind::Text, true),
    spec(ACTOR_ROLE, Kind::Text, true),
    spec(ACTOR_UNIT, Kind::Text, false),
    spec(ACTION, Kind::Text, true),
    spec(DATASET, Kind::Text, true),
    spec(CATEGORIES, Kind::Categories, false),
    spec(RECIPIENT, Kind::Text, false),
    spec(PURPOSE, Kind::Text, false),
    spec(REQUEST_REF, Kind::Text, false),
    spec(TARGET_AGENT, Kind::Text, false),
    spec(GROUP_SIZE, Kind::Integer, false),
    spec(RECORD_COUNT, Kind::Integer, false),
    spec(RECORD_DATE, Kind::Date, false),
    spec(PREV_HASH, Kind::Text, false),
    spec(HASH, Kind::Text, false),
];

/// Text columns of few distinct values, which the judge codes into integers (`detect::chunk`).
/// A columnar reader may hand them on as categoricals (`DataType::Categorical`, or a list of
/// them for the categories) instead of text, when the file stores them as dictionaries: every
/// reader of the event frame takes both (normalise, the judge, the hash chain).
pub const CODED_COLUMNS: [&str; 9] =
    [ACTOR_ID, ACTOR_ROLE, ACTOR_UNIT, ACTION, DATASET, CATEGORIES, RECIPIENT, PURPOSE, TARGET_AGENT];

/// The frame with its categorical columns as text (and lists of categoricals as lists of
/// text): for a reader that wants the values as written, such as the hash chain.
pub fn categoricals_as_text(frame: &DataFrame) -> PolarsResult<DataFrame> {
    let text_lists = DataType::List(Box::new(DataType::String));
    let columns = frame
        .columns()
        .iter()
        .map(|column| match column.dtype() {
            DataType::Categorical(..) | DataType::Enum(..) => column.cast(&DataType::String),
            DataType::List(item) if item.is_categorical() => column.cast(&text_lists),
            _ => Ok(column.clone()),
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(frame.height(), columns)
}

/// Internal columns added at ingest: which input file (index in path order) and which data row
/// (1-based, counting quarantined rows) each event came from. Never written as event columns.
pub const SOURCE_FILE: &str = "source_file";
pub const SOURCE_ROW: &str = "source_row";

pub fn is_internal_column(name: &str) -> bool {
    name == SOURCE_FILE || name == SOURCE_ROW
}

/// The closed vocabulary of `action`. Inputs are lower-cased before the check.
pub const ACTIONS: [&str; 10] =
    ["read", "search", "export", "transfer", "report", "update", "delete", "login", "grant", "revoke"];

/// Actions that send data out of the system (judged against the declared recipients).
pub const OUTBOUND_ACTIONS: [&str; 2] = ["export", "transfer"];

pub fn is_contract_column(name: &str) -> bool {
    COLUMNS.iter().any(|c| c.name == name)
}

pub fn required_columns() -> Vec<&'static str> {
    COLUMNS.iter().filter(|c| c.required).map(|c| c.name).collect()
}

pub fn timestamp_type() -> DataType {
    DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
}

pub fn dtype_of(kind: Kind) -> DataType {
    match kind {
        Kind::Text => DataType::String,
        Kind::Timestamp => timestamp_type(),
        Kind::Categories => DataType::List(Box::new(DataType::String)),
        Kind::Integer => DataType::Int64,
        Kind::Date => DataType::Date,
    }
}
