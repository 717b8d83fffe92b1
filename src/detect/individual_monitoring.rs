//! `individual_monitoring`: management watching agents one by one where the register allows
//! only aggregated statistics (seed 001: the CNIL took note that Wiki'T's activity follow-up is
//! "statistiques agrégées ne permettant pas d'identifier les personnes" and not for individual
//! control; supervisors nonetheless demanded per-agent reports and ranked units).
//!
//! Rule relied on: a purpose with `monitoring = "aggregate_only"` covering the dataset, and the
//! `management = true` roles of the version in force. An event watches an agent when its
//! `target_agent` is someone else than the actor (an agent viewing their own activity is
//! lawful), or when its `report_kind` is `ranking` (agents or units ordered by activity) or
//! `per_agent` without a single target. One finding per watching actor: distinct agents
//! watched, months active, units; severity grows with repetition (one month low, two medium,
//! three or more high).

use std::collections::{BTreeMap, BTreeSet};

use chrono::Datelike;
use polars::prelude::*;

use super::{Context, Detector, EventColumns, Scanner, Tally};
use crate::error::{PolarsContext, Result};
use crate::finding::{Finding, FindingDraft, Severity, facts};
use crate::register::{Monitoring, Purpose, RegisterVersion};

pub struct IndividualMonitoring;

/// Extra column naming the kind of report: `per_agent`, `aggregate` or `ranking`.
pub const REPORT_KIND: &str = "report_kind";

/// The aggregate-only purpose an event on `dataset` is judged against: the one it names, else
/// any aggregate-only purpose covering the dataset.
pub fn aggregate_only_purpose<'a>(
    version: &'a RegisterVersion,
    dataset: &'a str,
    named: Option<&str>,
) -> Option<&'a Purpose> {
    let aggregate_only = |p: &&Purpose| p.monitoring == Some(Monitoring::AggregateOnly);
    named
        .and_then(|id| version.purpose(id))
        .filter(|p| p.datasets.iter().any(|d| d == dataset))
        .filter(aggregate_only)
        .or_else(|| version.purposes_for_dataset(dataset).find(aggregate_only))
}

/// `report_kind` when the log has it, as text.
fn report_kinds(events: &DataFrame) -> Result<Option<StringChunked>> {
    let Ok(column) = events.column(REPORT_KIND) else { return Ok(None) };
    let text = column.cast(&DataType::String).polars(format!("reading `{REPORT_KIND}` as text"))?;
    Ok(Some(text.str().polars(REPORT_KIND)?.clone()))
}

#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Watcher {
    tally: Tally,
    targets: BTreeSet<String>,
    months: BTreeSet<String>,
    /// month → agents watched that month
    targets_by_month: BTreeMap<String, BTreeSet<String>>,
    units: BTreeMap<String, u64>,
    rankings: u64,
    /// (instant, (purpose, legal reference)) of the latest event: the purpose its findings cite.
    purpose: Option<(i64, (String, String))>,
}

impl Watcher {
    fn merge(&mut self, other: Watcher) {
        self.tally.merge(other.tally);
        self.targets.extend(other.targets);
        self.months.extend(other.months);
        for (month, targets) in other.targets_by_month {
            self.targets_by_month.entry(month).or_default().extend(targets);
        }
        for (unit, events) in other.units {
            *self.units.entry(unit).or_default() += events;
        }
        self.rankings += other.rankings;
        match (&mut self.purpose, other.purpose) {
            (Some(mine), Some(theirs)) => super::state::latest(mine, theirs),
            (mine @ None, theirs) => *mine = theirs,
            (Some(_), None) => {}
        }
    }
}

impl Detector for IndividualMonitoring {
    fn name(&self) -> &'static str {
        "individual_monitoring"
    }

    fn scanner(&self) -> Box<dyn Scanner> {
        Box::new(WatchScanner::default())
    }
}

#[derive(Default)]
struct WatchScanner {
    watchers: BTreeMap<(String, String), Watcher>,
    /// By situation code: its role is a management role in its version (false without one),
    /// so that a row is set aside with one load. Extended as situations appear.
    managing: Vec<bool>,
}

impl WatchScanner {
    /// Resolves the situations that appeared since the last chunk ([`Self::managing`]): whether
    /// the situation's role is a management role in its version.
    fn learn_situations(&mut self, context: &Context, dictionaries: &super::chunk::Dictionaries) {
        let managing = |situation: &super::chunk::Situation| {
            let Ok(version) = usize::try_from(situation.version) else { return false };
            let role = dictionaries.role.name(situation.role);
            context.register.get(version).doc.roles.iter().any(|r| r.id == role && r.management)
        };
        let new_situations = dictionaries.situations.since(self.managing.len());
        self.managing.extend(new_situations.iter().map(managing));
    }
}

/// Whether an event watches an agent: a target other than the actor, a ranking, or a per-agent
/// report naming no single target.
fn watches(target: Option<&str>, actor: &str, kind: Option<&str>) -> bool {
    target.is_some_and(|target| target != actor)
        || kind == Some("ranking")
        || (kind == Some("per_agent") && target.is_none())
}

impl Scanner for WatchScanner {
    fn scan(&mut self, context: &Context, chunk: &super::chunk::Chunk) -> Result<()> {
        let (codes, dictionaries) = (chunk.codes, chunk.dictionaries);
        let kinds = report_kinds(chunk.events)?;
        let columns = EventColumns::of(chunk.events)?;
        self.learn_situations(context, dictionaries);
        for row in 0..codes.len() {
            // Only management roles can watch agents: most rows stop here, judged by their codes.
            if !self.managing[codes.situation[row] as usize] {
                continue;
            }
            // A managing situation has a version in force (the else is never taken).
            let Ok(version_index) = usize::try_from(codes.version[row]) else { continue };
            let kind = kinds.as_ref().and_then(|kinds| kinds.get(row));
            let (actor, target) =
                (dictionaries.actor.name(codes.actor[row]), dictionaries.target_agent.text(codes.target_agent[row]));
            if !watches(target, actor, kind) {
                continue;
            }
            let version = context.register.get(version_index);
            let dataset = dictionaries.dataset.name(codes.dataset[row]);
            let named_purpose = dictionaries.purpose.text(codes.purpose[row]);
            let Some(purpose) = aggregate_only_purpose(version, dataset, named_purpose) else { continue };
            let watcher = self.watchers.entry((actor.to_string(), dataset.to_string())).or_default();
            columns.add_to(&mut watcher.tally, row);
            let ts = codes.ts[row];
            // Cannot fail: event instants are checked at ingest to lie in years 1-9999.
            let date = chrono::DateTime::from_timestamp_micros(ts).expect("timestamp").date_naive();
            let month = format!("{:04}-{:02}", date.year(), date.month());
            watcher.months.insert(month.clone());
            let in_month = watcher.targets_by_month.entry(month).or_default();
            if let Some(target) = target {
                watcher.targets.insert(target.to_string());
                in_month.insert(target.to_string());
            }
            if kind == Some("ranking") {
                watcher.rankings += 1;
            }
            let unit = dictionaries.unit.text(codes.unit[row]).unwrap_or("(no unit)");
            *watcher.units.entry(unit.to_string()).or_default() += 1;
            let cited = (ts, (purpose.id.clone(), purpose.legal_ref.clone().unwrap_or_else(|| version.legal_ref())));
            match &mut watcher.purpose {
                Some(latest) => super::state::latest(latest, cited),
                None => watcher.purpose = Some(cited),
            }
        }
        Ok(())
    }

    fn save(&self, _context: &Context) -> Box<super::state::Saved> {
        super::state::save_map(&self.watchers)
    }

    fn absorb(&mut self, _context: &Context, state: &super::state::Saved) -> Result<()> {
        super::state::absorb_map(IndividualMonitoring.name(), "watchers", state, &mut self.watchers, Watcher::merge)
    }

    fn finish(self: Box<Self>, context: &Context) -> Result<Vec<Finding>> {
        Ok(self
            .watchers
            .into_iter()
            .map(|((actor, dataset), watcher)| IndividualMonitoring.finding(context, actor, dataset, watcher))
            .collect())
    }
}

impl IndividualMonitoring {
    fn finding(&self, context: &Context, actor: String, dataset: String, watcher: Watcher) -> Finding {
        let (purpose, legal_ref) = watcher.purpose.clone().map(|(_, cited)| cited).unwrap_or_default();
        let months = watcher.months.len();
        let severity = match months {
            0 | 1 => Severity::Low,
            2 => Severity::Medium,
            _ => Severity::High,
        };
        let group = watcher.tally.into_summary();
        let facts = facts::IndividualMonitoring {
            agents_watched: watcher.targets.len(),
            months_active: months,
            agents_watched_by_month: watcher.targets_by_month.iter().map(|(m, t)| (m.clone(), t.len())).collect(),
            months: watcher.months,
            events_by_unit: watcher.units,
            rankings: watcher.rankings,
            watched_agents: watcher.targets.into_iter().take(50).collect(),
            legal_ref,
        };
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
        .finish(facts, severity, &[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::*;

    const REGISTER: &str = r#"
processing = "wikit"
in_force_from = "2015-10-06"
[[dataset]]
id = "activity_reports"
[[role]]
id = "agent"
[[role]]
id = "unit_head"
management = true
[[purpose]]
id = "activity_statistics"
datasets = ["activity_reports"]
roles = ["agent", "unit_head"]
monitoring = "aggregate_only"
min_group_size = 5
legal_ref = "CNIL: aggregated statistics only"
"#;

    pub const HEADER: &str = "event_id,ts,actor_id,actor_role,action,dataset,target_agent,group_size,report_kind";

    pub fn findings(detector: &dyn Detector, rows: &[&str]) -> Vec<Finding> {
        let register = register(&[REGISTER]);
        let events = judged_events_with(&register, HEADER, rows);
        let context =
            Context { register: &register, habilitations: None, settings: Default::default(), input_files: &[] };
        crate::detect::run_one(detector, &context, &events).unwrap()
    }

    #[test]
    fn supervisors_watching_others_are_found_and_lawful_uses_are_not() {
        let found = findings(
            &IndividualMonitoring,
            &[
                // a unit head's per-agent reports on two agents, in three months: high
                "e1,2022-01-10T09:00:00Z,uh1,unit_head,report,activity_reports,ag1,,per_agent",
                "e2,2022-02-10T09:00:00Z,uh1,unit_head,report,activity_reports,ag2,,per_agent",
                "e3,2022-03-10T09:00:00Z,uh1,unit_head,report,activity_reports,ag1,,per_agent",
                // a one-off ranking by another: low
                "e4,2022-03-01T09:00:00Z,uh2,unit_head,report,activity_reports,,,ranking",
                // lawful: an agent's own report, a head's own report, an aggregate
                "e5,2022-03-01T09:00:00Z,ag1,agent,report,activity_reports,ag1,,per_agent",
                "e6,2022-03-01T09:00:00Z,uh3,unit_head,report,activity_reports,uh3,,per_agent",
                "e7,2022-03-01T09:00:00Z,uh3,unit_head,report,activity_reports,,12,aggregate",
                // an agent (not management) looking at a colleague is not this detector's finding
                "e8,2022-03-01T09:00:00Z,ag2,agent,report,activity_reports,ag1,,per_agent",
            ],
        );
        let summary: Vec<_> = found.iter().map(|f| (f.actor.clone().unwrap(), f.severity, f.events)).collect();
        assert_eq!(summary, vec![("uh1".to_string(), Severity::High, 3), ("uh2".to_string(), Severity::Low, 1)]);
        assert_eq!(found[0].details()["agents_watched"], 2);
        assert_eq!(found[0].details()["months_active"], 3);
        assert_eq!(found[1].details()["rankings"], 1);
        assert_eq!(legal_ref(&found[0]), "CNIL: aggregated statistics only");
    }

    #[test]
    fn cells_below_the_minimum_are_small_cells() {
        let found = findings(
            &super::super::small_cell::SmallCell,
            &[
                "e1,2022-01-10T09:00:00Z,uh1,unit_head,report,activity_reports,,3,aggregate",
                "e2,2022-02-10T09:00:00Z,uh1,unit_head,report,activity_reports,,2,aggregate",
                "e3,2022-02-10T09:00:00Z,uh1,unit_head,report,activity_reports,,5,aggregate",
                "e4,2022-02-10T09:00:00Z,uh2,unit_head,report,activity_reports,,9,aggregate",
            ],
        );
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].actor.as_deref(), found[0].events), (Some("uh1"), 2));
        assert_eq!(found[0].details()["smallest_cell"], 2);
        assert_eq!(found[0].evidence, vec!["e1", "e2"]);
    }

    #[test]
    fn watching_is_another_agent_a_ranking_or_a_per_agent_report_without_target() {
        assert!(watches(Some("ag1"), "uh1", None));
        assert!(watches(Some("ag1"), "uh1", Some("aggregate")), "a target is a target, whatever the kind");
        assert!(!watches(Some("uh1"), "uh1", None), "one's own activity");
        assert!(!watches(Some("uh1"), "uh1", Some("per_agent")), "one's own per-agent report");
        assert!(watches(Some("uh1"), "uh1", Some("ranking")), "a ranking ranks the others too");
        assert!(watches(None, "uh1", Some("ranking")));
        assert!(watches(None, "uh1", Some("per_agent")), "per agent, no single target: every agent");
        assert!(!watches(None, "uh1", Some("aggregate")));
        assert!(!watches(None, "uh1", None));
    }

    /// The detectors walk their rows by position across the arrays under a column: a frame of
    /// several arrays (as a chunk read from many row groups) gives the findings a single one does.
    #[test]
    fn rows_are_found_where_they_lie_in_columns_of_several_arrays() {
        let rows = [
            "e1,2022-01-10T09:00:00Z,uh1,unit_head,report,activity_reports,,3,aggregate",
            // a size with a single target is not a cell; a dataset no version declares is not judged
            "e2,2022-01-11T09:00:00Z,uh1,unit_head,report,activity_reports,ag1,2,per_agent",
            "e3,2022-01-12T09:00:00Z,uh2,unit_head,report,other_dataset,,1,aggregate",
            "e4,2022-02-10T09:00:00Z,uh1,unit_head,report,activity_reports,,2,aggregate",
            "e5,2022-02-11T09:00:00Z,uh2,unit_head,report,activity_reports,ag3,,per_agent",
            "e6,2022-02-12T09:00:00Z,uh3,unit_head,report,activity_reports,,,ranking",
        ];
        let register = register(&[REGISTER]);
        let events = judged_events_with(&register, HEADER, &rows);
        let split = events.slice(0, 2).vstack(&events.slice(2, 2)).unwrap().vstack(&events.slice(4, 2)).unwrap();
        assert_eq!(split.column(crate::event::GROUP_SIZE).unwrap().as_materialized_series().n_chunks(), 3);
        let context =
            Context { register: &register, habilitations: None, settings: Default::default(), input_files: &[] };
        for detector in [&IndividualMonitoring as &dyn Detector, &super::super::small_cell::SmallCell] {
            let one = crate::detect::run_one(detector, &context, &events).unwrap();
            let three = crate::detect::run_one(detector, &context, &split).unwrap();
            assert_eq!(three, one, "{}", detector.name());
            assert!(!one.is_empty(), "{}", detector.name());
        }
        let cells = crate::detect::run_one(&super::super::small_cell::SmallCell, &context, &split).unwrap();
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].evidence, vec!["e1", "e4"]);
        let watchers = crate::detect::run_one(&IndividualMonitoring, &context, &split).unwrap();
        let watched: Vec<_> = watchers.iter().map(|f| (f.actor.clone().unwrap(), f.evidence.clone())).collect();
        assert_eq!(
            watched,
            vec![
                ("uh1".to_string(), vec!["e2".to_string()]),
                ("uh2".to_string(), vec!["e5".to_string()]),
                ("uh3".to_string(), vec!["e6".to_string()]),
            ]
        );
    }
}
