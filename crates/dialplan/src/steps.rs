//! Steps and menus: the `open`, `closed_*` branches and menu choices of an entry, checked and
//! turned into [`Step`] lists.
//!
//! A step is a table with exactly one key naming its kind (`{ play = "greeting" }`); the
//! value is checked against the names declared elsewhere in the file (prompts, queues,
//! targets). Menus nest up to [`MAX_MENU_DEPTH`] levels. The same lists serve a target's
//! `closed` and `failed` steps.

use std::sync::Arc;
use std::time::Duration;

use toml::de::DeValue;

use crate::model::{Menu, Step, Steps};
use crate::parse::{opt_ref, reference, Names};
use crate::toml_walk::{get, index_path, key_path, Value, Walker};

const MENU_KEYS: &[&str] = &[
    "prompt", "timeout", "retries", "invalid", "choices", "default",
];
const QUEUE_STEP_KEYS: &[&str] = &["name", "priority"];
const CALLBACK_STEP_KEYS: &[&str] = &["prompt"];
const STEP_KINDS: &[&str] = &[
    "play", "pause", "menu", "hangup", "queue", "transfer", "language", "callback",
];
const MAX_PAUSE_MS: u64 = 60_000;
const MAX_MENU_TIMEOUT_S: u64 = 60;
const MAX_MENU_RETRIES: u64 = 9;
/// Deeper menus are almost certainly a mistake, and the limit bounds the checker's recursion.
pub(crate) const MAX_MENU_DEPTH: usize = 8;

/// A non-empty array of steps.
pub(crate) fn parse_steps(
    w: &mut Walker<'_>,
    v: &Value<'_>,
    path: &str,
    names: &Names,
    depth: usize,
) -> Option<Steps> {
    let items = w.array(v, path)?;
    if items.is_empty() {
        w.error(
            v.span(),
            path,
            "empty list of steps (add at least one step, e.g. {hangup = true})",
        );
        return None;
    }
    let mut out = Vec::new();
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match parse_step(w, item, &index_path(path, i), names, depth) {
            Some(s) => out.push(s),
            None => ok = false,
        }
    }
    ok.then(|| Arc::from(out))
}

fn parse_step(
    w: &mut Walker<'_>,
    v: &Value<'_>,
    path: &str,
    names: &Names,
    depth: usize,
) -> Option<Step> {
    let t = w.table(v, path)?;
    let kinds: Vec<(&str, &Value<'_>)> = t.iter().map(|(k, v)| (k.get_ref().as_ref(), v)).collect();
    let (kind, val) = match kinds.as_slice() {
        [(k, val)] => (*k, *val),
        [] => {
            w.error(
                v.span(),
                path,
                format!("empty step (expected one of: {})", STEP_KINDS.join(", ")),
            );
            return None;
        }
        _ => {
            let keys: Vec<&str> = kinds.iter().map(|(k, _)| *k).collect();
            w.error(
                v.span(),
                path,
                format!("a step has exactly one key, found {}", keys.join(", ")),
            );
            return None;
        }
    };
    let p = key_path(path, kind);
    match kind {
        "play" => {
            reference(w, val, &p, &names.prompts, "prompt").map(|prompt| Step::Play { prompt })
        }
        "pause" => w.uint(val, &p, MAX_PAUSE_MS).map(|ms| Step::Pause {
            duration: Duration::from_millis(ms),
        }),
        "hangup" => match w.bool(val, &p)? {
            true => Some(Step::Hangup),
            false => {
                w.error(
                    val.span(),
                    &p,
                    "hangup takes true (remove the step instead)",
                );
                None
            }
        },
        "queue" => parse_queue_step(w, val, &p, names),
        "transfer" => {
            reference(w, val, &p, &names.targets, "target").map(|target| Step::Transfer { target })
        }
        "language" => reference(w, val, &p, &names.languages, "language").map(Step::Language),
        "callback" => parse_callback_step(w, val, &p, names),
        "menu" => parse_menu(w, val, &p, names, depth).map(|m| Step::Menu(Arc::new(m))),
        other => {
            // the key's own span points at the typo
            let span = t.iter().next().map(|(k, _)| k.span()).unwrap_or(v.span());
            w.error(
                span,
                &p,
                format!(
                    "unknown step \"{other}\" (expected one of: {})",
                    STEP_KINDS.join(", ")
                ),
            );
            None
        }
    }
}

/// `{ queue = "card" }` or `{ queue = { name = "card", priority = 5 } }`.
fn parse_queue_step(w: &mut Walker<'_>, v: &Value<'_>, path: &str, names: &Names) -> Option<Step> {
    let Some(t) = v.get_ref().as_table() else {
        let queue = reference(w, v, path, &names.queues, "queue")?;
        return Some(Step::Queue { queue, priority: 0 });
    };
    w.deny_unknown(t, QUEUE_STEP_KEYS, path);
    let queue = w
        .required(t, v.span(), "name", path)
        .and_then(|n| reference(w, n, &key_path(path, "name"), &names.queues, "queue"));
    let priority = match get(t, "priority") {
        Some(pv) => w
            .int(
                pv,
                &key_path(path, "priority"),
                i32::MIN.into(),
                i32::MAX.into(),
            )
            .and_then(|p| i32::try_from(p).ok()),
        None => Some(0),
    };
    Some(Step::Queue {
        queue: queue?,
        priority: priority?,
    })
}

/// `{ callback = { prompt = "callback_taken" } }`: a table, so that later keys (e.g. a queue
/// of callbacks) need no new syntax.
fn parse_callback_step(
    w: &mut Walker<'_>,
    v: &Value<'_>,
    path: &str,
    names: &Names,
) -> Option<Step> {
    let t = w.table(v, path)?;
    w.deny_unknown(t, CALLBACK_STEP_KEYS, path);
    let prompt = w
        .required(t, v.span(), "prompt", path)
        .and_then(|pv| reference(w, pv, &key_path(path, "prompt"), &names.prompts, "prompt"))?;
    Some(Step::Callback { prompt })
}

fn parse_menu(
    w: &mut Walker<'_>,
    v: &Value<'_>,
    path: &str,
    names: &Names,
    depth: usize,
) -> Option<Menu> {
    let t = w.table(v, path)?;
    w.deny_unknown(t, MENU_KEYS, path);
    if depth >= MAX_MENU_DEPTH {
        w.error(
            v.span(),
            path,
            format!("menus nested deeper than {MAX_MENU_DEPTH}"),
        );
        return None;
    }
    let before = w.errors.len();
    let prompts = w
        .required(t, v.span(), "prompt", path)
        .and_then(|pv| menu_prompts(w, pv, &key_path(path, "prompt"), names));
    let timeout = match get(t, "timeout") {
        Some(tv) => {
            let p = key_path(path, "timeout");
            match w.uint(tv, &p, MAX_MENU_TIMEOUT_S) {
                Some(0) => {
                    w.error(tv.span(), &p, "timeout must be at least 1 second");
                    None
                }
                s => s.map(Duration::from_secs),
            }
        }
        None => Some(Duration::from_secs(5)),
    };
    let retries = match get(t, "retries") {
        Some(rv) => w
            .uint(rv, &key_path(path, "retries"), MAX_MENU_RETRIES)
            .map(|r| r as u32),
        None => Some(2),
    };
    let invalid = opt_ref(w, t, "invalid", path, &names.prompts, "prompt");
    let mut choices = Vec::new();
    if let Some(cv) = w.required(t, v.span(), "choices", path) {
        let cp = key_path(path, "choices");
        if let Some(ct) = w.table(cv, &cp) {
            if ct.iter().next().is_none() {
                w.error(cv.span(), &cp, "a menu needs at least one choice");
            }
            let mut seen = std::collections::HashSet::new();
            for (k, sv) in ct.iter() {
                let key = k.get_ref().as_ref();
                let kp = key_path(&cp, key);
                let mut chars = key.chars();
                let digit = match (chars.next(), chars.next()) {
                    (Some(c), None) if is_dtmf(c) => c.to_ascii_uppercase(),
                    _ => {
                        w.error(
                            k.span(),
                            &kp,
                            format!("menu choice \"{key}\" is not a DTMF digit (0-9, *, #, A-D)"),
                        );
                        continue;
                    }
                };
                if !seen.insert(digit) {
                    // "a" and "A" are the same RFC 4733 event
                    w.error(
                        k.span(),
                        &kp,
                        format!("menu choice \"{digit}\" is given twice"),
                    );
                    continue;
                }
                if let Some(steps) = parse_steps(w, sv, &kp, names, depth + 1) {
                    choices.push((digit, steps));
                }
            }
        }
    }
    let default = get(t, "default")
        .and_then(|dv| parse_steps(w, dv, &key_path(path, "default"), names, depth + 1));
    if w.errors.len() != before {
        return None;
    }
    Some(Menu {
        prompts: prompts?,
        timeout: timeout?,
        retries: retries?,
        invalid,
        choices,
        default,
    })
}

fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D' | 'a'..='d')
}

/// Most prompts one menu offer may chain (`prompt = ["menu", "language_offer"]`): a menu
/// that talks longer than this loses its callers before the choices.
const MAX_MENU_PROMPTS: usize = 4;

/// A menu's `prompt`: one name, or a list played in turn (e.g. the menu, then an offer
/// spoken in another language) so that a second prompt needs no second, nested menu.
fn menu_prompts(
    w: &mut Walker<'_>,
    v: &Value<'_>,
    path: &str,
    names: &Names,
) -> Option<Vec<String>> {
    let DeValue::Array(items) = v.get_ref() else {
        return reference(w, v, path, &names.prompts, "prompt").map(|p| vec![p]);
    };
    if items.is_empty() || items.len() > MAX_MENU_PROMPTS {
        w.error(
            v.span(),
            path,
            format!("a menu plays 1 to {MAX_MENU_PROMPTS} prompts"),
        );
        return None;
    }
    let before = w.errors.len();
    let prompts: Vec<String> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| reference(w, item, &index_path(path, i), &names.prompts, "prompt"))
        .collect();
    (w.errors.len() == before).then_some(prompts)
}
