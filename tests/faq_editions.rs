//! End to end: FAQ editions against the real binary — a manager publishes (an agent may
//! not), operators' search shows the published text rather than a later draft edit, the
//! Markdown export lists the changes since the previous edition, and the XLSX export (from
//! the CLI) is a workbook whose shared strings hold the Japanese headings.

mod support;

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};
use support::{create_token, ensure_user, madoguchi_cli, request, EngineProcess};
use support::{HttpResponse, Options};

/// An engine with an agent (op1) and a manager (mgr) and the FAQ of dialplans/faq.csv.
struct Editions {
    engine: EngineProcess,
    database_url: String,
    agent: String,
    manager: String,
    dir: tempfile::TempDir,
}

fn editions() -> Editions {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("faq.db").display());
    ensure_user(&database_url, "op1", "agent", "agent-password-1");
    ensure_user(&database_url, "mgr", "manager", "manager-password-1");
    let faq = support::repo_root().join("dialplans/faq.csv");
    let path = faq.to_str().expect("utf-8 path");
    let (code, _, stderr) = cli(&["faq", "import", path, "--database-url", &database_url]);
    assert_eq!(code, 0, "faq import: {stderr}");
    let agent = create_token(&database_url, "op1");
    let manager = create_token(&database_url, "mgr");
    let engine = EngineProcess::start(Options {
        database_url: Some(database_url.clone()),
        ..Options::default()
    });
    Editions {
        engine,
        database_url,
        agent,
        manager,
        dir,
    }
}

fn cli(args: &[&str]) -> (i32, String, String) {
    madoguchi_cli(args, "")
}

impl Editions {
    fn call(&self, token: &str, method: &str, path: &str, body: Option<&Value>) -> HttpResponse {
        let bearer = format!("Bearer {token}");
        let body = body.map(Value::to_string);
        request(
            self.engine.http,
            method,
            path,
            &[("Authorization", &bearer)],
            body.as_deref(),
        )
    }

    fn publish(&self, note: &str) -> Value {
        let body = json!({ "note": note });
        let response = self.call(&self.manager, "POST", "/api/v1/faq/editions", Some(&body));
        assert_eq!(response.status, 201, "{}", response.body);
        response.json()
    }

    /// The answers an agent finds for `query`.
    fn agent_search(&self, query: &str) -> Vec<String> {
        let path = format!("/api/v1/faq?q={}", encode(query));
        let response = self.call(&self.agent, "GET", &path, None);
        assert_eq!(response.status, 200, "{}", response.body);
        answers(&response.json())
    }

    /// Edits the entry found by `query` (as a manager) to have `answer`; returns its id.
    fn edit_answer(&self, query: &str, answer: &str) -> i64 {
        let path = format!("/api/v1/faq?q={}&draft=true", encode(query));
        let found = self.call(&self.manager, "GET", &path, None).json();
        let entry = &found["entries"][0];
        let id = entry["id"].as_i64().expect("an entry matches");
        let body = json!({
            "question": entry["question"], "answer": answer, "category": entry["category"],
        });
        let put = self.call(
            &self.manager,
            "PUT",
            &format!("/api/v1/faq/{id}"),
            Some(&body),
        );
        assert_eq!(put.status, 200, "{}", put.body);
        id
    }
}

fn answers(results: &Value) -> Vec<String> {
    results["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["answer"].as_str().map(str::to_owned))
        .collect()
}

/// Percent-encodes every byte outside the unreserved set.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn a_manager_publishes_numbered_editions_and_an_agent_may_not() {
    let editions = editions();
    let refused = editions.call(&editions.agent, "POST", "/api/v1/faq/editions", None);
    assert_eq!(refused.status, 403, "{}", refused.body);
    let first = editions.publish("契約開始時の初版");
    assert_eq!(
        (first["number"].as_i64(), first["label"].as_str()),
        (Some(1), Some("初版"))
    );
    assert_eq!(first["entries"], 11);
    assert_eq!(first["published_by"], "mgr");
    let second = editions.publish("改訂");
    assert_eq!(second["label"], "第2版");
    let list = editions.call(&editions.agent, "GET", "/api/v1/faq/editions", None);
    assert_eq!(list.status, 200, "{}", list.body);
    let listed = list.json();
    let labels: Vec<&str> = listed["editions"]
        .as_array()
        .expect("editions")
        .iter()
        .filter_map(|e| e["label"].as_str())
        .collect();
    assert_eq!(labels, ["初版", "第2版"]);
}

#[test]
fn operators_search_the_published_text_not_a_later_draft_edit() {
    let editions = editions();
    editions.publish("初版");
    let published = editions.agent_search("暗証番号を忘れ");
    assert_eq!(published.len(), 1, "{published:?}");
    editions.edit_answer("暗証番号を忘れ", "下書きの回答です。");
    assert_eq!(editions.agent_search("暗証番号を忘れ"), published);
    assert!(editions.agent_search("下書き").is_empty());

    let path = format!("/api/v1/faq?q={}&draft=true", encode("下書き"));
    let draft = editions.call(&editions.manager, "GET", &path, None);
    assert_eq!(answers(&draft.json()), ["下書きの回答です。"]);
    let agent_draft = editions.call(&editions.agent, "GET", "/api/v1/faq?draft=true", None);
    assert_eq!(agent_draft.status, 403, "{}", agent_draft.body);

    editions.publish("回答の修正");
    assert_eq!(
        editions.agent_search("暗証番号を忘れ"),
        ["下書きの回答です。"]
    );
}

#[test]
fn the_markdown_export_lists_the_changes_since_the_previous_edition() {
    let editions = editions();
    editions.publish("初版");
    let id = editions.edit_answer("暗証番号を忘れ", "窓口で再設定します。");
    editions.publish("暗証番号の回答を修正");
    let response = editions.call(
        &editions.agent,
        "GET",
        "/api/v1/faq/editions/2?format=md",
        None,
    );
    assert_eq!(response.status, 200, "{}", response.body);
    assert_eq!(
        response.header("content-type"),
        Some("text/markdown; charset=utf-8")
    );
    let md = response.body;
    assert!(md.starts_with("# よくある質問（FAQ）第2版\n"), "{md}");
    assert!(md.contains("- 備考: 暗証番号の回答を修正"), "{md}");
    assert!(md.contains("### 追加（0件）"), "{md}");
    assert!(
        md.contains(&format!(
            "### 変更（1件）\n\n- No.{id} 暗証番号を忘れてしまいました。"
        )),
        "{md}"
    );
    assert!(md.contains("### オ 紛失・暗証番号変更"), "{md}");
    assert!(md.contains("窓口で再設定します。"), "{md}");
    let missing = editions.call(
        &editions.agent,
        "GET",
        "/api/v1/faq/editions/9?format=md",
        None,
    );
    assert_eq!(missing.status, 404);
}

#[test]
fn the_cli_publishes_and_exports_an_xlsx_with_japanese_headings() {
    let editions = editions();
    let url = editions.database_url.as_str();
    let (code, stdout, stderr) = cli(&["faq", "publish", "--note", "初版", "--database-url", url]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("edition 1 (初版) with 11 entries"),
        "{stdout}"
    );
    let out = editions.dir.path().join("faq-1.xlsx");
    let out_arg = out.to_str().expect("utf-8 path");
    let args = [
        "faq",
        "export",
        "--edition",
        "1",
        "--format",
        "xlsx",
        "--out",
        out_arg,
    ];
    let (code, _, stderr) = cli(&[&args[..], &["--database-url", url]].concat());
    assert_eq!(code, 0, "{stderr}");
    let (names, shared) = read_zip(&out);
    assert!(
        names.contains(&"xl/worksheets/sheet1.xml".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"xl/worksheets/sheet2.xml".to_owned()),
        "{names:?}"
    );
    for heading in [
        "番号",
        "分類",
        "質問",
        "回答",
        "区分",
        "よくある質問（FAQ）初版",
    ] {
        assert!(shared.contains(heading), "{heading} missing in {shared}");
    }
}

/// The member names of the zip at `path` and its `xl/sharedStrings.xml`, read by Python's
/// standard zipfile module (an independent reader).
fn read_zip(path: &Path) -> (Vec<String>, String) {
    let script = "import sys, zipfile\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  print('\\n'.join(z.namelist()))\n\
                  print('----')\n\
                  print(z.read('xl/sharedStrings.xml').decode('utf-8'))\n";
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python3 reads the XLSX zip");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    let (names, shared) = text.split_once("----\n").expect("separator");
    (
        names.lines().map(str::to_owned).collect(),
        shared.to_owned(),
    )
}
