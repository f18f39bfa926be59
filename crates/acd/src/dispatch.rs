//! Operator selection, ring attempts and timers of the [`Acd`] engine.
//!
//! After every input the engine runs [`Acd::dispatch`]: each queue (in id order) walks its
//! waiting callers in position order and rings, for every caller that is not ringing yet, the
//! operator(s) its strategy picks among the free members of the best tier. A caller does not
//! get an operator it already tried in the current round (ring-out or decline); when every
//! free member has been tried, a new round starts. A caller that joined with a skill is
//! offered only to operators having it until its relax time; when none of them is free it is
//! passed over and the callers behind it are served. Queues are served in id order, so an
//! operator free for two queues goes to the lower queue id's caller first.

use std::time::{Duration, Instant};

use tracing::{debug, info};

use crate::acd::{Acd, Offer, HANDLE_TIME_SAMPLES};
use crate::id::{CallerId, OfferId, OperatorId, QueueId};
use crate::types::{
    AcdEvent, AcdTimer, OperatorState, OperatorStatus, PauseReason, QueueExit, Relax, Strategy,
};

impl Acd {
    /// When the next timer fires and which one it is.
    pub fn poll_timeout(&self) -> Option<(Instant, AcdTimer)> {
        let rings = self
            .offers
            .values()
            .map(|o| (o.expires, AcdTimer::RingNoAnswer));
        let wrap_ups = self.operators.values().filter_map(|o| match o.state {
            OperatorState::WrapUp { until } => Some((until, AcdTimer::WrapUp)),
            _ => None,
        });
        let callers = self.callers.values().flat_map(|c| {
            c.max_wait_at
                .map(|t| (t, AcdTimer::MaxWait))
                .into_iter()
                .chain(c.next_announce.map(|t| (t, AcdTimer::Announce)))
                .chain(c.relax_at.map(|t| (t, AcdTimer::SkillRelax)))
        });
        rings.chain(wrap_ups).chain(callers).min_by_key(|(t, _)| *t)
    }

    /// Fires every timer due at `now`: ring-outs, wrap-up ends, max waits, skill relax times,
    /// announcements.
    pub fn handle_timeout(&mut self, now: Instant) {
        let rung_out: Vec<OfferId> = self
            .offers
            .iter()
            .filter(|(_, o)| o.expires <= now)
            .map(|(id, _)| *id)
            .collect();
        for offer in rung_out {
            self.ring_out(now, offer);
        }
        let wrapped: Vec<OperatorId> = self
            .operators
            .iter()
            .filter(|(_, o)| matches!(o.state, OperatorState::WrapUp { until } if until <= now))
            .map(|(id, _)| *id)
            .collect();
        for operator in wrapped {
            self.finish_call(now, operator);
        }
        let timed_out: Vec<CallerId> = self
            .callers
            .iter()
            .filter(|(_, c)| c.max_wait_at.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for caller in timed_out {
            self.remove_caller(now, caller, QueueExit::Timeout);
        }
        self.relax_due(now);
        self.announce_due(now);
        self.dispatch(now);
    }

    /// Skilled callers whose relax time came: the filter drops, or they leave.
    fn relax_due(&mut self, now: Instant) {
        let due: Vec<CallerId> = self
            .callers
            .iter()
            .filter(|(_, c)| c.relax_at.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for caller in due {
            let Some(c) = self.callers.get_mut(&caller) else {
                continue;
            };
            c.relax_at = None;
            match c.relax {
                Relax::Any => {
                    let Some(skill) = c.skill.take() else {
                        continue;
                    };
                    debug!(%caller, skill, "skill relaxed");
                    self.events
                        .push_back(AcdEvent::SkillRelaxed { caller, skill });
                }
                Relax::Exit => self.remove_caller(now, caller, QueueExit::SkillTimeout),
            }
        }
    }

    fn announce_due(&mut self, now: Instant) {
        let due: Vec<CallerId> = self
            .callers
            .iter()
            .filter(|(_, c)| c.next_announce.is_some_and(|t| t <= now))
            .map(|(id, _)| *id)
            .collect();
        for caller in due {
            let Some(c) = self.callers.get(&caller) else {
                continue;
            };
            let queue = c.queue;
            let every = self
                .queues
                .get(&queue)
                .and_then(|q| q.config.announce_every);
            let Some(position) = self.position(caller) else {
                continue;
            };
            let estimated_wait = self.estimated_wait(queue, position);
            if let Some(c) = self.callers.get_mut(&caller) {
                // From `now`, not from the due time: a clock jump yields one announcement.
                c.next_announce = every.map(|d| now + d);
            }
            self.events.push_back(AcdEvent::Announce {
                caller,
                position,
                estimated_wait,
            });
        }
    }

    fn ring_out(&mut self, now: Instant, offer: OfferId) {
        let Some(o) = self.end_offer(now, offer) else {
            return;
        };
        debug!(%offer, caller = %o.caller, operator = %o.operator, "ring no answer");
        self.events.push_back(AcdEvent::CancelRing { offer });
        let limit = self
            .queues
            .get(&o.queue)
            .and_then(|q| q.config.auto_pause_after);
        self.count_miss(now, o.operator, limit);
    }

    /// Forgets a ringing offer: off its caller's list, its operator idle again. `None` when the
    /// offer is not ringing (answered, cancelled or ended already).
    pub(crate) fn end_offer(&mut self, now: Instant, offer: OfferId) -> Option<Offer> {
        let o = self.offers.remove(&offer)?;
        if let Some(c) = self.callers.get_mut(&o.caller) {
            c.offers.retain(|x| *x != offer);
        }
        self.set_state(now, o.operator, OperatorState::Idle);
        Some(o)
    }

    /// One more offer the operator did not take; `limit` in a row pauses it (no-answer).
    pub(crate) fn count_miss(&mut self, now: Instant, operator: OperatorId, limit: Option<u32>) {
        let Some(op) = self.operators.get_mut(&operator) else {
            return;
        };
        op.consecutive_ring_outs += 1;
        if limit.is_some_and(|n| op.consecutive_ring_outs >= n) {
            op.consecutive_ring_outs = 0;
            info!(%operator, "auto-paused after ring-outs");
            self.set_status(
                now,
                operator,
                OperatorStatus::Paused {
                    reason: PauseReason::NoAnswer,
                },
            );
        }
    }

    /// Ends a call's wrap-up: records the handling time and makes the operator idle.
    pub(crate) fn finish_call(&mut self, now: Instant, operator: OperatorId) {
        let Some(op) = self.operators.get_mut(&operator) else {
            return;
        };
        if let Some((start, queue)) = op.current_call.take() {
            if let Some(q) = self.queues.get_mut(&queue) {
                if q.handle_times.len() == HANDLE_TIME_SAMPLES {
                    q.handle_times.pop_front();
                }
                q.handle_times
                    .push_back(now.saturating_duration_since(start));
            }
        }
        self.set_state(now, operator, OperatorState::Idle);
    }

    /// Removes a queued caller, cancels its rings and emits its one `Exit`.
    pub(crate) fn remove_caller(&mut self, now: Instant, caller: CallerId, exit: QueueExit) {
        let Some(c) = self.callers.remove(&caller) else {
            return;
        };
        if let Some(q) = self.queues.get_mut(&c.queue) {
            q.waiting.retain(|x| *x != caller);
        }
        for offer in c.offers {
            self.cancel_offer(now, offer);
        }
        info!(%caller, queue = %c.queue, ?exit, "caller left queue");
        self.events.push_back(AcdEvent::Exit {
            caller,
            exit,
            waited: now.saturating_duration_since(c.joined),
        });
    }

    /// Stops one ring attempt without counting it as a ring-out.
    pub(crate) fn cancel_offer(&mut self, now: Instant, offer: OfferId) {
        let Some(o) = self.offers.remove(&offer) else {
            return;
        };
        if let Some(c) = self.callers.get_mut(&o.caller) {
            c.offers.retain(|x| *x != offer);
        }
        self.events.push_back(AcdEvent::CancelRing { offer });
        self.set_state(now, o.operator, OperatorState::Idle);
    }

    pub(crate) fn cancel_ring_of(&mut self, now: Instant, operator: OperatorId) {
        if let Some(OperatorState::Ringing { offer }) =
            self.operators.get(&operator).map(|o| o.state)
        {
            self.cancel_offer(now, offer);
        }
    }

    pub(crate) fn leave_if_empty(&mut self, now: Instant, queue: QueueId) {
        let Some(q) = self.queues.get(&queue) else {
            return;
        };
        if !q.config.leave_when_empty || self.staffed(queue) {
            return;
        }
        for caller in q.waiting.clone() {
            self.remove_caller(now, caller, QueueExit::LeaveEmpty);
        }
    }

    /// Rings free operators for waiting callers that are not ringing yet.
    pub(crate) fn dispatch(&mut self, now: Instant) {
        let queues: Vec<QueueId> = self.queues.keys().copied().collect();
        for queue in queues {
            // Most calls to dispatch (every announcement, every join) find nobody free: skip
            // the walk over the waiting callers then, or a long queue costs O(callers) per
            // event (a tenth of the engine's CPU with 1,000 callers waiting).
            let anyone_free = self
                .operators
                .values()
                .any(|o| o.is_free() && o.memberships.contains_key(&queue));
            if !anyone_free {
                continue;
            }
            let waiting = self
                .queues
                .get(&queue)
                .map(|q| q.waiting.clone())
                .unwrap_or_default();
            for caller in waiting {
                if self
                    .callers
                    .get(&caller)
                    .is_none_or(|c| !c.offers.is_empty())
                {
                    continue;
                }
                for operator in self.pick(queue, caller) {
                    self.ring(now, queue, caller, operator);
                }
            }
        }
    }

    fn pick(&mut self, queue: QueueId, caller: CallerId) -> Vec<OperatorId> {
        let Some(q) = self.queues.get(&queue) else {
            return Vec::new();
        };
        let strategy = q.config.strategy;
        let rr_last = q.rr_last;
        let Some(c) = self.callers.get(&caller) else {
            return Vec::new();
        };
        let free: Vec<_> = self
            .operators
            .iter()
            .filter(|(_, o)| o.is_free() && c.accepts(o))
            .filter_map(|(id, o)| o.memberships.get(&queue).map(|m| (*id, o, *m)))
            .collect();
        let Some(c) = self.callers.get_mut(&caller) else {
            return Vec::new();
        };
        let mut candidates: Vec<_> = free
            .iter()
            .filter(|(id, _, _)| !c.tried.contains(id))
            .collect();
        if candidates.is_empty() && !free.is_empty() {
            c.tried.clear();
            candidates = free.iter().collect();
        }
        let Some(level) = candidates.iter().map(|(_, _, m)| m.tier.level).min() else {
            return Vec::new();
        };
        candidates.retain(|(_, _, m)| m.tier.level == level);
        let penalty = candidates
            .iter()
            .map(|(_, _, m)| m.penalty)
            .min()
            .unwrap_or(0);
        candidates.retain(|(_, _, m)| m.penalty == penalty);
        let key = |id: &OperatorId, position: u32| (position, *id);
        let chosen = match strategy {
            Strategy::RingAll => return candidates.iter().map(|(id, _, _)| *id).collect(),
            Strategy::LongestIdle => candidates
                .iter()
                .min_by_key(|(id, o, m)| (o.idle_since, key(id, m.tier.position))),
            Strategy::FewestCalls => candidates
                .iter()
                .min_by_key(|(id, o, m)| (o.calls_taken, key(id, m.tier.position))),
            Strategy::RoundRobin => {
                let after = candidates
                    .iter()
                    .filter(|(id, _, m)| {
                        rr_last.is_some_and(|last| key(id, m.tier.position) > last)
                    })
                    .min_by_key(|(id, _, m)| key(id, m.tier.position));
                after.or_else(|| {
                    candidates
                        .iter()
                        .min_by_key(|(id, _, m)| key(id, m.tier.position))
                })
            }
        };
        chosen.map(|(id, _, _)| *id).into_iter().collect()
    }

    fn ring(&mut self, now: Instant, queue: QueueId, caller: CallerId, operator: OperatorId) {
        let Some(q) = self.queues.get_mut(&queue) else {
            return;
        };
        let ring_timeout: Duration = q.config.ring_timeout;
        if q.config.strategy == Strategy::RoundRobin {
            let position = self
                .operators
                .get(&operator)
                .and_then(|o| o.memberships.get(&queue))
                .map_or(0, |m| m.tier.position);
            q.rr_last = Some((position, operator));
        }
        self.start_offer(now, queue, caller, operator, ring_timeout);
    }

    /// Rings `operator` for `caller` until `now + ring_timeout`; the operator is Ringing.
    pub(crate) fn start_offer(
        &mut self,
        now: Instant,
        queue: QueueId,
        caller: CallerId,
        operator: OperatorId,
        ring_timeout: Duration,
    ) -> OfferId {
        let offer = OfferId(self.next_offer);
        self.next_offer += 1;
        self.offers.insert(
            offer,
            Offer {
                caller,
                operator,
                queue,
                expires: now + ring_timeout,
            },
        );
        if let Some(c) = self.callers.get_mut(&caller) {
            c.offers.push(offer);
            c.tried.insert(operator);
        }
        debug!(%offer, %caller, %operator, "ring");
        self.events.push_back(AcdEvent::Ring {
            offer,
            queue,
            caller,
            operator,
        });
        self.set_state(now, operator, OperatorState::Ringing { offer });
        offer
    }
}
