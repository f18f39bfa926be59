//! The checker for `[targets.NAME]`: transfer destinations, their calendar, the steps run when
//! they are closed or fail, and how they are dialled.
//!
//! `closed` and `failed` are step lists like an entry's branches. They may transfer to another
//! target but never back to themselves, directly or through others: the checker rejects any
//! loop, so following a target's steps always ends.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::time::Duration;

use crate::model::{CallerIdPolicy, OnFailure, Step, Steps, Target};
use crate::parse::{opt_ref, reference, Names};
use crate::queues::MAX_RING_TIMEOUT_S;
use crate::steps::parse_steps;
use crate::toml_walk::{get, key_path, Value, Walker};

const KEYS: &[&str] = &[
    "setting",
    "label",
    "calendar",
    "closed",
    "failed",
    "on_failure",
    "ring_timeout",
    "caller_id",
    "announce",
];
const DEFAULT_RING_TIMEOUT_S: u64 = 30;

/// A parsed target and where its step lists are written, for the loop check.
pub(crate) struct ParsedTarget {
    pub(crate) target: Target,
    spans: Vec<(&'static str, Range<usize>)>,
}

pub(crate) fn parse_target(
    w: &mut Walker<'_>,
    name: &str,
    v: &Value<'_>,
    path: &str,
    names: &Names,
    calendars: &HashSet<String>,
) -> Option<ParsedTarget> {
    let t = w.table(v, path)?;
    w.deny_unknown(t, KEYS, path);
    let before = w.errors.len();
    let setting = w
        .required(t, v.span(), "setting", path)
        .and_then(|s| w.str(s, &key_path(path, "setting")))
        .map(str::to_string);
    let label = get(t, "label")
        .and_then(|l| w.str(l, &key_path(path, "label")))
        .map(str::to_string);
    let calendar = get(t, "calendar")
        .and_then(|c| reference(w, c, &key_path(path, "calendar"), calendars, "calendar"));
    let mut spans = Vec::new();
    let mut steps = |w: &mut Walker<'_>, key: &'static str| -> Option<Steps> {
        let sv = get(t, key)?;
        spans.push((key, sv.span()));
        parse_steps(w, sv, &key_path(path, key), names, 0)
    };
    let closed = steps(w, "closed");
    let failed = steps(w, "failed");
    if let (Some(sv), None) = (get(t, "closed"), &calendar) {
        if get(t, "calendar").is_none() {
            w.error(
                sv.span(),
                &key_path(path, "closed"),
                "closed steps never run: the target has no calendar",
            );
        }
    }
    let on_failure = get(t, "on_failure")
        .and_then(|v| {
            let p = key_path(path, "on_failure");
            match w.str(v, &p)? {
                "steps" => Some(OnFailure::Steps),
                "requeue" => Some(OnFailure::Requeue),
                other => {
                    w.error(
                        v.span(),
                        &p,
                        format!("unknown on_failure \"{other}\" (expected steps or requeue)"),
                    );
                    None
                }
            }
        })
        .unwrap_or_default();
    let ring_timeout = match get(t, "ring_timeout") {
        Some(rv) => {
            let p = key_path(path, "ring_timeout");
            match w.uint(rv, &p, MAX_RING_TIMEOUT_S) {
                Some(0) => {
                    w.error(rv.span(), &p, "ring_timeout must be at least 1 s");
                    None
                }
                s => s,
            }
        }
        None => Some(DEFAULT_RING_TIMEOUT_S),
    }
    .map(Duration::from_secs);
    let caller_id = get(t, "caller_id")
        .and_then(|v| {
            let p = key_path(path, "caller_id");
            match w.str(v, &p)? {
                "caller" => Some(CallerIdPolicy::Caller),
                "anonymous" => Some(CallerIdPolicy::Anonymous),
                other => {
                    w.error(
                        v.span(),
                        &p,
                        format!("unknown caller_id \"{other}\" (expected caller or anonymous)"),
                    );
                    None
                }
            }
        })
        .unwrap_or_default();
    let announce = opt_ref(w, t, "announce", path, &names.prompts, "prompt");
    if w.errors.len() != before {
        return None;
    }
    Some(ParsedTarget {
        target: Target {
            name: name.to_string(),
            setting: setting?,
            label,
            calendar,
            closed,
            failed,
            on_failure,
            ring_timeout: ring_timeout?,
            caller_id,
            announce,
        },
        spans,
    })
}

/// Reports every target whose `closed` or `failed` steps lead back to it through transfers.
pub(crate) fn check_transfer_loops(w: &mut Walker<'_>, targets: &[ParsedTarget]) {
    let edges: HashMap<&str, Vec<&str>> = targets
        .iter()
        .map(|p| {
            let mut to = Vec::new();
            for steps in [&p.target.closed, &p.target.failed].into_iter().flatten() {
                transfers_in(steps, &mut to);
            }
            (p.target.name.as_str(), to)
        })
        .collect();
    for p in targets {
        let name = p.target.name.as_str();
        for (key, span) in &p.spans {
            let steps = match *key {
                "closed" => &p.target.closed,
                _ => &p.target.failed,
            };
            let mut first = Vec::new();
            for s in steps.iter() {
                transfers_in(s, &mut first);
            }
            if let Some(path) = first.iter().find_map(|t| path_back(&edges, t, name)) {
                let message = if path.len() == 1 {
                    format!("transfers to its own target \"{name}\"")
                } else {
                    format!("transfer loop: {name} → {}", path.join(" → "))
                };
                w.error(
                    span.clone(),
                    &key_path(&key_path("targets", name), key),
                    message,
                );
            }
        }
    }
}

/// The targets `steps` transfer to, menus included.
fn transfers_in<'a>(steps: &'a Steps, out: &mut Vec<&'a str>) {
    for step in steps.iter() {
        match step {
            Step::Transfer { target } => out.push(target),
            Step::Menu(menu) => {
                for (_, s) in &menu.choices {
                    transfers_in(s, out);
                }
                if let Some(s) = &menu.default {
                    transfers_in(s, out);
                }
            }
            _ => {}
        }
    }
}

/// The chain of targets from `from` to `goal` (both included), if there is one.
fn path_back<'a>(
    edges: &HashMap<&'a str, Vec<&'a str>>,
    from: &'a str,
    goal: &str,
) -> Option<Vec<&'a str>> {
    let mut seen = HashSet::new();
    let mut stack = vec![vec![from]];
    while let Some(path) = stack.pop() {
        let last = *path.last()?;
        if last == goal {
            return Some(path);
        }
        if !seen.insert(last) {
            continue;
        }
        for next in edges.get(last).into_iter().flatten() {
            let mut longer = path.clone();
            longer.push(next);
            stack.push(longer);
        }
    }
    None
}
