//! How the endpoint handles each incoming message (RFC 3261 §8.2, §12.2.2, §15, §9.2).
//!
//! Order of checks for a request: ACK (never answered) → retransmission of a known
//! transaction → Max-Forwards → CANCEL → in-dialog (To tag) → merged request (§8.2.2.2) →
//! Require (§8.2.2.3) → method. A request rsip cannot parse is answered statelessly from the
//! scanned header lines (400, or 501 for an unknown method) or dropped and counted.

use crate::caps::CapExceeded;
use crate::dialog::Dialog;
use crate::endpoint::{
    cseq_number, Endpoint, Leg, LegState, MergeKey, PendingReInvite, ServerMachine, ServerTx,
    SipEvent, Transport, ALLOW,
};
use crate::message::{display_name, tag_param, uri_user, Reply, ResponseCtx};
use crate::parse::{parse_message_limited, scan_request, ParseError};
use crate::prack::{Reliability, ReliableLeg};
use crate::transaction::{InviteServerTransaction, NonInviteServerTransaction, TransactionKey};
use crate::LegId;
use rand::Rng;
use rsip::prelude::*;
use rsip::{Header, Method, Request, Response, SipMessage};
use std::net::SocketAddr;
use std::time::Instant;

/// Everything needed to answer a request the endpoint has decided about.
pub(crate) struct Incoming {
    pub(crate) key: TransactionKey,
    pub(crate) transport: Transport,
    pub(crate) source: SocketAddr,
    pub(crate) ctx: ResponseCtx,
}

impl Endpoint {
    /// One datagram (UDP) or one framed message (TCP) from `source`.
    pub fn handle_input(
        &mut self,
        now: Instant,
        transport: Transport,
        source: SocketAddr,
        payload: &[u8],
    ) {
        if payload
            .iter()
            .all(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0))
        {
            // CRLF keep-alives that some UDP peers send (RFC 5626 itself uses STUN on UDP).
            return;
        }
        match parse_message_limited(payload, self.config.max_message_size) {
            Ok(SipMessage::Request(request)) => {
                self.stats.request_in(&request.method);
                self.handle_request(now, transport, source, request);
            }
            Ok(SipMessage::Response(response)) => {
                self.stats.response_in(response.status_code.code());
                self.handle_response(now, response);
            }
            Err(err) => {
                self.stats.parse_errors += 1;
                tracing::debug!(%err, bytes = payload.len(), "unparseable SIP input");
                self.answer_malformed(transport, source, payload, &err);
            }
        }
    }

    fn answer_malformed(
        &mut self,
        transport: Transport,
        source: SocketAddr,
        payload: &[u8],
        err: &ParseError,
    ) {
        let scanned = match err {
            ParseError::TooLarge { .. } | ParseError::Empty => None,
            _ if payload.starts_with(b"SIP/") => None,
            _ => scan_request(payload),
        };
        let Some(scanned) = scanned.filter(|s| !s.method.eq_ignore_ascii_case("ACK")) else {
            self.stats.dropped += 1;
            return;
        };
        let ctx = ResponseCtx::from_scanned(&scanned, source);
        let tag = self.tag();
        let phrase = err.reason_phrase();
        let reply = match err {
            ParseError::UnknownMethod(_) => Reply::new(501).tag(&tag).header("Allow", ALLOW),
            _ => Reply::new(400).tag(&tag).reason(&phrase),
        };
        let payload = self.encode(&ctx, &reply);
        self.send_stateless(transport, source, payload);
    }

    fn handle_request(
        &mut self,
        now: Instant,
        transport: Transport,
        source: SocketAddr,
        request: Request,
    ) {
        let Some((branch, sent_by)) = top_branch(&request) else {
            self.stats.dropped += 1;
            return;
        };
        let key = TransactionKey::server(branch, request.method, &sent_by);
        if request.method == Method::Ack {
            self.handle_ack(now, &key, &request);
            return;
        }
        if let Some(tx) = self.server_txs.get_mut(&key) {
            match &mut tx.machine {
                ServerMachine::Invite(m) => m.receive_retransmission(),
                ServerMachine::NonInvite(m) => m.receive_retransmission(),
            }
            self.flush_server(now, &key);
            return;
        }
        let ctx = ResponseCtx::from_request(&request, source);
        let inc = Incoming {
            key,
            transport,
            source,
            ctx,
        };
        let max_forwards = request
            .max_forwards_header()
            .ok()
            .and_then(|m| m.num().ok());
        if max_forwards == Some(0) {
            return self.reply(now, inc, Reply::new(483));
        }
        if request.method == Method::Cancel {
            return self.handle_cancel(now, inc);
        }
        let to_tag = request.to_header().ok().and_then(|t| tag_param(t.value()));
        if let Some(to_tag) = to_tag {
            return self.handle_in_dialog(now, inc, &request, &to_tag);
        }
        if let Err(cap) = self.within_transaction_caps(source) {
            return self.refuse_over_cap(inc, cap);
        }
        let merge_key = merge_key(&request);
        if let Some(existing) = merge_key.as_ref().and_then(|mk| self.merged.get(mk)) {
            if *existing != inc.key {
                return self.reply(now, inc, Reply::new(482));
            }
        }
        if let Some(tags) = required_extensions(&request) {
            return self.reply(now, inc, Reply::new(420).header("Unsupported", tags));
        }
        match request.method {
            Method::Invite => self.handle_new_invite(now, inc, &request, merge_key),
            Method::Options => match self.unavailable_retry_after {
                Some(secs) => {
                    let reply = Reply::new(503).header("Retry-After", secs.to_string());
                    self.reply(now, inc, reply)
                }
                None => self.reply(now, inc, options_reply()),
            },
            Method::Register => self.handle_register(now, inc, &request),
            Method::Bye | Method::Info | Method::Notify | Method::PRack => {
                self.reply(now, inc, Reply::new(481))
            }
            Method::Refer => {
                let reply = Reply::new(403).reason("Forbidden - REFER Outside a Dialog");
                self.reply(now, inc, reply)
            }
            _ => self.reply(now, inc, Reply::new(405).header("Allow", ALLOW)),
        }
    }

    /// Answers a request with a fresh transaction and one final response (our To tag is
    /// added unless the request already has one).
    pub(crate) fn reply(&mut self, now: Instant, inc: Incoming, reply: Reply<'_>) {
        let reliable = inc.transport.is_reliable();
        let machine = if inc.key.method == Method::Invite {
            ServerMachine::Invite(InviteServerTransaction::new(reliable))
        } else {
            ServerMachine::NonInvite(NonInviteServerTransaction::new(reliable))
        };
        self.server_txs.insert(
            inc.key.clone(),
            ServerTx::new(machine, inc.transport, inc.source, None, None),
        );
        let reply = reply.tag(self.tag());
        let status = reply.status;
        let payload = self.encode(&inc.ctx, &reply);
        self.respond_tx(now, &inc.key, status, payload);
    }

    fn handle_new_invite(
        &mut self,
        now: Instant,
        inc: Incoming,
        request: &Request,
        merge_key: Option<MergeKey>,
    ) {
        if let Err(cap) = self.within_dialog_caps(inc.source) {
            return self.refuse_over_cap(inc, cap);
        }
        if !sdp_body_acceptable(request) {
            return self.reply(
                now,
                inc,
                Reply::new(415).header("Accept", "application/sdp"),
            );
        }
        let local_tag = self.tag();
        let dialog = match Dialog::new_uas(request, &local_tag) {
            Ok(d) => d,
            Err(err) => {
                tracing::debug!(%err, "INVITE cannot establish a dialog");
                let reason = match err {
                    crate::DialogError::MissingContact => "Bad Request - Missing Contact",
                    _ => "Bad Request - Missing From Tag",
                };
                return self.reply(now, inc, Reply::new(400).reason(reason));
            }
        };
        let leg = self.new_leg_id();
        if let Some(mk) = &merge_key {
            self.merged.insert(mk.clone(), inc.key.clone());
        }
        self.server_txs.insert(
            inc.key.clone(),
            ServerTx {
                machine: ServerMachine::Invite(InviteServerTransaction::new(
                    inc.transport.is_reliable(),
                )),
                transport: inc.transport,
                peer: inc.source,
                leg: Some(leg),
                merge_key,
                scheduled: None,
            },
        );
        let trying = self.encode(&inc.ctx, &Reply::new(100));
        self.respond_tx(now, &inc.key, 100, trying);

        let from = request
            .from_header()
            .map(|f| f.value().to_owned())
            .unwrap_or_default();
        let call_id = dialog.id().call_id.clone();
        self.dialogs.insert((call_id.clone(), local_tag), leg);
        let prack = Reliability::of(request)
            .applies(self.config.prack)
            .then(|| Box::new(ReliableLeg::new(self.rng.gen_range(1..(1u32 << 31)))));
        self.legs.insert(
            leg,
            Leg {
                state: LegState::Offered,
                invite_tx: inc.key,
                invite_cseq: cseq_number(&inc.ctx.cseq),
                ctx: inc.ctx,
                dialog,
                transport: inc.transport,
                source: inc.source,
                reinvite: None,
                unacked: Vec::new(),
                hangup_requested: false,
                bye_tx: None,
                uac: None,
                refer: None,
                prack,
            },
        );
        tracing::info!(%leg, transport = ?inc.transport, "incoming call");
        self.events.push_back(SipEvent::IncomingCall {
            leg,
            call_id,
            from_user: uri_user(&from).unwrap_or_default(),
            from_display: display_name(&from),
            to_user: request.uri.user().unwrap_or_default().to_owned(),
            source: inc.source,
            transport: inc.transport,
            sdp: (!request.body.is_empty()).then(|| request.body.clone()),
            headers: extension_headers(request),
        });
    }

    fn handle_ack(&mut self, now: Instant, key: &TransactionKey, request: &Request) {
        // An ACK sharing the INVITE's branch acknowledges a non-2xx final (§17.2.1).
        if let Some(tx) = self.server_txs.get_mut(key) {
            if let ServerMachine::Invite(m) = &mut tx.machine {
                if !m.awaiting_answer_ack() {
                    m.receive_ack(now);
                    self.flush_server(now, key);
                    return;
                }
            }
        }
        // An ACK for a 2xx is its own transaction, matched by dialog (§13.2.2.4).
        let Some(leg) = self.dialog_leg(request) else {
            self.stats.dropped += 1;
            return;
        };
        let cseq = request
            .cseq_header()
            .ok()
            .and_then(|c| c.seq().ok())
            .unwrap_or(0);
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let Some(pos) = l.unacked.iter().position(|(c, _)| *c == cseq) else {
            return; // a retransmitted ACK
        };
        let (_, tx_key) = l.unacked.remove(pos);
        let initial = tx_key == l.invite_tx;
        if initial {
            l.state = LegState::Confirmed;
        }
        if let Some(ServerTx {
            machine: ServerMachine::Invite(m),
            ..
        }) = self.server_txs.get_mut(&tx_key)
        {
            m.receive_ack(now);
        }
        self.flush_server(now, &tx_key);
        if initial {
            self.events.push_back(SipEvent::CallConfirmed {
                leg,
                sdp: (!request.body.is_empty()).then(|| request.body.clone()),
            });
        } else if !request.body.is_empty() {
            self.events.push_back(SipEvent::ReInviteAnswered {
                leg,
                sdp: request.body.clone(),
            });
        }
        if self
            .legs
            .get(&leg)
            .is_some_and(|l| l.hangup_requested && l.unacked.is_empty())
        {
            self.send_bye(now, leg);
        }
    }

    fn handle_cancel(&mut self, now: Instant, inc: Incoming) {
        let invite_key = inc.key.invite();
        let target = self.server_txs.get(&invite_key).map(|tx| {
            let pending = matches!(&tx.machine, ServerMachine::Invite(m) if !m.has_final());
            (tx.leg, pending)
        });
        let Some((leg, pending)) = target else {
            return self.reply(now, inc, Reply::new(481));
        };
        // The 200 to the CANCEL carries the same To tag as the INVITE's responses (§9.2).
        let tag = leg
            .and_then(|l| self.legs.get(&l))
            .map(|l| l.dialog.id().local_tag.clone());
        let reliable = inc.transport.is_reliable();
        self.server_txs.insert(
            inc.key.clone(),
            ServerTx::new(
                ServerMachine::NonInvite(NonInviteServerTransaction::new(reliable)),
                inc.transport,
                inc.source,
                None,
                None,
            ),
        );
        let tag = tag.unwrap_or_else(|| self.tag());
        let ok = self.encode(&inc.ctx, &Reply::new(200).tag(&tag));
        self.respond_tx(now, &inc.key, 200, ok);
        let (Some(leg), true) = (leg, pending) else {
            return;
        };
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        if l.invite_tx == invite_key {
            let ctx = l.ctx.clone();
            let terminated = self.encode(&ctx, &Reply::new(487).tag(&tag));
            self.respond_tx(now, &invite_key, 487, terminated);
            tracing::info!(%leg, "call cancelled");
            self.events.push_back(SipEvent::CallCancelled { leg });
            self.end_leg(leg);
        } else if l.reinvite.as_ref().is_some_and(|p| p.tx == invite_key) {
            if let Some(p) = l.reinvite.take() {
                let terminated = self.encode(&p.ctx, &Reply::new(487).tag(&tag));
                self.respond_tx(now, &invite_key, 487, terminated);
            }
        }
    }

    fn handle_in_dialog(&mut self, now: Instant, inc: Incoming, request: &Request, to_tag: &str) {
        let Some(leg) = self.dialog_leg(request) else {
            return self.reply(now, inc, Reply::new(481));
        };
        let cseq = request
            .cseq_header()
            .ok()
            .and_then(|c| c.seq().ok())
            .unwrap_or(0);
        let Some(l) = self.legs.get_mut(&leg) else {
            return self.reply(now, inc, Reply::new(481));
        };
        if let Err(err) = l.dialog.receive_request(request.method, cseq) {
            tracing::debug!(%leg, %err, "in-dialog request out of order");
            return self.reply(
                now,
                inc,
                Reply::new(500).reason("Server Internal Error - CSeq Out of Order"),
            );
        }
        let _ = to_tag;
        match request.method {
            Method::Bye => self.remote_bye(now, inc, leg),
            Method::Invite => self.handle_reinvite(now, inc, request, leg),
            Method::Options => self.reply(now, inc, options_reply()),
            Method::Info | Method::Notify => self.reply(now, inc, Reply::new(200)),
            Method::Refer => self.handle_refer(now, inc, request, leg),
            Method::PRack => self.handle_prack(now, inc, request, leg),
            _ => self.reply(now, inc, Reply::new(405).header("Allow", ALLOW)),
        }
    }

    fn remote_bye(&mut self, now: Instant, inc: Incoming, leg: LegId) {
        self.reply(now, inc, Reply::new(200));
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        l.dialog.terminate();
        let tag = l.dialog.id().local_tag.clone();
        // Requests still open in the dialog end with 487 (§15.1.2).
        let mut open = Vec::new();
        if let Some(p) = l.reinvite.take() {
            open.push((p.tx, p.ctx));
        }
        if l.state == LegState::Offered {
            open.push((l.invite_tx.clone(), l.ctx.clone()));
        }
        for (key, ctx) in open {
            let payload = self.encode(&ctx, &Reply::new(487).tag(&tag));
            self.respond_tx(now, &key, 487, payload);
        }
        self.end_pending_refer(now, leg);
        tracing::info!(%leg, "remote hangup");
        self.events.push_back(SipEvent::RemoteHangup { leg });
        self.end_leg(leg);
    }

    fn handle_reinvite(&mut self, now: Instant, inc: Incoming, request: &Request, leg: LegId) {
        let Some(l) = self.legs.get(&leg) else {
            return;
        };
        match l.state {
            // §14.2: a re-INVITE overlapping an INVITE transaction still in progress.
            LegState::Offered | LegState::Answered | LegState::Calling => {
                let after = self.rng_retry_after();
                return self.reply(now, inc, Reply::new(500).header("Retry-After", after));
            }
            LegState::Ending => return self.reply(now, inc, Reply::new(481)),
            LegState::Confirmed if l.reinvite.is_some() => {
                return self.reply(now, inc, Reply::new(491));
            }
            LegState::Confirmed => {}
        }
        if !sdp_body_acceptable(request) {
            return self.reply(
                now,
                inc,
                Reply::new(415).header("Accept", "application/sdp"),
            );
        }
        self.server_txs.insert(
            inc.key.clone(),
            ServerTx {
                machine: ServerMachine::Invite(InviteServerTransaction::new(
                    inc.transport.is_reliable(),
                )),
                transport: inc.transport,
                peer: inc.source,
                leg: Some(leg),
                merge_key: None,
                scheduled: None,
            },
        );
        let trying = self.encode(&inc.ctx, &Reply::new(100));
        self.respond_tx(now, &inc.key, 100, trying);
        let id = self.new_reinvite_id();
        if let Some(l) = self.legs.get_mut(&leg) {
            l.dialog.refresh_target(request);
            l.reinvite = Some(PendingReInvite {
                id,
                tx: inc.key,
                ctx: inc.ctx,
            });
        }
        self.events.push_back(SipEvent::ReInvite {
            leg,
            request: id,
            sdp: (!request.body.is_empty()).then(|| request.body.clone()),
        });
    }

    fn handle_response(&mut self, now: Instant, response: Response) {
        let branch = response
            .via_header()
            .ok()
            .and_then(|v| v.typed().ok())
            .and_then(|v| v.branch().map(|b| b.to_string()));
        let method = response.cseq_header().ok().and_then(|c| c.method().ok());
        let (Some(branch), Some(method)) = (branch, method) else {
            self.stats.dropped += 1;
            return;
        };
        let key = TransactionKey::new(branch, method);
        if key.method == Method::Invite {
            return self.handle_invite_response(now, key, response);
        }
        match self.client_txs.get_mut(&key) {
            Some(tx) => {
                tx.machine
                    .receive_response(now, response.status_code.code());
                self.flush_client(now, &key);
            }
            None => self.stats.dropped += 1,
        }
    }

    /// The leg whose dialog an in-dialog request belongs to (Call-ID, To tag = ours, From
    /// tag = theirs).
    fn dialog_leg(&self, request: &Request) -> Option<LegId> {
        let call_id = request.call_id_header().ok()?.value().to_owned();
        let to_tag = tag_param(request.to_header().ok()?.value())?;
        let from_tag = tag_param(request.from_header().ok()?.value())?;
        let leg = *self.dialogs.get(&(call_id, to_tag))?;
        self.legs
            .get(&leg)
            .filter(|l| l.dialog.matches_remote_tag(&from_tag))
            .map(|_| leg)
    }

    fn within_transaction_caps(&self, source: SocketAddr) -> Result<(), CapExceeded> {
        let caps = &self.caps;
        caps.check(
            source.ip(),
            self.server_txs.len(),
            || {
                self.server_txs
                    .values()
                    .filter(|tx| tx.peer.ip() == source.ip())
                    .count()
            },
            (caps.transactions_per_source, caps.transactions_total),
            (
                CapExceeded::TransactionsPerSource,
                CapExceeded::TransactionsTotal,
            ),
        )
    }

    fn within_dialog_caps(&self, source: SocketAddr) -> Result<(), CapExceeded> {
        let caps = &self.caps;
        caps.check(
            source.ip(),
            self.legs.len(),
            || {
                self.legs
                    .values()
                    .filter(|leg| leg.source.ip() == source.ip())
                    .count()
            },
            (caps.dialogs_per_source, caps.dialogs_total),
            (CapExceeded::DialogsPerSource, CapExceeded::DialogsTotal),
        )
    }

    /// 503 with Retry-After, statelessly: a refused request must not cost a transaction
    /// (a retransmission is simply refused again).
    fn refuse_over_cap(&mut self, inc: Incoming, cap: CapExceeded) {
        *self.stats.refused.entry(cap.as_str()).or_default() += 1;
        tracing::debug!(source = %inc.source, cap = cap.as_str(), "request refused over a cap");
        let tag = self.tag();
        let reply = Reply::new(503)
            .tag(&tag)
            .header("Retry-After", self.caps.retry_after_secs.to_string());
        let payload = self.encode(&inc.ctx, &reply);
        self.send_stateless(inc.transport, inc.source, payload);
    }

    fn rng_retry_after(&mut self) -> String {
        // §14.2: a random value between 0 and 10 seconds.
        self.rng.gen_range(0..=10u32).to_string()
    }
}

fn options_reply() -> Reply<'static> {
    Reply::new(200)
        .header("Allow", ALLOW)
        .header("Accept", "application/sdp")
        .header("Supported", crate::prack::TAG)
}

/// The top Via's branch and sent-by.
fn top_branch(request: &Request) -> Option<(String, String)> {
    let via = request.via_header().ok()?.typed().ok()?;
    let branch = via.branch()?.to_string();
    Some((branch, via.uri.host_with_port.to_string()))
}

fn merge_key(request: &Request) -> Option<MergeKey> {
    let call_id = request.call_id_header().ok()?.value().to_owned();
    let from_tag = tag_param(request.from_header().ok()?.value())?;
    let cseq = request.cseq_header().ok()?.value().to_owned();
    Some((call_id, from_tag, cseq))
}

/// Option tags in Require that we do not support (§8.2.2.3); 100rel is the only one we do.
fn required_extensions(request: &Request) -> Option<String> {
    let tags: Vec<String> = request
        .headers
        .iter()
        .filter_map(|h| match h {
            Header::Require(r) => Some(r.value().to_owned()),
            _ => None,
        })
        .flat_map(|v| {
            v.split(',')
                .map(|t| t.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case(crate::prack::TAG))
        .collect();
    (!tags.is_empty()).then(|| tags.join(", "))
}

/// A body, if any, must be SDP (§8.2.3 → 415 otherwise).
fn sdp_body_acceptable(request: &Request) -> bool {
    if request.body.is_empty() {
        return true;
    }
    request.headers.iter().any(|h| match h {
        Header::ContentType(ct) => ct
            .value()
            .split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/sdp")),
        _ => false,
    })
}

/// The request's `X-` headers (rsip keeps them as unknown ones), in order.
fn extension_headers(request: &Request) -> Vec<(String, String)> {
    request
        .headers
        .iter()
        .filter_map(|h| match h {
            Header::Other(name, value)
                if name.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("x-")) =>
            {
                Some((name.clone(), value.trim().to_owned()))
            }
            _ => None,
        })
        .collect()
}
