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

use super::chunk::{Chunk, Codes, Dictionaries, Verdicts};
use super::{Context, Detector, EventColumns, Scanner, Tally};
use crate::error::Result;
use crate::finding::facts::{self, Declaration};
use crate::finding::{Finding, FindingDraft, Severity};
use crate::register::RegisterVersion;
use crate::register::categories::is_covered;

pub struct CategoryCreep;

/// What a finding is about: (`recipient` or `purpose`, its id or "" for any purpose, dataset).
type GroupKey = (&'static str, String, String);

/// The events sharing a (version, dataset, outbound, recipient, purpose): they are all judged
/// against the same declared list, so it is resolved once per audit, not once per event.
struct JudgedContext {
    group: GroupKey,
    declared: Vec<String>,
    /// By category code: covered by `declared`.
    covered: Verdicts,
}

impl JudgedContext {
    fn is_covered(&mut self, category: u32, dictionaries: &Dictionaries) -> bool {
        let declared = &self.declared;
        self.covered.get(category, || is_covered(dictionaries.category.name(category), declared))
    }
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Group {
    tally: Tally,
    categories: BTreeSet<String>,
}

impl Detector for CategoryCreep {
    fn name(&self) -> &'static str {
        "category_creep"
    }

    fn scanner(&self) -> Box<dyn Scanner> {
        Box::new(CreepScanner::default())
    }
}

/// (version, dataset, outbound, recipient, purpose), in codes.
type ContextKey = (i32, u32, bool, u32, u32);

/// A situation whose rows this detector does not judge (no register version in force, or a
/// transfer to an undeclared recipient).
const NOT_JUDGED: u32 = u32::MAX;

#[derive(Default)]
struct CreepScanner {
    /// Index into `judged` by key; None: not judged by this detector.
    contexts: PlHashMap<ContextKey, Option<usize>>,
    /// By situation code: index into `judged`, or [`NOT_JUDGED`] (several situations share a
    /// context: their roles differ). Extended as situations appear.
    by_situation: Vec<u32>,
    judged: Vec<JudgedContext>,
    /// Whether a category is covered, for every judged context (rows) and category code
    /// (columns, `stride` of them): a row's categories are then a few loads, whatever its
    /// context. Rebuilt when a context or a category code appears.
    covered: Vec<bool>,
    stride: usize,
    groups: BTreeMap<GroupKey, Group>,
}

impl Scanner for CreepScanner {
    fn scan(&mut self, context: &Context, chunk: &Chunk) -> Result<()> {
        let (codes, dictionaries) = (chunk.codes, chunk.dictionaries);
        self.learn_codes(context, dictionaries);
        let columns = EventColumns::of(chunk.events)?;
        for row in rows_beyond_declared(codes, &self.by_situation, &self.covered, self.stride) {
            let judged = self.by_situation[codes.situation[row] as usize] as usize;
            let covered = &self.covered[judged * self.stride..][..self.stride];
            let group = self.groups.entry(self.judged[judged].group.clone()).or_default();
            let undeclared = codes.categories_of(row).iter().filter(|&&c| !covered[c as usize]);
            let texts = undeclared.filter_map(|&c| dictionaries.category.text(c));
            group.categories.extend(texts.map(str::to_string));
            // An event with several undeclared categories counts once.
            columns.add_to(&mut group.tally, row);
        }
        Ok(())
    }

    fn save(&self, _context: &Context) -> Box<super::state::Saved> {
        super::state::save(&self.groups.iter().collect::<Vec<_>>())
    }

    fn absorb(&mut self, _context: &Context, state: &super::state::Saved) -> Result<()> {
        let groups: Vec<((String, String, String), Group)> = super::state::load(self.name(), "groups", state)?;
        for ((judged_by, against, dataset), group) in groups {
            let judged_by = match judged_by.as_str() {
                "recipient" => "recipient",
                "purpose" => "purpose",
                other => return Err(crate::error::Error::Usage(format!("category_creep state: judged by `{other}`"))),
            };
            let mine = self.groups.entry((judged_by, against, dataset)).or_default();
            mine.tally.merge(group.tally);
            mine.categories.extend(group.categories);
        }
        Ok(())
    }

    fn finish(self: Box<Self>, context: &Context) -> Result<Vec<Finding>> {
        Ok(self
            .groups
            .into_iter()
            .map(|((judged_by, against, dataset), group)| {
                let summary = group.tally.into_summary();
                CategoryCreep.finding(context, judged_by, &against, &dataset, summary, group.categories)
            })
            .collect())
    }
}

/// The judged rows of the chunk with a category their context does not cover: nearly none.
/// A loop over slices alone (no scanner state it could change), so the compiler keeps the
/// tables in registers instead of reloading them through `self` on every row.
fn rows_beyond_declared(codes: &Codes, by_situation: &[u32], covered: &[bool], stride: usize) -> Vec<usize> {
    let (offsets, items) = (&codes.category_offsets, &codes.categories);
    let mut rows = Vec::new();
    // Without a category in the chunk, no row can have one undeclared.
    let Some(last_item) = items.len().checked_sub(1) else { return rows };
    for (row, &situation) in codes.situation.iter().enumerate() {
        let judged = by_situation[situation as usize];
        if judged == NOT_JUDGED {
            continue;
        }
        let covered = &covered[judged as usize * stride..][..stride];
        let (start, end) = (offsets[row] as usize, offsets[row + 1] as usize);
        let all_covered = match end - start {
            length @ 0..=SHORT_LIST => short_list_covered(items, start, length, last_item, covered),
            _ => items[start..end].iter().all(|&c| covered[c as usize]),
        };
        if !all_covered {
            rows.push(row);
        }
    }
    rows
}

/// Lists of at most this many categories are checked without a branch (most rows: the length
/// of a row's list varies from row to row, and a loop's exit was mispredicted on most of them).
const SHORT_LIST: usize = 4;

/// Whether the `length` (at most [`SHORT_LIST`]) categories from `items[start]` are covered:
/// always [`SHORT_LIST`] reads, those past the list's end (the item before, or the last item
/// of the chunk) read but not counted.
#[inline]
fn short_list_covered(items: &[u32], start: usize, length: usize, last_item: usize, covered: &[bool]) -> bool {
    let mut all = true;
    for slot in 0..SHORT_LIST {
        let at = (start + slot.min(length.saturating_sub(1))).min(last_item);
        all &= covered[items[at] as usize] | (slot >= length);
    }
    all
}

impl CreepScanner {
    fn name(&self) -> &'static str {
        CategoryCreep.name()
    }

    /// Resolves the situations and category codes that appeared since the last chunk: each new
    /// situation's declared list, and the covered table over every context and category.
    fn learn_codes(&mut self, context: &Context, dictionaries: &Dictionaries) {
        for s in dictionaries.situations.since(self.by_situation.len()) {
            let judged = match s.version < 0 {
                true => None,
                false => {
                    let key = (s.version, s.dataset, s.outbound, s.recipient, s.purpose);
                    let judged = &mut self.judged;
                    *self.contexts.entry(key).or_insert_with(|| Self::judge_context(context, dictionaries, key, judged))
                }
            };
            self.by_situation.push(judged.map_or(NOT_JUDGED, |index| index as u32));
        }
        let stride = dictionaries.category.len();
        if stride != self.stride || self.covered.len() != self.judged.len() * stride {
            self.stride = stride;
            self.covered = (self.judged.iter_mut())
                .flat_map(|judged| (0..stride as u32).map(move |category| judged.is_covered(category, dictionaries)))
                .collect();
        }
    }

    /// The declared list of a new combination, pushed onto `judged`.
    fn judge_context(
        context: &Context,
        dictionaries: &Dictionaries,
        key: ContextKey,
        judged: &mut Vec<JudgedContext>,
    ) -> Option<usize> {
        let (version, dataset, outbound, recipient, purpose) = key;
        let dataset = dictionaries.dataset.name(dataset);
        let recipient = dictionaries.recipient.name(recipient);
        let purpose = dictionaries.purpose.name(purpose);
        let version = context.register.get(version as usize);
        declared_for(version, outbound, recipient, purpose, dataset).map(|(kind, against, declared)| {
            judged.push(JudgedContext {
                group: (kind, against, dataset.to_string()),
                declared,
                covered: Verdicts::default(),
            });
            judged.len() - 1
        })
    }
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
        // Cannot fail: a group is created by an event, and only judged events (with a register version) are grouped.
        let latest = context.register.get(*group.versions.last().expect("judged events"));
        let outbound = judged_by == "recipient";
        let facts = declaration(latest, outbound, against, dataset);
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
            register_versions: context.version_ids(&group.versions),
            evidence: group.evidence,
            ..Default::default()
        }
        .finish(facts, if outbound { Severity::High } else { Severity::Medium }, &[judged_by])
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

/// What the events of a combination were judged against, the categories it declares and its
/// legal reference: the finding's facts.
fn declaration(version: &RegisterVersion, outbound: bool, against: &str, dataset: &str) -> facts::CategoryCreep {
    let (_, _, declared) =
        declared_for(version, outbound, against, against, dataset).unwrap_or(("", String::new(), Vec::new()));
    let (against, legal_ref) = if outbound {
        let legal = version.recipient_entry(against, dataset).and_then(|r| r.legal_ref.clone());
        (Declaration::Recipient, legal.unwrap_or_else(|| version.legal_ref()))
    } else if let Some(purpose) = version.purpose(against) {
        (Declaration::Purpose, purpose.legal_ref.clone().unwrap_or_else(|| version.legal_ref()))
    } else {
        let names: Vec<String> = version.purposes_for_dataset(dataset).map(|p| p.id.clone()).collect();
        let against = if names.is_empty() {
            Declaration::NoPurpose { processing: version.processing().to_string() }
        } else {
            Declaration::PurposesCovering(names)
        };
        (against, version.legal_ref())
    };
    facts::CategoryCreep { against, declared, legal_ref }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::*;

    /// The rows the branch-free check of short lists flags are those a plain walk of every list
    /// flags: lists of 0 to 7 categories, empty lists first and last in the chunk, unjudged
    /// situations, categories covered in one context and not in the other.
    #[test]
    fn rows_beyond_declared_are_those_a_plain_walk_finds() {
        let (stride, rows) = (6usize, 400usize);
        // Context 0 covers even category codes, context 1 every code but 5.
        let covered: Vec<bool> =
            (0..2 * stride).map(|i| if i < stride { i % 2 == 0 } else { i % stride != 5 }).collect();
        let by_situation = [0, 1, NOT_JUDGED];
        let (mut offsets, mut categories, mut situation) = (vec![0u32], Vec::new(), Vec::new());
        for row in 0..rows {
            // 0 categories for the first and last rows; otherwise a length from a simple hash.
            let length = if row == 0 || row == rows - 1 { 0 } else { (row * 7 + row / 5) % 8 };
            categories.extend((0..length).map(|k| ((row * 3 + k * 5) % stride) as u32));
            offsets.push(categories.len() as u32);
            situation.push((row % 3) as u32);
        }
        let codes = Codes {
            actor: vec![],
            role: vec![],
            unit: vec![],
            action: vec![],
            dataset: vec![],
            recipient: vec![],
            purpose: vec![],
            target_agent: vec![],
            category_offsets: offsets,
            categories,
            ts: vec![0; rows],
            version: vec![],
            outbound: vec![],
            situation,
        };
        let expected: Vec<usize> = (0..rows)
            .filter(|&row| {
                let judged = by_situation[codes.situation[row] as usize];
                judged != NOT_JUDGED
                    && codes.categories_of(row).iter().any(|&c| !covered[judged as usize * stride + c as usize])
            })
            .collect();
        assert!(expected.len() > 20 && expected.len() < rows / 2, "{}", expected.len());
        assert_eq!(rows_beyond_declared(&codes, &by_situation, &covered, stride), expected);
    }

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
        assert_eq!(legal_ref(&findings[1]), "CESEDA L.811-3");
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
