//! sip_message: bytes from a SIP peer, over UDP (datagrams) and over TCP (a stream cut by
//! the framing decoder), through the parser into a whole endpoint that answers calls,
//! re-INVITEs and REFERs the way the engine does, and runs its timers out.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use madoguchi_media::sdp::{negotiate, LocalMedia};
use madoguchi_sip::parse::scan_request;
use madoguchi_sip::{
    parse_message, Endpoint, EndpointConfig, SipEvent, StreamDecoder, StreamItem, Transport,
};

/// Separates the datagrams of one UDP input (a stream input is cut by Content-Length).
pub const DATAGRAM_SEPARATOR: &[u8] = b"\0\0\0\0";

/// Caps of the stream decoder (smaller than the engine's, so that the caps are reached).
const MAX_HEADER: usize = 512;
const MAX_BODY: usize = 512;

pub fn sip_message(data: &[u8]) {
    let _ = parse_message(data);
    let _ = scan_request(data);
    let now = Instant::now();
    let peer: SocketAddr = ([127, 0, 0, 1], 5070).into();

    let mut udp = endpoint();
    for datagram in split(data, DATAGRAM_SEPARATOR) {
        udp.handle_input(now, Transport::Udp, peer, datagram);
        drain(&mut udp, now);
    }
    run_timers(&mut udp, now);

    let mut tcp = endpoint();
    for frame in frames(data) {
        tcp.handle_input(now, Transport::Tcp, peer, &frame);
        drain(&mut tcp, now);
    }
    run_timers(&mut tcp, now);
}

fn endpoint() -> Endpoint {
    Endpoint::new(
        EndpointConfig {
            public_host: "127.0.0.1".into(),
            public_port: 5060,
            user_agent: "madoguchi-fuzz".into(),
            max_message_size: 65_535,
            realm: "madoguchi".into(),
            registrar: Default::default(),
            nonce_secret: [7; 32],
            nonce_lifetime_secs: 300,
            prack: Default::default(),
        },
        7,
    )
}

/// The stream decoder's items for `data` pushed whole must be the same as for `data` pushed
/// in chunks (sizes drawn from the input, so the fuzzer explores the cuts).
fn frames(data: &[u8]) -> Vec<Vec<u8>> {
    let whole = decode(data, &[data.len().max(1)]);
    let sizes: Vec<usize> = data
        .iter()
        .take(16)
        .map(|b| usize::from(b % 13) + 1)
        .collect();
    let chunked = decode(data, if sizes.is_empty() { &[1] } else { &sizes });
    assert_eq!(whole, chunked, "framing depends on how the stream was cut");
    whole
        .0
        .into_iter()
        .filter_map(|item| match item {
            StreamItem::Message(frame) => Some(frame),
            StreamItem::KeepAlivePing => None,
        })
        .collect()
}

/// Items until the stream needs more bytes, and whether it failed.
type Decoded = (Vec<StreamItem>, bool);

fn decode(data: &[u8], chunk_sizes: &[usize]) -> Decoded {
    let mut decoder = StreamDecoder::new(MAX_HEADER, MAX_BODY);
    let mut items = Vec::new();
    let mut rest = data;
    let mut sizes = chunk_sizes.iter().cycle();
    while !rest.is_empty() {
        let size = sizes.next().copied().unwrap_or(1).min(rest.len());
        decoder.push(&rest[..size]);
        rest = &rest[size..];
        loop {
            match decoder.next_item() {
                Ok(Some(item)) => {
                    if let StreamItem::Message(frame) = &item {
                        assert!(frame.len() <= MAX_HEADER + 4 + MAX_BODY);
                    }
                    items.push(item);
                }
                Ok(None) => break,
                Err(_) => return (items, true),
            }
        }
    }
    (items, false)
}

/// What the engine does with the endpoint's events, minus the media: offers are answered
/// from their SDP (or refused with 488), REFERs accepted and reported done.
fn drain(ep: &mut Endpoint, now: Instant) {
    let local = LocalMedia {
        ip: [127, 0, 0, 1].into(),
        port: 40_000,
        session_id: 1,
        session_version: 1,
    };
    // Bounded: each event handled below adds at most a few transmits, never another event.
    for _ in 0..64 {
        while let Some(transmit) = ep.poll_transmit() {
            check_transmit(&transmit.payload);
        }
        let Some(event) = ep.poll_event() else {
            return;
        };
        let _ = match event {
            SipEvent::IncomingCall { leg, sdp, .. } => {
                match sdp.as_deref().map(|offer| negotiate(offer, local)) {
                    Some(Ok(negotiated)) => ep.accept(now, leg, &negotiated.answer_sdp),
                    Some(Err(_)) => ep.reject(now, leg, 488, None),
                    None => ep.reject(now, leg, 486, None),
                }
            }
            SipEvent::ReInvite { leg, request, sdp } => {
                let answer = sdp
                    .as_deref()
                    .map(|offer| negotiate(offer, local).map(|n| n.answer_sdp));
                match answer {
                    Some(Ok(answer)) => ep.answer_reinvite(now, leg, request, Ok(&answer)),
                    _ => ep.answer_reinvite(now, leg, request, Err(488)),
                }
            }
            SipEvent::Refer { leg, refer, .. } => ep
                .answer_refer(now, leg, refer, 202)
                .and_then(|()| ep.notify_refer(now, leg, 200, true)),
            _ => Ok(()),
        };
    }
}

/// What we send is one whole SIP message, framed by its Content-Length: a TCP peer must be
/// able to cut it, whatever the input echoed into it.
fn check_transmit(payload: &[u8]) {
    let mut decoder = StreamDecoder::new(usize::MAX, usize::MAX);
    decoder.push(payload);
    match decoder.next_item() {
        Ok(Some(StreamItem::Message(frame))) => assert_eq!(
            frame.len(),
            payload.len(),
            "a transmit frames short: {:?}",
            String::from_utf8_lossy(payload)
        ),
        other => panic!(
            "a transmit does not frame ({other:?}): {:?}",
            String::from_utf8_lossy(payload)
        ),
    }
}

/// Runs every timer (retransmissions, Timer B/H/J …) to its end.
fn run_timers(ep: &mut Endpoint, start: Instant) {
    for _ in 0..256 {
        let Some(at) = ep.poll_timeout() else {
            return;
        };
        let at = at.max(start);
        if at > start + Duration::from_secs(600) {
            return;
        }
        ep.handle_timeout(at);
        drain(ep, at);
    }
}

fn split<'a>(data: &'a [u8], separator: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let current = rest?;
        match current
            .windows(separator.len())
            .position(|w| w == separator)
        {
            Some(at) => {
                rest = Some(&current[at + separator.len()..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}
