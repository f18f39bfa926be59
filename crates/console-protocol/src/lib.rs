//! madoguchi-console-protocol: the messages an operator's browser sends over `/ws/agent`
//! (documented in docs/console-protocol.md) and the one decoder for them.
//!
//! It is its own crate so that the fuzz targets (fuzz/) and the engine binary decode with the
//! same code; the engine's web shell (src/web/console) turns a decoded [`ClientMessage`] into
//! an engine command and owns the server-to-browser messages.
//!
//! ```
//! use madoguchi_console_protocol::{ClientMessage, DecodeError};
//! let message = ClientMessage::decode(r#"{"type":"hold","call_id":"c1","on":true}"#, 1024);
//! assert_eq!(message.map(|m| m.name()), Ok("hold"));
//! assert!(matches!(ClientMessage::decode(r#"{"type":"dance"}"#, 1024), Err(DecodeError::Invalid(_))));
//! ```

use serde::Deserialize;

/// What the console asks of the call's recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingRequest {
    Start,
    Pause,
    Resume,
}

/// From the browser. Every message is an object with a `type`; unknown types, unknown fields
/// and missing fields are refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// The browser's SDP offer for the session's audio (ICE candidates gathered into it).
    MediaOffer {
        sdp: String,
    },
    /// A trickled candidate; the engine is ICE-lite and answers with its own candidates in the
    /// SDP, so the browser's are not needed — accepted and ignored.
    IceCandidate {
        candidate: serde_json::Value,
    },
    SetState {
        state: String,
        #[serde(default)]
        reason: Option<String>,
    },
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
    /// Start (calls recorded on demand), pause or resume the call's recording.
    Recording {
        call_id: String,
        action: RecordingRequest,
    },
    /// Ends the console session: a call it has ends, the operator is logged out.
    SignOut,
    Ping,
}

/// Why a text frame is not a console message; the `Display` text is the `error` reply's
/// message.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("message too large")]
    TooLarge { size: usize, limit: usize },
    #[error("not a console message: {0}")]
    Invalid(#[from] serde_json::Error),
}

impl PartialEq for DecodeError {
    /// Same variant (and sizes); serde's error is compared by its message.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::TooLarge { size: a, limit: b }, Self::TooLarge { size: c, limit: d }) => {
                a == c && b == d
            }
            (Self::Invalid(a), Self::Invalid(b)) => a.to_string() == b.to_string(),
            _ => false,
        }
    }
}

impl ClientMessage {
    /// Decodes one WebSocket text frame of at most `limit` bytes.
    pub fn decode(text: &str, limit: usize) -> Result<ClientMessage, DecodeError> {
        if text.len() > limit {
            return Err(DecodeError::TooLarge {
                size: text.len(),
                limit,
            });
        }
        Ok(serde_json::from_str(text)?)
    }

    /// The message's `type`, as the `request` of an `error` reply names it.
    pub fn name(&self) -> &'static str {
        match self {
            ClientMessage::MediaOffer { .. } => "media_offer",
            ClientMessage::IceCandidate { .. } => "ice_candidate",
            ClientMessage::SetState { .. } => "set_state",
            ClientMessage::Answer { .. } => "answer",
            ClientMessage::Decline { .. } => "decline",
            ClientMessage::Hangup { .. } => "hangup",
            ClientMessage::Hold { .. } => "hold",
            ClientMessage::Transfer { .. } => "transfer",
            ClientMessage::Recording { .. } => "recording",
            ClientMessage::SignOut => "sign_out",
            ClientMessage::Ping => "ping",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_types_and_missing_or_extra_fields_are_refused() {
        for text in [
            r#"{"type":"dance"}"#,
            r#"{"type":"answer"}"#,
            r#"{"type":"answer","call_id":"c","x":1}"#,
            r#"{"type":"recording","call_id":"c1","action":"stop"}"#,
            r#"{"type":"recording","action":"pause"}"#,
            r#"{"call_id":"c1"}"#,
            "[]",
            "",
        ] {
            assert!(
                matches!(
                    ClientMessage::decode(text, 1024),
                    Err(DecodeError::Invalid(_))
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn a_frame_over_the_limit_is_refused_before_it_is_read() {
        let text = r#"{"type":"ping"}"#;
        assert_eq!(
            ClientMessage::decode(text, text.len() - 1),
            Err(DecodeError::TooLarge {
                size: text.len(),
                limit: text.len() - 1
            })
        );
        assert_eq!(
            ClientMessage::decode(text, text.len()).map(|m| m.name()),
            Ok("ping")
        );
    }

    #[test]
    fn the_error_text_names_what_was_wrong() {
        let error = ClientMessage::decode(r#"{"type":"answer"}"#, 1024).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("not a console message: missing field `call_id`"),
            "{error}"
        );
    }

    #[test]
    fn a_set_state_reason_is_optional() {
        assert_eq!(
            ClientMessage::decode(r#"{"type":"set_state","state":"available"}"#, 1024).ok(),
            Some(ClientMessage::SetState {
                state: "available".to_owned(),
                reason: None
            })
        );
    }
}
