//! A caller in a queue: joining, hold music between position and wait announcements, and
//! leaving (answered, abandoned, overflowed, or given back to the dialplan steps).

use std::time::Duration;

use madoguchi_acd::QueueExit;
use serde_json::json;

use super::{AcdRequest, Call, CallOutput, Ctx, Disposition, Stage, TransferOrigin};
use crate::engine::Now;

impl Call {
    /// The flow's `queue` step: the caller joins the ACD queue and hears the queue's
    /// announcement, then music; the ACD answers with `Announce`, `Ring` or `QueueExit`.
    pub(super) fn enqueue(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        queue: &str,
        priority: i32,
        out: &mut Vec<CallOutput>,
    ) {
        let Some(config) = ctx.dialplan.queue(queue) else {
            // The dialplan check makes every queue step name a queue.
            tracing::warn!(queue, "queue step names no queue, skipped");
            self.resume_flow(now, ctx, out);
            return;
        };
        if self.recording_at_join(now, ctx, config, queue, priority, out) {
            // The recording notice plays first; the caller joins when it has finished.
            return;
        }
        self.stage = Stage::Queued {
            queue: queue.to_owned(),
        };
        self.queue.queue = Some(queue.to_owned());
        self.queue.joined = Some(now.mono);
        self.music = config.music.as_deref().and_then(|m| self.prompt_id(ctx, m));
        self.hold_music = self.music;
        if let Some(id) = config
            .announce
            .as_deref()
            .and_then(|a| self.prompt_id(ctx, a))
        {
            self.announcements.push_back(id);
        }
        self.event(
            now,
            "enqueued",
            json!({ "queue": queue, "priority": priority, "language": self.language }),
        );
        let skill = self.skill_wait(ctx);
        // Each queue joined starts its own wait for an operator speaking the language.
        self.language_wait = skill.as_ref().map(|wait| super::language::LanguageWait {
            after: wait.after,
            relaxed: false,
        });
        out.push(CallOutput::Acd(AcdRequest::Join {
            queue: queue.to_owned(),
            priority,
            menu: self.dtmf.last().cloned(),
            skill,
        }));
        if self.playing.is_none() {
            self.play_next(now, out);
        }
    }

    /// The ACD's periodic (and first) position announcement.
    pub(super) fn announce_position(
        &mut self,
        now: Now,
        ctx: &Ctx<'_>,
        position: usize,
        wait: Option<Duration>,
        out: &mut Vec<CallOutput>,
    ) {
        let Stage::Queued { queue } = &self.stage else {
            return;
        };
        let Some(config) = ctx.dialplan.queue(queue) else {
            return;
        };
        let wait = wait.filter(|_| config.announce_wait);
        if !config.announce_position && wait.is_none() {
            return;
        }
        if !self.announcements.is_empty() {
            // Still announcing the last one (or the queue's own announcement): not twice.
            return;
        }
        let names = ctx.dialplan.queue_announcement(position, wait);
        let names: Vec<String> = if config.announce_position {
            names
        } else {
            names
                .into_iter()
                .filter(|n| !n.starts_with("position"))
                .collect()
        };
        self.event(
            now,
            "position_announced",
            json!({ "position": position, "wait_s": wait.map(|w| w.as_secs()) }),
        );
        let ids: Vec<_> = names
            .iter()
            .filter_map(|n| self.prompt_id(ctx, n))
            .collect();
        self.announcements.extend(ids);
        // Cut the music (a looped playback never finishes by itself), not an announcement.
        if self.playing.is_none() || self.looping {
            self.play_next(now, out);
        }
    }

    /// The caller left the ACD queue.
    pub(super) fn queue_exit(
        &mut self,
        now: Now,
        ctx: &mut Ctx<'_>,
        exit: QueueExit,
        waited: Duration,
        out: &mut Vec<CallOutput>,
    ) {
        let Stage::Queued { queue } = &self.stage else {
            return;
        };
        let queue = queue.clone();
        self.queue.waited = Some(waited);
        let reason = match exit {
            // `Connected` does the rest.
            QueueExit::Answered { .. } => return,
            // Recorded when the BYE came (the call is already finishing).
            QueueExit::Abandoned => return,
            QueueExit::Timeout => "max_wait",
            QueueExit::JoinEmpty => "no_operator",
            QueueExit::LeaveEmpty => "operators_left",
            QueueExit::Overflow => "queue_full",
            QueueExit::SkillTimeout => "language_timeout",
        };
        self.event(
            now,
            "queue_left",
            json!({ "queue": queue, "reason": reason, "waited_ms": waited.as_millis() as u64 }),
        );
        // Operators still ringing for this caller lose the offer.
        self.hangup_ringing(now, out);
        if exit == QueueExit::SkillTimeout && self.language_timed_out(now, ctx, queue.clone(), out)
        {
            return;
        }
        let overflow = ctx.dialplan.queue(&queue).and_then(|q| q.overflow.clone());
        match overflow {
            Some(target) => {
                self.queue.outcome = Some(Disposition::Overflowed);
                self.event(
                    now,
                    "overflowed",
                    json!({ "queue": queue, "target": target }),
                );
                self.start_transfer(now, ctx, &target, TransferOrigin::Overflow { queue }, out);
            }
            None => self.resume_flow(now, ctx, out),
        }
    }
}
