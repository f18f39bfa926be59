//! What the core asks of the media shell, and what the shell reports back.
//!
//! The shell owns RTP sockets and the 20 ms tick; the core decides what each call hears.
//! A leg's media goes through `Open` → (`Opened` | `OpenFailed`) → `Start` → any number of
//! `Play`/`StopPlayback`/`SetSending`/`Bridge`/`Unbridge` → `Close`. A browser phone's leg
//! (a SIP phone on a WebSocket, its audio WebRTC) goes `OpenWebRtc` → (`WebRtcOffer` |
//! `OpenFailed`) → `AnswerWebRtc` → the same commands → `Close`; `BrowserGone` when its
//! connection fails or the answer does not fit.

use std::net::SocketAddr;

use madoguchi_media::Codec;
use madoguchi_prompts::PromptId;
use madoguchi_sip::LegId;

#[derive(Debug, Clone, PartialEq)]
pub enum MediaCommand {
    /// Bind an RTP port for this leg and answer with `MediaEvent::Opened`.
    Open {
        leg: LegId,
    },
    /// Make a WebRTC offer (ICE-lite, DTLS-SRTP, `codec` alone plus telephone-event) on a
    /// port of the RTP range and answer with `MediaEvent::WebRtcOffer`.
    OpenWebRtc {
        leg: LegId,
        codec: Codec,
    },
    /// The browser's SDP answer to that offer: the leg connects and runs like a started one
    /// (its format is what the answer agreed to); a bad answer gives `BrowserGone`.
    AnswerWebRtc {
        leg: LegId,
        answer: String,
    },
    /// The negotiated session: where to send (until the caller's packets show where they come
    /// from: symmetric RTP), in which codec, and which payload type carries RFC 4733 events.
    Start {
        leg: LegId,
        remote: Option<SocketAddr>,
        codec: Codec,
        payload_type: u8,
        telephone_event_pt: Option<u8>,
    },
    /// Play a prompt from its first frame; replaces whatever was playing. `playback` numbers
    /// the plays of a leg, so a finish that crossed a newer `Play` is recognised as stale.
    /// `looped`: restart from frame 0 seamlessly at the end (hold music); no `PromptFinished`
    /// is sent for a looped playback. On a bridged leg the prompt is heard instead of the
    /// partner while it plays; the bridge stays and is heard again after it.
    Play {
        leg: LegId,
        prompt: PromptId,
        playback: u32,
        looped: bool,
    },
    StopPlayback {
        leg: LegId,
    },
    /// Hold: a caller who put us on hold (sendonly/inactive) gets no packets.
    SetSending {
        leg: LegId,
        sending: bool,
    },
    /// Relay audio and RFC 4733 events both ways between two started legs; playback on
    /// both stops. Replaces any earlier bridge of either leg.
    Bridge {
        a: LegId,
        b: LegId,
    },
    /// Stop relaying for this leg and its partner (both become silent until the next Play).
    Unbridge {
        leg: LegId,
    },
    /// Release the port; a bridge with this leg ends.
    Close {
        leg: LegId,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum MediaEvent {
    Opened {
        leg: LegId,
        port: u16,
    },
    OpenFailed {
        leg: LegId,
    },
    /// The SDP offer made for `OpenWebRtc`.
    WebRtcOffer {
        leg: LegId,
        sdp: String,
    },
    /// The last frame of that playback went out.
    PromptFinished {
        leg: LegId,
        playback: u32,
    },
    Digit {
        leg: LegId,
        digit: char,
    },
    /// A browser's audio connection (console or phone) failed or closed for good, or a
    /// phone's answer could not be applied.
    BrowserGone {
        leg: LegId,
    },
}
