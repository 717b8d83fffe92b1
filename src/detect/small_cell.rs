//! `small_cell`: aggregated reports whose smallest cell holds fewer agents than the purpose's
//! `min_group_size` — an "aggregate" of two or three people identifies them (seed 001).
//!
//! Rule relied on: a purpose with `monitoring = "aggregate_only"` and `min_group_size` covering
//! the dataset. Judged on events with a `group_size` and no single `target_agent`. One finding
//! per actor with the smallest cell seen; severity medium.

use std::collections::BTreeMap;

use super::chunk::NULL;
use super::individual_monitoring::aggregate_only_purpose;
use super::{Context, Detector, EventColumns, Scanner, Tally};
use crate::error::{PolarsContext, Result};
use crate::event::GROUP_SIZE;
use crate::finding::{Finding, FindingDraft, Severity, facts};

pub struct SmallCell;

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Cells {
    tally: Tally,
    smallest: i64,
    /// (instant, (minimum, purpose, legal reference)) of the latest event: what the finding cites.
    declared: (i64, (u32, String, String)),
}

impl Cells {
    fn merge(&mut self, other: Cells) {
        if self.tally.is_empty() || (!other.tally.is_empty() && other.smallest < self.smallest) {
            self.smallest = other.smallest;
        }
        if self.tally.is_empty() {
            self.declared = other.declared;
        } else if !other.tally.is_empty() {
            super::state::latest(&mut self.declared, other.declared);
        }
        self.tally.merge(other.tally);
    }
}

impl Detector for SmallCell {
    fn name(&self) -> &'static str {
        "small_cell"
    }

    fn scanner(&self) -> Box<dyn Scanner> {
        Box::new(CellScanner::default())
    }
}

#[derive(Default)]
struct CellScanner {
    by_actor: BTreeMap<(String, String), Cells>,
    /// By situation code: the position of the aggregate-only purpose in force, if any, among
    /// its version's purposes.
    aggregate_only: super::chunk::Memo<Option<usize>>,
}

impl Scanner for CellScanner {
    fn scan(&mut self, context: &Context, chunk: &super::chunk::Chunk) -> Result<()> {
        let (codes, dictionaries) = (chunk.codes, chunk.dictionaries);
        let sizes = chunk.events.column(GROUP_SIZE).and_then(|c| c.i64()).polars("group_size")?;
        let columns = EventColumns::of(chunk.events)?;
        // An aggregated report: a group size, no single target, a register version in force.
        for (row, size) in super::present_values(sizes) {
            let Ok(version) = usize::try_from(codes.version[row]) else { continue };
            if codes.target_agent[row] != NULL {
                continue;
            }
            let version = context.register.get(version);
            let dataset = dictionaries.dataset.name(codes.dataset[row]);
            let purpose_index = *self.aggregate_only.get(codes.situation[row], || {
                let named_purpose = dictionaries.purpose.text(codes.purpose[row]);
                let purpose = aggregate_only_purpose(version, dataset, named_purpose)?;
                version.doc.purposes.iter().position(|p| std::ptr::eq(p, purpose))
            });
            let Some(purpose) = purpose_index.map(|index| &version.doc.purposes[index]) else { continue };
            let Some(minimum) = purpose.min_group_size.filter(|m| size < i64::from(*m)) else { continue };
            let actor = dictionaries.actor.name(codes.actor[row]);
            let cells = self.by_actor.entry((actor.to_string(), dataset.to_string())).or_default();
            if cells.tally.is_empty() || size < cells.smallest {
                cells.smallest = size;
            }
            let legal_ref = purpose.legal_ref.clone().unwrap_or_else(|| version.legal_ref());
            let declared = (codes.ts[row], (minimum, purpose.id.clone(), legal_ref));
            if cells.tally.is_empty() {
                cells.declared = declared;
            } else {
                super::state::latest(&mut cells.declared, declared);
            }
            columns.add_to(&mut cells.tally, row);
        }
        Ok(())
    }

    fn save(&self, _context: &Context) -> Box<super::state::Saved> {
        super::state::save_map(&self.by_actor)
    }

    fn absorb(&mut self, _context: &Context, state: &super::state::Saved) -> Result<()> {
        super::state::absorb_map(SmallCell.name(), "cells", state, &mut self.by_actor, Cells::merge)
    }

    fn finish(self: Box<Self>, context: &Context) -> Result<Vec<Finding>> {
        Ok(self
            .by_actor
            .into_iter()
            .map(|((actor, dataset), cells)| {
                let group = cells.tally.into_summary();
                let (_, (minimum, purpose, legal_ref)) = cells.declared;
                let facts = facts::SmallCell { smallest_cell: cells.smallest, min_group_size: minimum, legal_ref };
                FindingDraft {
                    dataset: Some(dataset),
                    actor: Some(actor),
                    purpose: Some(purpose),
                    first_seen: Some(group.first_seen),
                    last_seen: Some(group.last_seen),
                    events: group.events,
                    score: 1.0,
                    register_versions: context.version_ids(&group.versions),
                    evidence: group.evidence,
                    ..Default::default()
                }
                .finish(facts, Severity::Medium, &[])
            })
            .collect())
    }
}
