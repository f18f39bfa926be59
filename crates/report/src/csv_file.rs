//! The report as one CSV file for Excel: UTF-8 with a byte-order mark (without it Excel
//! reads UTF-8 as Shift_JIS and the Japanese turns to mojibake), CRLF line ends, and one
//! section per table — a `■ title` row, the headings, the rows — separated by a blank line.
//! One file rather than one per table or a zip: a person opens it with a double click and
//! sees everything, and a script splits it at the blank lines. A table's notes follow its
//! rows as one-field `※ …` records.
//!
//! Percentages are written as numbers of percent (85.3) and durations in seconds (42.5),
//! one decimal each; the headings carry the units. Undefined rates are empty cells.

use crate::model::Report;
use crate::tables::{heading_line, tables, Cell};
use crate::ReportError;

/// The UTF-8 byte-order mark every file starts with.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

pub fn write_csv(report: &Report) -> Result<Vec<u8>, ReportError> {
    let mut out = BOM.to_vec();
    write_records(
        &mut out,
        &[
            vec![heading_line(report)],
            vec!["対象期間".to_owned(), report.period.days_label()],
        ],
    )?;
    for table in tables(report) {
        // A truly empty line: the csv writer would quote an empty field ("").
        out.extend_from_slice(b"\r\n");
        let mut records = vec![vec![format!("■ {}", table.title)], table.headings.clone()];
        records.extend(table.rows.iter().map(|row| row.iter().map(text).collect()));
        records.extend(table.notes.iter().map(|note| vec![format!("※ {note}")]));
        write_records(&mut out, &records)?;
    }
    Ok(out)
}

fn write_records(out: &mut Vec<u8>, records: &[Vec<String>]) -> Result<(), ReportError> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    for record in records {
        w.write_record(record)?;
    }
    w.flush()?;
    Ok(())
}

fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(t) => t.clone(),
        Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        Cell::Count(n) => n.to_string(),
        Cell::Number(x) => format!("{x:.1}"),
        Cell::Ratio(Some(r)) => format!("{:.1}", r * 100.0),
        Cell::Seconds(Some(s)) => format!("{s:.1}"),
        Cell::Ratio(None) | Cell::Seconds(None) | Cell::Empty => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ReportSettings;
    use crate::period::Period;
    use madoguchi_store::ReportFigures;

    fn june_csv() -> String {
        let report = Report::build(
            Period::parse_month("2025-06").expect("month"),
            &ReportSettings::new(chrono_tz::Asia::Tokyo),
            &ReportFigures::default(),
        );
        let bytes = write_csv(&report).expect("csv");
        assert!(bytes.starts_with(BOM));
        String::from_utf8(bytes[BOM.len()..].to_vec()).expect("utf-8")
    }

    #[test]
    fn the_file_starts_with_the_bom_then_the_title() {
        assert!(june_csv().starts_with(
            "マイナンバーカード相談コールセンター 月次報告 2025年6月（令和7年6月）\r\n"
        ));
    }

    #[test]
    fn each_table_is_a_section_after_a_blank_line() {
        let csv = june_csv();
        for title in [
            "■ 概要",
            "■ 日別",
            "■ 時間帯別",
            "■ 問い合わせ内容内訳",
            "■ 窓口",
            "■ 言語別",
            "■ 応答前待ち",
            "■ 窓口機器",
        ] {
            assert!(
                csv.lines()
                    .zip(csv.lines().skip(1))
                    .any(|(blank, t)| blank.is_empty() && t.starts_with(title)),
                "{title}"
            );
        }
    }

    #[test]
    fn rates_are_percent_numbers_and_undefined_ones_are_empty() {
        assert_eq!(text(&Cell::Ratio(Some(0.8534))), "85.3");
        assert_eq!(text(&Cell::Ratio(None)), "");
        assert_eq!(text(&Cell::Seconds(Some(42.26))), "42.3");
    }
}
