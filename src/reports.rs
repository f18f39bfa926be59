//! `madoguchi report monthly|final` and `madoguchi seed month`: the shell around
//! `madoguchi-report` — the dialplan supplies the names, time zone and wrap-ups, the store
//! the figures, and the file goes to disk (here) or over HTTP (`web::reports`).
//!
//! ```text
//! $ madoguchi report monthly --month 2025-06 --format xlsx --out june.xlsx
//! wrote june.xlsx: 月次報告 2025年6月 (令和7年6月), 9,812 calls
//! $ madoguchi report final --format csv --out contract.csv      # 2025-06-01 to 2026-03-31
//! $ madoguchi seed month --month 2025-06 --calls 100000 --seed 7
//! seeded 2025-06: 100000 calls, 74012 classifications, 8333 counter cases (seed 7)
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use madoguchi_dialplan::Dialplan;
use madoguchi_report::generate::{generate, MonthSpec};
use madoguchi_report::{render, CategoryLabel, OutputFormat, Period, Report, ReportSettings};
use madoguchi_store::Store;

use crate::cli::{DEFAULT_DATABASE_URL, DEFAULT_DIALPLAN};

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// The monthly report of one calendar month (local dates of the hotline).
    Monthly {
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
        #[command(flatten)]
        output: ReportOutput,
    },
    /// The final report over a range of days, both included (default: the contract,
    /// 2025-06-01 to 2026-03-31).
    Final {
        /// First day, YYYY-MM-DD.
        #[arg(long, default_value = "2025-06-01")]
        from: String,
        /// Last day (included), YYYY-MM-DD.
        #[arg(long, default_value = "2026-03-31")]
        to: String,
        #[command(flatten)]
        output: ReportOutput,
    },
}

#[derive(Debug, Args)]
pub struct ReportOutput {
    /// csv (UTF-8 with BOM, one section per table) or xlsx (one sheet per table, charts).
    #[arg(long, value_parser = ["csv", "xlsx"])]
    pub format: String,
    /// The file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Service level: calls answered within this many seconds are answered in time.
    #[arg(long, env = "MADOGUCHI_SERVICE_LEVEL_SECONDS", default_value_t = 20,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub service_level_seconds: u64,
    /// Calls abandoned within this many seconds are left out of the service level.
    #[arg(long, env = "MADOGUCHI_SHORT_ABANDON_SECONDS", default_value_t = 5,
          value_parser = clap::value_parser!(u64).range(0..=600))]
    pub short_abandon_seconds: u64,
    /// The dialplan naming the categories, queues (wrap-up) and targets.
    #[arg(long, env = "MADOGUCHI_DIALPLAN", default_value = DEFAULT_DIALPLAN)]
    pub dialplan: PathBuf,
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum SeedCommand {
    /// Fill the database with a realistic, generated month: calls (peaks by hour and
    /// weekday, closed-branch records outside hours), classifications and counter cases.
    /// The same seed gives the same month. For trying the reports and benchmarks, never
    /// on a production database.
    Month {
        /// The month, YYYY-MM.
        #[arg(long)]
        month: String,
        /// Call records to generate (about what three seats see in a month).
        #[arg(long, default_value_t = 3_000)]
        calls: usize,
        /// Counter cases to generate (default: one for every 12 calls).
        #[arg(long)]
        counter_cases: Option<usize>,
        /// The random seed: the same seed gives the same month.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The dialplan whose calendars, queues, categories and targets the month follows.
        #[arg(long, env = "MADOGUCHI_DIALPLAN", default_value = DEFAULT_DIALPLAN)]
        dialplan: PathBuf,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

/// The report settings a dialplan implies: its name, time zone (first calendar), categories,
/// target labels, queue wrap-ups and languages; thresholds as given.
pub fn settings_from_dialplan(
    dialplan: &Dialplan,
    answered_within: Duration,
    short_abandon: Duration,
) -> ReportSettings {
    let tz = dialplan
        .calendars()
        .first()
        .map_or(chrono_tz::Asia::Tokyo, |c| c.tz);
    let mut settings = ReportSettings::new(tz);
    if let Some(name) = dialplan.name() {
        settings.title = name.to_owned();
    }
    settings.categories = dialplan
        .categories()
        .iter()
        .map(|c| CategoryLabel {
            code: c.code.clone(),
            label: c.label.clone(),
        })
        .collect();
    settings.targets = dialplan
        .targets()
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.label.clone().unwrap_or_else(|| t.name.clone()),
            )
        })
        .collect();
    settings.wrap_up = dialplan
        .queues()
        .iter()
        .map(|q| (q.name.clone(), q.wrap_up))
        .collect();
    let languages = dialplan.languages();
    if let Some(default) = &languages.default {
        settings.default_language = default.clone();
    }
    settings.languages = languages
        .languages
        .iter()
        .map(|l| (l.code.clone(), l.label.clone()))
        .collect();
    settings.answered_within = answered_within;
    settings.short_abandon = short_abandon;
    settings
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportFailure {
    #[error(transparent)]
    Period(#[from] madoguchi_report::PeriodError),
    #[error(transparent)]
    Store(#[from] madoguchi_store::StoreError),
    #[error(transparent)]
    Render(#[from] madoguchi_report::ReportError),
}

/// The report of `period` as a file of `format`, with the report it was made from.
pub async fn produce(
    store: &Store,
    settings: &ReportSettings,
    period: Period,
    format: OutputFormat,
) -> Result<(Report, Vec<u8>), ReportFailure> {
    let figures = store.report_figures(&settings.query(&period)?).await?;
    let report = Report::build(period, settings, &figures);
    let bytes = render(&report, format)?;
    Ok((report, bytes))
}

pub fn run_report(command: ReportCommand) -> ExitCode {
    let (period, output) = match command {
        ReportCommand::Monthly { month, output } => (Period::parse_month(&month), output),
        ReportCommand::Final { from, to, output } => (Period::parse_range(&from, &to), output),
    };
    let period = match period {
        Ok(period) => period,
        Err(error) => return fail(&error),
    };
    let format: OutputFormat = match output.format.parse() {
        Ok(format) => format,
        Err(error) => return fail(&error),
    };
    let dialplan = match load_dialplan(&output.dialplan) {
        Ok(dialplan) => dialplan,
        Err(code) => return code,
    };
    let settings = settings_from_dialplan(
        &dialplan,
        Duration::from_secs(output.service_level_seconds),
        Duration::from_secs(output.short_abandon_seconds),
    );
    let result = block_on(async {
        let store = Store::connect(&output.database_url)
            .await
            .map_err(ReportFailure::from)?;
        let made = produce(&store, &settings, period, format).await;
        store.close().await;
        made
    });
    let (report, bytes) = match result {
        Ok(Ok(made)) => made,
        Ok(Err(error)) => return fail(&error),
        Err(code) => return code,
    };
    if let Err(error) = std::fs::write(&output.out, bytes) {
        return fail(&format!("{}: {error}", output.out.display()));
    }
    println!(
        "wrote {}: {} {} ({}), {} calls",
        output.out.display(),
        madoguchi_report::tables::report_name(&report),
        report.period.label(),
        report.period.era_label(),
        report.total.calls
    );
    ExitCode::SUCCESS
}

pub fn run_seed(command: SeedCommand) -> ExitCode {
    let SeedCommand::Month {
        month,
        calls,
        counter_cases,
        seed,
        dialplan,
        database_url,
    } = command;
    let period = match Period::parse_month(&month) {
        Ok(period) => period,
        Err(error) => return fail(&error),
    };
    let dialplan = match load_dialplan(&dialplan) {
        Ok(dialplan) => dialplan,
        Err(code) => return code,
    };
    let Some(hotline) = dialplan
        .entries()
        .first()
        .and_then(|e| dialplan.calendar(&e.calendar))
    else {
        return fail(&"the dialplan has no entry with a calendar to generate calls for");
    };
    let target = dialplan
        .queues()
        .iter()
        .find_map(|q| q.overflow.clone())
        .unwrap_or_else(|| "city_line".to_owned());
    let city = dialplan
        .target(&target)
        .and_then(|t| t.calendar.as_deref())
        .and_then(|name| dialplan.calendar(name));
    let mut spec = MonthSpec::new(period, hotline);
    spec.calls = calls;
    spec.counter_cases = counter_cases.unwrap_or(calls / 12);
    spec.seed = seed;
    spec.city = city;
    spec.counter = dialplan.calendar("counter");
    spec.queues = dialplan.queues().iter().map(|q| q.name.clone()).collect();
    spec.categories = dialplan
        .categories()
        .iter()
        .map(|c| c.code.clone())
        .collect();
    spec.target = target;
    // One limit for all: the first queue's (the one that takes most calls).
    if let Some(queue) = dialplan.queues().first() {
        spec.wrap_up = queue.wrap_up;
    }
    spec.languages = dialplan
        .languages()
        .languages
        .iter()
        .map(|l| (l.code.clone(), l.after))
        .collect();
    let generated = generate(&spec);
    let result = block_on(async {
        let store = Store::connect(&database_url).await?;
        // Batches keep each transaction short; records are idempotent on their ids.
        for batch in generated.calls.chunks(2_000) {
            store.insert_calls(batch).await?;
        }
        for batch in generated.classifications.chunks(5_000) {
            store.seed_classifications(batch).await?;
        }
        for batch in generated.counter_cases.chunks(5_000) {
            store.seed_counter_cases(batch).await?;
        }
        for batch in generated.wrap_ups.chunks(5_000) {
            store.seed_wrap_ups(batch).await?;
        }
        store.close().await;
        Ok::<_, madoguchi_store::StoreError>(())
    });
    match result {
        Ok(Ok(())) => {
            println!(
                "seeded {month}: {} calls, {} classifications, {} counter cases, {} wrap-ups \
                 (seed {seed})",
                generated.calls.len(),
                generated.classifications.len(),
                generated.counter_cases.len(),
                generated.wrap_ups.len()
            );
            ExitCode::SUCCESS
        }
        Ok(Err(error)) => fail(&error),
        Err(code) => code,
    }
}

fn load_dialplan(path: &Path) -> Result<Dialplan, ExitCode> {
    Dialplan::load(path).map_err(|errors| {
        eprintln!("{errors}");
        ExitCode::FAILURE
    })
}

fn block_on<F: std::future::Future>(work: F) -> Result<F::Output, ExitCode> {
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => Ok(runtime.block_on(work)),
        Err(error) => Err(fail(&error)),
    }
}

fn fail(error: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("madoguchi: {error}");
    ExitCode::FAILURE
}
