//! REGISTER with digest authentication, as a desk phone or softphone sends it: the challenge,
//! MD5 and SHA-256 answers, refusals that must not reveal which logins exist, and bindings
//! that are listed, removed and expire on the virtual clock.

use super::*;
use crate::digest::{self, Challenger, DigestAlgorithm};
use crate::{Binding, BindingSource, RegistrarEvent, SipCredentials};
use std::collections::HashMap;

const LOGIN: &str = "1001";
const PASSWORD: &str = "correct horse";
const REALM: &str = "madoguchi";
const REQUEST_URI: &str = "sip:192.0.2.10";
const UNIX: u64 = 1_800_000_000;
const DESK: &str = "sip:1001@192.168.1.20:5060";
const SOFT: &str = "sip:1001@192.168.1.21:5062;transport=tcp";

/// The phone behind a NAT: the REGISTER arrives from here, not from its Contact host.
fn phone() -> SocketAddr {
    "203.0.113.5:40312".parse().unwrap()
}

fn secrets(login: &str, password: &str) -> SipCredentials {
    SipCredentials {
        ha1_md5: Some(digest::ha1(DigestAlgorithm::Md5, login, REALM, password)),
        ha1_sha256: Some(digest::ha1(DigestAlgorithm::Sha256, login, REALM, password)),
    }
}

fn harness() -> Harness {
    let mut h = Harness::new();
    h.ep.set_credentials(HashMap::from([(
        LOGIN.to_owned(),
        secrets(LOGIN, PASSWORD),
    )]));
    h.ep.set_unix_time(UNIX);
    h
}

/// One REGISTER as baresip sends it; `contacts` may be empty (a query).
struct Register<'a> {
    login: &'a str,
    call_id: &'a str,
    cseq: u32,
    contacts: &'a [&'a str],
    expires: Option<u32>,
    authorization: Option<String>,
}

impl<'a> Register<'a> {
    fn new(cseq: u32, contacts: &'a [&'a str]) -> Self {
        Self {
            login: LOGIN,
            call_id: "reg-1@192.168.1.20",
            cseq,
            contacts,
            expires: Some(600),
            authorization: None,
        }
    }

    fn text(&self) -> String {
        let mut extra = String::new();
        for c in self.contacts {
            extra.push_str(&format!("Contact: {c}\r\n"));
        }
        if let Some(e) = self.expires {
            extra.push_str(&format!("Expires: {e}\r\n"));
        }
        if let Some(a) = &self.authorization {
            extra.push_str(&format!("Authorization: {a}\r\n"));
        }
        with_body(
            &format!(
                "REGISTER {REQUEST_URI} SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.168.1.20:5060;branch=z9hG4bK{branch}-{cseq};rport\r\n\
Max-Forwards: 70\r\n\
To: <sip:{login}@192.0.2.10>\r\n\
From: <sip:{login}@192.0.2.10>;tag=f{cseq}\r\n\
Call-ID: {call}\r\n\
CSeq: {cseq} REGISTER\r\n\
User-Agent: baresip v3.10.0\r\n{extra}",
                call = self.call_id,
                // `@` is no token character (§25.1).
                branch = self.call_id.replace('@', "."),
                cseq = self.cseq,
                login = self.login,
            ),
            "",
        )
    }
}

/// The `Authorization` value a phone computes for `nonce` (qop=auth).
fn authorization(alg: DigestAlgorithm, login: &str, password: &str, nonce: &str) -> String {
    let ha1 = digest::ha1(alg, login, REALM, password);
    let response = digest::response(
        alg,
        &ha1,
        nonce,
        Some(("auth", "00000001", "0a4f113b")),
        "REGISTER",
        REQUEST_URI,
    );
    format!(
        "Digest username=\"{login}\", realm=\"{REALM}\", nonce=\"{nonce}\", \
uri=\"{REQUEST_URI}\", response=\"{response}\", algorithm={}, qop=auth, nc=00000001, \
cnonce=\"0a4f113b\"",
        alg.token()
    )
}

fn challenges(msg: &str) -> Vec<&str> {
    msg.split("\r\n")
        .filter_map(|l| l.strip_prefix("WWW-Authenticate: "))
        .collect()
}

fn contacts(msg: &str) -> Vec<&str> {
    msg.split("\r\n")
        .filter_map(|l| l.strip_prefix("Contact: "))
        .collect()
}

fn nonce_of(challenge: &str) -> String {
    let start = challenge.find("nonce=\"").unwrap() + 7;
    let len = challenge[start..].find('"').unwrap();
    challenge[start..start + len].to_owned()
}

impl Harness {
    fn register(&mut self, r: &Register<'_>) -> String {
        let out = self.send_from(Transport::Udp, phone(), &r.text());
        assert_eq!(out.len(), 1, "one final response");
        assert_eq!(out[0].destination, phone());
        text(&out[0])
    }

    /// A fresh nonce from an unauthenticated REGISTER (`call_id` keeps its branch unique).
    fn nonce_for(&mut self, call_id: &str) -> String {
        let reply = self.register(&Register {
            call_id,
            ..Register::new(1, &[DESK])
        });
        nonce_of(challenges(&reply)[0])
    }

    fn nonce(&mut self) -> String {
        self.nonce_for("probe")
    }

    /// `r` sent with a correct MD5 answer to a fresh challenge.
    fn register_authorized(&mut self, mut r: Register<'_>) -> String {
        let nonce = self.nonce_for(&format!("probe-{}-{}", r.call_id, r.cseq));
        r.authorization = Some(authorization(
            DigestAlgorithm::Md5,
            r.login,
            PASSWORD,
            &nonce,
        ));
        self.register(&r)
    }
}

fn registration(event: RegistrarEvent) -> SipEvent {
    SipEvent::Registration(event)
}

fn added(contact: &str) -> SipEvent {
    registration(RegistrarEvent::BindingAdded {
        login: LOGIN.into(),
        contact: contact.into(),
    })
}

fn removed(contact: &str) -> SipEvent {
    registration(RegistrarEvent::BindingRemoved {
        login: LOGIN.into(),
        contact: contact.into(),
    })
}

fn expired(contact: &str) -> SipEvent {
    registration(RegistrarEvent::BindingExpired {
        login: LOGIN.into(),
        contact: contact.into(),
    })
}

/// The Contact header values of the two phones.
const DESK_CONTACT: &str = "<sip:1001@192.168.1.20:5060>";
const SOFT_CONTACT: &str = "\"Softphone\" <sip:1001@192.168.1.21:5062;transport=tcp>";

#[test]
fn register_without_credentials_gets_401_with_sha256_then_md5_challenges() {
    let mut h = harness();
    let reply = h.register(&Register::new(1, &[DESK_CONTACT]));
    assert!(reply.starts_with("SIP/2.0 401 Unauthorized\r\n"));
    let www = challenges(&reply);
    assert_eq!(www.len(), 2);
    assert!(www[0].starts_with("Digest realm=\"madoguchi\""));
    assert!(www[0].contains("algorithm=SHA-256"));
    assert!(www[1].contains("algorithm=MD5"));
    assert!(www.iter().all(|c| c.contains("qop=\"auth\"")));
    assert!(www.iter().all(|c| !c.contains("stale")));
    assert!(h.ep.bindings(LOGIN).is_empty());
    assert!(h.events().is_empty());
}

#[test]
fn md5_answer_registers_the_contact_and_200_lists_it_with_expires() {
    let mut h = harness();
    let nonce = h.nonce();
    let reply = h.register(&Register {
        authorization: Some(authorization(DigestAlgorithm::Md5, LOGIN, PASSWORD, &nonce)),
        ..Register::new(2, &[DESK_CONTACT])
    });
    assert!(reply.starts_with("SIP/2.0 200 OK\r\n"), "{reply}");
    assert_eq!(contacts(&reply), vec![format!("<{DESK}>;expires=600")]);
    assert_eq!(h.events(), vec![added(DESK)]);
    let binding = &h.ep.bindings(LOGIN)[0];
    assert_eq!(
        binding.source,
        BindingSource {
            addr: phone(),
            transport: Transport::Udp
        }
    );
}

#[test]
fn sha256_answer_registers_the_contact() {
    let mut h = harness();
    let nonce = h.nonce();
    let reply = h.register(&Register {
        authorization: Some(authorization(
            DigestAlgorithm::Sha256,
            LOGIN,
            PASSWORD,
            &nonce,
        )),
        ..Register::new(2, &[DESK_CONTACT])
    });
    assert!(reply.starts_with("SIP/2.0 200 OK\r\n"), "{reply}");
    assert_eq!(h.events(), vec![added(DESK)]);
}

#[test]
fn wrong_password_gets_401_and_auth_failed_and_no_binding() {
    let mut h = harness();
    let nonce = h.nonce();
    let reply = h.register(&Register {
        authorization: Some(authorization(DigestAlgorithm::Md5, LOGIN, "guess", &nonce)),
        ..Register::new(2, &[DESK_CONTACT])
    });
    assert!(reply.starts_with("SIP/2.0 401 Unauthorized\r\n"));
    assert_eq!(challenges(&reply).len(), 2);
    assert_eq!(
        h.events(),
        vec![SipEvent::AuthFailed {
            login: LOGIN.into(),
            source: phone()
        }]
    );
    assert!(h.ep.bindings(LOGIN).is_empty());
}

#[test]
fn unknown_login_gets_the_same_401_as_a_wrong_password() {
    let mut h = harness();
    let nonce = h.nonce();
    let attempt = |login: &'static str, call_id: &'static str| Register {
        login,
        call_id,
        authorization: Some(authorization(DigestAlgorithm::Md5, login, "guess", &nonce)),
        ..Register::new(2, &[DESK_CONTACT])
    };
    let known = h.register(&attempt(LOGIN, "call-a"));
    let unknown = h.register(&attempt("9999", "call-b"));
    // Only what the request put there (From, Call-ID, Via branch) and our random To tag may
    // differ.
    let shape = |msg: &str| -> Vec<String> {
        msg.replace("9999", LOGIN)
            .split("\r\n")
            .filter(|l| {
                !["To: ", "Via: ", "Call-ID: "]
                    .iter()
                    .any(|h| l.starts_with(h))
            })
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(shape(&known), shape(&unknown));
    assert!(matches!(
        h.events().as_slice(),
        [SipEvent::AuthFailed { .. }, SipEvent::AuthFailed { login, .. }] if login == "9999"
    ));
}

#[test]
fn stale_nonce_with_right_password_gets_stale_challenges() {
    let mut h = harness();
    let nonce = h.nonce();
    h.ep.set_unix_time(UNIX + 301);
    let reply = h.register(&Register {
        authorization: Some(authorization(DigestAlgorithm::Md5, LOGIN, PASSWORD, &nonce)),
        ..Register::new(2, &[DESK_CONTACT])
    });
    assert!(reply.starts_with("SIP/2.0 401 Unauthorized\r\n"));
    let www = challenges(&reply);
    assert_eq!(www.len(), 2);
    assert!(www.iter().all(|c| c.contains("stale=true")));
    assert_ne!(nonce_of(www[0]), nonce);
    assert!(h.events().is_empty(), "not an authentication failure");
    assert!(h.ep.bindings(LOGIN).is_empty());
}

#[test]
fn nonce_from_before_a_restart_with_right_password_is_treated_as_stale() {
    let mut h = harness();
    let old = Challenger::new(REALM, [99; 32], 300).nonce(UNIX);
    let reply = h.register(&Register {
        authorization: Some(authorization(
            DigestAlgorithm::Sha256,
            LOGIN,
            PASSWORD,
            &old,
        )),
        ..Register::new(2, &[DESK_CONTACT])
    });
    assert!(reply.starts_with("SIP/2.0 401 Unauthorized\r\n"));
    assert!(challenges(&reply).iter().all(|c| c.contains("stale=true")));
    assert!(h.events().is_empty());
}

#[test]
fn credentials_of_another_user_than_the_to_user_are_challenged_again() {
    let mut h = harness();
    let other = secrets("1002", "other");
    h.ep.set_credentials(HashMap::from([
        (LOGIN.to_owned(), secrets(LOGIN, PASSWORD)),
        ("1002".to_owned(), other),
    ]));
    let nonce = h.nonce();
    let reply = h.register(&Register {
        authorization: Some(authorization(DigestAlgorithm::Md5, "1002", "other", &nonce)),
        ..Register::new(2, &[DESK_CONTACT])
    });
    assert!(reply.starts_with("SIP/2.0 401 Unauthorized\r\n"));
    assert!(h.ep.bindings(LOGIN).is_empty());
    assert!(h.ep.bindings("1002").is_empty());
}

#[test]
fn algorithm_without_a_stored_ha1_is_challenged_again() {
    let mut h = harness();
    let md5_only = SipCredentials {
        ha1_sha256: None,
        ..secrets(LOGIN, PASSWORD)
    };
    h.ep.set_credentials(HashMap::from([(LOGIN.to_owned(), md5_only)]));
    let nonce = h.nonce();
    let reply = h.register(&Register {
        authorization: Some(authorization(
            DigestAlgorithm::Sha256,
            LOGIN,
            PASSWORD,
            &nonce,
        )),
        ..Register::new(2, &[DESK_CONTACT])
    });
    assert!(reply.starts_with("SIP/2.0 401 Unauthorized\r\n"));
    assert!(h.ep.bindings(LOGIN).is_empty());
    assert!(h.events().is_empty(), "not a wrong password");
}

#[test]
fn digest_uri_naming_another_request_uri_is_a_bad_request() {
    let mut h = harness();
    let nonce = h.nonce();
    let reply = h.register(&Register {
        authorization: Some(
            authorization(DigestAlgorithm::Md5, LOGIN, PASSWORD, &nonce)
                .replace(REQUEST_URI, "sip:elsewhere.example"),
        ),
        ..Register::new(2, &[DESK_CONTACT])
    });
    assert!(reply.starts_with("SIP/2.0 400 "), "{reply}");
    assert!(h.ep.bindings(LOGIN).is_empty());
}

#[test]
fn two_contacts_of_one_login_are_both_listed() {
    let mut h = harness();
    h.register_authorized(Register::new(2, &[DESK_CONTACT]));
    let reply = h.register_authorized(Register {
        call_id: "reg-2@192.168.1.21",
        ..Register::new(2, &[SOFT_CONTACT])
    });
    assert_eq!(
        contacts(&reply),
        vec![
            format!("<{DESK}>;expires=600"),
            format!("<{SOFT}>;expires=600")
        ]
    );
    assert_eq!(h.events(), vec![added(DESK), added(SOFT)]);
    assert_eq!(h.ep.all_bindings().count(), 2);
}

#[test]
fn expires_zero_removes_that_contact_and_200_lists_only_the_others() {
    let mut h = harness();
    h.register_authorized(Register::new(2, &[DESK_CONTACT]));
    h.register_authorized(Register {
        call_id: "reg-2@192.168.1.21",
        ..Register::new(2, &[SOFT_CONTACT])
    });
    h.events();
    let reply = h.register_authorized(Register {
        expires: Some(0),
        ..Register::new(3, &[DESK_CONTACT])
    });
    assert!(reply.starts_with("SIP/2.0 200 OK\r\n"));
    assert_eq!(contacts(&reply), vec![format!("<{SOFT}>;expires=600")]);
    assert_eq!(h.events(), vec![removed(DESK)]);
}

#[test]
fn wildcard_contact_with_expires_zero_removes_every_binding() {
    let mut h = harness();
    h.register_authorized(Register::new(2, &[DESK_CONTACT]));
    h.register_authorized(Register {
        call_id: "reg-2@192.168.1.21",
        ..Register::new(2, &[SOFT_CONTACT])
    });
    h.events();
    let reply = h.register_authorized(Register {
        expires: Some(0),
        ..Register::new(3, &["*"])
    });
    assert!(reply.starts_with("SIP/2.0 200 OK\r\n"));
    assert!(contacts(&reply).is_empty());
    assert_eq!(h.events(), vec![removed(DESK), removed(SOFT)]);
    assert_eq!(h.ep.all_bindings().count(), 0);
}

#[test]
fn binding_expires_through_handle_timeout_at_its_expiry() {
    let mut h = harness();
    h.register_authorized(Register::new(2, &[DESK_CONTACT]));
    h.events();
    h.advance(599_999);
    assert!(h.events().is_empty());
    assert_eq!(h.ep.bindings(LOGIN).len(), 1);
    h.advance(600_000);
    assert_eq!(h.events(), vec![expired(DESK)]);
    assert!(h.ep.bindings(LOGIN).is_empty());
}

#[test]
fn restored_bindings_are_listed_and_expire() {
    let mut h = harness();
    h.ep.restore_bindings(vec![Binding {
        login: LOGIN.into(),
        contact: DESK.into(),
        source: BindingSource {
            addr: phone(),
            transport: Transport::Udp,
        },
        call_id: "before-restart".into(),
        cseq: 7,
        expires_at: h.t0 + Duration::from_secs(30),
    }]);
    assert_eq!(h.ep.bindings(LOGIN)[0].contact, DESK);
    assert_eq!(h.ep.all_bindings().count(), 1);
    assert!(h.events().is_empty(), "the store already has them");
    assert_eq!(h.ep.poll_timeout(), Some(h.t0 + Duration::from_secs(30)));
    h.advance(30_000);
    assert_eq!(h.events(), vec![expired(DESK)]);
}

#[test]
fn too_brief_expiry_gets_423_with_min_expires() {
    let mut h = harness();
    let reply = h.register_authorized(Register {
        expires: Some(30),
        ..Register::new(2, &[DESK_CONTACT])
    });
    assert!(
        reply.starts_with("SIP/2.0 423 Interval Too Brief\r\n"),
        "{reply}"
    );
    assert_eq!(header(&reply, "Min-Expires"), Some("60"));
    assert!(h.ep.bindings(LOGIN).is_empty());
    assert!(h.events().is_empty());
}

#[test]
fn register_without_contact_is_a_query_listing_current_bindings() {
    let mut h = harness();
    h.register_authorized(Register::new(2, &[DESK_CONTACT]));
    h.events();
    h.advance(100_000);
    let reply = h.register_authorized(Register {
        expires: None,
        ..Register::new(3, &[])
    });
    assert!(reply.starts_with("SIP/2.0 200 OK\r\n"));
    assert_eq!(contacts(&reply), vec![format!("<{DESK}>;expires=500")]);
    assert!(h.events().is_empty(), "a query changes nothing");
}

#[test]
fn challenges_follow_the_configured_algorithm_order() {
    let mut h = harness();
    h.ep.set_digest_algorithms(&[DigestAlgorithm::Md5, DigestAlgorithm::Sha256]);
    let reply = h.register(&Register::new(1, &[DESK]));
    let offered = challenges(&reply);
    assert_eq!(offered.len(), 2);
    assert!(offered[0].contains("algorithm=MD5"), "{reply}");
    assert!(offered[1].contains("algorithm=SHA-256"), "{reply}");
}
