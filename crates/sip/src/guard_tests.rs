//! The guard on a fake clock: `t(ms)` is an instant that many milliseconds after a fixed
//! start; nothing here sleeps.

use super::*;
use std::net::IpAddr;
use std::sync::LazyLock;

static START: LazyLock<Instant> = LazyLock::new(Instant::now);

fn t(ms: u64) -> Instant {
    *START + Duration::from_millis(ms)
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

const INVITE: &[u8] = b"INVITE sip:hotline@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.7\r\n\
User-Agent: Yealink SIP-T46U 108.86.0.20\r\nContent-Length: 0\r\n\r\n";
const REGISTER: &[u8] = b"REGISTER sip:192.0.2.10 SIP/2.0\r\nUser-Agent: Cisco/SPA504G\r\n\r\n";
const OPTIONS: &[u8] = b"OPTIONS sip:192.0.2.10 SIP/2.0\r\n\r\n";
const BYE: &[u8] = b"BYE sip:hotline@192.0.2.10 SIP/2.0\r\n\r\n";
const SCANNER: &[u8] = b"OPTIONS sip:100@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 1.2.3.4\r\n\
From: \"sipvicious\"<sip:100@1.1.1.1>;tag=1\r\nUser-Agent: friendly-scanner\r\n\r\n";

fn config() -> GuardConfig {
    GuardConfig {
        invite: Rate::new(10, 5),
        register: Rate::new(10, 5),
        options: Rate::new(2, 2),
        other: Rate::new(100, 20),
        auth_failures: 3,
        auth_window: Duration::from_secs(60),
        block_for: Duration::from_secs(600),
        block_scanners: true,
        max_sources: 100,
        exempt: vec!["10.0.0.0/8".parse().unwrap()],
    }
}

/// How many of `n` messages sent at `at` pass.
fn passed(guard: &mut Guard, source: IpAddr, payload: &[u8], n: usize, at: Instant) -> usize {
    (0..n)
        .filter(|_| guard.check(source, payload, at) == Verdict::Pass)
        .count()
}

#[test]
fn the_method_is_read_from_the_first_line() {
    assert_eq!(classify(INVITE), Arrival::Invite);
    assert_eq!(
        classify(b"\r\n\r\nregister sip:x SIP/2.0\r\n"),
        Arrival::Register
    );
    assert_eq!(classify(OPTIONS), Arrival::Options);
    assert_eq!(classify(BYE), Arrival::Other);
    assert_eq!(classify(b"SIP/2.0 200 OK\r\n\r\n"), Arrival::Other);
    assert_eq!(classify(b"INVITE"), Arrival::Other);
    assert_eq!(classify(b""), Arrival::Other);
    assert_eq!(classify(&[0xff, 0x00, 0x20, 0x41]), Arrival::Other);
}

#[test]
fn scanner_user_agents_are_recognised_in_any_case() {
    for ua in [
        "friendly-scanner",
        "sipvicious 0.3.4",
        "SIPVicious",
        "sipcli/v1.8",
        "sip-scan",
        "VaxSIPUserAgent/3.1",
        "sundayddr",
        "PPLSIP",
        "iWar",
        "smap 0.6.0",
    ] {
        let message = format!("OPTIONS sip:1@x SIP/2.0\r\nUser-Agent: {ua}\r\n\r\n");
        assert!(scanner_user_agent(message.as_bytes()), "{ua}");
    }
}

#[test]
fn real_phones_trunks_and_pbxs_are_not_scanners() {
    for ua in [
        "Yealink SIP-T46U 108.86.0.20",
        "Grandstream GXP2170 1.0.11.23",
        "PolycomVVX-VVX_411-UA/6.4.3",
        "Cisco/SPA504G-7.6.2",
        "Asterisk PBX 20.5.0",
        "FPBX-16.0.40(18.20.0)",
        "FreeSWITCH-mod_sofia/1.10.11",
        "Linphone/5.2.0 (belle-sip/5.2.0)",
        "baresip v3.10.0 (x86_64/linux)",
        "JsSIP 3.10.0",
        "MicroSIP/3.21.3",
        "Zoiper rv2.10.20.3",
        "NEC SV9100",
        "Panasonic-KX-HDV230",
        "Kamailio (5.7.2 (x86_64/linux))",
        "Bria 6 release 6.5.3",
        "smapper-pbx 1.0",
        "madoguchi/0.1.0",
    ] {
        let message = format!("INVITE sip:1@x SIP/2.0\r\nUser-Agent: {ua}\r\n\r\n");
        assert!(!scanner_user_agent(message.as_bytes()), "{ua}");
    }
}

#[test]
fn only_the_user_agent_header_of_the_head_is_looked_at() {
    // A scanner name in From or in the body is not a scanner's User-Agent.
    let from = b"INVITE sip:1@x SIP/2.0\r\nFrom: \"friendly-scanner\" <sip:a@b>\r\n\r\n";
    assert!(!scanner_user_agent(from));
    let body = b"MESSAGE sip:1@x SIP/2.0\r\nUser-Agent: Yealink\r\n\r\nUser-Agent: sipvicious";
    assert!(!scanner_user_agent(body));
    let request_line = b"OPTIONS sip:sipvicious@x SIP/2.0\r\n\r\n";
    assert!(!scanner_user_agent(request_line));
}

#[test]
fn networks_parse_and_match_v4_and_v6() {
    let net: Network = "192.0.2.0/24".parse().unwrap();
    assert!(net.contains(ip("192.0.2.200")));
    assert!(!net.contains(ip("192.0.3.1")));
    assert!(!net.contains(ip("::1")));
    let host: Network = "127.0.0.1".parse().unwrap();
    assert!(host.contains(ip("127.0.0.1")));
    assert!(!host.contains(ip("127.0.0.2")));
    let all: Network = "0.0.0.0/0".parse().unwrap();
    assert!(all.contains(ip("203.0.113.9")));
    let v6: Network = "2001:db8::/32".parse().unwrap();
    assert!(v6.contains(ip("2001:db8:1::5")));
    assert!(!v6.contains(ip("2001:db9::5")));
    assert_eq!(net.to_string(), "192.0.2.0/24");
    assert_eq!(Network::host(ip("::1")).to_string(), "::1/128");
}

#[test]
fn bad_networks_are_refused() {
    for text in [
        "",
        "192.0.2.0/33",
        "::/129",
        "example.org",
        "192.0.2.0/x",
        "1.2.3/8",
    ] {
        assert!(text.parse::<Network>().is_err(), "{text}");
    }
}

#[test]
fn a_burst_of_invites_passes_and_the_rest_is_dropped() {
    let mut guard = Guard::new(config());
    let source = ip("192.0.2.7");
    assert_eq!(passed(&mut guard, source, INVITE, 5, t(0)), 5);
    assert_eq!(
        guard.check(source, INVITE, t(0)),
        Verdict::Drop(DropReason::InviteRate)
    );
}

#[test]
fn the_bucket_refills_at_the_sustained_rate() {
    let mut guard = Guard::new(config());
    let source = ip("192.0.2.7");
    assert_eq!(passed(&mut guard, source, INVITE, 50, t(0)), 5);
    // 10/s: one more every 100 ms.
    assert_eq!(passed(&mut guard, source, INVITE, 50, t(100)), 1);
    assert_eq!(passed(&mut guard, source, INVITE, 50, t(150)), 0);
    assert_eq!(passed(&mut guard, source, INVITE, 50, t(300)), 2);
    // After a quiet second, the whole burst again.
    assert_eq!(passed(&mut guard, source, INVITE, 50, t(1_300)), 5);
}

#[test]
fn a_steady_rate_below_the_limit_is_never_dropped() {
    let mut guard = Guard::new(config());
    let source = ip("192.0.2.7");
    for i in 0..1_000 {
        assert_eq!(
            guard.check(source, INVITE, t(i * 100)),
            Verdict::Pass,
            "{i}"
        );
    }
}

#[test]
fn each_method_has_its_own_bucket() {
    let mut guard = Guard::new(config());
    let source = ip("192.0.2.7");
    assert_eq!(passed(&mut guard, source, INVITE, 50, t(0)), 5);
    assert_eq!(passed(&mut guard, source, REGISTER, 50, t(0)), 5);
    assert_eq!(passed(&mut guard, source, OPTIONS, 50, t(0)), 2);
    assert_eq!(passed(&mut guard, source, BYE, 50, t(0)), 20);
    assert_eq!(
        guard.check(source, REGISTER, t(0)),
        Verdict::Drop(DropReason::RegisterRate)
    );
    assert_eq!(
        guard.check(source, OPTIONS, t(0)),
        Verdict::Drop(DropReason::OptionsRate)
    );
    assert_eq!(
        guard.check(source, b"\x00\x01junk", t(0)),
        Verdict::Drop(DropReason::OtherRate)
    );
}

#[test]
fn one_flooding_source_does_not_limit_another() {
    let mut guard = Guard::new(config());
    let flooder = ip("127.0.0.3");
    let resident = ip("127.0.0.1");
    for ms in 0..2_000 {
        passed(&mut guard, flooder, INVITE, 20, t(ms));
        if ms % 500 == 0 {
            assert_eq!(guard.check(resident, INVITE, t(ms)), Verdict::Pass);
        }
    }
}

#[test]
fn a_zero_rate_means_no_limit() {
    let mut guard = Guard::new(GuardConfig {
        invite: Rate::new(0, 0),
        ..config()
    });
    assert_eq!(
        passed(&mut guard, ip("192.0.2.7"), INVITE, 10_000, t(0)),
        10_000
    );
}

#[test]
fn exempt_networks_are_never_limited_or_blocked() {
    let mut guard = Guard::new(config());
    let trunk = ip("10.1.2.3");
    assert_eq!(passed(&mut guard, trunk, INVITE, 10_000, t(0)), 10_000);
    for _ in 0..10 {
        guard.auth_failed(trunk, t(0));
    }
    assert_eq!(guard.check(trunk, REGISTER, t(1)), Verdict::Pass);
    assert_eq!(guard.poll_event(), None);
    assert_eq!(guard.tracked_sources(), 0);
}

#[test]
fn a_scanner_is_dropped_and_its_source_blocked() {
    let mut guard = Guard::new(config());
    let scanner = ip("203.0.113.66");
    assert_eq!(
        guard.check(scanner, SCANNER, t(0)),
        Verdict::Drop(DropReason::Scanner)
    );
    assert_eq!(
        guard.poll_event(),
        Some(GuardEvent::Blocked {
            source: scanner,
            reason: BlockReason::Scanner,
            until: t(600_000),
        })
    );
    // Even its well-formed, polite INVITEs are dropped from now on.
    assert_eq!(
        guard.check(scanner, INVITE, t(1_000)),
        Verdict::Drop(DropReason::Blocked)
    );
    assert!(guard.is_blocked(scanner, t(599_999)));
    assert_eq!(guard.check(scanner, INVITE, t(600_000)), Verdict::Pass);
}

#[test]
fn scanner_blocking_can_be_turned_off() {
    let mut guard = Guard::new(GuardConfig {
        block_scanners: false,
        ..config()
    });
    assert_eq!(
        guard.check(ip("203.0.113.66"), SCANNER, t(0)),
        Verdict::Pass
    );
}

#[test]
fn failed_digests_block_after_the_threshold_within_the_window() {
    let mut guard = Guard::new(config());
    let brute = ip("198.51.100.9");
    guard.auth_failed(brute, t(0));
    guard.auth_failed(brute, t(1_000));
    assert!(!guard.is_blocked(brute, t(1_000)));
    assert_eq!(guard.check(brute, REGISTER, t(1_500)), Verdict::Pass);
    guard.auth_failed(brute, t(2_000));
    assert_eq!(
        guard.poll_event(),
        Some(GuardEvent::Blocked {
            source: brute,
            reason: BlockReason::AuthFailures,
            until: t(602_000),
        })
    );
    assert_eq!(
        guard.check(brute, REGISTER, t(2_001)),
        Verdict::Drop(DropReason::Blocked)
    );
    assert_eq!(
        guard.check(ip("198.51.100.10"), REGISTER, t(2_001)),
        Verdict::Pass
    );
}

#[test]
fn failures_spread_beyond_the_window_do_not_block() {
    let mut guard = Guard::new(config());
    let phone = ip("198.51.100.9");
    // A phone with a stale password retrying every 40 s: 2 failures per 60 s window at most.
    for i in 0..20 {
        guard.auth_failed(phone, t(i * 40_000));
    }
    assert_eq!(guard.poll_event(), None);
    assert!(!guard.is_blocked(phone, t(800_000)));
}

#[test]
fn a_block_ends_and_the_count_starts_again() {
    let mut guard = Guard::new(config());
    let brute = ip("198.51.100.9");
    for _ in 0..3 {
        guard.auth_failed(brute, t(0));
    }
    assert!(guard.poll_event().is_some());
    assert!(guard.is_blocked(brute, t(599_999)));
    assert!(!guard.is_blocked(brute, t(600_000)));
    guard.auth_failed(brute, t(600_001));
    guard.auth_failed(brute, t(600_002));
    assert!(!guard.is_blocked(brute, t(600_003)));
    guard.auth_failed(brute, t(600_003));
    assert!(guard.is_blocked(brute, t(600_004)));
}

#[test]
fn zero_auth_failures_never_blocks() {
    let mut guard = Guard::new(GuardConfig {
        auth_failures: 0,
        ..config()
    });
    for _ in 0..100 {
        guard.auth_failed(ip("198.51.100.9"), t(0));
    }
    assert_eq!(guard.poll_event(), None);
}

#[test]
fn idle_sources_are_forgotten_and_blocked_ones_kept() {
    let mut guard = Guard::new(config());
    for i in 0..50u8 {
        guard.check(IpAddr::from([192, 0, 2, i]), INVITE, t(0));
    }
    for _ in 0..3 {
        guard.auth_failed(ip("198.51.100.9"), t(0));
    }
    assert_eq!(guard.tracked_sources(), 51);
    // The failure window (60 s) is over and every bucket is full again.
    guard.check(ip("203.0.113.1"), OPTIONS, t(61_000));
    assert_eq!(guard.tracked_sources(), 2);
    assert!(guard.is_blocked(ip("198.51.100.9"), t(61_000)));
}

#[test]
fn a_full_table_shares_one_overflow_entry_among_new_sources() {
    let mut guard = Guard::new(GuardConfig {
        max_sources: 3,
        ..config()
    });
    for i in 1..=3u8 {
        assert_eq!(
            guard.check(IpAddr::from([192, 0, 2, i]), INVITE, t(0)),
            Verdict::Pass
        );
    }
    // New sources beyond the cap: tracked nowhere, one burst between them all.
    let spoofed = (10..200u8).map(|i| IpAddr::from([198, 51, 100, i]));
    let passed = spoofed
        .filter(|&s| guard.check(s, INVITE, t(0)) == Verdict::Pass)
        .count();
    assert_eq!(passed, 5);
    assert_eq!(guard.tracked_sources(), 3);
    // Tracked sources keep their own buckets.
    assert_eq!(
        guard.check(IpAddr::from([192, 0, 2, 1]), INVITE, t(0)),
        Verdict::Pass
    );
}

#[test]
fn a_full_table_does_not_push_out_a_blocked_source() {
    let mut guard = Guard::new(GuardConfig {
        max_sources: 2,
        ..config()
    });
    let brute = ip("198.51.100.9");
    for _ in 0..3 {
        guard.auth_failed(brute, t(0));
    }
    for i in 0..100u8 {
        guard.check(IpAddr::from([192, 0, 2, i]), INVITE, t(1));
    }
    assert!(guard.is_blocked(brute, t(2)));
    assert_eq!(
        guard.check(brute, INVITE, t(2)),
        Verdict::Drop(DropReason::Blocked)
    );
}

#[test]
fn memory_stays_bounded_under_a_spoofed_flood() {
    let mut guard = Guard::new(GuardConfig {
        max_sources: 1_000,
        ..config()
    });
    for i in 0..100_000u32 {
        let source = IpAddr::from(
            0x0a00_0000u32
                .wrapping_add(i)
                .wrapping_add(1 << 28)
                .to_be_bytes(),
        );
        guard.check(source, INVITE, t(u64::from(i / 100)));
    }
    assert!(guard.tracked_sources() <= 1_000);
}

#[test]
fn drop_and_block_reasons_have_metric_labels() {
    let reasons = DropReason::ALL;
    for (i, reason) in reasons.iter().enumerate() {
        assert_eq!(reason.index(), i);
    }
    let labels: std::collections::HashSet<_> = reasons.iter().map(|r| r.as_str()).collect();
    assert_eq!(labels.len(), reasons.len());
    assert_eq!(BlockReason::AuthFailures.as_str(), "auth_failures");
    assert_eq!(BlockReason::Scanner.as_str(), "scanner");
}
