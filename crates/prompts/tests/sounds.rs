//! The committed prompts in sounds/ja: every WAV loads, is 8 kHz mono 16-bit
//! (so the engine passes it through unresampled), is audible and has a
//! plausible length; and every file the dialplan and queue expect exists.

use std::path::{Path, PathBuf};

use madoguchi_prompts::{decode_to_8k_mono, PromptCache};

fn sounds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sounds/ja")
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

fn all_wavs() -> Vec<PathBuf> {
    let mut out = Vec::new();
    wavs(&sounds_dir(), &mut out);
    out.sort();
    out
}

/// The name the dialplan would give each file: its path below sounds/ja
/// without the extension ("greeting", "numbers/position_3").
fn prompt_name(path: &Path) -> String {
    let relative = path.strip_prefix(sounds_dir()).unwrap();
    relative.with_extension("").to_string_lossy().into_owned()
}

#[test]
fn every_prompt_wav_loads_into_one_cache() {
    let files = all_wavs();
    assert!(files.len() >= 100, "only {} WAVs", files.len());
    let names: Vec<String> = files.iter().map(|p| prompt_name(p)).collect();
    let cache = PromptCache::load(
        names
            .iter()
            .map(String::as_str)
            .zip(files.iter().map(PathBuf::as_path)),
    )
    .unwrap();
    assert_eq!(cache.len(), files.len());
    for (_, prompt) in cache.iter() {
        assert!(prompt.frames() > 0, "{}", prompt.name);
    }
}

#[test]
fn every_prompt_wav_is_8k_mono_16bit() {
    for path in all_wavs() {
        let spec = hound::WavReader::open(&path).unwrap().spec();
        assert_eq!(spec.sample_rate, 8000, "{}", path.display());
        assert_eq!(spec.channels, 1, "{}", path.display());
        assert_eq!(spec.bits_per_sample, 16, "{}", path.display());
    }
}

#[test]
fn every_prompt_is_audible_and_of_sensible_length() {
    for path in all_wavs() {
        let pcm = decode_to_8k_mono(&path).unwrap();
        let seconds = pcm.len() as f64 / 8000.0;
        let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!(
            (0.3..30.0).contains(&seconds),
            "{}: {seconds} s",
            path.display()
        );
        // Speech is normalised to -3 dBFS, hold music to -14 dBFS.
        assert!(peak > 5000, "{}: peak {peak}", path.display());
    }
}

#[test]
fn the_named_prompts_exist() {
    let dir = sounds_dir();
    let mut expected: Vec<String> = [
        "greeting",
        "outside_hours",
        "closed_year_end",
        "closed_special",
        "closed_holiday",
        "please_wait",
        "transfer_city",
        "goodbye",
        "recording_notice",
        "jlis_maintenance",
        "menu",
        "invalid_choice",
        "hold_music",
        "numbers/position_prefix",
        "numbers/position_suffix",
        "numbers/wait_prefix",
        "numbers/wait_suffix",
    ]
    .map(String::from)
    .to_vec();
    expected.extend((1..=30).map(|n| format!("numbers/position_{n}")));
    expected.extend((1..=60).map(|n| format!("numbers/wait_minutes_{n}")));
    for name in expected {
        let path = dir.join(format!("{name}.wav"));
        assert!(path.is_file(), "missing {}", path.display());
    }
}

#[test]
fn hold_music_is_a_twenty_second_loop() {
    let pcm = decode_to_8k_mono(&sounds_dir().join("hold_music.wav")).unwrap();
    assert_eq!(pcm.len(), 20 * 8000);
}
