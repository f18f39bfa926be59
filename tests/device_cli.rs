//! The command-line contract of `madoguchi device add|revoke|list` (design §3).

use std::process::Command;

use madoguchi_store::{Secret, Store};

fn madoguchi(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(args)
        .output()
        .expect("run madoguchi");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn add(database: &str, id: &str) -> (i32, String, String) {
    madoguchi(&[
        "device",
        "add",
        id,
        "--label",
        "窓口1タブレット",
        "--location",
        "本庁舎1階",
        "--silent-after",
        "90",
        "--database-url",
        database,
    ])
}

#[tokio::test]
async fn device_add_prints_only_the_token_which_finds_the_device() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("devices.db").display());
    let (code, stdout, stderr) = add(&database, "counter-1");
    assert_eq!(code, 0, "{stderr}");
    let token = stdout.trim_end();
    assert!(token.starts_with("mdg_dev_"), "{stdout:?}");
    assert_eq!(stdout.lines().count(), 1, "the token alone on stdout");
    assert!(stderr.contains("shown only now"), "{stderr}");
    let store = Store::connect(&database).await.expect("store");
    let device = store
        .device_by_token(&Secret::new(token))
        .await
        .expect("lookup")
        .expect("the printed token is the device's");
    assert_eq!(device.id, "counter-1");
    assert_eq!(device.silent_after_s, 90);
    assert_eq!(device.kind, "tablet");
}

#[tokio::test]
async fn device_revoke_stops_the_token_and_list_shows_it_revoked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("devices.db").display());
    let (_, stdout, _) = add(&database, "counter-1");
    assert_eq!(add(&database, "counter-2").0, 0);
    let (code, _, stderr) =
        madoguchi(&["device", "revoke", "counter-1", "--database-url", &database]);
    assert_eq!(code, 0, "{stderr}");
    let store = Store::connect(&database).await.expect("store");
    let found = store
        .device_by_token(&Secret::new(stdout.trim_end()))
        .await
        .expect("lookup");
    assert_eq!(found, None);
    let (code, list, stderr) = madoguchi(&["device", "list", "--database-url", &database]);
    assert_eq!(code, 0, "{stderr}");
    let states: Vec<(&str, &str)> = list
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[0], cols[2])
        })
        .collect();
    assert_eq!(
        states,
        [("counter-1", "revoked"), ("counter-2", "never-seen")]
    );
    assert!(!list.contains("mdg_dev_"), "the list shows no token");
}

#[test]
fn device_add_refuses_a_bad_id_or_a_taken_one_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("devices.db").display());
    let (code, stdout, stderr) = add(&database, "Counter 1");
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(stderr.contains("id must be"), "{stderr}");
    assert_eq!(add(&database, "counter-1").0, 0);
    let (code, stdout, stderr) = add(&database, "counter-1");
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "no second token");
    assert!(stderr.contains("counter-1"), "{stderr}");
}

#[test]
fn device_revoke_of_an_unknown_id_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("devices.db").display());
    let (code, _, stderr) =
        madoguchi(&["device", "revoke", "nowhere", "--database-url", &database]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no device"), "{stderr}");
}
