//! Complaints filed since an instant (what the manager's board lists when it opens),
//! specified once and checked on SQLite and PostgreSQL.

#[macro_use]
mod common;

use chrono::{DateTime, Duration, Utc};
use common::{at, Ctx};
use madoguchi_store::{Complaint, NewClassification, Outcome, MAX_COMPLAINTS};

on_both_backends!(
    complaints_are_listed_newest_first_with_who_and_what,
    a_classification_without_the_complaint_flag_is_not_listed,
    a_complaint_refiled_without_the_flag_is_no_longer_listed,
    a_complaint_refiled_with_the_flag_is_listed_once_at_its_latest_filing,
    the_since_bound_includes_its_millisecond_and_excludes_earlier_filings,
    the_limit_keeps_the_newest,
    no_more_than_the_maximum_is_returned,
);

fn filing(call_id: &str, complaint: bool) -> NewClassification {
    NewClassification {
        call_id: call_id.into(),
        category: "イ".into(),
        outcome: Outcome::CallbackNeeded,
        complaint,
        escalated: false,
        faq_id: None,
        note: Some("対応に不満あり。".into()),
        operator: "suzuki".into(),
    }
}

async fn file(ctx: &Ctx, new: &NewClassification, now: DateTime<Utc>) {
    ctx.store.classify(new, now).await.expect("classify");
}

async fn listed(ctx: &Ctx, since: DateTime<Utc>, limit: u32) -> Vec<Complaint> {
    ctx.store
        .complaints_since(since, limit)
        .await
        .expect("complaints")
}

fn ids(complaints: &[Complaint]) -> Vec<&str> {
    complaints.iter().map(|c| c.call_id.as_str()).collect()
}

async fn complaints_are_listed_newest_first_with_who_and_what(ctx: Ctx) {
    file(&ctx, &filing("c-early", true), at(60)).await;
    let other = NewClassification {
        category: "オ".into(),
        outcome: Outcome::TransferredCity,
        operator: "tanaka".into(),
        ..filing("c-late", true)
    };
    file(&ctx, &other, at(600)).await;
    // Two at the same millisecond come in a fixed order (call id, descending).
    file(&ctx, &filing("c-tie-a", true), at(300)).await;
    file(&ctx, &filing("c-tie-b", true), at(300)).await;

    let complaints = listed(&ctx, at(0), 50).await;
    assert_eq!(
        ids(&complaints),
        ["c-late", "c-tie-b", "c-tie-a", "c-early"]
    );
    assert_eq!(
        complaints[0],
        Complaint {
            call_id: "c-late".into(),
            operator: "tanaka".into(),
            category: "オ".into(),
            outcome: Outcome::TransferredCity,
            updated_at: at(600),
        }
    );
}

async fn a_classification_without_the_complaint_flag_is_not_listed(ctx: Ctx) {
    file(&ctx, &filing("c-fine", false), at(60)).await;
    file(&ctx, &filing("c-complaint", true), at(120)).await;
    assert_eq!(ids(&listed(&ctx, at(0), 50).await), ["c-complaint"]);
}

async fn a_complaint_refiled_without_the_flag_is_no_longer_listed(ctx: Ctx) {
    file(&ctx, &filing("c1", true), at(60)).await;
    file(&ctx, &filing("c1", false), at(120)).await;
    assert_eq!(listed(&ctx, at(0), 50).await, []);
}

async fn a_complaint_refiled_with_the_flag_is_listed_once_at_its_latest_filing(ctx: Ctx) {
    file(&ctx, &filing("c1", true), at(60)).await;
    file(&ctx, &filing("c2", true), at(120)).await;
    let corrected = NewClassification {
        category: "ケ".into(),
        ..filing("c1", true)
    };
    file(&ctx, &corrected, at(180)).await;
    let complaints = listed(&ctx, at(0), 50).await;
    assert_eq!(ids(&complaints), ["c1", "c2"]);
    assert_eq!(
        (complaints[0].category.as_str(), complaints[0].updated_at),
        ("ケ", at(180))
    );
}

async fn the_since_bound_includes_its_millisecond_and_excludes_earlier_filings(ctx: Ctx) {
    let since = at(3_600);
    file(
        &ctx,
        &filing("before", true),
        since - Duration::milliseconds(1),
    )
    .await;
    file(&ctx, &filing("at", true), since).await;
    file(&ctx, &filing("after", true), since + Duration::hours(1)).await;
    assert_eq!(ids(&listed(&ctx, since, 50).await), ["after", "at"]);
    // Below the millisecond the bound is kept as the store keeps filings.
    assert_eq!(
        ids(&listed(&ctx, since + Duration::microseconds(500), 50).await),
        ["after", "at"]
    );
    assert_eq!(listed(&ctx, since + Duration::hours(2), 50).await, []);
}

async fn the_limit_keeps_the_newest(ctx: Ctx) {
    for (n, call) in ["c1", "c2", "c3"].into_iter().enumerate() {
        file(&ctx, &filing(call, true), at(60 * n as i64)).await;
    }
    assert_eq!(ids(&listed(&ctx, at(0), 2).await), ["c3", "c2"]);
    assert_eq!(listed(&ctx, at(0), 0).await, []);
}

async fn no_more_than_the_maximum_is_returned(ctx: Ctx) {
    for n in 0..=MAX_COMPLAINTS {
        file(&ctx, &filing(&format!("c{n:03}"), true), at(i64::from(n))).await;
    }
    let complaints = listed(&ctx, at(0), u32::MAX).await;
    assert_eq!(complaints.len(), MAX_COMPLAINTS as usize);
    assert_eq!(
        complaints.last().map(|c| c.call_id.as_str()),
        Some("c001"),
        "the oldest is the one left out"
    );
}
