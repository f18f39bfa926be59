//! End to end: a caller who chooses English (issue 9) with the real binary. The dialplan is
//! tests/dialplans/languages.toml: always open, a menu where "9" chooses English, one queue
//! `desk`; English callers wait 2 s (`after`) for an operator who speaks English, then any
//! operator takes them. Operators' languages are set in the store before the engine starts;
//! their phones register with sipp and are then the test phone on the registered port. The
//! caller is the test phone too, pressing 9 as an RFC 4733 event.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use madoguchi_store::{CallQuery, CallRecord, LanguageFallbackUsed, Store};
use support::center::{register, wait_for_state, Center};
use support::phone::Phone;
use support::sip_text::Message;
use support::{eventually, repo_root, EngineProcess};

/// Operators `ja1` (no other language) and `en1` (English) in the store.
async fn center() -> Center {
    let center = Center::with_operators(&["ja1", "en1"]);
    let store = Store::connect(&center.database_url)
        .await
        .expect("the center's database");
    store
        .set_user_languages("en1", &["en".to_owned()])
        .await
        .expect("en1 speaks English");
    center
}

fn start(center: &Center) -> EngineProcess {
    center.start_with(&repo_root().join("tests/dialplans/languages.toml"), &[])
}

/// `login`'s phone registered and available; the test phone then listens on its port.
async fn desk_phone(engine: &EngineProcess, login: &str) -> Phone {
    let port = register(engine, login);
    wait_for_state(engine, login, "available");
    Phone::on_sip_port(engine.sip, port).await
}

/// A caller answered by the engine, into the menu, pressing 9 (English); returns the phone
/// and when the digit went out.
async fn english_caller(engine: &EngineProcess) -> (Phone, Instant) {
    let mut caller = Phone::new(engine.sip).await;
    let answer = caller.call("0120000000").await;
    assert_eq!(answer.status(), Some(200), "{}", engine.log());
    let engine_rtp: SocketAddr = answer.sdp_media().expect("the answer has media");
    // The menu prompt is playing once its first frames arrive.
    caller.listen(5, Duration::from_secs(10)).await;
    caller.send_dtmf(engine_rtp, b'9', 1000, 160_000).await;
    (caller, Instant::now())
}

/// The phone's next INVITE within `limit`, answered (200, ACK); `None` if none came.
async fn answered_invite(phone: &mut Phone, limit: Duration) -> Option<Message> {
    // The phone's own wait outlasts the limit: silence is an answer here, not a failure.
    tokio::time::timeout(
        limit,
        phone.answer_incoming(limit + Duration::from_secs(60)),
    )
    .await
    .ok()
}

/// The stored record of the call whose SIP Call-ID is `sip_call_id`, once written.
async fn stored_record(center: &Center, sip_call_id: &str) -> CallRecord {
    let store = Store::connect(&center.database_url)
        .await
        .expect("the center's database");
    let mut found = None;
    eventually(
        "the call's record is stored",
        Duration::from_secs(10),
        async || {
            let calls = store
                .list_calls(&CallQuery::default())
                .await
                .expect("list calls");
            found = calls
                .items
                .into_iter()
                .find(|c| c.sip_call_id == sip_call_id);
            found.is_some()
        },
    )
    .await;
    found.expect("found above")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_english_caller_rings_only_the_english_speaking_operator_and_is_stored_in_english() {
    let center = center().await;
    let engine = start(&center);
    let mut ja1 = desk_phone(&engine, "ja1").await;
    let mut en1 = desk_phone(&engine, "en1").await;

    let (mut caller, _) = english_caller(&engine).await;
    let invite = answered_invite(&mut en1, Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("en1 rings\n{}", engine.log()));
    assert_eq!(invite.header("X-Madoguchi-Language"), Some("en"));
    wait_for_state(&engine, "en1", "on_call");
    // Anything sent to ja1 is in its socket by now.
    assert!(
        answered_invite(&mut ja1, Duration::from_millis(300))
            .await
            .is_none(),
        "ja1 does not speak English and must not ring"
    );

    assert_eq!(caller.hangup().await.status(), Some(200));
    let record = stored_record(&center, &caller.call_id).await;
    assert_eq!(record.operator.as_deref(), Some("en1"));
    assert_eq!(record.language.as_deref(), Some("en"));
    assert_eq!(record.language_fallback, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_english_speaking_operator_away_another_one_rings_after_the_languages_wait() {
    let center = center().await;
    let engine = start(&center);
    // en1 never registers: logged out.
    let mut ja1 = desk_phone(&engine, "ja1").await;

    let (mut caller, pressed) = english_caller(&engine).await;
    let invite = answered_invite(&mut ja1, Duration::from_secs(10))
        .await
        .unwrap_or_else(|| panic!("ja1 rings after the wait\n{}", engine.log()));
    let waited = pressed.elapsed();
    assert!(
        waited >= Duration::from_millis(1_900),
        "ja1 rang {waited:?} after the choice, before `after` (2 s)"
    );
    assert_eq!(invite.header("X-Madoguchi-Language"), Some("en"));
    wait_for_state(&engine, "ja1", "on_call");

    assert_eq!(caller.hangup().await.status(), Some(200));
    let record = stored_record(&center, &caller.call_id).await;
    assert_eq!(record.operator.as_deref(), Some("ja1"));
    assert_eq!(record.language.as_deref(), Some("en"));
    assert_eq!(record.language_fallback, Some(LanguageFallbackUsed::Any));
}
