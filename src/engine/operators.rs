//! Operators as the engine sees them: logins ↔ ACD ids, presence from SIP registrations,
//! status requests (API and feature codes), and the history the store keeps for the reports.
//!
//! The ACD ([`madoguchi_acd::Acd`]) knows operators only by [`OperatorId`]; this table gives
//! each login one id for the life of the process and remembers how many phones it has
//! registered, since the first binding logs an operator in and the last one leaving logs it out
//! (DESIGN.md: "a registered SIP phone logs its operator in as available (unless paused)").

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Utc};
use madoguchi_acd::{
    Acd, AcdError, OperatorChange, OperatorId, OperatorState, OperatorStatus, PauseReason,
};
use serde::Serialize;

/// Reason codes a person may pause with; `no_answer` is set by the engine after ring-outs.
pub const PAUSE_REASONS: [&str; 5] = ["break", "lunch", "training", "meeting", "no_answer"];

/// A status the person (or a script on their behalf) asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusRequest {
    Available,
    Paused { reason: String },
    LoggedOut,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperatorError {
    #[error("no operator with login {0:?}")]
    UnknownLogin(String),
    #[error("unknown pause reason {0:?}; one of break, lunch, training, meeting, no_answer")]
    UnknownReason(String),
    #[error("the operator is not logged in")]
    NotLoggedIn,
    #[error("the operator is on a call")]
    Busy,
    #[error("the operator is not in wrap-up")]
    NotInWrapUp,
}

impl From<AcdError> for OperatorError {
    fn from(error: AcdError) -> Self {
        match error {
            AcdError::NotLoggedIn(_) => OperatorError::NotLoggedIn,
            AcdError::OperatorBusy(_) | AcdError::NotOnCall(_) => OperatorError::Busy,
            AcdError::NotInWrapUp(_) => OperatorError::NotInWrapUp,
            other => OperatorError::UnknownLogin(other.to_string()),
        }
    }
}

/// One row of the operator history, as [`madoguchi_store::Store::record_operator_state`]
/// takes it: `status` is one of logged_out, available, paused, ringing, on_call, wrap_up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorHistory {
    pub login: String,
    pub at: DateTime<Utc>,
    pub status: &'static str,
    pub reason: Option<String>,
}

/// What a phone registering does to a logged-out operator: log in, log in paused (the status
/// the person had before a restart), or nothing (the person had logged out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    Login,
    Paused(String),
    StayOut,
}

/// A user who may work as an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryEntry {
    pub login: String,
    /// "agent", "manager" or "admin"; only agents join queues without explicit membership.
    pub role: String,
    /// Digest HA1 values when the user may register a SIP phone.
    pub ha1_md5: Option<String>,
    pub ha1_sha256: Option<String>,
    /// Languages the person speaks besides the default one (dialplan codes): their skills.
    pub languages: Vec<String>,
}

#[derive(Debug)]
struct Seat {
    login: String,
    role: String,
    /// Registered SIP contacts.
    phones: usize,
    /// Status and state as last reported by the ACD, with when that began (wall time).
    status: OperatorStatus,
    state: OperatorState,
    since: DateTime<Utc>,
    /// The call the operator is on, or took last (classified during and after it).
    last_call: Option<String>,
    /// The node the operator works on when that is another node (a mirror, `cluster.rs`):
    /// its status here follows what that node publishes, and it leaves no history here.
    home: Option<String>,
    /// Mirrored since its last endpoint here: its history and wrap-ups are its node's, also
    /// for what its mirror still does here once forgotten (logout, a call's end).
    foreign: bool,
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct Operators {
    ids: HashMap<String, OperatorId>,
    seats: Vec<Seat>,
}

impl Operators {
    /// The id of `login`, adding the operator (to this table and the ACD) on first sight.
    pub fn ensure(
        &mut self,
        acd: &mut Acd,
        login: &str,
        role: &str,
        now: DateTime<Utc>,
    ) -> OperatorId {
        if let Some(id) = self.ids.get(login) {
            if let Some(seat) = self.seats.get_mut(id.0 as usize) {
                seat.role = role.to_owned();
            }
            return *id;
        }
        let id = OperatorId(u32::try_from(self.seats.len()).unwrap_or(u32::MAX));
        // The id is fresh, so the ACD cannot hold it already.
        let _ = acd.add_operator(id);
        self.ids.insert(login.to_owned(), id);
        self.seats.push(Seat {
            login: login.to_owned(),
            role: role.to_owned(),
            phones: 0,
            status: OperatorStatus::LoggedOut,
            state: OperatorState::Idle,
            since: now,
            last_call: None,
            home: None,
            foreign: false,
        });
        id
    }

    pub fn id(&self, login: &str) -> Option<OperatorId> {
        self.ids.get(login).copied()
    }

    pub fn login(&self, id: OperatorId) -> Option<&str> {
        self.seats.get(id.0 as usize).map(|s| s.login.as_str())
    }

    /// The role the directory gave `id` (agent, manager or admin).
    pub fn role(&self, id: OperatorId) -> Option<&str> {
        self.seats.get(id.0 as usize).map(|s| s.role.as_str())
    }

    pub fn ids(&self) -> impl Iterator<Item = OperatorId> + '_ {
        self.ids.values().copied()
    }

    /// Whether `id` has a phone or console on this node.
    pub fn attached(&self, id: OperatorId) -> bool {
        self.seats.get(id.0 as usize).is_some_and(|s| s.phones > 0)
    }

    /// The other node `id` works on, when it is a mirror of an operator there.
    pub fn home(&self, id: OperatorId) -> Option<&str> {
        self.seats.get(id.0 as usize)?.home.as_deref()
    }

    pub fn is_mirror(&self, id: OperatorId) -> bool {
        self.home(id).is_some()
    }

    /// Whether what `id` does here leaves no history (see `Seat::foreign`).
    pub fn is_foreign(&self, id: OperatorId) -> bool {
        self.seats.get(id.0 as usize).is_some_and(|s| s.foreign)
    }

    /// Makes `id` a mirror of an operator on `home`, or (None) an operator of ours again.
    pub fn set_home(&mut self, id: OperatorId, home: Option<&str>) {
        if let Some(seat) = self.seats.get_mut(id.0 as usize) {
            seat.foreign |= home.is_some();
            seat.home = home.map(str::to_owned);
        }
    }

    /// The mirrors of operators on `node`.
    pub fn mirrors_of<'a>(&'a self, node: &'a str) -> impl Iterator<Item = OperatorId> + 'a {
        self.seats
            .iter()
            .enumerate()
            .filter(move |(_, s)| s.home.as_deref() == Some(node))
            .filter_map(|(i, _)| u32::try_from(i).ok().map(OperatorId))
    }

    /// A phone of `login` registered: the first one logs the operator in, as `resume` says.
    pub fn phone_registered(&mut self, acd: &mut Acd, now: Instant, login: &str, resume: Resume) {
        let Some(id) = self.id(login) else { return };
        let Some(seat) = self.seats.get_mut(id.0 as usize) else {
            return;
        };
        if seat.home.take().is_some() {
            // An endpoint here makes the operator ours: the other node's status no longer
            // applies (one person's console and phone attach to one node).
            let _ = acd.logout(now, id);
        }
        seat.foreign = false;
        seat.phones += 1;
        if seat.phones == 1 && seat.status == OperatorStatus::LoggedOut {
            match resume {
                Resume::Login => {
                    let _ = acd.login(now, id);
                }
                Resume::Paused(reason) => {
                    let _ = acd.login(now, id);
                    let _ = acd.pause(now, id, pause_reason(&reason));
                }
                Resume::StayOut => {}
            }
        }
    }

    /// A phone of `login` went away (un-REGISTER or expiry): the last one logs it out, unless
    /// it is on a call or in wrap-up (then the logout waits for the next status request).
    pub fn phone_unregistered(&mut self, acd: &mut Acd, now: Instant, login: &str) {
        let Some(id) = self.id(login) else { return };
        let Some(seat) = self.seats.get_mut(id.0 as usize) else {
            return;
        };
        seat.phones = seat.phones.saturating_sub(1);
        if seat.phones == 0 {
            if let Err(error) = acd.logout(now, id) {
                tracing::debug!(%error, "logout after the last phone left refused");
            }
        }
    }

    /// `operator` is connected with the call `call_id`.
    pub fn connected(&mut self, operator: OperatorId, call_id: &str) {
        if let Some(seat) = self.seats.get_mut(operator.0 as usize) {
            seat.last_call = Some(call_id.to_owned());
        }
    }

    /// A classification was filed: the operator's wrap-up, if any, ends now.
    pub fn classification_filed(&mut self, acd: &mut Acd, now: Instant, login: &str) {
        let Some(id) = self.id(login) else { return };
        if matches!(op_state(acd, id), Some(OperatorState::WrapUp { .. })) {
            let _ = acd.classification_filed(now, id);
        }
    }

    /// An endpoint left for good (a console signed out): the operator's wrap-up, if any, ends
    /// now, and without other endpoints the operator is logged out at once.
    pub fn endpoint_left(&mut self, acd: &mut Acd, now: Instant, login: &str) {
        self.classification_filed(acd, now, login);
        self.phone_unregistered(acd, now, login);
    }

    /// Applies a status request from the API or a feature code.
    pub fn request(
        &mut self,
        acd: &mut Acd,
        now: Instant,
        login: &str,
        request: &StatusRequest,
    ) -> Result<(), OperatorError> {
        let id = self
            .id(login)
            .ok_or_else(|| OperatorError::UnknownLogin(login.to_owned()))?;
        match request {
            StatusRequest::Available => {
                let status = acd
                    .operator(id)
                    .map(|op| op.status().clone())
                    .ok_or_else(|| OperatorError::UnknownLogin(login.to_owned()))?;
                match status {
                    OperatorStatus::LoggedOut => acd.login(now, id)?,
                    OperatorStatus::Paused { .. } => acd.unpause(now, id)?,
                    OperatorStatus::Available => {}
                }
                // "Available" during wrap-up means the classification is filed: take calls.
                if matches!(op_state(acd, id), Some(OperatorState::WrapUp { .. })) {
                    acd.classification_filed(now, id)?;
                }
            }
            StatusRequest::Paused { reason } => {
                if !PAUSE_REASONS.contains(&reason.as_str()) {
                    return Err(OperatorError::UnknownReason(reason.clone()));
                }
                acd.pause(now, id, pause_reason(reason))?;
            }
            StatusRequest::LoggedOut => acd.logout(now, id)?,
        }
        Ok(())
    }

    /// How long `operator`'s wrap-up lasted and the call it followed (when known), if
    /// `change` (at `at`) ends one.
    pub fn wrap_up_ending(
        &self,
        operator: OperatorId,
        change: &OperatorChange,
        at: DateTime<Utc>,
    ) -> Option<(std::time::Duration, Option<&str>)> {
        let seat = self.seats.get(operator.0 as usize)?;
        let ends = matches!(seat.state, OperatorState::WrapUp { .. })
            && matches!(change, OperatorChange::State(state) if !matches!(state, OperatorState::WrapUp { .. }));
        ends.then(|| {
            (
                (at - seat.since).to_std().unwrap_or_default(),
                seat.last_call.as_deref(),
            )
        })
    }

    /// Keeps the table's view in step with an ACD change and turns it into a history row.
    pub fn observe(
        &mut self,
        operator: OperatorId,
        change: &OperatorChange,
        at: DateTime<Utc>,
    ) -> Option<OperatorHistory> {
        let seat = self.seats.get_mut(operator.0 as usize)?;
        match change {
            OperatorChange::Status(status) => seat.status = status.clone(),
            OperatorChange::State(state) => seat.state = *state,
        }
        seat.since = at;
        let (status, reason) = describe(&seat.status, &seat.state);
        Some(OperatorHistory {
            login: seat.login.clone(),
            at,
            status,
            reason,
        })
    }

    /// The live view of every operator of this node (`node`), by login. Mirrors of other
    /// nodes' operators are left out: their own node shows them.
    pub fn live(&self, now: DateTime<Utc>, node: &str) -> Vec<OperatorView> {
        let mut out: Vec<OperatorView> = self
            .seats
            .iter()
            .filter(|s| s.home.is_none())
            .filter(|s| s.role == "agent" || s.phones > 0 || s.status != OperatorStatus::LoggedOut)
            .map(|s| {
                let (status, reason) = describe(&s.status, &s.state);
                OperatorView {
                    login: s.login.clone(),
                    state: status,
                    reason,
                    since: s.since,
                    seconds_in_state: (now - s.since).num_seconds().max(0),
                    phones: s.phones,
                    call_id: s.last_call.clone(),
                    node: node.to_owned(),
                    attached: s.phones > 0,
                }
            })
            .collect();
        out.sort_by(|a, b| a.login.cmp(&b.login));
        out
    }
}

/// An operator on the live board.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct OperatorView {
    pub login: String,
    /// logged_out, available, paused, ringing, on_call or wrap_up.
    pub state: &'static str,
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
    pub seconds_in_state: i64,
    /// Registered SIP phones.
    pub phones: usize,
    /// The call the operator is on, or took last.
    pub call_id: Option<String>,
    /// The node that published this view (its `--node-id`).
    pub node: String,
    /// A console or phone of the operator is attached on that node: it is the operator's
    /// home, where calls reach them (other nodes mirror it).
    pub attached: bool,
}

fn op_state(acd: &Acd, id: OperatorId) -> Option<OperatorState> {
    acd.operator(id).map(|o| o.state())
}

fn pause_reason(reason: &str) -> PauseReason {
    if reason == "no_answer" {
        PauseReason::NoAnswer
    } else {
        PauseReason::Other(reason.to_owned())
    }
}

/// One word for what an operator is doing: the engine's state wins over the person's status
/// while a call rings, is up or is being wrapped up.
fn describe(status: &OperatorStatus, state: &OperatorState) -> (&'static str, Option<String>) {
    match state {
        OperatorState::Ringing { .. } => return ("ringing", None),
        OperatorState::OnCall { .. } => return ("on_call", None),
        OperatorState::WrapUp { .. } => return ("wrap_up", None),
        OperatorState::Idle => {}
    }
    match status {
        OperatorStatus::LoggedOut => ("logged_out", None),
        OperatorStatus::Available => ("available", None),
        OperatorStatus::Paused { reason } => (
            "paused",
            Some(match reason {
                PauseReason::NoAnswer => "no_answer".to_owned(),
                PauseReason::Other(r) => r.clone(),
            }),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use madoguchi_acd::{Membership, QueueConfig, QueueId};

    fn setup() -> (Acd, Operators, Instant, DateTime<Utc>) {
        let mut acd = Acd::new();
        acd.add_queue(QueueId(0), QueueConfig::default()).unwrap();
        (acd, Operators::default(), Instant::now(), Utc::now())
    }

    fn status(acd: &Acd, id: OperatorId) -> OperatorStatus {
        acd.operator(id).unwrap().status().clone()
    }

    #[test]
    fn the_first_phone_logs_the_operator_in_and_the_last_one_out() {
        let (mut acd, mut ops, t0, w0) = setup();
        let id = ops.ensure(&mut acd, "op1", "agent", w0);
        ops.phone_registered(&mut acd, t0, "op1", Resume::Login);
        ops.phone_registered(&mut acd, t0, "op1", Resume::Login);
        assert_eq!(status(&acd, id), OperatorStatus::Available);
        ops.phone_unregistered(&mut acd, t0, "op1");
        assert_eq!(status(&acd, id), OperatorStatus::Available);
        ops.phone_unregistered(&mut acd, t0, "op1");
        assert_eq!(status(&acd, id), OperatorStatus::LoggedOut);
    }

    #[test]
    fn a_phone_registering_after_a_restart_keeps_a_stored_pause() {
        let (mut acd, mut ops, t0, w0) = setup();
        let id = ops.ensure(&mut acd, "op1", "agent", w0);
        ops.phone_registered(&mut acd, t0, "op1", Resume::Paused("lunch".into()));
        assert_eq!(
            status(&acd, id),
            OperatorStatus::Paused {
                reason: PauseReason::Other("lunch".into())
            }
        );
    }

    #[test]
    fn pause_with_an_unknown_reason_is_refused() {
        let (mut acd, mut ops, t0, w0) = setup();
        ops.ensure(&mut acd, "op1", "agent", w0);
        ops.phone_registered(&mut acd, t0, "op1", Resume::Login);
        let err = ops
            .request(
                &mut acd,
                t0,
                "op1",
                &StatusRequest::Paused {
                    reason: "nap".into(),
                },
            )
            .unwrap_err();
        assert_eq!(err, OperatorError::UnknownReason("nap".into()));
    }

    #[test]
    fn pausing_a_logged_out_operator_is_refused() {
        let (mut acd, mut ops, t0, w0) = setup();
        ops.ensure(&mut acd, "op1", "agent", w0);
        let err = ops
            .request(
                &mut acd,
                t0,
                "op1",
                &StatusRequest::Paused {
                    reason: "break".into(),
                },
            )
            .unwrap_err();
        assert_eq!(err, OperatorError::NotLoggedIn);
    }

    #[test]
    fn available_logs_in_unpauses_and_ends_wrap_up() {
        let (mut acd, mut ops, t0, w0) = setup();
        let id = ops.ensure(&mut acd, "op1", "agent", w0);
        acd.add_member(t0, id, QueueId(0), Membership::default())
            .unwrap();
        ops.request(&mut acd, t0, "op1", &StatusRequest::Available)
            .unwrap();
        assert_eq!(status(&acd, id), OperatorStatus::Available);
        acd.join(t0, QueueId(0), madoguchi_acd::CallerId(1), 0)
            .unwrap();
        let offer = std::iter::from_fn(|| acd.poll_event())
            .find_map(|e| match e {
                madoguchi_acd::AcdEvent::Ring { offer, .. } => Some(offer),
                _ => None,
            })
            .unwrap();
        acd.offer_answered(t0, offer).unwrap();
        acd.call_ended(t0, id).unwrap();
        assert!(matches!(
            op_state(&acd, id),
            Some(OperatorState::WrapUp { .. })
        ));
        ops.request(&mut acd, t0, "op1", &StatusRequest::Available)
            .unwrap();
        assert_eq!(op_state(&acd, id), Some(OperatorState::Idle));
    }

    #[test]
    fn history_rows_name_the_engine_state_before_the_person_status() {
        let (mut acd, mut ops, _t0, w0) = setup();
        let id = ops.ensure(&mut acd, "op1", "agent", w0);
        ops.observe(id, &OperatorChange::Status(OperatorStatus::Available), w0);
        let row = ops
            .observe(
                id,
                &OperatorChange::State(OperatorState::OnCall {
                    call: madoguchi_acd::CallerId(3),
                }),
                w0,
            )
            .unwrap();
        assert_eq!(row.status, "on_call");
        let row = ops
            .observe(id, &OperatorChange::State(OperatorState::Idle), w0)
            .unwrap();
        assert_eq!(row.status, "available");
    }

    #[test]
    fn unknown_logins_are_refused_by_name() {
        let (mut acd, mut ops, t0, _w0) = setup();
        let err = ops
            .request(&mut acd, t0, "ghost", &StatusRequest::Available)
            .unwrap_err();
        assert_eq!(err, OperatorError::UnknownLogin("ghost".into()));
    }
}
