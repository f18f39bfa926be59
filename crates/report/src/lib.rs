//! The monthly and final reports the city receives, as CSV and XLSX, and the month generator
//! that fills a database with a realistic month to report on.
//!
//! # Layout
//! - [`period`]: [`Period`], a month or a range of local days, its UTC bounds and labels.
//! - [`era`]: the Japanese era of a date (令和7年6月).
//! - [`tally`]: [`Tally`], the counts of a group of calls and the rates derived from them.
//! - [`model`]: [`Report`], the store's quarter-hour figures grouped by day, hour band, day
//!   type, category, transfer and counter-case kind, the caller languages, free waiting and
//!   the counter devices, with [`ReportSettings`].
//! - [`tables`]: the report as typed tables, shared by the two file formats.
//! - [`csv_file`] and [`xlsx`]: the two files.
//! - [`generate`]: a deterministic, realistic month of calls, classifications and counter
//!   cases, from a seed.
//!
//! The figures themselves are sums computed in SQL by `madoguchi_store::Store::report_figures`;
//! this crate reads no database and no clock.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), Box<dyn std::error::Error>> {
//! use madoguchi_report::{render, OutputFormat, Period, Report, ReportSettings};
//! let settings = ReportSettings::new(chrono_tz::Asia::Tokyo);
//! let june = Period::parse_month("2025-06")?;
//! let figures = store.report_figures(&settings.query(&june)?).await?;
//! let xlsx: Vec<u8> = render(&Report::build(june, &settings, &figures), OutputFormat::Xlsx)?;
//! # Ok(()) }
//! ```

pub mod csv_file;
pub mod era;
pub mod generate;
pub mod model;
pub mod period;
pub mod tables;
pub mod tally;
pub mod xlsx;

use std::fmt;
use std::str::FromStr;

pub use model::{CategoryLabel, DayType, Report, ReportSettings, DEFAULT_WRAP_UP};
pub use period::{Period, PeriodError, PeriodKind};
pub use tally::Tally;

/// Why a report file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("writing the XLSX failed: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("writing the CSV failed: {0}")]
    Csv(#[from] csv::Error),
    #[error("writing the CSV failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("the report has more rows or columns than a sheet holds")]
    TooLarge,
}

/// The file format of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Csv,
    Xlsx,
}

impl OutputFormat {
    pub fn extension(self) -> &'static str {
        match self {
            OutputFormat::Csv => "csv",
            OutputFormat::Xlsx => "xlsx",
        }
    }

    /// The HTTP media type.
    pub fn content_type(self) -> &'static str {
        match self {
            OutputFormat::Csv => "text/csv; charset=utf-8",
            OutputFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// A format name that is neither `csv` nor `xlsx`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format {0:?} (expected csv or xlsx)")]
pub struct UnknownFormat(pub String);

impl FromStr for OutputFormat {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<OutputFormat, UnknownFormat> {
        match s {
            "csv" => Ok(OutputFormat::Csv),
            "xlsx" => Ok(OutputFormat::Xlsx),
            other => Err(UnknownFormat(other.to_owned())),
        }
    }
}

/// The report as the bytes of a file of `format`.
pub fn render(report: &Report, format: OutputFormat) -> Result<Vec<u8>, ReportError> {
    match format {
        OutputFormat::Csv => csv_file::write_csv(report),
        OutputFormat::Xlsx => xlsx::write_xlsx(report),
    }
}
