//! Fixing a recording left behind by a crash (or a failed write), at engine start.
//!
//! Such a file has the recorder's 44-byte header with the sizes of its last checkpoint, then
//! more audio than those sizes say, possibly ending in a torn frame (a write cut mid-frame).
//! [`repair`] truncates the torn frame and rewrites the two sizes (RIFF at byte 4, `data` at
//! byte 40) from the file's length, so any WAV reader opens all of it. It is idempotent — a
//! sound file is left untouched — and refuses anything that is not a WAV in the recorder's own
//! format rather than cutting a stranger's file. Run it only on files no writer has open.
//!
//! The sizes are written here by hand: hound cannot do it. Its `WavWriter::append` trusts the
//! stale `data` size and would seek there and write over the audio after the last checkpoint,
//! and it has no way to set the sizes from the file's length. The layout is fixed — hound
//! writes a plain PCMWAVEFORMAT header (16-byte `fmt `) for 2-channel 16-bit audio — and
//! [`repair`] checks every other header byte against it before touching anything.
//!
//! ```
//! use madoguchi_recording::repair::repair;
//! use madoguchi_recording::timeline::FrameSink;
//! use madoguchi_recording::wav::WavFile;
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("call.wav");
//! let mut file = WavFile::create(&path).unwrap();
//! file.silence(8000);
//! file.finish().unwrap();
//! let repaired = repair(&path).unwrap();
//! assert_eq!((repaired.frames, repaired.changed), (8000, false));
//! ```

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::clock::duration_of;
use crate::wav::{spec, FRAME_BYTES, HEADER_BYTES, MAX_FRAMES};

/// What [`repair`] found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repaired {
    /// Whole frames the file holds now.
    pub frames: u64,
    pub duration: Duration,
    /// Whether the header or the length had to change.
    pub changed: bool,
    /// Bytes of a torn last frame that were cut off.
    pub torn_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error("could not read or fix the file")]
    Io(#[from] io::Error),
    /// Shorter than a header: the recorder crashed before its header reached the disk.
    #[error("the file is too short ({len} bytes) to hold a WAV header")]
    TooShort { len: u64 },
    #[error("the file is not a RIFF/WAVE file")]
    NotWav,
    #[error(
        "the file is a WAV file but not in the recorder's format \
         (PCM, 2 channels, 8000 Hz, 16-bit, data right after a 16-byte fmt chunk)"
    )]
    NotOurs,
    #[error("the file ({len} bytes) is longer than a WAV file can describe")]
    TooLarge { len: u64 },
}

/// The header the recorder writes, with both sizes 0.
fn expected_header() -> [u8; HEADER_BYTES as usize] {
    let spec = spec();
    let block_align = spec.channels * spec.bits_per_sample / 8;
    let mut header = [0u8; HEADER_BYTES as usize];
    header[0..4].copy_from_slice(b"RIFF");
    header[8..12].copy_from_slice(b"WAVE");
    header[12..16].copy_from_slice(b"fmt ");
    header[16..20].copy_from_slice(&16u32.to_le_bytes());
    header[20..22].copy_from_slice(&1u16.to_le_bytes()); // WAVE_FORMAT_PCM
    header[22..24].copy_from_slice(&spec.channels.to_le_bytes());
    header[24..28].copy_from_slice(&spec.sample_rate.to_le_bytes());
    let byte_rate = spec.sample_rate * u32::from(block_align);
    header[28..32].copy_from_slice(&byte_rate.to_le_bytes());
    header[32..34].copy_from_slice(&block_align.to_le_bytes());
    header[34..36].copy_from_slice(&spec.bits_per_sample.to_le_bytes());
    header[36..40].copy_from_slice(b"data");
    header
}

fn read_u32(bytes: &[u8]) -> u32 {
    let mut le = [0u8; 4];
    le.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(le)
}

/// Makes the recording at `path` readable to its last whole frame; see the module docs.
pub fn repair(path: impl AsRef<Path>) -> Result<Repaired, RepairError> {
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    let len = file.metadata()?.len();
    if len < HEADER_BYTES {
        return Err(RepairError::TooShort { len });
    }
    let mut header = [0u8; HEADER_BYTES as usize];
    file.read_exact(&mut header)?;
    let expected = expected_header();
    if header[0..4] != expected[0..4] || header[8..12] != expected[8..12] {
        return Err(RepairError::NotWav);
    }
    if header[12..40] != expected[12..40] {
        return Err(RepairError::NotOurs);
    }
    let frames = (len - HEADER_BYTES) / FRAME_BYTES;
    if frames > MAX_FRAMES {
        return Err(RepairError::TooLarge { len });
    }
    let data_bytes = frames * FRAME_BYTES;
    let torn_bytes = len - HEADER_BYTES - data_bytes;
    // Both fit in u32: data_bytes + 36 <= u32::MAX by MAX_FRAMES.
    let data_size = data_bytes as u32;
    let riff_size = (data_bytes + HEADER_BYTES - 8) as u32;
    let changed = torn_bytes > 0
        || read_u32(&header[4..8]) != riff_size
        || read_u32(&header[40..44]) != data_size;
    if changed {
        if torn_bytes > 0 {
            file.set_len(HEADER_BYTES + data_bytes)?;
        }
        file.seek(SeekFrom::Start(4))?;
        file.write_all(&riff_size.to_le_bytes())?;
        file.seek(SeekFrom::Start(40))?;
        file.write_all(&data_size.to_le_bytes())?;
        file.sync_all()?;
    }
    Ok(Repaired {
        frames,
        duration: duration_of(frames),
        changed,
        torn_bytes,
    })
}

/// Repairs every `.wav` file under `dir` (recursively, not following symbolic links), for the
/// engine's start: one result per file, in path order. Only the directory walk itself fails
/// the whole scan.
pub fn repair_all(
    dir: impl AsRef<Path>,
) -> io::Result<Vec<(PathBuf, Result<Repaired, RepairError>)>> {
    let mut files = Vec::new();
    collect_wavs(dir.as_ref(), &mut files)?;
    files.sort();
    Ok(files
        .into_iter()
        .map(|path| {
            let result = repair(&path);
            (path, result)
        })
        .collect())
}

fn collect_wavs(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() {
            collect_wavs(&path, out)?;
        } else if kind.is_file()
            && path
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("wav"))
        {
            out.push(path);
        }
    }
    Ok(())
}
