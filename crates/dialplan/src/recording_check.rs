//! The checker for the `recording` and `recording_notice` keys, shared by `[[entries]]` and
//! `[queues.NAME]`.
//!
//! `recording` is `true` (all calls, as older dialplans write it), `false` (off), `"all"`,
//! `"off"`, `"on_demand"`, or a share `0 < x ≤ 1` (1 is all). A policy that may record needs a
//! notice prompt: `recording_notice`, or the prompt named [`DEFAULT_RECORDING_NOTICE`] when it
//! is declared.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use crate::parse::{opt_ref, Names, DEFAULT_RECORDING_NOTICE};
use crate::recording::RecordingPolicy;
use crate::toml_walk::{get, key_path, Value, Walker};

const EXPECTED: &str =
    "expected true, false, \"all\", \"off\", \"on_demand\" or a share of calls 0 < x ≤ 1";

/// The `recording` value at `path`.
pub(crate) fn recording_policy(
    w: &mut Walker<'_>,
    v: &Value<'_>,
    path: &str,
) -> Option<RecordingPolicy> {
    let share = |w: &mut Walker<'_>, x: Option<f64>, text: &str| {
        match x {
            Some(1.0) => return Some(RecordingPolicy::All),
            // NaN fails both comparisons.
            Some(x) if x > 0.0 && x < 1.0 => return Some(RecordingPolicy::Share(x)),
            _ => {}
        }
        let message = format!(
            "share of calls {text} is out of range: more than 0 and at most 1 (write \"off\" for none)"
        );
        w.error(v.span(), path, message);
        None
    };
    match v.get_ref() {
        DeValue::Boolean(true) => Some(RecordingPolicy::All),
        DeValue::Boolean(false) => Some(RecordingPolicy::Off),
        DeValue::String(s) => match s.as_ref() {
            "all" => Some(RecordingPolicy::All),
            "off" => Some(RecordingPolicy::Off),
            "on_demand" => Some(RecordingPolicy::OnDemand),
            other => {
                w.error(
                    v.span(),
                    path,
                    format!("unknown recording \"{other}\" ({EXPECTED})"),
                );
                None
            }
        },
        DeValue::Integer(i) => {
            // Any integer but 1 is out of range; one too large for i64 is too.
            let x = i64::from_str_radix(i.as_str(), i.radix()).ok();
            share(w, x.map(|x| x as f64), &i.to_string())
        }
        DeValue::Float(f) => share(w, f.as_str().parse().ok(), f.as_str()),
        other => {
            let message = format!("{EXPECTED}, found {}", other.type_str());
            w.error(v.span(), path, message);
            None
        }
    }
}

/// The notice prompt of a table whose policy is `policy` (`None`: a queue inheriting the
/// entry's decision, which gets the default prompt when declared). An error at the
/// `recording` value when the policy may record and no prompt is known.
pub(crate) fn notice_prompt(
    w: &mut Walker<'_>,
    t: &DeTable<'_>,
    table_span: Range<usize>,
    path: &str,
    policy: Option<RecordingPolicy>,
    names: &Names,
) -> Option<String> {
    if get(t, "recording_notice").is_some() {
        return opt_ref(w, t, "recording_notice", path, &names.prompts, "prompt");
    }
    let declared = names.prompts.contains(DEFAULT_RECORDING_NOTICE);
    match policy {
        _ if declared => Some(DEFAULT_RECORDING_NOTICE.to_string()),
        Some(p) if p.may_record() => {
            let span = get(t, "recording").map_or(table_span, |r| r.span());
            w.error(
                span,
                &key_path(path, "recording"),
                format!("recording ({p}) needs a prompt: declare \"{DEFAULT_RECORDING_NOTICE}\" in [prompts] or set recording_notice"),
            );
            None
        }
        _ => None,
    }
}
