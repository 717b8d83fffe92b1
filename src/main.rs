//! The `driftwatch` binary: parse arguments, run a command, map the outcome to an exit code
//! (0 clean, 1 findings at or above --fail-on, 2 usage or input error).

use clap::Parser;
use driftwatch::cli::{Cli, Command};
use driftwatch::commands;

// polars allocates and frees large column buffers all the time; glibc's malloc hands them back
// to the kernel and faults them in again (a third of an audit's time went to page clearing).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (its position in `mi_option_t`, the same in mimalloc 2 and 3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // Even mimalloc hands freed pages back to the kernel 10 ms later by default; an audit frees
    // and reallocates chunk-sized buffers all along, and each page handed back is zeroed again
    // on its next fault (10x the page faults and a quarter of the CPU time on the 10M bench
    // world). Freed memory is kept for reuse instead; peak memory is what it was.
    // MIMALLOC_PURGE_DELAY, when set, still decides (a lower peak for more page faults).
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: setting an option of the allocator is allowed at any time.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    }
    // Transparent huge pages cost more than they give here: the kernel clears 2 MiB at each
    // first touch of a huge page the allocator only partly uses (on the 10M bench world, 1.5 s
    // of system time out of 2, and 0.8 s of wall time). Ordinary pages instead; peak memory is
    // lower too. MIMALLOC_ALLOW_THP, when set, still decides.
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes plain integers and changes only this process's paging.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Audit(args) => commands::audit::run(args).map(|outcome| outcome.exit_code),
        Command::Generate(args) => commands::generate::run(args).map(|()| 0),
        Command::Verify(args) => commands::verify::run(args),
        Command::Keygen { out } => driftwatch::evidence::signing::keygen(out).map(|(private, public)| {
            driftwatch::outln!("private key: {} (keep it secret: it signs your audits)", private.display());
            driftwatch::outln!("public key:  {} (give it to whoever receives your bundles)", public.display());
            0
        }),
        Command::CheckBundle { dir, public_key } => commands::check_bundle::run(dir, public_key.as_deref()).map(|checked| {
            use driftwatch::evidence::signing::Verdict;
            let signature_ok = !matches!(checked.signature, Verdict::Invalid { .. });
            match &checked.signature {
                Verdict::Unsigned => driftwatch::outln!("unsigned manifest: the outputs are checked against it, its origin is not"),
                Verdict::SignedByNamedKey { fingerprint } => driftwatch::outln!(
                    "signature: valid, by the key the manifest names ({fingerprint}); pass --public-key to check it is one you trust"
                ),
                Verdict::SignedByTrustedKey { fingerprint } => {
                    driftwatch::outln!("signature: valid, by the key given ({fingerprint})")
                }
                Verdict::Invalid { reason } => driftwatch::outln!("signature: INVALID: {reason}"),
            }
            for (file, problem) in &checked.problems {
                driftwatch::outln!("{}: {file}", problem.word());
            }
            let intact = signature_ok && checked.problems.is_empty();
            driftwatch::outln!(
                "{}: {} output file(s) listed, {} missing or changed",
                if intact { "OK" } else { "FAILED" },
                checked.files,
                checked.problems.len()
            );
            i32::from(!intact)
        }),
        Command::Diff { a, b, json } => commands::diff::run(a, b, *json),
        Command::Scan(args) => commands::scan_merge::scan(args),
        Command::Merge(args) => commands::scan_merge::merge(args).map(|outcome| outcome.exit_code),
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
