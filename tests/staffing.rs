//! Staffing end to end: `madoguchi staffing` on the command line, and the staffing API of a
//! running engine over call records measured in its database.

mod support;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use madoguchi_store::{CallRecord, Disposition, Store};
use serde_json::Value;
use support::{create_token, ensure_user, madoguchi_cli, request, EngineProcess, Options};

fn staffing_cli(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["staffing"];
    all.extend_from_slice(args);
    madoguchi_cli(&all, "")
}

fn close(actual: &Value, expected: f64) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("not a number: {actual}"));
    assert!(
        (actual - expected).abs() < 1e-9,
        "{actual} is not {expected}"
    );
}

#[test]
fn staffing_json_has_the_contract_keys() {
    // 100 calls per 30 minutes of 180 s, 80 % in 20 s: the classic worked example, 14 agents
    // (see crates/staffing/tests/erlang_tables.rs for the independent figures).
    let (code, stdout, stderr) = staffing_cli(&[
        "--calls-per-hour",
        "200",
        "--aht",
        "180",
        "--target",
        "0.8",
        "--threshold",
        "20",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let answer: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(answer["agents"], 14);
    close(&answer["service_level"], 0.888_350_019_179_466_9);
    close(&answer["asa_s"], 7.835_937_011_777_243);
    close(&answer["occupancy"], 10.0 / 14.0);
}

#[test]
fn staffing_text_says_how_many_agents_and_what_they_give() {
    let (code, stdout, stderr) = staffing_cli(&["--calls-per-hour", "200", "--aht", "180"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("14 agents answer 80 % of calls within 20 s"),
        "{stdout}"
    );
    assert!(stdout.contains("88.8 %"), "{stdout}");
}

#[test]
fn staffing_without_calls_needs_no_agent() {
    let (code, stdout, stderr) = staffing_cli(&["--calls-per-hour", "0", "--aht", "180", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let answer: Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    assert_eq!(answer["agents"], 0);
    close(&answer["occupancy"], 0.0);
}

#[test]
fn staffing_refuses_a_target_in_percent_with_exit_2() {
    let (code, stdout, stderr) =
        staffing_cli(&["--calls-per-hour", "200", "--aht", "180", "--target", "80"]);
    assert_eq!(code, 2, "{stdout}");
    assert!(stderr.contains("between 0 and 1"), "{stderr}");
}

#[test]
fn staffing_refuses_a_zero_handling_time_with_exit_2() {
    let (code, _, stderr) = staffing_cli(&["--calls-per-hour", "200", "--aht", "0"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("more than 0 seconds"), "{stderr}");
}

#[test]
fn staffing_refuses_traffic_beyond_the_limit_with_exit_1() {
    let (code, stdout, stderr) = staffing_cli(&["--calls-per-hour", "1e9", "--aht", "3600"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.contains("erlangs"), "{stderr}");
}

/// A call to the `card` queue (wrap-up 10 s in the reference dialplan).
fn queued(id: &str, arrived_at: DateTime<Utc>, talk_s: Option<i64>) -> CallRecord {
    let answered = talk_s.is_some();
    CallRecord {
        id: id.into(),
        sip_call_id: format!("{id}@trunk.example"),
        caller: "0462001234".into(),
        called: "hotline".into(),
        arrived_at,
        answered_at: Some(arrived_at),
        ended_at: arrived_at + Duration::seconds(300),
        entry: Some("hotline".into()),
        branch: Some("open".into()),
        disposition: if answered {
            Disposition::Answered
        } else {
            Disposition::Abandoned
        },
        dtmf: vec![],
        hangup_side: None,
        hangup_cause: None,
        queue: Some("card".into()),
        waited_ms: Some(5_000),
        operator: answered.then(|| "op1".to_owned()),
        connected_at: answered.then(|| arrived_at + Duration::seconds(5)),
        talk_ms: talk_s.map(|s| s * 1000),
        transfer_target: None,
        transfer_result: None,
        menu_choice: None,
        answer_mode: None,
        answered_by: None,
        unanswered_ms: None,
        answered_ms: None,
        language: None,
        language_fallback: None,
        node_id: "node1".into(),
        events: vec![],
    }
}

/// `hh:mm` on `date` in Tokyo, plus `seconds`.
fn tokyo(date: NaiveDate, hour: u32, minute: u32, seconds: i64) -> DateTime<Utc> {
    let local = date.and_hms_opt(hour, minute, 0).expect("valid time");
    Tokyo
        .from_local_datetime(&local)
        .single()
        .expect("Tokyo has no gaps")
        .with_timezone(&Utc)
        + Duration::seconds(seconds)
}

/// An engine whose database holds, a week before today (Tokyo), 40 answered calls between
/// 10:00 and 10:30 (talk 170 s + wrap-up 10 s = 180 s each) and 4 abandoned ones between
/// 10:30 and 11:00; plus a call outside the four weeks and one that never reached a queue.
fn engine_with_history() -> (EngineProcess, NaiveDate, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("staffing.db").display());
    // A week back: still inside the four-week window if midnight passes during the test.
    let day = Utc::now().with_timezone(&Tokyo).date_naive() - Duration::days(7);
    let mut records: Vec<CallRecord> = (0..40)
        .map(|i| queued(&format!("a{i}"), tokyo(day, 10, 0, i * 40), Some(170)))
        .collect();
    records.extend((0..4).map(|i| queued(&format!("b{i}"), tokyo(day, 10, 30, i * 60), None)));
    records.push(queued(
        "old",
        tokyo(day - Duration::days(40), 10, 0, 0),
        Some(170),
    ));
    records.push(CallRecord {
        queue: None,
        disposition: Disposition::ClosedHours,
        ..queued("closed", tokyo(day, 10, 5, 0), None)
    });
    let url = database_url.clone();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async move {
            let store = Store::connect(&url).await.expect("store");
            store.insert_calls(&records).await.expect("insert");
            store.close().await;
        });
    ensure_user(&database_url, "op1", "agent", "agent-password-1");
    let engine = EngineProcess::start(Options {
        database_url: Some(database_url),
        ..Options::default()
    });
    (engine, day, dir)
}

fn get_json(engine: &EngineProcess, path: &str) -> Value {
    let (status, body) = engine.get(path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("JSON body")
}

#[test]
fn the_staffing_api_plans_a_typical_week_from_the_measured_calls() {
    let (engine, day, _dir) = engine_with_history();
    let plan = get_json(&engine, "/api/v1/staffing?target=0.8&threshold=20&weeks=4");
    assert_eq!(plan["time_zone"], "Asia/Tokyo");
    assert_eq!(plan["weeks"], 4);
    assert_eq!(plan["arrivals"], 44);
    assert_eq!(plan["handled"], 40);
    close(&plan["aht_s"], 180.0);

    let days = plan["days"].as_array().expect("days");
    assert_eq!(days.len(), 7);
    let weekday = day.weekday().num_days_from_monday() as usize;
    let measured_day = &days[weekday];
    assert_eq!(
        measured_day["weekday"],
        day.weekday().to_string().to_lowercase()
    );
    // 40 calls over 4 weeks = 20 per hour at 180 s: 1 erlang. 2 agents answer 70.2 % within
    // 20 s, 3 agents 1 − e^(−2/9)/11 = 92.7 % (C(3, 1) = 1/11), ASA (1/11)·180/2 s.
    let ten = &measured_day["intervals"][20];
    assert_eq!(ten["start"], "10:00");
    assert_eq!(
        (ten["arrivals"].clone(), ten["handled"].clone()),
        (40.into(), 40.into())
    );
    close(&ten["arrivals_per_hour"], 20.0);
    close(&ten["aht_s"], 180.0);
    assert_eq!(ten["agents"], 3);
    close(&ten["service_level"], 1.0 - (-2.0_f64 / 9.0).exp() / 11.0);
    close(&ten["asa_s"], 180.0 / 22.0);
    close(&ten["occupancy"], 1.0 / 3.0);
    // 4 abandoned calls: 2 per hour at the span's AHT, 0.1 erlang, one agent.
    let half_past = &measured_day["intervals"][21];
    assert_eq!(half_past["start"], "10:30");
    close(&half_past["aht_s"], 180.0);
    assert_eq!(half_past["agents"], 1);
    assert_eq!(measured_day["peak_agents"], 3);

    for (index, other) in days.iter().enumerate().filter(|(i, _)| *i != weekday) {
        assert_eq!(other["peak_agents"], 0, "day {index}");
    }
}

#[test]
fn the_staffing_api_answers_one_erlang_point_and_refuses_bad_input() {
    let (engine, _, _dir) = engine_with_history();
    let point = get_json(
        &engine,
        "/api/v1/staffing/erlang?calls_per_hour=200&aht=180&target=0.8&threshold=20",
    );
    assert_eq!(point["agents"], 14);
    close(&point["service_level"], 0.888_350_019_179_466_9);
    close(&point["asa_s"], 7.835_937_011_777_243);
    close(&point["occupancy"], 10.0 / 14.0);

    for bad in [
        "/api/v1/staffing/erlang?calls_per_hour=200&aht=180&target=80",
        "/api/v1/staffing/erlang?calls_per_hour=200",
        "/api/v1/staffing/erlang?calls_per_hour=-1&aht=180",
        "/api/v1/staffing?weeks=0",
        "/api/v1/staffing?threshold=-5",
        "/api/v1/staffing?aht=0",
    ] {
        let (status, body) = engine.get(bad);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains("\"error\""), "{bad}: {body}");
    }
}

#[test]
fn the_staffing_api_is_for_managers_and_in_the_openapi_document() {
    let (engine, _, dir) = engine_with_history();
    let database_url = format!("sqlite://{}", dir.path().join("staffing.db").display());
    let agent_token = format!("Bearer {}", create_token(&database_url, "op1"));
    for path in [
        "/api/v1/staffing",
        "/api/v1/staffing/erlang?calls_per_hour=1&aht=60",
    ] {
        let response = request(
            engine.http,
            "GET",
            path,
            &[("Authorization", agent_token.as_str())],
            None,
        );
        assert_eq!(response.status, 403, "{path}: {}", response.body);
    }
    let document = get_json(&engine, "/api/v1/openapi.json");
    for path in ["/api/v1/staffing", "/api/v1/staffing/erlang"] {
        assert!(document["paths"][path]["get"].is_object(), "{path} missing");
    }
}
