//! Fuzz target `rpc_service`: see `harness::rpc_service` (fuzz/harness.rs).
#![no_main]

#[allow(dead_code)]
#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::rpc_service(data));
