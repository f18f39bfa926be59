//! The SDP side of a leg: which G.711 law, and a sans-IO peer connection set up for exactly
//! that codec (plus telephone-event), ICE-lite and one host candidate — either answering a
//! browser's offer (the console), or offering to a browser phone and taking its answer later.

use std::net::SocketAddr;
use std::time::Instant;

use madoguchi_media::Codec;
use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::configuration::interceptor_registry::configure_rtcp_reports;
use rtc::peer_connection::configuration::media_engine::{
    MediaEngine, MIME_TYPE_PCMA, MIME_TYPE_PCMU, MIME_TYPE_TELEPHONE_EVENT,
};
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::peer_connection::{RTCPeerConnection, RTCPeerConnectionBuilder};
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use rtc::rtp_transceiver::{RTCRtpSenderId, RTCRtpTransceiverId};
use rtc::sdp::SessionDescription;

use super::WebRtcError;

/// RFC 4733 events are negotiated at the G.711 clock rate only.
const TELEPHONE_EVENT_RATE: u32 = 8000;
/// The payload type our offers give telephone-event.
const TELEPHONE_EVENT_PT: u8 = 101;

/// A peer connection with both descriptions applied, and what they agreed on.
pub(super) struct Negotiated {
    pub(super) peer: RTCPeerConnection,
    /// The sender of our audio track.
    pub(super) sender: RTCRtpSenderId,
    /// The SSRC our track announced; packets to the browser are rewritten to it.
    pub(super) ssrc: u32,
    pub(super) codec: Codec,
    pub(super) payload_type: u8,
    pub(super) telephone_event_pt: Option<u8>,
}

/// A peer connection that made its offer and waits for the answer.
pub(super) struct Offered {
    peer: RTCPeerConnection,
    sender: RTCRtpSenderId,
    ssrc: u32,
    codec: Codec,
    pub(super) offer: String,
}

/// The G.711 laws and telephone-event/8000 an audio section lists, by payload type.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct AudioFormats {
    pub(super) pcmu: Option<u8>,
    pub(super) pcma: Option<u8>,
    pub(super) telephone_event: Option<u8>,
}

impl AudioFormats {
    /// PCMU when offered, else PCMA: the trunk side is µ-law in Japan, so PCMU most often
    /// bridges without transcoding.
    pub(super) fn choice(&self) -> Option<Codec> {
        if self.pcmu.is_some() {
            Some(Codec::Pcmu)
        } else if self.pcma.is_some() {
            Some(Codec::Pcma)
        } else {
            None
        }
    }

    fn payload_type(&self, codec: Codec) -> Option<u8> {
        match codec {
            Codec::Pcmu => self.pcmu,
            Codec::Pcma => self.pcma,
        }
    }
}

/// Reads the first audio section's codecs: `a=rtpmap` lines, and the static payload types 0
/// and 8 listed without one (RFC 3551 §6). The first listing of each counts.
pub(super) fn audio_formats(sdp: &SessionDescription) -> Result<AudioFormats, WebRtcError> {
    let audio = sdp
        .media_descriptions
        .iter()
        .find(|media| media.media_name.media.eq_ignore_ascii_case("audio"))
        .ok_or(WebRtcError::NoAudio)?;
    let mut formats = AudioFormats::default();
    let mapped: Vec<(&str, &str)> = audio
        .attributes
        .iter()
        .filter(|attribute| attribute.key == "rtpmap")
        .filter_map(|attribute| attribute.value.as_deref())
        .filter_map(|value| value.split_once(' '))
        .collect();
    for format in &audio.media_name.formats {
        let Ok(payload_type) = format.parse::<u8>() else {
            continue;
        };
        let encoding = mapped
            .iter()
            .find(|(pt, _)| pt == format)
            .map(|(_, encoding)| encoding.to_ascii_lowercase());
        let slot = match (payload_type, encoding.as_deref()) {
            (_, Some("pcmu/8000")) | (0, None) => &mut formats.pcmu,
            (_, Some("pcma/8000")) | (8, None) => &mut formats.pcma,
            (_, Some("telephone-event/8000")) => &mut formats.telephone_event,
            _ => continue,
        };
        slot.get_or_insert(payload_type);
    }
    Ok(formats)
}

fn g711_codec(codec: Codec) -> RTCRtpCodecParameters {
    let (mime_type, payload_type) = match codec {
        Codec::Pcmu => (MIME_TYPE_PCMU, 0),
        Codec::Pcma => (MIME_TYPE_PCMA, 8),
    };
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: mime_type.to_owned(),
            clock_rate: 8000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![],
        },
        payload_type,
    }
}

fn telephone_event_codec() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: MIME_TYPE_TELEPHONE_EVENT.to_owned(),
            clock_rate: TELEPHONE_EVENT_RATE,
            channels: 0,
            sdp_fmtp_line: "0-15".to_owned(),
            rtcp_feedback: vec![],
        },
        // In an answer the offer's number wins; in our offers this one is used.
        payload_type: TELEPHONE_EVENT_PT,
    }
}

/// A lite peer connection for `codec` (and telephone-event when `telephone_event`), with our
/// audio track added; returns it, the track's sender and its SSRC.
fn build_peer(
    codec: Codec,
    telephone_event: bool,
    now: Instant,
) -> Result<(RTCPeerConnection, RTCRtpSenderId, u32), WebRtcError> {
    // Only the chosen law is registered, so neither side can pick another.
    let mut media = MediaEngine::default();
    media
        .register_codec(g711_codec(codec), RtpCodecKind::Audio)
        .map_err(WebRtcError::Negotiation)?;
    if telephone_event {
        media
            .register_codec(telephone_event_codec(), RtpCodecKind::Audio)
            .map_err(WebRtcError::Negotiation)?;
    }
    // Sender and receiver reports only: NACK, TWCC and simulcast serve video.
    let interceptors = configure_rtcp_reports(Registry::new());
    let settings = SettingEngineBuilder::new().with_lite(true).build();
    let mut peer = RTCPeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_media_engine(media)
        .with_setting_engine(settings)
        .with_interceptor_registry(interceptors)
        .build(now)
        .map_err(WebRtcError::Negotiation)?;

    let ssrc = rand::random::<u32>();
    let track = MediaStreamTrack::new(
        "madoguchi".to_owned(),
        "madoguchi-audio".to_owned(),
        "audio".to_owned(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            active: true,
            codec: g711_codec(codec).rtp_codec,
            ..Default::default()
        }],
    );
    let sender = peer.add_track(track).map_err(WebRtcError::Negotiation)?;
    Ok((peer, sender, ssrc))
}

/// Our one host candidate, at `local`.
fn add_host_candidate(peer: &mut RTCPeerConnection, local: SocketAddr) -> Result<(), WebRtcError> {
    let candidate = CandidateHostConfig {
        base_config: CandidateConfig {
            network: "udp".to_owned(),
            address: local.ip().to_string(),
            port: local.port(),
            component: 1,
            ..Default::default()
        },
        ..Default::default()
    }
    .new_candidate_host()
    .map_err(WebRtcError::Negotiation)?;
    let candidate = RTCIceCandidate::from(&candidate)
        .to_json()
        .map_err(WebRtcError::Negotiation)?;
    peer.add_local_candidate(candidate)
        .map_err(WebRtcError::Negotiation)
}

/// The local description as applied (with its candidate).
fn local_sdp(peer: &RTCPeerConnection) -> Result<String, WebRtcError> {
    peer.local_description()
        .map(|description| description.sdp)
        .ok_or(WebRtcError::Negotiation(
            rtc::shared::error::Error::ErrPeerConnLocalDescriptionNil,
        ))
}

/// Builds the peer connection for `offer` with its host candidate at `local`; returns it
/// with the answer.
pub(super) fn answer(offer: &str, local: SocketAddr) -> Result<(Negotiated, String), WebRtcError> {
    let now = Instant::now();
    let description =
        RTCSessionDescription::offer(offer.to_owned()).map_err(WebRtcError::InvalidOffer)?;
    let offered = audio_formats(&description.unmarshal().map_err(WebRtcError::InvalidOffer)?)?;
    let codec = offered.choice().ok_or(WebRtcError::NoCommonCodec)?;
    let (mut peer, sender, ssrc) = build_peer(codec, offered.telephone_event.is_some(), now)?;
    peer.set_remote_description(now, description)
        .map_err(WebRtcError::InvalidOffer)?;
    add_host_candidate(&mut peer, local)?;
    let answer = peer.create_answer(None).map_err(WebRtcError::Negotiation)?;
    peer.set_local_description(now, answer)
        .map_err(WebRtcError::Negotiation)?;
    let answer = local_sdp(&peer)?;

    let (payload_type, telephone_event_pt) = negotiated_payload_types(&mut peer, sender, codec)?;
    let negotiated = Negotiated {
        peer,
        sender,
        ssrc,
        codec,
        payload_type,
        telephone_event_pt,
    };
    Ok((negotiated, answer))
}

/// A peer connection offering `codec` and telephone-event/8000, with its host candidate at
/// `local`. Offering one law only, the caller's, keeps the bridge free of transcoding; every
/// browser has both.
pub(super) fn offer(codec: Codec, local: SocketAddr) -> Result<Offered, WebRtcError> {
    let now = Instant::now();
    let (mut peer, sender, ssrc) = build_peer(codec, true, now)?;
    // The track's codec alone would be offered; telephone-event is listed by preference.
    let transceiver = RTCRtpTransceiverId::from(sender);
    peer.rtp_transceiver(transceiver)
        .ok_or(WebRtcError::Negotiation(
            rtc::shared::error::Error::ErrRTPSenderNotExisted,
        ))?
        .set_codec_preferences(vec![g711_codec(codec), telephone_event_codec()])
        .map_err(WebRtcError::Negotiation)?;
    add_host_candidate(&mut peer, local)?;
    let offer = peer.create_offer(None).map_err(WebRtcError::Negotiation)?;
    peer.set_local_description(now, offer)
        .map_err(WebRtcError::Negotiation)?;
    let offer = local_sdp(&peer)?;
    Ok(Offered {
        peer,
        sender,
        ssrc,
        codec,
        offer,
    })
}

impl Offered {
    /// Applies the browser's answer. It must keep our law; telephone-event counts when it
    /// kept that too.
    pub(super) fn accept(self, answer: &str) -> Result<Negotiated, WebRtcError> {
        let Offered {
            mut peer,
            sender,
            ssrc,
            codec,
            ..
        } = self;
        let description =
            RTCSessionDescription::answer(answer.to_owned()).map_err(WebRtcError::InvalidAnswer)?;
        let answered = audio_formats(
            &description
                .unmarshal()
                .map_err(WebRtcError::InvalidAnswer)?,
        )?;
        let payload_type = answered
            .payload_type(codec)
            .ok_or(WebRtcError::NoCommonCodec)?;
        peer.set_remote_description(Instant::now(), description)
            .map_err(WebRtcError::InvalidAnswer)?;
        Ok(Negotiated {
            peer,
            sender,
            ssrc,
            codec,
            payload_type,
            telephone_event_pt: answered.telephone_event,
        })
    }
}

/// The payload types the browser's offer gave the chosen law and telephone-event.
fn negotiated_payload_types(
    peer: &mut RTCPeerConnection,
    sender: RTCRtpSenderId,
    codec: Codec,
) -> Result<(u8, Option<u8>), WebRtcError> {
    let wanted = g711_codec(codec).rtp_codec.mime_type;
    let mut sender = peer.rtp_sender(sender).ok_or(WebRtcError::Negotiation(
        rtc::shared::error::Error::ErrRTPSenderNotExisted,
    ))?;
    let codecs = &sender.get_parameters().rtp_parameters.codecs;
    let audio = codecs
        .iter()
        .find(|c| c.rtp_codec.mime_type.eq_ignore_ascii_case(&wanted))
        .map(|c| c.payload_type)
        .ok_or(WebRtcError::NoCommonCodec)?;
    let events = codecs
        .iter()
        .find(|c| {
            c.rtp_codec
                .mime_type
                .eq_ignore_ascii_case(MIME_TYPE_TELEPHONE_EVENT)
                && c.rtp_codec.clock_rate == TELEPHONE_EVENT_RATE
        })
        .map(|c| c.payload_type);
    Ok((audio, events))
}
