//! Reading FAQ entries from a CSV file for `madoguchi faq import FILE.csv`.
//!
//! The file is UTF-8 (a byte-order mark, as spreadsheet programs write, is skipped) with
//! the header `question,answer,category` (in any order, case-insensitive; `category` may
//! be left out) and one entry per record; quoted fields may hold commas and line breaks
//! (RFC 4180). Errors name the line:
//!
//! ```text
//! question,answer,category
//! 暗証番号を忘れた,"本人確認書類を持って、市役所の窓口へお越しください。",オ
//! ```

use std::io::Read;

use madoguchi_store::NewFaq;

/// Why a file could not be read as FAQ entries.
#[derive(Debug, thiserror::Error)]
pub enum FaqCsvError {
    #[error("line {line}: {message}")]
    Line { line: u64, message: String },
    #[error("the header must name the columns question and answer (and optionally category)")]
    Header,
    #[error("{0}")]
    Csv(#[from] csv::Error),
}

/// The entries of a CSV file, in file order. Blank lines are skipped; a record without a
/// question or answer is an error naming its line.
pub fn read_entries(reader: impl Read) -> Result<Vec<NewFaq>, FaqCsvError> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let headers = csv.headers()?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
    };
    let (Some(question), Some(answer)) = (column("question"), column("answer")) else {
        return Err(FaqCsvError::Header);
    };
    let category = column("category");
    let mut entries = Vec::new();
    for record in csv.records() {
        let record = record.map_err(|e| match e.position() {
            Some(at) => FaqCsvError::Line {
                line: at.line(),
                message: e.to_string(),
            },
            None => FaqCsvError::Csv(e),
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("");
        if record.iter().all(str::is_empty) {
            continue;
        }
        for (name, i) in [("question", question), ("answer", answer)] {
            if field(i).is_empty() {
                return Err(FaqCsvError::Line {
                    line,
                    message: format!("{name} is empty"),
                });
            }
        }
        entries.push(NewFaq {
            question: field(question).to_owned(),
            answer: field(answer).to_owned(),
            category: category
                .map(field)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_keep_their_commas_and_line_breaks() {
        let text = "question,answer,category\n\
                    暗証番号を忘れた,\"窓口へ、本人確認書類を\nお持ちください。\",オ\n";
        let entries = read_entries(text.as_bytes()).expect("valid");
        assert_eq!(
            entries,
            vec![NewFaq::new(
                "暗証番号を忘れた",
                "窓口へ、本人確認書類を\nお持ちください。",
                Some("オ")
            )]
        );
    }

    #[test]
    fn a_byte_order_mark_and_column_order_do_not_matter() {
        let text = "\u{feff}Category,Answer,Question\nイ,郵送で申請できます。,申請方法は\n";
        let entries = read_entries(text.as_bytes()).expect("valid");
        assert_eq!(entries[0].question, "申請方法は");
        assert_eq!(entries[0].category.as_deref(), Some("イ"));
    }

    #[test]
    fn the_category_column_may_be_missing_or_empty() {
        let text = "question,answer\n質問,回答\n";
        assert_eq!(
            read_entries(text.as_bytes()).expect("valid")[0].category,
            None
        );
        let text = "question,answer,category\n質問,回答,\n";
        assert_eq!(
            read_entries(text.as_bytes()).expect("valid")[0].category,
            None
        );
    }

    #[test]
    fn a_missing_answer_names_its_line() {
        let text = "question,answer,category\n質問1,回答1,ア\n質問2,,ア\n";
        let err = read_entries(text.as_bytes()).expect_err("empty answer");
        assert_eq!(err.to_string(), "line 3: answer is empty");
    }

    #[test]
    fn a_record_with_too_many_fields_names_its_line() {
        let text = "question,answer,category\n質問,回答,ア,余分\n";
        let err = read_entries(text.as_bytes()).expect_err("four fields");
        assert!(err.to_string().starts_with("line 2:"), "{err}");
    }

    #[test]
    fn a_header_without_question_is_refused() {
        let text = "q,a,c\nx,y,z\n";
        assert!(matches!(
            read_entries(text.as_bytes()),
            Err(FaqCsvError::Header)
        ));
    }

    #[test]
    fn bytes_that_are_not_utf8_are_an_error_not_a_panic() {
        let text = b"question,answer\n\x82\xa0,x\n";
        assert!(read_entries(&text[..]).is_err());
    }
}
