//! Web security against the real binary: what another site's page can make a signed-in
//! browser do (nothing: CSRF check, WebSocket origins), and the headers every answer
//! carries (no framing, no caching of API data, no sniffing).

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::json;
use support::{ensure_user, request, EngineProcess, HttpResponse, Options};

const MANAGER: &str = "csrf-mgr";
const PASSWORD: &str = "csrf-manager-password";
const EVIL: &str = "https://evil.example";

fn engine() -> EngineProcess {
    let engine = EngineProcess::start(Options::default());
    let database = format!("sqlite://{}", engine.dir.path().join("calls.db").display());
    ensure_user(&database, MANAGER, "manager", PASSWORD);
    engine
}

fn sign_in_body() -> String {
    json!({"login": MANAGER, "password": PASSWORD}).to_string()
}

/// Signs in from the engine's own page; returns the `Cookie` header value.
fn cookie_of(engine: &EngineProcess) -> String {
    let response = request(
        engine.http,
        "POST",
        "/api/v1/session",
        &[],
        Some(&sign_in_body()),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    response
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// A new FAQ entry: a state-changing request a manager's cookie allows.
fn faq_entry() -> String {
    json!({"question": "CSRF?", "answer": "No."}).to_string()
}

/// An HTTP/1.1 request with exactly these headers (no Origin added), as a script or an
/// old browser would send it.
fn without_origin(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: &str,
) -> u16 {
    let mut stream = TcpStream::connect(addr).expect("connect http");
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{extra}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
        json.len()
    )
    .expect("send http");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read http");
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

fn refused_as_cross_site(response: &HttpResponse) {
    assert_eq!(response.status, 403, "{}", response.body);
    let reason = response.json()["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(reason.contains("cross-site"), "{reason}");
}

#[test]
fn a_cross_site_post_with_a_valid_session_cookie_is_refused() {
    let engine = engine();
    let cookie = cookie_of(&engine);
    let response = request(
        engine.http,
        "POST",
        "/api/v1/faq",
        &[("Cookie", &cookie), ("Origin", EVIL)],
        Some(&faq_entry()),
    );
    refused_as_cross_site(&response);
    assert_eq!(response.header("content-type"), Some("application/json"));
}

#[test]
fn a_cross_site_referer_without_origin_is_refused_too() {
    let engine = engine();
    let cookie = cookie_of(&engine);
    let response = request(
        engine.http,
        "POST",
        "/api/v1/faq",
        &[
            ("Cookie", &cookie),
            ("Referer", "https://evil.example/form"),
        ],
        Some(&faq_entry()),
    );
    refused_as_cross_site(&response);
}

#[test]
fn a_same_origin_post_with_the_session_cookie_goes_through() {
    let engine = engine();
    let cookie = cookie_of(&engine);
    let origin = format!("http://{}", engine.http);
    let response = request(
        engine.http,
        "POST",
        "/api/v1/faq",
        &[("Cookie", &cookie), ("Origin", &origin)],
        Some(&faq_entry()),
    );
    assert!(
        (200..300).contains(&response.status),
        "{} {}",
        response.status,
        response.body
    );
}

#[test]
fn a_cookie_post_naming_no_origin_at_all_is_refused() {
    let engine = engine();
    let cookie = cookie_of(&engine);
    let status = without_origin(
        engine.http,
        "POST",
        "/api/v1/faq",
        &[("Cookie", &cookie)],
        &faq_entry(),
    );
    assert_eq!(status, 403);
}

#[test]
fn a_script_with_an_api_token_needs_no_origin() {
    let engine = engine();
    let bearer = format!("Bearer {}", engine.token);
    let status = without_origin(
        engine.http,
        "POST",
        "/api/v1/faq",
        &[("Authorization", &bearer)],
        &faq_entry(),
    );
    assert!((200..300).contains(&status), "{status}");
}

#[test]
fn signing_in_from_another_site_is_refused_against_login_csrf() {
    let engine = engine();
    let response = request(
        engine.http,
        "POST",
        "/api/v1/session",
        &[("Origin", EVIL)],
        Some(&sign_in_body()),
    );
    refused_as_cross_site(&response);
    assert_eq!(response.header("set-cookie"), None);
    let bare = without_origin(engine.http, "POST", "/api/v1/session", &[], &sign_in_body());
    assert_eq!(bare, 403);
}

#[test]
fn a_configured_web_origin_may_post_with_the_cookie() {
    let engine = EngineProcess::start(Options {
        extra_args: vec!["--web-origin".into(), "https://hotline.city.example".into()],
        ..Options::default()
    });
    let database = format!("sqlite://{}", engine.dir.path().join("calls.db").display());
    ensure_user(&database, MANAGER, "manager", PASSWORD);
    let signed_in = request(
        engine.http,
        "POST",
        "/api/v1/session",
        &[("Origin", "https://hotline.city.example")],
        Some(&sign_in_body()),
    );
    assert_eq!(signed_in.status, 200, "{}", signed_in.body);
}

fn assert_not_framed(response: &HttpResponse, what: &str) {
    assert_eq!(response.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(
        response.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        response.header("referrer-policy"),
        Some("same-origin"),
        "{what}"
    );
    let csp = response
        .header("content-security-policy")
        .unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
}

#[test]
fn a_page_an_api_answer_and_an_error_all_carry_the_security_headers() {
    let engine = engine();
    let bearer = format!("Bearer {}", engine.token);

    let page = request(engine.http, "GET", "/agent/", &[], None);
    assert_eq!(page.status, 200);
    assert_not_framed(&page, "page");

    let api = request(
        engine.http,
        "GET",
        "/api/v1/calls",
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(api.status, 200, "{}", api.body);
    assert_not_framed(&api, "api");
    assert_eq!(api.header("cache-control"), Some("no-store"));

    let unauthorized = request(engine.http, "GET", "/api/v1/calls", &[], None);
    assert_eq!(unauthorized.status, 401);
    assert_not_framed(&unauthorized, "401");
    assert_eq!(unauthorized.header("cache-control"), Some("no-store"));

    let missing = request(engine.http, "GET", "/nowhere", &[], None);
    assert_eq!(missing.status, 404);
    assert_not_framed(&missing, "404");
    // Plain HTTP: no HSTS (that is for the HTTPS listener, tests/tls.rs).
    assert_eq!(missing.header("strict-transport-security"), None);
}

/// The status of a WebSocket handshake to `path` with these extra headers.
fn handshake(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> u16 {
    let mut stream = TcpStream::connect(addr).expect("connect http");
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{extra}\r\n"
    )
    .expect("send handshake");
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).expect("a status line");
    String::from_utf8_lossy(&head[9..12]).parse().unwrap_or(0)
}

#[test]
fn the_console_socket_refuses_a_page_of_another_site_even_with_the_cookie() {
    let engine = engine();
    let cookie = cookie_of(&engine);
    let ours = format!("http://{}", engine.http);
    assert_eq!(
        handshake(
            engine.http,
            "/ws/agent",
            &[("Cookie", &cookie), ("Origin", EVIL)]
        ),
        403
    );
    assert_eq!(
        handshake(
            engine.http,
            "/ws/agent",
            &[("Cookie", &cookie), ("Origin", &ours)]
        ),
        101
    );
}

#[test]
fn sip_over_websocket_refuses_a_page_of_another_site() {
    let engine = engine();
    let ours = format!("http://{}", engine.http);
    let sip = ("Sec-WebSocket-Protocol", "sip");
    assert_eq!(
        handshake(engine.http, "/ws/sip", &[sip, ("Origin", EVIL)]),
        403
    );
    assert_eq!(
        handshake(engine.http, "/ws/sip", &[sip, ("Origin", &ours)]),
        101
    );
    // A phone or script sends no Origin.
    assert_eq!(handshake(engine.http, "/ws/sip", &[sip]), 101);
}
