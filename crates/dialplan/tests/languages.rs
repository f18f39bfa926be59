//! `[languages]` and the `{ language = … }` step: parsing, the strict per-language prompt
//! check, the `"<lang>/<name>"` prompts, the flow and the simulation.

mod common;

use std::fs;
use std::path::Path;

use chrono::{DateTime, Utc};
use madoguchi_dialplan::{
    Branch, CheckErrors, Dialplan, FlowAction, FlowRunner, LanguageFallback, Step,
};

const PROMPTS: &[&str] = &["greeting", "menu", "goodbye"];

/// Line 9 is `[languages.en]`, line 11 `sounds`, line 13 `after`, line 14 `fallback`.
const BASE: &str = r#"sounds_dir = "sounds/ja"
[prompts]
greeting = "greeting.wav"
menu = "menu.wav"
goodbye = "goodbye.wav"

[languages]
default = "ja"
[languages.en]
label = "English"
sounds = "sounds/en"
skill = "en"
after = 120
fallback = "any"

[calendars.always]
hours = [{ days = "mon-sun", ranges = ["00:00-24:00"] }]
holidays = "open"

[queues.main]

[targets.interpreters]
setting = "interpreters"

[[entries]]
match = "*"
calendar = "always"
greeting = "greeting"
open = [
  { menu = { prompt = "menu", choices = { "1" = [{ queue = "main" }], "9" = [{ language = "en" }, { play = "goodbye" }, { queue = "main" }] } } },
]
"#;

/// Checks `text` with every prompt (and numbers/ word) in `sounds/ja` and `sounds/en`, less
/// the files `missing_en` (relative to `sounds/en`).
fn check_with(text: &str, missing_en: &[&str]) -> Result<Dialplan, CheckErrors> {
    let dir = tempfile::tempdir().unwrap();
    for lang in ["ja", "en"] {
        let folder = dir.path().join("sounds").join(lang);
        fs::create_dir_all(&folder).unwrap();
        for p in PROMPTS {
            fs::write(folder.join(format!("{p}.wav")), b"RIFF").unwrap();
        }
        // the queue announces position and wait: numbers/ is registered per language too
        common::write_announcement_prompts(&folder);
    }
    for m in missing_en {
        fs::remove_file(dir.path().join("sounds/en").join(m)).unwrap();
    }
    Dialplan::parse("test.toml", text, dir.path())
}

fn check(text: &str) -> Result<Dialplan, CheckErrors> {
    check_with(text, &[])
}

fn only_error(result: Result<Dialplan, CheckErrors>) -> (usize, String, String) {
    let errors = result
        .expect_err("the checker should refuse the file")
        .errors;
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    assert_eq!(e.file, "test.toml");
    (e.line, e.key.clone(), e.message.clone())
}

fn noon() -> DateTime<Utc> {
    "2026-11-26T03:00:00Z".parse().unwrap()
}

#[test]
fn languages_section_is_parsed_into_the_model() {
    let d = check(BASE).unwrap();
    let l = d.languages();
    assert_eq!(l.default.as_deref(), Some("ja"));
    let en = l.get("en").unwrap();
    assert_eq!(en.label, "English");
    assert_eq!(en.skill, "en");
    assert_eq!(en.after.as_secs(), 120);
    assert_eq!(en.fallback, LanguageFallback::Any);
    assert!(en.sounds.ends_with("sounds/en"));
}

#[test]
fn fallback_may_name_a_target() {
    let text = BASE.replace(r#"fallback = "any""#, r#"fallback = "interpreters""#);
    let d = check(&text).unwrap();
    assert_eq!(
        d.languages().get("en").unwrap().fallback,
        LanguageFallback::Target("interpreters".into())
    );
}

#[test]
fn unknown_fallback_target_is_an_error_at_its_line() {
    let text = BASE.replace(r#"fallback = "any""#, r#"fallback = "nobody""#);
    let (line, key, message) = only_error(check(&text));
    assert_eq!((line, key.as_str()), (14, "languages.en.fallback"));
    assert!(message.contains("unknown fallback \"nobody\""), "{message}");
}

#[test]
fn after_out_of_range_is_an_error_at_its_line() {
    for bad in ["after = 0", "after = 1801"] {
        let text = BASE.replace("after = 120", bad);
        let (line, key, _) = only_error(check(&text));
        assert_eq!((line, key.as_str()), (13, "languages.en.after"), "{bad}");
    }
}

#[test]
fn language_folder_missing_a_prompt_is_an_error_naming_the_file() {
    let (line, key, message) = only_error(check_with(BASE, &["goodbye.wav"]));
    assert_eq!((line, key.as_str()), (11, "languages.en.sounds"));
    assert!(message.contains("goodbye.wav"), "{message}");
}

#[test]
fn language_folder_missing_a_numbers_word_is_an_error_naming_the_file() {
    let (line, key, message) = only_error(check_with(BASE, &["numbers/position_1.wav"]));
    assert_eq!((line, key.as_str()), (11, "languages.en.sounds"));
    assert!(message.contains("numbers/position_1.wav"), "{message}");
}

#[test]
fn every_prompt_is_registered_again_under_the_language() {
    let d = check(BASE).unwrap();
    let names: Vec<&str> = d.prompt_files().map(|(n, _)| n).collect();
    for p in PROMPTS {
        assert!(names.contains(&format!("en/{p}").as_str()), "{names:?}");
    }
    assert!(d
        .prompt_file("en/menu")
        .unwrap()
        .ends_with("sounds/en/menu.wav"));
    assert!(d
        .prompt_file("menu")
        .unwrap()
        .ends_with("sounds/ja/menu.wav"));
}

#[test]
fn prompt_for_prefers_the_language_and_falls_back_to_the_name() {
    let d = check(BASE).unwrap();
    assert_eq!(d.prompt_for(Some("en"), "menu"), "en/menu");
    assert_eq!(d.prompt_for(Some("ja"), "menu"), "menu");
    assert_eq!(d.prompt_for(None, "menu"), "menu");
}

#[test]
fn language_step_naming_an_undeclared_language_is_an_error() {
    let text = BASE.replace(r#"{ language = "en" }"#, r#"{ language = "fr" }"#);
    let (line, key, message) = only_error(check(&text));
    assert_eq!(line, 30);
    assert!(key.ends_with(".language"), "{key}");
    assert!(message.contains("unknown language \"fr\""), "{message}");
}

#[test]
fn language_step_may_name_the_default_language() {
    let text = BASE.replace(r#"{ language = "en" }"#, r#"{ language = "ja" }"#);
    assert!(check(&text).is_ok());
}

#[test]
fn language_step_is_parsed_as_step_language() {
    let d = check(BASE).unwrap();
    let Step::Menu(menu) = &d.entries()[0].branches.open[0] else {
        panic!("the open branch starts with the menu");
    };
    assert_eq!(menu.choice('9').unwrap()[0], Step::Language("en".into()));
}

#[test]
fn flow_goes_on_past_the_language_step_and_keeps_the_choice() {
    let steps = std::sync::Arc::from(vec![
        Step::Language("en".into()),
        Step::Play {
            prompt: "goodbye".into(),
        },
    ]);
    let mut run = FlowRunner::new(Branch::Open, steps);
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Play {
            prompt: "goodbye".into()
        })
    );
    assert_eq!(run.language(), Some("en"));
}

#[test]
fn simulation_plays_english_prompts_after_the_language_step() {
    let d = check(BASE).unwrap();
    let sim = d.simulate("0120000000", noon());
    let details: Vec<String> = sim
        .steps
        .iter()
        .map(|s| format!("{} {}", s.kind, s.detail))
        .collect();
    let lang = details.iter().position(|s| s == "language en (English)");
    let lang = lang.unwrap_or_else(|| panic!("{details:?}"));
    assert!(
        details[lang + 1].starts_with("play en/goodbye "),
        "{details:?}"
    );
    // before the choice, the default language
    assert!(
        details.iter().any(|s| s.starts_with("menu menu ")),
        "{details:?}"
    );
}

#[test]
fn reference_dialplan_declares_english_with_every_prompt_in_english() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dialplans/zama.toml");
    let d = Dialplan::load(&path).unwrap();
    assert!(d.languages().get("en").is_some());
    assert!(d.prompt_file("en/menu").is_some());
    assert!(d.prompt_file("language_offer").is_some());
}
