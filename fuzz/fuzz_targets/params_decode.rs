//! Fuzz target `params_decode`: see `harness::params_decode` (fuzz/harness.rs).
#![no_main]

#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::params_decode(data));
