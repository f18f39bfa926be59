//! From a browser's offer to the answer: which G.711 law, and a sans-IO peer connection set up
//! to answer with exactly that codec (plus telephone-event), ICE-lite and one host candidate.

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
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::sdp::SessionDescription;

use super::WebRtcError;

/// RFC 4733 events are negotiated at the G.711 clock rate only.
const TELEPHONE_EVENT_RATE: u32 = 8000;

/// A peer connection with its answer applied, and what it agreed on.
pub(super) struct Negotiated {
    pub(super) peer: RTCPeerConnection,
    /// The sender of our audio track.
    pub(super) sender: RTCRtpSenderId,
    /// The SSRC our track announced; packets to the browser are rewritten to it.
    pub(super) ssrc: u32,
    pub(super) codec: Codec,
    pub(super) payload_type: u8,
    pub(super) telephone_event_pt: Option<u8>,
    pub(super) answer: String,
}

/// What the offer's audio section carries, as far as this leg cares.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct OfferedAudio {
    pub(super) pcmu: bool,
    pub(super) pcma: bool,
    pub(super) telephone_event: bool,
}

impl OfferedAudio {
    /// PCMU when offered, else PCMA: the trunk side is µ-law in Japan, so PCMU most often
    /// bridges without transcoding.
    pub(super) fn choice(&self) -> Option<Codec> {
        if self.pcmu {
            Some(Codec::Pcmu)
        } else if self.pcma {
            Some(Codec::Pcma)
        } else {
            None
        }
    }
}

/// Reads the first audio section's codecs: `a=rtpmap` lines, and the static payload types 0
/// and 8 listed without one (RFC 3551 §6).
pub(super) fn offered_audio(sdp: &SessionDescription) -> Result<OfferedAudio, WebRtcError> {
    let audio = sdp
        .media_descriptions
        .iter()
        .find(|media| media.media_name.media.eq_ignore_ascii_case("audio"))
        .ok_or(WebRtcError::NoAudio)?;
    let mut offered = OfferedAudio::default();
    let mapped: Vec<(&str, &str)> = audio
        .attributes
        .iter()
        .filter(|attribute| attribute.key == "rtpmap")
        .filter_map(|attribute| attribute.value.as_deref())
        .filter_map(|value| value.split_once(' '))
        .collect();
    for format in &audio.media_name.formats {
        let encoding = mapped
            .iter()
            .find(|(pt, _)| pt == format)
            .map(|(_, encoding)| encoding.to_ascii_lowercase());
        match (format.as_str(), encoding.as_deref()) {
            (_, Some("pcmu/8000")) | ("0", None) => offered.pcmu = true,
            (_, Some("pcma/8000")) | ("8", None) => offered.pcma = true,
            (_, Some("telephone-event/8000")) => offered.telephone_event = true,
            _ => {}
        }
    }
    Ok(offered)
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
        // The offer's number wins in the answer; this one only registers the codec.
        payload_type: 101,
    }
}

/// Builds the peer connection for `offer` with its host candidate at `local`, and the answer.
pub(super) fn answer(offer: &str, local: SocketAddr) -> Result<Negotiated, WebRtcError> {
    let now = Instant::now();
    let description =
        RTCSessionDescription::offer(offer.to_owned()).map_err(WebRtcError::InvalidOffer)?;
    let offered = offered_audio(&description.unmarshal().map_err(WebRtcError::InvalidOffer)?)?;
    let codec = offered.choice().ok_or(WebRtcError::NoCommonCodec)?;

    // Only the chosen law is registered, so the answer cannot leave the choice to the browser.
    let mut media = MediaEngine::default();
    media
        .register_codec(g711_codec(codec), RtpCodecKind::Audio)
        .map_err(WebRtcError::Negotiation)?;
    if offered.telephone_event {
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
    peer.set_remote_description(now, description)
        .map_err(WebRtcError::InvalidOffer)?;

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
        .map_err(WebRtcError::Negotiation)?;

    let answer = peer.create_answer(None).map_err(WebRtcError::Negotiation)?;
    peer.set_local_description(now, answer)
        .map_err(WebRtcError::Negotiation)?;
    let answer = peer
        .local_description()
        .map(|description| description.sdp)
        .ok_or(WebRtcError::Negotiation(
            rtc::shared::error::Error::ErrPeerConnLocalDescriptionNil,
        ))?;

    let (payload_type, telephone_event_pt) = negotiated_payload_types(&mut peer, sender, codec)?;
    Ok(Negotiated {
        peer,
        sender,
        ssrc,
        codec,
        payload_type,
        telephone_event_pt,
        answer,
    })
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
