//! What the core asks of the media shell, and what the shell reports back.
//!
//! The shell owns RTP sockets and the 20 ms tick; the core decides what each call hears.
//! A leg's media goes through `Open` → (`Opened` | `OpenFailed`) → `Start` → any number of
//! `Play`/`StopPlayback`/`SetSending`/`Bridge`/`Unbridge` → `Close`. A browser phone's leg
//! (a SIP phone on a WebSocket, its audio WebRTC) goes `OpenWebRtc` → (`WebRtcOffer` |
//! `OpenFailed`) → `AnswerWebRtc` → the same commands → `Close`; `BrowserGone` when its
//! connection fails or the answer does not fit. A manager joining a bridged call adds
//! `Monitor` (the caller's, the operator's and the manager's legs are mixed instead of relayed)
//! → any number of `SetMonitorMode` → `Unmonitor`, or the `Close` of any of the three legs.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};
use std::path::PathBuf;
use std::time::Duration;

use madoguchi_media::mix::MixMode;
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
    /// Record what `caller` and `operator` receive (their far ends' voices) into `file`,
    /// relative to the recordings folder, caller left and operator right; `key` (the call
    /// id) names the recording in the commands and events that follow.
    StartRecording {
        key: String,
        caller: LegId,
        operator: LegId,
        file: PathBuf,
    },
    /// The recording goes silent from now (the caller reads out a card number) …
    PauseRecording {
        key: String,
    },
    /// … and records again.
    ResumeRecording {
        key: String,
    },
    /// Close the file (the media shell tells the store how it ended: `RecordingNews`).
    StopRecording {
        key: String,
    },
    /// A manager joins a bridged call on the started leg `supervisor`: the three legs hear a
    /// mix of each other as `mode` allows (listen: the supervisor hears both; whisper: the
    /// operator hears the supervisor too; barge: everyone hears everyone) instead of the
    /// caller and operator relaying to each other. The recording is unchanged.
    Monitor {
        caller: LegId,
        operator: LegId,
        supervisor: LegId,
        mode: MixMode,
    },
    /// Switch who hears whom on `supervisor`'s call from the next frame on.
    SetMonitorMode {
        supervisor: LegId,
        mode: MixMode,
    },
    /// The supervisor leaves: caller and operator relay to each other again. Closing any of
    /// the three legs does the same.
    Unmonitor {
        supervisor: LegId,
    },
    /// Play prompts from this cache from now on (a dialplan reload). It holds every id the
    /// one before held, so playbacks in progress go on; sent before any `Play` of a new id.
    UsePrompts(SharedPrompts),
}

/// A prompt cache shared with the media shell; two are equal when they are the same cache.
#[derive(Debug, Clone)]
pub struct SharedPrompts(pub std::sync::Arc<madoguchi_prompts::PromptCache>);

impl PartialEq for SharedPrompts {
    fn eq(&self, other: &SharedPrompts) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What the store learns of recordings: `Started` and `Failed` from the engine's
/// `poll_recording`, `Finished` from the media shell's recorder when the file is closed (also
/// after the engine has stopped, at shutdown).
#[derive(Debug, Clone, PartialEq)]
pub enum RecordingNews {
    Started {
        call_id: String,
        /// Relative to the recordings folder.
        file: PathBuf,
        at: DateTime<Utc>,
    },
    /// Writing stopped mid-call (the disk is full, or another write error).
    Failed {
        call_id: String,
        disk_full: bool,
        at: DateTime<Utc>,
    },
    Finished {
        call_id: String,
        outcome: RecordingOutcome,
        at: DateTime<Utc>,
    },
}

/// How a recording ended, for the store and the call's events.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingOutcome {
    /// Relative to the recordings folder.
    pub file: PathBuf,
    pub duration: Duration,
    pub bytes: u64,
    /// SHA-256 of the file on disk, lowercase hex; `None` when it could not be read back.
    pub sha256: Option<String>,
    /// Silent spans (start, end) from the recording's start.
    pub paused: Vec<(Duration, Duration)>,
    /// Why the file stopped being written, if it did.
    pub error: Option<String>,
    pub disk_full: bool,
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
    /// A recording stopped being written mid-call (said once): the call goes on.
    RecordingFailed {
        key: String,
        disk_full: bool,
    },
}
