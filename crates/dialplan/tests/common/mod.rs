//! Helpers shared by the checker tests.

use std::fs;
use std::path::Path;

use madoguchi_dialplan::announce::{position_prompts, wait_prompts, NUMBERS_DIR};

/// Writes a stand-in file for every queue announcement word under `sounds/numbers`.
pub fn write_announcement_prompts(sounds: &Path) {
    let dir = sounds.join(NUMBERS_DIR);
    fs::create_dir_all(&dir).unwrap();
    for name in position_prompts().into_iter().chain(wait_prompts()) {
        fs::write(dir.join(format!("{name}.wav")), b"RIFF").unwrap();
    }
}
