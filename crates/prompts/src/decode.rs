//! Turning an audio file into the 8 kHz mono 16-bit PCM that G.711 is made from.
//!
//! Runs once per prompt at start-up, so it favours clarity over speed:
//!
//! 1. [symphonia] probes the container (WAV, FLAC, MP3, Ogg Vorbis) and decodes
//!    every packet of the default audio track to interleaved `f32`;
//! 2. the channels are averaged into one (a stereo music file becomes mono
//!    without clipping);
//! 3. [rubato]'s FFT resampler converts to 8 kHz — a file already at 8 kHz is
//!    passed through untouched — and its start-up delay and tail are handled
//!    by `process_all`, so the output has exactly `ceil(len · 8000 / rate)`
//!    samples, none lost at either end;
//! 4. `f32` is scaled to `i16` with clipping.
//!
//! ```no_run
//! let pcm = madoguchi_prompts::decode_to_8k_mono(std::path::Path::new("sounds/ja/greeting.wav"))?;
//! assert!(!pcm.is_empty());
//! # Ok::<(), madoguchi_prompts::PromptError>(())
//! ```

use std::fs::File;
use std::io::ErrorKind;
use std::panic::AssertUnwindSafe;
use std::path::Path;

use rubato::audioadapter_buffers::owned::InterleavedOwned;
use rubato::{Fft, FixedSync, Resampler, WindowFunction};
use symphonia::core::codecs::audio::AudioDecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;

use crate::PromptError;

/// The sample rate of G.711 on the wire.
pub const TARGET_RATE: u32 = 8000;

/// Longest prompt accepted. Hold music loops are ~20 s and announcements
/// well under a minute; ten minutes leaves room without letting a stray
/// album-length file take memory on every start.
pub const MAX_PROMPT_SECONDS: u32 = 600;

/// Sample rates accepted as input. Real audio lives well inside; a corrupt
/// header claiming gigahertz would otherwise size the resampler's FFT (which
/// grows with `rate / gcd(rate, 8000)`) into gigabytes.
const SOURCE_RATES: std::ops::RangeInclusive<u32> = 1_000..=384_000;

/// Output frames per FFT block of the resampler (64 ms at 8 kHz). The
/// anti-aliasing filter is shaped in this block's spectrum, so its size — on
/// the output side, whatever the input rate — sets how close to 4 kHz the
/// filter can cut: a 512-sample block keeps the telephone band up to 3.4 kHz
/// at full level.
const RESAMPLER_BLOCK: usize = 512;

/// Decodes `path` (any rate, any channel count) to 8 kHz mono `i16` samples.
pub fn decode_to_8k_mono(path: &Path) -> Result<Vec<i16>, PromptError> {
    // symphonia is written not to panic on bad input, but its header arithmetic
    // can still overflow on a corrupt file (a debug-build panic; see
    // tests/fixtures/regression_fmt_channel_overflow.wav). A broken prompt file
    // must fail its load, not the engine; nothing outlives the closure, so no
    // state is left half-updated by an unwind.
    let decoded =
        std::panic::catch_unwind(AssertUnwindSafe(|| decode_file(path))).map_err(|_| {
            PromptError::DecoderPanicked {
                file: path.to_path_buf(),
            }
        })??;
    let mono = downmix(&decoded.samples, decoded.channels);
    let resampled = resample(mono, decoded.rate, TARGET_RATE, path)?;
    Ok(resampled.iter().map(|&s| f32_to_i16(s)).collect())
}

/// A whole file's audio, as decoded.
#[derive(Debug)]
struct Decoded {
    rate: u32,
    channels: usize,
    /// Interleaved, `channels` samples per frame, nominally within ±1.0.
    samples: Vec<f32>,
}

fn decode_file(path: &Path) -> Result<Decoded, PromptError> {
    let file = File::open(path).map_err(|source| PromptError::Open {
        file: path.to_path_buf(),
        source,
    })?;
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(extension);
    }
    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| probe_error(path, e))?;

    let track = format
        .default_track(TrackType::Audio)
        .ok_or_else(|| unsupported(path, "no audio track"))?;
    let track_id = track.id;
    let params = track
        .codec_params
        .as_ref()
        .and_then(|p| p.audio())
        .ok_or_else(|| unsupported(path, "no audio codec parameters"))?;
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(params, &AudioDecoderOptions::default())
        .map_err(|e| decode_error(path, e))?;

    let mut spec = None;
    let mut samples = Vec::new();
    let mut chunk: Vec<f32> = Vec::new();
    let mut last_bad_packet = None;
    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A chained Ogg stream: a prompt is its first chain.
            Err(SymphoniaError::ResetRequired) => break,
            // A file cut short: keep what was there rather than fail the
            // whole engine over a missing tail.
            Err(SymphoniaError::IoError(e)) if e.kind() == ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(decode_error(path, e)),
        };
        if packet.track_id != track_id {
            continue;
        }
        let buffer = match decoder.decode(&packet) {
            Ok(buffer) => buffer,
            // One corrupt packet (common at the start of MP3s) costs a few
            // milliseconds of audio, not the prompt.
            Err(e @ (SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_))) => {
                tracing::debug!(file = %path.display(), error = %e, "skipping undecodable packet");
                last_bad_packet = Some(e);
                continue;
            }
            Err(e) => return Err(decode_error(path, e)),
        };
        if buffer.frames() == 0 {
            continue;
        }
        let this_spec = (buffer.spec().rate(), buffer.spec().channels().count());
        match spec {
            None if !SOURCE_RATES.contains(&this_spec.0) => {
                return Err(unsupported(path, "sample rate outside 1 kHz–384 kHz"));
            }
            None if this_spec.1 == 0 => return Err(unsupported(path, "no channels")),
            None => spec = Some(this_spec),
            Some(first) if first != this_spec => {
                return Err(unsupported(
                    path,
                    "sample rate or channels change mid-stream",
                ));
            }
            Some(_) => {}
        }
        buffer.copy_to_vec_interleaved(&mut chunk);
        samples.extend_from_slice(&chunk);

        let (rate, channels) = this_spec;
        let max_samples = u64::from(MAX_PROMPT_SECONDS) * u64::from(rate) * channels as u64;
        if samples.len() as u64 > max_samples {
            return Err(PromptError::TooLong {
                file: path.to_path_buf(),
                max_seconds: MAX_PROMPT_SECONDS,
            });
        }
    }

    match spec {
        // Checked when the first buffer set it.
        Some((rate, channels)) => Ok(Decoded {
            rate,
            channels,
            samples,
        }),
        None => match last_bad_packet {
            Some(source) => Err(PromptError::Decode {
                file: path.to_path_buf(),
                source,
            }),
            None => Err(PromptError::Empty {
                file: path.to_path_buf(),
            }),
        },
    }
}

/// Errors while recognising the container: anything that is not plainly an
/// I/O failure means "this is not audio we know".
fn probe_error(path: &Path, error: SymphoniaError) -> PromptError {
    match error {
        SymphoniaError::Unsupported(reason) => unsupported(path, reason),
        SymphoniaError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof => {
            unsupported(path, "not a recognised audio file")
        }
        SymphoniaError::DecodeError(_) => unsupported(path, "not a recognised audio file"),
        other => decode_error(path, other),
    }
}

fn decode_error(path: &Path, error: SymphoniaError) -> PromptError {
    match error {
        SymphoniaError::Unsupported(reason) => unsupported(path, reason),
        source => PromptError::Decode {
            file: path.to_path_buf(),
            source,
        },
    }
}

fn unsupported(path: &Path, reason: &'static str) -> PromptError {
    PromptError::Unsupported {
        file: path.to_path_buf(),
        reason,
    }
}

/// Averages interleaved frames into one channel.
pub(crate) fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels <= 1 {
        return interleaved.to_vec();
    }
    let scale = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() * scale)
        .collect()
}

/// Resamples mono audio from `from` Hz to `to` Hz, returning exactly
/// `ceil(len · to / from)` samples aligned with the input (no start-up delay).
pub(crate) fn resample(
    mono: Vec<f32>,
    from: u32,
    to: u32,
    path: &Path,
) -> Result<Vec<f32>, PromptError> {
    if from == to || mono.is_empty() {
        return Ok(mono);
    }
    // One sub-chunk: rubato's default splits a chunk into ~256-input-frame
    // FFTs, which at 96 kHz → 8 kHz leaves ~21 output bins and a filter that
    // dulls 1 kHz. Sizing the input block from the output block keeps the
    // resolution for any rate.
    let input_block = (RESAMPLER_BLOCK as u64 * u64::from(from)).div_ceil(u64::from(to)) as usize;
    let mut resampler = Fft::<f32>::new_custom(
        from as usize,
        to as usize,
        input_block,
        1,
        1,
        WindowFunction::BlackmanHarris2,
        FixedSync::Input,
    )
    .map_err(|source| PromptError::ResamplerSetup {
        file: path.to_path_buf(),
        rate: from,
        source,
    })?;
    let frames = mono.len();
    let input = InterleavedOwned::new_from(mono, 1, frames)
        // One channel of `frames` samples is exactly the vector's length.
        .expect("mono buffer length equals its frame count");
    let output = resampler
        .process_all(&input, frames, None)
        .map_err(|source| PromptError::Resample {
            file: path.to_path_buf(),
            source,
        })?;
    Ok(output.take_data())
}

/// Scales a nominal ±1.0 sample to `i16`, clipping what lies outside (the
/// resampler's ringing can overshoot a full-scale input).
pub(crate) fn f32_to_i16(sample: f32) -> i16 {
    if sample.is_nan() {
        return 0;
    }
    let scaled = (sample * 32768.0).round();
    scaled.clamp(f32::from(i16::MIN), f32::from(i16::MAX)) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_scale_positive_clips_to_i16_max() {
        assert_eq!(f32_to_i16(1.0), i16::MAX);
        assert_eq!(f32_to_i16(1.7), i16::MAX);
    }

    #[test]
    fn full_scale_negative_maps_to_i16_min() {
        assert_eq!(f32_to_i16(-1.0), i16::MIN);
        assert_eq!(f32_to_i16(-3.0), i16::MIN);
    }

    #[test]
    fn half_scale_rounds_to_nearest() {
        assert_eq!(f32_to_i16(0.5), 16384);
        assert_eq!(f32_to_i16(-0.5), -16384);
        assert_eq!(f32_to_i16(0.0), 0);
    }

    #[test]
    fn nan_becomes_silence() {
        assert_eq!(f32_to_i16(f32::NAN), 0);
    }

    #[test]
    fn downmix_averages_channels() {
        let stereo = [1.0, 0.0, 0.5, 0.5, -1.0, -1.0];
        assert_eq!(downmix(&stereo, 2), vec![0.5, 0.5, -1.0]);
    }

    #[test]
    fn downmix_of_mono_is_identity() {
        let mono = [0.1, -0.2, 0.3];
        assert_eq!(downmix(&mono, 1), mono.to_vec());
    }

    #[test]
    fn downmix_drops_an_incomplete_trailing_frame() {
        let broken = [0.2, 0.4, 0.6];
        assert_eq!(downmix(&broken, 2), vec![0.3]);
    }

    #[test]
    fn resample_at_target_rate_is_passthrough() {
        let samples = vec![0.25; 500];
        let out = resample(samples.clone(), 8000, 8000, Path::new("x.wav")).unwrap();
        assert_eq!(out, samples);
    }

    #[test]
    fn resample_yields_the_exact_output_length() {
        for (rate, len) in [
            (16_000, 16_000),
            (44_100, 44_100),
            (48_000, 1_000),
            (11_025, 7),
        ] {
            let out = resample(vec![0.0; len], rate, 8000, Path::new("x.wav")).unwrap();
            let expected = (len as u64 * 8000).div_ceil(rate as u64) as usize;
            assert_eq!(out.len(), expected, "{rate} Hz, {len} samples");
        }
    }

    #[test]
    fn resample_keeps_a_dc_level() {
        // A constant survives any correct low-pass resampler: checks scaling
        // and that the start-up delay was trimmed (no leading zeros).
        let out = resample(vec![0.5; 48_000], 48_000, 8000, Path::new("x.wav")).unwrap();
        let middle = &out[400..out.len() - 400];
        assert!(middle.iter().all(|s| (s - 0.5).abs() < 0.01));
        assert!((out[10] - 0.5).abs() < 0.1, "start delayed: {}", out[10]);
    }

    #[test]
    fn resample_of_nothing_is_nothing() {
        let out = resample(Vec::new(), 44_100, 8000, Path::new("x.wav")).unwrap();
        assert!(out.is_empty());
    }
}
