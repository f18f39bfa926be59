//! Operator feature codes: what a registered operator phone dials to change its own status
//! (`*50` pause, `*51` available, `*52` log out), from the optional `[features]` section.
//!
//! The engine asks [`Features::feature`] about the dialled number of every call from an
//! operator's phone before routing it like a caller's; a match changes the status and plays
//! the matching prompt.
//!
//! ```
//! use madoguchi_dialplan::{FeatureCode, Features};
//!
//! let f = Features::default();
//! assert_eq!(f.feature("*50"), Some(FeatureCode::Pause));
//! assert_eq!(f.feature("0120000000"), None);
//! ```

use std::collections::HashSet;

use serde::Serialize;
use toml::de::DeTable;

use crate::parse::reference;
use crate::toml_walk::{get, key_path, Walker};

const KEYS: &[&str] = &[
    "pause",
    "available",
    "logout",
    "pause_reason",
    "prompt_paused",
    "prompt_available",
    "prompt_logged_out",
    "prompt_refused",
];
/// Longest feature code: more digits are a typo, not a code anyone dials.
const MAX_CODE_LEN: usize = 16;

/// The prompts played after a feature code, when the dialplan declares them under these names
/// (or names others in `[features]`).
pub const DEFAULT_PROMPT_PAUSED: &str = "feature_paused";
pub const DEFAULT_PROMPT_AVAILABLE: &str = "feature_available";
pub const DEFAULT_PROMPT_LOGGED_OUT: &str = "feature_logged_out";
pub const DEFAULT_PROMPT_REFUSED: &str = "feature_refused";

/// What a feature code asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FeatureCode {
    /// Pause with [`Features::pause_reason`].
    Pause,
    /// Available for calls.
    Available,
    /// Logged out.
    Logout,
}

/// The feature codes and their prompts. A prompt is `None` when the dialplan declares no
/// prompt for it: the engine then answers the code without an announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Features {
    pub pause: String,
    pub available: String,
    pub logout: String,
    /// The pause reason recorded for `pause`.
    pub pause_reason: String,
    pub prompt_paused: Option<String>,
    pub prompt_available: Option<String>,
    pub prompt_logged_out: Option<String>,
    /// Played when the phone dialling a code belongs to no operator.
    pub prompt_refused: Option<String>,
}

impl Default for Features {
    /// The defaults, without prompts.
    fn default() -> Self {
        Features {
            pause: "*50".into(),
            available: "*51".into(),
            logout: "*52".into(),
            pause_reason: "break".into(),
            prompt_paused: None,
            prompt_available: None,
            prompt_logged_out: None,
            prompt_refused: None,
        }
    }
}

impl Features {
    /// The feature `dialled` (a Request-URI user part) asks for, if any.
    pub fn feature(&self, dialled: &str) -> Option<FeatureCode> {
        self.codes()
            .into_iter()
            .find(|(_, code)| *code == dialled)
            .map(|(f, _)| f)
    }

    /// The prompt confirming `feature`.
    pub fn prompt(&self, feature: FeatureCode) -> Option<&str> {
        match feature {
            FeatureCode::Pause => self.prompt_paused.as_deref(),
            FeatureCode::Available => self.prompt_available.as_deref(),
            FeatureCode::Logout => self.prompt_logged_out.as_deref(),
        }
    }

    /// Each feature with its code and its key in `[features]`.
    pub(crate) fn codes(&self) -> [(FeatureCode, &str); 3] {
        [
            (FeatureCode::Pause, self.pause.as_str()),
            (FeatureCode::Available, self.available.as_str()),
            (FeatureCode::Logout, self.logout.as_str()),
        ]
    }
}

impl FeatureCode {
    /// Its key in `[features]`.
    pub fn key(self) -> &'static str {
        match self {
            FeatureCode::Pause => "pause",
            FeatureCode::Available => "available",
            FeatureCode::Logout => "logout",
        }
    }
}

/// Reads `[features]` (absent: the defaults). `prompts` are the declared prompt names.
pub(crate) fn parse_features(
    w: &mut Walker<'_>,
    root: &DeTable<'_>,
    prompts: &HashSet<String>,
) -> Features {
    let defaults = Features::default();
    let empty = DeTable::new();
    let t = match get(root, "features") {
        Some(v) => w.table(v, "features").unwrap_or(&empty),
        None => &empty,
    };
    w.deny_unknown(t, KEYS, "features");

    // (key, code, span of an explicit value)
    let codes = [
        ("pause", &defaults.pause),
        ("available", &defaults.available),
        ("logout", &defaults.logout),
    ]
    .map(|(key, default)| {
        let path = key_path("features", key);
        let given = get(t, key).and_then(|v| w.str(v, &path).map(|s| (s, v.span())));
        let Some((s, span)) = given else {
            return (key, default.clone(), None);
        };
        let dialable = s
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#');
        if s.is_empty() || s.len() > MAX_CODE_LEN || !dialable {
            w.error(
                span.clone(),
                &path,
                format!("bad feature code \"{s}\" (1 to {MAX_CODE_LEN} of 0-9, *, #)"),
            );
        }
        (key, s.to_string(), Some(span))
    });
    // A clash with a default counts too (`available = "*50"` leaves pause on "*50").
    for i in 0..codes.len() {
        for j in 0..i {
            if codes[i].1 != codes[j].1 {
                continue;
            }
            let (key, other) = match (&codes[i].2, &codes[j].2) {
                (Some(_), _) => (i, j),
                _ => (j, i),
            };
            if let Some(span) = codes[key].2.clone() {
                w.error(
                    span,
                    &key_path("features", codes[key].0),
                    format!(
                        "feature code \"{}\" is also features.{}",
                        codes[key].1, codes[other].0
                    ),
                );
            }
        }
    }
    let [(_, pause, _), (_, available, _), (_, logout, _)] = codes;
    let pause_reason = match get(t, "pause_reason") {
        Some(v) => {
            let path = key_path("features", "pause_reason");
            match w.str(v, &path) {
                Some(s) if s.trim().is_empty() => {
                    w.error(v.span(), &path, "empty pause reason");
                    defaults.pause_reason.clone()
                }
                Some(s) => s.to_string(),
                None => defaults.pause_reason.clone(),
            }
        }
        None => defaults.pause_reason.clone(),
    };
    let prompt = |w: &mut Walker<'_>, key: &str, default: &str| match get(t, key) {
        Some(v) => reference(w, v, &key_path("features", key), prompts, "prompt"),
        None => prompts.contains(default).then(|| default.to_string()),
    };
    Features {
        prompt_paused: prompt(w, "prompt_paused", DEFAULT_PROMPT_PAUSED),
        prompt_available: prompt(w, "prompt_available", DEFAULT_PROMPT_AVAILABLE),
        prompt_logged_out: prompt(w, "prompt_logged_out", DEFAULT_PROMPT_LOGGED_OUT),
        prompt_refused: prompt(w, "prompt_refused", DEFAULT_PROMPT_REFUSED),
        pause,
        available,
        logout,
        pause_reason,
    }
}
