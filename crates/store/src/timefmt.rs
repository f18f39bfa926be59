//! Timestamp precision and the SQLite text form.
//!
//! Both backends keep milliseconds: PostgreSQL's timestamptz could hold microseconds, but a
//! record must read back the same whichever database it went through. SQLite stores
//! RFC 3339 UTC text with exactly three fractional digits (`2026-01-05T08:30:00.000Z`), which
//! sorts as text in time order for years 1..=9999 (see `CallRecord::validate`).

use chrono::{DateTime, SecondsFormat, Utc};

/// Drops everything below the millisecond, rounding toward the past.
pub fn truncate_to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    // Every DateTime<Utc> chrono can hold has a millisecond timestamp chrono can hold
    // again; keep the input if that ever changes rather than panic.
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

/// The SQLite column text for `at`, truncated to milliseconds.
pub fn to_sqlite_text(at: DateTime<Utc>) -> String {
    truncate_to_millis(at).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses SQLite column text; `None` when it is not RFC 3339.
pub fn from_sqlite_text(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, nanos: u32) -> DateTime<Utc> {
        let naive = NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_nano_opt(h, mi, s, nanos))
            .expect("valid test date");
        Utc.from_utc_datetime(&naive)
    }

    #[test]
    fn sqlite_text_has_exactly_three_fraction_digits_and_z() {
        assert_eq!(
            to_sqlite_text(utc(2026, 1, 5, 8, 30, 0, 0)),
            "2026-01-05T08:30:00.000Z"
        );
    }

    #[test]
    fn sub_millisecond_digits_are_truncated_not_rounded() {
        assert_eq!(
            to_sqlite_text(utc(2026, 1, 5, 8, 30, 0, 999_999_999)),
            "2026-01-05T08:30:00.999Z"
        );
    }

    #[test]
    fn truncation_rounds_toward_the_past_before_1970() {
        let at = utc(1969, 12, 31, 23, 59, 59, 999_500_000);
        assert_eq!(
            truncate_to_millis(at),
            utc(1969, 12, 31, 23, 59, 59, 999_000_000)
        );
    }

    #[test]
    fn sqlite_text_parses_back_to_the_truncated_instant() {
        let at = utc(2026, 12, 29, 23, 59, 59, 123_456_789);
        let text = to_sqlite_text(at);
        assert_eq!(from_sqlite_text(&text), Some(truncate_to_millis(at)));
    }

    #[test]
    fn text_order_is_time_order() {
        let times = [
            utc(1, 1, 1, 0, 0, 0, 0),
            utc(999, 12, 31, 23, 59, 59, 999_000_000),
            utc(2025, 12, 31, 23, 59, 59, 999_000_000),
            utc(2026, 1, 1, 0, 0, 0, 0),
            utc(2026, 1, 1, 0, 0, 0, 1_000_000),
            utc(2026, 1, 1, 0, 0, 10, 0),
            utc(9999, 12, 31, 23, 59, 59, 999_000_000),
        ];
        for pair in times.windows(2) {
            assert!(
                to_sqlite_text(pair[0]) < to_sqlite_text(pair[1]),
                "{pair:?}"
            );
        }
    }

    #[test]
    fn garbage_text_is_none_not_a_panic() {
        assert_eq!(from_sqlite_text("yesterday"), None);
        assert_eq!(from_sqlite_text(""), None);
    }

    #[test]
    fn offset_text_from_elsewhere_is_read_as_the_same_instant() {
        assert_eq!(
            from_sqlite_text("2026-01-05T17:30:00.000+09:00"),
            Some(utc(2026, 1, 5, 8, 30, 0, 0))
        );
    }
}
