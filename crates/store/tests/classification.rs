//! Call classifications, specified once and checked on SQLite and PostgreSQL.

#[macro_use]
mod common;

use common::{at, full_record, Ctx};
use madoguchi_store::{
    ClassificationError, NewClassification, NewFaq, Outcome, StoreError, MAX_NOTE_CHARS,
};

on_both_backends!(
    a_classification_round_trips_with_its_operator_and_instant,
    a_call_without_a_record_can_be_classified,
    filing_again_replaces_and_keeps_every_revision_in_history,
    an_unknown_faq_is_refused_and_nothing_is_stored,
    linking_an_faq_counts_one_use_per_call_not_per_filing,
    relinking_moves_the_use_to_the_new_faq,
    an_overlong_note_is_refused,
    a_complaint_is_raised_by_the_filing_that_sets_it,
    classifications_of_many_calls_come_in_one_query,
    a_call_never_classified_has_no_classification,
);

fn filing(call_id: &str, operator: &str) -> NewClassification {
    NewClassification {
        call_id: call_id.into(),
        category: "イ".into(),
        outcome: Outcome::ResolvedFaq,
        complaint: false,
        escalated: false,
        faq_id: None,
        note: Some("申請方法を案内した。".into()),
        operator: operator.into(),
    }
}

async fn faq(ctx: &Ctx, question: &str) -> i64 {
    ctx.store
        .add_faq(&NewFaq::new(question, "回答", Some("イ")), at(0))
        .await
        .expect("add faq")
        .id
}

async fn uses(ctx: &Ctx, id: i64) -> i64 {
    ctx.store
        .get_faq(id)
        .await
        .expect("get")
        .expect("exists")
        .uses
}

async fn a_classification_round_trips_with_its_operator_and_instant(ctx: Ctx) {
    ctx.store
        .insert_call(&full_record("c1", at(0)))
        .await
        .expect("record");
    let filed = ctx
        .store
        .classify(&filing("c1", "op-1"), at(100))
        .await
        .expect("classify");
    assert_eq!(filed.previous, None);
    let stored = ctx
        .store
        .classification("c1")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(stored, filed.classification);
    assert_eq!(stored.category, "イ");
    assert_eq!(stored.outcome, Outcome::ResolvedFaq);
    assert_eq!(stored.note.as_deref(), Some("申請方法を案内した。"));
    assert_eq!(stored.operator, "op-1");
    assert_eq!((stored.created_at, stored.updated_at), (at(100), at(100)));
    assert_eq!(stored.revision, 1);
}

async fn a_call_without_a_record_can_be_classified(ctx: Ctx) {
    ctx.store
        .classify(&filing("still-ringing", "op-1"), at(5))
        .await
        .expect("classify before the record exists");
    assert!(ctx
        .store
        .classification("still-ringing")
        .await
        .expect("get")
        .is_some());
    // The record written later is not refused because of it.
    ctx.store
        .insert_call(&full_record("still-ringing", at(0)))
        .await
        .expect("record");
}

async fn filing_again_replaces_and_keeps_every_revision_in_history(ctx: Ctx) {
    ctx.store
        .classify(&filing("c1", "op-1"), at(100))
        .await
        .expect("first");
    let mut second = filing("c1", "op-2");
    second.category = "ケ".into();
    second.outcome = Outcome::CallbackNeeded;
    second.note = None;
    let filed = ctx.store.classify(&second, at(160)).await.expect("second");
    assert_eq!(filed.previous.as_ref().map(|p| p.revision), Some(1));
    let current = ctx
        .store
        .classification("c1")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(current.revision, 2);
    assert_eq!(current.category, "ケ");
    assert_eq!(current.operator, "op-2");
    assert_eq!(current.note, None);
    assert_eq!((current.created_at, current.updated_at), (at(100), at(160)));
    let history = ctx
        .store
        .classification_history("c1")
        .await
        .expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].category, "イ");
    assert_eq!(history[0].operator, "op-1");
    assert_eq!(history[0].updated_at, at(100));
    assert_eq!(history[1], current);
}

async fn an_unknown_faq_is_refused_and_nothing_is_stored(ctx: Ctx) {
    let mut with_faq = filing("c1", "op-1");
    with_faq.faq_id = Some(999);
    let err = ctx
        .store
        .classify(&with_faq, at(0))
        .await
        .expect_err("no faq 999");
    assert!(matches!(err, ClassificationError::UnknownFaq(999)), "{err}");
    assert_eq!(ctx.store.classification("c1").await.expect("get"), None);
    assert!(ctx
        .store
        .classification_history("c1")
        .await
        .expect("history")
        .is_empty());
}

async fn linking_an_faq_counts_one_use_per_call_not_per_filing(ctx: Ctx) {
    let id = faq(&ctx, "申請に必要なもの").await;
    let mut c = filing("c1", "op-1");
    c.faq_id = Some(id);
    ctx.store.classify(&c, at(0)).await.expect("first");
    ctx.store.classify(&c, at(10)).await.expect("same again");
    assert_eq!(uses(&ctx, id).await, 1);
    c.call_id = "c2".into();
    ctx.store.classify(&c, at(20)).await.expect("another call");
    assert_eq!(uses(&ctx, id).await, 2);
}

async fn relinking_moves_the_use_to_the_new_faq(ctx: Ctx) {
    let first = faq(&ctx, "申請に必要なもの").await;
    let second = faq(&ctx, "受け取りに必要なもの").await;
    let mut c = filing("c1", "op-1");
    c.faq_id = Some(first);
    ctx.store.classify(&c, at(0)).await.expect("first");
    c.faq_id = Some(second);
    ctx.store.classify(&c, at(10)).await.expect("relink");
    assert_eq!((uses(&ctx, first).await, uses(&ctx, second).await), (0, 1));
    c.faq_id = None;
    ctx.store.classify(&c, at(20)).await.expect("unlink");
    assert_eq!(uses(&ctx, second).await, 0);
}

async fn an_overlong_note_is_refused(ctx: Ctx) {
    let mut c = filing("c1", "op-1");
    c.note = Some("あ".repeat(MAX_NOTE_CHARS + 1));
    let err = ctx
        .store
        .classify(&c, at(0))
        .await
        .expect_err("note too long");
    assert!(matches!(err, ClassificationError::NoteTooLong), "{err}");
    assert!(
        !err.to_string().contains('あ'),
        "errors name the field, not its contents"
    );
}

async fn a_complaint_is_raised_by_the_filing_that_sets_it(ctx: Ctx) {
    let mut c = filing("c1", "op-1");
    let quiet = ctx.store.classify(&c, at(0)).await.expect("no complaint");
    assert!(!quiet.raised_complaint());
    c.complaint = true;
    let raised = ctx.store.classify(&c, at(10)).await.expect("complaint");
    assert!(raised.raised_complaint());
    let again = ctx.store.classify(&c, at(20)).await.expect("refiled");
    assert!(!again.raised_complaint(), "managers are told once");
}

async fn classifications_of_many_calls_come_in_one_query(ctx: Ctx) {
    for id in ["a", "b", "c"] {
        ctx.store
            .classify(&filing(id, "op-1"), at(0))
            .await
            .expect("classify");
    }
    let ids: Vec<String> = ["a", "c", "zz"].iter().map(|s| s.to_string()).collect();
    let mut found: Vec<String> = ctx
        .store
        .classifications(&ids)
        .await
        .expect("many")
        .into_iter()
        .map(|c| c.call_id)
        .collect();
    found.sort();
    assert_eq!(found, vec!["a", "c"]);
    assert!(ctx
        .store
        .classifications(&[])
        .await
        .expect("none asked")
        .is_empty());
}

async fn a_call_never_classified_has_no_classification(ctx: Ctx) {
    ctx.store
        .insert_call(&full_record("c1", at(0)))
        .await
        .expect("record");
    let found: Result<_, StoreError> = ctx.store.classification("c1").await;
    assert_eq!(found.expect("get"), None);
}
