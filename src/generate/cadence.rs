//! Seeded flows for the cadence detector's tests and benchmark: every scenario of
//! `shared/design/periodic-transfers.md` (positives, hard negatives, edge cases), one year of
//! transfers from 2021-09-01, scheduled in Europe/Paris unless the scenario says UTC.

use chrono::{Datelike, Days, NaiveDate, NaiveTime, Weekday};
use rand::Rng;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::calendar::{BusinessCalendar, TimeBase};
use crate::detect::cadence::Observation;

/// A flow scenario and what a correct detector concludes about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CadenceScenario {
    DailyLocal0200Missed10,
    Mondays0600,
    BusinessDays0730,
    FridaysRolledBack,
    FifthOfMonth,
    FirstMonday,
    LastBusinessDay,
    Wednesday2200WithAdHoc,
    DailyUtc0100AcrossDst,
    HourlyOfficeHours,
    DailyJitter45Missed20,
    EveryOtherThursday,
    WeeklyMissed35,
    DailyPagedBursts,
    StartsMidWindow,
    MovesMondayToThursday,
    ThirtyFirstOfMonth,
    SpringForward0230,
    DailyAndMonthlyInterleaved,
    GrowingVolumes,
    UnsortedDuplicates,
    // Hard negatives
    OfficeHoursPoisson,
    BurstyInvestigations,
    MorningRoutine,
    ThreeWeeklyPlusRandom,
    FewRandomRequests,
    Poisson24x7,
    MonthlyRandomDay,
    HalfMondaysRandomTimes,
}

impl CadenceScenario {
    pub const ALL: [CadenceScenario; 29] = [
        CadenceScenario::DailyLocal0200Missed10,
        CadenceScenario::Mondays0600,
        CadenceScenario::BusinessDays0730,
        CadenceScenario::FridaysRolledBack,
        CadenceScenario::FifthOfMonth,
        CadenceScenario::FirstMonday,
        CadenceScenario::LastBusinessDay,
        CadenceScenario::Wednesday2200WithAdHoc,
        CadenceScenario::DailyUtc0100AcrossDst,
        CadenceScenario::HourlyOfficeHours,
        CadenceScenario::DailyJitter45Missed20,
        CadenceScenario::EveryOtherThursday,
        CadenceScenario::WeeklyMissed35,
        CadenceScenario::DailyPagedBursts,
        CadenceScenario::StartsMidWindow,
        CadenceScenario::MovesMondayToThursday,
        CadenceScenario::ThirtyFirstOfMonth,
        CadenceScenario::SpringForward0230,
        CadenceScenario::DailyAndMonthlyInterleaved,
        CadenceScenario::GrowingVolumes,
        CadenceScenario::UnsortedDuplicates,
        CadenceScenario::OfficeHoursPoisson,
        CadenceScenario::BurstyInvestigations,
        CadenceScenario::MorningRoutine,
        CadenceScenario::ThreeWeeklyPlusRandom,
        CadenceScenario::FewRandomRequests,
        CadenceScenario::Poisson24x7,
        CadenceScenario::MonthlyRandomDay,
        CadenceScenario::HalfMondaysRandomTimes,
    ];

    pub fn name(self) -> &'static str {
        use CadenceScenario::*;
        match self {
            DailyLocal0200Missed10 => "daily 02:00 local, 10% missed",
            Mondays0600 => "Mondays 06:00",
            BusinessDays0730 => "business days 07:30, holidays skipped",
            FridaysRolledBack => "Fridays, rolled back on holidays",
            FifthOfMonth => "5th of each month",
            FirstMonday => "first Monday of the month",
            LastBusinessDay => "last business day",
            Wednesday2200WithAdHoc => "Wednesday 22:00 + 40% ad-hoc",
            DailyUtc0100AcrossDst => "01:00 UTC daily across DST",
            HourlyOfficeHours => "hourly 08-18 business days",
            DailyJitter45Missed20 => "daily ±45 min jitter, 20% missed",
            EveryOtherThursday => "every other Thursday",
            WeeklyMissed35 => "weekly, 35% missed",
            DailyPagedBursts => "daily paged bursts",
            StartsMidWindow => "job starts mid-window",
            MovesMondayToThursday => "moves Monday → Thursday",
            ThirtyFirstOfMonth => "31st of the month",
            SpringForward0230 => "daily 02:30 over spring-forward",
            DailyAndMonthlyInterleaved => "daily + monthly interleaved",
            GrowingVolumes => "weekly, growing volumes",
            UnsortedDuplicates => "daily, unsorted + duplicates",
            OfficeHoursPoisson => "office-hours Poisson requests",
            BurstyInvestigations => "bursty case investigations",
            MorningRoutine => "a human's morning routine",
            ThreeWeeklyPlusRandom => "3 requests 7 days apart + 3 random",
            FewRandomRequests => "6-12 random requests",
            Poisson24x7 => "Poisson 24×7",
            MonthlyRandomDay => "one request a month, random day",
            HalfMondaysRandomTimes => "half of Mondays, random office times",
        }
    }

    /// True when a schedule is there to find.
    pub fn is_positive(self) -> bool {
        self.expected_family().is_some()
    }

    /// The family (`Family` tag) a correct detector reports, for positives.
    pub fn expected_family(self) -> Option<&'static str> {
        use CadenceScenario::*;
        match self {
            DailyLocal0200Missed10 | DailyUtc0100AcrossDst | DailyJitter45Missed20 | DailyPagedBursts => Some("daily"),
            SpringForward0230 | DailyAndMonthlyInterleaved | UnsortedDuplicates => Some("daily"),
            Mondays0600 | FridaysRolledBack | Wednesday2200WithAdHoc | WeeklyMissed35 | StartsMidWindow => {
                Some("weekly")
            }
            GrowingVolumes | MovesMondayToThursday => Some("weekly"),
            BusinessDays0730 => Some("business_day"),
            FifthOfMonth | ThirtyFirstOfMonth => Some("monthly_day"),
            FirstMonday => Some("monthly_nth_weekday"),
            LastBusinessDay => Some("last_business_day"),
            HourlyOfficeHours => Some("fixed"),
            EveryOtherThursday => Some("biweekly"),
            _ => None,
        }
    }

    /// One year of transfers for this scenario and seed.
    pub fn generate(self, seed: u64) -> Vec<Observation> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(self as u64));
        let mut flow = Flow::new();
        self.fill(&mut flow, &mut rng);
        flow.observations
    }

    fn fill(self, flow: &mut Flow, rng: &mut ChaCha8Rng) {
        use CadenceScenario::*;
        let calendar = flow.calendar.clone();
        match self {
            DailyLocal0200Missed10 => flow.each_day(|_| true, 0.9, rng, |f, d, r| f.run_local(d, 2 * 60, 3, r)),
            Mondays0600 => {
                flow.each_day(|d| d.weekday() == Weekday::Mon, 1.0, rng, |f, d, r| f.run_local(d, 6 * 60, 3, r))
            }
            BusinessDays0730 => {
                flow.each_day(|d| calendar.is_business_day(d), 1.0, rng, |f, d, r| f.run_local(d, 7 * 60 + 30, 3, r))
            }
            FridaysRolledBack => flow.each_day(
                |d| d.weekday() == Weekday::Fri,
                1.0,
                rng,
                |f, d, r| {
                    let day = f.calendar.roll(d, false);
                    f.run_local(day, 5 * 60, 3, r)
                },
            ),
            FifthOfMonth => flow.each_day(|d| d.day() == 5, 1.0, rng, |f, d, r| f.run_local(d, 4 * 60, 3, r)),
            FirstMonday => flow.each_day(
                |d| d.weekday() == Weekday::Mon && d.day() <= 7,
                1.0,
                rng,
                |f, d, r| f.run_local(d, 6 * 60, 3, r),
            ),
            LastBusinessDay => flow.each_day(
                |d| {
                    calendar.roll(
                        // Cannot fail: constant dates and times of the scenario (minutes below 1440), or the last of a non-empty list.
                        d.with_day(1).unwrap().checked_add_months(chrono::Months::new(1)).unwrap() - Days::new(1),
                        false,
                    ) == d
                },
                1.0,
                rng,
                |f, d, r| f.run_local(d, 20 * 60, 3, r),
            ),
            Wednesday2200WithAdHoc => {
                flow.each_day(|d| d.weekday() == Weekday::Wed, 1.0, rng, |f, d, r| f.run_local(d, 22 * 60, 3, r));
                let scheduled = flow.observations.len();
                for _ in 0..(scheduled * 2 / 3) {
                    flow.office_hours_request(rng);
                }
            }
            DailyUtc0100AcrossDst => flow.each_day(|_| true, 1.0, rng, |f, d, r| f.run_utc(d, 60, 3, r)),
            HourlyOfficeHours => flow.each_day(
                |d| calendar.is_business_day(d),
                1.0,
                rng,
                |f, d, r| {
                    for hour in 8..=18 {
                        if r.gen_bool(0.95) {
                            f.run_local(d, hour * 60, 1, r);
                        }
                    }
                },
            ),
            DailyJitter45Missed20 => flow.each_day(
                |_| true,
                0.8,
                rng,
                |f, d, r| {
                    let jitter = r.gen_range(-45..=45);
                    f.run_local_exact(d, (3 * 60 + jitter) as u32, r)
                },
            ),
            EveryOtherThursday => flow.each_day(
                |d| d.weekday() == Weekday::Thu && d.iso_week().week() % 2 == 1,
                1.0,
                rng,
                |f, d, r| f.run_local(d, 9 * 60, 3, r),
            ),
            WeeklyMissed35 => {
                flow.each_day(|d| d.weekday() == Weekday::Tue, 0.65, rng, |f, d, r| f.run_local(d, 6 * 60, 3, r))
            }
            DailyPagedBursts => flow.each_day(
                |_| true,
                1.0,
                rng,
                |f, d, r| {
                    let start = f.local(d, 1 * 60 + 15);
                    for _ in 0..r.gen_range(5..=50) {
                        f.push(start + r.gen_range(0..30) * 1_000_000, r.gen_range(1..200) as f64);
                    }
                },
            ),
            StartsMidWindow => {
                // Cannot fail: constant dates and times of the scenario (minutes below 1440), or the last of a non-empty list.
                let start = NaiveDate::from_ymd_opt(2022, 3, 15).unwrap();
                flow.each_day(
                    |d| d >= start && d.weekday() == Weekday::Tue,
                    1.0,
                    rng,
                    |f, d, r| f.run_local(d, 6 * 60, 3, r),
                )
            }
            MovesMondayToThursday => {
                // Cannot fail: constant dates and times of the scenario (minutes below 1440), or the last of a non-empty list.
                let switch = NaiveDate::from_ymd_opt(2022, 3, 1).unwrap();
                flow.each_day(
                    |d| (d < switch && d.weekday() == Weekday::Mon) || (d >= switch && d.weekday() == Weekday::Thu),
                    1.0,
                    rng,
                    |f, d, r| f.run_local(d, 6 * 60, 3, r),
                )
            }
            ThirtyFirstOfMonth => flow.each_day(|d| d.day() == 31, 1.0, rng, |f, d, r| f.run_local(d, 23 * 60, 3, r)),
            SpringForward0230 => flow.each_day(|_| true, 1.0, rng, |f, d, r| f.run_local_exact(d, 2 * 60 + 30, r)),
            DailyAndMonthlyInterleaved => {
                flow.each_day(|_| true, 1.0, rng, |f, d, r| f.run_local(d, 2 * 60, 3, r));
                flow.each_day(|d| d.day() == 1, 1.0, rng, |f, d, r| f.run_local(d, 14 * 60, 3, r));
            }
            GrowingVolumes => {
                let mut week = 0.0;
                flow.each_day(
                    |d| d.weekday() == Weekday::Thu,
                    1.0,
                    rng,
                    |f, d, r| {
                        week += 1.0;
                        let ts = f.local(d, 6 * 60) + r.gen_range(-180..180) * 1_000_000;
                        f.push(ts, 100.0 * 1.05f64.powf(week));
                    },
                )
            }
            UnsortedDuplicates => {
                flow.each_day(
                    |_| true,
                    1.0,
                    rng,
                    |f, d, r| {
                        f.run_local(d, 5 * 60, 3, r);
                        if r.gen_bool(0.3) {
                            // Cannot fail: constant dates and times of the scenario (minutes below 1440), or the last of a non-empty list.
                            let last = *f.observations.last().unwrap();
                            f.push(last.ts, last.volume);
                        }
                    },
                );
                // Shuffle: the detector must not depend on input order.
                let n = flow.observations.len();
                for i in (1..n).rev() {
                    let j = rng.gen_range(0..=i);
                    flow.observations.swap(i, j);
                }
            }
            OfficeHoursPoisson => {
                for _ in 0..rng.gen_range(60..200) {
                    flow.office_hours_request(rng);
                }
            }
            BurstyInvestigations => {
                for _ in 0..rng.gen_range(4..9) {
                    let day = flow.random_business_day(rng);
                    for _ in 0..rng.gen_range(3..=15) {
                        let offset = Days::new(rng.gen_range(0..3));
                        let minute = rng.gen_range(8 * 60..18 * 60);
                        flow.request(day + offset, minute, rng);
                    }
                }
            }
            MorningRoutine => {
                // Cannot fail: constant dates and times of the scenario (minutes below 1440), or the last of a non-empty list.
                let vacation_start = NaiveDate::from_ymd_opt(2022, 7, 25).unwrap();
                let vacation_end = vacation_start + Days::new(21);
                flow.each_day(
                    |d| calendar.is_business_day(d) && !(d >= vacation_start && d < vacation_end),
                    0.8,
                    rng,
                    |f, d, r| {
                        let minute = r.gen_range(9 * 60..11 * 60);
                        f.request(d, minute, r)
                    },
                )
            }
            ThreeWeeklyPlusRandom => {
                let day = flow.random_business_day(rng);
                for week in 0..3 {
                    flow.run_local(day + Days::new(7 * week), 10 * 60, 1, rng);
                }
                for _ in 0..3 {
                    flow.office_hours_request(rng);
                }
            }
            FewRandomRequests => {
                for _ in 0..rng.gen_range(6..=12) {
                    flow.office_hours_request(rng);
                }
            }
            Poisson24x7 => {
                let (start, end) = (flow.start_us(), flow.end_us());
                let mut ts = start;
                loop {
                    // Exponential gaps with a mean of 9 hours.
                    let gap = -(1.0 - rng.gen_range(0.0..1.0f64)).ln() * 9.0 * 3600.0;
                    ts += (gap * 1e6) as i64;
                    if ts >= end {
                        break;
                    }
                    flow.push(ts, rng.gen_range(1..40) as f64);
                }
            }
            MonthlyRandomDay => flow.each_day(
                |d| d.day() == 1,
                1.0,
                rng,
                |f, d, r| {
                    let day = d + Days::new(r.gen_range(0..28));
                    let minute = r.gen_range(8 * 60..18 * 60);
                    f.request(day, minute, r)
                },
            ),
            HalfMondaysRandomTimes => flow.each_day(
                |d| d.weekday() == Weekday::Mon,
                0.5,
                rng,
                |f, d, r| {
                    let minute = r.gen_range(8 * 60..18 * 60);
                    f.request(d, minute, r)
                },
            ),
        }
    }
}

/// A flow under construction.
struct Flow {
    observations: Vec<Observation>,
    calendar: BusinessCalendar,
    first: NaiveDate,
    days: u64,
}

const PARIS: TimeBase = TimeBase::Local(chrono_tz::Europe::Paris);

impl Flow {
    fn new() -> Flow {
        Flow {
            observations: Vec::new(),
            calendar: BusinessCalendar::french(2020, 2024),
            // Cannot fail: constant dates and times of the scenario (minutes below 1440), or the last of a non-empty list.
            first: NaiveDate::from_ymd_opt(2021, 9, 1).unwrap(),
            days: 365,
        }
    }

    fn start_us(&self) -> i64 {
        self.local(self.first, 0)
    }

    fn end_us(&self) -> i64 {
        self.local(self.first + Days::new(self.days), 0)
    }

    fn push(&mut self, ts: i64, volume: f64) {
        let index = self.observations.len();
        self.observations.push(Observation { ts, volume, index });
    }

    fn local(&self, date: NaiveDate, minute: u32) -> i64 {
        // Cannot fail: constant dates and times of the scenario (minutes below 1440), or the last of a non-empty list.
        PARIS.instant(date.and_time(NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap()))
    }

    /// A run at `minute` local time, a few minutes of jitter, `pages` events seconds apart.
    fn run_local(&mut self, date: NaiveDate, minute: u32, pages: u32, rng: &mut ChaCha8Rng) {
        let start = self.local(date, minute) + rng.gen_range(-240..240) * 1_000_000;
        self.pages(start, pages, rng);
    }

    /// A scheduled extraction's pages: what a week's activity gives, 120 ± ~20 records in all.
    fn pages(&mut self, start: i64, pages: u32, rng: &mut ChaCha8Rng) {
        let total: f64 = (0..4).map(|_| rng.gen_range(90.0..150.0)).sum::<f64>() / 4.0;
        let count = rng.gen_range(1..=pages);
        for page in 0..count {
            self.push(start + i64::from(page) * 5_000_000, total / f64::from(count));
        }
    }

    fn pages_at(&mut self, ts: i64, rng: &mut ChaCha8Rng) {
        self.pages(ts, 1, rng);
    }

    /// One event at `minute` (plus up to a minute), one page.
    fn run_local_exact(&mut self, date: NaiveDate, minute: u32, rng: &mut ChaCha8Rng) {
        let ts = self.local(date, minute) + rng.gen_range(0..60) * 1_000_000;
        self.pages(ts, 1, rng);
    }

    /// A request: one file, a few records, nothing regular about it.
    fn request(&mut self, date: NaiveDate, minute: u32, rng: &mut ChaCha8Rng) {
        let ts = self.local(date, minute) + rng.gen_range(0..60) * 1_000_000;
        self.push(ts, rng.gen_range(1..40) as f64);
    }

    fn run_utc(&mut self, date: NaiveDate, minute: u32, pages: u32, rng: &mut ChaCha8Rng) {
        // Cannot fail: constant dates and times of the scenario (minutes below 1440), or the last of a non-empty list.
        let start = TimeBase::Utc.instant(date.and_time(NaiveTime::from_hms_opt(minute / 60, minute % 60, 0).unwrap()))
            + rng.gen_range(-240..240) * 1_000_000;
        self.pages(start, pages, rng);
    }

    /// Calls `run` on each day matching `select`, with probability `keep` (missed runs).
    fn each_day(
        &mut self,
        select: impl Fn(NaiveDate) -> bool,
        keep: f64,
        rng: &mut ChaCha8Rng,
        mut run: impl FnMut(&mut Flow, NaiveDate, &mut ChaCha8Rng),
    ) {
        for offset in 0..self.days {
            let day = self.first + Days::new(offset);
            if select(day) && rng.gen_bool(keep) {
                run(self, day, rng);
            }
        }
    }

    fn random_business_day(&self, rng: &mut ChaCha8Rng) -> NaiveDate {
        loop {
            let day = self.first + Days::new(rng.gen_range(0..self.days - 21));
            if self.calendar.is_business_day(day) {
                return day;
            }
        }
    }

    fn office_hours_request(&mut self, rng: &mut ChaCha8Rng) {
        let day = self.random_business_day(rng);
        let minute = rng.gen_range(8 * 60..18 * 60);
        self.request(day, minute, rng);
    }
}

/// The schedules of the stress grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StressSchedule {
    /// Tuesdays 06:00 local.
    Weekly,
    /// Business days 07:30 local.
    BusinessDays,
    /// The 5th of each month 04:00 local.
    Monthly,
}

impl StressSchedule {
    pub const ALL: [StressSchedule; 3] =
        [StressSchedule::Weekly, StressSchedule::BusinessDays, StressSchedule::Monthly];

    pub fn name(self) -> &'static str {
        match self {
            StressSchedule::Weekly => "weekly",
            StressSchedule::BusinessDays => "business days",
            StressSchedule::Monthly => "monthly",
        }
    }
}

/// A stress-grid flow: `schedule` with a share of runs `missed`, Gaussian jitter of
/// `jitter_minutes` (σ), and ad-hoc office-hours requests making up `ad_hoc_share` of all runs.
pub fn stress_flow(
    schedule: StressSchedule,
    missed: f64,
    jitter_minutes: f64,
    ad_hoc_share: f64,
    seed: u64,
) -> Vec<Observation> {
    let mut rng = ChaCha8Rng::seed_from_u64(
        seed.wrapping_mul(7_919).wrapping_add((missed * 100.0 + jitter_minutes * 7.0 + ad_hoc_share * 1000.0) as u64),
    );
    let mut flow = Flow::new();
    let calendar = flow.calendar.clone();
    let (select, minute): (Box<dyn Fn(NaiveDate) -> bool>, u32) = match schedule {
        StressSchedule::Weekly => (Box::new(|d: NaiveDate| d.weekday() == Weekday::Tue), 6 * 60),
        StressSchedule::BusinessDays => (Box::new(move |d: NaiveDate| calendar.is_business_day(d)), 7 * 60 + 30),
        StressSchedule::Monthly => (Box::new(|d: NaiveDate| d.day() == 5), 4 * 60),
    };
    flow.each_day(select, 1.0 - missed, &mut rng, |f, d, r| {
        // Box–Muller: a normal deviate from two uniforms.
        let (u1, u2): (f64, f64) = (r.gen_range(f64::EPSILON..1.0), r.gen_range(0.0..1.0));
        let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        let ts = f.local(d, minute) + (normal * jitter_minutes * 60.0 * 1e6) as i64;
        f.pages_at(ts, r);
    });
    let scheduled = flow.observations.len() as f64;
    let extra = (scheduled * ad_hoc_share / (1.0 - ad_hoc_share)).round() as usize;
    for _ in 0..extra {
        flow.office_hours_request(&mut rng);
    }
    flow.observations
}
