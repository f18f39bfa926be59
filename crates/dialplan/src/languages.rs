//! `[languages]`: the languages a caller may choose besides the default one.
//!
//! ```toml
//! [languages]
//! default = "ja"                 # the language of `sounds_dir`
//! [languages.en]
//! label = "English"
//! sounds = "../sounds/en"        # relative to the dialplan's folder, like sounds_dir
//! skill = "en"                   # the operator skill an English caller waits for
//! after = 120                    # s before the fallback applies
//! fallback = "any"               # any operator, or the name of a transfer target
//! ```
//!
//! Each declared language registers every prompt of the dialplan again as `"<lang>/<name>"`
//! from its own folder (same relative file names, `numbers/` included), so the prompt loader
//! encodes them like any other prompt. The check is strict: a language folder lacking one of
//! those files is an error (a Japanese prompt is no help to an English caller).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::de::DeTable;

use crate::model::Prompt;
use crate::parse::{normalize, Names};
use crate::toml_walk::{get, key_path, Value, Walker};

const LANGUAGE_KEYS: &[&str] = &["label", "sounds", "skill", "after", "fallback"];
/// Longest `after`, in seconds: past half an hour a caller waiting for a language has long
/// given up.
pub const MAX_LANGUAGE_AFTER_S: u64 = 1800;
/// `after` when the key is absent.
pub const DEFAULT_LANGUAGE_AFTER_S: u64 = 120;

/// What a caller of a language gets once `after` has passed without a skilled operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageFallback {
    /// Any operator of the queue (the caller keeps its place).
    Any,
    /// Leave the queue and transfer to this target (e.g. an interpretation service).
    Target(String),
}

/// One declared language.
#[derive(Debug, Clone, PartialEq)]
pub struct Language {
    /// Its code, the key under `[languages]` (`en`); prompts are `"<code>/<name>"`.
    pub code: String,
    /// Shown to people (`English`); the code when absent.
    pub label: String,
    /// The resolved folder of its prompts.
    pub sounds: PathBuf,
    /// The operator skill its callers wait for; the code when absent.
    pub skill: String,
    /// How long a caller waits for that skill before `fallback`.
    pub after: Duration,
    pub fallback: LanguageFallback,
}

/// The `[languages]` section: the default language and the others.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Languages {
    /// The language of `sounds_dir`; `None` when the file has no `[languages]`.
    pub default: Option<String>,
    /// In file order.
    pub languages: Vec<Language>,
}

impl Languages {
    pub fn get(&self, code: &str) -> Option<&Language> {
        self.languages.iter().find(|l| l.code == code)
    }

    /// Whether `{ language = code }` may name it: a declared language or the default.
    pub fn knows(&self, code: &str) -> bool {
        self.default.as_deref() == Some(code) || self.get(code).is_some()
    }
}

/// A language as read, before its prompts are registered: the span of `sounds` for errors.
pub(crate) struct ParsedLanguages {
    pub languages: Languages,
    sounds_spans: Vec<std::ops::Range<usize>>,
    fallback_spans: Vec<Option<std::ops::Range<usize>>>,
}

/// What a language code may look like (`en`, `pt-BR`): the keys of `[languages]`, and so
/// what the engine accepts from another node's `X-Madoguchi-Language`.
pub fn is_language_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 16
        && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Reads `[languages]` and records the codes in `names.languages` (for `{ language = … }`).
/// Fallback targets are checked later by [`check_fallbacks`], once targets are known.
pub(crate) fn parse_languages(
    w: &mut Walker<'_>,
    root: &DeTable<'_>,
    base_dir: &Path,
    names: &mut Names,
) -> ParsedLanguages {
    let mut out = ParsedLanguages {
        languages: Languages::default(),
        sounds_spans: Vec::new(),
        fallback_spans: Vec::new(),
    };
    let Some(v) = get(root, "languages") else {
        return out;
    };
    let Some(t) = w.table(v, "languages") else {
        return out;
    };
    if let Some(dv) = w.required(t, v.span(), "default", "languages") {
        if let Some(code) = w.str(dv, "languages.default") {
            if is_language_code(code) {
                out.languages.default = Some(code.to_string());
                names.languages.insert(code.to_string());
            } else {
                w.error(
                    dv.span(),
                    "languages.default",
                    format!("bad language code \"{code}\" (letters, digits and -, e.g. \"ja\")"),
                );
            }
        }
    }
    for (k, lv) in t.iter() {
        let code = k.get_ref().to_string();
        if code == "default" {
            continue;
        }
        let path = key_path("languages", &code);
        if !is_language_code(&code) {
            w.error(
                k.span(),
                &path,
                format!("bad language code \"{code}\" (letters, digits and -, e.g. \"en\")"),
            );
            continue;
        }
        // known even when its table has errors: steps naming it are not wrong too
        names.languages.insert(code.clone());
        if let Some(l) = parse_language(w, &code, lv, &path, base_dir) {
            out.sounds_spans.push(
                lv.get_ref()
                    .as_table()
                    .and_then(|t| get(t, "sounds"))
                    .map_or(lv.span(), |s| s.span()),
            );
            out.fallback_spans.push(
                lv.get_ref()
                    .as_table()
                    .and_then(|t| get(t, "fallback"))
                    .map(|f| f.span()),
            );
            out.languages.languages.push(l);
        }
    }
    out
}

fn parse_language(
    w: &mut Walker<'_>,
    code: &str,
    v: &Value<'_>,
    path: &str,
    base_dir: &Path,
) -> Option<Language> {
    let t = w.table(v, path)?;
    w.deny_unknown(t, LANGUAGE_KEYS, path);
    let before = w.errors.len();
    let label = match get(t, "label") {
        Some(lv) => w.str(lv, &key_path(path, "label")).map(str::to_string),
        None => Some(code.to_string()),
    };
    let sounds = w.required(t, v.span(), "sounds", path).and_then(|sv| {
        let sp = key_path(path, "sounds");
        let rel = w.str(sv, &sp)?;
        let dir = normalize(&base_dir.join(rel));
        if !dir.is_dir() {
            w.error(
                sv.span(),
                &sp,
                format!("sounds folder {} does not exist", dir.display()),
            );
            return None;
        }
        Some(dir)
    });
    let skill = match get(t, "skill") {
        Some(sv) => {
            let sp = key_path(path, "skill");
            w.str(sv, &sp).and_then(|s| {
                if s.trim().is_empty() {
                    w.error(sv.span(), &sp, "empty skill");
                    None
                } else {
                    Some(s.to_string())
                }
            })
        }
        None => Some(code.to_string()),
    };
    let after = match get(t, "after") {
        Some(av) => {
            let ap = key_path(path, "after");
            match w.uint(av, &ap, MAX_LANGUAGE_AFTER_S) {
                Some(0) => {
                    w.error(
                        av.span(),
                        &ap,
                        format!("after must be 1 to {MAX_LANGUAGE_AFTER_S} seconds"),
                    );
                    None
                }
                s => s.map(Duration::from_secs),
            }
        }
        None => Some(Duration::from_secs(DEFAULT_LANGUAGE_AFTER_S)),
    };
    let fallback = match get(t, "fallback") {
        Some(fv) => w.str(fv, &key_path(path, "fallback")).map(|f| match f {
            "any" => LanguageFallback::Any,
            target => LanguageFallback::Target(target.to_string()),
        }),
        None => Some(LanguageFallback::Any),
    };
    if w.errors.len() != before {
        return None;
    }
    Some(Language {
        code: code.to_string(),
        label: label?,
        sounds: sounds?,
        skill: skill?,
        after: after?,
        fallback: fallback?,
    })
}

/// A fallback naming a target must name a declared one.
pub(crate) fn check_fallbacks(
    w: &mut Walker<'_>,
    parsed: &ParsedLanguages,
    targets: &HashSet<String>,
) {
    for (l, span) in parsed
        .languages
        .languages
        .iter()
        .zip(&parsed.fallback_spans)
    {
        if let LanguageFallback::Target(t) = &l.fallback {
            if !targets.contains(t) {
                w.error(
                    span.clone().unwrap_or(0..0),
                    &key_path(&key_path("languages", &l.code), "fallback"),
                    format!("unknown fallback \"{t}\" (expected \"any\" or a target name)"),
                );
            }
        }
    }
}

/// Registers every prompt again as `"<code>/<name>"` from each language's folder, with the
/// same path relative to `sounds` as the default one. Every missing file is reported at the
/// language's `sounds` key (strict: the dialplan may play any of them).
pub(crate) fn register_language_prompts(
    w: &mut Walker<'_>,
    parsed: &ParsedLanguages,
    sounds: &Path,
    prompts: &mut Vec<Prompt>,
    names: &mut Names,
) {
    let sounds = normalize(sounds);
    let base: Vec<Prompt> = prompts.clone();
    for (lang, span) in parsed.languages.languages.iter().zip(&parsed.sounds_spans) {
        let path = key_path(&key_path("languages", &lang.code), "sounds");
        let mut missing = Vec::new();
        for p in &base {
            let Ok(rel) = p.file.strip_prefix(&sounds) else {
                w.error(
                    span.clone(),
                    &path,
                    format!(
                        "prompt \"{}\" ({}) is outside sounds_dir: language {} cannot replace it",
                        p.name,
                        p.file.display(),
                        lang.code
                    ),
                );
                continue;
            };
            let name = format!("{}/{}", lang.code, p.name);
            if names.prompts.contains(&name) {
                continue; // declared by hand in [prompts]: it keeps its own file
            }
            let file = lang.sounds.join(rel);
            if file.is_file() {
                names.prompts.insert(name.clone());
                prompts.push(Prompt { name, file });
            } else {
                missing.push(rel.display().to_string());
            }
        }
        if missing.is_empty() {
            continue;
        }
        let shown: Vec<&str> = missing.iter().take(3).map(String::as_str).collect();
        let more = if missing.len() > shown.len() {
            ", …"
        } else {
            ""
        };
        w.error(
            span.clone(),
            &path,
            format!(
                "language {} lacks {} prompt file(s) in {}: {}{more}",
                lang.code,
                missing.len(),
                lang.sounds.display(),
                shown.join(", "),
            ),
        );
    }
}
