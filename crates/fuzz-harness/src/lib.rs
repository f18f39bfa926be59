//! madoguchi-fuzz-harness: what each fuzz target does with one input, in one place so that
//! the cargo-fuzz targets (fuzz/fuzz_targets/*.rs, one line each) and the always-run tests
//! (tests/seed_corpora.rs replays fuzz/corpus/*) drive exactly the same code.
//!
//! Every function takes arbitrary bytes, must never panic, and asserts the invariants that
//! hold for any input (a panic here is a finding). Run them under libFuzzer with
//! `scripts/fuzz.sh`.
//!
//! ```
//! madoguchi_fuzz_harness::sip_message(b"OPTIONS sip:a@b SIP/2.0\r\n\r\n");
//! madoguchi_fuzz_harness::rtp_rfc4733(&[0x80, 101, 0, 1, 0, 0, 0, 160, 0, 0, 0, 1, 5, 0x8a, 0, 160]);
//! ```

mod console;
mod dialplan;
mod rtp;
mod sdp;
mod sip;

pub use console::console_json;
pub use dialplan::dialplan_toml;
pub use rtp::rtp_rfc4733;
pub use sdp::sdp;
pub use sip::{sip_message, DATAGRAM_SEPARATOR};

/// What a fuzz target does with one input.
pub type Harness = fn(&[u8]);

/// The fuzz targets by name, as `scripts/fuzz.sh` and fuzz/corpus/ name them.
pub const TARGETS: &[(&str, Harness)] = &[
    ("sip_message", sip_message),
    ("sdp", sdp),
    ("rtp_rfc4733", rtp_rfc4733),
    ("dialplan_toml", dialplan_toml),
    ("console_json", console_json),
];
