//! End to end: the SIP torture cases in tests/sip_torture/ (RFC 4475 in spirit, our own
//! messages) sent to the real binary over UDP, and a few over TCP. Each case states its
//! outcome (see tests/sip_torture/README.md): a valid request is served as any other, an
//! invalid one gets a `400` with a reason phrase or is dropped. A dropped case is proven
//! dropped without sleeping: a probe OPTIONS sent right after it on the same socket must be
//! the first thing answered. Afterwards the engine still answers OPTIONS and a real call, and
//! its log holds no panic.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use support::phone::Phone;
use support::sip_text::Message;
use support::{EngineProcess, Options};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// Wednesday 2026-11-25 10:00 JST: the hotline is open, so an INVITE is answered.
const OPEN_WEDNESDAY: &str = "2026-11-25 01:00:00";
const WAIT: Duration = Duration::from_secs(5);
/// The largest UDP payload IPv4 carries; a datagram cannot be "over 64 KB".
const LARGEST_DATAGRAM: usize = 65_507;

/// What the engine does with a case.
#[derive(Debug, Clone, Copy)]
enum Expect {
    /// An OPTIONS answered `200`.
    Ok,
    /// An INVITE to the hotline answered `200` (after any provisional); the test ACKs and BYEs.
    Call,
    /// `400` whose reason phrase is exactly this.
    Rejected(&'static str),
    /// No answer at all.
    Dropped,
}

const CASES: &[(&str, Expect)] = &[
    ("v01_folded_headers.sip", Expect::Ok),
    ("v02_compact_forms_invite.sip", Expect::Call),
    ("v03_escaped_request_uri.sip", Expect::Ok),
    ("v04_unknown_uri_schemes.sip", Expect::Ok),
    ("v05_long_header_values.sip", Expect::Ok),
    ("v06_thirty_vias.sip", Expect::Ok),
    ("v07_mixed_case_headers_invite.sip", Expect::Call),
    ("v08_whitespace_around_colons.sip", Expect::Ok),
    ("v09_unknown_headers.sip", Expect::Ok),
    (
        "i01_content_length_larger_than_body.sip",
        Expect::Rejected("Bad Request - Bad Content-Length"),
    ),
    (
        "i02_content_length_negative.sip",
        Expect::Rejected("Bad Request - Bad Content-Length"),
    ),
    (
        "i03_content_length_non_numeric.sip",
        Expect::Rejected("Bad Request - Bad Content-Length"),
    ),
    (
        "i04_content_length_too_large.sip",
        Expect::Rejected("Bad Request - Bad Content-Length"),
    ),
    ("i05_missing_via.sip", Expect::Dropped),
    (
        "i06_missing_from.sip",
        Expect::Rejected("Bad Request - Missing From Header"),
    ),
    (
        "i07_missing_to.sip",
        Expect::Rejected("Bad Request - Missing To Header"),
    ),
    (
        "i08_missing_call_id.sip",
        Expect::Rejected("Bad Request - Missing Call-ID Header"),
    ),
    ("i09_missing_cseq.sip", Expect::Dropped),
    (
        "i10_cseq_non_numeric.sip",
        Expect::Rejected("Bad Request - Malformed CSeq"),
    ),
    (
        "i11_cseq_method_mismatch.sip",
        Expect::Rejected("Bad Request - CSeq Method Mismatch"),
    ),
    (
        "i12_unterminated_quote_display_name.sip",
        Expect::Rejected("Bad Request - Malformed From Header"),
    ),
    ("i13_huge_message.sip", Expect::Ok),
    ("i14_binary_junk.bin", Expect::Dropped),
    ("i15_empty_datagram.bin", Expect::Dropped),
    ("i16_bad_sip_version.sip", Expect::Dropped),
];

/// Cases also sent over TCP, with their outcome there (framing differs from UDP).
const TCP_CASES: &[(&str, Expect)] = &[
    ("v01_folded_headers.sip", Expect::Ok),
    ("v06_thirty_vias.sip", Expect::Ok),
    ("v08_whitespace_around_colons.sip", Expect::Ok),
    (
        "i06_missing_from.sip",
        Expect::Rejected("Bad Request - Missing From Header"),
    ),
    (
        "i11_cseq_method_mismatch.sip",
        Expect::Rejected("Bad Request - CSeq Method Mismatch"),
    ),
];

/// The values one case is filled with, fresh per case so each is its own transaction.
struct Fill {
    engine: SocketAddr,
    port: u16,
    rtp_port: u16,
    transport: &'static str,
    serial: usize,
    /// Total bytes a `$HUGE_FILLER` case must reach.
    huge_size: usize,
}

impl Fill {
    fn call_id(&self) -> String {
        format!("torture-{}-{}@127.0.0.1", self.serial, self.port)
    }

    fn tag(&self) -> String {
        format!("tt{}", self.serial)
    }

    fn branch(&self, n: usize) -> String {
        format!("z9hG4bK-torture-{}-{}-{n}", self.serial, self.port)
    }
}

/// The bytes of a case: `.sip` files are text with LF line ends (sent as CRLF) and
/// placeholders; `.bin` files are sent as they are.
fn render(file: &str, fill: &Fill) -> Vec<u8> {
    let path = support::repo_root().join("tests/sip_torture").join(file);
    let raw = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    if file.ends_with(".bin") {
        return raw;
    }
    let text = String::from_utf8(raw).expect("case files are UTF-8");
    let text = text
        .replace("$ENGINE", &fill.engine.to_string())
        .replace("$TRANSPORT", fill.transport)
        .replace("$PORT", &fill.port.to_string())
        .replace("$RTPPORT", &fill.rtp_port.to_string())
        .replace("$BRANCH", &fill.branch(0))
        .replace("$CALLID", &fill.call_id())
        .replace("$TAG", &fill.tag())
        .replace('\n', "\r\n");
    let text = match text.split_once("\r\n\r\n") {
        Some((head, body)) if head.contains("$BODYLEN") => {
            format!(
                "{}\r\n\r\n{body}",
                head.replace("$BODYLEN", &body.len().to_string())
            )
        }
        _ => text,
    };
    if text.contains("$HUGE_FILLER") {
        let filler = fill
            .huge_size
            .saturating_sub(text.len() - "$HUGE_FILLER".len());
        return text
            .replace("$HUGE_FILLER", &"x".repeat(filler))
            .into_bytes();
    }
    text.into_bytes()
}

/// A plain OPTIONS from `port`, sent after a case that must have been dropped.
fn probe(engine: SocketAddr, port: u16, transport: &str, call_id: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:0120000000@{engine} SIP/2.0\r\n\
         Via: SIP/2.0/{transport} 127.0.0.1:{port};branch=z9hG4bK-probe-{call_id};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1:{port}>;tag=probe\r\n\
         To: <sip:0120000000@{engine}>\r\nCall-ID: {call_id}\r\nCSeq: 1 OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// One side of a conversation with the engine: a UDP socket or a TCP connection.
enum Wire {
    Udp(UdpSocket, SocketAddr),
    Tcp(TcpStream, Vec<u8>),
}

impl Wire {
    async fn send(&mut self, bytes: &[u8]) {
        match self {
            Wire::Udp(socket, engine) => {
                socket.send_to(bytes, *engine).await.expect("udp send");
            }
            Wire::Tcp(stream, _) => stream.write_all(bytes).await.expect("tcp send"),
        }
    }

    /// The next message, or None when nothing came within `WAIT` or the stream closed.
    async fn recv(&mut self) -> Option<Message> {
        match self {
            Wire::Udp(socket, _) => {
                let mut buf = vec![0u8; 65_535];
                let (len, _) = tokio::time::timeout(WAIT, socket.recv_from(&mut buf))
                    .await
                    .ok()?
                    .expect("udp recv");
                Some(Message::parse(&buf[..len]).expect("engine sent unparseable SIP"))
            }
            Wire::Tcp(stream, pending) => loop {
                if let Some(message) = cut_stream_message(pending) {
                    return Some(message);
                }
                let mut buf = vec![0u8; 16 * 1024];
                let len = tokio::time::timeout(WAIT, stream.read(&mut buf))
                    .await
                    .ok()?
                    .ok()?;
                if len == 0 {
                    return None;
                }
                pending.extend_from_slice(&buf[..len]);
            },
        }
    }

    /// Responses whose Call-ID is `key` or whose top Via carries it (an answer to a request
    /// without Call-ID has none to match) until a final one.
    async fn final_for(&mut self, key: &str, what: &str) -> Message {
        loop {
            let message = self
                .recv()
                .await
                .unwrap_or_else(|| panic!("{what}: no final response"));
            let ours = message.header("Call-ID") == Some(key)
                || message.header("Via").is_some_and(|via| via.contains(key));
            if ours && message.status().is_some_and(|s| s >= 200) {
                return message;
            }
        }
    }
}

/// One message off the front of a TCP byte buffer (header section + Content-Length body).
fn cut_stream_message(pending: &mut Vec<u8>) -> Option<Message> {
    let end = pending.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = Message::parse(&pending[..end])?;
    let body = head
        .header("Content-Length")
        .or_else(|| head.header("l"))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    if pending.len() < end + body {
        return None;
    }
    let message = Message::parse(&pending[..end + body]);
    pending.drain(..end + body);
    message
}

/// Sends one case; returns how its outcome differs from `expect`, if it does.
async fn run_case(wire: &mut Wire, fill: &Fill, file: &str, expect: Expect) -> Option<String> {
    let what = format!("{file} over {}", fill.transport);
    wire.send(&render(file, fill)).await;
    let call_id = fill.call_id();
    let mismatch = |got: &str| Some(format!("{what}: expected {expect:?}, got {got}"));
    match expect {
        Expect::Ok | Expect::Call | Expect::Rejected(_) => {
            let answer = wire.final_for(&fill.branch(0), &what).await;
            let wanted = match expect {
                Expect::Rejected(reason) => format!("SIP/2.0 400 {reason}"),
                _ => "SIP/2.0 200 OK".to_owned(),
            };
            if answer.start_line != wanted {
                return mismatch(&answer.start_line);
            }
            if let Expect::Call = expect {
                end_call(wire, fill, &answer, &what).await;
            }
            None
        }
        Expect::Dropped => {
            let probe_id = format!("probe-{call_id}");
            wire.send(&probe(fill.engine, fill.port, fill.transport, &probe_id))
                .await;
            let Some(first) = wire.recv().await else {
                return mismatch("no answer to the probe after it");
            };
            if first.header("Call-ID") != Some(probe_id.as_str()) {
                let got = first.start_line.clone();
                // Let the probe's own answer go by so the wire stays in step.
                wire.final_for(&probe_id, &what).await;
                return mismatch(&got);
            }
            assert_eq!(first.status(), Some(200), "{what}: probe answered");
            None
        }
    }
}

/// ACK the 2xx and BYE the dialog, as a caller hanging up (RFC 3261 §13.2.2.4, §15.1.1).
async fn end_call(wire: &mut Wire, fill: &Fill, answer: &Message, what: &str) {
    let to = answer.header("To").expect("200 has To");
    assert!(answer.to_tag().is_some(), "{what}: 200 carries a To-tag");
    let in_dialog = |method: &str, cseq: u32, n: usize| {
        format!(
            "{method} sip:0120000000@{engine} SIP/2.0\r\n\
             Via: SIP/2.0/{transport} 127.0.0.1:{port};branch={branch};rport\r\n\
             Max-Forwards: 70\r\nFrom: \"Torture\" <sip:torture@127.0.0.1:{port}>;tag={tag}\r\n\
             To: {to}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n",
            engine = fill.engine,
            transport = fill.transport,
            port = fill.port,
            branch = fill.branch(n),
            tag = fill.tag(),
            call_id = fill.call_id(),
        )
    };
    wire.send(in_dialog("ACK", 1, 1).as_bytes()).await;
    wire.send(in_dialog("BYE", 2, 2).as_bytes()).await;
    loop {
        let message = wire
            .recv()
            .await
            .unwrap_or_else(|| panic!("{what}: no answer to BYE"));
        if message.cseq_method() == Some("BYE") && message.status().is_some() {
            assert_eq!(message.status(), Some(200), "{what}: BYE answered");
            return;
        }
    }
}

async fn udp_wire(engine: SocketAddr) -> (Wire, u16) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
    let port = socket.local_addr().expect("addr").port();
    (Wire::Udp(socket, engine), port)
}

async fn tcp_wire(engine: SocketAddr) -> (Wire, u16) {
    let stream = TcpStream::connect(engine).await.expect("connect tcp");
    let port = stream.local_addr().expect("addr").port();
    (Wire::Tcp(stream, Vec::new()), port)
}

/// After the torture: OPTIONS is answered, a real call hears its greeting, no panic logged.
async fn assert_still_serving(engine: &EngineProcess) {
    let (mut wire, port) = udp_wire(engine.sip).await;
    wire.send(&probe(engine.sip, port, "UDP", "after-torture"))
        .await;
    let answer = wire.final_for("after-torture", "OPTIONS after").await;
    assert_eq!(answer.status(), Some(200));

    let mut phone = Phone::new(engine.sip).await;
    assert_eq!(phone.call("0120000000").await.status(), Some(200));
    phone.listen(25, Duration::from_secs(10)).await;
    assert!(
        phone.heard.len() >= 25,
        "the call after the torture hears its announcement ({} frames)",
        phone.heard.len()
    );
    assert_eq!(phone.hangup().await.status(), Some(200));

    let log = engine.log();
    assert!(!log.contains("panicked"), "engine panicked:\n{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_over_udp_gets_its_stated_outcome_and_the_engine_keeps_serving() {
    let engine = EngineProcess::start(Options {
        faketime_utc: Some(OPEN_WEDNESDAY.to_owned()),
        ..Options::default()
    });
    let rtp = UdpSocket::bind("127.0.0.1:0").await.expect("bind rtp");
    let mut failures = Vec::new();
    for (serial, (file, expect)) in CASES.iter().enumerate() {
        let (mut wire, port) = udp_wire(engine.sip).await;
        let fill = Fill {
            engine: engine.sip,
            port,
            rtp_port: rtp.local_addr().expect("addr").port(),
            transport: "UDP",
            serial,
            huge_size: LARGEST_DATAGRAM,
        };
        failures.extend(run_case(&mut wire, &fill, file, *expect).await);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_still_serving(&engine).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_over_tcp_get_their_stated_outcome_and_an_oversized_stream_is_closed() {
    let engine = EngineProcess::start(Options {
        faketime_utc: Some(OPEN_WEDNESDAY.to_owned()),
        ..Options::default()
    });
    let mut failures = Vec::new();
    for (serial, (file, expect)) in TCP_CASES.iter().enumerate() {
        let (mut wire, port) = tcp_wire(engine.sip).await;
        let fill = Fill {
            engine: engine.sip,
            port,
            rtp_port: 9,
            transport: "TCP",
            serial,
            huge_size: 0,
        };
        failures.extend(run_case(&mut wire, &fill, file, *expect).await);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Over a stream a header section past 64 KB cannot be resynchronised: the engine closes
    // the connection without answering.
    let (mut wire, port) = tcp_wire(engine.sip).await;
    let fill = Fill {
        engine: engine.sip,
        port,
        rtp_port: 9,
        transport: "TCP",
        serial: 1000,
        huge_size: 70 * 1024,
    };
    wire.send(&render("i13_huge_message.sip", &fill)).await;
    assert!(
        wire.recv().await.is_none(),
        "a 70 KB header section gets no answer"
    );

    assert_still_serving(&engine).await;
}
