//! REGISTER (RFC 3261 §10.3) behind Digest authentication (RFC 7616, RFC 8760): the glue
//! between the endpoint's transactions, [`crate::digest`] and [`crate::registrar`].
//!
//! A REGISTER gets a non-INVITE server transaction like any request. The To-URI user is the
//! login (the address of record). Without valid credentials for that login the answer is
//! `401` with one `WWW-Authenticate` per algorithm, SHA-256 first (RFC 8760 §2.4). An unknown
//! login is checked against a dummy secret, so its `401` is the same as a wrong password's.
//! A browser phone on a WebSocket gets a single challenge, MD5 when allowed (see
//! `RegisterService::algorithms_for`).
//! Once authorized, the Contact list goes to [`Registrar::apply`] and the `200` lists every
//! binding of the login with its remaining `expires`.
//!
//! Driving: the shell loads the directory with [`Endpoint::set_credentials`] and the stored
//! bindings with [`Endpoint::restore_bindings`], and calls [`Endpoint::set_unix_time`] before
//! each input (nonces carry wall-clock seconds; binding expiry uses the monotonic `now`).
//! Binding changes come out as [`SipEvent::Registration`], wrong passwords as
//! [`SipEvent::AuthFailed`].
//!
//! ```
//! use madoguchi_sip::{Endpoint, EndpointConfig, RegistrarConfig, SipCredentials};
//! use madoguchi_sip::digest::{ha1, DigestAlgorithm};
//! use std::collections::HashMap;
//! let mut ep = Endpoint::new(EndpointConfig {
//!     public_host: "192.0.2.10".into(), public_port: 5060,
//!     user_agent: "madoguchi".into(), max_message_size: 65_535,
//!     realm: "madoguchi".into(), registrar: RegistrarConfig::default(),
//!     nonce_secret: [9; 32], nonce_lifetime_secs: 300, prack: Default::default(),
//! }, 7);
//! let secret = SipCredentials {
//!     ha1_md5: Some(ha1(DigestAlgorithm::Md5, "1001", "madoguchi", "pw")),
//!     ha1_sha256: Some(ha1(DigestAlgorithm::Sha256, "1001", "madoguchi", "pw")),
//! };
//! ep.set_credentials(HashMap::from([("1001".to_owned(), secret)]));
//! ep.set_unix_time(1_800_000_000); // the shell's wall clock, before each input
//! assert!(ep.bindings("1001").is_empty());
//! ```

use crate::digest::{self, Challenger, Credentials, DigestAlgorithm, Verdict};
use crate::endpoint::{cseq_number, Endpoint, EndpointConfig, SipEvent, Transport};
use crate::message::{uri_user, Reply};
use crate::registrar::{Binding, BindingSource, ContactRequest, Registrar, RegistrarError};
use crate::uas::Incoming;
use rsip::prelude::*;
use rsip::{Header, Request};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

/// Digest secrets of one login, as the store keeps them (HA1 hex per algorithm).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SipCredentials {
    pub ha1_md5: Option<String>,
    pub ha1_sha256: Option<String>,
}

impl SipCredentials {
    fn ha1(&self, algorithm: DigestAlgorithm) -> Option<&str> {
        match algorithm {
            DigestAlgorithm::Md5 => self.ha1_md5.as_deref(),
            DigestAlgorithm::Sha256 => self.ha1_sha256.as_deref(),
        }
    }
}

// By hand: an HA1 is as good as the password for this realm, keep it out of logs.
impl std::fmt::Debug for SipCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipCredentials")
            .field("ha1_md5", &self.ha1_md5.as_ref().map(|_| "…"))
            .field("ha1_sha256", &self.ha1_sha256.as_ref().map(|_| "…"))
            .finish()
    }
}

/// Default challenge order: the preferred algorithm first (RFC 8760 §2.4).
const ALGORITHMS: [DigestAlgorithm; 2] = [DigestAlgorithm::Sha256, DigestAlgorithm::Md5];

/// The endpoint's registrar state: who may register, the binding table, the wall clock.
#[derive(Debug)]
pub(crate) struct RegisterService {
    challenger: Challenger,
    directory: HashMap<String, SipCredentials>,
    /// Checked for unknown logins, so they cost and answer the same as a wrong password.
    dummy: SipCredentials,
    pub(crate) registrar: Registrar,
    unix_time: u64,
    /// Challenges sent, in this order. Some clients (sipp, older phones) answer the first
    /// challenge only and know nothing but MD5, so a site may put MD5 first.
    algorithms: Vec<DigestAlgorithm>,
}

/// What the Authorization of a REGISTER amounts to.
#[derive(Debug, PartialEq, Eq)]
enum Auth {
    Authorized,
    /// No usable credentials, or none for this algorithm: challenge (again).
    Challenge {
        stale: bool,
    },
    /// Wrong response, or a login that does not exist.
    Failed,
    /// The digest `uri` names another Request-URI (RFC 7616 §3.4.6).
    UriMismatch,
}

impl RegisterService {
    pub(crate) fn new(config: &EndpointConfig) -> Self {
        let dummy_password = hex::encode(config.nonce_secret);
        let dummy = SipCredentials {
            ha1_md5: Some(digest::ha1(
                DigestAlgorithm::Md5,
                "",
                &config.realm,
                &dummy_password,
            )),
            ha1_sha256: Some(digest::ha1(
                DigestAlgorithm::Sha256,
                "",
                &config.realm,
                &dummy_password,
            )),
        };
        Self {
            challenger: Challenger::new(
                config.realm.clone(),
                config.nonce_secret,
                config.nonce_lifetime_secs,
            ),
            directory: HashMap::new(),
            dummy,
            registrar: Registrar::new(config.registrar.clone()),
            unix_time: 0,
            algorithms: ALGORITHMS.to_vec(),
        }
    }

    fn challenge(&self, stale: bool, transport: Transport) -> Vec<String> {
        let algorithms = self.algorithms_for(transport);
        if stale {
            self.challenger.stale_challenge(self.unix_time, algorithms)
        } else {
            self.challenger.challenge(self.unix_time, algorithms)
        }
    }

    /// The challenges a REGISTER over `transport` gets. Browser phones (WebSocket) get one:
    /// their SIP stacks (JsSIP, SIP.js) know MD5 only and read a single WWW-Authenticate,
    /// JsSIP the last one. So MD5 alone when the site allows it, else the site's first choice.
    fn algorithms_for(&self, transport: Transport) -> &[DigestAlgorithm] {
        if transport != Transport::Ws {
            return &self.algorithms;
        }
        let md5 = self
            .algorithms
            .iter()
            .position(|a| *a == DigestAlgorithm::Md5)
            .unwrap_or(0);
        self.algorithms.get(md5..=md5).unwrap_or(&self.algorithms)
    }

    fn authenticate(&self, request: &Request, login: &str) -> Auth {
        let realm = self.challenger.realm();
        // A phone may carry credentials for several realms; only ours counts.
        let credentials = request
            .headers
            .iter()
            .filter_map(|h| match h {
                Header::Authorization(a) => digest::parse_authorization(a.value()).ok(),
                _ => None,
            })
            .find(|c| c.realm == realm);
        let Some(credentials) = credentials else {
            return Auth::Challenge { stale: false };
        };
        if credentials.username != login {
            return Auth::Challenge { stale: false };
        }
        if !same_uri(&credentials.uri, &request.uri) {
            return Auth::UriMismatch;
        }
        let known = self.directory.get(login);
        let secrets = known.unwrap_or(&self.dummy);
        let verdict = self.challenger.verify(
            &credentials,
            "REGISTER",
            |_, algorithm| secrets.ha1(algorithm).map(str::to_owned),
            self.unix_time,
        );
        // Computed for unknown logins too, so both cost the same.
        let stale_secret = verdict == Verdict::Wrong && proves_password(&credentials, secrets);
        match (verdict, known) {
            (_, None) => Auth::Failed,
            (Verdict::Ok { .. }, Some(_)) => Auth::Authorized,
            (Verdict::Stale, Some(_)) => Auth::Challenge { stale: true },
            (Verdict::UnknownUser, Some(_)) => Auth::Challenge { stale: false },
            // The right password with a nonce we cannot read (issued before a restart with
            // another secret) is a stale nonce, not an attack.
            (Verdict::Wrong, Some(_)) if stale_secret => Auth::Challenge { stale: true },
            (Verdict::Wrong, Some(_)) => Auth::Failed,
        }
    }
}

impl Endpoint {
    /// Replace the whole credential directory (logins allowed to register).
    pub fn set_credentials(&mut self, directory: HashMap<String, SipCredentials>) {
        self.register.directory = directory;
    }

    /// The digest algorithms REGISTER challenges offer, in order (default SHA-256, MD5).
    /// An empty list keeps the current one.
    pub fn set_digest_algorithms(&mut self, algorithms: &[DigestAlgorithm]) {
        if !algorithms.is_empty() {
            self.register.algorithms = algorithms.to_vec();
        }
    }

    /// Bindings restored from the store at start (expired ones are dropped by the registrar).
    pub fn restore_bindings(&mut self, bindings: Vec<Binding>) {
        self.register.registrar.restore(bindings);
    }

    pub fn bindings(&self, login: &str) -> &[Binding] {
        self.register.registrar.bindings(login)
    }

    pub fn all_bindings(&self) -> impl Iterator<Item = &Binding> {
        self.register.registrar.all_bindings()
    }

    /// A connection-bound flow (a WebSocket, [`Transport::is_connection_bound`]) closed:
    /// the phones registered over it cannot be reached any more, so their bindings go
    /// (reported as [`SipEvent::Registration`]) and INVITEs to it without a final response
    /// fail with 408 at once, ringing or not.
    pub fn handle_flow_closed(&mut self, now: Instant, transport: Transport, peer: SocketAddr) {
        self.register.registrar.remove_source(BindingSource {
            addr: peer,
            transport,
        });
        self.drain_registrar();
        self.fail_invites(now, transport, peer, true);
    }

    /// Wall-clock unix seconds for digest nonces; the shell calls this before each input.
    pub fn set_unix_time(&mut self, unix_secs: u64) {
        self.register.unix_time = unix_secs;
    }

    /// When the earliest binding expires.
    pub(crate) fn registrar_timeout(&self) -> Option<Instant> {
        self.register.registrar.poll_timeout()
    }

    /// Expires due bindings and reports them.
    pub(crate) fn handle_registrar_timeout(&mut self, now: Instant) {
        if self.registrar_timeout().is_some_and(|at| at <= now) {
            self.register.registrar.handle_timeout(now);
            self.drain_registrar();
        }
    }

    fn drain_registrar(&mut self) {
        while let Some(event) = self.register.registrar.poll_event() {
            tracing::debug!(?event, "registration changed");
            self.events.push_back(SipEvent::Registration(event));
        }
    }

    /// A REGISTER outside any dialog (§10.3).
    pub(crate) fn handle_register(&mut self, now: Instant, inc: Incoming, request: &Request) {
        let login = request.to_header().ok().and_then(|t| uri_user(t.value()));
        let Some(login) = login else {
            return self.reply(
                now,
                inc,
                Reply::new(400).reason("Bad Request - No User in To"),
            );
        };
        match self.register.authenticate(request, &login) {
            Auth::Authorized => {}
            Auth::Challenge { stale } => {
                let challenges = self.register.challenge(stale, inc.transport);
                return self.reply(now, inc, unauthorized(challenges));
            }
            Auth::Failed => {
                tracing::debug!(source = %inc.source, "REGISTER digest refused");
                self.events.push_back(SipEvent::AuthFailed {
                    login,
                    source: inc.source,
                });
                let challenges = self.register.challenge(false, inc.transport);
                return self.reply(now, inc, unauthorized(challenges));
            }
            Auth::UriMismatch => {
                return self.reply(now, inc, Reply::new(400).reason("Bad Request - Digest URI"));
            }
        }
        let Some(contacts) = contacts(request) else {
            return self.reply(now, inc, Reply::new(400).reason("Bad Request - Contact"));
        };
        let call_id = inc.ctx.call_id.clone().unwrap_or_default();
        let cseq = cseq_number(&inc.ctx.cseq);
        let source = BindingSource {
            addr: inc.source,
            transport: inc.transport,
        };
        let result = self.register.registrar.apply(
            now,
            &login,
            &contacts,
            header_expires(request),
            &call_id,
            cseq,
            source,
        );
        self.drain_registrar();
        let reply = match result {
            Ok(bindings) => bindings.iter().fold(Reply::new(200), |reply, b| {
                reply.header(
                    "Contact",
                    format!("<{}>;expires={}", b.contact, b.expires_in(now)),
                )
            }),
            Err(err @ RegistrarError::IntervalTooBrief { min_expires }) => {
                tracing::debug!(%err, "REGISTER refused");
                Reply::new(err.status_code())
                    .reason("Interval Too Brief")
                    .header("Min-Expires", min_expires.to_string())
            }
            Err(err) => {
                tracing::debug!(%err, "REGISTER refused");
                Reply::new(err.status_code())
            }
        };
        self.reply(now, inc, reply);
    }
}

fn unauthorized(challenges: Vec<String>) -> Reply<'static> {
    challenges.into_iter().fold(Reply::new(401), |reply, c| {
        reply.header("WWW-Authenticate", c)
    })
}

/// Whether the digest response is right for the stored secret, whatever the nonce.
fn proves_password(credentials: &Credentials, secrets: &SipCredentials) -> bool {
    let Some(ha1) = secrets.ha1(credentials.algorithm) else {
        return false;
    };
    let qop = credentials
        .qop
        .as_ref()
        .map(|q| ("auth", q.nc.as_str(), q.cnonce.as_str()));
    let expected = digest::response(
        credentials.algorithm,
        ha1,
        &credentials.nonce,
        qop,
        "REGISTER",
        &credentials.uri,
    );
    constant_time_eq(expected.as_bytes(), credentials.response.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The digest `uri` against the Request-URI, both through rsip so spelling differences
/// (case of the scheme, parameter spacing) do not matter.
fn same_uri(digest_uri: &str, request_uri: &rsip::Uri) -> bool {
    digest_uri == request_uri.to_string()
        || rsip::Uri::try_from(digest_uri).is_ok_and(|u| u == *request_uri)
}

/// The Expires header; malformed values count as 3600 (§20.19), huge ones saturate.
fn header_expires(request: &Request) -> Option<u32> {
    request.headers.iter().find_map(|h| match h {
        Header::Expires(e) => Some(delta_seconds(e.value()).unwrap_or(3600)),
        _ => None,
    })
}

fn delta_seconds(value: &str) -> Option<u32> {
    let value = value.trim();
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // All digits: only overflow can fail, and that saturates.
    Some(value.parse::<u32>().unwrap_or(u32::MAX))
}

/// Every Contact of the request (the normalizer already put one per header line); `None`
/// when one has no URI.
fn contacts(request: &Request) -> Option<Vec<ContactRequest>> {
    request
        .headers
        .iter()
        .filter_map(|h| match h {
            Header::Contact(c) => Some(parse_contact(c.value())),
            _ => None,
        })
        .collect()
}

/// One Contact value: `*`, `name <uri>;params` or `uri;params` (§20.10: without angle
/// brackets the parameters belong to the header, not the URI).
fn parse_contact(value: &str) -> Option<ContactRequest> {
    let value = value.trim();
    if value == "*" {
        return Some(ContactRequest {
            uri: "*".to_owned(),
            expires: None,
        });
    }
    let (uri, params) = match find_unquoted(value, b'<') {
        Some(open) => {
            let close = open + value[open..].find('>')?;
            (&value[open + 1..close], &value[close + 1..])
        }
        None => {
            let end = find_unquoted(value, b';').unwrap_or(value.len());
            (&value[..end], &value[end..])
        }
    };
    let uri = uri.trim();
    if uri.is_empty() {
        return None;
    }
    let expires = split_unquoted(params, b';').find_map(|param| {
        let (name, v) = param.split_once('=')?;
        // A malformed expires parameter counts as 3600 (§20.10).
        name.trim()
            .eq_ignore_ascii_case("expires")
            .then(|| delta_seconds(v.trim().trim_matches('"')).unwrap_or(3600))
    });
    Some(ContactRequest {
        uri: uri.to_owned(),
        expires,
    })
}

/// Byte position of the first `needle` outside a quoted string.
fn find_unquoted(s: &str, needle: u8) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ if b == needle && !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// `s` cut at every `sep` outside a quoted string (`+sip.instance="<urn:…>"` has both).
fn split_unquoted(s: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(s);
    std::iter::from_fn(move || {
        let current = rest?;
        match find_unquoted(current, sep) {
            Some(i) => {
                rest = Some(&current[i + 1..]);
                Some(&current[..i])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bracketed_contact_keeps_uri_params_and_reads_header_expires() {
        let c =
            parse_contact("\"A;<b>\" <sip:1001@10.0.0.2:5062;transport=tcp>;expires=120").unwrap();
        assert_eq!(c.uri, "sip:1001@10.0.0.2:5062;transport=tcp");
        assert_eq!(c.expires, Some(120));
    }

    #[test]
    fn instance_id_with_angle_brackets_does_not_hide_expires() {
        let c = parse_contact("<sip:1001@10.0.0.2>;+sip.instance=\"<urn:uuid:1;x>\";expires=60")
            .unwrap();
        assert_eq!(c.uri, "sip:1001@10.0.0.2");
        assert_eq!(c.expires, Some(60));
    }

    #[test]
    fn bare_contact_params_belong_to_the_header() {
        let c = parse_contact("sip:1001@10.0.0.2;expires=0").unwrap();
        assert_eq!(c.uri, "sip:1001@10.0.0.2");
        assert_eq!(c.expires, Some(0));
    }

    #[test]
    fn malformed_expires_counts_as_an_hour_and_huge_ones_saturate() {
        assert_eq!(
            parse_contact("<sip:a@b>;expires=soon").unwrap().expires,
            Some(3600)
        );
        assert_eq!(delta_seconds("99999999999"), Some(u32::MAX));
    }

    #[test]
    fn unterminated_or_empty_uri_is_refused() {
        assert_eq!(parse_contact("<sip:a@b"), None);
        assert_eq!(parse_contact("<>"), None);
    }
}
