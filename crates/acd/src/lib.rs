//! Sans-IO automatic call distribution (ACD): the queue and operator core of the contact
//! center. One [`Acd`] owns every queue, operator, waiting caller and ring attempt
//! ([`OfferId`]); it performs no I/O, reads no clock and holds no locks.
//!
//! # Driving contract
//! - Inputs take `now`: [`Acd::join`], [`Acd::abandon`], [`Acd::offer_answered`],
//!   [`Acd::offer_rejected`], [`Acd::offer_direct`] (another node's caller for one
//!   operator), [`Acd::call_ended`], [`Acd::classification_filed`], operator
//!   login/logout/pause/unpause, and [`Acd::handle_timeout`] when the instant from
//!   [`Acd::poll_timeout`] is reached.
//! - After every input, drain [`Acd::poll_event`] until it returns `None` and execute the
//!   events: ring an operator, cancel a ring, bridge a call, play an announcement, record an
//!   exit or an operator state change.
//!
//! Skills: an operator has a set of skills ([`Acd::set_skills`]); a caller may join with one
//! ([`Acd::join_with`]) and is then offered only to operators who have it, until its relax
//! time ([`Relax`]). Callers behind an unservable skilled caller are served meanwhile.
//!
//! Vocabulary: an operator's *status* ([`OperatorStatus`]) is set by the person, its *state*
//! ([`OperatorState`]) by the engine. Operators belong to queues with a [`Tier`]; tier 2 is
//! offered a caller only when no tier-1 operator is free.
//!
//! # Layout
//! - `id`: newtype ids; `types`: config, events, timers, errors;
//! - `acd`: the engine's inputs and accessors; `dispatch`: operator selection and timers.
//!
//! # Example
//! ```
//! use std::time::{Duration, Instant};
//! use madoguchi_acd::*;
//!
//! let t0 = Instant::now();
//! let mut acd = Acd::new();
//! acd.add_queue(QueueId(1), QueueConfig::default()).unwrap();
//! acd.add_operator(OperatorId(7)).unwrap();
//! acd.add_member(t0, OperatorId(7), QueueId(1), Membership::default()).unwrap();
//! acd.login(t0, OperatorId(7)).unwrap();
//! acd.join(t0, QueueId(1), CallerId(42), 0).unwrap();
//! let offer = std::iter::from_fn(|| acd.poll_event())
//!     .find_map(|e| match e {
//!         AcdEvent::Ring { offer, .. } => Some(offer),
//!         _ => None,
//!     })
//!     .unwrap();
//! acd.offer_answered(t0 + Duration::from_secs(3), offer).unwrap();
//! assert!(std::iter::from_fn(|| acd.poll_event()).any(|e| matches!(
//!     e,
//!     AcdEvent::Connected { caller: CallerId(42), operator: OperatorId(7) }
//! )));
//! ```

mod acd;
mod dispatch;
mod id;
mod types;

pub use acd::{Acd, Operator};
pub use id::{CallerId, OfferId, OperatorId, QueueId};
pub use types::{
    AcdError, AcdEvent, AcdTimer, CallerData, JoinOptions, Membership, OperatorChange,
    OperatorState, OperatorStatus, PauseReason, QueueConfig, QueueExit, Relax, Strategy, Tier,
};
