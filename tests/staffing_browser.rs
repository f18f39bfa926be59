//! End to end: the staffing page at `/manager/staffing.html` in a real headless Chromium
//! against the real binary, its database seeded with three weeks of queue calls (the same
//! weekday a week, two and three weeks ago: a 10:00 peak of 60 calls, quieter half-hours
//! around it; and 14:00 calls on the weekday before). A manager signs in through the page;
//! the week shows as a table whose every cell and daily peak are the seats
//! `GET /api/v1/staffing` gives for the same question; asking 90 % in 10 s instead of the
//! default 80 % in 20 s raises the seats at the peak, again as the API says. The arrow keys
//! move through the cells and the forecast of the cell in focus is spelled out; the page
//! switches to English. An operator is told the page is for managers only, and a center
//! without history shows a manager an empty state, not an empty table.
//!
//! Screenshots go to `target/test-artifacts/manager/staffing-*.png` (1280×720).

mod support;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Tokyo;
use fantoccini::Locator;
use madoguchi_store::{CallRecord, Disposition, Store};
use serde_json::Value;
use support::browser::{artifacts_dir, write_tone, Browser, Chromedriver};
use support::{ensure_user, request, EngineProcess, Options};

const MANAGER: &str = "sato";
const MANAGER_PASSWORD: &str = "pw-sato-manager";
const OPERATOR: &str = "op1";
const OPERATOR_PASSWORD: &str = "pw-op1-agent";
const AREA: &str = "manager";
/// WebDriver key codes.
const ARROW_RIGHT: char = '\u{e014}';
const ARROW_DOWN: char = '\u{e015}';
const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A call to the reference dialplan's `card` queue (wrap-up 10 s), answered after 5 s with
/// `talk_s` of talk, or abandoned.
fn queued(id: String, arrived_at: DateTime<Utc>, talk_s: Option<i64>) -> CallRecord {
    let answered = talk_s.is_some();
    CallRecord {
        sip_call_id: format!("{id}@trunk.example"),
        id,
        caller: "0462001234".into(),
        called: "hotline".into(),
        arrived_at,
        answered_at: Some(arrived_at),
        ended_at: arrived_at + Duration::seconds(300),
        entry: Some("hotline".into()),
        branch: Some("open".into()),
        disposition: if answered {
            Disposition::Answered
        } else {
            Disposition::Abandoned
        },
        dtmf: vec![],
        hangup_side: None,
        hangup_cause: None,
        queue: Some("card".into()),
        waited_ms: Some(5_000),
        operator: answered.then(|| OPERATOR.to_owned()),
        connected_at: answered.then(|| arrived_at + Duration::seconds(5)),
        talk_ms: talk_s.map(|s| s * 1000),
        transfer_target: None,
        transfer_result: None,
        menu_choice: None,
        answer_mode: None,
        answered_by: None,
        unanswered_ms: None,
        answered_ms: None,
        language: None,
        language_fallback: None,
        node_id: "node1".into(),
        events: vec![],
    }
}

/// `hh:mm` on `date` in Tokyo, plus `seconds`.
fn tokyo(date: NaiveDate, hour: u32, minute: u32, seconds: i64) -> DateTime<Utc> {
    let local = date.and_hms_opt(hour, minute, 0).expect("valid time");
    Tokyo
        .from_local_datetime(&local)
        .single()
        .expect("Tokyo has no gaps")
        .with_timezone(&Utc)
        + Duration::seconds(seconds)
}

/// `count` calls spread over the half-hour from `hh:mm` on `date`, the first `answered` of
/// them answered with 170 s of talk (180 s handling with the queue's wrap-up).
fn half_hour(
    date: NaiveDate,
    (hour, minute): (u32, u32),
    count: i64,
    answered: i64,
) -> Vec<CallRecord> {
    (0..count)
        .map(|i| {
            queued(
                format!("{date}-{hour:02}{minute:02}-{i}"),
                tokyo(date, hour, minute, i * 1800 / count),
                (i < answered).then_some(170),
            )
        })
        .collect()
}

/// Three weeks of history, all inside the default four-week window even if midnight passes
/// during the test: on the weekday a week ago (and one and two weeks before), 10 calls at
/// 09:30, the peak of 60 at 10:00 and 8 (2 abandoned) at 10:30; on the weekday before, 8
/// calls at 14:00. The peak is 60 × 3 / 4 weeks per half-hour = 90 calls an hour at 180 s
/// (4.5 erlangs): 7 seats for 80 % in 20 s, 8 for 90 % in 10 s.
fn history() -> Vec<CallRecord> {
    let today = Utc::now().with_timezone(&Tokyo).date_naive();
    let mut records = Vec::new();
    for weeks_ago in 1..=3 {
        let day = today - Duration::days(7 * weeks_ago);
        records.extend(half_hour(day, (9, 30), 10, 10));
        records.extend(half_hour(day, (10, 0), 60, 60));
        records.extend(half_hour(day, (10, 30), 8, 6));
        records.extend(half_hour(day - Duration::days(1), (14, 0), 8, 8));
    }
    records
}

/// The engine on a database holding `records`, with a manager and an operator, and a
/// Chromium on the staffing page showing its sign-in form.
struct Office {
    browser: Browser,
    engine: EngineProcess,
    name: &'static str,
    _chromedriver: Chromedriver,
    _files: tempfile::TempDir,
}

impl Office {
    async fn open(name: &'static str, records: Vec<CallRecord>) -> Office {
        let files = tempfile::tempdir().expect("temp dir");
        let database_url = format!("sqlite://{}", files.path().join("staffing.db").display());
        let store_url = database_url.clone();
        let store = Store::connect(&store_url).await.expect("store");
        store.insert_calls(&records).await.expect("insert");
        store.close().await;
        let engine = tokio::task::block_in_place(|| {
            ensure_user(&database_url, MANAGER, "manager", MANAGER_PASSWORD);
            ensure_user(&database_url, OPERATOR, "agent", OPERATOR_PASSWORD);
            EngineProcess::start(Options {
                database_url: Some(database_url),
                ..Options::default()
            })
        });
        // The page needs no microphone; the browser helper wants a file for the fake one.
        let tone = files.path().join("silence.wav");
        write_tone(&tone, 440.0);
        let chromedriver = Chromedriver::start().await;
        let mut browser = chromedriver.open(&tone).await;
        browser.describe_with("JSON.stringify(window.madoguchiStaffing?.state())");
        browser
            .goto(&format!("http://{}/manager/staffing.html", engine.http))
            .await;
        browser
            .until(
                "window.madoguchiStaffing.state().view === 'sign_in' \
                 && document.activeElement?.id === 'sign-in-login'",
                "the sign-in form is shown",
            )
            .await;
        Office {
            browser,
            engine,
            name,
            _chromedriver: chromedriver,
            _files: files,
        }
    }

    async fn sign_in(&self, login: &str, password: &str) {
        // The page keeps the last login in its field after signing out.
        self.retype("#sign-in-login", login).await;
        self.browser.type_into("#sign-in-password", password).await;
        self.browser.click("#sign-in-submit").await;
    }

    async fn screenshot(&self, name: &str) {
        self.browser
            .screenshot(AREA, &format!("staffing-{name}"))
            .await;
    }

    /// The API's week for `query` (the page's question), asked with the test admin's token.
    fn api(&self, query: &str) -> Value {
        let path = if query.is_empty() {
            "/api/v1/staffing".to_owned()
        } else {
            format!("/api/v1/staffing?{query}")
        };
        let (status, body) = tokio::task::block_in_place(|| self.engine.get(&path));
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("JSON body")
    }

    /// Replaces the text of the field `css` with `text`, as a person would.
    async fn retype(&self, css: &str, text: &str) {
        self.browser
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no field {css}: {e}"))
            .clear()
            .await
            .unwrap_or_else(|e| panic!("{css} cannot be cleared: {e}"));
        self.browser.type_into(css, text).await;
    }

    /// The page's cells: `[weekday, start, text]` for every seat cell of the table.
    async fn cells(&self) -> Vec<(String, String, String)> {
        let shown = self
            .browser
            .eval(
                "[...document.querySelectorAll('#week-rows td[data-weekday]')] \
                   .map((td) => [td.dataset.weekday, td.dataset.start, td.textContent])",
            )
            .await;
        shown
            .as_array()
            .expect("an array of cells")
            .iter()
            .map(|cell| {
                let text = |k: usize| cell[k].as_str().unwrap_or_default().to_owned();
                (text(0), text(1), text(2))
            })
            .collect()
    }

    /// The daily peaks in the table's last row, Monday first.
    async fn peaks(&self) -> Vec<String> {
        let shown = self
            .browser
            .eval("[...document.querySelectorAll('#week-peaks td')].map((td) => td.textContent)")
            .await;
        shown
            .as_array()
            .expect("an array of peaks")
            .iter()
            .map(|peak| peak.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Checks every seat cell and daily peak of the table against the API's `week`, and
    /// that the rows run from its first interval with calls to its last.
    async fn assert_grid_is(&self, week: &Value) {
        let days = week["days"].as_array().expect("days");
        let cells = self.cells().await;
        assert!(!cells.is_empty(), "the table has cells");
        for (weekday, start, text) in &cells {
            let day = days
                .iter()
                .find(|d| d["weekday"] == weekday.as_str())
                .unwrap_or_else(|| panic!("no day {weekday} in the API"));
            let interval = day["intervals"]
                .as_array()
                .and_then(|all| all.iter().find(|i| i["start"] == start.as_str()))
                .unwrap_or_else(|| panic!("no interval {start} in the API"));
            let expected = interval["agents"]
                .as_u64()
                .map_or("—".to_owned(), |n| n.to_string());
            assert_eq!(text, &expected, "{weekday} {start}: the page vs the API");
        }
        let expected_peaks: Vec<String> =
            days.iter().map(|d| d["peak_agents"].to_string()).collect();
        assert_eq!(self.peaks().await, expected_peaks, "daily peaks");

        let with_calls: Vec<&str> = days
            .iter()
            .flat_map(|d| d["intervals"].as_array().into_iter().flatten())
            .filter(|i| i["arrivals"].as_u64().unwrap_or(0) > 0)
            .filter_map(|i| i["start"].as_str())
            .collect();
        let first = with_calls.iter().min().expect("calls in the history");
        let last = with_calls.iter().max().expect("calls in the history");
        let starts: Vec<&str> = cells.iter().map(|(_, start, _)| start.as_str()).collect();
        assert_eq!(starts.first(), Some(first), "the first row");
        assert_eq!(starts.last(), Some(last), "the last row");
        assert_eq!(cells.len() % 7, 0, "seven cells a row");
    }
}

impl Drop for Office {
    /// A failed test leaves the engine's log beside its screenshots.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let path = artifacts_dir(AREA).join(format!("staffing-{}-engine.log", self.name));
            let _ = std::fs::write(path, self.engine.log());
        }
    }
}

/// The weekday (`mon` …) whose peak is the week's most, and that peak.
fn busiest(week: &Value) -> (String, u64) {
    week["days"]
        .as_array()
        .expect("days")
        .iter()
        .map(|d| {
            (
                d["weekday"].as_str().unwrap_or_default().to_owned(),
                d["peak_agents"].as_u64().unwrap_or(0),
            )
        })
        .max_by_key(|(_, peak)| *peak)
        .expect("seven days")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_sees_the_seats_of_a_typical_week_as_the_api_computes_them() {
    let office = Office::open("week", history()).await;
    office.sign_in(MANAGER, MANAGER_PASSWORD).await;
    office
        .browser
        .until(
            "(() => { const s = window.madoguchiStaffing.state(); \
               return s.view === 'staffing' && s.answers === 1 && s.status === 'idle'; })()",
            "the week is shown",
        )
        .await;

    // The first question is the API's defaults, and the form shows them.
    let query = office
        .browser
        .eval("window.madoguchiStaffing.state().query")
        .await;
    assert_eq!(query, "", "the first question asks the API's defaults");
    let defaults = office.api("");
    let form = office
        .browser
        .eval(
            "['goal-target', 'goal-threshold', 'goal-weeks', 'goal-aht'] \
               .map((id) => document.getElementById(id).value)",
        )
        .await;
    assert_eq!(form, serde_json::json!(["80", "20", "4", ""]));
    assert_eq!(defaults["arrivals"], 3 * (10 + 60 + 8 + 8));
    office.assert_grid_is(&defaults).await;
    let (peak_day, default_peak) = busiest(&defaults);
    assert_eq!(default_peak, 7, "4.5 erlangs at 80 % in 20 s");
    let peak_cell = format!("#week-rows td[data-weekday=\"{peak_day}\"][data-start=\"10:00\"]");
    assert_eq!(office.browser.text(&peak_cell).await, "7");
    assert_eq!(
        office
            .browser
            .eval(&format!(
                "document.querySelector('{peak_cell}').classList.contains('peak')"
            ))
            .await,
        true,
        "the day's busiest interval is marked"
    );

    // What the seats rest on.
    assert_eq!(
        office.browser.text("[data-field=\"arrivals\"]").await,
        "258"
    );
    assert_eq!(
        office.browser.text("[data-field=\"aht\"]").await,
        "3:00（実測）"
    );
    assert_eq!(office.browser.text("[data-field=\"peak\"]").await, "7席");
    let period = office.browser.text("[data-field=\"period\"]").await;
    assert!(
        period.contains("4週間") && period.contains("Asia/Tokyo"),
        "{period}"
    );

    // A table a screen reader can walk: weekday column headers and interval row headers.
    let headers = office
        .browser
        .eval(
            "[document.querySelectorAll('#week thead th[scope=\"col\"]').length, \
              document.querySelectorAll('#week tbody th[scope=\"row\"]').length, \
              document.querySelectorAll('#week tbody tr').length, \
              document.getElementById('week-caption').textContent]",
        )
        .await;
    assert_eq!(headers[0], 8, "the interval column and seven weekdays");
    assert_eq!(
        headers[1], headers[2],
        "every row has its interval as header"
    );
    assert!(
        headers[3]
            .as_str()
            .is_some_and(|c| c.contains("80%") && c.contains("20秒")),
        "{headers}"
    );
    assert!(
        office
            .browser
            .eval("document.documentElement.scrollWidth <= window.innerWidth")
            .await
            == true,
        "no horizontal scroll at 1280×720"
    );
    office.screenshot("1-week").await;

    // The arrow keys move through the cells and the focused one's forecast is spelled out.
    office
        .browser
        .click(&format!(
            "#week-rows td[data-weekday=\"{peak_day}\"][data-start=\"09:30\"]"
        ))
        .await;
    office.browser.press(ARROW_DOWN).await;
    let focused = office
        .browser
        .until(
            "document.activeElement?.dataset.start === '10:00' \
             && document.activeElement.tabIndex === 0 && document.activeElement",
            "the arrow key moves the focus to the next interval",
        )
        .await;
    assert!(focused.is_object(), "{focused}");
    let detail = office.browser.text("#detail").await;
    assert!(
        detail.contains("10:00–10:30")
            && detail.contains("必要 7席")
            && detail.contains("着信 90.0件/時"),
        "{detail}"
    );
    office.browser.press(ARROW_RIGHT).await;
    let right = WEEKDAYS
        .iter()
        .position(|d| *d == peak_day)
        .map_or(peak_day.as_str(), |k| WEEKDAYS[(k + 1).min(6)]);
    office
        .browser
        .until(
            &format!(
                "document.activeElement?.dataset.start === '10:00' \
                 && document.activeElement.dataset.weekday === '{right}' \
                 && document.querySelectorAll('#week-rows td[tabindex=\"0\"]').length === 1"
            ),
            "the arrow key moves to the next day, one cell at a time in the tab order",
        )
        .await;

    // A nonsense target is refused in the page, naming the field; nothing is asked.
    office.retype("#goal-target", "120").await;
    office.browser.click("#goal-submit").await;
    office
        .browser
        .until(
            "!document.getElementById('goal-error').hidden \
             && document.getElementById('goal-target').getAttribute('aria-invalid') === 'true'",
            "the page says the target is out of range",
        )
        .await;
    assert_eq!(
        office
            .browser
            .eval("window.madoguchiStaffing.state().answers")
            .await,
        1
    );

    // 90 % in 10 s: more seats at the peak, as the API says.
    office.retype("#goal-target", "90").await;
    office.retype("#goal-threshold", "10").await;
    office.browser.click("#goal-submit").await;
    office
        .browser
        .until(
            "(() => { const s = window.madoguchiStaffing.state(); \
               return s.answers === 2 && s.status === 'idle'; })()",
            "the week for 90 % in 10 s is shown",
        )
        .await;
    let query = office
        .browser
        .eval("window.madoguchiStaffing.state().query")
        .await;
    assert_eq!(query, "target=0.9&threshold=10&weeks=4");
    let stricter = office.api("target=0.9&threshold=10&weeks=4");
    office.assert_grid_is(&stricter).await;
    let (_, stricter_peak) = busiest(&stricter);
    assert!(
        stricter_peak > default_peak,
        "90 % in 10 s needs more than {default_peak} seats: {stricter_peak}"
    );
    assert_eq!(
        office.browser.text(&peak_cell).await,
        stricter_peak.to_string()
    );
    assert_eq!(
        office.browser.eval("window.location.search").await,
        "?target=0.9&threshold=10&weeks=4",
        "the question is kept in the address"
    );
    assert!(
        office
            .browser
            .eval("document.getElementById('goal-error').hidden")
            .await
            == true,
        "the earlier error is gone"
    );
    office.screenshot("2-target-90-in-10s").await;

    // The grid as CSV, from the page.
    let csv = office.browser.eval("window.madoguchiStaffing.csv()").await;
    let csv = csv.as_str().unwrap_or_default();
    assert!(csv.starts_with("時間帯,月,火,水,木,金,土,日\r\n"), "{csv}");
    assert!(
        csv.contains("\r\nピーク,") && csv.lines().count() == office.cells().await.len() / 7 + 2,
        "{csv}"
    );
    let href = office
        .browser
        .eval("document.getElementById('csv-download').getAttribute('href')")
        .await;
    assert!(
        href.as_str().is_some_and(|h| h.starts_with("blob:")),
        "{href}"
    );

    // English by the toggle, the seats unchanged.
    office.browser.click("#lang-toggle").await;
    office
        .browser
        .until(
            "document.getElementById('week-heading').textContent.startsWith('Seats needed') \
             && document.querySelector('#week thead th abbr')?.textContent === 'Mon'",
            "the page switches to English",
        )
        .await;
    office.assert_grid_is(&stricter).await;
    assert_eq!(
        office.browser.text("[data-field=\"goal\"]").await,
        "90% answered within 10 s"
    );
    office.screenshot("3-english").await;
    office.browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_is_told_managers_only_and_without_history_the_page_says_so() {
    let office = Office::open("empty", Vec::new()).await;
    let page = tokio::task::block_in_place(|| {
        request(
            office.engine.http,
            "GET",
            "/manager/staffing.html",
            &[],
            None,
        )
    });
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-security-policy")
            .is_some_and(|policy| policy.contains("script-src 'self'")),
        "the page is served with the manager pages' content security policy"
    );
    office.sign_in(OPERATOR, OPERATOR_PASSWORD).await;
    office
        .browser
        .until(
            "window.madoguchiStaffing.state().view === 'forbidden'",
            "the page says it is for managers",
        )
        .await;
    assert_eq!(
        office.browser.text("#forbidden-message").await,
        "このページは管理者専用です。"
    );
    assert_eq!(
        office
            .browser
            .eval("window.madoguchiStaffing.state().answers")
            .await,
        0,
        "nothing is asked for an operator"
    );
    office.screenshot("4-managers-only").await;

    office.browser.click("#sign-out").await;
    office
        .browser
        .until(
            "window.madoguchiStaffing.state().view === 'sign_in'",
            "signed out",
        )
        .await;
    office.sign_in(MANAGER, MANAGER_PASSWORD).await;
    office
        .browser
        .until(
            "(() => { const s = window.madoguchiStaffing.state(); \
               return s.view === 'staffing' && s.answers === 1 && s.empty === true; })()",
            "the manager sees the week, empty",
        )
        .await;
    let shown = office
        .browser
        .eval(
            "[document.getElementById('empty').hidden, document.getElementById('week-panel').hidden, \
              document.getElementById('empty').textContent]",
        )
        .await;
    assert_eq!(shown[0], false, "the empty state is shown: {shown}");
    assert_eq!(shown[1], true, "no empty table: {shown}");
    assert!(
        shown[2]
            .as_str()
            .is_some_and(|text| text.contains("着信がありません")),
        "{shown}"
    );
    assert_eq!(office.browser.text("[data-field=\"arrivals\"]").await, "0");
    office.screenshot("5-no-history").await;
    office.browser.close().await;
}
