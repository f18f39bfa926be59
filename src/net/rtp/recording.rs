//! Call recordings in the media runtime: a tap on each bridged leg's packet path copies the
//! received audio to one recorder thread, which decodes it, places it on the recording's
//! sample clock and writes the two-channel WAV (`madoguchi_recording`).
//!
//! The file writes are blocking I/O, so they run on a thread of their own rather than on the
//! media runtime's workers: a slow disk delays recordings, never the relay or the prompts.
//! The taps hand packets over with `try_send` on a bounded channel and drop (and count) what
//! does not fit, for the same reason. Packets carry their arrival instant; the thread turns it
//! and the RTP timestamp into a position (`RtpClock`), so the time a packet spent in the
//! channel does not move it. A 20 ms tick writes what is final while both sides are silent.
//!
//! Outcomes go back as media events: `RecordingFailed` once when a write fails (disk full:
//! the call goes on unrecorded from there), `RecordingFinished` when the engine stops the
//! recording (hang-up, transfer, shutdown) with the duration, size, checksum and pauses.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use madoguchi_media::Codec;
use madoguchi_recording::clock::{position_from_elapsed, RtpClock};
use madoguchi_recording::{Channel, Recorder, TimelineConfig, WavError};
use tokio::sync::mpsc::UnboundedSender;

use crate::engine::{MediaEvent, RecordingNews, RecordingOutcome};

/// The longest payload a tap copies: 40 ms of G.711. Longer packets are not our audio.
pub(super) const MAX_PAYLOAD: usize = 320;
/// Packets waiting for the recorder thread, all recordings together (about 2 s of 500 calls'
/// two legs); beyond it packets are dropped rather than the relay slowed.
const QUEUE: usize = 100_000;
const TICK: Duration = Duration::from_millis(20);

pub(super) enum RecorderInput {
    Start {
        key: Arc<str>,
        /// Relative to the recordings folder.
        file: PathBuf,
        at: Instant,
    },
    Audio(Box<AudioChunk>),
    Pause {
        key: Arc<str>,
        at: Instant,
    },
    Resume {
        key: Arc<str>,
        at: Instant,
    },
    Stop {
        key: Arc<str>,
        at: Instant,
    },
}

/// One received packet's audio, as the tap copied it.
pub(super) struct AudioChunk {
    key: Arc<str>,
    channel: Channel,
    codec: Codec,
    timestamp: u32,
    arrived: Instant,
    len: usize,
    payload: [u8; MAX_PAYLOAD],
}

/// What a leg's packet path holds while its leg is recorded.
#[derive(Clone)]
pub(super) struct RecordTap {
    pub(super) key: Arc<str>,
    pub(super) channel: Channel,
    pub(super) recorder: RecorderHandle,
}

impl RecordTap {
    /// Copies one audio packet's payload for the recorder; never blocks.
    pub(super) fn copy(&self, codec: Codec, timestamp: u32, payload: &[u8]) {
        if payload.is_empty() || payload.len() > MAX_PAYLOAD {
            return;
        }
        let mut chunk = Box::new(AudioChunk {
            key: Arc::clone(&self.key),
            channel: self.channel,
            codec,
            timestamp,
            arrived: Instant::now(),
            len: payload.len(),
            payload: [0; MAX_PAYLOAD],
        });
        chunk.payload[..payload.len()].copy_from_slice(payload);
        self.recorder.send(RecorderInput::Audio(chunk));
    }
}

/// The way into the recorder thread; cheap to clone.
#[derive(Clone)]
pub(super) struct RecorderHandle {
    input: SyncSender<RecorderInput>,
}

impl RecorderHandle {
    pub(super) fn send(&self, input: RecorderInput) {
        match self.input.try_send(input) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                metrics::counter!("madoguchi_recording_packets_dropped_total").increment(1);
            }
            // The thread is gone (shutdown): nothing to record into.
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// Starts the recorder thread writing under `folder`: write failures go to the engine
/// (`events`), closed recordings to the store (`finished`). The thread ends once every
/// handle and tap is gone, after closing the files still open; join it then.
pub(super) fn spawn(
    folder: PathBuf,
    events: UnboundedSender<MediaEvent>,
    finished: UnboundedSender<RecordingNews>,
) -> std::io::Result<(RecorderHandle, std::thread::JoinHandle<()>)> {
    let (input, inputs) = mpsc::sync_channel(QUEUE);
    let thread = std::thread::Builder::new()
        .name("recorder".to_owned())
        .spawn(move || RecorderThread::new(folder, events, finished).run(inputs))?;
    Ok((RecorderHandle { input }, thread))
}

struct Active {
    recorder: Recorder,
    file: PathBuf,
    started: Instant,
    clocks: [RtpClock; 2],
    paused: Vec<(Duration, Duration)>,
    failed: bool,
}

impl Active {
    fn position(&self, at: Instant) -> u64 {
        position_from_elapsed(at.saturating_duration_since(self.started))
    }
}

struct RecorderThread {
    folder: PathBuf,
    events: UnboundedSender<MediaEvent>,
    finished: UnboundedSender<RecordingNews>,
    active: HashMap<Arc<str>, Active>,
    pcm: [i16; MAX_PAYLOAD],
}

impl RecorderThread {
    fn new(
        folder: PathBuf,
        events: UnboundedSender<MediaEvent>,
        finished: UnboundedSender<RecordingNews>,
    ) -> RecorderThread {
        RecorderThread {
            folder,
            events,
            finished,
            active: HashMap::new(),
            pcm: [0; MAX_PAYLOAD],
        }
    }

    /// Every 20 ms: everything queued, then the tick. The thread sleeps between rounds
    /// instead of waiting on the queue, so the taps' sends wake nobody: waking on each packet
    /// (50 a second per leg) cost the media thread its cores at 500 calls (the benchmark saw
    /// relay gaps of 60–80 ms). Packets carry their arrival instant, so the wait moves none.
    fn run(mut self, inputs: Receiver<RecorderInput>) {
        let mut next = Instant::now();
        'rounds: loop {
            loop {
                match inputs.try_recv() {
                    Ok(input) => self.handle(input),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => break 'rounds,
                }
            }
            let now = Instant::now();
            self.tick(now);
            next += TICK;
            if next <= now {
                // Behind (a slow disk): the next round at once, the schedule from now.
                next = now;
            } else {
                std::thread::sleep(next - now);
            }
        }
        // Shutdown without a Stop (the runtime ended first): close every file properly.
        let keys: Vec<Arc<str>> = self.active.keys().cloned().collect();
        for key in keys {
            self.stop(&key, Instant::now());
        }
    }

    fn handle(&mut self, input: RecorderInput) {
        match input {
            RecorderInput::Start { key, file, at } => self.start(key, file, at),
            RecorderInput::Audio(chunk) => self.audio(&chunk),
            RecorderInput::Pause { key, at } => {
                if let Some(active) = self.active.get_mut(&key) {
                    let position = active.position(at);
                    active.recorder.pause(position);
                }
            }
            RecorderInput::Resume { key, at } => {
                if let Some(active) = self.active.get_mut(&key) {
                    let position = active.position(at);
                    if let Some(span) = active.recorder.resume(position) {
                        active.paused.push(span_durations(span.start, span.end));
                    }
                }
            }
            RecorderInput::Stop { key, at } => self.stop(&key, at),
        }
    }

    fn start(&mut self, key: Arc<str>, file: PathBuf, at: Instant) {
        if self.active.contains_key(&key) {
            return;
        }
        let path = self.folder.join(&file);
        let created = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .map_err(WavError::Create)
            .and_then(|()| Recorder::create(&path, TimelineConfig::default()));
        match created {
            Ok(recorder) => {
                metrics::gauge!("madoguchi_recordings_active").increment(1.0);
                self.active.insert(
                    key,
                    Active {
                        recorder,
                        file,
                        started: at,
                        clocks: [RtpClock::new(), RtpClock::new()],
                        paused: Vec::new(),
                        failed: false,
                    },
                );
            }
            Err(error) => {
                self.failed(&key, &error);
                self.finish(&key, failed_outcome(file, &error));
            }
        }
    }

    fn audio(&mut self, chunk: &AudioChunk) {
        let Some(active) = self.active.get_mut(&chunk.key) else {
            return;
        };
        let arrival = active.position(chunk.arrived);
        let clock = &mut active.clocks[usize::from(chunk.channel == Channel::Operator)];
        let Some(position) = clock.position(chunk.timestamp, arrival) else {
            return;
        };
        let samples = chunk
            .codec
            .decode_slice(&chunk.payload[..chunk.len], &mut self.pcm);
        if let Err(error) = active
            .recorder
            .push(chunk.channel, position, &self.pcm[..samples])
        {
            active.failed = true;
            let key = Arc::clone(&chunk.key);
            self.failed(&key, &error);
        }
    }

    fn tick(&mut self, now: Instant) {
        let mut failures = Vec::new();
        for (key, active) in &mut self.active {
            let position = active.position(now);
            if let Err(error) = active.recorder.tick(position) {
                active.failed = true;
                failures.push((Arc::clone(key), error));
            }
        }
        for (key, error) in failures {
            self.failed(&key, &error);
        }
    }

    fn stop(&mut self, key: &Arc<str>, at: Instant) {
        let Some(mut active) = self.active.remove(key) else {
            return;
        };
        metrics::gauge!("madoguchi_recordings_active").decrement(1.0);
        let end = active.position(at);
        let outcome = match active.recorder.finish(end) {
            Ok(recording) => {
                if let Some(span) = recording.open_pause {
                    active.paused.push(span_durations(span.start, span.end));
                }
                RecordingOutcome {
                    file: active.file,
                    duration: recording.file.duration,
                    bytes: recording.file.bytes,
                    sha256: Some(recording.file.sha256_hex()),
                    paused: active.paused,
                    error: None,
                    disk_full: false,
                }
            }
            Err(error) => {
                if !active.failed {
                    self.failed(key, &error);
                }
                RecordingOutcome {
                    paused: active.paused,
                    ..failed_outcome(active.file, &error)
                }
            }
        };
        self.finish(key, outcome);
    }

    fn finish(&self, key: &str, outcome: RecordingOutcome) {
        let _ = self.finished.send(RecordingNews::Finished {
            call_id: key.to_owned(),
            outcome,
            at: chrono::Utc::now(),
        });
    }

    /// A write failed: said once per recording, as an alert; the call goes on.
    fn failed(&self, key: &Arc<str>, error: &WavError) {
        let disk_full = error.is_disk_full();
        metrics::counter!("madoguchi_recording_failures_total",
            "cause" => if disk_full { "disk_full" } else { "io" })
        .increment(1);
        // The key is the call id: no personal data.
        tracing::error!(call = %key, %error, disk_full, "call recording stopped");
        let _ = self.events.send(MediaEvent::RecordingFailed {
            key: key.to_string(),
            disk_full,
        });
    }
}

/// A recording that could not be written (at all, or to its end).
fn failed_outcome(file: PathBuf, error: &WavError) -> RecordingOutcome {
    RecordingOutcome {
        file,
        duration: Duration::ZERO,
        bytes: 0,
        sha256: None,
        paused: Vec::new(),
        error: Some(error.to_string()),
        disk_full: error.is_disk_full(),
    }
}

fn span_durations(start: u64, end: u64) -> (Duration, Duration) {
    (
        madoguchi_recording::clock::duration_of(start),
        madoguchi_recording::clock::duration_of(end),
    )
}
