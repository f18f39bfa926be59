//! The console's JSON messages over `/ws/agent` (documented in docs/console-protocol.md).
//! Every message is an object with a `type`; unknown types and malformed messages get an
//! `error` reply naming what was wrong, and the socket stays open.

use serde::Serialize;

use crate::engine::console::{ConsoleCommand, ConsoleEvent, OfferedCall};
use crate::engine::RecordingAction;

// The browser's messages and their decoder live in their own crate, shared with the fuzz
// targets (fuzz/console_json).
pub use madoguchi_console_protocol::{ClientMessage, RecordingRequest};

/// The engine command `message` is, if it is one.
pub fn command(message: &ClientMessage) -> Option<ConsoleCommand> {
    Some(match message.clone() {
        ClientMessage::Answer { call_id } => ConsoleCommand::Answer { call_id },
        ClientMessage::Decline { call_id } => ConsoleCommand::Decline { call_id },
        ClientMessage::Hangup { call_id } => ConsoleCommand::Hangup { call_id },
        ClientMessage::Hold { call_id, on } => ConsoleCommand::Hold { call_id, on },
        ClientMessage::Transfer { call_id, target } => ConsoleCommand::Transfer { call_id, target },
        ClientMessage::Recording { call_id, action } => ConsoleCommand::Recording {
            call_id,
            action: match action {
                RecordingRequest::Start => RecordingAction::Start,
                RecordingRequest::Pause => RecordingAction::Pause,
                RecordingRequest::Resume => RecordingAction::Resume,
            },
        },
        _ => return None,
    })
}

/// A call as the console shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallCard {
    pub call_id: String,
    pub caller: String,
    pub queue: String,
    pub waited_s: u64,
    pub menu_choice: Option<String>,
    /// The caller's language code; null for the dialplan's default language.
    pub language: Option<String>,
    /// "any": a caller of a language offered to any operator because nobody speaking it
    /// answered within the language's `after`; null otherwise.
    pub language_fallback: Option<&'static str>,
}

impl From<&OfferedCall> for CallCard {
    fn from(offer: &OfferedCall) -> CallCard {
        CallCard {
            call_id: offer.call_id.clone(),
            caller: offer.caller.clone(),
            queue: offer.queue.clone(),
            waited_s: offer.waited.as_secs(),
            menu_choice: offer.menu_choice.clone(),
            language: offer.language.clone(),
            language_fallback: offer.language_fallback,
        }
    }
}

/// A call in the welcome: the card, and whether it is connected (else it rings).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallState {
    #[serde(flatten)]
    pub call: CallCard,
    pub connected: bool,
    /// "recording" or "paused" while the call is recorded; absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
    /// How a manager is on the call ("listen", "whisper", "barge"); absent when nobody is,
    /// so a reloaded console still shows it is monitored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitored: Option<String>,
}

/// To the browser.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First message on every connection, and the resync after a reconnect.
    Welcome {
        login: String,
        state: String,
        reason: Option<String>,
        since: chrono::DateTime<chrono::Utc>,
        /// Whether this console's audio is up (after a reconnect it usually is).
        media: bool,
        /// The call ringing at or connected with this console.
        call: Option<CallState>,
    },
    MediaAnswer {
        sdp: String,
    },
    State {
        state: String,
        reason: Option<String>,
        since: chrono::DateTime<chrono::Utc>,
    },
    Offered {
        #[serde(flatten)]
        call: CallCard,
    },
    Connected {
        call_id: String,
    },
    Ended {
        call_id: String,
        reason: String,
    },
    /// The recording of the call: "recording", "paused", "stopped" or "failed".
    Recording {
        call_id: String,
        state: String,
    },
    /// A manager listens in ("listen"), whispers to the operator ("whisper") or is in a
    /// three-way call ("barge"); `null`: no longer.
    Monitored {
        call_id: String,
        mode: Option<String>,
    },
    /// Another console of the same operator signed in; this one is closed.
    TakenOver,
    /// The session ended (signed out elsewhere, or the audio is gone); this socket closes.
    SignedOut,
    Error {
        request: String,
        message: String,
    },
    Pong,
}

impl ServerMessage {
    /// The message for `login`'s console, if `event` is about it.
    pub fn from_event(login: &str, event: &ConsoleEvent) -> Option<ServerMessage> {
        match event {
            ConsoleEvent::Offered { login: l, offer } if l == login => {
                Some(ServerMessage::Offered { call: offer.into() })
            }
            ConsoleEvent::Connected { login: l, call_id } if l == login => {
                Some(ServerMessage::Connected {
                    call_id: call_id.clone(),
                })
            }
            ConsoleEvent::Ended {
                login: l,
                call_id,
                reason,
            } if l == login => Some(ServerMessage::Ended {
                call_id: call_id.clone(),
                reason: (*reason).to_owned(),
            }),
            ConsoleEvent::Recording {
                login: l,
                call_id,
                state,
            } if l == login => Some(ServerMessage::Recording {
                call_id: call_id.clone(),
                state: (*state).to_owned(),
            }),
            ConsoleEvent::Monitored {
                login: l,
                call_id,
                mode,
            } if l == login => Some(ServerMessage::Monitored {
                call_id: call_id.clone(),
                mode: mode.map(str::to_owned),
            }),
            _ => None,
        }
    }

    pub fn error(request: &str, message: impl Into<String>) -> ServerMessage {
        ServerMessage::Error {
            request: request.to_owned(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn commands_parse_from_their_json_type() {
        let message: ClientMessage =
            serde_json::from_str(r#"{"type":"hold","call_id":"c1","on":true}"#).expect("parses");
        assert_eq!(
            command(&message),
            Some(ConsoleCommand::Hold {
                call_id: "c1".to_owned(),
                on: true
            })
        );
    }

    #[test]
    fn unknown_types_and_missing_fields_are_refused() {
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"dance"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"answer"}"#).is_err());
        assert!(
            serde_json::from_str::<ClientMessage>(r#"{"type":"answer","call_id":"c","x":1}"#)
                .is_err()
        );
    }

    #[test]
    fn an_offer_is_sent_only_to_the_console_of_its_operator() {
        let event = ConsoleEvent::Offered {
            login: "op1".to_owned(),
            offer: OfferedCall {
                call_id: "c1".to_owned(),
                caller: "0467001234".to_owned(),
                queue: "desk".to_owned(),
                waited: Duration::from_secs(42),
                menu_choice: Some("1".to_owned()),
                language: None,
                language_fallback: None,
            },
        };
        assert_eq!(ServerMessage::from_event("op2", &event), None);
        let json = serde_json::to_value(ServerMessage::from_event("op1", &event)).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"type": "offered", "call_id": "c1", "caller": "0467001234",
                "queue": "desk", "waited_s": 42, "menu_choice": "1", "language": null,
                "language_fallback": null})
        );
    }

    #[test]
    fn a_recording_action_parses_to_the_engine_command() {
        for (word, action) in [
            ("start", RecordingAction::Start),
            ("pause", RecordingAction::Pause),
            ("resume", RecordingAction::Resume),
        ] {
            let text = format!(r#"{{"type":"recording","call_id":"c1","action":"{word}"}}"#);
            let message: ClientMessage = serde_json::from_str(&text).expect("parses");
            assert_eq!(message.name(), "recording");
            assert_eq!(
                command(&message),
                Some(ConsoleCommand::Recording {
                    call_id: "c1".to_owned(),
                    action
                })
            );
        }
    }

    #[test]
    fn a_recording_message_without_a_known_action_is_refused() {
        for text in [
            r#"{"type":"recording","call_id":"c1","action":"stop"}"#,
            r#"{"type":"recording","call_id":"c1"}"#,
            r#"{"type":"recording","action":"pause"}"#,
            r#"{"type":"recording","call_id":"c1","action":"pause","on":true}"#,
        ] {
            assert!(
                serde_json::from_str::<ClientMessage>(text).is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn recording_news_is_sent_only_to_the_console_of_its_operator() {
        let event = ConsoleEvent::Recording {
            login: "op1".to_owned(),
            call_id: "c1".to_owned(),
            state: "paused",
        };
        assert_eq!(ServerMessage::from_event("op2", &event), None);
        let json = serde_json::to_value(ServerMessage::from_event("op1", &event)).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"type": "recording", "call_id": "c1", "state": "paused"})
        );
    }
    #[test]
    fn monitoring_news_names_the_mode_or_null_when_it_ends() {
        let event = |mode| ConsoleEvent::Monitored {
            login: "op1".to_owned(),
            call_id: "c1".to_owned(),
            mode,
        };
        assert_eq!(
            ServerMessage::from_event("op2", &event(Some("listen"))),
            None
        );
        let json = |mode| serde_json::to_value(ServerMessage::from_event("op1", &event(mode)));
        assert_eq!(
            json(Some("whisper")).expect("json"),
            serde_json::json!({"type": "monitored", "call_id": "c1", "mode": "whisper"})
        );
        assert_eq!(
            json(None).expect("json"),
            serde_json::json!({"type": "monitored", "call_id": "c1", "mode": null})
        );
    }

    #[test]
    fn a_welcome_carries_the_monitoring_of_its_call_only_while_there_is_one() {
        let welcome = |monitored: Option<&str>| ServerMessage::Welcome {
            login: "op1".to_owned(),
            state: "on_call".to_owned(),
            reason: None,
            since: chrono::DateTime::UNIX_EPOCH,
            media: true,
            call: Some(CallState {
                call: CallCard {
                    call_id: "c1".to_owned(),
                    caller: "0467001234".to_owned(),
                    queue: "desk".to_owned(),
                    waited_s: 4,
                    menu_choice: None,
                    language: None,
                    language_fallback: None,
                },
                connected: true,
                recording: None,
                monitored: monitored.map(str::to_owned),
            }),
        };
        let json = serde_json::to_value(welcome(Some("whisper"))).expect("json");
        assert_eq!(json["call"]["monitored"], "whisper", "{json}");
        assert_eq!(json["call"]["call_id"], "c1", "{json}");
        let json = serde_json::to_value(welcome(None)).expect("json");
        let call = json["call"].as_object().expect("a call");
        assert!(!call.contains_key("monitored"), "{json}");
        assert!(!call.contains_key("recording"), "{json}");
    }

    #[test]
    fn a_call_card_names_the_callers_language_and_null_for_the_default_one() {
        let card = |language: Option<&str>| CallCard {
            call_id: "c1".to_owned(),
            caller: "0467001234".to_owned(),
            queue: "desk".to_owned(),
            waited_s: 4,
            menu_choice: Some("9".to_owned()),
            language: language.map(str::to_owned),
            language_fallback: None,
        };
        let json = serde_json::to_value(card(Some("en"))).expect("json");
        assert_eq!(json["language"], "en", "{json}");
        let json = serde_json::to_value(card(None)).expect("json");
        assert!(json["language"].is_null(), "{json}");
    }

    #[test]
    fn an_offer_after_the_language_fallback_says_any_and_one_before_says_null() {
        let offer = |fallback: Option<&'static str>| OfferedCall {
            call_id: "c1".to_owned(),
            caller: "0467001234".to_owned(),
            queue: "general".to_owned(),
            waited: Duration::from_secs(130),
            menu_choice: Some("9".to_owned()),
            language: Some("en".to_owned()),
            language_fallback: fallback,
        };
        let json = serde_json::to_value(CallCard::from(&offer(Some("any")))).expect("json");
        assert_eq!(json["language_fallback"], "any", "{json}");
        let json = serde_json::to_value(CallCard::from(&offer(None))).expect("json");
        assert!(json["language_fallback"].is_null(), "{json}");
    }
}
