//! Source maps (`--source-map FILE`, `../schemas/source-map.schema.json`): one TOML file per log
//! source saying how to read it (format, delimiter, encoding, header, time zone) and where each
//! event field comes from (`[fields]`). A map is validated whole before anything is read; an
//! unknown key, a missing required field or a bad `format` is an error naming the map and the
//! key. Applying a map to the records read is `mapping.rs`.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use chrono::format::Item;
use encoding_rs::Encoding;
use serde::Serialize;

use super::Format;
use super::formats::access_log::RouteMap;
use super::formats::csv::CsvOptions;
use super::formats::csv_records::Dialect;
use crate::error::{Error, Result};
use crate::event::{self, Kind};

/// Event fields a map may fill: the event model's columns, and `report_kind` (read by the
/// individual-monitoring detector when a log has it).
pub const REPORT_KIND: &str = "report_kind";

/// Keys of a field table.
const FIELD_KEYS: [&str; 6] = ["column", "value", "format", "map", "split", "trim"];

/// One loaded, validated source map.
pub struct SourceMap {
    /// As the user gave it: what the manifest and messages name.
    pub display: String,
    pub sha256: String,
    /// Absolute patterns of the files it claims; empty = every file no other map claims.
    files: Vec<glob::Pattern>,
    pub format: Format,
    pub csv: CsvOptions,
    pub meaning: Meaning,
}

/// What a map says a source's records mean: one kind of map, one kind of meaning.
pub enum Meaning {
    /// A tabular map (csv, jsonl, parquet, arrow): where each event field comes from.
    Fields(FieldMap),
    /// An `access_log` map: which requests are which events.
    Routes(RouteMap),
    /// A `pgaudit` map: the accounts, recipients and tables.
    PgAudit(super::formats::pgaudit::PgAuditMap),
}

impl SourceMap {
    pub fn fields(&self) -> Option<&FieldMap> {
        match &self.meaning {
            Meaning::Fields(fields) => Some(fields),
            _ => None,
        }
    }

    /// How the file's format reader reads a file through this map.
    pub fn read_options(&self) -> super::formats::ReadOptions<'_> {
        super::formats::ReadOptions {
            csv: self.csv,
            flatten_json: self.fields().is_some(),
            routes: match &self.meaning {
                Meaning::Routes(routes) => Some(routes),
                _ => None,
            },
            pgaudit: match &self.meaning {
                Meaning::PgAudit(map) => Some(map),
                _ => None,
            },
            // A source map works on the file's values as text.
            coded_as_categories: false,
        }
    }
}

/// Where each event field of a tabular source comes from.
pub struct FieldMap {
    /// The map's `timezone`, for timestamps that carry no offset.
    pub timezone: chrono_tz::Tz,
    /// In the event model's order; fields the map does not name are absent.
    pub rules: Vec<FieldRule>,
    /// Whether the source has no event id, so that one is derived (file SHA-256 + line).
    pub derive_event_id: bool,
}

pub struct FieldRule {
    /// The event field.
    pub field: &'static str,
    pub kind: Kind,
    pub source: FieldSource,
    pub time_format: Option<TimeFormat>,
    pub map: Option<ValueMap>,
    /// `categories` only: the separator of a list held in one text cell.
    pub split: Option<String>,
    /// Whether surrounding spaces are removed before anything else (default true).
    pub trim: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSource {
    /// A column of the source (JSON lines: a dotted path into nested objects).
    Column(String),
    /// The same value on every event.
    Value(String),
}

/// `map = { SOURCE = "event value", "*" = "default" }`.
pub struct ValueMap {
    pub entries: polars::prelude::PlHashMap<String, String>,
    /// The `"*"` entry: the value of everything not listed. Without it, an unlisted value
    /// quarantines its row.
    pub default: Option<String>,
}

impl ValueMap {
    pub fn get<'a>(&'a self, value: &str) -> Option<&'a str> {
        self.entries.get(value).or(self.default.as_ref()).map(String::as_str)
    }
}

/// A strftime format (chrono), parsed once, with its fast numeric layout when it has one.
pub struct TimeFormat {
    pub text: String,
    pub items: Vec<Item<'static>>,
    pub layout: Option<super::timestamp::NumericLayout>,
}

/// What the manifest records of a map.
#[derive(Debug, Clone, Serialize)]
pub struct MapSummary {
    pub path: String,
    pub sha256: String,
}

/// Every map given, and which files each claims.
#[derive(Default)]
pub struct SourceMaps {
    maps: Vec<SourceMap>,
    /// `--routes`: the route map of web access logs that no source map claims.
    routes_fallback: Option<SourceMap>,
}

impl SourceMaps {
    /// Loads and validates every map (and the `--routes` file, read as an `access_log` map).
    pub fn load(paths: &[PathBuf], routes: Option<&Path>) -> Result<SourceMaps> {
        let maps: Vec<SourceMap> = paths.iter().map(|path| SourceMap::load(path)).collect::<Result<_>>()?;
        let catch_all: Vec<&str> = maps.iter().filter(|m| m.files.is_empty()).map(|m| m.display.as_str()).collect();
        if catch_all.len() > 1 {
            return Err(Error::Usage(format!(
                "source maps {} all claim every file: with several maps, give each its `files = [\"glob\", …]`",
                catch_all.join(", ")
            )));
        }
        let routes_fallback = routes
            .map(|path| {
                Ok::<_, Error>(SourceMap {
                    display: path.display().to_string(),
                    sha256: crate::hashing::sha256_file(path)?,
                    files: Vec::new(),
                    format: Format::AccessLog,
                    csv: CsvOptions::default(),
                    meaning: Meaning::Routes(RouteMap::load(path)?),
                })
            })
            .transpose()?;
        Ok(SourceMaps { maps, routes_fallback })
    }

    pub fn is_empty(&self) -> bool {
        self.maps.is_empty() && self.routes_fallback.is_none()
    }

    /// The map that reads `path`, if any (its index for [`SourceMaps::get`]): a map whose
    /// `files` match it, else the map without `files` — for a file named on the command line
    /// always, for a file found in a directory when its extension suits the map's format —
    /// else `--routes` for a web log.
    pub fn claim(&self, path: &Path, named: bool) -> Result<Option<usize>> {
        let absolute = lexically_absolute(path);
        let by_files: Vec<usize> = (0..self.maps.len()).filter(|&i| self.maps[i].claims_by_files(&absolute)).collect();
        match by_files.as_slice() {
            [one] => return Ok(Some(*one)),
            [first, second, ..] => {
                return Err(Error::Usage(format!(
                    "{}: claimed by both source maps {} and {}: make their `files` patterns disjoint",
                    path.display(),
                    self.maps[*first].display,
                    self.maps[*second].display
                )));
            }
            [] => {}
        }
        if let Some(index) = self.maps.iter().position(|m| m.files.is_empty())
            && (named || self.maps[index].format.suits(path))
        {
            return Ok(Some(index));
        }
        let web_log = Format::from_path(path) == Some(Format::AccessLog);
        Ok(self.routes_fallback.as_ref().filter(|_| web_log).map(|_| self.maps.len()))
    }

    /// The map of a [`SourceMaps::claim`] index.
    pub fn get(&self, index: usize) -> Option<&SourceMap> {
        self.maps.get(index).or(self.routes_fallback.as_ref().filter(|_| index == self.maps.len()))
    }

    pub fn summaries(&self) -> Vec<MapSummary> {
        self.maps
            .iter()
            .chain(&self.routes_fallback)
            .map(|m| MapSummary { path: m.display.clone(), sha256: m.sha256.clone() })
            .collect()
    }
}

impl SourceMap {
    pub fn load(path: &Path) -> Result<SourceMap> {
        let display = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let text = String::from_utf8(bytes).map_err(|_| map_error(&display, "(file)", "not UTF-8 text"))?;
        let table: toml::Table =
            toml::from_str(&text).map_err(|e| map_error(&display, "(toml)", e.message().to_string()))?;
        let mut map = parse(table, &display, path)?;
        map.sha256 = crate::hashing::sha256_bytes(text.as_bytes());
        Ok(map)
    }

    fn claims_by_files(&self, absolute: &Path) -> bool {
        let options = glob::MatchOptions { require_literal_separator: true, ..glob::MatchOptions::new() };
        self.files.iter().any(|pattern| pattern.matches_path_with(absolute, options))
    }
}

fn map_error(file: &str, key: &str, message: impl Into<String>) -> Error {
    Error::Map { file: file.to_string(), key: key.to_string(), message: message.into() }
}

/// Validates a map's keys, top-down, naming the first key that is wrong.
fn parse(mut table: toml::Table, display: &str, path: &Path) -> Result<SourceMap> {
    let format_name = match table.remove("format") {
        Some(toml::Value::String(name)) => name,
        Some(_) => return Err(map_error(display, "format", "must be a string")),
        None => {
            return Err(map_error(
                display,
                "format",
                "missing: one of csv, jsonl, parquet, arrow, access_log, pgaudit",
            ));
        }
    };
    let format = match format_name.as_str() {
        "csv" => Format::Csv,
        "jsonl" => Format::JsonLines,
        "parquet" => Format::Parquet,
        "arrow" => Format::ArrowIpc,
        "access_log" => Format::AccessLog,
        "pgaudit" => Format::PgAudit,
        other => {
            return Err(map_error(
                display,
                "format",
                format!("`{other}` is not one of csv, jsonl, parquet, arrow, access_log, pgaudit"),
            ));
        }
    };
    let directory = lexically_absolute(path.parent().unwrap_or(Path::new(".")));
    let files = match table.remove("files") {
        None => Vec::new(),
        Some(value) => string_list(&value, display, "files")?
            .iter()
            .enumerate()
            .map(|(index, glob_text)| {
                let pattern = lexically_absolute(&directory.join(glob_text));
                glob::Pattern::new(&pattern.to_string_lossy())
                    .map_err(|e| map_error(display, &format!("files[{index}]"), format!("not a glob: {e}")))
            })
            .collect::<Result<_>>()?,
    };
    let timezone_name = match table.remove("timezone") {
        None => "UTC".to_string(),
        Some(toml::Value::String(name)) => name,
        Some(_) => return Err(map_error(display, "timezone", "must be a string (an IANA name, e.g. Europe/Paris)")),
    };
    let timezone: chrono_tz::Tz = timezone_name.parse().map_err(|_| {
        map_error(display, "timezone", format!("`{timezone_name}` is not an IANA time zone (e.g. Europe/Paris, UTC)"))
    })?;
    let csv = csv_options(&mut table, display, format)?;
    let meaning = match format {
        Format::AccessLog | Format::PgAudit if table.contains_key("fields") => {
            let says = if format == Format::AccessLog {
                "requests mean with [[route]]"
            } else {
                "statements mean with [actors] and [[table]]"
            };
            return Err(map_error(display, "fields", format!("a {} map says what {says}", format.name())));
        }
        Format::AccessLog => Meaning::Routes(RouteMap::from_table(table, display)?),
        Format::PgAudit => Meaning::PgAudit(super::formats::pgaudit::PgAuditMap::from_table(table, timezone, display)?),
        _ => Meaning::Fields(tabular_fields(table, display, format, timezone)?),
    };
    Ok(SourceMap { display: display.into(), sha256: String::new(), files, format, csv, meaning })
}

/// The `[fields]` of a tabular map, once every other key is taken.
fn tabular_fields(mut table: toml::Table, display: &str, format: Format, timezone: chrono_tz::Tz) -> Result<FieldMap> {
    let fields_table = match table.remove("fields") {
        Some(toml::Value::Table(fields)) => fields,
        Some(_) => return Err(map_error(display, "fields", "must be a table ([fields])")),
        None => {
            return Err(map_error(
                display,
                "fields",
                "missing: a [fields] table saying where each event field comes from",
            ));
        }
    };
    if let Some(key) = table.keys().next() {
        return Err(map_error(display, key, unknown_key_message(format)));
    }
    field_map(fields_table, display, timezone)
}

fn unknown_key_message(format: Format) -> String {
    let csv = if format == Format::Csv { ", delimiter, quote, escape, encoding, header" } else { "" };
    format!("unknown key; a {} map has: format, timezone, files, fields{csv}", format.name())
}

fn csv_options(table: &mut toml::Table, display: &str, format: Format) -> Result<CsvOptions> {
    let mut options = CsvOptions::default();
    for key in ["delimiter", "quote", "escape", "encoding", "header"] {
        if format != Format::Csv && table.contains_key(key) {
            return Err(map_error(display, key, "applies to format = \"csv\" only"));
        }
    }
    if let Some(value) = table.remove("delimiter") {
        let text = value.as_str().ok_or_else(|| map_error(display, "delimiter", "must be a string"))?;
        options.dialect.delimiter = match text {
            "tab" | "\t" => b'\t',
            _ if text.len() == 1 && !matches!(text.as_bytes()[0], b'"' | b'\n' | b'\r') => text.as_bytes()[0],
            _ => {
                return Err(map_error(
                    display,
                    "delimiter",
                    format!(
                        "`{text}`: must be one ASCII character other than a quote or a line break (\",\", \";\", \"\\t\", \"|\")"
                    ),
                ));
            }
        };
    }
    if let Some(value) = table.remove("quote") {
        options.dialect.quote = single_byte(&value, display, "quote", "(\"\\\"\" or \"'\")")?;
    }
    if let Some(value) = table.remove("escape") {
        options.dialect.escape = Some(single_byte(&value, display, "escape", "(e.g. \"\\\\\")")?);
    }
    let Dialect { delimiter, quote, escape } = options.dialect;
    if delimiter == quote || escape.is_some_and(|e| e == delimiter) {
        return Err(map_error(display, "quote", "the delimiter, the quote and the escape must differ"));
    }
    if let Some(value) = table.remove("encoding") {
        let label = value.as_str().ok_or_else(|| map_error(display, "encoding", "must be a string"))?;
        options.encoding = Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            map_error(
                display,
                "encoding",
                format!("`{label}` is not an encoding label (e.g. utf-8, windows-1252, iso-8859-15, utf-16le)"),
            )
        })?;
    }
    if let Some(value) = table.remove("header") {
        options.header = value.as_bool().ok_or_else(|| map_error(display, "header", "must be true or false"))?;
    }
    Ok(options)
}

/// A `quote` or `escape` character: one ASCII character, not a line end.
fn single_byte(value: &toml::Value, display: &str, key: &str, example: &str) -> Result<u8> {
    match value.as_str() {
        Some(text) if text.len() == 1 && text.is_ascii() && !matches!(text.as_bytes()[0], b'\n' | b'\r') => {
            Ok(text.as_bytes()[0])
        }
        _ => Err(map_error(display, key, format!("must be one ASCII character other than a line end {example}"))),
    }
}

fn string_list(value: &toml::Value, display: &str, key: &str) -> Result<Vec<String>> {
    let items = value.as_array().ok_or_else(|| map_error(display, key, "must be a list of strings"))?;
    items
        .iter()
        .map(|item| {
            item.as_str().map(str::to_string).ok_or_else(|| map_error(display, key, "must be a list of strings"))
        })
        .collect()
}

/// The fields a map may name, with their kind.
fn field_kind(name: &str) -> Option<(&'static str, Kind)> {
    if name == REPORT_KIND {
        return Some((REPORT_KIND, Kind::Text));
    }
    event::COLUMNS.iter().find(|c| c.name == name).map(|c| (c.name, c.kind))
}

fn field_map(fields: toml::Table, display: &str, timezone: chrono_tz::Tz) -> Result<FieldMap> {
    let mut by_field: BTreeMap<usize, FieldRule> = BTreeMap::new();
    for (name, value) in fields {
        let key = format!("fields.{name}");
        let Some((field, kind)) = field_kind(&name) else {
            let known: Vec<&str> = event::COLUMNS.iter().map(|c| c.name).chain([REPORT_KIND]).collect();
            return Err(map_error(display, &key, format!("not an event field; the fields are: {}", known.join(", "))));
        };
        let rule = field_rule(field, kind, value, display, &key)?;
        let position = event::COLUMNS.iter().position(|c| c.name == field).unwrap_or(event::COLUMNS.len());
        by_field.insert(position, rule);
    }
    for required in event::required_columns() {
        if required != event::EVENT_ID && !by_field.values().any(|rule| rule.field == required) {
            return Err(map_error(
                display,
                &format!("fields.{required}"),
                format!(
                    "missing: every event needs {} (event_id may be left out: it is then derived)",
                    event::required_columns().join(", ")
                ),
            ));
        }
    }
    let derive_event_id = !by_field.values().any(|rule| rule.field == event::EVENT_ID);
    Ok(FieldMap { timezone, rules: by_field.into_values().collect(), derive_event_id })
}

fn field_rule(field: &'static str, kind: Kind, value: toml::Value, display: &str, key: &str) -> Result<FieldRule> {
    let mut rule = FieldRule {
        field,
        kind,
        source: FieldSource::Value(String::new()),
        time_format: None,
        map: None,
        split: None,
        trim: true,
    };
    let table = match value {
        toml::Value::String(column) => {
            rule.source = FieldSource::Column(column);
            return Ok(rule);
        }
        toml::Value::Table(table) => table,
        _ => {
            return Err(map_error(
                display,
                key,
                "must be a column name (\"col\") or a table ({ column = \"col\", … } or { value = \"…\" })",
            ));
        }
    };
    if let Some(unknown) = table.keys().find(|k| !FIELD_KEYS.contains(&k.as_str())) {
        return Err(map_error(
            display,
            &format!("{key}.{unknown}"),
            format!("unknown key; a field has: {}", FIELD_KEYS.join(", ")),
        ));
    }
    let text = |name: &str| -> Result<Option<String>> {
        match table.get(name) {
            None => Ok(None),
            Some(toml::Value::String(text)) => Ok(Some(text.clone())),
            Some(_) => Err(map_error(display, &format!("{key}.{name}"), "must be a string")),
        }
    };
    rule.source = match (text("column")?, text("value")?) {
        (Some(column), None) => FieldSource::Column(column),
        (None, Some(value)) => FieldSource::Value(value),
        (Some(_), Some(_)) => return Err(map_error(display, key, "give `column` or `value`, not both")),
        (None, None) => {
            return Err(map_error(display, key, "needs `column` (where it comes from) or `value` (a constant)"));
        }
    };
    if let Some(format) = text("format")? {
        if !matches!(kind, Kind::Timestamp | Kind::Date) {
            return Err(map_error(display, &format!("{key}.format"), "only ts and record_date have a format"));
        }
        rule.time_format = Some(time_format(&format, display, &format!("{key}.format"))?);
    }
    if let Some(split) = text("split")? {
        if kind != Kind::Categories {
            return Err(map_error(display, &format!("{key}.split"), "only categories is a list"));
        }
        if split.is_empty() {
            return Err(map_error(display, &format!("{key}.split"), "an empty separator splits nothing"));
        }
        rule.split = Some(split);
    }
    if let Some(trim) = table.get("trim") {
        rule.trim =
            trim.as_bool().ok_or_else(|| map_error(display, &format!("{key}.trim"), "must be true or false"))?;
    }
    if let Some(map) = table.get("map") {
        rule.map = Some(value_map(map, display, &format!("{key}.map"))?);
    }
    Ok(rule)
}

fn value_map(value: &toml::Value, display: &str, key: &str) -> Result<ValueMap> {
    let table = value
        .as_table()
        .ok_or_else(|| map_error(display, key, "must be a table { SOURCE = \"value\", \"*\" = \"default\" }"))?;
    let mut map = ValueMap { entries: polars::prelude::PlHashMap::default(), default: None };
    for (from, to) in table {
        let to = to.as_str().ok_or_else(|| map_error(display, &format!("{key}.{from}"), "must be a string"))?;
        if from == "*" {
            map.default = Some(to.to_string());
        } else {
            map.entries.insert(from.clone(), to.to_string());
        }
    }
    Ok(map)
}

/// A strftime format checked now, so that a typo stops the run before any row is read.
fn time_format(text: &str, display: &str, key: &str) -> Result<TimeFormat> {
    let items = chrono::format::StrftimeItems::new(text).parse_to_owned().map_err(|_| {
        map_error(display, key, format!("`{text}` is not a strftime format (e.g. \"%d/%m/%Y %H:%M:%S\")"))
    })?;
    let has_date = items.iter().any(|item| {
        matches!(
            item,
            Item::Numeric(
                chrono::format::Numeric::Day
                    | chrono::format::Numeric::Ordinal
                    | chrono::format::Numeric::Timestamp
                    | chrono::format::Numeric::WeekFromMon
                    | chrono::format::Numeric::IsoWeek,
                _
            ) | Item::Fixed(chrono::format::Fixed::RFC3339 | chrono::format::Fixed::RFC2822)
        )
    });
    if !has_date {
        return Err(map_error(
            display,
            key,
            format!("`{text}` names no day (%d, %j, %s, %+ …): it cannot make a date"),
        ));
    }
    let layout = super::timestamp::NumericLayout::compile(&items);
    Ok(TimeFormat { text: text.to_string(), items, layout })
}

/// `path` made absolute against the working directory, `.` and `..` resolved without touching
/// the disk (the file may be a pattern, or not exist yet).
pub fn lexically_absolute(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut clean = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<SourceMap> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("map.toml");
        std::fs::write(&path, text).unwrap();
        SourceMap::load(&path)
    }

    const MINIMAL: &str = "format = \"csv\"\n[fields]\nts = \"t\"\nactor_id = \"a\"\nactor_role = { value = \"agent\" }\naction = \"op\"\ndataset = \"d\"\n";

    fn error_of(text: &str) -> String {
        load(text).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn a_minimal_map_derives_the_event_id() {
        let map = load(MINIMAL).unwrap();
        let Meaning::Fields(fields) = map.meaning else { panic!("a csv map has fields") };
        assert!(fields.derive_event_id);
        assert_eq!(
            fields.rules.iter().map(|r| r.field).collect::<Vec<_>>(),
            ["ts", "actor_id", "actor_role", "action", "dataset"]
        );
        assert_eq!(fields.rules[2].source, FieldSource::Value("agent".into()));
        assert_eq!(fields.timezone, chrono_tz::UTC);
    }

    #[test]
    fn errors_name_the_key() {
        // (text replaced in MINIMAL, its replacement, what the error must say)
        let format = "format = \"csv\"";
        for (from, to, expected) in [
            ("dataset = \"d\"\n", "dataset = \"d\"\ncolour = 1\n", "`fields.colour`: not an event field"),
            (format, "format = \"csv\"\nseparator = \";\"", "`separator`: unknown key"),
            ("dataset = \"d\"\n", "", "`fields.dataset`: missing"),
            ("ts = \"t\"", "ts = { column = \"t\", format = \"%Q\" }", "`fields.ts.format`"),
            ("ts = \"t\"", "ts = { column = \"t\", format = \"%H:%M\" }", "names no day"),
            ("ts = \"t\"", "ts = { column = \"t\", fmt = \"%d\" }", "`fields.ts.fmt`: unknown key"),
            ("action = \"op\"", "action = { column = \"op\", split = \",\" }", "only categories is a list"),
            (format, "format = \"xml\"", "`format`"),
            (format, "format = \"csv\"\nencoding = \"klingon\"", "`encoding`"),
            (format, "format = \"csv\"\ndelimiter = \";;\"", "`delimiter`"),
            (format, "format = \"jsonl\"\ndelimiter = \";\"", "csv\" only"),
            (format, "format = \"csv\"\nquote = \"<<\"", "`quote`: must be one ASCII character"),
            (format, "format = \"csv\"\nescape = \"\\n\"", "`escape`: must be one ASCII character"),
            (format, "format = \"csv\"\ndelimiter = \"'\"\nquote = \"'\"", "must differ"),
            (format, "format = \"jsonl\"\nquote = \"'\"", "csv\" only"),
            (format, "format = \"csv\"\ntimezone = \"Mars/Olympus\"", "`timezone`"),
            (format, "format = \"access_log\"", "`fields`"),
        ] {
            let error = error_of(&MINIMAL.replace(from, to));
            assert!(error.contains(expected), "{to}: {error}");
        }
        assert!(error_of("format = \"csv\"\n").contains("`fields`: missing"));
    }

    /// The schema documents exactly the fields and field keys a map accepts.
    #[test]
    fn the_schema_lists_the_fields_and_keys_the_code_accepts() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../schemas/source-map.schema.json")).unwrap();
        let listed: Vec<&str> = schema["properties"]["fields"]["propertyNames"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let accepted: Vec<&str> = event::COLUMNS.iter().map(|c| c.name).chain([REPORT_KIND]).collect();
        assert_eq!(listed, accepted);
        let keys: Vec<&str> = schema["$defs"]["field"]["oneOf"][1]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = FIELD_KEYS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn files_are_claimed_by_glob_relative_to_the_map() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("maps")).unwrap();
        let map_path = dir.path().join("maps").join("export.toml");
        std::fs::write(
            &map_path,
            MINIMAL.replace("format = \"csv\"", "format = \"csv\"\nfiles = [\"../exports/*.txt\"]"),
        )
        .unwrap();
        let maps = SourceMaps::load(&[map_path], None).unwrap();
        let claimed = dir.path().join("exports").join("2021-09.txt");
        assert_eq!(maps.claim(&claimed, false).unwrap(), Some(0));
        assert!(maps.claim(&dir.path().join("events.csv"), true).unwrap().is_none());
        assert!(maps.claim(&dir.path().join("exports").join("sub").join("x.txt"), false).unwrap().is_none());
    }
}
