//! A tiny pre-pass that rewrites a raw SIP message into the shape rsip 0.4 can parse.
//!
//! rsip 0.4 leaves compact header names (`v:`, `i:` …, RFC 3261 §7.3.3) as unknown headers,
//! parses only the first entry of a comma-joined `Via`, and rejects folded header lines
//! (LWS continuation, RFC 3261 §7.3.1). Rather than forking rsip, this pass runs before it:
//! it unfolds continuation lines, expands compact names, splits comma lists of
//! `Via`/`Contact`/`Route`/`Record-Route` onto separate lines (commas inside quoted strings and
//! `<…>` are not separators), accepts bare-LF line ends, trims blanks around the colon and,
//! in headers with parameters, removes the blanks RFC 3261 §25.1 allows around `;` (SEMI)
//! outside quotes and `<…>`, which a fold before `;tag=` leaves and rsip refuses.
//! Keeping rsip's API and paying one linear copy of the header section is cheaper than a fork.
//!
//! ```
//! let raw = b"OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/UDP h1;branch=z9hG4bK1, SIP/2.0/UDP h2\r\n\r\n";
//! let out = madoguchi_sip::normalize::normalize(raw);
//! assert!(out.starts_with(b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h1;branch=z9hG4bK1\r\nVia: SIP/2.0/UDP h2\r\n\r\n"));
//! ```
//! The body is passed through byte for byte.

/// Compact forms from RFC 3261 §7.3.3 and the IANA header registry.
const COMPACT_FORMS: &[(u8, &str)] = &[
    (b'a', "Accept-Contact"),
    (b'b', "Referred-By"),
    (b'c', "Content-Type"),
    (b'd', "Request-Disposition"),
    (b'e', "Content-Encoding"),
    (b'f', "From"),
    (b'i', "Call-ID"),
    (b'j', "Reject-Contact"),
    (b'k', "Supported"),
    (b'l', "Content-Length"),
    (b'm', "Contact"),
    (b'o', "Event"),
    (b'r', "Refer-To"),
    (b's', "Subject"),
    (b't', "To"),
    (b'u', "Allow-Events"),
    (b'v', "Via"),
    (b'x', "Session-Expires"),
    (b'y', "Identity"),
];

/// Headers whose comma-separated values are split onto one line per entry.
const LIST_HEADERS: &[&str] = &["Via", "Contact", "Route", "Record-Route"];

/// Headers whose values carry `;` parameters that rsip parses.
const PARAM_HEADERS: &[&str] = &[
    "Via",
    "From",
    "To",
    "Contact",
    "Route",
    "Record-Route",
    "Refer-To",
    "Referred-By",
];

/// Splits `message` into its header section and body: the header section ends at the first
/// empty line (CRLF CRLF, or LF LF from lenient senders). Returns `(headers, body)`.
pub fn split_head(message: &[u8]) -> (&[u8], &[u8]) {
    let crlf = find(message, b"\r\n\r\n").map(|i| (i, 4));
    let lf = find(message, b"\n\n").map(|i| (i, 2));
    let end = match (crlf, lf) {
        (Some(a), Some(b)) => Some(if a.0 <= b.0 { a } else { b }),
        (a, b) => a.or(b),
    };
    match end {
        Some((i, sep)) => (&message[..i], &message[i + sep..]),
        None => (message, &[]),
    }
}

/// Position of the first occurrence of `needle` in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || haystack.len() < needle.len() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The full name for a header name, expanding a one-letter compact form.
pub fn canonical_name(name: &[u8]) -> Option<&'static str> {
    if let [letter] = name {
        let letter = letter.to_ascii_lowercase();
        return COMPACT_FORMS
            .iter()
            .find(|(c, _)| *c == letter)
            .map(|(_, full)| *full);
    }
    None
}

/// Logical header lines of a header section (start line excluded), with continuation lines
/// folded into their header.
pub fn logical_lines(head: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let mut lines = head
        .split(|b| *b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let start = lines.next().unwrap_or_default().to_vec();
    let mut out: Vec<Vec<u8>> = Vec::new();
    for line in lines {
        let folded = matches!(line.first(), Some(b' ') | Some(b'\t'));
        match out.last_mut() {
            Some(prev) if folded => {
                prev.push(b' ');
                prev.extend_from_slice(trim(line));
            }
            _ if line.is_empty() => {}
            _ => out.push(line.to_vec()),
        }
    }
    (start, out)
}

/// Rewrites `message` as described in the module docs.
pub fn normalize(message: &[u8]) -> Vec<u8> {
    let (head, body) = split_head(message);
    let (start, lines) = logical_lines(head);
    let mut out = Vec::with_capacity(message.len() + 64);
    out.extend_from_slice(&start);
    out.extend_from_slice(b"\r\n");
    for line in &lines {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            // Not a header: left for rsip to reject.
            out.extend_from_slice(line);
            out.extend_from_slice(b"\r\n");
            continue;
        };
        let raw_name = trim(&line[..colon]);
        let value = trim(&line[colon + 1..]);
        let name: &[u8] = canonical_name(raw_name)
            .map(str::as_bytes)
            .unwrap_or(raw_name);
        let is_one_of = |set: &[&str]| set.iter().any(|h| h.as_bytes().eq_ignore_ascii_case(name));
        let has_params = is_one_of(PARAM_HEADERS);
        let mut push = |part: &[u8]| {
            if has_params {
                push_header(&mut out, name, &tighten_semicolons(part));
            } else {
                push_header(&mut out, name, part);
            }
        };
        if is_one_of(LIST_HEADERS) {
            split_top_level_commas(value)
                .into_iter()
                .for_each(&mut push);
        } else {
            push(value);
        }
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn push_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Splits a header value at commas that are outside quoted strings and `<…>`.
pub fn split_top_level_commas(value: &[u8]) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut in_quotes = false;
    let mut escaped = false;
    let mut angle = 0usize;
    let mut start = 0;
    for (i, b) in value.iter().enumerate() {
        if in_quotes {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_quotes = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_quotes = true,
            b'<' => angle += 1,
            b'>' => angle = angle.saturating_sub(1),
            b',' if angle == 0 => {
                parts.push(trim(&value[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(trim(&value[start..]));
    parts.retain(|p| !p.is_empty());
    parts
}

/// Removes blanks before and after each `;` outside quoted strings and `<…>`.
fn tighten_semicolons(value: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::with_capacity(value.len());
    let mut in_quotes = false;
    let mut escaped = false;
    let mut angle = 0usize;
    let mut after_semi = false;
    for &b in value {
        if in_quotes {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_quotes = false,
                _ => {}
            }
            out.push(b);
            continue;
        }
        match b {
            b' ' | b'\t' if angle == 0 && after_semi => continue,
            b';' if angle == 0 => {
                while matches!(out.last(), Some(b' ' | b'\t')) {
                    out.pop();
                }
                after_semi = true;
                out.push(b);
                continue;
            }
            b'"' => in_quotes = true,
            b'<' => angle += 1,
            b'>' => angle = angle.saturating_sub(1),
            _ => {}
        }
        after_semi = false;
        out.push(b);
    }
    out
}

/// Trims ASCII blanks (SP, HT) from both ends.
pub fn trim(s: &[u8]) -> &[u8] {
    let start = s.iter().position(|b| !matches!(b, b' ' | b'\t'));
    let Some(start) = start else {
        return &[];
    };
    let end = s
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'\t'))
        .map_or(start, |e| e + 1);
    &s[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(b: &[u8]) -> String {
        String::from_utf8_lossy(b).into_owned()
    }

    #[test]
    fn compact_names_are_expanded() {
        let raw = b"BYE sip:a@b SIP/2.0\r\ni: abc\r\nf: <sip:x@y>;tag=1\r\nt: <sip:a@b>\r\nl: 0\r\nm: <sip:x@1.2.3.4>\r\nk: timer\r\nc: application/sdp\r\n\r\n";
        let out = text(&normalize(raw));
        for line in [
            "Call-ID: abc",
            "From: <sip:x@y>;tag=1",
            "To: <sip:a@b>",
            "Content-Length: 0",
            "Contact: <sip:x@1.2.3.4>",
            "Supported: timer",
            "Content-Type: application/sdp",
        ] {
            assert!(
                out.contains(&format!("{line}\r\n")),
                "{line} missing in {out}"
            );
        }
    }

    #[test]
    fn uppercase_compact_name_is_expanded() {
        let out = text(&normalize(b"ACK x SIP/2.0\r\nI: abc\r\n\r\n"));
        assert!(out.contains("Call-ID: abc\r\n"));
    }

    #[test]
    fn comma_joined_via_is_split_one_per_line() {
        let raw = b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP p1:5060;branch=z9hG4bKa , SIP/2.0/TCP p2;branch=z9hG4bKb\r\n\r\n";
        let out = text(&normalize(raw));
        assert!(out.contains(
            "Via: SIP/2.0/UDP p1:5060;branch=z9hG4bKa\r\nVia: SIP/2.0/TCP p2;branch=z9hG4bKb\r\n"
        ));
    }

    #[test]
    fn commas_inside_quotes_and_angle_brackets_are_not_separators() {
        let raw =
            b"INVITE sip:a@b SIP/2.0\r\nContact: \"Doe, John\" <sip:j@h;x=a,b>, <sip:k@h>\r\n\r\n";
        let out = text(&normalize(raw));
        assert!(out.contains("Contact: \"Doe, John\" <sip:j@h;x=a,b>\r\nContact: <sip:k@h>\r\n"));
    }

    #[test]
    fn escaped_quote_does_not_end_quoted_string() {
        let parts = split_top_level_commas(br#""a\", b" <sip:x>, <sip:y>"#);
        assert_eq!(parts.len(), 2);
    }

    #[test]
    fn record_route_and_route_lists_are_split() {
        let raw = b"INVITE sip:a@b SIP/2.0\r\nRecord-Route: <sip:p1;lr>,<sip:p2;lr>\r\nRoute: <sip:r1;lr>, <sip:r2;lr>\r\n\r\n";
        let out = text(&normalize(raw));
        assert!(out.contains("Record-Route: <sip:p1;lr>\r\nRecord-Route: <sip:p2;lr>\r\n"));
        assert!(out.contains("Route: <sip:r1;lr>\r\nRoute: <sip:r2;lr>\r\n"));
    }

    #[test]
    fn blanks_around_parameter_semicolons_are_removed_outside_quotes() {
        let raw = b"OPTIONS sip:a@b SIP/2.0\r\nFrom: \"A ; B\" <sip:a@h;lr> ;  tag=1 ; x=2\r\nSubject: a ; b\r\n\r\n";
        assert_eq!(
            text(&normalize(raw)),
            "OPTIONS sip:a@b SIP/2.0\r\nFrom: \"A ; B\" <sip:a@h;lr>;tag=1;x=2\r\nSubject: a ; b\r\n\r\n"
        );
    }

    #[test]
    fn folded_lines_are_joined() {
        let raw = b"INVITE sip:a@b SIP/2.0\r\nSubject: I know you're there,\r\n   pick up the phone\r\n\tand talk to me!\r\n\r\n";
        let out = text(&normalize(raw));
        assert!(out.contains("Subject: I know you're there, pick up the phone and talk to me!\r\n"));
    }

    #[test]
    fn folded_via_list_is_unfolded_then_split() {
        let raw = b"INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP p1;branch=z9hG4bKa,\r\n SIP/2.0/UDP p2;branch=z9hG4bKb\r\n\r\n";
        let out = text(&normalize(raw));
        assert!(out.contains(
            "Via: SIP/2.0/UDP p1;branch=z9hG4bKa\r\nVia: SIP/2.0/UDP p2;branch=z9hG4bKb\r\n"
        ));
    }

    #[test]
    fn blanks_around_colon_are_removed() {
        let out = text(&normalize(b"ACK x SIP/2.0\r\nCall-ID  :   abc  \r\n\r\n"));
        assert!(out.contains("Call-ID: abc\r\n"));
    }

    #[test]
    fn bare_lf_line_ends_become_crlf() {
        let out = normalize(b"ACK x SIP/2.0\nCall-ID: abc\n\nbody");
        assert_eq!(out, b"ACK x SIP/2.0\r\nCall-ID: abc\r\n\r\nbody");
    }

    #[test]
    fn body_is_untouched() {
        let body = b"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm: not a header\r\n";
        let mut raw = b"INVITE sip:a@b SIP/2.0\r\nl: 52\r\n\r\n".to_vec();
        raw.extend_from_slice(body);
        let out = normalize(&raw);
        assert!(out.ends_with(body));
    }

    #[test]
    fn long_names_equal_to_a_letter_prefix_are_not_expanded() {
        let out = text(&normalize(b"ACK x SIP/2.0\r\nX-Foo: 1\r\n\r\n"));
        assert!(out.contains("X-Foo: 1\r\n"));
    }
}
