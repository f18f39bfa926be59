//! Fuzz target dialplan_toml: see madoguchi_fuzz_harness::dialplan_toml for what it drives and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| madoguchi_fuzz_harness::dialplan_toml(data));
