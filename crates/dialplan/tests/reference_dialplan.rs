//! The reference dialplan (dialplans/zama.toml) encodes the city's service: these tests route
//! calls at the edges of its calendar and check what the caller gets.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use madoguchi_dialplan::{
    Branch, CallerIdPolicy, Dialplan, FeatureCode, FlowAction, FlowRunner, OnFailure,
    QueueStrategy, RecordingDecision, Step, TargetSteps,
};

fn zama() -> Dialplan {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dialplans/zama.toml");
    match Dialplan::load(&path) {
        Ok(d) => d,
        Err(e) => panic!("zama.toml does not check:\n{e}"),
    }
}

fn jst(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
    Tokyo
        .with_ymd_and_hms(y, mo, d, h, mi, s)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn branch_at(at: DateTime<Utc>) -> Branch {
    zama().route("0120000000", at, 0.0).unwrap().branch
}

fn first_prompt(at: DateTime<Utc>) -> String {
    let mut run = zama().route("0120000000", at, 0.0).unwrap().start();
    match run.poll_action() {
        Some(FlowAction::Play { prompt }) => prompt,
        other => panic!("expected a prompt, got {other:?}"),
    }
}

#[test]
fn reference_dialplan_checks_clean() {
    let d = zama();
    assert_eq!(d.calendars().len(), 3);
    assert!(d.calendar("hotline").is_some());
    assert!(d.calendar("city_office").is_some());
    assert!(d.calendar("counter").is_some());
}

#[test]
fn every_declared_prompt_resolves_to_an_existing_file() {
    let d = zama();
    let names: Vec<&str> = d.prompt_files().map(|(n, _)| n).collect();
    for expected in [
        "greeting",
        "outside_hours",
        "closed_year_end",
        "closed_special",
        "please_wait",
        "transfer_city",
        "goodbye",
        "recording_notice",
        "jlis_maintenance",
        "menu",
        "invalid_choice",
        "hold_music",
        "city_closed",
        "transfer_failed",
        "no_operator",
        "feature_paused",
        "feature_available",
        "feature_logged_out",
        "feature_refused",
    ] {
        assert!(names.contains(&expected), "missing prompt {expected}");
    }
    assert!(d.prompt_files().all(|(_, f)| f.is_file()));
}

#[test]
fn categories_are_the_nine_city_categories_in_order() {
    let d = zama();
    let codes: Vec<&str> = d.categories().iter().map(|c| c.code.as_str()).collect();
    assert_eq!(
        codes,
        ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ"]
    );
    assert_eq!(zama().category("イ").unwrap().label, "カードの申請");
}

#[test]
fn any_request_user_reaches_the_hotline_entry() {
    let r = zama()
        .route("anything", jst(2026, 6, 10, 10, 0, 0), 0.0)
        .unwrap();
    assert_eq!(r.entry, "hotline");
    assert_eq!(r.calendar, "hotline");
}

#[test]
fn one_second_before_opening_is_closed_hours() {
    assert_eq!(branch_at(jst(2026, 6, 10, 8, 29, 59)), Branch::ClosedHours);
}

#[test]
fn opening_instant_is_open() {
    assert_eq!(branch_at(jst(2026, 6, 10, 8, 30, 0)), Branch::Open);
}

#[test]
fn one_second_before_closing_is_open() {
    assert_eq!(branch_at(jst(2026, 6, 10, 19, 59, 59)), Branch::Open);
}

#[test]
fn closing_instant_is_closed_hours() {
    assert_eq!(branch_at(jst(2026, 6, 10, 20, 0, 0)), Branch::ClosedHours);
}

#[test]
fn december_28_late_evening_is_closed_hours_not_year_end() {
    assert_eq!(branch_at(jst(2026, 12, 28, 23, 59, 0)), Branch::ClosedHours);
}

#[test]
fn december_30_midday_is_year_end_closure() {
    let at = jst(2026, 12, 30, 12, 0, 0);
    assert_eq!(branch_at(at), Branch::ClosedYearEnd);
    assert_eq!(first_prompt(at), "closed_year_end");
}

#[test]
fn january_3_evening_is_still_year_end() {
    assert_eq!(branch_at(jst(2027, 1, 3, 19, 0, 0)), Branch::ClosedYearEnd);
}

#[test]
fn january_4_midnight_is_closed_hours_and_0830_is_open() {
    assert_eq!(branch_at(jst(2027, 1, 4, 0, 0, 0)), Branch::ClosedHours);
    assert_eq!(branch_at(jst(2027, 1, 4, 8, 30, 0)), Branch::Open);
}

#[test]
fn national_holiday_is_open_for_the_hotline_and_named() {
    let r = zama()
        .route("0120000000", jst(2026, 5, 4, 10, 0, 0), 0.0)
        .unwrap();
    assert_eq!(r.branch, Branch::Open);
    assert_eq!(r.holiday, Some("みどりの日"));
}

#[test]
fn utc_instants_are_converted_to_tokyo_local_time() {
    // 23:30 UTC on 2026-06-09 is 08:30 JST on 2026-06-10.
    let at = Utc.with_ymd_and_hms(2026, 6, 9, 23, 30, 0).unwrap();
    let r = zama().route("x", at, 0.0).unwrap();
    assert_eq!(r.branch, Branch::Open);
    assert_eq!(r.local_time.to_rfc3339(), "2026-06-10T08:30:00+09:00");
}

#[test]
fn closed_hours_plays_the_hours_announcement_then_hangs_up() {
    let mut run = zama()
        .route("x", jst(2026, 6, 10, 21, 0, 0), 0.0)
        .unwrap()
        .start();
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Play {
            prompt: "outside_hours".into()
        })
    );
    run.handle_prompt_finished();
    assert_eq!(run.poll_action(), Some(FlowAction::Hangup));
    assert_eq!(run.branch_label(), Some("closed_hours"));
}

#[test]
fn open_branch_starts_with_greeting_then_recording_notice_then_menu() {
    let r = zama().route("x", jst(2026, 6, 10, 10, 0, 0), 0.0).unwrap();
    assert_eq!(r.recording, RecordingDecision::Record);
    assert!(r.notices.is_empty());
    let prompts: Vec<String> = r
        .steps
        .iter()
        .map(|s| match s {
            Step::Play { prompt } => prompt.clone(),
            Step::Menu(m) => format!("menu:{}", m.prompts.join("+")),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        prompts,
        ["greeting", "recording_notice", "menu:menu+language_offer"]
    );
}

#[test]
fn jlis_notice_plays_on_the_sunday_after_the_third_saturday() {
    // November 2026: Saturdays 7, 14, 21 → J-LIS Sunday is the 22nd.
    let r = zama().route("x", jst(2026, 11, 22, 10, 0, 0), 0.0).unwrap();
    assert_eq!(r.notices, ["jlis_maintenance"]);
    assert!(r
        .steps
        .iter()
        .any(|s| matches!(s, Step::Play { prompt } if prompt == "jlis_maintenance")));
}

#[test]
fn jlis_notice_does_not_play_on_other_sundays() {
    for day in [1, 15, 29] {
        let r = zama()
            .route("x", jst(2026, 11, day, 10, 0, 0), 0.0)
            .unwrap();
        assert!(r.notices.is_empty(), "2026-11-{day}");
    }
}

#[test]
fn jlis_notice_is_not_played_when_closed() {
    let r = zama().route("x", jst(2026, 11, 22, 21, 0, 0), 0.0).unwrap();
    assert_eq!(r.branch, Branch::ClosedHours);
    assert!(r.notices.is_empty());
}

#[test]
fn menu_choice_1_queues_for_card_and_is_recorded() {
    let mut run = at_the_menu();
    run.handle_digit('1');
    assert_eq!(run.poll_action(), Some(FlowAction::StopPlayback));
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Queue {
            queue: "card".into(),
            priority: 0
        })
    );
    assert_eq!(run.choices(), ["1"]);
}

#[test]
fn queues_overflow_to_the_city_line_setting() {
    let d = zama();
    let q = d.queue("card").unwrap();
    assert_eq!(q.overflow.as_deref(), Some("city_line"));
    assert_eq!(d.target("city_line").unwrap().setting, "city_line");
}

#[test]
fn counter_calendar_is_open_on_the_second_saturday_morning_only() {
    let d = zama();
    let counter = d.calendar("counter").unwrap();
    // 2026-06-13 is the 2nd Saturday of June, 06-20 the 3rd.
    assert!(counter.status_at(jst(2026, 6, 13, 11, 59, 0)).is_open());
    assert!(!counter.status_at(jst(2026, 6, 13, 12, 0, 0)).is_open());
    assert!(!counter.status_at(jst(2026, 6, 20, 10, 0, 0)).is_open());
}

#[test]
fn city_office_calendar_is_closed_on_a_holiday_monday() {
    let d = zama();
    let office = d.calendar("city_office").unwrap();
    // 2026-07-20 海の日 is a Monday.
    assert!(matches!(
        office.status_at(jst(2026, 7, 20, 10, 0, 0)),
        madoguchi_calendar::CalendarStatus::ClosedHoliday { .. }
    ));
}

#[test]
fn every_example_dialplan_checks_clean() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dialplans/examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            if let Err(e) = Dialplan::load(&path) {
                panic!("{} does not check:\n{e}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 2);
}

#[test]
fn always_open_example_needs_no_closed_branch_and_is_open_at_3am() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dialplans/examples/always_open.toml");
    let d = Dialplan::load(&path).unwrap();
    assert_eq!(
        d.route("x", jst(2026, 12, 31, 3, 0, 0), 0.0)
            .unwrap()
            .branch,
        Branch::Open
    );
}

#[test]
fn reference_hotline_rings_one_second_before_answering() {
    let route = zama()
        .route("0120000000", jst(2026, 11, 25, 10, 0, 0), 0.0)
        .unwrap();
    assert_eq!(route.ring, std::time::Duration::from_secs(1));
}

/// Plays every prompt the runner asks for until it asks for something else.
fn prompts_then(run: &mut FlowRunner) -> (Vec<String>, Option<FlowAction>) {
    let mut played = Vec::new();
    loop {
        match run.poll_action() {
            Some(FlowAction::Play { prompt }) => {
                played.push(prompt);
                run.handle_prompt_finished();
            }
            other => return (played, other),
        }
    }
}

#[test]
fn city_line_follows_the_city_office_calendar_and_announces_the_transfer() {
    let d = zama();
    let t = d.target("city_line").unwrap();
    assert_eq!(t.calendar.as_deref(), Some("city_office"));
    assert_eq!(t.announce.as_deref(), Some("transfer_city"));
    assert_eq!(t.on_failure, OnFailure::Steps);
    assert_eq!(t.caller_id, CallerIdPolicy::Caller);
    assert_eq!(t.ring_timeout, std::time::Duration::from_secs(30));
}

#[test]
fn city_line_is_open_on_a_weekday_from_0830_until_1715() {
    let d = zama();
    assert!(!d.target_is_open("city_line", jst(2026, 6, 10, 8, 29, 59)));
    assert!(d.target_is_open("city_line", jst(2026, 6, 10, 8, 30, 0)));
    assert!(d.target_is_open("city_line", jst(2026, 6, 10, 17, 14, 59)));
    assert!(!d.target_is_open("city_line", jst(2026, 6, 10, 17, 15, 0)));
}

#[test]
fn city_line_is_closed_on_a_holiday_the_hotline_answers() {
    let d = zama();
    // 2026-07-20 海の日, a Monday: the hotline is open, the city office is not.
    let at = jst(2026, 7, 20, 10, 0, 0);
    assert_eq!(branch_at(at), Branch::Open);
    assert!(!d.target_is_open("city_line", at));
}

#[test]
fn city_line_is_closed_on_saturdays_and_over_the_year_end() {
    let d = zama();
    assert!(!d.target_is_open("city_line", jst(2026, 6, 13, 10, 0, 0)));
    assert!(!d.target_is_open("city_line", jst(2026, 12, 29, 10, 0, 0)));
    assert!(d.target_is_open("city_line", jst(2027, 1, 4, 10, 0, 0)));
}

#[test]
fn closed_city_line_tells_the_office_hours_says_goodbye_and_hangs_up() {
    let mut run = zama()
        .target_steps("city_line", TargetSteps::Closed)
        .unwrap();
    let (played, then) = prompts_then(&mut run);
    assert_eq!(played, ["city_closed", "goodbye"]);
    assert_eq!(then, Some(FlowAction::Hangup));
}

#[test]
fn failed_city_line_apologises_and_hangs_up() {
    let mut run = zama()
        .target_steps("city_line", TargetSteps::Failed)
        .unwrap();
    let (played, then) = prompts_then(&mut run);
    assert_eq!(played, ["transfer_failed"]);
    assert_eq!(then, Some(FlowAction::Hangup));
}

#[test]
fn card_queue_settings_are_the_reference_deployments() {
    let d = zama();
    let q = d.queue("card").unwrap();
    assert_eq!(q.strategy, QueueStrategy::LongestIdle);
    assert_eq!(q.ring_timeout, std::time::Duration::from_secs(15));
    assert_eq!(q.wrap_up, std::time::Duration::from_secs(10));
    assert_eq!(q.auto_pause_after, Some(3));
    // Nobody logged in sends callers to the overflow at once (the city line when open).
    assert!(!q.join_empty && q.leave_when_empty);
    assert!(q.announce_position && q.announce_wait);
    assert_eq!(q.members, None);
    assert_eq!(
        d.queue("general").unwrap().overflow.as_deref(),
        Some("city_line")
    );
}

#[test]
fn feature_codes_are_star_50_51_52_with_their_prompts() {
    let d = zama();
    let f = d.features();
    assert_eq!(f.feature("*50"), Some(FeatureCode::Pause));
    assert_eq!(f.feature("*51"), Some(FeatureCode::Available));
    assert_eq!(f.feature("*52"), Some(FeatureCode::Logout));
    assert_eq!(f.pause_reason, "break");
    assert_eq!(f.prompt(FeatureCode::Pause), Some("feature_paused"));
    assert_eq!(f.prompt(FeatureCode::Available), Some("feature_available"));
    assert_eq!(f.prompt(FeatureCode::Logout), Some("feature_logged_out"));
    assert_eq!(f.prompt_refused.as_deref(), Some("feature_refused"));
}

#[test]
fn every_queue_announcement_plays_recorded_files() {
    let d = zama();
    for position in [1, 3, 30, 31] {
        for secs in [0, 30, 61, 300, 3570, 3660] {
            let wait = Some(std::time::Duration::from_secs(secs));
            for name in d.queue_announcement(position, wait) {
                let file = d.prompt_file(&name).unwrap_or_else(|| panic!("{name}"));
                assert!(file.is_file(), "{}", file.display());
            }
        }
    }
}

#[test]
fn third_in_line_with_five_minutes_says_the_spliced_sentences() {
    let names = zama().queue_announcement(3, Some(std::time::Duration::from_secs(300)));
    assert_eq!(
        names,
        [
            "position_prefix",
            "position_3",
            "position_suffix",
            "wait_prefix",
            "wait_minutes_5",
            "wait_suffix"
        ]
    );
}

#[test]
fn simulation_in_the_evening_shows_the_city_line_closed() {
    // 18:00 on a Wednesday: the hotline takes calls, the city office has closed.
    let sim = zama().simulate("0120000000", jst(2026, 6, 10, 18, 0, 0));
    assert_eq!(sim.branch, Some(Branch::Open));
    assert_eq!(sim.transfers.len(), 1);
    assert!(!sim.transfers[0].open);
    let names: Vec<&str> = sim.queues.iter().map(|q| q.name.as_str()).collect();
    assert_eq!(names, ["card", "general"]);
    let shown = sim.to_string();
    assert!(
        shown.contains("queue card (overflow: transfer city_line, closed now)"),
        "{shown}"
    );
    assert!(
        shown.contains("city_line (setting city_line): closed at this instant"),
        "{shown}"
    );
}

/// The open branch up to the first menu prompt (greeting and recording notice played).
fn at_the_menu() -> FlowRunner {
    let mut run = zama()
        .route("x", jst(2026, 6, 10, 10, 0, 0), 0.0)
        .unwrap()
        .start();
    for _ in 0..2 {
        assert!(matches!(run.poll_action(), Some(FlowAction::Play { .. })));
        run.handle_prompt_finished();
    }
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Play {
            prompt: "menu".into()
        })
    );
    assert_eq!(run.poll_action(), Some(FlowAction::CollectDigits));
    run
}

/// The menu prompt ends and the English offer plays.
fn at_the_offer() -> FlowRunner {
    let mut run = at_the_menu();
    run.handle_prompt_finished();
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Play {
            prompt: "language_offer".into()
        })
    );
    run
}

/// The offer ends and `seconds` of silence follow.
fn silence_after_offer(run: &mut FlowRunner, seconds: u64) {
    run.handle_prompt_finished();
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::StartTimer {
            duration: std::time::Duration::from_secs(seconds)
        })
    );
    run.handle_timer_expired();
}

#[test]
fn the_japanese_menu_is_followed_by_the_english_offer_before_the_wait() {
    let mut run = at_the_offer();
    silence_after_offer(&mut run, 5);
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Play {
            prompt: "menu".into()
        }),
        "silence offers the menu again"
    );
}

#[test]
fn nine_during_the_english_offer_continues_in_english_to_the_general_queue() {
    let mut run = at_the_offer();
    run.handle_digit('9');
    assert_eq!(run.poll_action(), Some(FlowAction::StopPlayback));
    assert_eq!(run.language(), Some("en"));
    for prompt in ["greeting", "recording_notice"] {
        assert_eq!(
            run.poll_action(),
            Some(FlowAction::Play {
                prompt: prompt.into()
            })
        );
        run.handle_prompt_finished();
    }
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Queue {
            queue: "general".into(),
            priority: 0
        })
    );
    assert_eq!(run.choices(), ["9"]);
}

#[test]
fn nine_during_the_japanese_menu_is_english_too() {
    let mut run = at_the_menu();
    run.handle_digit('9');
    assert_eq!(run.poll_action(), Some(FlowAction::StopPlayback));
    assert_eq!(run.language(), Some("en"));
}

#[test]
fn a_choice_during_the_english_offer_still_reaches_the_card_queue_in_japanese() {
    let mut run = at_the_offer();
    run.handle_digit('1');
    assert_eq!(run.poll_action(), Some(FlowAction::StopPlayback));
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Queue {
            queue: "card".into(),
            priority: 0
        })
    );
    assert_eq!(run.language(), None);
    assert_eq!(run.choices(), ["1"]);
}

#[test]
fn silence_through_three_offers_waits_in_the_general_queue_in_japanese() {
    let mut run = at_the_offer();
    silence_after_offer(&mut run, 5);
    for _ in 0..2 {
        assert!(matches!(run.poll_action(), Some(FlowAction::Play { .. })));
        assert_eq!(run.poll_action(), Some(FlowAction::CollectDigits));
        run.handle_prompt_finished();
        assert!(matches!(run.poll_action(), Some(FlowAction::Play { .. })));
        silence_after_offer(&mut run, 5);
    }
    assert_eq!(
        run.poll_action(),
        Some(FlowAction::Queue {
            queue: "general".into(),
            priority: 0
        })
    );
    assert_eq!(run.language(), None);
    assert!(run.choices().is_empty());
}

#[test]
fn english_waits_for_the_en_skill_two_minutes_then_for_anyone() {
    let d = zama();
    let en = d.languages().get("en").expect("[languages.en]");
    assert_eq!(en.label, "English");
    assert_eq!(en.skill, "en");
    assert_eq!(en.after, std::time::Duration::from_secs(120));
    assert_eq!(en.fallback, madoguchi_dialplan::LanguageFallback::Any);
}

#[test]
fn simulation_follows_nine_into_the_english_prompts() {
    let sim = zama().simulate("0120000000", jst(2026, 6, 10, 10, 0, 0));
    let steps: Vec<String> = sim
        .steps
        .iter()
        .map(|s| format!("{} {}", s.kind, s.detail))
        .collect();
    let english = steps
        .iter()
        .position(|s| s == "language en (English)")
        .unwrap_or_else(|| panic!("{steps:?}"));
    assert!(
        steps[english + 1].starts_with("play en/greeting "),
        "{steps:?}"
    );
    assert!(
        steps[english + 2].starts_with("play en/recording_notice "),
        "{steps:?}"
    );
    assert!(steps[english + 3].starts_with("queue general"), "{steps:?}");
    assert!(
        steps
            .iter()
            .any(|s| s.starts_with("menu menu") && s.contains("+ language_offer")),
        "{steps:?}"
    );
}
