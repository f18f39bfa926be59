//! `madoguchi faq publish` and `madoguchi faq export`: FAQ editions from the command line,
//! the same store calls and files as `/api/v1/faq/editions` (`crate::web`).

use std::path::Path;
use std::process::ExitCode;

use madoguchi_dialplan::Dialplan;

use crate::faq_export::{self, FaqExport};
use crate::store_command::with_store;

/// Publishes the active entries; prints the new edition's number and label.
pub fn publish(note: Option<&str>, by: &str, database_url: &str) -> ExitCode {
    with_store(database_url, |store| async move {
        let edition = store
            .publish_faq_edition(by, note, chrono::Utc::now())
            .await?;
        println!(
            "published edition {} ({}) with {} entries",
            edition.number, edition.label, edition.entries
        );
        Ok(())
    })
}

/// Writes edition `number` to `out` as `md` or `xlsx`.
pub fn export(
    number: i64,
    format: &str,
    out: &Path,
    dialplan: &Path,
    database_url: &str,
) -> ExitCode {
    if !matches!(format, "md" | "xlsx") {
        eprintln!("madoguchi: --format must be md or xlsx");
        return ExitCode::FAILURE;
    }
    let dialplan = match Dialplan::load(dialplan) {
        Ok(dialplan) => dialplan,
        Err(errors) => {
            eprintln!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    let time_zone = dialplan
        .calendars()
        .first()
        .map_or(chrono_tz::Asia::Tokyo, |c| c.tz);
    with_store(database_url, |store| async move {
        let edition = store
            .faq_edition(number)
            .await?
            .ok_or_else(|| format!("no FAQ edition {number}"))?;
        let entries = store.faq_edition_entries(number).await?;
        let changes = store.faq_edition_changes(number).await?;
        let export = FaqExport {
            edition: &edition,
            entries: &entries,
            changes: &changes,
            categories: dialplan.categories(),
            time_zone,
        };
        let bytes = if format == "md" {
            faq_export::markdown(&export).into_bytes()
        } else {
            faq_export::xlsx(&export)?
        };
        std::fs::write(out, bytes).map_err(|e| format!("{}: {e}", out.display()))?;
        println!("wrote {} ({}) to {}", edition.label, format, out.display());
        Ok(())
    })
}
