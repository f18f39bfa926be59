//! A call another node offers to one of our operators (issue 8, "a console on B takes a call
//! queued on A"). The caller stays on the other node; its INVITE here is one operator leg of
//! that node's call, marked `X-Madoguchi-Peer`.
//!
//! ```text
//!  peer INVITE ─ 180 ─▶ operator rings (ACD direct offer) ─ answers ─▶ 200 OK ─ ACK ─▶ bridged
//!        │ ring-out, decline: 480/603          │ console hangs up: BYE  │ transfer: REFER
//! ```
//! The leg is answered only when the operator answers, so the other node sees an unanswered
//! ring as a failed offer and offers its caller to someone else. No dialplan step runs, and
//! the call writes no record here (`record.rs`): the other node writes the one record. The
//! operator's history and wrap-up are ours, under the other node's call id.

use madoguchi_store::HangupSide;
use serde_json::json;

use super::peer::PeerRole;
use super::{Call, CallOutput, Disposition, Phase, Stage};
use crate::engine::Now;

impl Call {
    /// The ACD rings the operator already; the other node hears ringing until an answer.
    pub(super) fn peer_intake(
        &mut self,
        now: Now,
        queue: String,
        menu: Option<String>,
        out: &mut Vec<CallOutput>,
    ) {
        let node = self.setup.peer.as_ref().map(|p| p.node.clone());
        self.event(now, "peer_offer", json!({ "node": node, "queue": queue }));
        self.entry = Some("peer".to_owned());
        self.stage = Stage::Queued {
            queue: queue.clone(),
        };
        self.queue.queue = Some(queue);
        self.queue.joined = Some(now.mono);
        self.dtmf.extend(menu);
        self.language = self.setup.peer.as_ref().and_then(|p| p.language.clone());
        if !self.check_offer(now, out) {
            return;
        }
        out.push(CallOutput::Provisional {
            status: 180,
            sdp: None,
        });
        self.request_media(out);
    }

    /// The RTP port is bound: kept for the answer, which waits for the operator.
    pub(super) fn intake_media(&mut self, now: Now, port: u16, out: &mut Vec<CallOutput>) {
        if self.phase != Phase::AwaitingMedia {
            return;
        }
        self.local_port = Some(port);
        if self.is_with_operator() {
            self.answer(now, port, out);
        }
    }

    /// The operator answered: the peer leg is answered now (or as soon as its port is
    /// bound). False when the call ended instead (an offer that no longer fits).
    pub(super) fn intake_connected(&mut self, now: Now, out: &mut Vec<CallOutput>) -> bool {
        if !self.is_peer_intake() {
            return true;
        }
        if let Some(port) = self.local_port {
            self.answer(now, port, out);
        }
        self.phase != Phase::Finished
    }

    /// The offer to our operator ended unanswered (ring-out, decline, the operator paused):
    /// the other node gets `status` and offers its caller to someone else.
    pub(super) fn intake_lost(&mut self, now: Now, status: u16, out: &mut Vec<CallOutput>) {
        let ringing = self
            .peers
            .iter()
            .any(|p| matches!(p.role, PeerRole::Operator { .. }));
        if !self.is_peer_intake() || !matches!(self.stage, Stage::Queued { .. }) || ringing {
            return;
        }
        let status = if (400..700).contains(&status) {
            status
        } else {
            480
        };
        out.push(CallOutput::Reject { status });
        self.finish(
            now,
            Disposition::Rejected,
            HangupSide::Engine,
            "peer_offer_ended",
            out,
        );
    }

    /// A blind transfer of a peer call: the node the caller is on places it (REFER), and
    /// ends our leg with BYE once the target answered.
    pub(super) fn refer_to_peer(&mut self, now: Now, target: &str, out: &mut Vec<CallOutput>) {
        let (Stage::Operator { .. }, Some(peer)) = (&self.stage, &self.setup.peer) else {
            return;
        };
        let refer_to = format!("sip:{target}@{}", peer.sip);
        self.event(now, "transfer", json!({ "target": target, "by": "refer" }));
        out.push(CallOutput::Refer {
            leg: self.setup.leg,
            refer_to,
        });
    }
}
