//! The checker on broken dialplans: each test breaks one thing and expects an error naming the
//! file, the line and the key.

mod common;

use std::fs;
use std::path::Path;

use madoguchi_dialplan::{CheckError, CheckErrors, Dialplan};

const PROMPTS: &[&str] = &[
    "greeting",
    "menu",
    "invalid_choice",
    "outside_hours",
    "closed_year_end",
    "hold_music",
];

/// A valid dialplan; tests replace one line of it. Line numbers are given in comments.
const BASE: &str = r#"sounds_dir = "sounds"
[prompts]
greeting = "greeting.wav"
menu = "menu.wav"
invalid_choice = "invalid_choice.wav"
outside_hours = "outside_hours.wav"
closed_year_end = "closed_year_end.wav"
hold_music = "hold_music.wav"

[calendars.hotline]
hours = [{ days = "mon-sun", ranges = ["08:30-20:00"] }]
holidays = "open"
closures = [{ yearly = "12-29..01-03", label = "年末年始" }]

[queues.main]
music = "hold_music"

[targets.city_line]
setting = "city_line"

[[entries]]
match = "*"
calendar = "hotline"
open = [
  { play = "greeting" },
  { menu = { prompt = "menu", invalid = "invalid_choice", choices = { "1" = [{ queue = "main" }], "2" = [{ transfer = "city_line" }] } } },
]
closed_hours = [{ play = "outside_hours" }, { hangup = true }]
closed_year_end = [{ play = "closed_year_end" }, { hangup = true }]

[[categories]]
code = "ア"
label = "マイナンバー制度全般"
"#;

fn check(text: &str) -> Result<Dialplan, CheckErrors> {
    let dir = tempfile::tempdir().unwrap();
    let sounds = dir.path().join("sounds");
    fs::create_dir(&sounds).unwrap();
    for p in PROMPTS {
        fs::write(sounds.join(format!("{p}.wav")), b"RIFF").unwrap();
    }
    common::write_announcement_prompts(&sounds);
    Dialplan::parse("test.toml", text, dir.path())
}

fn errors(text: &str) -> Vec<CheckError> {
    match check(text) {
        Ok(_) => panic!("expected errors for:\n{text}"),
        Err(e) => e.errors,
    }
}

/// BASE with `from` replaced by `to` (which must occur exactly once).
fn broken(from: &str, to: &str) -> String {
    assert_eq!(
        BASE.matches(from).count(),
        1,
        "{from:?} must occur once in BASE"
    );
    BASE.replace(from, to)
}

fn only_error(text: &str) -> CheckError {
    let mut e = errors(text);
    assert_eq!(e.len(), 1, "expected one error, got {e:#?}");
    e.remove(0)
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn base_dialplan_is_valid() {
    let d = check(BASE).unwrap();
    assert_eq!(d.entries().len(), 1);
}

#[test]
fn toml_syntax_error_reports_its_line() {
    let text = broken("holidays = \"open\"", "holidays = \"open");
    let e = errors(&text);
    assert!(!e.is_empty());
    assert_eq!(e[0].line, line_of(&text, "holidays = \"open"));
    assert_eq!(e[0].file, "test.toml");
}

#[test]
fn unknown_top_level_key_is_named() {
    let text = broken(
        "sounds_dir = \"sounds\"",
        "sounds_dir = \"sounds\"\nsound_dir = \"x\"",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "sound_dir");
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("unknown key"), "{}", e.message);
}

#[test]
fn unknown_entry_key_is_named_with_its_path() {
    let text = broken("calendar = \"hotline\"", "calender = \"hotline\"");
    let e = errors(&text);
    let unknown = e.iter().find(|e| e.key == "entries[0].calender").unwrap();
    assert_eq!(unknown.line, line_of(&text, "calender"));
    assert!(e
        .iter()
        .any(|e| e.message.contains("missing key \"calendar\"")));
}

#[test]
fn unknown_prompt_in_a_play_step_names_key_line_and_column() {
    let text = broken("{ play = \"greeting\" }", "{ play = \"greting\" }");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].open[0].play");
    assert_eq!(e.message, "unknown prompt \"greting\"");
    let line = line_of(&text, "greting");
    let column = text
        .lines()
        .nth(line - 1)
        .unwrap()
        .find("\"greting\"")
        .unwrap()
        + 1;
    assert_eq!((e.line, e.column), (line, column));
    assert_eq!(
        e.to_string(),
        format!("test.toml:{line}:{column}: entries[0].open[0].play: unknown prompt \"greting\"")
    );
}

#[test]
fn unknown_calendar_is_an_error() {
    let text = broken("calendar = \"hotline\"", "calendar = \"hotlin\"");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].calendar");
    assert_eq!(e.message, "unknown calendar \"hotlin\"");
}

#[test]
fn unknown_queue_and_target_are_both_reported() {
    let text = broken("[{ queue = \"main\" }]", "[{ queue = \"mian\" }]")
        .replace("{ transfer = \"city_line\" }", "{ transfer = \"city\" }");
    let e = errors(&text);
    assert!(e
        .iter()
        .any(|e| e.message == "unknown queue \"mian\"" && e.key.ends_with("choices.1[0].queue")));
    assert!(e.iter().any(
        |e| e.message == "unknown target \"city\"" && e.key.ends_with("choices.2[0].transfer")
    ));
}

#[test]
fn hour_25_is_a_bad_time_range() {
    let text = broken("\"08:30-20:00\"", "\"08:30-25:00\"");
    let e = only_error(&text);
    assert_eq!(e.key, "calendars.hotline.hours[0].ranges[0]");
    assert_eq!(e.line, line_of(&text, "25:00"));
    assert!(
        e.message.contains("bad time range \"08:30-25:00\""),
        "{}",
        e.message
    );
}

#[test]
fn range_ending_before_it_starts_is_rejected() {
    let text = broken("\"08:30-20:00\"", "\"20:00-08:30\"");
    let e = only_error(&text);
    assert!(
        e.message.contains("ends at or before its start"),
        "{}",
        e.message
    );
}

#[test]
fn bad_date_rule_is_rejected_with_its_key() {
    let text = broken("days = \"mon-sun\"", "days = \"2nd caturday\"");
    let e = only_error(&text);
    assert_eq!(e.key, "calendars.hotline.hours[0].days");
    assert!(e.message.contains("caturday"), "{}", e.message);
}

#[test]
fn bad_yearly_closure_date_is_rejected() {
    let text = broken("\"12-29..01-03\"", "\"12-32..01-03\"");
    let e = only_error(&text);
    assert_eq!(e.key, "calendars.hotline.closures[0].yearly");
}

#[test]
fn duplicate_entry_match_is_an_error() {
    let entry = "\n[[entries]]\nmatch = \"*\"\ncalendar = \"hotline\"\nopen = [{ hangup = true }]\nclosed = [{ hangup = true }]\n";
    let text = format!("{BASE}{entry}");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[1].match");
    assert_eq!(e.line, text.lines().count() - 3);
    assert!(e.message.contains("duplicate entry"), "{}", e.message);
}

#[test]
fn missing_prompt_file_names_the_file() {
    let text = broken(
        "hold_music = \"hold_music.wav\"",
        "hold_music = \"hold-music.wav\"",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "prompts.hold_music");
    assert!(e.message.contains("hold-music.wav"), "{}", e.message);
    assert!(e.message.contains("does not exist"), "{}", e.message);
}

#[test]
fn menu_choice_that_is_not_a_dtmf_digit_is_rejected() {
    let text = broken("\"2\" = [", "\"12\" = [");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].open[1].menu.choices.12");
    assert!(e.message.contains("not a DTMF digit"), "{}", e.message);
}

#[test]
fn empty_branch_is_rejected() {
    let text = broken(
        "closed_hours = [{ play = \"outside_hours\" }, { hangup = true }]",
        "closed_hours = []",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].closed_hours");
    assert!(e.message.contains("empty"), "{}", e.message);
}

#[test]
fn branch_the_calendar_can_take_must_be_written() {
    let text = broken(
        "closed_year_end = [{ play = \"closed_year_end\" }, { hangup = true }]\n",
        "",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].closed_year_end");
    assert!(e.message.contains("year-end"), "{}", e.message);
}

#[test]
fn unknown_step_kind_points_at_the_key() {
    let text = broken("{ play = \"greeting\" }", "{ say = \"greeting\" }");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].open[0].say");
    assert!(e.message.contains("unknown step"), "{}", e.message);
}

#[test]
fn step_with_two_keys_is_rejected() {
    let text = broken(
        "{ play = \"greeting\" }",
        "{ play = \"greeting\", pause = 100 }",
    );
    let e = only_error(&text);
    assert!(e.message.contains("exactly one key"), "{}", e.message);
}

#[test]
fn pause_given_as_a_string_is_a_type_error() {
    let text = broken("{ play = \"greeting\" }", "{ pause = \"500\" }");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].open[0].pause");
    assert!(
        e.message.contains("expected an integer, found string"),
        "{}",
        e.message
    );
}

#[test]
fn duplicate_category_code_is_rejected() {
    let text = format!("{BASE}\n[[categories]]\ncode = \"ア\"\nlabel = \"again\"\n");
    let e = only_error(&text);
    assert_eq!(e.key, "categories[1].code");
    assert!(
        e.message.contains("duplicate category code"),
        "{}",
        e.message
    );
}

#[test]
fn empty_category_label_is_rejected_naming_its_line() {
    let text = broken("label = \"マイナンバー制度全般\"", "label = \" \"");
    let e = only_error(&text);
    assert_eq!(e.key, "categories[0].label");
    assert_eq!(e.line, line_of(&text, "label = \" \""));
    assert!(e.message.contains("empty category label"), "{}", e.message);
}

#[test]
fn an_empty_category_list_is_rejected() {
    let without = broken(
        "[[categories]]\ncode = \"ア\"\nlabel = \"マイナンバー制度全般\"\n",
        "",
    );
    // A top-level key must come before the first table.
    let text = format!("categories = []\n{without}");
    let e = only_error(&text);
    assert_eq!(e.key, "categories");
}

#[test]
fn a_dialplan_without_categories_gets_the_nine_city_categories() {
    let text = broken(
        "[[categories]]\ncode = \"ア\"\nlabel = \"マイナンバー制度全般\"\n",
        "",
    );
    let d = check(&text).unwrap();
    let codes: Vec<&str> = d.categories().iter().map(|c| c.code.as_str()).collect();
    assert_eq!(
        codes,
        ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ"]
    );
    assert_eq!(d.category("ケ").unwrap().label, "その他");
}

#[test]
fn recording_without_a_notice_prompt_is_rejected() {
    let text = broken(
        "calendar = \"hotline\"",
        "calendar = \"hotline\"\nrecording = true",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].recording");
}

#[test]
fn notice_with_unknown_entry_and_bad_rule_reports_both() {
    let text = format!(
        "{BASE}\n[[notices]]\ndays = \"sun after 6th sat\"\nprompt = \"greeting\"\nentries = [\"nope\"]\n"
    );
    let e = errors(&text);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(e.iter().any(|e| e.key == "notices[0].days"));
    assert!(e
        .iter()
        .any(|e| e.key == "notices[0].entries[0]" && e.message == "unknown entry \"nope\""));
}

#[test]
fn every_error_in_a_file_is_reported_in_line_order() {
    let text = broken("{ play = \"greeting\" }", "{ play = \"greting\" }")
        .replace("\"08:30-20:00\"", "\"8:30-26:00\"")
        .replace("setting = \"city_line\"", "setting = 1");
    let e = errors(&text);
    assert_eq!(e.len(), 3, "{e:#?}");
    assert!(e.windows(2).all(|w| w[0].line <= w[1].line));
    let shown = CheckErrors { errors: e }.to_string();
    assert_eq!(shown.lines().count(), 3);
}

#[test]
fn unreadable_file_is_a_check_error_naming_it() {
    let e = Dialplan::load(Path::new("/nonexistent/dialplan.toml")).unwrap_err();
    assert_eq!(e.len(), 1);
    assert!(e
        .to_string()
        .starts_with("/nonexistent/dialplan.toml: cannot read"));
}

#[test]
fn menu_choice_given_twice_in_different_case_is_rejected() {
    let text = broken("\"2\" = [", "\"a\" = [{ hangup = true }], \"A\" = [");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].open[1].menu.choices.A");
    assert!(e.message.contains("given twice"), "{}", e.message);
}

#[test]
fn menu_timeout_of_zero_is_rejected() {
    let text = broken("{ prompt = \"menu\",", "{ prompt = \"menu\", timeout = 0,");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].open[1].menu.timeout");
}

#[test]
fn unknown_time_zone_is_rejected() {
    let text = broken(
        "[calendars.hotline]\n",
        "[calendars.hotline]\ntz = \"Asia/Tokio\"\n",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "calendars.hotline.tz");
    assert_eq!(e.message, "unknown time zone \"Asia/Tokio\"");
}

#[test]
fn missing_entries_section_is_an_error() {
    let cut = BASE.find("[[entries]]").unwrap();
    let end = BASE.find("[[categories]]").unwrap();
    let text = format!("{}{}", &BASE[..cut], &BASE[end..]);
    let e = only_error(&text);
    assert_eq!(e.key, "entries");
}

#[test]
fn duplicate_entry_name_points_at_the_second_name() {
    let entry = "\n[[entries]]\nname = \"*\"\nmatch = \"0120\"\ncalendar = \"hotline\"\nopen = [{ hangup = true }]\nclosed = [{ hangup = true }]\n";
    let text = format!("{BASE}{entry}");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[1].name");
    assert_eq!(e.line, line_of(&text, "name = \"*\""));
}

#[test]
fn ring_longer_than_thirty_seconds_is_refused() {
    let text = broken("match = \"*\"", "match = \"*\"\nring = 45000");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].ring");
    assert_eq!(e.line, line_of(&text, "ring = 45000"));
}

#[test]
fn unknown_queue_strategy_is_named() {
    let text = broken("music = \"hold_music\"", "strategy = \"random\"");
    let e = only_error(&text);
    assert_eq!(e.key, "queues.main.strategy");
    assert!(
        e.message.contains("unknown strategy \"random\""),
        "{}",
        e.message
    );
}

#[test]
fn ring_timeout_of_zero_is_rejected() {
    let text = broken("music = \"hold_music\"", "ring_timeout = 0");
    let e = only_error(&text);
    assert_eq!(e.key, "queues.main.ring_timeout");
}

#[test]
fn unknown_queue_key_is_named() {
    let text = broken("music = \"hold_music\"", "ringtimeout = 10");
    let e = only_error(&text);
    assert_eq!(e.key, "queues.main.ringtimeout");
    assert!(e.message.contains("unknown key"), "{}", e.message);
}

#[test]
fn a_member_listed_twice_is_rejected() {
    let text = broken(
        "music = \"hold_music\"",
        "members = [\"tanaka\", { login = \"tanaka\", tier = 2 }]",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "queues.main.members[1]");
    assert!(e.message.contains("already"), "{}", e.message);
}

#[test]
fn member_tier_0_is_rejected() {
    let text = broken(
        "music = \"hold_music\"",
        "members = [{ login = \"tanaka\", tier = 0 }]",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "queues.main.members[0].tier");
}

#[test]
fn unknown_member_key_is_named() {
    let text = broken(
        "music = \"hold_music\"",
        "members = [{ login = \"tanaka\", level = 2 }]",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "queues.main.members[0].level");
}

#[test]
fn an_empty_member_list_is_rejected() {
    let text = broken("music = \"hold_music\"", "members = []");
    let e = only_error(&text);
    assert_eq!(e.key, "queues.main.members");
}

#[test]
fn queue_step_table_names_an_unknown_queue() {
    let text = broken(
        "[{ queue = \"main\" }]",
        "[{ queue = { name = \"mian\", priority = 3 } }]",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].open[1].menu.choices.1[0].queue.name");
    assert_eq!(e.message, "unknown queue \"mian\"");
}

#[test]
fn queue_step_priority_must_be_an_integer() {
    let text = broken(
        "[{ queue = \"main\" }]",
        "[{ queue = { name = \"main\", priority = \"high\" } }]",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].open[1].menu.choices.1[0].queue.priority");
}

#[test]
fn queue_step_table_with_an_unknown_key_is_rejected() {
    let text = broken(
        "[{ queue = \"main\" }]",
        "[{ queue = { name = \"main\", prio = 3 } }]",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].open[1].menu.choices.1[0].queue.prio");
}

#[test]
fn missing_announcement_words_are_reported_at_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let sounds = dir.path().join("sounds");
    fs::create_dir(&sounds).unwrap();
    for p in PROMPTS {
        fs::write(sounds.join(format!("{p}.wav")), b"RIFF").unwrap();
    }
    let text = broken("music = \"hold_music\"", "announce_wait = false");
    let e = match Dialplan::parse("test.toml", &text, dir.path()) {
        Ok(_) => panic!("the numbers folder is missing"),
        Err(e) => e.errors,
    };
    assert_eq!(e.len(), 1, "{e:#?}");
    assert_eq!(e[0].key, "queues.main.announce_position");
    assert_eq!(e[0].line, line_of(&text, "[queues.main]"));
    assert!(e[0].message.contains("position_1.wav"), "{}", e[0].message);
    assert!(e[0].message.contains("numbers"), "{}", e[0].message);
}

#[test]
fn no_announcement_words_are_needed_when_the_queue_says_neither() {
    let dir = tempfile::tempdir().unwrap();
    let sounds = dir.path().join("sounds");
    fs::create_dir(&sounds).unwrap();
    for p in PROMPTS {
        fs::write(sounds.join(format!("{p}.wav")), b"RIFF").unwrap();
    }
    let text = broken(
        "music = \"hold_music\"",
        "announce_position = false\nannounce_wait = false",
    );
    assert!(Dialplan::parse("test.toml", &text, dir.path()).is_ok());
}

#[test]
fn target_closed_steps_without_a_calendar_are_rejected() {
    let text = broken(
        "setting = \"city_line\"",
        "setting = \"city_line\"\nclosed = [{ hangup = true }]",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "targets.city_line.closed");
    assert!(e.message.contains("no calendar"), "{}", e.message);
}

#[test]
fn target_with_an_unknown_calendar_is_rejected() {
    let text = broken(
        "setting = \"city_line\"",
        "setting = \"city_line\"\ncalendar = \"office\"",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "targets.city_line.calendar");
    assert_eq!(e.message, "unknown calendar \"office\"");
}

#[test]
fn target_steps_with_an_unknown_prompt_are_rejected() {
    let text = broken(
        "setting = \"city_line\"",
        "setting = \"city_line\"\nfailed = [{ play = \"sorry\" }]",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "targets.city_line.failed[0].play");
}

#[test]
fn a_target_transferring_to_itself_is_rejected() {
    let text = broken(
        "setting = \"city_line\"",
        "setting = \"city_line\"\nfailed = [{ transfer = \"city_line\" }]",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "targets.city_line.failed");
    assert!(e.message.contains("its own target"), "{}", e.message);
}

#[test]
fn a_transfer_loop_through_two_targets_is_rejected() {
    let text = broken(
        "setting = \"city_line\"",
        "setting = \"city_line\"\nfailed = [{ transfer = \"backup\" }]\n\n[targets.backup]\nsetting = \"backup\"\nfailed = [{ menu = { prompt = \"menu\", choices = { \"1\" = [{ transfer = \"city_line\" }] } } }]",
    );
    let e = errors(&text);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert!(e.iter().any(|e| e.key == "targets.city_line.failed"
        && e.message == "transfer loop: city_line → backup → city_line"));
    assert!(e.iter().any(|e| e.key == "targets.backup.failed"));
}

#[test]
fn a_transfer_to_another_target_is_allowed() {
    let text = broken(
        "setting = \"city_line\"",
        "setting = \"city_line\"\nfailed = [{ transfer = \"backup\" }]\n\n[targets.backup]\nsetting = \"backup\"",
    );
    assert!(check(&text).is_ok());
}

#[test]
fn unknown_on_failure_and_caller_id_are_both_reported() {
    let text = broken(
        "setting = \"city_line\"",
        "setting = \"city_line\"\non_failure = \"retry\"\ncaller_id = \"hidden\"",
    );
    let e = errors(&text);
    assert_eq!(e.len(), 2, "{e:#?}");
    assert_eq!(e[0].key, "targets.city_line.on_failure");
    assert_eq!(e[1].key, "targets.city_line.caller_id");
}

#[test]
fn unknown_target_key_is_named() {
    let text = broken(
        "setting = \"city_line\"",
        "setting = \"city_line\"\nringtime = 5",
    );
    let e = only_error(&text);
    assert_eq!(e.key, "targets.city_line.ringtime");
}

#[test]
fn an_entry_matching_a_feature_code_exactly_is_rejected() {
    let entry = "\n[[entries]]\nmatch = \"*51\"\ncalendar = \"hotline\"\nopen = [{ hangup = true }]\nclosed = [{ hangup = true }]\n";
    let text = format!("{BASE}{entry}");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[1].match");
    assert_eq!(e.line, line_of(&text, "match = \"*51\""));
    assert!(e.message.contains("features.available"), "{}", e.message);
}

#[test]
fn a_feature_code_given_twice_is_rejected() {
    let text = format!("{BASE}\n[features]\nlogout = \"*50\"\n");
    let e = only_error(&text);
    assert_eq!(e.key, "features.logout");
    assert!(e.message.contains("features.pause"), "{}", e.message);
}

#[test]
fn a_feature_code_with_letters_is_rejected() {
    let text = format!("{BASE}\n[features]\npause = \"*5O\"\n");
    let e = only_error(&text);
    assert_eq!(e.key, "features.pause");
    assert!(e.message.contains("bad feature code"), "{}", e.message);
}

#[test]
fn a_feature_prompt_must_be_declared() {
    let text = format!("{BASE}\n[features]\nprompt_paused = \"paused\"\n");
    let e = only_error(&text);
    assert_eq!(e.key, "features.prompt_paused");
    assert_eq!(e.message, "unknown prompt \"paused\"");
}

#[test]
fn unknown_feature_key_is_named() {
    let text = format!("{BASE}\n[features]\nbreak = \"*53\"\n");
    let e = only_error(&text);
    assert_eq!(e.key, "features.break");
}

#[test]
fn a_menu_may_chain_several_prompts() {
    let text = broken(
        "{ prompt = \"menu\",",
        "{ prompt = [\"menu\", \"greeting\"],",
    );
    assert!(check(&text).is_ok(), "{:?}", check(&text).err());
}

#[test]
fn an_unknown_prompt_in_a_menus_list_is_named_by_its_index() {
    let text = broken("{ prompt = \"menu\",", "{ prompt = [\"menu\", \"offer\"],");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].open[1].menu.prompt[1]");
    assert_eq!(e.message, "unknown prompt \"offer\"");
}

#[test]
fn a_menu_with_an_empty_prompt_list_is_rejected() {
    let text = broken("{ prompt = \"menu\",", "{ prompt = [],");
    let e = only_error(&text);
    assert_eq!(e.key, "entries[0].open[1].menu.prompt");
    assert!(e.message.contains("1 to 4 prompts"), "{}", e.message);
}
