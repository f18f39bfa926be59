//! Typed access to a spanned TOML tree that records problems instead of stopping.
//!
//! The dialplan is parsed with `toml::de::DeTable`, which keeps the byte span of every key and
//! value. [`Walker`] reads that tree the way the dialplan schema expects it and, on every
//! mismatch (wrong type, missing key, unknown key), appends a [`CheckError`] with the line,
//! column and dotted key path, then lets the caller carry on with the rest of the file. The
//! getters return `None` after recording the error, so parsing code reads as a plain walk.

use std::ops::Range;

use toml::de::{DeArray, DeTable, DeValue};
use toml::Spanned;

use crate::error::{CheckError, LineIndex};

pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// Collects check errors against one source text.
pub(crate) struct Walker<'t> {
    file: String,
    text: &'t str,
    index: LineIndex,
    pub(crate) errors: Vec<CheckError>,
}

impl<'t> Walker<'t> {
    pub(crate) fn new(file: &str, text: &'t str) -> Self {
        Walker {
            file: file.to_string(),
            text,
            index: LineIndex::new(text),
            errors: Vec::new(),
        }
    }

    /// Records a problem at `span` about `key`.
    pub(crate) fn error(&mut self, span: Range<usize>, key: &str, message: impl Into<String>) {
        let (line, column) = self.index.line_col(self.text, span.start);
        self.errors.push(CheckError {
            file: self.file.clone(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
        });
    }

    /// Records an unknown-key error for every key of `table` not in `allowed`.
    pub(crate) fn deny_unknown(&mut self, table: &DeTable<'_>, allowed: &[&str], path: &str) {
        for (k, _) in table.iter() {
            if !allowed.contains(&k.get_ref().as_ref()) {
                self.error(
                    k.span(),
                    &key_path(path, k.get_ref()),
                    format!(
                        "unknown key \"{}\" (expected one of: {})",
                        k.get_ref(),
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    /// The value under `name`, recording "missing key" at `table_span` when absent.
    pub(crate) fn required<'a, 'i>(
        &mut self,
        table: &'a DeTable<'i>,
        table_span: Range<usize>,
        name: &str,
        path: &str,
    ) -> Option<&'a Value<'i>> {
        let v = get(table, name);
        if v.is_none() {
            self.error(
                table_span,
                &key_path(path, name),
                format!("missing key \"{name}\""),
            );
        }
        v
    }

    pub(crate) fn table<'a, 'i>(
        &mut self,
        v: &'a Value<'i>,
        path: &str,
    ) -> Option<&'a DeTable<'i>> {
        match v.get_ref() {
            DeValue::Table(t) => Some(t),
            other => {
                self.type_error(v, path, "a table", other);
                None
            }
        }
    }

    pub(crate) fn array<'a, 'i>(
        &mut self,
        v: &'a Value<'i>,
        path: &str,
    ) -> Option<&'a DeArray<'i>> {
        match v.get_ref() {
            DeValue::Array(a) => Some(a),
            other => {
                self.type_error(v, path, "an array", other);
                None
            }
        }
    }

    pub(crate) fn str<'a>(&mut self, v: &'a Value<'_>, path: &str) -> Option<&'a str> {
        match v.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            other => {
                self.type_error(v, path, "a string", other);
                None
            }
        }
    }

    pub(crate) fn bool(&mut self, v: &Value<'_>, path: &str) -> Option<bool> {
        match v.get_ref() {
            DeValue::Boolean(b) => Some(*b),
            other => {
                self.type_error(v, path, "a boolean", other);
                None
            }
        }
    }

    /// A non-negative integer no larger than `max`.
    pub(crate) fn uint(&mut self, v: &Value<'_>, path: &str, max: u64) -> Option<u64> {
        match v.get_ref() {
            DeValue::Integer(i) => match u64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) if n <= max => Some(n),
                _ => {
                    self.error(
                        v.span(),
                        path,
                        format!("expected an integer between 0 and {max}"),
                    );
                    None
                }
            },
            other => {
                self.type_error(v, path, "an integer", other);
                None
            }
        }
    }

    /// An integer between `min` and `max` (either sign).
    pub(crate) fn int(&mut self, v: &Value<'_>, path: &str, min: i64, max: i64) -> Option<i64> {
        match v.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) if (min..=max).contains(&n) => Some(n),
                _ => {
                    self.error(
                        v.span(),
                        path,
                        format!("expected an integer between {min} and {max}"),
                    );
                    None
                }
            },
            other => {
                self.type_error(v, path, "an integer", other);
                None
            }
        }
    }

    fn type_error(&mut self, v: &Value<'_>, path: &str, expected: &str, found: &DeValue<'_>) {
        self.error(
            v.span(),
            path,
            format!("expected {expected}, found {}", found.type_str()),
        );
    }
}

/// The value under `name` in `table`.
pub(crate) fn get<'a, 'i>(table: &'a DeTable<'i>, name: &str) -> Option<&'a Value<'i>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == name)
        .map(|(_, v)| v)
}

/// `path.name`, quoting names that are not bare TOML keys (`choices."*"`).
pub(crate) fn key_path(path: &str, name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let name = if bare {
        name.to_string()
    } else {
        format!("\"{name}\"")
    };
    if path.is_empty() {
        name
    } else {
        format!("{path}.{name}")
    }
}

/// `path[i]`.
pub(crate) fn index_path(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_path_quotes_keys_that_are_not_bare() {
        assert_eq!(key_path("menu.choices", "*"), "menu.choices.\"*\"");
        assert_eq!(key_path("menu.choices", "1"), "menu.choices.1");
        assert_eq!(key_path("", "prompts"), "prompts");
    }

    #[test]
    fn deny_unknown_names_the_key_and_its_line() {
        let text = "a = 1\nbogus = 2\n";
        let t = DeTable::parse(text).unwrap();
        let mut w = Walker::new("f.toml", text);
        w.deny_unknown(t.get_ref(), &["a"], "");
        assert_eq!(w.errors.len(), 1);
        assert_eq!(w.errors[0].line, 2);
        assert_eq!(w.errors[0].key, "bogus");
    }
}
