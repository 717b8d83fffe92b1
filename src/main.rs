//! The `driftwatch` binary: parse arguments, run a command, map the outcome to an exit code
//! (0 clean, 1 findings at or above --fail-on, 2 usage or input error).

use clap::Parser;
use driftwatch::cli::{Cli, Command};
use driftwatch::commands;

// polars allocates and frees large column buffers all the time; glibc's malloc hands them back
// to the kernel and faults them in again (a third of an audit's time went to page clearing).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Audit(args) => commands::audit::run(args).map(|outcome| outcome.exit_code),
        Command::Generate(args) => commands::generate::run(args).map(|()| 0),
        Command::Verify(args) => commands::verify::run(args),
        Command::Replay { manifest, inputs_root } => {
            commands::replay::run(manifest, inputs_root.as_deref()).map(|problems| {
                for (file, problem) in &problems {
                    driftwatch::outln!("{}: {file}", problem.word());
                }
                match problems.len() {
                    0 => {
                        driftwatch::outln!("OK: every output is in the bundle with its recorded bytes, and reproduced")
                    }
                    n => driftwatch::outln!("FAILED: {n} output file(s) missing, changed or not reproduced"),
                }
                i32::from(!problems.is_empty())
            })
        }
        Command::Seal { events, out, source_map } => commands::seal::run(events, source_map, out).map(|rows| {
            eprintln!("driftwatch: sealed {rows} row(s) into {}", out.display());
            0
        }),
        Command::Map(map) => commands::map::run(map),
        Command::Schema { which } => {
            driftwatch::out!("{}", commands::schema::text(*which));
            Ok(0)
        }
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("driftwatch: {error}");
            std::process::exit(error.exit_code());
        }
    }
}
