//! CPU time, for `--verbose`: what each stage and each detector really costs, in figures that add
//! up (wall-clock "busy" times of work running side by side overlap and do not).

use std::time::Duration;

/// CPU time used so far by the whole process (every thread, user + system).
pub fn process() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1_000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// A CPU-time and wall-clock measure of one piece of work.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spent {
    pub cpu: Duration,
    pub wall: Duration,
}

impl Spent {
    /// Runs `work`, adding what it cost to `self`.
    pub fn measure<T>(&mut self, work: impl FnOnce() -> T) -> T {
        let (cpu, wall) = (process(), std::time::Instant::now());
        let result = work();
        self.cpu += process().saturating_sub(cpu);
        self.wall += wall.elapsed();
        result
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn work_costs_cpu_time() {
        let mut spent = super::Spent::default();
        let sum = spent.measure(|| (0..20_000_000u64).fold(0u64, |a, b| a.wrapping_add(b * b)));
        assert!(sum > 0);
        assert!(spent.cpu > std::time::Duration::ZERO && spent.wall >= spent.cpu / 4);
    }
}
