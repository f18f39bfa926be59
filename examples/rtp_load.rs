//! Load phone for the benchmark (scripts/bench.sh): places N calls to the engine, listens to
//! every RTP stream for a while, and reports inter-packet gaps — what sipp cannot measure.
//!
//! ```sh
//! cargo run --release --example rtp_load -- 127.0.0.1:5080 2000 200 30
//! #                                          target        calls rate/s hold-seconds
//! ```
//! Prints one JSON line: calls answered/failed, packets, gap percentiles over all streams and
//! the number of streams whose own 99th percentile gap is outside 20 ± 5 ms.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::net::UdpSocket;

struct CallResult {
    answered: bool,
    gaps_us: Vec<u32>,
    packets: u64,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: rtp_load TARGET CALLS RATE HOLD_SECONDS";
    let target: SocketAddr = args.get(1).and_then(|a| a.parse().ok()).expect(usage);
    let calls: usize = args.get(2).and_then(|a| a.parse().ok()).expect(usage);
    let rate: f64 = args.get(3).and_then(|a| a.parse().ok()).expect(usage);
    let hold = Duration::from_secs(args.get(4).and_then(|a| a.parse().ok()).expect(usage));

    let started = Instant::now();
    let mut tasks = Vec::with_capacity(calls);
    for n in 0..calls {
        let at = started + Duration::from_secs_f64(n as f64 / rate);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(at.into()).await;
            one_call(target, n, hold).await
        }));
    }
    let mut answered = 0;
    let mut failed = 0;
    let mut packets = 0u64;
    let mut all_gaps: Vec<u32> = Vec::new();
    let mut streams_out_of_bounds = 0;
    for task in tasks {
        match task.await {
            Ok(result) if result.answered => {
                answered += 1;
                packets += result.packets;
                let mut gaps = result.gaps_us;
                if gaps.len() > 10 {
                    gaps.sort_unstable();
                    let p99 = gaps[(gaps.len() * 99 / 100).min(gaps.len() - 1)];
                    if !(15_000..=25_000).contains(&p99) {
                        streams_out_of_bounds += 1;
                    }
                }
                all_gaps.extend(gaps);
            }
            _ => failed += 1,
        }
    }
    all_gaps.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all_gaps.is_empty() {
            return 0.0;
        }
        let index = ((all_gaps.len() as f64 * p) as usize).min(all_gaps.len() - 1);
        f64::from(all_gaps[index]) / 1000.0
    };
    println!(
        "{}",
        json!({
            "calls": calls, "answered": answered, "failed": failed, "packets": packets,
            "gap_ms_p50": pct(0.50), "gap_ms_p99": pct(0.99), "gap_ms_p999": pct(0.999),
            "gap_ms_max": all_gaps.last().map_or(0.0, |g| f64::from(*g) / 1000.0),
            "streams_p99_outside_15_25ms": streams_out_of_bounds,
        })
    );
}

async fn one_call(target: SocketAddr, n: usize, hold: Duration) -> CallResult {
    let failed = CallResult {
        answered: false,
        gaps_us: Vec::new(),
        packets: 0,
    };
    let (Ok(sip), Ok(rtp)) = (
        UdpSocket::bind("127.0.0.1:0").await,
        UdpSocket::bind("127.0.0.1:0").await,
    ) else {
        return failed;
    };
    let (Ok(sip_addr), Ok(rtp_addr)) = (sip.local_addr(), rtp.local_addr()) else {
        return failed;
    };
    let call_id = format!("load-{n}-{}@127.0.0.1", std::process::id());
    let sdp = format!(
        "v=0\r\no=load 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
         m=audio {} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
        rtp_addr.port()
    );
    let request = |method: &str, cseq: u32, branch: &str, to_tag: &str, body: &str| {
        format!(
            "{method} sip:0120000000@{target} SIP/2.0\r\nVia: SIP/2.0/UDP {sip_addr};branch=z9hG4bK{branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: <sip:load@127.0.0.1>;tag=l{n}\r\nTo: <sip:0120000000@{target}>{to_tag}\r\n\
             Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContact: <sip:load@{sip_addr}>\r\n{ct}Content-Length: {}\r\n\r\n{body}",
            body.len(),
            ct = if body.is_empty() { "" } else { "Content-Type: application/sdp\r\n" },
        )
    };
    let invite = request("INVITE", 1, &format!("i{n}"), "", &sdp);
    let mut buf = vec![0u8; 4096];
    let mut to_tag = String::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut next_retransmit = Instant::now();
    loop {
        if Instant::now() > deadline {
            return failed;
        }
        if Instant::now() >= next_retransmit && to_tag.is_empty() {
            let _ = sip.send_to(invite.as_bytes(), target).await;
            next_retransmit = Instant::now() + Duration::from_millis(500);
        }
        let Ok(Ok((len, _))) =
            tokio::time::timeout(Duration::from_millis(100), sip.recv_from(&mut buf)).await
        else {
            continue;
        };
        let text = String::from_utf8_lossy(&buf[..len]);
        if text.starts_with("SIP/2.0 200") {
            to_tag = text
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("to:"))
                .and_then(|l| l.split(";tag=").nth(1))
                .map(|t| format!(";tag={}", t.trim()))
                .unwrap_or_default();
            break;
        }
        if text.starts_with("SIP/2.0 4") || text.starts_with("SIP/2.0 5") {
            return failed;
        }
    }
    let _ = sip
        .send_to(
            request("ACK", 1, &format!("a{n}"), &to_tag, "").as_bytes(),
            target,
        )
        .await;

    let listen_until = tokio::time::Instant::now() + hold;
    let mut last: Option<Instant> = None;
    let mut gaps_us = Vec::with_capacity((hold.as_millis() / 20) as usize);
    let mut packets = 0;
    let mut rtp_buf = [0u8; 2048];
    loop {
        tokio::select! {
            received = rtp.recv_from(&mut rtp_buf) => {
                if received.is_ok() {
                    let now = Instant::now();
                    if let Some(previous) = last {
                        gaps_us.push(now.duration_since(previous).as_micros().min(u32::MAX as u128) as u32);
                    }
                    last = Some(now);
                    packets += 1;
                }
            }
            _ = tokio::time::sleep_until(listen_until) => break,
        }
    }
    let _ = sip
        .send_to(
            request("BYE", 2, &format!("b{n}"), &to_tag, "").as_bytes(),
            target,
        )
        .await;
    let _ = tokio::time::timeout(Duration::from_secs(5), sip.recv_from(&mut buf)).await;
    CallResult {
        answered: true,
        gaps_us,
        packets,
    }
}
