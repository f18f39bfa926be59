//! Caps on dialogs and transactions per source and in total (`caps.rs`): 503 with
//! Retry-After beyond them, counted, and never for requests inside a dialog.

use super::*;
use crate::caps::SessionCaps;

fn capped(caps: SessionCaps) -> Harness {
    let mut h = Harness::new();
    h.ep.set_caps(caps);
    h
}

fn small() -> SessionCaps {
    SessionCaps {
        dialogs_per_source: 2,
        dialogs_total: 3,
        transactions_per_source: 4,
        transactions_total: 6,
        retry_after_secs: 17,
        exempt: vec!["203.0.113.0/24".parse().unwrap()],
    }
}

fn from(ip: &str) -> SocketAddr {
    format!("{ip}:5060").parse().unwrap()
}

/// A fresh INVITE (own Call-ID and branch) from `source`; returns the final status sent, or
/// 100 when only Trying went out (a new call).
fn call(h: &mut Harness, source: SocketAddr, n: usize) -> u16 {
    let out = h.send_from(
        Transport::Udp,
        source,
        &invite_call(&format!("c{n}@x"), &format!("cap{n}"), ""),
    );
    h.events();
    out.last().map(status).unwrap_or(0)
}

#[test]
fn invites_beyond_the_dialogs_of_one_source_get_503_with_retry_after() {
    let mut h = capped(small());
    let flooder = from("198.51.100.3");
    assert_eq!(call(&mut h, flooder, 1), 100);
    assert_eq!(call(&mut h, flooder, 2), 100);
    let out = h.send_from(Transport::Udp, flooder, &invite_call("c3@x", "cap3", ""));
    assert_eq!(status(&out[0]), 503);
    assert_eq!(header(&text(&out[0]), "Retry-After"), Some("17"));
    assert!(h.events().is_empty());
    assert_eq!(h.ep.active_dialogs(), 2);
    assert_eq!(h.ep.stats().refused.get("dialogs_per_source"), Some(&1));
}

#[test]
fn another_source_still_gets_its_calls_while_one_is_at_its_cap() {
    let mut h = capped(small());
    let flooder = from("198.51.100.3");
    for n in 0..5 {
        call(&mut h, flooder, n);
    }
    assert_eq!(call(&mut h, from("198.51.100.1"), 10), 100);
}

#[test]
fn the_total_dialog_cap_applies_to_every_source_even_exempt_ones() {
    let mut h = capped(small());
    assert_eq!(call(&mut h, from("198.51.100.1"), 1), 100);
    assert_eq!(call(&mut h, from("198.51.100.2"), 2), 100);
    assert_eq!(call(&mut h, from("203.0.113.5"), 3), 100);
    assert_eq!(call(&mut h, from("203.0.113.5"), 4), 503);
    assert_eq!(h.ep.stats().refused.get("dialogs_total"), Some(&1));
}

#[test]
fn exempt_sources_skip_the_per_source_dialog_cap() {
    let mut h = capped(SessionCaps {
        dialogs_total: 100,
        transactions_total: 100,
        transactions_per_source: 100,
        ..small()
    });
    let trunk = from("203.0.113.5");
    for n in 0..10 {
        assert_eq!(call(&mut h, trunk, n), 100, "{n}");
    }
}

#[test]
fn requests_inside_a_dialog_are_never_refused_by_a_cap() {
    let mut h = capped(SessionCaps {
        dialogs_per_source: 1,
        transactions_per_source: 1,
        ..small()
    });
    let (_leg, tag) = h.confirmed("");
    assert_eq!(
        status(&h.send(&out_of_dialog("OPTIONS", "o1"))[0]),
        503,
        "a new request from the same source is over the transaction cap"
    );
    let out = h.send(&in_dialog("BYE", 2, "bye1", &tag, ""));
    assert_eq!(status(&out[0]), 200);
}

#[test]
fn out_of_dialog_requests_beyond_the_transactions_of_one_source_get_503() {
    let mut h = capped(small());
    let scanner = from("198.51.100.3");
    let statuses: Vec<u16> = (0..6)
        .map(|n| {
            let out = h.send_from(
                Transport::Udp,
                scanner,
                &out_of_dialog("OPTIONS", &format!("o{n}")),
            );
            status(&out[0])
        })
        .collect();
    // Completed OPTIONS transactions linger (Timer J), so they count.
    assert_eq!(statuses, [200, 200, 200, 200, 503, 503]);
    assert_eq!(
        h.ep.stats().refused.get("transactions_per_source"),
        Some(&2)
    );
    // Once Timer J (64·T1) has run, the source may ask again.
    h.advance(40_000);
    let out = h.send_from(Transport::Udp, scanner, &out_of_dialog("OPTIONS", "o9"));
    assert_eq!(status(&out[0]), 200);
}

#[test]
fn an_endpoint_starts_without_caps() {
    let mut h = Harness::new();
    let sipp = from("198.51.100.1");
    for n in 0..1_000 {
        assert_eq!(call(&mut h, sipp, n), 100, "{n}");
    }
}

#[test]
fn the_default_caps_do_not_refuse_a_busy_source() {
    let mut h = capped(SessionCaps::default());
    let office = from("198.51.100.1");
    for n in 0..150 {
        assert_eq!(call(&mut h, office, n), 100, "{n}");
    }
}
