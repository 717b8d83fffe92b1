//! One test for every detector: it loops over `detect::all()`, so a new detector gets these checks
//! without writing them. On the shipped sample data (plus two rows given twice, so that the
//! integrity detector has something to say), for each detector:
//! - it has findings here (else the checks below would say nothing: extend the sample);
//! - its findings are sorted, their ids unique, and the same whatever the chunk size;
//! - every finding has a sentence and a rule in English and in French, the French its own;
//! - every piece of evidence names an event id of the input;
//! - pseudonymised, no agent id of the input appears anywhere in a finding.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use clap::Parser;
use driftwatch::finding::Finding;
use driftwatch::report::i18n::Lang;
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
        for finding in &findings {
            let id = &finding.id;
            let english = sentences::summary(Lang::En, finding);
            let french = sentences::summary(Lang::Fr, finding);
            assert!(!english.is_empty() && !french.is_empty(), "{name} {id}: a sentence is missing");
            assert_ne!(english, french, "{name} {id}: the French sentence is the English one");
            let (rule_en, rule_fr) = (sentences::rule(Lang::En, finding), sentences::rule(Lang::Fr, finding));
            assert!(!rule_en.is_empty() && !rule_fr.is_empty(), "{name} {id}: a rule is missing");
            assert_ne!(rule_en, rule_fr, "{name} {id}: the French rule is the English one");
            for evidence in &finding.evidence {
                assert!(event_ids.contains(evidence), "{name} {id}: evidence `{evidence}` is no event of the input");
            }
            let mut texts = Vec::new();
            strings(&serde_json::to_value(finding).unwrap(), &mut texts);
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
