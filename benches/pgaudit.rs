//! pgAudit reading speed: the AUDIT records of the committed real csvlog
//! (tests/pgaudit/postgresql.csv, written by PostgreSQL 15 + pgAudit) repeated with fresh session
//! and statement ids to about a million lines, read single-threaded by the pgaudit format
//! (csvlog records, AUDIT payloads, grouping, SQL analysis — each distinct statement parsed
//! once, as applications repeat theirs — and the event table). Run: `cargo bench --bench pgaudit`.

use std::path::Path;
use std::time::Instant;

use driftwatch::ingest::Format;
use driftwatch::ingest::formats::InputFile;
use driftwatch::ingest::source_map::SourceMap;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = std::fs::read_to_string(root.join("tests/pgaudit/postgresql.csv")).expect("the fixture");
    let audit: Vec<&str> = fixture.lines().filter(|l| l.contains("\"AUDIT: ")).collect();
    let target = 1_000_000;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("postgresql.csv");
    let mut text = String::with_capacity(target * 260);
    let mut lines = 0;
    'fill: for copy in 0.. {
        for line in &audit {
            // Field 6 is the session id: new sessions per copy keep every statement distinct.
            let fields: Vec<&str> = line.splitn(7, ',').collect();
            let session = format!("{}{copy:x}", fields[5]);
            text.push_str(&[fields[..5].join(","), session, fields[6].to_string()].join(","));
            text.push('\n');
            lines += 1;
            if lines >= target {
                break 'fill;
            }
        }
    }
    std::fs::write(&path, &text).expect("the log");
    let map = SourceMap::load(&root.join("examples/pgaudit/wikit-pgaudit.toml")).expect("the example map");
    let options = map.read_options();
    let display = path.display().to_string();
    let file = InputFile::new(&path, &display, &options);
    let started = Instant::now();
    let mut events = 0;
    Format::PgAudit
        .reader()
        .read_chunks(&file, 500_000, &mut |table, _| {
            events += table.frame.height();
            Ok(())
        })
        .expect("the log reads");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{lines} AUDIT lines → {events} events in {seconds:.2} s: {:.0} k lines/s on one core",
        lines as f64 / seconds / 1e3
    );
}
