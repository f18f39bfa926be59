//! Browser SIP phones (JsSIP, SIP.js) as operators: registered over a WebSocket (RFC 7118),
//! rung over that connection with a WebRTC offer the media shell makes, their answer handed
//! back to the media shell, logged out when the connection closes.

use std::net::SocketAddr;
use std::time::Duration;

use madoguchi_media::Codec;
use madoguchi_sip::Transport;
use madoguchi_store::Disposition;

use super::super::test_harness::*;
use super::super::*;
use super::{bridged, desk_with, state_of};

/// The browser's end of its WebSocket, as the HTTP server sees it.
const CONNECTION: &str = "127.0.0.1:51000";

/// What Chromium answers to the offer (its own candidates; `a=setup:active`).
const BROWSER_ANSWER: &str = "v=0\r\no=- 77 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
     m=audio 9 UDP/TLS/RTP/SAVPF 0 101\r\nc=IN IP4 0.0.0.0\r\na=setup:active\r\n\
     a=candidate:2 1 udp 2122260223 127.0.0.1 55000 typ host\r\n";

fn browser_phone() -> Phone {
    Phone::new("op1", CONNECTION)
}

/// queue.toml with op1 registered over its WebSocket.
fn desk_with_browser(phone: &mut Phone) -> Harness {
    let mut h = desk_with(&[phone]);
    h.websockets.push(phone.addr);
    let ok = phone.register(&mut h, 600);
    assert!(ok.starts_with("SIP/2.0 200"), "{ok}");
    h
}

/// A caller offering `codecs` (e.g. "0 8"), answered and waiting in the queue.
fn caller_offering(h: &mut Harness, codecs: &str) -> Caller {
    let mut caller = Caller::new(1);
    h.sip(&caller.invite(&offer(codecs)));
    h.advance(Duration::from_secs(1));
    let ok = h.last_response(200).to_owned();
    h.sip(&caller.ack(&ok));
    caller
}

/// The operator leg: the one the media shell was asked to offer WebRTC on.
fn webrtc_leg(h: &Harness) -> (LegId, Codec) {
    h.media
        .iter()
        .find_map(|m| match m {
            MediaCommand::OpenWebRtc { leg, codec } => Some((*leg, *codec)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("a WebRTC offer was asked for: {:#?}", h.media))
}

/// The transport each message to `to` went over.
fn transports_to(h: &Harness, to: SocketAddr) -> Vec<Transport> {
    h.sent_to
        .iter()
        .zip(&h.sent_over)
        .filter(|(dest, _)| **dest == to)
        .map(|(_, transport)| *transport)
        .collect()
}

/// op1's browser answers the call; returns the engine's INVITE.
fn answered(h: &mut Harness, phone: &Phone) -> String {
    let invite = phone.last_invite(h);
    phone.respond(h, &invite, "180 Ringing", "");
    phone.respond(h, &invite, "200 OK", BROWSER_ANSWER);
    invite
}

#[test]
fn an_operator_registered_over_a_websocket_is_rung_over_it_with_a_webrtc_offer() {
    let mut phone = browser_phone();
    let mut h = desk_with_browser(&mut phone);
    assert_eq!(state_of(&h, "op1").0, "available");
    caller_offering(&mut h, "0 8");

    let invite = phone.last_invite(&h);
    assert!(
        header(&invite, "Via").is_some_and(|via| via.starts_with("SIP/2.0/WS ")),
        "{invite}"
    );
    assert_eq!(
        body(&invite),
        WEBRTC_OFFER,
        "the INVITE carries the media shell's WebRTC offer"
    );
    assert!(
        transports_to(&h, phone.addr)
            .iter()
            .all(|t| *t == Transport::Ws),
        "everything to the phone goes over its WebSocket"
    );
    let (leg, _) = webrtc_leg(&h);
    assert!(
        !h.media
            .iter()
            .any(|m| matches!(m, MediaCommand::Open { leg: l } if *l == leg)),
        "no plain RTP port for the browser's leg"
    );
    assert_eq!(state_of(&h, "op1").0, "ringing");
}

#[test]
fn the_offer_is_in_the_callers_law_so_the_bridge_needs_no_transcoding() {
    let mut phone = browser_phone();
    let mut h = desk_with_browser(&mut phone);
    caller_offering(&mut h, "8");
    assert_eq!(webrtc_leg(&h).1, Codec::Pcma);
}

#[test]
fn the_browsers_answer_goes_to_the_media_shell_and_the_caller_is_bridged() {
    let mut phone = browser_phone();
    let mut h = desk_with_browser(&mut phone);
    caller_offering(&mut h, "0 8");
    let caller_leg = h.leg();
    answered(&mut h, &phone);

    let (leg, _) = webrtc_leg(&h);
    assert!(
        h.media.contains(&MediaCommand::AnswerWebRtc {
            leg,
            answer: BROWSER_ANSWER.to_owned()
        }),
        "{:#?}",
        h.media
    );
    assert!(
        !h.media
            .iter()
            .any(|m| matches!(m, MediaCommand::Start { leg: l, .. } if *l == leg)),
        "a WebRTC answer names no RTP address to start"
    );
    assert_eq!(bridged(&h), vec![(caller_leg, leg)]);
    assert_eq!(state_of(&h, "op1").0, "on_call");
}

#[test]
fn a_websocket_registration_is_not_kept_for_a_restart() {
    let mut phone = browser_phone();
    let h = desk_with_browser(&mut phone);
    assert!(
        !h.registrations
            .iter()
            .any(|r| matches!(r, RegistrationChange::Save { .. })),
        "{:?}",
        h.registrations
    );
}

#[test]
fn a_closed_websocket_logs_the_operator_out() {
    let mut phone = browser_phone();
    let mut h = desk_with_browser(&mut phone);
    let now = h.now;
    h.engine.handle_flow_closed(now, Transport::Ws, phone.addr);
    h.drain();
    assert_eq!(state_of(&h, "op1").0, "logged_out");
}

#[test]
fn a_browser_whose_audio_fails_mid_call_is_hung_up_and_so_is_the_caller() {
    let mut phone = browser_phone();
    let mut h = desk_with_browser(&mut phone);
    caller_offering(&mut h, "0 8");
    answered(&mut h, &phone);
    let (leg, _) = webrtc_leg(&h);
    h.advance(Duration::from_secs(5));

    h.media_event(MediaEvent::BrowserGone { leg });
    assert_eq!(phone.requests(&h, "BYE").len(), 1, "the phone gets BYE");
    assert_eq!(h.sent_to_starting(Harness::source(), "BYE ").len(), 1);
    assert!(h.media.contains(&MediaCommand::Close { leg }));
    let record = h.records.last().expect("the call is recorded");
    assert_eq!(record.disposition, Disposition::Answered);
    assert_eq!(record.hangup_cause.as_deref(), Some("operator_media_lost"));
}

#[test]
fn a_browser_leg_lost_before_the_answer_cancels_the_ring_and_the_caller_waits_on() {
    let mut phone = browser_phone();
    let mut h = desk_with_browser(&mut phone);
    caller_offering(&mut h, "0 8");
    let invite = phone.last_invite(&h);
    phone.respond(&mut h, &invite, "180 Ringing", "");
    let (leg, _) = webrtc_leg(&h);
    h.media_event(MediaEvent::BrowserGone { leg });
    assert_eq!(
        phone.requests(&h, "CANCEL").len(),
        1,
        "the ring is cancelled"
    );
    assert!(bridged(&h).is_empty());
    assert!(h.records.is_empty(), "the caller waits on");
}

#[test]
fn a_hold_re_invite_from_a_browser_phone_is_refused_and_the_call_goes_on() {
    let mut phone = browser_phone();
    let mut h = desk_with_browser(&mut phone);
    caller_offering(&mut h, "0 8");
    let invite = answered(&mut h, &phone);
    let reinvite = phone.send_in_dialog(&mut h, &invite, "INVITE", "", BROWSER_ANSWER);
    assert!(phone
        .response_to(&h, &reinvite)
        .is_some_and(|r| r.starts_with("SIP/2.0 488")));
    assert_eq!(state_of(&h, "op1").0, "on_call");
}
