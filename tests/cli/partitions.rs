//! Past one machine (issue 21): `scan` one partition → a state; `merge` states → the outputs of
//! one audit; `audit --state-in/--state-out` month after month without re-reading. Checked byte
//! for byte against one `audit` of the whole sample.

use std::path::{Path, PathBuf};

use super::driftwatch;

const KEY: &str = "sample-data/demo-pseudonymisation-key.txt";
const JUDGED_BY: [&str; 4] = ["--register", "sample-data/register", "--habilitations", "sample-data/habilitations.csv"];

fn run(args: &[&str], paths: &[&Path]) -> std::process::Output {
    let mut command = driftwatch();
    command.current_dir(env!("CARGO_MANIFEST_DIR")).env_remove("DRIFTWATCH_KEY").args(args);
    for path in paths {
        command.arg(path);
    }
    command.output().expect("runs")
}

/// The sample's files in two partitions (two folders), as a data lake holds them.
fn two_partitions(root: &Path) -> (PathBuf, PathBuf) {
    let (first, second) = (root.join("part=1"), root.join("part=2"));
    for (folder, files) in [
        (&first, &["imilo-id-numbers.csv", "sipsi-cip.csv"][..]),
        (&second, &["social-files.csv", "wikit-monitoring.csv", "wikit-transfers.csv"][..]),
    ] {
        std::fs::create_dir_all(folder).unwrap();
        for file in files {
            let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/events").join(file);
            std::fs::copy(from, folder.join(file)).unwrap();
        }
    }
    (first, second)
}

fn same_outputs(a: &Path, b: &Path) {
    for file in [
        "findings.json",
        "findings.csv",
        "findings.parquet",
        "findings.xlsx",
        "report.md",
        "report.html",
        "quarantine.csv",
    ] {
        assert!(std::fs::read(a.join(file)).unwrap() == std::fs::read(b.join(file)).unwrap(), "{file} differs");
    }
}

#[test]
fn partitions_scanned_apart_and_merged_give_the_audit_byte_for_byte() {
    let temp = tempfile::tempdir().unwrap();
    let (first, second) = two_partitions(temp.path());
    let whole = temp.path().join("whole");
    let audit = [&["audit", "--quiet", "--key-file", KEY][..], &JUDGED_BY[..]].concat();
    let output = run(&[&audit[..], &["--events"]].concat(), &[&first, &second, Path::new("--out"), &whole]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let scan = [&["scan", "--quiet"][..], &JUDGED_BY[..]].concat();
    for (partition, state) in [(&first, "1.dwstate"), (&second, "2.dwstate")] {
        let output =
            run(&[&scan[..], &["--events"]].concat(), &[partition, Path::new("--state-out"), &temp.path().join(state)]);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    }
    assert!(
        !temp.path().join("reports").exists()
            && !Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/.driftwatch-key").exists()
    );
    // Merged in the other order: the order of the partitions does not matter.
    let merged = temp.path().join("merged");
    let states = [temp.path().join("2.dwstate"), temp.path().join("1.dwstate")];
    let output = run(
        &["merge", "--quiet", "--key-file", KEY, "--state"],
        &[&states[0], &states[1], Path::new("--out"), &merged],
    );
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    same_outputs(&whole, &merged);
    let manifest = super::read_json(&merged.join("manifest.json"));
    assert_eq!(manifest["inputs"].as_array().unwrap().len(), 5, "the manifest lists every partition's inputs");
    assert!(
        manifest["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|input| input["sha256"].as_str().is_some_and(|s| s.len() == 64))
    );
}

/// `merge` compares with the previous audit as `audit` does: against itself every finding is
/// ongoing, nothing is new, `--fail-on-new high` exits 0; a triage file is applied and the
/// signed manifest checks.
#[test]
fn a_merge_follows_up_on_the_previous_audit() {
    let temp = tempfile::tempdir().unwrap();
    let (first, second) = two_partitions(temp.path());
    let scan = [&["scan", "--quiet"][..], &JUDGED_BY[..], &["--as-of", "2022-09-01"]].concat();
    let states = [temp.path().join("1.dwstate"), temp.path().join("2.dwstate")];
    for (partition, state) in [(&first, &states[0]), (&second, &states[1])] {
        run(&[&scan[..], &["--events"]].concat(), &[partition, Path::new("--state-out"), state]);
    }
    let merge = ["merge", "--quiet", "--format", "json,md,xlsx", "--key-file", KEY, "--state"];
    let (month, next) = (temp.path().join("month"), temp.path().join("next"));
    let output = run(&merge, &[&states[0], &states[1], Path::new("--out"), &month]);
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let findings = super::read_json(&month.join("findings.json"));
    let high = findings["findings"].as_array().unwrap().iter().find(|f| f["severity"] == "high").unwrap();
    let triage = temp.path().join("triage.toml");
    std::fs::write(
        &triage,
        format!(
            "[[finding]]\nid = \"{}\"\ndecision = \"accepted\"\nreason = \"known\"\nby = \"DPO\"\ndate = 2022-08-01\nuntil = 2022-12-31\n",
            high["id"].as_str().unwrap()
        ),
    )
    .unwrap();
    let keys = temp.path().join("keys");
    run(&["keygen", "--out"], &[&keys]);
    let output = run(
        &merge,
        &[
            &states[1],
            &states[0],
            Path::new("--out"),
            &next,
            Path::new("--baseline"),
            &month,
            Path::new("--triage"),
            &triage,
            Path::new("--fail-on-new"),
            Path::new("high"),
            Path::new("--sign-key"),
            &keys.join("driftwatch-signing.key"),
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let followed = super::read_json(&next.join("findings.json"));
    let listed = followed["findings"].as_array().unwrap();
    assert_eq!(listed.len(), findings["findings"].as_array().unwrap().len());
    assert!(listed.iter().all(|f| f["status"] == "ongoing"), "against itself, every finding is ongoing");
    let accepted = listed.iter().find(|f| f["id"] == high["id"]).unwrap();
    assert_eq!(accepted["triage"]["decision"], "accepted");
    // The workbook carries the same follow-up columns, filled in.
    let mut workbook = zip::ZipArchive::new(std::fs::File::open(next.join("findings.xlsx")).unwrap()).unwrap();
    let mut strings = String::new();
    std::io::Read::read_to_string(&mut workbook.by_name("xl/sharedStrings.xml").unwrap(), &mut strings).unwrap();
    for text in ["status", "triage", "triage_reason", "ongoing", "accepted", "known"] {
        assert!(strings.contains(&format!(">{text}<")), "findings.xlsx has no cell `{text}`");
    }
    let manifest = super::read_json(&next.join("manifest.json"));
    assert!(manifest["baseline"]["manifest_sha256"].as_str().is_some_and(|s| s.len() == 64), "{manifest}");
    let output = run(&["check-bundle"], &[&next, Path::new("--public-key"), &keys.join("driftwatch-signing.pub")]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn states_from_other_parameters_or_altered_refuse_to_merge() {
    let temp = tempfile::tempdir().unwrap();
    let (first, second) = two_partitions(temp.path());
    let scan = [&["scan", "--quiet"][..], &JUDGED_BY[..]].concat();
    let (one, two) = (temp.path().join("1.dwstate"), temp.path().join("2.dwstate"));
    run(&[&scan[..], &["--events"]].concat(), &[&first, Path::new("--state-out"), &one]);
    run(&[&scan[..], &["--review-days", "100", "--events"]].concat(), &[&second, Path::new("--state-out"), &two]);
    let output = run(&["merge", "--quiet", "--state"], &[&one, &two, Path::new("--out"), &temp.path().join("o")]);
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("2.dwstate") && message.contains("cannot merge") && message.contains("review_days"),
        "{message}"
    );

    // One byte changed inside the compressed text: the checksum says so.
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(&one).unwrap()), &mut text)
        .unwrap();
    let altered = text.replacen("\"events_judged\":", "\"events_judged\":1", 1);
    let mut gzip = flate2::write::GzEncoder::new(std::fs::File::create(&two).unwrap(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gzip, altered.as_bytes()).unwrap();
    gzip.finish().unwrap();
    let output = run(&["merge", "--quiet", "--state"], &[&two, Path::new("--out"), &temp.path().join("o")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("checksum"));
}

/// Six months, each audited with last month's state and only its own files: the sixth month's
/// findings and report are those of one audit of the six months.
#[test]
fn month_after_month_from_the_last_state_without_rereading() {
    let temp = tempfile::tempdir().unwrap();
    let months = ["2021-09", "2021-10", "2021-11", "2021-12", "2022-01", "2022-02"];
    let mut folders = Vec::new();
    for file in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/events")).unwrap() {
        let path = file.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let ts = header.split(',').position(|c| c == "ts").unwrap();
        for month in months {
            let rows: Vec<&str> =
                text.lines().skip(1).filter(|l| l.split(',').nth(ts).is_some_and(|t| t.starts_with(month))).collect();
            let folder = temp.path().join(format!("month={month}"));
            std::fs::create_dir_all(&folder).unwrap();
            let name = format!("{}-{month}.csv", path.file_stem().unwrap().to_string_lossy());
            std::fs::write(folder.join(name), format!("{header}\n{}\n", rows.join("\n"))).unwrap();
        }
    }
    let common = [&["audit", "--quiet", "--key-file", KEY, "--format", "json,md"][..], &JUDGED_BY[..]].concat();
    let mut previous: Option<PathBuf> = None;
    for month in months {
        let folder = temp.path().join(format!("month={month}"));
        folders.push(folder.clone());
        let state = temp.path().join(format!("{month}.dwstate"));
        let out = temp.path().join(format!("audit-{month}"));
        let mut paths: Vec<&Path> = vec![&folder, Path::new("--out"), &out, Path::new("--state-out"), &state];
        if let Some(previous) = &previous {
            paths.extend([Path::new("--state-in"), previous.as_path()]);
        }
        let output = run(&[&common[..], &["--events"]].concat(), &paths);
        assert_ne!(output.status.code(), Some(2), "{month}: {}", String::from_utf8_lossy(&output.stderr));
        previous = Some(state);
    }
    let whole = temp.path().join("whole");
    let mut paths: Vec<&Path> = folders.iter().map(PathBuf::as_path).collect();
    paths.extend([Path::new("--out"), whole.as_path()]);
    run(&[&common[..], &["--events"]].concat(), &paths);
    let last = temp.path().join("audit-2022-02");
    for file in ["findings.json", "report.md"] {
        assert!(std::fs::read(whole.join(file)).unwrap() == std::fs::read(last.join(file)).unwrap(), "{file} differs");
    }
}

/// The text of a state file (gzip: a header line, then the JSON body).
fn state_text(path: &Path) -> String {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()), &mut text)
        .unwrap();
    text
}

/// A month exported twice, into two partitions: each partition alone has no repeated id, the
/// merge finds every one of them repeated — as one audit of both partitions does — and each
/// state holds its numbered ids as one range, not one entry an event.
#[test]
fn events_repeated_across_partitions_are_found_by_the_merge() {
    let temp = tempfile::tempdir().unwrap();
    let sipsi = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/events/sipsi-cip.csv");
    let rows = std::fs::read_to_string(&sipsi).unwrap().lines().count() - 1;
    let (first, second) = (temp.path().join("part=1"), temp.path().join("part=2"));
    for (folder, name) in [(&first, "sipsi-cip.csv"), (&second, "sipsi-cip-exported-again.csv")] {
        std::fs::create_dir_all(folder).unwrap();
        std::fs::copy(&sipsi, folder.join(name)).unwrap();
    }
    let common = [&["--quiet", "--format", "json"][..], &JUDGED_BY[..]].concat();
    let scan = [&["scan"][..], &common[..], &["--events"]].concat();
    let states = [temp.path().join("1.dwstate"), temp.path().join("2.dwstate")];
    for (partition, state) in [(&first, &states[0]), (&second, &states[1])] {
        let output = run(&scan, &[partition, Path::new("--state-out"), state]);
        assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
        let text = state_text(state);
        let ranges = format!(r#""event_ids":[[0,"sip-",9,[[1,{rows},false]]]]"#);
        assert!(text.contains(&ranges), "{} is not one range: {}", state.display(), &text[..text.len().min(2000)]);
    }
    let (merged, whole) = (temp.path().join("merged"), temp.path().join("whole"));
    let output = run(
        &["merge", "--quiet", "--key-file", KEY, "--state"],
        &[&states[0], &states[1], Path::new("--out"), &merged],
    );
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    let audit = [&["audit", "--key-file", KEY][..], &common[..], &["--events"]].concat();
    run(&audit, &[&first, &second, Path::new("--out"), &whole]);
    let findings = super::read_json(&merged.join("findings.json"));
    let repeated: Vec<&serde_json::Value> = findings["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["detector"] == "integrity" && f["details"]["reason"] == "duplicate_event_id")
        .collect();
    assert_eq!(repeated.len(), 1, "one finding for the repeated ids");
    assert_eq!(repeated[0]["events"], rows as u64);
    assert_eq!(repeated[0]["evidence"][0], "sip-000000001");
    assert_eq!(findings["findings"], super::read_json(&whole.join("findings.json"))["findings"]);
}

/// A Python that can `import distributed` (Dask): `$PYTHON`, else each `python3` on the PATH in
/// turn (a pyenv shim may come before the system's, which Debian's python3-distributed serves).
fn python_with_dask() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).map(|dir| dir.join("python3")).collect::<Vec<_>>())
        .unwrap_or_default();
    std::env::var_os("PYTHON").map(PathBuf::from).into_iter().chain(on_path).find(|python| {
        std::process::Command::new(python)
            .args(["-c", "import distributed"])
            .output()
            .is_ok_and(|output| output.status.success())
    })
}

/// examples/distributed: the sample as twelve `month=` partitions on a local Dask cluster of
/// two workers (one scan task per partition, one merge) writes the bytes one audit writes.
#[test]
fn a_local_dask_cluster_writes_what_one_audit_writes() {
    let Some(python) = python_with_dask() else {
        eprintln!("SKIPPED: no Python with Dask distributed here (Debian: apt-get install python3-distributed)");
        return;
    };
    let output = std::process::Command::new("sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("examples/distributed/test_local_cluster.sh")
        .env("DRIFTWATCH", assert_cmd::cargo::cargo_bin("driftwatch"))
        .env("PYTHON", python)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{said}{}", String::from_utf8_lossy(&output.stderr));
    assert!(said.contains("the Dask run and one audit wrote the same bytes (12 partitions)"), "{said}");
}
