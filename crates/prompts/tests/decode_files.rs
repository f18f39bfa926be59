//! `decode_to_8k_mono` and `PromptCache::load` against real files: WAVs
//! written with hound into a temp dir, and the FLAC/Ogg fixtures made with sox.

use std::f32::consts::TAU;
use std::path::{Path, PathBuf};

use madoguchi_media::Codec;
use madoguchi_prompts::{decode_to_8k_mono, PromptCache, PromptError, FRAME_SAMPLES};

const TONE_HZ: f32 = 1000.0;

fn sine(rate: u32, seconds: f32, amplitude: f32) -> impl Iterator<Item = f32> {
    let len = (rate as f32 * seconds) as usize;
    (0..len).map(move |n| amplitude * (TAU * TONE_HZ * n as f32 / rate as f32).sin())
}

fn write_wav_i16(path: &Path, rate: u32, channels: u16, frames: impl Iterator<Item = f32>) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for s in frames {
        for _ in 0..channels {
            w.write_sample((s * 32767.0) as i16).unwrap();
        }
    }
    w.finalize().unwrap();
}

/// Sign changes in the middle of the signal, per second: 2 per cycle of a
/// pure tone. The edges are skipped where the resampler's filter ramps.
fn crossings_per_second(pcm: &[i16]) -> f64 {
    let middle = &pcm[400..pcm.len() - 400];
    let crossings = middle
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count();
    crossings as f64 * 8000.0 / middle.len() as f64
}

fn rms(pcm: &[i16]) -> f64 {
    let sum: f64 = pcm.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / pcm.len() as f64).sqrt()
}

fn assert_tone_survives(pcm: &[i16], amplitude: f32) {
    let rate = crossings_per_second(pcm);
    assert!((rate - 2000.0).abs() < 20.0, "{rate} crossings/s");
    let expected_rms = f64::from(amplitude) * 32767.0 / 2f64.sqrt();
    let middle = &pcm[400..pcm.len() - 400];
    let ratio = rms(middle) / expected_rms;
    assert!((0.95..1.05).contains(&ratio), "level ratio {ratio}");
}

fn assert_duration(pcm: &[i16], seconds: f64) {
    let expected = seconds * 8000.0;
    assert!(
        (pcm.len() as f64 - expected).abs() <= FRAME_SAMPLES as f64,
        "{} samples, expected {expected}",
        pcm.len()
    );
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn stereo_16k_wav_becomes_8k_mono_of_the_same_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stereo16k.wav");
    write_wav_i16(&path, 16_000, 2, sine(16_000, 1.0, 0.5));
    let pcm = decode_to_8k_mono(&path).unwrap();
    assert_duration(&pcm, 1.0);
    assert_tone_survives(&pcm, 0.5);
}

#[test]
fn mono_44k1_wav_keeps_its_1khz_tone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mono44k.wav");
    write_wav_i16(&path, 44_100, 1, sine(44_100, 1.5, 0.5));
    let pcm = decode_to_8k_mono(&path).unwrap();
    assert_duration(&pcm, 1.5);
    assert_tone_survives(&pcm, 0.5);
}

#[test]
fn eight_bit_wav_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u8.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 11_025,
        bits_per_sample: 8,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for s in sine(11_025, 1.0, 0.5) {
        w.write_sample((s * 127.0) as i8).unwrap();
    }
    w.finalize().unwrap();
    let pcm = decode_to_8k_mono(&path).unwrap();
    assert_duration(&pcm, 1.0);
    let rate = crossings_per_second(&pcm);
    assert!((rate - 2000.0).abs() < 20.0, "{rate} crossings/s");
}

#[test]
fn float_wav_is_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f32.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48_000,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for s in sine(48_000, 1.0, 0.5) {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    let pcm = decode_to_8k_mono(&path).unwrap();
    assert_duration(&pcm, 1.0);
    assert_tone_survives(&pcm, 0.5);
}

#[test]
fn an_8k_mono_wav_passes_through_sample_for_sample() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("8k.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let samples: Vec<i16> = (0..8123)
        .map(|i| ((i * 37) % 65536 - 32768) as i16)
        .collect();
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for &s in &samples {
        w.write_sample(s).unwrap();
    }
    w.finalize().unwrap();
    assert_eq!(decode_to_8k_mono(&path).unwrap(), samples);
}

#[test]
fn opposite_stereo_channels_cancel_in_the_downmix() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phase.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for s in sine(8000, 0.5, 0.5) {
        let v = (s * 32767.0) as i16;
        w.write_sample(v).unwrap();
        w.write_sample(-v).unwrap();
    }
    w.finalize().unwrap();
    let pcm = decode_to_8k_mono(&path).unwrap();
    assert_eq!(pcm.len(), 4000);
    assert!(pcm.iter().all(|&s| s.abs() <= 1));
}

#[test]
fn a_full_scale_square_wave_clips_instead_of_wrapping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("square.wav");
    // Resampling a square wave rings past full scale (Gibbs); wrapping to
    // i16 would turn those peaks into full-scale jumps of the opposite sign.
    let square = (0..44_100).map(|n| if (n / 22) % 2 == 0 { 1.0 } else { -1.0 });
    write_wav_i16(&path, 44_100, 1, square);
    let pcm = decode_to_8k_mono(&path).unwrap();
    assert!(pcm.contains(&i16::MAX) || pcm.contains(&i16::MIN));
    let jumps = pcm
        .windows(2)
        .filter(|w| (i32::from(w[0]) - i32::from(w[1])).abs() > 60_000);
    assert_eq!(jumps.count(), 0);
}

#[test]
fn flac_fixture_is_decoded_and_downmixed() {
    let pcm = decode_to_8k_mono(&fixture("tone_1k_22050_stereo.flac")).unwrap();
    assert_duration(&pcm, 0.5);
    assert_tone_survives(&pcm, 0.5);
}

#[test]
fn ogg_vorbis_fixture_is_decoded() {
    let pcm = decode_to_8k_mono(&fixture("tone_1k_44100_mono.ogg")).unwrap();
    assert_duration(&pcm, 0.5);
    let rate = crossings_per_second(&pcm);
    assert!((rate - 2000.0).abs() < 20.0, "{rate} crossings/s");
}

#[test]
fn a_missing_file_is_an_open_error_naming_it() {
    let path = Path::new("/nonexistent/greting.wav");
    let err = decode_to_8k_mono(path).unwrap_err();
    assert!(matches!(err, PromptError::Open { ref file, .. } if file == path));
    assert!(
        err.to_string().contains("/nonexistent/greting.wav"),
        "{err}"
    );
}

#[test]
fn a_junk_file_is_unsupported_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.wav");
    std::fs::write(
        &path,
        b"this is not audio at all, just some text bytes ...".repeat(50),
    )
    .unwrap();
    let err = decode_to_8k_mono(&path).unwrap_err();
    assert!(matches!(err, PromptError::Unsupported { .. }), "{err:?}");
    assert!(err.to_string().contains("junk.wav"), "{err}");
    assert_eq!(err.file(), Some(path.as_path()));
}

#[test]
fn a_zero_byte_file_is_unsupported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zero.wav");
    std::fs::write(&path, b"").unwrap();
    let err = decode_to_8k_mono(&path).unwrap_err();
    assert!(matches!(err, PromptError::Unsupported { .. }), "{err:?}");
}

#[test]
fn a_wav_without_samples_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.wav");
    write_wav_i16(&path, 16_000, 1, std::iter::empty());
    let err = decode_to_8k_mono(&path).unwrap_err();
    assert!(
        matches!(err, PromptError::Empty { ref file } if file == &path),
        "{err:?}"
    );
    assert!(err.to_string().contains("empty.wav"), "{err}");
}

#[test]
fn a_truncated_wav_keeps_the_audio_that_is_there() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.wav");
    write_wav_i16(&path, 8000, 1, sine(8000, 1.0, 0.5));
    let bytes = std::fs::read(&path).unwrap();
    // The header still announces 8000 samples; only half of them follow.
    std::fs::write(&path, &bytes[..44 + 8000]).unwrap();
    let pcm = decode_to_8k_mono(&path).unwrap();
    assert!((3900..=4000).contains(&pcm.len()), "{}", pcm.len());
}

#[test]
fn a_header_only_wav_fragment_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("header.wav");
    write_wav_i16(&path, 8000, 1, sine(8000, 0.1, 0.5));
    let bytes = std::fs::read(&path).unwrap();
    for cut in [4, 12, 20, 30, 40] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        assert!(decode_to_8k_mono(&path).is_err(), "cut at {cut}");
    }
}

#[test]
fn cache_load_encodes_each_file_once_in_both_laws() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.wav");
    let b = dir.path().join("b.wav");
    write_wav_i16(&a, 16_000, 1, sine(16_000, 0.5, 0.3));
    write_wav_i16(&b, 8000, 2, sine(8000, 1.0, 0.3));
    let cache = PromptCache::load([("a", a.as_path()), ("b", b.as_path())]).unwrap();
    assert_eq!(cache.len(), 2);
    let a = cache.get(cache.id("a").unwrap());
    assert_eq!(a.frames(), 25);
    assert_eq!(a.duration.as_millis(), 500);
    let b = cache.get(cache.id("b").unwrap());
    assert_eq!(b.frames(), 50);
    assert_eq!(b.frame(Codec::Pcmu, 49).map(<[u8]>::len), Some(160));
    assert_ne!(b.payload(Codec::Pcmu), b.payload(Codec::Pcma));
}

#[test]
fn cache_load_fails_naming_the_missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wav");
    write_wav_i16(&good, 8000, 1, sine(8000, 0.2, 0.3));
    let missing = dir.path().join("missing.wav");
    let err =
        PromptCache::load([("good", good.as_path()), ("gone", missing.as_path())]).unwrap_err();
    assert!(err.to_string().contains("missing.wav"), "{err}");
}

#[test]
fn cache_load_rejects_a_duplicate_name_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.wav");
    write_wav_i16(&good, 8000, 1, sine(8000, 0.2, 0.3));
    // The second file does not exist: the name clash is reported, not the file.
    let err = PromptCache::load([
        ("greeting", good.as_path()),
        ("greeting", Path::new("/nonexistent.wav")),
    ])
    .unwrap_err();
    assert!(matches!(err, PromptError::DuplicateName { ref name, .. } if name == "greeting"));
}

#[test]
fn ulaw_wav_fixture_is_decoded() {
    let pcm = decode_to_8k_mono(&fixture("tone_1k_8000_ulaw.wav")).unwrap();
    assert_eq!(pcm.len(), 4000);
    assert_tone_survives(&pcm, 0.5);
}

/// Regression: with rubato's default ~256-frame FFT sub-chunks, 96 kHz → 8 kHz
/// had ~21 output bins and the anti-aliasing filter took 12 % off a 1 kHz tone;
/// a coprime-ish rate (12 345 Hz) forces the largest minimum FFT block.
#[test]
fn uncommon_sample_rates_are_resampled_to_the_exact_length() {
    let dir = tempfile::tempdir().unwrap();
    for rate in [11_025, 12_345, 22_050, 32_000, 96_000] {
        let path = dir.path().join(format!("r{rate}.wav"));
        write_wav_i16(&path, rate, 1, sine(rate, 1.0, 0.5));
        let pcm = decode_to_8k_mono(&path).unwrap();
        assert_eq!(pcm.len(), 8000, "{rate} Hz");
        assert_tone_survives(&pcm, 0.5);
    }
}

#[test]
fn a_tone_above_4khz_is_filtered_out_not_aliased() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("high.wav");
    // 6 kHz would fold down to 2 kHz at 8 kHz without the anti-aliasing filter.
    let high = (0..48_000).map(|n| 0.5 * (TAU * 6000.0 * n as f32 / 48_000.0).sin());
    write_wav_i16(&path, 48_000, 1, high);
    let pcm = decode_to_8k_mono(&path).unwrap();
    assert!(rms(&pcm[400..7600]) < 100.0, "rms {}", rms(&pcm[400..7600]));
}

#[test]
fn the_telephone_band_passes_at_full_level() {
    let dir = tempfile::tempdir().unwrap();
    for hz in [300.0f32, 1000.0, 3000.0, 3400.0] {
        let path = dir.path().join(format!("{hz}.wav"));
        let tone = (0..48_000).map(|n| 0.5 * (TAU * hz * n as f32 / 48_000.0).sin());
        write_wav_i16(&path, 48_000, 1, tone);
        let pcm = decode_to_8k_mono(&path).unwrap();
        let ratio = rms(&pcm[400..7600]) / (0.5 * 32767.0 / 2f64.sqrt());
        assert!(
            (0.95..1.05).contains(&ratio),
            "{hz} Hz: level ratio {ratio}"
        );
    }
}
