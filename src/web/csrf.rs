//! Cross-site request forgery: a page of another site must not make a signed-in browser
//! change anything here.
//!
//! The rule (a layer over the whole router, [`same_origin_only`]):
//! - GET, HEAD and OPTIONS change nothing and pass.
//! - A request with an `Authorization` header (a script's bearer token) passes: browsers
//!   never add one on their own, and another site's page cannot set it without a CORS
//!   preflight this server never grants.
//! - Every other POST, PUT, PATCH and DELETE — anything a session cookie could carry, and
//!   signing in itself (`POST /api/v1/session`, so another site cannot sign the browser in
//!   as the attacker: login CSRF) — must name where it comes from: its `Origin`, or when a
//!   browser sent none, the origin of its `Referer`. It passes when that is this server as
//!   the browser reached it (the `Host` header) or one of the configured trusted origins
//!   (`--web-origin`, e.g. the public name behind a proxy that rewrites Host). Neither
//!   header, `Origin: null`, or another origin: 403 with a JSON reason.
//!
//! Why the Origin check and not a double-submit token: every browser the hotline supports
//! sends `Origin` on every non-GET `fetch`, same-origin included, so the pages need no
//! change and there is no token to store, rotate or leak; the `SameSite=Strict` cookie is a
//! second, independent guard. Scripts using the cookie (curl with a cookie jar) must send
//! `Origin` too — or better, use an API token.
//!
//! The same origin test guards the WebSocket handshakes (`/ws/agent`, `/ws/sip`), which
//! browsers send cross-site with cookies and without CORS ([`origin_allowed`]).

use std::sync::Arc;

use axum::extract::Request;
use axum::http::header::{AUTHORIZATION, HOST, ORIGIN, REFERER};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;

use super::api::error;

/// Origins besides the request's own Host whose pages may change things here and open the
/// WebSockets: `scheme://host[:port]`, lower case, default ports left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedOrigins(Arc<[String]>);

impl TrustedOrigins {
    /// Parses `https://name[:port]` / `http://…` entries; an entry with a path, no scheme
    /// or another scheme is refused with the reason.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedOrigins, String> {
        let mut origins = Vec::with_capacity(entries.len());
        for entry in entries {
            let entry = entry.as_ref().trim().trim_end_matches('/');
            let origin = Origin::parse(entry).ok_or_else(|| {
                format!("web origin {entry:?}: expected http(s)://host[:port] without a path")
            })?;
            origins.push(origin.to_string());
        }
        Ok(TrustedOrigins(origins.into()))
    }

    /// The origins with their WebSocket forms (`ws://`, `wss://`), for a console page's
    /// `connect-src`: its socket may fail over to these nodes.
    pub fn connect_sources(&self) -> Vec<String> {
        self.0
            .iter()
            .flat_map(|origin| [origin.clone(), origin.replacen("http", "ws", 1)])
            .collect()
    }

    fn contains(&self, origin: &Origin) -> bool {
        self.0.contains(&origin.to_string())
    }
}

/// `scheme://authority` of an `Origin` or a `Referer`, normalised for comparison.
#[derive(Debug, PartialEq, Eq)]
struct Origin {
    scheme: String,
    /// Host and port, lower case, the scheme's default port left out.
    authority: String,
}

impl Origin {
    /// An origin (`https://a.example:8443`); `None` for `null` or anything else.
    fn parse(text: &str) -> Option<Origin> {
        let (scheme, authority) = text.split_once("://")?;
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https")
            || authority.is_empty()
            || authority.contains(['/', '?', '#', '@', ' '])
        {
            return None;
        }
        let authority = without_default_port(&scheme, &authority.to_ascii_lowercase());
        Some(Origin { scheme, authority })
    }

    /// The origin of a `Referer` URL: its scheme and authority, the path dropped.
    fn of_referer(url: &str) -> Option<Origin> {
        let (scheme, rest) = url.split_once("://")?;
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        Origin::parse(&format!("{scheme}://{}", &rest[..end]))
    }

    /// Whether this origin names the host the request was sent to.
    fn is_host(&self, host: &str) -> bool {
        without_default_port(&self.scheme, &host.trim().to_ascii_lowercase()) == self.authority
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}

fn without_default_port(scheme: &str, authority: &str) -> String {
    let default = if scheme == "https" { ":443" } else { ":80" };
    authority
        .strip_suffix(default)
        .unwrap_or(authority)
        .to_owned()
}

/// What the request says it comes from: `Origin`, else the origin of `Referer`.
/// `Err(())` when it says nothing usable (neither header, `null`, garbage).
fn claimed_origin(headers: &HeaderMap) -> Result<Origin, ()> {
    if let Some(origin) = headers.get(ORIGIN) {
        return origin.to_str().ok().and_then(Origin::parse).ok_or(());
    }
    headers
        .get(REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(Origin::of_referer)
        .ok_or(())
}

/// Whether `origin` is this server as the request reached it (`Host`, or the authority
/// of an HTTP/2 request), or a trusted origin.
fn is_ours(
    origin: &Origin,
    headers: &HeaderMap,
    request_authority: Option<&str>,
    trusted: Option<&TrustedOrigins>,
) -> bool {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or(request_authority);
    host.is_some_and(|host| origin.is_host(host)) || trusted.is_some_and(|t| t.contains(origin))
}

/// For WebSocket handshakes: `true` when the `Origin` header is absent (a phone or a
/// script, not a browser) or names this server or a trusted origin.
pub fn origin_allowed(headers: &HeaderMap, trusted: Option<&TrustedOrigins>) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let Some(origin) = origin.to_str().ok().and_then(Origin::parse) else {
        return false;
    };
    is_ours(&origin, headers, None, trusted)
}

/// The layer: refuses state-changing browser requests from other sites (see the module).
pub async fn same_origin_only(request: Request, next: Next) -> Response {
    if let Err(reason) = check(&request) {
        tracing::debug!(method = %request.method(), path = %request.uri().path(), reason, "cross-site request refused");
        return error(StatusCode::FORBIDDEN, reason);
    }
    next.run(request).await
}

fn check(request: &Request) -> Result<(), &'static str> {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return Ok(());
    }
    let headers = request.headers();
    if headers.contains_key(AUTHORIZATION) {
        return Ok(());
    }
    let origin = claimed_origin(headers).map_err(|()| {
        "cross-site request refused: a browser request that changes something must carry \
         an Origin or Referer header from this server's pages (scripts: use an API token)"
    })?;
    let trusted = request.extensions().get::<TrustedOrigins>();
    let authority = request.uri().authority().map(|a| a.as_str());
    if is_ours(&origin, headers, authority, trusted) {
        Ok(())
    } else {
        Err("cross-site request refused: the page sending it is not from this server")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;

    fn request(method: Method, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder()
            .method(method)
            .uri("/api/v1/faq")
            .header(HOST, "127.0.0.1:8080");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(Body::empty()).expect("a request")
    }

    fn with_trusted(mut request: Request, origins: &[&str]) -> Request {
        let trusted = TrustedOrigins::parse(origins).expect("valid origins");
        request.extensions_mut().insert(trusted);
        request
    }

    #[test]
    fn a_post_from_this_servers_page_passes() {
        let post = request(Method::POST, &[("origin", "http://127.0.0.1:8080")]);
        assert_eq!(check(&post), Ok(()));
    }

    #[test]
    fn a_post_from_another_site_is_refused() {
        let post = request(Method::POST, &[("origin", "https://evil.example")]);
        assert!(check(&post).is_err());
    }

    #[test]
    fn the_same_host_on_another_port_is_another_site() {
        let post = request(Method::DELETE, &[("origin", "http://127.0.0.1:9999")]);
        assert!(check(&post).is_err());
    }

    #[test]
    fn a_post_naming_no_origin_is_refused() {
        assert!(check(&request(Method::POST, &[])).is_err());
        assert!(check(&request(Method::PUT, &[("origin", "null")])).is_err());
    }

    #[test]
    fn the_referer_stands_in_for_a_missing_origin() {
        let ours = request(
            Method::POST,
            &[("referer", "http://127.0.0.1:8080/agent/?x=1")],
        );
        assert_eq!(check(&ours), Ok(()));
        let theirs = request(
            Method::POST,
            &[("referer", "http://127.0.0.1:8080.evil.example/")],
        );
        assert!(check(&theirs).is_err());
    }

    #[test]
    fn a_bearer_token_request_needs_no_origin() {
        let post = request(Method::POST, &[("authorization", "Bearer mdg_x")]);
        assert_eq!(check(&post), Ok(()));
    }

    #[test]
    fn reading_needs_no_origin() {
        assert_eq!(check(&request(Method::GET, &[])), Ok(()));
        assert_eq!(check(&request(Method::HEAD, &[])), Ok(()));
    }

    #[test]
    fn default_ports_and_case_do_not_matter() {
        let mut post = request(Method::POST, &[("origin", "HTTPS://Hotline.Example")]);
        post.headers_mut()
            .insert(HOST, "hotline.example:443".parse().expect("host"));
        assert_eq!(check(&post), Ok(()));
    }

    #[test]
    fn a_configured_origin_passes_although_the_host_differs() {
        let post = request(Method::POST, &[("origin", "https://hotline.city.example")]);
        assert_eq!(
            check(&with_trusted(post, &["https://hotline.city.example/"])),
            Ok(())
        );
    }

    #[test]
    fn a_trusted_origin_must_be_an_origin() {
        assert!(TrustedOrigins::parse(&["hotline.example"]).is_err());
        assert!(TrustedOrigins::parse(&["https://hotline.example/agent"]).is_err());
        assert!(TrustedOrigins::parse(&["ftp://hotline.example"]).is_err());
        assert!(TrustedOrigins::parse(&["https://hotline.example:8443"]).is_ok());
    }

    #[test]
    fn a_websocket_from_a_script_or_this_server_may_open_but_not_from_another_site() {
        let headers = |origin: Option<&str>| {
            let mut h = HeaderMap::new();
            h.insert(HOST, "127.0.0.1:8080".parse().expect("host"));
            if let Some(origin) = origin {
                h.insert(ORIGIN, origin.parse().expect("origin"));
            }
            h
        };
        assert!(origin_allowed(&headers(None), None));
        assert!(origin_allowed(
            &headers(Some("http://127.0.0.1:8080")),
            None
        ));
        assert!(!origin_allowed(&headers(Some("http://evil.example")), None));
        let trusted = TrustedOrigins::parse(&["http://evil.example"]).expect("valid");
        assert!(origin_allowed(
            &headers(Some("http://evil.example")),
            Some(&trusted)
        ));
    }
}
