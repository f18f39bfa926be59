//! The report as tables of typed cells: what the CSV and the XLSX both write, so the two
//! files always say the same thing. Headings carry their unit ("(件)", "(%)", "(秒)").

use chrono::{Datelike, NaiveDate};

use crate::model::{origin_label, result_label, LanguageRow, Report};
use crate::period::PeriodKind;
use crate::tally::Tally;
use madoguchi_store::CounterOutcome;

/// One cell. Ratios are fractions (0.853); the writers show them as percentages.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(String),
    Date(NaiveDate),
    Count(i64),
    /// A plain number with one decimal (a per-day average).
    Number(f64),
    /// A fraction shown as a percentage; `None` when undefined (nothing to divide by).
    Ratio(Option<f64>),
    /// A duration in seconds; `None` when undefined.
    Seconds(Option<f64>),
    Empty,
}

/// A chart of some columns of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct ChartSpec {
    pub title: String,
    /// Horizontal bars (for long labels) rather than columns.
    pub horizontal: bool,
    pub stacked: bool,
    /// The column naming each point.
    pub categories: usize,
    /// The columns plotted, one series each.
    pub series: Vec<usize>,
}

/// One table: one sheet of the XLSX, one section of the CSV.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The sheet name (at most 31 characters).
    pub sheet: &'static str,
    /// The section title.
    pub title: &'static str,
    pub headings: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// The last row is a total (written bold, left out of charts).
    pub total_row: bool,
    /// Lines written under the table: what a figure does and does not include.
    pub notes: Vec<String>,
    pub chart: Option<ChartSpec>,
}

impl Table {
    /// Rows the chart plots: all but a total row.
    pub fn data_rows(&self) -> usize {
        self.rows.len() - usize::from(self.total_row && !self.rows.is_empty())
    }
}

/// "月次報告" or "最終報告".
pub fn report_name(report: &Report) -> &'static str {
    match report.period.kind {
        PeriodKind::Month => "月次報告",
        PeriodKind::Range => "最終報告",
    }
}

/// "座間市… 月次報告 2025年6月（令和7年6月）".
pub fn heading_line(report: &Report) -> String {
    format!(
        "{} {} {}（{}）",
        report.settings.title,
        report_name(report),
        report.period.label(),
        report.period.era_label()
    )
}

/// Every table of the report, in sheet order.
pub fn tables(report: &Report) -> Vec<Table> {
    vec![
        summary(report),
        by_day(report),
        by_hour(report),
        by_day_type(report),
        categories(report),
        transfers(report),
        counter(report),
        languages(report),
        free_waiting(report),
        devices(report),
    ]
}

fn count_row(label: &str, value: i64) -> Vec<Cell> {
    vec![Cell::Text(label.to_owned()), Cell::Count(value)]
}

fn summary(report: &Report) -> Table {
    let t = &report.total;
    let s = &report.settings;
    let within = s.answered_within.as_secs();
    let short = s.short_abandon.as_secs();
    let mut rows = vec![
        vec![
            Cell::Text("対象期間".into()),
            Cell::Text(report.period.days_label()),
        ],
        vec![
            Cell::Text("和暦".into()),
            Cell::Text(report.period.era_label()),
        ],
        count_row("総着信数 (件)", t.calls),
        count_row("時間外着信 (件)", t.closed()),
        count_row("　うち受付時間外 (件)", t.closed_hours),
        count_row("　うち休日 (件)", t.closed_holiday),
        count_row("　うち年末年始 (件)", t.closed_year_end),
        count_row("　うち臨時休業 (件)", t.closed_special),
        count_row("受付件数 (件)", t.offered),
        count_row("応答件数 (件)", t.answered),
        count_row("　うち対応完了 (件)", t.handled),
        count_row("　うち転送 (件)", t.transferred),
        count_row("放棄件数 (件)", t.abandoned),
        count_row(
            &format!("　うち{short}秒未満の放棄 (件)"),
            t.short_abandoned,
        ),
        count_row("あふれ件数 (件)", t.overflowed),
        count_row("コールバック受付 (件)", t.callbacks_requested),
        count_row("その他の終了 (件)", t.other_offered()),
        count_row("転送先への接続 (件、全経路)", t.transfers_answered),
        vec![
            Cell::Text(format!("サービスレベル ({within}秒以内応答率, %)")),
            Cell::Ratio(t.service_level()),
        ],
        vec![
            Cell::Text("平均応答時間 ASA (秒)".into()),
            Cell::Seconds(t.asa_s()),
        ],
        vec![
            Cell::Text("平均処理時間 AHT (通話+後処理, 秒)".into()),
            Cell::Seconds(t.aht_s()),
        ],
        vec![
            Cell::Text("放棄率 (%)".into()),
            Cell::Ratio(t.abandon_rate()),
        ],
        vec![
            Cell::Text("応答率 (%)".into()),
            Cell::Ratio(t.answer_rate()),
        ],
        count_row("窓口支援件数 (件)", report.counter_total()),
        vec![
            Cell::Text("サービスレベルの基準 (秒)".into()),
            Cell::Count(i64::try_from(within).unwrap_or(i64::MAX)),
        ],
        vec![
            Cell::Text("短時間放棄の基準 (秒)".into()),
            Cell::Count(i64::try_from(short).unwrap_or(i64::MAX)),
        ],
    ];
    for (queue, wrap) in &s.wrap_up {
        rows.push(vec![
            Cell::Text(format!("後処理時間 {queue} (秒, 実測のない通話に適用)")),
            Cell::Count(i64::try_from(wrap.as_secs()).unwrap_or(i64::MAX)),
        ]);
    }
    rows.push(vec![
        Cell::Text("後処理時間 その他のキュー (秒, 実測のない通話に適用)".into()),
        Cell::Count(i64::try_from(s.default_wrap_up.as_secs()).unwrap_or(i64::MAX)),
    ]);
    rows.push(vec![
        Cell::Text("時間帯".into()),
        Cell::Text(s.tz.name().to_owned()),
    ]);
    Table {
        sheet: "概要",
        title: "概要",
        headings: vec!["項目".into(), "値".into()],
        rows,
        total_row: false,
        notes: Vec::new(),
        chart: None,
    }
}

/// The headings of the figures every call table shows.
fn metric_headings() -> Vec<String> {
    [
        "総着信 (件)",
        "時間外 (件)",
        "受付 (件)",
        "応答 (件)",
        "対応完了 (件)",
        "転送 (件)",
        "放棄 (件)",
        "あふれ (件)",
        "サービスレベル (%)",
        "平均応答時間 ASA (秒)",
        "平均処理時間 AHT (秒)",
        "放棄率 (%)",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

fn metric_cells(t: &Tally) -> Vec<Cell> {
    vec![
        Cell::Count(t.calls),
        Cell::Count(t.closed()),
        Cell::Count(t.offered),
        Cell::Count(t.answered),
        Cell::Count(t.handled),
        Cell::Count(t.transferred),
        Cell::Count(t.abandoned),
        Cell::Count(t.overflowed),
        Cell::Ratio(t.service_level()),
        Cell::Seconds(t.asa_s()),
        Cell::Seconds(t.aht_s()),
        Cell::Ratio(t.abandon_rate()),
    ]
}

const WEEKDAYS_JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];

fn by_day(report: &Report) -> Table {
    let mut headings = vec!["日付".to_owned(), "曜日".to_owned(), "区分".to_owned()];
    headings.extend(metric_headings());
    let mut rows: Vec<Vec<Cell>> = report
        .days
        .iter()
        .map(|d| {
            let kind = match d.holiday {
                Some(name) => format!("{}（{name}）", d.day_type.label_ja()),
                None => d.day_type.label_ja().to_owned(),
            };
            let weekday = WEEKDAYS_JA[d.date.weekday().num_days_from_monday() as usize];
            let mut row = vec![
                Cell::Date(d.date),
                Cell::Text(weekday.to_owned()),
                Cell::Text(kind),
            ];
            row.extend(metric_cells(&d.tally));
            row
        })
        .collect();
    let mut total = vec![Cell::Text("合計".into()), Cell::Empty, Cell::Empty];
    total.extend(metric_cells(&report.total));
    rows.push(total);
    Table {
        sheet: "日別",
        title: "日別",
        headings,
        rows,
        total_row: true,
        notes: Vec::new(),
        chart: Some(ChartSpec {
            title: "日別の受付件数・応答件数".into(),
            horizontal: false,
            stacked: false,
            categories: 0,
            series: vec![5, 6],
        }),
    }
}

fn by_hour(report: &Report) -> Table {
    let mut headings = vec!["時間帯".to_owned()];
    headings.extend(metric_headings());
    let mut rows: Vec<Vec<Cell>> = report
        .hours
        .iter()
        .map(|h| {
            let mut row = vec![Cell::Text(format!(
                "{:02}:00〜{:02}:00",
                h.hour,
                h.hour + 1
            ))];
            row.extend(metric_cells(&h.tally));
            row
        })
        .collect();
    let mut total = vec![Cell::Text("合計".into())];
    total.extend(metric_cells(&report.total));
    rows.push(total);
    Table {
        sheet: "時間帯別",
        title: "時間帯別",
        headings,
        rows,
        total_row: true,
        notes: Vec::new(),
        chart: None,
    }
}

fn by_day_type(report: &Report) -> Table {
    let mut headings = vec!["区分".to_owned(), "日数 (日)".to_owned()];
    headings.extend(metric_headings());
    headings.push("1日平均受付 (件)".to_owned());
    let mut rows: Vec<Vec<Cell>> = report
        .day_types
        .iter()
        .map(|d| {
            let mut row = vec![
                Cell::Text(d.day_type.label_ja().to_owned()),
                Cell::Count(d.days),
            ];
            row.extend(metric_cells(&d.tally));
            row.push(per_day(d.tally.offered, d.days));
            row
        })
        .collect();
    let days = i64::try_from(report.days.len()).unwrap_or(i64::MAX);
    let mut total = vec![Cell::Text("合計".into()), Cell::Count(days)];
    total.extend(metric_cells(&report.total));
    total.push(per_day(report.total.offered, days));
    rows.push(total);
    Table {
        sheet: "曜日区分別",
        title: "曜日区分別（平日・土曜日・日曜日・祝日）",
        headings,
        rows,
        total_row: true,
        notes: Vec::new(),
        chart: None,
    }
}

fn per_day(count: i64, days: i64) -> Cell {
    if days > 0 {
        Cell::Number(count as f64 / days as f64)
    } else {
        Cell::Empty
    }
}

fn categories(report: &Report) -> Table {
    let total: i64 = report.categories.iter().map(|c| c.total()).sum();
    let share = |n: i64| Cell::Ratio((total > 0).then(|| n as f64 / total as f64));
    let mut rows: Vec<Vec<Cell>> = report
        .categories
        .iter()
        .map(|c| {
            vec![
                Cell::Text(c.code.clone().unwrap_or_default()),
                Cell::Text(c.label.clone()),
                Cell::Count(c.handled),
                Cell::Count(c.transferred),
                Cell::Count(c.total()),
                share(c.total()),
            ]
        })
        .collect();
    rows.push(vec![
        Cell::Text("合計".into()),
        Cell::Empty,
        Cell::Count(report.categories.iter().map(|c| c.handled).sum()),
        Cell::Count(report.categories.iter().map(|c| c.transferred).sum()),
        Cell::Count(total),
        share(total),
    ]);
    Table {
        sheet: "問い合わせ内容内訳",
        title: "問い合わせ内容内訳（転送した呼は転送件数に計上）",
        headings: [
            "記号",
            "問い合わせ内容",
            "対応件数 (件)",
            "転送件数 (件)",
            "合計 (件)",
            "構成比 (%)",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect(),
        rows,
        total_row: true,
        notes: Vec::new(),
        chart: Some(ChartSpec {
            title: "問い合わせ内容別の件数".into(),
            horizontal: true,
            stacked: true,
            categories: 1,
            series: vec![2, 3],
        }),
    }
}

fn transfers(report: &Report) -> Table {
    let mut rows: Vec<Vec<Cell>> = report
        .transfers
        .iter()
        .map(|t| {
            vec![
                Cell::Text(t.target_label.clone()),
                Cell::Text(origin_label(t.origin).to_owned()),
                Cell::Text(result_label(t.result.as_deref())),
                Cell::Count(t.calls),
            ]
        })
        .collect();
    rows.push(vec![
        Cell::Text("合計".into()),
        Cell::Empty,
        Cell::Empty,
        Cell::Count(report.transfers.iter().map(|t| t.calls).sum()),
    ]);
    Table {
        sheet: "転送",
        title: "転送（市の担当窓口などへの転送、結果別）",
        headings: ["転送先", "経路", "結果", "件数 (件)"]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        rows,
        total_row: true,
        notes: Vec::new(),
        chart: None,
    }
}

fn counter(report: &Report) -> Table {
    let show_other = report.counter.iter().any(|c| c.other_outcome > 0);
    let mut headings = vec!["種別".to_owned()];
    headings.extend(
        CounterOutcome::ALL
            .iter()
            .map(|o| format!("{} (件)", o.label_ja())),
    );
    if show_other {
        headings.push("その他 (件)".to_owned());
    }
    headings.push("合計 (件)".to_owned());
    headings.push("うち手数料支払確認済 (件)".to_owned());
    let row_of = |label: String, by: [i64; 4], other: i64, fee: i64| {
        let mut row = vec![Cell::Text(label)];
        row.extend(by.iter().map(|n| Cell::Count(*n)));
        if show_other {
            row.push(Cell::Count(other));
        }
        row.push(Cell::Count(by.iter().sum::<i64>() + other));
        row.push(Cell::Count(fee));
        row
    };
    let mut rows: Vec<Vec<Cell>> = report
        .counter
        .iter()
        .map(|c| {
            row_of(
                c.label.clone(),
                c.by_outcome,
                c.other_outcome,
                c.fee_payment_confirmed,
            )
        })
        .collect();
    let mut by = [0; 4];
    for c in &report.counter {
        for (sum, n) in by.iter_mut().zip(c.by_outcome) {
            *sum += n;
        }
    }
    rows.push(row_of(
        "合計".into(),
        by,
        report.counter.iter().map(|c| c.other_outcome).sum(),
        report.counter.iter().map(|c| c.fee_payment_confirmed).sum(),
    ));
    Table {
        sheet: "窓口支援",
        title: "窓口（オンライン申請）支援件数 種別内訳",
        headings,
        rows,
        total_row: true,
        notes: Vec::new(),
        chart: None,
    }
}

fn languages(report: &Report) -> Table {
    let cells = |label: &str, r: &LanguageRow| {
        vec![
            Cell::Text(label.to_owned()),
            Cell::Count(r.calls),
            Cell::Count(r.offered),
            Cell::Count(r.answered),
            Cell::Count(r.abandoned),
            Cell::Seconds(r.asa_s()),
            Cell::Count(r.fell_back_to_any),
            Cell::Count(r.sent_to_target),
        ]
    };
    let mut rows: Vec<Vec<Cell>> = report
        .languages
        .iter()
        .map(|r| cells(&format!("{}（{}）", r.label, r.code), r))
        .collect();
    let mut total = LanguageRow::default();
    for r in &report.languages {
        total.calls += r.calls;
        total.offered += r.offered;
        total.answered += r.answered;
        total.abandoned += r.abandoned;
        total.answered_wait_ms += r.answered_wait_ms;
        total.fell_back_to_any += r.fell_back_to_any;
        total.sent_to_target += r.sent_to_target;
    }
    rows.push(cells("合計", &total));
    Table {
        sheet: "言語別",
        title: "言語別（受付時間内の着信、言語を選ばなかった着信は既定の言語）",
        headings: [
            "言語",
            "着信 (件)",
            "受付 (件)",
            "応答 (件)",
            "放棄 (件)",
            "平均応答時間 ASA (秒)",
            "うち全オペレーターへ切替 (件)",
            "うち通訳窓口等へ転送 (件)",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect(),
        rows,
        total_row: true,
        notes: Vec::new(),
        chart: None,
    }
}

fn free_waiting(report: &Report) -> Table {
    let f = &report.free_waiting;
    let mean = |sum_ms: i64, calls: i64| {
        Cell::Seconds((calls > 0).then(|| sum_ms as f64 / calls as f64 / 1000.0))
    };
    let rows = vec![
        count_row("応答前待ちの着信 (件)", f.operator_mode_calls),
        count_row("　うちオペレーター応答 (件)", f.answered_by_operator),
        count_row("　うち転送先の応答 (件)", f.answered_by_target),
        count_row("　うち待ち上限による応答 (件)", f.answered_at_early_limit),
        count_row("　うち応答せず終了 (件)", f.never_answered),
        vec![
            Cell::Text("応答前の時間 合計 (秒)".into()),
            Cell::Seconds(Some(f.unanswered_ms as f64 / 1000.0)),
        ],
        vec![
            Cell::Text("応答前の時間 平均 (秒)".into()),
            mean(f.unanswered_ms, f.unanswered_calls),
        ],
        vec![
            Cell::Text("応答後の時間 合計 (秒)".into()),
            Cell::Seconds(Some(f.answered_ms as f64 / 1000.0)),
        ],
        vec![
            Cell::Text("応答後の時間 平均 (秒)".into()),
            mean(f.answered_ms, f.answered_calls),
        ],
        count_row("コールバック受付 (件、全着信)", f.callbacks_requested),
    ];
    Table {
        sheet: "応答前待ち",
        title: "応答前待ち（オペレーター応答まで発信者に通話料がかからない着信）",
        headings: vec!["項目".into(), "値".into()],
        rows,
        total_row: false,
        notes: vec![
            "応答前の時間: 着信から応答（200 OK）まで。応答後の時間: 応答から終了まで（通話料の対象）。"
                .into(),
        ],
        chart: None,
    }
}

fn devices(report: &Report) -> Table {
    let minutes = |ms: u64| Cell::Number(ms as f64 / 60_000.0);
    let count = |n: u64| Cell::Count(i64::try_from(n).unwrap_or(i64::MAX));
    let mut rows: Vec<Vec<Cell>> = report
        .devices
        .iter()
        .map(|d| {
            vec![
                Cell::Text(d.id.clone()),
                Cell::Text(d.label.clone()),
                Cell::Text(d.location.clone()),
                count(d.beats),
                count(d.outages),
                minutes(d.outage_ms),
                d.longest_outage_ms.map_or(Cell::Empty, minutes),
                Cell::Ratio(d.availability),
                d.mean_rtt_ms.map_or(Cell::Empty, count),
                d.max_rtt_ms.map_or(Cell::Empty, count),
            ]
        })
        .collect();
    rows.push(vec![
        Cell::Text("合計".into()),
        Cell::Empty,
        Cell::Empty,
        count(report.devices.iter().map(|d| d.beats).sum()),
        count(report.devices.iter().map(|d| d.outages).sum()),
        minutes(report.devices.iter().map(|d| d.outage_ms).sum()),
        report
            .devices
            .iter()
            .filter_map(|d| d.longest_outage_ms)
            .max()
            .map_or(Cell::Empty, minutes),
        Cell::Empty,
        Cell::Empty,
        report
            .devices
            .iter()
            .filter_map(|d| d.max_rtt_ms)
            .max()
            .map_or(Cell::Empty, count),
    ]);
    Table {
        sheet: "窓口機器",
        title: "窓口機器の稼働状況（ハートビート）",
        headings: [
            "機器ID",
            "名称",
            "設置場所",
            "受信 (回)",
            "途絶 (回)",
            "途絶時間 (分)",
            "最長途絶 (分)",
            "稼働率 (%)",
            "平均RTT (ミリ秒)",
            "最大RTT (ミリ秒)",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect(),
        rows,
        total_row: true,
        notes: vec![
            "途絶時間・最長途絶は期間内に復旧した途絶の時間で、開庁時間外を含む（開庁時間内に限った集計は未対応）。稼働率 = 1 − 途絶時間 ÷ 期間の長さ。"
                .into(),
            "RTT は機器が測った前回のハートビートの往復時間（HTTP、サーバー処理を含む）。".into(),
        ],
        chart: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ReportSettings;
    use crate::period::Period;
    use madoguchi_store::ReportFigures;

    fn empty_june() -> Report {
        Report::build(
            Period::parse_month("2025-06").expect("month"),
            &ReportSettings::new(chrono_tz::Asia::Tokyo),
            &ReportFigures::default(),
        )
    }

    #[test]
    fn every_row_has_as_many_cells_as_its_table_has_headings() {
        for table in tables(&empty_june()) {
            for row in &table.rows {
                assert_eq!(row.len(), table.headings.len(), "{}", table.sheet);
            }
        }
    }

    #[test]
    fn sheet_names_fit_excel_and_are_unique() {
        let tables = tables(&empty_june());
        let mut names: Vec<&str> = tables.iter().map(|t| t.sheet).collect();
        assert!(names.iter().all(|n| n.chars().count() <= 31));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), tables.len());
    }

    #[test]
    fn charts_plot_count_columns_of_their_table() {
        let report = empty_june();
        for table in tables(&report) {
            if let Some(chart) = &table.chart {
                for &column in &chart.series {
                    assert!(table.headings[column].ends_with("(件)"), "{}", table.sheet);
                }
            }
        }
    }

    fn table<'a>(tables: &'a [Table], sheet: &str) -> &'a Table {
        tables
            .iter()
            .find(|t| t.sheet == sheet)
            .unwrap_or_else(|| panic!("no sheet {sheet}"))
    }

    #[test]
    fn free_waiting_shows_the_answered_by_split_and_mean_times() {
        let mut report = empty_june();
        report.free_waiting = madoguchi_store::FreeWaitingFigures {
            operator_mode_calls: 4,
            answered_by_operator: 2,
            answered_by_target: 0,
            answered_at_early_limit: 1,
            never_answered: 1,
            unanswered_calls: 4,
            unanswered_ms: 400_000,
            answered_calls: 3,
            answered_ms: 600_000,
            callbacks_requested: 1,
        };
        let tables = tables(&report);
        let rows = &table(&tables, "応答前待ち").rows;
        let value = |label: &str| {
            rows.iter()
                .find(|r| r[0] == Cell::Text(label.into()))
                .map(|r| r[1].clone())
                .unwrap_or_else(|| panic!("no row {label}"))
        };
        assert_eq!(value("　うち待ち上限による応答 (件)"), Cell::Count(1));
        assert_eq!(value("応答前の時間 平均 (秒)"), Cell::Seconds(Some(100.0)));
        assert_eq!(value("応答後の時間 平均 (秒)"), Cell::Seconds(Some(200.0)));
        assert_eq!(value("コールバック受付 (件、全着信)"), Cell::Count(1));
    }

    #[test]
    fn the_device_table_says_its_silence_includes_closed_hours() {
        let tables = tables(&empty_june());
        let devices = table(&tables, "窓口機器");
        assert!(devices.notes.iter().any(|n| n.contains("開庁時間外を含む")));
        // Only the total row when no device was registered.
        assert_eq!(devices.rows.len(), 1);
    }

    #[test]
    fn the_heading_line_names_the_period_in_both_calendars() {
        assert_eq!(
            heading_line(&empty_june()),
            "マイナンバーカード相談コールセンター 月次報告 2025年6月（令和7年6月）"
        );
    }
}
