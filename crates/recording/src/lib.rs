//! Call recording for madoguchi: the bridged conversation as a two-channel WAV file (caller
//! left, operator right, 8 kHz 16-bit PCM), streamed to disk while the call runs.
//!
//! # Layout
//! - [`timeline`]: the pure part — a two-channel aligner that turns decoded PCM chunks placed
//!   on a sample clock into ordered stereo frames, with silence for gaps, a reorder window,
//!   duplicates and late chunks dropped and counted, bounded memory, and pause spans written
//!   as exact silence. No I/O, no clock.
//! - [`clock`]: positions on that sample clock from elapsed time and from RTP timestamps
//!   ([`clock::RtpClock`]: per-leg anchor, wrap handling, re-anchoring, drift slew).
//! - [`wav`]: the edge — the frames into a file with `hound`, checkpointed every second of
//!   audio so a crash leaves a readable file; write errors are values, never panics; closing
//!   returns the duration and the SHA-256 of the bytes on disk.
//! - [`repair`]: at engine start, fixes the header of a file a crash left behind.
//! - [`recorder`]: one call's [`Recorder`] — the aligner writing into a file.
//!
//! # How it is driven
//! The media runtime owns one [`Recorder`] per recorded call. For every RTP packet it receives
//! on a bridged leg it decodes the G.711 payload, asks that leg's [`clock::RtpClock`] for the
//! position (from the packet's timestamp and the elapsed time since the recording started),
//! and calls [`Recorder::push`]; a 20 ms timer calls [`Recorder::tick`]; the console's pause
//! and resume call [`Recorder::pause`] / [`Recorder::resume`] (the returned positions go into
//! the call events); hang-up, transfer or shutdown call [`Recorder::finish`]. The writes are
//! blocking file I/O through a `BufWriter`: run recorders on a blocking thread, not on the
//! async runtime's workers. At start, [`repair::repair_all`] over the storage folder fixes
//! what a crash left.
//!
//! ```
//! use madoguchi_recording::clock::{position_from_elapsed, RtpClock};
//! use madoguchi_recording::{Channel, Recorder, TimelineConfig};
//! use std::time::Duration;
//! let dir = tempfile::tempdir().unwrap();
//! let mut recorder = Recorder::create(dir.path().join("call.wav"), TimelineConfig::default())
//!     .unwrap();
//! let mut caller = RtpClock::new();
//! for packet in 0..50u32 {
//!     let arrival = position_from_elapsed(Duration::from_millis(20 * u64::from(packet)));
//!     let position = caller.position(1000 + 160 * packet, arrival).unwrap();
//!     recorder.push(Channel::Caller, position, &[500; 160]).unwrap();
//! }
//! let recording = recorder.finish(position_from_elapsed(Duration::from_secs(1))).unwrap();
//! assert_eq!(recording.file.frames, 8000);
//! assert_eq!(recording.file.sha256_hex().len(), 64);
//! ```

pub mod clock;
pub mod recorder;
pub mod repair;
pub mod timeline;
pub mod wav;

pub use recorder::{Recorder, Recording};
pub use timeline::{Channel, TimelineConfig};
pub use wav::WavError;

#[cfg(test)]
mod clock_tests;
#[cfg(test)]
mod timeline_tests;
#[cfg(test)]
mod wav_tests;
