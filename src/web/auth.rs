//! Sign-in and who is asking: the session cookie of the browser console, bearer API
//! tokens of scripts, and the checks every `/api/v1` route goes through.
//!
//! - `POST /api/v1/session` `{"login", "password"}` checks the argon2 password, starts a
//!   session and sets the cookie `madoguchi_session` (HttpOnly, SameSite=Strict, Path=/,
//!   Secure when served over TLS); a wrong password and an unknown login get the same 401.
//!   Failed attempts are throttled per login and address ([`super::login_throttle`]).
//! - `GET /api/v1/session` says who the caller is; `DELETE` signs the browser out.
//! - [`require_auth`] is the layer in front of every other protected route: it accepts
//!   `Authorization: Bearer TOKEN` (from `madoguchi token create`) or the cookie, puts an
//!   [`Authenticated`] in the request's extensions and answers 401 otherwise.
//! - Handlers take [`Authenticated`] as an extractor and call [`Authenticated::require`]
//!   (or take [`ManagerOrAdmin`]) for what only managers may do (403 for agents).
//!
//! Session and token secrets never reach the logs; only their SHA-256 is stored.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{ConnectInfo, FromRequestParts, Path, Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, RETRY_AFTER, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use madoguchi_store::{Password, Role, Secret, SESSION_IDLE_TIMEOUT, SESSION_LIFETIME};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::api::{error, ApiError};
use super::login_throttle::{LoginThrottle, ThrottleKey};
use super::AppState;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "madoguchi_session";
/// The one answer for a wrong password and an unknown login (no user enumeration).
const WRONG_CREDENTIALS: &str = "wrong login or password";

/// The sign-in side of the HTTP state: settings and the failure counts.
#[derive(Debug, Default)]
pub struct AuthState {
    /// Mark the cookie `Secure` on every response. Without it, only requests a TLS proxy
    /// forwarded (`X-Forwarded-Proto: https`) get a `Secure` cookie.
    pub secure_cookies: bool,
    throttle: Mutex<LoginThrottle>,
}

impl AuthState {
    pub fn new(secure_cookies: bool) -> AuthState {
        AuthState {
            secure_cookies,
            throttle: Mutex::default(),
        }
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, LoginThrottle> {
        // A panic while holding the lock leaves plain counters behind: still usable.
        self.throttle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// How the caller proved who they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    Session,
    ApiToken,
}

/// The caller of a protected route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    pub login: String,
    pub role: Role,
    pub via: Credential,
}

impl Authenticated {
    /// Managers and admins may act for anyone and edit the FAQ.
    pub fn is_manager(&self) -> bool {
        matches!(self.role, Role::Manager | Role::Admin)
    }

    /// `Ok` when the caller has one of `roles`; a 403 response otherwise.
    #[allow(clippy::result_large_err)] // the error is the response itself, returned at once
    pub fn require(&self, roles: &[Role]) -> Result<(), Response> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(error(
                StatusCode::FORBIDDEN,
                format!("this needs the role {}", names.join(" or ")),
            ))
        }
    }
}

/// The two ways to authenticate, as the OpenAPI document names them.
pub struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::SecurityScheme;
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(SESSION_COOKIE))),
        );
    }
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, "authentication required")
}

fn store_unavailable(err: &dyn std::fmt::Display) -> Response {
    tracing::warn!(error = %err, "checking credentials failed");
    error(StatusCode::SERVICE_UNAVAILABLE, "store unavailable")
}

/// The bearer token of an `Authorization` header, if that is what it carries.
fn bearer(headers: &HeaderMap) -> Option<Result<Secret, ()>> {
    let value = headers.get(AUTHORIZATION)?;
    let parsed = value.to_str().ok().and_then(|v| {
        let (scheme, token) = v.trim().split_once(' ')?;
        let token = token.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty())
            .then(|| Secret::new(token.to_owned()))
    });
    Some(parsed.ok_or(()))
}

/// The session cookie's value, if the request has one.
fn session_cookie(headers: &HeaderMap) -> Option<Secret> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| Secret::new(value.to_owned()))
}

/// Who sent these headers: the bearer token if there is an `Authorization` header (a bad
/// one is not rescued by a cookie), else the session cookie. `Ok(None)`: nobody.
async fn authenticate(
    headers: &HeaderMap,
    state: &AppState,
) -> Result<Option<Authenticated>, Response> {
    let now = Utc::now();
    match bearer(headers) {
        Some(Err(())) => Ok(None),
        Some(Ok(token)) => match state.store.authenticate_api_token(&token, now).await {
            Ok(found) => Ok(found.map(|p| Authenticated {
                login: p.login,
                role: p.role,
                via: Credential::ApiToken,
            })),
            Err(e) => Err(store_unavailable(&e)),
        },
        None => {
            let Some(secret) = session_cookie(headers) else {
                return Ok(None);
            };
            match state.store.session(&secret, now).await {
                Ok(found) => Ok(found.map(|s| Authenticated {
                    login: s.login,
                    role: s.role,
                    via: Credential::Session,
                })),
                Err(e) => Err(store_unavailable(&e)),
            }
        }
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        // Behind `require_auth` the work is done already.
        if let Some(found) = parts.extensions.get::<Authenticated>() {
            return Ok(found.clone());
        }
        authenticate(&parts.headers, state)
            .await?
            .ok_or_else(unauthorized)
    }
}

/// A caller with the manager or admin role (401 without credentials, 403 for agents).
#[derive(Clone, Debug)]
pub struct ManagerOrAdmin(pub Authenticated);

impl FromRequestParts<AppState> for ManagerOrAdmin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let caller = Authenticated::from_request_parts(parts, state).await?;
        caller.require(&[Role::Manager, Role::Admin])?;
        Ok(ManagerOrAdmin(caller))
    }
}

/// The layer in front of every protected route: 401 unless the request carries a valid
/// bearer token or session cookie.
pub async fn require_auth(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    match authenticate(request.headers(), &state).await {
        Ok(Some(caller)) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Ok(None) => unauthorized(),
        Err(response) => response,
    }
}

/// The layer on `/agents/{login}/state`: agents change only their own state; managers
/// and admins anyone's.
pub async fn own_state_only(
    Extension(caller): Extension<Authenticated>,
    Path(login): Path<String>,
    request: Request,
    next: Next,
) -> Response {
    if caller.login != login && !caller.is_manager() {
        return error(
            StatusCode::FORBIDDEN,
            "agents may change only their own state",
        );
    }
    next.run(request).await
}

#[derive(Deserialize, ToSchema)]
pub struct SignIn {
    login: String,
    /// Never logged, never stored.
    password: String,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn")
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

/// Who is signed in.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    login: String,
    /// agent, manager or admin.
    role: String,
    via: Credential,
}

/// The answer to a sign-in.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    login: String,
    role: String,
    /// The session ends then at the latest.
    expires_at: DateTime<Utc>,
    /// It ends earlier after this many seconds without a request.
    idle_timeout_s: i64,
}

fn cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let text = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    // The value is hex and the rest fixed ASCII, so this cannot fail; an empty cookie is
    // the harmless fallback.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("madoguchi_session="))
}

fn served_over_tls(state: &AppState, headers: &HeaderMap) -> bool {
    state.auth.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// Signs in with a user's password; sets the session cookie.
#[utoipa::path(post, path = "/api/v1/session", request_body = SignIn, security(()),
    responses((status = 200, body = SignedIn), (status = 400, body = ApiError),
        (status = 401, body = ApiError), (status = 429, body = ApiError)))]
pub async fn sign_in(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Result<Json<SignIn>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(attempt) = match body {
        Ok(body) => body,
        Err(rejection) => return error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let key = ThrottleKey::new(&attempt.login, peer.map(|Extension(ConnectInfo(a))| a.ip()));
    let throttled = state.auth.throttle().check(&key, Instant::now());
    if let Some(wait) = throttled {
        tracing::info!("sign-in attempts throttled");
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "too many failed sign-ins; try again later",
        );
        let seconds = wait.as_secs().max(1);
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
        return response;
    }
    let password = Password::new(attempt.password);
    let user = match state.store.verify_password(&attempt.login, &password).await {
        Ok(user) => user,
        Err(e) => return store_unavailable(&e),
    };
    let Some(user) = user else {
        state.auth.throttle().failed(key, Instant::now());
        tracing::debug!(login = %attempt.login, "sign-in refused");
        return error(StatusCode::UNAUTHORIZED, WRONG_CREDENTIALS);
    };
    state.auth.throttle().succeeded(&key);
    let (secret, session) = match state.store.create_session(&user.login, Utc::now()).await {
        Ok(created) => created,
        Err(e) => return store_unavailable(&e),
    };
    tracing::info!(login = %user.login, role = %user.role, "signed in");
    // Sessions nobody uses again are deleted here, so the table stays small without a timer.
    if let Err(e) = state.store.purge_expired_sessions(Utc::now()).await {
        tracing::warn!(error = %e, "purging expired sessions failed");
    }
    let mut response = Json(SignedIn {
        login: session.login,
        role: session.role.to_string(),
        expires_at: session.expires_at,
        idle_timeout_s: SESSION_IDLE_TIMEOUT.num_seconds(),
    })
    .into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        cookie(
            secret.expose(),
            SESSION_LIFETIME.num_seconds(),
            served_over_tls(&state, &headers),
        ),
    );
    response
}

/// Who the caller is (session cookie or bearer token).
#[utoipa::path(get, path = "/api/v1/session",
    responses((status = 200, body = WhoAmI), (status = 401, body = ApiError)))]
pub async fn who_am_i(caller: Authenticated) -> Json<WhoAmI> {
    Json(WhoAmI {
        login: caller.login,
        role: caller.role.to_string(),
        via: caller.via,
    })
}

/// Signs this browser out: ends its session and clears the cookie.
#[utoipa::path(delete, path = "/api/v1/session",
    responses((status = 204, description = "signed out"), (status = 401, body = ApiError)))]
pub async fn sign_out(
    State(state): State<AppState>,
    caller: Authenticated,
    headers: HeaderMap,
) -> Response {
    if let Some(secret) = session_cookie(&headers) {
        if let Err(e) = state.store.end_session(&secret).await {
            return store_unavailable(&e);
        }
    }
    // Signing out of the browser ends its console too (its audio, a call it has).
    let _ = state
        .engine
        .requests
        .send(super::live::EngineRequest::ConsoleDetach {
            login: caller.login.clone(),
        })
        .await;
    tracing::info!(login = %caller.login, "signed out");
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(SET_COOKIE, cookie("", 0, served_over_tls(&state, &headers)));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("ascii"));
        }
        map
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "theme=dark; madoguchi_session=abc123; lang=ja")]);
        assert_eq!(session_cookie(&h), Some(Secret::new("abc123")));
    }

    #[test]
    fn the_session_cookie_is_found_in_a_second_cookie_header() {
        let h = headers(&[
            ("cookie", "theme=dark"),
            ("cookie", "madoguchi_session=xyz"),
        ]);
        assert_eq!(session_cookie(&h), Some(Secret::new("xyz")));
    }

    #[test]
    fn a_cookie_with_a_similar_name_is_not_the_session() {
        let h = headers(&[("cookie", "madoguchi_session_old=abc; madoguchi_session=")]);
        assert_eq!(session_cookie(&h), None);
    }

    #[test]
    fn a_bearer_scheme_is_case_insensitive() {
        let h = headers(&[("authorization", "bearer mdg_abc")]);
        assert_eq!(bearer(&h), Some(Ok(Secret::new("mdg_abc"))));
    }

    #[test]
    fn basic_credentials_are_not_a_bearer_token() {
        let h = headers(&[("authorization", "Basic dXNlcjpwdw==")]);
        assert_eq!(bearer(&h), Some(Err(())));
        assert_eq!(bearer(&HeaderMap::new()), None);
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_only_when_asked() {
        let plain = cookie("abc", 60, false);
        assert_eq!(
            plain.to_str().expect("ascii"),
            "madoguchi_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=60"
        );
        let secure = cookie("abc", 60, true);
        assert!(secure.to_str().expect("ascii").ends_with("; Secure"));
    }

    #[test]
    fn only_managers_and_admins_pass_a_manager_check() {
        let caller = |role| Authenticated {
            login: "x".into(),
            role,
            via: Credential::Session,
        };
        let managers = [Role::Manager, Role::Admin];
        assert!(caller(Role::Agent).require(&managers).is_err());
        assert!(caller(Role::Manager).require(&managers).is_ok());
        assert!(caller(Role::Admin).require(&managers).is_ok());
    }

    #[test]
    fn a_sign_in_attempt_never_shows_its_password_in_debug_output() {
        let attempt = SignIn {
            login: "suzuki".into(),
            password: "hunter2".into(),
        };
        assert!(!format!("{attempt:?}").contains("hunter2"));
    }
}
