//! The month generator: deterministic, inside its month, and shaped like a real hotline.

use std::collections::{BTreeMap, HashSet};

use chrono::{Datelike, Timelike, Weekday};
use madoguchi_calendar::{Calendar, CalendarStatus};
use madoguchi_store::{CounterKind, Disposition};

use super::tests_support::{city_office, counter, hotline};
use super::*;

fn month(
    text: &str,
    calls: usize,
    seed: u64,
    cals: &(Calendar, Calendar, Calendar),
) -> GeneratedMonth {
    let spec = MonthSpec {
        calls,
        counter_cases: calls / 10,
        seed,
        city: Some(&cals.1),
        counter: Some(&cals.2),
        ..MonthSpec::new(Period::parse_month(text).expect("month"), &cals.0)
    };
    generate(&spec)
}

fn calendars() -> (Calendar, Calendar, Calendar) {
    (hotline(), city_office(), counter())
}

fn is_open(calendar: &Calendar, at: DateTime<Utc>) -> bool {
    matches!(calendar.status_at(at), CalendarStatus::Open { .. })
}

#[test]
fn the_same_seed_gives_the_same_month() {
    let cals = calendars();
    assert_eq!(
        month("2025-06", 2_000, 42, &cals),
        month("2025-06", 2_000, 42, &cals)
    );
}

#[test]
fn another_seed_gives_another_month() {
    let cals = calendars();
    assert_ne!(
        month("2025-06", 2_000, 42, &cals),
        month("2025-06", 2_000, 43, &cals)
    );
}

#[test]
fn it_makes_as_many_calls_and_cases_as_asked_inside_the_month() {
    let cals = calendars();
    let m = month("2025-06", 3_000, 1, &cals);
    let (from, to) = Period::parse_month("2025-06")
        .expect("month")
        .bounds(chrono_tz::Asia::Tokyo)
        .expect("bounds");
    assert_eq!(m.calls.len(), 3_000);
    assert_eq!(m.counter_cases.len(), 300);
    assert!(m
        .calls
        .iter()
        .all(|c| c.arrived_at >= from && c.arrived_at < to));
    assert!(m.counter_cases.iter().all(|c| c.at >= from && c.at < to));
    assert!(m
        .calls
        .windows(2)
        .all(|w| w[0].arrived_at <= w[1].arrived_at));
    let ids: HashSet<&str> = m.calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), m.calls.len());
    assert!(m.calls.iter().all(|c| c.validate().is_ok()));
}

#[test]
fn callers_reach_a_queue_only_while_the_hotline_is_open() {
    let cals = calendars();
    let m = month("2025-06", 5_000, 2, &cals);
    for call in &m.calls {
        let open = is_open(&cals.0, call.arrived_at);
        let closed_record = call.disposition.as_str().starts_with("closed_");
        assert_eq!(open, !closed_record, "{} at {}", call.id, call.arrived_at);
        if call.queue.is_some() {
            assert!(open);
        }
    }
    // A few callers do try before 08:30 or after 20:00.
    assert!(m
        .calls
        .iter()
        .any(|c| c.disposition == Disposition::ClosedHours));
}

#[test]
fn the_year_end_break_gets_only_closed_records() {
    let cals = calendars();
    let m = month("2025-12", 5_000, 3, &cals);
    let tz = chrono_tz::Asia::Tokyo;
    let break_calls: Vec<&CallRecord> = m
        .calls
        .iter()
        .filter(|c| c.arrived_at.with_timezone(&tz).day() >= 29)
        .collect();
    assert!(!break_calls.is_empty());
    assert!(break_calls
        .iter()
        .all(|c| c.disposition == Disposition::ClosedYearEnd));
}

#[test]
fn mornings_and_mondays_are_busier_than_evenings_and_sundays() {
    let cals = calendars();
    let m = month("2025-06", 20_000, 4, &cals);
    let tz = chrono_tz::Asia::Tokyo;
    let mut by_hour: BTreeMap<u32, usize> = BTreeMap::new();
    let mut by_weekday: BTreeMap<u32, usize> = BTreeMap::new();
    for call in &m.calls {
        let local = call.arrived_at.with_timezone(&tz);
        *by_hour.entry(local.hour()).or_default() += 1;
        if DayType::of(local.date_naive()) != DayType::Holiday {
            *by_weekday
                .entry(local.weekday().num_days_from_monday())
                .or_default() += 1;
        }
    }
    assert!(by_hour[&10] > 2 * by_hour[&19], "{by_hour:?}");
    assert!(by_hour[&12] < by_hour[&10], "the lunch dip: {by_hour:?}");
    // June 2025 has five Mondays and five Sundays.
    let (monday, sunday) = (
        Weekday::Mon.num_days_from_monday(),
        Weekday::Sun.num_days_from_monday(),
    );
    assert!(
        by_weekday[&monday] > 2 * by_weekday[&sunday],
        "{by_weekday:?}"
    );
}

#[test]
fn transfers_connect_only_while_the_city_office_is_open() {
    let cals = calendars();
    let m = month("2025-06", 20_000, 5, &cals);
    let transfers: Vec<&CallRecord> = m
        .calls
        .iter()
        .filter(|c| c.transfer_target.is_some())
        .collect();
    assert!(transfers
        .iter()
        .any(|c| c.transfer_result.as_deref() == Some("answered")));
    assert!(transfers
        .iter()
        .any(|c| c.transfer_result.as_deref() == Some("closed")));
    for call in transfers {
        if call.transfer_result.as_deref() == Some("answered") {
            // The transfer happens at the end of the talk or wait; the office was open then.
            let at = call.connected_at.map_or(call.arrived_at, |c| {
                c + Duration::milliseconds(call.talk_ms.unwrap_or(0))
            });
            let at = if call.operator.is_some() {
                at
            } else {
                call.arrived_at
                    + Duration::seconds(12)
                    + Duration::milliseconds(call.waited_ms.unwrap_or(0))
            };
            assert!(is_open(&cals.1, at), "{} at {at}", call.id);
        }
    }
}

#[test]
fn abandons_carry_their_wait_and_some_are_short() {
    let cals = calendars();
    let m = month("2025-06", 10_000, 6, &cals);
    let waits: Vec<i64> = m
        .calls
        .iter()
        .filter(|c| c.disposition == Disposition::Abandoned)
        .map(|c| c.waited_ms.expect("an abandon has a wait"))
        .collect();
    assert!(waits.len() > 300, "{}", waits.len());
    let short = waits.iter().filter(|w| **w < 5_000).count();
    assert!(
        short > 0 && short < waits.len() / 2,
        "{short} of {}",
        waits.len()
    );
    assert!(m
        .calls
        .iter()
        .filter(|c| c.disposition == Disposition::Overflowed)
        .all(|c| c.transfer_target.is_some()));
}

#[test]
fn answered_calls_are_classified_mostly_and_card_applications_lead() {
    let cals = calendars();
    let m = month("2025-06", 10_000, 7, &cals);
    let answered: HashSet<&str> = m
        .calls
        .iter()
        .filter(|c| c.operator.is_some())
        .map(|c| c.id.as_str())
        .collect();
    assert!(m
        .classifications
        .iter()
        .all(|c| answered.contains(c.filing.call_id.as_str())));
    let classified = m.classifications.len();
    assert!(classified < answered.len() && classified > answered.len() * 9 / 10);
    let mut by_category: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &m.classifications {
        *by_category.entry(c.filing.category.as_str()).or_default() += 1;
    }
    let top = by_category.iter().max_by_key(|(_, n)| **n).map(|(c, _)| *c);
    assert_eq!(top, Some("イ"), "{by_category:?}");
    assert_eq!(by_category.len(), 9);
}

#[test]
fn counter_cases_fall_in_counter_hours_and_loss_reissues_state_the_fee() {
    let cals = calendars();
    let m = month("2025-06", 10_000, 8, &cals);
    for case in &m.counter_cases {
        assert!(
            is_open(
                &cals.2,
                case.at - Duration::milliseconds(case.at.timestamp_subsec_millis().into())
            ),
            "{} at {}",
            case.id,
            case.at
        );
        assert_eq!(
            case.fee_payment_confirmed.is_some(),
            case.kind == CounterKind::LossReissue
        );
    }
    let kinds: HashSet<CounterKind> = m.counter_cases.iter().map(|c| c.kind).collect();
    assert_eq!(kinds.len(), 7);
}

#[test]
fn most_answered_calls_have_a_measured_wrap_up_within_the_queue_limit() {
    let cals = calendars();
    let m = month("2025-06", 3_000, 5, &cals);
    let answered: BTreeMap<&str, &CallRecord> = m
        .calls
        .iter()
        .filter(|c| c.operator.is_some())
        .map(|c| (c.id.as_str(), c))
        .collect();
    let limit = i64::try_from(crate::model::DEFAULT_WRAP_UP.as_millis()).expect("ms");
    for w in &m.wrap_ups {
        let call = answered
            .get(w.call_id.as_str())
            .unwrap_or_else(|| panic!("{} follows an answered call", w.call_id));
        assert!((0..=limit).contains(&w.wrap_up_ms), "{w:?}");
        assert_eq!(
            w.ended_at,
            call.ended_at + Duration::milliseconds(w.wrap_up_ms)
        );
    }
    let share = m.wrap_ups.len() as f64 / answered.len() as f64;
    assert!((0.9..1.0).contains(&share), "measured share {share}");
    let ran_out = m.wrap_ups.iter().filter(|w| w.wrap_up_ms == limit).count();
    assert!(
        ran_out > 0 && ran_out < m.wrap_ups.len(),
        "some cut short by the filing"
    );
}

#[test]
fn wrap_ups_leave_the_calls_of_a_seed_unchanged() {
    let cals = calendars();
    let short = MonthSpec {
        calls: 500,
        seed: 9,
        wrap_up: std::time::Duration::from_secs(1),
        ..MonthSpec::new(Period::parse_month("2025-06").expect("month"), &cals.0)
    };
    let long = MonthSpec {
        wrap_up: std::time::Duration::from_secs(60),
        ..short.clone()
    };
    let (a, b) = (generate(&short), generate(&long));
    assert_eq!(a.calls, b.calls);
    assert_ne!(a.wrap_ups, b.wrap_ups);
}

#[test]
fn a_few_queued_callers_choose_a_declared_language_and_long_waiters_fall_back() {
    let cals = calendars();
    let spec = MonthSpec {
        calls: 3_000,
        languages: vec![("en".into(), std::time::Duration::from_secs(60))],
        ..MonthSpec::new(Period::parse_month("2025-06").expect("month"), &cals.0)
    };
    let month = generate(&spec);
    let english: Vec<&CallRecord> = month
        .calls
        .iter()
        .filter(|c| c.language.as_deref() == Some("en"))
        .collect();
    assert!(
        (40..=200).contains(&english.len()),
        "about 4 % of queued calls: {}",
        english.len()
    );
    assert!(
        english.iter().all(|c| c.queue.is_some()),
        "only queued callers choose"
    );
    for c in &english {
        let waited_long = c.operator.is_some() && c.waited_ms.is_some_and(|w| w > 60_000);
        assert_eq!(c.language_fallback.is_some(), waited_long, "{}", c.id);
    }
    assert!(english.iter().any(|c| c.language_fallback.is_some()));
    // The rest of the month is the month without languages.
    let plain = generate(&MonthSpec {
        languages: Vec::new(),
        ..spec.clone()
    });
    let strip = |c: &CallRecord| CallRecord {
        language: None,
        language_fallback: None,
        ..c.clone()
    };
    assert!(month
        .calls
        .iter()
        .map(strip)
        .eq(plain.calls.iter().cloned()));
}
