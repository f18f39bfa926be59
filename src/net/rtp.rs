//! The RTP media runtime: every call's RTP socket and one shared 20 ms tick.
//!
//! One task owns all streams. Each tick it sends the next prompt frame of every stream that is
//! playing, as a pre-encoded 160-byte G.711 frame behind a 12-byte header written into one
//! reused buffer: no allocation, one non-blocking `send_to` per packet, no timer per call (a
//! thread or timer per channel is what makes Asterisk heavy at scale). Each stream's socket has
//! a small reader task for symmetric RTP (RFC 4961: send to where the caller's packets come
//! from) and RFC 4733 digits.
//!
//! Ticks are computed from the start instant ([`FrameClock`]), so a long announcement loop does
//! not drift; a tick that wakes late sends the frames that are due (bounded) instead of sliding.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::Arc;

use madoguchi_media::dtmf::{DtmfEvent, DtmfReceiver};
use madoguchi_media::pacing::{FrameClock, FRAME_20MS};
use madoguchi_media::rtp::{RtpHeader, RtpSender};
use madoguchi_media::Codec;
use madoguchi_prompts::{PromptCache, PromptId};
use madoguchi_sip::LegId;
use rand::Rng;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::engine::{MediaCommand, MediaEvent};

/// Samples in one 20 ms G.711 frame.
const FRAME_SAMPLES: u32 = 160;

struct Stream {
    socket: Arc<UdpSocket>,
    port: u16,
    sender: RtpSender,
    codec: Codec,
    payload_type: u8,
    remote: Option<SocketAddr>,
    sending: bool,
    playing: Option<Playback>,
    /// Frames that went by without sending since the last packet (keeps timestamps real-time).
    idle_frames: u32,
    reader: Option<JoinHandle<()>>,
}

struct Playback {
    prompt: PromptId,
    playback: u32,
    next_frame: usize,
}

/// What a stream's reader task reports to the runtime.
enum ReaderReport {
    Source { leg: LegId, source: SocketAddr },
}

pub struct MediaRuntime {
    prompts: Arc<PromptCache>,
    bind_ip: IpAddr,
    ports: PortPool,
    streams: HashMap<LegId, Stream>,
    events: mpsc::UnboundedSender<MediaEvent>,
    reports_tx: mpsc::UnboundedSender<ReaderReport>,
    reports: mpsc::UnboundedReceiver<ReaderReport>,
    packet: Vec<u8>,
}

impl MediaRuntime {
    pub fn new(
        prompts: Arc<PromptCache>,
        bind_ip: IpAddr,
        ports: RangeInclusive<u16>,
        events: mpsc::UnboundedSender<MediaEvent>,
    ) -> MediaRuntime {
        let (reports_tx, reports) = mpsc::unbounded_channel();
        MediaRuntime {
            prompts,
            bind_ip,
            ports: PortPool::new(ports),
            streams: HashMap::new(),
            events,
            reports_tx,
            reports,
            packet: vec![0u8; 12 + 1024],
        }
    }

    /// Runs until the command channel closes.
    pub async fn run(mut self, mut commands: mpsc::UnboundedReceiver<MediaCommand>) {
        let mut clock = FrameClock::new(Instant::now().into_std(), FRAME_20MS);
        loop {
            let deadline = Instant::from_std(clock.next_deadline());
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle(command).await,
                    None => break,
                },
                Some(report) = self.reports.recv() => self.report(report),
                _ = tokio::time::sleep_until(deadline) => {
                    let due = clock.due_frames(Instant::now().into_std());
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
            MediaCommand::Open { leg } => match self.ports.bind(self.bind_ip).await {
                Some((socket, port)) => {
                    let mut rng = rand::thread_rng();
                    let sender = RtpSender::from_seed(rng.gen());
                    self.streams.insert(
                        leg,
                        Stream {
                            socket: Arc::new(socket),
                            port,
                            sender,
                            codec: Codec::Pcmu,
                            payload_type: 0,
                            remote: None,
                            sending: true,
                            playing: None,
                            idle_frames: 0,
                            reader: None,
                        },
                    );
                    let _ = self.events.send(MediaEvent::Opened { leg, port });
                }
                None => {
                    tracing::warn!("no free RTP port in the configured range");
                    let _ = self.events.send(MediaEvent::OpenFailed { leg });
                }
            },
            MediaCommand::Start {
                leg,
                remote,
                codec,
                payload_type,
                telephone_event_pt,
            } => {
                let Some(stream) = self.streams.get_mut(&leg) else {
                    return;
                };
                stream.codec = codec;
                stream.payload_type = payload_type;
                if remote.is_some() {
                    stream.remote = remote;
                }
                if let Some(reader) = stream.reader.take() {
                    reader.abort();
                }
                stream.reader = Some(tokio::spawn(read_stream(
                    leg,
                    Arc::clone(&stream.socket),
                    telephone_event_pt,
                    self.events.clone(),
                    self.reports_tx.clone(),
                )));
            }
            MediaCommand::Play {
                leg,
                prompt,
                playback,
            } => {
                if let Some(stream) = self.streams.get_mut(&leg) {
                    stream.playing = Some(Playback {
                        prompt,
                        playback,
                        next_frame: 0,
                    });
                }
            }
            MediaCommand::StopPlayback { leg } => {
                if let Some(stream) = self.streams.get_mut(&leg) {
                    stream.playing = None;
                }
            }
            MediaCommand::SetSending { leg, sending } => {
                if let Some(stream) = self.streams.get_mut(&leg) {
                    stream.sending = sending;
                }
            }
            MediaCommand::Close { leg } => {
                if let Some(mut stream) = self.streams.remove(&leg) {
                    if let Some(reader) = stream.reader.take() {
                        reader.abort();
                    }
                    self.ports.release(stream.port);
                }
            }
        }
    }

    fn report(&mut self, report: ReaderReport) {
        match report {
            ReaderReport::Source { leg, source } => {
                if let Some(stream) = self.streams.get_mut(&leg) {
                    stream.remote = Some(source);
                }
            }
        }
    }

    /// The frame clock skipped frames (the runtime woke far too late): prompts move on by as
    /// much audio as the caller missed, and timestamps show the gap.
    fn skip(&mut self, frames: u64) {
        let frames32 = u32::try_from(frames).unwrap_or(u32::MAX);
        for stream in self.streams.values_mut() {
            stream.idle_frames = stream.idle_frames.saturating_add(frames32);
            if let Some(playback) = stream.playing.as_mut() {
                let last = self.prompts.get(playback.prompt).frames().saturating_sub(1);
                playback.next_frame = (playback.next_frame + frames as usize).min(last);
            }
        }
    }

    /// One 20 ms frame for every stream.
    ///
    /// A prompt's end is reported with its last frame, so the core's next `Play` arrives
    /// before the next tick and back-to-back prompts leave no gap in the stream.
    fn tick(&mut self) {
        for (leg, stream) in self.streams.iter_mut() {
            let Some(playback) = stream.playing.as_mut() else {
                stream.idle_frames = stream.idle_frames.saturating_add(1);
                continue;
            };
            let prompt = self.prompts.get(playback.prompt);
            let frame = prompt.frame(stream.codec, playback.next_frame);
            playback.next_frame += 1;
            if playback.next_frame >= prompt.frames() {
                let finished = playback.playback;
                stream.playing = None;
                let _ = self.events.send(MediaEvent::PromptFinished {
                    leg: *leg,
                    playback: finished,
                });
            }
            match (frame, stream.remote, stream.sending) {
                (Some(frame), Some(remote), true) => {
                    if stream.idle_frames > 0 {
                        stream
                            .sender
                            .resume_after_gap(stream.idle_frames.saturating_mul(FRAME_SAMPLES));
                        stream.idle_frames = 0;
                    }
                    let len =
                        stream
                            .sender
                            .write_packet(stream.payload_type, frame, &mut self.packet);
                    if stream
                        .socket
                        .try_send_to(&self.packet[..len], remote)
                        .is_err()
                    {
                        metrics::counter!("madoguchi_rtp_send_errors_total").increment(1);
                    }
                }
                // On hold, or not yet known where to send: time still passes for the stream.
                _ => stream.idle_frames = stream.idle_frames.saturating_add(1),
            }
        }
    }
}

/// Reads a stream's socket: latches on the caller's address, de-duplicates RFC 4733 digits.
async fn read_stream(
    leg: LegId,
    socket: Arc<UdpSocket>,
    telephone_event_pt: Option<u8>,
    events: mpsc::UnboundedSender<MediaEvent>,
    reports: mpsc::UnboundedSender<ReaderReport>,
) {
    let mut buf = vec![0u8; 2048];
    let mut latched: Option<SocketAddr> = None;
    let mut dtmf = DtmfReceiver::new();
    let mut errors_in_a_row = 0u32;
    loop {
        let Ok((len, source)) = socket.recv_from(&mut buf).await else {
            // A socket that only fails would spin this task; the call keeps its audio out.
            errors_in_a_row += 1;
            if errors_in_a_row > 100 {
                tracing::debug!(?leg, "rtp socket keeps failing; no longer reading it");
                return;
            }
            continue;
        };
        errors_in_a_row = 0;
        let Ok((header, payload)) = RtpHeader::parse(&buf[..len]) else {
            metrics::counter!("madoguchi_rtp_invalid_total").increment(1);
            continue;
        };
        // Symmetric RTP latches on the first source after each (re)start; packets from any
        // other address are dropped, so a stranger cannot take over the audio or press keys.
        match latched {
            Some(latched) if latched != source => {
                metrics::counter!("madoguchi_rtp_foreign_source_total").increment(1);
                continue;
            }
            Some(_) => {}
            None => {
                latched = Some(source);
                if reports.send(ReaderReport::Source { leg, source }).is_err() {
                    return;
                }
            }
        }
        if Some(header.payload_type) == telephone_event_pt
            && dtmf.handle_packet(&header, payload).is_ok()
        {
            while let Some(DtmfEvent::Digit(digit)) = dtmf.poll_event() {
                if events.send(MediaEvent::Digit { leg, digit }).is_err() {
                    return;
                }
            }
        }
    }
}

/// RTP ports from the configured range: even numbers (RTCP would take the odd one above),
/// handed out round-robin so a just-released port is not reused at once.
struct PortPool {
    range: RangeInclusive<u16>,
    cursor: u16,
    in_use: std::collections::HashSet<u16>,
}

impl PortPool {
    fn new(range: RangeInclusive<u16>) -> PortPool {
        let first = *range.start() + (*range.start() % 2);
        PortPool {
            range,
            cursor: first,
            in_use: Default::default(),
        }
    }

    async fn bind(&mut self, ip: IpAddr) -> Option<(UdpSocket, u16)> {
        let (start, end) = (*self.range.start(), *self.range.end());
        let slots = usize::from((end - start) / 2 + 1);
        for _ in 0..slots {
            let port = self.cursor;
            self.cursor = port
                .checked_add(2)
                .filter(|next| *next <= end)
                .unwrap_or(start + (start % 2));
            if self.in_use.contains(&port) {
                continue;
            }
            // Taken by another process: try the next one.
            if let Ok(socket) = UdpSocket::bind(SocketAddr::new(ip, port)).await {
                self.in_use.insert(port);
                return Some((socket, port));
            }
        }
        None
    }

    fn release(&mut self, port: u16) {
        self.in_use.remove(&port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a range ending at 65535 overflowed the cursor past the last even port.
    #[tokio::test]
    async fn port_pool_wraps_at_the_top_of_the_port_space() {
        let mut pool = PortPool::new(65_530..=65_535);
        let ip = IpAddr::from([127, 0, 0, 1]);
        let mut ports = Vec::new();
        let mut sockets = Vec::new();
        for _ in 0..3 {
            let (socket, port) = pool.bind(ip).await.expect("a free even port");
            ports.push(port);
            sockets.push(socket);
        }
        assert_eq!(ports, [65_530, 65_532, 65_534]);
        assert!(pool.bind(ip).await.is_none(), "the range is used up");
        pool.release(65_532);
        drop(sockets.remove(1));
        let (_socket, port) = pool.bind(ip).await.expect("the released port again");
        assert_eq!(port, 65_532);
    }
}
