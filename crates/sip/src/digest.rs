//! HTTP Digest authentication for SIP (RFC 3261 §22.4, RFC 7616, RFC 8760): the server side,
//! and at the end of the file the client side our outbound INVITEs use
//! ([`parse_challenge`], [`authorization`]).
//!
//! The registrar (and later any request that must be authenticated) uses this module in three
//! steps, all without I/O and without reading a clock:
//! 1. answer an unauthenticated request with `401`/`407` carrying the header values from
//!    [`Challenger::challenge`] (one per algorithm, preferred first);
//! 2. parse the client's `Authorization`/`Proxy-Authorization` value with
//!    [`parse_authorization`];
//! 3. check it with [`Challenger::verify`], which looks up the stored `HA1` for the user and
//!    algorithm (see [`ha1`]; the store keeps one per algorithm instead of the password).
//!    [`Verdict::Stale`] means "right password, old nonce": challenge again with
//!    [`Challenger::stale_challenge`] so the phone retries without asking its user.
//!
//! Nonces are stateless: `hex(unix seconds) ‖ hex(HMAC-SHA-256(secret, seconds ‖ realm))[..32]`,
//! so the server keeps no table and a restart with the same secret still accepts the nonces
//! it handed out. The caller passes the wall-clock time in unix seconds (`now_unix_secs`).
//!
//! Not done here: nonce-count replay protection (a stateless nonce can be replayed until it
//! goes stale, so keep `nonce_lifetime` short — tens of seconds to a few minutes), `auth-int`,
//! the `-sess` algorithms, and checking that `uri` names the Request-URI (the caller compares
//! [`Credentials::uri`] with the request it is authenticating).
//!
//! ```
//! use madoguchi_sip::digest::{self, Challenger, DigestAlgorithm, Verdict};
//! let ch = Challenger::new("example.jp", [7; 32], 300);
//! let now = 1_800_000_000; // supplied by the shell
//! let www = ch.challenge(now, &[DigestAlgorithm::Sha256, DigestAlgorithm::Md5]);
//! assert!(www[0].starts_with("Digest realm=\"example.jp\""));
//! let nonce = ch.nonce(now);
//! let ha1 = digest::ha1(DigestAlgorithm::Md5, "1001", "example.jp", "secret");
//! let resp = digest::response(DigestAlgorithm::Md5, &ha1, &nonce,
//!     Some(("auth", "00000001", "c1")), "REGISTER", "sip:example.jp");
//! let header = format!("Digest username=\"1001\", realm=\"example.jp\", nonce=\"{nonce}\", \
//!     uri=\"sip:example.jp\", response=\"{resp}\", qop=auth, nc=00000001, cnonce=\"c1\"");
//! let creds = digest::parse_authorization(&header).unwrap();
//! let verdict = ch.verify(&creds, "REGISTER", |_, _| Some(ha1.clone()), now + 5);
//! assert_eq!(verdict, Verdict::Ok { user: "1001".into() });
//! ```

use hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use sha2::{Digest, Sha256};

/// Hash function of a digest exchange (`algorithm=` parameter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// `MD5` (RFC 2617; the default when the parameter is absent).
    Md5,
    /// `SHA-256` (RFC 7616, for SIP RFC 8760).
    Sha256,
}

impl DigestAlgorithm {
    /// The token used on the wire.
    pub fn token(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha256 => "SHA-256",
        }
    }

    /// Parses a wire token, case-insensitively.
    pub fn from_token(token: &str) -> Option<Self> {
        if token.eq_ignore_ascii_case("MD5") {
            Some(Self::Md5)
        } else if token.eq_ignore_ascii_case("SHA-256") {
            Some(Self::Sha256)
        } else {
            None
        }
    }

    fn hex(self, data: &[u8]) -> String {
        match self {
            Self::Md5 => hex::encode(Md5::digest(data)),
            Self::Sha256 => hex::encode(Sha256::digest(data)),
        }
    }
}

/// `HA1 = H(user ":" realm ":" password)` in lowercase hex: what the store keeps per algorithm.
pub fn ha1(algorithm: DigestAlgorithm, user: &str, realm: &str, password: &str) -> String {
    algorithm.hex(format!("{user}:{realm}:{password}").as_bytes())
}

/// The expected `response` for `qop=auth` (`Some((qop, nc, cnonce))`) or, without qop, the
/// RFC 2069 form that RFC 3261 still allows.
pub fn response(
    algorithm: DigestAlgorithm,
    ha1: &str,
    nonce: &str,
    qop: Option<(&str, &str, &str)>,
    method: &str,
    uri: &str,
) -> String {
    let ha2 = algorithm.hex(format!("{method}:{uri}").as_bytes());
    let input = match qop {
        Some((qop, nc, cnonce)) => format!("{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}"),
        None => format!("{ha1}:{nonce}:{ha2}"),
    };
    algorithm.hex(input.as_bytes())
}

/// Why an `Authorization` value was refused before any hash was computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("authorization scheme is not Digest")]
    NotDigest,
    #[error("malformed digest parameters at byte {position}")]
    Malformed { position: usize },
    #[error("digest parameter {name} given twice")]
    DuplicateParameter { name: String },
    #[error("digest parameter {name} missing")]
    MissingParameter { name: &'static str },
    #[error("unsupported digest algorithm {token}")]
    UnsupportedAlgorithm { token: String },
    #[error("unsupported qop {token}")]
    UnsupportedQop { token: String },
    #[error("nonce count is not 8 hex digits")]
    BadNonceCount,
}

/// The parameters of a parsed `Authorization: Digest …` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    /// Lowercased hex as sent.
    pub response: String,
    pub algorithm: DigestAlgorithm,
    /// `Some` only for `qop=auth`, together with `nc` and `cnonce`.
    pub qop: Option<QopAuth>,
    pub opaque: Option<String>,
}

/// The `qop=auth` parameters: nonce count (as sent, 8 hex digits) and client nonce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QopAuth {
    pub nc: String,
    pub cnonce: String,
}

/// Parses an `Authorization` or `Proxy-Authorization` header value (RFC 7616 §3.4).
///
/// Parameter names are case-insensitive, values are tokens or quoted strings with `\`
/// escapes; unknown parameters are ignored, duplicates and missing required ones refused.
pub fn parse_authorization(value: &str) -> Result<Credentials, DigestError> {
    let trimmed = value.trim_start();
    let offset = value.len() - trimmed.len();
    let scheme_end = trimmed.find([' ', '\t']).unwrap_or(trimmed.len());
    if !trimmed[..scheme_end].eq_ignore_ascii_case("Digest") {
        return Err(DigestError::NotDigest);
    }
    let params = parse_params(trimmed.as_bytes(), scheme_end, offset)?;
    let take = |name: &'static str| -> Option<String> {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let need = |name: &'static str| take(name).ok_or(DigestError::MissingParameter { name });
    let algorithm = match take("algorithm") {
        None => DigestAlgorithm::Md5,
        Some(token) => DigestAlgorithm::from_token(&token)
            .ok_or(DigestError::UnsupportedAlgorithm { token })?,
    };
    let qop = match take("qop") {
        None => None,
        Some(token) if token.eq_ignore_ascii_case("auth") => {
            let nc = need("nc")?;
            if nc.len() != 8 || !nc.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(DigestError::BadNonceCount);
            }
            Some(QopAuth {
                nc,
                cnonce: need("cnonce")?,
            })
        }
        Some(token) => return Err(DigestError::UnsupportedQop { token }),
    };
    Ok(Credentials {
        username: need("username")?,
        realm: need("realm")?,
        nonce: need("nonce")?,
        uri: need("uri")?,
        response: need("response")?.to_ascii_lowercase(),
        algorithm,
        qop,
        opaque: take("opaque"),
    })
}

/// Unquoted values run to the next separator; clients put URIs and `MD5` here alike.
fn is_token_byte(b: u8) -> bool {
    !b.is_ascii_whitespace() && !b.is_ascii_control() && b != b',' && b != b'"'
}

fn skip_lws(s: &[u8], mut i: usize) -> usize {
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// `name = value` pairs separated by commas; names are returned lowercased.
fn parse_params(
    s: &[u8],
    start: usize,
    offset: usize,
) -> Result<Vec<(String, String)>, DigestError> {
    let malformed = |i: usize| DigestError::Malformed {
        position: i + offset,
    };
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = skip_lws(s, start);
    loop {
        let name_start = i;
        while i < s.len() && (s[i].is_ascii_alphanumeric() || s[i] == b'-' || s[i] == b'_') {
            i += 1;
        }
        if i == name_start {
            return Err(malformed(i));
        }
        let name = String::from_utf8_lossy(&s[name_start..i]).to_ascii_lowercase();
        i = skip_lws(s, i);
        if s.get(i) != Some(&b'=') {
            return Err(malformed(i));
        }
        i = skip_lws(s, i + 1);
        let value = if s.get(i) == Some(&b'"') {
            let mut buf = Vec::new();
            i += 1;
            loop {
                match s.get(i) {
                    None => return Err(malformed(i)),
                    Some(b'"') => break,
                    Some(b'\\') => {
                        let escaped = *s.get(i + 1).ok_or_else(|| malformed(i))?;
                        buf.push(escaped);
                        i += 2;
                    }
                    Some(&b) => {
                        buf.push(b);
                        i += 1;
                    }
                }
            }
            i += 1;
            // Only ASCII backslashes were dropped from valid UTF-8, except an escaped
            // lead byte whose continuation bytes still follow; either way this is UTF-8.
            String::from_utf8(buf).map_err(|_| malformed(i))?
        } else {
            let value_start = i;
            while i < s.len() && is_token_byte(s[i]) {
                i += 1;
            }
            if i == value_start {
                return Err(malformed(i));
            }
            String::from_utf8_lossy(&s[value_start..i]).into_owned()
        };
        if out.iter().any(|(n, _)| *n == name) {
            return Err(DigestError::DuplicateParameter { name });
        }
        out.push((name, value));
        i = skip_lws(s, i);
        match s.get(i) {
            None => return Ok(out),
            Some(b',') => i = skip_lws(s, i + 1),
            Some(_) => return Err(malformed(i)),
        }
    }
}

/// Outcome of checking credentials against a challenge this server issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The response proves the password; `user` is the authenticated username.
    Ok { user: String },
    /// Right password but an expired nonce: challenge again with `stale=true`.
    Stale,
    /// Wrong password, foreign realm/opaque, or a nonce this server did not issue.
    Wrong,
    /// No HA1 stored for this user and algorithm.
    UnknownUser,
}

/// Issues and checks stateless nonces for one realm.
#[derive(Debug, Clone)]
pub struct Challenger {
    realm: String,
    secret: [u8; 32],
    nonce_lifetime: u64,
    opaque: Option<String>,
}

const TS_HEX: usize = 16;
const MAC_HEX: usize = 32;

impl Challenger {
    /// `secret` keys the nonce MAC (keep it across restarts); nonces older than
    /// `nonce_lifetime_secs` are stale.
    pub fn new(realm: impl Into<String>, secret: [u8; 32], nonce_lifetime_secs: u64) -> Self {
        Self {
            realm: realm.into(),
            secret,
            nonce_lifetime: nonce_lifetime_secs,
            opaque: None,
        }
    }

    /// Sends `opaque` in challenges and requires clients to echo it.
    pub fn with_opaque(mut self, opaque: impl Into<String>) -> Self {
        self.opaque = Some(opaque.into());
        self
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// A nonce stamped with `now_unix_secs`.
    pub fn nonce(&self, now_unix_secs: u64) -> String {
        format!("{now_unix_secs:016x}{}", self.mac(now_unix_secs))
    }

    /// `WWW-Authenticate`/`Proxy-Authenticate` values, one per algorithm in the given order
    /// (RFC 8760 §2.4: the preferred algorithm first).
    pub fn challenge(&self, now_unix_secs: u64, algorithms: &[DigestAlgorithm]) -> Vec<String> {
        self.challenges(now_unix_secs, algorithms, false)
    }

    /// Like [`Self::challenge`] with `stale=true`, for a [`Verdict::Stale`].
    pub fn stale_challenge(
        &self,
        now_unix_secs: u64,
        algorithms: &[DigestAlgorithm],
    ) -> Vec<String> {
        self.challenges(now_unix_secs, algorithms, true)
    }

    fn challenges(&self, now: u64, algorithms: &[DigestAlgorithm], stale: bool) -> Vec<String> {
        let nonce = self.nonce(now);
        algorithms
            .iter()
            .map(|alg| {
                let mut v = format!(
                    "Digest realm=\"{}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"",
                    quote_escape(&self.realm),
                    alg.token()
                );
                if let Some(opaque) = &self.opaque {
                    v.push_str(&format!(", opaque=\"{}\"", quote_escape(opaque)));
                }
                if stale {
                    v.push_str(", stale=true");
                }
                v
            })
            .collect()
    }

    /// Checks `credentials` for a request with `method`. `ha1_lookup(user, algorithm)` returns
    /// the stored HA1. `Stale` is only returned when the response is otherwise right.
    pub fn verify(
        &self,
        credentials: &Credentials,
        method: &str,
        ha1_lookup: impl Fn(&str, DigestAlgorithm) -> Option<String>,
        now_unix_secs: u64,
    ) -> Verdict {
        if credentials.realm != self.realm {
            return Verdict::Wrong;
        }
        if let Some(opaque) = &self.opaque {
            if credentials.opaque.as_deref() != Some(opaque.as_str()) {
                return Verdict::Wrong;
            }
        }
        let Some(issued_at) = self.nonce_timestamp(&credentials.nonce) else {
            return Verdict::Wrong;
        };
        let Some(ha1) = ha1_lookup(&credentials.username, credentials.algorithm) else {
            return Verdict::UnknownUser;
        };
        let qop = credentials
            .qop
            .as_ref()
            .map(|q| ("auth", q.nc.as_str(), q.cnonce.as_str()));
        let expected = response(
            credentials.algorithm,
            &ha1,
            &credentials.nonce,
            qop,
            method,
            &credentials.uri,
        );
        if !constant_time_eq(expected.as_bytes(), credentials.response.as_bytes()) {
            return Verdict::Wrong;
        }
        if now_unix_secs.saturating_sub(issued_at) > self.nonce_lifetime {
            return Verdict::Stale;
        }
        Verdict::Ok {
            user: credentials.username.clone(),
        }
    }

    /// The issue time of a nonce this server made, or `None` for a forged/garbled one.
    fn nonce_timestamp(&self, nonce: &str) -> Option<u64> {
        if nonce.len() != TS_HEX + MAC_HEX || !nonce.is_ascii() {
            return None;
        }
        let ts = u64::from_str_radix(&nonce[..TS_HEX], 16).ok()?;
        let expected = self.mac(ts);
        constant_time_eq(expected.as_bytes(), &nonce.as_bytes()[TS_HEX..]).then_some(ts)
    }

    fn mac(&self, ts: u64) -> String {
        let mut msg = ts.to_be_bytes().to_vec();
        msg.extend_from_slice(self.realm.as_bytes());
        let tag = hmac_sha256(&self.secret, &msg);
        hex::encode(&tag[..MAC_HEX / 2])
    }
}

/// HMAC-SHA-256 (RFC 2104) with the RustCrypto `hmac` crate.
fn hmac_sha256(key: &[u8; 32], msg: &[u8]) -> Vec<u8> {
    // A 32-byte key is always a valid HMAC key, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(msg);
    mac.finalize().into_bytes().to_vec()
}

/// Compares without an early exit, so timing does not reveal how many bytes matched.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn quote_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// A `WWW-Authenticate`/`Proxy-Authenticate: Digest …` challenge, as a client reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub algorithm: DigestAlgorithm,
    /// The server offered `qop=auth` (among others); without it the RFC 2069 form is used.
    pub qop_auth: bool,
    pub opaque: Option<String>,
    pub stale: bool,
}

/// Parses a challenge header value. An algorithm or qop list we cannot answer (`MD5-sess`,
/// only `auth-int`) is an error, so the caller can try the next challenge.
pub fn parse_challenge(value: &str) -> Result<Challenge, DigestError> {
    let trimmed = value.trim_start();
    let offset = value.len() - trimmed.len();
    let scheme_end = trimmed.find([' ', '\t']).unwrap_or(trimmed.len());
    if !trimmed[..scheme_end].eq_ignore_ascii_case("Digest") {
        return Err(DigestError::NotDigest);
    }
    let params = parse_params(trimmed.as_bytes(), scheme_end, offset)?;
    let take = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let algorithm = match take("algorithm") {
        None => DigestAlgorithm::Md5,
        Some(token) => DigestAlgorithm::from_token(&token)
            .ok_or(DigestError::UnsupportedAlgorithm { token })?,
    };
    let qop_auth = match take("qop") {
        None => false,
        Some(list)
            if list
                .split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("auth")) =>
        {
            true
        }
        Some(token) => return Err(DigestError::UnsupportedQop { token }),
    };
    Ok(Challenge {
        realm: take("realm").ok_or(DigestError::MissingParameter { name: "realm" })?,
        nonce: take("nonce").ok_or(DigestError::MissingParameter { name: "nonce" })?,
        algorithm,
        qop_auth,
        opaque: take("opaque"),
        stale: take("stale").is_some_and(|v| v.eq_ignore_ascii_case("true")),
    })
}

/// Client side: the `Authorization`/`Proxy-Authorization` value answering `challenge` for a
/// request `method uri`, with `qop=auth`, `nc=00000001` and `cnonce` when the server offered
/// qop (each challenge is answered once, so the count never grows).
pub fn authorization(
    challenge: &Challenge,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    cnonce: &str,
) -> String {
    const NC: &str = "00000001";
    let alg = challenge.algorithm;
    let ha1 = ha1(alg, username, &challenge.realm, password);
    let qop = challenge.qop_auth.then_some(("auth", NC, cnonce));
    let resp = response(alg, &ha1, &challenge.nonce, qop, method, uri);
    let mut v = format!(
        "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{resp}\", \
         algorithm={}",
        quote_escape(username),
        quote_escape(&challenge.realm),
        quote_escape(&challenge.nonce),
        quote_escape(uri),
        alg.token()
    );
    if qop.is_some() {
        v.push_str(&format!(
            ", qop=auth, nc={NC}, cnonce=\"{}\"",
            quote_escape(cnonce)
        ));
    }
    if let Some(opaque) = &challenge.opaque {
        v.push_str(&format!(", opaque=\"{}\"", quote_escape(opaque)));
    }
    v
}

#[cfg(test)]
#[path = "digest_tests.rs"]
mod tests;
