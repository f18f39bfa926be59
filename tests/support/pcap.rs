//! A tiny pcap writer: RTP packets in UDP/IPv4/Ethernet frames, 20 ms apart, for sipp's
//! `<exec play_pcap_audio="FILE"/>` (which replays each UDP payload with the capture's timing
//! from its own media port to the far end's SDP address).

use std::net::SocketAddrV4;
use std::path::Path;

const LINKTYPE_ETHERNET: u32 = 1;

/// Writes `frames` as one PCMU stream (payload type 0, 160 samples a frame) from `from` to `to`.
pub fn write_rtp_stream(
    path: &Path,
    frames: &[Vec<u8>],
    ssrc: u32,
    from: SocketAddrV4,
    to: SocketAddrV4,
) -> std::io::Result<()> {
    let mut file = Vec::new();
    // Global header: magic, version 2.4, GMT offset, accuracy, snaplen, link type.
    file.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    file.extend_from_slice(&2u16.to_le_bytes());
    file.extend_from_slice(&4u16.to_le_bytes());
    file.extend_from_slice(&0i32.to_le_bytes());
    file.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(&65_535u32.to_le_bytes());
    file.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    for (i, payload) in frames.iter().enumerate() {
        let rtp = rtp_packet(payload, i, ssrc);
        let frame = ethernet_ipv4_udp(&rtp, from, to);
        let at_us = i as u64 * 20_000;
        file.extend_from_slice(&((1_700_000_000 + at_us / 1_000_000) as u32).to_le_bytes());
        file.extend_from_slice(&((at_us % 1_000_000) as u32).to_le_bytes());
        file.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        file.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        file.extend_from_slice(&frame);
    }
    std::fs::write(path, file)
}

fn rtp_packet(payload: &[u8], index: usize, ssrc: u32) -> Vec<u8> {
    let marker = if index == 0 { 0x80 } else { 0 };
    let mut packet = vec![0x80, marker];
    packet.extend_from_slice(&(1000u16.wrapping_add(index as u16)).to_be_bytes());
    packet.extend_from_slice(&((index as u32).wrapping_mul(160)).to_be_bytes());
    packet.extend_from_slice(&ssrc.to_be_bytes());
    packet.extend_from_slice(payload);
    packet
}

fn ethernet_ipv4_udp(payload: &[u8], from: SocketAddrV4, to: SocketAddrV4) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let ip_len = 20 + udp_len;
    let mut frame = Vec::with_capacity(14 + ip_len);
    frame.extend_from_slice(&[0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00]);
    let mut ip = vec![0x45, 0];
    ip.extend_from_slice(&(ip_len as u16).to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0x40, 0, 64, 17, 0, 0]);
    ip.extend_from_slice(&from.ip().octets());
    ip.extend_from_slice(&to.ip().octets());
    let checksum = ipv4_checksum(&ip);
    ip[10..12].copy_from_slice(&checksum.to_be_bytes());
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(&from.port().to_be_bytes());
    frame.extend_from_slice(&to.port().to_be_bytes());
    frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
    frame.extend_from_slice(&[0, 0]); // no UDP checksum: sipp computes its own
    frame.extend_from_slice(payload);
    frame
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], pair[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}
