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
    maps.collect::<BTreeSet<_>>().into_iter().collect()
}

fn transfers<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, lang: Lang, overview: &Overview) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| chart_error(TRANSFERS, e);
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let months = months_of(overview.transfers.values().flat_map(|m| m.keys().cloned()));
    let most = overview.transfers.values().flat_map(|m| m.values().copied()).max().unwrap_or(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(lang.text(Msg::ChartTransfers), (FONT, 17))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..(months.len().max(2) - 1) as f64, 0f64..most * 1.15)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_labels(months.len().min(13))
        .x_label_formatter(&|x| months.get(x.round() as usize).cloned().unwrap_or_default())
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
    let mut chart = ChartBuilder::on(&root)
        .caption(lang.text(Msg::ChartFindingsByMonth), (FONT, 17))
        .margin(14)
        .x_label_area_size(45)
        .y_label_area_size(10)
        .build_cartesian_2d(-4f64..columns, 0f64..lines)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_y_axis()
        .x_labels(months.len().min(24) + 4)
        .x_label_formatter(&|x| {
            let index = x.floor();
            if *x >= 0.0 && (*x - index).abs() < 1e-9 {
                months.get(index as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .label_style((FONT, 11))
        .draw()
        .map_err(|e| fail(&e))?;
    let cells = grid.iter().enumerate().flat_map(|(line, (_, by_month))| {
        months.iter().enumerate().map(move |(column, month)| (line, column, by_month.get(month).copied().unwrap_or(0)))
    });
    chart
        .draw_series(cells.map(|(line, column, count)| {
            let shade = (235.0 - count as f64 / most * 200.0) as u8;
            let color = if count == 0 { RGBColor(245, 245, 245) } else { RGBColor(shade, shade, 255) };
            let y = lines - 1.0 - line as f64;
            Rectangle::new([(column as f64, y + 0.08), (column as f64 + 0.92, y + 0.92)], color.filled())
        }))
        .map_err(|e| fail(&e))?;
    chart
        .draw_series(grid.keys().enumerate().map(|(line, detector)| {
            Text::new(detector.to_string(), (-3.9, lines - 1.0 - line as f64 + 0.65), (FONT, 13).into_font())
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
