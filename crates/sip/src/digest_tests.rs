use super::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

// RFC 7616 §3.9.1.
const RFC_REALM: &str = "http-auth@example.org";
const RFC_NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
const RFC_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

const NOW: u64 = 1_800_000_000;
const REALM: &str = "madoguchi.example.jp";

fn rfc_response(alg: DigestAlgorithm) -> String {
    let ha1 = ha1(alg, "Mufasa", RFC_REALM, "Circle of Life");
    response(
        alg,
        &ha1,
        RFC_NONCE,
        Some(("auth", "00000001", RFC_CNONCE)),
        "GET",
        "/dir/index.html",
    )
}

#[test]
fn md5_response_matches_rfc7616_example() {
    assert_eq!(
        rfc_response(DigestAlgorithm::Md5),
        "8ca523f5e9506fed4657c9700eebdbec"
    );
}

#[test]
fn sha256_response_matches_rfc7616_example() {
    assert_eq!(
        rfc_response(DigestAlgorithm::Sha256),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
}

#[test]
fn parses_rfc7616_sha256_authorization() {
    let value = format!(
        "Digest username=\"Mufasa\",\r\n realm=\"{RFC_REALM}\", uri=\"/dir/index.html\", \
         algorithm=SHA-256, nonce=\"{RFC_NONCE}\", nc=00000001, cnonce=\"{RFC_CNONCE}\", \
         qop=auth, response=\"753927FA0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", \
         opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""
    );
    let c = parse_authorization(&value).unwrap();
    assert_eq!(c.username, "Mufasa");
    assert_eq!(c.realm, RFC_REALM);
    assert_eq!(c.algorithm, DigestAlgorithm::Sha256);
    assert_eq!(
        c.qop,
        Some(QopAuth {
            nc: "00000001".into(),
            cnonce: RFC_CNONCE.into()
        })
    );
    assert_eq!(c.response, rfc_response(DigestAlgorithm::Sha256));
    assert_eq!(
        c.opaque.as_deref(),
        Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    );
}

#[test]
fn parameter_names_and_scheme_are_case_insensitive_and_algorithm_defaults_to_md5() {
    let c = parse_authorization(
        "digest USERNAME=\"a\", Realm=\"r\", NONCE=\"n\", Uri=\"sip:r\", RESPONSE=\"ab\"",
    )
    .unwrap();
    assert_eq!(c.username, "a");
    assert_eq!(c.algorithm, DigestAlgorithm::Md5);
    assert_eq!(c.qop, None);
}

#[test]
fn quoted_strings_unescape_backslashes() {
    let c = parse_authorization(
        r#"Digest username="say \"hi\" \\o/", realm="r", nonce="n", uri="sip:r", response="ab""#,
    )
    .unwrap();
    assert_eq!(c.username, r#"say "hi" \o/"#);
}

#[test]
fn duplicate_parameter_is_refused() {
    let err = parse_authorization(
        "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", Nonce=\"m\"",
    )
    .unwrap_err();
    assert_eq!(
        err,
        DigestError::DuplicateParameter {
            name: "nonce".into()
        }
    );
}

#[test]
fn missing_response_is_refused() {
    let err = parse_authorization("Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\"")
        .unwrap_err();
    assert_eq!(err, DigestError::MissingParameter { name: "response" });
}

#[test]
fn qop_auth_without_cnonce_is_refused() {
    let err = parse_authorization(
        "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", qop=auth, nc=00000001",
    )
    .unwrap_err();
    assert_eq!(err, DigestError::MissingParameter { name: "cnonce" });
}

#[test]
fn unsupported_algorithm_and_qop_and_scheme_are_refused() {
    let base = "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"";
    assert!(matches!(
        parse_authorization(&format!("{base}, algorithm=MD5-sess")),
        Err(DigestError::UnsupportedAlgorithm { .. })
    ));
    assert!(matches!(
        parse_authorization(&format!("{base}, qop=auth-int, nc=00000001, cnonce=\"c\"")),
        Err(DigestError::UnsupportedQop { .. })
    ));
    assert_eq!(
        parse_authorization(&format!("{base}, qop=auth, nc=1, cnonce=\"c\"")),
        Err(DigestError::BadNonceCount)
    );
    assert_eq!(
        parse_authorization("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        Err(DigestError::NotDigest)
    );
}

#[test]
fn unterminated_quote_is_malformed() {
    assert!(matches!(
        parse_authorization("Digest username=\"a"),
        Err(DigestError::Malformed { .. })
    ));
}

fn challenger() -> Challenger {
    Challenger::new(REALM, [42; 32], 60)
}

/// What a phone sends after a challenge at `issued`, as baresip/Linphone format it.
fn register_authorization(alg: DigestAlgorithm, password: &str, nonce: &str) -> String {
    let uri = "sip:madoguchi.example.jp";
    let ha1 = ha1(alg, "1001", REALM, password);
    let resp = response(
        alg,
        &ha1,
        nonce,
        Some(("auth", "00000001", "0a4f113b")),
        "REGISTER",
        uri,
    );
    format!(
        "Digest username=\"1001\",realm=\"{REALM}\",nonce=\"{nonce}\",uri=\"{uri}\",\
         response=\"{resp}\",algorithm={},cnonce=\"0a4f113b\",qop=auth,nc=00000001",
        alg.token()
    )
}

fn stored_ha1(user: &str, alg: DigestAlgorithm) -> Option<String> {
    (user == "1001").then(|| ha1(alg, "1001", REALM, "s3cret"))
}

fn verify(ch: &Challenger, header: &str, now: u64) -> Verdict {
    let creds = parse_authorization(header).unwrap();
    ch.verify(&creds, "REGISTER", stored_ha1, now)
}

#[test]
fn sip_register_with_right_password_is_ok_for_both_algorithms() {
    let ch = challenger();
    for alg in [DigestAlgorithm::Md5, DigestAlgorithm::Sha256] {
        let header = register_authorization(alg, "s3cret", &ch.nonce(NOW));
        assert_eq!(
            verify(&ch, &header, NOW + 1),
            Verdict::Ok {
                user: "1001".into()
            }
        );
    }
}

#[test]
fn wrong_password_is_wrong() {
    let ch = challenger();
    let header = register_authorization(DigestAlgorithm::Md5, "guess", &ch.nonce(NOW));
    assert_eq!(verify(&ch, &header, NOW), Verdict::Wrong);
}

#[test]
fn expired_nonce_with_right_password_is_stale() {
    let ch = challenger();
    let header = register_authorization(DigestAlgorithm::Sha256, "s3cret", &ch.nonce(NOW));
    assert_eq!(
        verify(&ch, &header, NOW + 60),
        Verdict::Ok {
            user: "1001".into()
        }
    );
    assert_eq!(verify(&ch, &header, NOW + 61), Verdict::Stale);
}

#[test]
fn expired_nonce_with_wrong_password_is_wrong_not_stale() {
    let ch = challenger();
    let header = register_authorization(DigestAlgorithm::Md5, "guess", &ch.nonce(NOW));
    assert_eq!(verify(&ch, &header, NOW + 3600), Verdict::Wrong);
}

#[test]
fn tampered_nonce_timestamp_is_wrong() {
    let ch = challenger();
    let mut nonce = ch.nonce(NOW);
    // Claim a fresher issue time while keeping the old MAC.
    nonce.replace_range(..16, &format!("{:016x}", NOW + 3600));
    let header = register_authorization(DigestAlgorithm::Md5, "s3cret", &nonce);
    assert_eq!(verify(&ch, &header, NOW + 3600), Verdict::Wrong);
}

#[test]
fn nonce_from_another_secret_is_wrong_and_same_secret_survives_restart() {
    let header = register_authorization(DigestAlgorithm::Md5, "s3cret", &challenger().nonce(NOW));
    let other = Challenger::new(REALM, [43; 32], 60);
    assert_eq!(verify(&other, &header, NOW), Verdict::Wrong);
    let restarted = challenger();
    assert_eq!(
        verify(&restarted, &header, NOW),
        Verdict::Ok {
            user: "1001".into()
        }
    );
}

#[test]
fn unknown_user_is_reported() {
    let ch = challenger();
    let header = register_authorization(DigestAlgorithm::Md5, "s3cret", &ch.nonce(NOW))
        .replace("username=\"1001\"", "username=\"1002\"");
    assert_eq!(verify(&ch, &header, NOW), Verdict::UnknownUser);
}

#[test]
fn foreign_realm_is_wrong() {
    let ch = challenger();
    let header = register_authorization(DigestAlgorithm::Md5, "s3cret", &ch.nonce(NOW))
        .replace(REALM, "evil.example");
    assert_eq!(verify(&ch, &header, NOW), Verdict::Wrong);
}

#[test]
fn opaque_must_be_echoed_when_configured() {
    let ch = challenger().with_opaque("op1");
    let header = register_authorization(DigestAlgorithm::Md5, "s3cret", &ch.nonce(NOW));
    assert_eq!(verify(&ch, &header, NOW), Verdict::Wrong);
    let echoed = format!("{header}, opaque=\"op1\"");
    assert_eq!(
        verify(&ch, &echoed, NOW),
        Verdict::Ok {
            user: "1001".into()
        }
    );
}

#[test]
fn rfc2069_response_without_qop_is_accepted() {
    let ch = challenger();
    let nonce = ch.nonce(NOW);
    let ha1 = ha1(DigestAlgorithm::Md5, "1001", REALM, "s3cret");
    let resp = response(
        DigestAlgorithm::Md5,
        &ha1,
        &nonce,
        None,
        "REGISTER",
        "sip:x",
    );
    let header = format!(
        "Digest username=\"1001\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"sip:x\", response=\"{resp}\""
    );
    assert_eq!(
        verify(&ch, &header, NOW),
        Verdict::Ok {
            user: "1001".into()
        }
    );
}

#[test]
fn challenge_lists_algorithms_in_order_with_qop_auth() {
    let ch = challenger().with_opaque("o\"q");
    let values = ch.challenge(NOW, &[DigestAlgorithm::Sha256, DigestAlgorithm::Md5]);
    let nonce = ch.nonce(NOW);
    assert_eq!(
        values,
        vec![
            format!("Digest realm=\"{REALM}\", nonce=\"{nonce}\", algorithm=SHA-256, qop=\"auth\", opaque=\"o\\\"q\""),
            format!("Digest realm=\"{REALM}\", nonce=\"{nonce}\", algorithm=MD5, qop=\"auth\", opaque=\"o\\\"q\""),
        ]
    );
}

#[test]
fn stale_challenge_says_stale_true_with_a_fresh_nonce() {
    let ch = challenger();
    let values = ch.stale_challenge(NOW + 100, &[DigestAlgorithm::Md5]);
    assert!(values[0].ends_with(", stale=true"));
    assert!(values[0].contains(&ch.nonce(NOW + 100)));
}

#[test]
fn garbage_headers_never_panic() {
    let mut rng = StdRng::seed_from_u64(3);
    let alphabet: Vec<char> = "Digest =,\"\\ \tabcnoq-_/:1é日\r\n".chars().collect();
    let ch = challenger();
    let valid = register_authorization(DigestAlgorithm::Md5, "s3cret", &ch.nonce(NOW));
    for _ in 0..20_000 {
        let len = rng.gen_range(0..80);
        let mut s: String = (0..len)
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
            .collect();
        if rng.gen_bool(0.5) {
            // Mutate a valid header instead, to get past the scheme more often.
            let cut = rng.gen_range(0..valid.len());
            s = format!("{}{}", &valid[..cut], s);
        }
        if let Ok(creds) = parse_authorization(&s) {
            let _ = ch.verify(&creds, "REGISTER", stored_ha1, NOW);
        }
    }
}

#[test]
fn digest_scheme_without_parameters_is_malformed() {
    assert!(matches!(
        parse_authorization("Digest"),
        Err(DigestError::Malformed { .. })
    ));
}

#[test]
fn client_authorization_is_accepted_by_the_server_side_for_both_algorithms() {
    let ch = Challenger::new(REALM, [3; 32], 300);
    for alg in [DigestAlgorithm::Sha256, DigestAlgorithm::Md5] {
        let value = &ch.challenge(NOW, &[alg])[0];
        let challenge = parse_challenge(value).unwrap();
        assert_eq!(challenge.algorithm, alg);
        assert!(challenge.qop_auth);
        let auth = authorization(&challenge, "op1", "pw", "INVITE", "sip:op1@h", "cn1");
        let creds = parse_authorization(&auth).unwrap();
        let ha1 = ha1(alg, "op1", REALM, "pw");
        assert_eq!(
            ch.verify(&creds, "INVITE", |_, _| Some(ha1.clone()), NOW + 1),
            Verdict::Ok { user: "op1".into() },
            "{alg:?}"
        );
    }
}

#[test]
fn client_answers_a_challenge_without_qop_in_the_rfc2069_form() {
    let challenge =
        parse_challenge("Digest realm=\"trunk\", nonce=\"abc\", opaque=\"o1\"").unwrap();
    assert!(!challenge.qop_auth);
    let auth = authorization(&challenge, "u", "p", "INVITE", "sip:city@h", "unused");
    let creds = parse_authorization(&auth).unwrap();
    assert_eq!(creds.qop, None);
    assert_eq!(creds.opaque.as_deref(), Some("o1"));
    let ha1 = ha1(DigestAlgorithm::Md5, "u", "trunk", "p");
    assert_eq!(
        creds.response,
        response(
            DigestAlgorithm::Md5,
            &ha1,
            "abc",
            None,
            "INVITE",
            "sip:city@h"
        )
    );
}

#[test]
fn client_refuses_challenges_it_cannot_answer() {
    assert!(matches!(
        parse_challenge("Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess"),
        Err(DigestError::UnsupportedAlgorithm { .. })
    ));
    assert!(matches!(
        parse_challenge("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\""),
        Err(DigestError::UnsupportedQop { .. })
    ));
    assert_eq!(
        parse_challenge("Basic realm=\"r\""),
        Err(DigestError::NotDigest)
    );
    assert!(
        parse_challenge("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int,auth\"")
            .unwrap()
            .qop_auth
    );
}
