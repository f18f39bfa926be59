//! The silence watcher of the counter's devices (design §3 "Alert rule"): every
//! [`CHECK_EVERY`] this node asks the store to flip silent the devices not heard from for
//! longer than their `silent_after_s` ([`Store::mark_silent`]). The store's conditional
//! update hands each silence to exactly one node, which logs it (the device id only) and
//! sends one [`DeviceAlert::Silent`] to the managers' `GET /api/v1/devices/stream`. The next
//! beat brings a device back ([`DeviceAlert::Back`], sent by `super::web::devices`).
//!
//! A silence is always recorded; it is *alerted* only while the dialplan's `[devices]
//! calendar` is open ([`alerts_at`]): a tablet switched off at night is no emergency.
//! The calendar is read at start (like the counter's hours): a reload does not change it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use madoguchi_calendar::Calendar;
use madoguchi_store::{Device, Store, StoreError};
use serde::Serialize;
use tokio::sync::broadcast;

/// How often the devices are checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Alerts a slow board may fall behind by before it skips to the newer ones.
const ALERT_BACKLOG: usize = 64;

/// Whether a silence found at `at` is alerted: within the devices' calendar's open hours,
/// or at any hour without one (no `[devices] calendar`).
pub fn alerts_at(hours: Option<&Calendar>, at: DateTime<Utc>) -> bool {
    hours.is_none_or(|calendar| calendar.status_at(at).is_open())
}

/// One `device` event of `GET /api/v1/devices/stream`. Labels and locations name
/// equipment, not people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeviceAlert {
    /// Found silent by this node.
    Silent {
        device: String,
        label: String,
        location: String,
        last_seen_at: Option<DateTime<Utc>>,
        silent_since: DateTime<Utc>,
        /// Within the devices' hours ([`alerts_at`]): the board raises its banner.
        alert: bool,
    },
    /// Its first beat after a silence.
    Back {
        device: String,
        label: String,
        location: String,
        at: DateTime<Utc>,
        /// From the beat before the silence to this one.
        silent_ms: u64,
    },
}

/// The devices' hours and the alerts sent to the managers' streams.
pub struct DeviceWatch {
    hours: Option<Calendar>,
    alerts: broadcast::Sender<DeviceAlert>,
}

impl DeviceWatch {
    /// `hours` is the dialplan's `[devices] calendar` (`None`: alert at any hour).
    pub fn new(hours: Option<Calendar>) -> DeviceWatch {
        DeviceWatch {
            hours,
            alerts: broadcast::channel(ALERT_BACKLOG).0,
        }
    }

    /// Whether a silence at `at` is alerted ([`alerts_at`]).
    pub fn alerts_at(&self, at: DateTime<Utc>) -> bool {
        alerts_at(self.hours.as_ref(), at)
    }

    /// The alerts from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<DeviceAlert> {
        self.alerts.subscribe()
    }

    /// Tells the open streams (none open is fine).
    pub fn send(&self, alert: DeviceAlert) {
        let _ = self.alerts.send(alert);
    }
}

/// Watches the devices until the runtime ends.
pub fn spawn_watch(store: Store, watch: std::sync::Arc<DeviceWatch>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = check(&store, &watch, Utc::now()).await {
                tracing::warn!(%error, "cannot check the devices for silence");
            }
        }
    });
}

/// One check at `now`: the devices this node found silent, each logged and sent once.
pub async fn check(
    store: &Store,
    watch: &DeviceWatch,
    now: DateTime<Utc>,
) -> Result<Vec<Device>, StoreError> {
    let silent = store.mark_silent(now).await?;
    let alert = watch.alerts_at(now);
    for device in &silent {
        let quiet_s = device
            .last_seen_at
            .map(|at| (now - at).num_seconds().max(0));
        if alert {
            tracing::warn!(device = %device.id, silent_after_s = device.silent_after_s, quiet_s, "device silent");
        } else {
            tracing::info!(device = %device.id, quiet_s, "device silent outside its hours (recorded, not alerted)");
        }
        watch.send(DeviceAlert::Silent {
            device: device.id.clone(),
            label: device.label.clone(),
            location: device.location.clone(),
            last_seen_at: device.last_seen_at,
            silent_since: device.silent_since.unwrap_or(now),
            alert,
        });
    }
    Ok(silent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;
    use madoguchi_dialplan::Dialplan;
    use madoguchi_store::{Beat, DeviceStatus, NewDevice};

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test instants are RFC 3339")
            .with_timezone(&Utc)
    }

    /// The reference dialplan's counter calendar: weekdays 08:30–17:15 in Tokyo, closed on
    /// national holidays.
    fn counter_calendar() -> Calendar {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("dialplans/zama.toml");
        let dialplan = Dialplan::load(&path).expect("the reference dialplan loads");
        dialplan
            .calendar("counter")
            .cloned()
            .expect("a counter calendar")
    }

    #[test]
    fn a_silence_within_counter_hours_is_alerted() {
        // Wednesday 10 June 2026, 10:00 in Tokyo.
        assert!(alerts_at(
            Some(&counter_calendar()),
            utc("2026-06-10T01:00:00Z")
        ));
    }

    #[test]
    fn a_silence_after_counter_hours_is_not_alerted() {
        // Wednesday 10 June 2026, 20:00 in Tokyo.
        assert!(!alerts_at(
            Some(&counter_calendar()),
            utc("2026-06-10T11:00:00Z")
        ));
    }

    #[test]
    fn a_silence_on_a_national_holiday_is_not_alerted() {
        // Tuesday 3 November 2026 (文化の日), 10:00 in Tokyo.
        assert!(!alerts_at(
            Some(&counter_calendar()),
            utc("2026-11-03T01:00:00Z")
        ));
    }

    #[test]
    fn without_a_devices_calendar_every_silence_is_alerted() {
        assert!(alerts_at(None, utc("2026-06-10T11:00:00Z")));
        assert!(alerts_at(None, utc("2026-11-03T01:00:00Z")));
    }

    async fn store_with_a_beat(dir: &tempfile::TempDir, at: DateTime<Utc>) -> Store {
        let url = format!("sqlite://{}", dir.path().join("devices.db").display());
        let store = Store::connect(&url).await.expect("store");
        store
            .device_add(&NewDevice::new("counter-1", "窓口1", "本庁舎1階"), at)
            .await
            .expect("added");
        let beat = Beat {
            status: DeviceStatus::Ok,
            detail: None,
            rtt_ms: None,
        };
        store
            .device_beat("counter-1", at, &beat)
            .await
            .expect("beat");
        store
    }

    #[tokio::test]
    async fn a_device_quiet_past_its_limit_is_found_silent_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t0 = utc("2026-06-10T01:00:00Z");
        let store = store_with_a_beat(&dir, t0).await;
        let watch = DeviceWatch::new(None);
        let within = t0 + TimeDelta::seconds(120);
        assert!(check(&store, &watch, within)
            .await
            .expect("check")
            .is_empty());
        let past = t0 + TimeDelta::seconds(121);
        let found: Vec<String> = check(&store, &watch, past)
            .await
            .expect("check")
            .into_iter()
            .map(|d| d.id)
            .collect();
        assert_eq!(found, ["counter-1"]);
        let later = past + CHECK_EVERY;
        assert!(check(&store, &watch, later)
            .await
            .expect("check")
            .is_empty());
    }

    #[tokio::test]
    async fn a_silence_after_hours_is_sent_unalerted() {
        let dir = tempfile::tempdir().expect("temp dir");
        // 17:00 in Tokyo; silent past 17:15, when the counter has closed.
        let t0 = utc("2026-06-10T08:00:00Z");
        let store = store_with_a_beat(&dir, t0).await;
        let watch = DeviceWatch::new(Some(counter_calendar()));
        let mut alerts = watch.subscribe();
        let past = utc("2026-06-10T08:20:00Z");
        check(&store, &watch, past).await.expect("check");
        match alerts.try_recv().expect("one alert") {
            DeviceAlert::Silent {
                device,
                alert,
                silent_since,
                ..
            } => {
                assert_eq!(device, "counter-1");
                assert!(!alert, "after hours");
                assert_eq!(silent_since, past);
            }
            other => panic!("a silent alert, not {other:?}"),
        }
    }

    #[tokio::test]
    async fn two_nodes_checking_at_once_send_one_alert() {
        let dir = tempfile::tempdir().expect("temp dir");
        let t0 = utc("2026-06-10T01:00:00Z");
        let store = store_with_a_beat(&dir, t0).await;
        let (node_a, node_b) = (DeviceWatch::new(None), DeviceWatch::new(None));
        let (mut heard_a, mut heard_b) = (node_a.subscribe(), node_b.subscribe());
        let past = t0 + TimeDelta::seconds(121);
        let (a, b) = tokio::join!(check(&store, &node_a, past), check(&store, &node_b, past));
        a.expect("node a checks");
        b.expect("node b checks");
        let sent = [heard_a.try_recv().is_ok(), heard_b.try_recv().is_ok()];
        assert_eq!(sent.iter().filter(|&&s| s).count(), 1, "{sent:?}");
    }
}
