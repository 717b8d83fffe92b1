//! Property tests standing in for fuzzing (`cargo fuzz` would need the whole crate, polars
//! included, built with nightly sanitizer instrumentation: about half an hour per build on two
//! cores). Arbitrary input must never panic the parsers, and every row read must be used or
//! quarantined. Case counts come from `DRIFTWATCH_FUZZ_CASES` (default 256 for `cargo test`);
//! the README gives the command that ran a million cases.

use proptest::prelude::*;

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
