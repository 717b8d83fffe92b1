//! Cadence detection by calendar slot matching (`shared/design/periodic-transfers.md`).
//!
//! Beacon detectors score the *intervals* between events; calendar schedules defeat them
//! (months of 28–31 days, business days giving 1/3/4-day gaps, missed runs doubling a gap,
//! ad-hoc requests adding short ones). Instead we propose cron-like hypotheses (daily, business
//! days, some weekdays, every other week, a day of the month, the n-th weekday, the first or last
//! business day, a sub-daily step, a free-running interval), lay out the slots each expects, match
//! slots to runs one-to-one, and score how well each explains the runs:
//!
//! score = G · √(C · E) · T · V, with coverage C = k/M (missed runs), explained E = k/N (ad-hoc
//! runs), tightness T = 1/(1 + (s/45 min)²) (s = 1.4826·MAD of the residuals; the spec says
//! 40 min, the benchmark in docs/guide.md shows why 45), evidence
//! G = 1 − e^(−k/4) and volume regularity V = 0.7 + 0.3·max(0, 1 − robust CV of volumes).
//!
//! Pure functions over run times: no polars, no register; `periodic_transfer.rs` feeds it flows.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate, NaiveTime, Timelike};
use serde::Serialize;

use super::occupancy::{self, Period};
use crate::calendar::{BusinessCalendar, TimeBase};

const MINUTE_US: i64 = 60_000_000;
/// The largest spread (minutes) at which a sub-daily step keeps half its tightness.
const SUB_DAILY_SCALE_MAX_MIN: f64 = 10.0;
/// Hits a phase-locked schedule needs before its ad-hoc runs stop counting fully against it.
const LOCKED_HITS: usize = 8;
/// The score factor of once-per-period hypotheses (see `score`).
const ONCE_PER_PERIOD_FACTOR: f64 = 0.9;
/// Once-per-period hypotheses need this many more hits than `min_matched`: at about one run a
/// period, random requests fill a few periods in a row by chance.
const ONCE_PER_PERIOD_EXTRA_HITS: usize = 2;
const DAY_US: i64 = 1_440 * MINUTE_US;

/// Tunable thresholds; the defaults are the spec's and what the benchmark validates.
#[derive(Debug, Clone, Copy)]
pub struct CadenceParams {
    /// Events closer than this form one run (paged extractions).
    pub run_gap_us: i64,
    /// Fewer runs than this is insufficient evidence (score 0).
    pub min_runs: usize,
    /// How far a run may sit from a calendar slot and still match it.
    pub calendar_tolerance_us: i64,
    /// Score at or above which a cadence is systematic.
    pub systematic_score: f64,
    /// Score at or above which a cadence is worth a review (low severity).
    pub review_score: f64,
    /// Matched slots needed for a systematic verdict.
    pub min_matched: usize,
    /// The matched slots must span at least this many periods.
    pub min_periods: f64,
    /// Spread (robust σ of the residuals, minutes) at which tightness T falls to ½.
    pub tightness_scale_min: f64,
    /// Once a week: the share of periods holding a run, less half a standard error
    /// (½·√(C(1−C)/n) over n periods), needed for any verdict — a person's weekly extraction
    /// skipped one week in ten passes, a random half of the Mondays does not by luck. Once a
    /// fortnight, a month or every k days: 0.1 less (runs that hop between the two Mondays of a
    /// fortnight, or wander in the month, are held back by their position spread instead; a job
    /// re-armed by hand misses a third of its runs).
    pub min_occupancy: f64,
    /// Sub-daily steps and free-running intervals shorter than a day: the phase-locked hits
    /// must fall on at least this many distinct days.
    pub min_locked_days: usize,
}

impl Default for CadenceParams {
    fn default() -> Self {
        CadenceParams {
            run_gap_us: 10 * MINUTE_US,
            min_runs: 4,
            calendar_tolerance_us: 90 * MINUTE_US,
            systematic_score: 0.5,
            review_score: 0.35,
            min_matched: 4,
            min_periods: 3.0,
            tightness_scale_min: 45.0,
            min_occupancy: 0.7,
            min_locked_days: 4,
        }
    }
}

/// One event of a flow: when, how much, and its position in the caller's list.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub ts: i64,
    pub volume: f64,
    pub index: usize,
}

/// Events less than `run_gap` apart, taken as one run at the first event's time.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub ts: i64,
    pub volume: f64,
    /// Indexes of the observations in the run.
    pub members: Vec<usize>,
}

/// Sorts the observations (by time, then index: input order never matters) and collapses runs.
pub fn collapse_runs(observations: &mut [Observation], run_gap_us: i64) -> Vec<Run> {
    observations.sort_by(|a, b| (a.ts, a.index).cmp(&(b.ts, b.index)));
    let mut runs: Vec<Run> = Vec::new();
    let mut previous: Option<i64> = None;
    for observation in observations.iter() {
        match (runs.last_mut(), previous) {
            (Some(run), Some(previous_ts)) if observation.ts - previous_ts < run_gap_us => {
                run.volume += observation.volume;
                run.members.push(observation.index);
            }
            _ => runs.push(Run { ts: observation.ts, volume: observation.volume, members: vec![observation.index] }),
        }
        previous = Some(observation.ts);
    }
    runs
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Roll {
    /// No slot when the day does not exist in the month; no move on holidays.
    None,
    /// A slot on a non-business day moves to the next business day.
    Following,
    /// … or to the previous one.
    Preceding,
}

/// The calendar families of hypotheses (the "cron grammar").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "family", rename_all = "snake_case")]
pub enum Family {
    Daily,
    BusinessDay,
    /// Some weekdays (bit 0 = Monday).
    Weekdays {
        mask: u8,
    },
    Weekly {
        weekday: u8,
    },
    /// Every other week; `parity` is the ISO-week-number parity that runs.
    Biweekly {
        weekday: u8,
        parity: u8,
    },
    MonthlyDay {
        day: u32,
        roll: Roll,
    },
    /// `nth` 1–4, or −1 for the last such weekday of the month.
    MonthlyNthWeekday {
        nth: i8,
        weekday: u8,
    },
    FirstBusinessDay,
    LastBusinessDay,
    /// Every `period_min` minutes, on the grid of `phase_min`, between `from_min` and
    /// `to_min` (minutes of the day), every day or business days only.
    Fixed {
        period_min: u32,
        phase_min: u32,
        from_min: u32,
        to_min: u32,
        business_days_only: bool,
    },
    /// A period not tied to the clock (a job re-arming itself), from the first run.
    Interval {
        period_min: f64,
    },
    /// One run in (almost) every week, whichever day; `anchor_min` is the usual position in
    /// the week (minutes from Monday 00:00).
    OncePerWeek {
        anchor_min: i64,
    },
    /// One run in (almost) every fortnight (`anchor_min` from the Monday of an even fortnight).
    OncePerFortnight {
        anchor_min: i64,
    },
    /// One run in (almost) every month (`anchor_min` from the 1st, 00:00).
    OncePerMonth {
        anchor_min: i64,
    },
    /// One run every `days` days, give or take hours, with misses.
    EveryDays {
        days: u32,
        anchor_min: i64,
    },
}

/// What kind of regularity a family describes, as the finding explains it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A run at a fixed instant of the calendar (every Tuesday ≈ 06:00).
    FixedInstant,
    /// One run in every period, wherever in it (a week, a fortnight, a month, k days).
    OncePerPeriod,
    /// A step of minutes or hours, or a free-running interval.
    Interval,
}

impl Family {
    /// Simpler hypotheses win ties (within 0.02 of the best score).
    fn complexity(&self) -> u8 {
        match self {
            Family::Daily => 0,
            Family::Weekly { .. } => 1,
            Family::BusinessDay => 2,
            Family::MonthlyDay { roll: Roll::None, .. } => 3,
            Family::Fixed { business_days_only: false, .. } => 4,
            Family::Fixed { business_days_only: true, .. } => 5,
            Family::Weekdays { .. } => 6,
            Family::Biweekly { .. } => 7,
            Family::MonthlyDay { .. } => 8,
            Family::MonthlyNthWeekday { .. } => 9,
            Family::FirstBusinessDay | Family::LastBusinessDay => 10,
            Family::Interval { .. } => 11,
            Family::OncePerWeek { .. } => 12,
            Family::OncePerMonth { .. } => 13,
            Family::OncePerFortnight { .. } => 14,
            Family::EveryDays { .. } => 15,
        }
    }

    /// The period and anchor of a once-per-period family.
    pub fn occupancy_period(&self) -> Option<(Period, i64)> {
        match *self {
            Family::OncePerWeek { anchor_min } => Some((Period::Week, anchor_min)),
            Family::OncePerFortnight { anchor_min } => Some((Period::Fortnight, anchor_min)),
            Family::OncePerMonth { anchor_min } => Some((Period::Month, anchor_min)),
            Family::EveryDays { days, anchor_min } => Some((Period::Days(days), anchor_min)),
            _ => None,
        }
    }

    pub fn kind(&self) -> Kind {
        match self {
            Family::Fixed { .. } | Family::Interval { .. } => Kind::Interval,
            family if family.occupancy_period().is_some() => Kind::OncePerPeriod,
            _ => Kind::FixedInstant,
        }
    }

    /// A step shorter than a day: it must be phase-locked over many days to count.
    fn is_sub_daily(&self) -> bool {
        match self {
            Family::Fixed { .. } => true,
            Family::Interval { period_min } => *period_min < 1440.0,
            _ => false,
        }
    }

    /// The family's name, as in the finding's `cadence.family`.
    pub fn name(&self) -> &'static str {
        match self {
            Family::Daily => "daily",
            Family::BusinessDay => "business_day",
            Family::Weekdays { .. } => "weekdays",
            Family::Weekly { .. } => "weekly",
            Family::Biweekly { .. } => "biweekly",
            Family::MonthlyDay { .. } => "monthly_day",
            Family::MonthlyNthWeekday { .. } => "monthly_nth_weekday",
            Family::FirstBusinessDay => "first_business_day",
            Family::LastBusinessDay => "last_business_day",
            Family::Fixed { .. } => "fixed",
            Family::Interval { .. } => "interval",
            Family::OncePerWeek { .. } => "once_per_week",
            Family::OncePerFortnight { .. } => "once_per_fortnight",
            Family::OncePerMonth { .. } => "once_per_month",
            Family::EveryDays { .. } => "every_days",
        }
    }

    /// The nominal period, in days.
    pub fn period_days(&self) -> f64 {
        match self {
            Family::Daily => 1.0,
            Family::BusinessDay => 7.0 / 5.0,
            Family::Weekdays { mask } => 7.0 / f64::from(mask.count_ones().max(1)),
            Family::Weekly { .. } => 7.0,
            Family::Biweekly { .. } => 14.0,
            Family::MonthlyDay { .. }
            | Family::MonthlyNthWeekday { .. }
            | Family::FirstBusinessDay
            | Family::LastBusinessDay => 365.25 / 12.0,
            Family::Fixed { period_min, .. } => f64::from(*period_min) / 1440.0,
            Family::Interval { period_min } => period_min / 1440.0,
            family => family.occupancy_period().map_or(1.0, |(period, _)| period.days()),
        }
    }
}

/// A family at a time of day, in a time base.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    pub family: Family,
    /// Minute of the day of the slots (calendar families).
    pub minute: u32,
    pub base: TimeBase,
}

/// The best explanation of a flow's runs and what an auditor cites from it.
#[derive(Debug, Clone)]
pub struct Cadence {
    pub hypothesis: Hypothesis,
    pub score: f64,
    pub verdict: Verdict,
    /// k: slots matched to a run.
    pub matched: usize,
    /// M: slots expected between the first and last matched slot.
    pub expected: usize,
    /// N: runs in the flow.
    pub runs: usize,
    pub coverage: f64,
    pub explained: f64,
    /// 1.4826·MAD of the residuals, minutes.
    pub spread_minutes: f64,
    /// Expected slots with no run (instants, µs).
    pub missed: Vec<i64>,
    /// Runs matched to no slot (indexes into the runs); listed for the chosen hypothesis only.
    pub ad_hoc: Vec<usize>,
    /// (slot, run index) pairs, in slot order.
    pub hits: Vec<(i64, usize)>,
    /// Once-per-period families: empty periods explained by a holiday, August or
    /// Christmas (their centres, µs), counted neither as hits nor as misses.
    pub excused: Vec<i64>,
    /// Better-scoring hypotheses set aside, and why (a step not phase-locked, a burst…).
    pub rejected: Vec<Rejection>,
}

/// A hypothesis that scored higher than the verdict's but could not stand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rejection {
    pub description: String,
    pub score: f64,
    /// Why, in English (`why` holds the same as facts, for the reports' other languages).
    pub reason: String,
    /// The hypothesis as machine fields (family, its parameters, time of day, time base).
    pub cadence: serde_json::Value,
    pub why: SetAside,
}

impl Rejection {
    fn of(hypothesis: &Hypothesis, candidate: &Cadence, why: SetAside) -> Rejection {
        Rejection {
            description: hypothesis.describe(),
            score: (candidate.score * 1000.0).round() / 1000.0,
            reason: why.english(),
            cadence: hypothesis.fields(),
            why,
        }
    }
}

/// Why a hypothesis was set aside whatever its score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SetAside {
    /// Every run carries a request reference, so a step shorter than a day is requests answered.
    EveryRunReferenced,
    /// A sub-daily step seen on too few days.
    TooFewLockedDays { days: usize, needed: usize },
    /// A sub-daily step whose runs do not keep their phase.
    NotPhaseLocked { spread_minutes: f64 },
    /// A once-per-period schedule with too few periods holding a run.
    LowOccupancy { matched: usize, expected: usize, needed_percent: f64 },
    /// A once-per-period schedule seen in too few periods.
    TooFewPeriods { matched: usize, needed: usize },
    /// About one run a period, at a place in the period that wanders.
    WanderingPlace { spread_days: f64 },
}

impl SetAside {
    /// The reason in English (what `Rejection::reason` says).
    pub fn english(&self) -> String {
        match self {
            SetAside::EveryRunReferenced => {
                "every run carries a request reference: requests answered one after another, not a machine's step"
                    .into()
            }
            SetAside::TooFewLockedDays { days, needed } => format!(
                "a step shorter than a day seen on {days} day(s): it must repeat, phase-locked, on at least {needed} days"
            ),
            SetAside::NotPhaseLocked { spread_minutes } => format!(
                "a step shorter than a day not phase-locked (spread {spread_minutes:.0} min): such a step is systematic or nothing"
            ),
            SetAside::LowOccupancy { matched, expected, needed_percent } => format!(
                "runs in {matched} of {expected} periods: a once-per-period schedule needs at least {needed_percent:.0} % (less half a standard error)"
            ),
            SetAside::TooFewPeriods { matched, needed } => {
                format!("runs in only {matched} periods: a once-per-period schedule needs {needed}")
            }
            SetAside::WanderingPlace { spread_days } => format!(
                "about one run a period, but its place in the period wanders (spread {spread_days:.1} days): a once-per-period schedule is systematic or nothing"
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Systematic,
    Review,
    Punctual,
}

/// Finds the best cadence of `runs` (sorted by time), trying every hypothesis in both bases.
/// None when there are fewer than `min_runs` runs: not enough evidence to say anything.
pub fn detect(
    runs: &[Run],
    params: &CadenceParams,
    timezone: chrono_tz::Tz,
    calendar: &BusinessCalendar,
) -> Option<Cadence> {
    detect_flow(runs, params, timezone, calendar, false)
}

/// [`detect`], told whether every run of the flow carries a request reference: requests
/// answered one after another are not a machine's step, so then no step shorter than a day
/// is considered (a case burst of referenced transfers is not a feed). Such steps then appear
/// only among the rejected hypotheses of a verdict worth reporting (systematic or review); a
/// punctual verdict, which no finding shows, lists none of them.
pub fn detect_flow(
    runs: &[Run],
    params: &CadenceParams,
    timezone: chrono_tz::Tz,
    calendar: &BusinessCalendar,
    every_run_referenced: bool,
) -> Option<Cadence> {
    if runs.len() < params.min_runs {
        return None;
    }
    let mut best: Option<Cadence> = None;
    // Each rejection with its hypothesis's place in the order tried: rejections worked out
    // late (below) are ranked as if tried in turn.
    let mut rejected: Vec<(usize, Rejection)> = Vec::new();
    // The runs' instants packed: slot matching reads them for every hypothesis.
    let times: Vec<i64> = runs.iter().map(|run| run.ts).collect();
    let mut days_of_base = Vec::new();
    // Steps shorter than a day of a flow whose every run is referenced: set aside whatever they
    // score, they can only be listed as rejected, and only a verdict worth reporting lists them
    // (most referenced flows are punctual: these steps were half the cadence engine's work).
    let mut set_aside_unless_reported: Vec<(usize, Hypothesis)> = Vec::new();
    let mut tried = 0;
    for base in [TimeBase::Local(timezone), TimeBase::Utc] {
        let days = SpanDays::of_runs(base, runs, params, calendar);
        for hypothesis in hypotheses(runs, base) {
            tried += 1;
            if every_run_referenced && hypothesis.family.is_sub_daily() {
                set_aside_unless_reported.push((tried, hypothesis));
                continue;
            }
            let Some(candidate) = evaluate_keeping(&hypothesis, runs, &times, params, &days, false) else { continue };
            if let Some(why) = rejection(&candidate, params, every_run_referenced) {
                rejected.push((tried, Rejection::of(&hypothesis, &candidate, why)));
                continue;
            }
            best = Some(match best {
                None => candidate,
                Some(current) => better(current, candidate),
            });
        }
        days_of_base.push(days);
    }
    let days_of = |base: TimeBase| days_of_base.iter().find(|days| days.base == base);
    // The chosen hypothesis again, with its missed slots listed.
    let mut best =
        best.and_then(|b| evaluate_keeping(&b.hypothesis, runs, &times, params, days_of(b.hypothesis.base)?, true))?;
    if best.verdict != Verdict::Punctual {
        for (order, hypothesis) in set_aside_unless_reported {
            let Some(days) = days_of(hypothesis.base) else { continue };
            let Some(candidate) = evaluate_keeping(&hypothesis, runs, &times, params, days, false) else { continue };
            if let Some(why) = rejection(&candidate, params, every_run_referenced) {
                rejected.push((order, Rejection::of(&hypothesis, &candidate, why)));
            }
        }
    }
    rejected.sort_by_key(|(order, _)| *order);
    let mut rejected: Vec<Rejection> = rejected.into_iter().map(|(_, rejection)| rejection).collect();
    // The rejected hypotheses that scored above the verdict's, best first: what a reader of the
    // finding would otherwise ask about ("why not every 46 min?").
    rejected.retain(|r| r.score > best.score);
    rejected.sort_by(|a, b| {
        b.score.partial_cmp(&a.score).unwrap_or(Ordering::Equal).then(a.description.cmp(&b.description))
    });
    rejected.dedup_by(|a, b| a.description == b.description);
    rejected.truncate(3);
    best.rejected = rejected;
    Some(best)
}

/// Why a candidate cannot stand whatever its score, if it cannot.
fn rejection(candidate: &Cadence, params: &CadenceParams, every_run_referenced: bool) -> Option<SetAside> {
    let family = &candidate.hypothesis.family;
    if family.is_sub_daily() {
        let base = candidate.hypothesis.base;
        let mut days: Vec<NaiveDate> = candidate.hits.iter().map(|(slot, _)| base.wall_clock(*slot).date()).collect();
        days.dedup();
        if every_run_referenced {
            return Some(SetAside::EveryRunReferenced);
        }
        let span_days =
            candidate.hits.last().zip(candidate.hits.first()).map_or(0.0, |(l, f)| (l.0 - f.0) as f64 / DAY_US as f64);
        if days.len() < params.min_locked_days || span_days < (params.min_locked_days - 1) as f64 {
            return Some(SetAside::TooFewLockedDays { days: days.len(), needed: params.min_locked_days });
        }
        if candidate.verdict == Verdict::Review {
            return Some(SetAside::NotPhaseLocked { spread_minutes: candidate.spread_minutes });
        }
    }
    if family.kind() == Kind::OncePerPeriod {
        let (c, n) = (candidate.coverage, candidate.expected.max(1) as f64);
        let needed = match family {
            Family::OncePerWeek { .. } => params.min_occupancy,
            _ => params.min_occupancy - 0.1,
        };
        if c - 0.5 * (c * (1.0 - c) / n).sqrt() < needed {
            return Some(SetAside::LowOccupancy {
                matched: candidate.matched,
                expected: candidate.expected,
                needed_percent: needed * 100.0,
            });
        }
        if candidate.matched < params.min_matched + ONCE_PER_PERIOD_EXTRA_HITS {
            return Some(SetAside::TooFewPeriods {
                matched: candidate.matched,
                needed: params.min_matched + ONCE_PER_PERIOD_EXTRA_HITS,
            });
        }
        if candidate.verdict == Verdict::Review {
            return Some(SetAside::WanderingPlace { spread_days: candidate.spread_minutes / 1440.0 });
        }
    }
    None
}

/// Keeps the better of two candidates: a clearly higher score wins; within 0.02 the simpler.
fn better(current: Cadence, candidate: Cadence) -> Cadence {
    let difference = candidate.score - current.score;
    let simpler = candidate.hypothesis.family.complexity() < current.hypothesis.family.complexity();
    if difference > 0.02 || (difference.abs() <= 0.02 && simpler) { candidate } else { current }
}

// ---------------------------------------------------------------------------------------------
// Hypotheses

fn minute_of_day(base: TimeBase, us: i64) -> u32 {
    let wall = base.wall_clock(us);
    wall.hour() * 60 + wall.minute()
}

/// Signed distance from `b` to `a` on the 1440-minute circle, in (−720, 720].
fn circular_offset(a: u32, b: u32) -> i32 {
    let mut d = a as i32 - b as i32;
    if d > 720 {
        d -= 1440;
    }
    if d <= -720 {
        d += 1440;
    }
    d
}

/// Each minute's count plus those of the 15 minutes either side, around the circle of the day:
/// the window's sum slides a minute at a time (31 additions a minute before).
fn smoothed(histogram: &[u32; 1440]) -> Vec<u32> {
    let at = |i: i32| histogram[i.rem_euclid(1440) as usize];
    let mut window: u32 = (-15..=15).map(at).sum();
    let mut smoothed = vec![0u32; 1440];
    for i in 0..1440 {
        smoothed[i as usize] = window;
        window = window + at(i + 16) - at(i - 15);
    }
    smoothed
}

/// Up to three times of day around which runs cluster (circular histogram smoothed ±15 min,
/// peaks with ≥ 3 runs, refined to the circular median of the runs within ±30 min).
pub fn anchors(minutes: &[u32]) -> Vec<u32> {
    let mut histogram = [0u32; 1440];
    for &m in minutes {
        histogram[m as usize % 1440] += 1;
    }
    let smoothed = smoothed(&histogram);
    let mut order: Vec<usize> = (0..1440).filter(|&i| smoothed[i] >= 3).collect();
    order.sort_by(|&a, &b| smoothed[b].cmp(&smoothed[a]).then(a.cmp(&b)));
    let mut peaks: Vec<u32> = Vec::new();
    for candidate in order {
        if peaks.len() == 3 {
            break;
        }
        if peaks.iter().all(|&p| circular_offset(candidate as u32, p).abs() > 30) {
            peaks.push(candidate as u32);
        }
    }
    peaks
        .into_iter()
        .map(|peak| {
            let mut near: Vec<i32> =
                minutes.iter().map(|&m| circular_offset(m, peak)).filter(|d| d.abs() <= 30).collect();
            near.sort_unstable();
            let median = if near.is_empty() { 0 } else { near[near.len() / 2] };
            (peak as i32 + median).rem_euclid(1440) as u32
        })
        .collect()
}

fn weekday_index(date: NaiveDate) -> u8 {
    date.weekday().num_days_from_monday() as u8
}

/// Most frequent values first, ties broken by the value.
fn ranked<K: Ord + Clone>(values: impl Iterator<Item = K>) -> Vec<(K, usize)> {
    let mut counts: BTreeMap<K, usize> = BTreeMap::new();
    for value in values {
        *counts.entry(value).or_default() += 1;
    }
    let mut ranked: Vec<(K, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked
}

fn nth_weekday_of(date: NaiveDate) -> (i8, u8) {
    let nth = ((date.day() - 1) / 7 + 1) as i8;
    (nth.min(5), weekday_index(date))
}

fn is_last_weekday_of_month(date: NaiveDate) -> bool {
    (date + Days::new(7)).month() != date.month()
}

const SUB_DAILY_STEPS: [u32; 12] = [5, 10, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720];

/// About sixty hypotheses per anchor and base, drawn from where the runs actually fall.
fn hypotheses(runs: &[Run], base: TimeBase) -> Vec<Hypothesis> {
    let minutes: Vec<u32> = runs.iter().map(|r| minute_of_day(base, r.ts)).collect();
    let anchors = anchors(&minutes);
    let mut families: Vec<(Family, u32)> = Vec::new();
    for &anchor in &anchors {
        // The runs of this anchor (within 90 min): their days decide the calendar candidates.
        let days: Vec<NaiveDate> = runs
            .iter()
            .zip(&minutes)
            .filter(|(_, m)| circular_offset(**m, anchor).abs() <= 90)
            .map(|(r, _)| base.wall_clock(r.ts).date())
            .collect();
        families.push((Family::Daily, anchor));
        families.push((Family::BusinessDay, anchor));
        families.push((Family::FirstBusinessDay, anchor));
        families.push((Family::LastBusinessDay, anchor));
        let weekdays = ranked(days.iter().map(|d| weekday_index(*d)));
        for (weekday, _) in &weekdays {
            families.push((Family::Weekly { weekday: *weekday }, anchor));
        }
        if let Some(&(_, top_count)) = weekdays.first() {
            let mask = weekdays.iter().filter(|(_, c)| *c * 2 >= top_count).fold(0u8, |m, (w, _)| m | 1 << w);
            if (2..=5).contains(&mask.count_ones()) {
                families.push((Family::Weekdays { mask }, anchor));
            }
            for (weekday, _) in weekdays.iter().take(2) {
                for parity in 0..2 {
                    families.push((Family::Biweekly { weekday: *weekday, parity }, anchor));
                }
            }
        }
        for (day, _) in ranked(days.iter().map(|d| d.day())).into_iter().take(2) {
            for roll in [Roll::None, Roll::Following, Roll::Preceding] {
                families.push((Family::MonthlyDay { day, roll }, anchor));
            }
        }
        for ((nth, weekday), _) in ranked(days.iter().map(|d| nth_weekday_of(*d))).into_iter().take(2) {
            if nth <= 4 {
                families.push((Family::MonthlyNthWeekday { nth, weekday }, anchor));
            }
        }
        for (weekday, _) in
            ranked(days.iter().filter(|d| is_last_weekday_of_month(**d)).map(|d| weekday_index(*d))).into_iter().take(1)
        {
            families.push((Family::MonthlyNthWeekday { nth: -1, weekday }, anchor));
        }
    }
    let gaps: Vec<f64> = runs.windows(2).map(|w| (w[1].ts - w[0].ts) as f64 / MINUTE_US as f64).collect();
    let median_gap = median(&gaps).unwrap_or(0.0);
    families.extend(once_per_period_families(runs, base, median_gap));
    if median_gap > 0.0 && median_gap < 20.0 * 60.0 {
        let (from, to) = active_hours(&minutes);
        for &period in &SUB_DAILY_STEPS {
            for phase in anchors.iter().map(|a| a % period).take(1) {
                for business_days_only in [false, true] {
                    let family = Family::Fixed {
                        period_min: period,
                        phase_min: phase,
                        from_min: from,
                        to_min: to,
                        business_days_only,
                    };
                    families.push((family, phase));
                }
            }
        }
    }
    if median_gap >= 10.0 {
        families.push((Family::Interval { period_min: median_gap }, 0));
    }
    let mut seen = Vec::new();
    families
        .into_iter()
        .filter(|f| {
            let new = !seen.contains(f);
            if new {
                seen.push(f.clone());
            }
            new
        })
        .map(|(family, minute)| Hypothesis { family, minute, base })
        .collect()
}

/// Once-per-period hypotheses where the runs come about once a period (half to two and a half
/// runs per period on average) over at least three periods; every k days from the median gap.
fn once_per_period_families(runs: &[Run], base: TimeBase, median_gap_min: f64) -> Vec<(Family, u32)> {
    let span_days = (runs[runs.len() - 1].ts - runs[0].ts) as f64 / DAY_US as f64;
    let mut periods = vec![Period::Week, Period::Fortnight, Period::Month];
    let every = (median_gap_min / 1440.0).round();
    if (2.0..=6.0).contains(&every) && (median_gap_min / 1440.0 - every).abs() < 0.35 {
        periods.push(Period::Days(every as u32));
    }
    let mut families = Vec::new();
    for period in periods {
        let expected = span_days / period.days();
        let per_period = runs.len() as f64 / expected.max(1.0);
        if expected < 3.0 || !(0.5..=2.5).contains(&per_period) {
            continue;
        }
        let positions: Vec<i64> = runs.iter().map(|r| occupancy::position(period, base, r.ts)).collect();
        let anchor_min = occupancy::anchor(period, &positions);
        let family = match period {
            Period::Week => Family::OncePerWeek { anchor_min },
            Period::Fortnight => Family::OncePerFortnight { anchor_min },
            Period::Month => Family::OncePerMonth { anchor_min },
            Period::Days(days) => Family::EveryDays { days, anchor_min },
        };
        families.push((family, (anchor_min % 1440) as u32));
    }
    families
}

/// The span of the day the runs use (minutes), for sub-daily schedules in office hours.
fn active_hours(minutes: &[u32]) -> (u32, u32) {
    let mut sorted = minutes.to_vec();
    sorted.sort_unstable();
    let low = sorted[sorted.len() / 50];
    let high = sorted[sorted.len() - 1 - sorted.len() / 50];
    (low, high)
}

// ---------------------------------------------------------------------------------------------
// Slots and matching

/// One day of a flow's span as slot layout sees it.
struct SpanDay {
    date: NaiveDate,
    /// 0 = Monday.
    weekday: u8,
    /// The ISO week number's parity (every-other-week schedules).
    iso_week_parity: u8,
    business: bool,
    /// The instant of the day's 00:00 in the time base, or None on a day whose clock changes
    /// (each slot's instant is then looked up on its own).
    midnight_us: Option<i64>,
}

/// The days of a flow's span in one time base, worked out once per flow and base: every
/// hypothesis (sixty or so per flow) used to ask the calendar and the time zone again for each
/// day it lays slots on — two zone lookups a day.
struct SpanDays<'c> {
    base: TimeBase,
    calendar: &'c BusinessCalendar,
    days: Vec<SpanDay>,
}

impl<'c> SpanDays<'c> {
    /// `first` to `last` inclusive.
    fn new(base: TimeBase, first: NaiveDate, last: NaiveDate, calendar: &'c BusinessCalendar) -> SpanDays<'c> {
        let days = first
            .iter_days()
            .take_while(|date| *date <= last)
            .map(|date| SpanDay {
                date,
                weekday: weekday_index(date),
                iso_week_parity: (date.iso_week().week() % 2) as u8,
                business: calendar.is_business_day(date),
                midnight_us: base
                    .steady_offset_us(date)
                    .map(|offset| date.and_time(NaiveTime::MIN).and_utc().timestamp_micros() - offset),
            })
            .collect();
        SpanDays { base, calendar, days }
    }

    /// Every day a hypothesis of these runs can lay a slot on: the runs' span widened by the
    /// largest tolerance (a sub-daily step's quarter period, or the calendar tolerance) and a day
    /// each side, as `slots` widens it.
    fn of_runs(base: TimeBase, runs: &[Run], params: &CadenceParams, calendar: &'c BusinessCalendar) -> SpanDays<'c> {
        let widest =
            params.calendar_tolerance_us.max(i64::from(SUB_DAILY_STEPS[SUB_DAILY_STEPS.len() - 1]) * MINUTE_US / 4);
        let (Some(first_run), Some(last_run)) = (runs.first(), runs.last()) else {
            return SpanDays { base, calendar, days: Vec::new() };
        };
        let first = base.wall_clock(first_run.ts - widest).date() - Days::new(1);
        let last = base.wall_clock(last_run.ts + widest).date() + Days::new(1);
        SpanDays::new(base, first, last, calendar)
    }

    fn covers(&self, first: NaiveDate, last: NaiveDate) -> bool {
        match (self.days.first(), self.days.last()) {
            (Some(start), Some(end)) => start.date <= first && last <= end.date,
            _ => false,
        }
    }

    /// The days from `first` to `last` inclusive (both covered).
    fn between(&self, first: NaiveDate, last: NaiveDate) -> &[SpanDay] {
        let Some(start) = self.days.first().map(|day| day.date) else { return &[] };
        let index = |date: NaiveDate| (date - start).num_days().clamp(0, self.days.len() as i64) as usize;
        &self.days[index(first)..index(last + Days::new(1)).max(index(first))]
    }

    /// The day of `date` (covered).
    fn day(&self, date: NaiveDate) -> &SpanDay {
        let start = self.days[0].date;
        &self.days[(date - start).num_days() as usize]
    }
}

/// The dates a calendar family expects a run on, between two dates inclusive.
fn slot_dates(family: &Family, first: NaiveDate, last: NaiveDate, days: &SpanDays) -> Vec<NaiveDate> {
    let calendar = days.calendar;
    let span = days.between(first, last);
    let days_where =
        |keep: &dyn Fn(&SpanDay) -> bool| span.iter().filter(|day| keep(day)).map(|day| day.date).collect();
    let months = || {
        // Cannot fail: day 1 exists in every month.
        let mut month = NaiveDate::from_ymd_opt(first.year(), first.month(), 1).expect("month start");
        std::iter::from_fn(move || {
            if month > last {
                return None;
            }
            let current = month;
            // Cannot fail: dates of events (years 1-9999) are far from chrono's limit (year 262,143).
            month = month.checked_add_months(chrono::Months::new(1)).expect("next month");
            Some(current)
        })
    };
    // Cannot fail: dates of events (years 1-9999) are far from chrono's limit (year 262,143).
    let month_end = |start: NaiveDate| start.checked_add_months(chrono::Months::new(1)).expect("month") - Days::new(1);
    let dates: Vec<NaiveDate> = match family {
        Family::Daily => days_where(&|_| true),
        Family::BusinessDay => days_where(&|day| day.business),
        Family::Weekdays { mask } => days_where(&|day| mask & (1 << day.weekday) != 0),
        Family::Weekly { weekday } => days_where(&|day| day.weekday == *weekday),
        Family::Biweekly { weekday, parity } => {
            days_where(&|day| day.weekday == *weekday && day.iso_week_parity == *parity)
        }
        Family::MonthlyDay { day, roll } => months()
            .filter_map(|start| NaiveDate::from_ymd_opt(start.year(), start.month(), *day))
            .map(|nominal| match roll {
                Roll::None => nominal,
                Roll::Following => calendar.roll(nominal, true),
                Roll::Preceding => calendar.roll(nominal, false),
            })
            .collect(),
        Family::MonthlyNthWeekday { nth, weekday } => months()
            .filter_map(|start| {
                let matching: Vec<NaiveDate> = start
                    .iter_days()
                    .take_while(|d| d.month() == start.month())
                    .filter(|d| weekday_index(*d) == *weekday)
                    .collect();
                if *nth < 0 { matching.last().copied() } else { matching.get(*nth as usize - 1).copied() }
            })
            .collect(),
        Family::FirstBusinessDay => months().map(|start| calendar.roll(start, true)).collect(),
        Family::LastBusinessDay => months().map(|start| calendar.roll(month_end(start), false)).collect(),
        Family::Fixed { business_days_only, .. } => days_where(&|day| !business_days_only || day.business),
        Family::Interval { .. }
        | Family::OncePerWeek { .. }
        | Family::OncePerFortnight { .. }
        | Family::OncePerMonth { .. }
        | Family::EveryDays { .. } => Vec::new(),
    };
    dates.into_iter().filter(|d| *d >= first && *d <= last).collect()
}

/// Expected slot instants between the first and last run (± tolerance), sorted.
fn slots(hypothesis: &Hypothesis, runs: &[Run], tolerance: i64, days: &SpanDays) -> Vec<i64> {
    let (start, end) = (runs[0].ts - tolerance, runs[runs.len() - 1].ts + tolerance);
    let base = hypothesis.base;
    let mut instants: Vec<i64> = match &hypothesis.family {
        Family::Interval { period_min } => {
            let period = (period_min * MINUTE_US as f64) as i64;
            let count = ((end - runs[0].ts) / period.max(1)) as usize;
            (0..=count).map(|i| runs[0].ts + i as i64 * period).collect()
        }
        family => {
            let first = base.wall_clock(start).date() - Days::new(1);
            let last = base.wall_clock(end).date() + Days::new(1);
            let minutes_of_day: Vec<u32> = match family {
                Family::Fixed { period_min, phase_min, from_min, to_min, .. } => {
                    (0..1440).filter(|m| m % period_min == *phase_min && m >= from_min && m <= to_min).collect()
                }
                _ => vec![hypothesis.minute],
            };
            // The table must cover the days asked for; a hypothesis whose tolerance reaches
            // past the flow's table (none does today) gets a table of its own.
            let own_table;
            let days = if days.covers(first, last) {
                days
            } else {
                own_table = SpanDays::new(base, first, last, days.calendar);
                &own_table
            };
            let dates = slot_dates(family, first, last, days);
            // Sized once: a step of minutes over years lays hundreds of thousands of slots, and
            // growing the vector as they came copied them again at every doubling.
            let mut instants = Vec::with_capacity(dates.len() * minutes_of_day.len());
            for date in dates {
                // Cannot fail: m is a minute of the day (below 1440).
                let wall = |m: u32| date.and_time(NaiveTime::from_hms_opt(m / 60, m % 60, 0).expect("valid minute"));
                // One time-zone lookup per day, not per slot, and per flow, not per hypothesis:
                // on a day without a clock change every wall time has the day's offset (a step of
                // minutes has hundreds of slots a day).
                match days.day(date).midnight_us {
                    // Wall minute m of the day is midnight plus m minutes: no date arithmetic per slot.
                    Some(midnight) => {
                        instants.extend(minutes_of_day.iter().map(|m| midnight + i64::from(*m) * MINUTE_US))
                    }
                    None => instants.extend(minutes_of_day.iter().map(|m| base.instant(wall(*m)))),
                }
            }
            instants
        }
    };
    instants.retain(|t| *t >= start && *t <= end);
    instants.sort_unstable();
    instants.dedup();
    instants
}

/// The slots some run can take — what [`slots`] lays out, less the slots no run comes within
/// `tolerance` of — with each one's position among all the slots, for a fixed step.
///
/// A step of minutes over years lays hundreds of thousands of slots for a few thousand runs
/// (the cadence engine's largest cost); slots no run can take match nothing and only count as
/// missed, so a day's slots are counted, and only those near a run are listed. None where this
/// does not apply (other families, a day table too short, days whose slots would interleave):
/// then [`slots`] lays them all out.
struct NearSlots {
    instants: Vec<i64>,
    /// Each listed slot's index among every slot of the hypothesis.
    positions: Vec<usize>,
}

/// One day's slots within the runs' span: on a day with a steady clock, minutes after midnight
/// (`minutes[from..to]`); on a day whose clock changes, the instants themselves, sorted, once each.
enum DaySlots<'m> {
    Steady { midnight: i64, minutes: &'m [i64], from: usize, to: usize },
    Listed(Vec<i64>),
}

impl DaySlots<'_> {
    fn len(&self) -> usize {
        match self {
            DaySlots::Steady { from, to, .. } => to - from,
            DaySlots::Listed(instants) => instants.len(),
        }
    }

    fn get(&self, index: usize) -> i64 {
        match self {
            DaySlots::Steady { midnight, minutes, from, .. } => midnight + minutes[from + index] * MINUTE_US,
            DaySlots::Listed(instants) => instants[index],
        }
    }

    /// How many of the day's slots come before `bound` (or at it, with `inclusive`).
    fn count_below(&self, bound: i64, inclusive: bool) -> usize {
        let below = |t: i64| t < bound || (inclusive && t == bound);
        match self {
            DaySlots::Steady { midnight, minutes, from, to } => {
                minutes[*from..*to].partition_point(|m| below(midnight + m * MINUTE_US))
            }
            DaySlots::Listed(instants) => instants.partition_point(|t| below(*t)),
        }
    }
}

/// Whether a fixed step lays many more slots than there are runs: then finding the slots near
/// each run (two searches a run) costs less than laying them all out (a few nanoseconds a slot);
/// a step of hours over a dense flow lays fewer slots than it has runs (50M bench world).
fn slots_outnumber_runs(hypothesis: &Hypothesis, runs: &[Run]) -> bool {
    let Family::Fixed { period_min, from_min, to_min, .. } = hypothesis.family else { return false };
    let (Some(first), Some(last)) = (runs.first(), runs.last()) else { return false };
    let slots_a_day = f64::from(to_min.saturating_sub(from_min) / period_min.max(1) + 1);
    let days = ((last.ts - first.ts) as f64 / (1440.0 * MINUTE_US as f64)).max(1.0);
    slots_a_day * days > 8.0 * runs.len() as f64
}

/// The [`NearSlots`] of a fixed-step hypothesis; None where [`slots`] must lay them all out.
fn near_slots(
    hypothesis: &Hypothesis,
    runs: &[Run],
    times: &[i64],
    tolerance: i64,
    days: &SpanDays,
) -> Option<NearSlots> {
    let Family::Fixed { period_min, phase_min, from_min, to_min, business_days_only } = hypothesis.family else {
        return None;
    };
    let (start, end) = (runs.first()?.ts - tolerance, runs.last()?.ts + tolerance);
    let base = hypothesis.base;
    let (first, last) = (base.wall_clock(start).date() - Days::new(1), base.wall_clock(end).date() + Days::new(1));
    if !days.covers(first, last) {
        return None;
    }
    let minutes: Vec<i64> =
        (0..1440).filter(|m| m % period_min == phase_min && *m >= from_min && *m <= to_min).map(i64::from).collect();
    let mut near = NearSlots { instants: Vec::new(), positions: Vec::new() };
    let (mut slots_before, mut last_instant, mut first_run) = (0usize, i64::MIN, 0usize);
    for day in days.between(first, last).iter().filter(|day| !business_days_only || day.business) {
        let day_slots = match day.midnight_us {
            Some(midnight) => {
                let from = minutes.partition_point(|m| midnight + m * MINUTE_US < start);
                let to = minutes.partition_point(|m| midnight + m * MINUTE_US <= end).max(from);
                DaySlots::Steady { midnight, minutes: &minutes, from, to }
            }
            None => {
                // Cannot fail: m is a minute of the day (below 1440).
                let wall = |m: i64| {
                    let time = NaiveTime::from_hms_opt((m / 60) as u32, (m % 60) as u32, 0).expect("valid minute");
                    base.instant(day.date.and_time(time))
                };
                let mut instants: Vec<i64> =
                    minutes.iter().map(|m| wall(*m)).filter(|t| *t >= start && *t <= end).collect();
                instants.sort_unstable();
                instants.dedup();
                DaySlots::Listed(instants)
            }
        };
        let count = day_slots.len();
        if count == 0 {
            continue;
        }
        // Laid out day after day, the slots must come in order for positions to be counted.
        if day_slots.get(0) <= last_instant {
            return None;
        }
        last_instant = day_slots.get(count - 1);
        // The runs near the day's slots, each naming the slots within its tolerance.
        first_run = first_at_least(times, first_run, day_slots.get(0) - tolerance);
        let mut next_unlisted = 0;
        for &time in times[first_run..].iter().take_while(|t| **t <= last_instant + tolerance) {
            let (from, to) =
                (day_slots.count_below(time - tolerance, false), day_slots.count_below(time + tolerance, true));
            for index in from.max(next_unlisted)..to {
                near.instants.push(day_slots.get(index));
                near.positions.push(slots_before + index);
            }
            next_unlisted = next_unlisted.max(to);
        }
        slots_before += count;
    }
    Some(near)
}

/// One-to-one matching, nearest pairs first, within `tolerance`. Returns, per slot, its run.
///
/// Slots that share no run with the slots before them start a new group, matched apart: pairs
/// of two groups never compete, so sorting each group's pairs gives the matching one sort of all
/// pairs gives, in many small sorts (this was the cadence engine's largest sort).
#[cfg(test)]
fn match_slots(slots: &[i64], runs: &[Run], tolerance: i64) -> Vec<Option<usize>> {
    let times: Vec<i64> = runs.iter().map(|run| run.ts).collect();
    let mut slot_run = vec![None; slots.len()];
    for (slot_index, run) in match_slot_times(slots, &times, tolerance) {
        slot_run[slot_index] = Some(run);
    }
    slot_run
}

/// [`match_slots`] over the runs' instants (sorted), as the matched (slot, run) pairs in slot
/// order: a step of minutes over years lays hundreds of thousands of slots for a few thousand
/// runs, and a per-slot answer was mostly empty entries, written and then read again.
fn match_slot_times(slots: &[i64], runs: &[i64], tolerance: i64) -> Vec<(usize, usize)> {
    let mut matching = Matching { hits: Vec::new(), pairs: Vec::new() };
    // The group's slots, each with its candidate runs (`low..high`), matched when it closes.
    let mut group: Vec<Candidates> = Vec::new();
    // One past the last run a slot of the group can take.
    let mut group_end = 0;
    let mut low = 0;
    for (slot_index, &slot) in slots.iter().enumerate() {
        low = first_at_least(runs, low, slot - tolerance);
        if low >= group_end {
            matching.settle(&mut group, slots, runs);
        }
        let mut high = low;
        while high < runs.len() && runs[high] <= slot + tolerance {
            high += 1;
        }
        if high > low {
            group.push(Candidates { slot_index, low, high });
        }
        group_end = group_end.max(high);
    }
    matching.settle(&mut group, slots, runs);
    matching.hits
}

/// A slot and the runs within its tolerance (`low..high` of the sorted runs).
struct Candidates {
    slot_index: usize,
    low: usize,
    high: usize,
}

/// The first index from `from` on whose instant is at least `bound` (`times` sorted). A
/// galloping search: a weekly hypothesis over a flow of thousands of runs jumps the runs between
/// its slots instead of stepping through them (this walk was the cadence engine's hottest loop).
fn first_at_least(times: &[i64], from: usize, bound: i64) -> usize {
    if from >= times.len() || times[from] >= bound {
        return from;
    }
    // times[below] < bound throughout; look further, doubling the step, until past the bound.
    let (mut below, mut step) = (from, 1);
    let mut beyond = from + 1;
    while beyond < times.len() && times[beyond] < bound {
        below = beyond;
        step *= 2;
        beyond = below + step;
    }
    let beyond = beyond.min(times.len());
    below + 1 + times[below + 1..beyond].partition_point(|t| *t < bound)
}

/// The (slot, run) pairs matched so far, in slot order, and room for a crowded group's pairs.
struct Matching {
    hits: Vec<(usize, usize)>,
    pairs: Vec<(i64, usize, usize)>,
}

impl Matching {
    /// Matches a group's slots to its runs, nearest pairs first, and empties it. Groups share
    /// no run, so only the group's own runs can be taken already; groups come in slot order.
    ///
    /// A group of one slot (every slot of a schedule whose windows do not overlap, which is
    /// nearly all of them) takes its nearest run, the earliest of equals: what sorting its pairs
    /// by (distance, run) would pick first, without listing them. A crowded group sorts its
    /// (distance, slot, run) pairs.
    fn settle(&mut self, group: &mut Vec<Candidates>, slots: &[i64], runs: &[i64]) {
        let distance = |slot_index: usize, run: usize| (runs[run] - slots[slot_index]).abs();
        match group.as_slice() {
            [] => {}
            [only] => {
                let nearest = (only.low..only.high).min_by_key(|&run| (distance(only.slot_index, run), run));
                self.hits.extend(nearest.map(|run| (only.slot_index, run)));
            }
            crowded => {
                let first_run = crowded.iter().map(|c| c.low).min().unwrap_or(0);
                let last_run = crowded.iter().map(|c| c.high).max().unwrap_or(0);
                let mut run_taken = vec![false; last_run - first_run];
                let mut slot_taken = vec![false; crowded.len()];
                self.pairs.clear();
                for c in crowded {
                    self.pairs.extend((c.low..c.high).map(|run| (distance(c.slot_index, run), c.slot_index, run)));
                }
                self.pairs.sort_unstable();
                let group_start = self.hits.len();
                for &(_, slot_index, run) in &self.pairs {
                    // The slot's place in the group, whose slots are in order (a crowded
                    // group is a handful of slots).
                    let position = crowded.partition_point(|c| c.slot_index < slot_index);
                    if !slot_taken[position] && !run_taken[run - first_run] {
                        slot_taken[position] = true;
                        run_taken[run - first_run] = true;
                        self.hits.push((slot_index, run));
                    }
                }
                self.hits[group_start..].sort_unstable();
            }
        }
        group.clear();
    }
}

fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    // A selection, not a sort: the median is scored for every hypothesis of every flow.
    let order = |a: &f64, b: &f64| a.partial_cmp(b).unwrap_or(Ordering::Equal);
    let (mut values, count) = (values.to_vec(), values.len());
    let middle = count / 2;
    let (below, upper, _) = values.select_nth_unstable_by(middle, order);
    let upper = *upper;
    if middle * 2 < count {
        return Some(upper);
    }
    // Even count: the mean of the two middle values; the lower one is the largest below.
    let lower = below.iter().copied().max_by(order).unwrap_or(upper);
    Some((lower + upper) / 2.0)
}

/// 1.4826 · median absolute deviation: a robust standard deviation.
fn robust_sigma(values: &[f64]) -> f64 {
    let Some(center) = median(values) else { return 0.0 };
    let deviations: Vec<f64> = values.iter().map(|v| (v - center).abs()).collect();
    1.4826 * median(&deviations).unwrap_or(0.0)
}

fn tolerance_of(family: &Family, params: &CadenceParams) -> i64 {
    match family {
        Family::Fixed { period_min, .. } => i64::from(*period_min) * MINUTE_US / 4,
        Family::Interval { period_min } => {
            ((period_min * MINUTE_US as f64 / 4.0) as i64).min(params.calendar_tolerance_us)
        }
        _ => params.calendar_tolerance_us,
    }
}

/// Scores one hypothesis against the runs.
pub fn evaluate(
    hypothesis: &Hypothesis,
    runs: &[Run],
    params: &CadenceParams,
    calendar: &BusinessCalendar,
) -> Option<Cadence> {
    let days = SpanDays::of_runs(hypothesis.base, runs, params, calendar);
    let times: Vec<i64> = runs.iter().map(|run| run.ts).collect();
    evaluate_keeping(hypothesis, runs, &times, params, &days, true)
}

/// [`evaluate`], given the runs' instants (`times`, packed for slot matching) and the flow's
/// day table; without `keep_missed`, the missed slots are counted but not listed (a step of
/// minutes over years misses hundreds of thousands: only the chosen hypothesis lists them).
fn evaluate_keeping(
    hypothesis: &Hypothesis,
    runs: &[Run],
    times: &[i64],
    params: &CadenceParams,
    days: &SpanDays,
    keep_missed: bool,
) -> Option<Cadence> {
    let mut cadence = match hypothesis.family.occupancy_period() {
        Some((period, anchor_min)) => {
            evaluate_occupancy(hypothesis, period, anchor_min, runs, times, params, days.calendar)?
        }
        None => evaluate_slots(hypothesis, runs, times, params, days, keep_missed)?,
    };
    // Only the chosen hypothesis says which runs it leaves unexplained: the others are scored
    // and ranked, and listing a flow's runs for each of them was an allocation per hypothesis.
    if keep_missed {
        cadence.ad_hoc = unmatched_runs(&cadence.hits, runs.len());
    }
    Some(cadence)
}

/// The runs no hit took, in order.
fn unmatched_runs(hits: &[(i64, usize)], runs: usize) -> Vec<usize> {
    let mut matched = vec![false; runs];
    for (_, run) in hits {
        matched[*run] = true;
    }
    (0..runs).filter(|run| !matched[*run]).collect()
}

/// The slots between the first hit and the last that no run took (`matched` in slot order).
fn missed_slots(slots: &[i64], matched: &[(usize, usize)]) -> Vec<i64> {
    matched.windows(2).flat_map(|pair| slots[pair[0].0 + 1..pair[1].0].iter().copied()).collect()
}

/// What matching a hypothesis's slots gives its score.
#[derive(Debug, PartialEq)]
struct MatchedHits {
    /// (slot instant, run), in slot order.
    hits: Vec<(i64, usize)>,
    /// Slots between the first hit and the last that no run took.
    missed_count: usize,
    /// (index into the slots given, run), in slot order.
    pairs: Vec<(usize, usize)>,
}

/// Matches `slots` (all of a hypothesis's, or only those near a run, `position` giving each
/// one's index among all of them) to the runs; None without a hit. Unmatched slots before the
/// first hit and after the last are trimmed: a job that started or stopped inside the window
/// did not miss them.
fn matched_hits(
    slots: &[i64],
    position: impl Fn(usize) -> usize,
    times: &[i64],
    tolerance: i64,
) -> Option<MatchedHits> {
    let pairs = match_slot_times(slots, times, tolerance);
    let (first, last) = (position(pairs.first()?.0), position(pairs.last()?.0));
    let hits: Vec<(i64, usize)> = pairs.iter().map(|&(slot, run)| (slots[slot], run)).collect();
    let missed_count = (last - first + 1) - hits.len();
    Some(MatchedHits { hits, missed_count, pairs })
}

/// [`evaluate_keeping`] for a hypothesis of slots (every family but once-per-period ones).
fn evaluate_slots(
    hypothesis: &Hypothesis,
    runs: &[Run],
    times: &[i64],
    params: &CadenceParams,
    days: &SpanDays,
    keep_missed: bool,
) -> Option<Cadence> {
    let tolerance = tolerance_of(&hypothesis.family, params);
    // Only the chosen hypothesis lists its missed slots; the others need only the slots near
    // a run and the count of all of them.
    let near_is_cheaper = !keep_missed && slots_outnumber_runs(hypothesis, runs);
    let near = if near_is_cheaper { near_slots(hypothesis, runs, times, tolerance, days) } else { None };
    let (hits, missed_count, missed) = match near {
        Some(near) => {
            let found = matched_hits(&near.instants, |slot| near.positions[slot], times, tolerance)?;
            (found.hits, found.missed_count, Vec::new())
        }
        None => {
            let slots = slots(hypothesis, runs, tolerance, days);
            let found = matched_hits(&slots, |slot| slot, times, tolerance)?;
            let missed = if keep_missed { missed_slots(&slots, &found.pairs) } else { Vec::new() };
            (found.hits, found.missed_count, missed)
        }
    };
    let scale = match hypothesis.family {
        // A machine's step is phase-locked: a cron fires within seconds, so tightness falls to
        // ½ at a spread of a sixth of the step, at most 10 minutes (a crawler "about every
        // 46 min" lands within ±23 min of any 4-hour grid and is not a 4-hour job).
        Family::Fixed { period_min, .. } => {
            params.tightness_scale_min.min(f64::from(period_min) / 6.0).min(SUB_DAILY_SCALE_MAX_MIN)
        }
        // A job that re-arms itself keeps its period to the minute; crawlers that come back
        // "about daily" or "about every 46 min" do not.
        Family::Interval { period_min } => params.tightness_scale_min.min(period_min / 100.0),
        _ => params.tightness_scale_min,
    };
    Some(score(hypothesis, runs, hits, (missed, missed_count), Vec::new(), params, scale, tolerance))
}

/// Scores a once-per-period hypothesis: each period's window holds the run nearest its centre.
fn evaluate_occupancy(
    hypothesis: &Hypothesis,
    period: Period,
    anchor_min: i64,
    runs: &[Run],
    times: &[i64],
    params: &CadenceParams,
    calendar: &BusinessCalendar,
) -> Option<Cadence> {
    let windows = occupancy::windows(period, anchor_min, hypothesis.base, times[0], times[times.len() - 1], calendar);
    let assignment = occupancy::match_windows(&windows, times);
    let first = assignment.iter().position(Option::is_some)?;
    let last = assignment.iter().rposition(Option::is_some)?;
    let (mut hits, mut missed, mut excused) = (Vec::new(), Vec::new(), Vec::new());
    for (window, run) in windows[first..=last].iter().zip(&assignment[first..=last]) {
        match run {
            Some(run) => hits.push((window.center, *run)),
            None if window.excused_if_empty => excused.push(window.center),
            None => missed.push(window.center),
        }
    }
    // A person's day may wander by a day or two: tightness falls to ½ at a spread of a quarter
    // of the period, at most 2.5 days (a Monday-or-Tuesday run keeps ~0.75, a random weekday
    // ~0.4, the first business days of the month ~0.8, a random day of the month ~0.07).
    let period_minutes = period.days() * 1440.0;
    let tolerance = (period_minutes / 2.0 * MINUTE_US as f64) as i64;
    let scale = (period_minutes / 4.0).min(2.5 * 1440.0);
    let missed_count = missed.len();
    Some(score(hypothesis, runs, hits, (missed, missed_count), excused, params, scale, tolerance))
}

/// The deviations of a free-running interval: how far the gaps between consecutive hits stray
/// from the period (minutes). A re-arming job's error does not add up from run to run as its
/// residuals from the first run's grid would.
fn interval_deviations(hits: &[(i64, usize)], runs: &[Run], period_min: f64) -> Vec<f64> {
    let period_us = period_min * MINUTE_US as f64;
    hits.windows(2)
        .filter_map(|pair| {
            let slots_apart = ((pair[1].0 - pair[0].0) as f64 / period_us).round();
            let gap = (runs[pair[1].1].ts - runs[pair[0].1].ts) as f64;
            (slots_apart >= 1.0).then(|| (gap / slots_apart - period_us) / MINUTE_US as f64)
        })
        .collect()
}

/// How regular a once-per-period flow's position is, as a σ in minutes: around the anchor, or,
/// when the position jumps (by more than a quarter of the period) at most twice, from one period
/// to the next (the mean absolute change between consecutive periods, / √2) — a schedule that
/// moves once, a colleague taking over on another day, stays regular; runs that hop back and
/// forth between two days are not one schedule.
fn position_spread(hits: &[(i64, usize)], residuals: &[f64], hypothesis: &Hypothesis) -> f64 {
    let around_anchor = 1.2533 * mean_absolute_deviation(residuals);
    let period_us = hypothesis.family.period_days() * DAY_US as f64;
    let changes: Vec<f64> = hits
        .windows(2)
        .zip(residuals.windows(2))
        .filter(|(pair, _)| ((pair[1].0 - pair[0].0) as f64 / period_us).round() <= 1.0)
        .map(|(_, r)| (r[1] - r[0]).abs())
        .collect();
    let jumps = changes.iter().filter(|c| **c > period_us / MINUTE_US as f64 / 4.0).count();
    if changes.len() < 3 || jumps > 2 {
        return around_anchor;
    }
    let period_to_period = 1.2533 * changes.iter().sum::<f64>() / changes.len() as f64 / std::f64::consts::SQRT_2;
    period_to_period.min(around_anchor)
}

/// The mean distance of values from their median.
fn mean_absolute_deviation(values: &[f64]) -> f64 {
    let Some(center) = median(values) else { return 0.0 };
    values.iter().map(|v| (v - center).abs()).sum::<f64>() / values.len() as f64
}

/// score = G · √(C · E′) · T · V and the verdict, from a hypothesis's hits and misses.
///
/// E′ = E^w lets a phase-locked schedule stand among ad-hoc runs: w = s / (s + s₀/10), at least
/// ¼, where s is the spread of the residuals and s₀ the spread runs at random would have at
/// the flow's density (0.74 · min(tolerance, half the mean gap)), both in minutes; s here is the mean
/// absolute deviation of the residuals, so every hit must be locked. Runs within seconds of their slots
/// day after day are a job however many requests surround them; runs merely near their slots,
/// as dense random traffic always is, are judged on their explained share as before.
#[allow(clippy::too_many_arguments)]
fn score(
    hypothesis: &Hypothesis,
    runs: &[Run],
    hits: Vec<(i64, usize)>,
    (missed, missed_count): (Vec<i64>, usize),
    excused: Vec<i64>,
    params: &CadenceParams,
    tightness_scale_min: f64,
    tolerance_us: i64,
) -> Cadence {
    let (k, m, n) = (hits.len(), hits.len() + missed_count, runs.len());
    let coverage = k as f64 / m.max(1) as f64;
    let explained = k as f64 / n as f64;
    let deviations = match hypothesis.family {
        Family::Interval { period_min } => interval_deviations(&hits, runs, period_min),
        _ => hits.iter().map(|(slot, run)| (runs[*run].ts - slot) as f64 / MINUTE_US as f64).collect(),
    };
    // Once per period, every period's run counts toward the spread (the mean absolute
    // deviation, as a σ): runs that are half the time on one Monday and half on the other are
    // not a fortnightly schedule, though their median is.
    let spread = if hypothesis.family.kind() == Kind::OncePerPeriod {
        position_spread(&hits, &deviations, hypothesis)
    } else {
        robust_sigma(&deviations)
    };
    let tightness = 1.0 / (1.0 + (spread / tightness_scale_min).powi(2));
    let span_min = ((runs[n - 1].ts - runs[0].ts) as f64 / MINUTE_US as f64).max(1.0);
    let mean_gap_min = span_min / (n.max(2) - 1) as f64;
    // A slot's nearest run at random lies within half the mean gap (and the tolerance).
    let chance_spread = 0.74 * (tolerance_us as f64 / MINUTE_US as f64).min(mean_gap_min / 2.0);
    // Every hit must be locked, not half of them as the robust spread allows: the mean absolute
    // deviation (× 1.25, a σ for normal errors) decides, so that a few lucky runs among dense
    // traffic do not pass for a job.
    let locked_spread = 1.2533 * mean_absolute_deviation(&deviations);
    // And there must be enough of them: a few exact coincidences are not a job.
    let weight = if chance_spread > 0.0 && k >= LOCKED_HITS {
        (locked_spread / (locked_spread + chance_spread / 10.0)).max(0.25)
    } else {
        1.0
    };
    let explained_locked = explained.powf(weight);
    let evidence = 1.0 - (-(k as f64) / 4.0).exp();
    let volumes: Vec<f64> = hits.iter().map(|(_, run)| runs[*run].volume).collect();
    let volume_center = median(&volumes).unwrap_or(0.0);
    let robust_cv = if volume_center > 0.0 { robust_sigma(&volumes) / volume_center } else { 0.0 };
    let regularity = 0.7 + 0.3 * (1.0 - robust_cv).max(0.0);
    // A window of a whole period explains more runs than a 90-minute slot by construction: its
    // score carries a factor, so that an instant schedule explaining the same runs wins.
    let looseness = if hypothesis.family.kind() == Kind::OncePerPeriod { ONCE_PER_PERIOD_FACTOR } else { 1.0 };
    let score = (looseness * evidence * (coverage * explained_locked).sqrt() * tightness * regularity).clamp(0.0, 1.0);
    let span_days = (hits[hits.len() - 1].0 - hits[0].0) as f64 / DAY_US as f64;
    let periods = span_days / hypothesis.family.period_days();
    let verdict = if score >= params.systematic_score && k >= params.min_matched && periods >= params.min_periods {
        Verdict::Systematic
    } else if score >= params.review_score && k >= params.min_matched {
        Verdict::Review
    } else {
        Verdict::Punctual
    };
    Cadence {
        hypothesis: hypothesis.clone(),
        score,
        verdict,
        matched: k,
        expected: m,
        runs: n,
        coverage,
        explained,
        spread_minutes: spread,
        missed,
        // Filled in for the chosen hypothesis only (`evaluate_keeping`).
        ad_hoc: Vec::new(),
        hits,
        excused,
        rejected: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Words

const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

fn ordinal(n: i8) -> &'static str {
    match n {
        1 => "first",
        2 => "second",
        3 => "third",
        4 => "fourth",
        _ => "last",
    }
}

fn clock(minute: u32) -> String {
    format!("{:02}:{:02}", minute / 60, minute % 60)
}

fn weekday_list(mask: u8) -> String {
    let names: Vec<String> =
        (0..7).filter(|i| mask & (1 << i) != 0).map(|i| WEEKDAYS[i as usize].to_string()).collect();
    super::list_words(&names)
}

impl Hypothesis {
    /// "every Tuesday ≈ 06:00 Europe/Paris": what an auditor writes in a letter.
    /// The hypothesis as machine fields: its family and parameters, time of day and time base,
    /// and its English description (what findings.json's `cadence` holds).
    pub fn fields(&self) -> serde_json::Value {
        // Cannot fail (twice): an internally tagged enum of numbers and strings always serialises,
        // and to a JSON object.
        let mut fields = serde_json::to_value(&self.family).expect("family serialises");
        let object = fields.as_object_mut().expect("tagged enum is an object");
        if let Some(weekday) = object.get("weekday").and_then(|w| w.as_u64()) {
            const NAMES: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
            object.insert("weekday_name".into(), serde_json::json!(NAMES[weekday as usize % 7]));
        }
        object.insert("time".into(), serde_json::json!(format!("{:02}:{:02}", self.minute / 60, self.minute % 60)));
        object.insert("time_base".into(), serde_json::json!(self.base.name()));
        object.insert("description".into(), serde_json::json!(self.describe()));
        fields
    }

    pub fn describe(&self) -> String {
        let at = format!("≈ {} {}", clock(self.minute), self.base.name());
        match &self.family {
            Family::Daily => format!("every day {at}"),
            Family::BusinessDay => format!("every business day {at}"),
            Family::Weekdays { mask } => format!("every {} {at}", weekday_list(*mask)),
            Family::Weekly { weekday } => format!("every {} {at}", WEEKDAYS[*weekday as usize]),
            Family::Biweekly { weekday, .. } => format!("every other {} {at}", WEEKDAYS[*weekday as usize]),
            Family::MonthlyDay { day, roll } => {
                let rolled = match roll {
                    Roll::None => "",
                    Roll::Following => " (or the next business day)",
                    Roll::Preceding => " (or the previous business day)",
                };
                format!("on day {day} of each month{rolled} {at}")
            }
            Family::MonthlyNthWeekday { nth, weekday } => {
                format!("on the {} {} of each month {at}", ordinal(*nth), WEEKDAYS[*weekday as usize])
            }
            Family::FirstBusinessDay => format!("on the first business day of each month {at}"),
            Family::LastBusinessDay => format!("on the last business day of each month {at}"),
            Family::Fixed { period_min, from_min, to_min, business_days_only, .. } => {
                let step =
                    if period_min % 60 == 0 { format!("{} h", period_min / 60) } else { format!("{period_min} min") };
                let days = if *business_days_only { "business days" } else { "every day" };
                format!("every {step} from {} to {} {}, {days}", clock(*from_min), clock(*to_min), self.base.name())
            }
            Family::Interval { period_min } => {
                let total = period_min.round() as i64;
                let (days, hours, minutes) = (total / 1440, total % 1440 / 60, total % 60);
                let mut parts = Vec::new();
                if days > 0 {
                    parts.push(format!("{days} d"));
                }
                if hours > 0 {
                    parts.push(format!("{hours} h"));
                }
                if minutes > 0 || parts.is_empty() {
                    parts.push(format!("{minutes} min"));
                }
                format!("every {} (a period not tied to the clock)", parts.join(" "))
            }
            family => {
                // Cannot fail: this arm is reached only for the once-per-period families, which all have a period.
                let (period, anchor_min) = family.occupancy_period().expect("a once-per-period family");
                let usually =
                    format!("usually {} {}", occupancy::describe_anchor(period, anchor_min), self.base.name());
                match period {
                    Period::Week => format!("once a week, whichever day, {usually}"),
                    Period::Fortnight => format!("once a fortnight, whichever day, {usually}"),
                    Period::Month => format!("once a month, whichever day, {usually}"),
                    Period::Days(k) => format!("every {k} days give or take hours, {usually}"),
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "cadence_tests.rs"]
mod tests;
