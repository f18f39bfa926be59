//! The leg as the offerer, for browser SIP phones: what our offer says, audio both ways once
//! a `webrtc`-crate phone answers it, and answers that cannot be taken.

use std::net::{IpAddr, Ipv4Addr};

use tokio::net::UdpSocket;

use super::peer::{Offering, Peer, GUARD};
use super::{audio, tone, LOOPBACK};
use crate::net::webrtc::{offer_on, LegState, PendingOffer, WebRtcError};
use madoguchi_media::Codec;

async fn loopback_socket() -> UdpSocket {
    UdpSocket::bind((LOOPBACK, 0))
        .await
        .expect("a loopback port")
}

async fn offered(codec: Codec) -> (PendingOffer, String, u16) {
    let socket = loopback_socket().await;
    let port = socket.local_addr().expect("bound").port();
    let (pending, sdp) = offer_on(socket, LOOPBACK, codec).expect("an offer");
    (pending, sdp, port)
}

fn audio_line(sdp: &str) -> &str {
    sdp.lines()
        .find(|line| line.starts_with("m=audio "))
        .unwrap_or_else(|| panic!("an audio section: {sdp}"))
}

#[tokio::test]
async fn the_offer_has_the_one_law_asked_for_and_telephone_event() {
    let (_, sdp, _) = offered(Codec::Pcma).await;
    let formats: Vec<&str> = audio_line(&sdp).split_whitespace().skip(3).collect();
    assert_eq!(formats, ["8", "101"], "{sdp}");
    assert!(sdp.contains("a=rtpmap:101 telephone-event/8000"), "{sdp}");
    assert!(
        audio_line(&sdp).contains(" UDP/TLS/RTP/SAVPF "),
        "DTLS-SRTP: {sdp}"
    );
}

#[tokio::test]
async fn the_offer_is_ice_lite_with_our_host_candidate_and_leaves_the_dtls_role_to_the_browser() {
    let (_, sdp, port) = offered(Codec::Pcmu).await;
    assert!(sdp.contains("a=ice-lite"), "{sdp}");
    assert!(
        sdp.lines().any(|line| line.starts_with("a=candidate:")
            && line.contains(&format!("127.0.0.1 {port} typ host"))),
        "{sdp}"
    );
    assert!(sdp.contains("a=setup:actpass"), "{sdp}");
    assert!(sdp.contains("a=fingerprint:sha-256 "), "{sdp}");
}

#[tokio::test]
async fn an_unspecified_candidate_address_is_refused() {
    let socket = loopback_socket().await;
    let refused = offer_on(socket, IpAddr::V4(Ipv4Addr::UNSPECIFIED), Codec::Pcmu);
    assert!(matches!(refused, Err(WebRtcError::NoCandidateAddress)));
}

#[tokio::test]
async fn an_answer_that_is_not_sdp_is_refused() {
    let (pending, _, _) = offered(Codec::Pcmu).await;
    assert!(matches!(
        pending.answer("SIP/2.0 200 OK"),
        Err(WebRtcError::InvalidAnswer(_))
    ));
}

#[tokio::test]
async fn an_answer_without_the_offered_law_is_refused() {
    let (pending, offer, _) = offered(Codec::Pcmu).await;
    // The browser's real answer, with its audio formats swapped for Opus alone.
    let (peer, answer) = Peer::answering(
        Offering {
            pcmu: true,
            pcma: false,
            telephone_event: true,
        },
        offer,
    )
    .await;
    let line = audio_line(&answer).to_owned();
    let mut parts: Vec<&str> = line.split_whitespace().take(3).collect();
    parts.push("111");
    let opus_only = answer.replace(&line, &parts.join(" "));
    assert!(matches!(
        pending.answer(&opus_only),
        Err(WebRtcError::NoCommonCodec)
    ));
    peer.close().await;
}

#[tokio::test]
async fn audio_crosses_both_ways_once_a_webrtc_phone_answers_our_offer() {
    let (pending, offer, _) = offered(Codec::Pcmu).await;
    let (mut peer, answer) = Peer::answering(
        Offering {
            pcmu: true,
            pcma: false,
            telephone_event: true,
        },
        offer,
    )
    .await;
    let mut leg = pending.answer(&answer).expect("the answer is taken");
    assert_eq!(
        (leg.codec(), leg.payload_type(), leg.telephone_event_pt()),
        (Codec::Pcmu, 0, Some(101))
    );
    let mut state = leg.state();
    tokio::time::timeout(GUARD, state.wait_for(|s| *s == LegState::Connected))
        .await
        .expect("the leg connects in time")
        .expect("the leg is alive");
    peer.connected().await;

    // Phone → leg.
    let mut heard = Vec::new();
    let mut pace = tokio::time::interval(audio::FRAME_INTERVAL);
    let mut frame = 0;
    tokio::time::timeout(GUARD, async {
        while heard.len() < audio::ANALYSED_SAMPLES {
            tokio::select! {
                _ = pace.tick() => {
                    peer.send_frame(tone::pcmu_frame(tone::CALLER_HZ, frame)).await;
                    frame += 1;
                }
                packet = leg.recv_rtp() => {
                    heard.extend(audio::pcmu_samples(&packet.expect("the leg is open")));
                }
            }
        }
    })
    .await
    .expect("RTP from the phone in time");
    audio::assert_tone(&heard, tone::CALLER_HZ, "the leg heard from the phone");

    // Leg → phone.
    let mut frames = audio::RtpFrames::new(leg.payload_type());
    let mut heard = Vec::new();
    tokio::time::timeout(GUARD, async {
        while heard.len() < audio::ANALYSED_SAMPLES {
            tokio::select! {
                _ = pace.tick() => {
                    leg.send_rtp(&frames.next(tone::FAR_END_HZ));
                }
                packet = peer.received.recv() => {
                    let packet = packet.expect("the phone is open");
                    heard.extend(packet.payload.iter().copied().map(tone::ulaw_decode));
                }
            }
        }
    })
    .await
    .expect("RTP from the leg in time");
    audio::assert_tone(&heard, tone::FAR_END_HZ, "the phone heard from the leg");

    peer.close().await;
    leg.close().await;
}
