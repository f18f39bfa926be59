//! Endpoint scenarios on a virtual clock: realistic request texts in, bytes and events out.
//!
//! `call_flow` covers INVITE/CANCEL/BYE/re-INVITE flows of one leg, `requests` the
//! out-of-dialog answers, malformed input, statistics and the randomised robustness tests,
//! `uac` the calls we place, `refer` blind transfers by REFER and our NOTIFYs, `websocket`
//! browser phones over RFC 7118, `prack` reliable provisionals (RFC 3262).
//! The helpers below build requests the way sipp and softphones send them.

mod call_flow;
mod caps;
mod lossy;
mod prack;
mod refer;
mod register;
mod requests;
mod tls;
mod uac;
mod websocket;

use crate::{Endpoint, EndpointConfig, LegId, SipEvent, Transmit, Transport};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub(super) const SDP: &str = "v=0\r\no=- 1 1 IN IP4 198.51.100.20\r\ns=-\r\nc=IN IP4 198.51.100.20\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";
pub(super) const ANSWER: &[u8] = b"v=0\r\no=- 2 2 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 20000 RTP/AVP 0\r\n";

pub(super) fn peer() -> SocketAddr {
    "198.51.100.20:5060".parse().unwrap()
}

pub(super) fn config() -> EndpointConfig {
    EndpointConfig {
        public_host: "192.0.2.10".into(),
        public_port: 5060,
        user_agent: "madoguchi-test".into(),
        max_message_size: 65_535,
        realm: "madoguchi".into(),
        registrar: crate::RegistrarConfig::default(),
        nonce_secret: [3; 32],
        nonce_lifetime_secs: 300,
        prack: crate::PrackPolicy::WhenRequired,
    }
}

pub(super) fn with_body(head: &str, body: &str) -> String {
    format!("{head}Content-Length: {}\r\n\r\n{body}", body.len())
}

/// The caller's INVITE (sipp uac style) with an SDP offer.
pub(super) fn invite(branch: &str, extra: &str) -> String {
    invite_call("call-1@198.51.100.20", branch, extra)
}

pub(super) fn invite_call(call_id: &str, branch: &str, extra: &str) -> String {
    with_body(
        &format!(
            "INVITE sip:0120123456@192.0.2.10:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK{branch};rport\r\n\
From: \"Sipp\" <sip:0312345678@198.51.100.20:5060>;tag=ft1\r\n\
To: <sip:0120123456@192.0.2.10:5060>\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:0312345678@198.51.100.20:5060>\r\n\
Max-Forwards: 70\r\n\
User-Agent: sipp\r\n{extra}\
Content-Type: application/sdp\r\n"
        ),
        SDP,
    )
}

/// An in-dialog request from the caller (our tag in To).
pub(super) fn in_dialog(
    method: &str,
    cseq: u32,
    branch: &str,
    our_tag: &str,
    body: &str,
) -> String {
    in_dialog_call("call-1@198.51.100.20", method, cseq, branch, our_tag, body)
}

pub(super) fn in_dialog_call(
    call_id: &str,
    method: &str,
    cseq: u32,
    branch: &str,
    our_tag: &str,
    body: &str,
) -> String {
    let ct = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    with_body(
        &format!(
            "{method} sip:192.0.2.10:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK{branch}\r\n\
From: \"Sipp\" <sip:0312345678@198.51.100.20:5060>;tag=ft1\r\n\
To: <sip:0120123456@192.0.2.10:5060>;tag={our_tag}\r\n\
Call-ID: {call_id}\r\n\
CSeq: {cseq} {method}\r\n\
Contact: <sip:0312345678@198.51.100.20:5060>\r\n\
Max-Forwards: 70\r\n{ct}"
        ),
        body,
    )
}

pub(super) fn out_of_dialog(method: &str, branch: &str) -> String {
    with_body(
        &format!(
            "{method} sip:0120123456@192.0.2.10 SIP/2.0\r\n\
Via: SIP/2.0/UDP 198.51.100.20:5060;branch=z9hG4bK{branch}\r\n\
From: <sip:0312345678@198.51.100.20>;tag=x{branch}\r\n\
To: <sip:0120123456@192.0.2.10>\r\n\
Call-ID: ood-{branch}@198.51.100.20\r\n\
CSeq: 1 {method}\r\n\
Max-Forwards: 70\r\n"
        ),
        "",
    )
}

/// A response to one of our requests, copying its addressing headers.
pub(super) fn response_to(request: &str, status: &str) -> String {
    let mut out = format!("SIP/2.0 {status}\r\n");
    for line in request.split("\r\n") {
        let lower = line.to_ascii_lowercase();
        if ["via:", "from:", "to:", "call-id:", "cseq:"]
            .iter()
            .any(|h| lower.starts_with(h))
        {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out
}

pub(super) fn text(t: &Transmit) -> String {
    String::from_utf8_lossy(&t.payload).into_owned()
}

pub(super) fn status(t: &Transmit) -> u16 {
    text(t).get(8..11).and_then(|s| s.parse().ok()).unwrap_or(0)
}

pub(super) fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.split("\r\n")
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with(&format!("{}:", name.to_ascii_lowercase()))
        })
        .map(|l| l[name.len() + 1..].trim())
}

pub(super) fn to_tag(msg: &str) -> String {
    crate::message::tag_param(header(msg, "To").unwrap()).unwrap()
}

pub(super) struct Harness {
    pub(super) ep: Endpoint,
    pub(super) t0: Instant,
    pub(super) now: Instant,
}

impl Harness {
    pub(super) fn new() -> Self {
        let t0 = Instant::now();
        Self {
            ep: Endpoint::new(config(), 42),
            t0,
            now: t0,
        }
    }

    pub(super) fn send(&mut self, msg: &str) -> Vec<Transmit> {
        self.send_from(Transport::Udp, peer(), msg)
    }

    pub(super) fn send_from(
        &mut self,
        transport: Transport,
        source: SocketAddr,
        msg: &str,
    ) -> Vec<Transmit> {
        self.ep
            .handle_input(self.now, transport, source, msg.as_bytes());
        self.transmits()
    }

    pub(super) fn transmits(&mut self) -> Vec<Transmit> {
        std::iter::from_fn(|| self.ep.poll_transmit()).collect()
    }

    pub(super) fn events(&mut self) -> Vec<SipEvent> {
        std::iter::from_fn(|| self.ep.poll_event()).collect()
    }

    /// Runs timers until `ms` after t0; returns (offset ms, transmit) pairs.
    pub(super) fn advance(&mut self, ms: u64) -> Vec<(u64, Transmit)> {
        let until = self.t0 + Duration::from_millis(ms);
        let mut out = Vec::new();
        while let Some(at) = self.ep.poll_timeout() {
            if at > until {
                break;
            }
            self.now = self.now.max(at);
            self.ep.handle_timeout(self.now);
            for t in self.transmits() {
                out.push(((self.now - self.t0).as_millis() as u64, t));
            }
        }
        self.now = self.now.max(until);
        out
    }

    /// INVITE → IncomingCall; returns the leg.
    pub(super) fn incoming(&mut self, extra: &str) -> LegId {
        self.send(&invite("inv1", extra));
        match self.events().as_slice() {
            [SipEvent::IncomingCall { leg, .. }] => *leg,
            other => panic!("expected IncomingCall, got {other:?}"),
        }
    }

    /// A call answered and ACKed; returns the leg and our To tag.
    pub(super) fn confirmed(&mut self, extra: &str) -> (LegId, String) {
        let leg = self.incoming(extra);
        self.ep.accept(self.now, leg, ANSWER).unwrap();
        let ok = self.transmits();
        let tag = to_tag(&text(&ok[0]));
        self.send(&in_dialog("ACK", 1, "ack1", &tag, ""));
        self.events();
        (leg, tag)
    }
}
