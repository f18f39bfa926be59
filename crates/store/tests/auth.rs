//! Browser sessions and API tokens, specified once and checked on SQLite and PostgreSQL.

#[macro_use]
mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{at, Ctx, Raw};
use madoguchi_store::{
    NewUser, Password, Principal, Role, Secret, StoreError, API_TOKEN_PREFIX, SESSION_IDLE_TIMEOUT,
    SESSION_LIFETIME,
};
use sha2::{Digest, Sha256};

on_both_backends!(
    a_new_session_admits_its_secret_as_the_user_with_their_role,
    an_unknown_session_secret_admits_nothing,
    a_session_idle_for_two_hours_admits_nothing_and_is_deleted,
    requests_keep_a_session_alive_but_not_past_its_lifetime,
    a_session_of_a_disabled_user_admits_nothing,
    logout_ends_only_that_session,
    revoking_other_sessions_keeps_the_given_one_only,
    purging_deletes_expired_and_idle_sessions_only,
    only_the_sha256_of_a_session_secret_is_stored,
    a_session_for_an_unknown_login_is_refused,
    an_api_token_authenticates_as_its_user,
    an_unknown_api_token_authenticates_nobody,
    revoked_api_tokens_authenticate_nobody,
    an_api_token_of_a_disabled_user_authenticates_nobody,
    only_the_sha256_of_an_api_token_is_stored,
    an_api_token_for_an_unknown_login_is_refused,
    an_api_token_records_when_it_was_last_used,
);

async fn add(ctx: &Ctx, login: &str, role: Role) {
    ctx.store
        .add_user(&NewUser {
            login: login.into(),
            role,
            password: Password::new("secret"),
            sip: false,
            realm: "madoguchi".into(),
            display_name: None,
        })
        .await
        .expect("add user");
}

async fn disable(ctx: &Ctx, login: &str) {
    let sql = match ctx.raw {
        Raw::Sqlite(_) => format!("UPDATE users SET disabled = 1 WHERE login = '{login}'"),
        Raw::Postgres(_) => format!("UPDATE users SET disabled = true WHERE login = '{login}'"),
    };
    ctx.raw.exec(&sql).await;
}

/// Every value of one text column, read around the store.
async fn column(ctx: &Ctx, sql: &'static str) -> Vec<String> {
    match &ctx.raw {
        Raw::Sqlite(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
        Raw::Postgres(pool) => sqlx::query_scalar(sql).fetch_all(pool).await,
    }
    .expect("raw select")
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn t0() -> DateTime<Utc> {
    at(0)
}

async fn a_new_session_admits_its_secret_as_the_user_with_their_role(ctx: Ctx) {
    add(&ctx, "kato", Role::Manager).await;
    let (secret, created) = ctx
        .store
        .create_session("kato", t0())
        .await
        .expect("session");
    assert_eq!(created.expires_at, t0() + SESSION_LIFETIME);
    let found = ctx
        .store
        .session(&secret, t0() + TimeDelta::seconds(5))
        .await
        .expect("lookup")
        .expect("admitted");
    assert_eq!((found.login.as_str(), found.role), ("kato", Role::Manager));
    assert_eq!(found.created_at, t0());
}

async fn an_unknown_session_secret_admits_nothing(ctx: Ctx) {
    add(&ctx, "kato", Role::Agent).await;
    ctx.store
        .create_session("kato", t0())
        .await
        .expect("session");
    let guess = Secret::new("0".repeat(64));
    assert_eq!(ctx.store.session(&guess, t0()).await.expect("lookup"), None);
}

async fn a_session_idle_for_two_hours_admits_nothing_and_is_deleted(ctx: Ctx) {
    add(&ctx, "kato", Role::Agent).await;
    let (secret, _) = ctx
        .store
        .create_session("kato", t0())
        .await
        .expect("session");
    let idle = t0() + SESSION_IDLE_TIMEOUT;
    assert_eq!(
        ctx.store.session(&secret, idle).await.expect("lookup"),
        None
    );
    assert!(column(&ctx, "SELECT login FROM sessions").await.is_empty());
}

async fn requests_keep_a_session_alive_but_not_past_its_lifetime(ctx: Ctx) {
    add(&ctx, "kato", Role::Agent).await;
    let (secret, _) = ctx
        .store
        .create_session("kato", t0())
        .await
        .expect("session");
    // A request every hour: never idle for two.
    let mut now = t0();
    while now + TimeDelta::hours(1) < t0() + SESSION_LIFETIME {
        now += TimeDelta::hours(1);
        assert!(
            ctx.store
                .session(&secret, now)
                .await
                .expect("lookup")
                .is_some(),
            "alive at {now}"
        );
    }
    let end = t0() + SESSION_LIFETIME;
    assert_eq!(ctx.store.session(&secret, end).await.expect("lookup"), None);
}

async fn a_session_of_a_disabled_user_admits_nothing(ctx: Ctx) {
    add(&ctx, "kato", Role::Agent).await;
    let (secret, _) = ctx
        .store
        .create_session("kato", t0())
        .await
        .expect("session");
    disable(&ctx, "kato").await;
    assert_eq!(
        ctx.store.session(&secret, t0()).await.expect("lookup"),
        None
    );
}

async fn logout_ends_only_that_session(ctx: Ctx) {
    add(&ctx, "kato", Role::Agent).await;
    let (first, _) = ctx
        .store
        .create_session("kato", t0())
        .await
        .expect("session");
    let (second, _) = ctx
        .store
        .create_session("kato", t0())
        .await
        .expect("session");
    assert!(ctx.store.end_session(&first).await.expect("logout"));
    assert!(!ctx.store.end_session(&first).await.expect("logout again"));
    assert_eq!(ctx.store.session(&first, t0()).await.expect("lookup"), None);
    assert!(ctx
        .store
        .session(&second, t0())
        .await
        .expect("lookup")
        .is_some());
}

async fn revoking_other_sessions_keeps_the_given_one_only(ctx: Ctx) {
    add(&ctx, "kato", Role::Agent).await;
    add(&ctx, "mori", Role::Agent).await;
    let (old, _) = ctx
        .store
        .create_session("kato", t0())
        .await
        .expect("session");
    let (new, _) = ctx
        .store
        .create_session("kato", t0())
        .await
        .expect("session");
    let (other_user, _) = ctx
        .store
        .create_session("mori", t0())
        .await
        .expect("session");
    let revoked = ctx
        .store
        .revoke_other_sessions("kato", &new)
        .await
        .expect("revoke");
    assert_eq!(revoked, 1);
    assert_eq!(ctx.store.session(&old, t0()).await.expect("lookup"), None);
    assert!(ctx
        .store
        .session(&new, t0())
        .await
        .expect("lookup")
        .is_some());
    assert!(ctx
        .store
        .session(&other_user, t0())
        .await
        .expect("lookup")
        .is_some());
    let active = ctx.store.active_sessions("kato", t0()).await.expect("list");
    assert_eq!(active.len(), 1);
}

async fn purging_deletes_expired_and_idle_sessions_only(ctx: Ctx) {
    add(&ctx, "kato", Role::Agent).await;
    let (_stale, _) = ctx
        .store
        .create_session("kato", t0())
        .await
        .expect("session");
    let later = t0() + SESSION_IDLE_TIMEOUT;
    let (fresh, _) = ctx
        .store
        .create_session("kato", later)
        .await
        .expect("session");
    let purged = ctx
        .store
        .purge_expired_sessions(later)
        .await
        .expect("purge");
    assert_eq!(purged, 1);
    assert!(ctx
        .store
        .session(&fresh, later)
        .await
        .expect("lookup")
        .is_some());
}

async fn only_the_sha256_of_a_session_secret_is_stored(ctx: Ctx) {
    add(&ctx, "kato", Role::Agent).await;
    let (secret, _) = ctx
        .store
        .create_session("kato", t0())
        .await
        .expect("session");
    let stored = column(&ctx, "SELECT token_hash FROM sessions").await;
    assert_eq!(stored, vec![sha256_hex(secret.expose())]);
    assert_eq!(secret.expose().len(), 64, "256 bits as hex");
}

async fn a_session_for_an_unknown_login_is_refused(ctx: Ctx) {
    let err = ctx
        .store
        .create_session("nobody", t0())
        .await
        .expect_err("no such user");
    assert!(matches!(err, StoreError::UnknownUser { .. }), "{err}");
}

async fn an_api_token_authenticates_as_its_user(ctx: Ctx) {
    add(&ctx, "admin", Role::Admin).await;
    let (secret, token) = ctx
        .store
        .create_api_token("admin", Some("nightly report"), t0())
        .await
        .expect("token");
    assert!(secret.expose().starts_with(API_TOKEN_PREFIX));
    assert_eq!(token.label.as_deref(), Some("nightly report"));
    let who = ctx
        .store
        .authenticate_api_token(&secret, t0())
        .await
        .expect("lookup");
    assert_eq!(
        who,
        Some(Principal {
            login: "admin".into(),
            role: Role::Admin
        })
    );
}

async fn an_unknown_api_token_authenticates_nobody(ctx: Ctx) {
    add(&ctx, "admin", Role::Admin).await;
    ctx.store
        .create_api_token("admin", None, t0())
        .await
        .expect("token");
    let guess = Secret::new(format!("{API_TOKEN_PREFIX}{}", "f".repeat(64)));
    let who = ctx
        .store
        .authenticate_api_token(&guess, t0())
        .await
        .expect("lookup");
    assert_eq!(who, None);
}

async fn revoked_api_tokens_authenticate_nobody(ctx: Ctx) {
    add(&ctx, "admin", Role::Admin).await;
    let (first, _) = ctx
        .store
        .create_api_token("admin", None, t0())
        .await
        .expect("token");
    let (second, _) = ctx
        .store
        .create_api_token("admin", None, t0())
        .await
        .expect("token");
    assert_eq!(
        ctx.store.revoke_api_tokens("admin").await.expect("revoke"),
        2
    );
    for secret in [first, second] {
        let who = ctx
            .store
            .authenticate_api_token(&secret, t0())
            .await
            .expect("lookup");
        assert_eq!(who, None);
    }
}

async fn an_api_token_of_a_disabled_user_authenticates_nobody(ctx: Ctx) {
    add(&ctx, "admin", Role::Admin).await;
    let (secret, _) = ctx
        .store
        .create_api_token("admin", None, t0())
        .await
        .expect("token");
    disable(&ctx, "admin").await;
    let who = ctx
        .store
        .authenticate_api_token(&secret, t0())
        .await
        .expect("lookup");
    assert_eq!(who, None);
}

async fn only_the_sha256_of_an_api_token_is_stored(ctx: Ctx) {
    add(&ctx, "admin", Role::Admin).await;
    let (secret, _) = ctx
        .store
        .create_api_token("admin", None, t0())
        .await
        .expect("token");
    let stored = column(&ctx, "SELECT token_hash FROM api_tokens").await;
    assert_eq!(stored, vec![sha256_hex(secret.expose())]);
}

async fn an_api_token_for_an_unknown_login_is_refused(ctx: Ctx) {
    let err = ctx
        .store
        .create_api_token("nobody", None, t0())
        .await
        .expect_err("no such user");
    assert!(matches!(err, StoreError::UnknownUser { .. }), "{err}");
}

async fn an_api_token_records_when_it_was_last_used(ctx: Ctx) {
    add(&ctx, "admin", Role::Admin).await;
    let (secret, _) = ctx
        .store
        .create_api_token("admin", None, t0())
        .await
        .expect("token");
    let used = t0() + TimeDelta::minutes(5);
    ctx.store
        .authenticate_api_token(&secret, used)
        .await
        .expect("lookup");
    let tokens = ctx.store.api_tokens("admin").await.expect("list");
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].last_used_at, Some(used));
}
