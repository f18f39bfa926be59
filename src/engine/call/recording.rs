//! The call's recording: whether it is recorded (the dialplan's decision, made at routing and
//! possibly replaced by the queue's when the caller joins), and the commands that start,
//! pause, resume and stop the recording of the bridge between the caller and the operator.
//!
//! The recording covers the conversation with the operator only: it starts when the caller
//! is bridged to the operator (or when the operator starts it, for `on_demand`), and stops
//! when that bridge ends — hang-up, transfer, or the call being torn down at shutdown. Each
//! step is a call event (`recording_started`, `recording_paused`, `recording_resumed`,
//! `recording_stopped`), so the record shows what was and was not recorded, and when.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use madoguchi_dialplan::RecordingDecision;
use serde_json::json;

use madoguchi_dialplan::Queue;

use super::{Call, CallOutput, Ctx, Now, Stage};
use crate::engine::console::ConsoleOutput;
use crate::engine::media::MediaCommand;

/// What the operator's console asks of the recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingAction {
    /// Start it (calls recorded on demand only).
    Start,
    /// Silence from now (the caller reads out a card number or PIN).
    Pause,
    Resume,
}

/// The recording state of one call.
#[derive(Debug)]
pub(super) struct CallRecording {
    pub decision: RecordingDecision,
    /// The consent notice was played to the caller.
    pub notice_played: bool,
    /// A recording is running (started, not yet stopped).
    pub active: bool,
    pub paused: bool,
    /// The queue's policy was applied (once per call, however often it rejoins).
    pub queue_checked: bool,
    /// The queue to join, with its priority, once the queue's recording notice has played.
    pub pending_join: Option<(String, i32)>,
}

impl Default for CallRecording {
    fn default() -> CallRecording {
        CallRecording {
            decision: RecordingDecision::Off,
            notice_played: false,
            active: false,
            paused: false,
            queue_checked: false,
            pending_join: None,
        }
    }
}

/// Where the recording of `call_id` goes, relative to the recordings folder: a folder per
/// UTC day of the call's arrival keeps folders small and old days easy to archive; the name
/// keeps only characters safe in any file system.
pub fn file_for(call_id: &str, arrived_at: DateTime<Utc>) -> PathBuf {
    let safe: String = call_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Path::new(&arrived_at.format("%Y/%m/%d").to_string()).join(format!("{safe}.wav"))
}

impl RecordingAction {
    pub fn verb(self) -> &'static str {
        match self {
            RecordingAction::Start => "start",
            RecordingAction::Pause => "pause",
            RecordingAction::Resume => "resume",
        }
    }
}

impl Call {
    /// Whether the call is recorded, decided at routing (`queue` None) or on joining a queue
    /// with a policy of its own; the decision is a call event.
    pub(super) fn decide_recording(
        &mut self,
        now: Now,
        decision: RecordingDecision,
        notice_played: bool,
        queue: Option<&str>,
    ) {
        let changed = decision != self.recording.decision;
        self.recording.decision = decision;
        self.recording.notice_played |= notice_played;
        if changed || queue.is_none() {
            self.event(
                now,
                "recording_decided",
                json!({ "decision": decision, "queue": queue }),
            );
        }
    }

    /// The caller is about to join `queue` (`config`): its recording policy, if it has one,
    /// decides from here on. True when its recording notice is playing and the join waits
    /// for it to finish (the caller hears the notice before anything of the queue).
    pub(super) fn recording_at_join(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        config: &Queue,
        queue: &str,
        priority: i32,
        out: &mut Vec<CallOutput>,
    ) -> bool {
        if self.recording.queue_checked {
            return false;
        }
        self.recording.queue_checked = true;
        let (decision, notice) = config.recording_at_join(
            self.recording.decision,
            self.recording.notice_played,
            (ctx.draw)(),
        );
        self.decide_recording(now, decision, false, Some(queue));
        let Some((name, id)) = notice.and_then(|n| self.prompt_id(ctx, &n).map(|id| (n, id)))
        else {
            return false;
        };
        self.recording.notice_played = true;
        self.recording.pending_join = Some((queue.to_owned(), priority));
        self.event(now, "play", json!({ "prompt": name }));
        self.play(id, false, out);
        true
    }

    /// The caller was just bridged to the operator on `operator_leg`: a call decided for
    /// recording starts its recording now.
    pub(super) fn recording_bridged(
        &mut self,
        now: Now,
        operator_leg: madoguchi_sip::LegId,
        out: &mut Vec<CallOutput>,
    ) {
        if self.recording.decision == RecordingDecision::Record {
            self.start_recording(now, operator_leg, "policy", out);
        }
    }

    fn start_recording(
        &mut self,
        now: Now,
        operator_leg: madoguchi_sip::LegId,
        by: &str,
        out: &mut Vec<CallOutput>,
    ) {
        if self.recording.active {
            return;
        }
        let file = file_for(self.id(), self.arrived_at);
        self.recording.active = true;
        self.recording.paused = false;
        self.event(
            now,
            "recording_started",
            json!({ "file": file.to_string_lossy(), "by": by }),
        );
        out.push(CallOutput::RecordingStarted { file: file.clone() });
        self.tell_console(
            operator_leg,
            ConsoleOutput::Recording { state: "recording" },
            out,
        );
        out.push(CallOutput::Media(MediaCommand::StartRecording {
            key: self.id().to_owned(),
            caller: self.setup.leg,
            operator: operator_leg,
            file,
        }));
    }

    /// Whether the operator on `leg` may `action` the recording now: start a call recorded on
    /// demand that is not recording yet, pause a running recording, resume a paused one.
    pub(crate) fn recording_allows(
        &self,
        leg: madoguchi_sip::LegId,
        action: RecordingAction,
    ) -> bool {
        let on_this_call = matches!(&self.stage, Stage::Operator { peer, .. } if *peer == leg);
        let r = &self.recording;
        on_this_call
            && match action {
                RecordingAction::Start => !r.active && r.decision != RecordingDecision::Off,
                RecordingAction::Pause => r.active && !r.paused,
                RecordingAction::Resume => r.active && r.paused,
            }
    }

    /// The operator's console on `leg` asks to start, pause or resume the recording. Returns
    /// false when that does not apply (not this call's operator, not recorded, already so).
    pub(super) fn recording_action(
        &mut self,
        now: Now,
        leg: madoguchi_sip::LegId,
        action: RecordingAction,
        out: &mut Vec<CallOutput>,
    ) -> bool {
        if !self.recording_allows(leg, action) {
            return false;
        }
        let key = self.id().to_owned();
        match action {
            RecordingAction::Start => self.start_recording(now, leg, "operator", out),
            RecordingAction::Pause => {
                self.recording.paused = true;
                self.event(now, "recording_paused", json!({}));
                out.push(CallOutput::Media(MediaCommand::PauseRecording { key }));
                self.tell_console(leg, ConsoleOutput::Recording { state: "paused" }, out);
            }
            RecordingAction::Resume => {
                self.recording.paused = false;
                self.event(now, "recording_resumed", json!({}));
                out.push(CallOutput::Media(MediaCommand::ResumeRecording { key }));
                self.tell_console(leg, ConsoleOutput::Recording { state: "recording" }, out);
            }
        }
        true
    }

    /// The bridge with the operator ends (hang-up, transfer, teardown): so does the recording.
    pub(super) fn stop_recording(&mut self, now: Now, cause: &str, out: &mut Vec<CallOutput>) {
        if !self.recording.active {
            return;
        }
        self.recording.active = false;
        self.recording.paused = false;
        self.event(now, "recording_stopped", json!({ "cause": cause }));
        out.push(CallOutput::Media(MediaCommand::StopRecording {
            key: self.id().to_owned(),
        }));
        if let Stage::Operator { peer, .. } = &self.stage {
            let peer = *peer;
            self.tell_console(peer, ConsoleOutput::Recording { state: "stopped" }, out);
        }
    }

    /// The recorder could not write (said once): the rest of the conversation is not
    /// recorded, and the record and the operator's console say so.
    pub(crate) fn recording_failed(&mut self, now: Now, disk_full: bool) -> Vec<CallOutput> {
        self.event(now, "recording_failed", json!({ "disk_full": disk_full }));
        let mut out = Vec::new();
        if let Stage::Operator { peer, .. } = &self.stage {
            let peer = *peer;
            self.tell_console(peer, ConsoleOutput::Recording { state: "failed" }, &mut out);
        }
        out
    }

    /// The operator talking with the caller, and the leg they are on.
    pub(crate) fn operator_on_call(&self) -> Option<(&str, madoguchi_sip::LegId)> {
        match &self.stage {
            Stage::Operator { login, peer, .. } => Some((login.as_str(), *peer)),
            _ => None,
        }
    }

    /// "recording" or "paused" while a recording runs (for a reconnecting console).
    pub(crate) fn recording_state(&self) -> Option<&'static str> {
        match (self.recording.active, self.recording.paused) {
            (true, false) => Some("recording"),
            (true, true) => Some("paused"),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_recording_file_is_named_after_its_call_under_its_utc_day() {
        let at = Utc
            .with_ymd_and_hms(2026, 6, 1, 23, 30, 0)
            .single()
            .expect("instant");
        assert_eq!(
            file_for("abc-123", at),
            PathBuf::from("2026/06/01/abc-123.wav")
        );
    }

    #[test]
    fn a_call_id_cannot_lead_the_file_out_of_its_folder() {
        let at = Utc
            .with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
            .single()
            .expect("instant");
        let file = file_for("../../etc/passwd", at);
        assert_eq!(file, PathBuf::from("2026/06/01/______etc_passwd.wav"));
        assert!(file
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_))));
    }
}
