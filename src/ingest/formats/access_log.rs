//! Web-server access logs (Apache/nginx combined and common formats, plain or `.gz`) turned into
//! events by a route map. Many systems have no audit log, only their web server's: a route map
//! says which requests read or export which dataset, with which categories, and who the actor
//! (and recipient) is. Lines that do not parse, and requests no route claims, are quarantined
//! with their line number — accounted for, never dropped.
//!
//! Route map (TOML, `schemas/routes.example.toml`, docs/guide.md):
//! ```toml
//! actor = "client"          # "client" (address + user agent), "address", or "user" (the authenticated user, else client)
//! role = "web_client"       # actor_role of every event
//! [[route]]
//! methods = ["GET"]         # optional
//! path = '^/erddap/tabledap/(?P<name>[A-Za-z0-9_-]+)\.(csv|json|nc)'
//! action = "export"
//! dataset = "observations"  # may use captures: "{name}"
//! categories = ["position"]
//! recipient = "{client}"    # optional; {client} is the actor id
//! statuses = "2xx"          # optional: which responses count (default 2xx and 3xx)
//! ```

use std::io::{BufRead, BufReader};
use std::path::Path;

use chrono::DateTime;
use polars::prelude::*;
use regex::Regex;
use serde::Deserialize;

use super::{ChunkSink, InputFile, InputFormat, MAX_RECORD_BYTES, RawTable, RowLines};
use crate::error::{Error, PolarsContext, Result};
use crate::ingest::QuarantineRecord;
use crate::ingest::timestamp::format_us;

/// One parsed line of a combined or common log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessLine<'a> {
    pub host: &'a str,
    pub user: Option<&'a str>,
    /// Microseconds since the epoch, UTC.
    pub ts: i64,
    pub method: String,
    pub path: String,
    pub status: u16,
    pub bytes: Option<u64>,
    pub agent: Option<String>,
}

/// A proxy-style request line (`GET http://host/path HTTP/1.1`) still has a method and a target.
fn target_is_url(_protocol: Option<&str>, method: &str) -> bool {
    !method.is_empty() && method.chars().all(|c| c.is_ascii_uppercase())
}

fn token(rest: &str) -> Option<(&str, &str)> {
    let rest = rest.trim_start_matches(' ');
    let end = rest.find(' ').unwrap_or(rest.len());
    (end > 0).then(|| (&rest[..end], &rest[end..]))
}

/// A double-quoted field with `\"` escapes; returns (unescaped content, rest).
fn quoted(rest: &str) -> Option<(String, &str)> {
    let rest = rest.trim_start_matches(' ').strip_prefix('"')?;
    let mut value = String::new();
    let mut chars = rest.char_indices();
    while let Some((index, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            '"' => return Some((value, &rest[index + 1..])),
            _ => value.push(c),
        }
    }
    None
}

/// Parses `host ident user [time] "request" status bytes ["referer" "agent"]`.
pub fn parse_line(line: &str) -> std::result::Result<AccessLine<'_>, &'static str> {
    let (host, rest) = token(line).ok_or("empty line")?;
    let (_ident, rest) = token(rest).ok_or("no ident field")?;
    let (user, rest) = token(rest).ok_or("no user field")?;
    let rest = rest.trim_start_matches(' ').strip_prefix('[').ok_or("no [time]")?;
    let close = rest.find(']').ok_or("unterminated [time]")?;
    let ts = DateTime::parse_from_str(&rest[..close], "%d/%b/%Y:%H:%M:%S %z")
        .map_err(|_| "time is not dd/Mon/yyyy:hh:mm:ss +zzzz")?
        .timestamp_micros();
    let rest = &rest[close + 1..];
    let request_start = rest.trim_start_matches(' ');
    let (request, rest) = quoted(request_start).ok_or("no quoted request")?;
    let mut parts = request.split(' ');
    let (method, path) = match (parts.next(), parts.next()) {
        (Some(method), Some(target))
            if !method.is_empty() && target.starts_with('/') || target_is_url(parts.clone().next(), method) =>
        {
            (method.to_string(), request.split(' ').nth(1).unwrap_or("").to_string())
        }
        _ => return Err("request is not METHOD PATH PROTOCOL"),
    };
    let (status, rest) = token(rest).ok_or("no status")?;
    let status: u16 = status.parse().map_err(|_| "status is not a number")?;
    let (bytes, rest) = token(rest).unwrap_or(("-", ""));
    let bytes = if bytes == "-" { None } else { Some(bytes.parse().map_err(|_| "size is not a number")?) };
    let agent = quoted(rest).and_then(|(_, rest)| quoted(rest)).map(|(agent, _)| agent);
    Ok(AccessLine { host, user: (user != "-").then_some(user), ts, method, path, status, bytes, agent })
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteFile {
    #[serde(default = "default_actor")]
    actor: String,
    #[serde(default = "default_role")]
    role: String,
    route: Vec<RouteEntry>,
}

fn default_actor() -> String {
    "client".into()
}

fn default_role() -> String {
    "web_client".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteEntry {
    #[serde(default)]
    methods: Vec<String>,
    path: String,
    action: String,
    dataset: String,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    recipient: Option<String>,
    #[serde(default)]
    statuses: Option<String>,
}

struct Route {
    entry: RouteEntry,
    pattern: Regex,
}

/// A loaded, validated route map.
pub struct RouteMap {
    actor: String,
    role: String,
    routes: Vec<Route>,
}

impl RouteMap {
    /// Loads a route map file (`--routes`).
    pub fn load(path: &Path) -> Result<RouteMap> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| Error::Map {
            file: file.clone(),
            key: "(route map)".into(),
            message: e.message().to_string(),
        })?;
        // A source map of format = "access_log" is a route map too.
        match table.remove("format") {
            None => {}
            Some(toml::Value::String(format)) if format == "access_log" => {}
            Some(_) => {
                return Err(Error::Map {
                    file,
                    key: "format".into(),
                    message: "--routes reads access_log maps; give other source maps with --source-map".into(),
                });
            }
        }
        RouteMap::from_table(table, &file)
    }

    /// A route map from its TOML keys (a `--routes` file, or a source map of
    /// `format = "access_log"` without its own keys); `file` names it in errors.
    pub fn from_table(table: toml::Table, file: &str) -> Result<RouteMap> {
        let file = file.to_string();
        let parsed: RouteFile = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| Error::Map {
            file: file.clone(),
            key: "(route map)".into(),
            message: e.message().to_string(),
        })?;
        if !["client", "address", "user"].contains(&parsed.actor.as_str()) {
            return Err(Error::Map { file, key: "actor".into(), message: "must be client, address or user".into() });
        }
        let mut routes = Vec::new();
        for (index, entry) in parsed.route.into_iter().enumerate() {
            let pattern = Regex::new(&entry.path).map_err(|e| Error::Map {
                file: file.clone(),
                key: format!("route[{index}].path"),
                message: e.to_string(),
            })?;
            if !crate::event::ACTIONS.contains(&entry.action.as_str()) {
                return Err(Error::Map {
                    file: file.clone(),
                    key: format!("route[{index}].action"),
                    message: format!("`{}` is not one of: {}", entry.action, crate::event::ACTIONS.join(", ")),
                });
            }
            routes.push(Route { entry, pattern });
        }
        Ok(RouteMap { actor: parsed.actor, role: parsed.role, routes })
    }

    fn actor_of(&self, line: &AccessLine) -> String {
        let client = || match &line.agent {
            Some(agent) => format!("{} {}", line.host, &crate::hashing::sha256_bytes(agent.as_bytes())[..8]),
            None => line.host.to_string(),
        };
        match self.actor.as_str() {
            "address" => line.host.to_string(),
            "user" => line.user.map(str::to_string).unwrap_or_else(client),
            _ => client(),
        }
    }
}

fn status_counts(statuses: Option<&str>, status: u16) -> bool {
    match statuses {
        None => (200..400).contains(&status),
        Some(spec) => spec.split(',').map(str::trim).any(|s| match s.strip_suffix("xx") {
            Some(class) => class.parse::<u16>().is_ok_and(|c| status / 100 == c),
            None => s.parse::<u16>().is_ok_and(|exact| exact == status),
        }),
    }
}

/// A template with `{client}` and the route's named captures filled in.
fn fill(template: &str, pattern: &Regex, captures: &regex::Captures, actor: &str) -> String {
    let mut value = template.replace("{client}", actor);
    for name in pattern.capture_names().flatten() {
        if let Some(group) = captures.name(name) {
            value = value.replace(&format!("{{{name}}}"), group.as_str());
        }
    }
    value
}

const COLUMNS: [&str; 12] = [
    "event_id",
    "ts",
    "actor_id",
    "actor_role",
    "action",
    "dataset",
    "categories",
    "recipient",
    "record_count",
    "http_method",
    "http_path",
    "http_status",
];

/// The access-log format: needs the route map of its source map (or `--routes`).
pub struct AccessLog;

impl InputFormat for AccessLog {
    fn read_chunks(&self, file: &InputFile, chunk_rows: usize, on_chunk: &mut ChunkSink) -> Result<()> {
        let routes = file.options.routes.ok_or_else(|| {
            Error::file(
                file.display,
                "a web access log needs a route map: give a source map of format = \"access_log\" (--source-map) or --routes (see docs/guide.md)",
            )
        })?;
        read_batches(file.path, file.display, routes, chunk_rows, on_chunk)
    }
}

/// Reads an access log a batch of at most `rows` routed lines at a time: `on_batch` gets each
/// batch (with the lines rejected since the previous one) and the number of rows before it. A
/// log with no routed line still gives one, empty, batch.
fn read_batches(path: &Path, display: &str, routes: &RouteMap, rows: usize, on_batch: &mut ChunkSink) -> Result<()> {
    let reader = super::open_maybe_gzipped(path)?;
    let stem = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); COLUMNS.len()];
    let (mut lines, mut rejected) = (Vec::new(), Vec::new());
    let mut rows_before = 0;
    let batch = |columns: &mut Vec<Vec<Option<String>>>, lines: &mut Vec<u64>, rejected: &mut Vec<QuarantineRecord>| {
        let height = lines.len();
        let frame = DataFrame::new(
            height,
            COLUMNS
                .iter()
                .zip(columns.iter_mut())
                .map(|(name, values)| Column::new((*name).into(), std::mem::take(values)))
                .collect(),
        )
        .polars(format!("{display}: building the table"))?;
        let mut table = RawTable::new(frame, RowLines::Listed(std::mem::take(lines)));
        table.rejected = std::mem::take(rejected);
        Ok::<_, Error>(table)
    };
    let reject = |line_number: u64, text: &str, reason: String| QuarantineRecord {
        file: display.to_string(),
        line: Some(line_number),
        row: None,
        column: String::new(),
        value: text.chars().take(200).collect(),
        reason,
    };
    for (index, line) in BufReader::new(reader).split(b'\n').enumerate() {
        let line_number = index as u64 + 1;
        let bytes = line.map_err(|e| Error::file(display, format!("cannot read line {line_number}: {e}")))?;
        let text = String::from_utf8_lossy(&bytes);
        let text = text.trim_end_matches('\r');
        if text.trim().is_empty() {
            continue;
        }
        if bytes.len() > MAX_RECORD_BYTES {
            rejected.push(reject(line_number, text, "line longer than the limit".into()));
            continue;
        }
        let parsed = match parse_line(text) {
            Ok(parsed) => parsed,
            Err(reason) => {
                rejected.push(reject(line_number, text, format!("not a combined/common log line: {reason}")));
                continue;
            }
        };
        let routed = routes.routes.iter().find_map(|route| {
            let method_ok = route.entry.methods.is_empty()
                || route.entry.methods.iter().any(|m| m.eq_ignore_ascii_case(&parsed.method));
            let captures = route.pattern.captures(&parsed.path).filter(|_| method_ok)?;
            status_counts(route.entry.statuses.as_deref(), parsed.status).then_some((route, captures))
        });
        let Some((route, captures)) = routed else {
            rejected.push(reject(
                line_number,
                text,
                format!("no route for {} {} ({})", parsed.method, parsed.path, parsed.status),
            ));
            continue;
        };
        let actor = routes.actor_of(&parsed);
        let values = [
            Some(format!("{stem}:{line_number}")),
            Some(format_us(parsed.ts)),
            Some(actor.clone()),
            Some(routes.role.clone()),
            Some(route.entry.action.clone()),
            Some(fill(&route.entry.dataset, &route.pattern, &captures, &actor)),
            Some(route.entry.categories.join(";")).filter(|c| !c.is_empty()),
            route.entry.recipient.as_ref().map(|r| fill(r, &route.pattern, &captures, &actor)),
            Some("1".to_string()),
            Some(parsed.method.clone()),
            Some(parsed.path.clone()),
            Some(parsed.status.to_string()),
        ];
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(value);
        }
        lines.push(line_number);
        if lines.len() == rows {
            let height = lines.len();
            on_batch(batch(&mut columns, &mut lines, &mut rejected)?, rows_before)?;
            rows_before += height;
        }
    }
    if !lines.is_empty() || !rejected.is_empty() || rows_before == 0 {
        on_batch(batch(&mut columns, &mut lines, &mut rejected)?, rows_before)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_common_ipv6_escapes_and_zones() {
        let combined = parse_line(r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#).unwrap();
        assert_eq!(
            (combined.host, combined.user, combined.method.as_str(), combined.path.as_str()),
            ("127.0.0.1", Some("frank"), "GET", "/apache_pb.gif")
        );
        assert_eq!((combined.status, combined.bytes), (200, Some(2326)));
        assert_eq!(combined.agent.as_deref(), Some("Mozilla/4.08 [en] (Win98; I ;Nav)"));
        assert_eq!(format_us(combined.ts), "2000-10-10T20:55:36Z");
        let common =
            parse_line(r#"2001:db8::1 - - [12/May/2024:00:00:17 +0000] "POST /login HTTP/1.1" 302 -"#).unwrap();
        assert_eq!((common.host, common.user, common.bytes, common.agent), ("2001:db8::1", None, None, None));
        let escaped =
            parse_line(r#"10.0.0.1 - - [12/May/2024:00:00:17 +0000] "GET /a HTTP/1.1" 200 5 "-" "say \"hi\"""#)
                .unwrap();
        assert_eq!(escaped.agent.as_deref(), Some("say \"hi\""));
    }

    #[test]
    fn malformed_lines_say_why() {
        assert_eq!(parse_line("\"Mozilla/5.0\""), Err("no ident field"));
        assert!(parse_line(r#"1.2.3.4 - - [yesterday] "GET / HTTP/1.1" 200 1"#).is_err());
        assert!(parse_line(r#"1.2.3.4 - - [12/May/2024:00:00:17 +0000] "-" 400 0"#).is_err());
        assert!(parse_line(r#"1.2.3.4 - - [12/May/2024:00:00:17 +0000] "GET / HTTP/1.1" OK 1"#).is_err());
    }

    #[test]
    fn statuses() {
        assert!(status_counts(None, 200) && status_counts(None, 304) && !status_counts(None, 404));
        assert!(status_counts(Some("2xx, 404"), 404) && !status_counts(Some("2xx"), 302));
    }
}
