//! A manager joins a live call from their registered SIP phone: to listen in silently, to
//! whisper to the operator (the caller does not hear it), or to barge in to a three-way call.
//!
//! The engine checks what it can answer at once (the call is up and with an operator, nobody
//! monitors it yet, the manager has a phone registered) so the API can say why not; the call
//! then rings the manager's phone like an operator's (`call/peer.rs`) and, once it answers,
//! has the media shell mix the three legs. Whatever ends the call or takes the operator away
//! hangs the manager's phone up; the manager hanging up ends only the monitoring.

use madoguchi_media::mix::MixMode;

use super::call::{Call, CallInput, MonitorTarget};
use super::{Engine, Now};

/// Why a call cannot be monitored (or its monitoring changed) now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MonitorError {
    #[error("no call with id {0:?} is up")]
    UnknownCall(String),
    #[error("the call is not with an operator")]
    NotWithOperator,
    #[error("{0:?} has no registered phone to join the call with")]
    NoPhone(String),
    #[error("the call is already monitored by {0:?}")]
    AlreadyMonitored(String),
    #[error("nobody monitors the call")]
    NotMonitored,
    /// The call's media is on another node (a peer call): not monitored in v1.
    #[error("a call from another node cannot be monitored")]
    PeerCall,
}

/// What the board asks of a call's monitoring.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MonitorRequest {
    /// `supervisor` joins the call with their phone.
    Start {
        supervisor: String,
        mode: MixMode,
    },
    Mode(MixMode),
    Stop,
}

impl Engine {
    /// Carries out `request` on call `call_id`.
    pub fn monitor_request(
        &mut self,
        now: Now,
        call_id: &str,
        request: MonitorRequest,
    ) -> Result<(), MonitorError> {
        match request {
            MonitorRequest::Start { supervisor, mode } => {
                self.monitor(now, call_id, &supervisor, mode)
            }
            MonitorRequest::Mode(mode) => self.set_monitor_mode(now, call_id, mode),
            MonitorRequest::Stop => self.stop_monitor(now, call_id),
        }
    }

    /// Rings `supervisor`'s most recently registered phone to join call `call_id` in `mode`.
    pub fn monitor(
        &mut self,
        now: Now,
        call_id: &str,
        supervisor: &str,
        mode: MixMode,
    ) -> Result<(), MonitorError> {
        let leg = self.monitored_call(call_id)?;
        let call = self.calls.get(&leg).ok_or_else(|| unknown(call_id))?;
        if !call.is_with_operator() {
            return Err(MonitorError::NotWithOperator);
        }
        if call.is_peer_intake() {
            return Err(MonitorError::PeerCall);
        }
        if let Some((login, _)) = call.monitored_by() {
            return Err(MonitorError::AlreadyMonitored(login.to_owned()));
        }
        let binding = self
            .sip
            .bindings(supervisor)
            .last()
            .cloned()
            .ok_or_else(|| MonitorError::NoPhone(supervisor.to_owned()))?;
        let target = MonitorTarget {
            login: supervisor.to_owned(),
            mode,
            contact: binding.contact,
            destination: binding.source.addr,
            transport: binding.source.transport,
        };
        self.drive(now, leg, CallInput::Monitor(target));
        self.pump(now);
        Ok(())
    }

    /// The manager on call `call_id` listens, whispers or barges in from now on.
    pub fn set_monitor_mode(
        &mut self,
        now: Now,
        call_id: &str,
        mode: MixMode,
    ) -> Result<(), MonitorError> {
        let leg = self.monitored_call(call_id)?;
        if self.calls.get(&leg).and_then(Call::monitored_by).is_none() {
            return Err(MonitorError::NotMonitored);
        }
        self.drive(now, leg, CallInput::MonitorMode(mode));
        self.pump(now);
        Ok(())
    }

    /// The manager leaves call `call_id` (their phone is hung up); the call goes on.
    pub fn stop_monitor(&mut self, now: Now, call_id: &str) -> Result<(), MonitorError> {
        let leg = self.monitored_call(call_id)?;
        if self.calls.get(&leg).and_then(Call::monitored_by).is_none() {
            return Err(MonitorError::NotMonitored);
        }
        self.drive(now, leg, CallInput::StopMonitor);
        self.pump(now);
        Ok(())
    }

    fn monitored_call(&self, call_id: &str) -> Result<madoguchi_sip::LegId, MonitorError> {
        self.by_call_id
            .get(call_id)
            .copied()
            .ok_or_else(|| unknown(call_id))
    }
}

fn unknown(call_id: &str) -> MonitorError {
    MonitorError::UnknownCall(call_id.to_owned())
}
