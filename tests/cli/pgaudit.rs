//! pgAudit logs end to end: the committed csvlog a real PostgreSQL 15 + pgAudit wrote
//! (`tests/pgaudit/workload.sh`), and — where PostgreSQL and pgAudit are installed — a fresh
//! throwaway cluster running the same workload. Both must give exactly the planted findings.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{TEST_KEY, driftwatch, read_json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (detector, severity, dataset, recipient, actor, categories, events) of every finding.
type Planted = (String, String, String, String, String, Vec<String>, u64);

fn audit_pgaudit_log(log: &Path, out: &Path) -> (Vec<Planted>, Value) {
    audit_with_map(log, "wikit-pgaudit.toml", out)
}

fn audit_with_map(log: &Path, map: &str, out: &Path) -> (Vec<Planted>, Value) {
    let example = root().join("examples").join("pgaudit");
    driftwatch()
        .env("DRIFTWATCH_KEY", TEST_KEY)
        .args(["audit", "--fail-on", "never", "--reveal-identities", "--events"])
        .arg(log)
        .arg("--source-map")
        .arg(example.join(map))
        .arg("--register")
        .arg(example.join("wikit-register.toml"))
        .arg("--habilitations")
        .arg(example.join("habilitations.csv"))
        .arg("--out")
        .arg(out)
        .assert()
        .code(0);
    let findings = read_json(&out.join("findings.json"));
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    let mut planted: Vec<Planted> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let categories = f["categories"].as_array().unwrap().iter().map(text).collect();
            (
                text(&f["detector"]),
                text(&f["severity"]),
                text(&f["dataset"]),
                text(&f["recipient"]),
                text(&f["actor"]),
                categories,
                f["events"].as_u64().unwrap(),
            )
        })
        .collect();
    planted.sort();
    (planted, findings)
}

/// One expected finding: detector, severity, dataset, recipient, actor, categories, events.
fn row(d: &str, s: &str, ds: &str, r: &str, a: &str, c: &[&str], e: u64) -> Planted {
    (d.into(), s.into(), ds.into(), r.into(), a.into(), c.iter().map(|c| c.to_string()).collect(), e)
}

fn expected() -> Vec<Planted> {
    let mut rows = vec![
        // The ID-document column, added by a migration, then filled and read: 3 events.
        row("category_creep", "medium", "youth_files", "", "", &["id_document_number"], 3),
        // A supervisor reading one agent's figures, and ranking the agents.
        row("individual_monitoring", "low", "activity_reports", "", "rud01", &[], 2),
        // A revoked account still reading follow-ups.
        row("outside_habilitation", "high", "follow_ups", "", "ag09", &[], 1),
        // The COPY to the work-permit platforms, which no purpose declares.
        row("undeclared_recipient", "high", "follow_ups", "moe_platforms", "", &[], 1),
    ];
    rows.sort();
    rows
}

fn assert_planted(findings: &[Planted], whole: &Value) {
    assert_eq!(findings, expected().as_slice(), "{}", serde_json::to_string_pretty(&whole["findings"]).unwrap());
    let input = &whole["inputs"][0];
    assert_eq!(input["rows_quarantined"], 0);
    assert_eq!(input["rows_read"], 14, "one event per audited statement");
    assert!(input["records_skipped"].as_u64().unwrap() >= 5, "the server's other messages are skipped, not rows");
}

#[test]
fn a_real_pgaudit_csvlog_gives_exactly_the_planted_findings() {
    let temp = tempfile::tempdir().unwrap();
    let (findings, whole) = audit_pgaudit_log(&root().join("tests/pgaudit/postgresql.csv"), &temp.path().join("out"));
    assert_planted(&findings, &whole);
}

/// Runs `workload.sh` (with `weeks` of schedules under libfaketime when > 0) on a throwaway
/// cluster and returns its log; `None` (said loudly) where PostgreSQL, pgAudit or faketime
/// is not installed.
fn live_log(temp: &Path, weeks: u32) -> Option<PathBuf> {
    live_workload(temp, weeks, false)
}

/// `live_log`, with the people behind an application pool when `pooled` (POOLED=1).
fn live_workload(temp: &Path, weeks: u32, pooled: bool) -> Option<PathBuf> {
    let bin = Path::new("/usr/lib/postgresql/15/bin");
    let pgaudit = Path::new("/usr/lib/postgresql/15/lib/pgaudit.so");
    if !bin.join("initdb").is_file() || !pgaudit.is_file() {
        eprintln!(
            "SKIPPED: PostgreSQL 15 with pgAudit is not installed (apt-get install postgresql-15 postgresql-15-pgaudit)"
        );
        return None;
    }
    let faketime = glob::glob("/usr/lib/*/faketime/libfaketime.so.1").ok().and_then(|mut found| found.next());
    if weeks > 0 && faketime.is_none() {
        eprintln!("SKIPPED: libfaketime is not installed (apt-get install faketime)");
        return None;
    }
    // The server runs as `postgres`, which must reach the cluster's directory.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(temp, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cluster = temp.join("cluster");
    let output = std::process::Command::new("bash")
        .arg(root().join("tests/pgaudit/workload.sh"))
        .arg(&cluster)
        .env("WEEKS", weeks.to_string())
        .env("POOLED", if pooled { "1" } else { "0" })
        .output()
        .unwrap();
    assert!(output.status.success(), "workload: {}", String::from_utf8_lossy(&output.stderr));
    Some(cluster.join("postgresql.csv"))
}

/// Thirty weeks logged by a server whose clock libfaketime moves: the weekly COPY to the
/// work-permit platforms (Tuesdays about 06:00 UTC, one week in five skipped) is a periodic
/// transfer; the declared nightly statistics feed is not flagged at all.
#[test]
fn a_weekly_copy_logged_by_a_real_server_over_months_is_a_periodic_transfer() {
    let temp = tempfile::tempdir().unwrap();
    let Some(log) = live_log(temp.path(), 30) else { return };
    let (findings, whole) = audit_pgaudit_log(&log, &temp.path().join("out"));
    let mut expected = vec![
        row("category_creep", "medium", "youth_files", "", "", &["id_document_number"], 3),
        row("individual_monitoring", "low", "activity_reports", "", "rud01", &[], 2),
        // 24 weekly runs and the workload's own COPY; ag09 was not revoked yet in 2022.
        row("periodic_transfer", "high", "follow_ups", "moe_platforms", "", &[], 25),
        row("undeclared_recipient", "high", "follow_ups", "moe_platforms", "", &[], 25),
    ];
    expected.sort();
    assert_eq!(findings, expected, "{}", serde_json::to_string_pretty(&whole["findings"]).unwrap());
    let periodic = whole["findings"].as_array().unwrap().iter().find(|f| f["detector"] == "periodic_transfer").unwrap();
    assert_eq!(periodic["period_days"], 7.0);
}

/// Where PostgreSQL 15 and pgAudit are installed (Debian's postgresql-15, postgresql-15-pgaudit;
/// `.ci/run` installs them), a throwaway cluster runs the workload and its log is audited.
#[test]
fn a_live_postgresql_with_pgaudit_gives_exactly_the_planted_findings() {
    let temp = tempfile::tempdir().unwrap();
    let Some(log) = live_log(temp.path(), 0) else { return };
    let (findings, whole) = audit_pgaudit_log(&log, &temp.path().join("out"));
    assert_planted(&findings, &whole);
}

/// The same workload with the people behind an application pool that names each of them in
/// `app.end_user` (`[actors] from = "app.end_user"`): the same findings, the same 14 events, the
/// `set_config` statements counted as skipped context, and the pool account kept beside each
/// event as `database_user`.
#[test]
fn a_pooled_application_naming_its_users_in_a_setting_gives_the_same_findings() {
    let temp = tempfile::tempdir().unwrap();
    let Some(log) = live_workload(temp.path(), 0, true) else { return };
    let (findings, whole) = audit_with_map(&log, "wikit-pgaudit-pooled.toml", &temp.path().join("out"));
    assert_planted(&findings, &whole);
    // map check shows the user the pool named beside the pool account itself.
    let output = driftwatch()
        .args(["map", "check", "--rows", "40", "--events"])
        .arg(&log)
        .arg("--source-map")
        .arg(root().join("examples/pgaudit/wikit-pgaudit-pooled.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("actor_id=rud01") && text.contains("database_user=app_pool"), "{text}");
}

#[test]
fn map_check_shows_the_sql_beside_each_event() {
    let example = root().join("examples").join("pgaudit");
    let output = driftwatch()
        .args(["map", "check", "--rows", "40", "--events"])
        .arg(root().join("tests/pgaudit/postgresql.csv"))
        .arg("--source-map")
        .arg(example.join("wikit-pgaudit.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("action=export dataset=follow_ups categories=[identity.name, nationality, penal_follow_up] recipient=moe_platforms"), "{text}");
    assert!(text.contains("report_kind=ranking"), "{text}");
    assert!(text.contains("target_agent=ag02"), "{text}");
    assert!(text.contains("sql=copy (select nom_salarie, nationalite, decision from suites) to stdout;"), "{text}");
}
