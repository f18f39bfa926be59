//! The call record: what one call leaves behind, as the engine hands it to the store.
//!
//! Plain data with serde derives, shared by the engine (which builds a record when a call
//! ends), the writer (which persists it) and the web layer (which lists it). Validation of
//! what a database could not hold lives here too, so both backends refuse the same records.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};

/// One call, answered or not: exactly one record per call (DESIGN.md, call flow step 8).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CallRecord {
    /// UUID-like text made by the engine; the primary key and the idempotency key.
    pub id: String,
    /// The SIP Call-ID of the inbound leg.
    pub sip_call_id: String,
    /// Personal data: never log it at INFO or above.
    pub caller: String,
    /// The dialled user (Request-URI user).
    pub called: String,
    pub arrived_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    /// The dialplan entry that matched, if any.
    pub entry: Option<String>,
    /// The dialplan branch taken, e.g. "open", "closed_year_end".
    pub branch: Option<String>,
    pub disposition: Disposition,
    /// DTMF menu choices in the order they were made.
    pub dtmf: Vec<String>,
    pub hangup_side: Option<HangupSide>,
    /// e.g. "bye", "cancel", "ack_timeout", "487".
    pub hangup_cause: Option<String>,
    // The queue outcome: absent from records written before queues existed, hence
    // `serde(default)` so their JSON still parses.
    /// The queue the caller waited in.
    #[serde(default)]
    pub queue: Option<String>,
    /// From joining the queue to leaving it (answered, abandoned or overflowed).
    #[serde(default)]
    pub waited_ms: Option<i64>,
    /// Login of the operator who answered.
    #[serde(default)]
    pub operator: Option<String>,
    /// When the caller was bridged to the operator.
    #[serde(default)]
    pub connected_at: Option<DateTime<Utc>>,
    /// From `connected_at` to the end of the operator leg.
    #[serde(default)]
    pub talk_ms: Option<i64>,
    /// The dialplan target the call was transferred to, e.g. "city_line".
    #[serde(default)]
    pub transfer_target: Option<String>,
    /// How the transfer went: "answered", "busy", "no_answer", "failed", "closed", "refused".
    #[serde(default)]
    pub transfer_result: Option<String>,
    /// The DTMF menu choice that routed the call, e.g. "1".
    #[serde(default)]
    pub menu_choice: Option<String>,
    // Residents first (issue 9): absent from older records, hence `serde(default)`.
    /// The dialplan entry's answer mode: answered at once, or only when a person picks up.
    #[serde(default)]
    pub answer_mode: Option<AnswerMode>,
    /// What caused our 200 OK; `None` when the call was never answered.
    #[serde(default)]
    pub answered_by: Option<AnsweredBy>,
    /// From arrival to our 200 OK (to the end when never answered): time the caller did not
    /// pay for.
    #[serde(default)]
    pub unanswered_ms: Option<i64>,
    /// From our 200 OK to the end: the part a carrier bills.
    #[serde(default)]
    pub answered_ms: Option<i64>,
    /// The language the caller chose, e.g. "en"; `None` for the dialplan's default language.
    #[serde(default)]
    pub language: Option<String>,
    /// How a caller of a language was served without that language, if they were.
    #[serde(default)]
    pub language_fallback: Option<LanguageFallbackUsed>,
    /// The engine node that handled the call (multi-node deployments share one database).
    pub node_id: String,
    /// In `seq` order when read back from the store.
    pub events: Vec<CallEvent>,
}

/// One step in a call's life, e.g. `invite`, `answered`, `prompt_started`, `dtmf`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CallEvent {
    /// Position within the call; unique per call.
    pub seq: i32,
    pub at: DateTime<Utc>,
    pub kind: String,
    /// Kind-specific detail; `null` when there is none.
    pub detail: serde_json::Value,
}

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The text stored in the database and used in JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownVariant { what: $what }),
                }
            }
        }
    };
}

text_enum!(
    /// How a call ended, from the hotline's point of view. Stored as text.
    Disposition, "disposition" {
        /// Outside opening hours.
        ClosedHours => "closed_hours",
        /// A national holiday the service is closed on.
        ClosedHoliday => "closed_holiday",
        /// The year-end/New-Year break (12/29–1/3).
        ClosedYearEnd => "closed_year_end",
        /// An announced special closure.
        ClosedSpecial => "closed_special",
        /// Answered and ended normally without reaching an operator (announcements only).
        Completed => "completed",
        /// The caller hung up before the call completed, outside the queue.
        CallerHangup => "caller_hangup",
        /// The caller cancelled before the engine answered.
        Cancelled => "cancelled",
        /// The engine refused the call.
        Rejected => "rejected",
        /// A signalling or media failure ended the call.
        Failed => "failed",
        /// The engine shut down or lost state mid-call.
        Interrupted => "interrupted",
        /// No dialplan entry matched.
        NoRoute => "no_route",
        /// The caller talked to an operator.
        Answered => "answered",
        /// The caller hung up while waiting in the queue.
        Abandoned => "abandoned",
        /// Sent to the overflow target: no operator logged in, or the maximum wait reached.
        Overflowed => "overflowed",
        /// Transferred to a target, by an operator or by the dialplan.
        Transferred => "transferred",
        /// The caller asked to be called back (the dialplan's `callback` step).
        CallbackRequested => "callback_requested",
    }
);

text_enum!(
    /// A dialplan entry's answer mode (`answer = "engine" | "operator"`).
    AnswerMode, "answer mode" {
        /// The engine answers at once; announcements and the queue are paid time.
        Engine => "engine",
        /// Announcements and the queue run in early media; answered when a person picks up.
        Operator => "operator",
    }
);

text_enum!(
    /// What caused the engine's 200 OK to the caller.
    AnsweredBy, "answered by" {
        /// The engine itself (`answer = "engine"`).
        Engine => "engine",
        /// An operator picked up (`answer = "operator"`).
        Operator => "operator",
        /// A transfer target picked up (`answer = "operator"`).
        Target => "target",
        /// The early-media limit was reached (`early_limit`).
        EarlyLimit => "early_limit",
    }
);

text_enum!(
    /// How a caller of a language was served without that language.
    LanguageFallbackUsed, "language fallback" {
        /// Offered to any operator once the language's wait (`after`) passed.
        Any => "any",
        /// Sent to the language's fallback target (an interpretation line).
        Target => "target",
    }
);

text_enum!(
    /// Which side sent the BYE/CANCEL (or stopped answering).
    HangupSide, "hangup side" {
        Caller => "caller",
        Engine => "engine",
    }
);

/// Text read from the database that names no known variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}")]
pub struct UnknownVariant {
    pub what: &'static str,
}

/// Why a record cannot be stored. Both backends refuse the same records, so that a record
/// that SQLite accepts never fails on PostgreSQL after a migration between them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidRecord {
    #[error("the record id is empty")]
    EmptyId,
    /// PostgreSQL text and jsonb cannot hold U+0000.
    #[error("field {field} contains a NUL character")]
    NulCharacter { field: &'static str },
    /// Timestamps are stored as four-digit-year RFC 3339 text in SQLite.
    #[error("field {field} is outside the years 1..=9999")]
    TimestampOutOfRange { field: &'static str },
    #[error("event sequence number {seq} appears more than once")]
    DuplicateEventSeq { seq: i32 },
}

impl CallRecord {
    /// Checks what a database could not hold; does not judge plausibility (an `ended_at`
    /// before `arrived_at` after a wall-clock step is stored as given).
    pub fn validate(&self) -> Result<(), InvalidRecord> {
        if self.id.is_empty() {
            return Err(InvalidRecord::EmptyId);
        }
        let texts: [(&'static str, Option<&str>); 14] = [
            ("id", Some(&self.id)),
            ("sip_call_id", Some(&self.sip_call_id)),
            ("caller", Some(&self.caller)),
            ("called", Some(&self.called)),
            ("entry", self.entry.as_deref()),
            ("branch", self.branch.as_deref()),
            ("hangup_cause", self.hangup_cause.as_deref()),
            ("node_id", Some(&self.node_id)),
            ("queue", self.queue.as_deref()),
            ("operator", self.operator.as_deref()),
            ("transfer_target", self.transfer_target.as_deref()),
            ("transfer_result", self.transfer_result.as_deref()),
            ("menu_choice", self.menu_choice.as_deref()),
            ("language", self.language.as_deref()),
        ];
        for (field, text) in texts {
            if text.is_some_and(|t| t.contains('\0')) {
                return Err(InvalidRecord::NulCharacter { field });
            }
        }
        if self.dtmf.iter().any(|d| d.contains('\0')) {
            return Err(InvalidRecord::NulCharacter { field: "dtmf" });
        }
        let times = [
            ("arrived_at", Some(self.arrived_at)),
            ("answered_at", self.answered_at),
            ("ended_at", Some(self.ended_at)),
            ("connected_at", self.connected_at),
        ];
        for (field, at) in times {
            if at.is_some_and(|at| !year_in_range(at)) {
                return Err(InvalidRecord::TimestampOutOfRange { field });
            }
        }
        let mut seen = HashSet::with_capacity(self.events.len());
        for event in &self.events {
            if !seen.insert(event.seq) {
                return Err(InvalidRecord::DuplicateEventSeq { seq: event.seq });
            }
            if !year_in_range(event.at) {
                return Err(InvalidRecord::TimestampOutOfRange { field: "events.at" });
            }
            if event.kind.contains('\0') {
                return Err(InvalidRecord::NulCharacter {
                    field: "events.kind",
                });
            }
            if json_has_nul(&event.detail) {
                return Err(InvalidRecord::NulCharacter {
                    field: "events.detail",
                });
            }
        }
        Ok(())
    }
}

fn year_in_range(at: DateTime<Utc>) -> bool {
    (1..=9999).contains(&at.year())
}

fn json_has_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(json_has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || json_has_nul(v)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_767_225_600 + s, 0)
            .single()
            .expect("in range")
    }

    fn record() -> CallRecord {
        CallRecord {
            id: "c1".into(),
            sip_call_id: "abc@host".into(),
            caller: "0312345678".into(),
            called: "hotline".into(),
            arrived_at: at(0),
            answered_at: None,
            ended_at: at(10),
            entry: None,
            branch: None,
            disposition: Disposition::Completed,
            dtmf: vec![],
            hangup_side: None,
            hangup_cause: None,
            queue: None,
            waited_ms: None,
            operator: None,
            connected_at: None,
            talk_ms: None,
            transfer_target: None,
            transfer_result: None,
            menu_choice: None,
            answer_mode: None,
            answered_by: None,
            unanswered_ms: None,
            answered_ms: None,
            language: None,
            language_fallback: None,
            node_id: "n1".into(),
            events: vec![],
        }
    }

    fn event(seq: i32) -> CallEvent {
        CallEvent {
            seq,
            at: at(1),
            kind: "invite".into(),
            detail: serde_json::Value::Null,
        }
    }

    #[test]
    fn every_disposition_round_trips_through_its_text() {
        for d in Disposition::ALL {
            assert_eq!(d.as_str().parse::<Disposition>(), Ok(*d));
        }
    }

    #[test]
    fn disposition_serde_name_equals_stored_text() {
        for d in Disposition::ALL {
            let json = serde_json::to_string(d).expect("plain enum serialises");
            assert_eq!(json, format!("\"{}\"", d.as_str()));
        }
    }

    #[test]
    fn unknown_disposition_text_is_an_error_not_a_panic() {
        assert_eq!(
            "on_fire".parse::<Disposition>(),
            Err(UnknownVariant {
                what: "disposition"
            })
        );
    }

    #[test]
    fn hangup_side_round_trips_through_its_text() {
        for s in HangupSide::ALL {
            assert_eq!(s.as_str().parse::<HangupSide>(), Ok(*s));
        }
    }

    #[test]
    fn a_plain_record_is_valid() {
        assert_eq!(record().validate(), Ok(()));
    }

    #[test]
    fn an_empty_id_is_invalid() {
        let r = CallRecord {
            id: String::new(),
            ..record()
        };
        assert_eq!(r.validate(), Err(InvalidRecord::EmptyId));
    }

    #[test]
    fn a_nul_in_the_caller_is_invalid() {
        let r = CallRecord {
            caller: "03\0".into(),
            ..record()
        };
        assert_eq!(
            r.validate(),
            Err(InvalidRecord::NulCharacter { field: "caller" })
        );
    }

    #[test]
    fn a_nul_in_an_optional_field_is_invalid() {
        let r = CallRecord {
            hangup_cause: Some("b\0ye".into()),
            ..record()
        };
        assert_eq!(
            r.validate(),
            Err(InvalidRecord::NulCharacter {
                field: "hangup_cause"
            })
        );
    }

    #[test]
    fn a_nul_in_a_dtmf_choice_is_invalid() {
        let r = CallRecord {
            dtmf: vec!["1".into(), "\0".into()],
            ..record()
        };
        assert_eq!(
            r.validate(),
            Err(InvalidRecord::NulCharacter { field: "dtmf" })
        );
    }

    #[test]
    fn a_nul_deep_in_event_detail_is_invalid() {
        let mut e = event(1);
        e.detail = serde_json::json!({"a": [1, {"b": "x\u{0}y"}]});
        let r = CallRecord {
            events: vec![e],
            ..record()
        };
        assert_eq!(
            r.validate(),
            Err(InvalidRecord::NulCharacter {
                field: "events.detail"
            })
        );
    }

    #[test]
    fn a_nul_in_an_event_detail_key_is_invalid() {
        let mut e = event(1);
        e.detail = serde_json::json!({"k\u{0}": 1});
        let r = CallRecord {
            events: vec![e],
            ..record()
        };
        assert!(matches!(
            r.validate(),
            Err(InvalidRecord::NulCharacter { .. })
        ));
    }

    #[test]
    fn duplicate_event_sequence_numbers_are_invalid() {
        let r = CallRecord {
            events: vec![event(1), event(2), event(1)],
            ..record()
        };
        assert_eq!(
            r.validate(),
            Err(InvalidRecord::DuplicateEventSeq { seq: 1 })
        );
    }

    #[test]
    fn a_five_digit_year_is_invalid() {
        let far = Utc
            .with_ymd_and_hms(10_000, 1, 1, 0, 0, 0)
            .single()
            .expect("chrono holds year 10000");
        let r = CallRecord {
            answered_at: Some(far),
            ..record()
        };
        assert_eq!(
            r.validate(),
            Err(InvalidRecord::TimestampOutOfRange {
                field: "answered_at"
            })
        );
    }

    #[test]
    fn year_one_and_year_9999_are_valid() {
        let first = Utc
            .with_ymd_and_hms(1, 1, 1, 0, 0, 0)
            .single()
            .expect("chrono holds year 1");
        let last = Utc
            .with_ymd_and_hms(9999, 12, 31, 23, 59, 59)
            .single()
            .expect("chrono holds year 9999");
        let r = CallRecord {
            arrived_at: first,
            ended_at: last,
            ..record()
        };
        assert_eq!(r.validate(), Ok(()));
    }

    #[test]
    fn ended_before_arrived_is_stored_as_given() {
        let r = CallRecord {
            ended_at: at(-5),
            ..record()
        };
        assert_eq!(r.validate(), Ok(()));
    }

    #[test]
    fn json_written_before_the_queue_fields_still_parses() {
        let old = serde_json::json!({
            "id": "c1", "sip_call_id": "abc@host", "caller": "0312345678",
            "called": "hotline", "arrived_at": "2026-01-01T00:00:00Z", "answered_at": null,
            "ended_at": "2026-01-01T00:00:10Z", "entry": null, "branch": null,
            "disposition": "completed", "dtmf": [], "hangup_side": null,
            "hangup_cause": null, "node_id": "n1", "events": []
        });
        let parsed: CallRecord = serde_json::from_value(old).expect("old JSON parses");
        assert_eq!(parsed, record());
    }

    #[test]
    fn a_nul_in_a_queue_field_is_invalid() {
        let r = CallRecord {
            transfer_target: Some("city\0line".into()),
            ..record()
        };
        assert_eq!(
            r.validate(),
            Err(InvalidRecord::NulCharacter {
                field: "transfer_target"
            })
        );
    }

    #[test]
    fn a_five_digit_year_in_connected_at_is_invalid() {
        let far = Utc
            .with_ymd_and_hms(10_000, 1, 1, 0, 0, 0)
            .single()
            .expect("chrono holds year 10000");
        let r = CallRecord {
            connected_at: Some(far),
            ..record()
        };
        assert_eq!(
            r.validate(),
            Err(InvalidRecord::TimestampOutOfRange {
                field: "connected_at"
            })
        );
    }
}
