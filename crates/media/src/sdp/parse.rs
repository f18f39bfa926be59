//! A small, tolerant SDP (RFC 4566) reader for trunk-style audio offers and answers.
//!
//! Why not `webrtc-sdp`: that crate targets browser JSEP. It rejects a whole description for
//! lines trunks and PBXs legitimately send (`e=`, `p=`, `u=`, `r=`, `z=`, `k=` are hard
//! errors), insists on the exact v/o/s line order and a session name, reports problems as
//! strings, and logs through `log`. Here only what offer/answer needs is read; unknown line
//! types and attributes are skipped, CRLF or bare LF both end a line, and a line that is not
//! UTF-8 (a Shift_JIS `s=` from a Japanese PBX) is skipped unless it is an `m=` or `c=` line.
//! Structural damage (no `v=0` first, a line that is not `x=…`, an unreadable `m=`/`c=`) is an
//! error with the line number.

use std::net::IpAddr;

use super::{Direction, SdpError};

/// Where a `c=` line points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connection {
    Ip(IpAddr),
    /// A host name: valid SDP, but the core does not resolve names.
    Host,
}

/// One `a=rtpmap` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RtpMap<'a> {
    pub payload_type: u8,
    pub encoding: &'a str,
    pub clock_rate: u32,
    pub channels: Option<u32>,
}

/// One `m=` section with the attributes offer/answer needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MediaSection<'a> {
    pub media: &'a str,
    pub port: u16,
    pub proto: &'a str,
    /// The format list as written, echoed when the stream is rejected.
    pub formats: &'a str,
    /// Numeric formats in the offerer's order.
    pub payload_types: Vec<u8>,
    pub connection: Option<Connection>,
    pub direction: Option<Direction>,
    pub rtpmaps: Vec<RtpMap<'a>>,
    /// `a=fmtp` parameters by payload type, as written.
    pub fmtps: Vec<(u8, &'a str)>,
    pub ptime: Option<u32>,
}

impl<'a> MediaSection<'a> {
    pub fn rtpmap(&self, pt: u8) -> Option<&RtpMap<'a>> {
        self.rtpmaps.iter().find(|m| m.payload_type == pt)
    }

    pub fn fmtp(&self, pt: u8) -> Option<&'a str> {
        self.fmtps.iter().find(|(p, _)| *p == pt).map(|(_, v)| *v)
    }
}

/// The parts of a session description offer/answer uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SessionDescription<'a> {
    pub connection: Option<Connection>,
    pub direction: Option<Direction>,
    pub ptime: Option<u32>,
    pub media: Vec<MediaSection<'a>>,
}

/// Parses `sdp`; see the module docs for what is tolerated.
pub(crate) fn parse(sdp: &[u8]) -> Result<SessionDescription<'_>, SdpError> {
    let mut desc = SessionDescription::default();
    let mut seen_version = false;
    for (index, raw) in sdp.split(|&b| b == b'\n').enumerate() {
        let line_no = index + 1;
        let raw = raw.trim_ascii();
        if raw.is_empty() {
            continue;
        }
        if !seen_version {
            if raw != b"v=0" {
                return Err(SdpError::NotSdp);
            }
            seen_version = true;
            continue;
        }
        let (kind, value) = match raw {
            [k, b'=', rest @ ..] if k.is_ascii_lowercase() => (*k, rest),
            _ => return Err(SdpError::MalformedLine { line: line_no }),
        };
        let Ok(value) = std::str::from_utf8(value) else {
            if matches!(kind, b'm' | b'c') {
                return Err(SdpError::MalformedLine { line: line_no });
            }
            continue;
        };
        let value = value.trim();
        match kind {
            b'm' => desc.media.push(parse_media(value, line_no)?),
            b'c' => {
                let c = parse_connection(value, line_no)?;
                match desc.media.last_mut() {
                    Some(m) => m.connection = Some(c),
                    None => desc.connection = Some(c),
                }
            }
            b'a' => parse_attribute(&mut desc, value),
            _ => {}
        }
    }
    if !seen_version {
        return Err(SdpError::NotSdp);
    }
    Ok(desc)
}

fn parse_media(value: &str, line: usize) -> Result<MediaSection<'_>, SdpError> {
    let err = SdpError::MalformedMedia { line };
    let mut parts = value.splitn(4, ' ');
    let media = parts.next().filter(|s| !s.is_empty()).ok_or(err)?;
    // `port/count` (RFC 4566 §5.14): only the base port matters for a single audio stream.
    let port = parts
        .next()
        .and_then(|p| p.split('/').next())
        .and_then(|p| p.parse::<u16>().ok())
        .ok_or(err)?;
    let proto = parts.next().filter(|s| !s.is_empty()).ok_or(err)?;
    let formats = parts.next().unwrap_or("").trim();
    let payload_types = formats
        .split_ascii_whitespace()
        .filter_map(|f| f.parse::<u8>().ok())
        .filter(|&pt| pt < 128)
        .collect();
    Ok(MediaSection {
        media,
        port,
        proto,
        formats,
        payload_types,
        connection: None,
        direction: None,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
        ptime: None,
    })
}

fn parse_connection(value: &str, line: usize) -> Result<Connection, SdpError> {
    let err = SdpError::MalformedConnection { line };
    let mut parts = value.split_ascii_whitespace();
    let (Some(net), Some(addr_type), Some(addr)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(err);
    };
    if !net.eq_ignore_ascii_case("IN") {
        return Err(err);
    }
    // Multicast `addr/ttl[/count]`: the address is what precedes the first slash.
    let addr = addr.split('/').next().unwrap_or(addr);
    let is_v4 = addr_type.eq_ignore_ascii_case("IP4");
    let is_v6 = addr_type.eq_ignore_ascii_case("IP6");
    if !is_v4 && !is_v6 {
        return Err(err);
    }
    match addr.parse::<IpAddr>() {
        Ok(ip) if ip.is_ipv4() == is_v4 => Ok(Connection::Ip(ip)),
        Ok(_) => Err(err),
        // Digits and dots alone are a broken IPv4 address, not a host name.
        Err(_)
            if addr.bytes().all(is_host_byte) && addr.bytes().any(|b| b.is_ascii_alphabetic()) =>
        {
            Ok(Connection::Host)
        }
        Err(_) => Err(err),
    }
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
}

fn parse_attribute<'a>(desc: &mut SessionDescription<'a>, value: &'a str) {
    let (name, arg) = match value.split_once(':') {
        Some((n, a)) => (n.trim(), Some(a.trim())),
        None => (value, None),
    };
    let direction = match name {
        "sendrecv" => Some(Direction::SendRecv),
        "sendonly" => Some(Direction::SendOnly),
        "recvonly" => Some(Direction::RecvOnly),
        "inactive" => Some(Direction::Inactive),
        _ => None,
    };
    if let Some(d) = direction {
        match desc.media.last_mut() {
            Some(m) => m.direction = Some(d),
            None => desc.direction = Some(d),
        }
        return;
    }
    match (name, arg) {
        ("ptime", Some(v)) => {
            // Some devices write `20.0`; fractional milliseconds are rounded.
            let Ok(ms) = v.parse::<f64>() else { return };
            if !(ms.is_finite() && ms > 0.0 && ms < 10_000.0) {
                return;
            }
            let ms = ms.round() as u32;
            match desc.media.last_mut() {
                Some(m) => m.ptime = Some(ms),
                None => desc.ptime = Some(ms),
            }
        }
        ("fmtp", Some(v)) => {
            let Some((pt, params)) = v.split_once(|c: char| c.is_ascii_whitespace()) else {
                return;
            };
            if let (Ok(pt), Some(m)) = (pt.parse::<u8>(), desc.media.last_mut()) {
                m.fmtps.push((pt, params.trim()));
            }
        }
        ("rtpmap", Some(v)) => {
            if let (Some(map), Some(m)) = (parse_rtpmap(v), desc.media.last_mut()) {
                m.rtpmaps.push(map);
            }
        }
        _ => {}
    }
}

fn parse_rtpmap(value: &str) -> Option<RtpMap<'_>> {
    let (pt, rest) = value.split_once(|c: char| c.is_ascii_whitespace())?;
    let payload_type = pt.parse::<u8>().ok().filter(|&pt| pt < 128)?;
    let mut parts = rest.trim().split('/');
    let encoding = parts.next().filter(|e| !e.is_empty())?;
    let clock_rate = parts.next()?.trim().parse::<u32>().ok()?;
    let channels = match parts.next() {
        Some(c) => Some(c.trim().parse::<u32>().ok()?),
        None => None,
    };
    Some(RtpMap {
        payload_type,
        encoding,
        clock_rate,
        channels,
    })
}
