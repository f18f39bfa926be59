//! End to end: the dialplan reloads while calls go on. The engine starts from a copy of
//! tests/dialplans/waiting.toml in a temporary folder (greeting, then hold music in a queue);
//! the test rewrites that file so new calls hear the goodbye prompt and are hung up, and tells
//! the plans apart by the audio a caller hears. A broken file is refused, by the admin API
//! with its errors and lines and on SIGHUP in the log, and the last good plan stays.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use madoguchi_media::Codec;
use madoguchi_prompts::PromptCache;
use support::phone::Phone;
use support::{request, EngineProcess, Options};

const GREETING_THEN_QUEUE: &str =
    r#"open = [{ play = "greeting" }, { queue = "desk" }, { hangup = true }]"#;
const GOODBYE: &str = r#"open = [{ play = "goodbye" }, { hangup = true }]"#;
/// A step naming a prompt the file does not declare: the check refuses it.
const BROKEN: &str = r#"open = [{ play = "no_such_prompt" }, { hangup = true }]"#;

/// waiting.toml with its `open` steps replaced, the sounds folder made absolute.
fn plan(open: &str) -> String {
    let text = std::fs::read_to_string(support::repo_root().join("tests/dialplans/waiting.toml"))
        .expect("waiting.toml");
    let sounds = support::repo_root().join("sounds/ja");
    text.replace(GREETING_THEN_QUEUE, open).replace(
        r#"sounds_dir = "../../sounds/ja""#,
        &format!("sounds_dir = {:?}", sounds.display().to_string()),
    )
}

/// The 1-based line of `open = …` in the plan (where a broken step is reported).
fn open_line(text: &str) -> usize {
    text.lines()
        .position(|line| line.starts_with("open = "))
        .expect("an open line")
        + 1
}

struct Site {
    engine: EngineProcess,
    dialplan: PathBuf,
    _folder: tempfile::TempDir,
}

fn site() -> Site {
    let folder = tempfile::tempdir().expect("temp dir");
    let dialplan = folder.path().join("hotline.toml");
    std::fs::write(&dialplan, plan(GREETING_THEN_QUEUE)).expect("write the dialplan");
    let engine = EngineProcess::start(Options {
        dialplan: Some(dialplan.clone()),
        ..Options::default()
    });
    Site {
        engine,
        dialplan,
        _folder: folder,
    }
}

fn sighup(engine: &EngineProcess) {
    let status = Command::new("kill")
        .args(["-HUP", &engine.pid().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits until the engine's log holds `text` `times` times.
fn wait_for_log(engine: &EngineProcess, text: &str, times: usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while engine.log().matches(text).count() < times {
        assert!(
            Instant::now() < deadline,
            "no {text:?} (x{times}) in the log:\n{}",
            engine.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn prompt_frames(file: &str) -> Vec<Vec<u8>> {
    let path = support::repo_root().join("sounds/ja").join(file);
    let cache = PromptCache::load([("p", Path::new(&path))]).expect("prompt loads");
    let prompt = cache.get(cache.id("p").expect("id"));
    (0..prompt.frames())
        .map(|i| prompt.frame(Codec::Pcmu, i).expect("frame").to_vec())
        .collect()
}

/// A new call: answered, and the first 25 frames it hears (half a second).
async fn call(engine: &EngineProcess) -> (Phone, Vec<Vec<u8>>) {
    let mut phone = Phone::new(engine.sip).await;
    let answer = phone.call("0120000000").await;
    assert_eq!(answer.status(), Some(200), "{}", engine.log());
    phone.listen(25, Duration::from_secs(5)).await;
    let heard = phone
        .heard
        .iter()
        .take(25)
        .map(|p| p.payload.clone())
        .collect();
    (phone, heard)
}

fn starts_with(heard: &[Vec<u8>], prompt: &[Vec<u8>]) -> bool {
    heard.len() == 25 && heard.iter().zip(prompt).all(|(a, b)| a == b)
}

fn reload_api(engine: &EngineProcess) -> (u16, serde_json::Value) {
    let authorization = format!("Bearer {}", engine.token);
    let response = request(
        engine.http,
        "POST",
        "/api/v1/admin/reload",
        &[("Authorization", authorization.as_str())],
        None,
    );
    (response.status, response.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_sighup_new_calls_follow_the_new_dialplan_and_the_call_in_progress_goes_on() {
    let site = site();
    let engine = &site.engine;
    let (greeting, goodbye) = (prompt_frames("greeting.wav"), prompt_frames("goodbye.wav"));
    let (mut first, heard) = call(engine).await;
    assert!(starts_with(&heard, &greeting), "the old plan greets");

    std::fs::write(&site.dialplan, plan(GOODBYE)).expect("rewrite the dialplan");
    sighup(engine);
    wait_for_log(engine, "dialplan reloaded", 1);

    let (mut second, heard) = call(engine).await;
    assert!(starts_with(&heard, &goodbye), "the new plan says goodbye");
    assert_eq!(
        second.until_bye(Duration::from_secs(10)).await.method(),
        Some("BYE")
    );

    first.forget_heard().await;
    first.listen(usize::MAX, Duration::from_secs(1)).await;
    assert!(
        first.heard.len() >= 40,
        "the first call still hears its audio"
    );
    assert_eq!(
        first.hangup().await.status(),
        Some(200),
        "and was never dropped"
    );
    let calls = engine.wait_for_calls(2);
    let first_record = calls["calls"]
        .as_array()
        .and_then(|calls| {
            calls
                .iter()
                .find(|c| c["sip_call_id"] == first.call_id.as_str())
        })
        .cloned()
        .expect("the first call's record");
    assert_ne!(first_record["disposition"], "interrupted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_dialplan_is_refused_with_its_lines_and_the_last_good_one_stays() {
    let site = site();
    let engine = &site.engine;
    let goodbye = prompt_frames("goodbye.wav");
    std::fs::write(&site.dialplan, plan(GOODBYE)).expect("rewrite the dialplan");
    let (status, loaded) = reload_api(engine);
    assert_eq!(status, 200, "{loaded}");
    assert_eq!(loaded["queues"], serde_json::json!(["desk"]));
    // The three of the file and the numbers of the position announcements.
    assert!(loaded["prompts"].as_u64() > Some(3), "{loaded}");

    let broken = plan(BROKEN);
    std::fs::write(&site.dialplan, &broken).expect("break the dialplan");
    let (status, refused) = reload_api(engine);
    assert_eq!(status, 422, "{refused}");
    let errors = refused["errors"].as_array().cloned().unwrap_or_default();
    assert!(!errors.is_empty(), "{refused}");
    assert!(
        errors.iter().all(|e| e["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("hotline.toml"))),
        "{refused}"
    );
    assert_eq!(errors[0]["line"], open_line(&broken), "{refused}");
    sighup(engine);
    wait_for_log(engine, "dialplan reload refused", 2);

    let (mut caller, heard) = call(engine).await;
    assert!(starts_with(&heard, &goodbye), "the last good plan answers");
    caller.until_bye(Duration::from_secs(10)).await;
    let (_, audit) = support::http_get(engine.http, "/api/v1/audit?action=dialplan.reload");
    assert!(
        audit.matches("dialplan.reload").count() >= 2,
        "both API reloads are audited: {audit}"
    );
}
