//! The RTP media runtime: every call leg's RTP socket, one shared 20 ms tick for prompts, and
//! the relay between bridged legs.
//!
//! One task owns all streams. Each tick it sends the next prompt frame of every stream that is
//! playing, as a pre-encoded 160-byte G.711 frame behind a 12-byte header written into one
//! reused buffer: no allocation, one non-blocking `send_to` per packet, no timer per call (a
//! thread or timer per channel is what makes Asterisk heavy at scale). Each stream's socket has
//! a small reader task ([`reader`]) for symmetric RTP (RFC 4961: send to where the caller's
//! packets come from), RFC 4733 digits and, while bridged, relaying each packet into the
//! partner's stream as it arrives — not on the tick, so the bridge adds no 20 ms of delay.
//!
//! # Ownership
//! A leg's outgoing stream ([`Output`]: SSRC, sequence, timeline, negotiated format, remote) has
//! two writers: the tick while it plays prompts, the partner's reader while bridged. It lives
//! behind a mutex that each of them holds only to write one packet (never across an await or a
//! send), so sequence numbers and timestamps run on across prompt → relay → prompt without a
//! hand-over protocol. The tick reports frame times in which a leg sent nothing
//! ([`LegOutput::pass_idle`]), which keeps every timeline in real time.
//!
//! While a manager is on a call ([`monitor`]), the tick is also the writer of the three
//! supervised legs' streams: it sends each the mix its mode allows instead of the relay.
//!
//! Ticks are computed from the start instant ([`FrameClock`]), so a long announcement loop does
//! not drift; a tick that wakes late sends the frames that are due (bounded) instead of sliding.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use madoguchi_media::g711::Transcoder;
use madoguchi_media::pacing::{FrameClock, FRAME_20MS};
use madoguchi_media::relay::{LegFormat, LegOutput};
use madoguchi_media::rtp::RtpSender;
use madoguchi_media::Codec;
use madoguchi_prompts::{PromptCache, PromptId};
use madoguchi_sip::LegId;
use rand::Rng;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::engine::{MediaCommand, MediaEvent};

mod browser;
mod monitor;
mod ports;
mod reader;
pub mod recording;
mod sink;
#[cfg(test)]
mod tests;

use ports::PortPool;
use reader::{Reader, ReaderSetup, RelayTo};
use recording::{RecordTap, RecorderHandle, RecorderInput};
use sink::Sink;

/// Samples in one 20 ms G.711 frame.
const FRAME_SAMPLES: u32 = 160;
/// A frame tick this late is a gap a listener can notice (a quarter of the 20 ms frame is
/// what the benchmark's ±5 ms allows).
const TICK_LATE: std::time::Duration = std::time::Duration::from_millis(5);

/// A leg's outgoing stream and where it goes.
struct Output {
    stream: LegOutput,
    remote: Option<SocketAddr>,
}

type SharedOutput = Arc<Mutex<Output>>;

/// Locks a stream. The critical sections cannot leave it half-written (they only assign
/// fields after the packet is written), so a poisoned lock is still consistent.
fn lock(output: &Mutex<Output>) -> MutexGuard<'_, Output> {
    output.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Stream {
    sink: Sink,
    port: u16,
    output: SharedOutput,
    playing: Option<Playback>,
    /// The leg this one is bridged with.
    partner: Option<LegId>,
    /// Spawned by `Start`.
    reader: Option<Reader>,
    /// The recording this leg's received audio goes to (kept across a new reader).
    tap: Option<RecordTap>,
}

struct Playback {
    prompt: PromptId,
    playback: u32,
    next_frame: usize,
    looped: bool,
}

/// Browser audio for an operator's console, carried out by the media runtime.
pub enum WebRtcRequest {
    /// Answer the browser's SDP `offer` with a WebRTC leg known as `leg` from now on.
    Open {
        leg: LegId,
        offer: String,
        reply: tokio::sync::oneshot::Sender<Result<String, String>>,
    },
    Close {
        leg: LegId,
    },
}

/// The thread a dedicated media runtime runs on.
pub struct MediaThread {
    thread: std::thread::JoinHandle<()>,
}

impl MediaThread {
    /// Waits, at most `limit`, for the runtime to end once its command channel is closed.
    pub async fn stop(self, limit: std::time::Duration) {
        let joined = tokio::task::spawn_blocking(move || self.thread.join());
        match tokio::time::timeout(limit, joined).await {
            Ok(Ok(Ok(()))) => {}
            Ok(_) => tracing::error!("the media runtime ended with a panic"),
            Err(_) => tracing::warn!("the media runtime did not stop in time"),
        }
    }
}

pub struct MediaRuntime {
    prompts: Arc<PromptCache>,
    bind_ip: IpAddr,
    /// The address browsers are told to send to (the host candidate of WebRTC legs).
    candidate_ip: IpAddr,
    ports: PortPool,
    streams: HashMap<LegId, Stream>,
    /// Browser phones' legs between our offer and their answer, with their port.
    offers: HashMap<LegId, (crate::net::webrtc::PendingOffer, u16)>,
    events: mpsc::UnboundedSender<MediaEvent>,
    transcoder: Arc<Transcoder>,
    packet: Vec<u8>,
    /// The recorder thread, once `with_recordings` started it.
    recorder: Option<RecorderHandle>,
    recorder_thread: Option<std::thread::JoinHandle<()>>,
    /// Recordings running, with their caller and operator legs.
    recordings: HashMap<Arc<str>, [LegId; 2]>,
    /// Supervised calls by their supervisor's leg, and every leg in one of them.
    monitors: HashMap<LegId, monitor::Monitor>,
    mixed: std::collections::HashSet<LegId>,
    mix_scratch: monitor::MixScratch,
}

impl MediaRuntime {
    pub fn new(
        prompts: Arc<PromptCache>,
        bind_ip: IpAddr,
        ports: RangeInclusive<u16>,
        events: mpsc::UnboundedSender<MediaEvent>,
    ) -> MediaRuntime {
        MediaRuntime {
            prompts,
            bind_ip,
            candidate_ip: bind_ip,
            ports: PortPool::new(ports),
            streams: HashMap::new(),
            offers: HashMap::new(),
            events,
            transcoder: Arc::new(Transcoder::new()),
            packet: vec![0u8; 12 + 1024],
            recorder: None,
            recorder_thread: None,
            recordings: HashMap::new(),
            monitors: HashMap::new(),
            mixed: std::collections::HashSet::new(),
            mix_scratch: monitor::MixScratch::new(),
        }
    }

    /// Records calls into `folder` (files relative to it), on a recorder thread of its own
    /// that tells `finished` how each recording ended.
    pub fn with_recordings(
        mut self,
        folder: std::path::PathBuf,
        finished: mpsc::UnboundedSender<crate::engine::RecordingNews>,
    ) -> std::io::Result<MediaRuntime> {
        let (handle, thread) = recording::spawn(folder, self.events.clone(), finished)?;
        self.recorder = Some(handle);
        self.recorder_thread = Some(thread);
        Ok(self)
    }

    /// Browsers are told to send to `ip` (the public media address when listening on all).
    pub fn with_candidate_ip(mut self, ip: IpAddr) -> MediaRuntime {
        self.candidate_ip = ip;
        self
    }

    /// Runs on a tokio runtime of its own, on `threads` threads named `media`, until the
    /// command channel closes. Signalling, the API and the database live on the main
    /// runtime: a burst of work there (a thousand callers' announcements, a report query)
    /// cannot hold up the frame clock or the relay.
    pub fn spawn_dedicated(
        mut self,
        commands: mpsc::UnboundedReceiver<MediaCommand>,
        webrtc: mpsc::UnboundedReceiver<WebRtcRequest>,
        threads: u16,
    ) -> std::io::Result<MediaThread> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(usize::from(threads.max(1)))
            .thread_name("media")
            .enable_all()
            .build()?;
        let recorder = self.recorder_thread.take();
        let thread = std::thread::Builder::new()
            .name("media-main".to_owned())
            .spawn(move || {
                runtime.block_on(self.run(commands, webrtc));
                // Dropping the runtime here ends the readers with it, and their taps: the
                // recorder closes the files still open and ends.
                drop(runtime);
                if let Some(recorder) = recorder {
                    let _ = recorder.join();
                }
            })?;
        Ok(MediaThread { thread })
    }

    /// Runs until the command channel closes.
    pub async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<MediaCommand>,
        mut webrtc: mpsc::UnboundedReceiver<WebRtcRequest>,
    ) {
        let mut clock = FrameClock::new(Instant::now().into_std(), FRAME_20MS);
        loop {
            let deadline = Instant::from_std(clock.next_deadline());
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                Some(request) = webrtc.recv() => self.handle_webrtc(request).await,
                _ = tokio::time::sleep_until(deadline) => {
                    let woke = Instant::now();
                    // Every stream's audio waits for this wake-up: its lateness is the jitter
                    // the engine adds, whatever the cause (a busy runtime, a descheduled
                    // process).
                    let late = woke.saturating_duration_since(deadline);
                    // Counters, not a histogram: an unscraped histogram keeps every sample.
                    if late >= TICK_LATE {
                        metrics::counter!("madoguchi_rtp_ticks_late_total").increment(1);
                    }
                    if late >= FRAME_20MS {
                        metrics::counter!("madoguchi_rtp_ticks_over_a_frame_late_total").increment(1);
                    }
                    let due = clock.due_frames(woke.into_std());
                    if due.skipped > 0 {
                        metrics::counter!("madoguchi_rtp_frames_skipped_total").increment(due.skipped);
                        self.skip(due.skipped);
                    }
                    for _ in due.frames() {
                        self.tick();
                    }
                }
            }
        }
    }

    async fn handle(&mut self, command: MediaCommand) {
        match command {
            MediaCommand::Open { leg } => self.open(leg).await,
            MediaCommand::OpenWebRtc { leg, codec } => self.offer_browser(leg, codec).await,
            MediaCommand::AnswerWebRtc { leg, answer } => self.answer_browser(leg, &answer),
            MediaCommand::Start {
                leg,
                remote,
                codec,
                payload_type,
                telephone_event_pt,
            } => self.start(
                leg,
                remote,
                LegFormat {
                    codec,
                    payload_type,
                    telephone_event_pt,
                },
            ),
            MediaCommand::Play {
                leg,
                prompt,
                playback,
                looped,
            } => {
                if let Some(stream) = self.streams.get_mut(&leg) {
                    stream.playing = Some(Playback {
                        prompt,
                        playback,
                        next_frame: 0,
                        looped,
                    });
                    lock(&stream.output).stream.prompt_playing = true;
                }
            }
            MediaCommand::StopPlayback { leg } => self.stop_playback(leg),
            MediaCommand::SetSending { leg, sending } => {
                if let Some(stream) = self.streams.get(&leg) {
                    lock(&stream.output).stream.sending = sending;
                }
            }
            MediaCommand::Bridge { a, b } => self.bridge(a, b),
            MediaCommand::Unbridge { leg } => self.unbridge(leg),
            MediaCommand::Close { leg } => self.close(leg),
            MediaCommand::StartRecording {
                key,
                caller,
                operator,
                file,
            } => self.start_recording(key, [caller, operator], file),
            MediaCommand::PauseRecording { key } => {
                self.to_recorder(&key, |key, at| RecorderInput::Pause { key, at });
            }
            MediaCommand::ResumeRecording { key } => {
                self.to_recorder(&key, |key, at| RecorderInput::Resume { key, at });
            }
            MediaCommand::StopRecording { key } => self.stop_recording(&key),
            MediaCommand::Monitor {
                caller,
                operator,
                supervisor,
                mode,
            } => self.monitor(caller, operator, supervisor, mode),
            MediaCommand::SetMonitorMode { supervisor, mode } => {
                self.set_monitor_mode(supervisor, mode);
            }
            MediaCommand::Unmonitor { supervisor } => self.unmonitor(supervisor),
            MediaCommand::UsePrompts(prompts) => self.prompts = prompts.0,
        }
    }

    fn start_recording(&mut self, key: String, legs: [LegId; 2], file: std::path::PathBuf) {
        let key: Arc<str> = Arc::from(key);
        let Some(recorder) = self.recorder.clone() else {
            tracing::warn!(call = %key, "recording asked for, but no recordings folder is set");
            return;
        };
        if self.recordings.contains_key(&key) {
            return;
        }
        recorder.send(RecorderInput::Start {
            key: Arc::clone(&key),
            file,
            at: std::time::Instant::now(),
        });
        let channels = [
            madoguchi_recording::Channel::Caller,
            madoguchi_recording::Channel::Operator,
        ];
        for (leg, channel) in legs.into_iter().zip(channels) {
            self.set_tap(
                leg,
                Some(RecordTap {
                    key: Arc::clone(&key),
                    channel,
                    recorder: recorder.clone(),
                }),
            );
        }
        self.recordings.insert(key, legs);
    }

    fn stop_recording(&mut self, key: &str) {
        let Some((key, legs)) = self.recordings.remove_entry(key) else {
            return;
        };
        for leg in legs {
            self.set_tap(leg, None);
        }
        if let Some(recorder) = &self.recorder {
            recorder.send(RecorderInput::Stop {
                key,
                at: std::time::Instant::now(),
            });
        }
    }

    /// Sends `input` for the recording `key` with the instant of now.
    fn to_recorder(
        &self,
        key: &str,
        input: impl FnOnce(Arc<str>, std::time::Instant) -> RecorderInput,
    ) {
        let (Some(recorder), Some((key, _))) = (&self.recorder, self.recordings.get_key_value(key))
        else {
            return;
        };
        recorder.send(input(Arc::clone(key), std::time::Instant::now()));
    }

    fn set_tap(&mut self, leg: LegId, tap: Option<RecordTap>) {
        if let Some(stream) = self.streams.get_mut(&leg) {
            if let Some(reader) = &stream.reader {
                reader.record(tap.clone());
            }
            stream.tap = tap;
        }
    }

    async fn handle_webrtc(&mut self, request: WebRtcRequest) {
        match request {
            WebRtcRequest::Open { leg, offer, reply } => {
                let _ = reply.send(self.open_browser(leg, &offer).await);
            }
            WebRtcRequest::Close { leg } => self.close(leg),
        }
    }

    fn close(&mut self, leg: LegId) {
        // A recording of this leg ends with it (the engine's own stop then finds nothing).
        let recorded: Vec<Arc<str>> = self
            .recordings
            .iter()
            .filter(|(_, legs)| legs.contains(&leg))
            .map(|(key, _)| Arc::clone(key))
            .collect();
        for key in recorded {
            self.stop_recording(&key);
        }
        self.unmonitor_leg(leg);
        self.unbridge(leg);
        // Dropping the stream stops its reader (and a browser's connection with it).
        if let Some(stream) = self.streams.remove(&leg) {
            self.ports.release(stream.port);
        }
        if let Some((_, port)) = self.offers.remove(&leg) {
            self.ports.release(port);
        }
    }

    async fn open(&mut self, leg: LegId) {
        let Some((socket, port)) = self.ports.bind(self.bind_ip).await else {
            tracing::warn!("no free RTP port in the configured range");
            let _ = self.events.send(MediaEvent::OpenFailed { leg });
            return;
        };
        let sender = RtpSender::from_seed(rand::thread_rng().gen());
        let output = Output {
            stream: LegOutput::new(sender, LegFormat::new(Codec::Pcmu)),
            remote: None,
        };
        self.streams.insert(
            leg,
            Stream {
                sink: Sink::Udp(Arc::new(socket)),
                port,
                output: Arc::new(Mutex::new(output)),
                playing: None,
                partner: None,
                reader: None,
                tap: None,
            },
        );
        let _ = self.events.send(MediaEvent::Opened { leg, port });
    }

    fn start(&mut self, leg: LegId, remote: Option<SocketAddr>, format: LegFormat) {
        let Some(stream) = self.streams.get_mut(&leg) else {
            return;
        };
        {
            let mut output = lock(&stream.output);
            output.stream.format = format;
            if remote.is_some() {
                output.remote = remote;
            }
        }
        // A browser leg's reader runs from its opening: its transport is its own.
        let Sink::Udp(socket) = &stream.sink else {
            return;
        };
        // A fresh reader latches afresh (the far end may have moved with the new session).
        stream.reader = Some(Reader::spawn(ReaderSetup {
            leg,
            socket: Arc::clone(socket),
            own: Arc::clone(&stream.output),
            signalled: remote,
            format,
            events: self.events.clone(),
            transcoder: Arc::clone(&self.transcoder),
        }));
        if let (Some(reader), Some(tap)) = (&stream.reader, &stream.tap) {
            reader.record(Some(tap.clone()));
        }
        let partner = stream.partner;
        if partner.is_some() {
            self.point_reader(leg, partner);
        }
        if self.mixed.contains(&leg) {
            self.remix(leg);
        }
    }

    fn stop_playback(&mut self, leg: LegId) {
        if let Some(stream) = self.streams.get_mut(&leg) {
            stream.playing = None;
            lock(&stream.output).stream.prompt_playing = false;
        }
    }

    fn bridge(&mut self, a: LegId, b: LegId) {
        if a == b || !self.streams.contains_key(&a) || !self.streams.contains_key(&b) {
            tracing::debug!(
                ?a,
                ?b,
                "bridge of an unknown leg or of a leg with itself ignored"
            );
            return;
        }
        self.unbridge(a);
        self.unbridge(b);
        for (leg, partner) in [(a, b), (b, a)] {
            self.stop_playback(leg);
            if let Some(stream) = self.streams.get_mut(&leg) {
                stream.partner = Some(partner);
            }
        }
        self.point_reader(a, Some(b));
        self.point_reader(b, Some(a));
        tracing::debug!(?a, ?b, "legs bridged");
    }

    fn unbridge(&mut self, leg: LegId) {
        let Some(partner) = self.streams.get_mut(&leg).and_then(|s| s.partner.take()) else {
            return;
        };
        if let Some(stream) = self.streams.get_mut(&partner) {
            stream.partner = None;
        }
        self.point_reader(leg, None);
        self.point_reader(partner, None);
        tracing::debug!(?leg, ?partner, "legs unbridged");
    }

    /// Tells `from`'s reader to relay to `to` (or to stop). A leg not started yet has no
    /// reader; `start` points it once it has one.
    fn point_reader(&self, from: LegId, to: Option<LegId>) {
        let Some(reader) = self.streams.get(&from).and_then(|s| s.reader.as_ref()) else {
            return;
        };
        let path = to.and_then(|to| self.streams.get(&to)).map(|s| RelayTo {
            output: Arc::clone(&s.output),
            sink: s.sink.clone(),
        });
        reader.relay(path);
    }

    /// The frame clock skipped frames (the runtime woke far too late): prompts move on by as
    /// much audio as the caller missed, and timestamps show the gap.
    fn skip(&mut self, frames: u64) {
        let samples = u32::try_from(frames)
            .unwrap_or(u32::MAX)
            .saturating_mul(FRAME_SAMPLES);
        let skipped = usize::try_from(frames).unwrap_or(usize::MAX);
        self.skip_monitors(frames);
        for stream in self.streams.values_mut() {
            lock(&stream.output).stream.pass_idle(samples);
            if let Some(playback) = stream.playing.as_mut() {
                let length = self.prompts.get(playback.prompt).frames();
                playback.next_frame = if playback.looped && length > 0 {
                    (playback.next_frame % length + skipped % length) % length
                } else {
                    playback
                        .next_frame
                        .saturating_add(skipped)
                        .min(length.saturating_sub(1))
                };
            }
        }
    }

    /// One 20 ms frame for every stream.
    ///
    /// A prompt's end is reported with its last frame, so the core's next `Play` arrives
    /// before the next tick and back-to-back prompts leave no gap in the stream.
    fn tick(&mut self) {
        // Supervised legs get their mix first; below, only a prompt still plays to them.
        self.tick_monitors();
        for (leg, stream) in self.streams.iter_mut() {
            if stream.playing.is_none() && self.mixed.contains(leg) {
                continue;
            }
            let mut output = lock(&stream.output);
            let mut frame = None;
            if let Some(playback) = stream.playing.as_mut() {
                let prompt = self.prompts.get(playback.prompt);
                frame = prompt.frame(output.stream.format.codec, playback.next_frame);
                playback.next_frame += 1;
                if playback.next_frame >= prompt.frames() {
                    if playback.looped {
                        playback.next_frame = 0;
                    } else {
                        let finished = playback.playback;
                        stream.playing = None;
                        output.stream.prompt_playing = false;
                        let _ = self.events.send(MediaEvent::PromptFinished {
                            leg: *leg,
                            playback: finished,
                        });
                    }
                }
            }
            send_frame(&stream.sink, output, frame, &mut self.packet);
        }
    }
}

/// One 20 ms frame time of a stream: `frame` (encoded in its format) sent to its far end, or,
/// silent, on hold, not yet known where to send, or relaying (which resets this with every
/// packet), the time passed idle. The lock is let go before the send.
fn send_frame(
    sink: &Sink,
    mut output: MutexGuard<'_, Output>,
    frame: Option<&[u8]>,
    packet: &mut [u8],
) {
    let written = match (frame, output.remote, output.stream.sending) {
        (Some(frame), Some(remote), true) => output
            .stream
            .write_audio(frame, packet)
            .ok()
            .map(|len| (remote, len)),
        _ => None,
    };
    match written {
        Some((remote, len)) => {
            drop(output);
            if !sink.send(&packet[..len], remote) {
                metrics::counter!("madoguchi_rtp_send_errors_total").increment(1);
            }
        }
        None => output.stream.pass_idle(FRAME_SAMPLES),
    }
}
