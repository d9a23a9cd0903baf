//! The fuzz corpus on stable Rust: every seed in `fuzz/corpus/<target>/` and every minimized
//! crash in `fuzz/regressions/<target>/` goes through the same code as the cargo-fuzz target
//! (`fuzz/harness.rs`, included here), so a fixed bug stays fixed without libFuzzer or
//! nightly. `scripts/fuzz` runs the targets themselves.

#[path = "../fuzz/harness.rs"]
mod harness;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// The inputs of `target`: its seeds and its regressions (files named `README*` or starting
/// with `.` are notes, not inputs).
fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for dir in ["corpus", "regressions"] {
        let dir = fuzz.join(dir).join(target);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_file() && !name.starts_with("README") && !name.starts_with('.') {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs every input of `target` through `run`; fails naming each input that panicked.
fn replay(target: &str, run: fn(&[u8])) {
    let files = inputs(target);
    assert!(!files.is_empty(), "no seeds in fuzz/corpus/{target}/");
    let failures: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let data = std::fs::read(path).unwrap();
            let payload = catch_unwind(AssertUnwindSafe(|| run(&data))).err()?;
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or("(a panic without a message)");
            Some(format!("{}: {message}", path.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} inputs of `{target}` failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn params_decode_corpus() {
    replay("params_decode", harness::params_decode);
}

#[test]
fn authorization_corpus() {
    replay("authorization", harness::authorization);
}

#[test]
fn verify_corpus() {
    replay("verify", harness::verify);
}

#[test]
fn state_document_corpus() {
    replay("state_document", harness::state_document);
}

#[test]
fn rpc_service_corpus() {
    replay("rpc_service", harness::rpc_service);
}
