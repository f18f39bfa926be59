//! Our own offers, the answers to them, and telephone-event event lists.

use super::tests::{answer_text, local, offer_with, sock, ASTERISK};
use super::*;
use std::net::Ipv4Addr;

// ---- our offer and their answer ------------------------------------------------------------

#[test]
fn our_offer_lists_pcmu_pcma_and_telephone_event() {
    let offer = String::from_utf8(build_offer(local())).unwrap();
    assert_eq!(
        offer,
        "v=0\r\n\
         o=madoguchi 42 3 IN IP4 198.51.100.7\r\n\
         s=madoguchi\r\n\
         c=IN IP4 198.51.100.7\r\n\
         t=0 0\r\n\
         m=audio 20000 RTP/AVP 0 8 101\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n\
         a=fmtp:101 0-15\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n"
    );
}

#[test]
fn our_offer_answered_by_our_own_negotiation_agrees() {
    let offer = build_offer(local());
    let mut peer = local();
    peer.ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 33));
    peer.port = 30_000;
    let n = negotiate(&offer, peer).unwrap();
    let a = accept_answer(&n.answer_sdp).unwrap();
    assert_eq!((a.codec, a.payload_type), (Codec::Pcmu, 0));
    assert_eq!(a.telephone_event_pt, Some(101));
    assert_eq!(a.remote, sock("192.0.2.33:30000"));
    assert_eq!(a.direction, Direction::SendRecv);
}

#[test]
fn an_answer_choosing_pcma_is_accepted() {
    let answer = offer_with(
        "m=audio 30000 RTP/AVP 8 101",
        &[
            "a=rtpmap:8 PCMA/8000",
            "a=rtpmap:101 telephone-event/8000",
            "a=ptime:20",
        ],
    );
    let a = accept_answer(&answer).unwrap();
    assert_eq!(
        (a.codec, a.payload_type, a.telephone_event_pt),
        (Codec::Pcma, 8, Some(101))
    );
    assert_eq!(a.remote, sock("192.0.2.1:30000"));
    assert!(!a.is_hold());
}

#[test]
fn a_recvonly_answer_leaves_us_sending_only() {
    let answer = offer_with("m=audio 30000 RTP/AVP 0", &["a=recvonly"]);
    assert_eq!(
        accept_answer(&answer).unwrap().direction,
        Direction::SendOnly
    );
}

#[test]
fn a_sendonly_answer_means_we_only_receive() {
    let answer = offer_with("m=audio 30000 RTP/AVP 0", &["a=sendonly"]);
    let a = accept_answer(&answer).unwrap();
    assert_eq!(a.direction, Direction::RecvOnly);
    assert!(a.is_hold());
}

#[test]
fn an_answer_rejecting_audio_is_no_audio_stream() {
    let answer = offer_with("m=audio 0 RTP/AVP 0", &[]);
    assert_eq!(accept_answer(&answer), Err(SdpError::NoAudioStream));
}

#[test]
fn an_answer_without_g711_is_no_common_codec() {
    let answer = offer_with("m=audio 30000 RTP/AVP 18", &[]);
    assert_eq!(accept_answer(&answer), Err(SdpError::NoCommonCodec));
}

#[test]
fn a_garbage_answer_is_rejected() {
    assert_eq!(accept_answer(b"SIP/2.0 200 OK"), Err(SdpError::NotSdp));
}

// ---- telephone-event event lists -----------------------------------------------------------

#[test]
fn telephone_event_with_flash_is_answered_with_the_keys_only() {
    let n = negotiate(ASTERISK.as_bytes(), local()).unwrap();
    assert!(answer_text(&n).contains("a=fmtp:101 0-15\r\n"));
}

#[test]
fn a_partial_event_list_is_answered_with_the_common_keys() {
    let offer = offer_with(
        "m=audio 4000 RTP/AVP 0 101",
        &["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-9,11,16"],
    );
    let n = negotiate(&offer, local()).unwrap();
    assert_eq!(n.telephone_event_pt, Some(101));
    assert!(answer_text(&n).contains("a=fmtp:101 0-9,11\r\n"));
}

#[test]
fn telephone_event_without_any_key_is_not_accepted() {
    let offer = offer_with(
        "m=audio 4000 RTP/AVP 0 101",
        &["a=rtpmap:101 telephone-event/8000", "a=fmtp:101 16"],
    );
    let n = negotiate(&offer, local()).unwrap();
    assert_eq!(n.telephone_event_pt, None);
    assert!(!answer_text(&n).contains("telephone-event"));
}

#[test]
fn telephone_event_without_fmtp_means_all_keys() {
    let offer = offer_with(
        "m=audio 4000 RTP/AVP 0 101",
        &["a=rtpmap:101 telephone-event/8000"],
    );
    let n = negotiate(&offer, local()).unwrap();
    assert!(answer_text(&n).contains("a=fmtp:101 0-15\r\n"));
}

#[test]
fn event_list_parsing_skips_junk_and_clamps_ranges() {
    assert_eq!(DtmfEvents::parse("0-15").to_fmtp(), "0-15");
    assert_eq!(
        DtmfEvents::parse("x, 3 ,5-7,12-99,-").to_fmtp(),
        "3,5-7,12-15"
    );
    assert_eq!(DtmfEvents::parse("9-2"), DtmfEvents(0));
    assert_eq!(DtmfEvents::parse("0,2,4").to_fmtp(), "0,2,4");
}
