//! The spool file: order, durability format, torn lines.

use std::io::Write;

use chrono::{TimeZone, Utc};

use super::*;
use crate::journal::OpenCall;

fn opened(id: &str) -> Entry {
    Entry::Opened(OpenCall {
        id: id.into(),
        node_id: "n1".into(),
        sip_call_id: format!("{id}@trunk"),
        caller: "0462001234".into(),
        called: "hotline".into(),
        arrived_at: Utc
            .timestamp_opt(1_767_225_600, 0)
            .single()
            .expect("in range"),
    })
}

fn ids(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(Entry::call_id).collect()
}

fn append_raw(spool: &Spool, bytes: &[u8]) {
    let mut file = OpenOptions::new()
        .append(true)
        .open(spool.path())
        .expect("spool file opens");
    file.write_all(bytes).expect("raw append");
}

#[test]
fn entries_read_back_in_the_order_they_were_appended() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut spool = Spool::open(dir.path()).expect("spool opens");
    spool.append(&[opened("a"), opened("b")]).expect("append");
    spool.append(&[opened("c")]).expect("append");
    let contents = spool.read().expect("read");
    assert_eq!(ids(&contents.entries), ["a", "b", "c"]);
    assert_eq!(contents.skipped, 0);
}

#[test]
fn a_spool_reopened_after_a_restart_keeps_its_entries() {
    let dir = tempfile::tempdir().expect("temp dir");
    Spool::open(dir.path())
        .expect("spool opens")
        .append(&[opened("a")])
        .expect("append");
    let mut again = Spool::open(dir.path()).expect("spool reopens");
    assert_eq!(ids(&again.read().expect("read").entries), ["a"]);
}

#[test]
fn a_torn_last_line_is_skipped_and_the_lines_before_it_are_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut spool = Spool::open(dir.path()).expect("spool opens");
    spool.append(&[opened("a")]).expect("append");
    append_raw(&spool, br#"{"opened":{"id":"b","node_"#);
    let contents = spool.read().expect("read");
    assert_eq!(ids(&contents.entries), ["a"]);
    assert_eq!(contents.skipped, 1);
}

#[test]
fn an_entry_appended_after_a_torn_line_starts_a_line_of_its_own() {
    let dir = tempfile::tempdir().expect("temp dir");
    let spool = Spool::open(dir.path()).expect("spool opens");
    append_raw(&spool, br#"{"opened":{"id":"torn"#);
    drop(spool);
    let mut spool = Spool::open(dir.path()).expect("spool reopens after the crash");
    spool.append(&[opened("after")]).expect("append");
    let contents = spool.read().expect("read");
    assert_eq!(ids(&contents.entries), ["after"]);
    assert_eq!(contents.skipped, 1);
}

#[test]
fn a_line_that_is_not_an_entry_is_skipped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut spool = Spool::open(dir.path()).expect("spool opens");
    spool.append(&[opened("a")]).expect("append");
    append_raw(&spool, b"{\"something\":\"else\"}\n");
    spool.append(&[opened("b")]).expect("append");
    let contents = spool.read().expect("read");
    assert_eq!(ids(&contents.entries), ["a", "b"]);
    assert_eq!(contents.skipped, 1);
}

#[test]
fn a_cleared_spool_is_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut spool = Spool::open(dir.path()).expect("spool opens");
    spool.append(&[opened("a")]).expect("append");
    assert!(!spool.is_empty().expect("metadata"));
    spool.clear().expect("clear");
    assert!(spool.is_empty().expect("metadata"));
    spool.append(&[opened("b")]).expect("append after clear");
    assert_eq!(ids(&spool.read().expect("read").entries), ["b"]);
}
