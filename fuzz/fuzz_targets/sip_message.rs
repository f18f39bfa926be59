//! Fuzz target sip_message: see madoguchi_fuzz_harness::sip_message for what it drives and asserts.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| madoguchi_fuzz_harness::sip_message(data));
