//! A load helper, not run by default: many bridged pairs talking both ways at 50 packets/s
//! while other legs play looped prompts on the shared tick. Reports the latency the relay adds
//! and checks the prompts keep flowing without gaps.
//!
//! `MADOGUCHI_RELAY_PAIRS=200 MADOGUCHI_PROMPT_LEGS=100 cargo test --release --bin madoguchi \
//!  relay_under_load -- --ignored --nocapture`

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use madoguchi_media::rtp::{RtpHeader, RtpSender};
use madoguchi_media::Codec;
use tokio::net::UdpSocket;
use tokio::task::JoinSet;
use tokio::time::timeout;

use super::{FarEnd, Harness};
use crate::engine::MediaCommand;

/// A far end's receiving side goes quiet this long after the senders stop.
const QUIET: Duration = Duration::from_millis(500);

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Receives until the socket is quiet; returns per-packet latencies (from the send instant
/// carried in the payload) and the number of sequence gaps.
async fn collect(socket: Arc<UdpSocket>, base: Instant) -> (Vec<Duration>, u64) {
    let mut buf = [0u8; 1500];
    let mut latencies = Vec::new();
    let mut gaps = 0;
    let mut last_seq: Option<u16> = None;
    while let Ok(Ok((len, _))) = timeout(QUIET, socket.recv_from(&mut buf)).await {
        let Ok((header, payload)) = RtpHeader::parse(&buf[..len]) else {
            continue;
        };
        if last_seq.is_some_and(|s| s.wrapping_add(1) != header.sequence_number) {
            gaps += 1;
        }
        last_seq = Some(header.sequence_number);
        if let Some(stamp) = payload.get(..8).and_then(|b| b.try_into().ok()) {
            let sent = u64::from_be_bytes(stamp);
            latencies.push(Duration::from_nanos(nanos_since(base).saturating_sub(sent)));
        }
    }
    (latencies, gaps)
}

fn nanos_since(base: Instant) -> u64 {
    u64::try_from(base.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted
        .get(sorted.len().saturating_sub(1) * p / 100)
        .copied()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "load helper; run with --ignored --nocapture, ideally in --release"]
async fn relay_under_load() {
    let pairs = env_or("MADOGUCHI_RELAY_PAIRS", 200);
    let prompt_legs = env_or("MADOGUCHI_PROMPT_LEGS", 100);
    let seconds = env_or("MADOGUCHI_LOAD_SECONDS", 3);
    let mut h = Harness::with_ports(42_000..=45_999);
    let tone = h.tone;

    // Same law on both sides: the payload (carrying the send instant) arrives untouched.
    let mut talkers: Vec<FarEnd> = Vec::new();
    for _ in 0..pairs {
        let (a, end_a) = h.leg(Codec::Pcmu, None).await;
        let (b, end_b) = h.leg(Codec::Pcmu, None).await;
        h.send(MediaCommand::Bridge { a, b });
        talkers.extend([end_a, end_b]);
    }
    let mut listeners = Vec::new();
    let mut players = Vec::new();
    for n in 0..prompt_legs {
        let (leg, end) = h.leg(Codec::Pcmu, None).await;
        h.send(MediaCommand::Play {
            leg,
            prompt: tone,
            playback: n as u32,
            looped: true,
        });
        listeners.push(Arc::new(end.socket));
        players.push(leg);
    }
    h.fence().await;

    let base = Instant::now();
    let mut receivers = JoinSet::new();
    let mut talkers: Vec<(Arc<UdpSocket>, SocketAddr, RtpSender)> = talkers
        .into_iter()
        .map(|end| {
            let socket = Arc::new(end.socket);
            receivers.spawn(collect(Arc::clone(&socket), base));
            (socket, end.leg_addr, end.sender)
        })
        .collect();
    let mut prompt_receivers = JoinSet::new();
    for socket in &listeners {
        prompt_receivers.spawn(collect(Arc::clone(socket), base));
    }

    // Real calls do not send in lockstep: each millisecond, a twentieth of the talkers send.
    let mut interval = tokio::time::interval(Duration::from_millis(1));
    let group = talkers.len().div_ceil(20).max(1);
    let mut buf = [0u8; 1500];
    for round in 0..seconds * 1000 {
        interval.tick().await;
        let start = (round % 20) * group;
        let end = (start + group).min(talkers.len());
        for (socket, leg_addr, sender) in talkers.get_mut(start..end).unwrap_or_default() {
            let mut payload = [0xFFu8; 160];
            payload[..8].copy_from_slice(&nanos_since(base).to_be_bytes());
            let len = sender.write_packet(0, &payload, &mut buf);
            let _ = socket.try_send_to(&buf[..len], *leg_addr);
        }
    }

    // Silence the prompts so their far ends go quiet too.
    for leg in players {
        h.send(MediaCommand::StopPlayback { leg });
    }
    let mut latencies = Vec::new();
    while let Some(result) = receivers.join_next().await {
        latencies.extend(result.unwrap().0);
    }
    let mut prompt_packets = 0;
    let mut prompt_gaps = 0;
    while let Some(result) = prompt_receivers.join_next().await {
        let (received, gaps) = result.unwrap();
        prompt_packets += received.len();
        prompt_gaps += gaps;
    }
    latencies.sort();
    let sent = talkers.len() * seconds * 50;
    println!(
        "pairs={pairs} prompt_legs={prompt_legs} relayed={}/{sent} median={:?} p99={:?} max={:?} \
         prompt_packets={prompt_packets} prompt_gaps={prompt_gaps}",
        latencies.len(),
        percentile(&latencies, 50),
        percentile(&latencies, 99),
        latencies.last().copied().unwrap_or_default(),
    );
    assert!(percentile(&latencies, 50) < Duration::from_millis(1));
    assert_eq!(prompt_gaps, 0, "prompts kept flowing on the tick");
}
