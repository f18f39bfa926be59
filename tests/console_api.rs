//! End to end: the console's HTTP API against the real binary — sign-in with the session
//! cookie, API tokens from the CLI, who may do what (401/403), call classification with
//! its checks (422 naming the field), the FAQ with Japanese search, and an operator's own
//! calls of the day. One test takes a real call through sipp and classifies it.

mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use madoguchi_store::{CallRecord, Disposition, Store};
use std::io::{BufRead, Write};

use serde_json::{json, Value};
use support::center::{register, wait_for_state, Center, SippProcess};
use support::{create_token, ensure_user, madoguchi_cli, request, sipp, EngineProcess};
use support::{HttpResponse, Options};

const AGENT_PASSWORD: &str = "agent-password-1";
const MANAGER_PASSWORD: &str = "manager-password-1";

/// An engine on the reference dialplan with two agents (op1, op2), a manager (mgr) and the
/// FAQ of dialplans/faq.csv.
struct Console {
    engine: EngineProcess,
    database_url: String,
    _dir: tempfile::TempDir,
}

fn console() -> Console {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("console.db").display());
    ensure_user(&database_url, "op1", "agent", AGENT_PASSWORD);
    ensure_user(&database_url, "op2", "agent", AGENT_PASSWORD);
    ensure_user(&database_url, "mgr", "manager", MANAGER_PASSWORD);
    let faq = support::repo_root().join("dialplans/faq.csv");
    let (code, stdout, stderr) = madoguchi_cli(
        &[
            "faq",
            "import",
            faq.to_str().expect("utf-8 path"),
            "--database-url",
            &database_url,
        ],
        "",
    );
    assert_eq!(code, 0, "faq import: {stderr}");
    assert!(stdout.contains("11 added"), "{stdout}");
    let engine = EngineProcess::start(Options {
        database_url: Some(database_url.clone()),
        ..Options::default()
    });
    Console {
        engine,
        database_url,
        _dir: dir,
    }
}

impl Console {
    fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> HttpResponse {
        let body = body.map(Value::to_string);
        request(self.engine.http, method, path, headers, body.as_deref())
    }

    fn sign_in(&self, login: &str, password: &str) -> HttpResponse {
        self.call(
            "POST",
            "/api/v1/session",
            &[],
            Some(&json!({"login": login, "password": password})),
        )
    }

    /// Signs in and returns the `Cookie` header value the browser would send.
    fn cookie_of(&self, login: &str, password: &str) -> String {
        let response = self.sign_in(login, password);
        assert_eq!(response.status, 200, "{}", response.body);
        session_cookie(&response)
    }

    fn with_cookie(
        &self,
        cookie: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> HttpResponse {
        self.call(method, path, &[("Cookie", cookie)], body)
    }

    fn with_token(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> HttpResponse {
        let bearer = format!("Bearer {token}");
        self.call(method, path, &[("Authorization", &bearer)], body)
    }

    fn as_admin(&self, method: &str, path: &str, body: Option<&Value>) -> HttpResponse {
        self.with_token(&self.engine.token, method, path, body)
    }

    /// Stores call records as the engine would (the API reads them from the same file).
    fn insert_calls(&self, records: Vec<CallRecord>) {
        let url = self.database_url.clone();
        runtime().block_on(async move {
            let store = Store::connect(&url).await.expect("store");
            store.insert_calls(&records).await.expect("insert");
            store.close().await;
        });
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// `name=value` of the session cookie a response sets.
fn session_cookie(response: &HttpResponse) -> String {
    let set = response.header("set-cookie").expect("a Set-Cookie header");
    set.split(';')
        .next()
        .filter(|pair| pair.starts_with("madoguchi_session="))
        .unwrap_or_else(|| panic!("not the session cookie: {set}"))
        .to_owned()
}

/// Percent-encodes a query value (the request line must be ASCII).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn record(id: &str, operator: Option<&str>, arrived_at: DateTime<Utc>) -> CallRecord {
    CallRecord {
        id: id.into(),
        sip_call_id: format!("{id}@trunk.example"),
        caller: "0462001234".into(),
        called: "hotline".into(),
        arrived_at,
        answered_at: Some(arrived_at),
        ended_at: arrived_at + Duration::seconds(90),
        entry: Some("hotline".into()),
        branch: Some("open".into()),
        disposition: Disposition::Answered,
        dtmf: vec![],
        hangup_side: None,
        hangup_cause: None,
        queue: Some("card".into()),
        waited_ms: Some(5_000),
        operator: operator.map(str::to_owned),
        connected_at: Some(arrived_at + Duration::seconds(5)),
        talk_ms: Some(85_000),
        transfer_target: None,
        transfer_result: None,
        menu_choice: Some("1".into()),
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

/// The start of today in Asia/Tokyo, as UTC.
fn tokyo_midnight() -> DateTime<Utc> {
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .date_naive();
    chrono_tz::Asia::Tokyo
        .from_local_datetime(&today.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .expect("Tokyo has no DST gap at midnight")
        .with_timezone(&Utc)
}

#[test]
fn sign_in_sets_an_http_only_strict_cookie_that_authenticates_the_browser() {
    let console = console();
    let response = console.sign_in("op1", AGENT_PASSWORD);
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(response.json()["login"], "op1");
    assert_eq!(response.json()["role"], "agent");
    let set = response.header("set-cookie").expect("Set-Cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(attribute), "{set}");
    }
    assert!(!set.contains("Secure"), "plain HTTP: no Secure flag: {set}");
    let value = session_cookie(&response);
    assert_eq!(value.len(), "madoguchi_session=".len() + 64, "{value}");

    let me = console.with_cookie(&value, "GET", "/api/v1/session", None);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        me.json(),
        json!({"login": "op1", "role": "agent", "via": "session"})
    );
    assert_eq!(
        console
            .with_cookie(&value, "GET", "/api/v1/agents/me/calls", None)
            .status,
        200
    );
}

#[test]
fn an_operator_may_not_list_every_call_record() {
    let console = console();
    let response = console.sign_in("op1", AGENT_PASSWORD);
    let cookie = session_cookie(&response);
    let all = console.with_cookie(&cookie, "GET", "/api/v1/calls", None);
    assert_eq!(all.status, 403, "{}", all.body);
    let other = console.with_cookie(&cookie, "GET", "/api/v1/calls/someone-elses", None);
    assert_eq!(other.status, 404, "no record: 404 before the role matters");
}

#[test]
fn a_cookie_is_secure_when_a_tls_proxy_forwarded_the_sign_in() {
    let console = console();
    let body = json!({"login": "op1", "password": AGENT_PASSWORD});
    let response = console.call(
        "POST",
        "/api/v1/session",
        &[("X-Forwarded-Proto", "https")],
        Some(&body),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    let set = response.header("set-cookie").expect("Set-Cookie");
    assert!(set.contains("; Secure"), "{set}");
}

#[test]
fn a_wrong_password_and_an_unknown_login_get_the_same_401() {
    let console = console();
    let wrong = console.sign_in("op1", "not-the-password");
    let unknown = console.sign_in("nobody", "not-the-password");
    assert_eq!((wrong.status, unknown.status), (401, 401));
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.header("set-cookie").is_none());
}

#[test]
fn signing_out_ends_the_session_and_clears_the_cookie() {
    let console = console();
    let cookie = console.cookie_of("op1", AGENT_PASSWORD);
    let out = console.with_cookie(&cookie, "DELETE", "/api/v1/session", None);
    assert_eq!(out.status, 204, "{}", out.body);
    let cleared = out.header("set-cookie").expect("Set-Cookie");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let after = console.with_cookie(&cookie, "GET", "/api/v1/session", None);
    assert_eq!(after.status, 401, "{}", after.body);
}

#[test]
fn the_api_needs_credentials_except_for_its_document_and_sign_in() {
    let console = console();
    for path in [
        "/api/v1/calls",
        "/api/v1/queues",
        "/api/v1/queues/stream",
        "/api/v1/session",
        "/api/v1/categories",
        "/api/v1/faq",
        "/api/v1/agents/me/calls",
    ] {
        let response = console.call("GET", path, &[], None);
        assert_eq!(response.status, 401, "{path}: {}", response.body);
        assert_eq!(response.json()["error"], "authentication required");
    }
    let post = console.call(
        "POST",
        "/api/v1/agents/op1/state",
        &[],
        Some(&json!({"state": "available"})),
    );
    assert_eq!(post.status, 401);
    let forged = console.call(
        "GET",
        "/api/v1/calls",
        &[("Cookie", &format!("madoguchi_session={}", "0".repeat(64)))],
        None,
    );
    assert_eq!(forged.status, 401);
    let bad_token = console.with_token("mdg_not-a-token", "GET", "/api/v1/calls", None);
    assert_eq!(bad_token.status, 401);
    assert_eq!(
        console
            .call("GET", "/api/v1/openapi.json", &[], None)
            .status,
        200
    );
    assert_eq!(console.call("GET", "/healthz", &[], None).status, 200);
}

#[test]
fn a_token_from_the_cli_authenticates_scripts_until_revoked() {
    let console = console();
    let token = create_token(&console.database_url, "mgr");
    assert!(token.starts_with("mdg_"), "{token}");
    let me = console.with_token(&token, "GET", "/api/v1/session", None);
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(
        me.json(),
        json!({"login": "mgr", "role": "manager", "via": "api_token"})
    );

    let (code, _, stderr) = madoguchi_cli(
        &[
            "token",
            "revoke",
            "--login",
            "mgr",
            "--database-url",
            &console.database_url,
        ],
        "",
    );
    assert_eq!(code, 0, "{stderr}");
    let after = console.with_token(&token, "GET", "/api/v1/session", None);
    assert_eq!(after.status, 401);
}

#[test]
fn the_sixth_failed_sign_in_within_a_minute_is_refused_with_429() {
    let console = console();
    for attempt in 1..=5 {
        let response = console.sign_in("op1", "guess");
        assert_eq!(response.status, 401, "attempt {attempt}");
    }
    let throttled = console.sign_in("op1", AGENT_PASSWORD);
    assert_eq!(throttled.status, 429, "{}", throttled.body);
    let retry: u64 = throttled
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        console.sign_in("op2", AGENT_PASSWORD).status,
        200,
        "another login"
    );
}

#[test]
fn agents_change_only_their_own_state_and_managers_anyones() {
    let console = console();
    let agent = console.cookie_of("op1", AGENT_PASSWORD);
    // Logged-out operators may log in by going available: the change itself is allowed.
    let available = json!({"state": "available"});
    let other = console.with_cookie(&agent, "POST", "/api/v1/agents/op2/state", Some(&available));
    assert_eq!(other.status, 403, "{}", other.body);
    let own = console.with_cookie(&agent, "POST", "/api/v1/agents/op1/state", Some(&available));
    assert_eq!(own.status, 200, "{}", own.body);
    let manager = console.cookie_of("mgr", MANAGER_PASSWORD);
    let by_manager = console.with_cookie(
        &manager,
        "POST",
        "/api/v1/agents/op2/state",
        Some(&available),
    );
    assert_eq!(by_manager.status, 200, "{}", by_manager.body);
}

#[test]
fn the_configured_categories_are_listed_in_report_order() {
    let console = console();
    let response = console.as_admin("GET", "/api/v1/categories", None);
    assert_eq!(response.status, 200, "{}", response.body);
    let codes: Vec<String> = response
        .json()
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|c| c["code"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        codes,
        ["ア", "イ", "ウ", "エ", "オ", "カ", "キ", "ク", "ケ"]
    );
    assert_eq!(response.json()[1]["label"], "カードの申請");
}

#[test]
fn a_classification_is_checked_field_by_field() {
    let console = console();
    console.insert_calls(vec![record("c-1", Some("op1"), Utc::now())]);
    let path = "/api/v1/calls/c-1/classification";
    let valid = json!({"category": "イ", "outcome": "resolved_faq", "complaint": false, "faq_id": null, "note": "案内済み"});
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    let cases = [
        ("category", with("category", json!("サ"))),
        ("category", with("category", json!(3))),
        ("outcome", with("outcome", json!("solved"))),
        ("complaint", with("complaint", json!("no"))),
        ("faq_id", with("faq_id", json!(9999))),
        ("note", with("note", json!("あ".repeat(2001)))),
    ];
    for (field, body) in cases {
        let response = console.as_admin("POST", path, Some(&body));
        assert_eq!(response.status, 422, "{field}: {}", response.body);
        assert_eq!(response.json()["field"], field, "{}", response.body);
        assert!(
            response.json()["error"]
                .as_str()
                .is_some_and(|e| e.starts_with(field)),
            "{}",
            response.body
        );
    }
    let mut missing = valid.clone();
    missing.as_object_mut().expect("object").remove("outcome");
    let response = console.as_admin("POST", path, Some(&missing));
    assert_eq!(response.json()["field"], "outcome", "{}", response.body);

    let unknown = console.as_admin(
        "POST",
        "/api/v1/calls/no-such-call/classification",
        Some(&valid),
    );
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    let note_at_limit = with("note", json!("あ".repeat(2000)));
    assert_eq!(
        console.as_admin("POST", path, Some(&note_at_limit)).status,
        200
    );
}

#[test]
fn an_agent_classifies_only_calls_they_took() {
    let console = console();
    console.insert_calls(vec![record("theirs", Some("op2"), Utc::now())]);
    let agent = console.cookie_of("op1", AGENT_PASSWORD);
    let body = json!({"category": "ア", "outcome": "other"});
    let response = console.with_cookie(
        &agent,
        "POST",
        "/api/v1/calls/theirs/classification",
        Some(&body),
    );
    assert_eq!(response.status, 403, "{}", response.body);
}

#[test]
fn the_faq_is_searched_in_japanese_with_three_and_two_character_queries() {
    let console = console();
    let agent = console.cookie_of("op1", AGENT_PASSWORD);
    let search = |q: &str| -> Vec<String> {
        let path = format!("/api/v1/faq?q={}&limit=20", encode(q));
        let response = console.with_cookie(&agent, "GET", &path, None);
        assert_eq!(response.status, 200, "{q}: {}", response.body);
        response.json()["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| e["question"].as_str().map(str::to_owned))
            .collect()
    };
    // 3+ characters (trigram index), inside a longer phrase of an answer.
    let found = search("一時停止");
    assert_eq!(
        found,
        ["マイナンバーカードを紛失しました。どうすればよいですか。"]
    );
    // 2 characters: no trigram, found by substring all the same.
    let found = search("紛失");
    assert_eq!(
        found,
        ["マイナンバーカードを紛失しました。どうすればよいですか。"]
    );
    let found = search("暗証番号");
    assert!(found.len() >= 3, "{found:?}");
    assert!(
        found.contains(&"暗証番号を忘れてしまいました。".to_owned()),
        "{found:?}"
    );
    assert!(search("登山").is_empty());
    let all = console.with_cookie(&agent, "GET", "/api/v1/faq", None);
    assert_eq!(all.json()["entries"].as_array().map(Vec::len), Some(11));
    let too_many = console.with_cookie(&agent, "GET", "/api/v1/faq?limit=1000", None);
    assert_eq!(too_many.status, 400);
}

#[test]
fn only_managers_add_and_edit_faq_entries() {
    let console = console();
    let agent = console.cookie_of("op1", AGENT_PASSWORD);
    let manager = console.cookie_of("mgr", MANAGER_PASSWORD);
    let entry = json!({"question": "署名用電子証明書の暗証番号の桁数は", "answer": "英数字6〜16文字です。", "category": "エ"});
    let refused = console.with_cookie(&agent, "POST", "/api/v1/faq", Some(&entry));
    assert_eq!(refused.status, 403, "{}", refused.body);

    let created = console.with_cookie(&manager, "POST", "/api/v1/faq", Some(&entry));
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_i64().expect("id");
    let edited = json!({"question": "署名用電子証明書の暗証番号の桁数を教えてください", "answer": "英数字6文字以上16文字以下です。", "category": "エ"});
    let put = console.with_cookie(&manager, "PUT", &format!("/api/v1/faq/{id}"), Some(&edited));
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.json()["answer"], "英数字6文字以上16文字以下です。");
    let agent_put = console.with_cookie(&agent, "PUT", &format!("/api/v1/faq/{id}"), Some(&edited));
    assert_eq!(agent_put.status, 403);

    let bad_category = json!({"question": "q", "answer": "a", "category": "サ"});
    let response = console.with_cookie(&manager, "POST", "/api/v1/faq", Some(&bad_category));
    assert_eq!(response.status, 422, "{}", response.body);
    assert_eq!(response.json()["field"], "category");
    let empty = json!({"question": " ", "answer": "a"});
    let response = console.with_cookie(&manager, "POST", "/api/v1/faq", Some(&empty));
    assert_eq!(response.json()["field"], "question", "{}", response.body);
    let missing = console.with_cookie(&manager, "PUT", "/api/v1/faq/99999", Some(&edited));
    assert_eq!(missing.status, 404);

    let path = format!("/api/v1/faq?q={}", encode("桁数"));
    let found = console.with_cookie(&agent, "GET", &path, None);
    assert_eq!(found.json()["entries"][0]["id"], id, "{}", found.body);
}

#[test]
fn an_faq_linked_by_a_classification_counts_a_use_and_comes_first() {
    let console = console();
    console.insert_calls(vec![record("c-1", Some("op1"), Utc::now())]);
    let path = format!("/api/v1/faq?q={}", encode("暗証番号"));
    let before = console.as_admin("GET", &path, None).json();
    let last = before["entries"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .expect("several entries");
    let id = last["id"].as_i64().expect("id");
    let body = json!({"category": "オ", "outcome": "resolved_faq", "faq_id": id});
    let filed = console.as_admin("POST", "/api/v1/calls/c-1/classification", Some(&body));
    assert_eq!(filed.status, 200, "{}", filed.body);
    let entry = console
        .as_admin("GET", &format!("/api/v1/faq/{id}"), None)
        .json();
    assert_eq!(entry["uses"], 1);
    let after = console.as_admin("GET", &path, None).json();
    assert_eq!(after["entries"][0]["id"], id, "most used first: {after}");
}

#[test]
fn my_calls_are_todays_own_calls_newest_first_with_their_classification_status() {
    let console = console();
    let midnight = tokyo_midnight();
    let since = Utc::now() - midnight;
    let earlier = midnight + since / 3;
    let later = midnight + since * 2 / 3;
    console.insert_calls(vec![
        record("mine-earlier", Some("op1"), earlier),
        record("mine-later", Some("op1"), later),
        record("theirs", Some("op2"), later),
        record("mine-yesterday", Some("op1"), midnight - Duration::hours(2)),
    ]);
    let agent = console.cookie_of("op1", AGENT_PASSWORD);
    let body = json!({"category": "ウ", "outcome": "resolved_faq"});
    let filed = console.with_cookie(
        &agent,
        "POST",
        "/api/v1/calls/mine-earlier/classification",
        Some(&body),
    );
    assert_eq!(filed.status, 200, "{}", filed.body);

    let response = console.with_cookie(&agent, "GET", "/api/v1/agents/me/calls", None);
    assert_eq!(response.status, 200, "{}", response.body);
    let calls = response.json()["calls"].as_array().cloned().expect("calls");
    let ids: Vec<&str> = calls.iter().filter_map(|c| c["id"].as_str()).collect();
    assert_eq!(ids, ["mine-later", "mine-earlier"]);
    assert_eq!(calls[0]["classified"], false);
    assert_eq!(calls[1]["classified"], true);
    assert_eq!(calls[1]["classification"]["category"], "ウ");
}

#[test]
fn the_openapi_document_lists_the_console_endpoints() {
    let console = console();
    let document = console
        .call("GET", "/api/v1/openapi.json", &[], None)
        .json();
    for path in [
        "/api/v1/session",
        "/api/v1/calls/{id}/classification",
        "/api/v1/categories",
        "/api/v1/faq",
        "/api/v1/faq/{id}",
        "/api/v1/agents/me/calls",
        "/api/v1/complaints",
    ] {
        assert!(document["paths"][path].is_object(), "{path} missing");
    }
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
}

/// Today's complaints are listed for managers only; a bad `since` or `limit` is a 400
/// saying which; yesterday's complaint and a classification without the flag are not listed.
#[test]
fn todays_complaints_are_listed_for_managers_only() {
    let console = console();
    let midnight = tokyo_midnight();
    let url = console.database_url.clone();
    runtime().block_on(async move {
        let store = Store::connect(&url).await.expect("store");
        for (call_id, complaint, at) in [
            ("yesterday", true, midnight - Duration::minutes(1)),
            ("today-fine", false, midnight + Duration::seconds(1)),
            ("today-complaint", true, midnight + Duration::seconds(2)),
        ] {
            let filing = madoguchi_store::NewClassification {
                call_id: call_id.into(),
                category: "イ".into(),
                outcome: madoguchi_store::Outcome::Other,
                complaint,
                escalated: false,
                faq_id: None,
                note: Some("メモ".into()),
                operator: "op1".into(),
            };
            store.classify(&filing, at).await.expect("classify");
        }
        store.close().await;
    });

    let manager = console.cookie_of("mgr", MANAGER_PASSWORD);
    let today = console.with_cookie(&manager, "GET", "/api/v1/complaints", None);
    assert_eq!(today.status, 200, "{}", today.body);
    let listed = today.json();
    let ids: Vec<&str> = listed["complaints"]
        .as_array()
        .expect("complaints")
        .iter()
        .filter_map(|c| c["call_id"].as_str())
        .collect();
    assert_eq!(ids, ["today-complaint"], "{}", today.body);
    let since = encode(&(midnight - Duration::hours(1)).to_rfc3339());
    let wider = console.as_admin(
        "GET",
        &format!("/api/v1/complaints?since={since}&limit=1"),
        None,
    );
    assert_eq!(wider.status, 200, "{}", wider.body);
    assert_eq!(wider.json()["complaints"][0]["call_id"], "today-complaint");
    assert_eq!(wider.json()["complaints"].as_array().map(Vec::len), Some(1));
    let all = console.as_admin("GET", &format!("/api/v1/complaints?since={since}"), None);
    assert_eq!(
        all.json()["complaints"][1]["call_id"],
        "yesterday",
        "{}",
        all.body
    );

    for (query, field) in [
        ("since=yesterday", "since"),
        ("since=2026-01-05T09:00:00+09:00", "since"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=ten", "limit"),
    ] {
        let bad = console.with_cookie(
            &manager,
            "GET",
            &format!("/api/v1/complaints?{query}"),
            None,
        );
        assert_eq!(bad.status, 400, "{query}: {}", bad.body);
        let reason = bad.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(reason.starts_with(field), "{query}: {reason}");
    }

    let agent = console.cookie_of("op1", AGENT_PASSWORD);
    let refused = console.with_cookie(&agent, "GET", "/api/v1/complaints", None);
    assert_eq!(refused.status, 403, "{}", refused.body);
    let anonymous = console.call("GET", "/api/v1/complaints", &[], None);
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
}

/// A real call: the operator's sipp phone answers a sipp caller; the operator then signs
/// in, sees the call unclassified among today's calls, files the wrap-up with a complaint,
/// and the call record shows it.
#[test]
fn a_real_call_is_classified_by_its_operator_and_the_record_shows_it() {
    let center = Center::with_operators(&["op1"]);
    let engine = center.start(&[]);
    let port = register(&engine, "op1");
    let _desk_phone = SippProcess::phone("operator_hangs_up.xml", port, &["-d", "1000"]);
    wait_for_state(&engine, "op1", "available");
    let (code, output) = sipp("caller_waits.xml", engine.sip, &["-m", "1"]);
    assert_eq!(code, 0, "{output}\n{}", engine.log());
    let calls = engine.wait_for_calls(1);
    let call_id = calls["calls"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(calls["calls"][0]["operator"], "op1");

    let sign_in = request(
        engine.http,
        "POST",
        "/api/v1/session",
        &[],
        Some(&json!({"login": "op1", "password": support::center::password("op1")}).to_string()),
    );
    assert_eq!(sign_in.status, 200, "{}", sign_in.body);
    let cookie = session_cookie(&sign_in);
    let mine = request(
        engine.http,
        "GET",
        "/api/v1/agents/me/calls",
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(
        mine.json()["calls"][0]["id"],
        call_id.as_str(),
        "{}",
        mine.body
    );
    assert_eq!(mine.json()["calls"][0]["classified"], false);

    // A manager watching complaints (the admin's token of the test engine).
    let mut alerts = std::net::TcpStream::connect(engine.http).expect("connect");
    alerts
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    write!(
        alerts,
        "GET /api/v1/complaints/stream HTTP/1.0\r\nAccept: text/event-stream\r\n\
         Authorization: Bearer {}\r\n\r\n",
        engine.token
    )
    .expect("request");
    let mut alerts = std::io::BufReader::new(alerts);
    let mut status_line = String::new();
    alerts.read_line(&mut status_line).expect("status");
    assert!(status_line.contains(" 200 "), "{status_line}");

    let form = json!({"category": "オ", "outcome": "callback_needed", "complaint": true,
                      "faq_id": null, "note": "折り返し希望。対応に不満あり。"});
    let path = format!("/api/v1/calls/{call_id}/classification");
    let filed = request(
        engine.http,
        "POST",
        &path,
        &[("Cookie", &cookie)],
        Some(&form.to_string()),
    );
    assert_eq!(filed.status, 200, "{}", filed.body);
    assert_eq!(filed.json()["operator"], "op1");

    let (status, body) = engine.get(&format!("/api/v1/calls/{call_id}"));
    assert_eq!(status, 200, "{body}");
    let record: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(record["classification"]["category"], "オ");
    assert_eq!(record["classification"]["outcome"], "callback_needed");
    assert_eq!(record["classification"]["complaint"], true);
    assert_eq!(record["classification"]["revision"], 1);
    // The manager hears of it at once, without the note.
    let alert = loop {
        let mut line = String::new();
        alerts.read_line(&mut line).expect("an alert within 10 s");
        if let Some(data) = line.strip_prefix("data:") {
            break data.trim().to_owned();
        }
    };
    let alert: Value = serde_json::from_str(&alert).expect("json");
    assert_eq!(alert["call_id"], call_id.as_str());
    assert_eq!(alert["operator"], "op1");
    assert!(!alert.to_string().contains("折り返し希望"), "{alert}");
    // A manager who opens the board later finds it among today's complaints, as the
    // stream told it, still without the note.
    let (status, body) = engine.get("/api/v1/complaints");
    assert_eq!(status, 200, "{body}");
    let listed: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(listed["complaints"], json!([alert]), "{body}");
    assert!(!body.contains("折り返し希望"), "{body}");
    let log = engine.log();
    assert!(
        !log.contains("折り返し希望"),
        "the note never reaches the log"
    );
}

/// An operator may transfer the call they are on, not another operator's: op2 asking to
/// transfer op1's live call is refused, and op1's call goes on.
#[test]
fn an_operator_cannot_transfer_another_operators_live_call() {
    let center = Center::with_operators(&["op1", "op2"]);
    let engine = center.start(&[]);
    let port = register(&engine, "op1");
    // op1 talks for ten seconds, then hangs up.
    let _desk_phone = SippProcess::phone("operator_hangs_up.xml", port, &["-d", "10000"]);
    wait_for_state(&engine, "op1", "available");
    let caller = std::thread::spawn({
        let sip = engine.sip;
        move || sipp("caller_waits.xml", sip, &["-m", "1"])
    });
    let on_call = wait_for_state(&engine, "op1", "on_call");
    let call_id = on_call["call_id"].as_str().expect("op1's call").to_owned();

    let sign_in = request(
        engine.http,
        "POST",
        "/api/v1/session",
        &[],
        Some(&json!({"login": "op2", "password": support::center::password("op2")}).to_string()),
    );
    assert_eq!(sign_in.status, 200, "{}", sign_in.body);
    let cookie = session_cookie(&sign_in);
    let transfer = request(
        engine.http,
        "POST",
        &format!("/api/v1/calls/{call_id}/transfer"),
        &[("Cookie", &cookie)],
        Some(&json!({"target": "city_line"}).to_string()),
    );
    assert_eq!(transfer.status, 403, "{}", transfer.body);
    assert_eq!(
        support::center::operator(&engine, "op1")["state"],
        "on_call",
        "op1's call goes on"
    );
    let (code, output) = caller.join().expect("the caller's sipp");
    assert_eq!(code, 0, "{output}");
}
