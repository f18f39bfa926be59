//! Where a stream's packets leave: the leg's UDP socket towards the far end's address, or a
//! browser's WebRTC connection (which encrypts them and knows where the browser is).

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::UdpSocket;

use crate::net::webrtc::BrowserRtpSender;

#[derive(Clone)]
pub(super) enum Sink {
    Udp(Arc<UdpSocket>),
    Browser(BrowserRtpSender),
}

impl Sink {
    /// Sends one RTP packet without waiting; false when it could not leave now.
    pub(super) fn send(&self, packet: &[u8], remote: SocketAddr) -> bool {
        match self {
            Sink::Udp(socket) => socket.try_send_to(packet, remote).is_ok(),
            Sink::Browser(browser) => browser.send_rtp(packet),
        }
    }
}
