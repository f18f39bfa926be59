//! The headers every answer carries, pages, JSON and errors alike (a layer over the router):
//!
//! - `X-Content-Type-Options: nosniff`: no MIME sniffing of JSON or uploads into HTML.
//! - `X-Frame-Options: DENY`, and `frame-ancestors 'none'` in the CSP: no other site can frame
//!   a console to trick an operator into clicking (the pages' own CSP says so too).
//! - `Referrer-Policy: same-origin`: URLs (which may hold a call id or a search for a name)
//!   never leave for other sites, while same-origin requests keep the `Referer` the CSRF
//!   check can fall back on ([`super::csrf`]).
//! - `Cache-Control: no-store` on `/api/` answers: they carry callers' numbers, names and
//!   notes, which must not stay in a shared or browser cache.
//! - `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'` on API answers
//!   and errors, which are never documents to render.
//!
//! Over HTTPS, [`served_over_https`] adds `Strict-Transport-Security` (the plain-HTTP listener must not:
//! it may be the loopback one for local scripts).

use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// For answers that are data, never a document.
const DATA_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";
/// One year, the usual preload minimum; browsers then refuse plain HTTP to this host.
const HSTS: &str = "max-age=31536000";

/// The layer: sets what the handler did not set itself.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let error = response.status().is_client_error() || response.status().is_server_error();
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    set_if_absent(headers, REFERRER_POLICY, "same-origin");
    if api {
        set_if_absent(headers, CACHE_CONTROL, "no-store");
    }
    if api || error {
        set_if_absent(headers, CONTENT_SECURITY_POLICY, DATA_POLICY);
    }
    response
}

/// The layer of the HTTPS listener: marks the request as come over TLS the way a TLS proxy
/// would (`X-Forwarded-Proto: https`, replacing whatever the client sent), so the session
/// cookie gets `Secure`; tells browsers to come back over HTTPS only (HSTS).
pub async fn served_over_https(mut request: Request, next: Next) -> Response {
    request
        .headers_mut()
        .insert("x-forwarded-proto", HeaderValue::from_static("https"));
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    response
}

fn set_if_absent(headers: &mut HeaderMap, name: HeaderName, value: &'static str) {
    if !headers.contains_key(&name) {
        headers.insert(name, HeaderValue::from_static(value));
    }
}
