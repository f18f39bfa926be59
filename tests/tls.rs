//! HTTPS and SIP over TLS against the real binary, with its self-signed certificate
//! trusted by a rustls client written here: pages, the API and the SIP WebSocket over
//! HTTPS; OPTIONS and a digest REGISTER over SIP TLS, answered on the same connection; a
//! client that speaks no TLS gets nothing and disturbs no one.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use md5::{Digest, Md5};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use support::center::{self, Center};
use support::{sip_text, EngineProcess};

const LOGIN: &str = "tlsop1";
/// How long any one answer may take on loopback.
const ANSWER_LIMIT: Duration = Duration::from_secs(10);

/// An engine with HTTPS and SIP TLS on free loopback ports and a self-signed certificate
/// kept in `certs`.
fn start(center: &Center, certs: &Path) -> EngineProcess {
    let arg = |p: &str| certs.join(p).display().to_string();
    center.start(&[
        "--https-listen".into(),
        "127.0.0.1:0".into(),
        "--sip-tls-listen".into(),
        "127.0.0.1:0".into(),
        "--tls-self-signed".into(),
        "--tls-cert".into(),
        arg("cert.pem"),
        "--tls-key".into(),
        arg("key.pem"),
    ])
}

/// A TLS client that trusts exactly the engine's certificate file.
fn connector(cert: &Path) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    for der in CertificateDer::pem_file_iter(cert).expect("the certificate file") {
        roots.add(der.expect("a PEM certificate")).expect("trusted");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn tls_connect(connector: &TlsConnector, addr: SocketAddr) -> TlsStream<TcpStream> {
    let tcp = TcpStream::connect(addr).await.expect("connect");
    let name = ServerName::IpAddress(addr.ip().into());
    tokio::time::timeout(ANSWER_LIMIT, connector.connect(name, tcp))
        .await
        .expect("a handshake in time")
        .expect("the engine's certificate is trusted for 127.0.0.1")
}

/// One HTTP/1.1 request over HTTPS; the whole answer as text.
async fn https(connector: &TlsConnector, addr: SocketAddr, head: &str) -> String {
    let mut tls = tls_connect(connector, addr).await;
    tls.write_all(head.as_bytes()).await.expect("send");
    let mut answer = Vec::new();
    // The engine closes after the answer (`Connection: close`); an end without
    // close_notify still leaves what was read.
    let _ = tokio::time::timeout(ANSWER_LIMIT, tls.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer.split("\r\n\r\n").next()?.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_and_the_api_are_served_over_https_with_the_self_signed_certificate() {
    let certs = tempfile::tempdir().expect("a folder for the certificate");
    let center = Center::with_operators(&[LOGIN]);
    let engine = start(&center, certs.path());
    let addr = engine.listening("https").expect("an https address");
    let connector = connector(&certs.path().join("cert.pem"));

    let page = https(
        &connector,
        addr,
        &format!("GET /agent/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert_eq!(
        header(&page, "strict-transport-security"),
        Some("max-age=31536000")
    );

    let api = https(
        &connector,
        addr,
        &format!(
            "GET /api/v1/session HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Authorization: Bearer {}\r\n\r\n",
            engine.token
        ),
    )
    .await;
    assert!(api.starts_with("HTTP/1.1 200"), "{api}");
    assert!(api.contains(support::TEST_ADMIN), "{api}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_over_https_gives_a_secure_cookie() {
    let certs = tempfile::tempdir().expect("a folder for the certificate");
    let center = Center::with_operators(&[LOGIN]);
    let engine = start(&center, certs.path());
    let addr = engine.listening("https").expect("an https address");
    let body = format!(
        "{{\"login\":\"{LOGIN}\",\"password\":\"{}\"}}",
        center::password(LOGIN)
    );
    let answer = https(
        &connector(&certs.path().join("cert.pem")),
        addr,
        &format!(
            "POST /api/v1/session HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Origin: https://{addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let cookie = header(&answer, "set-cookie").unwrap_or_default();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_speaking_plain_http_to_the_tls_port_is_served_nothing() {
    let certs = tempfile::tempdir().expect("a folder for the certificate");
    let center = Center::with_operators(&[LOGIN]);
    let engine = start(&center, certs.path());
    let addr = engine.listening("https").expect("an https address");
    let mut plain = TcpStream::connect(addr).await.expect("connect");
    plain
        .write_all(format!("GET /agent/ HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .expect("send");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(ANSWER_LIMIT, plain.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(!text.contains("HTTP/1.1"), "{text}");
    assert!(!text.contains("<html"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sip_over_websocket_works_over_https() {
    let certs = tempfile::tempdir().expect("a folder for the certificate");
    let center = Center::with_operators(&[LOGIN]);
    let engine = start(&center, certs.path());
    let addr = engine.listening("https").expect("an https address");
    let tls = tls_connect(&connector(&certs.path().join("cert.pem")), addr).await;
    let mut request = format!("wss://{addr}/ws/sip")
        .into_client_request()
        .expect("a valid WebSocket URL");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip"));
    let (mut socket, response) = tokio_tungstenite::client_async(request, tls)
        .await
        .expect("the SIP WebSocket opens over TLS");
    assert_eq!(response.status(), 101);
    let options = options("WSS", "df7jal23ls0d.invalid", 1);
    futures_util::SinkExt::send(
        &mut socket,
        tokio_tungstenite::tungstenite::Message::text(options),
    )
    .await
    .expect("sent");
    let frame = tokio::time::timeout(ANSWER_LIMIT, socket.next())
        .await
        .expect("an answer in time")
        .expect("open")
        .expect("a frame");
    let answer = sip_text::Message::parse(&frame.into_data()).expect("SIP");
    assert_eq!(answer.status(), Some(200), "{answer:?}");
}

fn options(transport: &str, via_host: &str, cseq: u32) -> String {
    format!(
        "OPTIONS sip:127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {via_host};branch=z9hG4bK-opt-{cseq}\r\n\
         Max-Forwards: 70\r\n\
         To: <sip:127.0.0.1>\r\n\
         From: <sip:probe@127.0.0.1>;tag=opt{cseq}\r\n\
         Call-ID: tls-options-{cseq}\r\n\
         CSeq: {cseq} OPTIONS\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// A phone on a SIP-over-TLS connection: Content-Length framing, as over TCP.
struct TlsPhone {
    tls: TlsStream<TcpStream>,
    local: SocketAddr,
    buffer: Vec<u8>,
}

impl TlsPhone {
    async fn connect(connector: &TlsConnector, addr: SocketAddr) -> TlsPhone {
        let tls = tls_connect(connector, addr).await;
        let local = tls.get_ref().0.local_addr().expect("a local address");
        TlsPhone {
            tls,
            local,
            buffer: Vec::new(),
        }
    }

    async fn send(&mut self, text: &str) {
        self.tls.write_all(text.as_bytes()).await.expect("sent");
    }

    /// The next whole SIP message on the connection.
    async fn recv(&mut self) -> sip_text::Message {
        loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buffer[..end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        let (n, v) = l.split_once(':')?;
                        n.trim()
                            .eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                let total = end + 4 + length;
                if self.buffer.len() >= total {
                    let message: Vec<u8> = self.buffer.drain(..total).collect();
                    return sip_text::Message::parse(&message).expect("the engine sends SIP");
                }
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(ANSWER_LIMIT, self.tls.read(&mut chunk))
                .await
                .expect("an answer in time")
                .expect("the connection stays open");
            assert!(n > 0, "the engine closed the connection");
            self.buffer.extend_from_slice(&chunk[..n]);
        }
    }

    fn register(&self, cseq: u32, authorization: Option<&str>) -> String {
        let authorization = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/TLS {local};branch=z9hG4bK-tls-{cseq}\r\n\
             Max-Forwards: 70\r\n\
             To: <sip:{LOGIN}@127.0.0.1>\r\n\
             From: <sip:{LOGIN}@127.0.0.1>;tag=tlsreg\r\n\
             Call-ID: tls-register-{LOGIN}\r\n\
             CSeq: {cseq} REGISTER\r\n\
             {authorization}\
             Contact: <sip:{LOGIN}@{local};transport=tls>\r\n\
             Expires: 600\r\n\
             Content-Length: 0\r\n\r\n",
            local = self.local
        )
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn md5_hex(text: &str) -> String {
    Md5::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn param<'a>(challenge: &'a str, name: &str) -> &'a str {
    let start = challenge
        .find(&format!("{name}=\""))
        .map(|i| i + name.len() + 2)
        .unwrap_or_else(|| panic!("no {name} in {challenge}"));
    let len = challenge[start..].find('"').unwrap_or(0);
    &challenge[start..start + len]
}

/// RFC 2617 digest with qop=auth, computed here and not by the engine's code.
fn md5_authorization(challenge: &str, password: &str) -> String {
    let (realm, nonce) = (param(challenge, "realm"), param(challenge, "nonce"));
    let uri = "sip:127.0.0.1";
    let ha1 = md5_hex(&format!("{LOGIN}:{realm}:{password}"));
    let ha2 = md5_hex(&format!("REGISTER:{uri}"));
    let cnonce = "t9kqc2v1";
    let response = md5_hex(&format!("{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}"));
    format!(
        "Digest algorithm=MD5, username=\"{LOGIN}\", realm=\"{realm}\", nonce=\"{nonce}\", \
         uri=\"{uri}\", response=\"{response}\", qop=auth, cnonce=\"{cnonce}\", nc=00000001"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_over_sip_tls_is_answered_on_the_same_connection() {
    let certs = tempfile::tempdir().expect("a folder for the certificate");
    let center = Center::with_operators(&[LOGIN]);
    let engine = start(&center, certs.path());
    let addr = engine.listening("sip_tls").expect("a sip_tls address");
    let mut phone = TlsPhone::connect(&connector(&certs.path().join("cert.pem")), addr).await;
    let via_host = phone.local.to_string();
    phone.send(&options("TLS", &via_host, 1)).await;
    let ok = phone.recv().await;
    assert_eq!(ok.status(), Some(200), "{ok:?}");
    let via = ok.header("Via").unwrap_or_default();
    assert!(via.starts_with("SIP/2.0/TLS"), "{via}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_registers_over_sip_tls_with_digest_and_its_operator_is_available() {
    let certs = tempfile::tempdir().expect("a folder for the certificate");
    let center = Center::with_operators(&[LOGIN]);
    let engine = start(&center, certs.path());
    let addr = engine.listening("sip_tls").expect("a sip_tls address");
    let mut phone = TlsPhone::connect(&connector(&certs.path().join("cert.pem")), addr).await;
    phone.send(&phone.register(1, None)).await;
    let challenge = phone.recv().await;
    assert_eq!(challenge.status(), Some(401), "{challenge:?}");
    let www = challenge
        .headers_named("WWW-Authenticate")
        .find(|c| c.contains("algorithm=MD5"))
        .expect("an MD5 challenge")
        .to_owned();
    let authorization = md5_authorization(&www, &center::password(LOGIN));
    phone.send(&phone.register(2, Some(&authorization))).await;
    let ok = phone.recv().await;
    assert_eq!(ok.status(), Some(200), "{ok:?}\n{}", engine.log());
    let contact = ok.header("Contact").unwrap_or_default().to_owned();
    assert!(contact.contains("transport=tls"), "{contact}");
    let view = tokio::task::block_in_place(|| center::wait_for_state(&engine, LOGIN, "available"));
    assert_eq!(view["state"], "available");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_handshake_does_not_disturb_other_sip_tls_connections() {
    let certs = tempfile::tempdir().expect("a folder for the certificate");
    let center = Center::with_operators(&[LOGIN]);
    let engine = start(&center, certs.path());
    let addr = engine.listening("sip_tls").expect("a sip_tls address");
    let connector = connector(&certs.path().join("cert.pem"));
    let mut before = TlsPhone::connect(&connector, addr).await;

    // Plain SIP to the TLS port, and a connection that says nothing at all.
    let mut garbage = TcpStream::connect(addr).await.expect("connect");
    garbage
        .write_all(options("TCP", "127.0.0.1", 9).as_bytes())
        .await
        .expect("sent");
    let _silent = TcpStream::connect(addr).await.expect("connect");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(ANSWER_LIMIT, garbage.read_to_end(&mut answer)).await;
    assert!(!String::from_utf8_lossy(&answer).contains("SIP/2.0"));

    let via = before.local.to_string();
    before.send(&options("TLS", &via, 2)).await;
    assert_eq!(before.recv().await.status(), Some(200));
    let mut after = TlsPhone::connect(&connector, addr).await;
    let via = after.local.to_string();
    after.send(&options("TLS", &via, 3)).await;
    assert_eq!(after.recv().await.status(), Some(200));
}
