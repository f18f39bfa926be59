//! The command-line contract: holidays, dialplan check and simulate.

use std::process::Command;

fn madoguchi(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run madoguchi");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The Cabinet Office's lines for one year, as `YYYY-MM-DD<TAB>name`.
fn oracle(year: i32) -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/syukujitsu.csv");
    let text = std::fs::read_to_string(path).expect("the oracle is beside the clone");
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let (date, name) = line.split_once(',')?;
            let mut parts = date.split('/').map(|p| p.parse::<u32>().ok());
            let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
            (y as i32 == year).then(|| format!("{y:04}-{m:02}-{d:02}\t{}", name.trim()))
        })
        .collect()
}

#[test]
fn holidays_prints_the_cabinet_office_list_for_2026() {
    let (code, stdout, _) = madoguchi(&["holidays", "2026"]);
    assert_eq!(code, 0);
    let printed: Vec<String> = stdout.lines().map(str::to_owned).collect();
    assert_eq!(printed, oracle(2026));
}

#[test]
fn dialplan_check_accepts_the_reference_dialplan() {
    let (code, stdout, stderr) = madoguchi(&["dialplan", "check", "dialplans/zama.toml"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ok"));
}

#[test]
fn dialplan_check_names_file_line_and_key_and_exits_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string("dialplans/zama.toml")
        .expect("zama.toml")
        .replace(
            "sounds_dir = \"../sounds/ja\"",
            &format!(
                "sounds_dir = {:?}",
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sounds/ja")
            ),
        )
        .replacen(
            "ranges = [\"08:30-20:00\"]",
            "ranges = [\"08:30-25:00\"]",
            1,
        );
    let line = text
        .lines()
        .position(|l| l.contains("08:30-25:00"))
        .expect("edited")
        + 1;
    let file = dir.path().join("broken.toml");
    std::fs::write(&file, text).expect("write");
    let (code, _, stderr) = madoguchi(&["dialplan", "check", file.to_str().expect("utf-8 path")]);
    assert_eq!(code, 1);
    assert!(stderr.contains(&format!("broken.toml:{line}:")), "{stderr}");
    assert!(stderr.contains("calendars.hotline.hours"), "{stderr}");
}

#[test]
fn dialplan_simulate_on_december_30_gives_the_year_end_branch() {
    let (code, stdout, stderr) = madoguchi(&[
        "dialplan",
        "simulate",
        "dialplans/zama.toml",
        "--at",
        "2026-12-30T10:00:00+09:00",
        "--json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    assert_eq!(value["branch"], "closed_year_end", "{stdout}");
}

#[test]
fn dialplan_simulate_in_hours_lists_the_greeting_and_the_menu() {
    let (code, stdout, _) = madoguchi(&[
        "dialplan",
        "simulate",
        "dialplans/zama.toml",
        "--at",
        "2026-11-25T10:00:00+09:00",
        "--to",
        "0120000000",
    ]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("greeting") && stdout.contains("menu"),
        "{stdout}"
    );
}

#[test]
fn dialplan_simulate_rejects_an_instant_that_is_not_rfc3339() {
    let (code, _, stderr) = madoguchi(&[
        "dialplan",
        "simulate",
        "dialplans/zama.toml",
        "--at",
        "tomorrow",
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("RFC 3339"), "{stderr}");
}

#[test]
fn serve_refuses_to_start_with_an_undecodable_prompt_and_names_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dialplan = dir.path().join("line.toml");
    std::fs::write(
        &dialplan,
        r#"sounds_dir = "."
[prompts]
greeting = "greeting.wav"
[calendars.always]
hours = [{ days = "every day", ranges = ["00:00-24:00"] }]
holidays = "open"
[[entries]]
match = "*"
calendar = "always"
open = [{ play = "greeting" }]
"#,
    )
    .expect("write dialplan");
    std::fs::write(dir.path().join("greeting.wav"), b"this is not audio").expect("write junk");
    let database = format!("sqlite://{}", dir.path().join("x.db").display());
    let (code, _, stderr) = madoguchi(&[
        "serve",
        "--sip-listen",
        "127.0.0.1:0",
        "--http-listen",
        "127.0.0.1:0",
        "--database-url",
        &database,
        "--dialplan",
        dialplan.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("greeting.wav"), "{stderr}");
}

fn add_user(database: &str, login: &str, role: &str, password: &str, sip: bool) -> (i32, String) {
    use std::io::Write;
    let mut args = vec![
        "user",
        "add",
        "--login",
        login,
        "--role",
        role,
        "--password-stdin",
        "--database-url",
        database,
    ];
    if sip {
        args.push("--sip");
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_madoguchi"))
        .args(&args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run madoguchi");
    // A refused role ends the command before it reads the password: the pipe may be closed.
    let _ = child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes());
    let output = child.wait_with_output().expect("wait");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn user_add_stores_an_operator_whose_password_and_sip_digest_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("users.db").display());
    let (code, stderr) = add_user(&database, "suzuki", "agent", "s3cret pass", true);
    assert_eq!(code, 0, "{stderr}");

    let store = madoguchi_store::Store::connect(&database)
        .await
        .expect("store");
    let user = store
        .verify_password("suzuki", &madoguchi_store::Password::new("s3cret pass"))
        .await
        .expect("query");
    assert!(user.is_some(), "the password read from stdin verifies");
    let wrong = store
        .verify_password("suzuki", &madoguchi_store::Password::new("s3cret"))
        .await
        .expect("query");
    assert!(wrong.is_none());
    let ha1 = store
        .digest_ha1("suzuki", madoguchi_store::DigestAlgorithm::Md5)
        .await
        .expect("query");
    assert_eq!(
        ha1,
        Some(madoguchi_sip::digest::ha1(
            madoguchi_sip::digest::DigestAlgorithm::Md5,
            "suzuki",
            "madoguchi",
            "s3cret pass"
        ))
    );
}

#[test]
fn user_add_refuses_a_duplicate_login_and_an_unknown_role() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("users.db").display());
    assert_eq!(add_user(&database, "tanaka", "manager", "pw", false).0, 0);
    let (code, stderr) = add_user(&database, "tanaka", "agent", "other", false);
    assert_eq!(code, 1);
    assert!(stderr.contains("tanaka"), "{stderr}");
    let (code, stderr) = add_user(&database, "sato", "boss", "pw", false);
    assert_eq!(code, 1);
    assert!(stderr.contains("boss"), "{stderr}");
}

#[tokio::test]
async fn user_languages_sets_shows_audits_and_clears_an_operators_languages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("users.db").display());
    assert_eq!(add_user(&database, "yamada", "agent", "pw", true).0, 0);
    let languages = |list: &str| {
        madoguchi(&[
            "user",
            "languages",
            "yamada",
            list,
            "--database-url",
            &database,
        ])
    };

    let (code, stdout, stderr) = languages("en, zh");
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "yamada speaks en,zh\n");
    let (code, stdout, stderr) = madoguchi(&["user", "list", "--database-url", &database]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "yamada\tagent\tsip\tactive\ten,zh\n");

    let store = madoguchi_store::Store::connect(&database)
        .await
        .expect("store");
    let audit = store
        .audit_entries(&madoguchi_store::AuditQuery {
            action: Some("user.languages".into()),
            ..madoguchi_store::AuditQuery::default()
        })
        .await
        .expect("audit log");
    let entries: Vec<(Option<&str>, Option<&str>)> = audit
        .items
        .iter()
        .map(|r| (r.entry.subject.as_deref(), r.entry.detail.as_deref()))
        .collect();
    assert_eq!(
        entries,
        [(Some("yamada"), Some("languages=en,zh (command line)"))]
    );
    store.close().await;

    let (code, _, stderr) = languages("");
    assert_eq!(code, 0, "{stderr}");
    let (_, stdout, _) = madoguchi(&["user", "list", "--database-url", &database]);
    assert_eq!(stdout, "yamada\tagent\tsip\tactive\t-\n");
}

#[test]
fn user_languages_refuses_a_bad_code_and_an_unknown_login() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = format!("sqlite://{}", dir.path().join("users.db").display());
    assert_eq!(add_user(&database, "yamada", "agent", "pw", false).0, 0);
    let (code, _, stderr) = madoguchi(&[
        "user",
        "languages",
        "yamada",
        "en,EN_us",
        "--database-url",
        &database,
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("EN_us"), "{stderr}");
    let (code, _, stderr) = madoguchi(&[
        "user",
        "languages",
        "nobody",
        "en",
        "--database-url",
        &database,
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("nobody"), "{stderr}");
}
