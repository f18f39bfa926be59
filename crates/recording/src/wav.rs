//! The edge of the recorder: the aligner's frames streamed into a WAV file with `hound`
//! (2 channels, 8000 Hz, 16-bit PCM), checkpointed so that a crash leaves a readable file.
//!
//! [`WavSink`] is a [`FrameSink`] over any `Write + Seek` (a `BufWriter<File>` in the engine).
//! Every [`CHECKPOINT_FRAMES`] frames (one second of audio) it calls hound's `flush()`, which
//! writes the buffered audio and rewrites the header's sizes: a process killed after that
//! leaves a file every WAV reader opens, up to that second; [`crate::repair`] recovers the rest
//! up to the last whole frame on disk. The header itself is on disk as soon as the sink exists.
//!
//! A write error (disk full, I/O error) never panics and never stops the caller: the sink
//! reports it once through [`WavSink::take_error`], drops the encoder (hound's drop rewrites
//! the header as far as it can) and from then on ignores and counts what it is given. The
//! WAV format's 32-bit sizes end a recording at [`MAX_FRAMES`] (about 37 hours) the same way.
//!
//! [`WavFile`] is the sink on a new file: [`WavFile::finish`] closes it, syncs it to disk and
//! returns its length in frames with the SHA-256 of the bytes on disk — read back, so the
//! checksum is of what was stored. After a failure it repairs what is there and says how much
//! audio survived.
//!
//! ```
//! use madoguchi_recording::timeline::FrameSink;
//! use madoguchi_recording::wav::WavFile;
//! let dir = tempfile::tempdir().unwrap();
//! let mut file = WavFile::create(dir.path().join("call.wav")).unwrap();
//! file.frames(&[100, -100, 200, -200]);
//! file.silence(8000);
//! assert!(file.take_error().is_none());
//! let closed = file.finish().unwrap();
//! assert_eq!(closed.frames, 8002);
//! assert_eq!(closed.bytes, 44 + 4 * 8002);
//! ```

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::clock::{duration_of, SAMPLE_RATE};
use crate::timeline::FrameSink;

/// Bytes of the header hound writes for this format (RIFF, a 16-byte `fmt `, `data`).
pub const HEADER_BYTES: u64 = 44;

/// Bytes per stereo 16-bit frame.
pub const FRAME_BYTES: u64 = 4;

/// Frames between checkpoints: one second of audio.
pub const CHECKPOINT_FRAMES: u64 = SAMPLE_RATE as u64;

/// The most frames a WAV file can describe: the RIFF size (data + 36 header bytes) is 32-bit.
pub const MAX_FRAMES: u64 = (u32::MAX as u64 - (HEADER_BYTES - 8)) / FRAME_BYTES;

/// Frames of silence written per encoder call.
const SILENCE_BLOCK: usize = 1024;
const ZEROS: [i16; 2 * SILENCE_BLOCK] = [0; 2 * SILENCE_BLOCK];

/// The recorder's WAV format.
pub fn spec() -> hound::WavSpec {
    hound::WavSpec {
        channels: 2,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

/// Why a recording stopped writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// An I/O error of this kind (`StorageFull` for a full disk).
    Io(io::ErrorKind),
    /// The encoder refused the data (not expected for this format).
    Encoder,
    /// The file reached [`MAX_FRAMES`].
    TooLong,
}

impl Failure {
    /// Whether the failure means the storage is out of space (the case to alert on).
    pub fn is_disk_full(self) -> bool {
        matches!(self, Failure::Io(kind) if is_full_kind(kind))
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Io(kind) => write!(f, "I/O error: {kind}"),
            Failure::Encoder => f.write_str("the WAV encoder refused the data"),
            Failure::TooLong => write!(f, "the WAV size limit of {MAX_FRAMES} frames"),
        }
    }
}

fn is_full_kind(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded | io::ErrorKind::FileTooLarge
    )
}

#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The file could not be created, or its header not written.
    #[error("could not create the recording file")]
    Create(#[source] io::Error),
    /// A write failed; the recording stopped there (reported once).
    #[error("writing the recording failed")]
    Write(#[source] io::Error),
    /// hound refused the data; not expected for the recorder's own format.
    #[error("the WAV encoder refused the recording")]
    Encoder(#[source] hound::Error),
    /// The recording reached the longest a WAV file can describe.
    #[error("the recording reached the WAV size limit of {MAX_FRAMES} frames")]
    TooLong,
    /// Closing a recording that had stopped, or whose close failed. `recovered_frames` is what
    /// the file holds after repair, when it could be repaired.
    #[error(
        "the recording stopped ({cause}); {written_frames} frames were given to the encoder, \
         {dropped_frames} after the failure were lost"
    )]
    Failed {
        cause: Failure,
        written_frames: u64,
        dropped_frames: u64,
        recovered_frames: Option<u64>,
    },
    /// The file was closed but could not be synced or read back for its checksum.
    #[error("the recording was written but could not be read back for its checksum")]
    Checksum(#[source] io::Error),
}

impl WavError {
    /// Whether this is the storage running out of space.
    pub fn is_disk_full(&self) -> bool {
        match self {
            WavError::Create(e) | WavError::Write(e) | WavError::Checksum(e) => {
                is_full_kind(e.kind())
            }
            WavError::Failed { cause, .. } => cause.is_disk_full(),
            WavError::Encoder(_) | WavError::TooLong => false,
        }
    }

    fn from_hound(error: hound::Error) -> (Failure, WavError) {
        match error {
            hound::Error::IoError(e) => (Failure::Io(e.kind()), WavError::Write(e)),
            other => (Failure::Encoder, WavError::Encoder(other)),
        }
    }
}

enum State<W: Write + Seek> {
    Writing(hound::WavWriter<W>),
    Failed(Failure),
}

/// A streaming WAV writer fed by the aligner; see the module docs.
pub struct WavSink<W: Write + Seek> {
    state: State<W>,
    frames: u64,
    unflushed: u64,
    dropped: u64,
    error: Option<WavError>,
}

impl<W: Write + Seek> fmt::Debug for WavSink<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WavSink")
            .field("frames", &self.frames)
            .field("dropped", &self.dropped)
            .field("failure", &self.failure())
            .finish_non_exhaustive()
    }
}

impl<W: Write + Seek> WavSink<W> {
    /// Starts a WAV stream at the start of `writer` and puts its header out at once.
    pub fn new(writer: W) -> Result<Self, WavError> {
        let mut encoder = hound::WavWriter::new(writer, spec()).map_err(|e| match e {
            hound::Error::IoError(e) => WavError::Create(e),
            other => WavError::Encoder(other),
        })?;
        encoder.flush().map_err(|e| match e {
            hound::Error::IoError(e) => WavError::Create(e),
            other => WavError::Encoder(other),
        })?;
        Ok(Self {
            state: State::Writing(encoder),
            frames: 0,
            unflushed: 0,
            dropped: 0,
            error: None,
        })
    }

    /// The error that stopped the recording, once: later calls return `None`.
    pub fn take_error(&mut self) -> Option<WavError> {
        self.error.take()
    }

    /// Why the sink stopped writing, if it did.
    pub fn failure(&self) -> Option<Failure> {
        match self.state {
            State::Writing(_) => None,
            State::Failed(failure) => Some(failure),
        }
    }

    /// Frames given to the encoder.
    pub fn written(&self) -> u64 {
        self.frames
    }

    /// Frames ignored after a failure.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Makes the sink believe it already wrote `frames`, to test the size limit quickly.
    #[cfg(test)]
    pub(crate) fn pretend_written(&mut self, frames: u64) {
        self.frames = frames;
    }

    /// Finalizes the header and flushes; returns the frames written. A sink that failed, or
    /// whose close fails, returns [`WavError::Failed`] (without `recovered_frames`).
    pub fn finish(self) -> Result<u64, WavError> {
        let Self {
            state,
            frames,
            dropped,
            ..
        } = self;
        let failed = |cause| WavError::Failed {
            cause,
            written_frames: frames,
            dropped_frames: dropped,
            recovered_frames: None,
        };
        match state {
            State::Writing(encoder) => match encoder.finalize() {
                Ok(()) => Ok(frames),
                Err(e) => Err(failed(WavError::from_hound(e).0)),
            },
            State::Failed(cause) => Err(failed(cause)),
        }
    }

    /// Stops writing: dropping the encoder makes hound rewrite the header as far as the
    /// writer still allows (errors there are moot, the first one is what is reported).
    fn fail(&mut self, failure: Failure, error: WavError) {
        self.state = State::Failed(failure);
        if self.error.is_none() {
            self.error = Some(error);
        }
    }

    fn write(&mut self, interleaved: &[i16]) {
        let frames = (interleaved.len() / 2) as u64;
        let whole = &interleaved[..2 * frames as usize];
        let State::Writing(encoder) = &mut self.state else {
            self.dropped += frames;
            return;
        };
        if self.frames + frames > MAX_FRAMES {
            self.dropped += frames;
            self.fail(Failure::TooLong, WavError::TooLong);
            return;
        }
        // `whole` is at most one block of `frames()` (< 2^31 samples). hound's i16 writer
        // panics only for a non-16-bit spec (ours is fixed) or a count other than the one
        // reserved (exactly `whole.len()` samples are written).
        let mut samples = encoder.get_i16_writer(whole.len() as u32);
        for &sample in whole {
            samples.write_sample(sample);
        }
        if let Err(e) = samples.flush() {
            self.dropped += frames;
            let (failure, error) = WavError::from_hound(e);
            self.fail(failure, error);
            return;
        }
        self.frames += frames;
        self.unflushed += frames;
        if self.unflushed >= CHECKPOINT_FRAMES {
            self.unflushed = 0;
            if let Err(e) = encoder.flush() {
                let (failure, error) = WavError::from_hound(e);
                self.fail(failure, error);
            }
        }
    }
}

impl<W: Write + Seek> FrameSink for WavSink<W> {
    fn frames(&mut self, interleaved: &[i16]) {
        // Aligner output is at most one ring (< MAX_FRAMES); split anyway so a caller's huge
        // slice cannot overflow the encoder's u32 count.
        for block in interleaved.chunks(2 * SILENCE_BLOCK * 64) {
            self.write(block);
        }
    }

    fn silence(&mut self, frames: u64) {
        let mut left = frames;
        while left > 0 {
            if self.failure().is_some() {
                self.dropped += left;
                return;
            }
            let block = left.min(SILENCE_BLOCK as u64);
            self.write(&ZEROS[..2 * block as usize]);
            left -= block;
        }
    }
}

/// What a closed recording file is, for the call record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    pub frames: u64,
    pub duration: Duration,
    /// Bytes of the file on disk.
    pub bytes: u64,
    /// SHA-256 of the bytes on disk.
    pub sha256: [u8; 32],
}

impl Closed {
    /// The checksum as 64 lowercase hex digits.
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }
}

/// A checksum as lowercase hex digits (the form the store keeps).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A [`WavSink`] on a new file; see the module docs.
#[derive(Debug)]
pub struct WavFile {
    sink: WavSink<BufWriter<File>>,
    path: PathBuf,
}

impl WavFile {
    /// Creates the file (never over an existing one: a name collision is an error, not a lost
    /// recording) and writes its header.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, WavError> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(WavError::Create)?;
        let sink = WavSink::new(BufWriter::new(file))?;
        Ok(Self { sink, path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// See [`WavSink::take_error`].
    pub fn take_error(&mut self) -> Option<WavError> {
        self.sink.take_error()
    }

    /// See [`WavSink::failure`].
    pub fn failure(&self) -> Option<Failure> {
        self.sink.failure()
    }

    /// Frames given to the encoder so far.
    pub fn written(&self) -> u64 {
        self.sink.written()
    }

    /// Closes the file, syncs it to disk and reads it back for its checksum. After a failure,
    /// repairs the file and returns [`WavError::Failed`] with the frames it still holds.
    pub fn finish(self) -> Result<Closed, WavError> {
        let Self { sink, path } = self;
        match sink.finish() {
            Ok(frames) => {
                let (bytes, sha256) = sync_and_hash(&path).map_err(WavError::Checksum)?;
                Ok(Closed {
                    frames,
                    duration: duration_of(frames),
                    bytes,
                    sha256,
                })
            }
            Err(WavError::Failed {
                cause,
                written_frames,
                dropped_frames,
                ..
            }) => Err(WavError::Failed {
                cause,
                written_frames,
                dropped_frames,
                recovered_frames: crate::repair::repair(&path).ok().map(|r| r.frames),
            }),
            Err(other) => Err(other),
        }
    }
}

impl FrameSink for WavFile {
    fn frames(&mut self, interleaved: &[i16]) {
        FrameSink::frames(&mut self.sink, interleaved);
    }

    fn silence(&mut self, frames: u64) {
        self.sink.silence(frames);
    }
}

/// Flushes the file to stable storage and returns its length and SHA-256 (also for a file
/// `repair` fixed after a crash, whose checksum was never taken).
pub fn sync_and_hash(path: &Path) -> io::Result<(u64, [u8; 32])> {
    // Opened for writing too: some systems refuse to sync a read-only handle.
    let mut file = OpenOptions::new().read(true).write(true).open(path)?;
    file.sync_all()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    let mut bytes = 0u64;
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..read]);
        bytes += read as u64;
    }
    Ok((bytes, hasher.finalize().into()))
}
