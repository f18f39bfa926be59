//! The checker for `[queues.NAME]`: waiting music and announcements, overflow, and the ACD
//! settings (strategy, ring timeout, wrap-up, join/leave when empty, auto-pause, members), and
//! the recording policy that replaces the entry's when a caller joins.
//!
//! Every key is optional; the defaults are those of the reference deployment and are listed,
//! key by key, in `dialplans/zama.toml`.

use std::collections::HashMap;
use std::time::Duration;

use toml::de::DeTable;

use crate::model::{Queue, QueueMember, QueueStrategy};
use crate::parse::{opt_ref, Names};
use crate::recording_check::{notice_prompt, recording_policy};
use crate::toml_walk::{get, index_path, key_path, Value, Walker};

const KEYS: &[&str] = &[
    "label",
    "music",
    "announce",
    "announce_every",
    "max_wait",
    "overflow",
    "strategy",
    "ring_timeout",
    "wrap_up",
    "join_empty",
    "leave_when_empty",
    "auto_pause_after",
    "max_callers",
    "announce_position",
    "announce_wait",
    "members",
    "recording",
    "recording_notice",
];
const MEMBER_KEYS: &[&str] = &["login", "tier", "penalty"];

const DEFAULT_RING_TIMEOUT_S: u64 = 15;
const DEFAULT_WRAP_UP_S: u64 = 10;
const DEFAULT_AUTO_PAUSE_AFTER: u32 = 3;
/// An offer ringing longer than this is a forgotten phone, not a setting.
pub(crate) const MAX_RING_TIMEOUT_S: u64 = 300;
const MAX_WRAP_UP_S: u64 = 3_600;
const MAX_AUTO_PAUSE_AFTER: u64 = 100;
const MAX_CALLERS: u64 = 100_000;
const MAX_TIER: u64 = 9;
const MAX_PENALTY: u64 = 1_000_000;

pub(crate) fn parse_queue(
    w: &mut Walker<'_>,
    name: &str,
    v: &Value<'_>,
    path: &str,
    names: &Names,
) -> Option<Queue> {
    let t = w.table(v, path)?;
    w.deny_unknown(t, KEYS, path);
    let before = w.errors.len();
    let label = get(t, "label")
        .and_then(|v| w.str(v, &key_path(path, "label")))
        .map(str::to_string);
    let music = opt_ref(w, t, "music", path, &names.prompts, "prompt");
    let announce = opt_ref(w, t, "announce", path, &names.prompts, "prompt");
    let secs = |w: &mut Walker<'_>, key: &str, min: u64, max: u64| {
        let v = get(t, key)?;
        let p = key_path(path, key);
        match w.uint(v, &p, max)? {
            s if s < min => {
                w.error(v.span(), &p, format!("must be at least {min} s"));
                None
            }
            s => Some(Duration::from_secs(s)),
        }
    };
    let announce_every = secs(w, "announce_every", 1, 86_400);
    let max_wait = secs(w, "max_wait", 0, 86_400);
    let overflow = opt_ref(w, t, "overflow", path, &names.targets, "target");
    let strategy = get(t, "strategy")
        .and_then(|v| strategy(w, v, &key_path(path, "strategy")))
        .unwrap_or_default();
    let ring_timeout = secs(w, "ring_timeout", 1, MAX_RING_TIMEOUT_S)
        .unwrap_or(Duration::from_secs(DEFAULT_RING_TIMEOUT_S));
    let wrap_up =
        secs(w, "wrap_up", 0, MAX_WRAP_UP_S).unwrap_or(Duration::from_secs(DEFAULT_WRAP_UP_S));
    let flag = |w: &mut Walker<'_>, key: &str, default: bool| {
        get(t, key)
            .and_then(|v| w.bool(v, &key_path(path, key)))
            .unwrap_or(default)
    };
    let join_empty = flag(w, "join_empty", true);
    let leave_when_empty = flag(w, "leave_when_empty", false);
    let announce_position = flag(w, "announce_position", true);
    let announce_wait = flag(w, "announce_wait", true);
    let auto_pause_after = match get(t, "auto_pause_after") {
        Some(v) => w
            .uint(v, &key_path(path, "auto_pause_after"), MAX_AUTO_PAUSE_AFTER)
            .and_then(|n| u32::try_from(n).ok()),
        None => Some(DEFAULT_AUTO_PAUSE_AFTER),
    }
    .filter(|n| *n > 0);
    let max_callers = get(t, "max_callers").and_then(|v| {
        let p = key_path(path, "max_callers");
        match w.uint(v, &p, MAX_CALLERS)? {
            0 => {
                w.error(
                    v.span(),
                    &p,
                    "max_callers must be at least 1 (remove it for no limit)",
                );
                None
            }
            n => usize::try_from(n).ok(),
        }
    });
    let members = get(t, "members").and_then(|v| parse_members(w, v, &key_path(path, "members")));
    let recording =
        get(t, "recording").and_then(|v| recording_policy(w, v, &key_path(path, "recording")));
    let recording_notice = notice_prompt(w, t, v.span(), path, recording, names);
    if w.errors.len() != before {
        return None;
    }
    Some(Queue {
        name: name.to_string(),
        label,
        music,
        announce,
        announce_every,
        max_wait,
        overflow,
        strategy,
        ring_timeout,
        wrap_up,
        join_empty,
        leave_when_empty,
        auto_pause_after,
        max_callers,
        announce_position,
        announce_wait,
        members,
        recording,
        recording_notice,
    })
}

fn strategy(w: &mut Walker<'_>, v: &Value<'_>, path: &str) -> Option<QueueStrategy> {
    let s = w.str(v, path)?;
    let found = QueueStrategy::ALL.into_iter().find(|q| q.label() == s);
    if found.is_none() {
        let known: Vec<&str> = QueueStrategy::ALL.iter().map(|q| q.label()).collect();
        w.error(
            v.span(),
            path,
            format!(
                "unknown strategy \"{s}\" (expected one of: {})",
                known.join(", ")
            ),
        );
    }
    found
}

/// `members = ["login", { login = "counter1", tier = 2, penalty = 0 }, …]`.
fn parse_members(w: &mut Walker<'_>, v: &Value<'_>, path: &str) -> Option<Vec<QueueMember>> {
    let items = w.array(v, path)?;
    if items.is_empty() {
        w.error(
            v.span(),
            path,
            "no members: nobody would take this queue's calls (remove the key for every agent)",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let p = index_path(path, i);
        let (member, login_span) = match item.get_ref().as_table() {
            Some(t) => match member_table(w, t, item, &p) {
                Some(m) => m,
                None => continue,
            },
            None => {
                let Some(login) = w.str(item, &p) else {
                    continue;
                };
                let m = QueueMember {
                    login: login.to_string(),
                    tier: 1,
                    penalty: 0,
                };
                (m, item.span())
            }
        };
        if member.login.is_empty() || member.login.chars().any(char::is_whitespace) {
            w.error(login_span, &p, format!("bad login \"{}\"", member.login));
            continue;
        }
        if let Some(first) = seen.insert(member.login.clone(), i) {
            w.error(
                login_span,
                &p,
                format!("\"{}\" is already {path}[{first}]", member.login),
            );
            continue;
        }
        out.push(member);
    }
    Some(out)
}

fn member_table(
    w: &mut Walker<'_>,
    t: &DeTable<'_>,
    item: &Value<'_>,
    path: &str,
) -> Option<(QueueMember, std::ops::Range<usize>)> {
    w.deny_unknown(t, MEMBER_KEYS, path);
    let login_v = w.required(t, item.span(), "login", path)?;
    let login = w.str(login_v, &key_path(path, "login"))?.to_string();
    let tier = match get(t, "tier") {
        Some(v) => {
            let p = key_path(path, "tier");
            match w.uint(v, &p, MAX_TIER)? {
                0 => {
                    w.error(v.span(), &p, "tiers start at 1");
                    return None;
                }
                n => u8::try_from(n).ok()?,
            }
        }
        None => 1,
    };
    let penalty = match get(t, "penalty") {
        Some(v) => u32::try_from(w.uint(v, &key_path(path, "penalty"), MAX_PENALTY)?).ok()?,
        None => 0,
    };
    let member = QueueMember {
        login,
        tier,
        penalty,
    };
    Some((member, login_v.span()))
}
