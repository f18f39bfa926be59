//! Blind transfer by REFER (RFC 3515) on a confirmed leg, placed or received.
//!
//! A REFER in a confirmed dialog becomes [`SipEvent::Refer`]; the TU answers it with
//! [`Endpoint::answer_refer`] (a 2xx creates the implicit subscription, §2.4.4) and reports
//! how the transfer goes with [`Endpoint::notify_refer`] (NOTIFY with a `message/sipfrag`
//! body, §2.4.5) until a terminated one ends the subscription. The endpoint answers by itself
//! `400` without exactly one Refer-To, `491` while another REFER of the leg is pending or
//! subscribed, `481` once the leg is ending and `403` before it is confirmed.
//!
//! One subscription per leg at a time; NOTIFYs for the second and later accepted REFER of a
//! dialog carry `Event: refer;id=<CSeq>` (§2.4.6). A `481` to a NOTIFY means the peer forgot
//! the dialog: the subscription is dropped and `notify_refer` refuses further NOTIFYs.

use crate::api::{EndpointError, SipEvent};
use crate::endpoint::{cseq_number, Endpoint, LegState, ServerMachine, ServerTx};
use crate::message::{reason_phrase, uri_text, Reply, ResponseCtx};
use crate::normalize::split_top_level_commas;
use crate::transaction::{NonInviteClientEvent, NonInviteServerTransaction, TransactionKey};
use crate::uas::Incoming;
use crate::{LegId, ReferId};
use rsip::{Header, Method, Request};
use std::time::Instant;

/// The REFER state of one leg, created with its first REFER.
#[derive(Debug, Default)]
pub(crate) struct ReferState {
    pending: Option<PendingRefer>,
    subscription: Option<Subscription>,
    /// REFERs accepted in this dialog so far (the Event `id` rule).
    accepted: u32,
}

/// A REFER waiting for the TU's answer.
#[derive(Debug)]
struct PendingRefer {
    id: ReferId,
    tx: TransactionKey,
    ctx: ResponseCtx,
    cseq: u32,
}

/// The implicit subscription of an accepted REFER.
#[derive(Debug)]
struct Subscription {
    /// The Event header value of its NOTIFYs.
    event: String,
    /// The last NOTIFY sent, to recognise its 481.
    notify_tx: Option<TransactionKey>,
}

impl Endpoint {
    /// Answers a REFER the endpoint reported: `202` (or another 2xx) accepts it, 300–699
    /// refuses it (e.g. `403` for a target the dialplan does not allow).
    pub fn answer_refer(
        &mut self,
        now: Instant,
        leg: LegId,
        refer: ReferId,
        status: u16,
    ) -> Result<(), EndpointError> {
        if !(200..=699).contains(&status) {
            return Err(EndpointError::InvalidStatus(status));
        }
        let contact = self.leg_contact(leg);
        let l = self
            .legs
            .get_mut(&leg)
            .ok_or(EndpointError::UnknownLeg(leg))?;
        let state = l
            .refer
            .as_mut()
            .filter(|r| r.pending.as_ref().is_some_and(|p| p.id == refer))
            .ok_or(EndpointError::UnknownRefer(refer))?;
        let Some(pending) = state.pending.take() else {
            return Err(EndpointError::UnknownRefer(refer));
        };
        let tag = l.dialog.id().local_tag.clone();
        let mut reply = Reply::new(status).tag(&tag);
        if status < 300 {
            let event = match state.accepted {
                0 => "refer".to_owned(),
                _ => format!("refer;id={}", pending.cseq),
            };
            state.accepted += 1;
            state.subscription = Some(Subscription {
                event,
                notify_tx: None,
            });
            reply = reply.header("Contact", contact);
        }
        let payload = self.encode(&pending.ctx, &reply);
        self.respond_tx(now, &pending.tx, status, payload);
        Ok(())
    }

    /// Sends a NOTIFY of the accepted REFER on `leg`: `Event: refer`, body
    /// `SIP/2.0 {status} {reason}` as `message/sipfrag;version=2.0`, and
    /// `Subscription-State: terminated;reason=noresource` when `terminated` (which ends the
    /// subscription), else `active;expires=60`.
    pub fn notify_refer(
        &mut self,
        now: Instant,
        leg: LegId,
        status: u16,
        terminated: bool,
    ) -> Result<(), EndpointError> {
        if !(100..=699).contains(&status) {
            return Err(EndpointError::InvalidStatus(status));
        }
        let l = self.legs.get(&leg).ok_or(EndpointError::UnknownLeg(leg))?;
        let event = l
            .refer
            .as_ref()
            .and_then(|r| r.subscription.as_ref())
            .filter(|_| l.state == LegState::Confirmed)
            .map(|s| s.event.clone())
            .ok_or(EndpointError::InvalidState(leg))?;
        let state = if terminated {
            "terminated;reason=noresource"
        } else {
            "active;expires=60"
        };
        let frag = format!("SIP/2.0 {status} {}\r\n", reason_phrase(status));
        let headers = [
            ("Event", event),
            ("Subscription-State", state.to_owned()),
            ("Contact", self.leg_contact(leg)),
        ];
        let body = ("message/sipfrag;version=2.0", frag.as_bytes());
        let key = self.send_in_dialog(now, leg, Method::Notify, &headers, Some(body));
        if let Some(r) = self.legs.get_mut(&leg).and_then(|l| l.refer.as_mut()) {
            match (&mut r.subscription, terminated) {
                (Some(s), false) => s.notify_tx = key,
                _ => r.subscription = None,
            }
        }
        Ok(())
    }

    /// Asks the far side of the confirmed `leg` to transfer itself to `refer_to` (a blind
    /// transfer we start, §2.4.1). The REFER's responses and the NOTIFYs that follow are
    /// answered and otherwise not reported: the far side ends the dialog with BYE once the
    /// transfer went through.
    pub fn refer(&mut self, now: Instant, leg: LegId, refer_to: &str) -> Result<(), EndpointError> {
        let l = self.legs.get(&leg).ok_or(EndpointError::UnknownLeg(leg))?;
        if l.state != LegState::Confirmed {
            return Err(EndpointError::InvalidState(leg));
        }
        let headers = [
            ("Refer-To", format!("<{refer_to}>")),
            ("Contact", self.leg_contact(leg)),
        ];
        self.send_in_dialog(now, leg, Method::Refer, &headers, None);
        Ok(())
    }

    /// A REFER inside the dialog of `leg`.
    pub(crate) fn handle_refer(
        &mut self,
        now: Instant,
        inc: Incoming,
        request: &Request,
        leg: LegId,
    ) {
        let Some(l) = self.legs.get(&leg) else {
            return self.reply(now, inc, Reply::new(481));
        };
        match l.state {
            LegState::Confirmed => {}
            LegState::Ending => return self.reply(now, inc, Reply::new(481)),
            _ => {
                let reply = Reply::new(403).reason("Forbidden - Dialog Not Confirmed");
                return self.reply(now, inc, reply);
            }
        }
        let busy = l
            .refer
            .as_ref()
            .is_some_and(|r| r.pending.is_some() || r.subscription.is_some());
        if busy {
            return self.reply(now, inc, Reply::new(491));
        }
        let refer_to = match refer_target(request) {
            Ok(uri) => uri,
            Err(reason) => return self.reply(now, inc, Reply::new(400).reason(reason)),
        };
        let referred_by = header_values(request, "Referred-By")
            .next()
            .map(|v| uri_text(v).to_owned());
        let reliable = inc.transport.is_reliable();
        self.server_txs.insert(
            inc.key.clone(),
            ServerTx::new(
                ServerMachine::NonInvite(NonInviteServerTransaction::new(reliable)),
                inc.transport,
                inc.source,
                Some(leg),
                None,
            ),
        );
        let id = self.new_refer_id();
        let pending = PendingRefer {
            id,
            tx: inc.key,
            cseq: cseq_number(&inc.ctx.cseq),
            ctx: inc.ctx,
        };
        if let Some(l) = self.legs.get_mut(&leg) {
            l.refer.get_or_insert_with(Default::default).pending = Some(pending);
        }
        tracing::info!(%leg, "REFER received");
        self.events.push_back(SipEvent::Refer {
            leg,
            refer: id,
            refer_to,
            referred_by,
        });
    }

    /// The leg's dialog ends with a REFER still unanswered: it gets 487 (§15.1.2).
    pub(crate) fn end_pending_refer(&mut self, now: Instant, leg: LegId) {
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        let tag = l.dialog.id().local_tag.clone();
        let Some(pending) = l.refer.as_mut().and_then(|r| r.pending.take()) else {
            return;
        };
        let payload = self.encode(&pending.ctx, &Reply::new(487).tag(&tag));
        self.respond_tx(now, &pending.tx, 487, payload);
    }

    /// Sees the responses of the client transaction `key` of `leg`: a 481 to our NOTIFY drops
    /// the subscription (the peer no longer knows the dialog).
    pub(crate) fn notify_response(
        &mut self,
        leg: LegId,
        key: &TransactionKey,
        event: NonInviteClientEvent,
    ) {
        let Some(r) = self.legs.get_mut(&leg).and_then(|l| l.refer.as_mut()) else {
            return;
        };
        let ours = r
            .subscription
            .as_ref()
            .is_some_and(|s| s.notify_tx.as_ref() == Some(key));
        if ours && event == NonInviteClientEvent::Final(481) {
            tracing::debug!(%leg, "NOTIFY got 481: subscription dropped");
            r.subscription = None;
        }
    }

    fn new_refer_id(&mut self) -> ReferId {
        let id = ReferId(self.next_refer);
        self.next_refer += 1;
        id
    }

    /// Our Contact on `leg`, whichever side placed the call.
    fn leg_contact(&self, leg: LegId) -> String {
        match self.legs.get(&leg) {
            Some(l) if l.uac.is_some() => self.uac_contact(l.transport),
            Some(l) => self.contact(l.transport),
            None => String::new(),
        }
    }
}

/// Values of the headers named `name` (rsip keeps Refer-To and Referred-By as unknown ones).
fn header_values<'a>(request: &'a Request, name: &'a str) -> impl Iterator<Item = &'a str> {
    request.headers.iter().filter_map(move |h| match h {
        Header::Other(n, v) if n.eq_ignore_ascii_case(name) => Some(v.as_str()),
        _ => None,
    })
}

/// The one Refer-To URI of a REFER: `<>` stripped, URI parameters kept, `?headers` dropped.
/// Err is the reason phrase of the 400.
fn refer_target(request: &Request) -> Result<String, &'static str> {
    let mut values = header_values(request, "Refer-To")
        .flat_map(|v| split_top_level_commas(v.as_bytes()))
        .map(|v| String::from_utf8_lossy(v).into_owned());
    let Some(value) = values.next() else {
        return Err("Bad Request - Missing Refer-To");
    };
    if values.next().is_some() {
        return Err("Bad Request - Multiple Refer-To");
    }
    let bracketed = value.contains('<');
    let uri = if bracketed {
        uri_text(&value)
    } else {
        value.trim()
    };
    let uri = uri.split('?').next().unwrap_or_default().trim();
    if uri.is_empty() || !uri.contains(':') {
        return Err("Bad Request - Malformed Refer-To");
    }
    Ok(uri.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refer(headers: &str) -> Request {
        Request::try_from(format!(
            "REFER sip:h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:a@h>;tag=1\r\n\
To: <sip:b@h>;tag=2\r\nCall-ID: c\r\nCSeq: 5 REFER\r\n{headers}Content-Length: 0\r\n\r\n"
        ))
        .unwrap()
    }

    #[test]
    fn name_addr_refer_to_keeps_uri_params_and_drops_headers() {
        let r = refer("Refer-To: \"City\" <sip:city@198.51.100.7;user=phone?Replaces=abc>;x=1\r\n");
        assert_eq!(
            refer_target(&r),
            Ok("sip:city@198.51.100.7;user=phone".into())
        );
    }

    #[test]
    fn addr_spec_refer_to_is_taken_as_is() {
        let r = refer("Refer-To: sip:0312345678@trunk.example\r\n");
        assert_eq!(refer_target(&r), Ok("sip:0312345678@trunk.example".into()));
    }

    #[test]
    fn missing_empty_or_repeated_refer_to_is_refused() {
        assert!(refer_target(&refer("")).is_err());
        assert!(refer_target(&refer("Refer-To: <>\r\n")).is_err());
        assert!(refer_target(&refer("Refer-To: <sip:a@h>, <sip:b@h>\r\n")).is_err());
        assert!(refer_target(&refer("Refer-To: <sip:a@h>\r\nRefer-To: <sip:b@h>\r\n")).is_err());
    }
}
