//! Month after month: `--baseline`, `--triage`, `--fail-on-new` and `driftwatch diff`, on the
//! shipped sample cut at two dates, with the key each audit keeps in its own folder (nothing in
//! the environment: the second audit must carry the first one's key over by itself).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use super::{driftwatch, read_json};

/// Audits the sample's files (named, so not the demo key) into `out`; returns the exit code.
fn audit(out: &Path, extra: &[&str]) -> i32 {
    let output = driftwatch()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DRIFTWATCH_KEY")
        .args(["audit", "--quiet", "--events", "sample-data/events", "--register", "sample-data/register"])
        .args(["--habilitations", "sample-data/habilitations.csv", "--format", "json,md,csv"])
        .args(extra)
        .arg("--out")
        .arg(out)
        .output()
        .expect("runs");
    let code = output.status.code().expect("exit code");
    assert_ne!(code, 2, "audit failed: {}", String::from_utf8_lossy(&output.stderr));
    code
}

fn findings(out: &Path) -> Vec<Value> {
    read_json(&out.join("findings.json"))["findings"].as_array().unwrap().clone()
}

/// (detector, subject) → ids (a subject may have several findings: one per action, reason…).
fn by_subject(findings: &[Value]) -> BTreeMap<String, BTreeSet<String>> {
    let mut ids: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in findings {
        let subject: Vec<&str> = ["detector", "dataset", "recipient", "actor", "target", "purpose"]
            .iter()
            .map(|key| f[*key].as_str().unwrap_or(""))
            .collect();
        ids.entry(subject.join("|")).or_default().insert(f["id"].as_str().unwrap().to_string());
    }
    ids
}

fn ids_with(findings: &[Value], key: &str, value: &str) -> BTreeSet<String> {
    findings.iter().filter(|f| f[key] == value).map(|f| f["id"].as_str().unwrap().to_string()).collect()
}

/// September–February, then September–August: ongoing drifts keep their ids (same subject, same
/// id) and are `ongoing`; the drifts that start after February (the categories sent to
/// moe_platforms under register v2, an actor acting after the revocation of April) are `new`;
/// nothing ended, so nothing is resolved. Then February against March–August alone: the
/// undeclared recipient of the first register version ended in February, it is `resolved`.
#[test]
fn a_growing_log_keeps_ids_new_drifts_are_new_ended_ones_resolved() {
    let temp = tempfile::tempdir().unwrap();
    let (first, second, later) = (temp.path().join("2022-02"), temp.path().join("2022-08"), temp.path().join("later"));
    audit(&first, &["--to", "2022-03-01"]);
    audit(&second, &["--baseline", first.to_str().unwrap()]);
    assert_eq!(
        std::fs::read(first.join(".driftwatch-key")).unwrap(),
        std::fs::read(second.join(".driftwatch-key")).unwrap(),
        "the second audit carries the first one's key over"
    );
    let (before, after) = (findings(&first), findings(&second));
    let (then, now) = (by_subject(&before), by_subject(&after));
    for (subject, ids) in &then {
        let kept = now.get(subject).is_some_and(|now| now.is_superset(ids));
        assert!(kept, "{subject}: an id changed as the window grew ({ids:?} then, {:?} now)", now.get(subject));
    }
    let ongoing = ids_with(&after, "status", "ongoing");
    let new = ids_with(&after, "status", "new");
    let all_before: BTreeSet<String> = before.iter().map(|f| f["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ongoing, all_before);
    assert_eq!(ongoing.len() + new.len(), after.len(), "every finding is new or ongoing");
    let new_detectors: BTreeSet<&str> =
        after.iter().filter(|f| f["status"] == "new").map(|f| f["detector"].as_str().unwrap()).collect();
    assert!(
        new_detectors.contains("category_creep") && new_detectors.contains("outside_habilitation"),
        "{new_detectors:?}"
    );
    assert_eq!(read_json(&second.join("findings.json"))["resolved"], serde_json::json!([]));
    let manifest = read_json(&second.join("manifest.json"));
    let baseline_manifest = driftwatch::hashing::sha256_file(&first.join("manifest.json")).unwrap();
    assert_eq!(manifest["baseline"]["manifest_sha256"], baseline_manifest.as_str(), "months chain by their manifests");

    audit(&later, &["--from", "2022-03-01", "--baseline", first.to_str().unwrap()]);
    let resolved = read_json(&later.join("findings.json"))["resolved"].clone();
    let gone: Vec<&str> = resolved.as_array().unwrap().iter().map(|f| f["detector"].as_str().unwrap()).collect();
    assert!(gone.contains(&"undeclared_recipient"), "{gone:?}");
    let report = std::fs::read_to_string(later.join("report.md")).unwrap();
    assert!(report.starts_with("# driftwatch audit report\n\n## Since the last audit\n"), "{}", &report[..200]);
    assert!(report.contains("### resolved (") && report.contains("undeclared recipient"));
    let csv = std::fs::read_to_string(later.join("findings.csv")).unwrap();
    assert!(csv.lines().next().unwrap().ends_with("status,previous_severity,triage,triage_reason"));
}

fn triage_file(dir: &Path, ids: &[String], until: Option<&str>) -> std::path::PathBuf {
    let mut text = String::new();
    for id in ids {
        text.push_str(&format!(
            "[[finding]]\nid = \"{id}\"\ndecision = \"accepted\"\nreason = \"documented exception, ref. 2022-117\"\nby = \"dpo@example.org\"\ndate = 2022-09-01\n"
        ));
        if let Some(until) = until {
            text.push_str(&format!("until = {until}\n"));
        }
        text.push('\n');
    }
    let path = dir.join(format!("triage-{}.toml", until.unwrap_or("open")));
    std::fs::write(&path, text).unwrap();
    path
}

/// Accepting every high finding turns `--fail-on high` from 1 to 0; the same decisions past
/// their `until` do not; accepted findings have their own section and keep their decision in
/// findings.json; `--fail-on-new` exits 1 only for new findings.
#[test]
fn triage_decisions_change_the_exit_code_until_they_expire() {
    let temp = tempfile::tempdir().unwrap();
    let (first, second) = (temp.path().join("a"), temp.path().join("b"));
    assert_eq!(audit(&first, &[]), 1);
    let high: Vec<String> = ids_with(&findings(&first), "severity", "high").into_iter().collect();
    assert!(!high.is_empty());
    let open = triage_file(temp.path(), &high, None);
    let lapsing = triage_file(temp.path(), &high, Some("2022-12-31"));
    let key = first.join(".driftwatch-key");
    let key = key.to_str().unwrap();
    assert_eq!(audit(&second, &["--key-file", key, "--triage", open.to_str().unwrap()]), 0);
    let written = findings(&second);
    assert!(written.iter().filter(|f| f["severity"] == "high").all(|f| f["triage"]["decision"] == "accepted"));
    let report = std::fs::read_to_string(second.join("report.md")).unwrap();
    assert!(report.contains("## Triaged findings") && report.contains("documented exception, ref. 2022-117"));
    let args = ["--key-file", key, "--triage", lapsing.to_str().unwrap()];
    assert_eq!(audit(&second, &[&args[..], &["--as-of", "2022-12-31"]].concat()), 0, "still in force on its last day");
    assert_eq!(
        audit(&second, &[&args[..], &["--as-of", "2023-01-01"]].concat()),
        1,
        "expired: the findings count again"
    );
    let triage = &read_json(&second.join("findings.json"))["triage"];
    assert_eq!(triage["expired"].as_array().unwrap().len(), high.len());
    assert_eq!(triage["applied"], 0);

    // Against itself every finding is ongoing: nothing new, exit 0; --fail-on still sees them.
    let base = ["--key-file", key, "--baseline", first.to_str().unwrap()];
    assert_eq!(audit(&second, &[&base[..], &["--fail-on-new", "low"]].concat()), 0);
    assert_eq!(audit(&second, &base), 1);
    // Without a baseline every finding is new.
    assert_eq!(audit(&second, &["--key-file", key, "--fail-on-new", "high"]), 1);
}

/// A malformed triage file or a baseline written with another key: exit 2, saying which file,
/// entry and key, and what to do.
#[test]
fn bad_triage_files_and_incomparable_baselines_are_refused() {
    let temp = tempfile::tempdir().unwrap();
    let bad = temp.path().join("triage.toml");
    std::fs::write(
        &bad,
        "[[finding]]\nid = \"DW-1\"\ndecision = \"ignore\"\nreason = \"r\"\nby = \"b\"\ndate = 2022-01-01\n",
    )
    .unwrap();
    let output = driftwatch()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["audit", "--quiet", "--triage"])
        .arg(&bad)
        .arg("--out")
        .arg(temp.path().join("o"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("triage.toml") && message.contains("decision") && message.contains("line 3"), "{message}");

    let (first, second) = (temp.path().join("a"), temp.path().join("b"));
    audit(&first, &[]);
    let other_key = temp.path().join("other.key");
    std::fs::write(&other_key, "another-key-of-sixteen-bytes-or-more").unwrap();
    let output = driftwatch()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DRIFTWATCH_KEY")
        .args(["audit", "--quiet", "--events", "sample-data/events", "--register", "sample-data/register"])
        .arg("--key-file")
        .arg(&other_key)
        .arg("--baseline")
        .arg(&first)
        .arg("--out")
        .arg(&second)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("--baseline") && message.contains("no id would match"), "{message}");
}

/// `diff A B`: new, resolved and changed findings as text and JSON; exit 1 when they differ, 0
/// when they do not.
#[test]
fn diff_lists_new_resolved_and_changed_findings() {
    let temp = tempfile::tempdir().unwrap();
    let (first, second) = (temp.path().join("a"), temp.path().join("b"));
    audit(&first, &["--to", "2022-03-01"]);
    audit(&second, &["--baseline", first.to_str().unwrap()]);
    let text = driftwatch().arg("diff").arg(&first).arg(&second).assert().code(1).get_output().stdout.clone();
    let text = String::from_utf8(text).unwrap();
    let new = ids_with(&findings(&second), "status", "new");
    for id in &new {
        assert!(text.lines().any(|line| line.starts_with("new") && line.contains(id.as_str())), "{id}: {text}");
    }
    assert!(text.lines().any(|line| line.starts_with("changed") && line.contains("events")), "{text}");
    let json = driftwatch().arg("diff").arg(&first).arg(second.join("findings.json")).arg("--json").assert().code(1);
    let json: Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let listed: BTreeSet<String> =
        json["new"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(listed, new);
    assert_eq!(json["resolved"], serde_json::json!([]));
    let same = driftwatch().arg("diff").arg(&second).arg(&second).assert().code(0).get_output().stdout.clone();
    assert!(String::from_utf8(same).unwrap().contains("0 new, 0 resolved, 0 changed"));
    driftwatch().arg("diff").arg(&first).arg(temp.path().join("missing")).assert().code(2);
    // Two audits pseudonymised with different keys: said, since no finding about agents can match.
    let other_key = temp.path().join("other.key");
    std::fs::write(&other_key, "another key, another month, another folder of audits\n").unwrap();
    let third = temp.path().join("c");
    audit(&third, &["--to", "2022-03-01", "--key-file", other_key.to_str().unwrap()]);
    let warned = driftwatch().arg("diff").arg(&first).arg(&third).assert().code(1).get_output().stderr.clone();
    let warned = String::from_utf8(warned).unwrap();
    assert!(warned.contains("different keys") && warned.contains("cannot match"), "{warned}");
}

/// The monthly example runs as documented: three month-end audits, each against the previous,
/// with the triage file it writes; the last one marks every finding and applies the decisions.
#[test]
fn the_monthly_example_runs() {
    let temp = tempfile::tempdir().unwrap();
    let output = std::process::Command::new("sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("examples/monthly/run.sh")
        .arg(temp.path())
        .env("DRIFTWATCH", assert_cmd::cargo::cargo_bin("driftwatch"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{said}{}", String::from_utf8_lossy(&output.stderr));
    assert!(said.contains("2021-11: exit 0") && said.contains("compared with"), "{said}");
    let last = findings(&temp.path().join("audits/2021-11"));
    assert!(last.iter().all(|f| f["status"] == "new" || f["status"] == "ongoing"));
    assert_eq!(last.iter().filter(|f| f["triage"]["decision"] == "accepted").count(), 1);
    assert_eq!(last.iter().filter(|f| f["triage"]["decision"] == "investigating").count(), 1);
}

/// A sealed log exported under a new name each month (a longer cut): its integrity finding
/// keeps its id (the kind of problem and the event where it starts, not the file's path).
#[test]
fn a_log_exported_under_another_name_keeps_its_integrity_findings() {
    let temp = tempfile::tempdir().unwrap();
    let sealed = temp.path().join("sealed.csv");
    driftwatch()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["seal", "--events", "sample-data/events/sipsi-cip.csv", "--out"])
        .arg(&sealed)
        .assert()
        .success();
    let text = std::fs::read_to_string(&sealed).unwrap();
    let mut ids = Vec::new();
    for (month, rows) in [("2021-10", 400), ("2021-11", 800)] {
        let folder = temp.path().join(month);
        std::fs::create_dir(&folder).unwrap();
        let cut: String = text.lines().take(rows + 1).map(|line| format!("{line}\n")).collect();
        std::fs::write(folder.join(format!("sipsi-export-{month}.csv")), cut).unwrap();
        let out = temp.path().join(format!("audit-{month}"));
        driftwatch()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["audit", "--quiet", "--reveal-identities", "--format", "json", "--register", "sample-data/register"])
            .arg("--events")
            .arg(&folder)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(0);
        let integrity: Vec<String> = findings(&out)
            .iter()
            .filter(|f| f["detector"] == "integrity")
            .map(|f| format!("{} {}", f["id"].as_str().unwrap(), f["details"]["reason"].as_str().unwrap()))
            .collect();
        ids.push(integrity);
    }
    assert!(!ids[0].is_empty(), "a cut of a few weeks is short coverage");
    assert_eq!(ids[0], ids[1]);
}
