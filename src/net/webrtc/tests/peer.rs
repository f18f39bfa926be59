//! A browser stand-in built on the `webrtc` crate's async layer: full ICE, offers audio the
//! way Chromium does (Opus first, then PCMU/PCMA and telephone-event), sends and receives RTP.

use std::sync::Arc;
use std::time::Duration;

use rtc::media_stream::MediaStreamTrack;
use rtc::rtp;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::sync::{mpsc, watch};
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCIceGatheringState, RTCPeerConnectionState, RTCSessionDescription,
};

/// Waits this long at most for anything a test awaits.
pub(super) const GUARD: Duration = Duration::from_secs(20);

/// The stand-in's sending SSRC.
const SSRC: u32 = 0x5EED_0001;

struct Handler {
    gathering: watch::Sender<RTCIceGatheringState>,
    connection: watch::Sender<RTCPeerConnectionState>,
    received: mpsc::UnboundedSender<rtp::Packet>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        self.gathering.send_replace(state);
    }

    async fn on_connection_state_change(&self, state: RTCPeerConnectionState) {
        self.connection.send_replace(state);
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let received = self.received.clone();
        tokio::spawn(async move {
            while let Some(event) = track.poll().await {
                if let TrackRemoteEvent::OnRtpPacket(packet) = event {
                    if received.send(packet).is_err() {
                        break;
                    }
                }
            }
        });
    }
}

/// Which audio codecs the stand-in offers, in its order of preference.
pub(super) struct Offering {
    pub(super) pcmu: bool,
    pub(super) pcma: bool,
    pub(super) telephone_event: bool,
}

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

pub(super) struct Peer {
    connection: Box<dyn PeerConnection>,
    track: Arc<TrackLocalStaticRTP>,
    pub(super) state: watch::Receiver<RTCPeerConnectionState>,
    pub(super) received: mpsc::UnboundedReceiver<rtp::Packet>,
    payload_type: u8,
    sequence: u16,
}

impl Peer {
    /// Builds the stand-in and its complete (non-trickle) offer.
    pub(super) async fn offer(offering: Offering) -> (Peer, String) {
        let (peer, mut gathering) = Peer::build(offering).await;
        let offer = peer
            .connection
            .create_offer(None)
            .await
            .expect("the stand-in offers");
        peer.connection
            .set_local_description(offer)
            .await
            .expect("the stand-in applies its offer");
        let offer = peer.complete_description(&mut gathering).await;
        (peer, offer)
    }

    /// Builds the stand-in as a browser phone does when our INVITE arrives: it takes our
    /// offer and makes its complete (non-trickle) answer, as JsSIP puts in its 200 OK.
    pub(super) async fn answering(offering: Offering, offer: String) -> (Peer, String) {
        let (peer, mut gathering) = Peer::build(offering).await;
        let offer = RTCSessionDescription::offer(offer).expect("the offer is SDP");
        peer.connection
            .set_remote_description(offer)
            .await
            .expect("the stand-in accepts our offer");
        let answer = peer
            .connection
            .create_answer(None)
            .await
            .expect("the stand-in answers");
        peer.connection
            .set_local_description(answer)
            .await
            .expect("the stand-in applies its answer");
        let answer = peer.complete_description(&mut gathering).await;
        (peer, answer)
    }

    /// The local description once every candidate is gathered.
    async fn complete_description(
        &self,
        gathering: &mut watch::Receiver<RTCIceGatheringState>,
    ) -> String {
        tokio::time::timeout(
            GUARD,
            gathering.wait_for(|state| *state == RTCIceGatheringState::Complete),
        )
        .await
        .expect("the stand-in gathers its candidates in time")
        .expect("the stand-in is alive");
        self.connection
            .local_description()
            .await
            .expect("the description is applied")
            .sdp
    }

    async fn build(offering: Offering) -> (Peer, watch::Receiver<RTCIceGatheringState>) {
        let mut media = MediaEngine::default();
        let mut offered = vec![codec("audio/opus", 48_000, 2, 111)];
        if offering.pcmu {
            offered.push(codec("audio/PCMU", 8000, 0, 0));
        }
        if offering.pcma {
            offered.push(codec("audio/PCMA", 8000, 0, 8));
        }
        if offering.telephone_event {
            offered.push(codec("audio/telephone-event", 8000, 0, 126));
        }
        let sending = offered
            .iter()
            .find(|c| c.payload_type != 111)
            .cloned()
            .unwrap_or_else(|| offered[0].clone());
        for codec in offered {
            media
                .register_codec(codec, RtpCodecKind::Audio)
                .expect("the test's codecs are valid");
        }
        let (gathering_tx, gathering) = watch::channel(RTCIceGatheringState::New);
        let (connection_tx, state) = watch::channel(RTCPeerConnectionState::New);
        let (received_tx, received) = mpsc::unbounded_channel();
        let connection = PeerConnectionBuilder::new()
            .with_media_engine(media)
            .with_handler(Arc::new(Handler {
                gathering: gathering_tx,
                connection: connection_tx,
                received: received_tx,
            }))
            .with_udp_addrs(vec!["127.0.0.1:0"])
            .build()
            .await
            .expect("the stand-in peer builds");
        let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
            "stand-in".to_owned(),
            "stand-in-audio".to_owned(),
            "audio".to_owned(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(SSRC),
                    ..Default::default()
                },
                active: true,
                codec: sending.rtp_codec.clone(),
                ..Default::default()
            }],
        )));
        connection
            .add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
            .await
            .expect("the stand-in adds its track");
        let peer = Peer {
            connection: Box::new(connection),
            track,
            state,
            received,
            payload_type: sending.payload_type,
            sequence: 0,
        };
        (peer, gathering)
    }

    pub(super) async fn answer(&self, sdp: String) {
        let answer = RTCSessionDescription::answer(sdp).expect("the answer is SDP");
        self.connection
            .set_remote_description(answer)
            .await
            .expect("the stand-in accepts the answer");
    }

    pub(super) async fn connected(&mut self) {
        tokio::time::timeout(
            GUARD,
            self.state
                .wait_for(|state| *state == RTCPeerConnectionState::Connected),
        )
        .await
        .expect("the stand-in connects in time")
        .expect("the stand-in is alive");
    }

    /// Sends one 20 ms frame of 8 kHz audio in its negotiated codec.
    pub(super) async fn send_frame(&mut self, payload: Vec<u8>) {
        let packet = rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                payload_type: self.payload_type,
                sequence_number: self.sequence,
                timestamp: u32::from(self.sequence).wrapping_mul(160),
                ssrc: SSRC,
                ..Default::default()
            },
            payload: payload.into(),
        };
        self.sequence = self.sequence.wrapping_add(1);
        // Before the track is bound (connection still coming up) a write fails: that frame
        // is simply lost, as on a network.
        let _ = self.track.write_rtp(packet).await;
    }

    pub(super) async fn close(self) {
        let _ = self.connection.close().await;
    }
}
