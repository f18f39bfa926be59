//! The encoded-prompt cache: every announcement decoded, resampled and
//! G.711-encoded once at start-up, then only read.
//!
//! The media hot path never touches PCM: for each 20 ms tick of a playing call
//! it asks for `prompt.frame(codec, n)` and copies those 160 bytes into an RTP
//! packet. Both laws are kept so a call's negotiated codec costs no work.
//!
//! ```no_run
//! use std::path::{Path, PathBuf};
//! use madoguchi_media::Codec;
//! use madoguchi_prompts::PromptCache;
//!
//! let cache = PromptCache::load([("greeting", Path::new("sounds/ja/greeting.wav"))])?;
//! let greeting = cache.id("greeting").expect("declared above");
//! let prompt = cache.get(greeting);
//! for n in 0..prompt.frames() {
//!     let payload: &[u8] = prompt.frame(Codec::Pcmu, n).expect("n < frames()");
//!     // … write one RTP packet with `payload` every 20 ms
//! #   let _ = payload;
//! }
//! # Ok::<(), madoguchi_prompts::PromptError>(())
//! ```
//!
//! The cache is immutable after loading, so the shell shares one behind an
//! `Arc` with every call without a lock.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use madoguchi_media::Codec;

use crate::decode::{decode_to_8k_mono, TARGET_RATE};
use crate::PromptError;

/// Samples in one 20 ms RTP frame at 8 kHz (RFC 3551 §4.5 default packetisation).
pub const FRAME_SAMPLES: usize = 160;

/// A prompt's index in its [`PromptCache`]: `Copy`, four bytes, no string
/// compare on the media path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PromptId(u32);

impl PromptId {
    /// The position in the cache, `0..cache.len()`.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One prompt, ready to send: G.711 bytes for each law, one byte per sample at
/// 8 kHz, the last frame padded with that law's silence to a whole 160 bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct EncodedPrompt {
    /// The name the dialplan refers to it by.
    pub name: String,
    /// µ-law payload, `frames() * 160` bytes.
    pub pcmu: Box<[u8]>,
    /// A-law payload, `frames() * 160` bytes.
    pub pcma: Box<[u8]>,
    /// Length of the audio itself, without the padding of the last frame.
    pub duration: Duration,
}

impl EncodedPrompt {
    /// Encodes 8 kHz mono samples into both laws.
    pub fn encode(name: impl Into<String>, pcm: &[i16]) -> EncodedPrompt {
        EncodedPrompt {
            name: name.into(),
            pcmu: encode_padded(Codec::Pcmu, pcm),
            pcma: encode_padded(Codec::Pcma, pcm),
            duration: Duration::from_nanos(
                pcm.len() as u64 * 1_000_000_000 / u64::from(TARGET_RATE),
            ),
        }
    }

    /// The whole payload in one law.
    pub fn payload(&self, codec: Codec) -> &[u8] {
        match codec {
            Codec::Pcmu => &self.pcmu,
            Codec::Pcma => &self.pcma,
        }
    }

    /// The `index`-th 20 ms frame (160 bytes), or `None` past the end.
    pub fn frame(&self, codec: Codec, index: usize) -> Option<&[u8]> {
        self.payload(codec).chunks_exact(FRAME_SAMPLES).nth(index)
    }

    /// How many 20 ms frames the prompt takes.
    pub fn frames(&self) -> usize {
        self.pcmu.len() / FRAME_SAMPLES
    }
}

impl fmt::Debug for EncodedPrompt {
    // The payloads are kilobytes of opaque bytes; their size says enough.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncodedPrompt")
            .field("name", &self.name)
            .field("frames", &self.frames())
            .field("duration", &self.duration)
            .finish_non_exhaustive()
    }
}

fn encode_padded(codec: Codec, pcm: &[i16]) -> Box<[u8]> {
    let frames = pcm.len().div_ceil(FRAME_SAMPLES);
    let mut out = vec![codec.silence(); frames * FRAME_SAMPLES];
    codec.encode_slice(pcm, &mut out);
    out.into_boxed_slice()
}

/// All prompts of a deployment, by name and by [`PromptId`].
#[derive(Debug, Default)]
pub struct PromptCache {
    prompts: Vec<EncodedPrompt>,
    by_name: HashMap<String, PromptId>,
}

impl PromptCache {
    /// Decodes and encodes every `(name, file)`; the first file that fails
    /// stops the load, and its error names the file.
    pub fn load<'a>(
        prompts: impl IntoIterator<Item = (&'a str, &'a Path)>,
    ) -> Result<PromptCache, PromptError> {
        let mut cache = PromptCache::default();
        for (name, file) in prompts {
            if cache.by_name.contains_key(name) {
                return Err(PromptError::DuplicateName {
                    name: name.to_owned(),
                    file: file.to_path_buf(),
                });
            }
            let pcm = decode_to_8k_mono(file)?;
            let prompt = EncodedPrompt::encode(name, &pcm);
            tracing::trace!(
                prompt = name,
                file = %file.display(),
                duration_ms = prompt.duration.as_millis() as u64,
                "prompt loaded"
            );
            cache.insert(prompt, file)?;
        }
        let total: Duration = cache.prompts.iter().map(|p| p.duration).sum();
        tracing::info!(
            prompts = cache.len(),
            total_s = total.as_secs(),
            "prompt cache loaded"
        );
        Ok(cache)
    }

    /// Builds a cache from prompts already encoded (tones made in code, tests).
    pub fn from_encoded(
        prompts: impl IntoIterator<Item = EncodedPrompt>,
    ) -> Result<PromptCache, PromptError> {
        let mut cache = PromptCache::default();
        for prompt in prompts {
            // No file behind it: the name stands in for one in errors.
            let file = PathBuf::from(&prompt.name);
            cache.insert(prompt, &file)?;
        }
        Ok(cache)
    }

    fn insert(&mut self, prompt: EncodedPrompt, file: &Path) -> Result<(), PromptError> {
        let index = u32::try_from(self.prompts.len()).map_err(|_| PromptError::TooMany {
            max: u64::from(u32::MAX),
        })?;
        if self.by_name.contains_key(&prompt.name) {
            return Err(PromptError::DuplicateName {
                name: prompt.name,
                file: file.to_path_buf(),
            });
        }
        self.by_name.insert(prompt.name.clone(), PromptId(index));
        self.prompts.push(prompt);
        Ok(())
    }

    /// This cache with a freshly loaded one laid over it (a reload). Every id of `self` stays
    /// valid, since calls in progress may be playing it; a fresh prompt identical to the one
    /// of the same name here keeps that id, any other is appended with a new id. Names
    /// resolve to the fresh prompts. The old audio is kept (copied) so the merged cache
    /// alone serves every id; a prompt changed by each reload therefore grows the cache
    /// until the next restart.
    pub fn reloaded(&self, fresh: PromptCache) -> Result<PromptCache, PromptError> {
        let mut merged = PromptCache {
            prompts: self.prompts.clone(),
            by_name: HashMap::new(),
        };
        for prompt in fresh.prompts {
            let id = match self.id(&prompt.name) {
                Some(id) if *self.get(id) == prompt => id,
                _ => {
                    let id = PromptId(u32::try_from(merged.prompts.len()).map_err(|_| {
                        PromptError::TooMany {
                            max: u64::from(u32::MAX),
                        }
                    })?);
                    merged.prompts.push(prompt.clone());
                    id
                }
            };
            merged.by_name.insert(prompt.name, id);
        }
        Ok(merged)
    }

    /// The id of the prompt called `name`, if it was loaded.
    pub fn id(&self, name: &str) -> Option<PromptId> {
        self.by_name.get(name).copied()
    }

    /// The prompt behind `id`.
    ///
    /// # Panics
    /// If `id` came from a different cache with more prompts: ids are only
    /// valid for the cache whose [`id`](Self::id) returned them.
    pub fn get(&self, id: PromptId) -> &EncodedPrompt {
        &self.prompts[id.index()]
    }

    /// The prompt behind `id`, or `None` if it is not from this cache.
    pub fn try_get(&self, id: PromptId) -> Option<&EncodedPrompt> {
        self.prompts.get(id.index())
    }

    /// The prompt called `name`.
    pub fn by_name(&self, name: &str) -> Option<&EncodedPrompt> {
        self.id(name).map(|id| self.get(id))
    }

    /// How many prompts are loaded.
    pub fn len(&self) -> usize {
        self.prompts.len()
    }

    /// Whether no prompt is loaded.
    pub fn is_empty(&self) -> bool {
        self.prompts.is_empty()
    }

    /// Every prompt with its id, in load order.
    pub fn iter(&self) -> impl Iterator<Item = (PromptId, &EncodedPrompt)> {
        // `insert` keeps len() within u32.
        self.prompts
            .iter()
            .enumerate()
            .map(|(i, p)| (PromptId(i as u32), p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(len: usize) -> Vec<i16> {
        (0..len).map(|i| (i as i16).wrapping_mul(97)).collect()
    }

    #[test]
    fn a_partial_last_frame_is_padded_with_ulaw_silence() {
        let prompt = EncodedPrompt::encode("p", &[1000; 170]);
        assert_eq!(prompt.frames(), 2);
        let last = prompt.frame(Codec::Pcmu, 1).unwrap();
        assert!(last[10..].iter().all(|&b| b == 0xFF));
        assert!(last[..10].iter().all(|&b| b != 0xFF));
    }

    #[test]
    fn a_partial_last_frame_is_padded_with_alaw_silence() {
        let prompt = EncodedPrompt::encode("p", &[1000; 170]);
        let last = prompt.frame(Codec::Pcma, 1).unwrap();
        assert!(last[10..].iter().all(|&b| b == 0xD5));
    }

    #[test]
    fn whole_frames_get_no_padding_frame() {
        let prompt = EncodedPrompt::encode("p", &[0; 320]);
        assert_eq!(prompt.frames(), 2);
        assert_eq!(prompt.pcmu.len(), 320);
        assert_eq!(prompt.pcma.len(), 320);
    }

    #[test]
    fn every_frame_is_160_bytes_and_none_past_the_end() {
        let prompt = EncodedPrompt::encode("p", &ramp(1000));
        for n in 0..prompt.frames() {
            assert_eq!(prompt.frame(Codec::Pcmu, n).unwrap().len(), 160);
            assert_eq!(prompt.frame(Codec::Pcma, n).unwrap().len(), 160);
        }
        assert_eq!(prompt.frame(Codec::Pcmu, prompt.frames()), None);
        assert_eq!(prompt.frame(Codec::Pcma, usize::MAX), None);
    }

    #[test]
    fn frames_match_the_media_crate_encoder() {
        let pcm = ramp(400);
        let prompt = EncodedPrompt::encode("p", &pcm);
        let mut ulaw = vec![0; 400];
        let mut alaw = vec![0; 400];
        madoguchi_media::g711::encode_ulaw_slice(&pcm, &mut ulaw);
        madoguchi_media::g711::encode_alaw_slice(&pcm, &mut alaw);
        assert_eq!(&prompt.pcmu[..400], &ulaw[..]);
        assert_eq!(&prompt.pcma[..400], &alaw[..]);
    }

    #[test]
    fn duration_counts_samples_not_padding() {
        let prompt = EncodedPrompt::encode("p", &[0; 8100]);
        assert_eq!(prompt.duration, Duration::from_micros(1_012_500));
        assert_eq!(prompt.frames(), 51);
    }

    #[test]
    fn an_empty_prompt_has_no_frames() {
        let prompt = EncodedPrompt::encode("p", &[]);
        assert_eq!(prompt.frames(), 0);
        assert_eq!(prompt.frame(Codec::Pcmu, 0), None);
        assert_eq!(prompt.duration, Duration::ZERO);
    }

    #[test]
    fn ids_are_dense_in_insertion_order() {
        let cache = PromptCache::from_encoded([
            EncodedPrompt::encode("a", &[0; 160]),
            EncodedPrompt::encode("b", &[0; 320]),
        ])
        .unwrap();
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.id("a").unwrap().index(), 0);
        assert_eq!(cache.id("b").unwrap().index(), 1);
        assert_eq!(cache.get(cache.id("b").unwrap()).frames(), 2);
        let names: Vec<_> = cache.iter().map(|(_, p)| p.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn an_unknown_name_has_no_id() {
        let cache = PromptCache::from_encoded([EncodedPrompt::encode("a", &[0; 160])]).unwrap();
        assert_eq!(cache.id("greting"), None);
        assert!(cache.by_name("greting").is_none());
    }

    #[test]
    fn an_id_from_a_bigger_cache_is_rejected_by_try_get() {
        let cache = PromptCache::from_encoded([EncodedPrompt::encode("a", &[0; 160])]).unwrap();
        assert!(cache.try_get(PromptId(5)).is_none());
        assert!(cache.try_get(PromptId(0)).is_some());
    }

    #[test]
    fn a_name_given_twice_is_an_error() {
        let err = PromptCache::from_encoded([
            EncodedPrompt::encode("a", &[0; 160]),
            EncodedPrompt::encode("a", &[0; 160]),
        ])
        .unwrap_err();
        assert!(matches!(err, PromptError::DuplicateName { ref name, .. } if name == "a"));
    }

    #[test]
    fn a_reload_keeps_old_ids_playable_and_reuses_the_id_of_an_unchanged_prompt() {
        let old = PromptCache::from_encoded([
            EncodedPrompt::encode("greeting", &[100; 160]),
            EncodedPrompt::encode("music", &[0; 320]),
            EncodedPrompt::encode("gone", &[0; 160]),
        ])
        .unwrap();
        let fresh = PromptCache::from_encoded([
            EncodedPrompt::encode("greeting", &[900; 160]),
            EncodedPrompt::encode("music", &[0; 320]),
        ])
        .unwrap();
        let merged = old.reloaded(fresh).unwrap();
        assert_eq!(merged.id("music"), old.id("music"));
        let greeting = merged.id("greeting").unwrap();
        assert_eq!(greeting.index(), 3, "a changed prompt gets a new id");
        assert_eq!(
            merged.get(greeting).pcmu,
            EncodedPrompt::encode("g", &[900; 160]).pcmu
        );
        let old_greeting = old.id("greeting").unwrap();
        assert_eq!(merged.get(old_greeting), old.get(old_greeting));
        assert_eq!(merged.id("gone"), None);
        assert!(merged.try_get(old.id("gone").unwrap()).is_some());
    }

    #[test]
    fn an_empty_cache_is_empty() {
        let cache = PromptCache::from_encoded([]).unwrap();
        assert!(cache.is_empty());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_cache_can_be_shared_across_threads() {
        fn shareable<T: Send + Sync + 'static>() {}
        shareable::<PromptCache>();
        shareable::<PromptError>();
    }

    #[test]
    fn debug_output_omits_the_payload() {
        let prompt = EncodedPrompt::encode("greeting", &[0; 8000]);
        let text = format!("{prompt:?}");
        assert!(text.contains("greeting") && text.contains("frames: 50"));
        assert!(text.len() < 120, "{text}");
    }
}
