//! The chart a union attaches to a letter about a periodic transfer: the flow's runs over time
//! against the slots its schedule expects (hits, misses, ad-hoc runs), and when in the week the
//! runs happen (weekday × hour, in the schedule's clock).

use std::path::{Path, PathBuf};

use chrono::Timelike;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::{FONT, chart_error, write_both};
use crate::error::Result;
use crate::finding::{Facts, Finding, Timeline};
use crate::report::i18n::{Lang, Msg};

const SIZE: (u32, u32) = (1100, 760);
const HIT: RGBColor = RGBColor(27, 120, 55);
const MISS: RGBColor = RGBColor(200, 30, 30);
const AD_HOC: RGBColor = RGBColor(230, 120, 0);
const SLOT: RGBColor = RGBColor(140, 140, 140);
const DAY_US: f64 = 86_400_000_000.0;

pub fn stem(finding: &Finding) -> String {
    format!("periodic-{}", finding.id)
}

pub fn write(out: &Path, lang: Lang, finding: &Finding, timeline: &Timeline) -> Result<Vec<PathBuf>> {
    let name = stem(finding);
    write_both(
        out,
        &name,
        SIZE,
        |area| draw(area, lang, finding, timeline, &name),
        |area| draw(area, lang, finding, timeline, &name),
    )
}

/// Day number (x) and hour of the day in the schedule's clock (y) of an instant.
fn place(timeline: &Timeline, us: i64) -> (f64, f64) {
    let wall = wall_clock(timeline, us);
    let day = us as f64 / DAY_US;
    (day.floor(), f64::from(wall.hour()) + f64::from(wall.minute()) / 60.0)
}

fn wall_clock(timeline: &Timeline, us: i64) -> chrono::NaiveDateTime {
    timeline.time_base.wall_clock(us)
}

fn date_label(day: &f64) -> String {
    chrono::DateTime::from_timestamp((*day * 86_400.0) as i64, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    lang: Lang,
    finding: &Finding,
    timeline: &Timeline,
    name: &str,
) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| chart_error(name, e);
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let (upper, lower) = root.split_vertically(470);
    let instants: Vec<i64> = timeline
        .hits
        .iter()
        .flat_map(|(s, r)| [*s, *r])
        .chain(timeline.missed.iter().copied())
        .chain(timeline.ad_hoc.iter().copied())
        .collect();
    let first = instants.iter().min().copied().unwrap_or(0) as f64 / DAY_US;
    let last = instants.iter().max().copied().unwrap_or(0) as f64 / DAY_US;
    let title = format!(
        "{} → {} ({}): {}",
        finding.dataset.as_deref().unwrap_or("?"),
        finding.recipient.as_deref().unwrap_or("?"),
        finding.id,
        crate::report::sentences::cadence(lang, finding)
    );
    // The explanation's lines sit under the date axis, in room made for them.
    let explanation = explanation_lines(lang, finding);
    let mut chart = ChartBuilder::on(&upper)
        .caption(title, (FONT, 18))
        .margin(12)
        .x_label_area_size(40 + 14 * explanation.len() as u32)
        .y_label_area_size(70)
        .build_cartesian_2d(first.floor() - 3.0..last.ceil() + 3.0, 0f64..24f64)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_labels(8)
        .x_label_formatter(&date_label)
        .y_labels(13)
        .y_desc(format!("{} ({})", lang.text(Msg::ChartTimeOfDay), timeline.time_base.name()))
        .axis_desc_style((FONT, 14))
        .label_style((FONT, 12))
        .draw()
        .map_err(|e| fail(&e))?;
    let slots = timeline.hits.iter().map(|(slot, _)| *slot).chain(timeline.missed.iter().copied());
    chart
        .draw_series(slots.map(|s| Circle::new(place(timeline, s), 6, SLOT.stroke_width(1))))
        .map_err(|e| fail(&e))?
        .label(lang.text(Msg::ChartExpectedSlot))
        .legend(|(x, y)| Circle::new((x, y), 6, SLOT.stroke_width(1)));
    chart
        .draw_series(timeline.hits.iter().map(|(_, run)| Circle::new(place(timeline, *run), 4, HIT.filled())))
        .map_err(|e| fail(&e))?
        .label(format!("{} ({})", lang.text(Msg::ChartRunOnSchedule), timeline.hits.len()))
        .legend(|(x, y)| Circle::new((x, y), 4, HIT.filled()));
    chart
        .draw_series(timeline.missed.iter().map(|m| Cross::new(place(timeline, *m), 6, MISS.stroke_width(2))))
        .map_err(|e| fail(&e))?
        .label(format!("{} ({})", lang.text(Msg::ChartMissedSlot), timeline.missed.len()))
        .legend(|(x, y)| Cross::new((x, y), 6, MISS.stroke_width(2)));
    chart
        .draw_series(timeline.ad_hoc.iter().map(|a| TriangleMarker::new(place(timeline, *a), 6, AD_HOC.filled())))
        .map_err(|e| fail(&e))?
        .label(format!("{} ({})", lang.text(Msg::ChartAdHoc), timeline.ad_hoc.len()))
        .legend(|(x, y)| TriangleMarker::new((x, y), 6, AD_HOC.filled()));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 13))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    draw_explanation(&upper, &explanation)?;
    draw_week(&lower, lang, timeline, name)?;
    root.present().map_err(|e| fail(&e))
}

/// Under the plot: the occupancy of a once-per-period schedule and the better-scoring
/// hypotheses set aside (a step not phase-locked, a burst), as the finding's details give them.
fn explanation_lines(lang: Lang, finding: &Finding) -> Vec<String> {
    let mut lines = Vec::new();
    let Facts::PeriodicTransfer(periodic) = &finding.facts else { return lines };
    if let Some(occupancy) = &periodic.occupancy {
        let number = |key: &str| occupancy[key].as_u64().unwrap_or(0);
        lines.push(format!(
            "{}: {} / {} ; {}: {}",
            lang.text(Msg::ChartPeriodsWithRun),
            number("periods_with_a_run"),
            number("periods"),
            lang.text(Msg::ChartExcused),
            number("excused_periods")
        ));
    }
    for rejected in periodic.rejected_hypotheses.as_array().into_iter().flatten().take(2) {
        lines.push(format!(
            "{}: {} — {}",
            lang.text(Msg::ChartSetAside),
            crate::report::sentences::cadence_of(lang, &rejected["cadence"]),
            crate::report::sentences::set_aside(lang, rejected)
        ));
    }
    lines
}

fn draw_explanation<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, lines: &[String]) -> Result<()> {
    let height = area.dim_in_pixel().1 as i32;
    for (i, line) in lines.iter().enumerate() {
        let y = height - 14 * (lines.len() - i) as i32 - 2;
        area.draw(&Text::new(line.clone(), (80, y), (FONT, 11).into_font().color(&BLACK)))
            .map_err(|e| chart_error("periodic explanation", &e))?;
    }
    Ok(())
}

/// Runs by weekday × hour: a schedule is one bright cell; requests are spread out.
fn draw_week<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lang: Lang,
    timeline: &Timeline,
    name: &str,
) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| chart_error(name, e);
    let mut counts = [[0u32; 24]; 7];
    for (_, weekday, hour) in &timeline.runs {
        counts[*weekday as usize % 7][*hour as usize % 24] += 1;
    }
    let most = counts.iter().flatten().copied().max().unwrap_or(1).max(1);
    // Plain coordinates; the weekday names are drawn in the two hours left of midnight so each
    // sits in the middle of its row (tick labels would sit on the row boundaries).
    let mut chart = ChartBuilder::on(area)
        .caption(format!("{} ({})", lang.text(Msg::ChartRunsByWeekday), timeline.time_base.name()), (FONT, 16))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(10)
        .build_cartesian_2d(-2f64..24f64, 0f64..7f64)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_y_axis()
        .x_labels(14)
        .x_label_formatter(&|h| if *h >= 0.0 { format!("{:02}h", *h as u32) } else { String::new() })
        .label_style((FONT, 12))
        .draw()
        .map_err(|e| fail(&e))?;
    let cells = (0..7usize).flat_map(|day| (0..24usize).map(move |hour| (day, hour)));
    chart
        .draw_series(cells.map(|(day, hour)| {
            let count = counts[day][hour];
            let share = f64::from(count) / f64::from(most);
            let shade = (235.0 - share * 200.0) as u8;
            let color = if count == 0 { RGBColor(245, 245, 245) } else { RGBColor(shade, shade, 255) };
            let row = (6 - day) as f64; // Monday on the top row
            Rectangle::new([(hour as f64, row + 0.05), (hour as f64 + 0.95, row + 0.95)], color.filled())
        }))
        .map_err(|e| fail(&e))?;
    chart
        .draw_series(
            lang.weekdays().into_iter().enumerate().map(|(day, name)| {
                Text::new(name.to_string(), (-1.8, (6 - day) as f64 + 0.75), (FONT, 13).into_font())
            }),
        )
        .map_err(|e| fail(&e))?;
    Ok(())
}
