//! The retention job: the shell that carries out `madoguchi_store::retention_policy` —
//! at start-up and every day at 03:30 local time in `serve`, and on demand with
//! `madoguchi retention run`.
//!
//! One run, in this order: delete the due recordings' files and mark their rows purged
//! (a file that cannot be deleted keeps its row unmarked and is tried again next run);
//! anonymise the calls, notes and counter cases written before the cutoff; delete the audit
//! entries past the audit retention; delete the counter devices' events and hourly beats
//! past the personal-data cutoff (kept as long, for the monthly reports); write one audit
//! entry for the run (login `system`, action `retention.run`, the counts as detail); then
//! compact the database so no old value stays in free pages, the WAL (SQLite) or dead
//! tuples (PostgreSQL). Every step is idempotent, so a run cut short is finished by the next.
//!
//! ```text
//! $ madoguchi retention run --database-url sqlite:///srv/madoguchi/madoguchi.db
//! retention at 2027-04-02T03:30:00Z: personal data before 2026-04-02T03:30:00Z, audit before 2022-04-01T03:30:00Z
//! calls=412 events=2904 notes=388 counter_notes=97 recordings=12 recording_errors=0 audit_entries=0 device_events=31 device_hours=8760
//! ```

use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use madoguchi_store::audit::actions;
use madoguchi_store::retention_policy::{next_daily_run, DAILY_RUN_AT};
use madoguchi_store::{
    AnonymisedCounts, AuditEntry, DeviceHistoryPurged, RetentionPolicy, Role, Store,
};

use crate::cli::DEFAULT_DATABASE_URL;

/// The login the job's own audit entries carry; reserved, no user can have it.
pub use madoguchi_store::SYSTEM_LOGIN;

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Anonymise the personal data past its retention now, delete audit entries past theirs,
    /// and print the counts.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The instant to run as (RFC 3339); default: now.
    #[arg(long)]
    pub now: Option<String>,
    #[command(flatten)]
    pub retention: RetentionArgs,
    /// The folder the recordings are in. Default: `recordings` next to the SQLite file.
    #[arg(long, env = "MADOGUCHI_RECORDINGS_DIR")]
    pub recordings_dir: Option<PathBuf>,
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

/// The two retention settings, shared by `serve` and `retention run`.
#[derive(Debug, Args, Clone, Default)]
pub struct RetentionArgs {
    /// Days residents' personal data (caller numbers, notes, recordings) is kept (365).
    #[arg(long, env = "MADOGUCHI_RETENTION_DAYS")]
    pub retention_days: Option<u32>,
    /// Days audit entries are kept (1827, five years; at least 365).
    #[arg(long, env = "MADOGUCHI_AUDIT_RETENTION_DAYS")]
    pub audit_retention_days: Option<u32>,
}

/// What one run did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionReport {
    pub anonymised: AnonymisedCounts,
    /// Recording files deleted (or found gone) and marked purged.
    pub recordings: u64,
    /// Recording files that could not be deleted; tried again next run.
    pub recording_errors: u64,
    pub audit_entries: u64,
    /// The counter devices' events and hourly beat rows deleted.
    pub devices: DeviceHistoryPurged,
}

impl std::fmt::Display for RetentionReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = &self.anonymised;
        write!(
            f,
            "calls={} events={} notes={} counter_notes={} recordings={} recording_errors={} \
             audit_entries={} device_events={} device_hours={}",
            a.calls,
            a.events,
            a.notes,
            a.counter_notes,
            self.recordings,
            self.recording_errors,
            self.audit_entries,
            self.devices.events,
            self.devices.hours
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error(transparent)]
    Store(#[from] madoguchi_store::StoreError),
    #[error("could not write the retention run to the audit log: {0}")]
    Audit(#[from] madoguchi_store::AuditError),
}

/// One run at `now` (see the module doc).
pub async fn run_once(
    store: &Store,
    recordings_dir: &Path,
    policy: RetentionPolicy,
    now: DateTime<Utc>,
) -> Result<RetentionReport, RetentionError> {
    let due = policy.cutoffs(now);
    let mut report = RetentionReport::default();
    for recording in store.recordings_due_for_purge(due.personal_before).await? {
        match remove_recording(recordings_dir, &recording.file) {
            Ok(()) => {
                store.mark_recording_purged(&recording.call_id, now).await?;
                report.recordings += 1;
            }
            Err(error) => {
                // The call id only: the file name is derived from it, the folder is config.
                tracing::warn!(call = %recording.call_id, %error, "recording file not deleted; retried next run");
                report.recording_errors += 1;
            }
        }
    }
    report.anonymised = store.anonymise_before(due.personal_before, now).await?;
    report.audit_entries = store.purge_audit_log(due.audit_before).await?;
    report.devices = store.purge_device_history(due.personal_before).await?;
    store
        .audit(&AuditEntry {
            at: now,
            login: SYSTEM_LOGIN.to_owned(),
            role: Role::Admin,
            action: actions::RETENTION_RUN.to_owned(),
            subject: None,
            detail: Some(report.to_string()),
            source: None,
        })
        .await?;
    store.compact_after_retention().await?;
    Ok(report)
}

/// Deletes a recording's file; one already gone counts as deleted. Refuses a stored name
/// that would leave the folder (the table's CHECK forbids absolute names; `..` too here).
fn remove_recording(dir: &Path, file: &str) -> std::io::Result<()> {
    let relative = Path::new(file);
    if !relative
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the stored file name leaves the recordings folder",
        ));
    }
    match std::fs::remove_file(dir.join(relative)) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

/// Runs the job now and then daily at 03:30 in `tz`, until the runtime stops.
pub fn spawn_daily(
    store: Store,
    recordings_dir: PathBuf,
    policy: RetentionPolicy,
    tz: chrono_tz::Tz,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match run_once(&store, &recordings_dir, policy, Utc::now()).await {
                Ok(report) => tracing::info!(%report, "retention run"),
                Err(error) => tracing::warn!(%error, "retention run failed; retried next day"),
            }
            let next = next_daily_run(Utc::now(), tz, DAILY_RUN_AT);
            let wait = (next - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
        }
    })
}

/// `madoguchi retention run`.
pub fn run_command(command: RetentionCommand) -> ExitCode {
    let RetentionCommand::Run(args) = command;
    let now = match args.now.as_deref() {
        None => Utc::now(),
        Some(text) => match DateTime::parse_from_rfc3339(text) {
            Ok(at) => at.with_timezone(&Utc),
            Err(error) => {
                eprintln!("madoguchi: --now {text:?}: not an RFC 3339 instant ({error})");
                return ExitCode::FAILURE;
            }
        },
    };
    let policy = match args.retention.policy() {
        Ok(policy) => policy,
        Err(error) => {
            eprintln!("madoguchi: {error}");
            return ExitCode::FAILURE;
        }
    };
    let recordings_dir = args
        .recordings_dir
        .unwrap_or_else(|| crate::config::default_recordings_dir(&args.database_url));
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("madoguchi: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let store = Store::connect(&args.database_url).await?;
        let due = policy.cutoffs(now);
        println!(
            "retention at {}: personal data before {}, audit before {}",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            due.personal_before
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            due.audit_before
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        let report = run_once(&store, &recordings_dir, policy, now).await;
        store.close().await;
        report
    });
    match result {
        Ok(report) => {
            println!("{report}");
            if report.recording_errors > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("madoguchi: {error}");
            ExitCode::FAILURE
        }
    }
}

impl RetentionArgs {
    /// The policy these settings give, over `file`'s values, over the defaults.
    pub fn policy_over(
        &self,
        file: &RetentionArgs,
    ) -> Result<RetentionPolicy, madoguchi_store::RetentionPolicyError> {
        let defaults = RetentionPolicy::default();
        RetentionPolicy::new(
            self.retention_days
                .or(file.retention_days)
                .unwrap_or(defaults.personal_days),
            self.audit_retention_days
                .or(file.audit_retention_days)
                .unwrap_or(defaults.audit_days),
        )
    }

    pub fn policy(&self) -> Result<RetentionPolicy, madoguchi_store::RetentionPolicyError> {
        self.policy_over(&RetentionArgs::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_file_name_leaving_the_folder_is_not_deleted() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = remove_recording(dir.path(), "../x.wav").expect_err("refused");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_file_already_gone_counts_as_deleted() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert!(remove_recording(dir.path(), "2026/01/gone.wav").is_ok());
        std::fs::write(dir.path().join("here.wav"), b"RIFF").expect("write");
        assert!(remove_recording(dir.path(), "here.wav").is_ok());
        assert!(!dir.path().join("here.wav").exists());
    }

    #[test]
    fn serve_reads_both_retentions_from_the_settings_file_and_refuses_a_short_audit() {
        use clap::Parser;
        let dir = tempfile::tempdir().expect("temp dir");
        let settings = |toml: &str, flags: &[&str]| {
            let file = dir.path().join("settings.toml");
            std::fs::write(&file, toml).expect("settings written");
            let file = file.display().to_string();
            let args = ["madoguchi", "serve", "--config", file.as_str()];
            let cli = crate::cli::Cli::try_parse_from(args.iter().chain(flags))
                .map_err(|e| e.to_string())?;
            let crate::cli::Command::Serve(serve) = cli.command else {
                return Err("not serve".to_owned());
            };
            crate::config::Settings::resolve(&serve)
                .map(|s| s.retention)
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            settings("retention-days = 90\naudit-retention-days = 730\n", &[]),
            Ok(RetentionPolicy::new(90, 730).expect("valid"))
        );
        assert_eq!(
            settings("retention-days = 90\n", &["--retention-days", "30"]),
            Ok(RetentionPolicy::new(30, 1827).expect("valid"))
        );
        assert_eq!(
            settings("audit-retention-days = 30\n", &[]),
            Err("audit-retention-days must be 365 to 36500".to_owned())
        );
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_the_defaults() {
        let flags = RetentionArgs {
            retention_days: Some(90),
            audit_retention_days: None,
        };
        let file = RetentionArgs {
            retention_days: Some(180),
            audit_retention_days: Some(730),
        };
        assert_eq!(
            flags.policy_over(&file),
            Ok(RetentionPolicy::new(90, 730).expect("valid"))
        );
        assert_eq!(
            RetentionArgs::default().policy(),
            Ok(RetentionPolicy::default())
        );
    }
}
