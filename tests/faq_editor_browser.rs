//! End to end: the manager's FAQ editor at `/manager/faq.html` in a real headless Chromium
//! against the real binary (the reference dialplan's categories ア〜ケ). A manager signs in
//! through the page's form, creates two entries (the server's refusal of a category it does
//! not know shown next to the category), edits one, publishes 初版 after a confirmation that
//! names it, edits again (the page marks the unpublished change), publishes 第2版, and the
//! editions list shows both with Markdown and Excel downloads; the Markdown fetched with the
//! page's session lists the change. An operator's FAQ search reads the published text, not a
//! later unpublished edit. An operator who opens the page is told it is for managers only.
//!
//! The API the page relies on beyond the plain FAQ routes — the inactive entries of the draft
//! (`GET /api/v1/faq?draft=true&inactive=true`) and the edition publishing would make
//! (`GET /api/v1/faq/editions?next=true`) — is checked over plain HTTP as well.
//!
//! Screenshots are saved under `target/test-artifacts/manager/faq-*.png`.

mod support;

use serde_json::{json, Value};
use support::browser::{artifacts_dir, write_tone, Browser, Chromedriver, ENTER};
use support::{create_token, ensure_user, request, EngineProcess, HttpResponse, Options};

const MANAGER: &str = "sato";
const MANAGER_PASSWORD: &str = "pw-sato-manager";
const AGENT: &str = "op1";
const AGENT_PASSWORD: &str = "pw-op1-agent";
const AREA: &str = "manager";

const APPLY_Q: &str = "マイナンバーカードの申請方法を教えてください。";
const APPLY_A: &str = "スマートフォン、パソコン、郵送、証明写真機で申請できます。";
const APPLY_A2: &str =
    "スマートフォン、パソコン、郵送、証明写真機で申請できます。市役所の窓口でも受け付けます。";
const CERT_Q: &str = "電子証明書の有効期限はいつまでですか。";
const CERT_A: &str = "発行日から5回目の誕生日までです。";
const CERT_A2: &str = "発行日から5回目の誕生日までです。更新は有効期限の3か月前からできます。";

/// The engine on a fresh database with a manager and an operator.
struct Center {
    engine: EngineProcess,
    database_url: String,
    _dir: tempfile::TempDir,
}

fn center() -> Center {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = format!("sqlite://{}", dir.path().join("faq.db").display());
    ensure_user(&database_url, MANAGER, "manager", MANAGER_PASSWORD);
    ensure_user(&database_url, AGENT, "agent", AGENT_PASSWORD);
    let engine = EngineProcess::start(Options {
        database_url: Some(database_url.clone()),
        ..Options::default()
    });
    Center {
        engine,
        database_url,
        _dir: dir,
    }
}

impl Center {
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

    /// The answers `token`'s holder finds for `query` (operators: the published edition).
    fn search(&self, token: &str, query: &str) -> Vec<String> {
        let path = format!("/api/v1/faq?q={}", encode(query));
        let response = self.call(token, "GET", &path, None);
        assert_eq!(response.status, 200, "{}", response.body);
        response.json()["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .filter_map(|e| e["answer"].as_str().map(str::to_owned))
            .collect()
    }
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

/// A Chromium on the FAQ editor of a fresh center.
struct Desk {
    browser: Browser,
    center: Center,
    name: &'static str,
    _chromedriver: Chromedriver,
    _microphone: tempfile::TempDir,
}

impl Desk {
    async fn open(name: &'static str) -> Desk {
        let center = tokio::task::block_in_place(center);
        // The page needs no microphone, but the browser helper gives every page one.
        let microphone = tempfile::tempdir().expect("temp dir");
        let tone_file = microphone.path().join("tone.wav");
        write_tone(&tone_file, 440.0);
        let chromedriver = Chromedriver::start().await;
        let mut browser = chromedriver.open(&tone_file).await;
        browser.describe_with("JSON.stringify(window.madoguchiFaq?.state())");
        browser
            .goto(&format!("http://{}/manager/faq.html", center.engine.http))
            .await;
        browser
            .until(
                "window.madoguchiFaq.state().view === 'sign_in' \
                 && document.activeElement?.id === 'sign-in-login'",
                "the sign-in form is shown",
            )
            .await;
        Desk {
            browser,
            center,
            name,
            _chromedriver: chromedriver,
            _microphone: microphone,
        }
    }

    async fn screenshot(&self, state: &str) {
        self.browser.screenshot(AREA, &format!("faq-{state}")).await;
    }

    async fn sign_in(&self, login: &str, password: &str) {
        self.browser.type_into("#sign-in-login", login).await;
        self.browser.type_into("#sign-in-password", password).await;
        self.browser.click("#sign-in-submit").await;
    }

    /// Replaces what the field `id` holds with `text`, typed as a person would.
    async fn retype(&self, id: &str, text: &str) {
        self.browser
            .eval(&format!("document.getElementById('{id}').value = ''"))
            .await;
        self.browser.type_into(&format!("#{id}"), text).await;
    }

    /// Opens the form (for entry `id`, or a new one) and waits for the focus in it.
    async fn open_form(&self, id: Option<i64>) {
        match id {
            Some(id) => {
                self.browser
                    .click(&format!("#entry-rows button[data-id=\"{id}\"]"))
                    .await
            }
            None => self.browser.click("#new-entry").await,
        }
        self.browser
            .until(
                "document.activeElement?.id === 'entry-question' \
                 && !document.getElementById('entry-panel').hidden",
                "the entry form opens with the focus on the question",
            )
            .await;
    }

    /// Saves the open form and waits until the list shows the saved entry; returns its id.
    async fn save(&self) -> i64 {
        let before = self
            .browser
            .eval("window.madoguchiFaq.state().listLoads")
            .await;
        self.browser.click("#entry-save").await;
        let saved = self
            .browser
            .until(
                &format!(
                    "(() => {{ const s = window.madoguchiFaq.state(); \
                       return s.form === 'closed' && !s.saving && s.listLoads > {before} \
                         && s.entries.some(e => e.id === s.lastSaved) && s.lastSaved; }})()"
                ),
                "the entry is saved and listed",
            )
            .await;
        saved.as_i64().expect("the saved entry's id")
    }

    /// The text of entry `id`'s row.
    async fn row(&self, id: i64) -> String {
        self.browser
            .text(&format!("#entry-rows tr[data-id=\"{id}\"]"))
            .await
    }

    /// Writes `note`, asks to publish, checks the confirmation names `label`, and confirms
    /// with the keyboard (the focus is on the confirm button).
    async fn publish(&self, note: &str, label: &str, screenshot: Option<&str>) {
        let before = self
            .browser
            .eval("window.madoguchiFaq.state().editions.length")
            .await;
        self.retype("publish-note", note).await;
        self.browser.click("#publish").await;
        self.browser
            .until(
                "window.madoguchiFaq.state().dialog \
                 && document.activeElement?.id === 'publish-confirm'",
                "the confirmation opens on its confirm button",
            )
            .await;
        assert_eq!(
            self.browser.text("#publish-dialog-heading").await,
            format!("{label}を公開しますか？")
        );
        let body = self.browser.text("#publish-dialog-body").await;
        assert!(
            body.contains(&format!("「{label}」として公開します"))
                && body.contains("変更も削除もできません"),
            "the confirmation says what will be made and that it is final: {body}"
        );
        assert_eq!(
            self.browser.text("#publish-confirm").await,
            format!("{label}を公開する")
        );
        if let Some(name) = screenshot {
            self.screenshot(name).await;
        }
        self.browser.press(ENTER).await;
        self.browser
            .until(
                &format!(
                    "(() => {{ const s = window.madoguchiFaq.state(); \
                       return !s.dialog && !s.publishing && s.editions.length === {before} + 1 \
                         && s.editions.at(-1).label === '{label}' && s.next?.pending === 0 \
                         && document.activeElement?.id === 'publish'; }})()"
                ),
                "the edition is published and listed, the focus back on the publish button",
            )
            .await;
    }
}

impl Drop for Desk {
    /// A failed test leaves the engine's log beside its screenshots.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let path = artifacts_dir(AREA).join(format!("faq-{}-engine.log", self.name));
            let _ = std::fs::write(path, self.center.engine.log());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_edits_publishes_two_editions_and_exports_them_from_the_page() {
    let desk = Desk::open("editor").await;
    let browser = &desk.browser;
    desk.screenshot("1-sign-in").await;
    desk.sign_in(MANAGER, MANAGER_PASSWORD).await;
    browser
        .until(
            "(() => { const s = window.madoguchiFaq.state(); \
               return s.view === 'editor' && s.listLoads > 0 && s.next?.label === '初版'; })()",
            "the editor is shown with the empty draft",
        )
        .await;
    assert_eq!(
        browser.text("#status-latest").await,
        "まだ公開された版はありません。"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('publish').disabled")
            .await,
        true,
        "nothing to publish without an active entry"
    );

    // The first entry, with a category the server does not know (as if the configuration
    // had changed under the open page): the refusal is shown next to the category.
    desk.open_form(None).await;
    desk.browser.type_into("#entry-question", APPLY_Q).await;
    desk.browser.type_into("#entry-answer", APPLY_A).await;
    browser
        .eval(
            "(() => { const s = document.getElementById('entry-category'); \
               s.add(new Option('ZZ', 'ZZ')); s.value = 'ZZ'; })()",
        )
        .await;
    browser.click("#entry-save").await;
    browser
        .until(
            "!document.getElementById('entry-category-error').hidden \
             && document.getElementById('entry-category').getAttribute('aria-invalid') === 'true' \
             && document.activeElement?.id === 'entry-category'",
            "the server's refusal is shown next to the category",
        )
        .await;
    let refusal = browser.text("#entry-category-error").await;
    assert!(
        refusal.contains("ZZ"),
        "the refusal names the code: {refusal}"
    );
    assert_eq!(
        browser
            .eval("document.getElementById('entry-question-error').hidden")
            .await,
        true,
        "only the named field is marked"
    );
    desk.screenshot("2-field-error").await;
    browser.select("#entry-category", "イ").await;
    let apply = desk.save().await;
    assert!(
        browser
            .eval("document.getElementById('entry-category').getAttribute('aria-invalid')")
            .await
            .is_null(),
        "the mark is gone once saved"
    );

    desk.open_form(None).await;
    desk.browser.type_into("#entry-question", CERT_Q).await;
    desk.browser.type_into("#entry-answer", CERT_A).await;
    browser.select("#entry-category", "エ").await;
    let cert = desk.save().await;
    assert_ne!(apply, cert);
    let row = desk.row(cert).await;
    assert!(
        row.contains(CERT_Q) && row.contains("エ 電子証明書") && row.contains("有効"),
        "the row shows question, category and state: {row}"
    );

    // Edit the first one before anything is published.
    desk.open_form(Some(apply)).await;
    assert_eq!(
        browser.text("#entry-heading").await,
        format!("項目 No.{apply} を編集")
    );
    assert_eq!(
        browser
            .eval("document.getElementById('entry-category').value")
            .await,
        "イ"
    );
    desk.retype("entry-answer", APPLY_A2).await;
    assert_eq!(desk.save().await, apply);
    assert_eq!(
        browser.eval("document.activeElement?.dataset.id").await,
        apply.to_string(),
        "the focus is back on the edited entry's button"
    );
    browser
        .until(
            "document.getElementById('status-pending').textContent === '有効な 2件を初版として公開できます。' \
             && document.getElementById('publish').textContent === '初版を公開…'",
            "the page offers to publish 初版",
        )
        .await;
    desk.screenshot("3-draft").await;

    // 初版.
    desk.publish("初回の公開", "初版", Some("4-confirm")).await;
    let first = browser.text("#edition-rows tr[data-number=\"1\"]").await;
    assert!(
        first.contains("初版") && first.contains("初回の公開") && first.contains(MANAGER),
        "the edition's row: {first}"
    );
    assert_eq!(
        browser.text("#status-pending").await,
        "未公開の変更はありません。最新の公開版と同じ内容です。"
    );

    // An edit after 初版 is an unpublished change until 第2版.
    desk.open_form(Some(cert)).await;
    desk.retype("entry-answer", CERT_A2).await;
    desk.save().await;
    browser
        .until(
            &format!(
                "document.querySelector('#entry-rows tr[data-id=\"{cert}\"]')?.dataset.change === 'changed' \
                 && document.getElementById('status-pending').dataset.pending === 'true'"
            ),
            "the edited entry is marked unpublished",
        )
        .await;
    assert_eq!(
        browser.text("#status-pending").await,
        "未公開の変更があります: 追加 0件・変更 1件・削除 0件"
    );
    let change = browser.text("#status-changes li").await;
    assert_eq!(change, format!("変更: No.{cert} {CERT_Q}"));
    assert!(
        desk.row(cert).await.contains("未公開（変更）"),
        "the row says so too"
    );
    assert!(
        !desk.row(apply).await.contains("未公開"),
        "the unchanged entry is not marked"
    );
    desk.screenshot("5-unpublished").await;

    // Operators still read 初版's text.
    let agent = create_token(&desk.center.database_url, AGENT);
    let found = tokio::task::block_in_place(|| desk.center.search(&agent, "電子証明書"));
    assert_eq!(
        found,
        vec![CERT_A.to_owned()],
        "the published answer, not the edit"
    );

    // 第2版.
    desk.publish("有効期限の説明を改訂", "第2版", None).await;
    let labels = browser
        .eval(
            "[...document.querySelectorAll('#edition-rows tr')].map(r => \
               [r.dataset.number, r.querySelector('.edition-label').textContent])",
        )
        .await;
    assert_eq!(
        labels,
        json!([["2", "第2版"], ["1", "初版"]]),
        "newest first"
    );
    desk.screenshot("6-editions").await;

    let md_href = browser
        .eval(
            "document.querySelector('#edition-rows tr[data-number=\"2\"] a[data-format=\"md\"]').getAttribute('href')",
        )
        .await;
    assert_eq!(md_href, "/api/v1/faq/editions/2?format=md");
    let xlsx_href = browser
        .eval(
            "document.querySelector('#edition-rows tr[data-number=\"2\"] a[data-format=\"xlsx\"]').getAttribute('href')",
        )
        .await;
    assert_eq!(xlsx_href, "/api/v1/faq/editions/2?format=xlsx");
    // Both downloads with the page's session (the cookie, no token).
    browser
        .eval(
            "(() => { window.downloads = null; \
               const links = document.querySelectorAll('#edition-rows tr[data-number=\"2\"] a'); \
               Promise.all([...links].map(a => fetch(a.href).then(async r => \
                 [a.dataset.format, r.status, r.headers.get('content-type'), \
                  a.dataset.format === 'md' ? await r.text() : (await r.arrayBuffer()).byteLength]))) \
                 .then(all => { window.downloads = all; }); })()",
        )
        .await;
    let downloads = browser
        .until("window.downloads", "the edition downloads")
        .await;
    let md = &downloads[0];
    assert_eq!(
        (md[0].as_str(), md[1].as_u64()),
        (Some("md"), Some(200)),
        "{md}"
    );
    let markdown = md[3].as_str().unwrap_or_default();
    assert!(
        markdown.starts_with("# よくある質問（FAQ）第2版"),
        "{markdown}"
    );
    assert!(
        markdown.contains(&format!("### 変更（1件）\n\n- No.{cert} {CERT_Q}")),
        "the Markdown lists the change: {markdown}"
    );
    assert!(markdown.contains("### 追加（0件）"), "{markdown}");
    assert!(
        markdown.contains("- 備考: 有効期限の説明を改訂"),
        "{markdown}"
    );
    assert!(markdown.contains(CERT_A2), "{markdown}");
    let xlsx = &downloads[1];
    assert_eq!(xlsx[1], 200, "{xlsx}");
    assert!(
        xlsx[2]
            .as_str()
            .is_some_and(|t| t.contains("spreadsheetml"))
            && xlsx[3].as_u64() > Some(0),
        "{xlsx}"
    );

    // Now operators read 第2版.
    let found = tokio::task::block_in_place(|| desk.center.search(&agent, "電子証明書"));
    assert_eq!(found, vec![CERT_A2.to_owned()]);

    // English by the toggle.
    browser.click("#lang-toggle").await;
    browser
        .until(
            "document.getElementById('status-heading').textContent === 'Publication' \
             && document.getElementById('publish').textContent === 'Publish Edition 3 (第3版)…'",
            "the page switches to English",
        )
        .await;
    assert!(
        browser
            .eval("document.documentElement.scrollWidth <= window.innerWidth")
            .await
            == true,
        "no horizontal scroll at 1280×720"
    );
    desk.screenshot("7-english").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_who_opens_the_faq_editor_is_told_it_is_for_managers_only() {
    let desk = Desk::open("agent").await;
    desk.sign_in(AGENT, AGENT_PASSWORD).await;
    desk.browser
        .until(
            "window.madoguchiFaq.state().view === 'forbidden'",
            "the page says it is for managers",
        )
        .await;
    assert_eq!(
        desk.browser.text("#forbidden-message").await,
        "このページは管理者専用です。"
    );
    assert_eq!(
        desk.browser
            .eval("window.madoguchiFaq.state().listLoads")
            .await,
        0,
        "no draft is loaded for an operator"
    );
    desk.screenshot("8-managers-only").await;
    desk.browser.close().await;
}

/// The two API additions the editor uses, for managers only.
#[test]
fn the_draft_lists_inactive_entries_and_the_next_edition_is_previewed_for_managers_only() {
    let center = center();
    let manager = create_token(&center.database_url, MANAGER);
    let agent = create_token(&center.database_url, AGENT);
    let add = |question: &str, answer: &str| -> i64 {
        let body = json!({ "question": question, "answer": answer, "category": "イ" });
        let response = center.call(&manager, "POST", "/api/v1/faq", Some(&body));
        assert_eq!(response.status, 201, "{}", response.body);
        response.json()["id"].as_i64().expect("an id")
    };
    let kept = add(APPLY_Q, APPLY_A);
    let retired = add(CERT_Q, CERT_A);

    let next = |token: &str| center.call(token, "GET", "/api/v1/faq/editions?next=true", None);
    let before = next(&manager);
    assert_eq!(before.status, 200, "{}", before.body);
    let preview = &before.json()["next"];
    assert_eq!(
        (&preview["number"], &preview["label"], &preview["entries"]),
        (&json!(1), &json!("初版"), &json!(2))
    );
    assert_eq!(
        preview["changes"]["added"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        next(&agent).status,
        403,
        "the draft's changes are for managers"
    );
    let plain = center.call(&agent, "GET", "/api/v1/faq/editions", None);
    assert_eq!(plain.status, 200, "{}", plain.body);
    assert!(plain.json().get("next").is_none(), "{}", plain.body);

    let published = center.call(&manager, "POST", "/api/v1/faq/editions", Some(&json!({})));
    assert_eq!(published.status, 201, "{}", published.body);
    let body = json!({ "question": CERT_Q, "answer": CERT_A, "category": "イ", "active": false });
    let put = center.call(
        &manager,
        "PUT",
        &format!("/api/v1/faq/{retired}"),
        Some(&body),
    );
    assert_eq!(put.status, 200, "{}", put.body);

    let preview = next(&manager).json()["next"].clone();
    assert_eq!(
        (&preview["number"], &preview["label"], &preview["entries"]),
        (&json!(2), &json!("第2版"), &json!(1))
    );
    assert_eq!(preview["changes"]["removed"][0]["faq_id"], retired);
    assert_eq!(preview["changes"]["changed"], json!([]));

    let ids = |path: &str| -> Vec<(i64, bool)> {
        let response = center.call(&manager, "GET", path, None);
        assert_eq!(response.status, 200, "{path}: {}", response.body);
        response.json()["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .map(|e| (e["id"].as_i64().unwrap_or(0), e["active"] == true))
            .collect()
    };
    assert_eq!(ids("/api/v1/faq?draft=true"), vec![(kept, true)]);
    assert_eq!(
        ids("/api/v1/faq?draft=true&inactive=true"),
        vec![(kept, true), (retired, false)],
        "inactive entries after the active ones"
    );
    let query = encode("電子証明書 誕生日");
    assert_eq!(
        ids(&format!("/api/v1/faq?draft=true&inactive=true&q={query}")),
        vec![(retired, false)],
        "the query filters inactive entries too"
    );
    assert_eq!(
        ids(&format!(
            "/api/v1/faq?draft=true&inactive=true&q={}",
            encode("電子証明書 郵送")
        )),
        vec![]
    );
    assert_eq!(
        ids("/api/v1/faq?draft=true&inactive=true&limit=1"),
        vec![(kept, true)],
        "within the limit"
    );
    let without_draft = center.call(&manager, "GET", "/api/v1/faq?inactive=true", None);
    assert_eq!(without_draft.status, 400, "{}", without_draft.body);
    let agent_draft = center.call(&agent, "GET", "/api/v1/faq?draft=true&inactive=true", None);
    assert_eq!(agent_draft.status, 403, "{}", agent_draft.body);
}
