//! Corrupted prompt files must come back as errors (or as whatever audio is
//! still decodable), never as a panic: a bad file in sounds/ must not take
//! the engine down at start-up. Deterministic mutations of the fixtures.

use std::path::Path;

use madoguchi_prompts::{decode_to_8k_mono, PromptError};

/// A small fixed-seed generator, so every run mutates the same bytes.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .unwrap()
}

fn hound_wav() -> Vec<u8> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::new(&mut cursor, spec).unwrap();
    for n in 0..4000i32 {
        w.write_sample((n * 13 % 20_000) as i16).unwrap();
    }
    w.finalize().unwrap();
    cursor.into_inner()
}

/// 60 mutations per format by default; `ROUNDS=3000 cargo test` for a soak.
fn rounds() -> usize {
    std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(60)
}

fn survive_mutations(name: &str, original: &[u8], seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let mut rng = Lcg(seed);
    for round in 0..rounds() {
        let mut bytes = original.to_vec();
        // Early rounds hit the header, where parsing decisions are made.
        let span = if round < 30 {
            64.min(bytes.len())
        } else {
            bytes.len()
        };
        for _ in 0..1 + rng.next() % 4 {
            let at = (rng.next() as usize) % span;
            bytes[at] = rng.next() as u8;
        }
        if round % 7 == 0 {
            bytes.truncate((rng.next() as usize) % bytes.len());
        }
        std::fs::write(&path, &bytes).unwrap();
        // Either outcome is fine; returning at all is the point.
        let _ = decode_to_8k_mono(&path);
    }
}

#[test]
fn mutated_wav_files_never_panic() {
    survive_mutations("m.wav", &hound_wav(), 1);
}

#[test]
fn mutated_flac_files_never_panic() {
    survive_mutations("m.flac", &fixture_bytes("tone_1k_22050_stereo.flac"), 2);
}

#[test]
fn mutated_ogg_files_never_panic() {
    survive_mutations("m.ogg", &fixture_bytes("tone_1k_44100_mono.ogg"), 3);
}

#[test]
fn mutated_ulaw_files_never_panic() {
    survive_mutations("m.wav", &fixture_bytes("tone_1k_8000_ulaw.wav"), 4);
}

/// Regression: a WAV `fmt ` chunk with a huge channel count overflows
/// symphonia's `num_channels * bytes_per_sample` (u16) — a panic in debug
/// builds. It must surface as an error naming the file.
#[test]
fn a_wav_whose_header_overflows_the_decoder_is_an_error() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/regression_fmt_channel_overflow.wav");
    let err = decode_to_8k_mono(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("regression_fmt_channel_overflow.wav"),
        "{err}"
    );
}

fn wav_with_rate(path: &Path, rate: u32) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..1000 {
        w.write_sample((n % 100) as i16).unwrap();
    }
    w.finalize().unwrap();
}

/// Regression: a header claiming a multi-gigahertz rate sized the resampler's
/// FFT by `rate / gcd(rate, 8000)` and took tens of gigabytes.
#[test]
fn an_absurd_sample_rate_is_refused_before_resampling() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ghz.wav");
    wav_with_rate(&path, 1_999_999_999);
    let err = decode_to_8k_mono(&path).unwrap_err();
    assert!(matches!(err, PromptError::Unsupported { .. }), "{err:?}");
}

#[test]
fn a_sub_audio_sample_rate_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("1hz.wav");
    wav_with_rate(&path, 1);
    let err = decode_to_8k_mono(&path).unwrap_err();
    assert!(matches!(err, PromptError::Unsupported { .. }), "{err:?}");
}
