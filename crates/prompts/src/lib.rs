//! Announcements for the media path: decode once, resample to 8 kHz, encode to
//! G.711 once, then serve 20 ms frames from memory.
//!
//! # Layout
//! - [`decode`]: any WAV/FLAC/MP3/Ogg Vorbis file → 8 kHz mono `i16`
//!   ([`decode_to_8k_mono`]), with symphonia and rubato.
//! - [`cache`]: [`EncodedPrompt`] (µ-law and A-law bytes, padded to whole
//!   frames) and the immutable [`PromptCache`] the shell loads at start-up from
//!   the dialplan's `[prompts]` table and shares with every call.
//! - [`error`]: [`PromptError`], whose message always names the file.
//!
//! # Driving it
//! There is nothing to drive: loading is a plain blocking call made once
//! before the engine takes calls (or off the runtime with `spawn_blocking`),
//! and afterwards the cache is only read.
//!
//! ```no_run
//! use std::path::Path;
//! use madoguchi_media::Codec;
//! use madoguchi_prompts::PromptCache;
//!
//! let files = [
//!     ("greeting", Path::new("sounds/ja/greeting.wav")),
//!     ("hold_music", Path::new("sounds/ja/hold_music.wav")),
//! ];
//! let cache = std::sync::Arc::new(PromptCache::load(files)?);
//! let hold = cache.id("hold_music").expect("loaded above");
//! let first_packet: Option<&[u8]> = cache.get(hold).frame(Codec::Pcma, 0);
//! # let _ = first_packet;
//! # Ok::<(), madoguchi_prompts::PromptError>(())
//! ```

pub mod cache;
pub mod decode;
pub mod error;

pub use cache::{EncodedPrompt, PromptCache, PromptId, FRAME_SAMPLES};
pub use decode::{decode_to_8k_mono, MAX_PROMPT_SECONDS, TARGET_RATE};
pub use error::PromptError;
