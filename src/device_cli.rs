//! `madoguchi device add|revoke|list`: the counter's devices from the command line (design
//! §3). A device gets its own token, which grants the heartbeat and nothing else.

use std::process::ExitCode;

use clap::Subcommand;
use madoguchi_store::{Device, NewDevice, DEFAULT_DEVICE_KIND, DEFAULT_SILENT_AFTER_S};

use crate::cli::DEFAULT_DATABASE_URL;
use crate::store_command::with_store;

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Register a device; prints its token once (only its hash is kept), for its heartbeat
    /// (`Authorization: Bearer mdg_dev_…`).
    Add {
        /// a-z, 0-9, _ and -, e.g. counter-1.
        id: String,
        /// What staff call it, e.g. 窓口1タブレット.
        #[arg(long)]
        label: String,
        /// Where it is, e.g. 本庁舎1階 市民課.
        #[arg(long)]
        location: String,
        /// tablet, pc, kiosk …
        #[arg(long, default_value = DEFAULT_DEVICE_KIND)]
        kind: String,
        /// Seconds without a beat after which the device is silent (30 to 86400).
        #[arg(long, default_value_t = DEFAULT_SILENT_AFTER_S)]
        silent_after: u32,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Revoke a device: its token stops working at once; its history stays.
    Revoke {
        id: String,
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
    /// Print every device, tab-separated: id, kind, state (ok, silent, never-seen,
    /// revoked), last beat, last status, last RTT in ms, silent-after seconds, label,
    /// location.
    List {
        #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
        database_url: String,
    },
}

pub fn run(command: DeviceCommand) -> ExitCode {
    match command {
        DeviceCommand::Add {
            id,
            label,
            location,
            kind,
            silent_after,
            database_url,
        } => {
            let new = NewDevice {
                id,
                label,
                location,
                kind,
                silent_after_s: silent_after,
            };
            with_store(&database_url, |store| async move {
                let (token, device) = store.device_add(&new, chrono::Utc::now()).await?;
                // The token alone on standard output, so `TOKEN=$(madoguchi device add …)`
                // works.
                println!("{}", token.expose());
                eprintln!("device {} added; its token is shown only now", device.id);
                Ok(())
            })
        }
        DeviceCommand::Revoke { id, database_url } => {
            with_store(&database_url, |store| async move {
                if store.device_revoke(&id, chrono::Utc::now()).await? {
                    println!("revoked device {id}");
                } else {
                    println!("device {id} was revoked already");
                }
                Ok(())
            })
        }
        DeviceCommand::List { database_url } => with_store(&database_url, |store| async move {
            for device in store.devices().await? {
                println!("{}", list_line(&device));
            }
            Ok(())
        }),
    }
}

/// One line of `device list`.
fn list_line(d: &Device) -> String {
    let state = if d.revoked_at.is_some() {
        "revoked"
    } else if d.silent_since.is_some() {
        "silent"
    } else if d.last_seen_at.is_none() {
        "never-seen"
    } else {
        "ok"
    };
    let dash = || "-".to_owned();
    let clean = |s: &str| s.replace(['\t', '\n', '\r'], " ");
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
        d.id,
        d.kind,
        state,
        d.last_seen_at.map_or_else(dash, |t| t.to_rfc3339()),
        d.last_status.map_or_else(dash, |s| s.to_string()),
        d.last_rtt_ms.map_or_else(dash, |ms| ms.to_string()),
        d.silent_after_s,
        clean(&d.label),
        clean(&d.location),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn device() -> Device {
        Device {
            id: "counter-1".into(),
            label: "窓口1\tタブレット".into(),
            location: "本庁舎1階".into(),
            kind: "tablet".into(),
            silent_after_s: 120,
            created_at: Utc
                .with_ymd_and_hms(2026, 6, 1, 0, 0, 0)
                .single()
                .expect("valid"),
            revoked_at: None,
            last_seen_at: None,
            last_rtt_ms: None,
            last_status: None,
            last_detail: None,
            silent_since: None,
        }
    }

    #[test]
    fn a_device_never_heard_from_is_listed_as_never_seen_with_dashes() {
        assert_eq!(
            list_line(&device()),
            "counter-1\ttablet\tnever-seen\t-\t-\t-\t120\t窓口1 タブレット\t本庁舎1階"
        );
    }

    #[test]
    fn a_revoked_device_is_listed_as_revoked_even_when_silent() {
        let mut d = device();
        d.silent_since = Some(d.created_at);
        d.revoked_at = Some(d.created_at);
        assert!(list_line(&d).starts_with("counter-1\ttablet\trevoked\t"));
    }
}
