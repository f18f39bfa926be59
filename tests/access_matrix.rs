//! End to end: who may call what. The real engine is started with an operator (op1), a second
//! operator (op2), a manager and the test admin; the OpenAPI document is fetched and every
//! path × method in it is sent with no credentials, an operator's session cookie, a manager's,
//! an admin's, and the admin's bearer token. [`MATRIX`] declares who may: allowed callers must
//! not get 401/403, the others must get 401 (nobody signed in) or 403 (wrong role). A path the
//! document lists without a row in the matrix fails the test by name, so a new endpoint cannot
//! arrive without a decision about its access.
//!
//! Rows that are "own" for operators are also sent by op1 naming op2's call, case or login,
//! which must be refused (this found an operator reading and transferring others' calls).
//!
//! The pages' and the API's security headers are checked here too.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use chrono::{Duration as Span, Utc};
use madoguchi_store::{CallRecord, Disposition, Store};
use serde_json::{json, Value};
use support::{ensure_user, request, EngineProcess, Options};

const AGENT_PASSWORD: &str = "agent-password-1";
const MANAGER_PASSWORD: &str = "manager-password-1";
/// The password `support::EngineProcess` gives [`support::TEST_ADMIN`].
const ADMIN_PASSWORD: &str = "e2e-admin-password";

/// Who may call an endpoint. Admins may do everything a manager may.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    /// Nobody needs to be signed in.
    Public,
    /// Every signed-in person, whatever their role (answers may still be filtered by role).
    SignedIn,
    /// Operators only for their own call, case or login; managers and admins for all.
    OwnForAgents,
    /// Managers and admins.
    ManagerUp,
    /// Admins only (configuration).
    Admin,
    /// A counter device's own token only: no person's session or API token, whatever the
    /// role, so every caller here gets 401.
    DeviceToken,
}

/// One row of the matrix: a method and a path exactly as the OpenAPI document spells them.
struct Row {
    method: &'static str,
    path: &'static str,
    who: Who,
}

const fn row(method: &'static str, path: &'static str, who: Who) -> Row {
    Row { method, path, who }
}

use Who::*;

/// The declared access of every endpoint of `/api/v1/openapi.json`.
const MATRIX: &[Row] = &[
    row("POST", "/api/v1/session", Public),
    row("GET", "/api/v1/session", SignedIn),
    row("DELETE", "/api/v1/session", SignedIn),
    row("GET", "/api/v1/calls", ManagerUp),
    row("GET", "/api/v1/calls/{id}", OwnForAgents),
    row("POST", "/api/v1/calls/{id}/transfer", OwnForAgents),
    row("GET", "/api/v1/calls/{id}/classification", OwnForAgents),
    row("POST", "/api/v1/calls/{id}/classification", OwnForAgents),
    row("GET", "/api/v1/calls/{id}/recording", ManagerUp),
    row("GET", "/api/v1/calls/{id}/recording/meta", ManagerUp),
    row("POST", "/api/v1/calls/{id}/recording/pause", OwnForAgents),
    row("POST", "/api/v1/calls/{id}/recording/resume", OwnForAgents),
    row("POST", "/api/v1/calls/{id}/recording/start", OwnForAgents),
    row("POST", "/api/v1/calls/{id}/monitor", ManagerUp),
    row("PUT", "/api/v1/calls/{id}/monitor", ManagerUp),
    row("DELETE", "/api/v1/calls/{id}/monitor", ManagerUp),
    row("GET", "/api/v1/queues", SignedIn),
    row("GET", "/api/v1/queues/stream", SignedIn),
    row("POST", "/api/v1/agents/{login}/state", OwnForAgents),
    row("GET", "/api/v1/agents/me/calls", SignedIn),
    row("GET", "/api/v1/categories", SignedIn),
    row("GET", "/api/v1/faq", SignedIn),
    row("POST", "/api/v1/faq", ManagerUp),
    row("GET", "/api/v1/faq/{id}", SignedIn),
    row("PUT", "/api/v1/faq/{id}", ManagerUp),
    row("GET", "/api/v1/faq/editions", SignedIn),
    row("POST", "/api/v1/faq/editions", ManagerUp),
    row("GET", "/api/v1/faq/editions/{n}", SignedIn),
    row("GET", "/api/v1/complaints", ManagerUp),
    row("GET", "/api/v1/complaints/stream", ManagerUp),
    row("GET", "/api/v1/reports/monthly", ManagerUp),
    row("GET", "/api/v1/reports/final", ManagerUp),
    row("GET", "/api/v1/staffing", ManagerUp),
    row("GET", "/api/v1/staffing/erlang", ManagerUp),
    row("GET", "/api/v1/counter/cases", SignedIn),
    row("POST", "/api/v1/counter/cases", SignedIn),
    row("GET", "/api/v1/counter/cases/{id}", OwnForAgents),
    row("PUT", "/api/v1/counter/cases/{id}", OwnForAgents),
    row("GET", "/api/v1/counter/kinds", SignedIn),
    row("GET", "/api/v1/counter/hours", SignedIn),
    row("GET", "/api/v1/audit", ManagerUp),
    row("POST", "/api/v1/admin/reload", Admin),
    row("GET", "/api/v1/cluster", SignedIn),
    row("POST", "/api/v1/devices/heartbeat", DeviceToken),
    row("GET", "/api/v1/devices", ManagerUp),
    row("GET", "/api/v1/devices/stream", ManagerUp),
];

/// The ways of calling the API that the matrix is checked with.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Nobody,
    AgentCookie,
    ManagerCookie,
    AdminCookie,
    AdminBearer,
}

const CALLERS: [Caller; 5] = [
    Caller::Nobody,
    Caller::AgentCookie,
    Caller::ManagerCookie,
    Caller::AdminCookie,
    Caller::AdminBearer,
];

impl Who {
    /// Whether `caller` may call the endpoint (with their own records in the path).
    fn allows(self, caller: Caller) -> bool {
        match (self, caller) {
            (Public, _) => true,
            (DeviceToken, _) => false,
            (_, Caller::Nobody) => false,
            (SignedIn | OwnForAgents, _) => true,
            (ManagerUp, Caller::AgentCookie) => false,
            (ManagerUp, _) => true,
            (Admin, Caller::AdminCookie | Caller::AdminBearer) => true,
            (Admin, _) => false,
        }
    }
}

/// An engine with records of two operators, and a signed-in session of each role.
struct Site {
    engine: EngineProcess,
    agent: String,
    manager: String,
    admin: String,
    /// op1's counter case and op2's.
    own_case: String,
    other_case: String,
    _dir: tempfile::TempDir,
}

const OWN_CALL: &str = "call-op1";
const OTHER_CALL: &str = "call-op2";

fn site() -> Site {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("access.db").display());
    ensure_user(&database_url, "op1", "agent", AGENT_PASSWORD);
    ensure_user(&database_url, "op2", "agent", AGENT_PASSWORD);
    ensure_user(&database_url, "mgr", "manager", MANAGER_PASSWORD);
    insert_calls(
        &database_url,
        vec![record(OWN_CALL, "op1"), record(OTHER_CALL, "op2")],
    );
    let engine = EngineProcess::start(Options {
        database_url: Some(database_url),
        ..Options::default()
    });
    let agent = cookie_of(engine.http, "op1", AGENT_PASSWORD);
    let other_agent = cookie_of(engine.http, "op2", AGENT_PASSWORD);
    let manager = cookie_of(engine.http, "mgr", MANAGER_PASSWORD);
    let admin = cookie_of(engine.http, support::TEST_ADMIN, ADMIN_PASSWORD);
    // Both calls classified, so that reading another operator's classification finds one.
    for call in [OWN_CALL, OTHER_CALL] {
        classify(engine.http, &manager, call);
    }
    let own_case = record_case(engine.http, &agent);
    let other_case = record_case(engine.http, &other_agent);
    Site {
        engine,
        agent,
        manager,
        admin,
        own_case,
        other_case,
        _dir: dir,
    }
}

fn record(id: &str, operator: &str) -> CallRecord {
    let arrived_at = Utc::now() - Span::minutes(10);
    CallRecord {
        id: id.into(),
        sip_call_id: format!("{id}@trunk.example"),
        caller: "0462001234".into(),
        called: "hotline".into(),
        arrived_at,
        answered_at: Some(arrived_at),
        ended_at: arrived_at + Span::seconds(90),
        entry: Some("hotline".into()),
        branch: Some("open".into()),
        disposition: Disposition::Answered,
        dtmf: vec![],
        hangup_side: None,
        hangup_cause: None,
        queue: Some("card".into()),
        waited_ms: Some(5_000),
        operator: Some(operator.into()),
        connected_at: Some(arrived_at + Span::seconds(5)),
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

fn insert_calls(database_url: &str, records: Vec<CallRecord>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let store = Store::connect(database_url).await.expect("store");
        store.insert_calls(&records).await.expect("insert");
        store.close().await;
    });
}

/// Signs in and returns the `Cookie` header value the browser would send.
fn cookie_of(http: SocketAddr, login: &str, password: &str) -> String {
    let body = json!({"login": login, "password": password}).to_string();
    let response = request(http, "POST", "/api/v1/session", &[], Some(&body));
    assert_eq!(response.status, 200, "sign in {login}: {}", response.body);
    let set = response.header("set-cookie").expect("a Set-Cookie header");
    set.split(';')
        .next()
        .filter(|pair| pair.starts_with("madoguchi_session="))
        .unwrap_or_else(|| panic!("not the session cookie: {set}"))
        .to_owned()
}

/// Files a classification of `call` as the holder of `cookie`.
fn classify(http: SocketAddr, cookie: &str, call: &str) {
    let response = request(
        http,
        "POST",
        &format!("/api/v1/calls/{call}/classification"),
        &[("Cookie", cookie)],
        Some(&classification_body()),
    );
    assert_eq!(response.status, 200, "{}", response.body);
}

fn classification_body() -> String {
    json!({"category": "イ", "outcome": "resolved_faq", "complaint": false, "escalated": false})
        .to_string()
}

/// Records a counter case as the holder of `cookie`; returns its id.
fn record_case(http: SocketAddr, cookie: &str) -> String {
    let body = case_body();
    let response = request(
        http,
        "POST",
        "/api/v1/counter/cases",
        &[("Cookie", cookie)],
        Some(&body),
    );
    assert_eq!(response.status, 201, "{}", response.body);
    response.json()["id"]
        .as_str()
        .expect("a case id")
        .to_owned()
}

fn case_body() -> String {
    json!({"kind": "loss_reissue", "outcome": "completed", "seat": "窓口1",
        "fee_payment_confirmed": true})
    .to_string()
}

/// The status line and headers of a response, read without waiting for its body: the event
/// streams never end.
struct Head {
    status: u16,
    /// (lower-case name, value).
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn head_of(
    http: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Head {
    let mut stream = TcpStream::connect(http).expect("connect http");
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let body = match body {
        Some(json) => format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
            json.len()
        ),
        None => "\r\n".to_owned(),
    };
    // From the engine's own pages, as a browser says (the CSRF check wants it).
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {http}\r\nOrigin: http://{http}\r\n\
         Connection: close\r\n{extra}{body}"
    )
    .expect("send http");
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while !received.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) => panic!("{method} {path}: no response head ({e})"),
        }
    }
    let text = String::from_utf8_lossy(&received);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Head { status, headers }
}

/// Whose records a path names.
#[derive(Clone, Copy)]
enum Owner {
    Own,
    Other,
}

impl Site {
    /// `path` with its parameters filled: op1's (or op2's) call, case or login, and the first
    /// FAQ entry and edition.
    fn fill(&self, path: &str, owner: Owner) -> String {
        let (call, case, login) = match owner {
            Owner::Own => (OWN_CALL, self.own_case.as_str(), "op1"),
            Owner::Other => (OTHER_CALL, self.other_case.as_str(), "op2"),
        };
        let id = if path.starts_with("/api/v1/counter/cases/") {
            case
        } else if path.starts_with("/api/v1/faq/") {
            "1"
        } else {
            call
        };
        path.replace("{id}", id)
            .replace("{n}", "1")
            .replace("{login}", login)
    }

    fn send(&self, caller: Caller, method: &str, path: &str) -> Head {
        // A minimal body where one may be expected; handlers check access before the body.
        let body = matches!(method, "POST" | "PUT").then_some("{}");
        self.send_with(caller, method, path, body)
    }

    /// Sends a body that passes validation where the handler checks it before whose record
    /// it is, so that a 422 cannot stand in for the refusal.
    fn send_valid(&self, caller: Caller, method: &str, path: &str) -> Head {
        let body = if path.ends_with("/classification") {
            Some(classification_body())
        } else if path.starts_with("/api/v1/counter/cases/") {
            Some(case_body())
        } else if path.ends_with("/state") {
            Some(json!({"state": "available"}).to_string())
        } else if path.ends_with("/transfer") {
            Some(json!({"target": "city_line"}).to_string())
        } else {
            matches!(method, "POST" | "PUT").then(|| "{}".to_owned())
        };
        self.send_with(caller, method, path, body.as_deref())
    }

    fn send_with(&self, caller: Caller, method: &str, path: &str, body: Option<&str>) -> Head {
        let bearer = format!("Bearer {}", self.engine.token);
        let credentials: Vec<(&str, &str)> = match caller {
            Caller::Nobody => vec![],
            Caller::AgentCookie => vec![("Cookie", &self.agent)],
            Caller::ManagerCookie => vec![("Cookie", &self.manager)],
            Caller::AdminCookie => vec![("Cookie", &self.admin)],
            Caller::AdminBearer => vec![("Authorization", &bearer)],
        };
        head_of(self.engine.http, method, path, &credentials, body)
    }
}

/// Every (method, path) of the OpenAPI document.
fn operations(document: &Value) -> Vec<(String, String)> {
    let paths = document["paths"]
        .as_object()
        .expect("paths in the document");
    let mut found = Vec::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item");
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.contains_key(method) {
                found.push((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    found
}

fn row_of(method: &str, path: &str) -> Option<&'static Row> {
    MATRIX
        .iter()
        .find(|row| row.method == method && row.path == path)
}

#[test]
fn every_endpoint_answers_each_role_as_the_matrix_declares() {
    let site = site();
    let document = support::request(site.engine.http, "GET", "/api/v1/openapi.json", &[], None);
    assert_eq!(document.status, 200, "the OpenAPI document is public");
    let mut operations = operations(&document.json());

    let missing: Vec<String> = operations
        .iter()
        .filter(|(method, path)| row_of(method, path).is_none())
        .map(|(method, path)| format!("{method} {path}"))
        .collect();
    assert!(
        missing.is_empty(),
        "endpoints without a row in MATRIX: {missing:?}"
    );
    let stale: Vec<String> = MATRIX
        .iter()
        .filter(|row| {
            !operations
                .iter()
                .any(|(m, p)| m == row.method && p == row.path)
        })
        .map(|row| format!("{} {}", row.method, row.path))
        .collect();
    assert!(
        stale.is_empty(),
        "rows for endpoints the document does not list: {stale:?}"
    );

    // Signing out ends the sessions the other requests need: last.
    operations.sort_by_key(|(method, path)| method == "DELETE" && path == "/api/v1/session");
    let mut wrong = Vec::new();
    for (method, path) in &operations {
        let row = row_of(method, path).expect("checked above");
        let own = site.fill(path, Owner::Own);
        for caller in CALLERS {
            let status = site.send(caller, method, &own).status;
            let allowed = row.who.allows(caller);
            // A person is no device: the heartbeat refuses everyone as unauthenticated.
            let refusal = if caller == Caller::Nobody || row.who == DeviceToken {
                401
            } else {
                403
            };
            let fine = if allowed {
                status != 401 && status != 403
            } else {
                status == refusal
            };
            if !fine {
                wrong.push(format!(
                    "{method} {path} as {caller:?}: {status} (declared {:?})",
                    row.who
                ));
            }
        }
        if row.who == OwnForAgents {
            let other = site.fill(path, Owner::Other);
            let status = site.send_valid(Caller::AgentCookie, method, &other).status;
            // Live-call actions answer 404 for a call that is not the operator's, hiding
            // whether it exists.
            if status != 403 && status != 404 {
                wrong.push(format!(
                    "{method} {other} as op1 (another operator's): {status}"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "answers outside the matrix:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn pages_carry_a_strict_policy_and_the_api_says_nosniff() {
    let site = site();
    for page in [
        "/agent",
        "/counter",
        "/manager",
        "/manager/staffing.html",
        "/manager/faq.html",
        "/manager/call.html",
        "/device",
    ] {
        let head = head_of(site.engine.http, "GET", page, &[], None);
        assert_eq!(head.status, 200, "{page}");
        let policy = head
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("{page} without Content-Security-Policy"));
        assert!(policy.contains("default-src 'self'"), "{page}: {policy}");
        assert!(policy.contains("object-src 'none'"), "{page}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{page}: {policy}"
        );
        assert_eq!(
            head.header("x-content-type-options"),
            Some("nosniff"),
            "{page}"
        );
        assert!(head.header("referrer-policy").is_some(), "{page}");
    }
    for caller in [Caller::Nobody, Caller::AgentCookie, Caller::AdminBearer] {
        for path in ["/api/v1/openapi.json", "/api/v1/queues", "/api/v1/calls"] {
            let head = site.send(caller, "GET", path);
            assert_eq!(
                head.header("x-content-type-options"),
                Some("nosniff"),
                "{path} as {caller:?} ({})",
                head.status
            );
        }
    }
}
