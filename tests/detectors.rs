//! One test for every detector: it loops over `detect::all()`, so a new detector gets these checks
//! without writing them. On the shipped sample data (plus two rows given twice, so that the
//! integrity detector has something to say), for each detector:
//! - it has findings here (else the checks below would say nothing: extend the sample);
//! - its findings are sorted, their ids unique, and the same whatever the chunk size;
//! - it has a name in words, and every finding a sentence, a rule and what would explain it away
//!   in English and in French, the French its own;
//! - every piece of evidence names an event id of the input;
//! - pseudonymised, no agent id of the input appears anywhere in a finding.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use clap::Parser;
use driftwatch::finding::Finding;
use driftwatch::report::i18n::Lang;
use driftwatch::report::record::Record;
use driftwatch::report::sentences;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data")
}

/// An in-process audit of the sample and `extra`, with extra command-line options.
fn audit(out: &Path, extra_events: &Path, options: &[&str]) -> Vec<Finding> {
    let sample = sample();
    let mut args: Vec<std::ffi::OsString> =
        ["driftwatch", "audit", "--quiet", "--fail-on", "never"].map(Into::into).into();
    for (flag, path) in [
        ("--events", sample.join("events")),
        ("--events", extra_events.to_path_buf()),
        ("--register", sample.join("register")),
        ("--habilitations", sample.join("habilitations.csv")),
        ("--key-file", sample.join("demo-pseudonymisation-key.txt")),
        ("--out", out.to_path_buf()),
    ] {
        args.push(flag.into());
        args.push(path.into());
    }
    args.extend(options.iter().map(Into::into));
    let cli = driftwatch::cli::Cli::try_parse_from(args).unwrap();
    let driftwatch::cli::Command::Audit(args) = cli.command else { unreachable!("an audit command line") };
    let config = driftwatch::commands::audit::config(&args).unwrap();
    driftwatch::pipeline::audit(&config).unwrap().findings
}

/// The first column (`event_id`) and the agents of every sample events file: actors (service
/// accounts aside: roles `batch` or `service` keep their names, by design) and target agents.
fn input_ids(files: &[PathBuf]) -> (HashSet<String>, BTreeSet<String>) {
    let (mut events, mut agents) = (HashSet::new(), BTreeSet::new());
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let column = |name: &str| header.iter().position(|h| *h == name);
        let (actor, role, target) =
            (column("actor_id").unwrap(), column("actor_role").unwrap(), column("target_agent"));
        for line in lines {
            let fields: Vec<&str> = line.split(',').collect();
            events.insert(fields[0].to_string());
            if !matches!(fields[role], "batch" | "service") {
                agents.insert(fields[actor].to_string());
            }
            if let Some(value) = target.and_then(|t| fields.get(t)).filter(|v| !v.is_empty()) {
                agents.insert(value.to_string());
            }
        }
    }
    (events, agents)
}

/// Every string inside a JSON value.
fn strings(value: &serde_json::Value, into: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => into.push(text.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|item| strings(item, into)),
        serde_json::Value::Object(map) => map.iter().for_each(|(key, item)| {
            into.push(key.clone());
            strings(item, into)
        }),
        _ => {}
    }
}

#[test]
fn every_detector_meets_the_shared_checks() {
    let temp = tempfile::tempdir().unwrap();
    // Two rows of the sample given again, in a file of their own: duplicate event ids.
    let sipsi = sample().join("events").join("sipsi-cip.csv");
    let twice = temp.path().join("given-twice.csv");
    let text = std::fs::read_to_string(&sipsi).unwrap();
    std::fs::write(&twice, text.lines().take(3).collect::<Vec<_>>().join("\n") + "\n").unwrap();

    let pseudonymised = audit(&temp.path().join("a"), &twice, &[]);
    let small_chunks = audit(&temp.path().join("b"), &twice, &["--chunk-rows", "97"]);
    let revealed = audit(&temp.path().join("c"), &twice, &["--reveal-identities"]);

    let mut files: Vec<PathBuf> =
        std::fs::read_dir(sample().join("events")).unwrap().map(|e| e.unwrap().path()).collect();
    files.push(twice);
    let (event_ids, agent_ids) = input_ids(&files);

    let mut sorted = pseudonymised.clone();
    driftwatch::finding::sort(&mut sorted);
    assert!(sorted == pseudonymised, "findings are not in their sorted order");
    assert!(small_chunks == pseudonymised, "97-row chunks changed the findings");
    let ids: HashSet<&str> = pseudonymised.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids.len(), pseudonymised.len(), "finding ids are not unique");
    assert_eq!(revealed.len(), pseudonymised.len(), "pseudonymisation changed the number of findings");

    for detector in driftwatch::detect::all() {
        let name = detector.name();
        let findings: Vec<&Finding> = pseudonymised.iter().filter(|f| f.detector == name).collect();
        assert!(!findings.is_empty(), "{name}: no finding on the sample, so nothing is checked: extend the sample");
        for lang in [Lang::En, Lang::Fr] {
            let words = sentences::detector_name(lang, name);
            assert!(!matches!(words, "other finding" | "autre constat"), "{name}: no name in words ({lang:?})");
        }
        for finding in &findings {
            let id = &finding.id;
            let english = sentences::summary(Lang::En, finding);
            let french = sentences::summary(Lang::Fr, finding);
            assert!(!english.is_empty() && !french.is_empty(), "{name} {id}: a sentence is missing");
            assert_ne!(english, french, "{name} {id}: the French sentence is the English one");
            let (rule_en, rule_fr) = (sentences::rule(Lang::En, finding), sentences::rule(Lang::Fr, finding));
            assert!(!rule_en.is_empty() && !rule_fr.is_empty(), "{name} {id}: a rule is missing");
            assert_ne!(rule_en, rule_fr, "{name} {id}: the French rule is the English one");
            let (explained_en, explained_fr) =
                (sentences::explained_by(Lang::En, finding), sentences::explained_by(Lang::Fr, finding));
            assert_ne!(explained_en, explained_fr, "{name} {id}: what would explain it away is not in French");
            assert!(
                !explained_en.starts_with("the register and the habilitations in force"),
                "{name} {id}: no words of its own for what would explain it away (report/sentences.rs)"
            );
            for evidence in &finding.evidence {
                assert!(event_ids.contains(evidence), "{name} {id}: evidence `{evidence}` is no event of the input");
            }
            let mut texts = Vec::new();
            strings(&serde_json::to_value(Record::of(finding)).unwrap(), &mut texts);
            texts.extend([sentences::summary(Lang::Fr, finding), sentences::rule(Lang::Fr, finding)]);
            for text in &texts {
                let tokens: Vec<&str> =
                    text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_' || c == '.')).collect();
                let leaked = agent_ids.iter().find(|agent| tokens.contains(&agent.as_str()));
                assert!(leaked.is_none(), "{name} {id}: raw agent id {leaked:?} in a pseudonymised finding: {text}");
            }
        }
    }
    // Revealed, the same findings name raw agent ids: the leak check above is not vacuous.
    assert!(
        revealed.iter().filter_map(|f| f.actor.as_ref()).any(|actor| agent_ids.contains(actor)),
        "no revealed finding names an agent of the input"
    );
}

/// English words a French report must not hold (the catalogue's and the sentences' own words;
/// none is also a French word).
const ENGLISH: &[&str] = &[
    "the",
    "and",
    "with",
    "was",
    "were",
    "is",
    "are",
    "than",
    "because",
    "which",
    "not",
    "of",
    "for",
    "to",
    "from",
    "by",
    "no",
    "only",
    "every",
    "has",
    "have",
    "its",
    "this",
    "that",
    "summary",
    "rows",
    "read",
    "used",
    "findings",
    "evidence",
    "severity",
    "declared",
    "rule",
    "events",
    "records",
    "undeclared",
    "recipient",
    "dataset",
    "seen",
    "grants",
    "window",
    "register",
    "quarantined",
    "transfers",
    "month",
    "weekday",
    "hour",
    "expected",
    "missed",
    "run",
    "runs",
    "slot",
    "slots",
    "reason",
    "score",
    "aside",
    "per",
    "day",
    "days",
    "week",
    "never",
    "reviewed",
    "since",
    "last",
    "new",
    "ongoing",
    "resolved",
    "escalated",
    "triaged",
    "expired",
    "accepted",
    "investigating",
    "until",
    "decided",
    "compared",
    "decisions",
];

/// The prose of a report: without markup, code, quoted values (« … »), register keys ([[…]]), the
/// register's own legal references (the controller's words) and words that are ids or paths.
fn prose(text: &str, quoted_by_register: &[String]) -> Vec<String> {
    let mut text = text.replace('\\', "");
    for (entity, character) in [("&#39;", "'"), ("&quot;", "\""), ("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&")] {
        text = text.replace(entity, character);
    }
    for cut in [("<script", "</script>"), ("<style", "</style>"), ("<", ">"), ("`", "`"), ("«", "»"), ("[[", "]]")] {
        while let Some(start) = text.find(cut.0) {
            let Some(length) = text[start + cut.0.len()..].find(cut.1) else { break };
            text.replace_range(start..start + cut.0.len() + length + cut.1.len(), " ");
        }
    }
    for quoted in quoted_by_register {
        text = text.replace(quoted.as_str(), " ");
    }
    text.split_whitespace()
        .filter(|word| !word.contains(|c: char| c.is_ascii_digit() || "/@._=".contains(c)))
        .flat_map(|word| {
            word.split(|c: char| !c.is_alphabetic() && c != '\'').map(str::to_lowercase).collect::<Vec<_>>()
        })
        .filter(|word| !word.is_empty())
        .collect()
}

/// The French report speaks French: no English word of the catalogue or of the sentences in its
/// prose (register texts, ids and file names are the inputs' own and stay as written).
#[test]
fn the_french_report_leaks_no_english() {
    let temp = tempfile::tempdir().unwrap();
    let empty = temp.path().join("none.csv");
    let sipsi = sample().join("events").join("sipsi-cip.csv");
    std::fs::write(&empty, std::fs::read_to_string(&sipsi).unwrap().lines().next().unwrap().to_string() + "\n")
        .unwrap();
    let out = temp.path().join("fr");
    // Against an audit of the whole year (what ended before March is resolved), with decisions
    // (one applied, one expired, one about no finding): every month-after-month section shows.
    let year = temp.path().join("year");
    let whole_year = audit(&year, &empty, &["--format", "json"]);
    let triage = temp.path().join("triage.toml");
    let entry = |id: &str, decision: &str, until: &str| {
        format!(
            "[[finding]]\nid = \"{id}\"\ndecision = \"{decision}\"\nreason = \"vu\"\nby = \"dpd\"\ndate = 2022-09-01\n{until}\n"
        )
    };
    let triage_text = entry(&whole_year[0].id, "accepted", "")
        + &entry(&whole_year[1].id, "false_positive", "until = 2022-09-30")
        + &entry("DW-000000000000", "investigating", "");
    std::fs::write(&triage, triage_text).unwrap();
    let (baseline, triage) = (year.to_str().unwrap(), triage.to_str().unwrap());
    let since = ["--from", "2022-03-01", "--baseline", baseline, "--triage", triage, "--as-of", "2022-10-01"];
    audit(&out, &empty, &[&["--lang", "fr", "--format", "md,html"][..], &since[..]].concat());
    let markdown = std::fs::read_to_string(out.join("report.md")).unwrap();
    for section in [
        "## Depuis le dernier audit",
        "### résolus (",
        "## Constats examinés",
        "Décisions échues",
        "Décisions sans constat",
    ] {
        assert!(markdown.contains(section), "{section} missing from the French report");
    }
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for section in ["<section id=since><h2>Depuis le dernier audit", "<section id=triage><h2>Constats examinés"] {
        assert!(html.contains(section), "{section} missing from the French HTML report");
    }
    let mut quoted_by_register = Vec::new();
    for entry in std::fs::read_dir(sample().join("register")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in text.lines().filter(|l| l.trim_start().starts_with("legal_ref")) {
            if let Some(value) = line.split('"').nth(1) {
                quoted_by_register.push(value.to_string());
            }
        }
    }
    for report in ["report.md", "report.html"] {
        let text = std::fs::read_to_string(out.join(report)).unwrap();
        let words = prose(&text, &quoted_by_register);
        assert!(words.len() > 500, "{report}: too little prose to judge ({} words)", words.len());
        let leaked: BTreeSet<&str> = words.iter().map(String::as_str).filter(|word| ENGLISH.contains(word)).collect();
        assert!(leaked.is_empty(), "{report}: English words in the French report: {leaked:?}");
    }
}
