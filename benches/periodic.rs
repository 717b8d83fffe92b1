//! Cadence benchmark: every scenario of `shared/design/periodic-transfers.md`, 30 seeds each,
//! scored by the periodic-transfer detector's cadence engine. Prints the per-scenario table
//! (detection rate, mean score, family right) and overall precision and recall, as in docs/guide.md.
//!
//! Run: `cargo bench --bench periodic` (add `-- --seeds 5` for a quick look).

use driftwatch::calendar::BusinessCalendar;
use driftwatch::detect::cadence::{self, CadenceParams, Verdict};
use driftwatch::generate::cadence::{CadenceScenario, StressSchedule, stress_flow};

fn main() {
    let arguments: Vec<String> = std::env::args().collect();
    let seeds: u64 = arguments
        .iter()
        .position(|a| a == "--seeds")
        .and_then(|i| arguments.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let mut params = CadenceParams::default();
    if let Some(scale) = arguments
        .iter()
        .position(|a| a == "--tightness-scale")
        .and_then(|i| arguments.get(i + 1))
        .and_then(|s| s.parse().ok())
    {
        params.tightness_scale_min = scale;
    }
    let calendar = BusinessCalendar::french(2020, 2024);
    let started = std::time::Instant::now();
    let (mut true_positive, mut false_positive, mut false_negative, mut true_negative) = (0, 0, 0, 0);
    let (mut family_right, mut family_total) = (0, 0);
    // Per scenario: (detected, score sum, family right, the baseline's score per seed).
    let mut rows = Vec::new();
    for scenario in CadenceScenario::ALL {
        let (mut detected, mut score_sum, mut right, mut baseline) = (0, 0.0, 0, Vec::new());
        for seed in 0..seeds {
            let mut observations = scenario.generate(seed);
            let runs = cadence::collapse_runs(&mut observations, params.run_gap_us);
            baseline.push(interval_score(&runs));
            let found = cadence::detect(&runs, &params, chrono_tz::Europe::Paris, &calendar);
            let score = found.as_ref().map_or(0.0, |c| c.score);
            let systematic = found.as_ref().is_some_and(|c| c.verdict == Verdict::Systematic);
            score_sum += score;
            if systematic {
                detected += 1;
                if Some(found.as_ref().unwrap().hypothesis.family.name()) == scenario.expected_family() {
                    right += 1;
                }
            }
        }
        if scenario.is_positive() {
            true_positive += detected;
            false_negative += seeds as usize - detected;
            family_right += right;
            family_total += detected;
        } else {
            false_positive += detected;
            true_negative += seeds as usize - detected;
        }
        rows.push((scenario, detected, score_sum, right, baseline));
    }
    let threshold = best_baseline_threshold(&rows);
    println!("| scenario | expected | detected | mean score | family right | interval baseline |");
    println!("|---|---|---:|---:|---:|---:|");
    let (mut baseline_found, mut baseline_flagged) = (0, 0);
    for (scenario, detected, score_sum, right, baseline) in &rows {
        let positive = scenario.is_positive();
        let flagged = baseline.iter().filter(|s| **s >= threshold).count();
        if positive {
            baseline_found += flagged
        } else {
            baseline_flagged += flagged
        }
        println!(
            "| {} | {} | {}/{} | {:.2} | {} | {flagged}/{seeds} |",
            scenario.name(),
            if positive { "periodic" } else { "punctual" },
            detected,
            seeds,
            score_sum / seeds as f64,
            if positive { format!("{right}/{detected}") } else { "–".to_string() }
        );
    }
    let stress_recall = stress_grid(seeds.min(10), &params, &calendar);
    let precision = true_positive as f64 / (true_positive + false_positive).max(1) as f64;
    let recall = true_positive as f64 / (true_positive + false_negative).max(1) as f64;
    println!();
    println!(
        "precision {precision:.3}, recall {recall:.3}, family right {:.3} ({} flows, {true_negative} true negatives) in {:.1} s",
        family_right as f64 / family_total.max(1) as f64,
        CadenceScenario::ALL.len() as u64 * seeds,
        started.elapsed().as_secs_f64()
    );
    println!("stress-grid recall {stress_recall:.3}");
    let positives = rows.iter().filter(|r| r.0.is_positive()).count() as u64 * seeds;
    println!(
        "interval baseline (Bowley skew + MAD of gaps, as beacon detectors score) at its best threshold {threshold:.2}: \
         precision {:.3}, recall {:.3}",
        baseline_found as f64 / (baseline_found + baseline_flagged).max(1) as f64,
        baseline_found as f64 / positives.max(1) as f64,
    );
}

/// What beacon detectors (RITA's timing score) compute: from the gaps between runs, Bowley's
/// quartile skewness and the median absolute deviation, each mapped to [0, 1], averaged. A
/// re-implementation for comparison, not RITA's code: no connection-count term, no 24 h window
/// (which would blind it to anything slower than daily).
fn interval_score(runs: &[cadence::Run]) -> f64 {
    if runs.len() < 4 {
        return 0.0;
    }
    let mut gaps: Vec<f64> = runs.windows(2).map(|w| (w[1].ts - w[0].ts) as f64).collect();
    gaps.sort_by(f64::total_cmp);
    let quantile = |p: f64| gaps[((gaps.len() - 1) as f64 * p).round() as usize];
    let (low, middle, high) = (quantile(0.25), quantile(0.5), quantile(0.75));
    let skew =
        if high > low && middle > low && middle < high { (low + high - 2.0 * middle) / (high - low) } else { 0.0 };
    let mut deviations: Vec<f64> = gaps.iter().map(|g| (g - middle).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    let mad = deviations[deviations.len() / 2];
    let mad_score = if middle > 0.0 { (1.0 - mad / middle).max(0.0) } else { 0.0 };
    ((1.0 - skew.abs()) + mad_score) / 2.0
}

/// The baseline's threshold with the best balanced accuracy on these very scenarios: the most
/// favourable setting it could be given.
fn best_baseline_threshold(rows: &[(CadenceScenario, usize, f64, usize, Vec<f64>)]) -> f64 {
    let rate = |positive: bool, threshold: f64| {
        let scores: Vec<f64> =
            rows.iter().filter(|r| r.0.is_positive() == positive).flat_map(|r| r.4.iter().copied()).collect();
        scores.iter().filter(|s| **s >= threshold).count() as f64 / scores.len().max(1) as f64
    };
    (0..=100)
        .map(|t| t as f64 / 100.0)
        .map(|t| (rate(true, t) + 1.0 - rate(false, t), t))
        .fold((f64::MIN, 0.0), |best, candidate| if candidate.0 > best.0 { candidate } else { best })
        .1
}

/// Missed runs ≤ 40 %, jitter σ ≤ 15 min, ad-hoc ≤ 50 % of runs, for three schedules.
fn stress_grid(seeds: u64, params: &CadenceParams, calendar: &BusinessCalendar) -> f64 {
    println!();
    println!("| stress grid: schedule | missed | jitter σ | ad-hoc | detected |");
    println!("|---|---:|---:|---:|---:|");
    let (mut found, mut total) = (0, 0);
    for schedule in StressSchedule::ALL {
        for missed in [0.0, 0.2, 0.4] {
            for jitter in [0.0, 5.0, 15.0] {
                for ad_hoc in [0.0, 0.25, 0.5] {
                    let mut detected = 0;
                    for seed in 0..seeds {
                        let mut observations = stress_flow(schedule, missed, jitter, ad_hoc, seed);
                        let runs = cadence::collapse_runs(&mut observations, params.run_gap_us);
                        let systematic = cadence::detect(&runs, params, chrono_tz::Europe::Paris, calendar)
                            .is_some_and(|c| c.verdict == Verdict::Systematic);
                        detected += usize::from(systematic);
                    }
                    found += detected;
                    total += seeds as usize;
                    if detected < seeds as usize {
                        println!(
                            "| {} | {:.0}% | {jitter} min | {:.0}% | {detected}/{seeds} |",
                            schedule.name(),
                            missed * 100.0,
                            ad_hoc * 100.0
                        );
                    }
                }
            }
        }
    }
    println!();
    println!("(cells not listed: every seed detected)");
    found as f64 / total.max(1) as f64
}
