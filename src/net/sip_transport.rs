//! SIP over UDP and TCP on one port, and the hand-over to SIP WebSockets ([`super::ws_sip`]).
//!
//! Inbound datagrams, framed TCP messages and WebSocket messages go to the engine task through
//! one bounded channel (a flood fills it and is dropped at the socket, counted, instead of
//! growing memory). Before that, the flood guard ([`super::sip_guard`]) drops what one source
//! sends beyond its rate limits, and everything from a blocked source or a scanner.
//! Outbound messages go out on UDP, on the TCP connection to that peer
//! (opened if needed), or on the WebSocket that peer opened (never opened by us).

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use madoguchi_sip::{StreamDecoder, StreamItem};
use madoguchi_sip::{Transmit, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;

use super::sip_guard::SharedGuard;
use super::sip_tls::SipTlsHub;
use super::ws_sip::WsSipHub;

/// What the transports hand the engine task.
#[derive(Debug)]
pub enum Inbound {
    /// One SIP message as it arrived.
    Message {
        transport: Transport,
        source: SocketAddr,
        payload: Vec<u8>,
    },
    /// A connection only its peer can open (a WebSocket) closed: nothing reaches the phones
    /// registered over it any more.
    FlowClosed {
        transport: Transport,
        source: SocketAddr,
    },
}

/// Messages waiting for the engine; beyond this the socket readers drop and count.
const INBOUND_QUEUE: usize = 16_384;
const MAX_DATAGRAM: usize = 65_535;
/// Bytes of datagrams the kernel may hold for the UDP reader (about 10,000 INVITEs).
const UDP_RECEIVE_BUFFER: usize = 8 << 20;
const ACCEPT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(100);

type Connections = Arc<Mutex<HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>>>;

#[derive(Clone)]
pub struct SipTransport {
    udp: Arc<UdpSocket>,
    connections: Connections,
    websockets: WsSipHub,
    tls: SipTlsHub,
    inbound: mpsc::Sender<Inbound>,
    /// Asked about every UDP datagram and TCP message before it may take a place in the
    /// engine's queue, so one source's flood cannot fill it ([`super::sip_guard`]).
    guard: SharedGuard,
}

/// Binds UDP and TCP on the same address; with port 0 both get the same free port.
pub async fn bind(addr: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
    let mut last_error = None;
    for _ in 0..20 {
        let udp = UdpSocket::bind(addr).await?;
        // Under a flood the reader is sometimes descheduled for a few milliseconds; a large
        // kernel buffer absorbs that so a phone's datagram is not lost before the guard sees
        // it (Linux caps the size at net.core.rmem_max).
        if let Err(error) = socket2::SockRef::from(&udp).set_recv_buffer_size(UDP_RECEIVE_BUFFER) {
            tracing::debug!(%error, "cannot enlarge the SIP receive buffer");
        }
        let local = udp.local_addr()?;
        match TcpListener::bind(local).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(error) if addr.port() == 0 => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("no free SIP port")))
}

impl SipTransport {
    /// Starts the socket readers; returns the handle for sending and the inbound queue.
    pub fn start(
        udp: UdpSocket,
        tcp: TcpListener,
        guard: SharedGuard,
    ) -> (SipTransport, mpsc::Receiver<Inbound>) {
        let (inbound, receiver) = mpsc::channel(INBOUND_QUEUE);
        let transport = SipTransport {
            udp: Arc::new(udp),
            connections: Arc::default(),
            websockets: WsSipHub::new(inbound.clone(), guard.clone()),
            tls: SipTlsHub::new(inbound.clone(), guard.clone()),
            inbound,
            guard,
        };
        tokio::spawn(transport.clone().read_udp());
        tokio::spawn(transport.clone().accept_tcp(tcp));
        (transport, receiver)
    }

    pub fn send(&self, transmit: Transmit) {
        match transmit.transport {
            Transport::Udp => {
                if let Err(error) = self
                    .udp
                    .try_send_to(&transmit.payload, transmit.destination)
                {
                    metrics::counter!("madoguchi_sip_send_errors_total").increment(1);
                    tracing::debug!(%error, "udp send failed");
                }
            }
            Transport::Tcp => self.send_tcp(transmit.destination, transmit.payload),
            Transport::Ws => self.websockets.send(transmit.destination, transmit.payload),
            Transport::Tls => self.tls.send(transmit.destination, transmit.payload),
        }
    }

    /// The SIP-over-TLS connections, for the `--sip-tls-listen` listener ([`super::sip_tls`]).
    pub fn tls(&self) -> SipTlsHub {
        self.tls.clone()
    }

    /// The flood guard, for the engine task's failed digests and other readers.
    pub fn guard(&self) -> SharedGuard {
        self.guard.clone()
    }

    /// The SIP WebSockets, for the HTTP server's `/ws/sip` ([`super::ws_sip::upgrade`]).
    pub fn websockets(&self) -> WsSipHub {
        self.websockets.clone()
    }

    fn send_tcp(&self, destination: SocketAddr, payload: Vec<u8>) {
        let existing = self
            .connections
            .lock()
            .ok()
            .and_then(|map| map.get(&destination).cloned());
        let payload = match existing {
            Some(writer) => match writer.send(payload) {
                Ok(()) => return,
                // The connection closed since; open a new one below.
                Err(returned) => returned.0,
            },
            None => payload,
        };
        let transport = self.clone();
        tokio::spawn(async move {
            match TcpStream::connect(destination).await {
                Ok(stream) => {
                    let writer = transport.register(stream, destination);
                    let _ = writer.send(payload);
                }
                Err(error) => tracing::debug!(%error, "tcp connect failed"),
            }
        });
    }

    async fn read_udp(self) {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            match self.udp.recv_from(&mut buf).await {
                Ok((len, source)) => {
                    if !self.guard.admit(source.ip(), &buf[..len]) {
                        continue;
                    }
                    if self
                        .inbound
                        .try_send(Inbound::Message {
                            transport: Transport::Udp,
                            source,
                            payload: buf[..len].to_vec(),
                        })
                        .is_err()
                    {
                        // A flood: UDP senders retransmit, so dropping here is safe.
                        metrics::counter!("madoguchi_sip_dropped_total", "reason" => "queue_full")
                            .increment(1);
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "udp recv failed");
                    tokio::task::yield_now().await;
                }
            }
        }
    }

    async fn accept_tcp(self, listener: TcpListener) {
        loop {
            match listener.accept().await {
                Ok((stream, peer)) => {
                    self.register(stream, peer);
                }
                Err(error) => {
                    // E.g. out of file descriptors: pause instead of spinning on the error.
                    tracing::warn!(%error, "tcp accept failed");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            }
        }
    }

    /// Splits a connection into a framed reader feeding the engine and a writer fed by `send`.
    fn register(&self, stream: TcpStream, peer: SocketAddr) -> mpsc::UnboundedSender<Vec<u8>> {
        let (mut reader, mut writer) = stream.into_split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
        if let Ok(mut map) = self.connections.lock() {
            map.insert(peer, tx.clone());
        }
        tokio::spawn(async move {
            while let Some(bytes) = rx.recv().await {
                if writer.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
        let transport = self.clone();
        let tx_for_reader = tx.clone();
        tokio::spawn(async move {
            let mut decoder = StreamDecoder::default();
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                let len = match reader.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(len) => len,
                };
                decoder.push(&buf[..len]);
                loop {
                    match decoder.next_item() {
                        // TCP peers never retransmit (RFC 3261 §17): wait for room
                        // in the queue rather than drop, slowing this connection only.
                        Ok(Some(StreamItem::Message(message))) => {
                            if !transport.guard.admit(peer.ip(), &message) {
                                continue;
                            }
                            let message = Inbound::Message {
                                transport: Transport::Tcp,
                                source: peer,
                                payload: message,
                            };
                            if transport.inbound.send(message).await.is_err() {
                                return;
                            }
                        }
                        // RFC 5626 keep-alive: a double CRLF ping gets a CRLF pong.
                        Ok(Some(StreamItem::KeepAlivePing)) => {
                            if let Ok(map) = transport.connections.lock() {
                                if let Some(writer) = map.get(&peer) {
                                    let _ = writer.send(b"\r\n".to_vec());
                                }
                            }
                        }
                        Ok(None) => break,
                        Err(error) => {
                            tracing::debug!(%error, "closing tcp connection with a broken stream");
                            metrics::counter!("madoguchi_sip_parse_errors_total").increment(1);
                            transport.forget(peer, &tx_for_reader);
                            return;
                        }
                    }
                }
            }
            transport.forget(peer, &tx_for_reader);
        });
        tx
    }

    /// Drops the connection's entry, unless a newer connection to the same peer replaced it.
    fn forget(&self, peer: SocketAddr, writer: &mpsc::UnboundedSender<Vec<u8>>) {
        if let Ok(mut map) = self.connections.lock() {
            if map
                .get(&peer)
                .is_some_and(|current| current.same_channel(writer))
            {
                map.remove(&peer);
            }
        }
    }
}
