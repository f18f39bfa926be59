//! The operator console's static files, compiled into the binary: `GET /agent` is the page,
//! `GET /agent/{file}` its stylesheet and ES modules (src/web/assets/agent/). No build step:
//! the files are served as written, with `Cache-Control: no-cache` so a new binary's console
//! reaches browsers at once (they revalidate instead of keeping a stale copy).
//!
//! ```text
//! GET /agent              -> index.html (also /agent/ and /agent/index.html)
//! GET /agent/console.mjs  -> text/javascript
//! GET /agent/other        -> 404
//! ```
//!
//! The counter support log's page is served the same way from `/counter`
//! (src/web/assets/counter/), and the manager's live board from `/manager`
//! (src/web/assets/manager/; the page is public, its data needs a manager's session), and
//! the counter devices' heartbeat page from `/device` (src/web/assets/device/; it beats with
//! the device token of its URL fragment).

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};

use super::{AppState, TrustedOrigins};

/// One embedded file.
struct Asset {
    name: &'static str,
    body: &'static str,
}

macro_rules! agent_asset {
    ($name:literal) => {
        Asset {
            name: $name,
            body: include_str!(concat!("assets/agent/", $name)),
        }
    };
}

macro_rules! counter_asset {
    ($name:literal) => {
        Asset {
            name: $name,
            body: include_str!(concat!("assets/counter/", $name)),
        }
    };
}

macro_rules! manager_asset {
    ($name:literal) => {
        Asset {
            name: $name,
            body: include_str!(concat!("assets/manager/", $name)),
        }
    };
}

macro_rules! device_asset {
    ($name:literal) => {
        Asset {
            name: $name,
            body: include_str!(concat!("assets/device/", $name)),
        }
    };
}

const INDEX: &str = "index.html";

/// Every file of the console. A test checks this list against the folder.
const AGENT_ASSETS: &[Asset] = &[
    agent_asset!("index.html"),
    agent_asset!("console.css"),
    agent_asset!("console.mjs"),
    agent_asset!("console-state.mjs"),
    agent_asset!("api.mjs"),
    agent_asset!("socket.mjs"),
    agent_asset!("backoff.mjs"),
    agent_asset!("media.mjs"),
    agent_asset!("spectrum.mjs"),
    agent_asset!("ringer.mjs"),
    agent_asset!("view.mjs"),
    agent_asset!("i18n.mjs"),
    agent_asset!("wrapup.mjs"),
    agent_asset!("shortcuts.mjs"),
    agent_asset!("format.mjs"),
];

/// Every file of the counter page. A test checks this list against the folder.
const COUNTER_ASSETS: &[Asset] = &[
    counter_asset!("index.html"),
    counter_asset!("counter.css"),
    counter_asset!("counter.mjs"),
    counter_asset!("api.mjs"),
    counter_asset!("entry.mjs"),
    counter_asset!("today.mjs"),
    counter_asset!("i18n.mjs"),
];

/// Every file of the manager's board. A test checks this list against the folder.
const MANAGER_ASSETS: &[Asset] = &[
    manager_asset!("index.html"),
    manager_asset!("board.css"),
    manager_asset!("board.mjs"),
    manager_asset!("format.mjs"),
    manager_asset!("i18n.mjs"),
    manager_asset!("live.mjs"),
    manager_asset!("chart.mjs"),
    manager_asset!("alerts.mjs"),
    manager_asset!("session.mjs"),
    manager_asset!("sign-in.mjs"),
    manager_asset!("report.mjs"),
    manager_asset!("staffing.html"),
    manager_asset!("staffing.css"),
    manager_asset!("staffing.mjs"),
    manager_asset!("staffing-grid.mjs"),
    manager_asset!("staffing-query.mjs"),
    manager_asset!("staffing-i18n.mjs"),
    manager_asset!("faq.html"),
    manager_asset!("faq.css"),
    manager_asset!("faq-editor.mjs"),
    manager_asset!("faq-api.mjs"),
    manager_asset!("faq-model.mjs"),
    manager_asset!("faq-i18n.mjs"),
    manager_asset!("call.html"),
    manager_asset!("call.css"),
    manager_asset!("call.mjs"),
    manager_asset!("call-model.mjs"),
    manager_asset!("call-i18n.mjs"),
    manager_asset!("devices.mjs"),
];

/// Every file of the device page. A test checks this list against the folder.
const DEVICE_ASSETS: &[Asset] = &[
    device_asset!("index.html"),
    device_asset!("device.css"),
    device_asset!("device.mjs"),
];

/// Same-origin everything; the audio needs no network permission from CSP (WebRTC is not
/// governed by it), the socket is same-origin (`connect-src 'self'` covers ws: and wss:) or,
/// after a failover, another node's ([`with_other_nodes`]).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; media-src 'self' blob:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agent", get(index))
        .route("/agent/", get(index))
        .route("/agent/{file}", get(file))
        .route("/counter", get(counter_index))
        .route("/counter/", get(counter_index))
        .route("/counter/{file}", get(counter_file))
        .route("/manager", get(manager_index))
        .route("/manager/", get(manager_index))
        .route("/manager/{file}", get(manager_file))
        .route("/device", get(device_index))
        .route("/device/", get(device_index))
        .route("/device/{file}", get(device_file))
}

async fn index(trusted: Option<Extension<TrustedOrigins>>) -> Response {
    with_other_nodes(respond(INDEX), trusted)
}

async fn file(Path(name): Path<String>, trusted: Option<Extension<TrustedOrigins>>) -> Response {
    with_other_nodes(respond(&name), trusted)
}

/// The console's socket fails over to the other nodes of a cluster, whose pages this node
/// trusts (`--web-origin`): their origins join the page's `connect-src`.
fn with_other_nodes(
    mut response: Response,
    trusted: Option<Extension<TrustedOrigins>>,
) -> Response {
    let Some(Extension(trusted)) = trusted else {
        return response;
    };
    // Parsed origins hold no space; a `;` or `,` would start another directive.
    let sources: Vec<String> = trusted
        .connect_sources()
        .into_iter()
        .filter(|source| !source.contains([';', ',']))
        .collect();
    if sources.is_empty()
        || !response
            .headers()
            .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        return response;
    }
    let policy = CONTENT_SECURITY_POLICY.replacen(
        "connect-src 'self'",
        &format!("connect-src 'self' {}", sources.join(" ")),
        1,
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

async fn counter_index() -> Response {
    respond_from(COUNTER_ASSETS, INDEX)
}

async fn counter_file(Path(name): Path<String>) -> Response {
    respond_from(COUNTER_ASSETS, &name)
}

async fn manager_index() -> Response {
    respond_from(MANAGER_ASSETS, INDEX)
}

async fn manager_file(Path(name): Path<String>) -> Response {
    respond_from(MANAGER_ASSETS, &name)
}

async fn device_index() -> Response {
    respond_from(DEVICE_ASSETS, INDEX)
}

async fn device_file(Path(name): Path<String>) -> Response {
    respond_from(DEVICE_ASSETS, &name)
}

/// The response for the console file `name`: the file, or 404 for any other name.
fn respond(name: &str) -> Response {
    respond_from(AGENT_ASSETS, name)
}

/// The response for the file `name` of one page's `assets`, or 404 for any other name.
fn respond_from(assets: &[Asset], name: &str) -> Response {
    let Some(asset) = assets.iter().find(|asset| asset.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = asset.body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(asset.name)),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // Every page, not only the index: /manager has more than one.
    if asset.name.ends_with(".html") {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
    }
    response
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("mjs" | "js") => "text/javascript; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    use super::*;

    fn folder() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/web/assets/agent")
    }

    fn header_of(response: &Response, name: header::HeaderName) -> Option<&str> {
        response.headers().get(name).and_then(|v| v.to_str().ok())
    }

    #[test]
    fn every_file_of_the_console_folder_is_served() {
        let on_disk: BTreeSet<String> = std::fs::read_dir(folder())
            .expect("the console's folder is part of the source tree")
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        let served: BTreeSet<String> = AGENT_ASSETS.iter().map(|a| a.name.to_owned()).collect();
        assert_eq!(on_disk, served);
    }

    #[test]
    fn the_page_and_its_modules_have_their_content_types_and_are_revalidated() {
        let page = respond(INDEX);
        assert_eq!(page.status(), StatusCode::OK);
        assert_eq!(
            header_of(&page, header::CONTENT_TYPE),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(header_of(&page, header::CACHE_CONTROL), Some("no-cache"));
        assert!(header_of(&page, header::CONTENT_SECURITY_POLICY).is_some());

        let module = respond("console.mjs");
        assert_eq!(
            header_of(&module, header::CONTENT_TYPE),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(header_of(&module, header::CACHE_CONTROL), Some("no-cache"));
        let style = respond("console.css");
        assert_eq!(
            header_of(&style, header::CONTENT_TYPE),
            Some("text/css; charset=utf-8")
        );
    }

    #[test]
    fn the_console_page_may_connect_to_the_trusted_nodes_only() {
        let trusted = TrustedOrigins::parse(&["http://127.0.0.1:8082", "https://b.example"])
            .expect("origins");
        let page = with_other_nodes(respond(INDEX), Some(Extension(trusted.clone())));
        let policy = header_of(&page, header::CONTENT_SECURITY_POLICY).unwrap_or_default();
        assert!(
            policy.contains(
                "connect-src 'self' http://127.0.0.1:8082 ws://127.0.0.1:8082 \
                 https://b.example wss://b.example;"
            ),
            "{policy}"
        );
        let alone = with_other_nodes(respond(INDEX), None);
        assert_eq!(
            header_of(&alone, header::CONTENT_SECURITY_POLICY),
            Some(CONTENT_SECURITY_POLICY)
        );
        // A module has no policy to widen.
        let module = with_other_nodes(respond("console.mjs"), Some(Extension(trusted)));
        assert_eq!(header_of(&module, header::CONTENT_SECURITY_POLICY), None);
    }

    #[test]
    fn names_outside_the_console_are_not_found() {
        for name in ["", "missing.mjs", "../mod.rs", "..%2Fmod.rs", "INDEX.HTML"] {
            assert_eq!(respond(name).status(), StatusCode::NOT_FOUND, "{name}");
        }
    }

    /// Every `/agent/…` file the page loads and every module a module imports is served, so
    /// a renamed file cannot leave the console broken in the browser only.
    #[test]
    fn references_between_the_console_files_resolve() {
        let served: BTreeSet<&str> = AGENT_ASSETS.iter().map(|a| a.name).collect();
        for asset in AGENT_ASSETS {
            for reference in references(asset.body) {
                assert!(
                    served.contains(reference.as_str()),
                    "{} refers to {reference}, which is not served",
                    asset.name
                );
            }
        }
    }

    /// `/agent/NAME` attributes of the page and `from './NAME'` of the modules.
    fn references(text: &str) -> Vec<String> {
        references_under(text, "\"/agent/")
    }

    /// `PREFIX NAME"` attributes (PREFIX as `"/agent/`) and `from './NAME'` of the modules.
    fn references_under(text: &str, prefix: &str) -> Vec<String> {
        let mut found = Vec::new();
        for (marker, end) in [(prefix, '"'), ("from './", '\'')] {
            let mut rest = text;
            while let Some(at) = rest.find(marker) {
                rest = &rest[at + marker.len()..];
                if let Some(stop) = rest.find(end) {
                    found.push(rest[..stop].to_owned());
                }
            }
        }
        found
    }

    #[test]
    fn the_reference_scan_sees_both_kinds_of_reference() {
        let found =
            references("<script src=\"/agent/a.mjs\"></script> import { x } from './b.mjs';");
        assert_eq!(found, vec!["a.mjs".to_owned(), "b.mjs".to_owned()]);
    }

    #[test]
    fn every_file_of_the_counter_folder_is_served() {
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/web/assets/counter");
        let on_disk: BTreeSet<String> = std::fs::read_dir(folder)
            .expect("the counter page's folder is part of the source tree")
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        let served: BTreeSet<String> = COUNTER_ASSETS.iter().map(|a| a.name.to_owned()).collect();
        assert_eq!(on_disk, served);
    }

    #[test]
    fn the_counter_page_is_html_with_its_policy_and_its_modules_are_javascript() {
        let page = respond_from(COUNTER_ASSETS, INDEX);
        assert_eq!(
            header_of(&page, header::CONTENT_TYPE),
            Some("text/html; charset=utf-8")
        );
        assert!(header_of(&page, header::CONTENT_SECURITY_POLICY).is_some());
        let module = respond_from(COUNTER_ASSETS, "entry.mjs");
        assert_eq!(
            header_of(&module, header::CONTENT_TYPE),
            Some("text/javascript; charset=utf-8")
        );
        // The console's files are not the counter's.
        assert_eq!(
            respond_from(COUNTER_ASSETS, "console.mjs").status(),
            StatusCode::NOT_FOUND
        );
    }

    /// Every `/counter/…` file the page loads and every module a module imports is served.
    #[test]
    fn references_between_the_counter_files_resolve() {
        let served: BTreeSet<&str> = COUNTER_ASSETS.iter().map(|a| a.name).collect();
        for asset in COUNTER_ASSETS {
            for reference in references_under(asset.body, "\"/counter/") {
                assert!(
                    served.contains(reference.as_str()),
                    "{} refers to {reference}, which is not served",
                    asset.name
                );
            }
        }
    }

    #[test]
    fn every_file_of_the_manager_folder_is_served() {
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/web/assets/manager");
        let on_disk: BTreeSet<String> = std::fs::read_dir(folder)
            .expect("the board's folder is part of the source tree")
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        let served: BTreeSet<String> = MANAGER_ASSETS.iter().map(|a| a.name.to_owned()).collect();
        assert_eq!(on_disk, served);
    }

    #[test]
    fn the_board_is_html_with_its_policy_and_its_modules_are_javascript() {
        let page = respond_from(MANAGER_ASSETS, INDEX);
        assert_eq!(
            header_of(&page, header::CONTENT_TYPE),
            Some("text/html; charset=utf-8")
        );
        assert!(header_of(&page, header::CONTENT_SECURITY_POLICY).is_some());
        let module = respond_from(MANAGER_ASSETS, "board.mjs");
        assert_eq!(
            header_of(&module, header::CONTENT_TYPE),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(
            respond_from(MANAGER_ASSETS, "console.mjs").status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn every_file_of_the_device_folder_is_served_and_referenced() {
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/web/assets/device");
        let on_disk: BTreeSet<String> = std::fs::read_dir(folder)
            .expect("the device page's folder is part of the source tree")
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        let served: BTreeSet<String> = DEVICE_ASSETS.iter().map(|a| a.name.to_owned()).collect();
        assert_eq!(on_disk, served);
        for asset in DEVICE_ASSETS {
            for reference in references_under(asset.body, "\"/device/") {
                assert!(
                    served.contains(&reference),
                    "{} refers to {reference}, which is not served",
                    asset.name
                );
            }
        }
        let page = respond_from(DEVICE_ASSETS, INDEX);
        assert!(header_of(&page, header::CONTENT_SECURITY_POLICY).is_some());
    }

    /// Every `/manager/…` file the page loads and every module a module imports is served.
    #[test]
    fn references_between_the_board_files_resolve() {
        let served: BTreeSet<&str> = MANAGER_ASSETS.iter().map(|a| a.name).collect();
        for asset in MANAGER_ASSETS {
            for reference in references_under(asset.body, "\"/manager/") {
                assert!(
                    served.contains(reference.as_str()),
                    "{} refers to {reference}, which is not served",
                    asset.name
                );
            }
        }
    }
}
