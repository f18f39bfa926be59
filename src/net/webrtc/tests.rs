//! Specifications of the WebRTC leg: what the answer agrees to, that audio crosses a real
//! DTLS-SRTP connection both ways (with a `webrtc`-crate peer, and with headless Chromium in
//! [`browser`]), that a leg lets go of its socket, and the leg as the offerer ([`offer`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::*;

mod audio;
mod browser;
mod offer;
mod peer;
// The project's own tone checks (Goertzel, μ-law written from the ITU tables), shared with the
// integration tests rather than copied.
#[allow(dead_code)]
#[path = "../../../tests/support/tone.rs"]
mod tone;

use peer::{Offering, Peer, GUARD};

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn loopback_config() -> WebRtcConfig {
    WebRtcConfig {
        bind_ip: LOOPBACK,
        candidate_ip: None,
        ports: 0..=0,
    }
}

/// A Chromium-shaped audio offer with the given `m=` formats and `a=rtpmap` lines.
fn offer_with(formats: &str, rtpmaps: &[&str]) -> String {
    let mut sdp = format!(
        "v=0\r\n\
         o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
         s=-\r\n\
         t=0 0\r\n\
         a=group:BUNDLE 0\r\n\
         a=msid-semantic: WMS stream\r\n\
         m=audio 9 UDP/TLS/RTP/SAVPF {formats}\r\n\
         c=IN IP4 0.0.0.0\r\n\
         a=rtcp:9 IN IP4 0.0.0.0\r\n\
         a=ice-ufrag:Hk3q\r\n\
         a=ice-pwd:2Xw4t5Ua0F0KkQ2b3sEwfJ7n\r\n\
         a=ice-options:trickle\r\n\
         a=fingerprint:sha-256 \
         5B:3C:9A:11:2F:60:8D:E4:77:01:AB:CD:EF:12:34:56:78:9A:BC:DE:F0:11:22:33:44:55:66:77:88:99:AA:BB\r\n\
         a=setup:actpass\r\n\
         a=mid:0\r\n\
         a=sendrecv\r\n\
         a=msid:stream track\r\n\
         a=rtcp-mux\r\n"
    );
    for rtpmap in rtpmaps {
        sdp.push_str(&format!("a=rtpmap:{rtpmap}\r\n"));
    }
    sdp.push_str("a=ssrc:1001 cname:test\r\n");
    sdp
}

/// The payload types of the answer's audio section.
fn answered_formats(answer: &str) -> Vec<String> {
    answer
        .lines()
        .find_map(|line| line.strip_prefix("m=audio "))
        .map(|rest| rest.split_whitespace().skip(2).map(str::to_owned).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn pcmu_is_chosen_over_pcma_and_opus() {
    let offer = offer_with(
        "111 8 0 126",
        &[
            "111 opus/48000/2",
            "8 PCMA/8000",
            "0 PCMU/8000",
            "126 telephone-event/8000",
        ],
    );
    let (leg, answer) = accept(&offer, &loopback_config()).await.expect("accepted");
    assert_eq!(leg.codec(), Codec::Pcmu);
    assert_eq!(leg.payload_type(), 0);
    assert_eq!(leg.telephone_event_pt(), Some(126));
    assert_eq!(answered_formats(&answer), ["0", "126"]);
    leg.close().await;
}

#[tokio::test]
async fn pcma_is_chosen_when_pcmu_is_not_offered() {
    let offer = offer_with("111 8", &["111 opus/48000/2", "8 PCMA/8000"]);
    let (leg, answer) = accept(&offer, &loopback_config()).await.expect("accepted");
    assert_eq!(leg.codec(), Codec::Pcma);
    assert_eq!(leg.payload_type(), 8);
    assert_eq!(answered_formats(&answer), ["8"]);
    leg.close().await;
}

#[tokio::test]
async fn telephone_event_at_48_khz_is_not_taken_for_rfc_4733_at_8_khz() {
    let offer = offer_with("0 110", &["0 PCMU/8000", "110 telephone-event/48000"]);
    let (leg, answer) = accept(&offer, &loopback_config()).await.expect("accepted");
    assert_eq!(leg.telephone_event_pt(), None);
    assert_eq!(answered_formats(&answer), ["0"]);
    leg.close().await;
}

#[tokio::test]
async fn an_offer_without_g711_is_refused() {
    let offer = offer_with("111", &["111 opus/48000/2"]);
    let refused = accept(&offer, &loopback_config()).await;
    assert!(matches!(refused, Err(WebRtcError::NoCommonCodec)));
}

#[tokio::test]
async fn an_offer_that_is_not_sdp_is_refused() {
    let refused = accept("hello", &loopback_config()).await;
    assert!(matches!(refused, Err(WebRtcError::InvalidOffer(_))));
}

#[tokio::test]
async fn the_answer_carries_the_host_candidate_on_the_candidate_address() {
    let config = WebRtcConfig {
        bind_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        candidate_ip: Some(LOOPBACK),
        ports: 0..=0,
    };
    let offer = offer_with("0", &["0 PCMU/8000"]);
    let (leg, answer) = accept(&offer, &config).await.expect("accepted");
    let port = leg.local_addr().port();
    let candidate = answer
        .lines()
        .find(|line| line.starts_with("a=candidate:"))
        .expect("a host candidate in the answer");
    assert!(
        candidate.contains(&format!("127.0.0.1 {port} typ host")),
        "{candidate}"
    );
    assert!(answer.contains("a=ice-lite"), "{answer}");
    leg.close().await;
}

#[tokio::test]
async fn an_unspecified_address_without_a_candidate_address_is_refused() {
    let config = WebRtcConfig {
        bind_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        candidate_ip: None,
        ports: 0..=0,
    };
    let offer = offer_with("0", &["0 PCMU/8000"]);
    let refused = accept(&offer, &config).await;
    assert!(matches!(refused, Err(WebRtcError::NoCandidateAddress)));
}

#[tokio::test]
async fn legs_take_ports_from_the_configured_range() {
    let probe = std::net::UdpSocket::bind((LOOPBACK, 0)).expect("a free port");
    let port = probe.local_addr().expect("bound").port();
    drop(probe);
    let config = WebRtcConfig {
        bind_ip: LOOPBACK,
        candidate_ip: None,
        ports: port..=port,
    };
    let offer = offer_with("0", &["0 PCMU/8000"]);
    let (leg, _) = accept(&offer, &config).await.expect("the one port is free");
    assert_eq!(leg.local_addr(), SocketAddr::new(LOOPBACK, port));
    let second = accept(&offer, &config).await;
    assert!(matches!(second, Err(WebRtcError::NoFreePort)));
    leg.close().await;
}

/// Connects a stand-in peer to a fresh leg.
async fn connected_pair(offering: Offering) -> (WebRtcLeg, Peer) {
    let (mut peer, offer) = Peer::offer(offering).await;
    let (leg, answer) = accept(&offer, &loopback_config()).await.expect("accepted");
    peer.answer(answer).await;
    let mut state = leg.state();
    tokio::time::timeout(GUARD, state.wait_for(|s| *s == LegState::Connected))
        .await
        .expect("the leg connects in time")
        .expect("the leg is alive");
    peer.connected().await;
    (leg, peer)
}

#[tokio::test]
async fn audio_crosses_dtls_srtp_both_ways_with_a_webrtc_peer() {
    let (mut leg, mut peer) = connected_pair(Offering {
        pcmu: true,
        pcma: true,
        telephone_event: true,
    })
    .await;
    assert_eq!(leg.codec(), Codec::Pcmu);

    // Peer → leg: the far end's tone arrives as plain RTP.
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
    .expect("RTP from the peer in time");
    audio::assert_tone(&heard, tone::CALLER_HZ, "the leg heard from the peer");

    // Leg → peer: our packets arrive decrypted, in the agreed payload type.
    let mut frames = audio::RtpFrames::new(leg.payload_type());
    let mut heard = Vec::new();
    tokio::time::timeout(GUARD, async {
        while heard.len() < audio::ANALYSED_SAMPLES {
            tokio::select! {
                _ = pace.tick() => {
                    leg.send_rtp(&frames.next(tone::FAR_END_HZ));
                }
                packet = peer.received.recv() => {
                    let packet = packet.expect("the peer is open");
                    assert_eq!(packet.header.payload_type, 0);
                    heard.extend(packet.payload.iter().copied().map(tone::ulaw_decode));
                }
            }
        }
    })
    .await
    .expect("RTP from the leg in time");
    audio::assert_tone(&heard, tone::FAR_END_HZ, "the peer heard from the leg");

    peer.close().await;
    leg.close().await;
}

/// A peer that closes sends a DTLS close_notify: the leg reports Closed at once, not the
/// Disconnected that ICE silence gives after seconds.
#[tokio::test]
async fn a_peer_that_hangs_up_is_noticed() {
    let (leg, peer) = connected_pair(Offering {
        pcmu: true,
        pcma: false,
        telephone_event: false,
    })
    .await;
    let mut state = leg.state();
    peer.close().await;
    let ended = tokio::time::timeout(GUARD, state.wait_for(|s| *s != LegState::Connected))
        .await
        .expect("the leg notices in time")
        .map(|s| *s);
    assert!(matches!(ended, Ok(LegState::Closed)), "{ended:?}");
    leg.close().await;
}

#[tokio::test]
async fn closing_a_connected_leg_frees_its_port() {
    let (leg, peer) = connected_pair(Offering {
        pcmu: true,
        pcma: false,
        telephone_event: false,
    })
    .await;
    let local = leg.local_addr();
    let state = leg.state();
    leg.close().await;
    assert_eq!(*state.borrow(), LegState::Closed);
    std::net::UdpSocket::bind(local).expect("the port is free again");
    peer.close().await;
}

#[tokio::test]
async fn packets_for_a_closed_leg_are_refused_at_once() {
    let offer = offer_with("0", &["0 PCMU/8000"]);
    let (leg, _) = accept(&offer, &loopback_config()).await.expect("accepted");
    let to_browser = leg.browser_sender();
    let mut frames = audio::RtpFrames::new(leg.payload_type());
    assert!(to_browser.send_rtp(&frames.next(tone::FAR_END_HZ)));
    leg.close().await;
    assert!(!to_browser.send_rtp(&frames.next(tone::FAR_END_HZ)));
}

#[tokio::test]
async fn a_dropped_leg_frees_its_port() {
    let offer = offer_with("0", &["0 PCMU/8000"]);
    let (leg, _) = accept(&offer, &loopback_config()).await.expect("accepted");
    let local = leg.local_addr();
    let mut state = leg.state();
    drop(leg);
    // The task owns the state's sender: its end is the event that the task is gone.
    tokio::time::timeout(GUARD, async { while state.changed().await.is_ok() {} })
        .await
        .expect("the task ends in time");
    std::net::UdpSocket::bind(local).expect("the port is free again");
}
