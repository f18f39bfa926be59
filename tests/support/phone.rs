//! A test phone: one SIP dialog over UDP and an RTP socket that keeps every packet it hears.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;

use super::sip_text::Message;

#[derive(Debug, Clone)]
pub struct Rtp {
    pub seq: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub marker: bool,
    pub payload_type: u8,
    pub payload: Vec<u8>,
    pub at: Instant,
}

impl Rtp {
    fn parse(bytes: &[u8]) -> Option<Rtp> {
        if bytes.len() < 12 || bytes[0] >> 6 != 2 {
            return None;
        }
        let csrc = usize::from(bytes[0] & 0x0f) * 4;
        Some(Rtp {
            marker: bytes[1] & 0x80 != 0,
            payload_type: bytes[1] & 0x7f,
            seq: u16::from_be_bytes([bytes[2], bytes[3]]),
            timestamp: u32::from_be_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
            ssrc: u32::from_be_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]),
            payload: bytes.get(12 + csrc..)?.to_vec(),
            at: Instant::now(),
        })
    }
}

pub struct Phone {
    pub sip: UdpSocket,
    pub rtp: UdpSocket,
    /// The same RTP socket, for a sender thread that keeps its 20 ms pace whatever the test
    /// task is doing.
    rtp_out: std::net::UdpSocket,
    pub engine: SocketAddr,
    pub call_id: String,
    from_tag: String,
    cseq: u32,
    to_header: Option<String>,
    request_uri: String,
    branch: u32,
    pub heard: Vec<Rtp>,
}

impl Phone {
    pub async fn new(engine: SocketAddr) -> Phone {
        let sip = UdpSocket::bind("127.0.0.1:0").await.expect("bind sip");
        let rtp = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind rtp");
        rtp.set_nonblocking(true).expect("nonblocking");
        let rtp_out = rtp.try_clone().expect("clone rtp socket");
        let rtp = UdpSocket::from_std(rtp).expect("tokio rtp socket");
        let port = sip.local_addr().expect("addr").port();
        Phone {
            sip,
            rtp,
            rtp_out,
            engine,
            call_id: format!("test-{port}-{}@127.0.0.1", std::process::id()),
            from_tag: format!("ft{port}"),
            cseq: 0,
            to_header: None,
            request_uri: format!("sip:0120000000@{engine}"),
            branch: 0,
            heard: Vec::new(),
        }
    }

    /// A phone whose SIP socket is on `sip_port`: where a phone registered from (the engine
    /// rings the address a REGISTER came from), once that registering process let it go.
    pub async fn on_sip_port(engine: SocketAddr, sip_port: u16) -> Phone {
        let mut phone = Phone::new(engine).await;
        phone.sip = UdpSocket::bind(("127.0.0.1", sip_port))
            .await
            .expect("bind the registered SIP port");
        phone
    }

    /// Waits for the engine's INVITE, answers it with 200 OK and this phone's SDP, and waits
    /// for the ACK; returns the INVITE (its SDP says where to send audio).
    pub async fn answer_incoming(&mut self, timeout: Duration) -> Message {
        let invite = loop {
            let message = self.recv(timeout).await;
            if message.method() == Some("INVITE") {
                break message;
            }
        };
        let sdp = self.offer();
        let mut text = String::from("SIP/2.0 200 OK\r\n");
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            for value in invite.headers_named(name) {
                text.push_str(&format!("{name}: {value}"));
                if name == "To" && !value.contains(";tag=") {
                    text.push_str(&format!(";tag={}", self.from_tag));
                }
                text.push_str("\r\n");
            }
        }
        text.push_str(&format!(
            "Contact: <sip:test@127.0.0.1:{}>\r\nContent-Type: application/sdp\r\n\
             Content-Length: {}\r\n\r\n{sdp}",
            self.sip_port(),
            sdp.len()
        ));
        self.send(&text).await;
        loop {
            let message = self.recv(timeout).await;
            if message.method() == Some("ACK") {
                return invite;
            }
        }
    }

    pub fn sip_port(&self) -> u16 {
        self.sip.local_addr().expect("addr").port()
    }

    fn rtp_port(&self) -> u16 {
        self.rtp.local_addr().expect("addr").port()
    }

    pub fn offer(&self) -> String {
        format!(
            "v=0\r\no=test 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
            self.rtp_port()
        )
    }

    fn next_branch(&mut self) -> String {
        self.branch += 1;
        format!("z9hG4bK-test-{}-{}", self.sip_port(), self.branch)
    }

    /// A request in the current dialog (or the INVITE that starts it).
    pub fn request(&mut self, method: &str, body: Option<&str>, cseq: Option<u32>) -> String {
        let cseq = cseq.unwrap_or_else(|| {
            self.cseq += 1;
            self.cseq
        });
        let branch = self.next_branch();
        let to = self
            .to_header
            .clone()
            .unwrap_or_else(|| format!("<{}>", self.request_uri));
        let body = body.unwrap_or("");
        let content_type = if body.is_empty() {
            ""
        } else {
            "Content-Type: application/sdp\r\n"
        };
        format!(
            "{method} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch={branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: \"Test\" <sip:0467001234@127.0.0.1>;tag={tag}\r\nTo: {to}\r\n\
             Call-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContact: <sip:test@127.0.0.1:{port}>\r\n\
             {content_type}Content-Length: {len}\r\n\r\n{body}",
            uri = self.request_uri,
            port = self.sip_port(),
            tag = self.from_tag,
            call_id = self.call_id,
            len = body.len(),
        )
    }

    pub async fn send(&self, text: &str) {
        self.sip
            .send_to(text.as_bytes(), self.engine)
            .await
            .expect("send");
    }

    pub async fn recv(&mut self, timeout: Duration) -> Message {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 65535];
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            tokio::select! {
                received = self.sip.recv_from(&mut buf) => {
                    let (len, _) = received.expect("recv");
                    return Message::parse(&buf[..len]).expect("engine sent unparseable SIP");
                }
                received = recv_rtp(&self.rtp) => {
                    if let Some(packet) = received { self.heard.push(packet); }
                }
                _ = tokio::time::sleep(remaining) => panic!("no SIP message within {timeout:?}"),
            }
        }
    }

    /// Sends an INVITE to `user` and returns the final response (ACKed when 2xx).
    pub async fn call(&mut self, user: &str) -> Message {
        self.request_uri = format!("sip:{user}@{}", self.engine);
        let offer = self.offer();
        let invite = self.request("INVITE", Some(&offer), None);
        self.send(&invite).await;
        self.final_response().await
    }

    /// [`Phone::call`] as a real UDP phone places it: the INVITE is retransmitted (RFC 3261
    /// Timer A: 500 ms, doubling) until the engine answers anything.
    pub async fn call_retransmitting(&mut self, user: &str) -> Message {
        self.request_uri = format!("sip:{user}@{}", self.engine);
        let offer = self.offer();
        let invite = self.request("INVITE", Some(&offer), None);
        let first = self.send_retransmitting(&invite).await;
        if first.status().is_some_and(|status| status >= 200) {
            return self.acknowledge(first).await;
        }
        self.final_response().await
    }

    /// [`Phone::hangup`] with the BYE retransmitted (Timer E) until it is answered.
    pub async fn hangup_retransmitting(&mut self) -> Message {
        let bye = self.request("BYE", None, None);
        self.send_retransmitting(&bye).await
    }

    /// Sends `request` again at 0.5, 1, 2, 4, 4 … s until a response to its method arrives
    /// (at most 32 s, Timer B/F); returns that response.
    async fn send_retransmitting(&mut self, request: &str) -> Message {
        let method = request.split(' ').next().unwrap_or_default().to_owned();
        let deadline = Instant::now() + Duration::from_secs(32);
        let mut interval = Duration::from_millis(500);
        loop {
            self.send(request).await;
            let until = (Instant::now() + interval).min(deadline);
            while let Some(wait) = until.checked_duration_since(Instant::now()) {
                let Ok(message) =
                    tokio::time::timeout(wait, self.recv(Duration::from_secs(60))).await
                else {
                    break;
                };
                if message.status().is_some() && message.cseq_method() == Some(method.as_str()) {
                    return message;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no answer to {method} within 32 s"
            );
            interval = (interval * 2).min(Duration::from_secs(4));
        }
    }

    /// ACKs a 2xx final response (a non-2xx is ACKed by the transaction layer's absence here).
    async fn acknowledge(&mut self, message: Message) -> Message {
        if message
            .status()
            .is_some_and(|status| (200..300).contains(&status))
        {
            self.to_header = message.header("To").map(str::to_owned);
            let ack = self.request("ACK", None, Some(self.cseq));
            self.send(&ack).await;
        }
        message
    }

    pub async fn final_response(&mut self) -> Message {
        loop {
            let message = self.recv(Duration::from_secs(10)).await;
            match message.status() {
                Some(status) if status >= 200 => {
                    if (200..300).contains(&status) {
                        self.to_header = message.header("To").map(str::to_owned);
                        let ack = self.request("ACK", None, Some(self.cseq));
                        self.send(&ack).await;
                    }
                    return message;
                }
                _ => continue,
            }
        }
    }

    /// Listens until the engine sends BYE (answered with 200); returns the BYE.
    pub async fn until_bye(&mut self, timeout: Duration) -> Message {
        loop {
            let message = self.recv(timeout).await;
            if message.method() == Some("BYE") {
                self.respond_ok(&message).await;
                return message;
            }
        }
    }

    /// Listens (keeping RTP) until `frames` packets were heard or the time is up.
    pub async fn listen(&mut self, frames: usize, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.heard.len() < frames {
            tokio::select! {
                received = recv_rtp(&self.rtp) => {
                    if let Some(packet) = received { self.heard.push(packet); }
                }
                _ = tokio::time::sleep_until(deadline) => return,
            }
        }
    }

    pub async fn hangup(&mut self) -> Message {
        let bye = self.request("BYE", None, None);
        self.send(&bye).await;
        loop {
            let message = self.recv(Duration::from_secs(10)).await;
            if message.cseq_method() == Some("BYE") && message.status().is_some() {
                return message;
            }
        }
    }

    async fn respond_ok(&self, request: &Message) {
        let mut text = String::from("SIP/2.0 200 OK\r\n");
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            for value in request.headers_named(name) {
                text.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        text.push_str("Content-Length: 0\r\n\r\n");
        self.send(&text).await;
    }

    /// Sends one RFC 4733 digit as the caller's phone would: 3 packets, the last with the end bit sent 3 times.
    pub async fn send_dtmf(&self, to: SocketAddr, digit: u8, seq: u16, timestamp: u32) {
        let event = match digit {
            b'0'..=b'9' => digit - b'0',
            b'*' => 10,
            _ => 11,
        };
        let mut seq = seq;
        for (duration, end) in [
            (160u16, false),
            (320, false),
            (480, true),
            (480, true),
            (480, true),
        ] {
            let mut packet = vec![0x80, 101, 0, 0, 0, 0, 0, 0, 0x12, 0x34, 0x56, 0x78];
            if duration == 160 {
                packet[1] |= 0x80;
            }
            packet[2..4].copy_from_slice(&seq.to_be_bytes());
            packet[4..8].copy_from_slice(&timestamp.to_be_bytes());
            packet.extend_from_slice(&[event, if end { 0x8a } else { 0x0a }]);
            packet.extend_from_slice(&duration.to_be_bytes());
            self.rtp.send_to(&packet, to).await.expect("send dtmf");
            seq = seq.wrapping_add(1);
        }
    }
}

/// A tone the phone is sending; stops when dropped.
pub struct ToneSender {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for ToneSender {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Phone {
    /// Talks: a continuous PCMU sine at `hz` to `to`, one RTP packet every 20 ms (one SSRC,
    /// consecutive sequence numbers, 160-sample timestamp steps, marker on the first).
    pub fn send_tone(&self, to: SocketAddr, hz: f64) -> ToneSender {
        let socket = self.rtp_out.try_clone().expect("clone rtp socket");
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let ssrc = 0x7e57_0000 | u32::from(self.sip_port());
        let thread = std::thread::spawn(move || {
            let start = Instant::now();
            let mut index = 0usize;
            while !stopped.load(Ordering::Relaxed) {
                let mut packet = vec![0x80, if index == 0 { 0x80 } else { 0 }];
                packet.extend_from_slice(&(index as u16).wrapping_add(4000).to_be_bytes());
                packet.extend_from_slice(&((index as u32).wrapping_mul(160)).to_be_bytes());
                packet.extend_from_slice(&ssrc.to_be_bytes());
                packet.extend_from_slice(&super::tone::pcmu_frame(hz, index));
                // A full socket buffer only loses a frame; the pace goes on.
                let _ = socket.send_to(&packet, to);
                index += 1;
                let due = start + Duration::from_millis(20 * index as u64);
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
            }
        });
        ToneSender {
            stop,
            thread: Some(thread),
        }
    }

    /// Forgets what was heard so far, including packets still queued in the socket.
    pub async fn forget_heard(&mut self) {
        self.listen(usize::MAX, Duration::from_millis(60)).await;
        self.heard.clear();
    }

    /// The PCMU audio heard, decoded, from packet `skip` on.
    pub fn heard_samples(&self, skip: usize) -> Vec<i16> {
        self.heard
            .iter()
            .skip(skip)
            .filter(|p| p.payload_type == 0)
            .flat_map(|p| p.payload.iter().map(|b| super::tone::ulaw_decode(*b)))
            .collect()
    }
}

async fn recv_rtp(socket: &UdpSocket) -> Option<Rtp> {
    let mut buf = [0u8; 2048];
    let (len, _) = socket.recv_from(&mut buf).await.ok()?;
    Rtp::parse(&buf[..len])
}

/// How much stronger than every other probe a tone must be to count as heard.
pub const HEARD: f64 = 30.0;

/// Listens in half-second windows for up to 10 s until `hz` dominates (over [`HEARD`]);
/// returns the best window's dominance of `hz` and of `other`.
pub async fn hear(phone: &mut Phone, hz: f64, other: f64) -> (f64, f64) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut best = (0.0, 0.0);
    while std::time::Instant::now() < deadline {
        phone.heard.clear();
        phone.listen(25, std::time::Duration::from_secs(2)).await;
        let samples = phone.heard_samples(0);
        if samples.len() < 25 * super::tone::FRAME {
            continue;
        }
        let window = (
            super::tone::dominance(&samples, hz),
            super::tone::dominance(&samples, other),
        );
        if window.0 > best.0 {
            best = window;
        }
        if best.0 > HEARD {
            break;
        }
    }
    best
}
