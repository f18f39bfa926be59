//! The call record: the one exit of every call.

use std::time::Duration;

use chrono::{DateTime, Utc};
use madoguchi_dialplan::AnswerMode;
use madoguchi_store::{AnsweredBy, CallRecord, HangupSide};
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
            out.push(CallOutput::Acd(AcdRequest::Leave));
        }
        self.stop_recording(now, cause, out);
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
        if self.is_peer_intake() {
            // The node the caller is on writes the one record of the call.
            tracing::info!(call = %self.setup.id, cause, "peer call ended");
            return;
        }
        let talk = self.queue.talk.or_else(|| {
            self.queue
                .connected
                .map(|at| now.mono.saturating_duration_since(at))
        });
        // Before the record takes `entry`.
        let answer_mode = self.record_answer_mode();
        let record = CallRecord {
            // Cloned, not taken: the outputs of this step (a console's `Ended`) and the
            // engine's clean-up of its call-id index still name the call by it.
            id: self.setup.id.clone(),
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
            answer_mode,
            answered_by: self
                .answered_at
                .map(|_| self.answered_by.unwrap_or(AnsweredBy::Engine)),
            unanswered_ms: Some(wall_millis(
                self.arrived_at,
                self.answered_at.unwrap_or(now.wall),
            )),
            answered_ms: self.answered_at.map(|at| wall_millis(at, now.wall)),
            language: self.language.take(),
            language_fallback: self.language_fallback.take(),
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

impl Call {
    /// The routed entry's answer mode; `None` for a call never routed (404, refused).
    fn record_answer_mode(&self) -> Option<madoguchi_store::AnswerMode> {
        self.entry.as_ref()?;
        Some(match self.answer_mode {
            AnswerMode::Engine => madoguchi_store::AnswerMode::Engine,
            AnswerMode::Operator { .. } => madoguchi_store::AnswerMode::Operator,
        })
    }
}

/// `from` → `to` in ms by the record's own instants, so that the sums match the columns.
fn wall_millis(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    (to - from).num_milliseconds().max(0)
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

/// Regressions of `finish` moving the call's id into the record: the engine reads the id of
/// a finished call once more, after `handle` returns, to address the call's last outputs
/// and to drop it from its call-id index.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use madoguchi_sip::LegId;

    use crate::engine::console::{ConsoleCommand, ConsoleEvent};
    use crate::engine::test_harness::*;
    use crate::engine::{StatusRequest, TransferError};

    const CONSOLE: LegId = LegId(900_000);

    /// queue.toml with op1 at a console, talking with caller 1; returns the call id.
    fn call_with_console(h: &mut Harness) -> (Caller, String) {
        let now = h.now;
        h.engine
            .set_directory(now, vec![Phone::new("op1", "127.0.0.1:5070").entry()]);
        h.engine
            .console_attach(now, "op1", CONSOLE)
            .expect("op1 is an operator");
        h.engine
            .request_status(now, "op1", &StatusRequest::Available)
            .expect("available");
        h.drain();
        let mut caller = Caller::new(1);
        caller.call(h);
        let call_id = h
            .console
            .iter()
            .find_map(|e| match e {
                ConsoleEvent::Offered { offer, .. } => Some(offer.call_id.clone()),
                _ => None,
            })
            .expect("the call is offered to the console");
        h.engine
            .console_command(
                now,
                "op1",
                ConsoleCommand::Answer {
                    call_id: call_id.clone(),
                },
            )
            .expect("the console answers");
        h.drain();
        h.advance(Duration::from_secs(2));
        (caller, call_id)
    }

    fn harness() -> Harness {
        Harness::with_targets(
            queue_dialplan(),
            city_line_targets(),
            jst(2026, 11, 25, 10, 0),
        )
    }

    /// The console's `ended` named no call, so the page kept showing the call connected.
    #[test]
    fn a_caller_hanging_up_tells_the_console_which_call_ended() {
        let mut h = harness();
        let (mut caller, call_id) = call_with_console(&mut h);

        h.sip(&caller.request("BYE", 2, "", false));
        let ended: Vec<(&str, &str)> = h
            .console
            .iter()
            .filter_map(|e| match e {
                ConsoleEvent::Ended {
                    call_id, reason, ..
                } => Some((call_id.as_str(), *reason)),
                _ => None,
            })
            .collect();
        assert_eq!(ended, vec![(call_id.as_str(), "ended")]);
    }

    /// The call-id index kept every finished call (a leak, and a wrong answer for it).
    #[test]
    fn a_finished_call_is_forgotten_by_its_id() {
        let mut h = harness();
        let (mut caller, call_id) = call_with_console(&mut h);

        h.sip(&caller.request("BYE", 2, "", false));
        let now = h.now;
        assert_eq!(
            h.engine.transfer(now, &call_id, "city_line"),
            Err(TransferError::UnknownCall(call_id.clone()))
        );
    }
}
