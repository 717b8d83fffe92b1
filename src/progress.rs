//! Progress on stderr (indicatif): a spinner naming the audit's current stage, a bar over the
//! days a scenario generates. Hidden when stderr is not a terminal (schedulers, CI, pipes) or
//! under `--quiet`, so it never reaches a log file or an output.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A spinner for named stages.
    pub fn stages(enabled: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(None, target(enabled));
        // Cannot fail: a constant template, parsed the same on every run (see the test below).
        bar.set_style(ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").expect("valid template"));
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar }
    }

    /// A bar over `total` steps.
    pub fn bar(enabled: bool, total: u64, what: &str) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total), target(enabled));
        // Cannot fail: a constant template, parsed the same on every run (see the test below).
        bar.set_style(ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} ({eta} left)").expect("valid template"));
        bar.set_message(what.to_string());
        Progress { bar }
    }

    pub fn stage(&self, message: &str) {
        self.bar.set_message(message.to_string());
    }

    /// Turns the spinner into a bar over `total` rows (with rate and time left) for a stage
    /// whose size is known in advance; [`Progress::rows_done`] turns it back.
    pub fn rows(&self, total: u64, message: &str) {
        self.bar.set_length(total);
        self.bar.set_position(0);
        self.bar.set_message(message.to_string());
        // Cannot fail: a constant template, parsed the same on every run (see the test below).
        let style = ProgressStyle::with_template(
            "{elapsed:>4} {msg} {bar:20} {human_pos}/{human_len} rows, {rate}, {eta} left",
        )
        .expect("valid template")
        .with_key("rate", |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0} rows/s", state.per_sec());
        });
        self.bar.set_style(style);
    }

    pub fn set_rows(&self, done: u64) {
        self.bar.set_position(done);
    }

    pub fn rows_done(&self) {
        // Cannot fail: a constant template, parsed the same on every run (see the test below).
        self.bar.set_style(ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").expect("valid template"));
    }

    pub fn step(&self) {
        self.bar.inc(1);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn target(enabled: bool) -> ProgressDrawTarget {
    // `stderr()` hides itself when stderr is not a terminal.
    if enabled { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every template parses (the `expect`s above rely on it), hidden or not.
    #[test]
    fn every_template_parses() {
        let stages = Progress::stages(false);
        stages.rows(10, "reading");
        stages.set_rows(5);
        stages.rows_done();
        stages.finish();
        let bar = Progress::bar(false, 3, "days");
        bar.step();
        bar.finish();
    }
}
