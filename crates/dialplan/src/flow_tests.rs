//! FlowRunner scenarios: each test drives the runner like the engine would and checks the
//! exact actions it asks for.

use super::*;

fn play(p: &str) -> Step {
    Step::Play { prompt: p.into() }
}

fn steps(v: Vec<Step>) -> Steps {
    Arc::from(v)
}

fn menu(retries: u32, invalid: Option<&str>, default: Option<Vec<Step>>) -> Step {
    Step::Menu(Arc::new(Menu {
        prompts: vec!["menu".into()],
        timeout: Duration::from_secs(5),
        retries,
        invalid: invalid.map(str::to_string),
        choices: vec![
            (
                '1',
                steps(vec![Step::Queue {
                    queue: "main".into(),
                    priority: 0,
                }]),
            ),
            (
                '2',
                steps(vec![Step::Transfer {
                    target: "city_line".into(),
                }]),
            ),
        ],
        default: default.map(steps),
    }))
}

fn drain(run: &mut FlowRunner) -> Vec<FlowAction> {
    std::iter::from_fn(|| run.poll_action()).collect()
}

fn p(prompt: &str) -> FlowAction {
    FlowAction::Play {
        prompt: prompt.into(),
    }
}

fn timer5() -> FlowAction {
    FlowAction::StartTimer {
        duration: Duration::from_secs(5),
    }
}

fn menu_runner(retries: u32, invalid: Option<&str>, default: Option<Vec<Step>>) -> FlowRunner {
    let mut run = FlowRunner::new(
        Branch::Open,
        steps(vec![play("greeting"), menu(retries, invalid, default)]),
    );
    assert_eq!(drain(&mut run), vec![p("greeting")]);
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![p("menu"), FlowAction::CollectDigits]);
    run
}

#[test]
fn steps_run_in_order_and_a_branch_ending_without_hangup_hangs_up() {
    let mut run = FlowRunner::new(Branch::ClosedHours, steps(vec![play("a"), play("b")]));
    assert_eq!(drain(&mut run), vec![p("a")]);
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![p("b")]);
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![FlowAction::Hangup]);
    assert!(run.is_finished());
}

#[test]
fn pause_asks_for_a_timer_and_continues_when_it_fires() {
    let mut run = FlowRunner::new(
        Branch::Open,
        steps(vec![
            Step::Pause {
                duration: Duration::from_millis(500),
            },
            play("a"),
        ]),
    );
    assert_eq!(
        drain(&mut run),
        vec![FlowAction::StartTimer {
            duration: Duration::from_millis(500)
        }]
    );
    run.handle_prompt_finished(); // stray report: ignored
    assert_eq!(drain(&mut run), vec![]);
    run.handle_timer_expired();
    assert_eq!(drain(&mut run), vec![p("a")]);
}

#[test]
fn digits_outside_a_menu_are_ignored() {
    let mut run = FlowRunner::new(Branch::Open, steps(vec![play("greeting"), Step::Hangup]));
    drain(&mut run);
    run.handle_digit('1');
    assert_eq!(drain(&mut run), vec![]);
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![FlowAction::Hangup]);
}

#[test]
fn menu_digit_after_prompt_cancels_timer_and_runs_the_choice() {
    let mut run = menu_runner(2, Some("invalid_choice"), None);
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![timer5()]);
    run.handle_digit('1');
    assert_eq!(
        drain(&mut run),
        vec![
            FlowAction::CancelTimer,
            FlowAction::Queue {
                queue: "main".into(),
                priority: 0
            }
        ]
    );
    assert_eq!(run.choices(), ["1"]);
}

#[test]
fn menu_digit_during_prompt_barges_in_with_stop_playback() {
    let mut run = menu_runner(2, Some("invalid_choice"), None);
    run.handle_digit('2');
    assert_eq!(
        drain(&mut run),
        vec![
            FlowAction::StopPlayback,
            FlowAction::Transfer {
                target: "city_line".into()
            }
        ]
    );
    assert_eq!(run.choices(), ["2"]);
}

#[test]
fn invalid_digit_plays_invalid_prompt_then_offers_the_menu_again() {
    let mut run = menu_runner(2, Some("invalid_choice"), None);
    run.handle_prompt_finished();
    drain(&mut run);
    run.handle_digit('9');
    assert_eq!(
        drain(&mut run),
        vec![FlowAction::CancelTimer, p("invalid_choice")]
    );
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![p("menu"), FlowAction::CollectDigits]);
    assert!(run.choices().is_empty());
}

#[test]
fn invalid_digit_without_invalid_prompt_replays_the_menu() {
    let mut run = menu_runner(2, None, None);
    run.handle_digit('9');
    assert_eq!(
        drain(&mut run),
        vec![
            FlowAction::StopPlayback,
            p("menu"),
            FlowAction::CollectDigits
        ]
    );
}

#[test]
fn digit_during_invalid_prompt_barges_in() {
    let mut run = menu_runner(2, Some("invalid_choice"), None);
    run.handle_digit('9');
    drain(&mut run);
    run.handle_digit('1');
    assert_eq!(
        drain(&mut run),
        vec![
            FlowAction::StopPlayback,
            FlowAction::Queue {
                queue: "main".into(),
                priority: 0
            }
        ]
    );
}

#[test]
fn timeout_offers_the_menu_again_until_retries_are_used_then_hangs_up() {
    let mut run = menu_runner(2, Some("invalid_choice"), None);
    for _ in 0..2 {
        run.handle_prompt_finished();
        assert_eq!(drain(&mut run), vec![timer5()]);
        run.handle_timer_expired();
        assert_eq!(drain(&mut run), vec![p("menu"), FlowAction::CollectDigits]);
    }
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![timer5()]);
    run.handle_timer_expired();
    assert_eq!(drain(&mut run), vec![FlowAction::Hangup]);
    assert!(run.is_finished());
}

#[test]
fn exhausted_menu_runs_default_steps() {
    let mut run = menu_runner(
        0,
        Some("invalid_choice"),
        Some(vec![Step::Queue {
            queue: "main".into(),
            priority: 0,
        }]),
    );
    run.handle_prompt_finished();
    drain(&mut run);
    run.handle_timer_expired();
    assert_eq!(
        drain(&mut run),
        vec![FlowAction::Queue {
            queue: "main".into(),
            priority: 0
        }]
    );
    assert!(run.choices().is_empty());
}

#[test]
fn exhausted_by_invalid_digits_plays_invalid_then_default() {
    let mut run = menu_runner(1, Some("invalid_choice"), Some(vec![play("goodbye")]));
    run.handle_digit('7');
    assert_eq!(
        drain(&mut run),
        vec![FlowAction::StopPlayback, p("invalid_choice")]
    );
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![p("menu"), FlowAction::CollectDigits]);
    run.handle_digit('8');
    assert_eq!(
        drain(&mut run),
        vec![FlowAction::StopPlayback, p("invalid_choice")]
    );
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![p("goodbye")]);
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![FlowAction::Hangup]);
}

#[test]
fn stale_timer_after_a_choice_is_ignored() {
    let mut run = menu_runner(2, None, None);
    run.handle_prompt_finished();
    drain(&mut run);
    run.handle_digit('1');
    drain(&mut run);
    run.handle_timer_expired();
    assert_eq!(drain(&mut run), vec![]);
}

#[test]
fn handoff_done_continues_after_the_queue_step() {
    let mut run = FlowRunner::new(
        Branch::Open,
        steps(vec![
            Step::Queue {
                queue: "main".into(),
                priority: 0,
            },
            Step::Transfer {
                target: "city_line".into(),
            },
        ]),
    );
    assert_eq!(
        drain(&mut run),
        vec![FlowAction::Queue {
            queue: "main".into(),
            priority: 0
        }]
    );
    run.handle_prompt_finished();
    run.handle_timer_expired();
    assert_eq!(drain(&mut run), vec![]);
    run.handle_handoff_done();
    assert_eq!(
        drain(&mut run),
        vec![FlowAction::Transfer {
            target: "city_line".into()
        }]
    );
    run.handle_handoff_done();
    assert_eq!(drain(&mut run), vec![FlowAction::Hangup]);
}

#[test]
fn choice_steps_return_to_the_steps_after_the_menu() {
    let mut run = FlowRunner::new(
        Branch::Open,
        steps(vec![menu(0, None, None), play("after")]),
    );
    drain(&mut run);
    run.handle_digit('1');
    assert_eq!(
        drain(&mut run),
        vec![
            FlowAction::StopPlayback,
            FlowAction::Queue {
                queue: "main".into(),
                priority: 0
            }
        ]
    );
    run.handle_handoff_done();
    assert_eq!(drain(&mut run), vec![p("after")]);
}

#[test]
fn nested_menus_record_every_digit_in_order() {
    let inner = Step::Menu(Arc::new(Menu {
        prompts: vec!["inner".into()],
        timeout: Duration::from_secs(3),
        retries: 0,
        invalid: None,
        choices: vec![('#', steps(vec![Step::Hangup]))],
        default: None,
    }));
    let outer = Step::Menu(Arc::new(Menu {
        prompts: vec!["outer".into()],
        timeout: Duration::from_secs(3),
        retries: 0,
        invalid: None,
        choices: vec![('3', steps(vec![inner]))],
        default: None,
    }));
    let mut run = FlowRunner::new(Branch::Open, steps(vec![outer]));
    drain(&mut run);
    run.handle_digit('3');
    assert_eq!(
        drain(&mut run),
        vec![
            FlowAction::StopPlayback,
            p("inner"),
            FlowAction::CollectDigits
        ]
    );
    run.handle_digit('#');
    assert_eq!(
        drain(&mut run),
        vec![FlowAction::StopPlayback, FlowAction::Hangup]
    );
    assert_eq!(run.choices(), ["3", "#"]);
}

#[test]
fn finished_runner_ignores_every_input() {
    let mut run = FlowRunner::new(Branch::Open, steps(vec![Step::Hangup]));
    assert_eq!(drain(&mut run), vec![FlowAction::Hangup]);
    run.handle_prompt_finished();
    run.handle_digit('1');
    run.handle_timer_expired();
    run.handle_handoff_done();
    assert_eq!(drain(&mut run), vec![]);
}

#[test]
fn branch_label_names_the_branch_key() {
    let run = FlowRunner::new(Branch::ClosedYearEnd, steps(vec![Step::Hangup]));
    assert_eq!(run.branch_label(), Some("closed_year_end"));
}

#[test]
fn a_callback_plays_its_prompt_then_hangs_up_whatever_follows() {
    let mut run = FlowRunner::new(
        Branch::Open,
        steps(vec![
            Step::Callback {
                prompt: "callback_taken".into(),
            },
            play("never"),
        ]),
    );
    assert_eq!(
        drain(&mut run),
        vec![FlowAction::Callback {
            prompt: "callback_taken".into()
        }]
    );
    run.handle_digit('1');
    run.handle_timer_expired();
    assert_eq!(drain(&mut run), vec![], "the prompt is not cut short");
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![FlowAction::Hangup]);
    assert!(run.is_finished());
}

fn chained_menu_runner() -> FlowRunner {
    let Step::Menu(one) = menu(0, None, None) else {
        unreachable!("menu() makes a menu step")
    };
    let chained = Menu {
        prompts: vec!["menu".into(), "offer".into()],
        ..(*one).clone()
    };
    let mut run = FlowRunner::new(Branch::Open, steps(vec![Step::Menu(Arc::new(chained))]));
    assert_eq!(drain(&mut run), vec![p("menu"), FlowAction::CollectDigits]);
    run
}

#[test]
fn a_menus_prompts_play_in_turn_before_the_digit_timeout_starts() {
    let mut run = chained_menu_runner();
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![p("offer")]);
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![timer5()]);
}

#[test]
fn a_digit_during_a_menus_second_prompt_cuts_it_and_chooses() {
    let mut run = chained_menu_runner();
    run.handle_prompt_finished();
    assert_eq!(drain(&mut run), vec![p("offer")]);
    run.handle_digit('2');
    assert_eq!(
        drain(&mut run),
        vec![
            FlowAction::StopPlayback,
            FlowAction::Transfer {
                target: "city_line".into()
            }
        ]
    );
}
