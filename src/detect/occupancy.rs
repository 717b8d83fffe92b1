//! Schedules that are a *period* rather than an instant: a person's weekly extraction made on
//! Monday or Tuesday, a fortnightly one on Thursday evening moved to the next business day on
//! holidays, "the first business days of the month", a job every three days give or take hours.
//!
//! A calendar slot (`cadence.rs`) expects a run within 90 minutes of an instant; these runs
//! wander by a day or more. Here the time axis is cut into windows of one period, each centred
//! on the flow's usual position within the period (its anchor: "Tuesday ≈ 10:00", "day 2 ≈
//! 04:00"), and a hypothesis is judged on **occupancy** — the share of windows holding a run,
//! an empty window around a public holiday, in August or over Christmas being
//! excused rather than missed — and on how **regular the position** is within the period, so a
//! Monday-or-Tuesday extraction scores high and one random request a month does not.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::Serialize;

use crate::calendar::{BusinessCalendar, TimeBase};

const MINUTE_US: i64 = 60_000_000;

/// The length of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Week,
    Fortnight,
    Month,
    /// Every `k` days (2–6): a job re-armed by hand, a rota.
    Days(u32),
}

impl Period {
    /// Nominal length in minutes (a month as 31 days for positions; windows use real months).
    fn minutes(self) -> i64 {
        match self {
            Period::Week => 7 * 1440,
            Period::Fortnight => 14 * 1440,
            Period::Month => 31 * 1440,
            Period::Days(k) => i64::from(k) * 1440,
        }
    }

    pub fn days(self) -> f64 {
        match self {
            Period::Week => 7.0,
            Period::Fortnight => 14.0,
            Period::Month => 365.25 / 12.0,
            Period::Days(k) => f64::from(k),
        }
    }
}

/// A Monday far in the past: fortnights and k-day periods count from it.
fn epoch() -> NaiveDate {
    // Cannot fail: a constant date.
    NaiveDate::from_ymd_opt(1970, 1, 5).expect("a valid date")
}

/// Where in its period an instant falls, in minutes from the period's start.
pub fn position(period: Period, base: TimeBase, us: i64) -> i64 {
    let wall = base.wall_clock(us);
    let minute = i64::from(wall.hour() * 60 + wall.minute());
    let days_since_epoch = (wall.date() - epoch()).num_days();
    let day_in_period = match period {
        Period::Week => days_since_epoch.rem_euclid(7),
        Period::Fortnight => days_since_epoch.rem_euclid(14),
        Period::Days(k) => days_since_epoch.rem_euclid(i64::from(k)),
        Period::Month => i64::from(wall.day() - 1),
    };
    day_in_period * 1440 + minute
}

/// Signed distance from `b` to `a` on a circle of `length` minutes.
fn circular_offset(a: i64, b: i64, length: i64) -> i64 {
    let d = (a - b).rem_euclid(length);
    if d > length / 2 { d - length } else { d }
}

/// The usual position of the runs within the period: the peak of the hourly histogram of
/// positions (smoothed over a fourteenth of the period), refined to the median offset of the
/// runs around it.
pub fn anchor(period: Period, positions: &[i64]) -> i64 {
    let length = period.minutes();
    let bins = (length / 60) as usize;
    let mut histogram = vec![0u32; bins];
    for &p in positions {
        histogram[(p / 60) as usize % bins] += 1;
    }
    let half_width = (bins / 28).max(2) as i64;
    let smoothed = |i: usize| -> u32 {
        (-half_width..=half_width).map(|d| histogram[(i as i64 + d).rem_euclid(bins as i64) as usize]).sum()
    };
    let peak = (0..bins).max_by_key(|&i| (smoothed(i), std::cmp::Reverse(i))).unwrap_or(0) as i64 * 60 + 30;
    let mut offsets: Vec<i64> = positions.iter().map(|&p| circular_offset(p, peak, length)).collect();
    offsets.sort_unstable();
    let median = offsets.get(offsets.len() / 2).copied().unwrap_or(0);
    (peak + median).rem_euclid(length)
}

/// One period's window: runs in `[start, end)` belong to it; the one nearest `center` is its run.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub center: i64,
    pub start: i64,
    pub end: i64,
    /// When empty, the window is explained (a public holiday near its centre, August,
    /// Christmas) rather than missed.
    pub excused_if_empty: bool,
}

/// The windows of a period hypothesis over `[first, last]` (µs), one per period.
pub fn windows(
    period: Period,
    anchor_min: i64,
    base: TimeBase,
    first: i64,
    last: i64,
    calendar: &BusinessCalendar,
) -> Vec<Window> {
    let first_day = base.wall_clock(first).date() - Days::new(40);
    let last_day = base.wall_clock(last).date() + Days::new(40);
    let midnight = |date: NaiveDate| date.and_time(NaiveTime::MIN);
    let at = |start: NaiveDateTime, minutes: i64| base.instant(start + chrono::Duration::minutes(minutes));
    let mut centers: Vec<(i64, NaiveDate)> = Vec::new();
    match period {
        Period::Month => {
            // Cannot fail: day 1 exists in every month.
            let mut month = NaiveDate::from_ymd_opt(first_day.year(), first_day.month(), 1).expect("a month start");
            while month <= last_day {
                // Cannot fail: dates of events (years 1-9999) are far from chrono's limit (year 262,143).
                let next = month.checked_add_months(chrono::Months::new(1)).expect("the next month");
                let month_minutes = (next - month).num_days() * 1440;
                let offset = anchor_min.min(month_minutes - 1);
                let center = at(midnight(month), offset);
                centers.push((center, base.wall_clock(center).date()));
                month = next;
            }
        }
        period => {
            let length_days = period.minutes() / 1440;
            let since_epoch = (first_day - epoch()).num_days();
            let mut start = epoch() + Days::new((since_epoch - since_epoch.rem_euclid(length_days)) as u64);
            while start <= last_day {
                let center = at(midnight(start), anchor_min);
                centers.push((center, base.wall_clock(center).date()));
                start = start + Days::new(length_days as u64);
            }
        }
    }
    let half = period.minutes() * MINUTE_US / 2;
    (0..centers.len())
        .map(|i| {
            let (center, date) = centers[i];
            let start = if i == 0 { center - half } else { (centers[i - 1].0 + center) / 2 };
            let end = if i + 1 == centers.len() { center + half } else { (center + centers[i + 1].0) / 2 };
            Window { center, start, end, excused_if_empty: closed(date, calendar) }
        })
        .filter(|w| w.end > first && w.start <= last)
        .collect()
}

/// Whether the office is likely closed around a date: a public holiday the day before, of or
/// after, August, or Christmas (24 December – 1 January). Kept narrow on purpose: every
/// excused period is one a random flow does not have to fill either.
fn closed(date: NaiveDate, calendar: &BusinessCalendar) -> bool {
    let near_holiday =
        [date.pred_opt(), Some(date), date.succ_opt()].into_iter().flatten().any(|d| calendar.is_holiday(d));
    let (month, day) = (date.month(), date.day());
    let summer = month == 8;
    let christmas = (month == 12 && day >= 24) || (month == 1 && day == 1);
    near_holiday || summer || christmas
}

/// The windows matched to runs (sorted by time): per window, the run nearest its centre.
pub fn match_windows(windows: &[Window], run_times: &[i64]) -> Vec<Option<usize>> {
    let mut low = 0;
    windows
        .iter()
        .map(|window| {
            while low < run_times.len() && run_times[low] < window.start {
                low += 1;
            }
            let mut best: Option<usize> = None;
            let mut index = low;
            while index < run_times.len() && run_times[index] < window.end {
                let distance = (run_times[index] - window.center).abs();
                if best.is_none_or(|b| distance < (run_times[b] - window.center).abs()) {
                    best = Some(index);
                }
                index += 1;
            }
            best
        })
        .collect()
}

/// "Tuesday ≈ 10:00", "day 2 ≈ 04:00", "day 1 of 3 ≈ 06:00": the anchor in words.
pub fn describe_anchor(period: Period, anchor_min: i64) -> String {
    const WEEKDAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    let (day, minute) = (anchor_min / 1440, anchor_min % 1440);
    let clock = format!("{:02}:{:02}", minute / 60, minute % 60);
    match period {
        Period::Week => format!("{} ≈ {clock}", WEEKDAYS[day as usize % 7]),
        Period::Fortnight => {
            format!("{} of the {} week ≈ {clock}", WEEKDAYS[day as usize % 7], if day < 7 { "first" } else { "second" })
        }
        Period::Month => format!("day {} ≈ {clock}", day + 1),
        Period::Days(_) => format!("≈ {clock}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, 0, 0).unwrap().and_utc().timestamp_micros()
    }

    #[test]
    fn positions_and_anchors() {
        // 2024-05-14 is a Tuesday.
        assert_eq!(position(Period::Week, TimeBase::Utc, at(2024, 5, 14, 10)), 1440 + 600);
        assert_eq!(position(Period::Month, TimeBase::Utc, at(2024, 5, 3, 4)), 2 * 1440 + 240);
        let mondays_or_tuesdays: Vec<i64> = [600, 1440 + 660, 540, 1440 + 600, 620, 1440 + 480, 1440 + 700].to_vec();
        let anchor = anchor(Period::Week, &mondays_or_tuesdays);
        assert!((540..=1440 + 700).contains(&anchor), "{anchor}");
        // Around the wrap of the circle: Sundays late and Mondays early.
        let around = anchor_wrap();
        assert!(!(2000..=8000).contains(&around), "{around}");
    }

    fn anchor_wrap() -> i64 {
        anchor(Period::Week, &[10079, 10000, 30, 60, 10050])
    }

    #[test]
    fn weekly_windows_match_the_run_nearest_their_centre() {
        let calendar = BusinessCalendar::french(2024, 2024);
        // Anchor Tuesday 10:00 UTC, four weeks of May 2024.
        let windows =
            windows(Period::Week, 1440 + 600, TimeBase::Utc, at(2024, 5, 6, 0), at(2024, 5, 31, 0), &calendar);
        let runs = [at(2024, 5, 6, 9), at(2024, 5, 14, 10), at(2024, 5, 15, 10), at(2024, 5, 28, 11)];
        let matched = match_windows(&windows, &runs);
        let hits: Vec<usize> = matched.iter().flatten().copied().collect();
        assert_eq!(hits, vec![0, 1, 3], "the Wednesday run is the week's second, an extra");
        // The week of 2024-05-21 is empty and not excused; Whit Monday (2024-05-20) is near it? No:
        // the centre is Tuesday 21, the day after Whit Monday: excused.
        let empty: Vec<bool> =
            windows.iter().zip(&matched).filter(|(_, m)| m.is_none()).map(|(w, _)| w.excused_if_empty).collect();
        assert!(empty.contains(&true));
    }

    #[test]
    fn the_summer_break_and_holidays_are_closed() {
        let calendar = BusinessCalendar::french(2024, 2024);
        assert!(closed(NaiveDate::from_ymd_opt(2024, 8, 13).unwrap(), &calendar));
        assert!(!closed(NaiveDate::from_ymd_opt(2024, 7, 20).unwrap(), &calendar));
        assert!(closed(NaiveDate::from_ymd_opt(2024, 5, 2).unwrap(), &calendar), "the day after 1 May");
        assert!(!closed(NaiveDate::from_ymd_opt(2024, 6, 11).unwrap(), &calendar));
    }
}
