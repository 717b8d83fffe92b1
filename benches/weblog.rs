//! Access-log parsing speed: the lines of both real logs (shared/real-logs) repeated to about
//! two million, parsed single-threaded with `driftwatch::ingest::formats::access_log::parse_line`.
//! Run: `cargo bench --bench weblog`.

use std::path::Path;
use std::time::Instant;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("shared").join("real-logs");
    let mut lines: Vec<String> = Vec::new();
    for file in ["secrepo-2021-10/raw/2021_all.log", "erddap-voto-2024-05/raw/tomcat-access.log.8"] {
        let text = std::fs::read_to_string(root.join(file)).expect("the real logs beside the checkout");
        lines.extend(text.lines().map(str::to_string));
    }
    let repeat = 2_000_000 / lines.len() + 1;
    let started = Instant::now();
    let (mut parsed, mut rejected) = (0u64, 0u64);
    for _ in 0..repeat {
        for line in &lines {
            match driftwatch::ingest::formats::access_log::parse_line(line) {
                Ok(_) => parsed += 1,
                Err(_) => rejected += 1,
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let total = parsed + rejected;
    println!(
        "{total} lines ({parsed} parsed, {rejected} rejected) in {seconds:.2} s: {:.2} M lines/s on one core",
        total as f64 / seconds / 1e6
    );
}
