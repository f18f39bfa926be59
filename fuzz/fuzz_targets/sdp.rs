//! Fuzz target sdp: see madoguchi_fuzz_harness::sdp for what it drives and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| madoguchi_fuzz_harness::sdp(data));
