//! SIP over WebSocket (RFC 7118) as JsSIP speaks it: a REGISTER whose Via names a made-up
//! `.invalid` host and whose Contact says `transport=ws`, answered over the connection it
//! came on; calls we place to such a phone carry `SIP/2.0/WS` and `transport=ws`, go over
//! that connection only, and end at once when the connection closes.

use super::uac::{answer, PHONE_TAG};
use super::*;
use crate::digest::{self, DigestAlgorithm};
use crate::{BindingSource, OutboundCall, RegistrarEvent, SipCredentials};
use std::collections::HashMap;

const LOGIN: &str = "op1";
const PASSWORD: &str = "pw-op1-secret";
const REALM: &str = "madoguchi";
const REQUEST_URI: &str = "sip:192.0.2.10";
/// JsSIP's Contact: a random user at a random `.invalid` host.
const JSSIP_CONTACT_URI: &str = "sip:k4b3d6pu@6hk8t1c2v2ba.invalid;transport=ws";

/// The browser's end of its WebSocket connection, as the HTTP server sees it.
fn connection() -> SocketAddr {
    "198.51.100.40:51234".parse().unwrap()
}

fn harness() -> Harness {
    let mut h = Harness::new();
    h.ep.set_credentials(HashMap::from([(
        LOGIN.to_owned(),
        SipCredentials {
            ha1_md5: Some(digest::ha1(DigestAlgorithm::Md5, LOGIN, REALM, PASSWORD)),
            ha1_sha256: None,
        },
    )]));
    h.ep.set_unix_time(1_800_000_000);
    h
}

/// A REGISTER as JsSIP 3 sends it (`authorization` answers a challenge).
fn jssip_register(cseq: u32, authorization: Option<&str>) -> String {
    let authorization = authorization
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    with_body(
        &format!(
            "REGISTER {REQUEST_URI} SIP/2.0\r\n\
Via: SIP/2.0/WS 6hk8t1c2v2ba.invalid;branch=z9hG4bK{cseq}7cf1\r\n\
Max-Forwards: 69\r\n\
To: <sip:{LOGIN}@192.0.2.10>\r\n\
From: <sip:{LOGIN}@192.0.2.10>;tag=6t0l2j1pma\r\n\
Call-ID: 0v4h6ao2f5ki1i4fq4i6\r\n\
CSeq: {cseq} REGISTER\r\n\
{authorization}\
Contact: <{JSSIP_CONTACT_URI}>;+sip.ice;reg-id=1;\
+sip.instance=\"<urn:uuid:0a3b5d7e-1f2a-4b6c-8d9e-0f1a2b3c4d5e>\";expires=600\r\n\
Expires: 600\r\n\
Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY\r\n\
Supported: path,gruu,outbound\r\n\
User-Agent: JsSIP 3.13.8\r\n"
        ),
        "",
    )
}

/// JsSIP's answer to a challenge: MD5, qop=auth.
fn md5_authorization(nonce: &str) -> String {
    let ha1 = digest::ha1(DigestAlgorithm::Md5, LOGIN, REALM, PASSWORD);
    let cnonce = "u7kqc2v1";
    let response = digest::response(
        DigestAlgorithm::Md5,
        &ha1,
        nonce,
        Some(("auth", "00000001", cnonce)),
        "REGISTER",
        REQUEST_URI,
    );
    format!(
        "Digest algorithm=MD5, username=\"{LOGIN}\", realm=\"{REALM}\", nonce=\"{nonce}\", \
uri=\"{REQUEST_URI}\", response=\"{response}\", qop=auth, cnonce=\"{cnonce}\", nc=00000001"
    )
}

fn nonce_of(reply: &str) -> String {
    let challenge = header(reply, "WWW-Authenticate").expect("a challenge");
    let start = challenge.find("nonce=\"").expect("a nonce") + 7;
    let len = challenge[start..].find('"').expect("a quoted nonce");
    challenge[start..start + len].to_owned()
}

impl Harness {
    /// One message from the browser over its WebSocket; every answer must go back over it.
    fn browser_sends(&mut self, msg: &str) -> Vec<Transmit> {
        let out = self.send_from(Transport::Ws, connection(), msg);
        for t in &out {
            assert_eq!(
                (t.transport, t.destination),
                (Transport::Ws, connection()),
                "{}",
                text(t)
            );
        }
        out
    }

    /// The JsSIP phone registered (challenge, then MD5); returns the `200 OK`.
    fn registered_over_websocket(&mut self) -> String {
        let challenge = self.browser_sends(&jssip_register(1, None));
        let nonce = nonce_of(&text(&challenge[0]));
        let ok = self.browser_sends(&jssip_register(2, Some(&md5_authorization(&nonce))));
        self.events();
        text(&ok[0])
    }

    /// Places a call to the registered JsSIP phone, as the engine rings an operator.
    fn ring_browser_phone(&mut self) -> (LegId, Transmit) {
        let binding = self.ep.bindings(LOGIN)[0].clone();
        let leg = self.ep.invite(
            self.now,
            OutboundCall {
                request_uri: binding.contact,
                destination: binding.source.addr,
                transport: binding.source.transport,
                ..super::uac::call()
            },
        );
        let out = self.transmits();
        assert_eq!(out.len(), 1, "one INVITE");
        (leg, out[0].clone())
    }
}

#[test]
fn a_jssip_register_is_challenged_and_answered_over_its_connection() {
    let mut h = harness();
    let challenge = h.browser_sends(&jssip_register(1, None));
    let challenge = text(&challenge[0]);
    assert!(challenge.starts_with("SIP/2.0 401 "), "{challenge}");
    assert!(
        header(&challenge, "Via")
            .is_some_and(|via| via.starts_with("SIP/2.0/WS 6hk8t1c2v2ba.invalid;")
                && via.contains(";received=198.51.100.40")),
        "the made-up Via host gets the connection's address: {challenge}"
    );
    let ok = h.browser_sends(&jssip_register(
        2,
        Some(&md5_authorization(&nonce_of(&challenge))),
    ));
    let ok = text(&ok[0]);
    assert!(ok.starts_with("SIP/2.0 200 OK\r\n"), "{ok}");
    assert_eq!(
        header(&ok, "Contact"),
        Some(format!("<{JSSIP_CONTACT_URI}>;expires=600").as_str()),
        "JsSIP finds its own Contact (by user) and its expiry in the 200"
    );
}

fn challenges(reply: &str) -> Vec<&str> {
    reply
        .split("\r\n")
        .filter_map(|l| l.strip_prefix("WWW-Authenticate: "))
        .collect()
}

#[test]
fn a_browser_phone_gets_one_md5_challenge_whatever_the_sites_order() {
    // JsSIP reads only the last WWW-Authenticate and knows only MD5.
    let mut h = harness();
    h.ep.set_digest_algorithms(&[DigestAlgorithm::Sha256, DigestAlgorithm::Md5]);
    let reply = text(&h.browser_sends(&jssip_register(1, None))[0]);
    let www = challenges(&reply);
    assert_eq!(www.len(), 1, "{reply}");
    assert!(www[0].contains("algorithm=MD5"), "{reply}");
    // Phones on UDP still get the site's list.
    let desk = h.send(&jssip_register(3, None).replace("SIP/2.0/WS", "SIP/2.0/UDP"));
    assert_eq!(challenges(&text(&desk[0])).len(), 2);
}

#[test]
fn a_site_without_md5_challenges_browser_phones_with_its_own_choice() {
    let mut h = harness();
    h.ep.set_digest_algorithms(&[DigestAlgorithm::Sha256]);
    let reply = text(&h.browser_sends(&jssip_register(1, None))[0]);
    let www = challenges(&reply);
    assert_eq!(www.len(), 1, "{reply}");
    assert!(www[0].contains("algorithm=SHA-256"), "{reply}");
}

#[test]
fn a_websocket_binding_is_reached_through_its_connection() {
    let mut h = harness();
    h.registered_over_websocket();
    let bindings = h.ep.bindings(LOGIN);
    assert_eq!(bindings.len(), 1);
    assert_eq!(bindings[0].contact, JSSIP_CONTACT_URI);
    assert_eq!(
        bindings[0].source,
        BindingSource {
            addr: connection(),
            transport: Transport::Ws
        }
    );
}

#[test]
fn an_invite_to_a_websocket_phone_names_ws_and_is_not_retransmitted() {
    let mut h = harness();
    h.registered_over_websocket();
    let (_, invite) = h.ring_browser_phone();
    assert_eq!(
        (invite.transport, invite.destination),
        (Transport::Ws, connection())
    );
    let invite = text(&invite);
    // rsip writes the transport parameter's value in capitals; URI comparison ignores case.
    let request_line = invite
        .lines()
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert_eq!(request_line, format!("invite {JSSIP_CONTACT_URI} sip/2.0"));
    assert!(
        header(&invite, "Via").is_some_and(|v| v.starts_with("SIP/2.0/WS 192.0.2.10:5060;")),
        "{invite}"
    );
    assert_eq!(
        header(&invite, "Contact"),
        Some("<sip:madoguchi@192.0.2.10:5060;transport=ws>")
    );
    assert!(
        h.advance(10_000).is_empty(),
        "a WebSocket is reliable: no Timer A"
    );
}

#[test]
fn requests_in_the_dialog_go_over_the_connection_whatever_the_contact_says() {
    let mut h = harness();
    h.registered_over_websocket();
    let (leg, invite) = h.ring_browser_phone();
    // An address in the phone's Contact must not lure the ACK or BYE away from the socket.
    let contact = "Contact: <sip:k4b3d6pu@192.168.1.50:5062;transport=ws>\r\n";
    let ack = h.browser_sends(&answer(
        &text(&invite),
        "200 OK",
        Some(PHONE_TAG),
        contact,
        SDP,
    ));
    assert!(text(&ack[0]).starts_with("ACK "), "{}", text(&ack[0]));
    h.events();
    h.ep.hangup(h.now, leg).expect("the leg is up");
    let bye = h.transmits();
    assert_eq!(
        (bye[0].transport, bye[0].destination),
        (Transport::Ws, connection())
    );
    assert!(text(&bye[0])
        .to_ascii_lowercase()
        .starts_with("bye sip:k4b3d6pu@192.168.1.50:5062;transport=ws "));
}

#[test]
fn a_closed_connection_removes_its_bindings_and_fails_the_ringing_invite() {
    let mut h = harness();
    h.registered_over_websocket();
    let (leg, invite) = h.ring_browser_phone();
    h.browser_sends(&answer(
        &text(&invite),
        "180 Ringing",
        Some(PHONE_TAG),
        "",
        "",
    ));
    h.events();
    h.ep.handle_flow_closed(h.now, Transport::Ws, connection());
    assert_eq!(
        h.events(),
        vec![
            SipEvent::Registration(RegistrarEvent::BindingRemoved {
                login: LOGIN.into(),
                contact: JSSIP_CONTACT_URI.into(),
            }),
            SipEvent::OutgoingFailed { leg, status: 408 },
            SipEvent::LegTerminated { leg },
        ]
    );
    assert!(h.ep.bindings(LOGIN).is_empty());
}

#[test]
fn a_closed_connection_leaves_bindings_of_other_connections() {
    let mut h = harness();
    h.registered_over_websocket();
    let other: SocketAddr = "198.51.100.40:51999".parse().unwrap();
    h.ep.handle_flow_closed(h.now, Transport::Ws, other);
    assert!(h.events().is_empty());
    assert_eq!(h.ep.bindings(LOGIN).len(), 1);
}
