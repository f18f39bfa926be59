//! The report as an Excel workbook (rust_xlsxwriter): one sheet per table with Japanese
//! headings, real numbers with number formats (counts `#,##0`, rates `0.0%`, seconds
//! `0.0`, dates `yyyy/mm/dd`), the period in the Western and the Japanese era on every sheet,
//! a column chart of the daily volume and a bar chart of the inquiry categories.
//!
//! Layout of every sheet: row 1 the report's heading line, row 2 the table's title, row 4
//! the column headings (frozen), the rows from row 5, a bold total row last, then after a
//! blank row the table's notes, one a row.

use rust_xlsxwriter::{
    Chart, ChartType, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook,
    Worksheet,
};

use crate::model::Report;
use crate::tables::{heading_line, report_name, tables, Cell, ChartSpec, Table};
use crate::ReportError;

/// The 0-based row of the column headings.
const HEADING_ROW: u32 = 3;
/// The 0-based row of the first data row.
const FIRST_ROW: u32 = HEADING_ROW + 1;

struct Formats {
    title: Format,
    subtitle: Format,
    heading: Format,
    text: Format,
    date: Format,
    count: Format,
    number: Format,
    ratio: Format,
    seconds: Format,
}

impl Formats {
    fn new(bold: bool) -> Formats {
        let base = || {
            let f = Format::new().set_border(FormatBorder::Thin);
            if bold {
                f.set_bold()
            } else {
                f
            }
        };
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            subtitle: Format::new().set_bold(),
            heading: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Center)
                .set_align(FormatAlign::VerticalCenter)
                .set_background_color(0xDDEBF7)
                .set_border(FormatBorder::Thin),
            text: base(),
            date: base().set_num_format("yyyy/mm/dd"),
            count: base().set_num_format("#,##0"),
            number: base().set_num_format("#,##0.0"),
            ratio: base().set_num_format("0.0%"),
            seconds: base().set_num_format("#,##0.0"),
        }
    }
}

pub fn write_xlsx(report: &Report) -> Result<Vec<u8>, ReportError> {
    let mut workbook = Workbook::new();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(heading_line(report))
            .set_subject(report_name(report))
            .set_author("madoguchi"),
    );
    let plain = Formats::new(false);
    let bold = Formats::new(true);
    let heading = heading_line(report);
    for table in tables(report) {
        let sheet = workbook.add_worksheet();
        sheet.set_name(table.sheet)?;
        // Printed (or turned into PDF) for the city: landscape, each sheet one page wide.
        sheet.set_landscape();
        sheet.set_print_fit_to_pages(1, 0);
        sheet.write_string_with_format(0, 0, &heading, &plain.title)?;
        sheet.write_string_with_format(1, 0, table.title, &plain.subtitle)?;
        write_table(sheet, &table, &plain, &bold)?;
        if let Some(spec) = &table.chart {
            if table.data_rows() > 0 {
                insert_chart(sheet, &table, spec)?;
            }
        }
    }
    Ok(workbook.save_to_buffer()?)
}

fn write_table(
    sheet: &mut Worksheet,
    table: &Table,
    plain: &Formats,
    bold: &Formats,
) -> Result<(), ReportError> {
    for (col, heading) in table.headings.iter().enumerate() {
        let col = col_num(col)?;
        sheet.write_string_with_format(HEADING_ROW, col, heading, &plain.heading)?;
        sheet.set_column_width(col, column_width(table, usize::from(col)))?;
    }
    sheet.set_row_height(HEADING_ROW, 32)?;
    for (index, row) in table.rows.iter().enumerate() {
        let is_total = table.total_row && index + 1 == table.rows.len();
        let f = if is_total { bold } else { plain };
        let r = FIRST_ROW + u32::try_from(index).map_err(|_| ReportError::TooLarge)?;
        for (col, cell) in row.iter().enumerate() {
            let c = col_num(col)?;
            match cell {
                Cell::Text(t) => sheet.write_string_with_format(r, c, t, &f.text)?,
                Cell::Date(d) => {
                    sheet.write_datetime_with_format(r, c, excel_date(*d)?, &f.date)?
                }
                Cell::Count(n) => sheet.write_number_with_format(r, c, *n as f64, &f.count)?,
                Cell::Number(x) => sheet.write_number_with_format(r, c, *x, &f.number)?,
                Cell::Ratio(Some(x)) => sheet.write_number_with_format(r, c, *x, &f.ratio)?,
                Cell::Seconds(Some(x)) => sheet.write_number_with_format(r, c, *x, &f.seconds)?,
                Cell::Ratio(None) | Cell::Seconds(None) | Cell::Empty => {
                    sheet.write_blank(r, c, &f.text)?
                }
            };
        }
    }
    let first_note = FIRST_ROW + rows_u32(table.rows.len())? + 1;
    for (index, note) in table.notes.iter().enumerate() {
        sheet.write_string(first_note + rows_u32(index)?, 0, note)?;
    }
    sheet.set_freeze_panes(FIRST_ROW, 0)?;
    Ok(())
}

/// Wide enough for the longest text of the column (a CJK character counts double).
fn column_width(table: &Table, col: usize) -> f64 {
    let width_of = |s: &str| -> usize { s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum() };
    let longest = table
        .rows
        .iter()
        .filter_map(|row| match row.get(col) {
            Some(Cell::Text(t)) => Some(width_of(t)),
            Some(Cell::Date(_)) => Some(11),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    // Headings wrap, so they only need half their length.
    let heading = table.headings.get(col).map_or(0, |h| width_of(h) / 2 + 2);
    longest.max(heading).clamp(9, 60) as f64 + 1.0
}

fn insert_chart(sheet: &mut Worksheet, table: &Table, spec: &ChartSpec) -> Result<(), ReportError> {
    let kind = match (spec.horizontal, spec.stacked) {
        (false, false) => ChartType::Column,
        (false, true) => ChartType::ColumnStacked,
        (true, false) => ChartType::Bar,
        (true, true) => ChartType::BarStacked,
    };
    let mut chart = Chart::new(kind);
    chart.title().set_name(&spec.title);
    let last = FIRST_ROW + u32::try_from(table.data_rows()).map_err(|_| ReportError::TooLarge)? - 1;
    let categories = col_num(spec.categories)?;
    for &series in &spec.series {
        let col = col_num(series)?;
        chart
            .add_series()
            .set_name((table.sheet, HEADING_ROW, col))
            .set_categories((table.sheet, FIRST_ROW, categories, last, categories))
            .set_values((table.sheet, FIRST_ROW, col, last, col));
    }
    if spec.horizontal {
        // Bars list the first category at the top, as the table does. A bar chart's
        // category axis is its y axis in rust_xlsxwriter (x is the values): reversing x drew
        // the bars from the right (seen in LibreOffice's rendering, tests/report_render.rs).
        chart.y_axis().set_reverse();
    } else {
        chart.x_axis().set_num_format("m/d");
    }
    chart.set_width(900).set_height(420);
    // Below the table (after its total row and notes), so a page one table wide holds the
    // chart too.
    sheet.insert_chart(last + 3 + rows_u32(table.notes.len())?, 0, &chart)?;
    Ok(())
}

fn excel_date(d: chrono::NaiveDate) -> Result<ExcelDateTime, ReportError> {
    use chrono::Datelike;
    let year = u16::try_from(d.year()).map_err(|_| ReportError::TooLarge)?;
    // Months and days always fit a u8.
    Ok(ExcelDateTime::from_ymd(
        year,
        d.month() as u8,
        d.day() as u8,
    )?)
}

fn rows_u32(rows: usize) -> Result<u32, ReportError> {
    u32::try_from(rows).map_err(|_| ReportError::TooLarge)
}

fn col_num(col: usize) -> Result<u16, ReportError> {
    u16::try_from(col).map_err(|_| ReportError::TooLarge)
}
