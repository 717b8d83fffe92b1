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

use std::collections::{BTreeMap, BTreeSet};

use polars::prelude::*;

use super::{Context, Detector, distinct, list_words, summarise};
use crate::error::{PolarsContext, Result};
use crate::event::{self, CATEGORIES, DATASET, EVENT_ID, PURPOSE, RECIPIENT, RECORD_COUNT, TS};
use crate::finding::{Finding, FindingDraft, Severity};
use crate::register::RegisterVersion;
use crate::register::categories::is_covered;
use crate::register::versions::REGISTER_VERSION;

pub struct CategoryCreep;

const OUTBOUND: &str = "outbound";
const CATEGORY: &str = "category";
/// `recipient` or `purpose`: what the categories were judged against.
const JUDGED_BY: &str = "judged_by";
/// The recipient id, the purpose id, or "" for "any purpose covering the dataset".
const JUDGED_AGAINST: &str = "judged_against";
const COMBINATION: [&str; 6] = [REGISTER_VERSION, DATASET, OUTBOUND, RECIPIENT, PURPOSE, CATEGORY];

impl Detector for CategoryCreep {
    fn name(&self) -> &'static str {
        "category_creep"
    }

    fn run(&self, context: &Context) -> Result<Vec<Finding>> {
        let exploded = context
            .events()
            .filter(col(CATEGORIES).is_not_null().and(col(REGISTER_VERSION).is_not_null()))
            .select([
                col(EVENT_ID),
                col(TS),
                col(REGISTER_VERSION),
                col(DATASET),
                event::is_outbound().alias(OUTBOUND),
                col(RECIPIENT).fill_null(lit("")),
                col(PURPOSE).fill_null(lit("")),
                col(RECORD_COUNT),
                col(CATEGORIES).alias(CATEGORY),
            ])
            .explode(cols([CATEGORY]), ExplodeOptions { empty_as_null: false, keep_nulls: false });
        let verdicts = judge(context, &distinct(exploded.clone(), &COMBINATION)?)?;
        if verdicts.height() == 0 {
            return Ok(Vec::new());
        }
        let on: Vec<Expr> = COMBINATION.iter().map(|c| col(*c)).collect();
        // Only the offending (event, category) rows: small, so collected once and reused.
        let offending = exploded
            .join(verdicts.lazy(), on.clone(), on, JoinArgs::new(JoinType::Inner))
            .collect()
            .polars("matching undeclared categories")?;
        let per_event = offending
            .clone()
            .lazy()
            .unique_stable(Some(cols([EVENT_ID])), UniqueKeepStrategy::First)
            .sort([TS, EVENT_ID], SortMultipleOptions::default());
        let keys = [JUDGED_BY, JUDGED_AGAINST, DATASET];
        let groups = summarise(per_event, &keys)?;
        let categories = categories_by_group(&offending)?;
        Ok(groups
            .into_iter()
            .map(|group| {
                let key: Vec<String> = group.keys.iter().map(|k| k.clone().unwrap_or_default()).collect();
                let undeclared = categories.get(&key).cloned().unwrap_or_default();
                let latest = context.register.get(*group.versions.last().expect("judged events"));
                let (judged_by, against, dataset) = (&key[0], &key[1], &key[2]);
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
                    dataset: Some(dataset.clone()),
                    recipient: outbound.then(|| against.clone()),
                    purpose: (!outbound && !against.is_empty()).then(|| against.clone()),
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
                .finish(
                    self.name(),
                    if outbound { Severity::High } else { Severity::Medium },
                    &[judged_by],
                )
            })
            .collect())
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

/// The undeclared combinations, with what they were judged against.
fn judge(context: &Context, combinations: &DataFrame) -> Result<DataFrame> {
    let text = |name: &str| combinations.column(name).and_then(|c| c.str()).expect("text column");
    let (datasets, recipients, purposes, categories) = (text(DATASET), text(RECIPIENT), text(PURPOSE), text(CATEGORY));
    let versions = combinations.column(REGISTER_VERSION).and_then(|c| c.i32()).expect("version column");
    let outbound = combinations.column(OUTBOUND).and_then(|c| c.bool()).expect("outbound column");
    let mut keep = Vec::with_capacity(combinations.height());
    let mut judged_by = Vec::new();
    let mut judged_against = Vec::new();
    for row in 0..combinations.height() {
        let version = context.register.get(versions.get(row).expect("not null") as usize);
        let verdict = declared_for(
            version,
            outbound.get(row).unwrap_or(false),
            recipients.get(row).unwrap_or_default(),
            purposes.get(row).unwrap_or_default(),
            datasets.get(row).unwrap_or_default(),
        )
        .filter(|(_, _, declared)| !is_covered(categories.get(row).unwrap_or_default(), declared));
        keep.push(verdict.is_some());
        if let Some((kind, against, _)) = verdict {
            judged_by.push(kind);
            judged_against.push(against);
        }
    }
    let mask: BooleanChunked = keep.into_iter().collect();
    let mut undeclared = combinations.filter(&mask).polars("filtering undeclared categories")?;
    undeclared
        .with_column(Column::new(JUDGED_BY.into(), judged_by))
        .and_then(|frame| frame.with_column(Column::new(JUDGED_AGAINST.into(), judged_against)))
        .polars("labelling undeclared categories")?;
    Ok(undeclared)
}

fn categories_by_group(offending: &DataFrame) -> Result<BTreeMap<Vec<String>, Vec<String>>> {
    let text = |name: &str| offending.column(name).and_then(|c| c.str()).expect("text column");
    let (by, against, dataset, category) = (text(JUDGED_BY), text(JUDGED_AGAINST), text(DATASET), text(CATEGORY));
    let mut groups: BTreeMap<Vec<String>, BTreeSet<String>> = BTreeMap::new();
    for row in 0..offending.height() {
        let key = [by.get(row), against.get(row), dataset.get(row)].map(|v| v.unwrap_or_default().to_string()).to_vec();
        groups.entry(key).or_default().insert(category.get(row).unwrap_or_default().to_string());
    }
    Ok(groups.into_iter().map(|(k, v)| (k, v.into_iter().collect())).collect())
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
