//! Evidence charts, one chart a file, each drawn on any plotters backend and written as SVG and
//! PNG. The PNG uses the DejaVu Sans font shipped in `assets/` (no system font lookup, so a
//! fresh machine renders the same pixels); the SVG names `sans-serif` and lets the viewer draw.

pub mod monitoring;
pub mod overview;
pub mod periodic;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::report::i18n::Lang;

pub const FONT: &str = "sans-serif";
const DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/DejaVuSans.ttf");

pub(super) fn register_font() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_ok());
    if ok { Ok(()) } else { Err(Error::Usage("the embedded DejaVu Sans font could not be loaded".into())) }
}

/// A chart error as ours, naming the chart.
pub fn chart_error(chart: &str, error: impl std::fmt::Display) -> Error {
    Error::file(chart, format!("drawing the chart failed: {error}"))
}

/// Draws `draw` into `<dir>/<stem>.svg` and `<dir>/<stem>.png`; returns the two paths relative
/// to the output directory.
pub fn write_both(
    out: &Path,
    stem: &str,
    size: (u32, u32),
    draw_svg: impl Fn(DrawingArea<SVGBackend, Shift>) -> Result<()>,
    draw_png: impl Fn(DrawingArea<BitMapBackend, Shift>) -> Result<()>,
) -> Result<Vec<PathBuf>> {
    register_font()?;
    let directory = out.join("charts");
    std::fs::create_dir_all(&directory).map_err(|e| Error::io(&directory, e))?;
    let svg_path = directory.join(format!("{stem}.svg"));
    let mut svg = String::new();
    draw_svg(SVGBackend::with_string(&mut svg, size).into_drawing_area())?;
    std::fs::write(&svg_path, svg).map_err(|e| Error::io(&svg_path, e))?;
    let png_path = directory.join(format!("{stem}.png"));
    draw_png(BitMapBackend::new(&png_path, size).into_drawing_area())?;
    Ok(vec![PathBuf::from("charts").join(format!("{stem}.svg")), PathBuf::from("charts").join(format!("{stem}.png"))])
}

/// Every chart the findings call for, written under `<out>/charts/`; sorted relative paths.
pub fn write_all(
    out: &Path,
    lang: Lang,
    findings: &[Finding],
    overview: &crate::report::overview::Overview,
) -> Result<Vec<PathBuf>> {
    let mut written = overview::write(out, lang, findings, overview)?;
    written.extend(monitoring::write(out, lang, findings)?);
    for finding in findings {
        if let Some(timeline) = &finding.timeline {
            written.extend(periodic::write(out, lang, finding, timeline)?);
        }
    }
    written.sort();
    Ok(written)
}

/// The chart files of one finding (relative to the output directory), for the reports to link.
pub fn files_of(finding: &Finding) -> Vec<String> {
    if finding.timeline.is_some() { vec![format!("charts/{}.svg", periodic::stem(finding))] } else { Vec::new() }
}

/// Every month from the earliest to the latest of `months` (`YYYY-MM`), gaps filled, so that a
/// month axis is a time axis (a chart listing only the months that have data put 2018-06 next
/// to 2018-09). A month that is not `YYYY-MM` is kept as it is, after the others.
pub fn month_range(months: impl Iterator<Item = String>) -> Vec<String> {
    let months: std::collections::BTreeSet<String> = months.collect();
    let parse = |m: &str| -> Option<i32> {
        let (year, month) = m.split_once('-')?;
        let (year, month): (i32, i32) = (year.parse().ok()?, month.parse().ok()?);
        (m.len() == 7 && (1..=12).contains(&month)).then_some(year * 12 + month - 1)
    };
    let indexes: Vec<i32> = months.iter().filter_map(|m| parse(m)).collect();
    let mut range: Vec<String> = match (indexes.iter().min(), indexes.iter().max()) {
        (Some(&first), Some(&last)) => {
            (first..=last).map(|i| format!("{:04}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1)).collect()
        }
        _ => Vec::new(),
    };
    range.extend(months.into_iter().filter(|m| parse(m).is_none()));
    range
}

/// At most this many month labels under a heatmap: more would overlap.
const MONTH_LABELS: usize = 12;

/// Month labels centred under heatmap columns `0..months.len()` (cells span `[c, c + 0.92]`),
/// every n-th when there are many, in a chart whose y range reaches below 0.
pub fn month_labels(months: &[String], y: f64) -> Vec<Text<'static, (f64, f64), String>> {
    let step = months.len().div_ceil(MONTH_LABELS).max(1);
    let style = TextStyle::from((FONT, 11).into_font()).pos(plotters::style::text_anchor::Pos::new(
        plotters::style::text_anchor::HPos::Center,
        plotters::style::text_anchor::VPos::Top,
    ));
    months
        .iter()
        .enumerate()
        .filter(|(index, _)| index % step == 0)
        .map(|(index, month)| Text::new(month.clone(), (index as f64 + 0.46, y), style.clone()))
        .collect()
}

/// A heatmap's colour scale in the chart's top-right corner: an empty cell, then five shades
/// from one to `most`, each with its count (`colour` maps a share of `most` to the cell colour).
pub fn colour_scale<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    most: u64,
    empty: RGBColor,
    colour: impl Fn(f64) -> RGBColor,
) -> std::result::Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (width, _) = root.dim_in_pixel();
    let left = width as i32 - 14 - 6 * 34;
    let counts: Vec<u64> = std::iter::once(0)
        .chain((1..=5).map(|step| ((most as f64 * step as f64 / 5.0).ceil() as u64).max(1)))
        .collect();
    let mut previous = None;
    for (slot, count) in counts.into_iter().enumerate() {
        if previous == Some(count) {
            continue; // few distinct counts: one swatch each
        }
        previous = Some(count);
        let x = left + slot as i32 * 34;
        let fill = if count == 0 { empty } else { colour(count as f64 / most.max(1) as f64) };
        root.draw(&Rectangle::new([(x, 10), (x + 30, 22)], fill.filled()))?;
        root.draw(&Rectangle::new([(x, 10), (x + 30, 22)], BLACK.mix(0.3)))?;
        let style = TextStyle::from((FONT, 10).into_font()).pos(plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Center,
            plotters::style::text_anchor::VPos::Top,
        ));
        root.draw(&Text::new(count.to_string(), (x + 15, 24), style))?;
    }
    Ok(())
}

/// What a finding's chart shows, for its `alt` text (a reader who cannot see it learns what it
/// says, not its file name).
pub fn alt_text(lang: crate::report::i18n::Lang, finding: &Finding, _chart: &str) -> String {
    use crate::report::i18n::Lang;
    let recipient = finding.recipient.as_deref().unwrap_or("?");
    let dataset = finding.dataset.as_deref().unwrap_or("?");
    match lang {
        Lang::En => format!(
            "Timeline of the transfers of {dataset} to {recipient}: expected slots of the schedule, the runs on them, missed slots and ad-hoc runs, then the runs by weekday and hour"
        ),
        Lang::Fr => format!(
            "Chronologie des transmissions de {dataset} à {recipient} : envois attendus au calendrier, envois réalisés, envois manqués et envois ponctuels, puis les envois par jour de la semaine et par heure"
        ),
    }
}

/// What an overview chart shows, for its `alt` text.
pub fn overview_alt_text(lang: crate::report::i18n::Lang, chart: &str) -> String {
    use crate::report::i18n::Msg;
    let message = if chart.contains(overview::TRANSFERS) {
        Msg::ChartTransfers
    } else if chart.contains(overview::FINDINGS) {
        Msg::ChartFindingsByMonth
    } else if chart.contains(overview::CATEGORIES) {
        Msg::ChartCategories
    } else if chart.contains(monitoring::HEATMAP) {
        Msg::ChartWatched
    } else if chart.contains(monitoring::BY_UNIT) {
        Msg::ChartByUnit
    } else {
        Msg::Overview
    };
    lang.text(message).to_string()
}

/// Charts about the whole run (not one finding), for the report's overview.
pub fn overview_files(findings: &[Finding], summary: &crate::report::overview::Overview) -> Vec<String> {
    let mut files = overview::files(findings, summary);
    if findings.iter().any(|f| f.detector == "individual_monitoring") {
        files.push(format!("charts/{}.svg", monitoring::HEATMAP));
        files.push(format!("charts/{}.svg", monitoring::BY_UNIT));
    }
    files
}
