//! Dialogs, RFC 3261 §12, on either side of the INVITE.
//!
//! UAS: [`Dialog::new_uas`] takes the INVITE that establishes it (§12.1.1): the remote tag and
//! URI come from From, the local URI is the To plus our tag, the remote target is the
//! Contact, and the route set is the Record-Route list in order.
//! UAC: [`Dialog::new_uac`] is made when our INVITE leaves, before the remote tag is known (it
//! matches no request until then); [`Dialog::establish`] applies each 1xx/2xx carrying a To
//! tag (§12.1.2: remote tag from To, target from Contact, route set from Record-Route
//! reversed).
//! Either way it checks in-dialog CSeq ordering (§12.2.2), refreshes the remote target on
//! re-INVITE, and builds our in-dialog requests (§12.2.1.1: BYE, NOTIFY, the ACK of a 2xx)
//! with loose or strict routing.
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
use rsip::{Header, Method, Request, Response};

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
    /// Created by the INVITE (UAS) or sent with it (UAC), no 2xx yet.
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
    /// `None` until the peer's first request on a UAC dialog (§12.1.2: "empty").
    remote_seq: Option<u32>,
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
            remote_seq: Some(remote_seq),
            local_uri,
            remote_uri,
            remote_target,
            route_set,
        })
    }

    /// The UAC side of the dialog our INVITE (CSeq `invite_cseq`) tries to set up: `local_uri`
    /// is our From with its tag, `remote_uri` the To, `target` the Request-URI. The remote tag
    /// stays empty (matching nothing) until [`Dialog::establish`].
    pub fn new_uac(
        call_id: &str,
        local_uri: &str,
        remote_uri: &str,
        target: &str,
        invite_cseq: u32,
    ) -> Self {
        Self {
            id: DialogId {
                call_id: call_id.to_owned(),
                local_tag: tag_param(local_uri).unwrap_or_default(),
                remote_tag: String::new(),
            },
            state: DialogState::Early,
            local_seq: invite_cseq,
            remote_seq: None,
            local_uri: local_uri.to_owned(),
            remote_uri: remote_uri.to_owned(),
            remote_target: target.to_owned(),
            route_set: Vec::new(),
        }
    }

    /// Applies a 1xx or 2xx to our INVITE (§12.1.2; for a 2xx also §13.2.2.4, which recomputes
    /// the route set): the remote tag and URI from To, the remote target from a usable
    /// Contact (else the previous target stays), the route set from Record-Route reversed.
    pub fn establish(&mut self, response: &Response) {
        let mut route_set = Vec::new();
        for header in response.headers.iter() {
            match header {
                Header::To(v) => {
                    if let Some(tag) = tag_param(v.value()) {
                        self.id.remote_tag = tag;
                        self.remote_uri = v.value().to_owned();
                    }
                }
                Header::Contact(v) => {
                    let uri = uri_text(v.value());
                    if rsip::Uri::try_from(uri).is_ok() {
                        self.remote_target = uri.to_owned();
                    }
                }
                Header::RecordRoute(v) => route_set.push(v.value().to_owned()),
                _ => {}
            }
        }
        route_set.reverse();
        self.route_set = route_set;
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
        !self.id.remote_tag.is_empty() && self.id.remote_tag == remote_tag
    }

    /// Checks the CSeq of a new in-dialog request (§12.2.2); ACK and CANCEL reuse the
    /// INVITE's number and are exempt.
    pub fn receive_request(&mut self, method: Method, cseq: u32) -> Result<(), DialogError> {
        if matches!(method, Method::Ack | Method::Cancel) {
            return Ok(());
        }
        if let Some(last) = self.remote_seq.filter(|last| cseq <= *last) {
            return Err(DialogError::CSeqOutOfOrder {
                received: cseq,
                last,
            });
        }
        self.remote_seq = Some(cseq);
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
        self.build_request_with(method, via, user_agent, &[], None)
    }

    /// [`Dialog::build_request`] with extra headers and a body `(content type, bytes)`.
    pub fn build_request_with(
        &mut self,
        method: Method,
        via: &str,
        user_agent: &str,
        extra: &[(&str, String)],
        body: Option<(&str, &[u8])>,
    ) -> DialogRequest {
        self.local_seq = self.local_seq.wrapping_add(1);
        self.build(method, self.local_seq, via, user_agent, extra, body)
    }

    /// The ACK of a 2xx to our INVITE number `invite_cseq` (§13.2.2.4): built like any
    /// in-dialog request but with the INVITE's CSeq number; `extra` carries the INVITE's
    /// credentials.
    pub fn build_ack(
        &self,
        invite_cseq: u32,
        via: &str,
        user_agent: &str,
        extra: &[(&str, String)],
    ) -> DialogRequest {
        self.build(Method::Ack, invite_cseq, via, user_agent, extra, None)
    }

    fn build(
        &self,
        method: Method,
        cseq: u32,
        via: &str,
        user_agent: &str,
        extra: &[(&str, String)],
        body: Option<(&str, &[u8])>,
    ) -> DialogRequest {
        use rsip::headers::*;
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
        headers.push(Header::CSeq(CSeq::new(format!("{cseq} {method}"))));
        for route in routes {
            headers.push(Header::Route(Route::new(route)));
        }
        headers.push(Header::UserAgent(UserAgent::new(user_agent)));
        for (name, value) in extra {
            headers.push(Header::Other((*name).to_owned(), value.clone()));
        }
        let body = match body {
            Some((content_type, bytes)) => {
                headers.push(Header::ContentType(ContentType::new(content_type)));
                bytes
            }
            None => &[],
        };
        headers.push(Header::ContentLength(ContentLength::new(
            body.len().to_string(),
        )));
        let request = Request {
            method,
            uri,
            version: rsip::Version::V2,
            headers,
            body: Vec::new(),
        };
        // The body is appended raw: rsip's Display would pass it through a lossy conversion.
        let mut bytes = request.to_string().into_bytes();
        bytes.extend_from_slice(body);
        DialogRequest {
            bytes,
            next_hop,
            cseq,
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

    fn uac() -> Dialog {
        Dialog::new_uac(
            "c9",
            "<sip:madoguchi@192.0.2.10>;tag=us",
            "<sip:op1@192.0.2.30>",
            "sip:op1@192.0.2.30",
            1,
        )
    }

    fn ok(extra: &str) -> Response {
        Response::try_from(format!(
            "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\n\
From: <sip:madoguchi@192.0.2.10>;tag=us\r\nTo: <sip:op1@192.0.2.30>;tag=them\r\n\
Call-ID: c9\r\nCSeq: 1 INVITE\r\n{extra}Content-Length: 0\r\n\r\n"
        ))
        .unwrap()
    }

    #[test]
    fn uac_dialog_matches_no_remote_tag_until_a_response_sets_it() {
        let mut d = uac();
        assert_eq!(d.id().local_tag, "us");
        assert!(!d.matches_remote_tag(""));
        d.establish(&ok(""));
        assert!(d.matches_remote_tag("them"));
        assert!(
            d.receive_request(Method::Bye, 0).is_ok(),
            "any first remote CSeq"
        );
    }

    #[test]
    fn uac_route_set_is_the_record_route_reversed_and_target_the_contact() {
        let mut d = uac();
        d.establish(&ok(
            "Record-Route: <sip:192.0.2.2;lr>\r\nRecord-Route: <sip:192.0.2.1;lr>\r\n\
Contact: <sip:op1@192.0.2.31:5070>\r\n",
        ));
        assert_eq!(d.route_set(), ["<sip:192.0.2.1;lr>", "<sip:192.0.2.2;lr>"]);
        assert_eq!(d.remote_target(), "sip:op1@192.0.2.31:5070");
        let bye = text(&d.build_request(Method::Bye, "v", "ua"));
        assert!(bye.starts_with("BYE sip:op1@192.0.2.31:5070 SIP/2.0"));
        assert!(bye.contains("From: <sip:madoguchi@192.0.2.10>;tag=us\r\n"));
        assert!(bye.contains("To: <sip:op1@192.0.2.30>;tag=them\r\n"));
        assert!(bye.contains("CSeq: 2 BYE\r\n"));
    }

    #[test]
    fn ack_keeps_the_invite_cseq_and_does_not_use_up_a_number() {
        let mut d = uac();
        d.establish(&ok(""));
        let ack = d.build_ack(1, "v", "ua", &[("Proxy-Authorization", "Digest x".into())]);
        assert_eq!(ack.cseq, 1);
        assert!(text(&ack).contains("CSeq: 1 ACK\r\n"));
        assert!(text(&ack).contains("Proxy-Authorization: Digest x\r\n"));
        assert_eq!(d.build_request(Method::Bye, "v", "ua").cseq, 2);
    }

    #[test]
    fn request_with_a_body_gets_its_content_type_and_length() {
        let mut d = uac();
        let r = d.build_request_with(
            Method::Notify,
            "v",
            "ua",
            &[("Event", "refer".into())],
            Some(("message/sipfrag;version=2.0", b"SIP/2.0 200 OK\r\n")),
        );
        let t = text(&r);
        assert!(t.contains("Event: refer\r\n"));
        assert!(t.contains("Content-Type: message/sipfrag;version=2.0\r\nContent-Length: 16\r\n\r\nSIP/2.0 200 OK\r\n"));
    }

    #[test]
    fn reinvite_contact_refreshes_the_target() {
        let mut d = Dialog::new_uas(&invite("Contact: <sip:a@192.0.2.20>\r\n"), "l1").unwrap();
        d.refresh_target(&invite("Contact: <sip:a@192.0.2.99:5070>\r\n"));
        assert_eq!(d.remote_target(), "sip:a@192.0.2.99:5070");
    }
}
