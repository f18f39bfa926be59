//! `[devices]`: the hours the counter's devices are watched in (design §3).
//!
//! ```toml
//! [devices]
//! calendar = "counter"   # silence outside this calendar's open hours is recorded, not alerted
//! ```
//!
//! Without the section (or without `calendar`) every silence is alerted. The devices' own
//! silent limit stays per device (`madoguchi device add --silent-after`).

use std::collections::HashSet;

use toml::de::DeTable;

use crate::parse::reference;
use crate::toml_walk::{get, Walker};

const KEYS: &[&str] = &["calendar"];

/// The `[devices]` section.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Devices {
    /// The calendar whose open hours a silence is alerted in; `None`: at any hour.
    pub calendar: Option<String>,
}

/// Reads `[devices]`; `calendar` must name a declared calendar.
pub(crate) fn parse_devices(
    w: &mut Walker<'_>,
    root: &DeTable<'_>,
    calendars: &HashSet<String>,
) -> Devices {
    let Some(v) = get(root, "devices") else {
        return Devices::default();
    };
    let Some(t) = w.table(v, "devices") else {
        return Devices::default();
    };
    w.deny_unknown(t, KEYS, "devices");
    Devices {
        calendar: get(t, "calendar")
            .and_then(|c| reference(w, c, "devices.calendar", calendars, "calendar")),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::Dialplan;

    const BASE: &str = r#"
[calendars.counter]
hours = [{ days = "mon-fri", ranges = ["08:30-17:15"] }]

[[entries]]
match = "*"
calendar = "counter"
open = [{ hangup = true }]
closed = [{ hangup = true }]
"#;

    fn parse(extra: &str) -> Result<Dialplan, crate::CheckErrors> {
        Dialplan::parse("test.toml", &format!("{BASE}{extra}"), Path::new("."))
    }

    #[test]
    fn without_the_section_no_calendar_limits_the_alerts() {
        let plan = parse("").expect("valid");
        assert_eq!(plan.devices().calendar, None);
        assert!(plan.devices_calendar().is_none());
    }

    #[test]
    fn the_section_names_a_declared_calendar() {
        let plan = parse("\n[devices]\ncalendar = \"counter\"\n").expect("valid");
        assert_eq!(plan.devices().calendar.as_deref(), Some("counter"));
        assert_eq!(
            plan.devices_calendar().map(|c| c.name.as_str()),
            Some("counter")
        );
    }

    #[test]
    fn an_unknown_calendar_is_an_error_naming_its_line() {
        let errors = parse("\n[devices]\ncalendar = \"kiosk\"\n").expect_err("unknown calendar");
        let error = &errors.errors[0];
        assert_eq!(error.key, "devices.calendar");
        assert!(
            error.message.contains("unknown calendar \"kiosk\""),
            "{error:?}"
        );
        let line = BASE.lines().count() + 3;
        assert_eq!(error.line, line, "{error:?}");
    }

    #[test]
    fn an_unknown_key_is_an_error() {
        let errors = parse("\n[devices]\nsilent = 10\n").expect_err("unknown key");
        assert_eq!(errors.errors[0].key, "devices.silent");
    }
}
