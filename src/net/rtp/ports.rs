//! The RTP port pool: even ports of the configured range (RTCP would take the odd one above),
//! handed out round-robin so a just-released port is not reused at once.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::ops::RangeInclusive;

use tokio::net::UdpSocket;

pub(super) struct PortPool {
    range: RangeInclusive<u16>,
    cursor: u16,
    in_use: HashSet<u16>,
}

impl PortPool {
    pub(super) fn new(range: RangeInclusive<u16>) -> PortPool {
        let first = *range.start() + (*range.start() % 2);
        PortPool {
            range,
            cursor: first,
            in_use: HashSet::new(),
        }
    }

    pub(super) async fn bind(&mut self, ip: IpAddr) -> Option<(UdpSocket, u16)> {
        let (start, end) = (*self.range.start(), *self.range.end());
        let slots = usize::from((end - start) / 2 + 1);
        for _ in 0..slots {
            let port = self.cursor;
            self.cursor = port
                .checked_add(2)
                .filter(|next| *next <= end)
                .unwrap_or(start + (start % 2));
            if self.in_use.contains(&port) {
                continue;
            }
            // Taken by another process: try the next one.
            if let Ok(socket) = UdpSocket::bind(SocketAddr::new(ip, port)).await {
                self.in_use.insert(port);
                return Some((socket, port));
            }
        }
        None
    }

    pub(super) fn release(&mut self, port: u16) {
        self.in_use.remove(&port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: a range ending at 65535 overflowed the cursor past the last even port.
    #[tokio::test]
    async fn port_pool_wraps_at_the_top_of_the_port_space() {
        let mut pool = PortPool::new(65_530..=65_535);
        let ip = IpAddr::from([127, 0, 0, 1]);
        let mut ports = Vec::new();
        let mut sockets = Vec::new();
        for _ in 0..3 {
            let (socket, port) = pool.bind(ip).await.expect("a free even port");
            ports.push(port);
            sockets.push(socket);
        }
        assert_eq!(ports, [65_530, 65_532, 65_534]);
        assert!(pool.bind(ip).await.is_none(), "the range is used up");
        pool.release(65_532);
        drop(sockets.remove(1));
        let (_socket, port) = pool.bind(ip).await.expect("the released port again");
        assert_eq!(port, 65_532);
    }
}
