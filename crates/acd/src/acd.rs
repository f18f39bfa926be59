//! The [`Acd`] engine: one owner for every queue, operator, waiting caller and ring attempt.
//! This file holds the inputs and read accessors; operator selection and timers live in
//! [`crate::dispatch`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use tracing::debug;

use crate::id::{CallerId, OfferId, OperatorId, QueueId};
use crate::types::{
    AcdError, AcdEvent, CallerData, JoinOptions, Membership, OperatorChange, OperatorState,
    OperatorStatus, PauseReason, QueueConfig, QueueExit, Relax,
};

/// How many recent handling times feed the estimated wait.
pub(crate) const HANDLE_TIME_SAMPLES: usize = 16;

/// An operator as the engine sees it; read with [`Acd::operator`].
#[derive(Debug, Clone)]
pub struct Operator {
    pub(crate) status: OperatorStatus,
    pub(crate) state: OperatorState,
    pub(crate) memberships: BTreeMap<QueueId, Membership>,
    pub(crate) calls_taken: u64,
    pub(crate) last_call_end: Option<Instant>,
    /// Login or last call end, whichever is later; the longest-idle key.
    pub(crate) idle_since: Option<Instant>,
    pub(crate) consecutive_ring_outs: u32,
    /// Start of the current call and the queue it came from, for the handling time.
    pub(crate) current_call: Option<(Instant, QueueId)>,
    /// What skilled callers it may be offered (languages, …).
    pub(crate) skills: BTreeSet<String>,
}

impl Operator {
    /// Availability chosen by the person.
    pub fn status(&self) -> &OperatorStatus {
        &self.status
    }
    /// What the engine has the operator doing.
    pub fn state(&self) -> OperatorState {
        self.state
    }
    /// Calls answered since the operator was added.
    pub fn calls_taken(&self) -> u64 {
        self.calls_taken
    }
    /// When the last call ended.
    pub fn last_call_end(&self) -> Option<Instant> {
        self.last_call_end
    }
    /// Ring-outs since the last answered call, unpause or login.
    pub fn consecutive_ring_outs(&self) -> u32 {
        self.consecutive_ring_outs
    }
    /// Membership of `queue`, if any.
    pub fn membership(&self, queue: QueueId) -> Option<Membership> {
        self.memberships.get(&queue).copied()
    }
    /// Its skills.
    pub fn skills(&self) -> &BTreeSet<String> {
        &self.skills
    }
    pub(crate) fn is_free(&self) -> bool {
        self.status == OperatorStatus::Available && self.state == OperatorState::Idle
    }
}

#[derive(Debug)]
pub(crate) struct Queue {
    pub(crate) config: QueueConfig,
    /// Waiting callers, highest priority first, FIFO within a priority; index + 1 = position.
    pub(crate) waiting: Vec<CallerId>,
    /// Round-robin memory: the (position, id) offered last.
    pub(crate) rr_last: Option<(u32, OperatorId)>,
    pub(crate) handle_times: VecDeque<Duration>,
}

#[derive(Debug)]
pub(crate) struct Caller {
    pub(crate) queue: QueueId,
    pub(crate) priority: i32,
    pub(crate) joined: Instant,
    pub(crate) data: CallerData,
    pub(crate) offers: Vec<OfferId>,
    /// Operators offered this caller in the current round; cleared when none else is free.
    pub(crate) tried: BTreeSet<OperatorId>,
    pub(crate) max_wait_at: Option<Instant>,
    pub(crate) next_announce: Option<Instant>,
    /// Only operators with this skill are offered the caller; `None` once relaxed.
    pub(crate) skill: Option<String>,
    /// When the skill filter ends, and how.
    pub(crate) relax_at: Option<Instant>,
    pub(crate) relax: Relax,
}

impl Caller {
    /// Whether `operator` may be offered this caller now.
    pub(crate) fn accepts(&self, operator: &Operator) -> bool {
        self.skill
            .as_ref()
            .is_none_or(|skill| operator.skills.contains(skill))
    }
}

#[derive(Debug)]
pub(crate) struct Offer {
    pub(crate) caller: CallerId,
    pub(crate) operator: OperatorId,
    pub(crate) queue: QueueId,
    pub(crate) expires: Instant,
}

/// The sans-IO queue and operator core. See the crate docs for the driving contract.
#[derive(Debug, Default)]
pub struct Acd {
    pub(crate) queues: BTreeMap<QueueId, Queue>,
    pub(crate) operators: BTreeMap<OperatorId, Operator>,
    pub(crate) callers: BTreeMap<CallerId, Caller>,
    pub(crate) offers: BTreeMap<OfferId, Offer>,
    pub(crate) next_offer: u64,
    pub(crate) events: VecDeque<AcdEvent>,
}

impl Acd {
    /// An engine with no queues and no operators.
    pub fn new() -> Self {
        Self::default()
    }

    /// Next output, if any. Drain after every input.
    pub fn poll_event(&mut self) -> Option<AcdEvent> {
        self.events.pop_front()
    }

    /// Creates a queue.
    pub fn add_queue(&mut self, queue: QueueId, config: QueueConfig) -> Result<(), AcdError> {
        if self.queues.contains_key(&queue) {
            return Err(AcdError::DuplicateQueue(queue));
        }
        self.queues.insert(
            queue,
            Queue {
                config,
                waiting: Vec::new(),
                rr_last: None,
                handle_times: VecDeque::new(),
            },
        );
        Ok(())
    }

    /// Replaces a queue's settings (a dialplan reload). Callers waiting keep their place;
    /// the max wait and the next announcement they were given when they joined stand.
    pub fn set_queue_config(
        &mut self,
        now: Instant,
        queue: QueueId,
        config: QueueConfig,
    ) -> Result<(), AcdError> {
        let q = self
            .queues
            .get_mut(&queue)
            .ok_or(AcdError::UnknownQueue(queue))?;
        q.config = config;
        self.leave_if_empty(now, queue);
        self.dispatch(now);
        Ok(())
    }

    /// Creates a logged-out operator with no memberships.
    pub fn add_operator(&mut self, operator: OperatorId) -> Result<(), AcdError> {
        if self.operators.contains_key(&operator) {
            return Err(AcdError::DuplicateOperator(operator));
        }
        self.operators.insert(
            operator,
            Operator {
                status: OperatorStatus::LoggedOut,
                state: OperatorState::Idle,
                memberships: BTreeMap::new(),
                calls_taken: 0,
                last_call_end: None,
                idle_since: None,
                consecutive_ring_outs: 0,
                current_call: None,
                skills: BTreeSet::new(),
            },
        );
        Ok(())
    }

    /// Logs the operator out and forgets it; refused while on a call or in wrap-up.
    pub fn remove_operator(&mut self, now: Instant, operator: OperatorId) -> Result<(), AcdError> {
        let op = self.operator_ref(operator)?;
        if matches!(
            op.state,
            OperatorState::OnCall { .. } | OperatorState::WrapUp { .. }
        ) {
            return Err(AcdError::OperatorBusy(operator));
        }
        self.logout(now, operator)?;
        self.operators.remove(&operator);
        Ok(())
    }

    /// Adds (or updates) the operator's membership of `queue`.
    pub fn add_member(
        &mut self,
        now: Instant,
        operator: OperatorId,
        queue: QueueId,
        membership: Membership,
    ) -> Result<(), AcdError> {
        if !self.queues.contains_key(&queue) {
            return Err(AcdError::UnknownQueue(queue));
        }
        self.operator_mut(operator)?
            .memberships
            .insert(queue, membership);
        self.dispatch(now);
        Ok(())
    }

    /// Removes the operator from `queue`, cancelling a ring for that queue.
    pub fn remove_member(
        &mut self,
        now: Instant,
        operator: OperatorId,
        queue: QueueId,
    ) -> Result<(), AcdError> {
        let op = self.operator_mut(operator)?;
        if op.memberships.remove(&queue).is_none() {
            return Err(AcdError::NotMember { operator, queue });
        }
        if let OperatorState::Ringing { offer } = op.state {
            if self.offers.get(&offer).map(|o| o.queue) == Some(queue) {
                self.cancel_offer(now, offer);
            }
        }
        self.leave_if_empty(now, queue);
        self.dispatch(now);
        Ok(())
    }

    /// The person starts working: status becomes Available. Idempotent.
    pub fn login(&mut self, now: Instant, operator: OperatorId) -> Result<(), AcdError> {
        let op = self.operator_mut(operator)?;
        if op.status != OperatorStatus::LoggedOut {
            return Ok(());
        }
        op.idle_since = Some(now);
        op.consecutive_ring_outs = 0;
        self.set_status(now, operator, OperatorStatus::Available);
        self.dispatch(now);
        Ok(())
    }

    /// The person starts working paused (their status before a restart, or as another node
    /// reports it): never free in between, so no offer rings. Idempotent when logged in.
    pub fn login_paused(
        &mut self,
        now: Instant,
        operator: OperatorId,
        reason: PauseReason,
    ) -> Result<(), AcdError> {
        let op = self.operator_mut(operator)?;
        if op.status != OperatorStatus::LoggedOut {
            return Ok(());
        }
        op.idle_since = Some(now);
        op.consecutive_ring_outs = 0;
        self.set_status(now, operator, OperatorStatus::Paused { reason });
        Ok(())
    }

    /// The person stops working. A ring in progress is cancelled; a call in progress keeps
    /// going. Queues with `leave_when_empty` and no member left release their callers.
    pub fn logout(&mut self, now: Instant, operator: OperatorId) -> Result<(), AcdError> {
        let op = self.operator_ref(operator)?;
        if op.status == OperatorStatus::LoggedOut {
            return Ok(());
        }
        let queues: Vec<QueueId> = op.memberships.keys().copied().collect();
        self.set_status(now, operator, OperatorStatus::LoggedOut);
        self.cancel_ring_of(now, operator);
        for queue in queues {
            self.leave_if_empty(now, queue);
        }
        self.dispatch(now);
        Ok(())
    }

    /// The person pauses; a ring in progress is cancelled.
    pub fn pause(
        &mut self,
        now: Instant,
        operator: OperatorId,
        reason: PauseReason,
    ) -> Result<(), AcdError> {
        if self.operator_ref(operator)?.status == OperatorStatus::LoggedOut {
            return Err(AcdError::NotLoggedIn(operator));
        }
        self.set_status(now, operator, OperatorStatus::Paused { reason });
        self.cancel_ring_of(now, operator);
        self.dispatch(now);
        Ok(())
    }

    /// The person is available again; the ring-out count restarts.
    pub fn unpause(&mut self, now: Instant, operator: OperatorId) -> Result<(), AcdError> {
        let op = self.operator_mut(operator)?;
        match op.status {
            OperatorStatus::LoggedOut => return Err(AcdError::NotLoggedIn(operator)),
            OperatorStatus::Available => return Ok(()),
            OperatorStatus::Paused { .. } => {}
        }
        op.consecutive_ring_outs = 0;
        self.set_status(now, operator, OperatorStatus::Available);
        self.dispatch(now);
        Ok(())
    }

    /// Replaces the operator's skills. Waiting skilled callers it now has the skill for may
    /// be offered to it at once; a ring in progress goes on.
    pub fn set_skills(
        &mut self,
        now: Instant,
        operator: OperatorId,
        skills: BTreeSet<String>,
    ) -> Result<(), AcdError> {
        let op = self.operator_mut(operator)?;
        if op.skills == skills {
            return Ok(());
        }
        op.skills = skills;
        self.dispatch(now);
        Ok(())
    }

    /// A caller joins `queue` with no data. See [`Acd::join_with_data`].
    pub fn join(
        &mut self,
        now: Instant,
        queue: QueueId,
        caller: CallerId,
        priority: i32,
    ) -> Result<(), AcdError> {
        self.join_with_data(now, queue, caller, priority, CallerData::new())
    }

    /// A caller joins `queue` with data and no skill. See [`Acd::join_with`].
    pub fn join_with_data(
        &mut self,
        now: Instant,
        queue: QueueId,
        caller: CallerId,
        priority: i32,
        data: CallerData,
    ) -> Result<(), AcdError> {
        let options = JoinOptions {
            data,
            ..JoinOptions::default()
        };
        self.join_with(now, queue, caller, priority, options)
    }

    /// A caller joins `queue`: behind every caller of equal or higher priority. It may exit at
    /// once ([`QueueExit::JoinEmpty`], [`QueueExit::Overflow`]); either way exactly one
    /// [`AcdEvent::Exit`] will follow for it. With a skill it is offered only to operators
    /// having it until `relax_after`; the callers behind it are served meanwhile.
    pub fn join_with(
        &mut self,
        now: Instant,
        queue: QueueId,
        caller: CallerId,
        priority: i32,
        options: JoinOptions,
    ) -> Result<(), AcdError> {
        if self.callers.contains_key(&caller) {
            return Err(AcdError::DuplicateCaller(caller));
        }
        let q = self
            .queues
            .get(&queue)
            .ok_or(AcdError::UnknownQueue(queue))?;
        let refused = if !q.config.join_empty && !self.staffed(queue) {
            Some(QueueExit::JoinEmpty)
        } else if q
            .config
            .max_callers
            .is_some_and(|max| q.waiting.len() >= max)
        {
            Some(QueueExit::Overflow)
        } else {
            None
        };
        if let Some(exit) = refused {
            debug!(%caller, %queue, ?exit, "join refused");
            self.events.push_back(AcdEvent::Exit {
                caller,
                exit,
                waited: Duration::ZERO,
            });
            return Ok(());
        }
        let index = q
            .waiting
            .iter()
            .position(|c| self.callers.get(c).is_some_and(|c| c.priority < priority))
            .unwrap_or(q.waiting.len());
        let JoinOptions {
            data,
            skill,
            relax_after,
            relax,
        } = options;
        let entry = Caller {
            queue,
            priority,
            joined: now,
            data,
            offers: Vec::new(),
            tried: BTreeSet::new(),
            max_wait_at: q.config.max_wait.map(|d| now + d),
            next_announce: q.config.announce_every.map(|d| now + d),
            relax_at: skill.as_ref().and(relax_after).map(|d| now + d),
            skill,
            relax,
        };
        if let Some(q) = self.queues.get_mut(&queue) {
            q.waiting.insert(index, caller);
        }
        self.callers.insert(caller, entry);
        debug!(%caller, %queue, priority, position = index + 1, "caller joined");
        self.dispatch(now);
        Ok(())
    }

    /// The caller hung up while waiting or ringing.
    pub fn abandon(&mut self, now: Instant, caller: CallerId) -> Result<(), AcdError> {
        if !self.callers.contains_key(&caller) {
            return Err(AcdError::UnknownCaller(caller));
        }
        self.remove_caller(now, caller, QueueExit::Abandoned);
        self.dispatch(now);
        Ok(())
    }

    /// The operator picked up: the caller is connected and leaves the queue; other rings of
    /// the same caller (ring-all) are cancelled.
    pub fn offer_answered(&mut self, now: Instant, offer: OfferId) -> Result<(), AcdError> {
        let o = self
            .offers
            .remove(&offer)
            .ok_or(AcdError::UnknownOffer(offer))?;
        if let Some(c) = self.callers.get_mut(&o.caller) {
            c.offers.retain(|x| *x != offer);
        }
        if let Some(op) = self.operators.get_mut(&o.operator) {
            op.calls_taken += 1;
            op.consecutive_ring_outs = 0;
            op.current_call = Some((now, o.queue));
        }
        self.set_state(now, o.operator, OperatorState::OnCall { call: o.caller });
        self.events.push_back(AcdEvent::Connected {
            caller: o.caller,
            operator: o.operator,
        });
        self.remove_caller(
            now,
            o.caller,
            QueueExit::Answered {
                operator: o.operator,
            },
        );
        self.dispatch(now);
        Ok(())
    }

    /// The operator declined (or was busy): the caller moves on to the next operator.
    pub fn offer_rejected(&mut self, now: Instant, offer: OfferId) -> Result<(), AcdError> {
        self.end_offer(now, offer)
            .ok_or(AcdError::UnknownOffer(offer))?;
        self.dispatch(now);
        Ok(())
    }

    /// The operator's phone could not take the offer (busy, declined, unreachable). Unlike a
    /// plain rejection it counts as a miss: `auto_pause_after` of them in a row pause the
    /// operator (no-answer), and a queue without auto-pause pauses at the first one, so a
    /// phone that answers every offer with 486 is not rung again and again.
    pub fn offer_failed(&mut self, now: Instant, offer: OfferId) -> Result<(), AcdError> {
        let o = self
            .end_offer(now, offer)
            .ok_or(AcdError::UnknownOffer(offer))?;
        let limit = self
            .queues
            .get(&o.queue)
            .map(|q| q.config.auto_pause_after.unwrap_or(1));
        self.count_miss(now, o.operator, limit);
        self.dispatch(now);
        Ok(())
    }

    /// Rings exactly `operator` for `caller`, outside every queue's waiting list: a caller
    /// another node queued and offers to this node's operator. Refused unless the operator
    /// is free. The caller gets no position, announcement or maximum wait and is never
    /// offered to anyone else: when the offer ends unanswered (ring-out, decline) it stays
    /// known until [`Acd::abandon`] (or an answer) removes it, with its one `Exit`. `queue`
    /// gives the wrap-up, auto-pause and handling-time settings; `ring_timeout` the ring.
    pub fn offer_direct(
        &mut self,
        now: Instant,
        queue: QueueId,
        caller: CallerId,
        operator: OperatorId,
        ring_timeout: Duration,
    ) -> Result<OfferId, AcdError> {
        if self.callers.contains_key(&caller) {
            return Err(AcdError::DuplicateCaller(caller));
        }
        if !self.queues.contains_key(&queue) {
            return Err(AcdError::UnknownQueue(queue));
        }
        if !self.operator_ref(operator)?.is_free() {
            return Err(AcdError::OperatorBusy(operator));
        }
        self.callers.insert(
            caller,
            Caller {
                queue,
                priority: 0,
                joined: now,
                data: CallerData::new(),
                offers: Vec::new(),
                tried: BTreeSet::new(),
                max_wait_at: None,
                next_announce: None,
                skill: None,
                relax_at: None,
                relax: Relax::Any,
            },
        );
        debug!(%caller, %operator, "direct offer");
        Ok(self.start_offer(now, queue, caller, operator, ring_timeout))
    }

    /// The operator's call ended: wrap-up starts (or the operator is idle if it is zero).
    pub fn call_ended(&mut self, now: Instant, operator: OperatorId) -> Result<(), AcdError> {
        let op = self.operator_mut(operator)?;
        if !matches!(op.state, OperatorState::OnCall { .. }) {
            return Err(AcdError::NotOnCall(operator));
        }
        op.last_call_end = Some(now);
        op.idle_since = Some(now);
        let queue = op.current_call.map(|(_, q)| q);
        let wrap_up = queue
            .and_then(|q| self.queues.get(&q))
            .map_or(Duration::ZERO, |q| q.config.wrap_up);
        if wrap_up.is_zero() {
            self.finish_call(now, operator);
        } else {
            self.set_state(
                now,
                operator,
                OperatorState::WrapUp {
                    until: now + wrap_up,
                },
            );
        }
        self.dispatch(now);
        Ok(())
    }

    /// The operator filed the call's classification: wrap-up ends now.
    pub fn classification_filed(
        &mut self,
        now: Instant,
        operator: OperatorId,
    ) -> Result<(), AcdError> {
        if !matches!(
            self.operator_ref(operator)?.state,
            OperatorState::WrapUp { .. }
        ) {
            return Err(AcdError::NotInWrapUp(operator));
        }
        self.finish_call(now, operator);
        self.dispatch(now);
        Ok(())
    }

    /// Read access to an operator.
    pub fn operator(&self, operator: OperatorId) -> Option<&Operator> {
        self.operators.get(&operator)
    }

    /// Callers waiting in `queue`, in order: element `i` is at position `i + 1`.
    pub fn waiting(&self, queue: QueueId) -> &[CallerId] {
        self.queues
            .get(&queue)
            .map_or(&[], |q| q.waiting.as_slice())
    }

    /// 1-based position of a waiting caller.
    pub fn position(&self, caller: CallerId) -> Option<usize> {
        let c = self.callers.get(&caller)?;
        let q = self.queues.get(&c.queue)?;
        q.waiting.iter().position(|x| *x == caller).map(|i| i + 1)
    }

    /// Priority a waiting caller joined with.
    pub fn priority(&self, caller: CallerId) -> Option<i32> {
        self.callers.get(&caller).map(|c| c.priority)
    }

    /// The skill a waiting caller is still waiting for (`None` without one or once relaxed).
    pub fn caller_skill(&self, caller: CallerId) -> Option<&str> {
        self.callers.get(&caller).and_then(|c| c.skill.as_deref())
    }

    /// Data a waiting caller carries.
    pub fn caller_data(&self, caller: CallerId) -> Option<&CallerData> {
        self.callers.get(&caller).map(|c| &c.data)
    }

    /// Ring attempts in progress for a caller, with the operator each rings.
    pub fn offers_of(&self, caller: CallerId) -> Vec<(OfferId, OperatorId)> {
        self.callers.get(&caller).map_or_else(Vec::new, |c| {
            c.offers
                .iter()
                .filter_map(|o| self.offers.get(o).map(|x| (*o, x.operator)))
                .collect()
        })
    }

    /// Estimated wait for position `position` of `queue`:
    /// `average handling time × position / staffed operators`, where the average is over the
    /// last 16 handling times (talk + wrap-up) and staffed operators are the members whose
    /// status is Available, free or busy. `None` without samples or staffed operators.
    pub fn estimated_wait(&self, queue: QueueId, position: usize) -> Option<Duration> {
        let q = self.queues.get(&queue)?;
        let samples = u32::try_from(q.handle_times.len())
            .ok()
            .filter(|n| *n > 0)?;
        let average = q.handle_times.iter().sum::<Duration>() / samples;
        let staffed = self
            .operators
            .values()
            .filter(|o| o.memberships.contains_key(&queue) && o.status == OperatorStatus::Available)
            .count();
        let staffed = u32::try_from(staffed).ok().filter(|n| *n > 0)?;
        let position = u32::try_from(position).unwrap_or(u32::MAX);
        average.checked_mul(position).map(|d| d / staffed)
    }

    fn operator_ref(&self, operator: OperatorId) -> Result<&Operator, AcdError> {
        self.operators
            .get(&operator)
            .ok_or(AcdError::UnknownOperator(operator))
    }

    fn operator_mut(&mut self, operator: OperatorId) -> Result<&mut Operator, AcdError> {
        self.operators
            .get_mut(&operator)
            .ok_or(AcdError::UnknownOperator(operator))
    }

    pub(crate) fn set_status(
        &mut self,
        now: Instant,
        operator: OperatorId,
        status: OperatorStatus,
    ) {
        if let Some(op) = self.operators.get_mut(&operator) {
            debug!(%operator, ?status, "operator status");
            op.status = status.clone();
            self.events.push_back(AcdEvent::OperatorStateChanged {
                operator,
                change: OperatorChange::Status(status),
                at: now,
            });
        }
    }

    pub(crate) fn set_state(&mut self, now: Instant, operator: OperatorId, state: OperatorState) {
        if let Some(op) = self.operators.get_mut(&operator) {
            debug!(%operator, ?state, "operator state");
            op.state = state;
            self.events.push_back(AcdEvent::OperatorStateChanged {
                operator,
                change: OperatorChange::State(state),
                at: now,
            });
        }
    }

    /// Whether any member of `queue` is logged in.
    pub(crate) fn staffed(&self, queue: QueueId) -> bool {
        self.operators
            .values()
            .any(|o| o.memberships.contains_key(&queue) && o.status != OperatorStatus::LoggedOut)
    }
}
