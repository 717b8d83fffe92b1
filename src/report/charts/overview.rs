//! The report's overview charts: transfers per recipient and month (undeclared recipients in
//! red), findings by detector and month, and data categories declared versus observed per
//! recipient (the creep a union letter describes: what was sent beyond what was declared).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{FONT, chart_error, write_both};
use crate::error::Result;
use crate::finding::Finding;
use crate::report::i18n::{Lang, Msg};
use crate::report::overview::Overview;

pub const TRANSFERS: &str = "overview-transfers";
pub const FINDINGS: &str = "overview-findings";
pub const CATEGORIES: &str = "overview-categories";

const RED: RGBColor = RGBColor(200, 30, 30);
const CALM: [RGBColor; 4] =
    [RGBColor(60, 110, 170), RGBColor(90, 150, 90), RGBColor(120, 120, 120), RGBColor(150, 100, 170)];

pub fn write(out: &Path, lang: Lang, findings: &[Finding], overview: &Overview) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    if !overview.transfers.is_empty() {
        written.extend(write_both(
            out,
            TRANSFERS,
            (1100, 500),
            |a| transfers(a, lang, overview),
            |a| transfers(a, lang, overview),
        )?);
    }
    if !findings.is_empty() {
        let grid = findings_by_month(findings);
        let height = 140 + 30 * grid.len() as u32;
        written.extend(write_both(
            out,
            FINDINGS,
            (1100, height),
            |a| heatmap(a, lang, &grid),
            |a| heatmap(a, lang, &grid),
        )?);
    }
    if overview.categories.values().any(|(_, observed)| !observed.is_empty()) {
        let rows = overview.categories.iter().filter(|(_, (_, observed))| !observed.is_empty()).count();
        let height = 220 + 30 * rows as u32;
        written.extend(write_both(
            out,
            CATEGORIES,
            (1100, height),
            |a| categories(a, lang, overview),
            |a| categories(a, lang, overview),
        )?);
    }
    Ok(written)
}

/// The overview charts a run has, relative to the output directory.
pub fn files(findings: &[Finding], overview: &Overview) -> Vec<String> {
    let mut files = Vec::new();
    if !overview.transfers.is_empty() {
        files.push(format!("charts/{TRANSFERS}.svg"));
    }
    if !findings.is_empty() {
        files.push(format!("charts/{FINDINGS}.svg"));
    }
    if overview.categories.values().any(|(_, observed)| !observed.is_empty()) {
        files.push(format!("charts/{CATEGORIES}.svg"));
    }
    files
}

fn months_of(maps: impl Iterator<Item = String>) -> Vec<String> {
    super::month_range(maps)
}

fn transfers<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, lang: Lang, overview: &Overview) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| chart_error(TRANSFERS, e);
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let months = months_of(overview.transfers.values().flat_map(|m| m.keys().cloned()));
    let most = overview.transfers.values().flat_map(|m| m.values().copied()).max().unwrap_or(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(lang.text(Msg::ChartTransfers), (FONT, 17))
        .margin(14)
        .margin_right(34) // room for the last month's label
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..(months.len().max(2) - 1) as f64, 0f64..most * 1.15)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_labels(months.len().min(13))
        // A label only on a month's own position (ticks between months used to repeat a label).
        .x_label_formatter(&|x| {
            let index = x.round();
            if (x - index).abs() < 1e-6 && index >= 0.0 {
                months.get(index as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_desc(lang.text(Msg::ChartEvents))
        .label_style((FONT, 11))
        .axis_desc_style((FONT, 13))
        .draw()
        .map_err(|e| fail(&e))?;
    for (index, (recipient, by_month)) in overview.transfers.iter().enumerate() {
        let undeclared = overview.undeclared.contains(recipient);
        let color = if undeclared { RED } else { CALM[index % CALM.len()] };
        let points: Vec<(f64, f64)> =
            months.iter().enumerate().map(|(i, m)| (i as f64, by_month.get(m).copied().unwrap_or(0) as f64)).collect();
        let style = color.stroke_width(if undeclared { 3 } else { 2 });
        let label =
            if undeclared { format!("{recipient} ({})", lang.text(Msg::ChartUndeclared)) } else { recipient.clone() };
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(|e| fail(&e))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
    }
    // Each register version that replaced another, at its date: a change of the rules the
    // transfers are judged by (seed 000: the Wiki'T version of 2022-03-01).
    for (date, id) in &overview.new_versions {
        let Some(x) = month_position(&months, *date) else { continue };
        let line = BLACK.mix(0.6).stroke_width(1);
        chart.draw_series(DashedLineSeries::new(vec![(x, 0.0), (x, most * 1.12)], 6, 4, line)).map_err(|e| fail(&e))?;
        chart
            .draw_series(std::iter::once(Text::new(id.clone(), (x, most * 1.12), (FONT, 11).into_font())))
            .map_err(|e| fail(&e))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .label_font((FONT, 12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

/// Where a date falls on a chart whose x positions are the indexes of `months` (`YYYY-MM`, the
/// first of the month at its index); None outside the charted months.
fn month_position(months: &[String], date: chrono::NaiveDate) -> Option<f64> {
    use chrono::Datelike;
    let month = format!("{:04}-{:02}", date.year(), date.month());
    let index = months.iter().position(|m| *m == month)?;
    let days = chrono::NaiveDate::from_ymd_opt(date.year(), date.month(), 1)
        .and_then(|first| first.checked_add_months(chrono::Months::new(1)).map(|next| (next - first).num_days()))
        .unwrap_or(30);
    Some(index as f64 + f64::from(date.day0()) / days as f64)
}

/// detector → month (of first_seen) → findings.
fn findings_by_month(findings: &[Finding]) -> BTreeMap<&'static str, BTreeMap<String, u64>> {
    let mut grid: BTreeMap<&'static str, BTreeMap<String, u64>> = BTreeMap::new();
    for finding in findings {
        let month =
            finding.first_seen.map(|us| crate::ingest::timestamp::format_us(us)[..7].to_string()).unwrap_or_default();
        *grid.entry(finding.detector).or_default().entry(month).or_default() += 1;
    }
    grid
}

const EMPTY_CELL: RGBColor = RGBColor(245, 245, 245);

/// A findings cell's colour for its share of the busiest cell: pale to deep blue.
fn findings_shade(share: f64) -> RGBColor {
    let shade = (235.0 - share * 200.0) as u8;
    RGBColor(shade, shade, 255)
}

fn heatmap<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    lang: Lang,
    grid: &BTreeMap<&'static str, BTreeMap<String, u64>>,
) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| chart_error(FINDINGS, e);
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let months = months_of(grid.values().flat_map(|m| m.keys().cloned()));
    let most = grid.values().flat_map(|m| m.values().copied()).max().unwrap_or(1).max(1) as f64;
    let (columns, lines) = (months.len() as f64, grid.len() as f64);
    // The names take a fifth of the width, however many months (never less than 4 columns).
    let names = (columns * 0.25).max(4.0);
    let mut chart = ChartBuilder::on(&root)
        .caption(lang.text(Msg::ChartFindingsByMonth), (FONT, 17))
        .margin(14)
        .x_label_area_size(45)
        .y_label_area_size(10)
        .build_cartesian_2d(-names..columns, -0.8f64..lines)
        .map_err(|e| fail(&e))?;
    // Month labels centred under their cells (the axis' ticks sat on the cells' left edges).
    chart.draw_series(super::month_labels(&months, -0.08)).map_err(|e| fail(&e))?;
    super::colour_scale(&root, most as u64, EMPTY_CELL, findings_shade).map_err(|e| fail(&e))?;
    let cells = grid.iter().enumerate().flat_map(|(line, (_, by_month))| {
        months.iter().enumerate().map(move |(column, month)| (line, column, by_month.get(month).copied().unwrap_or(0)))
    });
    chart
        .draw_series(cells.map(|(line, column, count)| {
            let color = if count == 0 { EMPTY_CELL } else { findings_shade(count as f64 / most) };
            let y = lines - 1.0 - line as f64;
            Rectangle::new([(column as f64, y + 0.08), (column as f64 + 0.92, y + 0.92)], color.filled())
        }))
        .map_err(|e| fail(&e))?;
    chart
        .draw_series(grid.keys().enumerate().map(|(line, detector)| {
            Text::new(detector.to_string(), (0.1 - names, lines - 1.0 - line as f64 + 0.65), (FONT, 13).into_font())
        }))
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

fn categories<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, lang: Lang, overview: &Overview) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| chart_error(CATEGORIES, e);
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let rows: Vec<(&String, &(BTreeSet<String>, BTreeSet<String>))> =
        overview.categories.iter().filter(|(_, (_, observed))| !observed.is_empty()).collect();
    let all: Vec<String> = rows
        .iter()
        .flat_map(|(_, (d, o))| d.iter().chain(o.iter()).cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let (columns, lines) = (all.len() as f64, rows.len() as f64);
    let mut chart = ChartBuilder::on(&root)
        .caption(lang.text(Msg::ChartCategories), (FONT, 15))
        .margin(14)
        .x_label_area_size(120)
        .y_label_area_size(10)
        .build_cartesian_2d(-5f64..columns, 0f64..lines)
        .map_err(|e| fail(&e))?;
    chart.configure_mesh().disable_mesh().disable_y_axis().disable_x_axis().draw().map_err(|e| fail(&e))?;
    let covered = |category: &str, declared: &BTreeSet<String>| {
        crate::register::categories::is_covered(category, &declared.iter().cloned().collect::<Vec<_>>())
    };
    let cells = rows.iter().enumerate().flat_map(|(line, (_, (declared, observed)))| {
        all.iter().enumerate().map(move |(column, category)| {
            let color = match (observed.contains(category), declared.contains(category) || covered(category, declared))
            {
                (true, true) => RGBColor(90, 160, 90),
                (true, false) => RED,
                (false, true) => RGBColor(215, 215, 215),
                (false, false) => RGBColor(250, 250, 250),
            };
            (line, column, color)
        })
    });
    chart
        .draw_series(cells.map(|(line, column, color)| {
            let y = lines - 1.0 - line as f64;
            Rectangle::new([(column as f64, y + 0.1), (column as f64 + 0.9, y + 0.9)], color.filled())
        }))
        .map_err(|e| fail(&e))?;
    chart
        .draw_series(rows.iter().enumerate().map(|(line, (recipient, _))| {
            Text::new(recipient.to_string(), (-4.9, lines - 1.0 - line as f64 + 0.6), (FONT, 13).into_font())
        }))
        .map_err(|e| fail(&e))?;
    // Category names under their columns, rotated to fit.
    let label_style = TextStyle::from((FONT, 12).into_font()).transform(FontTransform::Rotate90);
    chart
        .draw_series(
            all.iter().enumerate().map(|(column, category)| {
                Text::new(category.clone(), (column as f64 + 0.3, -0.05), label_style.clone())
            }),
        )
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_month_axis_has_every_month_between_the_first_and_the_last() {
        let months = ["2021-11", "2022-02", "2021-11"].map(String::from);
        assert_eq!(super::super::month_range(months.into_iter()), ["2021-11", "2021-12", "2022-01", "2022-02"]);
        assert_eq!(super::super::month_range(["".to_string()].into_iter()), [""]);
    }

    #[test]
    fn a_date_sits_between_its_month_and_the_next() {
        let months = vec!["2022-02".to_string(), "2022-03".to_string()];
        assert_eq!(month_position(&months, date(2022, 3, 1)), Some(1.0));
        assert_eq!(month_position(&months, date(2022, 2, 15)), Some(0.5));
        assert_eq!(month_position(&months, date(2022, 4, 1)), None);
    }

    /// A register version that replaced another is marked, with its id, on the transfers chart.
    #[test]
    fn the_transfers_chart_marks_a_new_register_version() {
        let mut overview = Overview::default();
        for month in ["2022-02", "2022-03", "2022-04"] {
            overview.transfers.entry("moe_platforms".into()).or_default().insert(month.into(), 5);
        }
        overview.new_versions.push((date(2022, 3, 1), "wikit@2022-03-01".into()));
        super::super::register_font().unwrap();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (1100, 500)).into_drawing_area();
            transfers(root, Lang::En, &overview).unwrap();
        }
        assert!(svg.contains("wikit@2022-03-01"), "the version's id on the chart");
        assert!(svg.contains("stroke-dasharray") || svg.matches("<polyline").count() > 1, "its dashed line");
    }
}
