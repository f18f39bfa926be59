//! `madoguchi user languages|list`: the languages an operator speaks (issue 9, design §2)
//! and the user list that shows them. `user add` lives in main.rs.
//!
//! ```text
//! $ madoguchi user languages yamada en,zh
//! yamada speaks en,zh
//! $ madoguchi user languages yamada ""      # clears
//! $ madoguchi user list
//! yamada<TAB>agent<TAB>sip<TAB>active<TAB>en,zh
//! ```

use std::process::ExitCode;

use madoguchi_store::{AuditEntry, Role, User, SYSTEM_LOGIN};

use crate::store_command::{fail, with_store};

/// The audit action of a change to a user's languages.
// Kept here until the store's `actions` module names user changes (it has none yet).
const USER_LANGUAGES: &str = "user.languages";

/// The longest language code (BCP 47 primary tags are 2–8; "zh-hant" fits too).
const MAX_CODE_CHARS: usize = 8;

/// Why a language list was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LanguagesError {
    #[error(
        "language code {0:?} must be 2 to {MAX_CODE_CHARS} characters of a-z, 0-9 and - \
         (e.g. en,zh; \"\" clears)"
    )]
    BadCode(String),
}

/// The codes of a comma-separated list, trimmed, duplicates dropped, in the order given;
/// an empty (or blank) list clears.
pub fn parse_languages(list: &str) -> Result<Vec<String>, LanguagesError> {
    if list.trim().is_empty() {
        return Ok(Vec::new());
    }
    let mut codes: Vec<String> = Vec::new();
    for code in list.split(',').map(str::trim) {
        let valid = (2..=MAX_CODE_CHARS).contains(&code.chars().count())
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(LanguagesError::BadCode(code.to_owned()));
        }
        if !codes.iter().any(|known| known == code) {
            codes.push(code.to_owned());
        }
    }
    Ok(codes)
}

/// `user languages LOGIN LIST`.
pub fn set_languages(login: &str, list: &str, database_url: &str) -> ExitCode {
    let languages = match parse_languages(list) {
        Ok(languages) => languages,
        Err(error) => return fail(&error),
    };
    let shown = shown(&languages);
    with_store(database_url, |store| async move {
        store.set_user_languages(login, &languages).await?;
        // The command line has no signed-in person: the entry is the engine's own, like the
        // retention job's, and names the user changed.
        store
            .audit(&AuditEntry {
                at: chrono::Utc::now(),
                login: SYSTEM_LOGIN.to_owned(),
                role: Role::Admin,
                action: USER_LANGUAGES.to_owned(),
                subject: Some(login.to_owned()),
                detail: Some(format!("languages={shown} (command line)")),
                source: None,
            })
            .await?;
        println!("{login} speaks {shown}");
        Ok(())
    })
}

/// `user list`: one tab-separated line per user.
pub fn list(database_url: &str) -> ExitCode {
    with_store(database_url, |store| async move {
        for user in store.list_users().await? {
            println!("{}", list_line(&user));
        }
        Ok(())
    })
}

/// login, role, `sip` or `-`, `active` or `disabled`, languages (`-` for none).
fn list_line(user: &User) -> String {
    format!(
        "{}\t{}\t{}\t{}\t{}",
        user.login,
        user.role,
        if user.sip_enabled { "sip" } else { "-" },
        if user.disabled { "disabled" } else { "active" },
        shown(&user.languages)
    )
}

fn shown(languages: &[String]) -> String {
    if languages.is_empty() {
        "-".to_owned()
    } else {
        languages.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_codes_is_trimmed_and_deduplicated_in_order() {
        assert_eq!(
            parse_languages(" en, zh ,en,pt-br"),
            Ok(vec!["en".into(), "zh".into(), "pt-br".into()])
        );
    }

    #[test]
    fn an_empty_list_clears() {
        assert_eq!(parse_languages(""), Ok(vec![]));
        assert_eq!(parse_languages("  "), Ok(vec![]));
    }

    #[test]
    fn a_code_outside_two_to_eight_lowercase_letters_digits_or_dashes_is_refused() {
        for list in ["e", "EN", "en,", "english1x", "en_us", "日本", "en,,zh"] {
            assert!(parse_languages(list).is_err(), "{list:?}");
        }
    }
}
