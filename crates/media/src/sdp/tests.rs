//! Offer/answer against SDP as real peers write it.

use super::*;
use std::net::{Ipv4Addr, Ipv6Addr};

pub(super) fn local() -> LocalMedia {
    LocalMedia {
        ip: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7)),
        port: 20_000,
        session_id: 42,
        session_version: 3,
    }
}

pub(super) fn sdp(lines: &[&str]) -> Vec<u8> {
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    s.into_bytes()
}

pub(super) fn answer_text(n: &Negotiated) -> String {
    String::from_utf8(n.answer_sdp.clone()).unwrap()
}

pub(super) fn sock(s: &str) -> Option<SocketAddr> {
    Some(s.parse().unwrap())
}

/// A minimal offer with the given m= line and extra lines after it.
pub(super) fn offer_with(m: &str, extra: &[&str]) -> Vec<u8> {
    let mut lines = vec![
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        m,
    ];
    lines.extend_from_slice(extra);
    sdp(&lines)
}

// ---- real peers ----------------------------------------------------------------------------

const SIPP_UAC: &str = "v=0\r\n\
o=user1 53655765 2353687637 IN IP4 127.0.0.1\r\n\
s=-\r\n\
c=IN IP4 127.0.0.1\r\n\
t=0 0\r\n\
m=audio 6000 RTP/AVP 0\r\n\
a=rtpmap:0 PCMU/8000\r\n";

const BARESIP: &str = "v=0\r\n\
o=- 1785240914 2112426112 IN IP4 192.168.1.20\r\n\
s=-\r\n\
c=IN IP4 192.168.1.20\r\n\
t=0 0\r\n\
a=tool:baresip 3.10.1\r\n\
m=audio 10000 RTP/AVP 96 9 0 8 101\r\n\
b=AS:128\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 stereo=1;sprop-stereo=1\r\n\
a=rtpmap:9 G722/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=rtcp-rsize\r\n\
a=ssrc:1352384434 cname:0b7a5d0c-6a7c\r\n\
a=sendrecv\r\n\
a=label:1\r\n\
a=ptime:20\r\n";

const LINPHONE: &str = "v=0\r\n\
o=bob 3211 2334 IN IP4 192.168.1.30\r\n\
s=Talk\r\n\
c=IN IP4 192.168.1.30\r\n\
t=0 0\r\n\
a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics\r\n\
m=audio 7078 RTP/AVP 96 97 98 0 8 18 101 99 100\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=fmtp:96 useinbandfec=1\r\n\
a=rtpmap:97 SILK/16000\r\n\
a=rtpmap:98 speex/16000\r\n\
a=fmtp:98 vbr=on\r\n\
a=rtpmap:18 G729/8000\r\n\
a=fmtp:18 annexb=yes\r\n\
a=rtpmap:101 telephone-event/48000\r\n\
a=rtpmap:99 telephone-event/16000\r\n\
a=rtpmap:100 telephone-event/8000\r\n\
a=rtcp-fb:* trr-int 1000\r\n\
a=rtcp-fb:* ccm tmmbr\r\n";

pub(super) const ASTERISK: &str = "v=0\r\n\
o=- 1702345678 1702345678 IN IP4 203.0.113.5\r\n\
s=Asterisk\r\n\
c=IN IP4 203.0.113.5\r\n\
t=0 0\r\n\
m=audio 14562 RTP/AVP 8 0 3 101\r\n\
a=rtpmap:8 PCMA/8000\r\n\
a=rtpmap:0 PCMU/8000\r\n\
a=rtpmap:3 GSM/8000\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-16\r\n\
a=ptime:20\r\n\
a=maxptime:150\r\n\
a=sendrecv\r\n";

#[test]
fn sipp_uac_offer_gets_pcmu_without_telephone_event() {
    let n = negotiate(SIPP_UAC.as_bytes(), local()).unwrap();
    assert_eq!((n.codec, n.payload_type), (Codec::Pcmu, 0));
    assert_eq!(n.telephone_event_pt, None);
    assert_eq!(n.remote, sock("127.0.0.1:6000"));
    assert_eq!(n.direction, Direction::SendRecv);
    assert_eq!(n.ptime_ms, 20);
    assert!(!n.is_hold());
}

#[test]
fn answer_to_a_simple_offer_is_exactly_as_expected() {
    let n = negotiate(SIPP_UAC.as_bytes(), local()).unwrap();
    assert_eq!(
        answer_text(&n),
        "v=0\r\n\
         o=madoguchi 42 3 IN IP4 198.51.100.7\r\n\
         s=madoguchi\r\n\
         c=IN IP4 198.51.100.7\r\n\
         t=0 0\r\n\
         m=audio 20000 RTP/AVP 0\r\n\
         a=rtpmap:0 PCMU/8000\r\n\
         a=ptime:20\r\n\
         a=sendrecv\r\n"
    );
}

#[test]
fn baresip_offer_skips_opus_and_g722_and_takes_pcmu() {
    let n = negotiate(BARESIP.as_bytes(), local()).unwrap();
    assert_eq!((n.codec, n.payload_type), (Codec::Pcmu, 0));
    assert_eq!(n.telephone_event_pt, Some(101));
    assert_eq!(n.remote, sock("192.168.1.20:10000"));
    let a = answer_text(&n);
    assert!(a.contains("m=audio 20000 RTP/AVP 0 101\r\n"), "{a}");
    assert!(a.contains("a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\n"));
    assert!(!a.contains("opus"));
}

#[test]
fn linphone_offer_picks_the_8khz_telephone_event_type() {
    let n = negotiate(LINPHONE.as_bytes(), local()).unwrap();
    assert_eq!((n.codec, n.payload_type), (Codec::Pcmu, 0));
    assert_eq!(n.telephone_event_pt, Some(100));
    assert_eq!(n.remote, sock("192.168.1.30:7078"));
    assert!(answer_text(&n).contains("m=audio 20000 RTP/AVP 0 100\r\n"));
}

#[test]
fn asterisk_offer_with_pcma_first_gets_pcma() {
    let n = negotiate(ASTERISK.as_bytes(), local()).unwrap();
    assert_eq!((n.codec, n.payload_type), (Codec::Pcma, 8));
    assert_eq!(n.telephone_event_pt, Some(101));
    let a = answer_text(&n);
    assert!(a.contains("m=audio 20000 RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\n"));
}

#[test]
fn the_callers_codec_order_wins_over_ours() {
    let n = negotiate(&offer_with("m=audio 4000 RTP/AVP 8 0", &[]), local()).unwrap();
    assert_eq!(n.codec, Codec::Pcma);
    let n = negotiate(&offer_with("m=audio 4000 RTP/AVP 0 8", &[]), local()).unwrap();
    assert_eq!(n.codec, Codec::Pcmu);
}

#[test]
fn a_dynamic_payload_type_mapped_to_pcmu_is_echoed() {
    let offer = offer_with("m=audio 4000 RTP/AVP 110", &["a=rtpmap:110 pcmu/8000"]);
    let n = negotiate(&offer, local()).unwrap();
    assert_eq!((n.codec, n.payload_type), (Codec::Pcmu, 110));
    assert!(answer_text(&n).contains("a=rtpmap:110 PCMU/8000\r\n"));
}

#[test]
fn pcmu_at_another_clock_rate_or_in_stereo_is_not_g711() {
    let offer = offer_with(
        "m=audio 4000 RTP/AVP 110 111 8",
        &["a=rtpmap:110 PCMU/16000", "a=rtpmap:111 PCMU/8000/2"],
    );
    let n = negotiate(&offer, local()).unwrap();
    assert_eq!((n.codec, n.payload_type), (Codec::Pcma, 8));
}

#[test]
fn telephone_event_only_in_an_rtpmap_but_not_the_format_list_is_ignored() {
    let offer = offer_with(
        "m=audio 4000 RTP/AVP 0",
        &["a=rtpmap:101 telephone-event/8000"],
    );
    assert_eq!(negotiate(&offer, local()).unwrap().telephone_event_pt, None);
}

#[test]
fn only_g729_offered_is_no_common_codec() {
    let offer = offer_with(
        "m=audio 4000 RTP/AVP 18 101",
        &["a=rtpmap:101 telephone-event/8000"],
    );
    assert_eq!(negotiate(&offer, local()), Err(SdpError::NoCommonCodec));
}

#[test]
fn srtp_only_offer_is_an_unsupported_transport() {
    let offer = offer_with(
        "m=audio 4000 RTP/SAVP 0",
        &["a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x"],
    );
    assert_eq!(
        negotiate(&offer, local()),
        Err(SdpError::UnsupportedTransport)
    );
}

#[test]
fn avpf_profile_is_accepted_and_echoed() {
    let n = negotiate(&offer_with("m=audio 4000 RTP/AVPF 0", &[]), local()).unwrap();
    assert!(answer_text(&n).contains("m=audio 20000 RTP/AVPF 0\r\n"));
}

#[test]
fn an_offer_without_audio_is_no_audio_stream() {
    let offer = offer_with("m=video 4000 RTP/AVP 96", &["a=rtpmap:96 H264/90000"]);
    assert_eq!(negotiate(&offer, local()), Err(SdpError::NoAudioStream));
}

#[test]
fn an_offer_without_media_is_no_audio_stream() {
    let offer = sdp(&["v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "t=0 0"]);
    assert_eq!(negotiate(&offer, local()), Err(SdpError::NoAudioStream));
}

#[test]
fn other_streams_are_rejected_with_port_zero_in_offer_order() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=video 5002 RTP/AVP 96 97",
        "a=rtpmap:96 H264/90000",
        "m=audio 5000 RTP/AVP 0",
        "m=audio 5004 RTP/AVP 8",
    ]);
    let n = negotiate(&offer, local()).unwrap();
    let a = answer_text(&n);
    let m_lines: Vec<&str> = a.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(
        m_lines,
        [
            "m=video 0 RTP/AVP 96 97",
            "m=audio 20000 RTP/AVP 0",
            "m=audio 0 RTP/AVP 8"
        ]
    );
    assert_eq!(n.remote, sock("192.0.2.1:5000"));
}

#[test]
fn a_disabled_audio_stream_is_skipped_for_the_next_one() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "m=audio 0 RTP/AVP 0",
        "m=audio 5004 RTP/AVP 8",
    ]);
    let n = negotiate(&offer, local()).unwrap();
    assert_eq!((n.codec, n.remote), (Codec::Pcma, sock("192.0.2.1:5004")));
    assert!(answer_text(&n).contains("m=audio 0 RTP/AVP 0\r\nm=audio 20000 RTP/AVP 8\r\n"));
}

// ---- direction and hold --------------------------------------------------------------------

#[test]
fn hold_reinvite_with_sendonly_is_answered_recvonly() {
    let offer = offer_with("m=audio 4000 RTP/AVP 0", &["a=sendonly"]);
    let n = negotiate(&offer, local()).unwrap();
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(n.is_hold());
    assert_eq!(n.remote, sock("192.0.2.1:4000"));
    assert!(answer_text(&n).ends_with("a=recvonly\r\n"));
}

#[test]
fn inactive_offer_is_answered_inactive() {
    let offer = offer_with("m=audio 4000 RTP/AVP 0", &["a=inactive"]);
    let n = negotiate(&offer, local()).unwrap();
    assert_eq!(n.direction, Direction::Inactive);
    assert!(n.is_hold());
    assert!(answer_text(&n).ends_with("a=inactive\r\n"));
}

#[test]
fn recvonly_offer_is_answered_sendonly_and_is_not_hold() {
    let offer = offer_with("m=audio 4000 RTP/AVP 0", &["a=recvonly"]);
    let n = negotiate(&offer, local()).unwrap();
    assert_eq!(n.direction, Direction::SendOnly);
    assert!(!n.is_hold());
}

#[test]
fn null_connection_address_means_hold_with_no_remote() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 2 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
    ]);
    let n = negotiate(&offer, local()).unwrap();
    assert_eq!(n.remote, None);
    assert!(n.is_hold());
    assert_eq!(n.direction, Direction::RecvOnly);
    assert!(answer_text(&n).contains("c=IN IP4 198.51.100.7\r\n"));
}

#[test]
fn null_connection_with_inactive_stays_inactive() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 2 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        "a=inactive",
    ]);
    assert_eq!(
        negotiate(&offer, local()).unwrap().direction,
        Direction::Inactive
    );
}

#[test]
fn resume_after_hold_is_sendrecv_again() {
    let held = offer_with("m=audio 4000 RTP/AVP 0", &["a=sendonly"]);
    let resumed = offer_with("m=audio 4000 RTP/AVP 0", &["a=sendrecv"]);
    assert!(negotiate(&held, local()).unwrap().is_hold());
    assert!(!negotiate(&resumed, local()).unwrap().is_hold());
}

#[test]
fn session_level_direction_applies_when_the_media_has_none() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "a=sendonly",
        "m=audio 4000 RTP/AVP 0",
    ]);
    assert_eq!(
        negotiate(&offer, local()).unwrap().direction,
        Direction::RecvOnly
    );
}

#[test]
fn media_level_direction_overrides_session_level() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "a=sendonly",
        "m=audio 4000 RTP/AVP 0",
        "a=sendrecv",
    ]);
    assert_eq!(
        negotiate(&offer, local()).unwrap().direction,
        Direction::SendRecv
    );
}

#[test]
fn media_level_connection_overrides_session_level() {
    let offer = offer_with("m=audio 4000 RTP/AVP 0", &["c=IN IP4 192.0.2.99"]);
    assert_eq!(
        negotiate(&offer, local()).unwrap().remote,
        sock("192.0.2.99:4000")
    );
}

#[test]
fn media_level_connection_alone_is_enough() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        "c=IN IP4 192.0.2.50",
    ]);
    assert_eq!(
        negotiate(&offer, local()).unwrap().remote,
        sock("192.0.2.50:4000")
    );
}

#[test]
fn direction_reverses_send_and_receive() {
    assert_eq!(Direction::SendOnly.reverse(), Direction::RecvOnly);
    assert_eq!(Direction::RecvOnly.reverse(), Direction::SendOnly);
    assert_eq!(Direction::SendRecv.reverse(), Direction::SendRecv);
    assert_eq!(Direction::Inactive.reverse(), Direction::Inactive);
    assert!(Direction::SendOnly.sends() && !Direction::SendOnly.receives());
}

// ---- ptime ---------------------------------------------------------------------------------

#[test]
fn ptime_is_taken_from_the_offer() {
    let n = negotiate(
        &offer_with("m=audio 4000 RTP/AVP 0", &["a=ptime:30"]),
        local(),
    )
    .unwrap();
    assert_eq!(n.ptime_ms, 30);
    assert!(
        answer_text(&n).contains("a=ptime:20\r\n"),
        "we still ask for 20 ms"
    );
}

#[test]
fn fractional_ptime_is_rounded_and_absurd_ptime_ignored() {
    let n = negotiate(
        &offer_with("m=audio 4000 RTP/AVP 0", &["a=ptime:20.0"]),
        local(),
    )
    .unwrap();
    assert_eq!(n.ptime_ms, 20);
    for bad in ["a=ptime:0", "a=ptime:5000", "a=ptime:fast", "a=ptime:NaN"] {
        let n = negotiate(&offer_with("m=audio 4000 RTP/AVP 0", &[bad]), local()).unwrap();
        assert_eq!(n.ptime_ms, 20, "{bad}");
    }
}

#[test]
fn session_level_ptime_is_used_when_the_media_has_none() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "a=ptime:40",
        "m=audio 4000 RTP/AVP 0",
    ]);
    assert_eq!(negotiate(&offer, local()).unwrap().ptime_ms, 40);
}

// ---- tolerance -----------------------------------------------------------------------------

#[test]
fn bare_lf_line_endings_are_accepted() {
    let offer = SIPP_UAC.replace("\r\n", "\n");
    let n = negotiate(offer.as_bytes(), local()).unwrap();
    assert_eq!(n.remote, sock("127.0.0.1:6000"));
}

#[test]
fn lines_webrtc_sdp_would_reject_are_skipped() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "e=noc@example.jp",
        "p=+81 3 0000 0000",
        "u=http://example.jp/sdp",
        "c=IN IP4 192.0.2.1",
        "t=0 0",
        "r=7d 1h 0 25h",
        "m=audio 4000 RTP/AVP 0",
        "a=X-nat:0",
        "a=rtcp:4001",
    ]);
    assert_eq!(negotiate(&offer, local()).unwrap().codec, Codec::Pcmu);
}

#[test]
fn a_shift_jis_session_name_is_skipped() {
    let mut offer = b"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=".to_vec();
    offer.extend([0x83, 0x7D, 0x83, 0x43, 0x83, 0x69]); // "マイナ" in Shift_JIS
    offer.extend(b"\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n");
    assert_eq!(negotiate(&offer, local()).unwrap().codec, Codec::Pcma);
}

#[test]
fn multicast_ttl_suffix_is_stripped() {
    let offer = offer_with("m=audio 4000 RTP/AVP 0", &["c=IN IP4 233.252.0.1/127"]);
    assert_eq!(
        negotiate(&offer, local()).unwrap().remote,
        sock("233.252.0.1:4000")
    );
}

#[test]
fn port_with_a_count_uses_the_base_port() {
    let n = negotiate(&offer_with("m=audio 4000/2 RTP/AVP 0", &[]), local()).unwrap();
    assert_eq!(n.remote, sock("192.0.2.1:4000"));
}

#[test]
fn ipv6_offer_and_local_address_work() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 1 IN IP6 2001:db8::1",
        "s=-",
        "c=IN IP6 2001:db8::1",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
    ]);
    let mut me = local();
    me.ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7));
    let n = negotiate(&offer, me).unwrap();
    assert_eq!(n.remote, sock("[2001:db8::1]:4000"));
    assert!(answer_text(&n).contains("c=IN IP6 2001:db8::7\r\n"));
}

// ---- garbage -------------------------------------------------------------------------------

#[test]
fn a_body_that_does_not_start_with_v0_is_not_sdp() {
    for body in [
        &b""[..],
        b"\r\n",
        b"hello world",
        b"v=1\r\n",
        b"<xml/>",
        b"o=- 1 1 IN IP4 x\r\nv=0\r\n",
    ] {
        assert_eq!(negotiate(body, local()), Err(SdpError::NotSdp), "{body:?}");
    }
}

#[test]
fn a_line_that_is_not_type_equals_value_is_malformed() {
    let offer = b"v=0\r\nthis is garbage\r\n";
    assert_eq!(
        negotiate(offer, local()),
        Err(SdpError::MalformedLine { line: 2 })
    );
    let offer = b"v=0\r\nM=audio 1 RTP/AVP 0\r\n";
    assert_eq!(
        negotiate(offer, local()),
        Err(SdpError::MalformedLine { line: 2 })
    );
}

#[test]
fn an_unreadable_media_line_is_malformed_media() {
    for m in [
        "m=audio",
        "m=audio port RTP/AVP 0",
        "m=audio 70000 RTP/AVP 0",
        "m=audio 4000",
    ] {
        let offer = offer_with(m, &[]);
        assert_eq!(
            negotiate(&offer, local()),
            Err(SdpError::MalformedMedia { line: 6 }),
            "{m}"
        );
    }
}

#[test]
fn an_unreadable_connection_line_is_malformed_connection() {
    for c in [
        "c=IN IP4",
        "c=ATM NSAP 47.0091",
        "c=IN IP4 2001:db8::1",
        "c=IN IP6 192.0.2.1",
        "c=IN IP4 300.1.1.1/x y",
        "c=IN IPX 192.0.2.1",
    ] {
        let offer = offer_with("m=audio 4000 RTP/AVP 0", &[c]);
        assert_eq!(
            negotiate(&offer, local()),
            Err(SdpError::MalformedConnection { line: 7 }),
            "{c}"
        );
    }
}

#[test]
fn a_missing_connection_address_is_reported() {
    let offer = sdp(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.1",
        "s=-",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
    ]);
    assert_eq!(negotiate(&offer, local()), Err(SdpError::MissingConnection));
}

#[test]
fn a_host_name_connection_address_is_reported() {
    let offer = offer_with(
        "m=audio 4000 RTP/AVP 0",
        &["c=IN IP4 media.trunk.example.jp"],
    );
    assert_eq!(negotiate(&offer, local()), Err(SdpError::UnresolvedHost));
}

#[test]
fn malformed_rtpmaps_are_ignored_not_fatal() {
    let offer = offer_with(
        "m=audio 4000 RTP/AVP 0 101",
        &[
            "a=rtpmap:101",
            "a=rtpmap:x telephone-event/8000",
            "a=rtpmap:101 telephone-event/fast",
        ],
    );
    let n = negotiate(&offer, local()).unwrap();
    assert_eq!((n.codec, n.telephone_event_pt), (Codec::Pcmu, None));
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet = b"v=0amc IN IP4 RTP/AVP 127.0.0.1:/\r\n8 101 telephone-event/8000 sendonly\xff";
    for _ in 0..3000 {
        let len = (next() % 200) as usize;
        let mut body = b"v=0\r\n".to_vec();
        body.extend((0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]));
        let _ = negotiate(&body, local());
        let _ = accept_answer(&body);
    }
}

#[test]
fn every_prefix_of_a_real_offer_is_handled_without_panic() {
    for end in 0..LINPHONE.len() {
        let _ = negotiate(&LINPHONE.as_bytes()[..end], local());
    }
}
