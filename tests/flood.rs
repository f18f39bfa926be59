//! End to end: floods, brute forcers and scanners against the real binary over loopback.
//!
//! - Two flooders send ~20,000 datagrams/s for a bounded time: junk from 127.0.0.2 and
//!   valid-looking INVITEs (fresh Call-IDs) from 127.0.0.3, while residents call from
//!   127.0.0.1: every resident is answered and hears the greeting. The measured setup times,
//!   failures and the guard's drop counters are printed.
//! - A REGISTER brute force from 127.0.0.4 is blocked after the allowed failures, while a
//!   phone with the right password still registers from 127.0.0.1.
//! - A scanner's User-Agent is dropped unanswered and its address blocked.

mod support;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use madoguchi_media::Codec;
use madoguchi_prompts::PromptCache;
use support::center::{self, Center};
use support::phone::Phone;
use support::{free_udp_port, repo_root, EngineProcess, Options};

/// Wednesday 2026-11-25 10:00 JST: the hotline is open.
const OPEN_WEDNESDAY: &str = "2026-11-25 01:00:00";
const FLOOD_FOR: Duration = Duration::from_secs(8);
/// Datagrams per second of each flooder, and the most either sends.
const FLOOD_RATE: u64 = 10_000;
const FLOOD_MAX: u64 = 100_000;
const RESIDENT_CALLS: usize = 20;
/// Frames of the greeting a resident must hear (one second).
const HEARD_FRAMES: usize = 50;

/// The first PCMU frames of the greeting, as the engine must send them.
fn greeting_frames(count: usize) -> Vec<Vec<u8>> {
    let path = repo_root().join("sounds/ja/greeting.wav");
    let cache = PromptCache::load([("p", Path::new(&path))]).expect("prompt loads");
    let prompt = cache.get(cache.id("p").expect("id"));
    (0..prompt.frames().min(count))
        .map(|i| prompt.frame(Codec::Pcmu, i).expect("frame").to_vec())
        .collect()
}

/// One counter or gauge of `/metrics` (0 when absent).
fn metric(engine: &EngineProcess, series: &str) -> f64 {
    let (_, text) = engine.get("/metrics");
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Polls a metric until it reaches `at_least` (the guard counts synchronously, the
/// endpoint's counters once a second).
fn wait_for_metric(engine: &EngineProcess, series: &str, at_least: f64) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let value = metric(engine, series);
        if value >= at_least || Instant::now() > deadline {
            return value;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A tiny deterministic generator for the junk (xorshift64).
struct Junk(u64);

impl Junk {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn datagram(&mut self, n: u64) -> Vec<u8> {
        match n % 4 {
            0 => (0..(self.next() % 400 + 1))
                .map(|_| self.next() as u8)
                .collect(),
            1 => b"INVITE sip:0120000000@127.0.0.1 SIP/2.0\r\nVia: nonsense\r\n\r\n".to_vec(),
            2 => format!("OPTIONS sip:{}@127.0.0.1 SIP/2.0\r\n\r\n", self.next()).into_bytes(),
            _ => b"SIP/2.0 200 OK\r\nCSeq: x\r\n\r\n".to_vec(),
        }
    }
}

/// A valid-looking INVITE with a fresh Call-ID, branch and tag, from 127.0.0.3.
fn flood_invite(local: SocketAddr, engine: SocketAddr, n: u64) -> Vec<u8> {
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.3\r\ns=-\r\nc=IN IP4 127.0.0.3\r\nt=0 0\r\n\
               m=audio 9 RTP/AVP 0\r\na=sendrecv\r\n";
    format!(
        "INVITE sip:0120000000@{engine} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {local};branch=z9hG4bK-flood-{n};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:0312345678@127.0.0.3>;tag=f{n}\r\n\
         To: <sip:0120000000@{engine}>\r\nCall-ID: flood-{n}@127.0.0.3\r\n\
         CSeq: 1 INVITE\r\nContact: <sip:flood@{local}>\r\nUser-Agent: Yealink SIP-T46U\r\n\
         Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
    .into_bytes()
}

/// Sends `make(n)` from `from` to `engine` at `FLOOD_RATE` per second until `FLOOD_FOR`
/// passed, `FLOOD_MAX` were sent or `stop` is set; returns how many were sent.
fn flood(
    from: &str,
    engine: SocketAddr,
    stop: Arc<AtomicBool>,
    mut make: impl FnMut(SocketAddr, u64) -> Vec<u8> + Send + 'static,
) -> std::thread::JoinHandle<u64> {
    let socket = UdpSocket::bind(from).expect("bind a flooder on loopback");
    std::thread::spawn(move || {
        let local = socket.local_addr().expect("addr");
        let start = Instant::now();
        let mut sent = 0u64;
        while sent < FLOOD_MAX && start.elapsed() < FLOOD_FOR && !stop.load(Ordering::Relaxed) {
            // Pace in 1 ms slices: as many as the rate allows by now.
            let due = (start.elapsed().as_micros() as u64 * FLOOD_RATE / 1_000_000).min(FLOOD_MAX);
            while sent < due {
                let _ = socket.send_to(&make(local, sent), engine);
                sent += 1;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        sent
    })
}

/// One resident's call: setup time to the 200 OK, and the greeting heard from its start.
async fn resident_call(
    engine: SocketAddr,
    greeting: Arc<Vec<Vec<u8>>>,
) -> Result<Duration, String> {
    let mut phone = Phone::new(engine).await;
    let start = Instant::now();
    let answer = phone.call_retransmitting("0120000000").await;
    let setup = start.elapsed();
    if answer.status() != Some(200) {
        return Err(format!("answered {:?}", answer.status()));
    }
    phone.listen(greeting.len(), Duration::from_secs(10)).await;
    let heard: Vec<&[u8]> = phone.heard.iter().map(|p| p.payload.as_slice()).collect();
    let expected: Vec<&[u8]> = greeting.iter().map(Vec::as_slice).collect();
    if heard.get(..expected.len()) != Some(expected.as_slice()) {
        return Err(format!("heard {} frames, not the greeting", heard.len()));
    }
    if phone.hangup_retransmitting().await.status() != Some(200) {
        return Err("BYE not answered".into());
    }
    Ok(setup)
}

/// Datagrams the kernel dropped for the engine's SIP socket because its receive buffer was
/// full (the last column of its line in /proc/net/udp).
fn kernel_drops_at(sip: SocketAddr) -> u64 {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    let local = format!(":{:04X}", sip.port());
    table
        .lines()
        .filter(|line| {
            line.split_whitespace()
                .nth(1)
                .is_some_and(|addr| addr.ends_with(&local))
        })
        .filter_map(|line| line.split_whitespace().last()?.parse::<u64>().ok())
        .sum()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn residents_are_answered_and_hear_the_greeting_during_a_flood_from_other_addresses() {
    let engine = EngineProcess::start(Options {
        faketime_utc: Some(OPEN_WEDNESDAY.to_owned()),
        ..Options::default()
    });
    let greeting = Arc::new(greeting_frames(HEARD_FRAMES));
    let stop = Arc::new(AtomicBool::new(false));
    let mut junk = Junk(0x9e37_79b9_7f4a_7c15);
    let junk_flood = flood("127.0.0.2:0", engine.sip, stop.clone(), move |_, n| {
        junk.datagram(n)
    });
    let sip = engine.sip;
    let invite_flood = flood("127.0.0.3:0", engine.sip, stop.clone(), move |local, n| {
        flood_invite(local, sip, n)
    });

    // Residents call while the flood runs: one every 300 ms, each on its own phone.
    let mut calls = Vec::new();
    for _ in 0..RESIDENT_CALLS {
        tokio::time::sleep(Duration::from_millis(300)).await;
        calls.push(tokio::spawn(resident_call(engine.sip, greeting.clone())));
    }
    let mut setups = Vec::new();
    let mut failures = Vec::new();
    for call in calls {
        match call.await {
            Ok(Ok(setup)) => setups.push(setup),
            Ok(Err(error)) => failures.push(error),
            Err(panic) => failures.push(format!("phone gave up: {panic}")),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let junk_sent = junk_flood.join().expect("junk flooder");
    let invites_sent = invite_flood.join().expect("INVITE flooder");
    let kernel_drops = kernel_drops_at(engine.sip);

    setups.sort();
    let dropped = |reason: &str| {
        metric(
            &engine,
            &format!("madoguchi_sip_dropped_total{{reason=\"{reason}\"}}"),
        )
    };
    let refused = wait_for_metric(
        &engine,
        "madoguchi_sip_refused_total{reason=\"dialogs_per_source\"}",
        1.0,
    );
    println!(
        "flood: sent {junk_sent} junk datagrams from 127.0.0.2 and {invites_sent} INVITEs from \
         127.0.0.3 in {FLOOD_FOR:?}"
    );
    println!(
        "residents: {} of {RESIDENT_CALLS} answered with the greeting, {} failed; setup p50 {:?} \
         p95 {:?} max {:?}",
        setups.len(),
        failures.len(),
        percentile(&setups, 0.5),
        percentile(&setups, 0.95),
        setups.last().copied().unwrap_or_default()
    );
    println!(
        "guard: dropped other_rate {} invite_rate {} queue_full {}; unparseable {}; refused \
         dialogs_per_source {refused}; active calls {}; dropped by the kernel (SIP socket buffer full) {kernel_drops}",
        dropped("other_rate"),
        dropped("invite_rate"),
        dropped("queue_full"),
        dropped("unparseable"),
        metric(&engine, "madoguchi_active_calls"),
    );

    assert!(failures.is_empty(), "{failures:?}\n{}", engine.log());
    assert_eq!(setups.len(), RESIDENT_CALLS);
    for setup in &setups {
        assert!(*setup < Duration::from_secs(3), "a setup took {setup:?}");
    }
    assert!(junk_sent > 10_000 && invites_sent > 10_000, "the flood ran");
    assert!(
        dropped("other_rate") > 0.0,
        "junk beyond its rate is dropped"
    );
    assert!(
        dropped("invite_rate") > 0.0,
        "INVITEs beyond their rate are dropped"
    );
    assert!(refused > 0.0, "the flooder's dialogs are capped");
}

/// sipp registering `login` with a wrong password, `calls` times one after another, from
/// `local_ip`; returns its exit code and output.
fn brute_force(engine: &EngineProcess, local_ip: &str, login: &str, calls: usize) -> (i32, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new("sipp")
        .arg(engine.sip.to_string())
        .arg("-sf")
        .arg(repo_root().join("tests/sipp/register_wrong_password.xml"))
        .args(["-i", local_ip, "-nostdin", "-timeout", "60s"])
        .args(["-p", &free_udp_port().to_string()])
        .args(["-s", login, "-au", login, "-ap", "wrong-guess"])
        .args(["-m", &calls.to_string(), "-l", "1", "-recv_timeout", "1500"])
        .args(["-trace_err", "-error_file"])
        .arg(dir.path().join("errors.log"))
        .output()
        .expect("run sipp (is sip-tester installed?)");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_register_brute_force_is_blocked_while_the_right_password_still_registers() {
    let center = Center::with_operators(&["2001"]);
    let engine = center.start(&[]);

    // The default allows 10 failed digests a minute; the 11th guess is never answered.
    let (code, output) = brute_force(&engine, "127.0.0.4", "2001", 14);
    assert_ne!(code, 0, "the last guesses go unanswered:\n{output}");
    let blocks = wait_for_metric(
        &engine,
        "madoguchi_sip_blocks_total{reason=\"auth_failures\"}",
        1.0,
    );
    let failures = wait_for_metric(&engine, "madoguchi_sip_auth_failures_total", 10.0);
    let dropped = metric(&engine, "madoguchi_sip_dropped_total{reason=\"blocked\"}");
    println!("brute force: {failures} failed digests, {blocks} block, {dropped} dropped after it");
    assert_eq!(blocks, 1.0);
    assert_eq!(
        failures, 10.0,
        "no guess reaches the registrar once blocked"
    );
    assert!(dropped > 0.0);
    let log = engine.log();
    assert!(
        log.lines().any(|l| l.contains("WARN")
            && l.contains("SIP source blocked")
            && l.contains("127.0.0.4")),
        "the block is logged with the address:\n{log}"
    );

    // The operator's phone on another address is not affected.
    center::register(&engine, "2001");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanner_is_not_answered_and_its_address_is_blocked() {
    let engine = EngineProcess::start(Options::default());
    let options = |ua: &str, branch: &str, from: SocketAddr| {
        format!(
            "OPTIONS sip:100@{sip} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bK{branch}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:100@{from}>;tag={branch}\r\nTo: <sip:100@{sip}>\r\n\
             Call-ID: {branch}@scan\r\nCSeq: 1 OPTIONS\r\nUser-Agent: {ua}\r\n\
             Content-Length: 0\r\n\r\n",
            sip = engine.sip
        )
    };
    let ask = |socket: &UdpSocket, text: String| -> Option<String> {
        socket.send_to(text.as_bytes(), engine.sip).expect("send");
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let mut buf = [0u8; 4096];
        let (len, _) = socket.recv_from(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..len]).into_owned())
    };

    // The same OPTIONS from a real phone is answered.
    let phone = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let local = phone.local_addr().expect("addr");
    let answer = ask(&phone, options("Yealink SIP-T46U", "p1", local));
    assert!(answer.is_some_and(|a| a.starts_with("SIP/2.0 200")));

    let scanner = UdpSocket::bind("127.0.0.5:0").expect("bind");
    let local = scanner.local_addr().expect("addr");
    scanner
        .send_to(
            options("friendly-scanner", "s1", local).as_bytes(),
            engine.sip,
        )
        .expect("send");
    assert_eq!(
        wait_for_metric(
            &engine,
            "madoguchi_sip_blocks_total{reason=\"scanner\"}",
            1.0
        ),
        1.0
    );
    // Blocked: even a polite request from that address is dropped unanswered.
    scanner
        .send_to(
            options("Yealink SIP-T46U", "s2", local).as_bytes(),
            engine.sip,
        )
        .expect("send");
    assert_eq!(
        wait_for_metric(
            &engine,
            "madoguchi_sip_dropped_total{reason=\"blocked\"}",
            1.0
        ),
        1.0
    );
    scanner.set_nonblocking(true).expect("nonblocking");
    let mut buf = [0u8; 4096];
    assert!(
        scanner.recv_from(&mut buf).is_err(),
        "the scanner got no answer"
    );
    assert_eq!(
        metric(&engine, "madoguchi_sip_dropped_total{reason=\"scanner\"}"),
        1.0
    );
}
