//! PostgreSQL for the end-to-end tests: a fresh schema per test (the engines under test get
//! its URL), and psql for what a test sets up or reads behind the engines' backs.

use std::process::Command;

/// The test database (trust auth on 127.0.0.1 unless `MADOGUCHI_TEST_PG_URL` says otherwise).
pub fn base_url() -> String {
    std::env::var("MADOGUCHI_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Runs `sql` with psql, in `schema` when given; its rows, fields split on `|`.
fn run(schema: Option<&str>, sql: &str) -> Vec<Vec<String>> {
    let mut options = "--client-min-messages=warning".to_owned();
    if let Some(schema) = schema {
        options.push_str(&format!(" -csearch_path={schema}"));
    }
    let output = Command::new("psql")
        .args([base_url().as_str(), "-q", "-At", "-F", "|", "-c", sql])
        .env("PGOPTIONS", options)
        .output()
        .expect("psql runs");
    assert!(
        output.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.split('|').map(str::to_owned).collect())
        .collect()
}

/// A fresh schema named `PREFIX_PID`, dropped when the test ends.
pub struct Schema(String);

impl Schema {
    pub fn new(prefix: &str) -> Schema {
        let schema = Schema(format!("{prefix}_{}", std::process::id()));
        run(
            None,
            &format!(
                "DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}",
                schema.0
            ),
        );
        schema
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// The database URL an engine or a `Store` uses to live in this schema.
    pub fn url(&self) -> String {
        format!("{}?options=-csearch_path%3D{}", base_url(), self.0)
    }

    /// `sql` run in this schema: its rows, fields split on `|`.
    pub fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        run(Some(&self.0), sql)
    }

    /// The first field of the first row of `sql` run in this schema ("" when none).
    pub fn value(&self, sql: &str) -> String {
        self.rows(sql)
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next())
            .unwrap_or_default()
    }

    /// Calls still open in the journal (for `node`, or every node).
    pub fn open_journal_rows(&self, node: Option<&str>) -> usize {
        let filter = node.map_or(String::new(), |n| format!(" WHERE node_id = '{n}'"));
        self.value(&format!("SELECT count(*) FROM call_journal{filter}"))
            .parse()
            .expect("a count")
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        run(None, &format!("DROP SCHEMA IF EXISTS {} CASCADE", self.0));
    }
}
