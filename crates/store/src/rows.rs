//! Backend-neutral row shapes: each backend decodes its columns into these, and the
//! conversion to domain types (and its failure modes) is written once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::query::Cursor;
use crate::record::{CallEvent, CallRecord};

/// The `calls` columns the store reads, with times already decoded.
pub(crate) struct CallColumns {
    pub id: String,
    pub sip_call_id: String,
    pub caller: String,
    pub called: String,
    pub arrived_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub entry: Option<String>,
    pub branch: Option<String>,
    pub disposition: String,
    pub dtmf: Vec<String>,
    pub hangup_side: Option<String>,
    pub hangup_cause: Option<String>,
    pub node_id: String,
    pub queue: Option<String>,
    pub waited_ms: Option<i64>,
    pub operator: Option<String>,
    pub connected_at: Option<DateTime<Utc>>,
    pub talk_ms: Option<i64>,
    pub transfer_target: Option<String>,
    pub transfer_result: Option<String>,
    pub menu_choice: Option<String>,
    pub answer_mode: Option<String>,
    pub answered_by: Option<String>,
    pub unanswered_ms: Option<i64>,
    pub answered_ms: Option<i64>,
    pub language: Option<String>,
    pub language_fallback: Option<String>,
}

impl CallColumns {
    pub fn into_record(self, events: Vec<CallEvent>) -> Result<CallRecord, StoreError> {
        let corrupt = |column| StoreError::CorruptRow {
            id: self.id.clone(),
            column,
        };
        let disposition = self
            .disposition
            .parse()
            .map_err(|_| corrupt("disposition"))?;
        let hangup_side = match self.hangup_side.as_deref() {
            None => None,
            Some(text) => Some(text.parse().map_err(|_| corrupt("hangup_side"))?),
        };
        let answer_mode = parse_optional(self.answer_mode.as_deref(), || corrupt("answer_mode"))?;
        let answered_by = parse_optional(self.answered_by.as_deref(), || corrupt("answered_by"))?;
        let language_fallback = parse_optional(self.language_fallback.as_deref(), || {
            corrupt("language_fallback")
        })?;
        Ok(CallRecord {
            id: self.id,
            sip_call_id: self.sip_call_id,
            caller: self.caller,
            called: self.called,
            arrived_at: self.arrived_at,
            answered_at: self.answered_at,
            ended_at: self.ended_at,
            entry: self.entry,
            branch: self.branch,
            disposition,
            dtmf: self.dtmf,
            hangup_side,
            hangup_cause: self.hangup_cause,
            queue: self.queue,
            waited_ms: self.waited_ms,
            operator: self.operator,
            connected_at: self.connected_at,
            talk_ms: self.talk_ms,
            transfer_target: self.transfer_target,
            transfer_result: self.transfer_result,
            menu_choice: self.menu_choice,
            answer_mode,
            answered_by,
            unanswered_ms: self.unanswered_ms,
            answered_ms: self.answered_ms,
            language: self.language,
            language_fallback,
            node_id: self.node_id,
            events,
        })
    }
}

/// Parses an optional text column into its enum; unknown text is a corrupt row.
fn parse_optional<T: std::str::FromStr>(
    text: Option<&str>,
    corrupt: impl FnOnce() -> StoreError,
) -> Result<Option<T>, StoreError> {
    match text {
        None => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| corrupt()),
    }
}

/// Joins a page of calls with their events (already ordered by `call_id, seq`).
pub(crate) fn assemble(
    calls: Vec<CallColumns>,
    events: Vec<(String, CallEvent)>,
) -> Result<Vec<CallRecord>, StoreError> {
    let mut by_call: HashMap<String, Vec<CallEvent>> = HashMap::new();
    for (call_id, event) in events {
        by_call.entry(call_id).or_default().push(event);
    }
    calls
        .into_iter()
        .map(|call| {
            let events = by_call.remove(&call.id).unwrap_or_default();
            call.into_record(events)
        })
        .collect()
}

/// The cursor after the last item, when more items follow it.
pub fn next_cursor(has_more: bool, items: &[CallRecord]) -> Option<Cursor> {
    let last = items.last().filter(|_| has_more)?;
    Some(Cursor {
        arrived_at: last.arrived_at,
        id: last.id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Disposition, HangupSide};
    use chrono::TimeZone;

    fn columns(id: &str) -> CallColumns {
        let at = Utc
            .timestamp_opt(1_767_225_600, 0)
            .single()
            .expect("in range");
        CallColumns {
            id: id.into(),
            sip_call_id: "x@y".into(),
            caller: "03".into(),
            called: "hotline".into(),
            arrived_at: at,
            answered_at: None,
            ended_at: at,
            entry: None,
            branch: None,
            disposition: "completed".into(),
            dtmf: vec![],
            hangup_side: Some("engine".into()),
            hangup_cause: None,
            node_id: "n1".into(),
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
        }
    }

    fn event(seq: i32) -> CallEvent {
        CallEvent {
            seq,
            at: Utc.timestamp_opt(0, 0).single().expect("epoch"),
            kind: "invite".into(),
            detail: serde_json::Value::Null,
        }
    }

    #[test]
    fn columns_decode_to_domain_enums() {
        let record = columns("c1").into_record(vec![]).expect("valid columns");
        assert_eq!(record.disposition, Disposition::Completed);
        assert_eq!(record.hangup_side, Some(HangupSide::Engine));
    }

    #[test]
    fn an_unknown_disposition_is_a_corrupt_row_naming_the_column() {
        let mut c = columns("c1");
        c.disposition = "exploded".into();
        assert!(matches!(
            c.into_record(vec![]),
            Err(StoreError::CorruptRow { column: "disposition", ref id }) if id == "c1"
        ));
    }

    #[test]
    fn an_unknown_hangup_side_is_a_corrupt_row() {
        let mut c = columns("c1");
        c.hangup_side = Some("both".into());
        assert!(matches!(
            c.into_record(vec![]),
            Err(StoreError::CorruptRow {
                column: "hangup_side",
                ..
            })
        ));
    }

    #[test]
    fn events_go_to_their_own_call_in_order() {
        let records = assemble(
            vec![columns("a"), columns("b"), columns("c")],
            vec![
                ("a".into(), event(1)),
                ("a".into(), event(2)),
                ("c".into(), event(7)),
            ],
        )
        .expect("valid columns");
        let seqs: Vec<Vec<i32>> = records
            .iter()
            .map(|r| r.events.iter().map(|e| e.seq).collect())
            .collect();
        assert_eq!(seqs, vec![vec![1, 2], vec![], vec![7]]);
    }
}
