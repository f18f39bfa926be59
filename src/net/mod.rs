//! The network shell: sockets only. SIP over UDP and TCP on one port ([`sip_transport`]), over
//! WebSocket on the HTTP port ([`ws_sip`]), over TLS ([`sip_tls`], [`tls`]), and the RTP media runtime ([`rtp`]) that plays
//! prompts on one shared 20 ms tick. None decides anything about a call; they carry out the
//! core's outputs and feed it what arrives.

pub mod rtp;
pub mod sip_guard;
pub mod sip_tls;
pub mod sip_transport;
pub mod tls;
pub mod tls_listeners;
pub mod webrtc;
pub mod ws_sip;
