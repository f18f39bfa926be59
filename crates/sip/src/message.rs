//! Building responses and reading header values as text.
//!
//! A response copies the request's addressing headers (§8.2.6.2): every Via (the top one
//! stamped with `received`/`rport`, §18.2.1 and RFC 3581), From, To (with our tag on
//! non-100 responses), Call-ID and CSeq. [`ResponseCtx`] keeps just those strings, so a leg
//! can answer its INVITE long after the parsed request is gone, and the same code answers a
//! request that rsip could not parse (from [`ScannedRequest`]).

use crate::parse::ScannedRequest;
use rsip::prelude::*;
use rsip::{Header, Request};
use std::net::{IpAddr, SocketAddr};

/// The request headers a response copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResponseCtx {
    pub vias: Vec<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub call_id: Option<String>,
    pub cseq: String,
    /// Reflected in 101–299 responses so the caller learns the route set (§12.1.1).
    pub record_route: Vec<String>,
}

impl ResponseCtx {
    pub fn from_request(request: &Request, source: SocketAddr) -> Self {
        let mut ctx = Self {
            vias: Vec::new(),
            from: None,
            to: None,
            call_id: None,
            cseq: String::new(),
            record_route: Vec::new(),
        };
        for header in request.headers.iter() {
            match header {
                Header::Via(v) => ctx.vias.push(v.value().to_owned()),
                Header::From(v) if ctx.from.is_none() => ctx.from = Some(v.value().to_owned()),
                Header::To(v) if ctx.to.is_none() => ctx.to = Some(v.value().to_owned()),
                Header::CallId(v) if ctx.call_id.is_none() => {
                    ctx.call_id = Some(v.value().to_owned())
                }
                Header::CSeq(v) if ctx.cseq.is_empty() => ctx.cseq = v.value().to_owned(),
                Header::RecordRoute(v) => ctx.record_route.push(v.value().to_owned()),
                _ => {}
            }
        }
        ctx.stamp(source);
        ctx
    }

    pub fn from_scanned(scanned: &ScannedRequest, source: SocketAddr) -> Self {
        let mut ctx = Self {
            vias: scanned.vias.clone(),
            from: scanned.from.clone(),
            to: scanned.to.clone(),
            call_id: scanned.call_id.clone(),
            cseq: scanned.cseq.clone(),
            record_route: Vec::new(),
        };
        ctx.stamp(source);
        ctx
    }

    fn stamp(&mut self, source: SocketAddr) {
        if let Some(top) = self.vias.first_mut() {
            *top = stamp_via(top, source);
        }
    }
}

/// What goes into one response besides the copied headers.
#[derive(Debug, Default)]
pub(crate) struct Reply<'a> {
    pub status: u16,
    pub reason: Option<&'a str>,
    pub to_tag: Option<String>,
    pub extra: Vec<(&'static str, String)>,
    pub body: Option<(&'a str, &'a [u8])>,
}

impl<'a> Reply<'a> {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            ..Self::default()
        }
    }
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.to_tag = Some(tag.into());
        self
    }
    pub fn reason(mut self, reason: &'a str) -> Self {
        self.reason = Some(reason);
        self
    }
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }
    pub fn sdp(mut self, sdp: Option<&'a [u8]>) -> Self {
        self.body = sdp.map(|b| ("application/sdp", b));
        self
    }
}

/// Encodes a response; `server` goes into the Server header.
pub(crate) fn build_response(ctx: &ResponseCtx, reply: &Reply<'_>, server: &str) -> Vec<u8> {
    use rsip::headers::*;
    let mut headers = rsip::Headers::default();
    for via in &ctx.vias {
        headers.push(Header::Via(Via::new(via.as_str())));
    }
    if let Some(from) = &ctx.from {
        headers.push(Header::From(From::new(from.as_str())));
    }
    if let Some(to) = &ctx.to {
        let to = match reply.to_tag.as_deref() {
            Some(tag) if reply.status > 100 && tag_param(to).is_none() => format!("{to};tag={tag}"),
            _ => to.clone(),
        };
        headers.push(Header::To(To::new(to)));
    }
    if let Some(call_id) = &ctx.call_id {
        headers.push(Header::CallId(CallId::new(call_id.as_str())));
    }
    headers.push(Header::CSeq(CSeq::new(ctx.cseq.as_str())));
    if (101..=299).contains(&reply.status) {
        for rr in &ctx.record_route {
            headers.push(Header::RecordRoute(RecordRoute::new(rr.as_str())));
        }
    }
    for (name, value) in &reply.extra {
        headers.push(Header::Other((*name).into(), value.clone()));
    }
    headers.push(Header::Server(Server::new(server)));
    let body: &[u8] = match reply.body {
        Some((content_type, body)) => {
            headers.push(Header::ContentType(ContentType::new(content_type)));
            body
        }
        None => &[],
    };
    headers.push(Header::ContentLength(ContentLength::new(
        body.len().to_string(),
    )));
    let reason = reply
        .reason
        .map(str::to_owned)
        .unwrap_or_else(|| reason_phrase(reply.status).to_owned());
    let response = rsip::Response {
        status_code: rsip::StatusCode::Other(reply.status, reason),
        version: rsip::Version::V2,
        headers,
        body: Vec::new(),
    };
    // The body is appended as raw bytes: rsip's Display would pass it through a lossy UTF-8
    // conversion.
    let mut out = response.to_string().into_bytes();
    out.extend_from_slice(body);
    out
}

/// Adds `received` (and fills an empty `rport`) to a Via value per §18.2.1 and RFC 3581 §4.
pub(crate) fn stamp_via(via: &str, source: SocketAddr) -> String {
    let mut parts = via.split(';');
    let sent = parts.next().unwrap_or_default().trim();
    let mut params: Vec<String> = parts
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let has_rport = params
        .iter()
        .any(|p| param_name(p).eq_ignore_ascii_case("rport"));
    let sent_by_host = sent
        .split_whitespace()
        .nth(1)
        .map(host_of_hostport)
        .unwrap_or_default();
    let same_host = sent_by_host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip == source.ip());
    if !has_rport && same_host {
        return via.to_owned();
    }
    params.retain(|p| {
        let name = param_name(p);
        !name.eq_ignore_ascii_case("received") && !name.eq_ignore_ascii_case("rport")
    });
    params.push(format!("received={}", source.ip()));
    if has_rport {
        params.push(format!("rport={}", source.port()));
    }
    let mut out = sent.to_owned();
    for p in params {
        out.push(';');
        out.push_str(&p);
    }
    out
}

fn param_name(param: &str) -> &str {
    param.split('=').next().unwrap_or_default().trim()
}

fn host_of_hostport(hostport: &str) -> &str {
    if hostport.starts_with('[') {
        return hostport.find(']').map_or(hostport, |end| &hostport[..=end]);
    }
    hostport.split(':').next().unwrap_or(hostport)
}

/// Region of a name-addr/addr-spec header value holding header parameters (after `>` when
/// the URI is bracketed; otherwise after the first `;`, §20.10).
fn header_params(value: &str) -> &str {
    match value.rfind('>') {
        Some(i) => &value[i + 1..],
        None => value.find(';').map_or("", |i| &value[i..]),
    }
}

/// The `tag` parameter of a From/To value.
pub(crate) fn tag_param(value: &str) -> Option<String> {
    header_params(value).split(';').find_map(|p| {
        let (name, v) = p.split_once('=')?;
        (name.trim().eq_ignore_ascii_case("tag") && !v.trim().is_empty())
            .then(|| v.trim().to_owned())
    })
}

/// The URI inside a name-addr (`<…>`) or the addr-spec before header parameters.
pub(crate) fn uri_text(value: &str) -> &str {
    if let (Some(open), Some(close)) = (value.find('<'), value.rfind('>')) {
        if open < close {
            return value[open + 1..close].trim();
        }
    }
    value.split(';').next().unwrap_or_default().trim()
}

/// The display name of a name-addr, unquoted.
pub(crate) fn display_name(value: &str) -> Option<String> {
    let open = value.find('<')?;
    let name = value[..open].trim();
    let name = name
        .strip_prefix('"')
        .and_then(|n| n.strip_suffix('"'))
        .map(|n| n.replace("\\\"", "\"").replace("\\\\", "\\"))
        .unwrap_or_else(|| name.to_owned());
    (!name.is_empty()).then_some(name)
}

/// The user part of a SIP/SIPS URI or the number of a tel URI, from a header value.
pub(crate) fn uri_user(value: &str) -> Option<String> {
    let uri = uri_text(value);
    let lower = uri.get(..4).map(str::to_ascii_lowercase);
    let rest = match lower.as_deref() {
        Some("tel:") => return uri[4..].split(';').next().map(str::to_owned),
        Some("sip:") => &uri[4..],
        Some("sips") if uri.get(4..5) == Some(":") => &uri[5..],
        _ => return None,
    };
    let (userinfo, _) = rest.split_once('@')?;
    let user = userinfo.split(':').next().unwrap_or_default();
    (!user.is_empty()).then(|| user.to_owned())
}

/// The address a SIP URI points at, when its host is an IP literal (the core resolves no
/// names). Default port 5060 (5061 for sips).
pub(crate) fn uri_socket_addr(uri: &str) -> Option<SocketAddr> {
    let uri = uri_text(uri);
    let (scheme, rest) = uri.split_once(':')?;
    let default_port = if scheme.eq_ignore_ascii_case("sips") {
        5061
    } else {
        5060
    };
    let hostpart = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let hostport = hostpart.split([';', '?']).next().unwrap_or_default();
    if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6.split_once(']')?;
        let ip: IpAddr = host.parse().ok()?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().ok()?,
            None => default_port,
        };
        return Some(SocketAddr::new(ip, port));
    }
    let (host, port) = match hostport.split_once(':') {
        Some((h, p)) => (h, p.parse().ok()?),
        None => (hostport, default_port),
    };
    Some(SocketAddr::new(host.parse().ok()?, port))
}

/// Reason phrases from RFC 3261 §21 and the extensions the engine sends.
pub(crate) fn reason_phrase(status: u16) -> &'static str {
    known_reason_phrase(status).unwrap_or(match status {
        100..=199 => "Session Progress",
        200..=299 => "OK",
        300..=399 => "Redirection",
        400..=499 => "Client Error",
        500..=599 => "Server Error",
        _ => "Global Failure",
    })
}

fn known_reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        410 => "Gone",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        485 => "Ambiguous",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> SocketAddr {
        "203.0.113.5:40000".parse().unwrap()
    }

    #[test]
    fn rport_is_filled_with_source_port_and_received_added() {
        let v = stamp_via("SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa;rport", src());
        assert_eq!(
            v,
            "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa;received=203.0.113.5;rport=40000"
        );
    }

    #[test]
    fn received_is_added_when_sent_by_differs() {
        let v = stamp_via("SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa", src());
        assert_eq!(
            v,
            "SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bKa;received=203.0.113.5"
        );
    }

    #[test]
    fn via_is_untouched_when_sent_by_is_source_and_no_rport() {
        let v = "SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bKa";
        assert_eq!(stamp_via(v, src()), v);
    }

    #[test]
    fn ipv6_sent_by_is_compared_without_brackets() {
        let src6: SocketAddr = "[2001:db8::5]:5060".parse().unwrap();
        let v = "SIP/2.0/UDP [2001:db8::5]:5060;branch=z9hG4bKa";
        assert_eq!(stamp_via(v, src6), v);
        // An unterminated bracket must not panic.
        let odd = stamp_via("SIP/2.0/UDP [2001:db8::5;branch=z9hG4bKa", src6);
        assert!(odd.starts_with("SIP/2.0/UDP [2001:db8::5;branch=z9hG4bKa"));
    }

    #[test]
    fn domain_sent_by_gets_received() {
        let v = stamp_via("SIP/2.0/TCP pbx.example.jp;branch=z9hG4bKa", src());
        assert!(v.ends_with(";received=203.0.113.5"));
    }

    #[test]
    fn tag_is_found_after_the_bracketed_uri_only() {
        assert_eq!(
            tag_param("<sip:a@b;tag=no>;tag=yes").as_deref(),
            Some("yes")
        );
        assert_eq!(tag_param("<sip:a@b;tag=no>"), None);
        assert_eq!(tag_param("sip:a@b;tag=x").as_deref(), Some("x"));
    }

    #[test]
    fn user_and_display_name_are_extracted() {
        let from = "\"Yamada \\\"T\\\"\" <sip:0312345678@trunk.example;user=phone>;tag=1";
        assert_eq!(uri_user(from).as_deref(), Some("0312345678"));
        assert_eq!(display_name(from).as_deref(), Some("Yamada \"T\""));
        assert_eq!(
            uri_user("<tel:+81312345678;phone-context=x>").as_deref(),
            Some("+81312345678")
        );
        assert_eq!(
            uri_user("sip:anonymous@anonymous.invalid;tag=3").as_deref(),
            Some("anonymous")
        );
        assert_eq!(uri_user("<sip:host.only>"), None);
        assert_eq!(display_name("<sip:a@b>"), None);
    }

    #[test]
    fn uri_addresses_need_ip_literals() {
        assert_eq!(
            uri_socket_addr("<sip:a@192.0.2.1:5070;transport=udp>"),
            Some("192.0.2.1:5070".parse().unwrap())
        );
        assert_eq!(
            uri_socket_addr("sip:192.0.2.1;lr"),
            Some("192.0.2.1:5060".parse().unwrap())
        );
        assert_eq!(
            uri_socket_addr("sip:[2001:db8::1]:5080"),
            Some("[2001:db8::1]:5080".parse().unwrap())
        );
        assert_eq!(uri_socket_addr("sip:proxy.example.jp;lr"), None);
    }
}
