//! The operator console's WebSocket, `/ws/agent`: one socket per open console tab, speaking
//! the JSON of [`protocol`]. The socket carries control only. The console's audio is a WebRTC
//! leg in the media runtime, attached to the engine for the whole session, so a socket that
//! drops (and the console's automatic reconnect) loses no caller: the new socket is greeted
//! with the operator's current state and carries on.

pub mod protocol;

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Extension;
use madoguchi_sip::LegId;
use tokio::sync::{broadcast, oneshot};

use super::api::error;
use super::auth::Authenticated;
use super::live::{EngineLink, EngineRequest};
use super::{origin_allowed, AppState, TrustedOrigins};
use crate::engine::console::{ConsoleError, ConsoleEvent, ConsoleView};
use crate::engine::{LiveState, StatusRequest};
use crate::net::rtp::WebRtcRequest;
use protocol::{CallState, ClientMessage, ServerMessage};

/// Largest message the console sends (an SDP offer with candidates is a few KiB).
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Serves one console socket of `login` until it closes.
pub async fn serve(mut socket: WebSocket, login: String, link: EngineLink) {
    let mut events = link.console.subscribe();
    let mut live = link.live.clone();
    let mut console = Session {
        login,
        link,
        leg: None,
    };
    let mut shown = console.operator_state(&live.borrow());
    let welcome = console.welcome(&shown).await;
    if send(&mut socket, &welcome).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            message = socket.recv() => {
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => continue,
                };
                let outcome = console.handle(text.as_str()).await;
                if let Some(reply) = outcome.reply {
                    if send(&mut socket, &reply).await.is_err() {
                        break;
                    }
                }
                if outcome.close {
                    let _ = socket.send(Message::Close(None)).await;
                    break;
                }
            }
            event = events.recv() => match event {
                Ok(event) => {
                    if console.replaced_by(&event) {
                        let _ = send(&mut socket, &ServerMessage::TakenOver).await;
                        let _ = socket.send(Message::Close(None)).await;
                        break;
                    }
                    if console.signed_out_by(&event) {
                        let _ = send(&mut socket, &ServerMessage::SignedOut).await;
                        let _ = socket.send(Message::Close(None)).await;
                        break;
                    }
                    if let Some(message) = ServerMessage::from_event(&console.login, &event) {
                        if send(&mut socket, &message).await.is_err() {
                            break;
                        }
                    }
                }
                // Fell behind: start over from the current state, as after a reconnect.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    shown = console.operator_state(&live.borrow());
                    let welcome = console.welcome(&shown).await;
                    if send(&mut socket, &welcome).await.is_err() {
                        break;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            changed = live.changed() => {
                if changed.is_err() {
                    break;
                }
                let now = console.operator_state(&live.borrow_and_update());
                if now.state != shown.state || now.reason != shown.reason {
                    shown = now;
                    let message = ServerMessage::State {
                        state: shown.state.clone(),
                        reason: shown.reason.clone(),
                        since: shown.since,
                    };
                    if send(&mut socket, &message).await.is_err() {
                        break;
                    }
                }
            }
        }
    }
}

async fn send(socket: &mut WebSocket, message: &ServerMessage) -> Result<(), axum::Error> {
    let text = serde_json::to_string(message).unwrap_or_else(|_| "{}".to_owned());
    socket.send(Message::Text(text.into())).await
}

/// The operator's state as the live snapshot shows it.
#[derive(Debug, Clone, PartialEq)]
struct ShownState {
    state: String,
    reason: Option<String>,
    since: chrono::DateTime<chrono::Utc>,
}

/// What handling a message produced: a reply, and whether the socket closes after it.
struct Outcome {
    reply: Option<ServerMessage>,
    close: bool,
}

impl Outcome {
    fn reply(message: ServerMessage) -> Outcome {
        Outcome {
            reply: Some(message),
            close: false,
        }
    }

    fn nothing() -> Outcome {
        Outcome {
            reply: None,
            close: false,
        }
    }
}

struct Session {
    login: String,
    link: EngineLink,
    /// The console's media leg, once its audio is up.
    leg: Option<LegId>,
}

impl Session {
    /// The greeting and resync: the operator's state, whether the session's audio is up and
    /// the call ringing at or connected with this console.
    async fn welcome(&mut self, shown: &ShownState) -> ServerMessage {
        let view = self.view().await;
        self.leg = view.as_ref().map(|v| v.leg);
        let call = view.and_then(|v| {
            let recording = v.recording.map(str::to_owned);
            let monitored = v.monitored.map(str::to_owned);
            v.call.map(|(offer, connected)| CallState {
                call: (&offer).into(),
                connected,
                recording,
                monitored,
            })
        });
        ServerMessage::Welcome {
            login: self.login.clone(),
            state: shown.state.clone(),
            reason: shown.reason.clone(),
            since: shown.since,
            media: self.leg.is_some(),
            call,
        }
    }

    fn operator_state(&self, live: &Arc<LiveState>) -> ShownState {
        let operator = live.operators.iter().find(|o| o.login == self.login);
        ShownState {
            state: operator.map_or("logged_out", |o| o.state).to_owned(),
            reason: operator.and_then(|o| o.reason.clone()),
            since: operator.map_or(live.at, |o| o.since),
        }
    }

    fn signed_out_by(&self, event: &ConsoleEvent) -> bool {
        matches!(event, ConsoleEvent::SignedOut { login, .. } if *login == self.login)
    }

    fn replaced_by(&self, event: &ConsoleEvent) -> bool {
        matches!(event, ConsoleEvent::Replaced { login, leg }
            if *login == self.login && Some(*leg) == self.leg)
    }

    async fn handle(&mut self, text: &str) -> Outcome {
        let message = match ClientMessage::decode(text, MAX_MESSAGE) {
            Ok(message) => message,
            Err(error) => {
                return Outcome::reply(ServerMessage::error("unknown", error.to_string()))
            }
        };
        let name = message.name();
        let result = match message {
            ClientMessage::Ping => return Outcome::reply(ServerMessage::Pong),
            ClientMessage::IceCandidate { .. } => return Outcome::nothing(),
            ClientMessage::MediaOffer { sdp } => match self.open_media(sdp).await {
                Ok(answer) => return Outcome::reply(ServerMessage::MediaAnswer { sdp: answer }),
                Err(message) => Err(message),
            },
            ClientMessage::SetState { state, reason } => self.set_state(&state, reason).await,
            ClientMessage::SignOut => {
                self.sign_out().await;
                return Outcome {
                    reply: None,
                    close: true,
                };
            }
            other => match protocol::command(&other) {
                Some(command) => {
                    let login = self.login.clone();
                    self.ask(|reply| EngineRequest::Console {
                        login,
                        command,
                        reply,
                    })
                    .await
                    .and_then(|result: Result<(), ConsoleError>| result.map_err(|e| e.to_string()))
                }
                None => Ok(()),
            },
        };
        match result {
            Ok(()) => Outcome::nothing(),
            Err(message) => Outcome::reply(ServerMessage::error(name, message)),
        }
    }

    /// Sends a request to the engine task and waits for its answer.
    async fn ask<T>(
        &self,
        request: impl FnOnce(oneshot::Sender<T>) -> EngineRequest,
    ) -> Result<T, String> {
        let (reply, answer) = oneshot::channel();
        self.link
            .requests
            .send(request(reply))
            .await
            .map_err(|_| "the engine is stopping".to_owned())?;
        answer
            .await
            .map_err(|_| "the engine is stopping".to_owned())
    }

    async fn view(&self) -> Option<ConsoleView> {
        let login = self.login.clone();
        self.ask(|reply| EngineRequest::ConsoleView { login, reply })
            .await
            .ok()
            .flatten()
    }

    async fn set_state(&self, state: &str, reason: Option<String>) -> Result<(), String> {
        let request = match state {
            "available" => StatusRequest::Available,
            "logged_out" => StatusRequest::LoggedOut,
            "paused" => StatusRequest::Paused {
                reason: reason.unwrap_or_else(|| "break".to_owned()),
            },
            other => {
                return Err(format!(
                    "state {other:?} is not one of available, paused, logged_out"
                ))
            }
        };
        let login = self.login.clone();
        self.ask(|reply| EngineRequest::Status {
            login,
            request,
            reply,
        })
        .await?
        .map_err(|e| e.to_string())
    }

    /// Opens the session's WebRTC leg from the browser's offer and attaches it to the engine.
    async fn open_media(&mut self, offer: String) -> Result<String, String> {
        let leg = self
            .ask(|reply| EngineRequest::ReserveConsoleLeg { reply })
            .await?;
        let (reply, answer) = oneshot::channel();
        self.link
            .webrtc
            .send(WebRtcRequest::Open { leg, offer, reply })
            .map_err(|_| "the media runtime is stopping".to_owned())?;
        let sdp = answer
            .await
            .map_err(|_| "the media runtime is stopping".to_owned())??;
        let login = self.login.clone();
        let attached = self
            .ask(|reply| EngineRequest::ConsoleAttach { login, leg, reply })
            .await
            .and_then(|result| result.map_err(|e| e.to_string()));
        if let Err(error) = attached {
            let _ = self.link.webrtc.send(WebRtcRequest::Close { leg });
            return Err(error);
        }
        // The previous leg of this socket (a renegotiation) is replaced by the engine.
        if let Some(old) = self.leg.replace(leg) {
            let _ = self.link.webrtc.send(WebRtcRequest::Close { leg: old });
        }
        Ok(sdp)
    }

    async fn sign_out(&mut self) {
        let login = self.login.clone();
        let _ = self
            .link
            .requests
            .send(EngineRequest::ConsoleDetach { login })
            .await;
        if let Some(leg) = self.leg.take() {
            let _ = self.link.webrtc.send(WebRtcRequest::Close { leg });
        }
    }
}

/// `GET /ws/agent`: a signed-in operator's console socket. Refused (403) when the page that
/// opens it is from another site: browsers send the session cookie with any WebSocket
/// handshake, so the Origin is what stops another site from driving the console. Same rule as
/// the CSRF check and the SIP WebSocket ([`crate::web::origin_allowed`]).
pub async fn upgrade(
    ws: WebSocketUpgrade,
    caller: Authenticated,
    headers: HeaderMap,
    trusted: Option<Extension<TrustedOrigins>>,
    State(state): State<AppState>,
) -> Response {
    if !origin_allowed(&headers, trusted.as_ref().map(|Extension(t)| t)) {
        return error(
            StatusCode::FORBIDDEN,
            "the console must be opened from this server",
        );
    }
    let link = state.engine.clone();
    ws.max_message_size(MAX_MESSAGE)
        .on_upgrade(move |socket| serve(socket, caller.login, link))
}
