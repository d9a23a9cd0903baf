//! Fuzz target `state_document`: see `harness::state_document` (fuzz/harness.rs).
#![no_main]

#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::state_document(data));
