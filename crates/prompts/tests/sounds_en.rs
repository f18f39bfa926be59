//! The committed English prompts in sounds/en (made by sounds/generate_en.sh):
//! every Japanese prompt has an English twin of the same name, and every
//! English file decodes as 8 kHz mono 16-bit, is long enough and is not silent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use madoguchi_prompts::decode_to_8k_mono;

fn sounds(lang: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../sounds")
        .join(lang)
}

fn wavs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            wavs(&path, out);
        } else if path.extension().is_some_and(|e| e == "wav") {
            out.push(path);
        }
    }
}

/// Prompt names below `sounds/<lang>`: "greeting", "numbers/position_3".
fn prompt_names(lang: &str) -> BTreeSet<String> {
    let dir = sounds(lang);
    let mut files = Vec::new();
    wavs(&dir, &mut files);
    files
        .iter()
        .map(|p| {
            let relative = p.strip_prefix(&dir).unwrap().with_extension("");
            relative.to_string_lossy().replace('\\', "/")
        })
        .collect()
}

fn en_wavs() -> Vec<PathBuf> {
    let mut files = Vec::new();
    wavs(&sounds("en"), &mut files);
    files.sort();
    files
}

#[test]
fn every_japanese_prompt_has_an_english_twin_and_no_more() {
    let ja = prompt_names("ja");
    let en = prompt_names("en");
    assert!(ja.len() >= 100, "only {} Japanese prompts", ja.len());
    let missing: Vec<_> = ja.difference(&en).collect();
    let extra: Vec<_> = en.difference(&ja).collect();
    assert!(missing.is_empty(), "no English twin: {missing:?}");
    assert!(extra.is_empty(), "no Japanese original: {extra:?}");
}

#[test]
fn every_english_prompt_is_8k_mono_16bit_pcm() {
    for path in en_wavs() {
        let spec = hound::WavReader::open(&path).unwrap().spec();
        assert_eq!(spec.sample_rate, 8000, "{}", path.display());
        assert_eq!(spec.channels, 1, "{}", path.display());
        assert_eq!(spec.bits_per_sample, 16, "{}", path.display());
        assert_eq!(
            spec.sample_format,
            hound::SampleFormat::Int,
            "{}",
            path.display()
        );
    }
}

#[test]
fn every_english_prompt_decodes_longer_than_0_3_s_and_not_silent() {
    for path in en_wavs() {
        let pcm = decode_to_8k_mono(&path).unwrap();
        let seconds = pcm.len() as f64 / 8000.0;
        assert!(
            (0.3..30.0).contains(&seconds),
            "{}: {seconds} s",
            path.display()
        );
        let rms =
            (pcm.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / pcm.len() as f64).sqrt();
        // Speech peaks at -3 dBFS, hold music at -14 dBFS; both average far
        // above 300 (-41 dBFS), a silent or near-silent file far below.
        assert!(rms > 300.0, "{}: RMS {rms:.0}", path.display());
    }
}
