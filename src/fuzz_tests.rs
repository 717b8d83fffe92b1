//! Property tests standing in for fuzzing (`cargo fuzz` would need the whole crate, polars
//! included, built with nightly sanitizer instrumentation: about half an hour per build on two
//! cores). Arbitrary input must never panic the parsers, and every row read must be used or
//! quarantined. Case counts come from `DRIFTWATCH_FUZZ_CASES` (default 256 for `cargo test`);
//! docs/guide.md ("Bad input") gives the command that ran a million cases.

use proptest::prelude::*;

use polars::prelude::Column;

use crate::ingest::{self, Format, timestamp};

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("DRIFTWATCH_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Text that looks like the inputs: mostly printable, with separators, quotes and line breaks.
fn log_text() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z0-9 ,;:\"'\\-T+Z.\\n\\r{}\\[\\]\\\\é\\x00]{0,400}").expect("valid regex")
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn timestamps_never_panic_and_round_trip(text in "\\PC{0,40}", digits in "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?") {
        let _ = timestamp::parse_timestamp_us(&text);
        let _ = timestamp::parse_date_days(&text);
        if let Ok(us) = timestamp::parse_timestamp_us(&digits) {
            prop_assert_eq!(timestamp::parse_timestamp_us(&timestamp::format_us(us)), Ok(us));
        }
    }

    #[test]
    fn csv_records_cover_every_byte(text in log_text()) {
        let records = ingest::csv_records_for_tests(text.as_bytes());
        for pair in records.windows(2) {
            prop_assert!(pair[0].1.end <= pair[1].1.start && pair[0].0 <= pair[1].0);
        }
    }

    #[test]
    fn access_log_lines_never_panic(text in "\\PC{0,200}", host in "[0-9a-f:.]{1,39}", path in "/[ -~]{0,60}", agent in "[ -~]{0,40}") {
        let _ = crate::ingest::formats::access_log::parse_line(&text);
        let line = format!("{host} - - [12/May/2024:00:00:17 +0000] \"GET {path} HTTP/1.1\" 200 5 \"-\" \"{}\"", agent.replace('\\', "\\\\").replace('"', "\\\""));
        if !path.contains(' ') && !path.contains('"') {
            let parsed = crate::ingest::formats::access_log::parse_line(&line);
            prop_assert!(parsed.is_ok(), "{line}: {parsed:?}");
            prop_assert_eq!(parsed.unwrap().agent, Some(agent.clone()));
        }
    }

    #[test]
    fn register_text_never_panics(text in "\\PC{0,300}", body in log_text()) {
        let _ = toml::from_str::<crate::register::RegisterFile>(&text);
        let _ = toml::from_str::<crate::register::RegisterFile>(&format!("processing = \"p\"\nin_force_from = \"2020-01-01\"\n{body}"));
    }
}

proptest! {
    #![proptest_config(cases(64))]

    #[test]
    fn any_csv_or_json_lines_file_is_read_or_refused_never_lost(rows in proptest::collection::vec(log_text(), 0..8), json in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let (name, format, header) = if json {
            ("f.jsonl", Format::JsonLines, String::new())
        } else {
            ("f.csv", Format::Csv, "event_id,ts,actor_id,actor_role,action,dataset,categories,record_count\n".to_string())
        };
        let path = dir.path().join(name);
        std::fs::write(&path, header + &rows.join("\n")).unwrap();
        if let Ok(ingested) = ingest::load_all(&[(path, format)]) {
            let file = &ingested.files[0];
            prop_assert_eq!(file.rows_read, file.rows_used + file.rows_quarantined);
            prop_assert_eq!(ingested.quarantine.len() as u64, file.rows_quarantined);
        }
    }
}

/// How a generated columnar column is typed: every type a Parquet or Arrow writer may give a
/// contract column, right or wrong for it.
#[derive(Debug, Clone, Copy)]
enum Typed {
    /// Text holding a value the column accepts in every row (so that rows get used).
    Clean,
    Text,
    Int64,
    UInt64,
    Int32,
    Float64,
    Boolean,
    NanosecondsNaive,
    MillisecondsUtc,
    MicrosecondsParis,
    Date,
    TextList,
    IntegerList,
    AllNull,
}

const TYPES: [Typed; 13] = [
    Typed::Text,
    Typed::Int64,
    Typed::UInt64,
    Typed::Int32,
    Typed::Float64,
    Typed::Boolean,
    Typed::NanosecondsNaive,
    Typed::MillisecondsUtc,
    Typed::MicrosecondsParis,
    Typed::Date,
    Typed::TextList,
    Typed::IntegerList,
    Typed::AllNull,
];

/// Raw numbers of a column: the extremes of every width, around the epoch, and anything; a
/// third null.
fn raw_values(rows: usize) -> impl Strategy<Value = Vec<Option<i64>>> {
    let value = prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(i64::from(i32::MIN)),
        Just(i64::from(i32::MAX)),
        Just(0i64),
        Just(-1i64),
        -100_000i64..100_000,
        1_500_000_000_000_000i64..1_700_000_000_000_000, // 2017-2023 in µs
        any::<i64>(),
    ];
    proptest::collection::vec(proptest::option::weighted(0.7, value), rows)
}

/// A column of `typed` built from raw numbers (text and lists from their digits, or from a
/// value the column accepts so that some rows are used).
fn typed_column(name: &str, typed: Typed, raw: &[Option<i64>], usable: &str) -> Column {
    use polars::prelude::*;
    let name: PlSmallStr = name.into();
    let micros = |unit: TimeUnit, zone: Option<TimeZone>| {
        raw.iter().copied().collect::<Int64Chunked>().with_name(name.clone()).into_datetime(unit, zone).into_column()
    };
    match typed {
        Typed::Clean => Column::new(name.clone(), vec![usable; raw.len()]),
        Typed::Text => Column::new(
            name.clone(),
            raw.iter()
                .map(|v| v.map(|n| if n % 3 == 0 { usable.to_string() } else { n.to_string() }))
                .collect::<Vec<_>>(),
        ),
        Typed::Int64 => Column::new(name.clone(), raw.to_vec()),
        Typed::UInt64 => Column::new(name.clone(), raw.iter().map(|v| v.map(|n| n as u64)).collect::<Vec<_>>()),
        Typed::Int32 => Column::new(name.clone(), raw.iter().map(|v| v.map(|n| n as i32)).collect::<Vec<_>>()),
        Typed::Float64 => Column::new(name.clone(), raw.iter().map(|v| v.map(|n| n as f64 / 7.0)).collect::<Vec<_>>()),
        Typed::Boolean => Column::new(name.clone(), raw.iter().map(|v| v.map(|n| n % 2 == 0)).collect::<Vec<_>>()),
        Typed::NanosecondsNaive => micros(TimeUnit::Nanoseconds, None),
        Typed::MillisecondsUtc => micros(TimeUnit::Milliseconds, Some(TimeZone::UTC)),
        Typed::MicrosecondsParis => {
            micros(TimeUnit::Microseconds, Some(TimeZone::from_chrono(&chrono_tz::Europe::Paris)))
        }
        Typed::Date => raw
            .iter()
            .map(|v| v.map(|n| n as i32))
            .collect::<Int32Chunked>()
            .with_name(name.clone())
            .into_date()
            .into_column(),
        Typed::TextList => {
            let mut lists = ListStringChunkedBuilder::new(name.clone(), raw.len(), raw.len() * 2);
            for value in raw {
                match value {
                    Some(n) => {
                        lists.append_values_iter([usable, &n.to_string()].into_iter().take((n.rem_euclid(3)) as usize))
                    }
                    None => lists.append_null(),
                }
            }
            lists.finish().into_column()
        }
        Typed::IntegerList => {
            let mut lists =
                ListPrimitiveChunkedBuilder::<Int64Type>::new(name.clone(), raw.len(), raw.len(), DataType::Int64);
            for value in raw {
                match value {
                    Some(n) => lists.append_slice(&[*n, n.wrapping_mul(3)][..(n.rem_euclid(3) as usize).min(2)]),
                    None => lists.append_null(),
                }
            }
            lists.finish().into_column()
        }
        Typed::AllNull => Column::full_null(name, raw.len(), &DataType::Null),
    }
}

/// A value each contract column accepts (text columns get it in a third of their rows).
fn usable_value(column: &str) -> &'static str {
    match column {
        "ts" => "2022-03-01T10:00:00Z",
        "action" => "read",
        "dataset" => "follow_ups",
        "actor_role" => "agent",
        "categories" => "identity",
        "record_date" => "2021-06-30",
        "group_size" | "record_count" => "12",
        _ => "x1",
    }
}

/// The types a column of this kind may be read from (the others stop the run: exit 2).
fn accepted(kind: crate::event::Kind) -> &'static [Typed] {
    use crate::event::Kind;
    use Typed::*;
    match kind {
        Kind::Text => &[Text, Int64, UInt64, Int32, Float64, Boolean, AllNull],
        Kind::Timestamp => &[Text, NanosecondsNaive, MillisecondsUtc, MicrosecondsParis, Date, AllNull],
        Kind::Date => &[Text, Date, NanosecondsNaive, MillisecondsUtc, AllNull],
        Kind::Integer => &[Text, Int64, UInt64, Int32, AllNull],
        Kind::Categories => &[Text, TextList, IntegerList, AllNull],
    }
}

/// A column's type: any type one time in forty (a file has 17 columns: a third of the files
/// have one the run refuses), clean text four in ten, otherwise a type its kind accepts with any
/// values (so that whole files get read, and rows used and audited).
fn column_type(kind: crate::event::Kind, pick: usize) -> Typed {
    let accepted = accepted(kind);
    match pick % 40 {
        0 => TYPES[pick / 40 % TYPES.len()],
        1..=16 => Typed::Clean,
        _ => accepted[pick / 40 % accepted.len()],
    }
}

/// A Parquet or Arrow IPC file whose contract columns each have any type and any values: right
/// typed (text, Datetime, Date, lists, integers), wrongly typed, extreme, null.
fn columnar_file() -> impl Strategy<Value = (Vec<(usize, Vec<Option<i64>>)>, usize, usize, bool)> {
    (0usize..12).prop_flat_map(|rows| {
        (
            proptest::collection::vec((0..10_000usize, raw_values(rows)), crate::event::COLUMNS.len()),
            Just(rows),
            1usize..5,
            any::<bool>(),
        )
    })
}

fn write_columnar(
    dir: &std::path::Path,
    spec: &(Vec<(usize, Vec<Option<i64>>)>, usize, usize, bool),
) -> (std::path::PathBuf, Format) {
    use polars::prelude::*;
    let (columns, rows, group, arrow) = spec;
    let columns: Vec<Column> = crate::event::COLUMNS
        .iter()
        .zip(columns)
        .map(|(column, (pick, raw))| {
            typed_column(column.name, column_type(column.kind, *pick), raw, usable_value(column.name))
        })
        .collect();
    let mut frame = DataFrame::new(*rows, columns).expect("columns of one length");
    let file = |name: &str| std::fs::File::create(dir.join(name)).expect("a temporary file");
    if *arrow {
        IpcWriter::new(file("e.arrow")).finish(&mut frame).expect("IPC writes every type here");
        (dir.join("e.arrow"), Format::ArrowIpc)
    } else {
        ParquetWriter::new(file("e.parquet"))
            .with_row_group_size(Some(*group))
            .finish(&mut frame)
            .expect("Parquet writes every type here");
        (dir.join("e.parquet"), Format::Parquet)
    }
}

/// An error about a generated columnar file names it.
fn names_the_file(error: &crate::Error) -> bool {
    let text = error.to_string();
    text.contains("e.parquet") || text.contains("e.arrow")
}

proptest! {
    #![proptest_config(cases(64))]

    /// Parquet and Arrow files with arbitrary typed columns are read or refused with an error
    /// naming the file, never a panic, and every row read is used or quarantined.
    #[test]
    fn any_parquet_or_arrow_file_is_read_or_refused_never_lost(spec in columnar_file()) {
        let dir = tempfile::tempdir().unwrap();
        let (path, format) = write_columnar(dir.path(), &spec);
        match ingest::load_all(&[(path.clone(), format)]) {
            Ok(ingested) => {
                let file = &ingested.files[0];
                prop_assert_eq!(file.rows_read, spec.1 as u64);
                prop_assert_eq!(file.rows_read, file.rows_used + file.rows_quarantined);
                prop_assert_eq!(ingested.quarantine.len() as u64, file.rows_quarantined);
                prop_assert_eq!(ingested.events.height() as u64, file.rows_used);
            }
            Err(error) => prop_assert!(names_the_file(&error), "{}", error),
        }
    }
}

proptest! {
    #![proptest_config(cases(12))]

    /// The same files through a whole audit, every output format: no input reaches a panic in a
    /// detector, a chart, the workbook or the report.
    #[test]
    fn any_parquet_or_arrow_file_audits_without_panicking(spec in columnar_file()) {
        use clap::Parser;
        let dir = tempfile::tempdir().unwrap();
        let (path, _) = write_columnar(dir.path(), &spec);
        let register = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bad-inputs/register.toml");
        let out = dir.path().join("out");
        let cli = crate::cli::Cli::try_parse_from([
            "driftwatch".as_ref(), "audit".as_ref(), "--quiet".as_ref(),
            "--events".as_ref(), path.as_os_str(), "--register".as_ref(), register.as_ref(),
            "--out".as_ref(), out.as_os_str(), "--reveal-identities".as_ref(),
        ]).unwrap();
        let crate::cli::Command::Audit(args) = cli.command else { unreachable!("an audit command line") };
        let outcome = crate::commands::audit::config(&args).and_then(|config| crate::pipeline::audit(&config));
        match outcome {
            Ok(outcome) => {
                let summary = &outcome.summary;
                // A file that cannot be read at all is set aside, named, and the run exits 2.
                let set_aside = summary.unreadable_files.len() as u64;
                prop_assert_eq!(set_aside > 0, outcome.exit_code == 2);
                prop_assert_eq!(summary.rows_read + set_aside * spec.1 as u64, spec.1 as u64);
                prop_assert_eq!(summary.rows_read, summary.rows_used + summary.rows_quarantined);
            }
            Err(error) => prop_assert!(names_the_file(&error), "{}", error),
        }
    }
}

/// One record a generated CSV file holds, as the generator meant it.
#[derive(Debug, Clone)]
struct WrittenRecord {
    fields: Vec<String>,
    /// Quote every field (else only those that need it).
    quote_all: bool,
    /// `\n`, `\r\n` or `\r` after it.
    line_end: &'static str,
    /// Blank lines before it.
    blank_lines_before: usize,
    /// An invalid UTF-8 byte inside its first field.
    bad_byte: bool,
}

fn written_record(width: usize) -> impl Strategy<Value = WrittenRecord> {
    // Mostly the header's width; sometimes one field fewer or more (a ragged row).
    let widths = prop_oneof![8 => Just(width), 1 => Just(width.saturating_sub(1).max(1)), 1 => Just(width + 1)];
    widths.prop_flat_map(|count| {
        (
            proptest::collection::vec(
                proptest::string::string_regex("[a-zé ,\"\\n\\r]{0,6}").expect("valid regex"),
                count,
            ),
            any::<bool>(),
            prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
            0usize..3,
            prop_oneof![19 => Just(false), 1 => Just(true)],
        )
            .prop_map(|(fields, quote_all, line_end, blank_lines_before, bad_byte)| WrittenRecord {
                fields,
                quote_all,
                line_end,
                blank_lines_before,
                bad_byte,
            })
    })
}

/// Writes records as RFC 4180 says (a field holding a delimiter, a quote or a line end is quoted,
/// its quotes doubled), and returns each record's first line, counted here on the written
/// bytes: this writer, not the reader under test, is the reference.
fn write_records(header: &[String], records: &[WrittenRecord]) -> (Vec<u8>, Vec<u64>) {
    fn field_bytes(field: &str, quote: bool) -> Vec<u8> {
        let needs = field.is_empty() || field.contains([',', '"', '\n', '\r']);
        if quote || needs {
            format!("\"{}\"", field.replace('"', "\"\"")).into_bytes()
        } else {
            field.as_bytes().to_vec()
        }
    }
    let mut bytes = header.join(",").into_bytes();
    bytes.push(b'\n');
    let mut starts = Vec::new();
    for record in records {
        for _ in 0..record.blank_lines_before {
            bytes.extend_from_slice(record.line_end.as_bytes());
        }
        starts.push(bytes.len());
        for (index, field) in record.fields.iter().enumerate() {
            if index > 0 {
                bytes.push(b',');
            }
            let mut written = field_bytes(field, record.quote_all);
            if index == 0 && record.bad_byte {
                written.insert(usize::from(written.first() == Some(&b'"')), 0xFF);
            }
            bytes.extend(written);
        }
        bytes.extend_from_slice(record.line_end.as_bytes());
    }
    // Lines: `\n`, `\r\n` and a lone `\r` each end one.
    let line_of = |offset: usize| {
        let before = &bytes[..offset];
        let mut lines = 1u64;
        for (at, byte) in before.iter().enumerate() {
            lines += u64::from(*byte == b'\n' || (*byte == b'\r' && before.get(at + 1) != Some(&b'\n')));
        }
        lines
    };
    let lines = starts.iter().map(|&start| line_of(start)).collect();
    (bytes, lines)
}

proptest! {
    #![proptest_config(cases(128))]

    /// A file written from known records reads back record by record: each record the writer
    /// put is a row with its fields at its line, or — ragged or holding a bad byte — quarantined
    /// naming its line; rows read = used + quarantined = records written.
    #[test]
    fn generated_csv_reads_back_record_by_record(
        (width, records) in (1usize..5).prop_flat_map(|width| (Just(width), proptest::collection::vec(written_record(width), 0..30)))
    ) {
        use crate::ingest::formats::{InputFile, ReadOptions, csv::Csv, read_whole};
        let header: Vec<String> = (0..width).map(|i| format!("c{i}")).collect();
        let (bytes, lines) = write_records(&header, &records);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.csv");
        std::fs::write(&path, &bytes).unwrap();
        let options = ReadOptions::default();
        let table = read_whole(&Csv, &InputFile::new(&path, "g.csv", &options)).unwrap();
        let mut used = Vec::new();
        let mut quarantined = Vec::new();
        for (record, line) in records.iter().zip(&lines) {
            if record.fields.len() == width && !record.bad_byte {
                used.push((*line, record));
            } else {
                quarantined.push(*line);
            }
        }
        let read_lines: Vec<u64> = (0..table.frame.height()).map(|row| table.lines.line_of(row).unwrap()).collect();
        prop_assert_eq!(read_lines, used.iter().map(|(line, _)| *line).collect::<Vec<_>>());
        let rejected: Vec<u64> = table.rejected.iter().map(|r| r.line.unwrap()).collect();
        prop_assert_eq!(rejected, quarantined);
        for (row, (_, record)) in used.iter().enumerate() {
            for (name, field) in header.iter().zip(&record.fields) {
                let read = table.frame.column(name).unwrap().str().unwrap().get(row).map(str::to_string);
                prop_assert_eq!(read, (!field.is_empty()).then(|| field.clone()));
            }
        }
        prop_assert_eq!(table.frame.height() + table.rejected.len(), records.len());
    }
}
