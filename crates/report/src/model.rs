//! [`Report`]: the store's figures grouped into the tables the city receives — the period's
//! totals, by day, by hour band, by day type, by inquiry category, transfers, counter cases,
//! caller languages, free waiting and the counter devices.
//!
//! The store sums calls per quarter-hour in SQL ([`madoguchi_store::SlotFigures`]); grouping
//! those into local days and hours happens here, in Rust, because the day type needs the
//! national holidays (computed by `madoguchi-calendar`, which SQL cannot call) and SQLite has
//! no time-zone database. A month is at most 2,976 quarter-hours per queue, so this costs
//! nothing next to the SQL.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), Box<dyn std::error::Error>> {
//! use madoguchi_report::{Period, Report, ReportSettings};
//! let settings = ReportSettings::new(chrono_tz::Asia::Tokyo);
//! let june = Period::parse_month("2025-06")?;
//! let figures = store.report_figures(&settings.query(&june)?).await?;
//! let report = Report::build(june, &settings, &figures);
//! println!("service level {:?}", report.total.service_level());
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{Datelike, NaiveDate, Timelike, Weekday};
use chrono_tz::Tz;
use madoguchi_store::{
    CounterKind, CounterOutcome, FreeWaitingFigures, ReportFigures, ReportQuery, TransferOrigin,
    DEFAULT_ANSWERED_WITHIN, DEFAULT_SHORT_ABANDON,
};

use crate::period::{Period, PeriodError};
use crate::tally::Tally;

/// The wrap-up a queue gets when the settings do not name it: the dialplan's default.
pub const DEFAULT_WRAP_UP: Duration = Duration::from_secs(10);

/// The language of callers who chose none, when the settings do not say.
pub const DEFAULT_LANGUAGE: &str = "ja";

/// Hour bands always shown, even without calls: the hotline's day, 08:00 to 20:00.
const CORE_HOURS: std::ops::RangeInclusive<u32> = 8..=19;

/// An inquiry category as the dialplan configures it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryLabel {
    pub code: String,
    pub label: String,
}

/// What a report needs besides the figures: where its days are, what things are called,
/// and the thresholds.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportSettings {
    /// The service's name, e.g. the dialplan's `name`.
    pub title: String,
    /// The hotline's time zone: days and hours are local to it.
    pub tz: Tz,
    /// The configured categories, in report order.
    pub categories: Vec<CategoryLabel>,
    /// Transfer target names → labels.
    pub targets: BTreeMap<String, String>,
    /// Each queue's wrap-up (the dialplan's `wrap_up`), added to the talk of every answered
    /// call whose wrap-up the engine did not measure (calls stored before it did).
    pub wrap_up: BTreeMap<String, Duration>,
    /// The wrap-up of a queue not in `wrap_up`.
    pub default_wrap_up: Duration,
    pub answered_within: Duration,
    pub short_abandon: Duration,
    /// The language of callers who chose none (the dialplan's `[languages] default`).
    pub default_language: String,
    /// Declared languages in report order: code → label (the default one included or not).
    pub languages: Vec<(String, String)>,
}

impl ReportSettings {
    /// Defaults: no categories or targets configured, 10 s wrap-up, 20 s and 5 s.
    pub fn new(tz: Tz) -> ReportSettings {
        ReportSettings {
            title: "マイナンバーカード相談コールセンター".to_owned(),
            tz,
            categories: Vec::new(),
            targets: BTreeMap::new(),
            wrap_up: BTreeMap::new(),
            default_wrap_up: DEFAULT_WRAP_UP,
            answered_within: DEFAULT_ANSWERED_WITHIN,
            short_abandon: DEFAULT_SHORT_ABANDON,
            default_language: DEFAULT_LANGUAGE.to_owned(),
            languages: Vec::new(),
        }
    }

    /// What a language is called in the report: its configured label, "日本語" for "ja",
    /// else its code.
    pub fn language_label(&self, code: &str) -> String {
        match self.languages.iter().find(|(c, _)| c == code) {
            Some((_, label)) => label.clone(),
            None if code == "ja" => "日本語".to_owned(),
            None => code.to_owned(),
        }
    }

    /// The store query for `period` with these thresholds.
    pub fn query(&self, period: &Period) -> Result<ReportQuery, PeriodError> {
        let (from, to) = period.bounds(self.tz)?;
        Ok(ReportQuery {
            from,
            to,
            answered_within: self.answered_within,
            short_abandon: self.short_abandon,
        })
    }

    /// The configured wrap-up of `queue` (the default for a queue not named).
    pub fn configured_wrap_up(&self, queue: Option<&str>) -> Duration {
        queue
            .and_then(|q| self.wrap_up.get(q))
            .copied()
            .unwrap_or(self.default_wrap_up)
    }

    fn wrap_up_ms(&self, queue: Option<&str>) -> i64 {
        i64::try_from(self.configured_wrap_up(queue).as_millis()).unwrap_or(i64::MAX)
    }
}

/// Weekday, Saturday, Sunday or national holiday (a holiday wins over its weekday).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DayType {
    Weekday,
    Saturday,
    Sunday,
    Holiday,
}

impl DayType {
    pub const ALL: [DayType; 4] = [
        DayType::Weekday,
        DayType::Saturday,
        DayType::Sunday,
        DayType::Holiday,
    ];

    pub fn of(date: NaiveDate) -> DayType {
        if madoguchi_calendar::holiday_on(date).is_some() {
            return DayType::Holiday;
        }
        match date.weekday() {
            Weekday::Sat => DayType::Saturday,
            Weekday::Sun => DayType::Sunday,
            _ => DayType::Weekday,
        }
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            DayType::Weekday => "平日",
            DayType::Saturday => "土曜日",
            DayType::Sunday => "日曜日",
            DayType::Holiday => "祝日",
        }
    }
}

/// One local day.
#[derive(Clone, Debug, PartialEq)]
pub struct DayRow {
    pub date: NaiveDate,
    pub day_type: DayType,
    /// The national holiday's name, if the day is one.
    pub holiday: Option<&'static str>,
    pub tally: Tally,
}

/// One local hour band, `hour:00` to `hour+1:00`.
#[derive(Clone, Debug, PartialEq)]
pub struct HourRow {
    pub hour: u32,
    pub tally: Tally,
}

/// The days of one type.
#[derive(Clone, Debug, PartialEq)]
pub struct DayTypeRow {
    pub day_type: DayType,
    /// How many days of the period are of this type.
    pub days: i64,
    pub tally: Tally,
}

/// Answered calls of one category.
#[derive(Clone, Debug, PartialEq)]
pub struct CategoryRow {
    /// `None`: answered, never classified.
    pub code: Option<String>,
    pub label: String,
    pub handled: i64,
    pub transferred: i64,
}

impl CategoryRow {
    pub fn total(&self) -> i64 {
        self.handled + self.transferred
    }
}

/// Transfers to one target from one origin with one result.
#[derive(Clone, Debug, PartialEq)]
pub struct TransferRow {
    pub target: String,
    pub target_label: String,
    pub origin: TransferOrigin,
    pub result: Option<String>,
    pub calls: i64,
}

/// Counter cases of one kind.
#[derive(Clone, Debug, PartialEq)]
pub struct CounterRow {
    /// The stored kind.
    pub kind: String,
    pub label: String,
    /// By outcome, in [`CounterOutcome::ALL`] order.
    pub by_outcome: [i64; 4],
    /// Cases with an outcome this program does not know.
    pub other_outcome: i64,
    pub fee_payment_confirmed: i64,
}

impl CounterRow {
    pub fn total(&self) -> i64 {
        self.by_outcome.iter().sum::<i64>() + self.other_outcome
    }
}

/// The calls of open hours in one caller language.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LanguageRow {
    pub code: String,
    pub label: String,
    pub calls: i64,
    pub offered: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub answered_wait_ms: i64,
    pub fell_back_to_any: i64,
    pub sent_to_target: i64,
}

impl LanguageRow {
    fn add(&mut self, f: &madoguchi_store::LanguageFigures) {
        self.calls += f.calls;
        self.offered += f.offered;
        self.answered += f.answered;
        self.abandoned += f.abandoned;
        self.answered_wait_ms += f.answered_wait_ms;
        self.fell_back_to_any += f.fell_back_to_any;
        self.sent_to_target += f.sent_to_target;
    }

    /// The mean wait of answered calls, in seconds.
    pub fn asa_s(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.answered_wait_ms as f64 / self.answered as f64 / 1000.0)
    }
}

/// One counter device over the period.
#[derive(Clone, Debug, PartialEq)]
pub struct DeviceRow {
    pub id: String,
    pub label: String,
    pub location: String,
    pub beats: u64,
    pub outages: u64,
    /// The silences that ended in the period, all hours (the store cannot tell opening hours).
    pub outage_ms: u64,
    pub longest_outage_ms: Option<u64>,
    /// 1 − silent time ÷ the period's length; `None` when the period has no length.
    pub availability: Option<f64>,
    pub mean_rtt_ms: Option<u64>,
    pub max_rtt_ms: Option<u64>,
}

/// Everything the monthly or final report shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub period: Period,
    pub settings: ReportSettings,
    pub total: Tally,
    /// Every day of the period, in order.
    pub days: Vec<DayRow>,
    /// The bands 08–20 and any other with calls, in order.
    pub hours: Vec<HourRow>,
    /// The four day types, in [`DayType::ALL`] order.
    pub day_types: Vec<DayTypeRow>,
    /// Configured categories in order, then codes no longer configured, then unclassified.
    pub categories: Vec<CategoryRow>,
    pub transfers: Vec<TransferRow>,
    /// The seven kinds in the city's order, then kinds this program does not know.
    pub counter: Vec<CounterRow>,
    /// The default language, the declared ones in order, then codes no longer declared.
    pub languages: Vec<LanguageRow>,
    pub free_waiting: FreeWaitingFigures,
    /// By device id.
    pub devices: Vec<DeviceRow>,
}

impl Report {
    /// Groups `figures` (read with `settings.query(&period)`) into the report's tables.
    pub fn build(period: Period, settings: &ReportSettings, figures: &ReportFigures) -> Report {
        let mut days: BTreeMap<NaiveDate, Tally> =
            period.days().map(|d| (d, Tally::default())).collect();
        let mut hours: BTreeMap<u32, Tally> = CORE_HOURS.map(|h| (h, Tally::default())).collect();
        let mut total = Tally::default();
        for slot in &figures.slots {
            let local = slot.start.with_timezone(&settings.tz);
            let wrap = settings.wrap_up_ms(slot.queue.as_deref());
            let mut tally = Tally::default();
            tally.add_slot(slot, wrap);
            total.add(&tally);
            days.entry(local.date_naive()).or_default().add(&tally);
            hours.entry(local.hour()).or_default().add(&tally);
        }
        let days: Vec<DayRow> = days
            .into_iter()
            .map(|(date, tally)| DayRow {
                date,
                day_type: DayType::of(date),
                holiday: madoguchi_calendar::holiday_on(date),
                tally,
            })
            .collect();
        let day_types = DayType::ALL
            .into_iter()
            .map(|day_type| {
                let mut tally = Tally::default();
                let mut count = 0;
                for day in days.iter().filter(|d| d.day_type == day_type) {
                    tally.add(&day.tally);
                    count += 1;
                }
                DayTypeRow {
                    day_type,
                    days: count,
                    tally,
                }
            })
            .collect();
        Report {
            period,
            settings: settings.clone(),
            total,
            days,
            hours: hours
                .into_iter()
                .map(|(hour, tally)| HourRow { hour, tally })
                .collect(),
            day_types,
            categories: categories(settings, figures),
            transfers: transfers(settings, figures),
            counter: counter(figures),
            languages: languages(settings, figures),
            free_waiting: figures.free_waiting,
            devices: devices(&period, settings, figures),
        }
    }

    /// Every counter case of the period.
    pub fn counter_total(&self) -> i64 {
        self.counter.iter().map(CounterRow::total).sum()
    }
}

fn categories(settings: &ReportSettings, figures: &ReportFigures) -> Vec<CategoryRow> {
    let mut found: BTreeMap<Option<&str>, (i64, i64)> = BTreeMap::new();
    for c in &figures.categories {
        let entry = found.entry(c.category.as_deref()).or_default();
        entry.0 += c.handled;
        entry.1 += c.transferred;
    }
    let mut rows: Vec<CategoryRow> = settings
        .categories
        .iter()
        .map(|c| {
            let (handled, transferred) = found.remove(&Some(c.code.as_str())).unwrap_or_default();
            CategoryRow {
                code: Some(c.code.clone()),
                label: c.label.clone(),
                handled,
                transferred,
            }
        })
        .collect();
    let unclassified = found.remove(&None);
    // Codes filed under an earlier configuration still count, under their code.
    rows.extend(
        found
            .into_iter()
            .map(|(code, (handled, transferred))| CategoryRow {
                code: code.map(str::to_owned),
                label: code.unwrap_or_default().to_owned(),
                handled,
                transferred,
            }),
    );
    if let Some((handled, transferred)) = unclassified {
        rows.push(CategoryRow {
            code: None,
            label: "未分類".to_owned(),
            handled,
            transferred,
        });
    }
    rows
}

fn languages(settings: &ReportSettings, figures: &ReportFigures) -> Vec<LanguageRow> {
    let row = |code: &str| LanguageRow {
        code: code.to_owned(),
        label: settings.language_label(code),
        ..LanguageRow::default()
    };
    let mut rows = vec![row(&settings.default_language)];
    rows.extend(
        settings
            .languages
            .iter()
            .filter(|(code, _)| *code != settings.default_language)
            .map(|(code, _)| row(code)),
    );
    for f in &figures.languages {
        // A record naming the default language explicitly is a default-language call.
        let code = f.language.as_deref().unwrap_or(&settings.default_language);
        match rows.iter_mut().find(|r| r.code == code) {
            Some(r) => r.add(f),
            None => {
                let mut r = row(code);
                r.add(f);
                rows.push(r);
            }
        }
    }
    rows
}

fn devices(period: &Period, settings: &ReportSettings, figures: &ReportFigures) -> Vec<DeviceRow> {
    let period_ms = period
        .bounds(settings.tz)
        .ok()
        .map(|(from, to)| (to - from).num_milliseconds())
        .filter(|ms| *ms > 0);
    figures
        .devices
        .iter()
        .map(|d| DeviceRow {
            id: d.device.clone(),
            label: d.label.clone(),
            location: d.location.clone(),
            beats: d.beats,
            outages: d.outages,
            outage_ms: d.outage_ms,
            longest_outage_ms: d.longest_outage_ms,
            availability: period_ms.map(|p| (1.0 - d.outage_ms as f64 / p as f64).clamp(0.0, 1.0)),
            mean_rtt_ms: d.mean_rtt_ms(),
            max_rtt_ms: d.rtt_max_ms,
        })
        .collect()
}

fn transfers(settings: &ReportSettings, figures: &ReportFigures) -> Vec<TransferRow> {
    figures
        .transfers
        .iter()
        .map(|t| TransferRow {
            target: t.target.clone(),
            target_label: settings
                .targets
                .get(&t.target)
                .cloned()
                .unwrap_or_else(|| t.target.clone()),
            origin: t.origin,
            result: t.result.clone(),
            calls: t.calls,
        })
        .collect()
}

fn counter(figures: &ReportFigures) -> Vec<CounterRow> {
    let mut rows: Vec<CounterRow> = CounterKind::ALL
        .into_iter()
        .map(|k| CounterRow {
            kind: k.as_str().to_owned(),
            label: k.label_ja().to_owned(),
            by_outcome: [0; 4],
            other_outcome: 0,
            fee_payment_confirmed: 0,
        })
        .collect();
    for f in &figures.counter {
        let index = match rows.iter().position(|r| r.kind == f.kind) {
            Some(index) => index,
            None => {
                rows.push(CounterRow {
                    kind: f.kind.clone(),
                    label: f.kind.clone(),
                    by_outcome: [0; 4],
                    other_outcome: 0,
                    fee_payment_confirmed: 0,
                });
                rows.len() - 1
            }
        };
        let row = &mut rows[index];
        match CounterOutcome::ALL
            .iter()
            .position(|o| o.as_str() == f.outcome)
        {
            Some(o) => row.by_outcome[o] += f.cases,
            None => row.other_outcome += f.cases,
        }
        row.fee_payment_confirmed += f.fee_payment_confirmed;
    }
    rows
}

/// The Japanese label of a transfer origin.
pub fn origin_label(origin: TransferOrigin) -> &'static str {
    match origin {
        TransferOrigin::Operator => "オペレーター転送",
        TransferOrigin::Overflow => "あふれ転送",
        TransferOrigin::Dialplan => "ガイダンス転送",
    }
}

/// The Japanese label of a transfer result.
pub fn result_label(result: Option<&str>) -> String {
    match result {
        Some("answered") => "接続".to_owned(),
        Some("busy") => "話中".to_owned(),
        Some("no_answer") => "応答なし".to_owned(),
        Some("failed") => "接続失敗".to_owned(),
        Some("closed") => "受付時間外".to_owned(),
        Some("refused") => "拒否".to_owned(),
        Some("caller_hangup") => "転送中の切断".to_owned(),
        Some(other) => other.to_owned(),
        None => "不明".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use chrono_tz::Asia::Tokyo;
    use madoguchi_store::{
        CategoryFigures, CounterFigures, DeviceFigures, LanguageFigures, SlotFigures,
    };

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid test date")
    }

    /// One slot of `calls` offered-and-answered calls at a local Tokyo time.
    fn slot(y: i32, mo: u32, d: u32, h: u32, mi: u32, calls: i64) -> SlotFigures {
        SlotFigures {
            start: Tokyo
                .with_ymd_and_hms(y, mo, d, h, mi, 0)
                .single()
                .expect("a Tokyo instant")
                .with_timezone(&Utc),
            queue: Some("card".into()),
            calls,
            offered: calls,
            answered: calls,
            talk_ms: calls * 100_000,
            ..SlotFigures::default()
        }
    }

    fn build(period: Period, figures: ReportFigures) -> Report {
        Report::build(period, &ReportSettings::new(Tokyo), &figures)
    }

    #[test]
    fn a_slot_counts_on_its_local_day_and_hour() {
        // 2025-09-15 00:15 JST is still 09-14 in UTC.
        let sept = Period::parse_month("2025-09").expect("month");
        let r = build(
            sept,
            ReportFigures {
                slots: vec![slot(2025, 9, 15, 0, 15, 2)],
                ..ReportFigures::default()
            },
        );
        let day = r
            .days
            .iter()
            .find(|d| d.date == date(2025, 9, 15))
            .expect("9/15");
        assert_eq!(day.tally.calls, 2);
        assert_eq!(
            r.hours.first().map(|h| (h.hour, h.tally.calls)),
            Some((0, 2))
        );
    }

    #[test]
    fn every_day_of_the_period_has_a_row_even_without_calls() {
        let r = build(
            Period::parse_month("2026-02").expect("month"),
            ReportFigures::default(),
        );
        assert_eq!(r.days.len(), 28);
        assert!(r.days.iter().all(|d| d.tally == Tally::default()));
    }

    #[test]
    fn the_hotline_hours_have_bands_even_without_calls() {
        let r = build(
            Period::parse_month("2025-06").expect("month"),
            ReportFigures::default(),
        );
        let hours: Vec<u32> = r.hours.iter().map(|h| h.hour).collect();
        assert_eq!(hours, (8..=19).collect::<Vec<_>>());
    }

    #[test]
    fn day_types_split_weekdays_saturdays_sundays_and_holidays() {
        // September 2025: 15th (敬老の日, Monday) and 23rd (秋分の日, Tuesday) are holidays.
        let sept = Period::parse_month("2025-09").expect("month");
        let r = build(
            sept,
            ReportFigures {
                slots: vec![
                    slot(2025, 9, 15, 10, 0, 3),  // holiday
                    slot(2025, 9, 16, 10, 0, 5),  // Tuesday
                    slot(2025, 9, 20, 10, 0, 7),  // Saturday
                    slot(2025, 9, 21, 10, 0, 11), // Sunday
                ],
                ..ReportFigures::default()
            },
        );
        let got: Vec<(DayType, i64, i64)> = r
            .day_types
            .iter()
            .map(|t| (t.day_type, t.days, t.tally.calls))
            .collect();
        assert_eq!(
            got,
            vec![
                (DayType::Weekday, 20, 5),
                (DayType::Saturday, 4, 7),
                (DayType::Sunday, 4, 11),
                (DayType::Holiday, 2, 3),
            ]
        );
        let holiday = r
            .days
            .iter()
            .find(|d| d.date == date(2025, 9, 23))
            .expect("9/23");
        assert_eq!(holiday.holiday, Some("秋分の日"));
    }

    #[test]
    fn a_holiday_on_a_sunday_counts_as_a_holiday() {
        // 2026-05-03 (憲法記念日) is a Sunday.
        assert_eq!(DayType::of(date(2026, 5, 3)), DayType::Holiday);
        assert_eq!(DayType::of(date(2026, 5, 10)), DayType::Sunday);
    }

    #[test]
    fn each_queue_adds_its_own_wrap_up() {
        let mut settings = ReportSettings::new(Tokyo);
        settings
            .wrap_up
            .insert("card".into(), Duration::from_secs(30));
        let mut general = slot(2025, 6, 2, 10, 0, 1);
        general.queue = Some("general".into());
        let figures = ReportFigures {
            slots: vec![slot(2025, 6, 2, 9, 0, 1), general],
            ..ReportFigures::default()
        };
        let r = Report::build(
            Period::parse_month("2025-06").expect("month"),
            &settings,
            &figures,
        );
        // card: 100 s talk + 30 s; general: 100 s + the default 10 s.
        assert_eq!(r.total.aht_s(), Some(120.0));
    }

    #[test]
    fn categories_follow_the_configured_order_then_old_codes_then_unclassified() {
        let mut settings = ReportSettings::new(Tokyo);
        for (code, label) in [("ア", "制度全般"), ("イ", "申請")] {
            settings.categories.push(CategoryLabel {
                code: code.into(),
                label: label.into(),
            });
        }
        let figures = ReportFigures {
            categories: vec![
                CategoryFigures {
                    category: None,
                    handled: 2,
                    transferred: 0,
                },
                CategoryFigures {
                    category: Some("イ".into()),
                    handled: 5,
                    transferred: 1,
                },
                CategoryFigures {
                    category: Some("旧".into()),
                    handled: 1,
                    transferred: 0,
                },
            ],
            ..ReportFigures::default()
        };
        let r = Report::build(
            Period::parse_month("2025-06").expect("month"),
            &settings,
            &figures,
        );
        let got: Vec<(&str, i64, i64)> = r
            .categories
            .iter()
            .map(|c| (c.label.as_str(), c.handled, c.transferred))
            .collect();
        assert_eq!(
            got,
            vec![
                ("制度全般", 0, 0),
                ("申請", 5, 1),
                ("旧", 1, 0),
                ("未分類", 2, 0)
            ]
        );
    }

    fn language(code: Option<&str>, calls: i64, answered: i64, wait_ms: i64) -> LanguageFigures {
        LanguageFigures {
            language: code.map(str::to_owned),
            calls,
            offered: calls,
            answered,
            answered_wait_ms: wait_ms,
            ..LanguageFigures::default()
        }
    }

    #[test]
    fn languages_list_the_default_then_the_declared_then_unknown_codes() {
        let mut settings = ReportSettings::new(Tokyo);
        settings.languages = vec![
            ("en".into(), "English".into()),
            ("zh".into(), "中文".into()),
        ];
        let figures = ReportFigures {
            languages: vec![
                language(None, 10, 8, 80_000),
                language(Some("en"), 3, 2, 30_000),
                language(Some("ja"), 2, 2, 0),
                language(Some("pt"), 1, 0, 0),
            ],
            ..ReportFigures::default()
        };
        let r = Report::build(
            Period::parse_month("2025-06").expect("month"),
            &settings,
            &figures,
        );
        let got: Vec<(&str, &str, i64, i64)> = r
            .languages
            .iter()
            .map(|l| (l.code.as_str(), l.label.as_str(), l.calls, l.answered))
            .collect();
        assert_eq!(
            got,
            vec![
                ("ja", "日本語", 12, 10),
                ("en", "English", 3, 2),
                ("zh", "中文", 0, 0),
                ("pt", "pt", 1, 0),
            ]
        );
        assert_eq!(r.languages[0].asa_s(), Some(8.0));
        assert_eq!(r.languages[2].asa_s(), None);
    }

    #[test]
    fn a_device_silent_for_a_day_of_june_was_available_29_of_30_days() {
        let figures = ReportFigures {
            devices: vec![DeviceFigures {
                device: "counter-1".into(),
                label: "窓口1".into(),
                location: "本庁舎1階".into(),
                beats: 100,
                rtt_beats: 4,
                rtt_sum_ms: 400,
                rtt_max_ms: Some(250),
                outages: 2,
                outage_ms: 86_400_000,
                longest_outage_ms: Some(80_000_000),
            }],
            ..ReportFigures::default()
        };
        let r = build(Period::parse_month("2025-06").expect("month"), figures);
        let d = &r.devices[0];
        assert_eq!((d.beats, d.outages, d.mean_rtt_ms), (100, 2, Some(100)));
        let availability = d.availability.expect("June has a length");
        assert!((availability - 29.0 / 30.0).abs() < 1e-9, "{availability}");
    }

    #[test]
    fn counter_rows_list_every_kind_in_the_city_order() {
        let figures = ReportFigures {
            counter: vec![CounterFigures {
                kind: "loss_reissue".into(),
                outcome: "completed".into(),
                cases: 3,
                fee_payment_confirmed: 2,
            }],
            ..ReportFigures::default()
        };
        let r = build(Period::parse_month("2025-06").expect("month"), figures);
        let labels: Vec<&str> = r.counter.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "新規申請",
                "更新",
                "紛失再交付",
                "健康保険証利用登録",
                "公金受取口座登録",
                "その他の紐づけ",
                "電子申請支援"
            ]
        );
        assert_eq!(r.counter[2].by_outcome, [3, 0, 0, 0]);
        assert_eq!(r.counter[2].fee_payment_confirmed, 2);
        assert_eq!(r.counter_total(), 3);
    }
}
