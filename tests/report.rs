//! End to end: `madoguchi seed month` fills a database, `madoguchi report` and the HTTP API
//! turn it into the city's files, and the files are checked against the records counted one
//! by one through the store's listing (not the report's SQL), the XLSX as openpyxl — a real
//! reader, installed from PyPI into a venv under target/ on first use — reads it.

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use madoguchi_store::{
    AnswerMode, AnsweredBy, Beat, CallQuery, CallRecord, CounterQuery, DeviceStatus, Disposition,
    LanguageFallbackUsed, NewDevice, PageStart, Store,
};
use serde_json::Value;
use support::{create_token, ensure_user, madoguchi_cli, repo_root, EngineProcess, Options};

const BOM: &str = "\u{feff}";

/// A database with a generated June 2025 (and, when asked, January 2026).
struct Seeded {
    dir: tempfile::TempDir,
    url: String,
}

fn seed(url: &str, month: &str, calls: usize, seed: u64) {
    let calls = calls.to_string();
    let seed = seed.to_string();
    let dialplan = dialplan();
    let (code, stdout, stderr) = madoguchi_cli(
        &[
            "seed",
            "month",
            "--month",
            month,
            "--calls",
            &calls,
            "--seed",
            &seed,
            "--dialplan",
            &dialplan,
            "--database-url",
            url,
        ],
        "",
    );
    assert_eq!(code, 0, "seed month: {stderr}");
    assert!(stdout.contains(&format!("{calls} calls")), "{stdout}");
}

fn seeded(calls: usize) -> Seeded {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("report.db").display());
    seed(&url, "2025-06", calls, 11);
    Seeded { dir, url }
}

fn dialplan() -> String {
    repo_root()
        .join("dialplans/zama.toml")
        .display()
        .to_string()
}

/// `madoguchi report ARGS… --out FILE`: the file's bytes.
fn report(url: &str, args: &[&str], out: &Path) -> Vec<u8> {
    let out_text = out.display().to_string();
    let dialplan = dialplan();
    let mut all: Vec<&str> = vec!["report"];
    all.extend_from_slice(args);
    all.extend_from_slice(&[
        "--out",
        &out_text,
        "--dialplan",
        &dialplan,
        "--database-url",
        url,
    ]);
    let (code, stdout, stderr) = madoguchi_cli(&all, "");
    assert_eq!(code, 0, "report {args:?}: {stderr}");
    assert!(stdout.starts_with("wrote "), "{stdout}");
    std::fs::read(out).expect("the report file")
}

/// June 2025 in Tokyo, as UTC instants.
fn june() -> (DateTime<Utc>, DateTime<Utc>) {
    let tokyo = chrono_tz::Asia::Tokyo;
    let at = |y, m| {
        tokyo
            .with_ymd_and_hms(y, m, 1, 0, 0, 0)
            .single()
            .expect("a Tokyo midnight")
            .with_timezone(&Utc)
    };
    (at(2025, 6), at(2025, 7))
}

/// The figures, counted in Rust from every record the store lists (20 s, 5 s, and each
/// call's measured wrap-up, or the reference dialplan's 10 s where none was measured).
#[derive(Debug, Default)]
struct Counted {
    calls: i64,
    closed: i64,
    offered: i64,
    answered: i64,
    handled: i64,
    transferred: i64,
    abandoned: i64,
    short_abandoned: i64,
    overflowed: i64,
    in_time: i64,
    wait_ms: i64,
    handling_ms: i64,
    /// Answered calls with a measured wrap-up.
    measured_wrap_ups: i64,
    /// category code ("" unclassified) → (handled, transferred)
    categories: BTreeMap<String, (i64, i64)>,
    counter_cases: i64,
}

async fn count(url: &str) -> Counted {
    let store = Store::connect(url).await.expect("store");
    let (from, to) = june();
    let mut c = Counted::default();
    let wrap_ups: BTreeMap<String, i64> = store
        .wrap_ups_since(from - chrono::Duration::days(1))
        .await
        .expect("wrap-ups")
        .into_iter()
        .map(|w| (w.call_id, w.wrap_up_ms))
        .collect();
    let mut offset = 0u64;
    loop {
        let page = store
            .list_calls(&CallQuery {
                from: Some(from),
                to: Some(to),
                limit: 1000,
                start: PageStart::Offset(offset),
                ..CallQuery::default()
            })
            .await
            .expect("list calls");
        if page.items.is_empty() {
            break;
        }
        offset += page.items.len() as u64;
        let ids: Vec<String> = page.items.iter().map(|r| r.id.clone()).collect();
        let classes: BTreeMap<String, String> = store
            .classifications(&ids)
            .await
            .expect("classifications")
            .into_iter()
            .map(|k| (k.call_id, k.category))
            .collect();
        for r in page.items {
            c.calls += 1;
            if r.disposition.as_str().starts_with("closed_") {
                c.closed += 1;
            }
            if r.queue.is_none() {
                continue;
            }
            c.offered += 1;
            if r.operator.is_some() {
                c.answered += 1;
                let transferred = r.transfer_result.as_deref() == Some("answered");
                let entry = c
                    .categories
                    .entry(classes.get(&r.id).cloned().unwrap_or_default())
                    .or_default();
                if transferred {
                    c.transferred += 1;
                    entry.1 += 1;
                } else {
                    c.handled += 1;
                    entry.0 += 1;
                }
                let wait = r.waited_ms.unwrap_or(0);
                c.wait_ms += wait;
                c.in_time += i64::from(wait <= 20_000);
                c.measured_wrap_ups += i64::from(wrap_ups.contains_key(&r.id));
                c.handling_ms +=
                    r.talk_ms.unwrap_or(0) + wrap_ups.get(&r.id).copied().unwrap_or(10_000);
            } else if r.disposition == Disposition::Abandoned {
                c.abandoned += 1;
                c.short_abandoned += i64::from(r.waited_ms.is_some_and(|w| w < 5_000));
            } else if r.disposition == Disposition::Overflowed {
                c.overflowed += 1;
            }
        }
    }
    c.counter_cases = store
        .list_counter_cases(&CounterQuery {
            from: Some(from),
            to: Some(to),
            limit: 1,
            ..CounterQuery::default()
        })
        .await
        .expect("counter cases")
        .total;
    store.close().await;
    c
}

fn percent(numerator: i64, denominator: i64) -> String {
    format!("{:.1}", numerator as f64 * 100.0 / denominator as f64)
}

fn seconds(ms: i64, calls: i64) -> String {
    format!("{:.1}", ms as f64 / 1000.0 / calls as f64)
}

/// The CSV's sections: title (without "■ ") → rows of fields.
fn sections(csv: &str) -> BTreeMap<String, Vec<Vec<String>>> {
    let mut out: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for block in csv.split("\r\n\r\n").skip(1) {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(block.as_bytes());
        let mut rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
            .collect();
        let title = rows.remove(0)[0].trim_start_matches("■ ").to_owned();
        out.insert(title, rows);
    }
    out
}

/// The summary section as item → value.
fn summary(sections: &BTreeMap<String, Vec<Vec<String>>>) -> BTreeMap<String, String> {
    sections["概要"]
        .iter()
        .skip(1)
        .map(|row| (row[0].clone(), row[1].clone()))
        .collect()
}

#[tokio::test]
async fn the_monthly_csv_matches_the_records_counted_one_by_one() {
    let db = seeded(3_000);
    let bytes = report(
        &db.url,
        &["monthly", "--month", "2025-06", "--format", "csv"],
        &db.dir.path().join("june.csv"),
    );
    let text = String::from_utf8(bytes).expect("UTF-8");
    assert!(
        text.starts_with(BOM),
        "the CSV starts with the byte-order mark"
    );
    assert!(text.starts_with(&format!(
        "{BOM}座間市マイナンバーカード相談コールセンター 月次報告 2025年6月（令和7年6月）\r\n"
    )));
    let c = count(&db.url).await;
    let parts = sections(&text);
    let s = summary(&parts);
    let expected = [
        ("総着信数 (件)", c.calls.to_string()),
        ("時間外着信 (件)", c.closed.to_string()),
        ("受付件数 (件)", c.offered.to_string()),
        ("応答件数 (件)", c.answered.to_string()),
        ("　うち対応完了 (件)", c.handled.to_string()),
        ("　うち転送 (件)", c.transferred.to_string()),
        ("放棄件数 (件)", c.abandoned.to_string()),
        ("　うち5秒未満の放棄 (件)", c.short_abandoned.to_string()),
        ("あふれ件数 (件)", c.overflowed.to_string()),
        (
            "サービスレベル (20秒以内応答率, %)",
            percent(c.in_time, c.offered - c.short_abandoned),
        ),
        ("平均応答時間 ASA (秒)", seconds(c.wait_ms, c.answered)),
        (
            "平均処理時間 AHT (通話+後処理, 秒)",
            seconds(c.handling_ms, c.answered),
        ),
        ("放棄率 (%)", percent(c.abandoned, c.offered)),
        ("窓口支援件数 (件)", c.counter_cases.to_string()),
    ];
    for (item, value) in expected {
        assert_eq!(s.get(item), Some(&value), "{item}");
    }
    assert_eq!(c.calls, 3_000);
    assert!(c.abandoned > 0 && c.transferred > 0 && c.overflowed > 0 && c.closed > 0);
    assert!(
        c.measured_wrap_ups > 0 && c.measured_wrap_ups < c.answered,
        "both measured and configured wrap-ups count ({} of {})",
        c.measured_wrap_ups,
        c.answered
    );
    // Categories: the code column, handled and transferred per code.
    let categories: BTreeMap<String, (i64, i64)> = parts
        .iter()
        .find(|(title, _)| title.starts_with("問い合わせ内容内訳"))
        .expect("the category section")
        .1
        .iter()
        .skip(1)
        .filter(|row| row[0] != "合計")
        .filter(|row| row[2] != "0" || row[3] != "0")
        .map(|row| {
            let n = |i: usize| row[i].parse::<i64>().expect("a count");
            (row[0].clone(), (n(2), n(3)))
        })
        .collect();
    assert_eq!(categories, c.categories);
    // The days add up to the month.
    let days = &parts["日別"];
    let calls_by_day: i64 = days[1..days.len() - 1]
        .iter()
        .map(|row| row[3].parse::<i64>().expect("a count"))
        .sum();
    assert_eq!(
        days.len() - 2,
        30,
        "a row per day of June, the headings and a total"
    );
    assert_eq!(calls_by_day, c.calls);
    // Languages: every call of open hours once, the default's and English (a few choose it).
    let languages = &parts
        .iter()
        .find(|(title, _)| title.starts_with("言語別"))
        .expect("the language section")
        .1;
    let calls_of = |label: &str| -> i64 {
        languages
            .iter()
            .find(|row| row[0] == label)
            .map(|row| row[1].parse().expect("a count"))
            .unwrap_or_else(|| panic!("no language row {label}"))
    };
    assert_eq!(calls_of("合計"), c.calls - c.closed);
    assert_eq!(
        calls_of("日本語（ja）") + calls_of("English（en）"),
        c.calls - c.closed
    );
    assert!(
        calls_of("English（en）") > 0,
        "the generated month has English callers"
    );
}

/// The venv's python with openpyxl, made on first use.
fn openpyxl_python() -> PathBuf {
    static MADE: Mutex<()> = Mutex::new(());
    let _one_at_a_time = MADE.lock().unwrap_or_else(|p| p.into_inner());
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openpyxl-venv");
    let python = venv.join("bin/python");
    let has_openpyxl = |python: &Path| {
        Command::new(python)
            .args(["-c", "import openpyxl"])
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has_openpyxl(&python) {
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 -m venv (python3 is needed to read the XLSX)");
        assert!(made.success(), "python3 -m venv failed");
        let pip = Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "openpyxl"])
            .status()
            .expect("pip install openpyxl");
        assert!(
            pip.success(),
            "pip install openpyxl failed (PyPI unreachable?)"
        );
    }
    python
}

fn read_xlsx(path: &Path) -> Value {
    let output = Command::new(openpyxl_python())
        .arg(repo_root().join("tests/report_read_xlsx.py"))
        .arg(path)
        .output()
        .expect("run the openpyxl reader");
    assert!(
        output.status.success(),
        "openpyxl could not read the workbook: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the reader's JSON")
}

/// Row `label` of a sheet whose first column names its rows.
fn row<'a>(sheet: &'a Value, label: &str) -> &'a Vec<Value> {
    sheet["values"]
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(Value::as_array)
        .find(|row| row.first().and_then(Value::as_str) == Some(label))
        .unwrap_or_else(|| panic!("no row {label}"))
}

#[tokio::test]
async fn the_monthly_xlsx_reads_in_openpyxl_with_headings_totals_era_and_charts() {
    let db = seeded(3_000);
    let path = db.dir.path().join("june.xlsx");
    let bytes = report(
        &db.url,
        &["monthly", "--month", "2025-06", "--format", "xlsx"],
        &path,
    );
    assert!(bytes.starts_with(b"PK"), "an XLSX is a zip");
    let book = read_xlsx(&path);
    let c = count(&db.url).await;
    assert_eq!(
        book["sheets"],
        serde_json::json!([
            "概要",
            "日別",
            "時間帯別",
            "曜日区分別",
            "問い合わせ内容内訳",
            "転送",
            "窓口支援",
            "言語別",
            "応答前待ち",
            "窓口機器"
        ])
    );
    let summary = &book["概要"];
    assert_eq!(
        summary["values"][0][0],
        "座間市マイナンバーカード相談コールセンター 月次報告 2025年6月（令和7年6月）"
    );
    assert_eq!(row(summary, "和暦")[1], "令和7年6月");
    assert_eq!(row(summary, "総着信数 (件)")[1], c.calls);
    assert_eq!(row(summary, "応答件数 (件)")[1], c.answered);
    assert_eq!(row(summary, "放棄件数 (件)")[1], c.abandoned);
    let sl = row(summary, "サービスレベル (20秒以内応答率, %)")[1]
        .as_f64()
        .expect("a number, not text");
    let expected = c.in_time as f64 / (c.offered - c.short_abandoned) as f64;
    assert!((sl - expected).abs() < 1e-9, "{sl} vs {expected}");

    let days = &book["日別"];
    assert_eq!(days["values"][3][0], "日付");
    assert_eq!(days["values"][3][5], "受付 (件)");
    assert_eq!(days["values"][4][0], "2025-06-01T00:00:00", "a real date");
    assert_eq!(days["formats"][4][0], "yyyy/mm/dd");
    assert_eq!(days["formats"][4][3], "#,##0");
    assert_eq!(days["formats"][4][11], "0.0%");
    assert_eq!(days["freeze"], "A5");
    let total = row(days, "合計");
    assert_eq!(total[3], c.calls);
    assert_eq!(total[6], c.answered);
    let charts = days["charts"].as_array().expect("charts");
    assert_eq!(charts.len(), 1);
    assert_eq!(charts[0]["title"], "日別の受付件数・応答件数");
    assert_eq!(
        charts[0]["series"],
        serde_json::json!(["日別!$F$5:$F$34", "日別!$G$5:$G$34"])
    );

    let categories = &book["問い合わせ内容内訳"];
    assert_eq!(categories["values"][3][1], "問い合わせ内容");
    assert_eq!(row(categories, "イ")[1], "カードの申請");
    assert_eq!(row(categories, "イ")[2], c.categories["イ"].0);
    assert_eq!(row(categories, "イ")[3], c.categories["イ"].1);
    assert_eq!(row(categories, "合計")[4], c.answered);
    let charts = categories["charts"].as_array().expect("charts");
    assert_eq!(charts.len(), 1);
    assert_eq!(charts[0]["title"], "問い合わせ内容別の件数");

    let counter = &book["窓口支援"];
    assert_eq!(counter["values"][3][0], "種別");
    assert_eq!(row(counter, "紛失再交付").len(), 7);
    assert_eq!(row(counter, "合計")[5], c.counter_cases);
}

/// A queued June call in Tokyo on the 2nd at 10:MM, answered by op1 after `waited_s` when
/// `waited_s` is some.
fn june_call(id: &str, minute: u32, disposition: Disposition, waited_s: Option<i64>) -> CallRecord {
    let arrived_at = chrono_tz::Asia::Tokyo
        .with_ymd_and_hms(2025, 6, 2, 10, minute, 0)
        .single()
        .expect("a Tokyo instant")
        .with_timezone(&Utc);
    CallRecord {
        id: id.into(),
        sip_call_id: format!("{id}@trunk.example"),
        caller: "anonymous".into(),
        called: "hotline".into(),
        arrived_at,
        answered_at: None,
        ended_at: arrived_at + chrono::Duration::seconds(300),
        entry: Some("hotline".into()),
        branch: Some("open".into()),
        disposition,
        dtmf: vec![],
        hangup_side: None,
        hangup_cause: None,
        queue: Some("card".into()),
        waited_ms: Some(waited_s.unwrap_or(20) * 1000),
        operator: waited_s.map(|_| "op1".to_owned()),
        connected_at: None,
        talk_ms: waited_s.map(|_| 60_000),
        transfer_target: None,
        transfer_result: None,
        menu_choice: None,
        answer_mode: None,
        answered_by: None,
        unanswered_ms: None,
        answered_ms: None,
        language: None,
        language_fallback: None,
        node_id: "node-a".into(),
        events: vec![],
    }
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number, not {v}"))
}

#[tokio::test]
async fn the_monthly_xlsx_has_the_language_free_waiting_and_device_tables() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("residents.db").display());
    let store = Store::connect(&url).await.expect("store");
    let english = |record: CallRecord, fallback| CallRecord {
        language: Some("en".into()),
        language_fallback: fallback,
        ..record
    };
    let free = |record: CallRecord, by, unanswered_s: i64, answered_s: i64| CallRecord {
        answer_mode: Some(AnswerMode::Operator),
        answered_by: Some(by),
        unanswered_ms: Some(unanswered_s * 1000),
        answered_ms: Some(answered_s * 1000),
        ..record
    };
    let calls = vec![
        june_call("ja1", 0, Disposition::Answered, Some(10)),
        english(june_call("en1", 1, Disposition::Answered, Some(40)), None),
        english(
            june_call("en2", 2, Disposition::Answered, Some(130)),
            Some(LanguageFallbackUsed::Any),
        ),
        english(
            CallRecord {
                transfer_target: Some("city_line".into()),
                transfer_result: Some("answered".into()),
                ..june_call("en3", 3, Disposition::Transferred, None)
            },
            Some(LanguageFallbackUsed::Target),
        ),
        free(
            june_call("fw1", 4, Disposition::Answered, Some(30)),
            AnsweredBy::Operator,
            40,
            100,
        ),
        free(
            june_call("fw2", 5, Disposition::CallbackRequested, None),
            AnsweredBy::EarlyLimit,
            150,
            12,
        ),
    ];
    store.insert_calls(&calls).await.expect("calls");
    let added = Utc.with_ymd_and_hms(2025, 5, 20, 0, 0, 0).unwrap();
    store
        .device_add(&NewDevice::new("counter-1", "窓口1", "本庁舎1階"), added)
        .await
        .expect("device");
    let beat_at = Utc.with_ymd_and_hms(2025, 6, 2, 1, 0, 0).unwrap();
    for (second, rtt_ms) in [(0, None), (30, Some(90))] {
        let beat = Beat {
            status: DeviceStatus::Ok,
            detail: None,
            rtt_ms,
        };
        store
            .device_beat(
                "counter-1",
                beat_at + chrono::Duration::seconds(second),
                &beat,
            )
            .await
            .expect("beat");
    }
    store.close().await;

    let path = dir.path().join("june.xlsx");
    report(
        &url,
        &["monthly", "--month", "2025-06", "--format", "xlsx"],
        &path,
    );
    let book = read_xlsx(&path);

    assert_eq!(row(&book["概要"], "コールバック受付 (件)")[1], 1);

    let languages = &book["言語別"];
    assert_eq!(languages["values"][3][0], "言語");
    // calls, offered, answered, abandoned, mean answered wait, fell back, to a target
    let ja = row(languages, "日本語（ja）");
    assert_eq!(ja[1..5], [3, 3, 2, 0]);
    assert_eq!(number(&ja[5]), 20.0); // ja1 10 s, fw1 30 s
    let en = row(languages, "English（en）");
    assert_eq!(en[1..5], [3, 3, 2, 0]);
    assert_eq!(number(&en[5]), 85.0); // (40 + 130) / 2
    assert_eq!(en[6..8], [1, 1]);
    assert_eq!(row(languages, "合計")[1], 6);
    assert_eq!(languages["formats"][5][5], "#,##0.0");

    let free_waiting = &book["応答前待ち"];
    assert_eq!(row(free_waiting, "応答前待ちの着信 (件)")[1], 2);
    assert_eq!(row(free_waiting, "　うちオペレーター応答 (件)")[1], 1);
    assert_eq!(row(free_waiting, "　うち待ち上限による応答 (件)")[1], 1);
    assert_eq!(
        number(&row(free_waiting, "応答前の時間 合計 (秒)")[1]),
        190.0
    );
    assert_eq!(
        number(&row(free_waiting, "応答前の時間 平均 (秒)")[1]),
        95.0
    );
    assert_eq!(
        number(&row(free_waiting, "応答後の時間 平均 (秒)")[1]),
        56.0
    );
    assert_eq!(row(free_waiting, "コールバック受付 (件、全着信)")[1], 1);

    let devices = &book["窓口機器"];
    let counter_1 = row(devices, "counter-1");
    assert_eq!(counter_1[1..3], ["窓口1", "本庁舎1階"]);
    assert_eq!(counter_1[3], 2, "beats");
    assert_eq!(counter_1[4], 0, "outages");
    assert_eq!(
        number(&counter_1[7]),
        1.0,
        "never silent: available all month"
    );
    assert_eq!(counter_1[8], 90, "mean RTT");
    let rows = devices["values"].as_array().expect("rows");
    assert!(
        rows.iter()
            .filter_map(|r| r[0].as_str())
            .any(|text| text.contains("開庁時間外を含む")),
        "the note on opening hours"
    );
}

#[test]
fn the_final_report_defaults_to_the_contract_period_and_adds_its_months() {
    let db = seeded(1_000);
    seed(&db.url, "2026-01", 500, 12);
    let bytes = report(
        &db.url,
        &["final", "--format", "csv"],
        &db.dir.path().join("final.csv"),
    );
    let text = String::from_utf8(bytes).expect("UTF-8");
    assert!(text.starts_with(&format!(
        "{BOM}座間市マイナンバーカード相談コールセンター 最終報告 \
         2025年6月1日〜2026年3月31日（令和7年6月1日〜令和8年3月31日）\r\n"
    )));
    let parts = sections(&text);
    assert_eq!(summary(&parts)["総着信数 (件)"], "1500");
    assert_eq!(
        parts["日別"].len(),
        304 + 2,
        "every contract day, headings, total"
    );
    // Only the two seeded months have calls.
    let months: std::collections::BTreeSet<&str> = parts["日別"][1..305]
        .iter()
        .filter(|row| row[3] != "0")
        .map(|row| &row[0][..7])
        .collect();
    assert_eq!(
        months.into_iter().collect::<Vec<_>>(),
        ["2025-06", "2026-01"]
    );
    // A range given explicitly: January alone.
    let bytes = report(
        &db.url,
        &[
            "final",
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-31",
            "--format",
            "csv",
        ],
        &db.dir.path().join("january.csv"),
    );
    let text = String::from_utf8(bytes).expect("UTF-8");
    assert_eq!(summary(&sections(&text))["総着信数 (件)"], "500");
}

#[test]
fn a_bad_month_or_format_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("empty.db").display());
    let out = dir.path().join("x.csv");
    let out = out.display().to_string();
    for args in [
        vec!["report", "monthly", "--month", "2025-13", "--format", "csv"],
        vec!["report", "monthly", "--month", "2025-06", "--format", "pdf"],
        vec![
            "report",
            "final",
            "--from",
            "2026-03-31",
            "--to",
            "2025-06-01",
            "--format",
            "csv",
        ],
    ] {
        let mut args = args;
        args.extend_from_slice(&["--out", &out, "--database-url", &url]);
        let (code, _, stderr) = madoguchi_cli(&args, "");
        assert_ne!(code, 0, "{args:?}");
        assert!(!stderr.is_empty());
        assert!(!Path::new(&out).exists());
    }
}

/// A GET returning raw bytes (the support client reads text), with its status and headers.
fn get_bytes(
    addr: SocketAddr,
    path: &str,
    token: &str,
) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    )
    .expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let body = response[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: BTreeMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    if let Some(length) = headers.get("content-length") {
        assert_eq!(
            length.parse::<usize>().ok(),
            Some(body.len()),
            "a whole body"
        );
    }
    (status, headers, body)
}

#[test]
fn managers_download_the_reports_over_http_and_agents_may_not() {
    let db = seeded(2_000);
    ensure_user(&db.url, "mgr", "manager", "manager-password-1");
    ensure_user(&db.url, "op1", "agent", "agent-password-1");
    let manager = create_token(&db.url, "mgr");
    let agent = create_token(&db.url, "op1");
    let engine = EngineProcess::start(Options {
        database_url: Some(db.url.clone()),
        ..Options::default()
    });

    let (status, headers, body) = get_bytes(
        engine.http,
        "/api/v1/reports/monthly?month=2025-06&format=csv",
        &manager,
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"madoguchi-report-2025-06.csv\""
    );
    let over_http = String::from_utf8(body).expect("UTF-8");
    assert!(over_http.starts_with(BOM));
    let from_cli = String::from_utf8(report(
        &db.url,
        &["monthly", "--month", "2025-06", "--format", "csv"],
        &db.dir.path().join("june.csv"),
    ))
    .expect("UTF-8");
    let (http_sections, cli_sections) = (sections(&over_http), sections(&from_cli));
    for section in [
        "日別",
        "時間帯別",
        "曜日区分別（平日・土曜日・日曜日・祝日）",
        "言語別（受付時間内の着信、言語を選ばなかった着信は既定の言語）",
        "応答前待ち（オペレーター応答まで発信者に通話料がかからない着信）",
        "窓口機器の稼働状況（ハートビート）",
    ] {
        assert_eq!(http_sections[section], cli_sections[section], "{section}");
    }

    let (status, headers, body) = get_bytes(
        engine.http,
        "/api/v1/reports/final?from=2025-06-01&to=2025-06-30&format=xlsx",
        &manager,
    );
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"madoguchi-report-2025-06-01_2025-06-30.xlsx\""
    );
    assert!(body.starts_with(b"PK"));

    let (status, _, _) = get_bytes(engine.http, "/api/v1/reports/monthly?month=2025-06", &agent);
    assert_eq!(status, 403, "agents do not get reports");
    let (status, _, _) = get_bytes(engine.http, "/api/v1/reports/monthly?month=2025-06", "nope");
    assert_eq!(status, 401);
    for bad in [
        "/api/v1/reports/monthly?month=2025-6",
        "/api/v1/reports/monthly?month=2025-06&format=pdf",
        "/api/v1/reports/monthly",
        "/api/v1/reports/final?from=2026-01-01&to=2025-01-01",
        "/api/v1/reports/monthly?month=2025-06&service_level_seconds=0",
    ] {
        let (status, _, _) = get_bytes(engine.http, bad, &manager);
        assert_eq!(status, 400, "{bad}");
    }
    let (status, body) = engine.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    assert!(body.contains("/api/v1/reports/monthly") && body.contains("/api/v1/reports/final"));
}

/// A fresh schema on the test PostgreSQL, dropped on drop.
struct PgSchema {
    admin_url: String,
    name: String,
}

impl PgSchema {
    fn new() -> PgSchema {
        let admin_url = std::env::var("MADOGUCHI_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!("report_e2e_{}_{nanos}", std::process::id());
        psql(&admin_url, &format!("CREATE SCHEMA {name}"));
        PgSchema { admin_url, name }
    }

    fn url(&self) -> String {
        let separator = if self.admin_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.admin_url, self.name
        )
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                &self.admin_url,
                "-qc",
                &format!("DROP SCHEMA {} CASCADE", self.name),
            ])
            .output();
    }
}

fn psql(url: &str, sql: &str) {
    let output = Command::new("psql")
        .args([url, "-qc", sql])
        .output()
        .expect("psql (postgresql-client) runs");
    assert!(
        output.status.success(),
        "psql {sql}: {} (the report tests need the test PostgreSQL, see scripts/test.sh)",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_same_month_reports_byte_for_byte_alike_on_postgresql_and_sqlite() {
    let sqlite = seeded(2_000);
    let pg = PgSchema::new();
    seed(&pg.url(), "2025-06", 2_000, 11);
    let args = ["monthly", "--month", "2025-06", "--format", "csv"];
    let on_sqlite = report(&sqlite.url, &args, &sqlite.dir.path().join("sqlite.csv"));
    let on_pg = report(&pg.url(), &args, &sqlite.dir.path().join("pg.csv"));
    assert_eq!(
        String::from_utf8_lossy(&on_pg),
        String::from_utf8_lossy(&on_sqlite)
    );
}
