//! Bytes → `rsip::SipMessage`, plus the validation RFC 3261 §8.2 asks of a UAS.
//!
//! [`parse_message`] runs the [`normalize`](crate::normalize) pre-pass, hands the result to
//! rsip, applies Content-Length (§18.3: a datagram body longer than Content-Length is
//! truncated, a shorter one is an error) and checks the mandatory request headers.
//! When rsip cannot parse a request at all, [`scan_request`] recovers the few header lines
//! needed to still answer `400 Bad Request` (or `501` for an unknown method); if even that
//! fails the caller drops the input and counts it.

use crate::normalize::{logical_lines, normalize, split_head, trim};
use rsip::prelude::*;
use rsip::{Header, SipMessage};

/// Largest message accepted by [`parse_message`] (a UDP datagram cannot be larger).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 65_535;

/// Why a message was rejected. Every variant maps to a `400` reason phrase, except where the
/// request is not addressable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("empty message")]
    Empty,
    #[error("message of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("message could not be parsed")]
    Unparseable,
    #[error("unknown request method")]
    UnknownMethod(String),
    #[error("missing mandatory header {0}")]
    MissingHeader(&'static str),
    #[error("malformed {0} header")]
    BadHeader(&'static str),
    #[error("top Via has no branch parameter")]
    MissingBranch,
    #[error("malformed CSeq header")]
    BadCSeq,
    #[error("CSeq method does not match the request method")]
    CSeqMethodMismatch,
    #[error("Content-Length malformed or larger than the body")]
    BadContentLength,
    #[error("malformed Max-Forwards header")]
    BadMaxForwards,
}

impl ParseError {
    /// The reason phrase used in the `400` answering a request rejected for this error.
    pub fn reason_phrase(&self) -> String {
        match self {
            Self::MissingHeader(name) => format!("Bad Request - Missing {name} Header"),
            Self::BadHeader(name) => format!("Bad Request - Malformed {name} Header"),
            Self::MissingBranch => "Bad Request - Missing Via Branch".into(),
            Self::BadCSeq => "Bad Request - Malformed CSeq".into(),
            Self::CSeqMethodMismatch => "Bad Request - CSeq Method Mismatch".into(),
            Self::BadContentLength => "Bad Request - Bad Content-Length".into(),
            Self::BadMaxForwards => "Bad Request - Malformed Max-Forwards".into(),
            Self::TooLarge { .. } => "Bad Request - Message Too Large".into(),
            Self::Empty | Self::Unparseable | Self::UnknownMethod(_) => {
                "Bad Request - Unparseable".into()
            }
        }
    }
}

/// Parses one message (a datagram, or a frame cut by [`StreamDecoder`](crate::StreamDecoder))
/// with the default size limit.
pub fn parse_message(bytes: &[u8]) -> Result<SipMessage, ParseError> {
    parse_message_limited(bytes, DEFAULT_MAX_MESSAGE_SIZE)
}

/// [`parse_message`] with an explicit size limit.
pub fn parse_message_limited(bytes: &[u8], limit: usize) -> Result<SipMessage, ParseError> {
    if bytes.len() > limit {
        return Err(ParseError::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let normalized = normalize(bytes);
    let mut message = match SipMessage::try_from(normalized.as_slice()) {
        Ok(m) => m,
        Err(_) => return Err(classify_failure(&normalized)),
    };
    apply_content_length(&mut message)?;
    match &message {
        SipMessage::Request(request) => validate_request(request)?,
        SipMessage::Response(response) => validate_common(response.headers())?,
    }
    Ok(message)
}

fn classify_failure(normalized: &[u8]) -> ParseError {
    let (head, _) = split_head(normalized);
    let (start, _) = logical_lines(head);
    let mut parts = start.split(|b| *b == b' ');
    let method = parts.next().unwrap_or_default();
    let looks_like_request = parts.nth(1).is_some_and(|v| v.starts_with(b"SIP/2.0"));
    if looks_like_request && !method.is_empty() && method.iter().all(|b| is_token(*b)) {
        let method = String::from_utf8_lossy(method).into_owned();
        if method.parse::<rsip::Method>().is_err() {
            return ParseError::UnknownMethod(method);
        }
    }
    ParseError::Unparseable
}

fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

fn apply_content_length(message: &mut SipMessage) -> Result<(), ParseError> {
    let declared = message.headers().iter().find_map(|h| match h {
        Header::ContentLength(cl) => Some(cl.value().trim().parse::<usize>()),
        _ => None,
    });
    let Some(declared) = declared else {
        return Ok(());
    };
    let declared = declared.map_err(|_| ParseError::BadContentLength)?;
    let body = message.body_mut();
    if declared > body.len() {
        return Err(ParseError::BadContentLength);
    }
    body.truncate(declared);
    Ok(())
}

fn validate_common(headers: &rsip::Headers) -> Result<(), ParseError> {
    let has = |f: fn(&Header) -> bool| headers.iter().any(f);
    if !has(|h| matches!(h, Header::Via(_))) {
        return Err(ParseError::MissingHeader("Via"));
    }
    if !has(|h| matches!(h, Header::From(_))) {
        return Err(ParseError::MissingHeader("From"));
    }
    if !has(|h| matches!(h, Header::To(_))) {
        return Err(ParseError::MissingHeader("To"));
    }
    if !has(|h| matches!(h, Header::CallId(c) if !c.value().trim().is_empty())) {
        return Err(ParseError::MissingHeader("Call-ID"));
    }
    let cseq = headers.iter().find_map(|h| match h {
        Header::CSeq(c) => Some(c),
        _ => None,
    });
    let cseq = cseq.ok_or(ParseError::MissingHeader("CSeq"))?;
    cseq.typed().map_err(|_| ParseError::BadCSeq)?;
    Ok(())
}

fn validate_request(request: &rsip::Request) -> Result<(), ParseError> {
    validate_common(&request.headers)?;
    let via = request
        .via_header()
        .map_err(|_| ParseError::MissingHeader("Via"))?
        .typed()
        .map_err(|_| ParseError::BadHeader("Via"))?;
    if via.branch().is_none() {
        return Err(ParseError::MissingBranch);
    }
    let from = request
        .from_header()
        .map_err(|_| ParseError::MissingHeader("From"))?;
    from.typed().map_err(|_| ParseError::BadHeader("From"))?;
    if !quotes_closed(from.value()) {
        return Err(ParseError::BadHeader("From"));
    }
    let to = request
        .to_header()
        .map_err(|_| ParseError::MissingHeader("To"))?;
    to.typed().map_err(|_| ParseError::BadHeader("To"))?;
    if !quotes_closed(to.value()) {
        return Err(ParseError::BadHeader("To"));
    }
    let cseq = request
        .cseq_header()
        .map_err(|_| ParseError::MissingHeader("CSeq"))?
        .typed()
        .map_err(|_| ParseError::BadCSeq)?;
    if cseq.method != request.method {
        return Err(ParseError::CSeqMethodMismatch);
    }
    if let Ok(mf) = request.max_forwards_header() {
        mf.num().map_err(|_| ParseError::BadMaxForwards)?;
    }
    Ok(())
}

/// Whether every quoted string in `value` ends (rsip accepts `"Taro <sip:…>`).
fn quotes_closed(value: &str) -> bool {
    let mut in_quotes = false;
    let mut escaped = false;
    for c in value.chars() {
        match (in_quotes, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, _, '"') => in_quotes = !in_quotes,
            _ => {}
        }
    }
    !in_quotes
}

/// The header lines of a request that rsip could not parse, recovered by plain text
/// scanning — enough to address a `400`/`501` back to the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannedRequest {
    pub method: String,
    pub vias: Vec<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub call_id: Option<String>,
    pub cseq: String,
}

/// Recovers a [`ScannedRequest`] from raw bytes. Needs a request line (`METHOD URI SIP/2.0`),
/// at least one Via and a CSeq: the sender's client transaction matches a response by the
/// top Via branch and the CSeq method, so without them nobody would listen to the answer.
pub fn scan_request(bytes: &[u8]) -> Option<ScannedRequest> {
    let normalized = normalize(bytes);
    let (head, _) = split_head(&normalized);
    let (start, lines) = logical_lines(head);
    let mut parts = start.split(|b| *b == b' ');
    let method = parts.next()?;
    let version = parts.nth(1)?;
    if method.is_empty() || !method.iter().all(|b| is_token(*b)) || version != b"SIP/2.0" {
        return None;
    }
    let mut scanned = ScannedRequest {
        method: String::from_utf8_lossy(method).into_owned(),
        vias: Vec::new(),
        from: None,
        to: None,
        call_id: None,
        cseq: String::new(),
    };
    for line in &lines {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = String::from_utf8_lossy(trim(&line[..colon])).to_ascii_lowercase();
        let value = trim(&line[colon + 1..]);
        if value.is_empty() || value.iter().any(|b| b.is_ascii_control() && *b != b'\t') {
            continue;
        }
        let value = String::from_utf8_lossy(value).into_owned();
        match name.as_str() {
            "via" => scanned.vias.push(value),
            "from" => scanned.from = scanned.from.or(Some(value)),
            "to" => scanned.to = scanned.to.or(Some(value)),
            "call-id" => scanned.call_id = scanned.call_id.or(Some(value)),
            "cseq" if scanned.cseq.is_empty() => scanned.cseq = value,
            _ => {}
        }
    }
    if scanned.vias.is_empty() || scanned.cseq.is_empty() {
        return None;
    }
    Some(scanned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:hotline@192.0.2.10 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: <sip:hotline@192.0.2.10>\r\n\
From: \"Taro\" <sip:0312345678@192.0.2.20>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@192.0.2.20\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:0312345678@192.0.2.20:5060>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\r\nv=0\n";

    fn with(find: &str, replace: &str) -> Vec<u8> {
        INVITE.replacen(find, replace, 1).into_bytes()
    }

    #[test]
    fn valid_invite_parses_with_body() {
        let SipMessage::Request(req) = parse_message(INVITE.as_bytes()).unwrap() else {
            panic!("not a request");
        };
        assert_eq!(req.method, rsip::Method::Invite);
        assert_eq!(req.body, b"v=0\n");
    }

    #[test]
    fn compact_form_request_parses() {
        let raw = "OPTIONS sip:hotline@192.0.2.10 SIP/2.0\r\nv: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bKx\r\n\
f: <sip:a@192.0.2.20>;tag=9\r\nt: <sip:hotline@192.0.2.10>\r\ni: abc@h\r\nCSeq: 2 OPTIONS\r\nl: 0\r\n\r\n";
        let msg = parse_message(raw.as_bytes()).unwrap();
        assert_eq!(msg.call_id_header().unwrap().value(), "abc@h");
    }

    #[test]
    fn comma_joined_via_yields_every_entry() {
        let raw = with(
            "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK776asdhds;rport",
            "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK776asdhds;rport, SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKold",
        );
        let msg = parse_message(&raw).unwrap();
        let vias = msg
            .headers()
            .iter()
            .filter(|h| matches!(h, Header::Via(_)))
            .count();
        assert_eq!(vias, 2);
    }

    #[test]
    fn body_longer_than_content_length_is_truncated() {
        let raw = with("Content-Length: 4", "Content-Length: 2");
        assert_eq!(parse_message(&raw).unwrap().body(), b"v=");
    }

    #[test]
    fn content_length_larger_than_body_is_rejected() {
        let raw = with("Content-Length: 4", "Content-Length: 400");
        assert_eq!(parse_message(&raw), Err(ParseError::BadContentLength));
    }

    #[test]
    fn non_numeric_content_length_is_rejected() {
        let raw = with("Content-Length: 4", "Content-Length: four");
        assert_eq!(parse_message(&raw), Err(ParseError::BadContentLength));
    }

    #[test]
    fn missing_call_id_is_named() {
        let raw = with("Call-ID: a84b4c76e66710@192.0.2.20\r\n", "");
        assert_eq!(
            parse_message(&raw),
            Err(ParseError::MissingHeader("Call-ID"))
        );
    }

    #[test]
    fn missing_from_is_named() {
        let raw = with(
            "From: \"Taro\" <sip:0312345678@192.0.2.20>;tag=1928301774\r\n",
            "",
        );
        assert_eq!(parse_message(&raw), Err(ParseError::MissingHeader("From")));
    }

    #[test]
    fn non_numeric_cseq_is_bad_cseq() {
        let raw = with("CSeq: 314159 INVITE", "CSeq: abc INVITE");
        assert_eq!(parse_message(&raw), Err(ParseError::BadCSeq));
    }

    #[test]
    fn cseq_method_differing_from_request_line_is_rejected() {
        let raw = with("CSeq: 314159 INVITE", "CSeq: 314159 BYE");
        assert_eq!(parse_message(&raw), Err(ParseError::CSeqMethodMismatch));
    }

    #[test]
    fn via_without_branch_is_rejected() {
        let raw = with(";branch=z9hG4bK776asdhds", "");
        assert_eq!(parse_message(&raw), Err(ParseError::MissingBranch));
    }

    #[test]
    fn bad_max_forwards_is_rejected() {
        let raw = with("Max-Forwards: 70", "Max-Forwards: seventy");
        assert_eq!(parse_message(&raw), Err(ParseError::BadMaxForwards));
    }

    #[test]
    fn oversize_message_is_too_large() {
        let raw = vec![b'a'; DEFAULT_MAX_MESSAGE_SIZE + 1];
        assert!(matches!(
            parse_message(&raw),
            Err(ParseError::TooLarge { .. })
        ));
    }

    #[test]
    fn blank_input_is_empty() {
        assert_eq!(parse_message(b"\r\n\r\n"), Err(ParseError::Empty));
    }

    #[test]
    fn unknown_method_is_reported_by_name() {
        let raw = INVITE.replace("INVITE", "FOO");
        assert_eq!(
            parse_message(raw.as_bytes()),
            Err(ParseError::UnknownMethod("FOO".into()))
        );
    }

    #[test]
    fn binary_junk_is_unparseable() {
        let junk: Vec<u8> = (0..200u32).map(|i| (i * 37 % 251) as u8).collect();
        assert_eq!(parse_message(&junk), Err(ParseError::Unparseable));
        assert_eq!(scan_request(&junk), None);
    }

    #[test]
    fn scanner_recovers_addressing_headers_of_unknown_method() {
        let raw = INVITE.replace("INVITE", "FOO");
        let s = scan_request(raw.as_bytes()).unwrap();
        assert_eq!(s.method, "FOO");
        assert_eq!(s.vias.len(), 1);
        assert_eq!(s.call_id.as_deref(), Some("a84b4c76e66710@192.0.2.20"));
        assert_eq!(s.cseq, "314159 FOO");
    }

    #[test]
    fn scanner_needs_a_via() {
        let raw = with(
            "Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK776asdhds;rport\r\n",
            "",
        );
        assert_eq!(scan_request(&raw), None);
    }

    #[test]
    fn truncated_request_line_is_not_addressable() {
        assert_eq!(scan_request(b"INVITE sip:a@b"), None);
    }

    /// Regression (tests/sip_torture v01): a From folded before its `;tag` unfolds to
    /// `<uri> ;tag=…`; RFC 3261 §25.1 allows blanks around SEMI, rsip does not.
    #[test]
    fn blanks_before_a_header_parameter_are_accepted() {
        let raw = with(
            "From: \"Taro\" <sip:0312345678@192.0.2.20>;tag=1928301774",
            "From: \"Taro\"\r\n <sip:0312345678@192.0.2.20>\r\n   ;tag=1928301774",
        );
        let msg = parse_message(&raw).unwrap();
        let from = msg.from_header().unwrap().typed().unwrap();
        assert_eq!(
            from.tag().map(|t| t.value().to_owned()).as_deref(),
            Some("1928301774")
        );
    }

    /// Regression (tests/sip_torture i12): rsip accepts a display name whose quote never
    /// closes; RFC 3261 §25.1 quoted-string must end with a DQUOTE.
    #[test]
    fn unterminated_quote_in_display_name_is_rejected() {
        let raw = with("From: \"Taro\" <sip", "From: \"Taro <sip");
        assert_eq!(parse_message(&raw), Err(ParseError::BadHeader("From")));
        let raw = with("To: <sip:hotline", "To: \"Hotline <sip:hotline");
        assert_eq!(parse_message(&raw), Err(ParseError::BadHeader("To")));
    }
}
