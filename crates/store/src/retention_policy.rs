//! How long personal data and the audit log are kept, and when the retention job is due:
//! pure functions of the settings and the time handed in (no clock, no database).
//!
//! Residents' personal data — caller numbers, SIP Call-IDs, DTMF input, call event details,
//! classification and counter notes, recordings — is kept [`RetentionPolicy::personal_days`]
//! from when it was written; audit entries [`RetentionPolicy::audit_days`]. The job runs at
//! start-up and then every day at [`DAILY_RUN_AT`] local time.
//!
//! ```
//! use madoguchi_store::retention_policy::{next_daily_run, RetentionPolicy, DAILY_RUN_AT};
//! let policy = RetentionPolicy::new(365, 1827).expect("valid");
//! let now = "2027-06-01T00:00:00Z".parse().expect("instant");
//! let due = policy.cutoffs(now);
//! assert_eq!(due.personal_before.to_rfc3339(), "2026-06-01T00:00:00+00:00");
//! let next = next_daily_run(now, chrono_tz::Asia::Tokyo, DAILY_RUN_AT);
//! assert_eq!(next.to_rfc3339(), "2027-06-01T18:30:00+00:00"); // 03:30 JST on 2 June
//! ```

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Residents' personal data is kept a year by default: the city's contract runs a fiscal
/// year (April–March), a complaint or a callback is followed up well within it, and the
/// monthly and final reports need none of it (they count what retention keeps).
pub const DEFAULT_PERSONAL_DAYS: u32 = 365;
/// Audit entries are kept five years (including a leap day) by default, so an inspection
/// can still see who looked at a resident's data long after the data itself is gone.
pub const DEFAULT_AUDIT_DAYS: u32 = 1827;
/// The shortest audit retention: the database refuses to delete younger entries
/// (migration 0011), so a shorter setting would promise what cannot happen.
pub const MIN_AUDIT_DAYS: u32 = 365;
/// The longest retention either setting accepts (a century).
pub const MAX_DAYS: u32 = 36_500;
/// Local time of the daily run: the hotline is closed (08:30–20:00) and the line is quiet.
pub const DAILY_RUN_AT: NaiveTime = match NaiveTime::from_hms_opt(3, 30, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// The retention settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub personal_days: u32,
    pub audit_days: u32,
}

/// Why a policy was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RetentionPolicyError {
    #[error("retention-days must be 1 to {MAX_DAYS}")]
    PersonalDays,
    #[error("audit-retention-days must be {MIN_AUDIT_DAYS} to {MAX_DAYS}")]
    AuditDays,
}

/// What is due at an instant: data written before these instants goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetentionCutoffs {
    pub personal_before: DateTime<Utc>,
    pub audit_before: DateTime<Utc>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            personal_days: DEFAULT_PERSONAL_DAYS,
            audit_days: DEFAULT_AUDIT_DAYS,
        }
    }
}

impl RetentionPolicy {
    pub fn new(personal_days: u32, audit_days: u32) -> Result<Self, RetentionPolicyError> {
        if !(1..=MAX_DAYS).contains(&personal_days) {
            return Err(RetentionPolicyError::PersonalDays);
        }
        if !(MIN_AUDIT_DAYS..=MAX_DAYS).contains(&audit_days) {
            return Err(RetentionPolicyError::AuditDays);
        }
        Ok(RetentionPolicy {
            personal_days,
            audit_days,
        })
    }

    /// The cutoffs at `now`: whole days of 24 hours back.
    pub fn cutoffs(&self, now: DateTime<Utc>) -> RetentionCutoffs {
        let back = |days: u32| {
            now.checked_sub_signed(Duration::days(i64::from(days)))
                .unwrap_or(DateTime::<Utc>::MIN_UTC)
        };
        RetentionCutoffs {
            personal_before: back(self.personal_days),
            audit_before: back(self.audit_days),
        }
    }
}

/// The first instant strictly after `after` at which the local clock of `tz` reads `at`.
/// A local time skipped by a daylight-saving change runs an hour later; one that occurs
/// twice runs the first time.
pub fn next_daily_run(after: DateTime<Utc>, tz: Tz, at: NaiveTime) -> DateTime<Utc> {
    let mut date = after.with_timezone(&tz).date_naive();
    // Three days always reach the next occurrence: today, tomorrow, or past a skipped hour.
    for _ in 0..3 {
        let local = date.and_time(at);
        let candidate = tz
            .from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(local + Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc));
        if let Some(candidate) = candidate.filter(|c| *c > after) {
            return candidate;
        }
        date = date.succ_opt().unwrap_or(date);
    }
    after + Duration::days(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("test instant")
    }

    #[test]
    fn personal_data_is_due_after_its_retention_in_whole_days() {
        let policy = RetentionPolicy::new(30, 400).expect("valid");
        let due = policy.cutoffs(at("2026-03-31T12:00:00Z"));
        assert_eq!(due.personal_before, at("2026-03-01T12:00:00Z"));
        assert_eq!(due.audit_before, at("2025-02-24T12:00:00Z"));
    }

    #[test]
    fn the_defaults_keep_a_year_of_personal_data_and_five_years_of_audit() {
        let policy = RetentionPolicy::default();
        assert_eq!(policy, RetentionPolicy::new(365, 1827).expect("valid"));
        let due = policy.cutoffs(at("2031-04-01T00:00:00Z"));
        assert_eq!(due.personal_before, at("2030-04-01T00:00:00Z"));
        // Five years and a day: 2028's leap day falls inside.
        assert_eq!(due.audit_before, at("2026-03-31T00:00:00Z"));
    }

    #[test]
    fn zero_days_and_an_audit_retention_under_a_year_are_refused() {
        assert_eq!(
            RetentionPolicy::new(0, 1827),
            Err(RetentionPolicyError::PersonalDays)
        );
        assert_eq!(
            RetentionPolicy::new(365, 364),
            Err(RetentionPolicyError::AuditDays)
        );
        assert_eq!(
            RetentionPolicy::new(MAX_DAYS + 1, 1827),
            Err(RetentionPolicyError::PersonalDays)
        );
        assert!(RetentionPolicy::new(1, MIN_AUDIT_DAYS).is_ok());
    }

    #[test]
    fn a_cutoff_before_the_earliest_instant_saturates() {
        let policy = RetentionPolicy::new(MAX_DAYS, MAX_DAYS).expect("valid");
        let due = policy.cutoffs(DateTime::<Utc>::MIN_UTC);
        assert_eq!(due.personal_before, DateTime::<Utc>::MIN_UTC);
    }

    #[test]
    fn the_daily_run_is_at_half_past_three_tokyo_time() {
        let tokyo = chrono_tz::Asia::Tokyo;
        // 02:00 JST: later the same local day.
        assert_eq!(
            next_daily_run(at("2026-06-01T17:00:00Z"), tokyo, DAILY_RUN_AT),
            at("2026-06-01T18:30:00Z")
        );
        // Exactly 03:30 JST: the next day, never the same instant twice.
        assert_eq!(
            next_daily_run(at("2026-06-01T18:30:00Z"), tokyo, DAILY_RUN_AT),
            at("2026-06-02T18:30:00Z")
        );
        // 10:00 JST: tomorrow.
        assert_eq!(
            next_daily_run(at("2026-06-02T01:00:00Z"), tokyo, DAILY_RUN_AT),
            at("2026-06-02T18:30:00Z")
        );
    }

    #[test]
    fn a_run_time_skipped_by_daylight_saving_runs_an_hour_later() {
        // Europe/London skips 01:00–02:00 on 2026-03-29.
        let london = chrono_tz::Europe::London;
        let one_thirty = NaiveTime::from_hms_opt(1, 30, 0).expect("valid");
        assert_eq!(
            next_daily_run(at("2026-03-28T12:00:00Z"), london, one_thirty),
            at("2026-03-29T01:30:00Z")
        );
    }
}
