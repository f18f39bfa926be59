//! Check errors: every problem found in a dialplan file, each tied to a file, a line, a column
//! and the dotted key path it concerns.
//!
//! The checker does not stop at the first problem: [`CheckErrors`] carries all of them so an
//! operator fixes a file in one pass. `Display` gives one line per error in the
//! `file:line:column: key: message` form editors and CI logs understand.

use std::fmt;

use serde::Serialize;

/// One problem in a dialplan file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckError {
    /// The file name as given to the loader (for messages only).
    pub file: String,
    /// 1-based line of the offending key or value; 0 when the problem has no place in the file
    /// (the file could not be read).
    pub line: usize,
    /// 1-based column (in characters) on that line.
    pub column: usize,
    /// Dotted key path, e.g. `entries[0].open[2].play`; empty for file-level problems.
    pub key: String,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// All problems found in one dialplan file, in file order. Never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct CheckErrors {
    pub errors: Vec<CheckError>,
}

impl CheckErrors {
    pub fn iter(&self) -> impl Iterator<Item = &CheckError> {
        self.errors.iter()
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
}

impl fmt::Display for CheckErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Turns byte offsets into 1-based line and column numbers.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { line_starts }
    }

    /// Line and column (both 1-based, column counted in characters) of byte `offset` in `text`.
    pub(crate) fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1, // line_starts[0] == 0, so i >= 1 here
        };
        let start = self.line_starts[line];
        let column = text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line + 1, column + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_index_maps_offsets_to_one_based_line_and_column() {
        let text = "a = 1\nbb = 2\n";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 6), (2, 1));
        assert_eq!(idx.line_col(text, 9), (2, 4));
    }

    #[test]
    fn line_index_counts_columns_in_characters_not_bytes() {
        let text = "label = \"年末年始\" x";
        let idx = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(idx.line_col(text, x), (1, 16));
    }

    #[test]
    fn display_puts_file_line_column_key_and_message_in_order() {
        let e = CheckError {
            file: "zama.toml".into(),
            line: 12,
            column: 5,
            key: "entries[0].open[2].play".into(),
            message: "unknown prompt \"greting\"".into(),
        };
        assert_eq!(
            e.to_string(),
            "zama.toml:12:5: entries[0].open[2].play: unknown prompt \"greting\""
        );
    }
}
