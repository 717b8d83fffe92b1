//! Source maps end to end: a French application export read through its map gives exactly the
//! findings of the same log in the event frame; `map check` and `map init`; encodings,
//! delimiters, local times, nested JSON, typed Parquet; several maps; verify and seal.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{TEST_KEY, driftwatch, read_json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn french_example() -> PathBuf {
    root().join("examples").join("french-export")
}

/// Audits `events` (with `extra` arguments) against the shipped registers and habilitations.
fn audit(events: &[PathBuf], extra: &[&str], out: &Path) -> Value {
    driftwatch()
        .env("DRIFTWATCH_KEY", TEST_KEY)
        .args(["audit", "--fail-on", "never", "--events"])
        .args(events)
        .arg("--register")
        .arg(root().join("sample-data").join("register"))
        .arg("--habilitations")
        .arg(root().join("sample-data").join("habilitations.csv"))
        .args(extra)
        .arg("--out")
        .arg(out)
        .assert()
        .code(0);
    read_json(&out.join("findings.json"))
}

/// A finding without its evidence: the export has no event ids, so driftwatch derives its own.
fn without_evidence(findings: &Value) -> Vec<Value> {
    findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.as_object_mut().unwrap().remove("evidence");
            f
        })
        .collect()
}

/// The hidden check, on the shipped example: the WIKIT logs rewritten by an independent
/// converter (`to_french_export.py`: `;`, Windows-1252, CRLF, French columns and verbs, local
/// Paris times, heading codes, no event id, an accented comment) and read through
/// `wikit-export.toml` give the findings of the logs themselves, with no row lost.
#[test]
fn a_french_export_through_its_map_gives_the_findings_of_the_event_frame() {
    let temp = tempfile::tempdir().unwrap();
    let events = root().join("sample-data").join("events");
    let canonical = audit(
        &[events.join("wikit-transfers.csv"), events.join("wikit-monitoring.csv")],
        &[],
        &temp.path().join("canonical"),
    );
    let example = french_example();
    let map = example.join("wikit-export.toml");
    let mapped = audit(
        &[example.join("wikit-monitoring-export.csv"), example.join("wikit-transfers-export.csv")],
        &["--source-map", map.to_str().unwrap()],
        &temp.path().join("mapped"),
    );
    assert!(canonical["findings"].as_array().unwrap().len() > 50, "the sample has findings to compare");
    assert_eq!(without_evidence(&canonical), without_evidence(&mapped));
    for key in ["rows_read", "rows_used", "events_judged"] {
        assert_eq!(canonical["summary"][key], mapped["summary"][key], "{key}");
    }
    assert_eq!(mapped["summary"]["rows_quarantined"], 0);
    let input = &mapped["inputs"][0];
    assert!(input["source_map"].as_str().unwrap().ends_with("wikit-export.toml"));
    // Derived ids: the file's SHA-256 prefix and the line.
    let evidence = mapped["findings"][0]["evidence"][0].as_str().unwrap();
    assert_eq!(evidence.split(':').next().unwrap().len(), 16, "{evidence}");
    // The manifest records the map and its hash.
    let manifest = read_json(&temp.path().join("mapped").join("manifest.json"));
    assert_eq!(manifest["source_maps"][0]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn map_check_shows_records_side_by_side_and_counts_unmapped_values() {
    let example = french_example();
    let export = example.join("wikit-transfers-export.csv");
    let output = driftwatch()
        .args(["map", "check", "--rows", "2", "--events"])
        .arg(&export)
        .arg("--source-map")
        .arg(example.join("wikit-export.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("3987 row(s) read, 3987 used, 0 quarantined"), "{text}");
    assert!(text.contains("line 2\n  raw    date_heure=01/09/2021 08:36:09"), "{text}");
    assert!(text.contains("  event  event_id="), "{text}");
    assert!(text.contains("ts=2021-09-01T06:36:09Z"), "{text}");
    assert!(text.contains("unmapped values: none"), "{text}");

    // Without its ENVOI entry, every transfer of the file is counted, and the exit is 1.
    let transfers = std::fs::read_to_string(root().join("sample-data/events/wikit-transfers.csv"))
        .unwrap()
        .lines()
        .filter(|l| l.split(',').nth(5) == Some("transfer"))
        .count();
    let temp = tempfile::tempdir().unwrap();
    let broken = temp.path().join("map.toml");
    let map_text = std::fs::read_to_string(example.join("wikit-export.toml")).unwrap();
    std::fs::write(&broken, map_text.replace("ENVOI = \"transfer\", ", "")).unwrap();
    let output = driftwatch()
        .args(["map", "check", "--rows", "1", "--events"])
        .arg(&export)
        .arg("--source-map")
        .arg(&broken)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains(&format!("  action:\n    \"ENVOI\": {transfers} row(s)")), "{text}");
    assert!(text.contains("action: no entry for this value in fields.action.map"), "{text}");
}

#[test]
fn map_init_drafts_a_map_for_a_french_export() {
    let temp = tempfile::tempdir().unwrap();
    let draft_path = temp.path().join("draft.toml");
    let map_init = || {
        driftwatch()
            .args(["map", "init", "--events"])
            .arg(french_example().join("wikit-transfers-export.csv"))
            .arg("--out")
            .arg(&draft_path)
            .assert()
    };
    map_init().code(0);
    let draft = std::fs::read_to_string(&draft_path).unwrap();
    for guess in [
        "format = \"csv\"",
        "timezone = \"Europe/Paris\"",
        "delimiter = \";\"",
        "encoding = \"windows-1252\"",
        "header = true",
        "ts = { column = \"date_heure\", format = \"%d/%m/%Y %H:%M:%S\" }",
        "actor_id = \"matricule\"",
        "actor_role = \"profil\"",
        "actor_unit = \"service\"",
        "dataset = \"objet\"",
        "recipient = \"destinataire\"",
        "purpose = \"finalite\"",
        "request_ref = \"num_demande\"",
        "target_agent = \"agent_cible\"",
        "record_count = \"nb_lignes\"",
        // Empty throughout this file: its format cannot be told, so none is guessed.
        "record_date = \"date_piece\"",
        "CONSULTATION = \"read\"",
        "ENVOI = \"transfer\"",
        "EXPORT = \"export\"",
        "RECHERCHE = \"search\"",
        "MODIFICATION = \"update\"",
        "split = \"|\"",
        "# event_id: no id column found",
        "\"commentaire\"",
    ] {
        assert!(draft.contains(guess), "missing `{guess}` in the draft:\n{draft}");
    }
    // A draft never overwrites a file.
    map_init().code(2);
}

/// Runs an audit of one file through one map and returns (findings.json, quarantine.csv).
fn audit_with_map(dir: &Path, events: &Path, map: &str) -> (Value, String) {
    let map_path = dir.join("map.toml");
    std::fs::write(&map_path, map).unwrap();
    std::fs::write(
        dir.join("register.toml"),
        "processing = \"x\"\nin_force_from = \"2015-01-01\"\n[[dataset]]\nid = \"follow_ups\"\n[[role]]\nid = \"agent\"\n\
         [[purpose]]\nid = \"p\"\ndatasets = [\"follow_ups\"]\nroles = [\"agent\"]\ncategories = [\"identity\", \"penal_follow_up\"]\n\
         [[recipient]]\nid = \"moe\"\ndatasets = [\"follow_ups\"]\ncategories = [\"penal_follow_up\"]\nmode = \"on_request\"\n",
    )
    .unwrap();
    let out = dir.join("out");
    let output = driftwatch()
        .args(["audit", "--fail-on", "never", "--reveal-identities", "--events"])
        .arg(events)
        .arg("--register")
        .arg(dir.join("register.toml"))
        .arg("--source-map")
        .arg(&map_path)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    (read_json(&out.join("findings.json")), std::fs::read_to_string(out.join("quarantine.csv")).unwrap())
}

const FIELDS: &str = "[fields]\nactor_role = { value = \"agent\" }\ndataset = { value = \"follow_ups\" }\n";

#[test]
fn utf16_tabs_headerless_files_and_iso_8859_15() {
    let temp = tempfile::tempdir().unwrap();
    // UTF-16LE with a BOM, tab-separated, no header: columns are 1, 2, 3 …
    let text = "07/09/2021 06:14\tA1\tENVOI\tmoe\tNOM|PV\r\n07/09/2021 06:20\tA2\tLECTURE\t\tNOM\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let path = temp.path().join("export.txt");
    std::fs::write(&path, bytes).unwrap();
    let map = format!(
        "format = \"csv\"\ndelimiter = \"\\t\"\nheader = false\ntimezone = \"Europe/Paris\"\n{FIELDS}\
         ts = {{ column = \"1\", format = \"%d/%m/%Y %H:%M\" }}\nactor_id = \"2\"\n\
         action = {{ column = \"3\", map = {{ ENVOI = \"transfer\", LECTURE = \"read\" }} }}\nrecipient = \"4\"\n\
         categories = {{ column = \"5\", split = \"|\", map = {{ NOM = \"identity\", PV = \"penal_follow_up\" }} }}\n"
    );
    let (findings, _) = audit_with_map(temp.path(), &path, &map);
    assert_eq!(findings["summary"]["rows_used"], 2);
    // The transfer sent a category the recipient was not declared for.
    let creep = findings["findings"].as_array().unwrap().iter().find(|f| f["detector"] == "category_creep").unwrap();
    assert_eq!(creep["categories"], serde_json::json!(["identity"]));
    assert_eq!(creep["first_seen"], "2021-09-07T04:14:00Z");

    // ISO-8859-15: 0xA4 is the euro sign there (a currency sign in Latin-1).
    let dir = temp.path().join("latin9");
    std::fs::create_dir(&dir).unwrap();
    let path = dir.join("export.csv");
    std::fs::write(&path, b"quand|qui|quoi|note\n2021-09-07 06:14:00|A1|read|co\xfbt 5 \xa4\n").unwrap();
    let map = format!(
        "format = \"csv\"\ndelimiter = \"|\"\nencoding = \"iso-8859-15\"\n{FIELDS}ts = \"quand\"\nactor_id = \"qui\"\naction = \"quoi\"\n"
    );
    let (findings, quarantine) = audit_with_map(&dir, &path, &map);
    assert_eq!(findings["summary"]["rows_used"], 1, "{quarantine}");
}

#[test]
fn local_times_at_the_clock_changes_are_counted_or_quarantined() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("export.csv");
    std::fs::write(
        &path,
        "quand;qui\n31/10/2021 02:30:00;A1\n28/03/2021 02:30:00;A1\n31/10/2021 03:30:00;A1\n\"31/10/2021 02:10:00\";A2\n",
    )
    .unwrap();
    let map = format!(
        "format = \"csv\"\ndelimiter = \";\"\ntimezone = \"Europe/Paris\"\n{FIELDS}\
         ts = {{ column = \"quand\", format = \"%d/%m/%Y %H:%M:%S\" }}\nactor_id = \"qui\"\naction = {{ value = \"read\" }}\n"
    );
    let (findings, quarantine) = audit_with_map(temp.path(), &path, &map);
    let input = &findings["inputs"][0];
    assert_eq!((input["rows_read"].as_u64(), input["rows_used"].as_u64()), (Some(4), Some(3)));
    assert_eq!(input["ambiguous_local_times"], 2, "02:30 and 02:10 on 31 October happened twice");
    assert!(quarantine.contains("does not exist in Europe/Paris"), "{quarantine}");
    // The earlier instant: 02:30 CEST = 00:30 UTC, before 03:30 CET = 02:30 UTC.
    assert_eq!(findings["summary"]["first_event"], "2021-10-31T00:10:00Z");
    // The report says so too, beside the map that read the file.
    let report = std::fs::read_to_string(temp.path().join("out").join("report.md")).unwrap();
    assert!(report.contains("export.csv: 2 local time(s) written during the autumn clock change"), "{report}");
    assert!(report.contains("read through the source map"), "{report}");
}

#[test]
fn json_lines_with_nested_objects_and_parquet_with_naive_times() {
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("app.jsonl");
    std::fs::write(
        &path,
        "{\"at\":\"2021-09-07T08:14:00+02:00\",\"user\":{\"id\":\"A1\",\"unit\":{\"code\":\"UD75\"}},\"op\":\"ENVOI\",\"to\":\"moe\",\"fields\":[\"NOM\",\"PV\"]}\n\
         {\"at\":\"2021-09-07T08:20:00+02:00\",\"user\":{\"id\":\"A2\"},\"op\":\"LECTURE\",\"fields\":[\"NOM\"]}\n",
    )
    .unwrap();
    let map = format!(
        "format = \"jsonl\"\n{FIELDS}ts = \"at\"\nactor_id = \"user.id\"\nactor_unit = \"user.unit.code\"\n\
         action = {{ column = \"op\", map = {{ ENVOI = \"transfer\", LECTURE = \"read\" }} }}\nrecipient = \"to\"\n\
         categories = {{ column = \"fields\", map = {{ NOM = \"identity\", PV = \"penal_follow_up\" }} }}\n"
    );
    let (findings, _) = audit_with_map(temp.path(), &path, &map);
    assert_eq!(findings["summary"]["rows_used"], 2);
    let creep = findings["findings"].as_array().unwrap().iter().find(|f| f["detector"] == "category_creep").unwrap();
    assert_eq!(
        (creep["recipient"].as_str(), creep["first_seen"].as_str()),
        (Some("moe"), Some("2021-09-07T06:14:00Z"))
    );
    // The dotted paths reach into the nested objects.
    let output = driftwatch()
        .args(["map", "check", "--events"])
        .arg(&path)
        .arg("--source-map")
        .arg(temp.path().join("map.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("actor_id=A1 actor_role=agent actor_unit=UD75 action=transfer"), "{text}");

    // Parquet: a naive Datetime column is local time of the map's zone.
    let parquet = temp.path().join("app.parquet");
    let mut frame = polars_frame();
    polars::prelude::ParquetWriter::new(std::fs::File::create(&parquet).unwrap()).finish(&mut frame).unwrap();
    let map = format!(
        "format = \"parquet\"\ntimezone = \"Europe/Paris\"\n{FIELDS}ts = \"quand\"\nactor_id = \"qui\"\naction = {{ column = \"quoi\", map = {{ \"1\" = \"read\", \"2\" = \"export\" }} }}\n"
    );
    let dir = temp.path().join("parquet");
    std::fs::create_dir(&dir).unwrap();
    let (findings, quarantine) = audit_with_map(&dir, &parquet, &map);
    assert_eq!(findings["summary"]["rows_used"], 2, "{quarantine}");
    assert_eq!(findings["summary"]["first_event"], "2021-09-07T06:14:00Z", "08:14 in Paris");
}

/// Two rows of a Parquet export: naive local times, integer action codes.
fn polars_frame() -> polars::prelude::DataFrame {
    use polars::prelude::*;
    let quand = Column::new("quand".into(), [1_631_002_440_000_000i64, 1_631_002_800_000_000])
        .cast(&DataType::Datetime(TimeUnit::Microseconds, None))
        .unwrap();
    DataFrame::new(2, vec![quand, Column::new("qui".into(), ["A1", "A2"]), Column::new("quoi".into(), [1i32, 2])])
        .unwrap()
}

#[test]
fn several_maps_claim_their_files_and_the_rest_is_the_event_frame() {
    let temp = tempfile::tempdir().unwrap();
    let logs = temp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("app-1.txt"), "quand;qui;quoi\n2021-09-07 06:14:00;A1;LECTURE\n").unwrap();
    std::fs::write(logs.join("web.tsv"), "t\tu\n2021-09-08 06:14:00\tA2\n").unwrap();
    std::fs::write(
        logs.join("frame.csv"),
        "event_id,ts,actor_id,actor_role,action,dataset\ne1,2021-09-09T06:14:00Z,A3,agent,read,follow_ups\n",
    )
    .unwrap();
    let app = temp.path().join("app.toml");
    std::fs::write(
        &app,
        format!("format = \"csv\"\ndelimiter = \";\"\nfiles = [\"logs/app-*.txt\"]\n{FIELDS}ts = \"quand\"\nactor_id = \"qui\"\naction = {{ column = \"quoi\", map = {{ LECTURE = \"read\" }} }}\n"),
    )
    .unwrap();
    let web = temp.path().join("web.toml");
    std::fs::write(
        &web,
        format!("format = \"csv\"\ndelimiter = \"\\t\"\nfiles = [\"logs/*.tsv\"]\n{FIELDS}ts = \"t\"\nactor_id = \"u\"\naction = {{ value = \"read\" }}\n"),
    )
    .unwrap();
    let out = temp.path().join("out");
    let run = |maps: &[&Path]| {
        let mut command = driftwatch();
        command
            .args(["audit", "--fail-on", "never", "--events"])
            .arg(&logs)
            .arg("--register")
            .arg(root().join("tests/bad-inputs/register.toml"))
            .arg("--out")
            .arg(&out)
            .arg("--source-map")
            .args(maps);
        command.output().unwrap()
    };
    let output = run(&[&app, &web]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let findings = read_json(&out.join("findings.json"));
    let maps: Vec<Option<&str>> =
        findings["inputs"].as_array().unwrap().iter().map(|i| i["source_map"].as_str()).collect();
    assert_eq!(maps.len(), 3);
    assert!(maps[0].unwrap().ends_with("app.toml") && maps[1].is_none() && maps[2].unwrap().ends_with("web.toml"));
    assert_eq!(findings["summary"]["rows_used"], 3);

    // Two maps that claim the same file: exit 2 naming both.
    std::fs::write(&web, std::fs::read_to_string(&web).unwrap().replace("logs/*.tsv", "logs/*")).unwrap();
    let output = run(&[&app, &web]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("claimed by both source maps"), "{stderr}");
}

#[test]
fn seal_and_verify_read_through_a_source_map() {
    let temp = tempfile::tempdir().unwrap();
    let example = french_example();
    let sealed = temp.path().join("sealed.csv");
    driftwatch()
        .args(["seal", "--events"])
        .arg(example.join("wikit-transfers-export.csv"))
        .arg("--source-map")
        .arg(example.join("wikit-export.toml"))
        .arg("--out")
        .arg(&sealed)
        .assert()
        .code(0);
    let output = driftwatch().args(["verify", "--min-coverage-days", "1", "--events"]).arg(&sealed).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("OK: 3987 row(s)"), "{stdout}");
    let output = driftwatch()
        .args(["verify", "--min-coverage-days", "1", "--events"])
        .arg(example.join("wikit-transfers-export.csv"))
        .arg("--source-map")
        .arg(example.join("wikit-export.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("3987 row(s) in 1 file(s)"), "{stdout}");
}
