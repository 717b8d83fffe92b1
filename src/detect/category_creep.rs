//! `category_creep`: data categories read or sent beyond those declared.
//!
//! Rules relied on: for transfers and exports to a declared recipient, the `categories` of that
//! `[[recipient]]` entry for the dataset (e.g. only `declared_activity` may go to the prefecture:
//! CESEDA R.811-5); for every other event, the `categories` of the declared purpose the event
//! names, or — when it names none — of every purpose in force that covers the dataset. Categories
//! are hierarchical (`register::categories`). Transfers to undeclared recipients are left to
//! `undeclared_recipient`, so one drift is not reported twice.
//!
//! One finding per (dataset, recipient or purpose) listing the undeclared categories; high when
//! the data left the system, medium otherwise.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use polars::prelude::*;

use super::{Context, Detector, EventColumns, ROW, Tally, list_words};
use crate::error::{PolarsContext, Result};
use crate::event::{self, CATEGORIES, DATASET, PURPOSE, RECIPIENT};
use crate::finding::{Finding, FindingDraft, Severity};
use crate::register::RegisterVersion;
use crate::register::categories::is_covered;
use crate::register::versions::REGISTER_VERSION;

pub struct CategoryCreep;

const OUTBOUND: &str = "outbound";

/// What a finding is about: (`recipient` or `purpose`, its id or "" for any purpose, dataset).
type GroupKey = (&'static str, String, String);

/// The events sharing a (version, dataset, outbound, recipient, purpose): they are all judged
/// against the same declared list, so it is resolved once per context, not once per event.
struct JudgedContext {
    group: usize,
    declared: Vec<String>,
    /// Memo of the categories seen in this context: covered or not.
    covered: HashMap<String, bool>,
}

#[derive(Default)]
struct Group {
    tally: Tally,
    categories: BTreeSet<String>,
}

impl Detector for CategoryCreep {
    fn name(&self) -> &'static str {
        "category_creep"
    }

    fn run(&self, context: &Context) -> Result<Vec<Finding>> {
        // No filter on the whole frame (a filter gathers every selected column, lists
        // included): events without a version get no context, events without categories no pairs.
        let contexts = context
            .events()
            .select([
                col(ROW),
                col(REGISTER_VERSION),
                col(DATASET),
                event::is_outbound().alias(OUTBOUND),
                col(RECIPIENT),
                col(PURPOSE),
            ])
            .group_by([col(REGISTER_VERSION), col(DATASET), col(OUTBOUND), col(RECIPIENT), col(PURPOSE)])
            .agg([col(ROW)])
            .filter(col(REGISTER_VERSION).is_not_null())
            .collect()
            .polars("grouping events by what judges their categories")?;
        let pairs = context
            .events()
            .select([col(ROW), col(CATEGORIES)])
            .explode(cols([CATEGORIES]), ExplodeOptions { empty_as_null: false, keep_nulls: false })
            .collect()
            .polars("listing the categories of each event")?;

        let mut group_keys: BTreeMap<GroupKey, usize> = BTreeMap::new();
        let (mut judged, context_of_row) = judge_contexts(context, &contexts, &mut group_keys)?;
        let mut groups: Vec<Group> = (0..group_keys.len()).map(|_| Group::default()).collect();
        let columns = EventColumns::of(context.events)?;
        let rows = pairs.column(ROW).and_then(|c| c.idx()).polars("row index")?;
        let categories = super::text_column(&pairs, CATEGORIES)?;
        let mut last_counted: Option<(usize, usize)> = None;
        for (row, category) in rows.iter().zip(categories.iter()) {
            let (Some(row), Some(category)) = (row, category) else { continue };
            let row = row as usize;
            let Some(judged) = context_of_row[row].and_then(|c| judged[c].as_mut()) else { continue };
            let covered = match judged.covered.get(category) {
                Some(covered) => *covered,
                None => {
                    let covered = is_covered(category, &judged.declared);
                    judged.covered.insert(category.to_string(), covered);
                    covered
                }
            };
            if covered {
                continue;
            }
            let group = &mut groups[judged.group];
            group.categories.insert(category.to_string());
            // An event with several undeclared categories counts once.
            if last_counted != Some((row, judged.group)) {
                columns.add_to(&mut group.tally, row);
                last_counted = Some((row, judged.group));
            }
        }
        let mut findings = Vec::new();
        for ((judged_by, against, dataset), index) in group_keys {
            let group = std::mem::take(&mut groups[index]);
            if group.tally.is_empty() {
                continue;
            }
            let summary = group.tally.into_summary(vec![]);
            findings.push(self.finding(context, judged_by, &against, &dataset, summary, group.categories));
        }
        Ok(findings)
    }
}

/// Resolves each context once: which group it reports to and its declared categories (None
/// for contexts this detector does not judge), and maps every event row to its context.
fn judge_contexts(
    context: &Context,
    contexts: &DataFrame,
    group_keys: &mut BTreeMap<GroupKey, usize>,
) -> Result<(Vec<Option<JudgedContext>>, Vec<Option<usize>>)> {
    let text = |name: &str| super::text_column(&contexts, name);
    let (datasets, recipients, purposes) = (text(DATASET)?, text(RECIPIENT)?, text(PURPOSE)?);
    let versions = contexts.column(REGISTER_VERSION).and_then(|c| c.i32()).polars("context version")?;
    let outbound = contexts.column(OUTBOUND).and_then(|c| c.bool()).polars("context outbound")?;
    let row_lists = contexts.column(ROW).and_then(|c| c.list()).polars("context rows")?;
    let mut judged = Vec::with_capacity(contexts.height());
    let mut context_of_row = vec![None; context.events.height()];
    for index in 0..contexts.height() {
        let version = context.register.get(versions.get(index).expect("not null") as usize);
        let dataset = datasets.get(index).unwrap_or_default();
        let resolved = declared_for(
            version,
            outbound.get(index).unwrap_or(false),
            recipients.get(index).unwrap_or_default(),
            purposes.get(index).unwrap_or_default(),
            dataset,
        );
        judged.push(resolved.map(|(kind, against, declared)| {
            let next = group_keys.len();
            let group = *group_keys.entry((kind, against, dataset.to_string())).or_insert(next);
            JudgedContext { group, declared, covered: HashMap::new() }
        }));
        if let Some(rows) = row_lists.get_as_series(index) {
            for row in rows.idx().polars("context rows")?.iter().flatten() {
                context_of_row[row as usize] = Some(index);
            }
        }
    }
    Ok((judged, context_of_row))
}

impl CategoryCreep {
    fn finding(
        &self,
        context: &Context,
        judged_by: &'static str,
        against: &str,
        dataset: &str,
        group: super::GroupSummary,
        categories: BTreeSet<String>,
    ) -> Finding {
        let undeclared: Vec<String> = categories.into_iter().collect();
        let latest = context.register.get(*group.versions.last().expect("judged events"));
        let outbound = judged_by == "recipient";
        let (declared, rule, legal_ref) = declaration(latest, outbound, against, dataset);
        let summary = format!(
            "{} event(s) {} \"{dataset}\" carried {} beyond what {} declares ({})",
            group.events,
            if outbound { format!("sending to \"{against}\" from") } else { "on".to_string() },
            list_words(&undeclared),
            rule,
            if declared.is_empty() { "nothing".to_string() } else { list_words(&declared) },
        );
        FindingDraft {
            dataset: Some(dataset.to_string()),
            recipient: outbound.then(|| against.to_string()),
            purpose: (!outbound && !against.is_empty()).then(|| against.to_string()),
            first_seen: Some(group.first_seen),
            last_seen: Some(group.last_seen),
            events: group.events,
            records: group.records,
            score: 1.0,
            categories: undeclared,
            rule: format!(
                "{rule} declares categories: {}",
                if declared.is_empty() { "none".to_string() } else { declared.join(", ") }
            ),
            legal_ref,
            register_versions: context.version_ids(&group.versions),
            summary,
            evidence: group.evidence,
            ..Default::default()
        }
        .finish(self.name(), if outbound { Severity::High } else { Severity::Medium }, &[judged_by])
    }
}

/// What the events of a combination were judged against: (kind, id) and the declared list.
fn declared_for<'a>(
    version: &'a RegisterVersion,
    outbound: bool,
    recipient: &str,
    purpose: &str,
    dataset: &str,
) -> Option<(&'static str, String, Vec<String>)> {
    if outbound {
        // Undeclared recipients are `undeclared_recipient`'s finding, not ours.
        let entry = version.recipient_entry(recipient, dataset)?;
        return Some(("recipient", recipient.to_string(), entry.categories.clone()));
    }
    if let Some(named) = version.purpose(purpose).filter(|p| p.datasets.iter().any(|d| d == dataset)) {
        return Some(("purpose", named.id.clone(), named.categories.clone()));
    }
    let union: BTreeSet<String> = version.purposes_for_dataset(dataset).flat_map(|p| p.categories.clone()).collect();
    Some(("purpose", String::new(), union.into_iter().collect()))
}

/// (declared categories, the rule's name, legal reference) for a finding's text.
fn declaration(
    version: &RegisterVersion,
    outbound: bool,
    against: &str,
    dataset: &str,
) -> (Vec<String>, String, String) {
    let (_, _, declared) =
        declared_for(version, outbound, against, against, dataset).unwrap_or(("", String::new(), Vec::new()));
    if outbound {
        let legal = version.recipient_entry(against, dataset).and_then(|r| r.legal_ref.clone());
        (
            declared,
            format!("[[recipient]] \"{against}\" for \"{dataset}\""),
            legal.unwrap_or_else(|| version.legal_ref()),
        )
    } else if let Some(purpose) = version.purpose(against) {
        (
            declared,
            format!("purpose \"{}\"", purpose.id),
            purpose.legal_ref.clone().unwrap_or_else(|| version.legal_ref()),
        )
    } else {
        let names: Vec<String> = version.purposes_for_dataset(dataset).map(|p| format!("\"{}\"", p.id)).collect();
        let rule = if names.is_empty() {
            format!("no purpose of \"{}\" covering \"{dataset}\"", version.processing())
        } else {
            format!("the purposes covering \"{dataset}\" ({})", names.join(", "))
        };
        (declared, rule, version.legal_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::*;

    #[test]
    fn transfers_are_judged_by_the_recipient_and_reads_by_the_purpose() {
        let register = register(&[WIKIT_V1, WIKIT_V2]);
        let findings = run(
            &CategoryCreep,
            &register,
            &[
                // v2 declares moe for identity + declared_activity: observation letters creep.
                "e1,2022-03-08T05:00:00Z,batch,agent,transfer,follow_ups,identity.name;observation_letter;work_stoppage,moe,,40",
                "e2,2022-03-15T05:00:00Z,batch,agent,transfer,follow_ups,declared_activity,moe,,40",
                "e3,2022-03-22T05:00:00Z,batch,agent,transfer,follow_ups,observation_letter,moe,,10",
                // under v1 moe is undeclared: that is undeclared_recipient's finding, not ours.
                "e4,2022-02-22T05:00:00Z,batch,agent,transfer,follow_ups,observation_letter,moe,,40",
                // reads: hierarchical categories are covered; `identity_card` is not `identity`.
                "e5,2022-03-09T09:00:00Z,a1,agent,read,follow_ups,identity.birth_date;penal_follow_up,,,1",
                "e6,2022-03-09T09:05:00Z,a1,agent,read,follow_ups,identity_card,,inspection,1",
            ],
        );
        let seen: Vec<_> = findings
            .iter()
            .map(|f| (f.recipient.clone(), f.purpose.clone(), f.categories.clone(), f.events, f.records, f.severity))
            .collect();
        assert_eq!(
            seen,
            vec![
                (None, Some("inspection".to_string()), vec!["identity_card".to_string()], 1, Some(1), Severity::Medium),
                (
                    Some("moe".to_string()),
                    None,
                    vec!["observation_letter".to_string(), "work_stoppage".to_string()],
                    2,
                    Some(50),
                    Severity::High
                ),
            ]
        );
        assert_eq!(findings[1].evidence, vec!["e1", "e3"]);
        assert_eq!(findings[1].legal_ref, "CESEDA L.811-3");
    }

    #[test]
    fn declared_categories_give_nothing() {
        let register = register(&[WIKIT_V2]);
        let findings = run(
            &CategoryCreep,
            &register,
            &[
                "e1,2022-03-08T05:00:00Z,batch,agent,transfer,follow_ups,identity;declared_activity,moe,,40",
                "e2,2022-03-08T09:00:00Z,a1,agent,read,follow_ups,identity;penal_follow_up,,,1",
            ],
        );
        assert!(findings.is_empty(), "{findings:?}");
    }
}
