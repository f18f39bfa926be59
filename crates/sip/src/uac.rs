//! The calls we place (RFC 3261 §8.1, §13.2, §9.1): [`Endpoint::invite`] sends an INVITE in an
//! INVITE client transaction (§17.1.1) and turns its responses into `Outgoing*` events.
//!
//! A placed leg is filed under (Call-ID, our From tag) at once, so in-dialog requests from the
//! far end (BYE, re-INVITE, REFER) and late copies of its 2xx find it like any UAS leg.
//! - 1xx: `OutgoingProgress`; with a To tag it makes the early dialog (§12.1.2). A hangup
//!   before any response sends its CANCEL with the first provisional (§9.1).
//! - 2xx: the endpoint confirms the dialog and ACKs (§13.2.2.4), again for every copy of that
//!   2xx. A 2xx after our CANCEL, or from a second fork, is ACKed and BYEd at once.
//! - 401/407: one retry with the call's credentials (CSeq + 1, new branch).
//! - other finals, Timer B, an unreachable transport: `OutgoingFailed`, then `LegTerminated`.
//!
//! ```
//! # use madoguchi_sip::{Endpoint, EndpointConfig, OutboundCall, Transport};
//! # use std::time::Instant;
//! # let mut ep = Endpoint::new(EndpointConfig {
//! #     public_host: "192.0.2.10".into(), public_port: 5060,
//! #     user_agent: "madoguchi".into(), max_message_size: 65_535,
//! #     realm: "madoguchi".into(), registrar: Default::default(),
//! #     nonce_secret: [0; 32], nonce_lifetime_secs: 300, prack: Default::default(),
//! # }, 7);
//! let leg = ep.invite(Instant::now(), OutboundCall {
//!     request_uri: "sip:op1@192.0.2.30:5070".into(),
//!     destination: "192.0.2.30:5070".parse().unwrap(),
//!     transport: Transport::Udp,
//!     from_user: "0312345678".into(),
//!     from_display: None,
//!     extra_headers: vec![],
//!     sdp: b"v=0\r\n".to_vec(),
//!     credentials: None,
//! });
//! let invite = ep.poll_transmit().unwrap();
//! assert!(invite.payload.starts_with(b"INVITE sip:op1@192.0.2.30:5070 SIP/2.0\r\n"));
//! # let _ = leg;
//! ```

use crate::api::{EndpointError, OutboundCall, SipEvent, Transmit, Transport, ALLOW};
use crate::dialog::Dialog;
use crate::digest;
use crate::endpoint::{hop_address, ClientTx, Endpoint, Leg, LegState, TimerOwner};
use crate::message::{tag_param, ResponseCtx};
use crate::transaction::invite_client::build_cancel;
use crate::transaction::{
    InviteClientEvent, InviteClientTransaction, NonInviteClientTransaction, Outgoing,
    TransactionKey,
};
use crate::LegId;
use rsip::prelude::*;
use rsip::{Header, Method, Request, Response};
use std::net::SocketAddr;
use std::time::Instant;

/// An INVITE client transaction and where its messages go.
#[derive(Debug)]
pub(crate) struct InviteClientTx {
    pub machine: InviteClientTransaction,
    pub transport: Transport,
    pub peer: SocketAddr,
    pub leg: LegId,
    pub scheduled: Option<Instant>,
}

/// Where the CANCEL of a placed call stands (§9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cancel {
    /// The TU has not hung up.
    NotRequested,
    /// Hung up before any response: the CANCEL leaves with the first provisional.
    Waiting,
    /// The CANCEL was sent.
    Sent,
}

/// What a placed leg keeps beyond the fields every leg has.
#[derive(Debug)]
pub(crate) struct UacLeg {
    call: OutboundCall,
    uri: rsip::Uri,
    /// Our From value, with its tag.
    from: String,
    /// The To value (no tag).
    to: String,
    call_id: String,
    pub cancel: Cancel,
    auth_retried: bool,
    /// The credentials header of the current INVITE, repeated in the ACK of its 2xx.
    auth: Option<(&'static str, String)>,
    last_progress: Option<(u16, Option<Vec<u8>>)>,
    /// The ACK of the 2xx and where it went, sent again for each copy of that 2xx.
    ack: Option<(Vec<u8>, SocketAddr)>,
}

/// Headers the endpoint writes itself; the TU's `extra_headers` may not replace them.
const OWN_HEADERS: &[&str] = &[
    "via",
    "from",
    "to",
    "call-id",
    "cseq",
    "contact",
    "max-forwards",
    "content-type",
    "content-length",
    "authorization",
    "proxy-authorization",
];

impl Endpoint {
    /// Places a call: sends the INVITE and returns its leg. Everything else arrives as events
    /// (`OutgoingProgress`, `OutgoingAnswered` or `OutgoingFailed`, then those of any leg). A
    /// Request-URI that does not parse fails at once with `OutgoingFailed { status: 400 }`.
    pub fn invite(&mut self, now: Instant, call: OutboundCall) -> LegId {
        let leg = self.reserve_leg();
        self.invite_on(now, leg, call);
        leg
    }

    /// A leg id for a call placed later with [`Endpoint::invite_on`]: the caller needs the
    /// id before the INVITE (its RTP port, named in the SDP offer, is bound under it).
    pub fn reserve_leg(&mut self) -> LegId {
        self.new_leg_id()
    }

    /// [`Endpoint::invite`] on a leg id from [`Endpoint::reserve_leg`].
    pub fn invite_on(&mut self, now: Instant, leg: LegId, call: OutboundCall) {
        let Some(uri) = request_uri(&call.request_uri) else {
            tracing::debug!(%leg, "outbound Request-URI does not parse");
            self.events
                .push_back(SipEvent::OutgoingFailed { leg, status: 400 });
            self.events.push_back(SipEvent::LegTerminated { leg });
            return;
        };
        let tag = self.tag();
        let call_id = self.token(24);
        let from = from_value(&call, &self.host_port(), &tag);
        let to = format!("<{uri}>");
        let dialog = Dialog::new_uac(&call_id, &from, &to, &uri.to_string(), 1);
        let (transport, destination) = (call.transport, call.destination);
        let uac = UacLeg {
            call,
            uri,
            from,
            to,
            call_id: call_id.clone(),
            cancel: Cancel::NotRequested,
            auth_retried: false,
            auth: None,
            last_progress: None,
            ack: None,
        };
        let (key, request) = self.build_invite(&uac, 1);
        self.dialogs.insert((call_id, tag), leg);
        self.legs.insert(
            leg,
            Leg {
                state: LegState::Calling,
                invite_tx: key.clone(),
                invite_cseq: 1,
                ctx: empty_ctx(),
                dialog,
                transport,
                source: destination,
                reinvite: None,
                unacked: Vec::new(),
                hangup_requested: false,
                bye_tx: None,
                uac: Some(Box::new(uac)),
                refer: None,
                prack: None,
            },
        );
        tracing::debug!(%leg, ?transport, "outgoing call");
        self.start_invite(now, leg, key, request);
    }

    /// The peer at `destination` cannot be reached over `transport` (e.g. a refused TCP
    /// connection): INVITEs to it that heard nothing yet fail with 408 at once instead of
    /// waiting for Timer B.
    pub fn handle_transport_failure(
        &mut self,
        now: Instant,
        transport: Transport,
        destination: SocketAddr,
    ) {
        self.fail_invites(now, transport, destination, false);
    }

    /// INVITEs to `destination` without a final response fail (408, or 487 after our
    /// CANCEL): those that heard nothing yet, and with `ringing_too` those ringing as well.
    pub(crate) fn fail_invites(
        &mut self,
        now: Instant,
        transport: Transport,
        destination: SocketAddr,
        ringing_too: bool,
    ) {
        let keys: Vec<TransactionKey> = self
            .invite_client_txs
            .iter()
            .filter(|(_, tx)| {
                let unanswered =
                    tx.machine.is_calling() || (ringing_too && !tx.machine.is_terminated());
                tx.transport == transport && tx.peer == destination && unanswered
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in keys {
            if let Some(mut tx) = self.invite_client_txs.remove(&key) {
                tx.machine.abandon();
                self.outgoing_timed_out(now, tx.leg, &key);
            }
        }
    }

    /// `hangup` of a placed leg before its final response: CANCEL now, or once a provisional
    /// shows the INVITE arrived (§9.1).
    pub(crate) fn cancel_outgoing(
        &mut self,
        now: Instant,
        leg: LegId,
    ) -> Result<(), EndpointError> {
        let l = self
            .legs
            .get_mut(&leg)
            .ok_or(EndpointError::UnknownLeg(leg))?;
        let heard = self
            .invite_client_txs
            .get(&l.invite_tx)
            .is_some_and(|tx| !tx.machine.is_calling());
        let uac = l
            .uac
            .as_mut()
            .filter(|u| u.cancel == Cancel::NotRequested)
            .ok_or(EndpointError::InvalidState(leg))?;
        if heard {
            self.send_cancel(now, leg);
        } else {
            uac.cancel = Cancel::Waiting;
        }
        Ok(())
    }

    /// A response whose CSeq method is INVITE: to its client transaction, or (a copy of a
    /// 2xx after the transaction ended) to the leg of its dialog.
    pub(crate) fn handle_invite_response(
        &mut self,
        now: Instant,
        key: TransactionKey,
        response: Response,
    ) {
        if let Some(tx) = self.invite_client_txs.get_mut(&key) {
            tx.machine.receive_response(now, response);
            self.flush_invite_client(now, &key);
            return;
        }
        let leg = (200..300)
            .contains(&response.status_code.code())
            .then(|| response_dialog(&response))
            .flatten()
            .and_then(|id| self.dialogs.get(&id).copied())
            .filter(|leg| self.legs.get(leg).is_some_and(|l| l.uac.is_some()));
        match leg {
            Some(leg) => self.outgoing_success(now, leg, None, &response),
            None => self.stats.dropped += 1,
        }
    }

    /// A Timer of an INVITE client transaction fired.
    pub(crate) fn invite_client_timeout(&mut self, now: Instant, key: &TransactionKey) {
        let Some(tx) = self.invite_client_txs.get_mut(key) else {
            return;
        };
        if tx.machine.poll_timeout().is_none_or(|(at, _)| at > now) {
            return;
        }
        tx.scheduled = None;
        tx.machine.handle_timeout(now);
        self.flush_invite_client(now, key);
    }

    fn start_invite(&mut self, now: Instant, leg: LegId, key: TransactionKey, request: Request) {
        let Some(l) = self.legs.get(&leg) else {
            return;
        };
        let (transport, peer) = (l.transport, l.source);
        self.stats.request_out(&Method::Invite);
        let machine = InviteClientTransaction::new(now, transport.is_reliable(), request);
        self.invite_client_txs.insert(
            key.clone(),
            InviteClientTx {
                machine,
                transport,
                peer,
                leg,
                scheduled: None,
            },
        );
        self.flush_invite_client(now, &key);
    }

    /// Drains an INVITE client transaction, then acts on its events.
    fn flush_invite_client(&mut self, now: Instant, key: &TransactionKey) {
        let Some(tx) = self.invite_client_txs.get_mut(key) else {
            return;
        };
        let out: Vec<Outgoing> = std::iter::from_fn(|| tx.machine.poll_transmit()).collect();
        let events: Vec<InviteClientEvent> =
            std::iter::from_fn(|| tx.machine.poll_event()).collect();
        let (transport, peer, leg, terminated) =
            (tx.transport, tx.peer, tx.leg, tx.machine.is_terminated());
        let reschedule = tx
            .machine
            .poll_timeout()
            .map(|(at, _)| at)
            .filter(|at| tx.scheduled != Some(*at));
        if let Some(at) = reschedule {
            tx.scheduled = Some(at);
        }
        self.send_all(transport, peer, out);
        if let (Some(at), false) = (reschedule, terminated) {
            self.schedule(at, TimerOwner::InviteClient(key.clone()));
        }
        if terminated {
            self.invite_client_txs.remove(key);
        }
        for event in events {
            match event {
                InviteClientEvent::Provisional(r) => self.outgoing_provisional(now, leg, key, &r),
                InviteClientEvent::Accepted(r) => self.outgoing_success(now, leg, Some(key), &r),
                InviteClientEvent::Rejected(r) => self.outgoing_rejected(now, leg, key, &r),
                InviteClientEvent::TimedOut => self.outgoing_timed_out(now, leg, key),
            }
        }
    }

    /// The leg, if `key` is its current INVITE and no final response arrived yet.
    fn calling_leg(&mut self, leg: LegId, key: &TransactionKey) -> Option<&mut Leg> {
        self.legs
            .get_mut(&leg)
            .filter(|l| l.state == LegState::Calling && l.invite_tx == *key && l.uac.is_some())
    }

    fn outgoing_provisional(
        &mut self,
        now: Instant,
        leg: LegId,
        key: &TransactionKey,
        response: &Response,
    ) {
        let status = response.status_code.code();
        let Some(l) = self.calling_leg(leg, key) else {
            return;
        };
        // Only the first early dialog is followed (no forking support).
        let tag = response.to_header().ok().and_then(|t| tag_param(t.value()));
        let remote = &l.dialog.id().remote_tag;
        let followed = tag.is_some_and(|t| remote.is_empty() || *remote == t);
        if status > 100 && followed {
            l.dialog.establish(response);
        }
        let Some(uac) = l.uac.as_mut() else {
            return;
        };
        match uac.cancel {
            Cancel::Waiting => return self.send_cancel(now, leg),
            Cancel::Sent => return,
            Cancel::NotRequested if status == 100 => return,
            Cancel::NotRequested => {}
        }
        let progress = (status, body(response));
        if uac.last_progress.as_ref() != Some(&progress) {
            uac.last_progress = Some(progress.clone());
            let (status, sdp) = progress;
            self.events
                .push_back(SipEvent::OutgoingProgress { leg, status, sdp });
        }
    }

    /// A 2xx: from the current transaction (`key`), or a copy after it ended (`None`).
    fn outgoing_success(
        &mut self,
        now: Instant,
        leg: LegId,
        key: Option<&TransactionKey>,
        response: &Response,
    ) {
        let tag = response
            .to_header()
            .ok()
            .and_then(|t| tag_param(t.value()))
            .unwrap_or_default();
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let first = l.state == LegState::Calling && key.is_some_and(|k| *k == l.invite_tx);
        let Some(uac) = l.uac.as_ref() else {
            return;
        };
        if !first {
            let again = match &uac.ack {
                Some((ack, to)) if l.dialog.matches_remote_tag(&tag) => Some(Transmit {
                    transport: l.transport,
                    destination: *to,
                    payload: ack.clone(),
                }),
                _ => None,
            };
            match again {
                Some(t) => {
                    self.stats.retransmissions += 1;
                    self.transmits.push_back(t);
                }
                None => self.refuse_dialog(now, leg, response),
            }
            return;
        }
        let cancelled = uac.cancel != Cancel::NotRequested;
        l.dialog.establish(response);
        l.dialog.confirm();
        l.state = LegState::Confirmed;
        self.send_success_ack(leg);
        if cancelled {
            // §15: a 2xx that crossed our CANCEL ends with a BYE.
            tracing::debug!(%leg, "answered after CANCEL: BYE");
            self.events
                .push_back(SipEvent::OutgoingFailed { leg, status: 487 });
            self.send_bye(now, leg);
        } else {
            tracing::info!(%leg, "outgoing call answered");
            self.events.push_back(SipEvent::OutgoingAnswered {
                leg,
                sdp: body(response),
            });
        }
    }

    fn outgoing_rejected(
        &mut self,
        now: Instant,
        leg: LegId,
        key: &TransactionKey,
        response: &Response,
    ) {
        let status = response.status_code.code();
        let Some(l) = self.calling_leg(leg, key) else {
            return;
        };
        let may_retry = l.uac.as_ref().is_some_and(|u| {
            u.cancel == Cancel::NotRequested && !u.auth_retried && u.call.credentials.is_some()
        });
        if matches!(status, 401 | 407)
            && may_retry
            && self.retry_with_credentials(now, leg, response)
        {
            return;
        }
        self.fail_outgoing(leg, status);
    }

    fn outgoing_timed_out(&mut self, _now: Instant, leg: LegId, key: &TransactionKey) {
        let Some(l) = self.calling_leg(leg, key) else {
            return;
        };
        // After our CANCEL the request counts as terminated (§9.1); otherwise it timed out.
        let cancelled = l.uac.as_ref().is_some_and(|u| u.cancel == Cancel::Sent);
        self.fail_outgoing(leg, if cancelled { 487 } else { 408 });
    }

    fn fail_outgoing(&mut self, leg: LegId, status: u16) {
        tracing::info!(%leg, status, "outgoing call failed");
        self.events
            .push_back(SipEvent::OutgoingFailed { leg, status });
        self.end_leg(leg);
    }

    /// Answers a 401/407 once (§22.2): the same INVITE with CSeq + 1, a new branch and the
    /// credentials. False when no challenge can be answered.
    fn retry_with_credentials(&mut self, now: Instant, leg: LegId, response: &Response) -> bool {
        let proxy = response.status_code.code() == 407;
        let challenge = response
            .headers
            .iter()
            .filter_map(|h| match h {
                Header::WwwAuthenticate(v) if !proxy => Some(v.value()),
                Header::ProxyAuthenticate(v) if proxy => Some(v.value()),
                _ => None,
            })
            .find_map(|v| digest::parse_challenge(v).ok());
        let Some(challenge) = challenge else {
            return false;
        };
        let cnonce = self.token(16);
        let Some(l) = self.legs.get_mut(&leg) else {
            return false;
        };
        let cseq = l.invite_cseq.wrapping_add(1);
        let Some(uac) = l.uac.as_mut() else {
            return false;
        };
        let Some((user, password)) = &uac.call.credentials else {
            return false;
        };
        let uri = uac.uri.to_string();
        let value = digest::authorization(&challenge, user, password, "INVITE", &uri, &cnonce);
        let name = if proxy {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        uac.auth = Some((name, value));
        uac.auth_retried = true;
        l.dialog = Dialog::new_uac(&uac.call_id, &uac.from, &uac.to, &uri, cseq);
        let Some(uac) = l.uac.take() else {
            return false;
        };
        let (key, request) = self.build_invite(&uac, cseq);
        let Some(l) = self.legs.get_mut(&leg) else {
            return false;
        };
        l.uac = Some(uac);
        l.invite_tx = key.clone();
        l.invite_cseq = cseq;
        tracing::debug!(%leg, proxy, "INVITE challenged: retrying with credentials");
        self.start_invite(now, leg, key, request);
        true
    }

    fn send_cancel(&mut self, now: Instant, leg: LegId) {
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let key = l.invite_tx.clone();
        if let Some(uac) = l.uac.as_mut() {
            uac.cancel = Cancel::Sent;
        }
        let Some(tx) = self.invite_client_txs.get_mut(&key) else {
            return;
        };
        let bytes = build_cancel(tx.machine.request(), &self.config.user_agent);
        tx.machine.cancel_sent(now);
        let (transport, peer) = (tx.transport, tx.peer);
        let cancel_key = TransactionKey::new(key.branch.clone(), Method::Cancel);
        self.stats.request_out(&Method::Cancel);
        let machine = NonInviteClientTransaction::new(now, transport.is_reliable(), bytes);
        self.client_txs.insert(
            cancel_key.clone(),
            ClientTx {
                machine,
                transport,
                peer,
                leg,
                scheduled: None,
            },
        );
        self.flush_client(now, &cancel_key);
        self.flush_invite_client(now, &key);
    }

    /// ACKs the 2xx that confirmed the leg's dialog (§13.2.2.4) and keeps the ACK for copies.
    fn send_success_ack(&mut self, leg: LegId) {
        let branch = self.branch();
        let Some(transport) = self.legs.get(&leg).map(|l| l.transport) else {
            return;
        };
        let via = self.via(transport, &branch);
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let Some(uac) = l.uac.as_mut() else {
            return;
        };
        let extra: Vec<(&str, String)> = uac.auth.iter().map(|(n, v)| (*n, v.clone())).collect();
        let ack = l
            .dialog
            .build_ack(l.invite_cseq, &via, &self.config.user_agent, &extra);
        let destination = hop_address(transport, &ack.next_hop, l.source);
        uac.ack = Some((ack.bytes.clone(), destination));
        self.stats.request_out(&Method::Ack);
        self.transmits.push_back(Transmit {
            transport,
            destination,
            payload: ack.bytes,
        });
    }

    /// A 2xx for a dialog the leg does not follow (another fork, or after the leg moved
    /// on): ACK it and BYE it at once, reporting nothing.
    fn refuse_dialog(&mut self, now: Instant, leg: LegId, response: &Response) {
        let ack_branch = self.branch();
        let bye_branch = self.branch();
        let Some(l) = self.legs.get(&leg) else {
            return;
        };
        let Some(uac) = l.uac.as_ref() else {
            return;
        };
        let cseq = response
            .cseq_header()
            .ok()
            .and_then(|c| c.seq().ok())
            .unwrap_or(l.invite_cseq);
        let mut dialog =
            Dialog::new_uac(&uac.call_id, &uac.from, &uac.to, &uac.uri.to_string(), cseq);
        dialog.establish(response);
        let (transport, fallback) = (l.transport, l.source);
        let ua = &self.config.user_agent;
        let ack = dialog.build_ack(cseq, &self.via(transport, &ack_branch), ua, &[]);
        let bye = dialog.build_request(Method::Bye, &self.via(transport, &bye_branch), ua);
        let peer = hop_address(transport, &ack.next_hop, fallback);
        tracing::debug!(%leg, "2xx from a dialog not followed: ACK and BYE");
        self.stats.request_out(&Method::Ack);
        self.transmits.push_back(Transmit {
            transport,
            destination: peer,
            payload: ack.bytes,
        });
        let key = TransactionKey::new(bye_branch, Method::Bye);
        self.stats.request_out(&Method::Bye);
        let machine = NonInviteClientTransaction::new(now, transport.is_reliable(), bye.bytes);
        self.client_txs.insert(
            key.clone(),
            ClientTx {
                machine,
                transport,
                peer,
                leg,
                scheduled: None,
            },
        );
        self.flush_client(now, &key);
    }

    /// Our Contact on placed legs.
    pub(crate) fn uac_contact(&self, transport: Transport) -> String {
        match transport {
            Transport::Udp => format!("<sip:madoguchi@{}>", self.host_port()),
            Transport::Tcp => format!("<sip:madoguchi@{};transport=tcp>", self.host_port()),
            Transport::Ws => format!("<sip:madoguchi@{};transport=ws>", self.host_port()),
            Transport::Tls => format!(
                "<sip:madoguchi@{};transport=tls>",
                self.host_port_for(transport)
            ),
        }
    }

    /// The INVITE number `cseq` of a placed leg, with a fresh branch.
    fn build_invite(&mut self, uac: &UacLeg, cseq: u32) -> (TransactionKey, Request) {
        use rsip::headers::*;
        let transport = uac.call.transport;
        let branch = self.branch();
        let mut headers = rsip::Headers::default();
        headers.push(Header::Via(Via::new(self.via(transport, &branch))));
        headers.push(Header::MaxForwards(MaxForwards::new("70")));
        headers.push(Header::From(From::new(uac.from.as_str())));
        headers.push(Header::To(To::new(uac.to.as_str())));
        headers.push(Header::CallId(CallId::new(uac.call_id.as_str())));
        headers.push(Header::CSeq(CSeq::new(format!("{cseq} INVITE"))));
        headers.push(Header::Contact(Contact::new(self.uac_contact(transport))));
        headers.push(Header::UserAgent(UserAgent::new(
            self.config.user_agent.as_str(),
        )));
        headers.push(Header::Allow(Allow::new(ALLOW)));
        if let Some((name, value)) = &uac.auth {
            headers.push(Header::Other((*name).to_owned(), value.clone()));
        }
        for (name, value) in &uac.call.extra_headers {
            if let Some((name, value)) = sanitize_header(name, value) {
                headers.push(Header::Other(name, value));
            }
        }
        headers.push(Header::ContentType(ContentType::new("application/sdp")));
        headers.push(Header::ContentLength(ContentLength::new(
            uac.call.sdp.len().to_string(),
        )));
        let request = Request {
            method: Method::Invite,
            uri: uac.uri.clone(),
            version: rsip::Version::V2,
            headers,
            body: uac.call.sdp.clone(),
        };
        (TransactionKey::new(branch, Method::Invite), request)
    }
}

/// A `sip:`/`sips:` Request-URI without blanks (rsip alone accepts almost any text).
fn request_uri(text: &str) -> Option<rsip::Uri> {
    let lower = text
        .get(..5)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let sip = lower.starts_with("sip:") || lower == "sips:";
    let clean = !text
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control());
    let uri = rsip::Uri::try_from(text).ok()?;
    (sip && clean && text.len() > 4).then_some(uri)
}

/// Placed legs answer no INVITE: their response context stays empty.
fn empty_ctx() -> ResponseCtx {
    ResponseCtx {
        vias: Vec::new(),
        from: None,
        to: None,
        call_id: None,
        cseq: String::new(),
        record_route: Vec::new(),
    }
}

fn body(response: &Response) -> Option<Vec<u8>> {
    (!response.body.is_empty()).then(|| response.body.clone())
}

/// The (Call-ID, local tag) a response to our request belongs to: our tag is in From.
fn response_dialog(response: &Response) -> Option<(String, String)> {
    let call_id = response.call_id_header().ok()?.value().to_owned();
    let tag = tag_param(response.from_header().ok()?.value())?;
    Some((call_id, tag))
}

/// Our From: `"display" <sip:user@host:port>;tag=…`, with the user escaped (§25.1) and the
/// display name quoted, so caller data cannot break the header.
fn from_value(call: &OutboundCall, host_port: &str, tag: &str) -> String {
    let user = escape_user(&call.from_user);
    let uri = if user.is_empty() {
        format!("sip:{host_port}")
    } else {
        format!("sip:{user}@{host_port}")
    };
    let display = call
        .from_display
        .as_deref()
        .map(quote_display)
        .filter(|d| !d.is_empty());
    match display {
        Some(d) => format!("\"{d}\" <{uri}>;tag={tag}"),
        None => format!("<{uri}>;tag={tag}"),
    }
}

/// Percent-escapes what RFC 3261's `user` rule does not allow; valid escapes stay as they are.
fn escape_user(user: &str) -> String {
    let bytes = user.as_bytes();
    let mut out = String::with_capacity(user.len());
    for (i, &b) in bytes.iter().enumerate() {
        let escape_ok = b == b'%'
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
        if b.is_ascii_alphanumeric() || b"-_.!~*'()&=+$,;?/".contains(&b) || escape_ok {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The inside of a quoted-string: control characters dropped, `"` and `\` escaped.
fn quote_display(display: &str) -> String {
    display
        .chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '"' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

/// A TU header as it may go on the wire: a token name that is not one of ours, and a value
/// without control characters (no header injection through CR/LF).
fn sanitize_header(name: &str, value: &str) -> Option<(String, String)> {
    let name = name.trim();
    let token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b));
    if !token || OWN_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        tracing::debug!("extra header with an invalid or reserved name skipped");
        return None;
    }
    let value: String = value
        .chars()
        .filter(|c| *c == '\t' || !c.is_control())
        .collect();
    Some((name.to_owned(), value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_part_is_escaped_but_valid_escapes_and_plus_stay() {
        assert_eq!(escape_user("+81312345678"), "+81312345678");
        assert_eq!(escape_user("a b@c>"), "a%20b%40c%3E");
        assert_eq!(escape_user("x%41"), "x%41");
        assert_eq!(escape_user("100%"), "100%25");
    }

    #[test]
    fn display_name_cannot_break_out_of_its_quotes() {
        assert_eq!(quote_display("A \"B\"\r\n\\"), "A \\\"B\\\"\\\\");
        assert_eq!(quote_display("山田"), "山田");
    }

    #[test]
    fn extra_headers_lose_line_breaks_and_cannot_replace_ours() {
        assert_eq!(
            sanitize_header("X-Madoguchi-Call-Id", "42\r\nVia: evil"),
            Some(("X-Madoguchi-Call-Id".into(), "42Via: evil".into()))
        );
        assert_eq!(sanitize_header("CSeq", "9 INVITE"), None);
        assert_eq!(sanitize_header("Bad Name", "v"), None);
        assert_eq!(sanitize_header("", "v"), None);
    }
}
