//! SIP over WebSocket (RFC 7118) at `/ws/sip` against the real binary, with a WebSocket phone
//! written here that speaks like JsSIP: the handshake needs the `sip` subprotocol, a REGISTER
//! with digest logs the operator in, and closing the socket logs them out (nothing can reach
//! that phone any more). The browser itself (JsSIP in Chromium, audio both ways) is
//! tests/jssip.rs.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use md5::{Digest, Md5};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use support::center::{self, Center};
use support::sip_text;

const LOGIN: &str = "wsop1";
/// How long any one SIP answer may take on loopback.
const ANSWER_LIMIT: Duration = Duration::from_secs(10);

/// A phone on a SIP WebSocket, as a browser's JsSIP holds one.
struct WsPhone {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The Via host JsSIP makes up (RFC 7118 §5: the phone has no address we could reach).
    via_host: &'static str,
    contact: &'static str,
}

impl WsPhone {
    async fn connect(http: SocketAddr) -> WsPhone {
        let mut request = format!("ws://{http}/ws/sip")
            .into_client_request()
            .expect("a valid WebSocket URL");
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip"));
        let (socket, response) = tokio_tungstenite::connect_async(request)
            .await
            .expect("the SIP WebSocket opens");
        assert_eq!(
            response
                .headers()
                .get("sec-websocket-protocol")
                .map(|v| v.as_bytes()),
            Some(&b"sip"[..]),
            "the server agrees to the sip subprotocol"
        );
        WsPhone {
            socket,
            via_host: "6hk8t1c2v2ba.invalid",
            contact: "sip:k4b3d6pu@6hk8t1c2v2ba.invalid;transport=ws",
        }
    }

    async fn send(&mut self, text: String) {
        self.socket
            .send(Message::text(text))
            .await
            .expect("the WebSocket takes the message");
    }

    /// The next SIP message, one per frame.
    async fn recv(&mut self) -> sip_text::Message {
        loop {
            let frame = tokio::time::timeout(ANSWER_LIMIT, self.socket.next())
                .await
                .expect("an answer in time")
                .expect("the WebSocket stays open")
                .expect("a readable frame");
            let bytes = match frame {
                Message::Text(text) => text.as_bytes().to_vec(),
                Message::Binary(bytes) => bytes.to_vec(),
                _ => continue,
            };
            return sip_text::Message::parse(&bytes).expect("the engine sends SIP");
        }
    }

    fn register_text(&self, cseq: u32, authorization: Option<String>) -> String {
        let authorization = authorization
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/WS {via};branch=z9hG4bK-ws-{cseq}\r\n\
             Max-Forwards: 69\r\n\
             To: <sip:{LOGIN}@127.0.0.1>\r\n\
             From: <sip:{LOGIN}@127.0.0.1>;tag=6t0l2j1pma\r\n\
             Call-ID: ws-register-{LOGIN}\r\n\
             CSeq: {cseq} REGISTER\r\n\
             {authorization}\
             Contact: <{contact}>;+sip.ice;reg-id=1;\
             +sip.instance=\"<urn:uuid:0a3b5d7e-1f2a-4b6c-8d9e-0f1a2b3c4d5e>\";expires=600\r\n\
             Expires: 600\r\n\
             Supported: path,gruu,outbound\r\n\
             User-Agent: madoguchi ws test\r\n\
             Content-Length: 0\r\n\r\n",
            via = self.via_host,
            contact = self.contact,
        )
    }

    /// REGISTER, answer the MD5 challenge with `password`; returns the final response.
    async fn register(&mut self, password: &str) -> sip_text::Message {
        self.send(self.register_text(1, None)).await;
        let challenge = self.recv().await;
        assert_eq!(challenge.status(), Some(401), "{challenge:?}");
        let via = challenge.header("Via").unwrap_or_default();
        assert!(
            via.starts_with(&format!("SIP/2.0/WS {}", self.via_host))
                && via.contains("received=127.0.0.1"),
            "{via}"
        );
        let www = challenge
            .header("WWW-Authenticate")
            .expect("a digest challenge")
            .to_owned();
        assert!(www.contains("algorithm=MD5"), "{www}");
        let authorization = md5_authorization(&www, password);
        self.send(self.register_text(2, Some(authorization))).await;
        self.recv().await
    }
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
    let cnonce = "u7kqc2v1";
    let response = md5_hex(&format!("{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}"));
    format!(
        "Digest algorithm=MD5, username=\"{LOGIN}\", realm=\"{realm}\", nonce=\"{nonce}\", \
         uri=\"{uri}\", response=\"{response}\", qop=auth, cnonce=\"{cnonce}\", nc=00000001"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_phone_registers_with_digest_and_logs_its_operator_in() {
    let center = Center::with_operators(&[LOGIN]);
    let engine = center.start(&[]);
    let mut phone = WsPhone::connect(engine.http).await;
    let ok = phone.register(&center::password(LOGIN)).await;
    assert_eq!(ok.status(), Some(200), "{ok:?}\n{}", engine.log());
    let contact = ok.header("Contact").unwrap_or_default().to_owned();
    assert!(
        contact.starts_with(&format!("<{}>", phone.contact)) && contact.contains("expires="),
        "the 200 lists the phone's own Contact: {contact}"
    );
    let view = tokio::task::block_in_place(|| center::wait_for_state(&engine, LOGIN, "available"));
    assert_eq!(view["state"], "available");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_over_a_websocket_is_refused() {
    let center = Center::with_operators(&[LOGIN]);
    let engine = center.start(&[]);
    let mut phone = WsPhone::connect(engine.http).await;
    let refused = phone.register("not the password").await;
    assert_eq!(refused.status(), Some(401), "{refused:?}");
    assert_eq!(center::operator(&engine, LOGIN)["state"], "logged_out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_websocket_logs_the_operator_out() {
    let center = Center::with_operators(&[LOGIN]);
    let engine = center.start(&[]);
    let mut phone = WsPhone::connect(engine.http).await;
    assert_eq!(
        phone.register(&center::password(LOGIN)).await.status(),
        Some(200)
    );
    tokio::task::block_in_place(|| center::wait_for_state(&engine, LOGIN, "available"));
    phone
        .socket
        .close(None)
        .await
        .expect("the WebSocket closes");
    tokio::task::block_in_place(|| center::wait_for_state(&engine, LOGIN, "logged_out"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_without_the_sip_subprotocol_is_refused() {
    let center = Center::with_operators(&[LOGIN]);
    let engine = center.start(&[]);
    let refused = tokio_tungstenite::connect_async(format!("ws://{}/ws/sip", engine.http)).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 400)
        }
        other => panic!("expected 400, got {other:?}"),
    }
}
