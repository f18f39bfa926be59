//! Browser consoles as operator endpoints.
//!
//! A console signs in once per shift and keeps one media leg (WebRTC, opened by the shell)
//! for the whole session: the microphone is asked for once, and each answered call is only a
//! bridge between the caller's leg and that leg. Offers, answers and hang-ups travel as
//! [`ConsoleCommand`]s in and [`ConsoleEvent`]s out, over the console's WebSocket in the shell;
//! the audio path does not depend on that socket, so a dropped WebSocket loses no caller.
//!
//! For the ACD a console is one more endpoint of its operator, like a registered phone; when
//! an operator has both, the console takes the calls.

use std::time::Duration;

use madoguchi_sip::LegId;

use super::call::{CallInput, PeerEvent, RecordingAction};
use super::{Engine, Now, TransferError};

/// What the console asks for; every command but `Transfer` names the call it is about, so a
/// command that crossed a change (the caller hung up meanwhile) cannot act on another call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleCommand {
    Answer {
        call_id: String,
    },
    Decline {
        call_id: String,
    },
    Hangup {
        call_id: String,
    },
    Hold {
        call_id: String,
        on: bool,
    },
    Transfer {
        call_id: String,
        target: String,
    },
    Recording {
        call_id: String,
        action: RecordingAction,
    },
}

/// What the console is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleEvent {
    /// A caller is offered to `login`'s console (it rings until answered, declined or
    /// withdrawn).
    Offered { login: String, offer: OfferedCall },
    /// The call is bridged to the console's audio.
    Connected { login: String, call_id: String },
    /// The call is over for this console (hung up, withdrawn, transferred), with why.
    Ended {
        login: String,
        call_id: String,
        reason: &'static str,
    },
    /// The recording of the console's call is "recording", "paused", "stopped" or "failed".
    Recording {
        login: String,
        call_id: String,
        state: &'static str,
    },
    /// A manager listens in on the console's call, whispers to the operator or barges in
    /// (`mode`: "listen", "whisper", "barge"), or stopped (`None`).
    Monitored {
        login: String,
        call_id: String,
        mode: Option<&'static str>,
    },
    /// Another console of `login` signed in; the one on `leg` is no longer used.
    Replaced { login: String, leg: LegId },
    /// `login`'s console on `leg` signed out (or its audio is gone): its sockets close.
    SignedOut { login: String, leg: LegId },
}

/// The card the console shows while a call rings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferedCall {
    pub call_id: String,
    /// Personal data: shown to the operator, never logged.
    pub caller: String,
    pub queue: String,
    pub waited: Duration,
    pub menu_choice: Option<String>,
    /// The language the caller chose; `None` for the default one.
    pub language: Option<String>,
    /// "any" when the caller is offered after its wait for an operator speaking its
    /// language ran out (the language's fallback); `None` otherwise.
    pub language_fallback: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsoleError {
    #[error("no operator {0:?}")]
    UnknownLogin(String),
    #[error("this console has no audio connected")]
    NotAttached,
    #[error("call {0:?} is not offered to or connected with this console")]
    NotYourCall(String),
    #[error(transparent)]
    Transfer(#[from] TransferError),
    /// Start of a call not recorded on demand, pause of one not recording, and the like.
    #[error("the recording cannot {0} now")]
    Recording(&'static str),
    /// Hold and recording of a call another node's caller is on are that node's (not in v1).
    #[error("{0} is not available on a call from another node")]
    PeerCall(&'static str),
}

/// What a (re)connecting console is told: its audio leg and the call it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleView {
    pub leg: LegId,
    /// The call ringing at or connected with this console.
    pub call: Option<(OfferedCall, bool)>,
    /// That call's recording: "recording" or "paused" while one runs.
    pub recording: Option<&'static str>,
    /// How a manager is on that call ("listen", "whisper", "barge") once their phone is up,
    /// so a reloaded console still says it is monitored.
    pub monitored: Option<&'static str>,
}

/// A console's media leg and the call it serves, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Console {
    pub leg: LegId,
}

impl Engine {
    /// `login`'s console has its audio up on `leg` (a media leg the shell opened and started):
    /// from now on the operator's calls are offered there. A second console of the same
    /// operator replaces the first, whose calls end.
    pub fn console_attach(
        &mut self,
        now: Now,
        login: &str,
        leg: LegId,
    ) -> Result<(), ConsoleError> {
        if self.operators.id(login).is_none() {
            return Err(ConsoleError::UnknownLogin(login.to_owned()));
        }
        let replaced = self.consoles.insert(login.to_owned(), Console { leg });
        match replaced {
            Some(old) => {
                self.console_gone(now, old.leg);
                self.media_out
                    .push_back(super::MediaCommand::Close { leg: old.leg });
                self.console_events.push_back(ConsoleEvent::Replaced {
                    login: login.to_owned(),
                    leg: old.leg,
                });
            }
            // The console counts as one of the operator's endpoints; whether it takes calls
            // at once is the operator's status, set from the console.
            None => self.operators.phone_registered(
                &mut self.acd,
                now.mono,
                login,
                super::operators::Resume::StayOut,
            ),
        }
        self.live_changed = true;
        self.pump(now);
        Ok(())
    }

    /// The console signed out or its audio failed: a call it had ends (a ringing one moves
    /// on to the next operator) and, without other endpoints, the operator is logged out.
    pub fn console_detach(&mut self, now: Now, login: &str) {
        let Some(console) = self.consoles.remove(login) else {
            return;
        };
        self.console_gone(now, console.leg);
        self.media_out
            .push_back(super::MediaCommand::Close { leg: console.leg });
        self.console_events.push_back(ConsoleEvent::SignedOut {
            login: login.to_owned(),
            leg: console.leg,
        });
        self.operators.endpoint_left(&mut self.acd, now.mono, login);
        self.live_changed = true;
        self.pump(now);
    }

    /// Start, pause or resume the recording of the call `call_id` over the API: for the
    /// operator on it (`login`), or anyone's call (`login` None: managers and admins).
    pub fn recording_request(
        &mut self,
        now: Now,
        call_id: &str,
        login: Option<&str>,
        action: RecordingAction,
    ) -> Result<(), ConsoleError> {
        let not_yours = || ConsoleError::NotYourCall(call_id.to_owned());
        let caller = *self.by_call_id.get(call_id).ok_or_else(not_yours)?;
        let call = self.calls.get(&caller).ok_or_else(not_yours)?;
        if call.is_peer_intake() {
            return Err(ConsoleError::PeerCall("recording"));
        }
        let Some((operator, leg)) = call.operator_on_call() else {
            return Err(ConsoleError::Recording(action.verb()));
        };
        if login.is_some_and(|login| login != operator) {
            return Err(not_yours());
        }
        if !call.recording_allows(leg, action) {
            return Err(ConsoleError::Recording(action.verb()));
        }
        self.drive_leg(
            now,
            leg,
            CallInput::Peer {
                leg,
                event: PeerEvent::Recording { action },
            },
        );
        self.pump(now);
        Ok(())
    }

    /// A leg id for a console's media, unique among the engine's legs.
    pub fn reserve_console_leg(&mut self) -> LegId {
        self.sip.reserve_leg()
    }

    /// The media leg of `login`'s console, if it has one.
    pub fn console_leg(&self, login: &str) -> Option<LegId> {
        self.consoles.get(login).map(|c| c.leg)
    }

    /// `login`'s console as a reconnecting socket needs it: its leg, and the call ringing at
    /// it (false) or connected with it (true).
    pub fn console_view(&self, now: Now, login: &str) -> Option<ConsoleView> {
        let leg = self.console_leg(login)?;
        let served = self
            .owners
            .get(&leg)
            .and_then(|caller| self.calls.get(caller));
        let call = served.and_then(|call| call.console_view(now, leg));
        let recording = served.and_then(|call| call.recording_state());
        let monitored = served
            .and_then(|call| call.monitored_by())
            .and_then(|(_, mode)| mode)
            .map(super::call::mode_name);
        Some(ConsoleView {
            leg,
            call,
            recording,
            monitored,
        })
    }

    pub fn console_command(
        &mut self,
        now: Now,
        login: &str,
        command: ConsoleCommand,
    ) -> Result<(), ConsoleError> {
        let leg = self.console_leg(login).ok_or(ConsoleError::NotAttached)?;
        let (call_id, event) = match command {
            ConsoleCommand::Answer { call_id } => (call_id, PeerEvent::Answered { sdp: None }),
            ConsoleCommand::Decline { call_id } => (call_id, PeerEvent::Failed { status: 603 }),
            ConsoleCommand::Hangup { call_id } => (call_id, PeerEvent::RemoteHangup),
            ConsoleCommand::Hold { call_id, on } => {
                self.refuse_on_peer_call(leg, &call_id, "hold")?;
                (call_id, PeerEvent::Hold { on })
            }
            ConsoleCommand::Recording { call_id, action } => {
                self.refuse_on_peer_call(leg, &call_id, "recording")?;
                let caller = self.console_call(leg, &call_id)?;
                let allowed = self
                    .calls
                    .get(&caller)
                    .is_some_and(|call| call.recording_allows(leg, action));
                if !allowed {
                    return Err(ConsoleError::Recording(action.verb()));
                }
                (call_id, PeerEvent::Recording { action })
            }
            ConsoleCommand::Transfer { call_id, target } => {
                self.console_call(leg, &call_id)?;
                return Ok(self.transfer(now, &call_id, &target)?);
            }
        };
        self.console_call(leg, &call_id)?;
        self.drive_leg(now, leg, CallInput::Peer { leg, event });
        self.pump(now);
        Ok(())
    }

    pub fn poll_console(&mut self) -> Option<ConsoleEvent> {
        self.console_events.pop_front()
    }

    /// `what` is refused on a peer call (`cluster.rs`): the media and record are elsewhere.
    fn refuse_on_peer_call(
        &self,
        leg: LegId,
        call_id: &str,
        what: &'static str,
    ) -> Result<(), ConsoleError> {
        let caller = self.console_call(leg, call_id)?;
        if self.calls.get(&caller).is_some_and(|c| c.is_peer_intake()) {
            return Err(ConsoleError::PeerCall(what));
        }
        Ok(())
    }

    /// The caller leg of the call `call_id`, if it is the one `leg` serves.
    fn console_call(&self, leg: LegId, call_id: &str) -> Result<LegId, ConsoleError> {
        let caller = self
            .owners
            .get(&leg)
            .copied()
            .filter(|caller| self.calls.get(caller).is_some_and(|c| c.id() == call_id));
        caller.ok_or_else(|| ConsoleError::NotYourCall(call_id.to_owned()))
    }

    /// A console leg is no more: the call it served loses its operator.
    fn console_gone(&mut self, now: Now, leg: LegId) {
        if self.owners.contains_key(&leg) {
            self.drive_leg(
                now,
                leg,
                CallInput::Peer {
                    leg,
                    event: PeerEvent::RemoteHangup,
                },
            );
        }
    }

    /// The console of `login`, when the ACD rings that operator (the ACD rings only an
    /// operator who is free, so the console serves no other call).
    pub(super) fn ring_console(&self, login: &str) -> Option<LegId> {
        self.console_leg(login)
    }

    pub(super) fn console_login(&self, leg: LegId) -> Option<String> {
        self.consoles
            .iter()
            .find(|(_, c)| c.leg == leg)
            .map(|(login, _)| login.clone())
    }

    /// Turns the output of call `call_id` about a console leg into an event for that console.
    pub(super) fn console_output(&mut self, call_id: String, leg: LegId, event: ConsoleOutput) {
        let Some(login) = self.console_login(leg) else {
            return;
        };
        self.console_events.push_back(match event {
            ConsoleOutput::Offered(offer) => ConsoleEvent::Offered { login, offer },
            ConsoleOutput::Connected => ConsoleEvent::Connected { login, call_id },
            ConsoleOutput::Ended { reason } => ConsoleEvent::Ended {
                login,
                call_id,
                reason,
            },
            ConsoleOutput::Recording { state } => ConsoleEvent::Recording {
                login,
                call_id,
                state,
            },
            ConsoleOutput::Monitored { mode } => ConsoleEvent::Monitored {
                login,
                call_id,
                mode,
            },
        });
    }
}

/// A call's news for the console serving it (see [`ConsoleEvent`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ConsoleOutput {
    Offered(OfferedCall),
    Connected,
    /// "withdrawn" before an answer, "ended" after.
    Ended {
        reason: &'static str,
    },
    /// The call's recording is "recording", "paused", "stopped" or "failed".
    Recording {
        state: &'static str,
    },
    /// A manager listens in ("listen"), whispers ("whisper") or barges in ("barge"); `None`:
    /// no longer.
    Monitored {
        mode: Option<&'static str>,
    },
}
