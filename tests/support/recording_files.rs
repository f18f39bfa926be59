//! Recording files made by a test, as the recorder writes them, and their checksums.

use std::path::Path;

/// `seconds` of a call as the recorder writes it: 8 kHz, caller left (440 Hz), operator
/// right (660 Hz), 16-bit.
pub fn write_call_wav(path: &Path, seconds: u32) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("folder");
    }
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::create(path, spec).expect("the WAV can be written");
    for n in 0..seconds * 8_000 {
        let t = f64::from(n) / 8_000.0;
        for hz in [440.0, 660.0] {
            let sample = 8_000.0 * (2.0 * std::f64::consts::PI * hz * t).sin();
            wav.write_sample(sample as i16).expect("sample");
        }
    }
    wav.finalize().expect("the WAV closes");
}

/// The file's SHA-256 as lowercase hex, by `sha256sum` (not by the engine's own code).
pub fn sha256_of(path: &Path) -> String {
    let output = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum runs");
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .next()
        .expect("a checksum")
        .to_owned()
}
