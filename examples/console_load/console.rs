//! One operator's console, driven as the browser page drives it (docs/console-protocol.md):
//! sign in, open `/ws/agent`, then (once the run says go) `media_offer` → `media_answer` and
//! the WebRTC connection, go available, `answer` every `offered`, and sign out after the
//! configured number of calls.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::{watch, Semaphore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::browser_peer::BrowserPeer;
use crate::sign_in::sign_in;
use crate::tally::{Shown, Tally};

/// Bounds each set-up step (a reply, the WebRTC connection): generous, since a hundred
/// consoles set up on two cores shared with the engine.
const STEP: Duration = Duration::from_secs(30);
/// How long the engine has to close the socket after `sign_out`.
const SIGN_OUT: Duration = Duration::from_secs(5);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What every console of the run shares.
pub struct ConsoleSettings {
    pub http: SocketAddr,
    /// Calls each console takes before signing out.
    pub calls: u32,
    /// Sign-ins in flight: each costs the engine an argon2 hash and its memory.
    pub signing_in: Semaphore,
    /// WebRTC set-ups in flight (ICE and DTLS on both sides).
    pub connecting: Semaphore,
    /// Becomes true when the consoles may set up their audio (all at once or on a signal).
    pub go: watch::Receiver<bool>,
}

/// Runs one console from sign-in to sign-out.
pub async fn run(
    settings: &ConsoleSettings,
    login: String,
    password: String,
    tally: &Tally,
) -> Result<(), String> {
    let permit = settings
        .signing_in
        .acquire()
        .await
        .map_err(|_| "the run is over".to_owned())?;
    let cookie = sign_in(settings.http, &login, &password).await?;
    drop(permit);
    let mut socket = open_socket(settings.http, &cookie).await?;
    expect_welcome(&mut socket).await?;
    tally.signed_in();
    let mut go = settings.go.clone();
    // The socket is not read meanwhile; nothing is sent to a console that is not available.
    go.wait_for(|go| *go)
        .await
        .map_err(|_| "the run is over".to_owned())?;
    let permit = settings
        .connecting
        .acquire()
        .await
        .map_err(|_| "the run is over".to_owned())?;
    let (mut peer, offer) = BrowserPeer::offer(ssrc_of(&login)).await?;
    let outcome = async {
        send(&mut socket, json!({ "type": "media_offer", "sdp": offer })).await?;
        let answer = media_answer(&mut socket).await?;
        peer.accept(answer).await?;
        peer.connected(STEP).await?;
        tally.media_up(peer.rtp.clone());
        drop(permit);
        send(
            &mut socket,
            json!({ "type": "set_state", "state": "available" }),
        )
        .await?;
        let mut shown = Shown::Other;
        let taken = take_calls(&mut socket, settings.calls, &mut shown, tally).await;
        // The gauges count only consoles still at work.
        tally.moved(shown, Shown::Other);
        taken?;
        if peer.broken() {
            return Err("the audio connection failed during the run".to_owned());
        }
        sign_out(&mut socket).await?;
        tally.signed_out();
        Ok(())
    }
    .await;
    peer.close().await;
    outcome
}

/// An SSRC of the console's own, stable per login.
fn ssrc_of(login: &str) -> u32 {
    let mut hasher = DefaultHasher::new();
    login.hash(&mut hasher);
    // The low half of the hash; truncation is the point.
    hasher.finish() as u32
}

async fn open_socket(http: SocketAddr, cookie: &str) -> Result<Socket, String> {
    let mut request = format!("ws://{http}/ws/agent")
        .into_client_request()
        .map_err(|e| format!("socket request: {e}"))?;
    let cookie = HeaderValue::from_str(cookie).map_err(|_| "cookie is not a header value")?;
    request.headers_mut().insert("cookie", cookie);
    let (socket, _) = tokio::time::timeout(STEP, tokio_tungstenite::connect_async(request))
        .await
        .map_err(|_| "the socket did not open in time".to_owned())?
        .map_err(|e| format!("socket: {e}"))?;
    Ok(socket)
}

async fn send(socket: &mut Socket, message: Value) -> Result<(), String> {
    socket
        .send(Message::text(message.to_string()))
        .await
        .map_err(|e| format!("socket send: {e}"))
}

/// The next JSON message from the engine; `None` when the socket closed.
async fn next_message(socket: &mut Socket) -> Result<Option<Value>, String> {
    while let Some(frame) = socket.next().await {
        match frame.map_err(|e| format!("socket: {e}"))? {
            Message::Text(text) => {
                return serde_json::from_str(text.as_str())
                    .map(Some)
                    .map_err(|e| format!("not JSON from the engine: {e}"));
            }
            Message::Close(_) => return Ok(None),
            _ => continue,
        }
    }
    Ok(None)
}

/// The next message within [`STEP`]; a closed socket is an error here.
async fn next_in_time(socket: &mut Socket, awaiting: &str) -> Result<Value, String> {
    tokio::time::timeout(STEP, next_message(socket))
        .await
        .map_err(|_| format!("no {awaiting} within {} s", STEP.as_secs()))??
        .ok_or_else(|| format!("socket closed while awaiting {awaiting}"))
}

fn kind(message: &Value) -> &str {
    message["type"].as_str().unwrap_or("")
}

async fn expect_welcome(socket: &mut Socket) -> Result<(), String> {
    let welcome = next_in_time(socket, "welcome").await?;
    match kind(&welcome) {
        "welcome" => Ok(()),
        other => Err(format!("first message is {other:?}, not welcome")),
    }
}

async fn media_answer(socket: &mut Socket) -> Result<String, String> {
    loop {
        let message = next_in_time(socket, "media_answer").await?;
        match kind(&message) {
            "media_answer" => {
                return message["sdp"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| "media_answer without sdp".to_owned())
            }
            "error" => return Err(format!("media_offer refused: {}", message["message"])),
            _ => continue,
        }
    }
}

/// Answers every offer until `calls` calls have ended for this console.
async fn take_calls(
    socket: &mut Socket,
    calls: u32,
    shown: &mut Shown,
    tally: &Tally,
) -> Result<(), String> {
    let mut ended = 0;
    while ended < calls {
        // No timeout of its own: calls come when the callers do; the run's deadline bounds it.
        let message = next_message(socket)
            .await?
            .ok_or("socket closed while taking calls")?;
        match kind(&message) {
            "state" => {
                let now = Shown::from_state(message["state"].as_str().unwrap_or(""));
                tally.moved(*shown, now);
                *shown = now;
            }
            "offered" => {
                tally.offered();
                let call_id = message["call_id"].clone();
                send(socket, json!({ "type": "answer", "call_id": call_id })).await?;
            }
            "connected" => tally.answered(),
            "ended" => {
                tally.ended();
                ended += 1;
            }
            // The message names what was refused, never the caller.
            "error" => {
                tally.refused();
                eprintln!(
                    "engine refused {}: {}",
                    message["request"], message["message"]
                );
            }
            "taken_over" | "signed_out" => {
                return Err(format!("the engine ended the session: {}", kind(&message)))
            }
            _ => {}
        }
    }
    Ok(())
}

/// `sign_out`, then the engine closes the socket.
async fn sign_out(socket: &mut Socket) -> Result<(), String> {
    send(socket, json!({ "type": "sign_out" })).await?;
    let closed = tokio::time::timeout(SIGN_OUT, async {
        while let Ok(Some(_)) = next_message(socket).await {}
    })
    .await;
    closed.map_err(|_| "the socket stayed open after sign_out".to_owned())
}
