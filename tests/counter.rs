//! End to end: the counter support log's HTTP API against the real binary on the reference
//! dialplan (its `[calendars.counter]`: weekdays 08:30–17:15, the 2nd and 4th Saturday
//! 08:30–12:00, closed on holidays and 12/29–1/3). The engine's wall clock is set with
//! libfaketime so "today" and the counter's hours are known: by default Wednesday
//! 2026-06-10, 10:00 JST.
//!
//! Staff: two agents (tanaka, sato) and a manager (mgr), each with an API token.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use madoguchi_store::{CaseDetails, CounterKind, CounterOutcome, NewCounterCase, Store};
use serde_json::{json, Value};
use support::{create_token, ensure_user, request, EngineProcess, HttpResponse, Options};

/// Wednesday 2026-06-10 10:00 JST, a counter day in opening hours.
const WEDNESDAY_10_JST: &str = "2026-06-10 01:00:00";
/// The same Wednesday at 18:00 JST, after the counter closed.
const WEDNESDAY_18_JST: &str = "2026-06-10 09:00:00";

struct Counter {
    engine: EngineProcess,
    database_url: String,
    tanaka: String,
    sato: String,
    manager: String,
    _dir: tempfile::TempDir,
}

impl Counter {
    /// The engine on the reference dialplan with its clock at `utc`.
    fn at(utc: &str) -> Counter {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", dir.path().join("counter.db").display());
        let token = |login: &str, role: &str| {
            ensure_user(&database_url, login, role, "counter-password-1");
            create_token(&database_url, login)
        };
        let (tanaka, sato, manager) = (
            token("tanaka", "agent"),
            token("sato", "agent"),
            token("mgr", "manager"),
        );
        let engine = EngineProcess::start(Options {
            faketime_utc: Some(utc.to_owned()),
            database_url: Some(database_url.clone()),
            ..Options::default()
        });
        Counter {
            engine,
            database_url,
            tanaka,
            sato,
            manager,
            _dir: dir,
        }
    }

    fn call(&self, token: &str, method: &str, path: &str, body: Option<&Value>) -> HttpResponse {
        let bearer = format!("Bearer {token}");
        let body = body.map(Value::to_string);
        request(
            self.engine.http,
            method,
            path,
            &[("Authorization", &bearer)],
            body.as_deref(),
        )
    }

    /// Records a case as `token`'s owner; the answer must be 201.
    fn record(&self, token: &str, body: &Value) -> Value {
        let response = self.call(token, "POST", "/api/v1/counter/cases", Some(body));
        assert_eq!(response.status, 201, "{}", response.body);
        response.json()
    }

    /// A case stored directly at `at`, as if recorded then (the API records at "now").
    fn stored_at(&self, staff: &str, at: DateTime<Utc>) -> String {
        let url = self.database_url.clone();
        let staff = staff.to_owned();
        runtime().block_on(async move {
            let store = Store::connect(&url).await.expect("store");
            let case = store
                .add_counter_case(
                    &NewCounterCase {
                        details: CaseDetails {
                            kind: CounterKind::Renewal,
                            outcome: CounterOutcome::Completed,
                            seat: "窓口1".into(),
                            fee_payment_confirmed: None,
                            note: None,
                        },
                        staff,
                        node_id: "node1".into(),
                    },
                    at,
                )
                .await
                .expect("a valid case");
            store.close().await;
            case.id
        })
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn jst(month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Tokyo
        .with_ymd_and_hms(2026, month, day, hour, 0, 0)
        .single()
        .expect("a valid JST instant")
        .with_timezone(&Utc)
}

fn loss_reissue(fee: Option<bool>) -> Value {
    let mut body = json!({"kind": "loss_reissue", "outcome": "completed", "seat": "窓口1",
                          "note": "本人確認済み"});
    if let Some(fee) = fee {
        body["fee_payment_confirmed"] = json!(fee);
    }
    body
}

fn renewal() -> Value {
    json!({"kind": "renewal", "outcome": "completed", "seat": "窓口2"})
}

#[test]
fn a_loss_reissue_is_recorded_with_its_fee_answer_and_listed_for_the_day() {
    let counter = Counter::at(WEDNESDAY_10_JST);
    let case = counter.record(&counter.tanaka, &loss_reissue(Some(true)));
    assert_eq!(case["kind"], "loss_reissue");
    assert_eq!(case["kind_label"], "紛失再交付");
    assert_eq!(case["outcome_label"], "完了");
    assert_eq!(case["fee_payment_confirmed"], true);
    assert_eq!(case["staff"], "tanaka");
    assert_eq!(case["seat"], "窓口1");
    assert_eq!(case["node_id"], "node1");
    assert_eq!(case["outside_hours"], false, "10:00 on a Wednesday is open");

    let listed = counter.call(
        &counter.tanaka,
        "GET",
        "/api/v1/counter/cases?date=2026-06-10",
        None,
    );
    assert_eq!(listed.status, 200, "{}", listed.body);
    let listed = listed.json();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["cases"][0]["id"], case["id"]);
    let loss = listed["by_kind"]
        .as_array()
        .and_then(|kinds| kinds.iter().find(|k| k["kind"] == "loss_reissue"))
        .cloned()
        .expect("every kind is counted");
    assert_eq!(
        loss,
        json!({"kind": "loss_reissue", "label": "紛失再交付", "count": 1})
    );

    let fetched = counter.call(
        &counter.tanaka,
        "GET",
        &format!(
            "/api/v1/counter/cases/{}",
            case["id"].as_str().unwrap_or_default()
        ),
        None,
    );
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.json(), case);
}

#[test]
fn refused_bodies_are_422_naming_the_field_and_store_nothing() {
    let counter = Counter::at(WEDNESDAY_10_JST);
    let cases = [
        (loss_reissue(None), "fee_payment_confirmed"),
        (
            json!({"kind": "renewal", "outcome": "completed", "seat": "1",
                   "fee_payment_confirmed": true}),
            "fee_payment_confirmed",
        ),
        (
            json!({"kind": "lost", "outcome": "completed", "seat": "1"}),
            "kind",
        ),
        (
            json!({"kind": "renewal", "outcome": "done", "seat": "1"}),
            "outcome",
        ),
        (
            json!({"kind": "renewal", "outcome": "completed", "seat": " "}),
            "seat",
        ),
        (
            json!({"kind": "renewal", "outcome": "completed", "seat": "席".repeat(33)}),
            "seat",
        ),
        (
            json!({"kind": "renewal", "outcome": "completed", "seat": "1",
                   "note": "あ".repeat(1001)}),
            "note",
        ),
    ];
    for (body, field) in cases {
        let response = counter.call(
            &counter.tanaka,
            "POST",
            "/api/v1/counter/cases",
            Some(&body),
        );
        assert_eq!(response.status, 422, "{body}: {}", response.body);
        assert_eq!(response.json()["field"], field, "{body}");
    }
    let listed = counter
        .call(&counter.manager, "GET", "/api/v1/counter/cases", None)
        .json();
    assert_eq!(listed["total"], 0);
}

#[test]
fn a_case_recorded_after_closing_is_accepted_and_flagged_outside_hours() {
    let counter = Counter::at(WEDNESDAY_18_JST);
    let case = counter.record(&counter.tanaka, &renewal());
    assert_eq!(case["outside_hours"], true);
    let hours = counter
        .call(&counter.tanaka, "GET", "/api/v1/counter/hours", None)
        .json();
    assert_eq!(hours["date"], "2026-06-10");
    assert_eq!(hours["open"], true, "the day has hours");
    assert_eq!(hours["open_now"], false, "but not at 18:00");
}

#[test]
fn the_hours_of_a_day_come_from_the_counter_calendar() {
    let counter = Counter::at(WEDNESDAY_10_JST);
    let hours = |query: &str| {
        let response = counter.call(
            &counter.sato,
            "GET",
            &format!("/api/v1/counter/hours{query}"),
            None,
        );
        (response.status, response.json())
    };
    let (status, today) = hours("");
    assert_eq!(status, 200);
    assert_eq!(
        (
            &today["date"],
            &today["from"],
            &today["to"],
            &today["open_now"]
        ),
        (
            &json!("2026-06-10"),
            &json!("08:30"),
            &json!("17:15"),
            &json!(true)
        )
    );
    assert_eq!(today["time_zone"], "Asia/Tokyo");
    let (_, second_saturday) = hours("?date=2026-06-13");
    assert_eq!(
        (&second_saturday["open"], &second_saturday["to"]),
        (&json!(true), &json!("12:00"))
    );
    let (_, third_saturday) = hours("?date=2026-06-20");
    assert_eq!(
        (&third_saturday["open"], &third_saturday["closed_reason"]),
        (&json!(false), &json!("no_hours"))
    );
    let (_, marine_day) = hours("?date=2026-07-20");
    assert_eq!(
        (&marine_day["closed_reason"], &marine_day["label"]),
        (&json!("holiday"), &json!("海の日"))
    );
    let (_, new_year) = hours("?date=2027-01-02");
    assert_eq!(new_year["closed_reason"], "year_end");
    let (status, _) = hours("?date=2026-13-01");
    assert_eq!(status, 400);
}

#[test]
fn agents_see_and_correct_only_the_cases_they_recorded() {
    let counter = Counter::at(WEDNESDAY_10_JST);
    let theirs = counter.record(&counter.tanaka, &renewal());
    let mine = counter.record(&counter.sato, &renewal());
    let path = format!(
        "/api/v1/counter/cases/{}",
        theirs["id"].as_str().unwrap_or_default()
    );
    assert_eq!(counter.call(&counter.sato, "GET", &path, None).status, 403);
    assert_eq!(
        counter
            .call(&counter.sato, "PUT", &path, Some(&loss_reissue(Some(true))))
            .status,
        403
    );
    let listed = counter
        .call(&counter.sato, "GET", "/api/v1/counter/cases", None)
        .json();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["cases"][0]["id"], mine["id"]);
    let asking_for_another = counter.call(
        &counter.sato,
        "GET",
        "/api/v1/counter/cases?staff=tanaka",
        None,
    );
    assert_eq!(asking_for_another.status, 403);

    let everyone = counter
        .call(&counter.manager, "GET", "/api/v1/counter/cases", None)
        .json();
    assert_eq!(everyone["total"], 2);
    let one = counter
        .call(
            &counter.manager,
            "GET",
            "/api/v1/counter/cases?staff=tanaka",
            None,
        )
        .json();
    assert_eq!(one["total"], 1);
}

#[test]
fn an_agent_corrects_a_case_the_same_day_but_not_one_of_yesterday() {
    let counter = Counter::at(WEDNESDAY_10_JST);
    let today = counter.record(&counter.tanaka, &renewal());
    let path = |id: &str| format!("/api/v1/counter/cases/{id}");
    let corrected = counter.call(
        &counter.tanaka,
        "PUT",
        &path(today["id"].as_str().unwrap_or_default()),
        Some(&loss_reissue(Some(false))),
    );
    assert_eq!(corrected.status, 200, "{}", corrected.body);
    let corrected = corrected.json();
    assert_eq!(corrected["kind"], "loss_reissue");
    assert_eq!(corrected["fee_payment_confirmed"], false);
    assert_eq!(
        corrected["at"], today["at"],
        "a correction keeps the instant"
    );

    let yesterday = counter.stored_at("tanaka", jst(6, 9, 16));
    let late = counter.call(&counter.tanaka, "PUT", &path(&yesterday), Some(&renewal()));
    assert_eq!(late.status, 403, "{}", late.body);
    let by_manager = counter.call(
        &counter.manager,
        "PUT",
        &path(&yesterday),
        Some(&json!({"kind": "renewal", "outcome": "referred", "seat": "窓口9"})),
    );
    assert_eq!(by_manager.status, 200, "{}", by_manager.body);
    assert_eq!(by_manager.json()["outcome"], "referred");
    assert_eq!(by_manager.json()["staff"], "tanaka");

    let missing = counter.call(&counter.manager, "PUT", &path("cc_nope"), Some(&renewal()));
    assert_eq!(missing.status, 404);
}

#[test]
fn a_date_range_lists_newest_first_and_a_day_is_the_counters_local_day() {
    let counter = Counter::at(WEDNESDAY_10_JST);
    // 08:30 JST on the 10th is 23:30 UTC on the 9th: still the counter's 10th.
    let early = counter.stored_at("tanaka", jst(6, 10, 8) + chrono::Duration::minutes(30));
    let before = counter.stored_at("tanaka", jst(6, 9, 16));
    let now = counter.record(&counter.tanaka, &renewal());
    let day = counter
        .call(
            &counter.tanaka,
            "GET",
            "/api/v1/counter/cases?date=2026-06-10",
            None,
        )
        .json();
    let ids: Vec<&Value> = day["cases"]
        .as_array()
        .map(|cases| cases.iter().map(|c| &c["id"]).collect())
        .unwrap_or_default();
    assert_eq!(ids, [&now["id"], &json!(early)]);
    let range = counter
        .call(
            &counter.tanaka,
            "GET",
            "/api/v1/counter/cases?from=2026-06-09T00:00:00Z&to=2026-06-10T00:00:00Z",
            None,
        )
        .json();
    assert_eq!(range["total"], 2, "{range}");
    assert!(range["cases"]
        .as_array()
        .is_some_and(|c| c.iter().any(|c| c["id"] == before)));
    let both = counter.call(
        &counter.tanaka,
        "GET",
        "/api/v1/counter/cases?date=2026-06-10&from=2026-06-09T00:00:00Z",
        None,
    );
    assert_eq!(both.status, 400);
}

#[test]
fn the_kinds_come_with_their_japanese_labels() {
    let counter = Counter::at(WEDNESDAY_10_JST);
    let vocabulary = counter
        .call(&counter.sato, "GET", "/api/v1/counter/kinds", None)
        .json();
    let labels: Vec<&str> = vocabulary["kinds"]
        .as_array()
        .map(|kinds| kinds.iter().filter_map(|k| k["label"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        labels,
        [
            "新規申請",
            "更新",
            "紛失再交付",
            "健康保険証利用登録",
            "公金受取口座登録",
            "その他の紐づけ",
            "電子申請支援"
        ]
    );
    assert_eq!(vocabulary["outcomes"][3]["label"], "対応不可");
}

#[test]
fn the_counter_api_needs_credentials_and_is_in_the_openapi_document() {
    let counter = Counter::at(WEDNESDAY_10_JST);
    for (method, path) in [
        ("GET", "/api/v1/counter/cases"),
        ("POST", "/api/v1/counter/cases"),
        ("GET", "/api/v1/counter/kinds"),
        ("GET", "/api/v1/counter/hours"),
    ] {
        let body = (method == "POST").then(|| renewal().to_string());
        let response = request(counter.engine.http, method, path, &[], body.as_deref());
        assert_eq!(response.status, 401, "{method} {path}");
    }
    let document = request(
        counter.engine.http,
        "GET",
        "/api/v1/openapi.json",
        &[],
        None,
    )
    .json();
    for path in [
        "/api/v1/counter/cases",
        "/api/v1/counter/cases/{id}",
        "/api/v1/counter/kinds",
        "/api/v1/counter/hours",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is documented");
    }
    assert!(document["paths"]["/api/v1/counter/cases/{id}"]["put"].is_object());
}

#[test]
fn the_counter_page_is_served() {
    let counter = Counter::at(WEDNESDAY_10_JST);
    let page = request(counter.engine.http, "GET", "/counter", &[], None);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("窓口支援記録"));
    let module = request(counter.engine.http, "GET", "/counter/entry.mjs", &[], None);
    assert_eq!(module.status, 200);
    assert_eq!(
        module.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
}
