//! Calendars for schedule detection: French public holidays (Easter-based days computed),
//! business days, and the two time bases a schedule can live in (local civil time, where a
//! cron keeps its wall-clock time across DST, or UTC, where it does not).

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime, TimeZone, Weekday};
use chrono_tz::Tz;

/// Gregorian Easter Sunday (the anonymous Gregorian algorithm, "Meeus/Jones/Butcher").
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // Cannot fail: the computus gives a day of March or April.
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a valid date")
}

/// The eleven French public holidays of `year` (metropolitan France).
pub fn french_holidays(year: i32) -> Vec<NaiveDate> {
    // Cannot fail: fixed holidays of the Gregorian calendar, for a year of the audit (1-9999).
    let date = |month, day| NaiveDate::from_ymd_opt(year, month, day).expect("valid holiday");
    let easter = easter_sunday(year);
    let mut days = vec![
        date(1, 1),             // Jour de l'an
        easter + Days::new(1),  // Lundi de Pâques
        date(5, 1),             // Fête du travail
        date(5, 8),             // Victoire 1945
        easter + Days::new(39), // Ascension
        easter + Days::new(50), // Lundi de Pentecôte
        date(7, 14),            // Fête nationale
        date(8, 15),            // Assomption
        date(11, 1),            // Toussaint
        date(11, 11),           // Armistice
        date(12, 25),           // Noël
    ];
    days.sort();
    days
}

/// Business days: Monday to Friday, minus the French public holidays.
#[derive(Debug, Clone, Default)]
pub struct BusinessCalendar {
    holidays: BTreeSet<NaiveDate>,
}

impl BusinessCalendar {
    /// Holidays for every year from `first` to `last` inclusive (a margin is added by callers).
    pub fn french(first: i32, last: i32) -> BusinessCalendar {
        BusinessCalendar { holidays: (first..=last).flat_map(french_holidays).collect() }
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.contains(&date)
    }

    pub fn is_business_day(&self, date: NaiveDate) -> bool {
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !self.is_holiday(date)
    }

    /// `date` if it is a business day, else the next (or previous) one.
    pub fn roll(&self, date: NaiveDate, forward: bool) -> NaiveDate {
        let mut day = date;
        while !self.is_business_day(day) {
            day = if forward { day + Days::new(1) } else { day - Days::new(1) };
        }
        day
    }
}

/// The clock a schedule follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimeBase {
    Local(Tz),
    #[default]
    Utc,
}

impl TimeBase {
    pub fn name(self) -> String {
        match self {
            TimeBase::Local(tz) => tz.name().to_string(),
            TimeBase::Utc => "UTC".to_string(),
        }
    }

    /// Wall-clock time of an instant (microseconds since the epoch) in this base.
    pub fn wall_clock(self, us: i64) -> NaiveDateTime {
        // Cannot fail: event instants are checked at ingest to lie in years 1-9999, well inside
        // chrono's range (±262,000 years); any other instant here is one of those plus days.
        let utc = chrono::DateTime::from_timestamp_micros(us).expect("an instant of years 1-9999");
        match self {
            TimeBase::Local(tz) => utc.with_timezone(&tz).naive_local(),
            TimeBase::Utc => utc.naive_utc(),
        }
    }

    /// The offset (µs, local minus UTC) that holds for every wall-clock time of a date, or None
    /// on a day whose clock changes.
    pub fn steady_offset_us(self, date: chrono::NaiveDate) -> Option<i64> {
        let TimeBase::Local(tz) = self else { return Some(0) };
        let offset_at = |wall: NaiveDateTime| match tz.from_local_datetime(&wall) {
            chrono::LocalResult::Single(t) => Some(offset_seconds(*t.offset())),
            _ => None,
        };
        let start = offset_at(date.and_time(chrono::NaiveTime::MIN))?;
        // Cannot fail: 23:59:59 is a time of every day.
        let end = offset_at(date.and_hms_opt(23, 59, 59).expect("a valid time"))?;
        (start == end).then_some(start * 1_000_000)
    }

    /// The instant of a wall-clock time: an ambiguous time (autumn fall-back) takes the earlier
    /// instant; a time that does not exist (spring-forward gap) shifts forward by the gap.
    pub fn instant(self, wall: NaiveDateTime) -> i64 {
        match self {
            TimeBase::Utc => wall.and_utc().timestamp_micros(),
            TimeBase::Local(tz) => match tz.from_local_datetime(&wall) {
                chrono::LocalResult::Single(t) => t.timestamp_micros(),
                chrono::LocalResult::Ambiguous(earlier, _) => earlier.timestamp_micros(),
                chrono::LocalResult::None => {
                    // Inside the gap: the offset before the gap applies, which lands the
                    // instant as far past the gap's end as the wall time was past its start.
                    // Gaps are an hour or so, but Samoa skipped a whole day (2011-12-30): the
                    // offset is looked for up to two days back, else the wall time is read as UTC.
                    let offset_before = (1..=48)
                        .find_map(|hours| {
                            tz.offset_from_local_datetime(&(wall - chrono::Duration::hours(hours))).earliest()
                        })
                        .map_or(0, offset_seconds);
                    tz.from_utc_datetime(&(wall - chrono::Duration::seconds(offset_before))).timestamp_micros()
                }
            },
        }
    }
}

fn offset_seconds(offset: <Tz as TimeZone>::Offset) -> i64 {
    use chrono::Offset;
    offset.fix().local_minus_utc() as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn easter_dates() {
        assert_eq!(easter_sunday(2021), date(2021, 4, 4));
        assert_eq!(easter_sunday(2022), date(2022, 4, 17));
        assert_eq!(easter_sunday(2024), date(2024, 3, 31));
        assert_eq!(easter_sunday(2038), date(2038, 4, 25));
    }

    #[test]
    fn french_holidays_include_the_easter_based_days() {
        let holidays = french_holidays(2022);
        assert_eq!(holidays.len(), 11);
        for day in [date(2022, 4, 18), date(2022, 5, 26), date(2022, 6, 6), date(2022, 7, 14)] {
            assert!(holidays.contains(&day), "{day}");
        }
    }

    #[test]
    fn business_days_and_rolling() {
        let calendar = BusinessCalendar::french(2021, 2023);
        assert!(calendar.is_business_day(date(2022, 7, 13)));
        assert!(!calendar.is_business_day(date(2022, 7, 14))); // Thursday, holiday
        assert!(!calendar.is_business_day(date(2022, 7, 16))); // Saturday
        // Friday 2022-07-15 is a business day; Friday 2021-12-24 too; 2022-11-11 is a Friday holiday.
        assert_eq!(calendar.roll(date(2022, 11, 11), false), date(2022, 11, 10));
        assert_eq!(calendar.roll(date(2022, 11, 11), true), date(2022, 11, 14));
    }

    /// Samoa skipped 2011-12-30 (from UTC-10 to UTC+14): a wall time inside that day-long gap
    /// takes the offset before it (the three-hour look-back used to find none and panic).
    #[test]
    fn a_day_long_gap_shifts_forward_without_panicking() {
        let apia = TimeBase::Local(chrono_tz::Pacific::Apia);
        let noon = date(2011, 12, 30).and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap());
        // Before the gap Apia was UTC-10 (daylight saving): 12:00 reads as 22:00Z.
        assert_eq!(apia.instant(noon), date(2011, 12, 30).and_hms_opt(22, 0, 0).unwrap().and_utc().timestamp_micros());
    }

    #[test]
    fn local_times_across_dst() {
        let paris = TimeBase::Local(chrono_tz::Europe::Paris);
        let at = |d: NaiveDate, h, m| d.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap());
        // 06:00 in Paris is 05:00Z in winter and 04:00Z in summer.
        assert_eq!(paris.instant(at(date(2022, 1, 4), 6, 0)), at(date(2022, 1, 4), 5, 0).and_utc().timestamp_micros());
        assert_eq!(paris.instant(at(date(2022, 7, 5), 6, 0)), at(date(2022, 7, 5), 4, 0).and_utc().timestamp_micros());
        // 02:30 does not exist on 2022-03-27: it shifts forward to 03:30 local (01:30Z).
        assert_eq!(
            paris.instant(at(date(2022, 3, 27), 2, 30)),
            at(date(2022, 3, 27), 1, 30).and_utc().timestamp_micros()
        );
        // 02:30 happens twice on 2022-10-30: the earlier instant (00:30Z) is taken.
        assert_eq!(
            paris.instant(at(date(2022, 10, 30), 2, 30)),
            at(date(2022, 10, 30), 0, 30).and_utc().timestamp_micros()
        );
        // Round trip.
        let us = at(date(2022, 7, 5), 4, 0).and_utc().timestamp_micros();
        assert_eq!(paris.wall_clock(us), at(date(2022, 7, 5), 6, 0));
        assert_eq!(TimeBase::Utc.wall_clock(us), at(date(2022, 7, 5), 4, 0));
    }

    #[test]
    fn a_days_steady_offset_gives_the_same_instants_as_each_lookup() {
        let paris = TimeBase::Local(chrono_tz::Europe::Paris);
        for (y, m, d) in [(2023, 1, 10), (2023, 7, 14), (2023, 3, 26), (2023, 10, 29)] {
            let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
            match paris.steady_offset_us(date) {
                Some(offset) => {
                    for minute in (0..1440).step_by(7) {
                        let wall = date.and_hms_opt(minute / 60, minute % 60, 0).unwrap();
                        assert_eq!(wall.and_utc().timestamp_micros() - offset, paris.instant(wall), "{wall}");
                    }
                }
                None => assert!((m, d) == (3, 26) || (m, d) == (10, 29), "only clock-change days have none"),
            }
        }
        assert!(paris.steady_offset_us(chrono::NaiveDate::from_ymd_opt(2023, 3, 26).unwrap()).is_none());
        assert_eq!(TimeBase::Utc.steady_offset_us(chrono::NaiveDate::from_ymd_opt(2023, 3, 26).unwrap()), Some(0));
    }
}
