//! `undeclared_recipient`: data transferred or exported to a recipient that the register version
//! in force does not declare for that dataset.
//!
//! Rule relied on: the `[[recipient]]` entries of the version in force (recipient id + datasets).
//! Legal basis: the processing's own `legal_ref` (the authorisation lists its recipients; e.g.
//! the CNIL deliberation of 2015-10-06 on Wiki'T limits them to the labour-inspection system).
//! One finding per (recipient, dataset), severity high: personal data left the system for an
//! organisation nobody declared.

use polars::prelude::*;

use super::{Context, Detector, distinct, keep_matching, list_words, summarise};
use crate::error::Result;
use crate::event::{self, DATASET, RECIPIENT};
use crate::finding::{Finding, FindingDraft, Severity};
use crate::register::versions::REGISTER_VERSION;

pub struct UndeclaredRecipient;

const KEYS: [&str; 3] = [REGISTER_VERSION, RECIPIENT, DATASET];

impl Detector for UndeclaredRecipient {
    fn name(&self) -> &'static str {
        "undeclared_recipient"
    }

    fn run(&self, context: &Context) -> Result<Vec<Finding>> {
        let outbound = context.events().filter(event::is_outbound().and(col(REGISTER_VERSION).is_not_null()));
        let undeclared = undeclared_flows(context, distinct(outbound.clone(), &KEYS)?)?;
        if undeclared.height() == 0 {
            return Ok(Vec::new());
        }
        let groups = summarise(keep_matching(outbound, undeclared, &KEYS), &[RECIPIENT, DATASET])?;
        Ok(groups
            .into_iter()
            .map(|group| {
                let recipient = group.keys[0].clone().unwrap_or_default();
                let dataset = group.keys[1].clone().unwrap_or_default();
                let latest = context.register.get(*group.versions.last().expect("judged events"));
                let declared_for: Vec<String> = latest
                    .doc
                    .recipients
                    .iter()
                    .filter(|r| r.id == recipient)
                    .flat_map(|r| r.datasets.clone())
                    .collect();
                let rule = if declared_for.is_empty() {
                    format!("no [[recipient]] entry of \"{}\" declares \"{recipient}\"", latest.processing())
                } else {
                    format!(
                        "[[recipient]] \"{recipient}\" is declared for {} only, not for \"{dataset}\"",
                        list_words(&declared_for)
                    )
                };
                let summary = format!(
                    "{} transfer(s) or export(s) of \"{dataset}\" to \"{recipient}\", which the register in force does not declare as a recipient of that dataset",
                    group.events
                );
                FindingDraft {
                    dataset: Some(dataset),
                    recipient: Some(recipient),
                    first_seen: Some(group.first_seen),
                    last_seen: Some(group.last_seen),
                    events: group.events,
                    records: group.records,
                    score: 1.0,
                    rule,
                    legal_ref: latest.legal_ref(),
                    register_versions: context.version_ids(&group.versions),
                    summary,
                    evidence: group.evidence,
                    ..Default::default()
                }
                .finish(self.name(), Severity::High, &[])
            })
            .collect())
    }
}

/// The (version, recipient, dataset) triples that the version does not declare.
fn undeclared_flows(context: &Context, flows: DataFrame) -> Result<DataFrame> {
    let versions = flows.column(REGISTER_VERSION).and_then(|c| c.i32()).expect("version column");
    let recipients = flows.column(RECIPIENT).and_then(|c| c.str()).expect("recipient column");
    let datasets = flows.column(DATASET).and_then(|c| c.str()).expect("dataset column");
    let mask: BooleanChunked = (0..flows.height())
        .map(|row| {
            let version = context.register.get(versions.get(row).expect("not null") as usize);
            let recipient = recipients.get(row).unwrap_or_default();
            let dataset = datasets.get(row).unwrap_or_default();
            version.recipient_entry(recipient, dataset).is_none()
        })
        .collect();
    Ok(flows.filter(&mask).expect("mask has the frame's height"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::*;

    #[test]
    fn each_event_is_judged_by_the_version_in_force() {
        let register = register(&[WIKIT_V1, WIKIT_V2]);
        let findings = run(
            &UndeclaredRecipient,
            &register,
            &[
                // before 2022-03-01 `moe` is undeclared (v1) ...
                "e1,2022-02-22T05:00:00Z,batch,agent,transfer,follow_ups,identity,moe,,40",
                "e2,2022-02-28T23:59:59Z,batch,agent,export,follow_ups,identity,moe,,2",
                // ... from 2022-03-01 v2 declares it.
                "e3,2022-03-01T00:00:00Z,batch,agent,transfer,follow_ups,identity,moe,,40",
                // reads and local exports are not transfers to a recipient.
                "e4,2022-02-01T10:00:00Z,a1,agent,read,follow_ups,identity,,,1",
                "e5,2022-02-01T10:00:00Z,a1,agent,export,follow_ups,identity,,,1",
                // another undeclared recipient under v2.
                "e6,2022-04-01T10:00:00Z,a1,agent,transfer,follow_ups,identity,press,,1",
            ],
        );
        let summary: Vec<_> = findings
            .iter()
            .map(|f| {
                (f.recipient.clone().unwrap(), f.events, f.records, f.evidence.clone(), f.register_versions.clone())
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (
                    "moe".to_string(),
                    2,
                    Some(42),
                    vec!["e1".to_string(), "e2".to_string()],
                    vec!["wikit@2015-10-06".to_string()]
                ),
                ("press".to_string(), 1, Some(1), vec!["e6".to_string()], vec!["wikit@2022-03-01".to_string()]),
            ]
        );
        assert!(findings.iter().all(|f| f.severity == Severity::High && !f.legal_ref.is_empty()));
    }

    #[test]
    fn declared_flows_give_nothing() {
        let register = register(&[WIKIT_V2]);
        let findings = run(
            &UndeclaredRecipient,
            &register,
            &["e1,2022-03-08T05:00:00Z,batch,agent,transfer,follow_ups,identity,moe,,40"],
        );
        assert!(findings.is_empty());
    }
}
