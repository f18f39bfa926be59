//! UAS dialogs, RFC 3261 §12.
//!
//! A [`Dialog`] is created from the INVITE that establishes it (§12.1.1): the remote tag and
//! URI come from From, the local URI is the To plus our tag, the remote target is the
//! Contact, and the route set is the Record-Route list in order. It checks in-dialog CSeq
//! ordering (§12.2.2), refreshes the remote target on re-INVITE, and builds our in-dialog
//! requests (§12.2.1.1) — in practice the BYE — with loose or strict routing.
//!
//! ```
//! # use madoguchi_sip::Dialog;
//! let invite = rsip::Request::try_from("INVITE sip:hotline@192.0.2.10 SIP/2.0\r\n\
//! Via: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK1\r\nFrom: <sip:a@192.0.2.20>;tag=r1\r\n\
//! To: <sip:hotline@192.0.2.10>\r\nCall-ID: c1\r\nCSeq: 10 INVITE\r\n\
//! Contact: <sip:a@192.0.2.20:5062>\r\nContent-Length: 0\r\n\r\n").unwrap();
//! let mut dialog = Dialog::new_uas(&invite, "l1").unwrap();
//! let bye = dialog.build_request(rsip::Method::Bye, "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKb", "madoguchi");
//! assert!(String::from_utf8(bye.bytes).unwrap().contains("CSeq: 11 BYE"));
//! ```

use crate::message::{tag_param, uri_text};
use rsip::prelude::*;
use rsip::{Header, Method, Request};

/// The RFC 3261 §12 dialog identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DialogId {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
}

/// §12 dialog states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialogState {
    /// Created by the INVITE, no 2xx yet.
    Early,
    /// A 2xx was sent.
    Confirmed,
    /// BYE sent or received.
    Terminated,
}

/// Why a dialog refused an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DialogError {
    #[error("the request has no usable Contact")]
    MissingContact,
    #[error("the request has no From tag")]
    MissingRemoteTag,
    #[error("CSeq {received} is not above the last remote CSeq {last}")]
    CSeqOutOfOrder { received: u32, last: u32 },
}

/// A request built inside the dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialogRequest {
    pub bytes: Vec<u8>,
    /// The URI of the next hop: the first route, or the remote target.
    pub next_hop: String,
    pub cseq: u32,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct Dialog {
    id: DialogId,
    state: DialogState,
    local_seq: u32,
    remote_seq: u32,
    local_uri: String,
    remote_uri: String,
    remote_target: String,
    route_set: Vec<String>,
}

impl Dialog {
    /// The UAS side of a dialog established by `invite`, with our tag `local_tag`.
    pub fn new_uas(invite: &Request, local_tag: &str) -> Result<Self, DialogError> {
        let mut from = None;
        let mut to = None;
        let mut call_id = String::new();
        let mut contact = None;
        let mut route_set = Vec::new();
        for header in invite.headers.iter() {
            match header {
                Header::From(v) if from.is_none() => from = Some(v.value().to_owned()),
                Header::To(v) if to.is_none() => to = Some(v.value().to_owned()),
                Header::CallId(v) if call_id.is_empty() => call_id = v.value().to_owned(),
                Header::Contact(v) if contact.is_none() => {
                    contact = Some(uri_text(v.value()).to_owned())
                }
                Header::RecordRoute(v) => route_set.push(v.value().to_owned()),
                _ => {}
            }
        }
        let remote_uri = from.ok_or(DialogError::MissingRemoteTag)?;
        let remote_tag = tag_param(&remote_uri).ok_or(DialogError::MissingRemoteTag)?;
        let remote_target = contact
            .filter(|c| rsip::Uri::try_from(c.as_str()).is_ok())
            .ok_or(DialogError::MissingContact)?;
        let to = to.unwrap_or_default();
        let local_uri = match tag_param(&to) {
            Some(_) => to,
            None => format!("{to};tag={local_tag}"),
        };
        let remote_seq = invite
            .cseq_header()
            .ok()
            .and_then(|c| c.seq().ok())
            .unwrap_or(0);
        Ok(Self {
            id: DialogId {
                call_id,
                local_tag: local_tag.to_owned(),
                remote_tag,
            },
            state: DialogState::Early,
            // The local sequence space is ours to choose (§12.2.1.1); starting from the
            // INVITE's number makes our first request "CSeq + 1", easy to read in traces.
            local_seq: remote_seq,
            remote_seq,
            local_uri,
            remote_uri,
            remote_target,
            route_set,
        })
    }

    pub fn id(&self) -> &DialogId {
        &self.id
    }

    pub fn state(&self) -> DialogState {
        self.state
    }

    pub fn confirm(&mut self) {
        if self.state == DialogState::Early {
            self.state = DialogState::Confirmed;
        }
    }

    pub fn terminate(&mut self) {
        self.state = DialogState::Terminated;
    }

    pub fn remote_target(&self) -> &str {
        &self.remote_target
    }

    pub fn route_set(&self) -> &[String] {
        &self.route_set
    }

    /// Whether `remote_tag` (the From tag of an in-dialog request) belongs to this dialog.
    pub fn matches_remote_tag(&self, remote_tag: &str) -> bool {
        self.id.remote_tag == remote_tag
    }

    /// Checks the CSeq of a new in-dialog request (§12.2.2); ACK and CANCEL reuse the
    /// INVITE's number and are exempt.
    pub fn receive_request(&mut self, method: Method, cseq: u32) -> Result<(), DialogError> {
        if matches!(method, Method::Ack | Method::Cancel) {
            return Ok(());
        }
        if cseq <= self.remote_seq {
            return Err(DialogError::CSeqOutOfOrder {
                received: cseq,
                last: self.remote_seq,
            });
        }
        self.remote_seq = cseq;
        Ok(())
    }

    /// A target refresh (re-INVITE, §12.2.2) replaces the remote target with its Contact.
    pub fn refresh_target(&mut self, request: &Request) {
        if let Ok(contact) = request.contact_header() {
            let uri = uri_text(contact.value());
            if rsip::Uri::try_from(uri).is_ok() {
                self.remote_target = uri.to_owned();
            }
        }
    }

    /// Builds the next in-dialog request (§12.2.1.1). `via` is our complete Via value.
    pub fn build_request(&mut self, method: Method, via: &str, user_agent: &str) -> DialogRequest {
        use rsip::headers::*;
        self.local_seq = self.local_seq.wrapping_add(1);
        let is_loose = |route: &String| {
            uri_text(route)
                .split(';')
                .skip(1)
                .any(|p| p.trim().eq_ignore_ascii_case("lr"))
        };
        let (request_uri, routes): (String, Vec<String>) = match self.route_set.split_first() {
            Some((first, rest)) if !is_loose(first) => {
                // Strict routing (§12.2.1.1): the first route becomes the Request-URI and
                // the remote target is appended to the Route set.
                let mut routes = rest.to_vec();
                routes.push(format!("<{}>", self.remote_target));
                (uri_text(first).to_owned(), routes)
            }
            _ => (self.remote_target.clone(), self.route_set.clone()),
        };
        let next_hop = self
            .route_set
            .first()
            .map(|r| uri_text(r).to_owned())
            .unwrap_or_else(|| self.remote_target.clone());
        let uri = rsip::Uri::try_from(request_uri.as_str())
            .or_else(|_| rsip::Uri::try_from(self.remote_target.as_str()))
            .unwrap_or_default();
        let mut headers = rsip::Headers::default();
        headers.push(Header::Via(Via::new(via)));
        headers.push(Header::MaxForwards(MaxForwards::new("70")));
        headers.push(Header::From(From::new(self.local_uri.as_str())));
        headers.push(Header::To(To::new(self.remote_uri.as_str())));
        headers.push(Header::CallId(CallId::new(self.id.call_id.as_str())));
        headers.push(Header::CSeq(CSeq::new(format!(
            "{} {}",
            self.local_seq, method
        ))));
        for route in routes {
            headers.push(Header::Route(Route::new(route)));
        }
        headers.push(Header::UserAgent(UserAgent::new(user_agent)));
        headers.push(Header::ContentLength(ContentLength::new("0")));
        let request = Request {
            method,
            uri,
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        };
        DialogRequest {
            bytes: request.to_string().into_bytes(),
            next_hop,
            cseq: self.local_seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invite(extra: &str) -> Request {
        Request::try_from(format!(
            "INVITE sip:hotline@192.0.2.10 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK1\r\nFrom: \"A\" <sip:a@192.0.2.20>;tag=r1\r\n\
To: <sip:hotline@192.0.2.10>\r\nCall-ID: c1\r\nCSeq: 10 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        ))
        .unwrap()
    }

    fn text(r: &DialogRequest) -> String {
        String::from_utf8(r.bytes.clone()).unwrap()
    }

    #[test]
    fn bye_swaps_from_and_to_and_targets_the_contact() {
        let mut d = Dialog::new_uas(&invite("Contact: <sip:a@192.0.2.20:5062>\r\n"), "l1").unwrap();
        let bye = d.build_request(Method::Bye, "SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKb", "ua");
        let t = text(&bye);
        assert!(
            t.starts_with("BYE sip:a@192.0.2.20:5062 SIP/2.0\r\n"),
            "{t}"
        );
        assert!(t.contains("From: <sip:hotline@192.0.2.10>;tag=l1\r\n"));
        assert!(t.contains("To: \"A\" <sip:a@192.0.2.20>;tag=r1\r\n"));
        assert!(t.contains("CSeq: 11 BYE\r\n"));
        assert!(!t.contains("Route:"));
        assert_eq!(bye.next_hop, "sip:a@192.0.2.20:5062");
    }

    #[test]
    fn loose_route_set_is_copied_and_first_route_is_next_hop() {
        let mut d = Dialog::new_uas(
            &invite("Record-Route: <sip:192.0.2.1;lr>\r\nRecord-Route: <sip:192.0.2.2;lr>\r\nContact: <sip:a@192.0.2.20>\r\n"),
            "l1",
        )
        .unwrap();
        let bye = d.build_request(Method::Bye, "SIP/2.0/UDP h;branch=z9hG4bKb", "ua");
        let t = text(&bye);
        assert!(t.starts_with("BYE sip:a@192.0.2.20 SIP/2.0"));
        assert!(t.contains("Route: <sip:192.0.2.1;lr>\r\nRoute: <sip:192.0.2.2;lr>\r\n"));
        assert_eq!(bye.next_hop, "sip:192.0.2.1;lr");
    }

    #[test]
    fn strict_route_becomes_request_uri() {
        let mut d = Dialog::new_uas(
            &invite("Record-Route: <sip:192.0.2.1>\r\nContact: <sip:a@192.0.2.20>\r\n"),
            "l1",
        )
        .unwrap();
        let t = text(&d.build_request(Method::Bye, "SIP/2.0/UDP h;branch=z9hG4bKb", "ua"));
        assert!(t.starts_with("BYE sip:192.0.2.1 SIP/2.0"), "{t}");
        assert!(t.contains("Route: <sip:a@192.0.2.20>\r\n"));
    }

    #[test]
    fn local_cseq_increments_per_request() {
        let mut d = Dialog::new_uas(&invite("Contact: <sip:a@192.0.2.20>\r\n"), "l1").unwrap();
        assert_eq!(d.build_request(Method::Info, "v", "ua").cseq, 11);
        assert_eq!(d.build_request(Method::Bye, "v", "ua").cseq, 12);
    }

    #[test]
    fn lower_or_equal_remote_cseq_is_refused() {
        let mut d = Dialog::new_uas(&invite("Contact: <sip:a@192.0.2.20>\r\n"), "l1").unwrap();
        assert_eq!(
            d.receive_request(Method::Bye, 10),
            Err(DialogError::CSeqOutOfOrder {
                received: 10,
                last: 10
            })
        );
        assert!(d.receive_request(Method::Ack, 10).is_ok());
        assert!(d.receive_request(Method::Bye, 11).is_ok());
    }

    #[test]
    fn invite_without_contact_cannot_make_a_dialog() {
        assert_eq!(
            Dialog::new_uas(&invite(""), "l1").unwrap_err(),
            DialogError::MissingContact
        );
    }

    #[test]
    fn reinvite_contact_refreshes_the_target() {
        let mut d = Dialog::new_uas(&invite("Contact: <sip:a@192.0.2.20>\r\n"), "l1").unwrap();
        d.refresh_target(&invite("Contact: <sip:a@192.0.2.99:5070>\r\n"));
        assert_eq!(d.remote_target(), "sip:a@192.0.2.99:5070");
    }
}
