//! Cadence benchmark: every scenario of `shared/design/periodic-transfers.md`, 30 seeds each,
//! scored by the periodic-transfer detector's cadence engine. Prints the per-scenario table
//! (detection rate, mean score, family right) and overall precision and recall, as in the README.
//!
//! Run: `cargo bench --bench periodic` (add `-- --seeds 5` for a quick look).

use driftwatch::detect::cadence::{self, CadenceParams, Verdict};
use driftwatch::detect::calendar::BusinessCalendar;
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
    println!("| scenario | expected | detected | mean score | family right |");
    println!("|---|---|---:|---:|---:|");
    for scenario in CadenceScenario::ALL {
        let (mut detected, mut score_sum, mut right) = (0, 0.0, 0);
        for seed in 0..seeds {
            let mut observations = scenario.generate(seed);
            let runs = cadence::collapse_runs(&mut observations, params.run_gap_us);
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
        let positive = scenario.is_positive();
        if positive {
            true_positive += detected;
            false_negative += seeds as usize - detected;
            family_right += right;
            family_total += detected;
        } else {
            false_positive += detected;
            true_negative += seeds as usize - detected;
        }
        println!(
            "| {} | {} | {}/{} | {:.2} | {} |",
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
    println!("(cells not listed: every seed detected)");
    found as f64 / total.max(1) as f64
}
