//! SIP over TLS (RFC 3261 §26): answered over the connection a request came on, with our
//! Via and Contact naming `TLS` and the TLS port; no retransmissions (a reliable transport);
//! a phone registered over TLS is reached over its connection only.

use super::*;

const TLS_PORT: u16 = 5061;

/// A phone's end of its TLS connection.
fn connection() -> SocketAddr {
    "198.51.100.50:40001".parse().unwrap()
}

fn harness() -> Harness {
    let mut h = Harness::new();
    h.ep.set_tls_port(TLS_PORT);
    h
}

fn options_over_tls() -> String {
    out_of_dialog("OPTIONS", "tls1").replace("SIP/2.0/UDP", "SIP/2.0/TLS")
}

#[test]
fn an_options_over_tls_is_answered_over_its_connection() {
    let mut h = harness();
    let replies = h.send_from(Transport::Tls, connection(), &options_over_tls());
    assert_eq!(replies.len(), 1, "{replies:?}");
    assert_eq!(replies[0].transport, Transport::Tls);
    assert_eq!(replies[0].destination, connection());
    assert_eq!(status(&replies[0]), 200);
}

#[test]
fn our_contact_on_tls_names_the_tls_port_and_transport() {
    let mut h = harness();
    let invite = invite("tls2", "").replace("SIP/2.0/UDP", "SIP/2.0/TLS");
    h.send_from(Transport::Tls, connection(), &invite);
    let leg = match h.events().as_slice() {
        [SipEvent::IncomingCall { leg, .. }] => *leg,
        other => panic!("expected IncomingCall, got {other:?}"),
    };
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    let ok = h.transmits();
    let ok = ok.iter().find(|t| status(t) == 200).expect("a 200");
    assert_eq!(ok.transport, Transport::Tls);
    let contact = header(&text(ok), "Contact").unwrap_or_default().to_owned();
    assert_eq!(
        contact,
        format!("<sip:192.0.2.10:{TLS_PORT};transport=tls>")
    );
}

#[test]
fn a_final_response_over_tls_is_not_retransmitted() {
    let mut h = harness();
    let invite = invite("tls3", "").replace("SIP/2.0/UDP", "SIP/2.0/TLS");
    h.send_from(Transport::Tls, connection(), &invite);
    let leg = match h.events().as_slice() {
        [SipEvent::IncomingCall { leg, .. }] => *leg,
        other => panic!("expected IncomingCall, got {other:?}"),
    };
    h.ep.accept(h.now, leg, ANSWER).unwrap();
    h.transmits();
    let later = h.advance(4_000);
    assert!(
        later.iter().all(|(_, t)| status(t) != 200),
        "retransmitted over TLS: {later:?}"
    );
}

#[test]
fn tls_is_a_reliable_connection_bound_transport() {
    assert!(Transport::Tls.is_reliable());
    assert!(Transport::Tls.is_connection_bound());
}
