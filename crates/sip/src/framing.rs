//! Message framing for stream transports (TCP; RFC 3261 §18.3).
//!
//! A stream carries messages back to back; each ends after its header section plus
//! Content-Length bytes of body. Between messages a peer may send RFC 5626 §4.4.1 keep-alives:
//! a double CRLF "ping" (answered with a single CRLF "pong") or a lone CRLF pong.
//!
//! Driving: `push` bytes as they arrive, then call `next_item` until it returns `Ok(None)`.
//! An `Err` means the stream cannot be resynchronised: the shell closes the connection.
//!
//! ```
//! use madoguchi_sip::{StreamDecoder, StreamItem};
//! let mut dec = StreamDecoder::default();
//! dec.push(b"\r\n\r\nOPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n");
//! assert_eq!(dec.next_item(), Ok(Some(StreamItem::KeepAlivePing)));
//! assert!(matches!(dec.next_item(), Ok(Some(StreamItem::Message(_)))));
//! assert_eq!(dec.next_item(), Ok(None));
//! ```

use crate::normalize::{canonical_name, find, logical_lines, trim};

/// Default cap on a header section.
pub const DEFAULT_MAX_HEADER: usize = 64 * 1024;
/// Default cap on a body.
pub const DEFAULT_MAX_BODY: usize = 64 * 1024;

/// One unit cut from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamItem {
    /// A complete SIP message (header section, blank line and exactly Content-Length bytes).
    Message(Vec<u8>),
    /// A CRLFCRLF keep-alive ping; the shell should answer with `b"\r\n"`.
    KeepAlivePing,
}

/// The stream is unusable; close the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error("header section exceeds {limit} bytes")]
    HeaderTooLarge { limit: usize },
    #[error("body of {size} bytes exceeds {limit} bytes")]
    BodyTooLarge { size: usize, limit: usize },
    #[error("missing or malformed Content-Length on a stream transport")]
    BadContentLength,
}

/// Cuts a byte stream into SIP messages.
#[derive(Debug)]
pub struct StreamDecoder {
    buffer: Vec<u8>,
    max_header: usize,
    max_body: usize,
    failed: Option<FramingError>,
}

impl Default for StreamDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_HEADER, DEFAULT_MAX_BODY)
    }
}

impl StreamDecoder {
    pub fn new(max_header: usize, max_body: usize) -> Self {
        Self {
            buffer: Vec::new(),
            max_header,
            max_body,
            failed: None,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_none() {
            self.buffer.extend_from_slice(bytes);
        }
    }

    /// Bytes held waiting for the rest of a message.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The next complete item, `Ok(None)` when more bytes are needed.
    pub fn next_item(&mut self) -> Result<Option<StreamItem>, FramingError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let result = self.cut();
        if let Err(err) = &result {
            self.failed = Some(err.clone());
            self.buffer = Vec::new();
        }
        result
    }

    fn cut(&mut self) -> Result<Option<StreamItem>, FramingError> {
        loop {
            if self.buffer.starts_with(b"\r\n\r\n") {
                self.buffer.drain(..4);
                return Ok(Some(StreamItem::KeepAlivePing));
            }
            if self.buffer.starts_with(b"\r\n") {
                // A lone CRLF is a pong, unless it may still grow into a ping.
                if self.buffer.len() < 4 && b"\r\n\r\n".starts_with(&self.buffer) {
                    return Ok(None);
                }
                self.buffer.drain(..2);
                continue;
            }
            break;
        }
        let Some(end) = find(&self.buffer, b"\r\n\r\n") else {
            // The blank line may have begun to arrive: the section is too large only when it
            // could no longer start within `max_header` (as checked below once it is complete),
            // so that the outcome does not depend on where the stream was cut.
            let len = self.buffer.len();
            let earliest_blank_line = (len.saturating_sub(3)..len)
                .find(|&at| b"\r\n\r\n".starts_with(&self.buffer[at..]))
                .unwrap_or(len);
            if earliest_blank_line > self.max_header {
                return Err(FramingError::HeaderTooLarge {
                    limit: self.max_header,
                });
            }
            return Ok(None);
        };
        if end > self.max_header {
            return Err(FramingError::HeaderTooLarge {
                limit: self.max_header,
            });
        }
        let body_len = content_length(&self.buffer[..end])?;
        if body_len > self.max_body {
            return Err(FramingError::BodyTooLarge {
                size: body_len,
                limit: self.max_body,
            });
        }
        let total = end + 4 + body_len;
        if self.buffer.len() < total {
            return Ok(None);
        }
        let rest = self.buffer.split_off(total);
        let message = std::mem::replace(&mut self.buffer, rest);
        Ok(Some(StreamItem::Message(message)))
    }
}

/// Content-Length of a header section; absent counts as 0 (lenient towards peers that omit it
/// on bodiless messages), unparsable is fatal because the stream cannot be resynchronised.
fn content_length(head: &[u8]) -> Result<usize, FramingError> {
    let (_, lines) = logical_lines(head);
    for line in &lines {
        let Some(colon) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let name = trim(&line[..colon]);
        let is_cl = name.eq_ignore_ascii_case(b"Content-Length")
            || canonical_name(name) == Some("Content-Length");
        if is_cl {
            let value = std::str::from_utf8(trim(&line[colon + 1..]))
                .map_err(|_| FramingError::BadContentLength)?;
            return value.parse().map_err(|_| FramingError::BadContentLength);
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BYE: &[u8] = b"BYE sip:a@b SIP/2.0\r\nCall-ID: x\r\nContent-Length: 0\r\n\r\n";
    const INFO: &[u8] = b"INFO sip:a@b SIP/2.0\r\nl: 5\r\n\r\nhello";

    fn drain(dec: &mut StreamDecoder) -> Vec<StreamItem> {
        let mut items = Vec::new();
        while let Ok(Some(item)) = dec.next_item() {
            items.push(item);
        }
        items
    }

    #[test]
    fn two_messages_in_one_read_are_split() {
        let mut dec = StreamDecoder::default();
        dec.push(&[BYE, INFO].concat());
        let items = drain(&mut dec);
        assert_eq!(
            items,
            vec![
                StreamItem::Message(BYE.to_vec()),
                StreamItem::Message(INFO.to_vec())
            ]
        );
    }

    #[test]
    fn message_split_byte_by_byte_is_reassembled() {
        let mut dec = StreamDecoder::default();
        let mut got = Vec::new();
        for b in INFO {
            dec.push(&[*b]);
            got.extend(drain(&mut dec));
        }
        assert_eq!(got, vec![StreamItem::Message(INFO.to_vec())]);
        assert_eq!(dec.buffered(), 0);
    }

    #[test]
    fn body_waits_for_content_length_bytes() {
        let mut dec = StreamDecoder::default();
        dec.push(&INFO[..INFO.len() - 2]);
        assert_eq!(dec.next_item(), Ok(None));
        dec.push(&INFO[INFO.len() - 2..]);
        assert_eq!(
            dec.next_item(),
            Ok(Some(StreamItem::Message(INFO.to_vec())))
        );
    }

    #[test]
    fn double_crlf_is_a_ping_and_single_crlf_is_skipped() {
        let mut dec = StreamDecoder::default();
        dec.push(b"\r\n\r\n\r\n");
        dec.push(BYE);
        assert_eq!(
            drain(&mut dec),
            vec![StreamItem::KeepAlivePing, StreamItem::Message(BYE.to_vec())]
        );
    }

    #[test]
    fn oversize_header_is_an_error_and_sticks() {
        let mut dec = StreamDecoder::new(100, 100);
        dec.push(&[b'a'; 101]);
        assert_eq!(
            dec.next_item(),
            Err(FramingError::HeaderTooLarge { limit: 100 })
        );
        dec.push(BYE);
        assert!(dec.next_item().is_err());
    }

    #[test]
    fn oversize_body_is_an_error() {
        let mut dec = StreamDecoder::new(1000, 10);
        dec.push(b"INFO x SIP/2.0\r\nContent-Length: 11\r\n\r\n");
        assert_eq!(
            dec.next_item(),
            Err(FramingError::BodyTooLarge {
                size: 11,
                limit: 10
            })
        );
    }

    #[test]
    fn garbage_content_length_is_an_error() {
        let mut dec = StreamDecoder::default();
        dec.push(b"INFO x SIP/2.0\r\nContent-Length: -3\r\n\r\n");
        assert_eq!(dec.next_item(), Err(FramingError::BadContentLength));
    }

    #[test]
    fn missing_content_length_counts_as_empty_body() {
        let mut dec = StreamDecoder::default();
        dec.push(b"ACK x SIP/2.0\r\nCall-ID: y\r\n\r\n");
        assert!(matches!(dec.next_item(), Ok(Some(StreamItem::Message(_)))));
    }
}
