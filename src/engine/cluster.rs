//! The engine as one node of several (issue 8): what it learns about the other nodes, and
//! calls between nodes.
//!
//! # Operators of other nodes (mirrors)
//! An operator with a console or phone attached here is ours. One whose endpoint is on
//! another node, which publishes it `attached`, is a *mirror* here: the shell (`src/cluster`)
//! calls [`Engine::set_remote_node`] with each node's published operators (every 200 ms–1 s)
//! and [`Engine::forget_remote_node`] when a node goes silent. A mirror is logged in to our
//! ACD as the other node says (available, or paused while it is busy or paused there), so
//! our callers are offered to it. It writes no operator history or wrap-up here and is left
//! out of our live operators (its own node shows it). Limitation: one person's console and
//! phone attach to one node; an endpoint attaching here makes the operator ours again.
//!
//! # Peer offers
//! Our ACD ringing a mirror sends an INVITE to the operator's node (`sip:<login>@<node>`,
//! the desk-phone ring path) with `X-Madoguchi-Peer: <our node id>`. That node offers it to
//! exactly that operator ([`madoguchi_acd::Acd::offer_direct`], `call/intake.rs`) and answers
//! only when the operator does; our call relays the media (carrier → us → them → browser)
//! and writes the one record. A busy operator there answers 486: for us a failed offer that
//! is no ring-out (no auto-pause here); the mirror is held paused until the next
//! publication, and the caller is offered to the next free operator. After a peer call the
//! mirror is held the same way (its wrap-up runs on its own node).
//!
//! A peer INVITE is taken only from a known node's SIP address (exact address: nodes send
//! from their SIP port over UDP) and only for an operator attached here; anything else gets
//! 403 (a peer may only reach local operators). Hold, recording and monitoring of a peer
//! call are not offered in v1 (the media and the record are the other node's).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use madoguchi_acd::{CallerId, OperatorId, OperatorState, OperatorStatus, PauseReason};
use madoguchi_sip::LegId;
use madoguchi_store::CallRecord;

use super::call::{
    self, language_from_header, CallInput, CALL_ID_HEADER, LANGUAGE_HEADER, MENU_HEADER,
    PEER_HEADER, QUEUE_HEADER,
};
use super::{live, Engine, Now, RETRY_AFTER_SECONDS};

/// The pause reason of a mirror whose node says it is busy (ringing, on a call, wrap-up), or
/// that we hold until that node publishes again.
pub const REMOTE_BUSY: &str = "remote_busy";

/// A direct offer rings out this much before the offering node's own ring timeout, so the
/// operator's node (which counts ring-outs for auto-pause) decides first.
const PEER_RING_MARGIN: Duration = Duration::from_secs(1);

/// An operator as another node published it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOperator {
    pub login: String,
    /// logged_out, available, paused, ringing, on_call or wrap_up.
    pub state: String,
    pub reason: Option<String>,
    /// True when the operator has a console or phone attached on that node (its home).
    pub attached: bool,
}

/// What a peer INVITE carries.
pub(super) struct PeerInvite {
    pub leg: LegId,
    pub sip_call_id: String,
    pub caller: String,
    pub login: String,
    pub source: SocketAddr,
    pub sdp: Option<Vec<u8>>,
    pub headers: Vec<(String, String)>,
}

/// Whether an INVITE's headers mark it as another node's offer.
pub(super) fn is_peer_offer(headers: &[(String, String)]) -> bool {
    header(headers, PEER_HEADER).is_some()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl Engine {
    /// Another node stored a call record: count it on this node's board, so that every
    /// node's board shows the whole center. Our own records are already counted.
    pub fn remote_record(&mut self, now: Now, record: &CallRecord) {
        if record.node_id == self.node_id {
            return;
        }
        self.roll_day(now);
        // A record replayed late (a spool after an outage) belongs to its own day's figures.
        if Some(live::local_date(&self.dialplan, record.arrived_at)) != self.counters.date {
            return;
        }
        self.counters.count(record);
        self.board.add_call(record, live::local_tz(&self.dialplan));
        self.live_changed = true;
    }

    /// A live node and its operators as it last published them; `sip` is where it takes
    /// calls from peers. Replaces what was known of that node. Cheap when nothing changed.
    pub fn set_remote_node(
        &mut self,
        now: Now,
        node_id: &str,
        sip: SocketAddr,
        operators: Vec<RemoteOperator>,
    ) {
        if node_id == self.node_id {
            return;
        }
        self.remote_nodes.insert(node_id.to_owned(), sip);
        let mut published = HashSet::new();
        for op in operators.iter().filter(|op| op.attached) {
            let Some(id) = self.operators.id(&op.login) else {
                continue;
            };
            // Ours (attached here), or mirrored from a node still known: that one stays.
            let other_home = self
                .operators
                .home(id)
                .is_some_and(|h| h != node_id && self.remote_nodes.contains_key(h));
            if self.operators.attached(id) || other_home {
                continue;
            }
            self.operators.set_home(id, Some(node_id));
            published.insert(id);
            self.apply_remote_state(now, id, &op.state, op.reason.as_deref());
        }
        let gone: Vec<OperatorId> = self
            .operators
            .mirrors_of(node_id)
            .filter(|id| !published.contains(id))
            .collect();
        for id in gone {
            self.unmirror(now, id);
        }
        self.pump(now);
    }

    /// A node stopped publishing (dead or cut off): none of its operators is offered calls,
    /// and a ring in flight to one of them is cancelled (its caller moves on).
    pub fn forget_remote_node(&mut self, now: Now, node_id: &str) {
        if self.remote_nodes.remove(node_id).is_none() {
            return;
        }
        let mirrors: Vec<OperatorId> = self.operators.mirrors_of(node_id).collect();
        for id in mirrors {
            self.unmirror(now, id);
        }
        self.pump(now);
    }

    /// The peer SIP address of the node a mirror works on.
    pub(super) fn mirror_address(&self, operator: OperatorId) -> Option<SocketAddr> {
        let home = self.operators.home(operator)?;
        self.remote_nodes.get(home).copied()
    }

    /// Sets a mirror's status in our ACD from its node's word. While our ACD rings it or
    /// has it on a call, only a logout applies; the rest waits for the next publication.
    fn apply_remote_state(&mut self, now: Now, id: OperatorId, state: &str, reason: Option<&str>) {
        let Some(op) = self.acd.operator(id) else {
            return;
        };
        let (status, idle) = (op.status().clone(), op.state() == OperatorState::Idle);
        let result = match state {
            "logged_out" if status != OperatorStatus::LoggedOut => self.acd.logout(now.mono, id),
            "logged_out" => Ok(()),
            _ if !idle => Ok(()),
            "available" => match status {
                OperatorStatus::LoggedOut => self.acd.login(now.mono, id),
                OperatorStatus::Paused { .. } => self.acd.unpause(now.mono, id),
                OperatorStatus::Available => Ok(()),
            },
            other => {
                let reason = match (other, reason) {
                    ("paused", Some("no_answer")) => PauseReason::NoAnswer,
                    ("paused", Some(reason)) => PauseReason::Other(reason.to_owned()),
                    _ => PauseReason::Other(REMOTE_BUSY.to_owned()),
                };
                match status {
                    OperatorStatus::LoggedOut => self.acd.login_paused(now.mono, id, reason),
                    OperatorStatus::Paused { reason: current } if current == reason => Ok(()),
                    _ => self.acd.pause(now.mono, id, reason),
                }
            }
        };
        if let Err(error) = result {
            tracing::debug!(%error, "mirror status refused");
        }
    }

    /// `id` is no longer a mirror: logged out here (a ring to it is cancelled; a call with
    /// it goes on).
    fn unmirror(&mut self, now: Now, id: OperatorId) {
        self.operators.set_home(id, None);
        if !self.operators.attached(id) {
            let _ = self.acd.logout(now.mono, id);
        }
    }

    /// A peer offer to a mirror failed, or a call with it ended: it takes no offer from us
    /// until its node publishes again (its own node runs the wrap-up). Pausing cancels a
    /// ring without counting a miss.
    pub(super) fn hold_mirror(&mut self, now: Now, id: OperatorId) {
        let _ = self
            .acd
            .pause(now.mono, id, PauseReason::Other(REMOTE_BUSY.to_owned()));
        if matches!(
            self.acd.operator(id).map(|o| o.state()),
            Some(OperatorState::WrapUp { .. })
        ) {
            let _ = self.acd.classification_filed(now.mono, id);
        }
    }

    /// Another node offers its caller to one of our operators (see the module docs).
    pub(super) fn peer_offer(&mut self, now: Now, invite: PeerInvite) {
        let leg = invite.leg;
        let node = self
            .remote_nodes
            .iter()
            .find(|(_, sip)| **sip == invite.source)
            .map(|(node, sip)| (node.clone(), *sip));
        let operator = self
            .operators
            .id(&invite.login)
            .filter(|id| self.operators.attached(*id) && !self.operators.is_mirror(*id));
        let (Some((node, sip)), Some(operator)) = (node, operator) else {
            tracing::warn!(source = %invite.source, "peer INVITE refused: not a known node's offer to a local operator");
            let _ = self.sip.reject(now.mono, leg, 403, None);
            return;
        };
        if self.draining {
            let _ = self.sip.reject_with_headers(
                now.mono,
                leg,
                503,
                None,
                &[("Retry-After", RETRY_AFTER_SECONDS)],
            );
            return;
        }
        let named = header(&invite.headers, QUEUE_HEADER).map(str::to_owned);
        let queue = named
            .as_deref()
            .and_then(|name| self.queues.id(name))
            .or_else(|| {
                let member = |q: &madoguchi_acd::QueueId| {
                    self.acd
                        .operator(operator)
                        .is_some_and(|o| o.membership(*q).is_some())
                };
                self.queues.ids().find(member)
            })
            .or_else(|| self.queues.ids().next());
        let Some(queue) = queue else {
            let _ = self.sip.reject(now.mono, leg, 403, None);
            return;
        };
        let queue_name = self.queues.name(queue).to_owned();
        let ring = self
            .dialplan
            .queue(&queue_name)
            .map_or(Duration::from_secs(20), |q| q.ring_timeout)
            .saturating_sub(PEER_RING_MARGIN)
            .max(PEER_RING_MARGIN);
        let caller = CallerId(leg.0);
        if let Err(error) = self
            .acd
            .offer_direct(now.mono, queue, caller, operator, ring)
        {
            // Ringing, on a call or paused here already: the other node tries someone else.
            tracing::debug!(%error, "peer offer refused: operator not free");
            let _ = self.sip.reject(now.mono, leg, 486, None);
            return;
        }
        // The other node's call id: our history and wrap-up attach to its record.
        let id = header(&invite.headers, CALL_ID_HEADER)
            .filter(|id| !id.is_empty() && id.len() <= 64 && !self.by_call_id.contains_key(*id))
            .map(str::to_owned)
            .unwrap_or_else(|| self.new_call_id());
        let menu = header(&invite.headers, MENU_HEADER).map(str::to_owned);
        let language = header(&invite.headers, LANGUAGE_HEADER).and_then(language_from_header);
        let call = call::Call::new(
            now,
            call::Setup {
                id: id.clone(),
                leg,
                sip_call_id: invite.sip_call_id,
                caller: invite.caller,
                called: invite.login,
                offer: invite.sdp,
                node_id: self.node_id.clone(),
                media_ip: self.media_ip,
                session_id: rand::Rng::gen_range(&mut self.rng, 1..u32::MAX as u64),
                peer: Some(call::PeerIntake {
                    node,
                    sip,
                    language,
                }),
            },
        );
        self.calls.insert(leg, call);
        self.by_call_id.insert(id, leg);
        self.drive(
            now,
            leg,
            CallInput::PeerIntake {
                queue: queue_name,
                menu,
            },
        );
    }
}
