//! An FAQ edition as the files handed to the city: Markdown and XLSX, each with the
//! edition's label and date, its changes since the previous edition, and its entries
//! grouped by inquiry category (in the dialplan's order; unknown codes after, entries
//! without a category last). Used by `GET /api/v1/faq/editions/{n}` and
//! `madoguchi faq export`.
//!
//! ```ignore
//! let edition = store.faq_edition(2).await?.expect("published");
//! let entries = store.faq_edition_entries(2).await?;
//! let changes = store.faq_edition_changes(2).await?;
//! let md = faq_export::markdown(&FaqExport { edition: &edition, entries: &entries,
//!     changes: &changes, categories: &categories, time_zone: chrono_tz::Asia::Tokyo });
//! ```

use std::fmt::Write as _;

use chrono_tz::Tz;
use madoguchi_dialplan::Category;
use madoguchi_store::{EditionChanges, EditionEntry, FaqEdition};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// Everything one export needs.
pub struct FaqExport<'a> {
    pub edition: &'a FaqEdition,
    pub entries: &'a [EditionEntry],
    pub changes: &'a EditionChanges,
    /// The dialplan's categories, for their labels and order.
    pub categories: &'a [Category],
    /// The publication date is shown in this zone.
    pub time_zone: Tz,
}

const UNCATEGORISED: &str = "分類なし";

impl FaqExport<'_> {
    /// 「2026年1月5日」 in the export's time zone.
    fn published_on(&self) -> String {
        self.edition
            .published_at
            .with_timezone(&self.time_zone)
            .format("%Y年%-m月%-d日")
            .to_string()
    }

    /// 「イ カードの申請」 for a configured code, the bare code otherwise.
    fn category_name(&self, code: Option<&str>) -> String {
        match code {
            None => UNCATEGORISED.to_owned(),
            Some(code) => match self.categories.iter().find(|c| c.code == code) {
                Some(c) => format!("{} {}", c.code, c.label),
                None => code.to_owned(),
            },
        }
    }

    /// The entries grouped by category, in the order of the module docs.
    fn by_category(&self) -> Vec<(Option<&str>, Vec<&EditionEntry>)> {
        let rank = |code: Option<&str>| match code {
            None => (2, usize::MAX),
            Some(code) => match self.categories.iter().position(|c| c.code == code) {
                Some(i) => (0, i),
                None => (1, 0),
            },
        };
        let mut sorted: Vec<&EditionEntry> = self.entries.iter().collect();
        sorted.sort_by(|a, b| {
            (rank(a.category.as_deref()), &a.category, a.faq_id).cmp(&(
                rank(b.category.as_deref()),
                &b.category,
                b.faq_id,
            ))
        });
        let mut groups: Vec<(Option<&str>, Vec<&EditionEntry>)> = Vec::new();
        for entry in sorted {
            match groups.last_mut() {
                Some((code, list)) if *code == entry.category.as_deref() => list.push(entry),
                _ => groups.push((entry.category.as_deref(), vec![entry])),
            }
        }
        groups
    }
}

/// The edition as Markdown.
pub fn markdown(export: &FaqExport<'_>) -> String {
    let edition = export.edition;
    let mut md = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(md, "# よくある質問（FAQ）{}\n", edition.label);
    let _ = writeln!(
        md,
        "- 公開日: {}\n- 収録件数: {}件",
        export.published_on(),
        edition.entries
    );
    if let Some(note) = &edition.note {
        let _ = writeln!(md, "- 備考: {note}");
    }
    let _ = writeln!(md, "\n## 前版からの変更\n");
    if edition.number <= 1 {
        let _ = writeln!(md, "初版のため前版はありません。\n");
    } else {
        for (heading, list) in [
            ("追加", &export.changes.added),
            ("変更", &export.changes.changed),
            ("削除", &export.changes.removed),
        ] {
            let _ = writeln!(md, "### {heading}（{}件）\n", list.len());
            if list.is_empty() {
                let _ = writeln!(md, "なし\n");
                continue;
            }
            for entry in list {
                let _ = writeln!(md, "- No.{} {}", entry.faq_id, one_line(&entry.question));
            }
            md.push('\n');
        }
    }
    let _ = writeln!(md, "## 質問と回答\n");
    for (code, entries) in export.by_category() {
        let _ = writeln!(md, "### {}\n", export.category_name(code));
        for entry in entries {
            let _ = writeln!(
                md,
                "#### Q. {}（No.{}）\n",
                one_line(&entry.question),
                entry.faq_id
            );
            let _ = writeln!(md, "{}\n", entry.answer.trim());
        }
    }
    md
}

/// A question on one line (a heading or list item ends at a line break).
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The edition as an XLSX workbook: sheet 「FAQ」 (番号, 分類, 質問, 回答) and sheet
/// 「前版からの変更」 (区分, 番号, 分類, 質問), both with the edition in their first row.
pub fn xlsx(export: &FaqExport<'_>) -> Result<Vec<u8>, XlsxError> {
    let edition = export.edition;
    let title = format!(
        "よくある質問（FAQ）{}　公開日 {}",
        edition.label,
        export.published_on()
    );
    let bold = Format::new().set_bold();
    let wrap = Format::new().set_text_wrap();
    let mut workbook = Workbook::new();

    let sheet = workbook.add_worksheet();
    sheet.set_name("FAQ")?;
    sheet.write_string_with_format(0, 0, &title, &bold)?;
    for (col, (heading, width)) in [
        ("番号", 8.0),
        ("分類", 24.0),
        ("質問", 50.0),
        ("回答", 80.0),
    ]
    .into_iter()
    .enumerate()
    {
        let col = col as u16;
        sheet.write_string_with_format(2, col, heading, &bold)?;
        sheet.set_column_width(col, width)?;
    }
    sheet.set_freeze_panes(3, 0)?;
    let mut row = 3;
    for (code, entries) in export.by_category() {
        let category = export.category_name(code);
        for entry in entries {
            sheet.write_number(row, 0, entry.faq_id as f64)?;
            sheet.write_string_with_format(row, 1, &category, &wrap)?;
            sheet.write_string_with_format(row, 2, &entry.question, &wrap)?;
            sheet.write_string_with_format(row, 3, &entry.answer, &wrap)?;
            row += 1;
        }
    }

    let sheet = workbook.add_worksheet();
    sheet.set_name("前版からの変更")?;
    sheet.write_string_with_format(0, 0, &title, &bold)?;
    for (col, (heading, width)) in [("区分", 8.0), ("番号", 8.0), ("分類", 24.0), ("質問", 60.0)]
        .into_iter()
        .enumerate()
    {
        let col = col as u16;
        sheet.write_string_with_format(2, col, heading, &bold)?;
        sheet.set_column_width(col, width)?;
    }
    let mut row = 3;
    if edition.number <= 1 {
        sheet.write_string(row, 0, "初版のため前版はありません。")?;
    }
    for (kind, list) in [
        ("追加", &export.changes.added),
        ("変更", &export.changes.changed),
        ("削除", &export.changes.removed),
    ] {
        if edition.number <= 1 {
            break;
        }
        for entry in list {
            sheet.write_string(row, 0, kind)?;
            sheet.write_number(row, 1, entry.faq_id as f64)?;
            sheet.write_string_with_format(
                row,
                2,
                export.category_name(entry.category.as_deref()),
                &wrap,
            )?;
            sheet.write_string_with_format(row, 3, &entry.question, &wrap)?;
            row += 1;
        }
    }
    workbook.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn entry(id: i64, category: Option<&str>, question: &str) -> EditionEntry {
        EditionEntry {
            faq_id: id,
            question: question.to_owned(),
            answer: format!("{question}の回答"),
            category: category.map(str::to_owned),
        }
    }

    fn edition(number: i64) -> FaqEdition {
        FaqEdition {
            number,
            label: madoguchi_store::edition_label(number),
            // 2026-01-04 23:30 UTC is 2026-01-05 in Tokyo.
            published_at: Utc.with_ymd_and_hms(2026, 1, 4, 23, 30, 0).unwrap(),
            published_by: "manager1".to_owned(),
            note: None,
            entries: 3,
        }
    }

    fn render(number: i64, changes: &EditionChanges) -> String {
        let entries = [
            entry(3, None, "その他の質問"),
            entry(2, Some("ウ"), "交付の予約"),
            entry(1, Some("イ"), "申請方法"),
        ];
        let edition = edition(number);
        markdown(&FaqExport {
            edition: &edition,
            entries: &entries,
            changes,
            categories: &Category::city_defaults(),
            time_zone: chrono_tz::Asia::Tokyo,
        })
    }

    #[test]
    fn markdown_opens_with_the_label_and_the_local_publication_date() {
        let md = render(1, &EditionChanges::default());
        assert!(md.starts_with("# よくある質問（FAQ）初版\n"), "{md}");
        assert!(md.contains("公開日: 2026年1月5日"), "{md}");
    }

    #[test]
    fn markdown_groups_entries_in_category_order_uncategorised_last() {
        let md = render(1, &EditionChanges::default());
        let at = |s: &str| md.find(s).unwrap_or_else(|| panic!("{s} missing in {md}"));
        assert!(at("### イ カードの申請") < at("### ウ カードの交付"));
        assert!(at("### ウ カードの交付") < at("### 分類なし"));
        assert!(at("#### Q. 申請方法（No.1）") < at("#### Q. 交付の予約（No.2）"));
    }

    #[test]
    fn markdown_lists_the_changes_since_the_previous_edition() {
        let changes = EditionChanges {
            added: vec![entry(3, None, "その他の質問")],
            changed: vec![],
            removed: vec![entry(9, Some("イ"), "廃止された質問")],
        };
        let md = render(2, &changes);
        assert!(
            md.contains("### 追加（1件）\n\n- No.3 その他の質問"),
            "{md}"
        );
        assert!(md.contains("### 変更（0件）\n\nなし"), "{md}");
        assert!(
            md.contains("### 削除（1件）\n\n- No.9 廃止された質問"),
            "{md}"
        );
    }
}
