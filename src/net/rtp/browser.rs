//! Browser legs in the media runtime: an operator console's WebRTC connection, or a browser
//! SIP phone's (we offer, its 200 OK answers) ([`crate::net::webrtc`]), as one more stream. Its packets leave through the connection
//! (encrypted there) instead of a UDP socket, and a reader task takes the plain RTP the
//! connection decrypts through the same [`PacketPath`] as any leg: relay to the partner,
//! digits out. When the browser goes for good, the engine hears [`MediaEvent::BrowserGone`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use madoguchi_media::relay::{LegFormat, LegOutput};
use madoguchi_media::rtp::{RtpHeader, RtpSender};
use madoguchi_media::Codec;
use madoguchi_sip::LegId;
use rand::Rng;
use tokio::sync::mpsc;

use super::reader::{Control, PacketPath, Reader};
use super::sink::Sink;
use super::{MediaRuntime, Output, Stream};
use crate::engine::MediaEvent;
use crate::net::webrtc::{self, LegState, WebRtcLeg};

/// The "far end address" of a browser stream: the connection knows where the browser is, so
/// this only marks the stream as ready to send.
const THROUGH_THE_CONNECTION: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0);

impl MediaRuntime {
    /// Answers a browser's offer with a WebRTC leg on a port of the RTP range, known as `leg`.
    pub(super) async fn open_browser(&mut self, leg: LegId, offer: &str) -> Result<String, String> {
        if self.streams.contains_key(&leg) || self.offers.contains_key(&leg) {
            return Err("this leg is open already".to_owned());
        }
        let Some((socket, port)) = self.ports.bind(self.bind_ip).await else {
            return Err("no free port for browser audio".to_owned());
        };
        let (browser, answer) = match webrtc::accept_on(offer, socket, self.candidate_ip).await {
            Ok(accepted) => accepted,
            Err(error) => {
                self.ports.release(port);
                return Err(error.to_string());
            }
        };
        self.insert_browser(leg, port, browser);
        Ok(answer)
    }

    /// Offers `codec` to a browser phone on a port of the RTP range; the offer goes to the
    /// engine (`WebRtcOffer`), the leg waits for [`Self::answer_browser`].
    pub(super) async fn offer_browser(&mut self, leg: LegId, codec: Codec) {
        if self.streams.contains_key(&leg) || self.offers.contains_key(&leg) {
            tracing::debug!(?leg, "WebRTC offer for a leg already open ignored");
            return;
        }
        let Some((socket, port)) = self.ports.bind(self.bind_ip).await else {
            tracing::warn!("no free RTP port in the configured range for a browser phone");
            let _ = self.events.send(MediaEvent::OpenFailed { leg });
            return;
        };
        match webrtc::offer_on(socket, self.candidate_ip, codec) {
            Ok((pending, sdp)) => {
                self.offers.insert(leg, (pending, port));
                let _ = self.events.send(MediaEvent::WebRtcOffer { leg, sdp });
            }
            Err(error) => {
                tracing::warn!(%error, "cannot make a WebRTC offer");
                self.ports.release(port);
                let _ = self.events.send(MediaEvent::OpenFailed { leg });
            }
        }
    }

    /// The phone's answer to our offer: the leg connects and is bridged like any stream.
    pub(super) fn answer_browser(&mut self, leg: LegId, answer: &str) {
        let Some((pending, port)) = self.offers.remove(&leg) else {
            tracing::debug!(?leg, "WebRTC answer without an offer ignored");
            return;
        };
        match pending.answer(answer) {
            Ok(browser) => self.insert_browser(leg, port, browser),
            Err(error) => {
                tracing::debug!(%error, "a browser phone's answer refused");
                self.ports.release(port);
                let _ = self.events.send(MediaEvent::BrowserGone { leg });
            }
        }
    }

    /// A connected (or connecting) browser leg becomes the stream of `leg`.
    fn insert_browser(&mut self, leg: LegId, port: u16, browser: WebRtcLeg) {
        let format = LegFormat {
            codec: browser.codec(),
            payload_type: browser.payload_type(),
            telephone_event_pt: browser.telephone_event_pt(),
        };
        let output = Output {
            stream: LegOutput::new(RtpSender::from_seed(rand::thread_rng().gen()), format),
            remote: Some(THROUGH_THE_CONNECTION),
        };
        let sink = Sink::Browser(browser.browser_sender());
        let path = PacketPath::new(
            leg,
            format,
            self.events.clone(),
            Arc::clone(&self.transcoder),
        );
        let events = self.events.clone();
        let reader = Reader::with_task(move |control| read_browser(browser, path, control, events));
        self.streams.insert(
            leg,
            Stream {
                sink,
                port,
                output: Arc::new(Mutex::new(output)),
                playing: None,
                partner: None,
                reader: Some(reader),
                tap: None,
            },
        );
    }
}

/// Reads the browser's packets until the connection ends (then tells the engine) or the
/// stream is closed (the reader is dropped, and the connection with it).
async fn read_browser(
    mut browser: WebRtcLeg,
    mut path: PacketPath,
    mut control: mpsc::UnboundedReceiver<Control>,
    events: mpsc::UnboundedSender<MediaEvent>,
) {
    let leg = path.leg();
    let mut state = browser.state();
    loop {
        tokio::select! {
            biased;
            command = control.recv() => match command {
                Some(command) => path.control(command),
                None => break,
            },
            changed = state.changed() => {
                let gone = changed.is_err()
                    || matches!(*state.borrow_and_update(), LegState::Failed | LegState::Closed);
                if gone {
                    let _ = events.send(MediaEvent::BrowserGone { leg });
                    break;
                }
            }
            packet = browser.recv_rtp() => {
                let Some(packet) = packet else {
                    let _ = events.send(MediaEvent::BrowserGone { leg });
                    break;
                };
                let Ok((header, payload)) = RtpHeader::parse(&packet) else {
                    metrics::counter!("madoguchi_rtp_invalid_total").increment(1);
                    continue;
                };
                if !path.received(&header, payload) {
                    break;
                }
            }
        }
    }
    browser.close().await;
}
