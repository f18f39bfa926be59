//! One call's recording: the [`Timeline`] aligner writing into a [`WavFile`].
//!
//! This is what the media runtime holds per recorded call. Every method returns at once with
//! the audio that became final already handed to the file's buffered writer; none of them
//! blocks on anything but that write. A write error is returned once, by the call that hit it
//! (alert then); the recorder keeps accepting input and ignores it, so the call itself never
//! notices. [`Recorder::finish`] at hang-up, transfer or shutdown closes the file and returns
//! what goes into the call record. A recorder dropped without `finish` (a panic elsewhere in
//! its thread) still leaves a valid file — hound's drop writes the header — but without the
//! last reorder window of audio, the sync and the checksum.

use std::path::Path;

use crate::timeline::{Channel, PauseSpan, Stats, Timeline, TimelineConfig};
use crate::wav::{Closed, Failure, WavError, WavFile};

/// A closed recording, for the call record and its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub file: Closed,
    /// A pause still running at the end, closed there (for the call events).
    pub open_pause: Option<PauseSpan>,
    /// What the aligner dropped (late or duplicate audio).
    pub stats: Stats,
}

/// One call's recording; see the module docs.
#[derive(Debug)]
pub struct Recorder {
    timeline: Timeline,
    file: WavFile,
}

impl Recorder {
    /// Creates the file at `path` (which must not exist) and writes its header.
    pub fn create(path: impl AsRef<Path>, config: TimelineConfig) -> Result<Self, WavError> {
        Ok(Self {
            timeline: Timeline::new(config),
            file: WavFile::create(path)?,
        })
    }

    /// A decoded chunk of `channel` at `position` on the sample clock.
    pub fn push(
        &mut self,
        channel: Channel,
        position: u64,
        samples: &[i16],
    ) -> Result<(), WavError> {
        self.timeline
            .push(channel, position, samples, &mut self.file);
        self.file.take_error().map_or(Ok(()), Err)
    }

    /// The clock reached `now`: writes what is final while both sides are silent.
    pub fn tick(&mut self, now: u64) -> Result<(), WavError> {
        self.timeline.tick(now, &mut self.file);
        self.file.take_error().map_or(Ok(()), Err)
    }

    /// See [`Timeline::pause`]; returns where the silent span really starts.
    pub fn pause(&mut self, at: u64) -> u64 {
        self.timeline.pause(at)
    }

    /// See [`Timeline::resume`]; returns the silent span, `None` when not paused.
    pub fn resume(&mut self, at: u64) -> Option<PauseSpan> {
        self.timeline.resume(at)
    }

    pub fn is_paused(&self) -> bool {
        self.timeline.is_paused()
    }

    /// Why the file stopped being written, if it did.
    pub fn failure(&self) -> Option<Failure> {
        self.file.failure()
    }

    /// Frames written so far.
    pub fn written(&self) -> u64 {
        self.timeline.written()
    }

    pub fn stats(&self) -> Stats {
        self.timeline.stats()
    }

    /// Writes everything up to `end` (or the last audio, if later), closes and checksums the
    /// file. After a write failure the file is repaired and [`WavError::Failed`] says how much
    /// of it survived.
    pub fn finish(self, end: u64) -> Result<Recording, WavError> {
        let Self {
            timeline, mut file, ..
        } = self;
        let finished = timeline.finish(end, &mut file);
        let closed = file.finish()?;
        Ok(Recording {
            file: closed,
            open_pause: finished.open_pause,
            stats: finished.stats,
        })
    }
}
