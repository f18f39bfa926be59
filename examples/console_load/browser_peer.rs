//! A browser's side of the console audio, played by the `webrtc` crate: full ICE on
//! 127.0.0.1, DTLS-SRTP, an offer shaped like Chromium's (Opus first, then PCMU, PCMA and
//! telephone-event, candidates gathered into the SDP), and a microphone that echoes.
//!
//! Like a browser's microphone track, the peer sends one 20 ms PCMU frame every 20 ms from
//! the moment it is connected, call or no call. Each frame carries the payload of the latest
//! packet the engine sent since the previous frame (the caller's audio, so the caller hears
//! itself through the whole path), or µ-law silence when none came. The echo must not wait
//! for the caller: the engine sends a caller nothing while a console answers, and the
//! callers' RTP stand-ins (scripts/rtp_talkers.py) speak only once they are spoken to.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use rtc::media_stream::MediaStreamTrack;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::sync::watch;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
};

use crate::tally::RtpCount;

/// PCMU's static payload type: what the engine answers when the offer has it, and what the
/// echo is sent as.
const PCMU: u8 = 0;
/// Candidate gathering on loopback takes milliseconds; this only bounds a broken run.
const GATHERING: Duration = Duration::from_secs(10);
/// One frame of 8 kHz audio.
const FRAME: Duration = Duration::from_millis(20);
const SAMPLES_PER_FRAME: u32 = 160;
/// µ-law silence (the code of a zero sample).
const ULAW_SILENCE: u8 = 0xFF;

fn codec(
    mime_type: &str,
    clock_rate: u32,
    channels: u16,
    payload_type: u8,
) -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: mime_type.to_owned(),
            clock_rate,
            channels,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![],
        },
        payload_type,
    }
}

/// Chromium's audio formats, in its order of preference.
fn offered_codecs() -> Vec<RTCRtpCodecParameters> {
    vec![
        codec("audio/opus", 48_000, 2, 111),
        codec("audio/PCMU", 8000, 0, PCMU),
        codec("audio/PCMA", 8000, 0, 8),
        codec("audio/telephone-event", 8000, 0, 126),
    ]
}

/// The newest payload the engine sent, waiting for the next frame of the microphone.
type EchoSlot = Arc<Mutex<Option<Bytes>>>;

/// The peer's callbacks: connection progress into watch channels, received audio into the
/// echo slot.
struct Events {
    gathering: watch::Sender<RTCIceGatheringState>,
    connection: watch::Sender<RTCPeerConnectionState>,
    echo: EchoSlot,
    rtp: Arc<RtpCount>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Events {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.gathering.send_replace(state);
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.connection.send_replace(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let echo = Arc::clone(&self.echo);
        let rtp = Arc::clone(&self.rtp);
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                    rtp.received.fetch_add(1, Ordering::Relaxed);
                    *echo.lock().unwrap_or_else(|p| p.into_inner()) = Some(packet.payload);
                }
            }
        });
    }
}

/// The microphone: a frame every 20 ms, the echo when there is one, until the peer closes.
async fn speak(track: Arc<TrackLocalStaticRTP>, ssrc: u32, echo: EchoSlot, rtp: Arc<RtpCount>) {
    let silence = Bytes::from(vec![ULAW_SILENCE; SAMPLES_PER_FRAME as usize]);
    let mut pace = tokio::time::interval(FRAME);
    // A late tick is sent late, not followed by a burst: a browser's capture clock does so.
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut frame: u32 = 0;
    loop {
        pace.tick().await;
        let echoed = echo.lock().unwrap_or_else(|p| p.into_inner()).take();
        let is_echo = echoed.is_some();
        let packet = rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                payload_type: PCMU,
                // The low 16 bits of the frame count; wrapping is RTP's.
                sequence_number: frame as u16,
                timestamp: frame.wrapping_mul(SAMPLES_PER_FRAME),
                ssrc,
                ..Default::default()
            },
            payload: echoed.unwrap_or_else(|| silence.clone()),
        };
        frame = frame.wrapping_add(1);
        match track.write_rtp(packet).await {
            Ok(()) => {
                rtp.sent.fetch_add(1, Ordering::Relaxed);
                if is_echo {
                    rtp.echoed.fetch_add(1, Ordering::Relaxed);
                }
            }
            // Before the track is bound a frame is lost, as on a network; once the peer
            // connection is closed the microphone stops.
            Err(_) if rtp.sent.load(Ordering::Relaxed) == 0 => continue,
            Err(_) => return,
        }
    }
}

pub struct BrowserPeer {
    connection: Box<dyn PeerConnection>,
    state: watch::Receiver<RTCPeerConnectionState>,
    microphone: tokio::task::JoinHandle<()>,
    /// What this peer received, sent and echoed.
    pub rtp: Arc<RtpCount>,
}

impl BrowserPeer {
    /// Builds the peer and its complete offer (candidates gathered, as the console sends it).
    pub async fn offer(ssrc: u32) -> Result<(BrowserPeer, String), String> {
        let mut media = MediaEngine::default();
        for codec in offered_codecs() {
            media
                .register_codec(codec, RtpCodecKind::Audio)
                .map_err(|e| format!("codec: {e}"))?;
        }
        let microphone = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            format!("console-{ssrc:08x}"),
            format!("microphone-{ssrc:08x}"),
            "microphone".to_owned(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                active: true,
                codec: codec("audio/PCMU", 8000, 0, PCMU).rtp_codec,
                ..Default::default()
            }],
        )));
        let (gathering_tx, mut gathering) = watch::channel(RTCIceGatheringState::New);
        let (connection_tx, state) = watch::channel(RTCPeerConnectionState::New);
        let rtp = Arc::new(RtpCount::default());
        let echo = EchoSlot::default();
        let connection = PeerConnectionBuilder::new()
            .with_media_engine(media)
            .with_handler(Arc::new(Events {
                gathering: gathering_tx,
                connection: connection_tx,
                echo: Arc::clone(&echo),
                rtp: Arc::clone(&rtp),
            }))
            .with_udp_addrs(vec!["127.0.0.1:0"])
            .build()
            .await
            .map_err(|e| format!("peer: {e}"))?;
        connection
            .add_track(Arc::clone(&microphone) as Arc<dyn TrackLocal>)
            .await
            .map_err(|e| format!("add track: {e}"))?;
        let offer = connection
            .create_offer(None)
            .await
            .map_err(|e| format!("create offer: {e}"))?;
        connection
            .set_local_description(offer)
            .await
            .map_err(|e| format!("set local description: {e}"))?;
        tokio::time::timeout(
            GATHERING,
            gathering.wait_for(|state| *state == RTCIceGatheringState::Complete),
        )
        .await
        .map_err(|_| "candidate gathering did not complete".to_owned())?
        .map_err(|_| "peer gone while gathering".to_owned())?;
        let offer = connection
            .local_description()
            .await
            .ok_or("no local description after gathering")?
            .sdp;
        let microphone = tokio::spawn(speak(microphone, ssrc, echo, Arc::clone(&rtp)));
        let peer = BrowserPeer {
            connection: Box::new(connection),
            state,
            microphone,
            rtp,
        };
        Ok((peer, offer))
    }

    /// Applies the engine's `media_answer`.
    pub async fn accept(&self, sdp: String) -> Result<(), String> {
        let answer = RTCSessionDescription::answer(sdp).map_err(|e| format!("answer: {e}"))?;
        self.connection
            .set_remote_description(answer)
            .await
            .map_err(|e| format!("set remote description: {e}"))
    }

    /// Waits until ICE and DTLS are through.
    pub async fn connected(&mut self, within: Duration) -> Result<(), String> {
        let reached = tokio::time::timeout(
            within,
            self.state.wait_for(|state| {
                matches!(
                    state,
                    RTCPeerConnectionState::Connected
                        | RTCPeerConnectionState::Failed
                        | RTCPeerConnectionState::Closed
                )
            }),
        )
        .await
        .map_err(|_| format!("not connected within {} s", within.as_secs()))?
        .map_err(|_| "peer gone while connecting".to_owned())?;
        match *reached {
            RTCPeerConnectionState::Connected => Ok(()),
            other => Err(format!("connection {other}")),
        }
    }

    /// Whether the connection has failed or closed since it was up.
    pub fn broken(&self) -> bool {
        matches!(
            *self.state.borrow(),
            RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed
        )
    }

    pub async fn close(self) {
        self.microphone.abort();
        let _ = self.connection.close().await;
    }
}
