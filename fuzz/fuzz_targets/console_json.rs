//! Fuzz target console_json: see madoguchi_fuzz_harness::console_json for what it drives and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| madoguchi_fuzz_harness::console_json(data));
