//! `driftwatch map check` and `driftwatch map init`: the two tools around source maps.
//!
//! `check` reads a log through a map and prints its first records beside the events they
//! become, then, over the whole file, the values no `map` entry translates and the quarantined
//! rows by reason; exit 1 when some value is unmapped, so a script can gate on it. `init`
//! sniffs a log (`ingest::sniff`) and writes a draft map for a person to finish.

use std::fmt::Write as _;
use std::path::Path;

use polars::prelude::*;

use crate::cli::{MapCheckArgs, MapCommand, MapFormat, MapInitArgs};
use crate::error::{Error, PolarsContext, Result};
use crate::event;
use crate::ingest::formats::{InputFile, RowLines};
use crate::ingest::source_map::SourceMaps;
use crate::ingest::timestamp::format_us;
use crate::ingest::{self, Format, Input, QuarantineRecord, sniff};

pub fn run(command: &MapCommand) -> Result<i32> {
    match command {
        MapCommand::Check(args) => {
            let (text, unmapped) = check(args)?;
            crate::out!("{text}");
            Ok(i32::from(unmapped))
        }
        MapCommand::Init(args) => init(args).map(|()| 0),
    }
}

/// The report of `map check`, and whether some value is unmapped.
pub fn check(args: &MapCheckArgs) -> Result<(String, bool)> {
    let maps = SourceMaps::load(std::slice::from_ref(&args.source_map), None)?;
    let map = maps.get(0).ok_or_else(|| Error::Usage("no source map loaded".into()))?;
    if !args.events.is_file() {
        return Err(Error::file(args.events.display(), "no such file"));
    }
    // The file is read through this map whatever its `files` say: that is what is checked.
    let input = Input { path: args.events.clone(), format: map.format, map: Some(0) };
    let mut first_events: Option<DataFrame> = None;
    let streamed = ingest::stream(std::slice::from_ref(&input), &maps, true, ingest::DEFAULT_CHUNK_ROWS, |chunk| {
        if first_events.is_none() {
            first_events = Some(chunk.head(Some(args.rows.max(1) * 2)));
        }
        Ok(())
    })?;
    let preview = raw_preview(&input, map, args.rows)?;
    let mut out = String::new();
    let file = &streamed.files[0];
    let _ = writeln!(
        out,
        "{}: read through {} ({}): {} row(s) read, {} used, {} quarantined{}\n",
        file.path,
        map.display,
        map.format.name(),
        file.rows_read,
        file.rows_used,
        file.rows_quarantined,
        if file.ambiguous_local_times > 0 {
            format!(", {} local time(s) at the autumn change (the earlier instant taken)", file.ambiguous_local_times)
        } else {
            String::new()
        }
    );
    side_by_side(&mut out, &preview, first_events.as_ref(), &streamed.quarantine)?;
    if streamed.unmapped.is_empty() {
        out.push_str("unmapped values: none\n");
    } else {
        out.push_str("unmapped values (no entry in the field's map, no \"*\"), over the whole file:\n");
        let mut field = "";
        for ((name, value), rows) in &streamed.unmapped {
            if *name != field {
                let _ = writeln!(out, "  {name}:");
                field = name;
            }
            let _ = writeln!(out, "    {value:?}: {rows} row(s)");
        }
    }
    let mut reasons: std::collections::BTreeMap<(String, String), u64> = Default::default();
    for record in &streamed.quarantine {
        *reasons.entry((record.column.clone(), record.reason.clone())).or_default() += 1;
    }
    if !reasons.is_empty() {
        out.push_str("quarantined rows by reason:\n");
        for ((column, reason), rows) in reasons {
            let column = if column.is_empty() { "(record)".to_string() } else { column };
            let _ = writeln!(out, "  {rows:>8}  {column}: {reason}");
        }
    }
    Ok((out, !streamed.unmapped.is_empty()))
}

/// The first `rows` records of the file as read, before the map.
struct Preview {
    frame: DataFrame,
    lines: RowLines,
    /// Records rejected before they were fields (bad encoding, wrong field count).
    rejected: Vec<QuarantineRecord>,
}

fn raw_preview(input: &Input, map: &ingest::source_map::SourceMap, rows: usize) -> Result<Preview> {
    let display = input.path.display().to_string();
    let options = map.read_options();
    let file = InputFile::new(&input.path, &display, &options);
    let mut preview: Option<Preview> = None;
    input.format.reader().read_chunks(&file, ingest::DEFAULT_CHUNK_ROWS, &mut |table, _| {
        if preview.is_none() {
            let frame = table.frame.head(Some(rows));
            preview = Some(Preview { frame, lines: table.lines, rejected: table.rejected });
        }
        Ok(())
    })?;
    preview.ok_or_else(|| Error::file(&display, "nothing read"))
}

fn side_by_side(
    out: &mut String,
    preview: &Preview,
    events: Option<&DataFrame>,
    quarantine: &[QuarantineRecord],
) -> Result<()> {
    let source_rows = match events {
        Some(events) => events.column(event::SOURCE_ROW).and_then(|c| c.u32().cloned()).polars("source rows")?,
        None => UInt32Chunked::from_vec("source_row".into(), Vec::new()),
    };
    for row in 0..preview.frame.height() {
        let line = preview.lines.line_of(row);
        let _ = writeln!(out, "{}", line.map_or_else(|| format!("row {}", row + 1), |l| format!("line {l}")));
        let raw: Vec<String> = preview
            .frame
            .columns()
            .iter()
            .filter_map(|c| cell_text(c, row).map(|v| format!("{}={v}", c.name())))
            .collect();
        let _ = writeln!(out, "  raw    {}", raw.join(" | "));
        let position = source_rows.iter().position(|r| r == Some(row as u32 + 1));
        match (events, position) {
            (Some(events), Some(position)) => {
                let fields: Vec<String> = events
                    .columns()
                    .iter()
                    .filter(|c| !event::is_internal_column(c.name()))
                    .filter_map(|c| cell_text(c, position).map(|v| format!("{}={v}", c.name())))
                    .collect();
                let _ = writeln!(out, "  event  {}", fields.join(" "));
            }
            _ => {
                let why =
                    quarantine.iter().find(|q| q.row == Some(row as u64 + 1) || (q.row.is_none() && q.line == line));
                let _ = writeln!(
                    out,
                    "  quarantined: {}",
                    why.map_or("(see the counts below)".to_string(), |q| format!(
                        "{} `{}`: {}",
                        q.column, q.value, q.reason
                    ))
                );
            }
        }
    }
    for record in preview.rejected.iter().take(5) {
        let _ = writeln!(out, "line {}\n  quarantined: {}", record.line.unwrap_or(0), record.reason);
    }
    out.push('\n');
    Ok(())
}

/// A cell as text for the side-by-side view; `None` for nulls.
fn cell_text(column: &Column, row: usize) -> Option<String> {
    let value = column.get(row).ok()?;
    match value {
        AnyValue::Null => None,
        AnyValue::String(text) => Some(text.to_string()),
        AnyValue::StringOwned(text) => Some(text.to_string()),
        AnyValue::Datetime(us, TimeUnit::Microseconds, _) | AnyValue::DatetimeOwned(us, TimeUnit::Microseconds, _) => {
            Some(format_us(us))
        }
        AnyValue::List(items) => {
            let items: Vec<String> = items.iter().filter_map(|v| v.get_str().map(str::to_string)).collect();
            Some(format!("[{}]", items.join(", ")))
        }
        other => Some(other.to_string().trim_matches('"').to_string()),
    }
}

fn init(args: &MapInitArgs) -> Result<()> {
    let format = match args.format {
        Some(MapFormat::Csv) => Format::Csv,
        Some(MapFormat::Jsonl) => Format::JsonLines,
        Some(MapFormat::Parquet) => Format::Parquet,
        Some(MapFormat::Arrow) => Format::ArrowIpc,
        None => sniff::guess_format(&args.events)?,
    };
    let draft = sniff::draft_map(&args.events, format)?;
    match &args.out {
        None => crate::out!("{draft}"),
        Some(path) => write_new(path, &draft)?,
    }
    Ok(())
}

fn write_new(path: &Path, text: &str) -> Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::file(
                path.display(),
                "already exists: a draft never overwrites a map (remove it, or choose another --out)",
            )
        } else {
            Error::io(path, e)
        }
    })?;
    file.write_all(text.as_bytes()).map_err(|e| Error::io(path, e))?;
    eprintln!(
        "driftwatch: draft source map written to {}; finish it, then: driftwatch map check --events … --source-map {}",
        path.display(),
        path.display()
    );
    Ok(())
}
