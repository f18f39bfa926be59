//! rtp_rfc4733: RTP datagrams (RFC 3550 header with CSRCs, extension and padding) and
//! telephone-event payloads (RFC 4733), as the media shell feeds them to one stream.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use madoguchi_media::dtmf::{DtmfReceiver, TelephoneEvent};
use madoguchi_media::rtp::{ReceiveStats, RtpHeader, HEADER_LEN};

/// The telephone-event payload type the receiver listens to (our offer's).
const EVENT_PT: u8 = 101;

/// The input is the first datagram whole, then, when it does not parse as RTP by itself, a
/// sequence of `[length: u8][datagram]` records; each datagram goes through the header parser,
/// the receive statistics and, for payload type 101, the DTMF receiver.
pub fn rtp_rfc4733(data: &[u8]) {
    let start = Instant::now();
    let source: SocketAddr = ([127, 0, 0, 1], 40_000).into();
    let mut stats = ReceiveStats::new(8_000, 0);
    let mut dtmf = DtmfReceiver::new();
    let mut datagrams = vec![data];
    let mut rest = data;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        datagrams.push(&tail[..len]);
        rest = &tail[len..];
    }
    for (i, datagram) in datagrams.into_iter().enumerate() {
        let Ok((header, payload)) = RtpHeader::parse(datagram) else {
            continue;
        };
        check_header(datagram, &header, payload);
        stats.handle_packet(
            &header,
            source,
            start + Duration::from_millis(20 * i as u64),
        );
        if header.payload_type == EVENT_PT {
            if let Ok(event) = TelephoneEvent::parse(payload) {
                assert_eq!(TelephoneEvent::parse(&event.to_bytes()), Ok(event));
            }
            let _ = dtmf.handle_packet(&header, payload);
            while dtmf.poll_event().is_some() {}
        }
    }
    assert!(stats.packets() <= stats.expected().max(stats.packets()));
    let _ = (stats.lost(), stats.jitter());
}

/// The payload is the datagram's tail less padding, and the fixed header writes back as read.
fn check_header(datagram: &[u8], header: &RtpHeader, payload: &[u8]) {
    let skipped = HEADER_LEN + 4 * usize::from(header.csrc_count);
    assert!(skipped + payload.len() <= datagram.len());
    let offset = payload.as_ptr() as usize - datagram.as_ptr() as usize;
    assert!(offset >= skipped);
    if !header.padding {
        assert_eq!(offset + payload.len(), datagram.len());
    }
    let mut out = [0u8; HEADER_LEN];
    assert_eq!(header.write(&mut out), Ok(HEADER_LEN));
    let (again, rest) = RtpHeader::parse(&out).expect("a written header parses");
    assert!(rest.is_empty());
    assert_eq!(
        (again.marker, again.payload_type, again.sequence_number),
        (header.marker, header.payload_type, header.sequence_number)
    );
    assert_eq!(
        (again.timestamp, again.ssrc),
        (header.timestamp, header.ssrc)
    );
}
