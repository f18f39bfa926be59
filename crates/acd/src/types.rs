//! Values exchanged with the engine: queue configuration, operator status and state, the
//! events the shell drains, the timers it schedules and the errors inputs may return.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::id::{CallerId, OfferId, OperatorId, QueueId};

/// Opaque data a caller carries through the queue (for example the menu choice that routed
/// it); the engine stores it and never interprets it.
pub type CallerData = BTreeMap<String, String>;

/// What happens to a caller who joined with a skill once its `relax_after` has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Relax {
    /// Any member of the queue may be offered it; it keeps its place.
    #[default]
    Any,
    /// It leaves the queue with [`QueueExit::SkillTimeout`].
    Exit,
}

/// How a caller joins a queue besides its priority: see [`crate::Acd::join_with`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JoinOptions {
    /// Opaque data the caller carries.
    pub data: CallerData,
    /// Only operators with this skill are offered the caller (until `relax_after`); `None`:
    /// any member.
    pub skill: Option<String>,
    /// How long the skill filter holds; `None`: for the whole wait.
    pub relax_after: Option<Duration>,
    /// What `relax_after` leads to.
    pub relax: Relax,
}

/// How a queue picks among the free operators of the best tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// The operator whose last call ended longest ago (or who logged in longest ago).
    #[default]
    LongestIdle,
    /// The next operator after the one offered last, in tier position order, wrapping around.
    RoundRobin,
    /// Every free operator of the best tier at once; the first to answer wins.
    RingAll,
    /// The operator who has taken the fewest calls.
    FewestCalls,
}

/// Per-queue settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// Operator selection.
    pub strategy: Strategy,
    /// How long one offer rings before it counts as a ring-out.
    pub ring_timeout: Duration,
    /// Wrap-up after each call; zero makes the operator idle as soon as the call ends.
    pub wrap_up: Duration,
    /// A caller still waiting after this long exits with [`QueueExit::Timeout`].
    pub max_wait: Option<Duration>,
    /// Whether callers may join while no member is logged in (else [`QueueExit::JoinEmpty`]).
    pub join_empty: bool,
    /// Whether waiting callers leave ([`QueueExit::LeaveEmpty`]) when the last member logs out.
    pub leave_when_empty: bool,
    /// Pause an operator with [`PauseReason::NoAnswer`] after this many consecutive ring-outs.
    pub auto_pause_after: Option<u32>,
    /// Emit [`AcdEvent::Announce`] for each waiting caller this often.
    pub announce_every: Option<Duration>,
    /// Callers beyond this many exit with [`QueueExit::Overflow`] on join.
    pub max_callers: Option<usize>,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            strategy: Strategy::default(),
            ring_timeout: Duration::from_secs(15),
            wrap_up: Duration::from_secs(10),
            max_wait: None,
            join_empty: true,
            leave_when_empty: false,
            auto_pause_after: None,
            announce_every: None,
            max_callers: None,
        }
    }
}

/// Where an operator sits in a queue: lower `level` is offered first (tier 2 only when no
/// tier-1 operator is free); `position` orders operators within a level (round-robin order
/// and the final tie-break).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Tier {
    /// Tier level, 1 is the first tier.
    pub level: u8,
    /// Order within the level.
    pub position: u32,
}

/// An operator's membership of one queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Membership {
    /// Tier level and position.
    pub tier: Tier,
    /// Within one tier level, a higher penalty is offered only when no free operator of that
    /// level has a lower one.
    pub penalty: u32,
}

/// Why an operator is paused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PauseReason {
    /// Set by the engine after `auto_pause_after` consecutive ring-outs.
    NoAnswer,
    /// Chosen by the person (lunch, training, …).
    Other(String),
}

/// Availability chosen by the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorStatus {
    /// Not working; never offered a call.
    LoggedOut,
    /// Ready to be offered calls when idle.
    Available,
    /// Logged in but not taking calls.
    Paused {
        /// Why.
        reason: PauseReason,
    },
}

/// What the engine has the operator doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperatorState {
    /// Not ringing, not on a call.
    Idle,
    /// Being offered a caller.
    Ringing {
        /// The ring attempt.
        offer: OfferId,
    },
    /// Talking to a caller.
    OnCall {
        /// The caller.
        call: CallerId,
    },
    /// After a call, filing its classification.
    WrapUp {
        /// When the wrap-up ends at the latest.
        until: Instant,
    },
}

/// What changed in an [`AcdEvent::OperatorStateChanged`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OperatorChange {
    /// The person changed availability (or the engine auto-paused).
    Status(OperatorStatus),
    /// The engine moved the operator.
    State(OperatorState),
}

/// How a caller left its queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueExit {
    /// An operator answered.
    Answered {
        /// Who.
        operator: OperatorId,
    },
    /// `max_wait` elapsed.
    Timeout,
    /// Refused on join: no member logged in and `join_empty` is off.
    JoinEmpty,
    /// The last member logged out and `leave_when_empty` is on.
    LeaveEmpty,
    /// The caller hung up.
    Abandoned,
    /// Refused on join: `max_callers` reached.
    Overflow,
    /// No operator with the caller's skill answered before its relax time, and the caller
    /// joined with [`Relax::Exit`].
    SkillTimeout,
}

/// The engine's timers; [`crate::Acd::poll_timeout`] names the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcdTimer {
    /// An offer rang for `ring_timeout` unanswered.
    RingNoAnswer,
    /// An operator's wrap-up ends.
    WrapUp,
    /// A caller reaches `max_wait`.
    MaxWait,
    /// A caller is due a position announcement.
    Announce,
    /// A skilled caller reaches its relax time (see [`JoinOptions::relax_after`]).
    SkillRelax,
}

/// Outputs drained with [`crate::Acd::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AcdEvent {
    /// Ring this operator for this caller.
    Ring {
        /// The ring attempt, to quote in `offer_answered` / `offer_rejected`.
        offer: OfferId,
        /// The queue the caller waits in.
        queue: QueueId,
        /// Who is calling.
        caller: CallerId,
        /// Who to ring.
        operator: OperatorId,
    },
    /// Stop ringing: the caller left, another operator answered, or the operator left.
    CancelRing {
        /// The ring attempt.
        offer: OfferId,
    },
    /// Bridge the caller to the operator.
    Connected {
        /// Who called.
        caller: CallerId,
        /// Who answered.
        operator: OperatorId,
    },
    /// Tell a waiting caller where it stands.
    Announce {
        /// Who to tell.
        caller: CallerId,
        /// 1-based position in the queue.
        position: usize,
        /// See [`crate::Acd::estimated_wait`]; `None` when unknown.
        estimated_wait: Option<Duration>,
    },
    /// A skilled caller waited `relax_after` with [`Relax::Any`]: from now on any member of
    /// the queue may be offered it (for example a language fallback).
    SkillRelaxed {
        /// Who.
        caller: CallerId,
        /// The skill it no longer waits for.
        skill: String,
    },
    /// The caller left the queue; emitted exactly once per joined caller.
    Exit {
        /// Who.
        caller: CallerId,
        /// Why.
        exit: QueueExit,
        /// Time from join to exit.
        waited: Duration,
    },
    /// For the reports: an operator's status or state changed.
    OperatorStateChanged {
        /// Who.
        operator: OperatorId,
        /// What.
        change: OperatorChange,
        /// When.
        at: Instant,
    },
}

/// Errors returned by inputs; the engine's state is unchanged when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AcdError {
    /// No such queue.
    #[error("unknown queue {0}")]
    UnknownQueue(QueueId),
    /// No such operator.
    #[error("unknown operator {0}")]
    UnknownOperator(OperatorId),
    /// The caller is not waiting in any queue.
    #[error("unknown caller {0}")]
    UnknownCaller(CallerId),
    /// The offer is no longer ringing (answered, cancelled or rung out).
    #[error("unknown or finished offer {0}")]
    UnknownOffer(OfferId),
    /// The queue id is taken.
    #[error("queue {0} already exists")]
    DuplicateQueue(QueueId),
    /// The operator id is taken.
    #[error("operator {0} already exists")]
    DuplicateOperator(OperatorId),
    /// The caller is already waiting.
    #[error("caller {0} is already queued")]
    DuplicateCaller(CallerId),
    /// Pause/unpause need a logged-in operator.
    #[error("operator {0} is not logged in")]
    NotLoggedIn(OperatorId),
    /// `call_ended` for an operator not on a call.
    #[error("operator {0} is not on a call")]
    NotOnCall(OperatorId),
    /// `classification_filed` for an operator not in wrap-up.
    #[error("operator {0} is not in wrap-up")]
    NotInWrapUp(OperatorId),
    /// The operator is on a call or in wrap-up.
    #[error("operator {0} is busy")]
    OperatorBusy(OperatorId),
    /// The operator is not a member of the queue.
    #[error("operator {operator} is not a member of queue {queue}")]
    NotMember {
        /// Who.
        operator: OperatorId,
        /// Which queue.
        queue: QueueId,
    },
}
