//! The counter's devices, specified once and checked on SQLite and PostgreSQL: tokens shown
//! once and stored hashed, revocation, beats and their hourly sums, silences found once
//! (also under two concurrent nodes, PostgreSQL) and cleared by the next beat, events.

#[macro_use]
mod common;

use chrono::{DateTime, TimeDelta, Utc};
use common::{at, Ctx, Raw};
use madoguchi_store::{
    Beat, DeviceError, DeviceEventKind, DeviceStatus, NewDevice, Secret, Store, DEVICE_TOKEN_PREFIX,
};

on_both_backends!(
    a_new_device_token_is_shown_once_and_only_its_hash_is_stored,
    a_device_token_finds_its_device,
    a_revoked_device_token_is_rejected,
    revoking_twice_reports_the_second_as_already_revoked,
    revoking_an_unknown_device_is_not_found,
    a_device_id_in_use_is_refused,
    a_beat_updates_the_last_beat_columns,
    beats_of_one_hour_sum_into_one_row,
    a_beat_of_a_revoked_device_is_refused_and_counts_nothing,
    a_detail_over_200_characters_is_refused_naming_the_field,
    a_device_quiet_beyond_its_silent_after_is_found_silent_once,
    a_device_quiet_for_exactly_its_silent_after_is_not_silent,
    a_device_never_heard_from_is_not_silent,
    a_revoked_device_is_never_silent,
    a_beat_clears_the_silence_so_the_next_one_is_found_again,
    the_beat_after_a_silence_writes_a_back_event_with_the_gap,
    a_status_change_writes_a_status_event_and_a_repeat_does_not,
    a_first_beat_reporting_ok_writes_no_event,
    figures_sum_beats_rtt_and_silences_of_the_period_per_device,
    figures_leave_out_a_device_revoked_before_the_period,
);

on_postgres!(two_concurrent_callers_each_get_a_silent_device_at_most_once);

fn tablet(id: &str) -> NewDevice {
    NewDevice::new(id, "窓口1タブレット", "本庁舎1階 市民課")
}

fn ok(rtt_ms: Option<u32>) -> Beat {
    Beat {
        status: DeviceStatus::Ok,
        detail: None,
        rtt_ms,
    }
}

fn status(status: DeviceStatus, detail: &str) -> Beat {
    Beat {
        status,
        detail: Some(detail.into()),
        rtt_ms: Some(90),
    }
}

async fn add(store: &Store, id: &str) -> Secret {
    store
        .device_add(&tablet(id), at(0))
        .await
        .expect("a valid device is added")
        .0
}

async fn beat(store: &Store, id: &str, when: DateTime<Utc>, b: &Beat) {
    store
        .device_beat(id, when, b)
        .await
        .expect("a beat of a known device is recorded");
}

async fn events(ctx: &Ctx) -> Vec<madoguchi_store::DeviceEvent> {
    ctx.store
        .device_events(at(-86_400), at(86_400))
        .await
        .expect("events")
}

/// Every text value of the devices table, as stored.
async fn stored_texts(ctx: &Ctx) -> Vec<String> {
    let sql = "SELECT id, label, location, kind, token_hash FROM devices";
    let rows: Vec<(String, String, String, String, String)> = match &ctx.raw {
        Raw::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
        Raw::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
    }
    .expect("raw read of devices");
    rows.into_iter()
        .flat_map(|(a, b, c, d, e)| [a, b, c, d, e])
        .collect()
}

async fn a_new_device_token_is_shown_once_and_only_its_hash_is_stored(ctx: Ctx) {
    let (token, device) = ctx
        .store
        .device_add(&tablet("counter-1"), at(0))
        .await
        .expect("add");
    assert_eq!(device.id, "counter-1");
    let hex_part = token
        .expose()
        .strip_prefix(DEVICE_TOKEN_PREFIX)
        .expect("device tokens carry their prefix");
    assert_eq!(hex_part.len(), 64);
    let texts = stored_texts(&ctx).await;
    assert!(
        texts.iter().all(|t| !t.contains(hex_part)),
        "the clear token is stored nowhere"
    );
    let listed = ctx.store.devices().await.expect("list");
    assert_eq!(listed, vec![device], "listing hands out no token");
}

async fn a_device_token_finds_its_device(ctx: Ctx) {
    let token = add(&ctx.store, "counter-1").await;
    add(&ctx.store, "counter-2").await;
    let found = ctx
        .store
        .device_by_token(&token)
        .await
        .expect("lookup")
        .expect("a live token finds its device");
    assert_eq!(found.id, "counter-1");
    assert_eq!(found.kind, "tablet");
    assert_eq!(found.silent_after_s, 120);
    let unknown = Secret::new(format!("{DEVICE_TOKEN_PREFIX}{}", "0".repeat(64)));
    assert_eq!(
        ctx.store.device_by_token(&unknown).await.expect("lookup"),
        None
    );
}

async fn a_revoked_device_token_is_rejected(ctx: Ctx) {
    let token = add(&ctx.store, "counter-1").await;
    assert!(ctx
        .store
        .device_revoke("counter-1", at(10))
        .await
        .expect("revoke"));
    assert_eq!(
        ctx.store.device_by_token(&token).await.expect("lookup"),
        None
    );
    let listed = ctx.store.devices().await.expect("list");
    assert_eq!(
        listed[0].revoked_at,
        Some(at(10)),
        "the device stays listed"
    );
}

async fn revoking_twice_reports_the_second_as_already_revoked(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    assert!(ctx
        .store
        .device_revoke("counter-1", at(10))
        .await
        .expect("first"));
    assert!(!ctx
        .store
        .device_revoke("counter-1", at(20))
        .await
        .expect("second"));
    let listed = ctx.store.devices().await.expect("list");
    assert_eq!(
        listed[0].revoked_at,
        Some(at(10)),
        "the first revocation stands"
    );
}

async fn revoking_an_unknown_device_is_not_found(ctx: Ctx) {
    let err = ctx
        .store
        .device_revoke("nowhere", at(0))
        .await
        .expect_err("unknown");
    assert!(matches!(err, DeviceError::NotFound), "{err:?}");
}

async fn a_device_id_in_use_is_refused(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    let err = ctx
        .store
        .device_add(&tablet("counter-1"), at(5))
        .await
        .expect_err("duplicate id");
    assert!(matches!(err, DeviceError::DuplicateId { .. }), "{err:?}");
    assert_eq!(err.field(), Some("id"));
}

async fn a_beat_updates_the_last_beat_columns(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    let outcome = ctx
        .store
        .device_beat(
            "counter-1",
            at(30) + TimeDelta::microseconds(1_500),
            &status(DeviceStatus::Warning, " battery 15% "),
        )
        .await
        .expect("beat");
    let listed = ctx.store.devices().await.expect("list");
    assert_eq!(listed, vec![outcome.device.clone()]);
    let d = &listed[0];
    assert_eq!(d.last_seen_at, Some(at(30) + TimeDelta::milliseconds(1)));
    assert_eq!(d.last_rtt_ms, Some(90));
    assert_eq!(d.last_status, Some(DeviceStatus::Warning));
    assert_eq!(d.last_detail.as_deref(), Some("battery 15%"));
    assert_eq!(d.silent_since, None);
}

async fn beats_of_one_hour_sum_into_one_row(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    // at(0) is 00:00 UTC: three beats in hour 0, the first without an RTT, one in hour 1.
    beat(&ctx.store, "counter-1", at(10), &ok(None)).await;
    beat(&ctx.store, "counter-1", at(40), &ok(Some(120))).await;
    beat(&ctx.store, "counter-1", at(3_599), &ok(Some(80))).await;
    beat(&ctx.store, "counter-1", at(3_600), &ok(Some(50))).await;
    let hours = ctx
        .store
        .device_beats_hourly(at(0), at(7_200))
        .await
        .expect("hours");
    assert_eq!(hours.len(), 2);
    assert_eq!(hours[0].hour, at(0));
    assert_eq!(
        (
            hours[0].beats,
            hours[0].rtt_beats,
            hours[0].rtt_sum_ms,
            hours[0].rtt_max_ms
        ),
        (3, 2, 200, Some(120))
    );
    assert_eq!(hours[1].hour, at(3_600));
    assert_eq!(
        (
            hours[1].beats,
            hours[1].rtt_beats,
            hours[1].rtt_sum_ms,
            hours[1].rtt_max_ms
        ),
        (1, 1, 50, Some(50))
    );
}

async fn a_beat_of_a_revoked_device_is_refused_and_counts_nothing(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    ctx.store
        .device_revoke("counter-1", at(5))
        .await
        .expect("revoke");
    let err = ctx
        .store
        .device_beat("counter-1", at(10), &ok(None))
        .await
        .expect_err("revoked");
    assert!(matches!(err, DeviceError::NotFound), "{err:?}");
    let hours = ctx
        .store
        .device_beats_hourly(at(0), at(3_600))
        .await
        .expect("hours");
    assert!(hours.is_empty());
    assert_eq!(
        ctx.store.devices().await.expect("list")[0].last_seen_at,
        None
    );
}

async fn a_detail_over_200_characters_is_refused_naming_the_field(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    let long = Beat {
        status: DeviceStatus::Error,
        detail: Some("あ".repeat(201)),
        rtt_ms: None,
    };
    let err = ctx
        .store
        .device_beat("counter-1", at(10), &long)
        .await
        .expect_err("too long");
    assert_eq!(err.field(), Some("detail"));
    assert!(err.to_string().contains("detail"), "{err}");
    assert_eq!(
        ctx.store.devices().await.expect("list")[0].last_seen_at,
        None
    );
    let exactly = Beat {
        detail: Some("あ".repeat(200)),
        ..long
    };
    beat(&ctx.store, "counter-1", at(11), &exactly).await;
}

async fn a_device_quiet_beyond_its_silent_after_is_found_silent_once(ctx: Ctx) {
    let store = ctx.store.clone().with_node_id("node-a");
    add(&store, "counter-1").await;
    beat(&store, "counter-1", at(0), &ok(None)).await;
    let flipped = store.mark_silent(at(121)).await.expect("mark");
    assert_eq!(flipped.len(), 1);
    assert_eq!(flipped[0].id, "counter-1");
    assert_eq!(flipped[0].silent_since, Some(at(121)));
    assert!(store.mark_silent(at(126)).await.expect("again").is_empty());
    let events = events(&ctx).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, DeviceEventKind::Silent);
    assert_eq!(events[0].at, at(121));
    assert_eq!(events[0].silent_ms, Some(121_000));
    assert_eq!(events[0].node_id, "node-a");
}

async fn a_device_quiet_for_exactly_its_silent_after_is_not_silent(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    beat(&ctx.store, "counter-1", at(0), &ok(None)).await;
    assert!(ctx
        .store
        .mark_silent(at(120))
        .await
        .expect("mark")
        .is_empty());
}

async fn a_device_never_heard_from_is_not_silent(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    assert!(ctx
        .store
        .mark_silent(at(86_400))
        .await
        .expect("mark")
        .is_empty());
}

async fn a_revoked_device_is_never_silent(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    beat(&ctx.store, "counter-1", at(0), &ok(None)).await;
    ctx.store
        .device_revoke("counter-1", at(5))
        .await
        .expect("revoke");
    assert!(ctx
        .store
        .mark_silent(at(600))
        .await
        .expect("mark")
        .is_empty());
}

async fn a_beat_clears_the_silence_so_the_next_one_is_found_again(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    beat(&ctx.store, "counter-1", at(0), &ok(None)).await;
    assert_eq!(ctx.store.mark_silent(at(200)).await.expect("mark").len(), 1);
    let outcome = ctx
        .store
        .device_beat("counter-1", at(300), &ok(None))
        .await
        .expect("beat");
    assert_eq!(outcome.device.silent_since, None);
    assert!(ctx
        .store
        .mark_silent(at(400))
        .await
        .expect("not yet")
        .is_empty());
    assert_eq!(
        ctx.store.mark_silent(at(421)).await.expect("again").len(),
        1
    );
}

async fn the_beat_after_a_silence_writes_a_back_event_with_the_gap(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    beat(&ctx.store, "counter-1", at(0), &ok(None)).await;
    ctx.store.mark_silent(at(150)).await.expect("mark");
    let outcome = ctx
        .store
        .device_beat("counter-1", at(330), &ok(Some(70)))
        .await
        .expect("beat");
    assert_eq!(outcome.was_silent, Some(TimeDelta::seconds(330)));
    let events = events(&ctx).await;
    let kinds: Vec<_> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [DeviceEventKind::Silent, DeviceEventKind::Back]);
    assert_eq!(events[1].at, at(330));
    assert_eq!(events[1].silent_ms, Some(330_000));
    let next = ctx
        .store
        .device_beat("counter-1", at(360), &ok(Some(70)))
        .await
        .expect("beat");
    assert_eq!(next.was_silent, None, "only the first beat comes back");
}

async fn a_status_change_writes_a_status_event_and_a_repeat_does_not(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    beat(&ctx.store, "counter-1", at(0), &ok(None)).await;
    let warned = ctx
        .store
        .device_beat(
            "counter-1",
            at(30),
            &status(DeviceStatus::Warning, "printer offline"),
        )
        .await
        .expect("beat");
    assert_eq!(warned.status_changed_from, Some(DeviceStatus::Ok));
    let again = ctx
        .store
        .device_beat(
            "counter-1",
            at(60),
            &status(DeviceStatus::Warning, "printer offline"),
        )
        .await
        .expect("beat");
    assert_eq!(again.status_changed_from, None);
    beat(&ctx.store, "counter-1", at(90), &ok(Some(80))).await;
    let events = events(&ctx).await;
    let seen: Vec<_> = events
        .iter()
        .map(|e| (e.kind, e.at, e.status, e.detail.as_deref()))
        .collect();
    assert_eq!(
        seen,
        [
            (
                DeviceEventKind::Status,
                at(30),
                Some(DeviceStatus::Warning),
                Some("printer offline")
            ),
            (
                DeviceEventKind::Status,
                at(90),
                Some(DeviceStatus::Ok),
                None
            ),
        ]
    );
}

async fn a_first_beat_reporting_ok_writes_no_event(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    let first = ctx
        .store
        .device_beat("counter-1", at(0), &ok(None))
        .await
        .expect("beat");
    assert_eq!(first.status_changed_from, None);
    assert!(events(&ctx).await.is_empty());
}

async fn two_concurrent_callers_each_get_a_silent_device_at_most_once(ctx: Ctx) {
    let a = ctx.store.clone().with_node_id("node-a");
    let b = ctx.reconnect().await.with_node_id("node-b");
    let ids: Vec<String> = (0..20).map(|i| format!("counter-{i:02}")).collect();
    for id in &ids {
        add(&a, id).await;
    }
    for round in 0..5i64 {
        let base = round * 1_000;
        for id in &ids {
            beat(&a, id, at(base), &ok(None)).await;
        }
        let (got_a, got_b) =
            tokio::join!(a.mark_silent(at(base + 200)), b.mark_silent(at(base + 200)));
        let mut all: Vec<String> = got_a
            .expect("node a")
            .into_iter()
            .chain(got_b.expect("node b"))
            .map(|d| d.id)
            .collect();
        all.sort();
        assert_eq!(all, ids, "round {round}: every device flipped exactly once");
    }
    let silent = events(&ctx)
        .await
        .into_iter()
        .filter(|e| e.kind == DeviceEventKind::Silent)
        .count();
    assert_eq!(silent, 5 * ids.len(), "one silent event per silence");
}

async fn figures_sum_beats_rtt_and_silences_of_the_period_per_device(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    add(&ctx.store, "counter-2").await;
    beat(&ctx.store, "counter-1", at(0), &ok(None)).await;
    beat(&ctx.store, "counter-1", at(30), &ok(Some(100))).await;
    ctx.store.mark_silent(at(200)).await.expect("mark");
    beat(&ctx.store, "counter-1", at(630), &ok(Some(300))).await; // back after 600 s
    ctx.store.mark_silent(at(800)).await.expect("mark");
    beat(&ctx.store, "counter-1", at(930), &ok(Some(50))).await; // back after 300 s
    beat(&ctx.store, "counter-1", at(7_300), &ok(Some(999))).await; // after the period
    let figures = ctx
        .store
        .device_figures(at(0), at(3_600))
        .await
        .expect("figures");
    let ids: Vec<&str> = figures.iter().map(|f| f.device.as_str()).collect();
    assert_eq!(ids, ["counter-1", "counter-2"], "zeros included");
    let f = &figures[0];
    assert_eq!((f.beats, f.rtt_beats, f.rtt_sum_ms), (4, 3, 450));
    assert_eq!((f.rtt_max_ms, f.mean_rtt_ms()), (Some(300), Some(150)));
    assert_eq!((f.outages, f.outage_ms), (2, 900_000));
    assert_eq!(f.longest_outage_ms, Some(600_000));
    let idle = &figures[1];
    assert_eq!((idle.beats, idle.outages, idle.mean_rtt_ms()), (0, 0, None));
}

async fn figures_leave_out_a_device_revoked_before_the_period(ctx: Ctx) {
    add(&ctx.store, "counter-1").await;
    ctx.store
        .device_revoke("counter-1", at(10))
        .await
        .expect("revoke");
    let figures = ctx
        .store
        .device_figures(at(3_600), at(7_200))
        .await
        .expect("figures");
    assert!(figures.is_empty());
}
