//! sdp: an SDP body as it arrives in an INVITE (an offer we answer) or in the answer to our
//! own offer.

use std::net::{IpAddr, Ipv4Addr};

use madoguchi_media::sdp::{accept_answer, negotiate, LocalMedia};

const LOCAL: LocalMedia = LocalMedia {
    ip: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
    port: 40_000,
    session_id: 7,
    session_version: 1,
};

/// Answers the body as an offer and reads it as an answer. An answer we wrote must itself be
/// an SDP the peer (here: our own reader) accepts, with the codec we chose.
pub fn sdp(data: &[u8]) {
    if let Ok(negotiated) = negotiate(data, LOCAL) {
        let read_back = accept_answer(&negotiated.answer_sdp).unwrap_or_else(|e| {
            panic!(
                "our answer does not read back ({e}): {:?}",
                String::from_utf8_lossy(&negotiated.answer_sdp)
            )
        });
        assert_eq!(read_back.codec, negotiated.codec);
        assert_eq!(read_back.payload_type, negotiated.payload_type);
        assert_eq!(read_back.telephone_event_pt, negotiated.telephone_event_pt);
        assert!((10..=120).contains(&negotiated.ptime_ms));
    }
    if let Ok(accepted) = accept_answer(data) {
        assert!((10..=120).contains(&accepted.ptime_ms));
    }
}
