//! The silence watcher of the counter's devices (design §3 "Alert rule"): every
//! [`CHECK_EVERY`] this node asks the store to flip silent the devices not heard from for
//! longer than their `silent_after_s` ([`Store::mark_silent`]). The store's conditional
//! update hands each silence to exactly one node, which logs it at warn (the device id
//! only). The next beat brings a device back (`super::web::devices`).
//!
//! Not yet: the devices' calendar (outside opening hours a silence is recorded, not
//! alerted) and the managers' SSE alert.

use std::time::Duration;

use chrono::{DateTime, Utc};
use madoguchi_store::{Device, Store, StoreError};

/// How often the devices are checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Watches the devices until the runtime ends.
pub fn spawn_watch(store: Store) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = check(&store, Utc::now()).await {
                tracing::warn!(%error, "cannot check the devices for silence");
            }
        }
    });
}

/// One check at `now`: the devices this node found silent, each logged once.
pub async fn check(store: &Store, now: DateTime<Utc>) -> Result<Vec<Device>, StoreError> {
    let silent = store.mark_silent(now).await?;
    for device in &silent {
        let quiet_s = device
            .last_seen_at
            .map(|at| (now - at).num_seconds().max(0));
        tracing::warn!(
            device = %device.id,
            silent_after_s = device.silent_after_s,
            quiet_s,
            "device silent"
        );
    }
    Ok(silent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use madoguchi_store::{Beat, DeviceStatus, NewDevice};

    #[tokio::test]
    async fn a_device_quiet_past_its_limit_is_found_silent_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("devices.db").display());
        let store = Store::connect(&url).await.expect("store");
        let t0 = DateTime::parse_from_rfc3339("2026-06-10T01:00:00Z")
            .expect("valid")
            .with_timezone(&Utc);
        store
            .device_add(&NewDevice::new("counter-1", "窓口1", "本庁舎1階"), t0)
            .await
            .expect("added");
        let beat = Beat {
            status: DeviceStatus::Ok,
            detail: None,
            rtt_ms: None,
        };
        store
            .device_beat("counter-1", t0, &beat)
            .await
            .expect("beat");
        let within = t0 + TimeDelta::seconds(120);
        assert!(check(&store, within).await.expect("check").is_empty());
        let past = t0 + TimeDelta::seconds(121);
        let found: Vec<String> = check(&store, past)
            .await
            .expect("check")
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(found, ["counter-1"]);
        let later = past + CHECK_EVERY;
        assert!(check(&store, later).await.expect("check").is_empty());
    }
}
