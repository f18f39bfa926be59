//! The call record: the one exit of every call.

use std::time::Duration;

use madoguchi_store::{CallRecord, HangupSide};
use serde_json::json;

use super::{AcdRequest, Call, CallOutput, Disposition, Phase, Stage};
use crate::engine::media::MediaCommand;
use crate::engine::Now;

impl Call {
    /// The one exit of every call: every leg goes, the record goes out, ports are released.
    pub(super) fn finish(
        &mut self,
        now: Now,
        disposition: Disposition,
        side: HangupSide,
        cause: &str,
        out: &mut Vec<CallOutput>,
    ) {
        if self.phase == Phase::Finished {
            return;
        }
        self.sync_choices();
        if let Stage::Queued { .. } = self.stage {
            // However a queued call ends (BYE, shutdown), the ACD lets go of it: a caller
            // left behind there would be offered to operators forever.
            out.push(CallOutput::Acd(AcdRequest::Abandon));
        }
        self.release_peers(now, out);
        let disposition = match (self.queue.outcome, disposition) {
            // Refusals and failures before the caller was ever queued keep their own word.
            (Some(outcome), _) => outcome,
            (None, d) => d,
        };
        self.event(
            now,
            "ended",
            json!({ "disposition": disposition.as_str(), "cause": cause }),
        );
        if self.media_requested {
            out.push(CallOutput::Media(MediaCommand::Close {
                leg: self.setup.leg,
            }));
        }
        self.phase = Phase::Finished;
        self.timer = None;
        let talk = self.queue.talk.or_else(|| {
            self.queue
                .connected
                .map(|at| now.mono.saturating_duration_since(at))
        });
        let record = CallRecord {
            id: std::mem::take(&mut self.setup.id),
            sip_call_id: std::mem::take(&mut self.setup.sip_call_id),
            caller: std::mem::take(&mut self.setup.caller),
            called: std::mem::take(&mut self.setup.called),
            arrived_at: self.arrived_at,
            answered_at: self.answered_at,
            ended_at: now.wall,
            entry: self.entry.take(),
            branch: self.branch.take(),
            disposition,
            menu_choice: self.dtmf.last().cloned(),
            dtmf: std::mem::take(&mut self.dtmf),
            hangup_side: Some(side),
            hangup_cause: Some(cause.to_owned()),
            node_id: std::mem::take(&mut self.setup.node_id),
            queue: self.queue.queue.take(),
            waited_ms: self.queue.waited.map(millis),
            operator: self.queue.operator.take(),
            connected_at: self.queue.connected_at,
            talk_ms: talk.map(millis),
            transfer_target: self.queue.transfer_target.take(),
            transfer_result: self.queue.transfer_result.take(),
            events: std::mem::take(&mut self.events),
        };
        tracing::info!(call = %record.id, disposition = disposition.as_str(), cause, "call ended");
        out.push(CallOutput::Record(Box::new(record)));
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

pub(super) fn closed_disposition(branch: &str) -> Option<Disposition> {
    match branch {
        "closed_hours" => Some(Disposition::ClosedHours),
        "closed_holiday" => Some(Disposition::ClosedHoliday),
        "closed_year_end" => Some(Disposition::ClosedYearEnd),
        "closed_special" => Some(Disposition::ClosedSpecial),
        _ => None,
    }
}
