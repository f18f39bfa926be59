//! Users, operator state history and registrations, specified once and checked on SQLite
//! and PostgreSQL alike.

#[macro_use]
mod common;

use chrono::Duration;
use common::{at, Ctx, Kind};
use madoguchi_store::{
    DigestAlgorithm, InvalidLogin, NewUser, OperatorStateChange, Password, Registration, Role,
    SipDirectoryEntry, StoreError, User,
};

on_both_backends!(
    a_user_verifies_with_the_right_password_only,
    an_unknown_login_does_not_verify,
    a_disabled_user_does_not_verify,
    the_stored_password_is_an_argon2id_hash_not_the_password,
    a_duplicate_login_is_refused_and_the_first_user_kept,
    a_malformed_login_is_refused_and_nothing_stored,
    an_empty_password_is_refused,
    a_sip_user_gets_the_hand_computed_ha1_values,
    a_user_without_sip_has_no_ha1,
    roles_round_trip_and_users_list_by_login,
    registrations_are_saved_replaced_loaded_and_deleted,
    registrations_survive_a_restart_and_expired_ones_are_not_loaded,
    a_node_restores_only_the_registrations_it_took,
    a_registration_for_an_unknown_login_is_refused,
    state_changes_are_stored_in_time_order,
    a_state_change_for_an_unknown_login_is_refused,
    latest_operator_states_pick_the_newest_change_per_login,
    latest_operator_states_are_empty_without_history,
    the_sip_directory_lists_only_enabled_sip_users_with_their_ha1,
    the_users_migration_runs_twice_harmlessly,
    a_users_languages_are_set_listed_and_cleared,
    languages_for_an_unknown_login_are_refused,
);

fn new_user(login: &str, role: Role, password: &str, sip: bool) -> NewUser {
    NewUser {
        login: login.into(),
        role,
        password: Password::new(password),
        sip,
        realm: "madoguchi".into(),
        display_name: Some("窓口 太郎".into()),
    }
}

async fn add(ctx: &Ctx, login: &str, role: Role) -> User {
    ctx.store
        .add_user(&new_user(login, role, "secret", true))
        .await
        .expect("add user")
}

async fn a_user_verifies_with_the_right_password_only(ctx: Ctx) {
    let added = add(&ctx, "alice", Role::Agent).await;
    let right = ctx
        .store
        .verify_password("alice", &Password::new("secret"))
        .await
        .expect("verify");
    let wrong = ctx
        .store
        .verify_password("alice", &Password::new("Secret"))
        .await
        .expect("verify");
    assert_eq!(right, Some(added));
    assert_eq!(wrong, None);
}

async fn an_unknown_login_does_not_verify(ctx: Ctx) {
    let found = ctx
        .store
        .verify_password("nobody", &Password::new("secret"))
        .await
        .expect("verify");
    assert_eq!(found, None);
}

async fn a_disabled_user_does_not_verify(ctx: Ctx) {
    add(&ctx, "alice", Role::Agent).await;
    let disable = match ctx.kind {
        Kind::Sqlite => "UPDATE users SET disabled = 1 WHERE login = 'alice'",
        Kind::Postgres => "UPDATE users SET disabled = true WHERE login = 'alice'",
    };
    ctx.raw.exec(disable).await;
    let store = &ctx.store;
    let verified = store
        .verify_password("alice", &Password::new("secret"))
        .await;
    assert_eq!(verified.expect("verify"), None);
    let ha1 = store.digest_ha1("alice", DigestAlgorithm::Md5).await;
    assert_eq!(ha1.expect("ha1"), None);
    let user = store.get_user("alice").await.expect("get").expect("kept");
    assert!(user.disabled);
}

async fn the_stored_password_is_an_argon2id_hash_not_the_password(ctx: Ctx) {
    add(&ctx, "alice", Role::Agent).await;
    let hash: String = match &ctx.raw {
        common::Raw::Sqlite(pool) => {
            sqlx::query_scalar("SELECT password_hash FROM users WHERE login = 'alice'")
                .fetch_one(pool)
                .await
        }
        common::Raw::Postgres(pool) => {
            sqlx::query_scalar("SELECT password_hash FROM users WHERE login = 'alice'")
                .fetch_one(pool)
                .await
        }
    }
    .expect("raw select");
    assert!(
        hash.starts_with("$argon2id$v=19$"),
        "not a PHC argon2id string"
    );
    assert!(!hash.contains("secret"));
}

async fn a_duplicate_login_is_refused_and_the_first_user_kept(ctx: Ctx) {
    let first = add(&ctx, "alice", Role::Agent).await;
    let err = ctx
        .store
        .add_user(&new_user("alice", Role::Admin, "other", false))
        .await
        .expect_err("duplicate login");
    assert!(matches!(err, StoreError::DuplicateLogin { ref login } if login == "alice"));
    assert_eq!(ctx.store.get_user("alice").await.expect("get"), Some(first));
    let still = ctx
        .store
        .verify_password("alice", &Password::new("secret"))
        .await
        .expect("verify");
    assert!(still.is_some());
}

async fn a_malformed_login_is_refused_and_nothing_stored(ctx: Ctx) {
    for (login, reason) in [
        ("", InvalidLogin::Empty),
        ("a b", InvalidLogin::BadCharacter),
        ("alice'--", InvalidLogin::BadCharacter),
        (&"x".repeat(65) as &str, InvalidLogin::TooLong),
    ] {
        let err = ctx
            .store
            .add_user(&new_user(login, Role::Agent, "secret", true))
            .await
            .expect_err("malformed login");
        assert!(
            matches!(err, StoreError::InvalidLogin(r) if r == reason),
            "{login}"
        );
    }
    assert!(ctx.store.list_users().await.expect("list").is_empty());
}

async fn an_empty_password_is_refused(ctx: Ctx) {
    let err = ctx
        .store
        .add_user(&new_user("alice", Role::Agent, "", true))
        .await
        .expect_err("empty password");
    assert!(matches!(err, StoreError::EmptyPassword));
    assert_eq!(ctx.store.get_user("alice").await.expect("get"), None);
}

async fn a_sip_user_gets_the_hand_computed_ha1_values(ctx: Ctx) {
    add(&ctx, "alice", Role::Agent).await;
    // printf 'alice:madoguchi:secret' | md5sum (and | sha256sum)
    let md5 = ctx.store.digest_ha1("alice", DigestAlgorithm::Md5).await;
    let sha256 = ctx.store.digest_ha1("alice", DigestAlgorithm::Sha256).await;
    assert_eq!(
        md5.expect("md5").as_deref(),
        Some("77590e16a344f5b5975131e6224713fe")
    );
    assert_eq!(
        sha256.expect("sha256").as_deref(),
        Some("69c705cfa699df656f7578dc696fc1ed367e2bb48584d20967c9a8634e24c022")
    );
}

async fn a_user_without_sip_has_no_ha1(ctx: Ctx) {
    let user = ctx
        .store
        .add_user(&new_user("boss", Role::Manager, "secret", false))
        .await
        .expect("add");
    assert!(!user.sip_enabled);
    for algorithm in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256] {
        let ha1 = ctx.store.digest_ha1("boss", algorithm).await.expect("ha1");
        assert_eq!(ha1, None);
    }
    let unknown = ctx.store.digest_ha1("nobody", DigestAlgorithm::Md5).await;
    assert_eq!(unknown.expect("ha1"), None);
}

async fn roles_round_trip_and_users_list_by_login(ctx: Ctx) {
    let carol = add(&ctx, "carol", Role::Admin).await;
    let alice = add(&ctx, "alice", Role::Agent).await;
    let bob = add(&ctx, "bob", Role::Manager).await;
    assert_eq!(alice.role, Role::Agent);
    assert_eq!(alice.display_name.as_deref(), Some("窓口 太郎"));
    assert!(!alice.disabled);
    let listed = ctx.store.list_users().await.expect("list");
    assert_eq!(listed, vec![alice, bob, carol.clone()]);
    let reread = ctx.reconnect().await.get_user("carol").await.expect("get");
    assert_eq!(reread, Some(carol));
}

fn registration(login: &str, contact: &str, cseq: u32, expires_in: i64) -> Registration {
    Registration {
        login: login.into(),
        contact: contact.into(),
        source: "192.0.2.10:5060".into(),
        transport: "udp".into(),
        call_id: format!("{login}-{contact}@phone"),
        cseq,
        expires_at: at(expires_in) + Duration::nanoseconds(1_500_000),
        node_id: "node1".into(),
    }
}

async fn registrations_are_saved_replaced_loaded_and_deleted(ctx: Ctx) {
    add(&ctx, "alice", Role::Agent).await;
    add(&ctx, "bob", Role::Agent).await;
    let desk = registration("alice", "sip:alice@192.0.2.10", 1, 3600);
    let soft = registration("alice", "sip:alice@192.0.2.11", 7, 3600);
    let bob = registration("bob", "sip:bob@192.0.2.12", u32::MAX, 3600);
    for r in [&desk, &soft, &bob] {
        ctx.store.save_registration(r).await.expect("save");
    }
    let mut refreshed = desk.clone();
    refreshed.cseq = 2;
    refreshed.expires_at = at(7200);
    ctx.store
        .save_registration(&refreshed)
        .await
        .expect("refresh");
    let loaded = ctx
        .store
        .load_registrations("node1", at(0))
        .await
        .expect("load");
    let mut want = vec![refreshed, soft.clone(), bob];
    for r in &mut want {
        r.expires_at = madoguchi_store::truncate_to_millis(r.expires_at);
    }
    assert_eq!(loaded, want);
    let deleted = ctx.store.delete_registration("alice", &soft.contact).await;
    assert!(deleted.expect("delete"));
    let again = ctx.store.delete_registration("alice", &soft.contact).await;
    assert!(!again.expect("second delete"));
    let loaded = ctx
        .store
        .load_registrations("node1", at(0))
        .await
        .expect("load");
    assert_eq!(loaded.len(), 2);
    assert!(loaded.iter().all(|r| r.contact != soft.contact));
}

async fn registrations_survive_a_restart_and_expired_ones_are_not_loaded(ctx: Ctx) {
    add(&ctx, "alice", Role::Agent).await;
    let live = registration("alice", "sip:alice@live", 1, 600);
    let stale = registration("alice", "sip:alice@stale", 1, 60);
    for r in [&live, &stale] {
        ctx.store.save_registration(r).await.expect("save");
    }
    let restarted = ctx.reconnect().await;
    let loaded = restarted
        .load_registrations("node1", at(120))
        .await
        .expect("load");
    let contacts: Vec<&str> = loaded.iter().map(|r| r.contact.as_str()).collect();
    assert_eq!(contacts, ["sip:alice@live"]);
}

async fn a_node_restores_only_the_registrations_it_took(ctx: Ctx) {
    add(&ctx, "alice", Role::Agent).await;
    add(&ctx, "bob", Role::Agent).await;
    let on_a = registration("alice", "sip:alice@desk", 1, 600);
    let mut on_b = registration("bob", "sip:bob@desk", 1, 600);
    on_b.node_id = "node2".into();
    for r in [&on_a, &on_b] {
        ctx.store.save_registration(r).await.expect("save");
    }
    let logins = |loaded: Vec<Registration>| -> Vec<String> {
        loaded.into_iter().map(|r| r.login).collect()
    };
    let node1 = ctx.store.load_registrations("node1", at(0)).await;
    assert_eq!(logins(node1.expect("node1")), ["alice"]);
    let node2 = ctx.store.load_registrations("node2", at(0)).await;
    assert_eq!(logins(node2.expect("node2")), ["bob"]);
    // Alice's phone re-registers with node2 (node1 went away): the binding moves.
    let mut moved = on_a.clone();
    moved.node_id = "node2".into();
    moved.cseq = 2;
    ctx.store.save_registration(&moved).await.expect("move");
    let node1 = ctx.store.load_registrations("node1", at(0)).await;
    assert!(node1.expect("node1").is_empty());
    let node2 = ctx.store.load_registrations("node2", at(0)).await;
    assert_eq!(logins(node2.expect("node2")), ["alice", "bob"]);
}

async fn a_registration_for_an_unknown_login_is_refused(ctx: Ctx) {
    let err = ctx
        .store
        .save_registration(&registration("ghost", "sip:ghost@x", 1, 600))
        .await
        .expect_err("unknown login");
    assert!(matches!(err, StoreError::UnknownUser { ref login } if login == "ghost"));
}

async fn state_changes_are_stored_in_time_order(ctx: Ctx) {
    add(&ctx, "alice", Role::Agent).await;
    add(&ctx, "bob", Role::Agent).await;
    let store = &ctx.store;
    let record = |login, secs, status, reason| async move {
        store
            .record_operator_state(login, at(secs), status, reason)
            .await
            .expect("record");
    };
    record("alice", 10, "available", None).await;
    record("alice", 5, "logged_in", None).await;
    record("bob", 7, "available", None).await;
    record("alice", 20, "away", Some("lunch")).await;
    record("alice", 20, "logged_out", None).await;
    let changes = store.operator_state_changes("alice").await.expect("read");
    let seen: Vec<(i64, &str, Option<&str>)> = changes
        .iter()
        .map(|c| {
            assert_eq!(c.login, "alice");
            (
                (c.at - at(0)).num_seconds(),
                c.status.as_str(),
                c.reason.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (5, "logged_in", None),
            (10, "available", None),
            (20, "away", Some("lunch")),
            (20, "logged_out", None),
        ]
    );
}

async fn a_state_change_for_an_unknown_login_is_refused(ctx: Ctx) {
    let err = ctx
        .store
        .record_operator_state("ghost", at(0), "available", None)
        .await
        .expect_err("unknown login");
    assert!(matches!(err, StoreError::UnknownUser { ref login } if login == "ghost"));
}

async fn the_users_migration_runs_twice_harmlessly(ctx: Ctx) {
    let alice = add(&ctx, "alice", Role::Agent).await;
    let sql = match ctx.kind {
        Kind::Sqlite => include_str!("../../../migrations/sqlite/0002_users.sql"),
        Kind::Postgres => include_str!("../../../migrations/postgres/0002_users.sql"),
    };
    ctx.raw.exec(sql).await;
    ctx.store.migrate().await.expect("second migration run");
    assert_eq!(ctx.store.get_user("alice").await.expect("get"), Some(alice));
}

async fn latest_operator_states_pick_the_newest_change_per_login(ctx: Ctx) {
    for login in ["alice", "bob", "carol"] {
        add(&ctx, login, Role::Agent).await;
    }
    let store = &ctx.store;
    let record = |login, secs, status, reason| async move {
        store
            .record_operator_state(login, at(secs), status, reason)
            .await
            .expect("record");
    };
    // Recorded out of time order: the newest instant wins, not the last insert.
    record("alice", 30, "paused", Some("break")).await;
    record("alice", 10, "available", None).await;
    // Two changes at one instant: the one recorded last wins.
    record("bob", 20, "available", None).await;
    record("bob", 20, "logged_out", None).await;
    let latest = ctx
        .reconnect()
        .await
        .latest_operator_states()
        .await
        .expect("latest");
    let change = |login: &str, secs, status: &str, reason: Option<&str>| OperatorStateChange {
        login: login.into(),
        at: at(secs),
        status: status.into(),
        reason: reason.map(str::to_owned),
    };
    assert_eq!(
        latest,
        [
            change("alice", 30, "paused", Some("break")),
            change("bob", 20, "logged_out", None),
        ]
    );
}

async fn latest_operator_states_are_empty_without_history(ctx: Ctx) {
    add(&ctx, "alice", Role::Agent).await;
    let latest = ctx.store.latest_operator_states().await.expect("latest");
    assert!(latest.is_empty());
}

async fn the_sip_directory_lists_only_enabled_sip_users_with_their_ha1(ctx: Ctx) {
    add(&ctx, "carol", Role::Manager).await;
    add(&ctx, "alice", Role::Agent).await;
    add(&ctx, "gone", Role::Agent).await;
    ctx.store
        .add_user(&new_user("boss", Role::Admin, "secret", false))
        .await
        .expect("add");
    let disable = match ctx.kind {
        Kind::Sqlite => "UPDATE users SET disabled = 1 WHERE login = 'gone'",
        Kind::Postgres => "UPDATE users SET disabled = true WHERE login = 'gone'",
    };
    ctx.raw.exec(disable).await;
    let directory = ctx.store.sip_directory().await.expect("directory");
    let ha1 = |algorithm, login| {
        Some(madoguchi_store::users::compute_ha1(
            algorithm,
            login,
            "madoguchi",
            "secret",
        ))
    };
    assert_eq!(
        directory,
        [
            SipDirectoryEntry {
                login: "alice".into(),
                role: Role::Agent,
                // printf 'alice:madoguchi:secret' | md5sum (and | sha256sum)
                ha1_md5: Some("77590e16a344f5b5975131e6224713fe".into()),
                ha1_sha256: Some(
                    "69c705cfa699df656f7578dc696fc1ed367e2bb48584d20967c9a8634e24c022".into()
                ),
            },
            SipDirectoryEntry {
                login: "carol".into(),
                role: Role::Manager,
                ha1_md5: ha1(DigestAlgorithm::Md5, "carol"),
                ha1_sha256: ha1(DigestAlgorithm::Sha256, "carol"),
            },
        ]
    );
}

async fn a_users_languages_are_set_listed_and_cleared(ctx: Ctx) {
    let alice = add(&ctx, "alice", Role::Agent).await;
    assert!(
        alice.languages.is_empty(),
        "a new user speaks only the default language"
    );
    let spoken = vec!["en".to_owned(), "pt-br".to_owned()];
    ctx.store
        .set_user_languages("alice", &spoken)
        .await
        .expect("set");
    let reread = ctx.reconnect().await.get_user("alice").await.expect("get");
    assert_eq!(reread.map(|u| u.languages), Some(spoken.clone()));
    let listed = ctx.store.list_users().await.expect("list");
    assert_eq!(listed[0].languages, spoken);
    ctx.store
        .set_user_languages("alice", &[])
        .await
        .expect("clear");
    let cleared = ctx.store.get_user("alice").await.expect("get");
    assert_eq!(cleared.map(|u| u.languages), Some(vec![]));
}

async fn languages_for_an_unknown_login_are_refused(ctx: Ctx) {
    let refused = ctx
        .store
        .set_user_languages("nobody", &["en".to_owned()])
        .await;
    assert!(
        matches!(refused, Err(StoreError::UnknownUser { ref login }) if login == "nobody"),
        "{refused:?}"
    );
}
