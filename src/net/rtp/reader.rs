//! The receiving path of one leg: a small task per socket that latches on the far end's
//! address (symmetric RTP, RFC 4961), turns RFC 4733 events into digits and, while the leg is
//! bridged, relays every packet straight into the partner leg's stream — or, while a manager
//! is on the call, pushes it into the call's mix ([`super::monitor`]) instead.
//!
//! Relaying here, as each datagram arrives, rather than on the 20 ms tick keeps the added
//! latency to one parse, one rewrite and one `send_to`. The partner's [`Output`] is shared with
//! the runtime's tick behind a mutex held only while the packet is written, never across an
//! await or a send.

use std::net::SocketAddr;
use std::sync::Arc;

use madoguchi_media::dtmf::{DtmfEvent, DtmfReceiver};
use madoguchi_media::g711::Transcoder;
use madoguchi_media::relay::{LegFormat, RelayRewriter};
use madoguchi_media::rtp::RtpHeader;
use madoguchi_sip::LegId;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::monitor::MixInput;
use super::recording::RecordTap;
use super::sink::Sink;
use super::{lock, SharedOutput};
use crate::engine::MediaEvent;

/// Largest datagram read; G.711 at 20 ms is 172 bytes, anything near this is not audio.
const DATAGRAM_MAX: usize = 2048;

/// Where a bridged leg's packets go: the partner's stream and how it sends.
pub(super) struct RelayTo {
    pub(super) output: SharedOutput,
    pub(super) sink: Sink,
}

pub(super) enum Control {
    /// Start relaying to this partner (a fresh anchor), or stop.
    Relay(Option<RelayTo>),
    /// Copy the received audio to a recording, or stop.
    Record(Option<RecordTap>),
    /// Push the received audio into a supervised call's mix instead of relaying it, or stop
    /// (relaying resumes with the next `Relay`).
    Mix(Option<MixInput>),
}

/// What a reader task needs besides its control channel.
pub(super) struct ReaderSetup {
    pub(super) leg: LegId,
    pub(super) socket: Arc<UdpSocket>,
    /// This leg's own stream, whose remote the latch sets.
    pub(super) own: SharedOutput,
    /// The far end's address as its SDP gave it.
    pub(super) signalled: Option<SocketAddr>,
    pub(super) format: LegFormat,
    pub(super) events: mpsc::UnboundedSender<MediaEvent>,
    pub(super) transcoder: Arc<Transcoder>,
}

/// A running reader task; dropping it stops the task.
pub(super) struct Reader {
    task: JoinHandle<()>,
    control: mpsc::UnboundedSender<Control>,
}

impl Reader {
    pub(super) fn spawn(setup: ReaderSetup) -> Reader {
        Reader::with_task(|control| read_stream(setup, control))
    }

    /// A reader whose packets come from `task`, which takes its control channel.
    pub(super) fn with_task<F, Fut>(task: F) -> Reader
    where
        F: FnOnce(mpsc::UnboundedReceiver<Control>) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let (control, control_rx) = mpsc::unbounded_channel();
        Reader {
            task: tokio::spawn(task(control_rx)),
            control,
        }
    }

    /// Relays this leg's packets to `to` from now on (`None`: stops relaying).
    pub(super) fn relay(&self, to: Option<RelayTo>) {
        // A task that ended (its socket kept failing) has nothing left to relay.
        let _ = self.control.send(Control::Relay(to));
    }

    /// Copies this leg's received audio to a recording from now on (`None`: stops).
    pub(super) fn record(&self, tap: Option<RecordTap>) {
        let _ = self.control.send(Control::Record(tap));
    }

    /// Pushes this leg's packets into a supervised call's mix from now on (`None`: stops).
    pub(super) fn mix(&self, input: Option<MixInput>) {
        let _ = self.control.send(Control::Mix(input));
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a leg does with each packet it receives, whatever it arrived on: relay it to the
/// partner while bridged, and turn RFC 4733 events into digits.
pub(super) struct PacketPath {
    leg: LegId,
    format: LegFormat,
    events: mpsc::UnboundedSender<MediaEvent>,
    transcoder: Arc<Transcoder>,
    relay: Option<(RelayRewriter, RelayTo)>,
    record: Option<RecordTap>,
    /// While supervised, packets go into the mix rather than to the partner.
    mix: Option<MixInput>,
    dtmf: DtmfReceiver,
    relayed: Vec<u8>,
}

impl PacketPath {
    pub(super) fn new(
        leg: LegId,
        format: LegFormat,
        events: mpsc::UnboundedSender<MediaEvent>,
        transcoder: Arc<Transcoder>,
    ) -> PacketPath {
        PacketPath {
            leg,
            format,
            events,
            transcoder,
            relay: None,
            record: None,
            mix: None,
            dtmf: DtmfReceiver::new(),
            relayed: vec![0u8; DATAGRAM_MAX],
        }
    }

    pub(super) fn leg(&self) -> LegId {
        self.leg
    }

    pub(super) fn control(&mut self, command: Control) {
        match command {
            Control::Relay(to) => {
                self.relay = to.map(|to| (RelayRewriter::new(self.format), to));
            }
            Control::Record(tap) => self.record = tap,
            Control::Mix(input) => self.mix = input,
        }
    }

    /// Handles one valid RTP packet; false once nobody listens to this leg's events.
    pub(super) fn received(&mut self, header: &RtpHeader, payload: &[u8]) -> bool {
        if let Some(mix) = &self.mix {
            // Digits are not audio: they still reach the engine below.
            if Some(header.payload_type) != self.format.telephone_event_pt {
                mix.push(header, payload);
            }
        } else if let Some((rewriter, to)) = self.relay.as_mut() {
            relay_packet(
                rewriter,
                to,
                header,
                payload,
                &self.transcoder,
                &mut self.relayed,
            );
        }
        if let Some(tap) = &self.record {
            if header.payload_type == self.format.payload_type {
                tap.copy(self.format.codec, header.timestamp, payload);
            }
        }
        if Some(header.payload_type) == self.format.telephone_event_pt
            && self.dtmf.handle_packet(header, payload).is_ok()
        {
            while let Some(DtmfEvent::Digit(digit)) = self.dtmf.poll_event() {
                let leg = self.leg;
                if self.events.send(MediaEvent::Digit { leg, digit }).is_err() {
                    return false;
                }
            }
        }
        true
    }
}

async fn read_stream(setup: ReaderSetup, mut control: mpsc::UnboundedReceiver<Control>) {
    let ReaderSetup {
        leg,
        socket,
        own,
        signalled,
        format,
        events,
        transcoder,
    } = setup;
    let mut path = PacketPath::new(leg, format, events, transcoder);
    let mut buf = vec![0u8; DATAGRAM_MAX];
    let mut latched: Option<SocketAddr> = None;
    let mut errors_in_a_row = 0u32;
    loop {
        let received = tokio::select! {
            // Control first: a bridge ordered before a packet arrived applies to that packet.
            biased;
            command = control.recv() => {
                match command {
                    Some(command) => path.control(command),
                    None => return,
                }
                continue;
            }
            received = socket.recv_from(&mut buf) => received,
        };
        let Ok((len, source)) = received else {
            // A socket that only fails would spin this task; the call keeps its audio out.
            errors_in_a_row += 1;
            if errors_in_a_row > 100 {
                tracing::debug!(?leg, "rtp socket keeps failing; no longer reading it");
                return;
            }
            continue;
        };
        errors_in_a_row = 0;
        let Ok((header, payload)) = RtpHeader::parse(&buf[..len]) else {
            metrics::counter!("madoguchi_rtp_invalid_total").increment(1);
            continue;
        };
        // Symmetric RTP latches on the first source after each (re)start, so a far end behind
        // NAT is heard and answered where it really sends from; packets from any other address
        // are dropped, so a stranger cannot take over the audio or press keys. The address the
        // SDP names always wins over an earlier latch: a port freed by one call and reused by
        // the next can still receive a stale stream meant for the old call, and that stream
        // must not capture the new leg.
        if latched != Some(source) {
            if latched.is_some() && Some(source) != signalled {
                metrics::counter!("madoguchi_rtp_foreign_source_total").increment(1);
                continue;
            }
            latched = Some(source);
            lock(&own).remote = Some(source);
        }
        if !path.received(&header, payload) {
            return;
        }
    }
}

/// Rewrites one packet into the partner's stream and sends it to the partner's far end.
fn relay_packet(
    rewriter: &mut RelayRewriter,
    to: &RelayTo,
    header: &RtpHeader,
    payload: &[u8],
    transcoder: &Transcoder,
    out: &mut [u8],
) {
    let written = {
        let mut partner = lock(&to.output);
        // Until the partner's far end is known there is nowhere to send, and no sequence
        // number is used up.
        let Some(remote) = partner.remote else {
            return;
        };
        match rewriter.relay(header, payload, &mut partner.stream, transcoder, out) {
            Ok(len) => (remote, len),
            Err(reason) => {
                tracing::trace!(%reason, "packet not relayed");
                return;
            }
        }
    };
    let (remote, len) = written;
    if !to.sink.send(&out[..len], remote) {
        metrics::counter!("madoguchi_rtp_send_errors_total").increment(1);
    }
}
