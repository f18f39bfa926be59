//! What `sqlite://` URLs do to the file system: the default deployment's first start.

use madoguchi_store::{Backend, CallQuery, Store};
use sqlx::sqlite::SqlitePool;

#[tokio::test]
async fn a_missing_sqlite_file_is_created_and_migrated() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("madoguchi.db");
    assert!(!path.exists());
    let store = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("connect creates the file");
    assert!(path.exists());
    assert_eq!(store.backend(), Backend::Sqlite);
    let page = store
        .list_calls(&CallQuery::default())
        .await
        .expect("tables exist");
    assert_eq!(page.total, 0);
}

#[tokio::test]
async fn the_sqlite_file_is_left_in_wal_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("wal.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::connect(&url).await.expect("connect");
    store.close().await;
    let pool = SqlitePool::connect(&url).await.expect("plain pool");
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_sqlite_file_in_a_missing_directory_is_a_connect_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("no/such/dir/calls.db");
    let err = Store::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect_err("the directory is not created");
    assert!(matches!(err, madoguchi_store::StoreError::Connect(_)));
}

/// Regression: pool connections opened together on a brand-new file raced to switch it to
/// WAL; that pragma does not wait for the busy timeout, so the first start failed now and
/// then with "database is locked". One connection now creates the file first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_on_a_new_file_never_finds_the_database_locked() {
    let dir = tempfile::tempdir().expect("temp dir");
    for n in 0..150 {
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("fresh-{n}.db")).display()
        );
        let store = Store::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("start {n} on a new file: {e}"));
        store.close().await;
    }
}
