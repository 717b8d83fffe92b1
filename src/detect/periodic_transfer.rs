//! `periodic_transfer`: a (recipient, dataset) flow that follows a schedule where the register
//! only allows punctual communication on request (seed 000: weekly extractions of follow-ups
//! to the work-permit platforms; CESEDA L.811-4: « sur demande … de manière ponctuelle »).
//!
//! Rule relied on: the `[[recipient]]` entry of the version in force. A flow is judged only on
//! its events whose recipient is undeclared or declared `mode = "on_request"`; a declared
//! `mode = "scheduled"` flow (the SIPSI → SI-CIP daily feed) is lawful and never analysed. Each
//! flow is analysed whole, then on its part without `request_ref` (a feed hidden among genuine
//! requests); the cadence engine (`cadence.rs`) decides. Systematic → high; review band → low.
//! Flows run in parallel (rayon); results are collected in flow order, so output is stable.

use std::collections::BTreeMap;

use chrono::{Datelike, Timelike};
use polars::prelude::*;
use rayon::prelude::*;
use serde_json::json;

use super::cadence::{self, Cadence, Observation, Verdict};
use super::chunk::{Chunk, NULL, Verdicts};
use super::id_ranges::{IdStep, from_id_steps, id_steps};
use super::{Context, Detector, Scanner};
use crate::calendar::BusinessCalendar;
use crate::error::{PolarsContext, Result};
use crate::event::{EVENT_ID, RECORD_COUNT, REQUEST_REF};
use crate::finding::{Finding, FindingDraft, MAX_EVIDENCE, Severity, Timeline, facts};
use crate::register::Mode;

pub struct PeriodicTransfer;

/// The events of one (recipient, dataset) flow that a schedule would make unlawful.
#[derive(Default)]
struct Flow {
    observations: Vec<Observation>,
    /// Per observation: has a request reference.
    referenced: Vec<bool>,
    event_ids: Vec<String>,
    versions: std::collections::BTreeSet<usize>,
}

/// Which part of the flow the cadence was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Subset {
    All,
    WithoutRequestRef,
}

impl Detector for PeriodicTransfer {
    fn name(&self) -> &'static str {
        "periodic_transfer"
    }

    fn scanner(&self) -> Box<dyn Scanner> {
        Box::new(FlowScanner::default())
    }
}

/// A flow as saved: its transfers in time order as columns, each written small (a flow's
/// transfers are most of this detector's state): instants as µs since the one before, event
/// ids as steps ([`IdStep`]), record counts as the integers they were read as, request
/// references as a text of `0` and `1`.
#[derive(serde::Serialize, serde::Deserialize)]
struct SavedFlow {
    ts_steps: Vec<i64>,
    volume: Vec<i64>,
    referenced: String,
    event_ids: Vec<IdStep>,
    versions: std::collections::BTreeSet<usize>,
}

impl Flow {
    /// Its transfers in time order, then by event id: the order a cadence is looked for in,
    /// whatever order the log (or its partitions) came in.
    fn in_canonical_order(self) -> Flow {
        let order = self.canonical_order();
        let mut flow = Flow { versions: self.versions, ..Flow::default() };
        for (index, &from) in order.iter().enumerate() {
            flow.observations.push(Observation { index, ..self.observations[from] });
            flow.referenced.push(self.referenced[from]);
            flow.event_ids.push(self.event_ids[from].clone());
        }
        flow
    }

    /// The transfers' positions in time order, then by event id.
    fn canonical_order(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.observations.len()).collect();
        order.sort_by(|&a, &b| {
            (self.observations[a].ts, &self.event_ids[a]).cmp(&(self.observations[b].ts, &self.event_ids[b]))
        });
        order
    }

    fn saved(&self) -> SavedFlow {
        let order = self.canonical_order();
        let times = order.iter().map(|&at| self.observations[at].ts);
        SavedFlow {
            ts_steps: times
                .scan(0, |previous, ts| {
                    let step = ts - *previous;
                    *previous = ts;
                    Some(step)
                })
                .collect(),
            // Read from an integer column (`gather_unlawful_if_scheduled`): exact.
            volume: order.iter().map(|&at| self.observations[at].volume as i64).collect(),
            referenced: order.iter().map(|&at| if self.referenced[at] { '1' } else { '0' }).collect(),
            event_ids: id_steps(order.iter().map(|&at| self.event_ids[at].as_str())),
            versions: self.versions.clone(),
        }
    }

    /// Adds a saved flow's transfers; None when its columns do not fit together.
    fn absorb(&mut self, saved: SavedFlow) -> Option<()> {
        let event_ids = from_id_steps(saved.event_ids)?;
        let count = saved.ts_steps.len();
        if saved.volume.len() != count || saved.referenced.len() != count || event_ids.len() != count {
            return None;
        }
        let mut ts = 0i64;
        for (step, volume) in saved.ts_steps.into_iter().zip(saved.volume) {
            ts = ts.checked_add(step)?;
            let index = self.observations.len();
            self.observations.push(Observation { ts, volume: volume as f64, index });
        }
        self.referenced.extend(saved.referenced.bytes().map(|flag| flag == b'1'));
        self.event_ids.extend(event_ids);
        self.versions.extend(saved.versions);
        Some(())
    }
}

/// The flows' transfers, gathered chunk by chunk; the cadences are looked for at the end.
#[derive(Default)]
struct FlowScanner {
    /// Flow index by (recipient, dataset) codes.
    by_codes: PlHashMap<(u32, u32), usize>,
    /// Flow index by (recipient, dataset): flows absorbed from another scanner's state have no
    /// codes yet.
    by_names: std::collections::HashMap<(String, String), usize>,
    flows: Vec<((String, String), Flow)>,
    /// By situation code: the register declares that flow `scheduled`.
    lawful_schedule: Verdicts,
}

impl Scanner for FlowScanner {
    fn scan(&mut self, context: &Context, chunk: &Chunk) -> Result<()> {
        self.gather_unlawful_if_scheduled(context, chunk)
    }

    fn save(&self, _context: &Context) -> Box<super::state::Saved> {
        let flows: BTreeMap<&(String, String), SavedFlow> =
            self.flows.iter().map(|(key, flow)| (key, flow.saved())).collect();
        super::state::save(&flows.into_iter().collect::<Vec<_>>())
    }

    fn absorb(&mut self, _context: &Context, state: &super::state::Saved) -> Result<()> {
        let flows: Vec<((String, String), SavedFlow)> = super::state::load(PeriodicTransfer.name(), "flows", state)?;
        for (key, saved) in flows {
            let damaged = format!("{} state: the flow {} → {} is damaged", PeriodicTransfer.name(), key.0, key.1);
            let index = self.flow_index(key);
            self.flows[index].1.absorb(saved).ok_or(crate::error::Error::Usage(damaged))?;
        }
        Ok(())
    }

    fn finish(self: Box<Self>, context: &Context) -> Result<Vec<Finding>> {
        let flows: BTreeMap<(String, String), Flow> =
            self.flows.into_iter().map(|(key, flow)| (key, flow.in_canonical_order())).collect();
        if flows.is_empty() {
            return Ok(Vec::new());
        }
        let (first_year, last_year) = year_span(&flows);
        let calendar = BusinessCalendar::french(first_year - 1, last_year + 1);
        let settings = context.settings;
        let analysed: Vec<Option<(Cadence, Subset, Vec<usize>)>> =
            flows.par_iter().map(|(_, flow)| analyse(flow, &settings, &calendar)).collect();
        Ok(flows
            .iter()
            .zip(analysed)
            .filter_map(|(((recipient, dataset), flow), result)| {
                let (cadence, subset, members) = result?;
                Some(PeriodicTransfer.finding(context, recipient, dataset, flow, &cadence, subset, &members))
            })
            .collect())
    }
}

impl FlowScanner {
    /// The index of a (recipient, dataset) flow, created empty on first sight.
    fn flow_index(&mut self, names: (String, String)) -> usize {
        if let Some(&index) = self.by_names.get(&names) {
            return index;
        }
        self.flows.push((names.clone(), Flow::default()));
        self.by_names.insert(names, self.flows.len() - 1);
        self.flows.len() - 1
    }

    /// Adds the outbound events whose version in force leaves the recipient undeclared or on
    /// request to their (recipient, dataset) flow.
    fn gather_unlawful_if_scheduled(&mut self, context: &Context, chunk: &Chunk) -> Result<()> {
        let (codes, dictionaries, events) = (chunk.codes, chunk.dictionaries, chunk.events);
        // The rows to keep and their flow first, then their other fields read in one gather per
        // column (a lookup by row through the chunked columns cost more than the rest).
        let mut kept: Vec<(IdxSize, usize)> = Vec::new();
        for row in (0..codes.len()).filter(|&row| codes.outbound[row]) {
            let (version, recipient, dataset) = (codes.version[row], codes.recipient[row], codes.dataset[row]);
            if version < 0 || dataset == NULL {
                continue;
            }
            let scheduled = self.lawful_schedule.get(codes.situation[row], || {
                let (recipient, dataset) = (dictionaries.recipient.name(recipient), dictionaries.dataset.name(dataset));
                let entry = context.register.get(version as usize).recipient_entry(recipient, dataset);
                entry.is_some_and(|r| r.mode == Mode::Scheduled)
            });
            if scheduled {
                continue;
            }
            let index = match self.by_codes.get(&(recipient, dataset)) {
                Some(&index) => index,
                None => {
                    let names =
                        (dictionaries.recipient.name(recipient).into(), dictionaries.dataset.name(dataset).into());
                    let index = self.flow_index(names);
                    self.by_codes.insert((recipient, dataset), index);
                    index
                }
            };
            self.flows[index].1.versions.insert(version as usize);
            kept.push((row as IdxSize, index));
        }
        if kept.is_empty() {
            return Ok(());
        }
        let rows = IdxCa::from_vec("rows".into(), kept.iter().map(|&(row, _)| row).collect());
        let ids = super::text_column(events, EVENT_ID)?.take(&rows).polars("event_id")?;
        let references = events.column(REQUEST_REF).polars("request_ref")?.is_not_null();
        let referenced = references.take(&rows).polars("request_ref")?;
        let volumes = events.column(RECORD_COUNT).and_then(|c| c.i64()).polars("record_count")?;
        let volumes = volumes.take(&rows).polars("record_count")?;
        let fields = ids.iter().zip(referenced.iter()).zip(volumes.iter());
        for (&(row, index), ((id, referenced), volume)) in kept.iter().zip(fields) {
            let flow = &mut self.flows[index].1;
            let observation = flow.observations.len();
            let volume = volume.map_or(1.0, |v| v as f64);
            flow.observations.push(Observation { ts: codes.ts[row as usize], volume, index: observation });
            flow.referenced.push(referenced == Some(true));
            flow.event_ids.push(id.unwrap_or_default().to_string());
        }
        Ok(())
    }
}

fn year_span(flows: &BTreeMap<(String, String), Flow>) -> (i32, i32) {
    let times = flows.values().flat_map(|f| f.observations.iter()).map(|o| o.ts);
    let year = |ts: Option<i64>| ts.and_then(chrono::DateTime::from_timestamp_micros).map_or(1970, |t| t.year());
    (year(times.clone().min()), year(times.max()))
}

/// The flow's cadence if it is systematic or worth a review: on the whole flow, else on its
/// part without request reference. Also returns the observation indexes of each run.
fn analyse(
    flow: &Flow,
    settings: &super::Settings,
    calendar: &BusinessCalendar,
) -> Option<(Cadence, Subset, Vec<usize>)> {
    let attempt = |subset: Subset| {
        let mut observations: Vec<Observation> =
            flow.observations.iter().filter(|o| subset == Subset::All || !flow.referenced[o.index]).copied().collect();
        let every_run_referenced = observations.iter().all(|o| flow.referenced[o.index]);
        let runs = cadence::collapse_runs(&mut observations, settings.cadence.run_gap_us);
        let found = cadence::detect_flow(&runs, &settings.cadence, settings.timezone, calendar, every_run_referenced)?;
        let first_members = runs.iter().map(|r| r.members[0]).collect::<Vec<_>>();
        (found.verdict != Verdict::Punctual).then_some((found, subset, first_members, runs))
    };
    let whole = attempt(Subset::All);
    let chosen = match whole {
        // A schedule seen in the whole flow is often clearest in its part without request
        // references (the requests are its ad-hoc runs): the better-scoring part is reported.
        Some(found) if found.0.verdict == Verdict::Systematic => {
            let referenced = flow.referenced.iter().any(|r| *r);
            match referenced.then(|| attempt(Subset::WithoutRequestRef)).flatten() {
                Some(part) if part.0.verdict == Verdict::Systematic && part.0.score > found.0.score => Some(part),
                _ => Some(found),
            }
        }
        // Without any request reference the part is the whole flow: the same runs, the same
        // verdict (not systematic here), so the whole's answer stands.
        whole if !flow.referenced.iter().any(|r| *r) => whole,
        whole => {
            let unreferenced = attempt(Subset::WithoutRequestRef);
            match (whole, unreferenced) {
                (_, Some(part)) if part.0.verdict == Verdict::Systematic => Some(part),
                (Some(whole), _) => Some(whole),
                (None, part) => part,
            }
        }
    };
    chosen.map(|(cadence, subset, first_members, runs)| {
        // Map run indexes to the first observation of each run (for evidence ids).
        let mut cadence = cadence;
        cadence.ad_hoc = cadence.ad_hoc.iter().map(|&r| first_members[r]).collect();
        cadence.hits = cadence.hits.iter().map(|&(slot, r)| (slot, first_members[r])).collect();
        let members: Vec<usize> = runs.iter().flat_map(|r| r.members.clone()).collect();
        (cadence, subset, members)
    })
}

impl PeriodicTransfer {
    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        context: &Context,
        recipient: &str,
        dataset: &str,
        flow: &Flow,
        cadence: &Cadence,
        subset: Subset,
        members: &[usize],
    ) -> Finding {
        // Cannot fail: a flow is created by its first transfer, each with its register version.
        let latest = context.register.get(*flow.versions.iter().next_back().expect("flow has events"));
        let ts_of = |index: usize| flow.observations[index].ts;
        let (first, last) =
            members.iter().map(|&i| ts_of(i)).fold((i64::MAX, i64::MIN), |(a, b), t| (a.min(t), b.max(t)));
        let records: f64 = members.iter().map(|&i| flow.observations[i].volume).sum();
        let hypothesis = &cadence.hypothesis;
        let evidence: Vec<String> =
            cadence.hits.iter().take(MAX_EVIDENCE).map(|&(_, i)| flow.event_ids[i].clone()).collect();
        // k of n periods hold a run; the excused ones (holidays, summer, Christmas) are not in n.
        let occupancy = (hypothesis.family.kind() == cadence::Kind::OncePerPeriod).then(|| {
            json!({
                "periods_with_a_run": cadence.matched,
                "periods": cadence.expected,
                "excused_periods": cadence.excused.len(),
                "excused_dates": cadence.excused.iter().map(|&t| hypothesis.base.wall_clock(t).date().to_string()).collect::<Vec<_>>(),
                "spread_within_period_hours": round3(cadence.spread_minutes / 60.0),
            })
        });
        let entry = latest.recipient_entry(recipient, dataset);
        let facts = facts::PeriodicTransfer {
            cadence: hypothesis.fields(),
            subset: match subset {
                Subset::All => "all",
                Subset::WithoutRequestRef => "without_request_ref",
            },
            runs: cadence.runs,
            matched_slots: cadence.matched,
            expected_slots: cadence.expected,
            coverage: round3(cadence.coverage),
            explained_share: round3(cadence.explained),
            spread_minutes: round3(cadence.spread_minutes),
            kind: json!(hypothesis.family.kind()),
            occupancy,
            rejected_hypotheses: json!(cadence.rejected),
            missed_slot_dates: cadence
                .missed
                .iter()
                .map(|&t| hypothesis.base.wall_clock(t).date().to_string())
                .collect(),
            ad_hoc_events: cadence.ad_hoc.iter().take(MAX_EVIDENCE).map(|&i| flow.event_ids[i].clone()).collect(),
            total_volume: records,
            ad_hoc: cadence.ad_hoc.len(),
            recipient_declared: entry.is_some(),
            processing: latest.processing().to_string(),
            legal_ref: entry.and_then(|e| e.legal_ref.clone()).unwrap_or_else(|| latest.legal_ref()),
        };
        let timeline = Timeline {
            time_base: hypothesis.base,
            hits: cadence.hits.iter().map(|&(slot, i)| (slot, ts_of(i))).collect(),
            missed: cadence.missed.clone(),
            ad_hoc: cadence.ad_hoc.iter().map(|&i| ts_of(i)).collect(),
            runs: cadence
                .hits
                .iter()
                .map(|&(_, i)| i)
                .chain(cadence.ad_hoc.iter().copied())
                .map(|i| {
                    let wall = hypothesis.base.wall_clock(ts_of(i));
                    (ts_of(i), wall.weekday().num_days_from_monday() as u8, wall.hour() as u8)
                })
                .collect(),
        };
        let severity = if cadence.verdict == Verdict::Systematic { Severity::High } else { Severity::Low };
        FindingDraft {
            dataset: Some(dataset.to_string()),
            recipient: Some(recipient.to_string()),
            first_seen: Some(first),
            last_seen: Some(last),
            events: members.len() as u64,
            records: Some(records.round() as i64),
            score: round3(cadence.score),
            period_days: Some(round3(hypothesis.family.period_days())),
            register_versions: context.version_ids(&flow.versions.iter().copied().collect::<Vec<_>>()),
            evidence,
            timeline: Some(timeline),
            ..Default::default()
        }
        .finish(facts, severity, &[])
    }
}

fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::testing::*;

    /// A flow saved and read back has its transfers in time order, whole; columns of different
    /// lengths or an id step with nothing before it are refused.
    #[test]
    fn a_saved_flow_comes_back_whole_and_a_damaged_one_is_refused() {
        let mut flow = Flow::default();
        for (index, (ts, id, referenced)) in
            [(300, "E0012", true), (100, "E0010", false), (200, "x", false)].into_iter().enumerate()
        {
            flow.observations.push(Observation { ts, volume: 2.0, index });
            flow.event_ids.push(id.to_string());
            flow.referenced.push(referenced);
        }
        let saved = flow.saved();
        assert_eq!(saved.ts_steps, vec![100, 100, 100]);
        assert_eq!(saved.referenced, "001");
        let mut back = Flow::default();
        back.absorb(serde_json::from_str(&serde_json::to_string(&saved).unwrap()).unwrap()).unwrap();
        assert_eq!(back.event_ids, ["E0010", "x", "E0012"]);
        assert_eq!(back.observations.iter().map(|o| o.ts).collect::<Vec<_>>(), [100, 200, 300]);
        let mut short = flow.saved();
        short.volume.pop();
        assert!(Flow::default().absorb(short).is_none());
        let mut orphan = flow.saved();
        orphan.event_ids[0] = IdStep::Step(1);
        assert!(Flow::default().absorb(orphan).is_none());
    }

    /// Tuesdays 05:00Z from 2021-09-07 for `weeks` weeks, to `recipient`, with `request_ref`.
    fn weekly_rows(recipient: &str, weeks: u64, with_ref: bool) -> Vec<String> {
        let start = chrono::NaiveDate::from_ymd_opt(2021, 9, 7).unwrap();
        (0..weeks)
            .map(|w| {
                let day = start + chrono::Days::new(7 * w);
                let reference = if with_ref { format!("REQ-{w}") } else { String::new() };
                format!("{recipient}-{w},{day}T05:00:00Z,batch,agent,transfer,follow_ups,identity,{recipient},,100,{reference}")
            })
            .collect()
    }

    fn run_rows(rows: &[String], registers: &[&str]) -> Vec<Finding> {
        let register = register(registers);
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        run_with_request_ref(&PeriodicTransfer, &register, &rows)
    }

    const SCHEDULED: &str = r#"
processing = "wikit"
in_force_from = "2015-10-06"
[[dataset]]
id = "follow_ups"
[[role]]
id = "agent"
[[purpose]]
id = "inspection"
datasets = ["follow_ups"]
[[recipient]]
id = "moe"
datasets = ["follow_ups"]
mode = "scheduled"
"#;

    #[test]
    fn a_weekly_feed_to_an_on_request_recipient_is_flagged_with_its_cadence() {
        let findings =
            run_rows(&weekly_rows("moe", 30, false), &[WIKIT_V2.replace("2022-03-01", "2015-10-06").as_str()]);
        assert_eq!(findings.len(), 1);
        let finding = &findings[0];
        assert_eq!((finding.severity, finding.events), (Severity::High, 30));
        assert_eq!(finding.period_days, Some(7.0));
        assert_eq!(finding.details()["cadence"]["family"], "weekly");
        assert_eq!(finding.details()["cadence"]["weekday_name"], "Tuesday");
        assert_eq!(finding.details()["subset"], "all");
        assert_eq!(legal_ref(finding), "CESEDA L.811-3");
        assert!(summary(finding).contains("every Tuesday"), "{}", summary(finding));
        assert_eq!(finding.evidence[0], "moe-0");
    }

    #[test]
    fn undeclared_recipients_are_flagged_and_scheduled_ones_are_not() {
        let undeclared = run_rows(&weekly_rows("moe", 30, false), &[WIKIT_V1]);
        assert_eq!(undeclared.len(), 1);
        assert!(rule(&undeclared[0]).contains("no [[recipient]]"), "{}", rule(&undeclared[0]));
        let scheduled = run_rows(&weekly_rows("moe", 30, false), &[SCHEDULED]);
        assert!(scheduled.is_empty());
    }

    #[test]
    fn a_feed_hidden_among_requests_is_found_in_the_unreferenced_part() {
        let mut rows = weekly_rows("moe", 30, false);
        // 150 irregular, referenced requests drown the feed (explained share 30/180)...
        for i in 0..150u64 {
            let date = chrono::NaiveDate::from_ymd_opt(2021, 9, 1).unwrap() + chrono::Days::new(i * 37 % 210);
            rows.push(format!(
                "req-{i},{date}T{:02}:{:02}:00Z,a1,agent,transfer,follow_ups,identity,moe,,1,PREF-{i}",
                8 + i * 5 % 9,
                i * 13 % 60
            ));
        }
        // ... but the part without a request reference is a weekly feed.
        let findings = run_rows(&rows, &[WIKIT_V2.replace("2022-03-01", "2015-10-06").as_str()]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].details()["subset"], "without_request_ref");
        assert_eq!(findings[0].events, 30);
    }

    #[test]
    fn punctual_requests_and_too_few_runs_are_not_flagged() {
        let rows: Vec<String> = [3u64, 11, 12, 40, 77, 130, 171, 200]
            .iter()
            .enumerate()
            .map(|(i, day)| {
                let date = chrono::NaiveDate::from_ymd_opt(2021, 9, 1).unwrap() + chrono::Days::new(*day);
                format!(
                    "req-{i},{date}T{:02}:{:02}:00Z,a1,agent,transfer,follow_ups,identity,moe,,1,PREF-{i}",
                    8 + i % 9,
                    (i * 7) % 60
                )
            })
            .collect();
        let found = run_rows(&rows, &[WIKIT_V1]);
        assert!(found.is_empty(), "{:?}", found.iter().map(|f| (summary(f), f.details())).collect::<Vec<_>>());
        assert!(run_rows(&weekly_rows("moe", 3, false), &[WIKIT_V1]).is_empty());
    }
}
