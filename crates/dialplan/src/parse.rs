//! The checker: turns dialplan text into [`Parts`], or into every [`CheckError`] it finds.
//!
//! Sections are read in dependency order (prompts, calendars, queues, the queue announcement
//! words, targets, features, then entries and notices that refer to them), each key through
//! [`Walker`], so one pass reports unknown keys, wrong types, dangling names, bad times and
//! missing prompt files together.

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use madoguchi_calendar::Calendar;
use toml::de::DeTable;

use crate::announce::{position_prompts, wait_prompts, NUMBERS_DIR};
use crate::calendars::{date_rule_value, parse_calendar, reachable_closures};
use crate::devices::parse_devices;
use crate::error::{CheckError, CheckErrors};
use crate::features::{parse_features, Features};
use crate::languages::{check_fallbacks, parse_languages, register_language_prompts};
use crate::model::{
    AnswerMode, Branches, Category, Entry, Match, Notice, OnEarlyLimit, Parts, Prompt, Queue, Steps,
};
use crate::queues::parse_queue;
use crate::recording_check::{notice_prompt, recording_policy};
use crate::steps::parse_steps;
use crate::targets::{check_transfer_loops, parse_target};
use crate::toml_walk::{get, index_path, key_path, Value, Walker};

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "sounds_dir",
    "prompts",
    "calendars",
    "queues",
    "targets",
    "entries",
    "notices",
    "categories",
    "features",
    "languages",
    "devices",
];
const ENTRY_KEYS: &[&str] = &[
    "name",
    "match",
    "calendar",
    "greeting",
    "recording",
    "recording_notice",
    "ring",
    "answer",
    "early_limit",
    "on_early_limit",
    "open",
    "closed",
    "closed_hours",
    "closed_holiday",
    "closed_year_end",
    "closed_special",
];
/// The sounds folder when `sounds_dir` is absent, relative to the dialplan's folder.
pub const DEFAULT_SOUNDS_DIR: &str = "../sounds";
/// Longest ringing before answer (`ring`), in milliseconds: carriers give up on an
/// unanswered call after about a minute, and a hotline should answer well before.
pub const MAX_RING_MS: u64 = 30_000;
/// `early_limit` (s) when `answer = "operator"` does not give one.
pub const DEFAULT_EARLY_LIMIT_SECS: u64 = 150;
/// Longest `early_limit` (s): proxies give up on an unanswered INVITE at Timer C (180 s).
pub const MAX_EARLY_LIMIT_SECS: u64 = 170;
/// The prompt a `recording` policy that may record plays unless `recording_notice` names
/// another.
pub const DEFAULT_RECORDING_NOTICE: &str = "recording_notice";

/// Names declared in the file, for reference checks.
#[derive(Default)]
pub(crate) struct Names {
    pub(crate) prompts: HashSet<String>,
    pub(crate) queues: HashSet<String>,
    pub(crate) targets: HashSet<String>,
    /// Declared languages and the default one (for `{ language = … }`).
    pub(crate) languages: HashSet<String>,
}

pub(crate) fn parse_parts(file: &str, text: &str, base_dir: &Path) -> Result<Parts, CheckErrors> {
    let mut w = Walker::new(file, text);
    let (root, syntax) = DeTable::parse_recoverable(text);
    if !syntax.is_empty() {
        for e in syntax {
            let span = e.span().unwrap_or(0..0);
            w.error(span, "", e.message().trim().to_string());
        }
        return Err(finish(w));
    }
    let root_span = root.span();
    let t = root.get_ref();
    w.deny_unknown(t, TOP_KEYS, "");

    let name = get(t, "name").and_then(|v| w.str(v, "name").map(str::to_string));
    if let Some(v) = get(t, "description") {
        w.str(v, "description");
    }
    let sounds_dir = match get(t, "sounds_dir") {
        Some(v) => w.str(v, "sounds_dir").unwrap_or(DEFAULT_SOUNDS_DIR),
        None => DEFAULT_SOUNDS_DIR,
    };
    let sounds = base_dir.join(sounds_dir);

    let mut names = Names::default();
    let mut prompts = parse_prompts(&mut w, t, &sounds, &mut names);
    let languages = parse_languages(&mut w, t, base_dir, &mut names);
    let calendars = named_tables(&mut w, t, "calendars")
        .into_iter()
        .filter_map(|(n, v, p)| parse_calendar(&mut w, &n, v, &p))
        .collect::<Vec<_>>();
    let declared_calendars: HashSet<String> = table_names(t, "calendars");
    let devices = parse_devices(&mut w, t, &declared_calendars);
    names.targets = table_names(t, "targets");
    names.queues = table_names(t, "queues");
    let queues = named_tables(&mut w, t, "queues")
        .into_iter()
        .filter_map(|(n, v, p)| parse_queue(&mut w, &n, v, &p, &names))
        .collect::<Vec<_>>();
    add_announcement_prompts(&mut w, t, &queues, &sounds, &mut prompts, &mut names);
    register_language_prompts(&mut w, &languages, &sounds, &mut prompts, &mut names);
    check_fallbacks(&mut w, &languages, &names.targets);
    let parsed_targets = named_tables(&mut w, t, "targets")
        .into_iter()
        .filter_map(|(n, v, p)| parse_target(&mut w, &n, v, &p, &names, &declared_calendars))
        .collect::<Vec<_>>();
    check_transfer_loops(&mut w, &parsed_targets);
    let targets = parsed_targets.into_iter().map(|p| p.target).collect();
    let features = parse_features(&mut w, t, &names.prompts);

    let mut entries = Vec::new();
    match get(t, "entries") {
        None => w.error(
            root_span.start..root_span.start,
            "entries",
            "no [[entries]]: no call would be answered",
        ),
        Some(v) => {
            if let Some(items) = w.array(v, "entries") {
                let mut seen_match: HashMap<String, usize> = HashMap::new();
                let mut seen_name: HashMap<String, usize> = HashMap::new();
                for (i, item) in items.iter().enumerate() {
                    let p = index_path("entries", i);
                    let Some(e) =
                        parse_entry(&mut w, item, &p, &names, &declared_calendars, &calendars)
                    else {
                        continue;
                    };
                    let span_of = |key: &str| {
                        item.get_ref()
                            .as_table()
                            .and_then(|t| get(t, key))
                            .map_or(item.span(), |v| v.span())
                    };
                    check_not_a_feature_code(&mut w, &e.pattern, &features, span_of("match"), &p);
                    let pattern = match &e.pattern {
                        Match::Exact(u) => u.clone(),
                        Match::Prefix(u) => format!("{u}*"),
                        Match::Any => "*".into(),
                    };
                    // span_of points at the value that clashes, not at the [[entries]] header
                    if let Some(first) = seen_match.insert(pattern.clone(), i) {
                        let message = format!(
                            "duplicate entry: match \"{pattern}\" is already taken by entries[{first}]"
                        );
                        w.error(span_of("match"), &key_path(&p, "match"), message);
                    } else if let Some(first) = seen_name.insert(e.name.clone(), i) {
                        let message = format!(
                            "duplicate entry name \"{}\" (also entries[{first}])",
                            e.name
                        );
                        w.error(span_of("name"), &key_path(&p, "name"), message);
                    }
                    entries.push(e);
                }
            }
        }
    }

    let entry_names: HashSet<String> = entries.iter().map(|e| e.name.clone()).collect();
    let mut notices = Vec::new();
    if let Some(v) = get(t, "notices") {
        if let Some(items) = w.array(v, "notices") {
            for (i, item) in items.iter().enumerate() {
                if let Some(n) = parse_notice(
                    &mut w,
                    item,
                    &index_path("notices", i),
                    &names,
                    &entry_names,
                ) {
                    notices.push(n);
                }
            }
        }
    }

    let categories = match get(t, "categories") {
        Some(v) => parse_categories(&mut w, v),
        None => Category::city_defaults(),
    };

    if !w.errors.is_empty() {
        return Err(finish(w));
    }
    Ok(Parts {
        name,
        prompts,
        calendars,
        queues,
        targets,
        entries,
        notices,
        categories,
        features,
        languages: languages.languages,
        devices,
    })
}

/// An entry answering exactly a feature code would never be reached from an operator phone,
/// and a caller dialling it would be taken for one.
fn check_not_a_feature_code(
    w: &mut Walker<'_>,
    pattern: &Match,
    features: &Features,
    span: std::ops::Range<usize>,
    path: &str,
) {
    let Match::Exact(user) = pattern else {
        return;
    };
    if let Some(f) = features.feature(user) {
        w.error(
            span,
            &key_path(path, "match"),
            format!(
                "match \"{user}\" is the feature code features.{}: the entry would be shadowed",
                f.key()
            ),
        );
    }
}

/// Registers the queue announcement words (`numbers/` under `sounds_dir`) when a queue says
/// position or wait, and reports missing files at the first queue that needs them. A name
/// declared in `[prompts]` keeps its own file.
fn add_announcement_prompts(
    w: &mut Walker<'_>,
    root: &DeTable<'_>,
    queues: &[Queue],
    sounds: &Path,
    prompts: &mut Vec<Prompt>,
    names: &mut Names,
) {
    // (the key, the first queue that turns it on, the words it needs)
    let sets = [
        (
            "announce_position",
            queues.iter().find(|q| q.announce_position),
            position_prompts(),
        ),
        (
            "announce_wait",
            queues.iter().find(|q| q.announce_wait),
            wait_prompts(),
        ),
    ];
    let dir = normalize(&sounds.join(NUMBERS_DIR));
    for (key, first, set) in sets {
        let Some(first) = first else {
            continue;
        };
        let mut missing = Vec::new();
        for name in set {
            if names.prompts.contains(&name) {
                continue;
            }
            let file = dir.join(format!("{name}.wav"));
            if file.is_file() {
                names.prompts.insert(name.clone());
                prompts.push(Prompt { name, file });
            } else {
                missing.push(format!("{name}.wav"));
            }
        }
        if missing.is_empty() {
            continue;
        }
        let queue_path = key_path("queues", &first.name);
        let queue_v = get(root, "queues")
            .and_then(|q| q.get_ref().as_table())
            .and_then(|q| get(q, &first.name));
        let span = queue_v
            .and_then(|q| q.get_ref().as_table().and_then(|t| get(t, key)))
            .or(queue_v)
            .map_or(0..0, |v| v.span());
        let shown: Vec<&str> = missing.iter().take(3).map(String::as_str).collect();
        let more = if missing.len() > shown.len() {
            ", …"
        } else {
            ""
        };
        w.error(
            span,
            &key_path(&queue_path, key),
            format!(
                "{key} needs {} prompt file(s) missing from {}: {}{more} (make them with sounds/generate.sh, or set {key} = false)",
                missing.len(),
                dir.display(),
                shown.join(", "),
            ),
        );
    }
}

fn finish(w: Walker<'_>) -> CheckErrors {
    let mut errors: Vec<CheckError> = w.errors;
    errors.sort_by_key(|e| (e.line, e.column));
    CheckErrors { errors }
}

/// The `(name, value, path)` of each sub-table of section `section`.
fn named_tables<'a, 'i>(
    w: &mut Walker<'_>,
    t: &'a DeTable<'i>,
    section: &str,
) -> Vec<(String, &'a Value<'i>, String)> {
    let Some(v) = get(t, section) else {
        return Vec::new();
    };
    let Some(st) = w.table(v, section) else {
        return Vec::new();
    };
    st.iter()
        .map(|(k, v)| (k.get_ref().to_string(), v, key_path(section, k.get_ref())))
        .collect()
}

fn table_names(t: &DeTable<'_>, section: &str) -> HashSet<String> {
    get(t, section)
        .and_then(|v| v.get_ref().as_table())
        .map(|st| st.iter().map(|(k, _)| k.get_ref().to_string()).collect())
        .unwrap_or_default()
}

fn parse_prompts(
    w: &mut Walker<'_>,
    t: &DeTable<'_>,
    sounds: &Path,
    names: &mut Names,
) -> Vec<Prompt> {
    let mut out = Vec::new();
    let Some(v) = get(t, "prompts") else {
        return out;
    };
    let Some(pt) = w.table(v, "prompts") else {
        return out;
    };
    for (k, v) in pt.iter() {
        let name = k.get_ref().to_string();
        let p = key_path("prompts", &name);
        names.prompts.insert(name.clone());
        let Some(rel) = w.str(v, &p) else { continue };
        let file = normalize(&sounds.join(rel));
        if !file.is_file() {
            w.error(
                v.span(),
                &p,
                format!("prompt file {} does not exist", file.display()),
            );
            continue;
        }
        out.push(Prompt { name, file });
    }
    out
}

fn opt_str(w: &mut Walker<'_>, t: &DeTable<'_>, key: &str, path: &str) -> Option<String> {
    get(t, key)
        .and_then(|v| w.str(v, &key_path(path, key)))
        .map(str::to_string)
}

/// An optional key naming something declared elsewhere (`what` is "prompt", "queue"…).
pub(crate) fn opt_ref(
    w: &mut Walker<'_>,
    t: &DeTable<'_>,
    key: &str,
    path: &str,
    known: &HashSet<String>,
    what: &str,
) -> Option<String> {
    let v = get(t, key)?;
    reference(w, v, &key_path(path, key), known, what)
}

pub(crate) fn reference(
    w: &mut Walker<'_>,
    v: &Value<'_>,
    path: &str,
    known: &HashSet<String>,
    what: &str,
) -> Option<String> {
    let s = w.str(v, path)?;
    if !known.contains(s) {
        w.error(v.span(), path, format!("unknown {what} \"{s}\""));
        return None;
    }
    Some(s.to_string())
}

fn parse_entry(
    w: &mut Walker<'_>,
    v: &Value<'_>,
    path: &str,
    names: &Names,
    declared_calendars: &HashSet<String>,
    calendars: &[Calendar],
) -> Option<Entry> {
    let t = w.table(v, path)?;
    w.deny_unknown(t, ENTRY_KEYS, path);
    let before = w.errors.len();
    let pattern = w
        .required(t, v.span(), "match", path)
        .and_then(|m| {
            let p = key_path(path, "match");
            let s = w.str(m, &p)?;
            let ok = !s.is_empty() && s.chars().all(|c| !c.is_whitespace() && c != '@' && c != ':');
            if !ok {
                w.error(m.span(), &p, format!("bad match \"{s}\" (expected a Request-URI user part, a prefix ending in *, or *)"));
                return None;
            }
            Some((s.to_string(), Match::parse(s)))
        });
    let name = opt_str(w, t, "name", path).or_else(|| pattern.as_ref().map(|(s, _)| s.clone()));
    let calendar = w.required(t, v.span(), "calendar", path).and_then(|c| {
        reference(
            w,
            c,
            &key_path(path, "calendar"),
            declared_calendars,
            "calendar",
        )
    });
    let greeting = opt_ref(w, t, "greeting", path, &names.prompts, "prompt");
    let recording = get(t, "recording")
        .and_then(|r| recording_policy(w, r, &key_path(path, "recording")))
        .unwrap_or_default();
    let recording_notice = notice_prompt(w, t, v.span(), path, Some(recording), names);

    let ring = get(t, "ring")
        .and_then(|r| w.uint(r, &key_path(path, "ring"), MAX_RING_MS))
        .map_or(Duration::ZERO, Duration::from_millis);
    let answer = answer_mode(w, t, path, names);

    let branch = |w: &mut Walker<'_>, key: &str| -> Option<Steps> {
        let b = get(t, key)?;
        parse_steps(w, b, &key_path(path, key), names, 0)
    };
    let open = w
        .required(t, v.span(), "open", path)
        .and_then(|_| branch(w, "open"));
    let branches = Branches {
        open: open.unwrap_or_else(|| Arc::from(Vec::new())),
        closed: branch(w, "closed"),
        closed_hours: branch(w, "closed_hours"),
        closed_holiday: branch(w, "closed_holiday"),
        closed_year_end: branch(w, "closed_year_end"),
        closed_special: branch(w, "closed_special"),
    };

    if let Some(cal) = calendar
        .as_ref()
        .and_then(|c| calendars.iter().find(|x| &x.name == c))
    {
        let r = reachable_closures(cal);
        let needed = [
            ("closed_hours", r.hours, "it can be outside its hours"),
            (
                "closed_holiday",
                r.holiday,
                "it closes on national holidays",
            ),
            ("closed_year_end", r.year_end, "it has year-end closures"),
            ("closed_special", r.special, "it has special closures"),
        ];
        for (key, reachable, why) in needed {
            if reachable && get(t, key).is_none() && get(t, "closed").is_none() {
                w.error(
                    v.span(),
                    &key_path(path, key),
                    format!("missing branch {key} (or closed): calendar \"{}\" can take it because {why}", cal.name),
                );
            }
        }
    }

    if w.errors.len() != before {
        return None;
    }
    Some(Entry {
        name: name?,
        pattern: pattern?.1,
        calendar: calendar?,
        greeting,
        recording,
        recording_notice,
        ring,
        answer: answer?,
        branches,
    })
}

/// `answer`, `early_limit` and `on_early_limit` of an entry; `None` after an error.
fn answer_mode(
    w: &mut Walker<'_>,
    t: &DeTable<'_>,
    path: &str,
    names: &Names,
) -> Option<AnswerMode> {
    let operator = match get(t, "answer") {
        None => false,
        Some(v) => {
            let p = key_path(path, "answer");
            match w.str(v, &p)? {
                "engine" => false,
                "operator" => true,
                other => {
                    w.error(
                        v.span(),
                        &p,
                        format!("bad answer \"{other}\" (expected \"engine\" or \"operator\")"),
                    );
                    return None;
                }
            }
        }
    };
    let limit = match get(t, "early_limit") {
        None => Some(DEFAULT_EARLY_LIMIT_SECS),
        Some(v) => {
            let p = key_path(path, "early_limit");
            match w.uint(v, &p, u64::MAX)? {
                n if n > MAX_EARLY_LIMIT_SECS => {
                    w.error(
                        v.span(),
                        &p,
                        format!("early_limit {n} s is over {MAX_EARLY_LIMIT_SECS} s (proxies drop an unanswered call at 180 s)"),
                    );
                    None
                }
                0 => {
                    w.error(v.span(), &p, "early_limit must be at least 1 s".to_string());
                    None
                }
                n => Some(n),
            }
        }
    };
    let on_limit = match get(t, "on_early_limit") {
        None => Some(OnEarlyLimit::Answer),
        Some(v) => {
            let p = key_path(path, "on_early_limit");
            if v.get_ref().as_array().is_some() {
                // Steps run answered, once the caller has left the queue.
                parse_steps(w, v, &p, names, 0).map(OnEarlyLimit::Steps)
            } else {
                match w.str(v, &p)? {
                    "answer" => Some(OnEarlyLimit::Answer),
                    other => {
                        w.error(
                            v.span(),
                            &p,
                            format!("bad on_early_limit \"{other}\" (expected \"answer\" or a list of steps)"),
                        );
                        None
                    }
                }
            }
        }
    };
    if !operator {
        for key in ["early_limit", "on_early_limit"] {
            if let Some(v) = get(t, key) {
                w.error(
                    v.span(),
                    &key_path(path, key),
                    format!("{key} needs answer = \"operator\""),
                );
                return None;
            }
        }
        return Some(AnswerMode::Engine);
    }
    Some(AnswerMode::Operator {
        early_limit: Duration::from_secs(limit?),
        on_early_limit: on_limit?,
    })
}

fn parse_notice(
    w: &mut Walker<'_>,
    v: &Value<'_>,
    path: &str,
    names: &Names,
    entries: &HashSet<String>,
) -> Option<Notice> {
    let t = w.table(v, path)?;
    w.deny_unknown(t, &["name", "days", "prompt", "entries"], path);
    let name = opt_str(w, t, "name", path);
    let days = w
        .required(t, v.span(), "days", path)
        .and_then(|d| date_rule_value(w, d, &key_path(path, "days")));
    let prompt = w
        .required(t, v.span(), "prompt", path)
        .and_then(|pv| reference(w, pv, &key_path(path, "prompt"), &names.prompts, "prompt"));
    let mut for_entries = Vec::new();
    if let Some(ev) = get(t, "entries") {
        let ep = key_path(path, "entries");
        if let Some(items) = w.array(ev, &ep) {
            for (i, item) in items.iter().enumerate() {
                if let Some(e) = reference(w, item, &index_path(&ep, i), entries, "entry") {
                    for_entries.push(e);
                }
            }
        }
    }
    let prompt = prompt?;
    Some(Notice {
        name: name.unwrap_or_else(|| prompt.clone()),
        days: days?,
        prompt,
        entries: for_entries,
    })
}

fn parse_categories(w: &mut Walker<'_>, v: &Value<'_>) -> Vec<Category> {
    let mut out = Vec::new();
    let Some(items) = w.array(v, "categories") else {
        return out;
    };
    if items.is_empty() {
        w.error(
            v.span(),
            "categories",
            "no categories: list at least one, or leave [[categories]] out for the nine defaults",
        );
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let p = index_path("categories", i);
        let Some(t) = w.table(item, &p) else { continue };
        w.deny_unknown(t, &["code", "label"], &p);
        let code = w.required(t, item.span(), "code", &p).and_then(|c| {
            let cp = key_path(&p, "code");
            let s = w.str(c, &cp)?;
            if s.trim().is_empty() {
                w.error(c.span(), &cp, "empty category code");
                return None;
            }
            if let Some(first) = seen.insert(s.to_string(), i) {
                w.error(
                    c.span(),
                    &cp,
                    format!("duplicate category code \"{s}\" (also categories[{first}])"),
                );
                return None;
            }
            Some(s.to_string())
        });
        let label = w.required(t, item.span(), "label", &p).and_then(|l| {
            let lp = key_path(&p, "label");
            let s = w.str(l, &lp)?;
            if s.trim().is_empty() {
                w.error(l.span(), &lp, "empty category label");
                return None;
            }
            Some(s.to_string())
        });
        if let (Some(code), Some(label)) = (code, label) {
            out.push(Category { code, label });
        }
    }
    out
}

/// `a/b/../c` → `a/c`, without touching the file system (symlinks are not a concern for
/// prompt paths shown to operators).
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_drops_dot_and_resolves_dot_dot_after_a_name() {
        assert_eq!(
            normalize(Path::new("dialplans/../sounds/./ja/a.wav")),
            PathBuf::from("sounds/ja/a.wav")
        );
        assert_eq!(
            normalize(Path::new("../sounds")),
            PathBuf::from("../sounds")
        );
    }
}
