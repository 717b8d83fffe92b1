//! The layers point one way: a module imports only modules on its own floor or below, so the
//! pipeline reads bottom to top (ingest → register → evidence chain → findings → detectors →
//! pseudonyms → history (baseline, triage, diff) → reports and manifest → pipeline → commands). Checked on the source text: every
//! `crate::module` named outside tests must sit on a floor at or below the file's own.

use std::path::Path;

/// Floors, lowest first. A module missing here fails the test: place it on purpose.
const FLOORS: &[&[&str]] = &[
    &[
        "error",
        "event",
        "hashing",
        "calendar",
        "cpu_time",
        "progress",
        "out",
        "outln",
        "write_stdout",
        "Error",
        "Result",
    ],
    &["ingest"],
    &["register"],
    &["evidence"],
    &["finding"],
    &["detect"],
    &["pseudonym"],
    &["history"],
    &["report"],
    &["pipeline", "audit_state"],
    &["generate"],
    &["cli"],
    &["commands"],
];

fn floor(module: &str) -> usize {
    FLOORS
        .iter()
        .position(|floor| floor.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` is on no floor of tests/layers.rs: add it"))
}

/// The source outside `#[cfg(test)]` modules (which sit at the end of each file here).
fn non_test_source(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.split("#[cfg(test)]").next().unwrap_or_default().to_string()
}

fn rust_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn no_module_imports_a_layer_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut upward = Vec::new();
    for path in &files {
        let relative = path.strip_prefix(&src).unwrap().to_string_lossy().replace('\\', "/");
        let top = relative.split('/').next().unwrap().trim_end_matches(".rs").to_string();
        if matches!(top.as_str(), "lib" | "main" | "fuzz_tests") || relative.ends_with("_tests.rs") {
            continue; // the crate's root and test-only files may use anything
        }
        let own = floor(&top);
        let text = non_test_source(path);
        for (index, _) in text.match_indices("crate::") {
            let name: String = text[index + 7..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if name != top && floor(&name) > own {
                upward.push(format!("{relative} ({top}) imports crate::{name}"));
            }
        }
    }
    upward.sort();
    upward.dedup();
    assert!(upward.is_empty(), "imports running up the layers:\n{}", upward.join("\n"));
}
