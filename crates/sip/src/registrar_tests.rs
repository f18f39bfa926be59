use super::*;

const PHONE: &str = "sip:1001@192.168.1.20:5060";
const SOFTPHONE: &str = "sip:1001@10.0.0.7:5062;transport=tcp";

fn registrar() -> Registrar {
    Registrar::new(RegistrarConfig {
        min_expires: 60,
        max_expires: 3600,
        default_expires: 1800,
        max_bindings_per_login: 2,
    })
}

fn source(port: u16) -> BindingSource {
    BindingSource {
        addr: SocketAddr::from(([203, 0, 113, 5], port)),
        transport: Transport::Udp,
    }
}

fn contact(uri: &str, expires: Option<u32>) -> ContactRequest {
    ContactRequest {
        uri: uri.into(),
        expires,
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn events(reg: &mut Registrar) -> Vec<RegistrarEvent> {
    std::iter::from_fn(|| reg.poll_event()).collect()
}

fn added(contact: &str) -> RegistrarEvent {
    RegistrarEvent::BindingAdded {
        login: "1001".into(),
        contact: contact.into(),
    }
}

#[test]
fn header_expires_applies_and_source_is_remembered() {
    let mut reg = registrar();
    let t0 = Instant::now();
    let b = reg
        .apply(
            t0,
            "1001",
            &[contact(PHONE, None)],
            Some(600),
            "c1",
            1,
            source(40312),
        )
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].expires_at, t0 + secs(600));
    assert_eq!(b[0].source, source(40312));
    assert_eq!(events(&mut reg), vec![added(PHONE)]);
}

#[test]
fn contact_expires_param_wins_over_header() {
    let mut reg = registrar();
    let t0 = Instant::now();
    let b = reg
        .apply(
            t0,
            "1001",
            &[contact(PHONE, Some(120))],
            Some(600),
            "c1",
            1,
            source(1),
        )
        .unwrap();
    assert_eq!(b[0].expires_in(t0), 120);
}

#[test]
fn default_expires_when_none_given() {
    let mut reg = registrar();
    let t0 = Instant::now();
    let b = reg
        .apply(
            t0,
            "1001",
            &[contact(PHONE, None)],
            None,
            "c1",
            1,
            source(1),
        )
        .unwrap();
    assert_eq!(b[0].expires_in(t0), 1800);
}

#[test]
fn too_long_expiry_is_clamped_to_max() {
    let mut reg = registrar();
    let t0 = Instant::now();
    let b = reg
        .apply(
            t0,
            "1001",
            &[contact(PHONE, Some(86_400))],
            None,
            "c1",
            1,
            source(1),
        )
        .unwrap();
    assert_eq!(b[0].expires_in(t0), 3600);
}

#[test]
fn too_brief_expiry_is_423_and_changes_nothing() {
    let mut reg = registrar();
    let err = reg
        .apply(
            Instant::now(),
            "1001",
            &[contact(PHONE, Some(30))],
            None,
            "c1",
            1,
            source(1),
        )
        .unwrap_err();
    assert_eq!(err, RegistrarError::IntervalTooBrief { min_expires: 60 });
    assert_eq!(err.status_code(), 423);
    assert!(reg.bindings("1001").is_empty());
    assert!(reg.poll_event().is_none());
}

#[test]
fn several_contacts_per_login_coexist() {
    let mut reg = registrar();
    let t0 = Instant::now();
    reg.apply(
        t0,
        "1001",
        &[contact(PHONE, None)],
        Some(600),
        "c1",
        1,
        source(1),
    )
    .unwrap();
    let b = reg
        .apply(
            t0,
            "1001",
            &[contact(SOFTPHONE, None)],
            Some(300),
            "c2",
            1,
            source(2),
        )
        .unwrap();
    let uris: Vec<_> = b.iter().map(|b| b.contact.as_str()).collect();
    assert_eq!(uris, vec![PHONE, SOFTPHONE]);
    assert_eq!(b[1].source, source(2));
}

#[test]
fn more_contacts_than_allowed_is_refused() {
    let mut reg = registrar();
    let three = [
        contact(PHONE, None),
        contact(SOFTPHONE, None),
        contact("sip:1001@10.0.0.8", None),
    ];
    let err = reg
        .apply(
            Instant::now(),
            "1001",
            &three,
            Some(600),
            "c1",
            1,
            source(1),
        )
        .unwrap_err();
    assert_eq!(err, RegistrarError::TooManyBindings { max: 2 });
}

#[test]
fn reregistration_refreshes_expiry_and_source() {
    let mut reg = registrar();
    let t0 = Instant::now();
    reg.apply(
        t0,
        "1001",
        &[contact(PHONE, None)],
        Some(600),
        "c1",
        1,
        source(1),
    )
    .unwrap();
    events(&mut reg);
    let b = reg
        .apply(
            t0 + secs(500),
            "1001",
            &[contact(PHONE, None)],
            Some(600),
            "c1",
            2,
            source(9),
        )
        .unwrap();
    assert_eq!(b[0].expires_at, t0 + secs(1100));
    assert_eq!(b[0].source, source(9));
    assert_eq!(
        events(&mut reg),
        vec![RegistrarEvent::BindingRefreshed {
            login: "1001".into(),
            contact: PHONE.into()
        }]
    );
}

#[test]
fn same_call_id_with_old_cseq_is_out_of_order() {
    let mut reg = registrar();
    let t0 = Instant::now();
    reg.apply(
        t0,
        "1001",
        &[contact(PHONE, None)],
        Some(600),
        "c1",
        5,
        source(1),
    )
    .unwrap();
    let err = reg
        .apply(
            t0,
            "1001",
            &[contact(PHONE, Some(0))],
            None,
            "c1",
            5,
            source(1),
        )
        .unwrap_err();
    assert_eq!(
        err,
        RegistrarError::OutOfOrder {
            contact: PHONE.into()
        }
    );
    assert_eq!(reg.bindings("1001").len(), 1);
}

#[test]
fn new_call_id_may_use_any_cseq() {
    let mut reg = registrar();
    let t0 = Instant::now();
    reg.apply(
        t0,
        "1001",
        &[contact(PHONE, None)],
        Some(600),
        "c1",
        5,
        source(1),
    )
    .unwrap();
    // The phone rebooted and starts over with a fresh Call-ID.
    let b = reg
        .apply(
            t0,
            "1001",
            &[contact(PHONE, None)],
            Some(600),
            "c2",
            1,
            source(1),
        )
        .unwrap();
    assert_eq!(b[0].call_id, "c2");
}

#[test]
fn expires_zero_removes_only_that_contact() {
    let mut reg = registrar();
    let t0 = Instant::now();
    let both = [contact(PHONE, None), contact(SOFTPHONE, None)];
    reg.apply(t0, "1001", &both, Some(600), "c1", 1, source(1))
        .unwrap();
    events(&mut reg);
    let b = reg
        .apply(
            t0,
            "1001",
            &[contact(PHONE, Some(0))],
            Some(600),
            "c1",
            2,
            source(1),
        )
        .unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].contact, SOFTPHONE);
    assert_eq!(
        events(&mut reg),
        vec![RegistrarEvent::BindingRemoved {
            login: "1001".into(),
            contact: PHONE.into()
        }]
    );
}

#[test]
fn wildcard_with_expires_zero_removes_all() {
    let mut reg = registrar();
    let t0 = Instant::now();
    let both = [contact(PHONE, None), contact(SOFTPHONE, None)];
    reg.apply(t0, "1001", &both, Some(600), "c1", 1, source(1))
        .unwrap();
    events(&mut reg);
    let b = reg
        .apply(
            t0,
            "1001",
            &[contact("*", None)],
            Some(0),
            "c1",
            2,
            source(1),
        )
        .unwrap();
    assert!(b.is_empty());
    assert_eq!(events(&mut reg).len(), 2);
    assert_eq!(reg.poll_timeout(), None);
}

#[test]
fn wildcard_without_expires_zero_or_not_alone_is_400() {
    let mut reg = registrar();
    let now = Instant::now();
    let alone = [contact("*", None)];
    let with_other = [contact("*", None), contact(PHONE, None)];
    for (contacts, expires) in [
        (&alone[..], Some(60)),
        (&alone[..], None),
        (&with_other[..], Some(0)),
    ] {
        let err = reg
            .apply(now, "1001", contacts, expires, "c1", 1, source(1))
            .unwrap_err();
        assert_eq!(err, RegistrarError::InvalidWildcard);
        assert_eq!(err.status_code(), 400);
    }
}

#[test]
fn no_contact_is_a_query_that_changes_nothing() {
    let mut reg = registrar();
    let t0 = Instant::now();
    reg.apply(
        t0,
        "1001",
        &[contact(PHONE, None)],
        Some(600),
        "c1",
        1,
        source(1),
    )
    .unwrap();
    events(&mut reg);
    let b = reg
        .apply(t0, "1001", &[], None, "c9", 1, source(1))
        .unwrap();
    assert_eq!(b.len(), 1);
    assert!(reg.poll_event().is_none());
}

#[test]
fn bindings_expire_on_time_in_virtual_time() {
    let mut reg = registrar();
    let t0 = Instant::now();
    reg.apply(
        t0,
        "1001",
        &[contact(PHONE, None)],
        Some(120),
        "c1",
        1,
        source(1),
    )
    .unwrap();
    reg.apply(
        t0,
        "1001",
        &[contact(SOFTPHONE, None)],
        Some(600),
        "c2",
        1,
        source(2),
    )
    .unwrap();
    events(&mut reg);
    assert_eq!(reg.poll_timeout(), Some(t0 + secs(120)));

    reg.handle_timeout(t0 + secs(119));
    assert_eq!(reg.bindings("1001").len(), 2);
    assert!(reg.poll_event().is_none());

    reg.handle_timeout(t0 + secs(120));
    assert_eq!(
        events(&mut reg),
        vec![RegistrarEvent::BindingExpired {
            login: "1001".into(),
            contact: PHONE.into()
        }]
    );
    assert_eq!(reg.poll_timeout(), Some(t0 + secs(600)));

    reg.handle_timeout(t0 + secs(600));
    assert!(reg.bindings("1001").is_empty());
    assert_eq!(reg.poll_timeout(), None);
}

#[test]
fn logins_are_independent() {
    let mut reg = registrar();
    let t0 = Instant::now();
    reg.apply(
        t0,
        "1001",
        &[contact(PHONE, None)],
        Some(600),
        "c1",
        1,
        source(1),
    )
    .unwrap();
    reg.apply(
        t0,
        "1002",
        &[contact("*", None)],
        Some(0),
        "c1",
        9,
        source(1),
    )
    .unwrap();
    assert_eq!(reg.bindings("1001").len(), 1);
}

#[test]
fn restored_bindings_are_served_and_expire_without_duplicate_added_events() {
    let mut reg = registrar();
    let t0 = Instant::now();
    let stored = Binding {
        login: "1001".into(),
        contact: PHONE.into(),
        source: source(1),
        call_id: "c1".into(),
        cseq: 7,
        expires_at: t0 + secs(30),
    };
    reg.restore([stored.clone()]);
    assert!(reg.poll_event().is_none());
    assert_eq!(reg.bindings("1001"), &[stored]);
    // The ordering rule still holds across the restart.
    let err = reg
        .apply(
            t0,
            "1001",
            &[contact(PHONE, None)],
            Some(600),
            "c1",
            7,
            source(1),
        )
        .unwrap_err();
    assert!(matches!(err, RegistrarError::OutOfOrder { .. }));
    reg.handle_timeout(t0 + secs(30));
    assert!(matches!(
        reg.poll_event(),
        Some(RegistrarEvent::BindingExpired { .. })
    ));
}

#[test]
fn expires_in_rounds_up_partial_seconds() {
    let t0 = Instant::now();
    let b = Binding {
        login: "1001".into(),
        contact: PHONE.into(),
        source: source(1),
        call_id: "c1".into(),
        cseq: 1,
        expires_at: t0 + Duration::from_millis(1500),
    };
    assert_eq!(b.expires_in(t0), 2);
    assert_eq!(b.expires_in(t0 + secs(5)), 0);
}
