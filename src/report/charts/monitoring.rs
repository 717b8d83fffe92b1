//! Charts of individual monitoring (seed 001), pseudonymised like every output: a heatmap of
//! watching actors × months (cells = distinct agents watched that month) and a bar chart of
//! watching events by unit. Drawn from the findings' facts, which hold no agent id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{FONT, chart_error, write_both};
use crate::error::Result;
use crate::finding::{Facts, Finding, facts};
use crate::report::i18n::{Lang, Msg};

pub const HEATMAP: &str = "monitoring-heatmap";
pub const BY_UNIT: &str = "monitoring-by-unit";

/// The facts of each individual_monitoring finding, with its (pseudonymised) watcher.
fn watching(findings: &[Finding]) -> impl Iterator<Item = (&Finding, &facts::IndividualMonitoring)> {
    findings.iter().filter_map(|f| match &f.facts {
        Facts::IndividualMonitoring(watch) => Some((f, watch)),
        _ => None,
    })
}

/// (watcher, month → agents watched) for each individual_monitoring finding.
fn rows(findings: &[Finding]) -> Vec<(String, BTreeMap<String, u64>)> {
    watching(findings)
        .map(|(f, watch)| {
            let months = watch.agents_watched_by_month.iter().map(|(month, n)| (month.clone(), *n as u64)).collect();
            (f.actor.clone().unwrap_or_default(), months)
        })
        .collect()
}

fn by_unit(findings: &[Finding]) -> BTreeMap<String, u64> {
    let mut units = BTreeMap::new();
    for (_, watch) in watching(findings) {
        for (unit, n) in &watch.events_by_unit {
            *units.entry(unit.clone()).or_insert(0) += n;
        }
    }
    units
}

pub fn write(out: &Path, lang: Lang, findings: &[Finding]) -> Result<Vec<PathBuf>> {
    let rows = rows(findings);
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let height = 160 + 28 * rows.len() as u32;
    let mut written =
        write_both(out, HEATMAP, (1100, height), |a| heatmap(a, lang, &rows), |a| heatmap(a, lang, &rows))?;
    let units = by_unit(findings);
    written.extend(write_both(out, BY_UNIT, (900, 500), |a| bars(a, lang, &units), |a| bars(a, lang, &units))?);
    Ok(written)
}

const EMPTY_CELL: RGBColor = RGBColor(245, 245, 245);

/// A cell's colour for its share of the busiest cell (agents watched): pale to deep red.
fn watched_shade(share: f64) -> RGBColor {
    let shade = (235.0 - share * 200.0) as u8;
    RGBColor(255, shade, shade)
}

fn heatmap<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    lang: Lang,
    rows: &[(String, BTreeMap<String, u64>)],
) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| chart_error(HEATMAP, e);
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let months = super::month_range(rows.iter().flat_map(|(_, m)| m.keys().cloned()));
    let most = rows.iter().flat_map(|(_, m)| m.values().copied()).max().unwrap_or(1).max(1);
    let (columns, lines) = (months.len() as f64, rows.len() as f64);
    // The names take a fifth of the width, however many months (never less than 3 columns).
    let names = (columns * 0.25).max(3.0);
    // Two columns' width on the left hold the watcher names.
    let mut chart = ChartBuilder::on(&root)
        .caption(lang.text(Msg::ChartWatched), (FONT, 18))
        .margin(14)
        .x_label_area_size(50)
        .y_label_area_size(10)
        .build_cartesian_2d(-names..columns, -0.8f64..lines)
        .map_err(|e| fail(&e))?;
    chart.draw_series(super::month_labels(&months, -0.08)).map_err(|e| fail(&e))?;
    super::colour_scale(&root, most, EMPTY_CELL, watched_shade).map_err(|e| fail(&e))?;
    let cells = rows.iter().enumerate().flat_map(|(line, (_, by_month))| {
        months.iter().enumerate().map(move |(column, month)| (line, column, by_month.get(month).copied().unwrap_or(0)))
    });
    chart
        .draw_series(cells.map(|(line, column, count)| {
            let color = if count == 0 { EMPTY_CELL } else { watched_shade(count as f64 / most as f64) };
            let y = lines - 1.0 - line as f64;
            Rectangle::new([(column as f64, y + 0.08), (column as f64 + 0.92, y + 0.92)], color.filled())
        }))
        .map_err(|e| fail(&e))?;
    chart
        .draw_series(rows.iter().enumerate().map(|(line, (watcher, _))| {
            Text::new(watcher.clone(), (0.1 - names, lines - 1.0 - line as f64 + 0.65), (FONT, 13).into_font())
        }))
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}

fn bars<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, lang: Lang, units: &BTreeMap<String, u64>) -> Result<()> {
    let fail = |e: &dyn std::fmt::Display| chart_error(BY_UNIT, e);
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let names: Vec<&String> = units.keys().collect();
    let most = units.values().copied().max().unwrap_or(1).max(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption(lang.text(Msg::ChartByUnit), (FONT, 18))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0f64..names.len() as f64, 0f64..most * 1.1)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(names.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let index = x.floor() as usize;
            if (*x - x.floor() - 0.5).abs() < 1e-9 && index < names.len() {
                names[index].clone()
            } else {
                String::new()
            }
        })
        .y_desc(lang.text(Msg::ChartEvents))
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .draw()
        .map_err(|e| fail(&e))?;
    chart
        .draw_series(names.iter().enumerate().map(|(i, unit)| {
            Rectangle::new(
                [(i as f64 + 0.15, 0.0), (i as f64 + 0.85, units[*unit] as f64)],
                RGBColor(200, 60, 60).filled(),
            )
        }))
        .map_err(|e| fail(&e))?;
    root.present().map_err(|e| fail(&e))
}
