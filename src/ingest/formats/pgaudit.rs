//! PostgreSQL audit logs written by pgAudit: `csvlog` files (`.csv`, `.csv.gz`; statements
//! quoted over several lines) and `stderr` logs whose `log_line_prefix` the map gives
//! (`prefix = "%m [%p] %u@%d "`). Only `AUDIT:` records are events; the records pgAudit writes
//! for one statement (one per relation, one per sub-statement) become one event. Other records
//! are counted as skipped. The SQL of each statement (`sql.rs`) and the map's `[[table]]`s say
//! which dataset and data categories it touched, whom it targeted and whether it was a report.
//!
//! Map (`format = "pgaudit"`, see `schemas/source-map.schema.json`):
//! ```toml
//! format = "pgaudit"
//! timezone = "Europe/Paris"        # resolves the zone abbreviations the log writes (CET, CEST)
//! [actors]
//! from = "user_name"               # or "application_name", or a custom parameter ("app.end_user")
//! roles = { "ag*" = "agent", "rud*" = "unit_head", "svc_*" = "batch" }
//! units = { ag01 = "UD75" }
//! [recipients]
//! svc_moe_export = "moe_platforms"
//! [[table]]
//! name = "public.suites"
//! dataset = "follow_ups"
//! columns = { nom_salarie = "identity.name", nationalite = "nationality" }
//! agent_column = "agent_id"
//! ```

use std::borrow::Cow;
use std::collections::BTreeMap;

// A fast hash (foldhash, polars' own): these maps are looked up once or more per log record.
type HashMap<K, V> = polars::prelude::PlHashMap<K, V>;
use std::path::Path;

use chrono::{NaiveDateTime, Offset, TimeZone as _};
use polars::prelude::*;
use serde::Deserialize;

use super::{ChunkSink, InputFile, InputFormat, RawTable, RowLines, RowProblem, csv_records, line_reject};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::sql::{self, StatementKind, Touched};

mod setting;

/// Where the acting account's name comes from.
enum ActorFrom {
    UserName,
    ApplicationName,
    /// A custom parameter the application sets per request (`app.end_user`); until a session
    /// sets it, its statements are the database account's.
    Setting(setting::SettingWatcher),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    #[serde(default)]
    prefix: Option<String>,
    actors: ActorsFile,
    #[serde(default)]
    recipients: BTreeMap<String, String>,
    #[serde(default)]
    table: Vec<TableFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActorsFile {
    #[serde(default = "default_from")]
    from: String,
    roles: BTreeMap<String, String>,
    #[serde(default)]
    units: BTreeMap<String, String>,
}

fn default_from() -> String {
    "user_name".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    name: String,
    dataset: String,
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    agent_column: Option<String>,
    /// Accepted for maps written to the contract; pgAudit logs no result rows, so the smallest
    /// cell of a report cannot be read from the log and this key changes nothing yet.
    #[serde(default)]
    #[allow(dead_code)]
    group_size_from: Option<String>,
}

/// A relation of the database and what it holds.
#[derive(Debug, Clone)]
struct Table {
    /// Schema-qualified, lower-cased (`public.suites`).
    name: String,
    dataset: String,
    /// column → data category.
    columns: BTreeMap<String, String>,
    agent_column: Option<String>,
}

/// A loaded, validated pgAudit map.
pub struct PgAuditMap {
    timezone: chrono_tz::Tz,
    prefix: Option<Prefix>,
    actor_from: ActorFrom,
    /// Most specific pattern first (the longest).
    roles: Vec<(glob::Pattern, String)>,
    units: BTreeMap<String, String>,
    recipients: BTreeMap<String, String>,
    tables: Vec<Table>,
}

impl PgAuditMap {
    /// The map from its TOML keys (`format`, `files` and `timezone` already taken out).
    pub fn from_table(table: toml::Table, timezone: chrono_tz::Tz, file: &str) -> Result<PgAuditMap> {
        let error = |key: &str, message: String| Error::Map { file: file.into(), key: key.into(), message };
        let parsed: MapFile = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| error("(pgaudit map)", e.message().to_string()))?;
        let actor_from = match parsed.actors.from.as_str() {
            "user_name" => ActorFrom::UserName,
            "application_name" => ActorFrom::ApplicationName,
            name if setting::is_custom_parameter(name) => ActorFrom::Setting(setting::SettingWatcher::new(name)),
            other => {
                return Err(error(
                    "actors.from",
                    format!(
                        "`{other}`: must be user_name, application_name or a custom parameter the application sets (`app.end_user`)"
                    ),
                ));
            }
        };
        let mut roles = Vec::new();
        for (pattern, role) in parsed.actors.roles {
            let glob = glob::Pattern::new(&pattern)
                .map_err(|e| error(&format!("actors.roles.{pattern}"), format!("not a glob: {e}")))?;
            roles.push((glob, role));
        }
        roles.sort_by_key(|(glob, _)| std::cmp::Reverse(glob.as_str().len()));
        let prefix = parsed.prefix.as_deref().map(Prefix::compile).transpose().map_err(|m| error("prefix", m))?;
        if parsed.table.is_empty() {
            return Err(error("table", "no [[table]]: say which relations hold which dataset".into()));
        }
        let tables = parsed
            .table
            .into_iter()
            .map(|t| Table {
                name: qualified(&t.name.to_lowercase()),
                dataset: t.dataset,
                columns: t.columns.into_iter().map(|(c, category)| (c.to_lowercase(), category)).collect(),
                agent_column: t.agent_column.map(|c| c.to_lowercase()),
            })
            .collect();
        Ok(PgAuditMap {
            timezone,
            prefix,
            actor_from,
            roles,
            units: parsed.actors.units,
            recipients: parsed.recipients,
            tables,
        })
    }

    /// The table a relation names: `suites` is `public.suites` (the default search path).
    fn table(&self, relation: &str) -> Option<&Table> {
        let relation = qualified(relation);
        self.tables.iter().find(|t| t.name == relation)
    }
}

fn qualified(relation: &str) -> String {
    if relation.contains('.') { relation.to_string() } else { format!("public.{relation}") }
}

/// A `log_line_prefix` turned into a parser of the lines that start a record.
struct Prefix {
    pattern: regex::Regex,
}

impl Prefix {
    /// `%m [%p] %u@%d ` → a regular expression with named groups.
    fn compile(prefix: &str) -> std::result::Result<Prefix, String> {
        let mut pattern = String::from("^");
        let mut chars = prefix.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                pattern.push_str(&regex::escape(&c.to_string()));
                continue;
            }
            let part = match chars.next() {
                Some('m') => r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ [^\s\]]+)",
                Some('t') => r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [^\s\]]+)",
                Some('p') => r"(?P<pid>\d+)",
                Some('u') => r"(?P<user>[^\s@\]]*)",
                Some('d') => r"(?P<db>[^\s@\]]*)",
                Some('a') => r"(?P<app>[^\]]*?)",
                Some('h') => r"(?P<host>[^\s\]]*)",
                Some('c') => r"(?P<session>[0-9a-f]+\.[0-9a-f]+)",
                Some('l') => r"(?P<line>\d+)",
                Some('e') => r"(?P<state>[0-9A-Z]{5})",
                Some('%') => "%",
                other => {
                    return Err(format!(
                        "`%{}` is not supported (use %m %t %p %u %d %a %h %c %l %e)",
                        other.map(String::from).unwrap_or_default()
                    ));
                }
            };
            pattern.push_str(part);
        }
        if !pattern.contains("?P<ts>") {
            return Err("the prefix must hold the time (%m or %t)".into());
        }
        let pattern = regex::Regex::new(&pattern).map_err(|e| e.to_string())?;
        Ok(Prefix { pattern })
    }
}

/// One record of the server's log.
struct LogRecord {
    line: u64,
    ts: String,
    user: String,
    database: String,
    session: String,
    application: String,
    client: String,
    message: String,
}

/// One `AUDIT:` record's fields.
struct AuditRecord {
    statement_id: String,
    command: String,
    statement: String,
    parameter: String,
}

/// The lines pgAudit wrote for one statement.
struct Statement {
    first: LogRecord,
    audit: AuditRecord,
    classes: Vec<String>,
    objects: Vec<String>,
}

pub struct PgAudit;

impl InputFormat for PgAudit {
    fn read_chunks(&self, file: &InputFile, chunk_rows: usize, on_chunk: &mut ChunkSink) -> Result<()> {
        let map = file
            .options
            .pgaudit
            .ok_or_else(|| Error::file(file.display, "a pgAudit log needs its source map (format = \"pgaudit\")"))?;
        // Streamed a record at a time: a server's log can be gigabytes, and one buffer of it
        // would cost more in page faults than reading it.
        let source = super::open_maybe_gzipped(file.path)?;
        let mut grouper = Grouper::new(file.display);
        match &map.prefix {
            None => csvlog_records(source, &mut grouper).map_err(|e| Error::io(file.path, e))?,
            Some(prefix) => {
                let lines =
                    LineTexts { reader: std::io::BufReader::with_capacity(1 << 20, source), line: 0, path: file.path };
                stderr_records(lines, prefix, &mut grouper)?
            }
        }
        let mut table = events(&grouper.statements, map, file.display)?;
        table.rejected = grouper.rejected;
        table.skipped += grouper.skipped;
        super::send_in_slices(table, chunk_rows, 0, on_chunk)
    }
}

/// The lines of a stderr log, with their numbers.
struct LineTexts<'p, R> {
    reader: R,
    line: u64,
    path: &'p Path,
}

impl<R: std::io::BufRead> Iterator for LineTexts<'_, R> {
    type Item = Result<(u64, String)>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut line: Vec<u8> = Vec::new();
        match self.reader.read_until(b'\n', &mut line) {
            Err(e) => return Some(Err(Error::io(self.path, e))),
            Ok(0) => return None,
            Ok(_) => self.line += 1,
        }
        while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            line.pop();
        }
        let text = String::from_utf8(line).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Some(Ok((self.line, text)))
    }
}

/// The records of a csvlog file: its CSV records (split by csv-core, `csv_records.rs`; a quoted
/// statement may hold line breaks), each a log record.
fn csvlog_records(source: impl std::io::Read, grouper: &mut Grouper) -> std::io::Result<()> {
    let mut stream = csv_records::RecordStream::new(source, csv_records::Dialect::default());
    let texts = |part: csv_records::Part| -> Vec<(u64, (Vec<String>, String))> {
        let lossy = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let block = &part.block;
        block
            .records
            .iter()
            .map(|record| {
                let fields = block.field_bytes(record).map(lossy).collect();
                (part.first_line + record.line_offset, (fields, lossy(&part.bytes[record.raw.clone()])))
            })
            .collect()
    };
    while let Some(window) = stream.next_window(&texts)? {
        if let Some(too_long) = window.too_long {
            let reason = format!(
                "record of {} bytes, longer than the {} MiB limit",
                too_long.bytes,
                super::MAX_RECORD_BYTES >> 20
            );
            grouper.rejected.push(line_reject(
                grouper.display,
                too_long.line,
                &String::from_utf8_lossy(&too_long.head),
                &reason,
            ));
        }
        for (line, (fields, raw)) in window.parts.into_iter().flatten() {
            csvlog_record(line, fields, &raw, grouper);
        }
    }
    Ok(())
}

fn csvlog_record(line: u64, mut fields: Vec<String>, raw: &str, grouper: &mut Grouper) {
    if raw.trim().is_empty() {
        return;
    }
    if fields.len() < 14 {
        let reason = format!("{} fields: not a csvlog record", fields.len());
        grouper.rejected.push(line_reject(grouper.display, line, raw, &reason));
        return;
    }
    let mut field = |i: usize| fields.get_mut(i).map(std::mem::take).unwrap_or_default();
    grouper.add(LogRecord {
        line,
        ts: field(0),
        user: field(1),
        database: field(2),
        client: field(4),
        session: field(5),
        application: field(22),
        message: field(13),
    });
}

/// The records of a stderr log: a line matching the prefix starts one; the lines after it that
/// do not (a statement over several lines) continue it.
fn stderr_records(
    lines: impl Iterator<Item = Result<(u64, String)>>,
    prefix: &Prefix,
    grouper: &mut Grouper,
) -> Result<()> {
    let mut pending: Option<LogRecord> = None;
    for text in lines {
        let (number, line) = text?;
        let line = line.as_str();
        match prefix.pattern.captures(line) {
            Some(captures) => {
                let group = |name: &str| captures.name(name).map_or("", |m| m.as_str()).to_string();
                let rest = &line[captures.get(0).map_or(0, |m| m.end())..];
                // `LOG:  AUDIT: …` — the severity, then the message.
                let message = rest.split_once(":  ").map_or(rest, |(_, message)| message).to_string();
                let session = if captures.name("session").is_some() { group("session") } else { group("pid") };
                let record = LogRecord {
                    line: number,
                    ts: group("ts"),
                    user: group("user"),
                    database: group("db"),
                    client: group("host"),
                    session,
                    application: group("app"),
                    message,
                };
                if let Some(done) = pending.replace(record) {
                    grouper.add(done);
                }
            }
            None => match pending.as_mut() {
                Some(last) => {
                    last.message.push('\n');
                    last.message.push_str(line.strip_prefix('\t').unwrap_or(line));
                }
                None if line.trim().is_empty() => {}
                None => {
                    let reject = line_reject(grouper.display, number, line, "does not start with the map's `prefix`");
                    grouper.rejected.push(reject);
                }
            },
        }
    }
    if let Some(done) = pending {
        grouper.add(done);
    }
    Ok(())
}

/// The fields of an `AUDIT:` record before its statement, and the rest (statement, parameters)
/// unsplit: the later records of a statement repeat its text, which is only read once.
struct AuditHead<'m> {
    statement_id: Cow<'m, str>,
    class: Cow<'m, str>,
    command: Cow<'m, str>,
    object_name: Cow<'m, str>,
    rest: &'m str,
}

/// `SESSION,2,1,READ,SELECT,TABLE,public.suites,"select …",<none>`.
fn parse_audit_head(message: &str) -> Option<AuditHead<'_>> {
    let payload = message.strip_prefix("AUDIT: ")?;
    // The seven fields before the statement, split by csv-core like every CSV record (an
    // object name may be quoted: `"Suivis".suites`); the statement and its parameters after
    // them are split only when the statement is used.
    let dialect = csv_records::Dialect::default();
    let offset = csv_records::after_fields(payload, 7, &dialect).unwrap_or(payload.len() + 1);
    let head: Vec<Cow<str>> =
        csv_records::split_record(&payload[..offset - 1], &dialect).into_iter().take(7).map(Cow::Owned).collect();
    let rest = &payload[offset.min(payload.len())..];
    let field = |i: usize| head.get(i).cloned().unwrap_or_default();
    let statement_id = field(1);
    (!statement_id.is_empty()).then(|| AuditHead {
        statement_id,
        class: field(3),
        command: field(4),
        object_name: field(6),
        rest,
    })
}

impl AuditHead<'_> {
    fn into_record(self) -> AuditRecord {
        let mut tail = csv_records::split_record(self.rest, &csv_records::Dialect::default()).into_iter();
        let mut next = || tail.next().unwrap_or_default();
        let (statement, parameter) = (next(), next());
        AuditRecord {
            statement_id: self.statement_id.into_owned(),
            command: self.command.into_owned(),
            statement,
            parameter,
        }
    }
}

#[cfg(test)]
fn parse_audit(message: &str) -> Option<AuditRecord> {
    parse_audit_head(message).map(AuditHead::into_record)
}

/// AUDIT records grouped by (session, statement id), in the order of their first line. A
/// backend runs one statement at a time, so the records of one statement follow each other
/// within their session: a session's open statement is the only one a record can continue
/// (and a process id reused by a later session, in a stderr log without `%c`, starts afresh).
struct Grouper<'d> {
    display: &'d str,
    statements: Vec<Statement>,
    /// session → its open statement's position in `statements`.
    open: HashMap<String, usize>,
    /// Records that are not log records, or AUDIT records without a statement id.
    rejected: Vec<crate::ingest::QuarantineRecord>,
    /// Log records that are not AUDIT records (connections, checkpoints, errors).
    skipped: u64,
}

impl<'d> Grouper<'d> {
    fn new(display: &'d str) -> Grouper<'d> {
        Grouper { display, statements: Vec::new(), open: HashMap::default(), rejected: Vec::new(), skipped: 0 }
    }

    fn add(&mut self, record: LogRecord) {
        let Grouper { display, statements, open, rejected, skipped } = self;
        if !record.message.starts_with("AUDIT: ") {
            *skipped += 1;
            return;
        }
        let Some(head) = parse_audit_head(&record.message) else {
            rejected.push(line_reject(display, record.line, &record.message, "AUDIT record without a statement id"));
            return;
        };
        let continued = open
            .get(record.session.as_str())
            .copied()
            .filter(|at| statements[*at].audit.statement_id == head.statement_id.as_ref());
        if let Some(position) = continued {
            let statement = &mut statements[position];
            let object = head.object_name.as_ref();
            if !object.is_empty() && !statement.objects.iter().any(|known| known.eq_ignore_ascii_case(object)) {
                statement.objects.push(object.to_lowercase());
            }
            if !statement.classes.iter().any(|known| *known == head.class) {
                statement.classes.push(head.class.into_owned());
            }
            return;
        }
        let objects: Vec<String> =
            Some(head.object_name.to_lowercase()).filter(|o| !o.is_empty()).into_iter().collect();
        let classes = vec![head.class.to_string()];
        let audit = head.into_record();
        match open.get_mut(record.session.as_str()) {
            Some(at) => *at = statements.len(),
            None => {
                open.insert(record.session.clone(), statements.len());
            }
        }
        statements.push(Statement { first: record, audit, classes, objects });
    }
}

/// `2021-09-07 06:01:25.775 CEST` → microseconds UTC. The abbreviation decides the offset: one
/// the map's time zone writes at that date (CET or CEST in Europe/Paris), UTC, GMT, or numeric.
fn parse_log_time(text: &str, timezone: chrono_tz::Tz) -> std::result::Result<i64, String> {
    let (local, zone) = text.rsplit_once(' ').ok_or_else(|| "no time zone after the time".to_string())?;
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S%.f")
        .map_err(|_| format!("`{local}` is not a time (YYYY-MM-DD HH:MM:SS.mmm)"))?;
    let utc_us = |offset_seconds: i64| naive.and_utc().timestamp_micros() - offset_seconds * 1_000_000;
    if zone == "UTC" || zone == "GMT" {
        return Ok(utc_us(0));
    }
    if let Some(offset) = numeric_offset(zone) {
        return Ok(utc_us(offset));
    }
    let candidates: Vec<_> = match timezone.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => vec![t],
        chrono::LocalResult::Ambiguous(a, b) => vec![a, b],
        chrono::LocalResult::None => vec![],
    };
    candidates
        .into_iter()
        .find(|t| t.format("%Z").to_string() == zone)
        .map(|t| utc_us(i64::from(t.offset().fix().local_minus_utc())))
        .ok_or_else(|| format!("unknown zone abbreviation `{zone}` (not one {} writes at that date)", timezone.name()))
}

/// `+02`, `-0530`, `+05:30` → seconds east of UTC.
fn numeric_offset(zone: &str) -> Option<i64> {
    let sign = match zone.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = zone[1..].chars().filter(|c| *c != ':').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !(digits.len() == 2 || digits.len() == 4) {
        return None;
    }
    let hours: i64 = digits[..2].parse().ok()?;
    let minutes: i64 = if digits.len() == 4 { digits[2..].parse().ok()? } else { 0 };
    Some(sign * (hours * 3600 + minutes * 60))
}

/// The text columns of the events, built row by row (`ts` is built beside them as
/// microseconds). `Col::X as usize` is a column's position.
#[derive(Clone, Copy)]
enum Col {
    EventId,
    ActorId,
    ActorRole,
    ActorUnit,
    Action,
    Dataset,
    Categories,
    Recipient,
    TargetAgent,
    ReportKind,
    Sql,
    DatabaseUser,
    SessionId,
    Database,
    ApplicationName,
    Client,
    AuditClass,
    Command,
    AddedColumns,
    UnmappedRelations,
    StatementId,
}

const COLUMNS: [&str; 21] = [
    "event_id",
    "actor_id",
    "actor_role",
    "actor_unit",
    "action",
    "dataset",
    "categories",
    "recipient",
    "target_agent",
    "report_kind",
    "sql",
    "database_user",
    "session_id",
    "database",
    "application_name",
    "client",
    "audit_class",
    "command",
    "added_columns",
    "unmapped_relations",
    "statement_id",
];

/// What one statement becomes: a value per text column, borrowed where it can be, and its time.
struct Event<'a> {
    values: [Option<Cow<'a, str>>; COLUMNS.len()],
    ts: Option<i64>,
}

impl<'a> Event<'a> {
    fn set(&mut self, column: Col, value: impl Into<Cow<'a, str>>) {
        self.values[column as usize] = Some(value.into());
    }
}

fn events(statements: &[Statement], map: &PgAuditMap, display: &str) -> Result<RawTable> {
    let mut columns: Vec<StringChunkedBuilder> =
        COLUMNS.iter().map(|name| StringChunkedBuilder::new((*name).into(), statements.len())).collect();
    let mut times: Vec<Option<i64>> = Vec::with_capacity(statements.len());
    let mut problems = BTreeMap::new();
    let mut lines = Vec::with_capacity(statements.len());
    // Applications repeat the same statements: each text is parsed once.
    let mut parsed: HashMap<&str, std::result::Result<Touched, String>> = HashMap::default();
    for statement in statements {
        parsed.entry(statement.audit.statement.as_str()).or_insert_with(|| match statement.audit.statement.as_str() {
            "<not logged>" => Ok(Touched::default()),
            text => sql::analyse(text),
        });
    }
    let added = columns_added(statements, &parsed, map);
    let add_rows: std::collections::BTreeSet<usize> = added.values().copied().collect();
    let mut caches = Caches::new();
    let mut epoch = 0;
    // session → the end user its application last named (`[actors] from` a custom parameter).
    let mut end_users: HashMap<&str, String> = HashMap::default();
    let mut setting_statements = 0u64;
    for (index, statement) in statements.iter().enumerate() {
        if add_rows.contains(&index) {
            epoch += 1; // a column exists from the statement that adds it on
        }
        let record = &statement.first;
        let actor: Cow<str> = match &map.actor_from {
            ActorFrom::UserName => Cow::Borrowed(&record.user),
            ActorFrom::ApplicationName => Cow::Borrowed(&record.application),
            ActorFrom::Setting(watcher) => {
                let change = watcher.change(&statement.audit.statement, &statement.audit.parameter);
                let names_the_user = change.is_some();
                match change {
                    Some(setting::Change::Set(user)) => end_users.insert(&record.session, user),
                    Some(setting::Change::Reset) => end_users.remove(record.session.as_str()),
                    None => None,
                };
                // A statement that only names the end user is context, not an access.
                let touches_nothing = statement.objects.is_empty()
                    && parsed[statement.audit.statement.as_str()].as_ref().is_ok_and(|t| t.relations.is_empty());
                if names_the_user && touches_nothing {
                    setting_statements += 1;
                    continue;
                }
                end_users.get(record.session.as_str()).map_or(Cow::Borrowed(&record.user), |u| Cow::Owned(u.clone()))
            }
        };
        let row = lines.len();
        lines.push(record.line);
        let key = (statement.audit.statement.as_str(), statement.objects.as_slice(), epoch);
        let facts = caches.facts.entry(key).or_insert_with(|| {
            let touched = &parsed[statement.audit.statement.as_str()];
            let not_yet = |table: &str, column: &str| {
                added.get(&(table.to_string(), column.to_string())).is_some_and(|at| *at > index)
            };
            statement_facts(statement, touched, map, &not_yet)
        });
        let (event, problem) = judge(statement, actor, facts, map, &mut caches.per_event);
        if let Some(problem) = problem {
            problems.insert(row, problem);
        }
        for (column, value) in columns.iter_mut().zip(event.values) {
            column.append_option(value.as_deref().filter(|v| !v.is_empty()));
        }
        times.push(event.ts);
    }
    let height = lines.len();
    let ts = Int64Chunked::from_iter_options("ts".into(), times.into_iter())
        .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        .into_column();
    let mut frame_columns = vec![ts];
    frame_columns.extend(columns.into_iter().map(|b| b.finish().into_column()));
    let frame = DataFrame::new(height, frame_columns).polars(format!("{display}: building the events"))?;
    let mut table = RawTable::new(frame, RowLines::Listed(lines));
    table.row_problems = problems;
    table.skipped = setting_statements;
    Ok(table)
}

/// What the events of a file share: the facts of each (statement, relations, columns that
/// exist) and each account's role and each hour's offset.
struct Caches<'s> {
    facts: HashMap<(&'s str, &'s [String], usize), std::result::Result<Facts, RowProblem>>,
    per_event: PerEvent,
}

impl<'s> Caches<'s> {
    fn new() -> Caches<'s> {
        Caches { facts: HashMap::default(), per_event: PerEvent::new() }
    }
}

/// Per-event lookups, remembered.
struct PerEvent {
    /// account → its role's position in the map's `roles`.
    roles: HashMap<String, Option<usize>>,
    /// (`YYYY-MM-DD HH`, zone) → seconds east of UTC.
    offsets: HashMap<(String, String), i64>,
    layout: Option<crate::ingest::timestamp::NumericLayout>,
}

impl PerEvent {
    fn new() -> PerEvent {
        let items = chrono::format::StrftimeItems::new("%Y-%m-%d %H:%M:%S%.f").parse_to_owned().unwrap_or_default();
        PerEvent {
            roles: HashMap::default(),
            offsets: HashMap::default(),
            layout: crate::ingest::timestamp::NumericLayout::compile(&items),
        }
    }

    fn role<'m>(&mut self, map: &'m PgAuditMap, actor: &str) -> Option<&'m str> {
        let index = match self.roles.get(actor) {
            Some(index) => *index,
            None => {
                let index = map.roles.iter().position(|(glob, _)| glob.matches(actor));
                self.roles.insert(actor.to_string(), index);
                index
            }
        };
        index.map(|i| map.roles[i].1.as_str())
    }

    /// A log time in microseconds UTC; the offset is looked up once per hour and zone.
    fn time(&mut self, text: &str, timezone: chrono_tz::Tz) -> std::result::Result<i64, String> {
        let (local, zone) = text.rsplit_once(' ').ok_or_else(|| "no time zone after the time".to_string())?;
        let naive = self.layout.as_ref().and_then(|layout| layout.parse(local));
        let (Some(naive), Some(hour)) = (naive, local.get(..13)) else {
            return parse_log_time(text, timezone);
        };
        let key = (hour.to_string(), zone.to_string());
        let offset = match self.offsets.get(&key) {
            Some(offset) => *offset,
            None => {
                let us = parse_log_time(text, timezone)?;
                let offset = (naive.and_utc().timestamp_micros() - us) / 1_000_000;
                // Only hours with one offset (not the autumn change) are remembered.
                let start = format!("{hour}:00:00 {zone}");
                let end = format!("{hour}:59:59 {zone}");
                let steady = [start, end].iter().all(|t| {
                    parse_log_time(t, timezone).is_ok_and(|u| {
                        let n = NaiveDateTime::parse_from_str(&t[..19], "%Y-%m-%d %H:%M:%S")
                            .map(|n| n.and_utc().timestamp_micros());
                        n.is_ok_and(|n| (n - u) / 1_000_000 == offset)
                    })
                });
                if steady {
                    self.offsets.insert(key, offset);
                }
                offset
            }
        };
        Ok(naive.and_utc().timestamp_micros() - offset * 1_000_000)
    }
}

/// What a statement's SQL and relations say, the same for every event with that text.
#[derive(Clone)]
struct Facts {
    dataset: String,
    categories: String,
    unmapped: String,
    /// The literal of `agent_column = …` (`$1` resolved per event from its parameters).
    target: Option<String>,
    report_kind: Option<&'static str>,
    kind: StatementKind,
}

/// (table, column) → the statement (row) whose `ALTER TABLE … ADD COLUMN` added it: before
/// that, `select *` does not read it.
fn columns_added(
    statements: &[Statement],
    parsed: &HashMap<&str, std::result::Result<Touched, String>>,
    map: &PgAuditMap,
) -> HashMap<(String, String), usize> {
    let mut added = HashMap::default();
    for (row, statement) in statements.iter().enumerate() {
        if let Some(Ok(Touched { kind: StatementKind::AddColumns(columns), relations, .. })) =
            parsed.get(statement.audit.statement.as_str())
        {
            for table in relations.iter().filter_map(|r| map.table(r)) {
                for column in columns {
                    added.entry((table.name.clone(), column.clone())).or_insert(row);
                }
            }
        }
    }
    added
}

/// Whether a column of a table does not exist yet at this statement.
type NotYet<'a> = dyn Fn(&str, &str) -> bool + 'a;

/// A statement's facts, or why it cannot be an event.
fn statement_facts(
    statement: &Statement,
    touched: &std::result::Result<Touched, String>,
    map: &PgAuditMap,
    not_yet: &NotYet,
) -> std::result::Result<Facts, RowProblem> {
    let touched = touched.as_ref().map_err(|error| {
        let reason = format!("the statement does not parse as PostgreSQL SQL: {error}");
        RowProblem::new("sql", Some(&statement.audit.statement), reason)
    })?;
    // Relations: those pgAudit names (with log_relation) and those the SQL names.
    let mut relations: Vec<String> = statement.objects.clone();
    for relation in &touched.relations {
        if !relations.iter().any(|r| qualified(r) == qualified(relation)) {
            relations.push(relation.clone());
        }
    }
    let (mapped, unmapped): (Vec<&String>, Vec<&String>) = relations.iter().partition(|r| map.table(r).is_some());
    let tables: Vec<&Table> = mapped.iter().filter_map(|r| map.table(r)).collect();
    let Some(first) = tables.first() else {
        let reason = if relations.is_empty() {
            "the statement touches no table".to_string()
        } else {
            format!("no [[table]] maps {}", relations.join(", "))
        };
        return Err(RowProblem::new("dataset", Some(&relations.join(";")), reason));
    };
    // `WHERE agent_column = 'x'` names the agent whose activity is looked at.
    let target = touched
        .equalities
        .iter()
        .find(|(column, _)| tables.iter().any(|t| t.agent_column.as_deref() == Some(column.as_str())))
        .map(|(_, literal)| literal.clone());
    let by_agent =
        touched.group_by.iter().any(|column| tables.iter().any(|t| t.agent_column.as_deref() == Some(column.as_str())));
    let report_kind = match (touched.group_by.is_empty(), by_agent, touched.order_by_aggregate) {
        (true, _, _) => None,
        (false, true, true) => Some("ranking"),
        (false, true, false) => Some("per_agent"),
        (false, false, _) => Some("aggregate"),
    };
    Ok(Facts {
        dataset: first.dataset.clone(),
        categories: categories(touched, &tables, map, not_yet).join(";"),
        unmapped: unmapped.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(";"),
        target,
        report_kind,
        kind: touched.kind.clone(),
    })
}

/// One statement as an event, and the first reason it cannot be one.
fn judge<'a>(
    statement: &'a Statement,
    actor: Cow<'a, str>,
    facts: &'a std::result::Result<Facts, RowProblem>,
    map: &'a PgAuditMap,
    lookups: &mut PerEvent,
) -> (Event<'a>, Option<RowProblem>) {
    let record = &statement.first;
    let mut event = Event { values: std::array::from_fn(|_| None), ts: None };
    let mut problem: Option<RowProblem> = None;
    let mut fail = |column: &str, value: &str, reason: String| {
        problem.get_or_insert_with(|| RowProblem::new(column, Some(value), reason));
    };
    event.set(Col::EventId, format!("{}:{}", record.session, statement.audit.statement_id));
    match lookups.time(&record.ts, map.timezone) {
        Ok(us) => event.ts = Some(us),
        Err(reason) => fail("ts", &record.ts, reason),
    }
    match lookups.role(map, &actor) {
        Some(role) => event.set(Col::ActorRole, role),
        None => fail("actor_role", &actor, format!("no [actors].roles glob matches the account `{actor}`")),
    }
    if let Some(unit) = map.units.get(actor.as_ref()) {
        event.set(Col::ActorUnit, unit.as_str());
    }
    let recipient = map.recipients.get(actor.as_ref());
    event.set(Col::ActorId, actor);
    for (column, value) in [
        (Col::DatabaseUser, &record.user),
        (Col::Sql, &statement.audit.statement),
        (Col::SessionId, &record.session),
        (Col::Database, &record.database),
        (Col::ApplicationName, &record.application),
        (Col::Client, &record.client),
        (Col::Command, &statement.audit.command),
        (Col::StatementId, &statement.audit.statement_id),
    ] {
        event.set(column, value.as_str());
    }
    event.set(
        Col::AuditClass,
        match statement.classes.as_slice() {
            [one] => Cow::Borrowed(one.as_str()),
            several => Cow::Owned(several.join(",")),
        },
    );
    let facts = match facts {
        Ok(facts) => facts,
        Err(why) => {
            problem.get_or_insert_with(|| why.clone());
            return (event, problem);
        }
    };
    event.set(Col::UnmappedRelations, facts.unmapped.as_str());
    event.set(Col::Dataset, facts.dataset.as_str());
    event.set(Col::Categories, facts.categories.as_str());
    if let Some(target) = &facts.target {
        event.set(Col::TargetAgent, parameter_value(target, &statement.audit.parameter));
    }
    if let Some(kind) = facts.report_kind {
        event.set(Col::ReportKind, kind);
    }
    let action = match (&facts.kind, recipient.is_some()) {
        (StatementKind::CopyTo, _) => "export",
        (StatementKind::Read, true) => "transfer",
        (StatementKind::Read, false) if facts.report_kind.is_some() => "report",
        (StatementKind::Read, false) => "read",
        (StatementKind::Write | StatementKind::AddColumns(_) | StatementKind::Other, _) => "update",
        (StatementKind::Delete, _) => "delete",
    };
    event.set(Col::Action, action);
    if let (true, Some(recipient)) = (matches!(action, "export" | "transfer"), recipient) {
        event.set(Col::Recipient, recipient.as_str());
    }
    if let StatementKind::AddColumns(added) = &facts.kind {
        event.set(Col::AddedColumns, added.join(";"));
    }
    (event, problem)
}

/// The data categories of the columns a statement mentions (`*`: every mapped column).
fn categories(touched: &Touched, tables: &[&Table], map: &PgAuditMap, not_yet: &NotYet) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut add = |category: &String| {
        if !found.contains(category) {
            found.push(category.clone());
        }
    };
    for wildcard in &touched.wildcards {
        let chosen: Vec<&Table> = match wildcard {
            None => tables.to_vec(),
            Some(qualifier) => map.table(touched.relation_of(qualifier)).into_iter().collect(),
        };
        for table in chosen {
            for (column, category) in &table.columns {
                if !not_yet(&table.name, column) {
                    add(category);
                }
            }
        }
    }
    for (qualifier, column) in &touched.columns {
        let candidates: Vec<&Table> = match qualifier {
            Some(qualifier) => map.table(touched.relation_of(qualifier)).into_iter().collect(),
            None => tables.to_vec(),
        };
        for table in candidates {
            if let Some(category) = table.columns.get(column) {
                add(category);
            }
        }
    }
    if let StatementKind::AddColumns(added) = &touched.kind {
        for table in tables {
            added.iter().filter_map(|c| table.columns.get(c)).for_each(&mut add);
        }
    }
    found
}

/// `$2` with pgAudit's logged parameters `ag01,2021` → `2021`; a literal stays itself.
fn parameter_value(literal: &str, parameters: &str) -> String {
    let Some(index) = literal.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) else {
        return literal.to_string();
    };
    if parameters.starts_with('<') {
        return literal.to_string(); // <none>, <not logged>
    }
    csv_records::split_record(parameters, &csv_records::Dialect::default())
        .get(index.wrapping_sub(1))
        .cloned()
        .unwrap_or_else(|| literal.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::timestamp::format_us;

    #[test]
    fn zone_abbreviations_are_resolved_by_the_maps_zone() {
        let paris = chrono_tz::Europe::Paris;
        let summer = parse_log_time("2021-09-07 06:01:25.775 CEST", paris).unwrap();
        assert_eq!(format_us(summer), "2021-09-07T04:01:25.775000Z");
        let winter = parse_log_time("2021-12-07 06:01:25 CET", paris).unwrap();
        assert_eq!(format_us(winter), "2021-12-07T05:01:25Z");
        assert_eq!(format_us(parse_log_time("2021-12-07 06:01:25 +0530", paris).unwrap()), "2021-12-07T00:31:25Z");
        assert!(parse_log_time("2021-12-07 06:01:25 CEST", paris).unwrap_err().contains("unknown zone abbreviation"));
        assert!(parse_log_time("2021-12-07 06:01:25 XYZ", paris).is_err());
    }

    #[test]
    fn a_prefix_becomes_a_line_parser() {
        let prefix = Prefix::compile("%m [%p] %u@%d ").unwrap();
        let captures =
            prefix.pattern.captures("2021-09-07 06:01:25.775 CEST [8132] ag01@wikit LOG:  AUDIT: x").unwrap();
        assert_eq!(
            (&captures["ts"], &captures["user"], &captures["db"]),
            ("2021-09-07 06:01:25.775 CEST", "ag01", "wikit")
        );
        assert!(Prefix::compile("%q ").is_err() && Prefix::compile("%u ").is_err());
    }

    /// A stderr log: the map's prefix starts a record, a tab-indented line continues it, and
    /// the server's other messages are skipped.
    #[test]
    fn stderr_logs_with_a_prefix_and_a_statement_over_two_lines() {
        let dir = tempfile::tempdir().unwrap();
        let map_path = dir.path().join("map.toml");
        std::fs::write(
            &map_path,
            "format = \"pgaudit\"\ntimezone = \"Europe/Paris\"\nprefix = \"%m [%p] %u@%d \"\n[actors]\nroles = { \"ag*\" = \"agent\" }\n\
             [[table]]\nname = \"public.suites\"\ndataset = \"follow_ups\"\ncolumns = { nom_salarie = \"identity\" }\nagent_column = \"agent_id\"\n",
        )
        .unwrap();
        let map = crate::ingest::source_map::SourceMap::load(&map_path).unwrap();
        let log = dir.path().join("postgresql.log");
        std::fs::write(
            &log,
            "2021-09-07 06:01:25.775 CEST [8132] ag01@wikit LOG:  AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.suites,\"select nom_salarie,\n\tagent_id from suites where agent_id = 'ag02'\",<none>\n\
             2021-09-07 06:01:26.000 CEST [8132] ag01@wikit LOG:  disconnection: session time: 0:00:01.000\n",
        )
        .unwrap();
        let options = map.read_options();
        let display = log.display().to_string();
        let file = InputFile::new(&log, &display, &options);
        let table = super::super::read_whole(&PgAudit, &file).unwrap();
        assert_eq!((table.frame.height(), table.skipped), (1, 1));
        let text = |column: &str| table.frame.column(column).unwrap().str().unwrap().get(0).map(str::to_string);
        let ts = table.frame.column("ts").unwrap().datetime().unwrap().physical().get(0);
        assert_eq!(ts.map(format_us).as_deref(), Some("2021-09-07T04:01:25.775000Z"));
        assert_eq!(text("target_agent").as_deref(), Some("ag02"));
        assert_eq!(text("categories").as_deref(), Some("identity"));
        assert_eq!(text("event_id").as_deref(), Some("8132:1"), "without %c, the process is the session");
        assert!(table.row_problems.is_empty());
    }

    /// Behind a pool, the application names the end user in `app.end_user`: the statements that
    /// only set it are context (skipped), the others act for the user it names, per session,
    /// until `DISCARD ALL`; the database account stays in `database_user`.
    #[test]
    fn a_custom_parameter_names_the_end_user_per_session() {
        let dir = tempfile::tempdir().unwrap();
        let map_path = dir.path().join("map.toml");
        std::fs::write(
            &map_path,
            "format = \"pgaudit\"\nprefix = \"%m [%p] %u@%d \"\n[actors]\nfrom = \"app.end_user\"\n\
             roles = { \"ag*\" = \"agent\", \"pool\" = \"batch\" }\n\
             [[table]]\nname = \"public.suites\"\ndataset = \"follow_ups\"\ncolumns = { nom_salarie = \"identity\" }\n",
        )
        .unwrap();
        let map = crate::ingest::source_map::SourceMap::load(&map_path).unwrap();
        let log = dir.path().join("postgresql.log");
        let line = |pid: u32, id: u32, class: &str, command: &str, sql: &str, parameters: &str| {
            format!(
                "2021-09-07 06:01:{id:02}.000 UTC [{pid}] pool@wikit LOG:  AUDIT: SESSION,{id},1,{class},{command},,,\"{sql}\",{parameters}\n"
            )
        };
        let text = [
            line(1, 1, "MISC", "SET", "SET app.end_user = 'ag01'", "<none>"),
            line(2, 2, "READ", "SELECT", "select set_config('app.end_user', $1, false)", "ag02"),
            line(1, 3, "READ", "SELECT", "select nom_salarie from suites", "<none>"),
            line(2, 4, "READ", "SELECT", "select nom_salarie from suites", "<none>"),
            line(1, 5, "MISC", "DISCARD ALL", "DISCARD ALL", "<none>"),
            line(1, 6, "READ", "SELECT", "select nom_salarie from suites", "<none>"),
        ]
        .concat();
        std::fs::write(&log, text).unwrap();
        let options = map.read_options();
        let display = log.display().to_string();
        let file = InputFile::new(&log, &display, &options);
        let table = super::super::read_whole(&PgAudit, &file).unwrap();
        assert_eq!((table.frame.height(), table.skipped), (3, 3));
        let column = |name: &str| -> Vec<Option<String>> {
            table.frame.column(name).unwrap().str().unwrap().iter().map(|v| v.map(str::to_string)).collect()
        };
        let some = |values: &[&str]| values.iter().map(|v| Some(v.to_string())).collect::<Vec<_>>();
        assert_eq!(column("actor_id"), some(&["ag01", "ag02", "pool"]));
        assert_eq!(column("actor_role"), some(&["agent", "agent", "batch"]));
        assert_eq!(column("database_user"), some(&["pool", "pool", "pool"]));
        assert!(table.row_problems.is_empty());
    }

    #[test]
    fn audit_payloads_and_parameters() {
        let message = "AUDIT: SESSION,3,1,READ,SELECT,TABLE,public.suites,\"select a, b from suites\",<none>";
        let head = parse_audit_head(message).unwrap();
        assert_eq!((head.object_name.as_ref(), head.class.as_ref()), ("public.suites", "READ"));
        let quoted = parse_audit_head("AUDIT: SESSION,4,1,READ,SELECT,TABLE,\"public.a,b\",select 1,<none>").unwrap();
        assert_eq!((quoted.object_name.as_ref(), quoted.rest), ("public.a,b", "select 1,<none>"));
        let audit = parse_audit(message).unwrap();
        assert_eq!((audit.statement_id.as_str(), audit.parameter.as_str()), ("3", "<none>"));
        assert_eq!(audit.statement, "select a, b from suites");
        assert_eq!(parameter_value("$2", "ag01,ag02"), "ag02");
        assert_eq!(parameter_value("$1", "<none>"), "$1");
        assert_eq!(parameter_value("ag03", "x"), "ag03");
    }
}
