//! `undeclared_recipient`: data transferred or exported to a recipient that the register version
//! in force does not declare for that dataset.
//!
//! Rule relied on: the `[[recipient]]` entries of the version in force (recipient id + datasets).
//! Legal basis: the processing's own `legal_ref` (the authorisation lists its recipients; e.g.
//! the CNIL deliberation of 2015-10-06 on Wiki'T limits them to the labour-inspection system).
//! One finding per (recipient, dataset), severity high: personal data left the system for an
//! organisation nobody declared.

use std::collections::BTreeMap;

use super::chunk::{Chunk, Verdicts};
use super::{Context, Detector, EventColumns, Scanner, Tally};
use crate::error::Result;
use crate::finding::{Finding, FindingDraft, Severity, facts};

pub struct UndeclaredRecipient;

impl Detector for UndeclaredRecipient {
    fn name(&self) -> &'static str {
        "undeclared_recipient"
    }

    fn scanner(&self) -> Box<dyn Scanner> {
        Box::new(RecipientScanner::default())
    }
}

/// Transfers and exports per (recipient, dataset) that the version in force does not declare.
#[derive(Default)]
struct RecipientScanner {
    flows: BTreeMap<(String, String), Tally>,
    /// By situation code: the version in force does not declare the flow.
    undeclared: Verdicts,
}

impl Scanner for RecipientScanner {
    fn scan(&mut self, context: &Context, chunk: &Chunk) -> Result<()> {
        let (codes, dictionaries) = (chunk.codes, chunk.dictionaries);
        let columns = EventColumns::of(chunk.events)?;
        for row in (0..codes.len()).filter(|&row| codes.outbound[row]) {
            let (version, recipient, dataset) = (codes.version[row], codes.recipient[row], codes.dataset[row]);
            let (Some(recipient), Some(dataset)) =
                (dictionaries.recipient.text(recipient), dictionaries.dataset.text(dataset))
            else {
                continue;
            };
            if version < 0 {
                continue;
            }
            let is_undeclared = self.undeclared.get(codes.situation[row], || {
                context.register.get(version as usize).recipient_entry(recipient, dataset).is_none()
            });
            if is_undeclared {
                let flow = self.flows.entry((recipient.to_string(), dataset.to_string())).or_default();
                columns.add_to(flow, row);
            }
        }
        Ok(())
    }

    fn save(&self, _context: &Context) -> Box<super::state::Saved> {
        super::state::save_map(&self.flows)
    }

    fn absorb(&mut self, _context: &Context, state: &super::state::Saved) -> Result<()> {
        super::state::absorb_map(UndeclaredRecipient.name(), "flows", state, &mut self.flows, Tally::merge)
    }

    fn finish(self: Box<Self>, context: &Context) -> Result<Vec<Finding>> {
        Ok(self
            .flows
            .into_iter()
            .map(|((recipient, dataset), tally)| {
                let group = tally.into_summary();
                // Cannot fail: a group is created by an event, and only judged events (with a register version) are grouped.
                let latest = context.register.get(*group.versions.last().expect("judged events"));
                let declared_for: Vec<String> = latest
                    .doc
                    .recipients
                    .iter()
                    .filter(|r| r.id == recipient)
                    .flat_map(|r| r.datasets.clone())
                    .collect();
                let facts = facts::UndeclaredRecipient {
                    processing: latest.processing().to_string(),
                    declared_for,
                    legal_ref: latest.legal_ref(),
                };
                FindingDraft {
                    dataset: Some(dataset),
                    recipient: Some(recipient),
                    first_seen: Some(group.first_seen),
                    last_seen: Some(group.last_seen),
                    events: group.events,
                    records: group.records,
                    score: 1.0,
                    register_versions: context.version_ids(&group.versions),
                    evidence: group.evidence,
                    ..Default::default()
                }
                .finish(facts, Severity::High, &[])
            })
            .collect())
    }
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
        assert!(findings.iter().all(|f| f.severity == Severity::High && !legal_ref(f).is_empty()));
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
