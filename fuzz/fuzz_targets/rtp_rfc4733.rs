//! Fuzz target rtp_rfc4733: see madoguchi_fuzz_harness::rtp_rfc4733 for what it drives and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| madoguchi_fuzz_harness::rtp_rfc4733(data));
