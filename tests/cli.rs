//! Integration tests: run the real `driftwatch` binary on generated scenarios and small
//! hand-written fixtures, and check exact findings, exit codes, messages and determinism.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

#[path = "cli/monthly.rs"]
mod monthly;
#[path = "cli/partitions.rs"]
mod partitions;
#[path = "cli/pgaudit.rs"]
mod pgaudit;
#[path = "cli/source_maps.rs"]
mod source_maps;

/// A fixed pseudonymisation key, so runs into different directories agree.
const TEST_KEY: &str = "driftwatch-test-key-0123456789";

fn driftwatch() -> Command {
    Command::cargo_bin("driftwatch").expect("binary built")
}

fn generate(dir: &Path, scenario: &str, events: u64, format: &str) {
    driftwatch()
        .args(["generate", "--scenario", scenario, "--seed", "11", "--format", format, "--events"])
        .arg(events.to_string())
        .arg("--out")
        .arg(dir)
        .assert()
        .success();
}

/// Audits the shipped sample-data/ into `out` with the test key; the sample has high findings.
fn audit_sample(out: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    driftwatch()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("DRIFTWATCH_KEY", TEST_KEY)
        .arg("audit")
        .args(extra)
        .arg("--out")
        .arg(out)
        .assert()
        .code(1)
}

/// Audits a generated scenario directory with raw identities (truth.json names agents);
/// returns (exit code, findings.json).
fn audit_scenario(dir: &Path, out: &Path, extra: &[&str]) -> (i32, Value) {
    let output = driftwatch()
        .env("DRIFTWATCH_KEY", TEST_KEY)
        .arg("audit")
        .arg("--reveal-identities")
        .arg("--events")
        .arg(dir.join("events"))
        .arg("--register")
        .arg(dir.join("register"))
        .arg("--habilitations")
        .arg(dir.join("habilitations.csv"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("runs");
    let code = output.status.code().expect("exit code");
    assert!(code == 0 || code == 1, "audit failed: {}", String::from_utf8_lossy(&output.stderr));
    (code, read_json(&out.join("findings.json")))
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("valid JSON")
}

type Subject = (String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);

/// What a finding is about; `reason` (in a finding's details) splits an actor's or a dataset's
/// findings by kind.
fn subject(item: &Value) -> Subject {
    let text = |key: &str| item[key].as_str().map(str::to_string);
    let reason = item["reason"].as_str().or(item["details"]["reason"].as_str()).map(str::to_string);
    (text("detector").unwrap(), text("dataset"), text("recipient"), text("purpose"), text("actor"), reason)
}

fn categories(item: &Value) -> Vec<String> {
    item["categories"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect()
}

/// The findings truth.json expects from the detectors this build runs: subject → (events, categories).
fn expected(truth: &Value, detectors: &[String]) -> BTreeMap<Subject, (u64, Vec<String>)> {
    truth["expected"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| detectors.contains(&e["detector"].as_str().unwrap().to_string()))
        .map(|e| (subject(e), (e["events"].as_u64().unwrap(), categories(e))))
        .collect()
}

fn found(findings: &Value) -> BTreeMap<Subject, (u64, Vec<String>)> {
    let mut map = BTreeMap::new();
    for f in findings["findings"].as_array().unwrap() {
        let previous = map.insert(subject(f), (f["events"].as_u64().unwrap(), categories(f)));
        assert!(previous.is_none(), "two findings for one subject: {f}");
    }
    map
}

fn detectors_run(findings: &Value) -> Vec<String> {
    findings["summary"]["detectors"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect()
}

/// The measure truth.json gives some findings: agents watched, or the smallest cell.
fn measure(finding: &Value) -> Option<i64> {
    match finding["detector"].as_str()? {
        "individual_monitoring" => finding["details"]["agents_watched"].as_i64().filter(|n| *n > 0),
        "small_cell" => finding["details"]["smallest_cell"].as_i64(),
        _ => None,
    }
}

fn assert_matches_truth(scenario_dir: &Path, findings: &Value) {
    let truth = read_json(&scenario_dir.join("truth.json"));
    let detectors = detectors_run(findings);
    assert_eq!(found(findings), expected(&truth, &detectors));
    for expected in truth["expected"].as_array().unwrap().iter().filter(|e| e["measure"].is_i64()) {
        let finding =
            findings["findings"].as_array().unwrap().iter().find(|f| subject(f) == subject(expected)).unwrap();
        assert_eq!(measure(finding), expected["measure"].as_i64(), "{}", expected);
    }
    assert_eq!(findings["summary"]["rows_read"], truth["events"]);
}

#[test]
fn every_scenario_gives_exactly_the_findings_of_its_truth() {
    let temp = tempfile::tempdir().unwrap();
    for scenario in ["wikit-transfers", "wikit-monitoring", "sipsi-cip", "social-files", "imilo-id-numbers"] {
        let dir = temp.path().join(scenario);
        generate(&dir, scenario, 2_000, "csv");
        let (_, findings) = audit_scenario(&dir, &dir.join("out"), &[]);
        assert_matches_truth(&dir, &findings);
    }
}

#[test]
fn all_formats_give_the_same_findings() {
    let temp = tempfile::tempdir().unwrap();
    let mut results = Vec::new();
    for format in ["csv", "jsonl", "parquet"] {
        let dir = temp.path().join(format);
        generate(&dir, "all", 6_000, format);
        let (code, findings) = audit_scenario(&dir, &dir.join("out"), &[]);
        assert_eq!(code, 1, "high findings exit 1");
        assert_matches_truth(&dir, &findings);
        results.push(findings["findings"].clone());
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
}

/// Parquet as pyarrow (and so pandas, Spark, DuckDB) writes it: text columns and the categories
/// list dictionary-encoded in several row groups, one column plain. driftwatch reads those
/// dictionaries as categoricals (`parquet_dictionary.rs`); the findings must be those of the
/// CSV the file was made from (`tests/parquet/make_pyarrow_fixture.py`).
#[test]
fn pyarrow_dictionary_parquet_gives_the_findings_of_its_csv() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let temp = tempfile::tempdir().unwrap();
    let audit = |events: PathBuf, out: &str| {
        let out = temp.path().join(out);
        driftwatch()
            .env("DRIFTWATCH_KEY", TEST_KEY)
            .arg("audit")
            .arg("--events")
            .arg(events)
            .arg("--register")
            .arg(root.join("sample-data/register"))
            .arg("--habilitations")
            .arg(root.join("sample-data/habilitations.csv"))
            .arg("--out")
            .arg(&out)
            .assert()
            .code(1);
        read_json(&out.join("findings.json"))
    };
    let from_csv = audit(root.join("sample-data/events/wikit-transfers.csv"), "csv");
    let from_parquet = audit(root.join("tests/parquet/pyarrow_wikit_transfers.parquet"), "parquet");
    assert!(!from_csv["findings"].as_array().unwrap().is_empty());
    assert_eq!(from_csv["findings"], from_parquet["findings"]);
    assert_eq!(from_csv["summary"]["events_judged"], from_parquet["summary"]["events_judged"]);
}

#[test]
fn seed_000_and_004_are_found_in_the_shipped_sample() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("reports");
    let assert = audit_sample(&out, &["--reveal-identities"]);
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(stdout.contains("rows read") && stdout.contains("findings:"), "{stdout}");
    let findings = read_json(&out.join("findings.json"));
    let subjects: Vec<Subject> = findings["findings"].as_array().unwrap().iter().map(subject).collect();
    let has = |detector: &str, dataset: &str, recipient: Option<&str>| {
        subjects.iter().any(|s| s.0 == detector && s.1.as_deref() == Some(dataset) && s.2.as_deref() == recipient)
    };
    assert!(has("undeclared_recipient", "follow_ups", Some("moe_platforms")), "WIKIT undeclared recipient");
    assert!(has("category_creep", "follow_ups", Some("moe_platforms")), "seed 000 category creep");
    assert!(has("category_creep", "youth_files", None), "seed 004 category creep");
    assert_matches_truth(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data"), &findings);
    for file in ["findings.json", "findings.csv", "findings.parquet", "report.md", "quarantine.csv", "manifest.json"] {
        assert!(out.join(file).is_file(), "{file} written");
    }
}

#[test]
fn fail_on_decides_the_exit_code() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("imilo");
    generate(&dir, "imilo-id-numbers", 1_000, "csv");
    // Only medium findings: high threshold → 0, medium → 1, never → 0.
    assert_eq!(audit_scenario(&dir, &temp.path().join("a"), &[]).0, 0);
    assert_eq!(audit_scenario(&dir, &temp.path().join("b"), &["--fail-on", "medium"]).0, 1);
    assert_eq!(audit_scenario(&dir, &temp.path().join("c"), &["--fail-on", "never"]).0, 0);
}

const REGISTER: &str = r#"
processing = "wikit"
in_force_from = "2015-10-06"
legal_ref = "CNIL deliberation of 2015-10-06"
[[dataset]]
id = "follow_ups"
[[role]]
id = "agent"
[[purpose]]
id = "inspection"
datasets = ["follow_ups"]
roles = ["agent"]
categories = ["identity"]
"#;

fn fixture(dir: &Path, events: &str, register: &str) -> (PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let (events_path, register_path) = (dir.join("events.csv"), dir.join("register.toml"));
    std::fs::write(&events_path, events).unwrap();
    std::fs::write(&register_path, register).unwrap();
    (events_path, register_path)
}

fn audit_files(events: &Path, register: &Path, out: &Path) -> assert_cmd::assert::Assert {
    driftwatch().arg("audit").arg("--events").arg(events).arg("--register").arg(register).arg("--out").arg(out).assert()
}

#[test]
fn a_missing_column_is_exit_2_naming_file_and_column() {
    let temp = tempfile::tempdir().unwrap();
    let (events, register) = fixture(
        temp.path(),
        "event_id,ts,actor_id,action,dataset\ne1,2021-01-01T00:00:00Z,a,read,follow_ups\n",
        REGISTER,
    );
    let assert = audit_files(&events, &register, &temp.path().join("out")).code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("events.csv") && stderr.contains("missing required column `actor_role`"), "{stderr}");
}

#[test]
fn a_bad_row_is_quarantined_and_counted() {
    let temp = tempfile::tempdir().unwrap();
    let (events, register) = fixture(
        temp.path(),
        "event_id,ts,actor_id,actor_role,action,dataset,categories,record_count\n\
         e1,2021-01-01T08:00:00Z,a,agent,read,follow_ups,identity,1\n\
         e2,01/01/2021 08:00,a,agent,read,follow_ups,identity,1\n\
         e3,2021-01-01T09:00:00Z,a,agent,read,follow_ups,identity,lots\n\
         e4,2021-01-01T10:00:00Z,a,agent,read,follow_ups,nir,1\n",
        REGISTER,
    );
    let out = temp.path().join("out");
    audit_files(&events, &register, &out).code(0);
    let quarantine = std::fs::read_to_string(out.join("quarantine.csv")).unwrap();
    let lines: Vec<&str> = quarantine.lines().collect();
    assert_eq!(lines.len(), 3, "{quarantine}");
    assert!(lines[0].starts_with("file,line,row,column,value,reason"));
    assert!(lines[1].contains(",3,2,ts,01/01/2021 08:00,not an RFC 3339 timestamp"), "{}", lines[1]);
    assert!(lines[2].contains(",4,3,record_count,lots,not an integer"), "{}", lines[2]);
    let findings = read_json(&out.join("findings.json"));
    let file = &findings["inputs"][0];
    assert_eq!(
        (file["rows_read"].as_u64(), file["rows_used"].as_u64(), file["rows_quarantined"].as_u64()),
        (Some(4), Some(2), Some(2))
    );
    // The good rows were still judged: e4's `nir` is category creep.
    assert_eq!(findings["findings"][0]["evidence"][0], "e4");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("| 4 | 2 | 2 |"), "{report}");
}

#[test]
fn a_bad_register_is_exit_2_naming_file_and_key() {
    let temp = tempfile::tempdir().unwrap();
    let (events, register) = fixture(
        temp.path(),
        "event_id,ts,actor_id,actor_role,action,dataset\ne1,2021-01-01T00:00:00Z,a,agent,read,follow_ups\n",
        &REGISTER.replace("roles = [\"agent\"]", "roles = [\"agent\", \"boss\"]"),
    );
    let assert = audit_files(&events, &register, &temp.path().join("out")).code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(
        stderr.contains("register.toml") && stderr.contains("purpose \"inspection\".roles") && stderr.contains("boss"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_are_exit_2() {
    driftwatch().args(["audit", "--events", "nowhere.csv"]).assert().code(2);
    driftwatch().args(["audit", "--events", "nowhere.csv", "--register", "nowhere.toml"]).assert().code(2);
    driftwatch().args(["audit", "--from", "yesterday"]).current_dir(env!("CARGO_MANIFEST_DIR")).assert().code(2);
    for (flag, value, says) in [("--tightness-scale", "0", "positive"), ("--chunk-rows", "0", "chunk-rows")] {
        let output =
            driftwatch().args(["audit", flag, value]).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        assert!(String::from_utf8_lossy(&output.stderr).contains(says), "{flag} {value}: {output:?}");
    }
}

/// Every output file's bytes (charts included), except the manifest's wall-clock and `out` lines.
fn output_bytes(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![out.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let name = path.strip_prefix(out).unwrap().to_string_lossy().to_string();
            let mut bytes = std::fs::read(&path).unwrap();
            if name == "manifest.json" {
                let text = String::from_utf8(bytes).unwrap();
                bytes = text
                    .lines()
                    // The output directory differs between the runs compared, by construction.
                    .filter(|l| !l.contains("\"generated_at\"") && !l.contains("\"out\""))
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into_bytes();
            }
            files.insert(name, bytes);
        }
    }
    files
}

#[test]
fn same_inputs_give_byte_identical_outputs_whatever_the_order_or_threads() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("scenario");
    generate(&dir, "all", 3_000, "csv");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("events")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let run = |out: &Path, files: &[PathBuf], threads: &str| {
        driftwatch()
            .env("DRIFTWATCH_KEY", TEST_KEY)
            .env("RAYON_NUM_THREADS", threads)
            .env("POLARS_MAX_THREADS", threads)
            .arg("audit")
            .arg("--events")
            .args(files)
            .arg("--register")
            .arg(dir.join("register"))
            .arg("--out")
            .arg(out)
            .assert()
            .code(1);
        output_bytes(out)
    };
    let first = run(&temp.path().join("one"), &files, "2");
    let again = run(&temp.path().join("two"), &files, "2");
    assert_eq!(first, again);
    let mut reversed = files.clone();
    reversed.reverse();
    let reordered = run(&temp.path().join("three"), &reversed, "1");
    assert!(
        first.keys().any(|name| name.starts_with("charts/periodic-") && name.ends_with(".png")),
        "{:?}",
        first.keys()
    );
    assert_eq!(first.keys().collect::<Vec<_>>(), reordered.keys().collect::<Vec<_>>());
    for (name, bytes) in &first {
        assert!(bytes == &reordered[name], "{name} differs with files reversed and one thread");
    }
}

#[test]
fn schemas_are_printed_as_json() {
    for which in ["events", "register", "habilitations", "findings", "source-map", "routes"] {
        let output = driftwatch().args(["schema", which]).output().unwrap();
        assert!(output.status.success());
        let schema: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(schema["title"].as_str().unwrap().contains("driftwatch"));
    }
}

#[test]
fn generation_is_deterministic() {
    let temp = tempfile::tempdir().unwrap();
    generate(&temp.path().join("a"), "all", 2_000, "parquet");
    generate(&temp.path().join("b"), "all", 2_000, "parquet");
    for file in
        ["truth.json", "habilitations.csv", "events/wikit-transfers-0000.parquet", "register/wikit-2022-03-01.toml"]
    {
        assert_eq!(
            std::fs::read(temp.path().join("a").join(file)).unwrap(),
            std::fs::read(temp.path().join("b").join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn the_wikit_weekly_extraction_is_periodic_and_the_lawful_flows_are_not() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("all");
    generate(&dir, "all", 5_000, "csv");
    let (_, findings) = audit_scenario(&dir, &dir.join("out"), &[]);
    let periodic: Vec<&Value> =
        findings["findings"].as_array().unwrap().iter().filter(|f| f["detector"] == "periodic_transfer").collect();
    // Only the MOE feed: not the prefecture's referenced requests, not the declared SIPSI → SI-CIP flow.
    assert_eq!(periodic.len(), 1, "{periodic:?}");
    let moe = periodic[0];
    assert_eq!((moe["recipient"].as_str(), moe["dataset"].as_str()), (Some("moe_platforms"), Some("follow_ups")));
    assert_eq!(moe["period_days"].as_f64(), Some(7.0));
    assert_eq!(moe["severity"], "high");
    assert_eq!(moe["details"]["cadence"]["family"], "weekly");
    assert_eq!(moe["details"]["cadence"]["weekday_name"], "Tuesday");
    assert_eq!(moe["details"]["cadence"]["time_base"], "Europe/Paris");
    assert!(moe["legal_ref"].as_str().unwrap().contains("L.811-4"));
}

/// Every agent id (actors and targets, not service accounts) of a generated CSV scenario.
fn agent_ids(dir: &Path) -> Vec<String> {
    let mut ids = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(dir.join("events")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (actor, role, target) = (column("actor_id"), column("actor_role"), column("target_agent"));
        for line in lines {
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() == header.len() {
                if fields[role] != "batch" {
                    ids.insert(fields[actor].to_string());
                }
                if !fields[target].is_empty() {
                    ids.insert(fields[target].to_string());
                }
            }
        }
    }
    ids.into_iter().collect()
}

fn run_default(dir: &Path, out: &Path, key: Option<&str>) -> Value {
    let mut command = driftwatch();
    command.env_remove("DRIFTWATCH_KEY");
    if let Some(key) = key {
        command.env("DRIFTWATCH_KEY", key);
    }
    command
        .arg("audit")
        .arg("--events")
        .arg(dir.join("events"))
        .arg("--register")
        .arg(dir.join("register"))
        .arg("--out")
        .arg(out)
        .assert()
        .code(1);
    read_json(&out.join("findings.json"))
}

fn watchers(findings: &Value) -> Vec<String> {
    findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["detector"] == "individual_monitoring")
        .map(|f| f["actor"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn no_output_of_a_default_run_contains_a_raw_agent_id() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("all");
    generate(&dir, "all", 4_000, "csv");
    // A broken line naming an agent: its text must not reach quarantine.csv either.
    let wikit = dir.join("events").join("wikit-monitoring.csv");
    let mut text = std::fs::read_to_string(&wikit).unwrap();
    text.push_str("broken,2022-01-03T10:00:00Z,wk-ag-0042,agent,read\n");
    std::fs::write(&wikit, text).unwrap();
    let out = temp.path().join("out");
    let findings = run_default(&dir, &out, None);
    assert!(!watchers(&findings).is_empty(), "the scenario has watchers to pseudonymise");
    assert!(out.join(".driftwatch-key").is_file(), "a key was created in the output directory");
    let ids = agent_ids(&dir);
    assert!(ids.len() > 100);
    let mut pending = vec![out.clone()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for id in &ids {
                assert!(!text.contains(id.as_str()), "{} contains the raw agent id {id}", path.display());
            }
        }
    }
    let manifest = read_json(&out.join("manifest.json"));
    assert_eq!(manifest["pseudonymisation"]["source"], "created");
    assert_eq!(manifest["pseudonymisation"]["key_id"].as_str().unwrap().len(), 16);
}

#[test]
fn the_same_key_gives_the_same_pseudonyms_and_another_key_others() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("monitoring");
    generate(&dir, "wikit-monitoring", 2_000, "csv");
    let first = watchers(&run_default(&dir, &temp.path().join("a"), Some("first-key-0123456789")));
    let again = watchers(&run_default(&dir, &temp.path().join("b"), Some("first-key-0123456789")));
    let other = watchers(&run_default(&dir, &temp.path().join("c"), Some("other-key-0123456789")));
    assert!(first.iter().all(|w| w.starts_with("ag-") && w.len() == 15), "{first:?}");
    assert_eq!(first, again);
    let (mut first_sorted, mut other_sorted) = (first.clone(), other.clone());
    first_sorted.sort();
    other_sorted.sort();
    assert!(first_sorted.iter().all(|w| !other_sorted.contains(w)), "{first:?} vs {other:?}");
    // Reusing an output directory reuses its key.
    let reused = watchers(&run_default(&dir, &temp.path().join("d"), None));
    let reused_again = watchers(&run_default(&dir, &temp.path().join("d"), None));
    assert_eq!(reused, reused_again);
}

#[test]
fn only_the_planted_supervisors_are_found_watching() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("monitoring");
    generate(&dir, "wikit-monitoring", 3_000, "csv");
    let (_, findings) = audit_scenario(&dir, &dir.join("out"), &[]);
    let mut found = watchers(&findings);
    found.sort();
    // Agents viewing their own reports and unit heads' lawful aggregates are not there.
    assert_eq!(found, vec!["wk-rd-GE", "wk-uh-ARA-69", "wk-uh-GE-51", "wk-uh-GE-67", "wk-uh-IDF-75"]);
    let by_actor = |actor: &str| {
        findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["actor"] == actor && f["detector"] == "individual_monitoring")
            .unwrap()
            .clone()
    };
    assert_eq!(by_actor("wk-uh-GE-51")["severity"], "high", "month after month");
    assert_eq!(by_actor("wk-uh-IDF-75")["severity"], "low", "a one-off lookup");
    let small: Vec<&Value> =
        findings["findings"].as_array().unwrap().iter().filter(|f| f["detector"] == "small_cell").collect();
    assert_eq!(small.len(), 1);
    assert_eq!(small[0]["actor"], "wk-uh-ARA-38");
    assert!(small[0]["details"]["smallest_cell"].as_i64().unwrap() < 5);
}

#[test]
fn habilitations_and_retention_are_judged_to_the_second_and_the_day() {
    let temp = tempfile::tempdir().unwrap();
    let register = r#"
processing = "social"
in_force_from = "2015-01-01"
legal_ref = "CNIL"
[[dataset]]
id = "files"
retention_days = 10
[[role]]
id = "worker"
[[role]]
id = "secretary"
[[purpose]]
id = "support"
datasets = ["files"]
roles = ["worker"]
"#;
    let events = "event_id,ts,actor_id,actor_role,actor_unit,action,dataset,record_date\n\
        before,2022-03-31T23:59:59Z,w1,worker,U1,read,files,2022-03-25\n\
        after,2022-04-01T00:00:01Z,w1,worker,U1,read,files,2022-03-25\n\
        scope,2022-03-02T10:00:00Z,w2,worker,U2,read,files,2022-03-01\n\
        role,2022-03-02T10:00:00Z,s1,secretary,U1,read,files,2022-03-01\n\
        last_day,2022-03-11T10:00:00Z,w2,worker,U1,read,files,2022-03-01\n\
        day_after,2022-03-12T10:00:00Z,w2,worker,U1,read,files,2022-03-01\n";
    let grants = "actor_id,role,scope,granted_at,revoked_at,reviewed_at\n\
        w1,worker,U1,2021-01-01,2022-04-01T00:00:00Z,2022-01-01\n\
        w2,worker,U1,2021-01-01,,\n\
        s1,secretary,U1,2021-01-01,,2022-01-01\n";
    let (events_path, register_path) = fixture(temp.path(), events, register);
    std::fs::write(temp.path().join("grants.csv"), grants).unwrap();
    let out = temp.path().join("out");
    driftwatch()
        .env("DRIFTWATCH_KEY", TEST_KEY)
        .args(["audit", "--reveal-identities", "--events"])
        .arg(&events_path)
        .arg("--register")
        .arg(&register_path)
        .arg("--habilitations")
        .arg(temp.path().join("grants.csv"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1);
    let findings = read_json(&out.join("findings.json"));
    let of = |detector: &str| -> Vec<(String, String, Vec<String>)> {
        findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["detector"] == detector)
            .map(|f| {
                let evidence =
                    f["evidence"].as_array().unwrap().iter().map(|e| e.as_str().unwrap().to_string()).collect();
                (
                    f["actor"].as_str().unwrap_or("").to_string(),
                    f["details"]["reason"].as_str().unwrap().to_string(),
                    evidence,
                )
            })
            .collect()
    };
    let mut outside = of("outside_habilitation");
    outside.sort();
    assert_eq!(
        outside,
        vec![
            ("s1".to_string(), "role_not_allowed".to_string(), vec!["role".to_string()]),
            ("w1".to_string(), "revoked".to_string(), vec!["after".to_string()]),
            ("w2".to_string(), "out_of_scope".to_string(), vec!["scope".to_string()]),
        ]
    );
    // w2's grant was never reviewed; w1's is revoked, s1's reviewed within the year.
    let stale = of("stale_habilitation");
    assert_eq!(stale, vec![("w2".to_string(), "not_reviewed".to_string(), vec![])]);
    // Record of 2022-03-01 kept 10 days: fine on 2022-03-11, overrun on 2022-03-12.
    let retention = of("retention_overrun");
    assert_eq!(retention.len(), 1);
    assert!(retention[0].2.contains(&"day_after".to_string()) && !retention[0].2.contains(&"last_day".to_string()));
    assert!(!retention[0].2.contains(&"before".to_string()));
}

#[test]
fn seal_then_verify_passes_and_tampering_fails_naming_the_row() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("wikit");
    generate(&dir, "wikit-transfers", 1_000, "csv");
    let sealed = temp.path().join("sealed.csv");
    driftwatch().args(["seal", "--events"]).arg(dir.join("events")).arg("--out").arg(&sealed).assert().success();
    // A sparse generated log (≈ 4 events a day) has real day-long silences: allow 4 days.
    let verify = |path: &Path| driftwatch().args(["verify", "--max-gap", "96", "--events"]).arg(path).output().unwrap();
    let ok = verify(&sealed);
    assert_eq!(ok.status.code(), Some(0), "{}", String::from_utf8_lossy(&ok.stdout));
    // Parquet keeps the chain: it hashes normalised values, not file bytes.
    let parquet = temp.path().join("sealed.parquet");
    driftwatch().args(["seal", "--events"]).arg(&sealed).arg("--out").arg(&parquet).assert().success();
    assert_eq!(verify(&parquet).status.code(), Some(0));

    let text = std::fs::read_to_string(&sealed).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[40] = lines[40].replacen(",read,", ",export,", 1).replacen(",search,", ",export,", 1);
    lines.remove(100);
    let tampered = temp.path().join("tampered.csv");
    std::fs::write(&tampered, lines.join("\n") + "\n").unwrap();
    let failed = verify(&tampered);
    let report = String::from_utf8_lossy(&failed.stdout).to_string();
    assert_eq!(failed.status.code(), Some(1), "{report}");
    assert!(report.contains("tampered.csv:row 40 ") && report.contains("altered_row"), "{report}");
    assert!(report.contains("tampered.csv:row 100 ") && report.contains("broken_link"), "{report}");

    // The audit reports the same as integrity findings.
    // Exit 1: findings; exit 2: an input could not be read (the others were audited).
    let audit = |events: &Path, out: &Path, extra: &[&str], code: i32| -> Value {
        driftwatch()
            .env("DRIFTWATCH_KEY", TEST_KEY)
            .arg("audit")
            .args(extra)
            .arg("--events")
            .arg(events)
            .arg("--register")
            .arg(dir.join("register"))
            .arg("--out")
            .arg(out)
            .assert()
            .code(code);
        read_json(&out.join("findings.json"))
    };
    let integrity_details = |findings: &Value, key: &str| -> Vec<String> {
        findings["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["detector"] == "integrity")
            .map(|f| f["details"][key].as_str().unwrap().to_string())
            .collect()
    };
    let findings = audit(&tampered, &temp.path().join("out"), &[], 1);
    let reasons = integrity_details(&findings, "reason");
    assert!(reasons.iter().any(|r| r == "altered_row") && reasons.iter().any(|r| r == "broken_link"), "{reasons:?}");
    // The chain is checked across chunks as across one frame.
    assert_eq!(audit(&tampered, &temp.path().join("chunked"), &["--chunk-rows", "37"], 1), findings);
    // An unreadable file listed before it does not shift which file a chain finding names.
    let logs = temp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("a-broken.csv"), "event_id,ts\ne1,2021-01-01T00:00:00Z\n").unwrap();
    std::fs::copy(&tampered, logs.join("tampered.csv")).unwrap();
    let files = integrity_details(&audit(&logs, &temp.path().join("tolerant"), &[], 2), "file");
    assert!(!files.is_empty() && files.iter().all(|f| f.ends_with("tampered.csv")), "{files:?}");
}

#[test]
fn replay_passes_untouched_and_names_a_changed_input_or_output() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("all");
    generate(&dir, "all", 2_000, "csv");
    let out = temp.path().join("out");
    driftwatch()
        .env_remove("DRIFTWATCH_KEY")
        .args(["audit", "--events"])
        .arg(dir.join("events"))
        .arg("--register")
        .arg(dir.join("register"))
        .arg("--habilitations")
        .arg(dir.join("habilitations.csv"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(1);
    let replay =
        || driftwatch().env_remove("DRIFTWATCH_KEY").arg("replay").arg(out.join("manifest.json")).output().unwrap();
    let untouched = replay();
    assert_eq!(untouched.status.code(), Some(0), "{}", String::from_utf8_lossy(&untouched.stdout));

    let csv = out.join("findings.csv");
    let original = std::fs::read(&csv).unwrap();
    let mut edited = original.clone();
    edited.push(b'\n');
    std::fs::write(&csv, &edited).unwrap();
    let after_edit = replay();
    assert_eq!(after_edit.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&after_edit.stdout).contains("findings.csv"));
    std::fs::write(&csv, &original).unwrap();

    let input = dir.join("events").join("imilo-id-numbers.csv");
    let mut bytes = std::fs::read(&input).unwrap();
    let last = bytes.len() - 2;
    bytes[last] = if bytes[last] == b'1' { b'2' } else { b'1' };
    std::fs::write(&input, bytes).unwrap();
    let after_input_change = replay();
    assert_eq!(after_input_change.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&after_input_change.stderr).to_string();
    assert!(stderr.contains("imilo-id-numbers.csv") && stderr.contains("changed since the audit"), "{stderr}");
}

/// A bundle is checked where it is: an edited copy fails naming the file, a missing file is
/// `missing`, an untouched copy moved elsewhere replays, and an audit made with relative paths
/// replays from the folder the inputs now live in with `--inputs-root`.
#[test]
fn replay_checks_the_bundle_it_is_given_wherever_it_was_moved() {
    let temp = tempfile::tempdir().unwrap();
    generate(&temp.path().join("world"), "all", 1_500, "csv");
    // An audit run from `temp` with relative paths, into `o1`.
    driftwatch()
        .current_dir(temp.path())
        .env_remove("DRIFTWATCH_KEY")
        .args(["audit", "--quiet", "--fail-on", "never", "--events", "world/events", "--register", "world/register"])
        .args(["--habilitations", "world/habilitations.csv", "--out", "o1"])
        .assert()
        .code(0);
    let copy = |to: &Path| {
        std::fs::create_dir_all(to).unwrap();
        for entry in walk(&temp.path().join("o1")) {
            let relative = entry.strip_prefix(temp.path().join("o1")).unwrap();
            std::fs::create_dir_all(to.join(relative).parent().unwrap()).unwrap();
            std::fs::copy(&entry, to.join(relative)).unwrap();
        }
    };
    let replay = |manifest: &Path, extra: &[&std::ffi::OsStr]| {
        driftwatch()
            .current_dir(temp.path())
            .env_remove("DRIFTWATCH_KEY")
            .arg("replay")
            .arg(manifest)
            .args(extra)
            .output()
            .unwrap()
    };
    let text = |o: &std::process::Output| {
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    };
    // An edited copy beside the original fails, naming the file; the original still passes.
    let edited = temp.path().join("bundle");
    copy(&edited);
    std::fs::write(edited.join("findings.json"), "{}").unwrap();
    let output = replay(&edited.join("manifest.json"), &[]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("changed: ") && text(&output).contains("findings.json"), "{}", text(&output));
    std::fs::remove_file(edited.join("report.md")).unwrap();
    let output = replay(&edited.join("manifest.json"), &[]);
    assert!(text(&output).contains("missing: ") && text(&output).contains("report.md"), "{}", text(&output));
    let output = replay(&temp.path().join("o1").join("manifest.json"), &[]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    // An untouched copy moved to another folder: its inputs are not beside it any more.
    let elsewhere = temp.path().join("court").join("o1");
    copy(&elsewhere);
    let output = replay(&elsewhere.join("manifest.json"), &[]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("--inputs-root"), "{}", text(&output));
    let output = replay(&elsewhere.join("manifest.json"), &["--inputs-root".as_ref(), temp.path().as_os_str()]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

/// A bundle written outside the folder the audit ran in (`--out ../audits/o1`) records where
/// that folder and each input lie seen from the manifest (`ran_in`, `from_manifest`): moved
/// together with its inputs, it replays from anywhere without `--inputs-root`.
#[test]
fn a_bundle_moved_with_its_inputs_replays_from_anywhere() {
    let temp = tempfile::tempdir().unwrap();
    let project = temp.path().join("site").join("project");
    generate(&project.join("world"), "all", 1_000, "csv");
    std::fs::create_dir_all(temp.path().join("site").join("audits")).unwrap();
    driftwatch()
        .current_dir(&project)
        .env_remove("DRIFTWATCH_KEY")
        .args(["audit", "--quiet", "--fail-on", "never", "--events", "world/events", "--register", "world/register"])
        .args(["--habilitations", "world/habilitations.csv", "--out", "../audits/o1"])
        .assert()
        .code(0);
    let manifest = read_json(&temp.path().join("site/audits/o1/manifest.json"));
    assert_eq!(manifest["ran_in"], "../../project");
    let first = &manifest["inputs"][0];
    assert_eq!(first["from_manifest"], format!("../../project/{}", first["path"].as_str().unwrap()));
    assert_eq!(manifest["habilitations"]["from_manifest"], "../../project/world/habilitations.csv");
    assert!(
        manifest["register_versions"][0]["from_manifest"]
            .as_str()
            .unwrap()
            .starts_with("../../project/world/register/")
    );
    // The whole site moved (a copy of a court file), replayed from an unrelated folder.
    let moved = temp.path().join("court");
    std::fs::rename(temp.path().join("site"), &moved).unwrap();
    let elsewhere = temp.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let output = driftwatch()
        .current_dir(&elsewhere)
        .env_remove("DRIFTWATCH_KEY")
        .arg("replay")
        .arg(moved.join("audits/o1/manifest.json"))
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{text}");
}

/// Every file under a folder.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(directory) = pending.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { pending.push(path) } else { files.push(path) }
        }
    }
    files
}

#[test]
fn as_of_uses_only_the_register_versions_known_then() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("out");
    audit_sample(&out, &["--as-of", "2022-01-01"]);
    let findings = read_json(&out.join("findings.json"));
    let versions: Vec<&str> = findings["summary"]["register_versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    // The 2022-03-01 version of Wiki'T was recorded on 2022-02-15: unknown on 2022-01-01.
    assert!(versions.contains(&"wikit@2015-10-06") && !versions.contains(&"wikit@2022-03-01"), "{versions:?}");
    let gap = findings["findings"].as_array().unwrap().iter().any(|f| {
        f["detector"] == "register_gap" && f["rule"].as_str().unwrap().contains("\"wikit\" is in force from 2022-03-01")
    });
    assert!(gap, "events after the first version lapsed have no known register");
    assert!(findings["findings"][0]["register_sha256"].as_array().is_some());
}

#[test]
fn values_from_logs_are_escaped_in_the_reports() {
    let temp = tempfile::tempdir().unwrap();
    let (events, register) = fixture(
        temp.path(),
        "event_id,ts,actor_id,actor_role,action,dataset,recipient\n\
         e1,2021-01-01T08:00:00Z,a,agent,transfer,follow_ups,<script>alert(1)</script>\n\
         e2,2021-01-02T08:00:00Z,a,agent,transfer,follow_ups,**bold** [x](http://evil)\n",
        REGISTER,
    );
    let out = temp.path().join("out");
    audit_files(&events, &register, &out).code(1);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<script>alert(1)"), "raw script in HTML");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("href=\"http://evil"));
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!markdown.contains("<script>") && markdown.contains("&lt;script&gt;"));
    assert!(markdown.contains("\\*\\*bold\\*\\* \\[x\\](http://evil)"), "{markdown}");
}

/// Renders the sample's report.html in headless Chromium (installed by .ci/run). Skipped with a
/// message where Chromium is missing, except under CI, where its absence is a failure.
/// Chromium's command, or None (with a message) where it is not installed; under CI its absence
/// is a failure.
fn chromium_or_skip() -> Option<&'static str> {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| std::process::Command::new(c).arg("--version").output().is_ok_and(|o| o.status.success()));
    if chromium.is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI must install chromium (.ci/run)");
        eprintln!("chromium not installed: skipping the browser check");
    }
    chromium
}

/// Headless Chromium with a throw-away profile and no network, on `args`; its standard output.
fn headless(chromium: &str, profile: &Path, args: &[String]) -> String {
    let output = std::process::Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        .args(["--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).to_string()
}

/// A number the report's script wrote on `<body>` (layout facts), from a dumped DOM.
fn body_number(dom: &str, attribute: &str) -> i64 {
    let start = dom.find(&format!("{attribute}=\"")).unwrap_or_else(|| panic!("no {attribute} in the DOM"));
    let rest = &dom[start + attribute.len() + 2..];
    rest[..rest.find('"').unwrap()].parse().unwrap()
}

/// Page objects of a PDF (`/Type /Page`, not `/Type /Pages`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let mut pages = 0;
    for marker in [&b"/Type /Page"[..], &b"/Type/Page"[..]] {
        for (at, window) in pdf.windows(marker.len()).enumerate() {
            if window == marker && pdf.get(at + marker.len()) != Some(&b's') {
                pages += 1;
            }
        }
    }
    pages
}

/// The report as a person sees it, in both languages: at 1280 px no horizontal scroll and the
/// top findings on the first screen (900 px); on a 390 px phone (an iframe: Chromium's windows
/// are never that narrow) no horizontal scroll either; printed to PDF (A4), a sane page count.
/// Screenshots at 1280 and 500 px are written beside the report for whoever wants to look.
#[test]
fn the_html_report_reads_on_a_desktop_a_phone_and_paper() {
    let Some(chromium) = chromium_or_skip() else { return };
    let temp = tempfile::tempdir().unwrap();
    for lang in ["en", "fr"] {
        let out = temp.path().join(lang);
        audit_sample(&out, &["--lang", lang, "--format", "html,json"]);
        let report = out.join("report.html");
        let url = format!("file://{}", report.display());
        let profile = temp.path().join(format!("profile-{lang}"));
        let desktop =
            headless(chromium, &profile, &["--window-size=1280,900".into(), "--dump-dom".into(), url.clone()]);
        assert!(desktop.contains("data-ready=\"yes\""), "{lang}: the inline script ran");
        assert!(body_number(&desktop, "data-scroll-width") <= 1280, "{lang}: horizontal scroll at 1280 px");
        let top_bottom = body_number(&desktop, "data-top-bottom");
        assert!(
            (1..=900).contains(&top_bottom),
            "{lang}: the top findings end at {top_bottom} px, below the first screen"
        );
        let phone = out.join("phone.html");
        std::fs::write(
            &phone,
            "<!doctype html><body><iframe id=f src=\"report.html\" width=390 height=844></iframe><script>\
document.getElementById('f').addEventListener('load',function(){var b=this.contentDocument.body;\
document.body.setAttribute('data-phone-width',b.getAttribute('data-scroll-width'));});</script></body>",
        )
        .unwrap();
        let phone_dom = headless(
            chromium,
            &profile,
            &[
                "--allow-file-access-from-files".into(),
                "--virtual-time-budget=5000".into(),
                "--dump-dom".into(),
                format!("file://{}", phone.display()),
            ],
        );
        assert!(body_number(&phone_dom, "data-phone-width") <= 390, "{lang}: horizontal scroll on a 390 px phone");
        let pdf = out.join("report.pdf");
        headless(
            chromium,
            &profile,
            &["--no-pdf-header-footer".into(), format!("--print-to-pdf={}", pdf.display()), url.clone()],
        );
        let bytes = std::fs::read(&pdf).unwrap();
        let pages = pdf_pages(&bytes);
        assert!((1..=60).contains(&pages), "{lang}: {pages} A4 pages");
        // 500 px: the narrowest window Chromium opens (the 390 px check above uses an iframe).
        for (name, size) in [("screen-1280.png", "1280,900"), ("screen-500.png", "500,844")] {
            headless(
                chromium,
                &profile,
                &[format!("--window-size={size}"), format!("--screenshot={}", out.join(name).display()), url.clone()],
            );
        }
    }
}

#[test]
fn the_html_report_renders_in_headless_chromium_without_network() {
    let Some(chromium) = chromium_or_skip() else { return };
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("reports");
    audit_sample(&out, &[]);
    let html_path = out.join("report.html");
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("Content-Security-Policy") && html.contains("default-src 'none'"));
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "no request may leave the page");
    let findings = read_json(&out.join("findings.json"));
    let count = findings["findings"].as_array().unwrap().len();
    let profile = temp.path().join("profile");
    let dom = headless(chromium, &profile, &["--dump-dom".into(), format!("file://{}", html_path.display())]);
    assert!(dom.contains("data-ready=\"yes\""), "the inline script ran");
    assert!(dom.contains(&format!("<span id=\"finding-count\">{count}</span>")), "findings count");
    assert!(dom.contains("moe_platforms"), "a recipient name");
    assert!(dom.contains("data:image/svg+xml;base64,"), "an inline chart");
}

#[test]
fn the_workbook_has_a_sheet_per_detector_with_frozen_header_filters_and_dates() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("reports");
    audit_sample(&out, &["--format", "xlsx,json"]);
    assert!(!out.join("report.md").exists(), "--format chooses the outputs");
    let mut archive = zip::ZipArchive::new(std::fs::File::open(out.join("findings.xlsx")).unwrap()).unwrap();
    let mut read = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let workbook = read("xl/workbook.xml");
    let findings = read_json(&out.join("findings.json"));
    let detectors: std::collections::BTreeSet<&str> =
        findings["findings"].as_array().unwrap().iter().map(|f| f["detector"].as_str().unwrap()).collect();
    for detector in &detectors {
        assert!(workbook.contains(&format!("<sheet name=\"{detector}\"")), "{detector}");
    }
    let sheet = read("xl/worksheets/sheet1.xml");
    assert!(sheet.contains("<pane ySplit=\"1\"") && sheet.contains("<autoFilter ref="), "frozen header and filters");
    let styles = read("xl/styles.xml");
    assert!(styles.contains("yyyy-mm-dd hh:mm:ss"), "dates formatted as dates");
}

#[test]
fn lang_fr_writes_the_reports_in_french() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("reports");
    audit_sample(&out, &["--lang", "fr", "--format", "md,html"]);
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    for words in [
        "Rapport d'audit",
        "Constats",
        "destinataire",
        "communication ponctuelle sur demande",
        "Référence juridique",
        "ÉLEVÉE",
    ] {
        assert!(markdown.contains(words), "{words}");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<html lang=\"fr\">") && html.contains("Filtrer les constats"));
    let periodic = std::fs::read_dir(out.join("charts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("periodic-") && p.extension().is_some_and(|e| e == "svg"))
        .unwrap();
    let svg = std::fs::read_to_string(periodic).unwrap();
    assert!(svg.contains("envoi attendu") && svg.contains("chaque mardi"), "chart captions in French");
}

#[test]
fn an_unreadable_file_is_reported_and_the_others_audited_unless_strict() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("imilo");
    generate(&dir, "imilo-id-numbers", 1_000, "csv");
    std::fs::write(dir.join("events").join("broken.csv"), "event_id,ts\ne1,2021-01-01T00:00:00Z\n").unwrap();
    let out = temp.path().join("out");
    let run = |extra: &[&str]| {
        driftwatch()
            .env("DRIFTWATCH_KEY", TEST_KEY)
            .args(["audit", "--events"])
            .arg(dir.join("events"))
            .arg("--register")
            .arg(dir.join("register"))
            .arg("--out")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let tolerant = run(&[]);
    assert_eq!(tolerant.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&tolerant.stderr).contains("broken.csv: missing required column `actor_id`"));
    let findings = read_json(&out.join("findings.json"));
    assert_eq!(findings["summary"]["unreadable_files"][0]["path"].as_str().unwrap().ends_with("broken.csv"), true);
    assert!(
        findings["findings"].as_array().unwrap().iter().any(|f| f["dataset"] == "youth_files"),
        "the good file was audited"
    );
    assert!(std::fs::read_dir(&out).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().contains("staging")));

    std::fs::remove_dir_all(&out).unwrap();
    let strict = run(&["--strict"]);
    assert_eq!(strict.status.code(), Some(2));
    assert!(!out.join("findings.json").exists(), "--strict stops before writing reports");
}

#[test]
fn reports_are_never_written_among_the_inputs() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("imilo");
    generate(&dir, "imilo-id-numbers", 500, "csv");
    let assert = driftwatch()
        .args(["audit", "--events"])
        .arg(dir.join("events"))
        .arg("--register")
        .arg(dir.join("register"))
        .arg("--out")
        .arg(dir.join("events").join("reports"))
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("would mix reports with the inputs"), "{stderr}");
}

#[derive(serde::Deserialize)]
struct Catalogue {
    case: Vec<BadInput>,
}

#[derive(serde::Deserialize)]
struct BadInput {
    file: String,
    also: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    /// A source map to read the file with.
    map: Option<String>,
    #[serde(default)]
    exit: i32,
    read: Option<u64>,
    used: Option<u64>,
    stderr: Option<String>,
    quarantine: Option<String>,
    finding: Option<String>,
}

/// Every case of tests/bad-inputs/cases.toml ends exactly as written there, never in a panic,
/// and every input row is used or quarantined.
#[test]
fn the_malformed_input_catalogue() {
    let catalogue_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("bad-inputs");
    let catalogue: Catalogue =
        toml::from_str(&std::fs::read_to_string(catalogue_dir.join("cases.toml")).unwrap()).unwrap();
    assert!(catalogue.case.len() >= 40);
    let temp = tempfile::tempdir().unwrap();
    for (index, case) in catalogue.case.iter().enumerate() {
        let out = temp.path().join(index.to_string());
        let mut command = driftwatch();
        command
            .current_dir(&catalogue_dir)
            .args(["audit", "--fail-on", "never", "--reveal-identities", "--out"])
            .arg(&out);
        let mut files = vec![case.file.as_str()];
        files.extend(case.also.as_deref());
        match case.kind.as_deref().unwrap_or("events") {
            "register" => command.args(["--events", "crlf.csv", "--register"]).args(&files),
            "habilitations" => command.args([
                "--events",
                "crlf.csv",
                "--register",
                "register.toml",
                "--habilitations",
                case.file.as_str(),
            ]),
            _ => command.arg("--events").args(&files).args(["--register", "register.toml"]),
        };
        if let Some(map) = &case.map {
            command.args(["--source-map", map]);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        let code = output.status.code().unwrap_or(-1);
        assert_ne!(code, 101, "{}: panic: {stderr}", case.file);
        assert_eq!(code, case.exit, "{}: {stderr}", case.file);
        if let Some(fragment) = &case.stderr {
            assert!(stderr.contains(fragment.as_str()), "{}: expected `{fragment}` in: {stderr}", case.file);
        }
        let Ok(text) = std::fs::read_to_string(out.join("findings.json")) else {
            assert!(case.read.is_none() && case.quarantine.is_none(), "{}: no report written", case.file);
            continue;
        };
        let findings: Value = serde_json::from_str(&text).unwrap();
        for input in findings["inputs"].as_array().unwrap() {
            let (read, used, quarantined) = (
                input["rows_read"].as_u64().unwrap(),
                input["rows_used"].as_u64().unwrap(),
                input["rows_quarantined"].as_u64().unwrap(),
            );
            assert_eq!(read, used + quarantined, "{}: rows read = used + quarantined", case.file);
            if input["path"].as_str().unwrap() == case.file {
                assert_eq!(Some(read), case.read.or(Some(read)), "{}: rows read", case.file);
                assert_eq!(Some(used), case.used.or(Some(used)), "{}: rows used", case.file);
            }
        }
        if let Some(fragment) = &case.quarantine {
            let quarantine = std::fs::read_to_string(out.join("quarantine.csv")).unwrap();
            assert!(
                quarantine.contains(fragment.as_str()),
                "{}: expected `{fragment}` in quarantine: {quarantine}",
                case.file
            );
        }
        if let Some(fragment) = &case.finding {
            assert!(text.contains(fragment.as_str()), "{}: expected a finding with `{fragment}`", case.file);
        }
    }
}

#[test]
fn truncated_parquet_and_oversized_lines_are_clear_errors_or_quarantined() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("g");
    generate(&dir, "imilo-id-numbers", 500, "parquet");
    let parquet = std::fs::read_dir(dir.join("events")).unwrap().next().unwrap().unwrap().path();
    let bytes = std::fs::read(&parquet).unwrap();
    let truncated = temp.path().join("truncated.parquet");
    std::fs::write(&truncated, &bytes[..bytes.len() - 10]).unwrap();
    let long = temp.path().join("long.csv");
    let mut text = String::from(
        "event_id,ts,actor_id,actor_role,action,dataset\ne1,2022-03-01T08:00:00Z,a1,agent,read,youth_files\n",
    );
    text.push_str(&format!("e2,2022-03-01T08:00:00Z,{},agent,read,youth_files\n", "x".repeat(17 << 20)));
    std::fs::write(&long, text).unwrap();
    let out = temp.path().join("out");
    let output = driftwatch()
        .args(["audit", "--fail-on", "never", "--events"])
        .arg(&truncated)
        .arg(&long)
        .arg("--register")
        .arg(dir.join("register"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("truncated.parquet: cannot read as Parquet"), "{stderr}");
    let quarantine = std::fs::read_to_string(out.join("quarantine.csv")).unwrap();
    assert!(quarantine.contains("longer than the 16 MiB limit"), "the oversized line is quarantined, the rest read");
}

fn real_logs() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("shared").join("real-logs");
    if dir.is_dir() {
        return Some(dir);
    }
    eprintln!("SKIPPED: shared/real-logs not found beside the checkout ({})", dir.display());
    None
}

/// Both real web logs, end to end with their example source maps (`format = "access_log"`):
/// every line used or quarantined with its reason, scheduled downloads found as periodic
/// transfers, and `--routes` with the same file giving the same findings byte for byte.
#[test]
fn real_web_logs_are_audited_with_their_source_maps() {
    let Some(logs) = real_logs() else { return };
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join("web");
    let temp = tempfile::tempdir().unwrap();
    for (name, events, expected_rows) in [
        ("erddap", logs.join("erddap-voto-2024-05").join("raw"), 16_275u64),
        ("secrepo", logs.join("secrepo-2021-10").join("raw"), 5_854),
    ] {
        let mut outputs = Vec::new();
        for flag in ["--source-map", "--routes"] {
            let out = temp.path().join(format!("{name}{flag}"));
            driftwatch()
                .env("DRIFTWATCH_KEY", TEST_KEY)
                .args(["audit", "--fail-on", "never", "--events"])
                .arg(&events)
                .arg("--register")
                .arg(examples.join(format!("{name}-register.toml")))
                .arg(flag)
                .arg(examples.join(format!("{name}-map.toml")))
                .arg("--out")
                .arg(&out)
                .assert()
                .code(0);
            outputs.push(out);
        }
        let findings_text = std::fs::read_to_string(outputs[0].join("findings.json")).unwrap();
        assert_eq!(findings_text, std::fs::read_to_string(outputs[1].join("findings.json")).unwrap(), "{name}");
        let findings: Value = serde_json::from_str(&findings_text).unwrap();
        let summary = &findings["summary"];
        assert_eq!(summary["rows_read"].as_u64(), Some(expected_rows), "{name}");
        assert_eq!(
            summary["rows_read"].as_u64().unwrap(),
            summary["rows_used"].as_u64().unwrap() + summary["rows_quarantined"].as_u64().unwrap()
        );
        assert!(summary["rows_used"].as_u64().unwrap() > expected_rows / 2, "{name}: most lines routed");
        let periodic =
            findings["findings"].as_array().unwrap().iter().filter(|f| f["detector"] == "periodic_transfer").count();
        assert!(periodic >= 1, "{name}: a client pulling on a schedule");
        let quarantine = std::fs::read_to_string(outputs[0].join("quarantine.csv")).unwrap();
        assert!(quarantine.contains("no route for") || quarantine.contains("not a combined/common log line"));
    }
}

#[test]
fn gzipped_and_inline_access_log_lines() {
    let temp = tempfile::tempdir().unwrap();
    let lines = "127.0.0.1 - frank [10/Oct/2021:13:55:36 -0700] \"GET /files/report.csv HTTP/1.0\" 200 2326 \"-\" \"curl/7.1\"\n\
                 ::1 - - [10/Oct/2021:13:56:00 +0200] \"GET /files/other.csv HTTP/1.1\" 200 - \"-\" \"a \\\"quoted\\\" agent\"\n\
                 garbage line\n\
                 10.0.0.2 - - [10/Oct/2021:14:00:00 +0000] \"GET /missing HTTP/1.1\" 404 0\n";
    let path = temp.path().join("access.log.1.gz");
    let mut encoder =
        flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, lines.as_bytes()).unwrap();
    encoder.finish().unwrap();
    std::fs::write(
        temp.path().join("routes.toml"),
        "actor = \"user\"\n[[route]]\nmethods = [\"GET\"]\npath = '^/files/(?P<file>[a-z]+)\\.csv$'\naction = \"export\"\ndataset = \"files\"\nrecipient = \"{client}\"\n",
    )
    .unwrap();
    std::fs::write(temp.path().join("register.toml"), "processing = \"web\"\nin_force_from = \"2020-01-01\"\n[[dataset]]\nid = \"files\"\n[[purpose]]\nid = \"p\"\ndatasets = [\"files\"]\n").unwrap();
    let out = temp.path().join("out");
    driftwatch()
        .env("DRIFTWATCH_KEY", TEST_KEY)
        .args(["audit", "--reveal-identities", "--fail-on", "never", "--events"])
        .arg(&path)
        .arg("--register")
        .arg(temp.path().join("register.toml"))
        .arg("--routes")
        .arg(temp.path().join("routes.toml"))
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let findings = read_json(&out.join("findings.json"));
    assert_eq!(findings["inputs"][0]["rows_read"], 4);
    assert_eq!(findings["inputs"][0]["rows_used"], 2);
    let recipients: Vec<&str> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["detector"] == "undeclared_recipient")
        .map(|f| f["recipient"].as_str().unwrap())
        .collect();
    // "user" actors: frank is authenticated; the IPv6 client is identified by address + agent.
    assert!(recipients.contains(&"frank") && recipients.iter().any(|r| r.starts_with("::1 ")), "{recipients:?}");
    let quarantine = std::fs::read_to_string(out.join("quarantine.csv")).unwrap();
    assert!(quarantine.contains(",3,,") && quarantine.contains("no route for GET /missing (404)"), "{quarantine}");
    // Web clients are people: as recipients too, they are pseudonymised in every output.
    let private = temp.path().join("private");
    driftwatch()
        .env("DRIFTWATCH_KEY", TEST_KEY)
        .args(["audit", "--fail-on", "never", "--events"])
        .arg(&path)
        .arg("--register")
        .arg(temp.path().join("register.toml"))
        .arg("--routes")
        .arg(temp.path().join("routes.toml"))
        .arg("--out")
        .arg(&private)
        .assert()
        .code(0);
    for (name, bytes) in output_bytes(&private) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("frank") && !text.contains("::1 "), "{name} names a web client");
    }
    // Parsed a line at a time, the log gives the same outputs (quarantined lines included).
    let one_by_one = temp.path().join("one-by-one");
    driftwatch()
        .env("DRIFTWATCH_KEY", TEST_KEY)
        .args(["audit", "--reveal-identities", "--fail-on", "never", "--chunk-rows", "1", "--events"])
        .arg(&path)
        .arg("--register")
        .arg(temp.path().join("register.toml"))
        .arg("--routes")
        .arg(temp.path().join("routes.toml"))
        .arg("--out")
        .arg(&one_by_one)
        .assert()
        .code(0);
    for file in ["findings.json", "quarantine.csv", "report.md"] {
        assert!(std::fs::read(out.join(file)).unwrap() == std::fs::read(one_by_one.join(file)).unwrap(), "{file}");
    }
    // Without a route map, a web log is a clear error.
    let without = driftwatch()
        .args(["audit", "--events"])
        .arg(&path)
        .arg("--register")
        .arg(temp.path().join("register.toml"))
        .arg("--out")
        .arg(temp.path().join("out2"))
        .output()
        .unwrap();
    assert_eq!(without.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&without.stderr).contains("needs a route map"));
}

/// The audit streams its input in chunks; the chunk size must never change an output byte.
#[test]
fn findings_do_not_depend_on_the_chunk_size() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    generate(&data, "all", 6_000, "parquet");
    let whole = dir.path().join("whole");
    let (code, findings) = audit_scenario(&data, &whole, &[]);
    assert_eq!(code, 1);
    assert!(findings["findings"].as_array().unwrap().len() > 5, "{findings}");
    for rows in ["97", "1777"] {
        let chunked = dir.path().join(format!("chunks-{rows}"));
        let (chunked_code, _) = audit_scenario(&data, &chunked, &["--chunk-rows", rows]);
        assert_eq!(chunked_code, code);
        for file in ["findings.json", "findings.csv", "quarantine.csv", "report.md"] {
            let (a, b) = (std::fs::read(whole.join(file)).unwrap(), std::fs::read(chunked.join(file)).unwrap());
            assert!(a == b, "{file} differs with --chunk-rows {rows}");
        }
    }
    // CSV is parsed a chunk at a time: rejected records and bad values keep their lines.
    let csv = dir.path().join("csv");
    generate(&csv, "wikit-transfers", 400, "csv");
    let events = std::fs::read_dir(csv.join("events")).unwrap().next().unwrap().unwrap().path();
    let text = std::fs::read_to_string(&events).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[7] = format!("{},extra", lines[7]);
    lines[20] = lines[20].replacen(",20", ",x20", 1);
    lines.insert(30, "too,few,fields".to_string());
    std::fs::write(&events, lines.join("\n") + "\n").unwrap();
    let (csv_whole, csv_chunked) = (dir.path().join("csv-whole"), dir.path().join("csv-chunked"));
    audit_scenario(&csv, &csv_whole, &[]);
    audit_scenario(&csv, &csv_chunked, &["--chunk-rows", "9"]);
    let quarantine = std::fs::read_to_string(csv_whole.join("quarantine.csv")).unwrap();
    assert_eq!(quarantine.lines().count(), 4, "a header and three records: {quarantine}");
    for file in ["findings.json", "quarantine.csv", "report.md"] {
        let (a, b) = (std::fs::read(csv_whole.join(file)).unwrap(), std::fs::read(csv_chunked.join(file)).unwrap());
        assert!(a == b, "CSV {file} differs with --chunk-rows 9");
    }
    // The shipped sample is CSV too.
    let (sample_whole, sample_chunked) = (dir.path().join("sample-whole"), dir.path().join("sample-chunked"));
    audit_sample(&sample_whole, &[]);
    audit_sample(&sample_chunked, &["--chunk-rows", "997"]);
    for file in ["findings.json", "report.md", "quarantine.csv"] {
        let (a, b) =
            (std::fs::read(sample_whole.join(file)).unwrap(), std::fs::read(sample_chunked.join(file)).unwrap());
        assert!(a == b, "sample {file} differs with --chunk-rows 997");
    }
}

/// The shipped sample reproduces: the default audit (its public demo key, no key of the user's)
/// writes exactly the committed `reports/`, file for file and byte for byte, the manifest aside
/// (it records when it ran and is not committed). A change that alters the reports must update
/// them on purpose: `cargo run --release -- audit`.
#[test]
fn the_default_audit_reproduces_the_committed_reports_byte_for_byte() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("reports");
    driftwatch()
        .current_dir(root)
        .env_remove("DRIFTWATCH_KEY")
        .args(["audit", "--quiet", "--fail-on", "never", "--out"])
        .arg(&out)
        .assert()
        .code(0);
    let written = output_bytes(&out);
    let committed = output_bytes(&root.join("reports"));
    let names =
        |files: &BTreeMap<String, Vec<u8>>| files.keys().filter(|n| *n != "manifest.json").cloned().collect::<Vec<_>>();
    assert_eq!(names(&written), names(&committed), "the same files");
    for name in names(&written) {
        assert!(
            written[&name] == committed[&name],
            "{name} differs from the committed reports/{name}: run `cargo run --release -- audit` and commit reports/ if the change is meant"
        );
    }
    assert!(!out.join(".driftwatch-key").exists(), "the demo key is used, no key is drawn");
}

/// A closed standard output (`driftwatch schema findings | head -1`) ends the command quietly
/// with exit 0, as ripgrep does, not with a panic.
#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    for which in ["findings", "events", "register"] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("driftwatch"))
            .args(["schema", which])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // the reader goes away before anything is written
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{which}: {stderr}");
        assert!(!stderr.contains("panicked"), "{which}: {stderr}");
    }
}

/// A signed bundle: `keygen`, `audit --sign-key`, then `check-bundle --public-key` passes; it
/// fails after any byte of any output changes, and when the manifest itself is edited; an
/// unsigned bundle is reported as unsigned, not as an error.
#[test]
fn check_bundle_verifies_the_signature_and_every_output() {
    let temp = tempfile::tempdir().unwrap();
    let keys = temp.path().join("keys");
    driftwatch().args(["keygen", "--out"]).arg(&keys).assert().code(0);
    let out = temp.path().join("signed");
    audit_sample(&out, &["--sign-key", keys.join("driftwatch-signing.key").to_str().unwrap()]);
    assert!(out.join("manifest.json.sig").is_file());
    let manifest = read_json(&out.join("manifest.json"));
    assert_eq!(manifest["signed_by"]["algorithm"], "ed25519");
    let check = |dir: &Path| {
        driftwatch()
            .arg("check-bundle")
            .arg(dir)
            .arg("--public-key")
            .arg(keys.join("driftwatch-signing.pub"))
            .output()
            .unwrap()
    };
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).to_string();
    let intact = check(&out);
    assert_eq!(intact.status.code(), Some(0), "{}", text(&intact));
    assert!(text(&intact).contains("signature: valid, by the key given"), "{}", text(&intact));
    // Any byte of any output.
    let outputs: Vec<String> =
        manifest["outputs"].as_array().unwrap().iter().map(|o| o["path"].as_str().unwrap().to_string()).collect();
    assert!(outputs.len() > 5);
    for relative in &outputs {
        let path = out.join(relative);
        let original = std::fs::read(&path).unwrap();
        let mut changed = original.clone();
        let middle = changed.len() / 2;
        changed[middle] ^= 0x01;
        std::fs::write(&path, &changed).unwrap();
        let after = check(&out);
        assert_eq!(after.status.code(), Some(1), "{relative}: {}", text(&after));
        assert!(text(&after).contains(&format!("changed: {}", path.display())), "{relative}: {}", text(&after));
        std::fs::write(&path, &original).unwrap();
    }
    // The manifest itself.
    let manifest_path = out.join("manifest.json");
    let original = std::fs::read_to_string(&manifest_path).unwrap();
    std::fs::write(&manifest_path, original.replace("\"rows\"", "\"rows\" ")).unwrap();
    let forged = check(&out);
    assert_eq!(forged.status.code(), Some(1));
    assert!(text(&forged).contains("signature: INVALID"), "{}", text(&forged));
    std::fs::write(&manifest_path, original).unwrap();
    // Unsigned.
    let unsigned = temp.path().join("unsigned");
    audit_sample(&unsigned, &[]);
    let output = driftwatch().arg("check-bundle").arg(&unsigned).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(text(&output).contains("unsigned manifest"), "{}", text(&output));
}

/// `--verbose` gives each stage's CPU time and each detector's own (split into its scan and its
/// finish), on stderr only.
#[test]
fn verbose_reports_each_detectors_cpu_time() {
    let temp = tempfile::tempdir().unwrap();
    let output = audit_sample(&temp.path().join("out"), &["--verbose"]).get_output().clone();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("events read, judged and scanned: ") && stderr.contains(" s CPU)"), "{stderr}");
    for detector in ["register_gap", "category_creep", "periodic_transfer", "integrity"] {
        assert!(
            stderr.lines().any(|l| l.contains(&format!("{detector}: "))
                && l.contains(" s CPU, ")
                && l.contains("(scan ")
                && l.contains(" s CPU, finish ")),
            "{detector}: {stderr}"
        );
    }
    assert!(!String::from_utf8_lossy(&output.stdout).contains("s CPU"), "timings stay off stdout");
}

/// Each command's help opens with its own description (replay's was once keygen's).
#[test]
fn each_command_help_describes_that_command() {
    for (command, opening) in [
        ("replay", "Re-run an audit from its manifest"),
        ("keygen", "Write an Ed25519 key pair"),
        ("merge", "Merge saved states"),
    ] {
        let output = driftwatch().args([command, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(help.starts_with(opening), "{command} --help: {help}");
    }
}
