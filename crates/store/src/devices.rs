//! The counter's devices watched (design §3): each device (a counter tablet, a kiosk PC)
//! beats every 30 s with its own bearer token; a device that stops beating is found silent
//! once, by whichever node's conditional UPDATE flips it, and its next beat brings it back.
//!
//! - [`Store::device_add`] registers a device and returns its token, shown once: only the
//!   token's SHA-256 is kept ([`DEVICE_TOKEN_PREFIX`], like API tokens). A device token
//!   grants the heartbeat and nothing else.
//! - [`Store::device_by_token`] for `Authorization: Bearer mdg_dev_…` (revoked → `None`);
//!   [`Store::device_revoke`] for `madoguchi device revoke`.
//! - [`Store::device_beat`] records a beat: the device's `last_*` columns, the hourly row
//!   of [`DeviceBeatsHour`], a `back` event after a silence, a `status` event when the
//!   reported status changes.
//! - [`Store::mark_silent`] flips the devices silent at `now` and returns only those this
//!   call flipped, so with two nodes one alert goes out.
//! - [`Store::devices`], [`Store::device_events`], [`Store::device_beats_hourly`] read back;
//!   [`Store::device_figures`] sums a period per device for the monthly table.
//!
//! ```no_run
//! # async fn demo(store: madoguchi_store::Store) -> Result<(), madoguchi_store::DeviceError> {
//! use madoguchi_store::{Beat, DeviceStatus, NewDevice};
//! let now = chrono::Utc::now();
//! let (token, _device) = store.device_add(&NewDevice::new("counter-1", "窓口1", "本庁舎1階"), now).await?;
//! // … the tablet sends `token.expose()` as its bearer token …
//! let device = store.device_by_token(&token).await?.expect("not revoked");
//! store.device_beat(&device.id, now, &Beat { status: DeviceStatus::Ok, detail: None, rtt_ms: Some(85) }).await?;
//! # Ok(()) }
//! ```
//!
//! Time is a parameter. Tokens never appear in `Debug` output, errors or logs.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use serde::Serialize;

use crate::auth::Secret;
use crate::error::StoreError;
use crate::store::{Pool, Store};
use crate::timefmt::truncate_to_millis;
use crate::{devices_postgres, devices_sqlite};

/// Device tokens start with this, so a leaked one is recognisable (and told apart from a
/// user's API token, `mdg_` followed by hex).
pub const DEVICE_TOKEN_PREFIX: &str = "mdg_dev_";
/// The longest `detail` a beat may carry, in characters.
pub const MAX_DEVICE_DETAIL_CHARS: usize = 200;
/// The longest id, in characters (`[a-z0-9_-]`).
pub const MAX_DEVICE_ID_CHARS: usize = 64;
/// The longest label or location, in characters.
pub const MAX_DEVICE_TEXT_CHARS: usize = 100;
/// The longest kind, in characters (`[a-z0-9_-]`).
pub const MAX_DEVICE_KIND_CHARS: usize = 32;
/// The kind of a device added without one.
pub const DEFAULT_DEVICE_KIND: &str = "tablet";
/// A device not heard from for this long is silent, unless it says otherwise.
pub const DEFAULT_SILENT_AFTER_S: u32 = 120;
/// The accepted range of `silent_after_s`: above the 30 s between beats, at most a day.
pub const SILENT_AFTER_RANGE_S: std::ops::RangeInclusive<u32> = 30..=86_400;

/// What a device says about itself in a beat.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    Ok,
    Warning,
    Error,
}

impl DeviceStatus {
    pub const ALL: [DeviceStatus; 3] =
        [DeviceStatus::Ok, DeviceStatus::Warning, DeviceStatus::Error];

    /// The stored (and API) name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Ok => "ok",
            DeviceStatus::Warning => "warning",
            DeviceStatus::Error => "error",
        }
    }
}

impl fmt::Display for DeviceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is none of [`DeviceStatus::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown device status {0:?} (expected ok, warning or error)")]
pub struct UnknownDeviceStatus(pub String);

impl FromStr for DeviceStatus {
    type Err = UnknownDeviceStatus;

    fn from_str(s: &str) -> Result<DeviceStatus, UnknownDeviceStatus> {
        DeviceStatus::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownDeviceStatus(s.to_owned()))
    }
}

/// What a [`DeviceEvent`] records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceEventKind {
    /// Found silent: no beat for longer than its `silent_after_s`.
    Silent,
    /// Its first beat after a silence.
    Back,
    /// The status it reports changed.
    Status,
}

impl DeviceEventKind {
    pub const ALL: [DeviceEventKind; 3] = [
        DeviceEventKind::Silent,
        DeviceEventKind::Back,
        DeviceEventKind::Status,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceEventKind::Silent => "silent",
            DeviceEventKind::Back => "back",
            DeviceEventKind::Status => "status",
        }
    }
}

/// A device to register.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDevice {
    /// `[a-z0-9_-]`, 1 to [`MAX_DEVICE_ID_CHARS`] characters, e.g. `counter-1`.
    pub id: String,
    /// What staff call it (窓口1タブレット); trimmed, 1 to [`MAX_DEVICE_TEXT_CHARS`].
    pub label: String,
    /// Where it is (本庁舎1階 市民課); trimmed, 1 to [`MAX_DEVICE_TEXT_CHARS`].
    pub location: String,
    /// `tablet`, `pc`, `kiosk` …: `[a-z0-9_-]`, 1 to [`MAX_DEVICE_KIND_CHARS`].
    pub kind: String,
    /// Silent after this many seconds without a beat, in [`SILENT_AFTER_RANGE_S`].
    pub silent_after_s: u32,
}

impl NewDevice {
    /// A tablet, silent after [`DEFAULT_SILENT_AFTER_S`].
    pub fn new(id: &str, label: &str, location: &str) -> NewDevice {
        NewDevice {
            id: id.to_owned(),
            label: label.to_owned(),
            location: location.to_owned(),
            kind: DEFAULT_DEVICE_KIND.to_owned(),
            silent_after_s: DEFAULT_SILENT_AFTER_S,
        }
    }

    /// The device as stored (label and location trimmed), or the first rule it breaks.
    pub fn checked(&self) -> Result<NewDevice, DeviceError> {
        let slug = |s: &str, max: usize| {
            !s.is_empty()
                && s.chars().count() <= max
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        };
        if !slug(&self.id, MAX_DEVICE_ID_CHARS) {
            return Err(DeviceError::BadId);
        }
        let text = |s: &str| {
            let s = s.trim();
            (!s.is_empty() && s.chars().count() <= MAX_DEVICE_TEXT_CHARS).then(|| s.to_owned())
        };
        let label = text(&self.label).ok_or(DeviceError::BadLabel)?;
        let location = text(&self.location).ok_or(DeviceError::BadLocation)?;
        if !slug(&self.kind, MAX_DEVICE_KIND_CHARS) {
            return Err(DeviceError::BadKind);
        }
        if !SILENT_AFTER_RANGE_S.contains(&self.silent_after_s) {
            return Err(DeviceError::BadSilentAfter);
        }
        Ok(NewDevice {
            id: self.id.clone(),
            label,
            location,
            kind: self.kind.clone(),
            silent_after_s: self.silent_after_s,
        })
    }
}

/// A registered device and its last beat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Device {
    pub id: String,
    pub label: String,
    pub location: String,
    pub kind: String,
    pub silent_after_s: u32,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The last beat's instant; `None` until the first beat (a device never heard from is
    /// not watched yet).
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_rtt_ms: Option<u32>,
    pub last_status: Option<DeviceStatus>,
    pub last_detail: Option<String>,
    /// Set when found silent ([`Store::mark_silent`]), cleared by the next beat.
    pub silent_since: Option<DateTime<Utc>>,
}

/// One heartbeat as the device sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Beat {
    pub status: DeviceStatus,
    /// At most [`MAX_DEVICE_DETAIL_CHARS`] characters; blank is none.
    pub detail: Option<String>,
    /// The round trip of the previous beat, measured by the device; `None` on its first.
    pub rtt_ms: Option<u32>,
}

/// What a beat changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BeatOutcome {
    /// The device after the beat.
    pub device: Device,
    /// The device was silent: how long it went without a beat (from the beat before the
    /// silence to this one). A `back` event carries it.
    pub was_silent: Option<TimeDelta>,
    /// The status changed from the previous beat's (a first beat counts as coming from
    /// `ok`): the previous one. A `status` event records the new one.
    pub status_changed_from: Option<DeviceStatus>,
}

/// A row of the devices' history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceEvent {
    pub id: i64,
    pub device: String,
    pub at: DateTime<Utc>,
    pub kind: DeviceEventKind,
    /// For `status`: the new status.
    pub status: Option<DeviceStatus>,
    /// For `status`: what the device said with it.
    pub detail: Option<String>,
    /// For `silent`: the time since the last beat when found silent; for `back`: the whole
    /// gap between the beats around the silence.
    pub silent_ms: Option<u64>,
    pub node_id: String,
}

/// Beats of one device in one UTC hour.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceBeatsHour {
    pub device: String,
    /// The hour's start (UTC).
    pub hour: DateTime<Utc>,
    pub beats: u64,
    /// The beats that carried an RTT: the mean RTT is `rtt_sum_ms / rtt_beats`.
    pub rtt_beats: u64,
    pub rtt_sum_ms: u64,
    pub rtt_max_ms: Option<u64>,
}

/// One device's figures over a period (the monthly table's raw sums; opening hours and
/// availability are the report's to compute from [`Store::device_events`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceFigures {
    pub device: String,
    pub label: String,
    pub location: String,
    /// Beats received in the period (by UTC hour: give hour-aligned bounds).
    pub beats: u64,
    /// Beats that carried an RTT, and their sum: the mean RTT is `rtt_sum_ms / rtt_beats`.
    pub rtt_beats: u64,
    pub rtt_sum_ms: u64,
    pub rtt_max_ms: Option<u64>,
    /// Silences found in the period (`silent` events).
    pub outages: u64,
    /// The silences that ended in the period (`back` events): their total and longest gap.
    pub outage_ms: u64,
    pub longest_outage_ms: Option<u64>,
}

impl DeviceFigures {
    /// The mean RTT in milliseconds; `None` without a measured beat.
    pub fn mean_rtt_ms(&self) -> Option<u64> {
        (self.rtt_beats > 0).then(|| self.rtt_sum_ms / self.rtt_beats)
    }
}

/// Why a device operation was refused. Display texts name the rule, never a token.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("id must be 1 to {MAX_DEVICE_ID_CHARS} characters of a-z, 0-9, _ and -")]
    BadId,
    #[error("label must be 1 to {MAX_DEVICE_TEXT_CHARS} characters")]
    BadLabel,
    #[error("location must be 1 to {MAX_DEVICE_TEXT_CHARS} characters")]
    BadLocation,
    #[error("kind must be 1 to {MAX_DEVICE_KIND_CHARS} characters of a-z, 0-9, _ and -")]
    BadKind,
    #[error("silent_after must be 30 to 86400 seconds")]
    BadSilentAfter,
    #[error("detail is longer than {MAX_DEVICE_DETAIL_CHARS} characters")]
    DetailTooLong,
    #[error("a device with id {id:?} exists already")]
    DuplicateId { id: String },
    #[error("no device has this id, or it is revoked")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DeviceError {
    /// The request field the error is about, for a 422 naming it.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            DeviceError::BadId | DeviceError::DuplicateId { .. } => Some("id"),
            DeviceError::BadLabel => Some("label"),
            DeviceError::BadLocation => Some("location"),
            DeviceError::BadKind => Some("kind"),
            DeviceError::BadSilentAfter => Some("silent_after"),
            DeviceError::DetailTooLong => Some("detail"),
            _ => None,
        }
    }
}

/// A device row as both backends read it, status not yet parsed.
pub(crate) struct DeviceRow {
    pub id: String,
    pub label: String,
    pub location: String,
    pub kind: String,
    pub silent_after_s: i64,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_rtt_ms: Option<i64>,
    pub last_status: Option<String>,
    pub last_detail: Option<String>,
    pub silent_since: Option<DateTime<Utc>>,
}

fn corrupt(id: &str, column: &'static str) -> StoreError {
    StoreError::CorruptRow {
        id: id.to_owned(),
        column,
    }
}

fn parse_status(
    id: &str,
    text: Option<&str>,
    column: &'static str,
) -> Result<Option<DeviceStatus>, StoreError> {
    text.map(|s| s.parse().map_err(|_| corrupt(id, column)))
        .transpose()
}

impl DeviceRow {
    pub(crate) fn decode(self) -> Result<Device, StoreError> {
        Ok(Device {
            silent_after_s: u32::try_from(self.silent_after_s)
                .map_err(|_| corrupt(&self.id, "devices.silent_after_s"))?,
            last_rtt_ms: self
                .last_rtt_ms
                .map(|v| u32::try_from(v).map_err(|_| corrupt(&self.id, "devices.last_rtt_ms")))
                .transpose()?,
            last_status: parse_status(
                &self.id,
                self.last_status.as_deref(),
                "devices.last_status",
            )?,
            id: self.id,
            label: self.label,
            location: self.location,
            kind: self.kind,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
            last_seen_at: self.last_seen_at,
            last_detail: self.last_detail,
            silent_since: self.silent_since,
        })
    }
}

/// An event row as both backends read it.
pub(crate) struct EventRow {
    pub id: i64,
    pub device: String,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub status: Option<String>,
    pub detail: Option<String>,
    pub silent_ms: Option<i64>,
    pub node_id: String,
}

impl EventRow {
    pub(crate) fn decode(self) -> Result<DeviceEvent, StoreError> {
        let key = self.id.to_string();
        let kind = DeviceEventKind::ALL
            .into_iter()
            .find(|k| k.as_str() == self.kind)
            .ok_or_else(|| corrupt(&key, "device_events.kind"))?;
        Ok(DeviceEvent {
            kind,
            status: parse_status(&key, self.status.as_deref(), "device_events.status")?,
            silent_ms: self
                .silent_ms
                .map(|v| u64::try_from(v).map_err(|_| corrupt(&key, "device_events.silent_ms")))
                .transpose()?,
            id: self.id,
            device: self.device,
            at: self.at,
            detail: self.detail,
            node_id: self.node_id,
        })
    }
}

/// The beat as written: instant to the millisecond, the hour it falls in, detail trimmed.
pub(crate) struct BeatWrite<'a> {
    pub id: &'a str,
    pub at: DateTime<Utc>,
    pub hour: DateTime<Utc>,
    pub status: DeviceStatus,
    pub detail: Option<&'a str>,
    pub rtt_ms: Option<i64>,
    pub node_id: &'a str,
}

/// What the device row held before a beat.
pub(crate) struct Before {
    pub last_seen_at: Option<DateTime<Utc>>,
    pub last_status: Option<String>,
    pub silent_since: Option<DateTime<Utc>>,
}

/// The events a beat writes, decided from the row before it.
pub(crate) struct BeatEvents {
    pub was_silent: Option<TimeDelta>,
    pub status_changed_from: Option<DeviceStatus>,
}

pub(crate) fn beat_events(
    id: &str,
    before: &Before,
    beat: &BeatWrite<'_>,
) -> Result<BeatEvents, StoreError> {
    let was_silent = before.silent_since.map(|since| {
        let from = before.last_seen_at.unwrap_or(since);
        (beat.at - from).max(TimeDelta::zero())
    });
    let previous = parse_status(id, before.last_status.as_deref(), "devices.last_status")?
        .unwrap_or(DeviceStatus::Ok);
    Ok(BeatEvents {
        was_silent,
        status_changed_from: (previous != beat.status).then_some(previous),
    })
}

/// Milliseconds of a non-negative duration, for `silent_ms`.
pub(crate) fn millis(d: TimeDelta) -> i64 {
    d.num_milliseconds().max(0)
}

fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.with_nanosecond(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_minute(0))
        .unwrap_or(at)
}

fn duplicate_id(e: StoreError, id: &str) -> DeviceError {
    if let StoreError::Database(sqlx::Error::Database(db)) = &e {
        if matches!(db.kind(), sqlx::error::ErrorKind::UniqueViolation) {
            return DeviceError::DuplicateId { id: id.to_owned() };
        }
    }
    DeviceError::Store(e)
}

impl Store {
    /// Registers a device and returns its token, to show once (only its hash is kept). An
    /// id in use (even by a revoked device) is [`DeviceError::DuplicateId`].
    pub async fn device_add(
        &self,
        new: &NewDevice,
        now: DateTime<Utc>,
    ) -> Result<(Secret, Device), DeviceError> {
        let new = new.checked()?;
        let secret = Secret::generate(DEVICE_TOKEN_PREFIX);
        let hash = secret.hash();
        let device = Device {
            id: new.id.clone(),
            label: new.label,
            location: new.location,
            kind: new.kind,
            silent_after_s: new.silent_after_s,
            created_at: truncate_to_millis(now),
            revoked_at: None,
            last_seen_at: None,
            last_rtt_ms: None,
            last_status: None,
            last_detail: None,
            silent_since: None,
        };
        let stored = match self.pool() {
            Pool::Sqlite(pool) => devices_sqlite::insert(pool, &device, &hash).await,
            Pool::Postgres(pool) => devices_postgres::insert(pool, &device, &hash).await,
        };
        stored.map_err(|e| duplicate_id(e, &new.id))?;
        Ok((secret, device))
    }

    /// Revokes a device: its token stops working, its history stays. `false` when it was
    /// revoked already; an unknown id is [`DeviceError::NotFound`].
    pub async fn device_revoke(&self, id: &str, now: DateTime<Utc>) -> Result<bool, DeviceError> {
        let now = truncate_to_millis(now);
        let (exists, revoked) = match self.pool() {
            Pool::Sqlite(pool) => devices_sqlite::revoke(pool, id, now).await?,
            Pool::Postgres(pool) => devices_postgres::revoke(pool, id, now).await?,
        };
        if !exists {
            return Err(DeviceError::NotFound);
        }
        Ok(revoked)
    }

    /// The device a bearer token names; `None` for an unknown token or a revoked device.
    pub async fn device_by_token(&self, token: &Secret) -> Result<Option<Device>, StoreError> {
        let hash = token.hash();
        let row = match self.pool() {
            Pool::Sqlite(pool) => devices_sqlite::by_token(pool, &hash).await?,
            Pool::Postgres(pool) => devices_postgres::by_token(pool, &hash).await?,
        };
        row.map(DeviceRow::decode).transpose()
    }

    /// Records a beat of device `id` at `at`: its `last_*` columns, the hour's beat count
    /// and RTT, a `back` event when it was silent (clearing `silent_since`) and a `status`
    /// event when its status changed. An unknown or revoked device is
    /// [`DeviceError::NotFound`]; a detail over [`MAX_DEVICE_DETAIL_CHARS`] is
    /// [`DeviceError::DetailTooLong`] and nothing is written.
    pub async fn device_beat(
        &self,
        id: &str,
        at: DateTime<Utc>,
        beat: &Beat,
    ) -> Result<BeatOutcome, DeviceError> {
        let detail = beat
            .detail
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty());
        if detail.is_some_and(|d| d.chars().count() > MAX_DEVICE_DETAIL_CHARS) {
            return Err(DeviceError::DetailTooLong);
        }
        let at = truncate_to_millis(at);
        let write = BeatWrite {
            id,
            at,
            hour: hour_of(at),
            status: beat.status,
            detail,
            rtt_ms: beat.rtt_ms.map(i64::from),
            node_id: self.node_id(),
        };
        let outcome = match self.pool() {
            Pool::Sqlite(pool) => devices_sqlite::beat(pool, &write).await?,
            Pool::Postgres(pool) => devices_postgres::beat(pool, &write).await?,
        };
        let Some((row, events)) = outcome else {
            return Err(DeviceError::NotFound);
        };
        Ok(BeatOutcome {
            device: row.decode()?,
            was_silent: events.was_silent,
            status_changed_from: events.status_changed_from,
        })
    }

    /// Flips silent every watched device (not revoked, heard from at least once, not silent
    /// already) whose last beat is more than its `silent_after_s` before `now`, with a
    /// `silent` event each, and returns the devices **this call** flipped: a concurrent call
    /// (another node) gets the others, so each silence is alerted once.
    pub async fn mark_silent(&self, now: DateTime<Utc>) -> Result<Vec<Device>, StoreError> {
        let now = truncate_to_millis(now);
        let rows = match self.pool() {
            Pool::Sqlite(pool) => devices_sqlite::mark_silent(pool, now, self.node_id()).await?,
            Pool::Postgres(pool) => {
                devices_postgres::mark_silent(pool, now, self.node_id()).await?
            }
        };
        rows.into_iter().map(DeviceRow::decode).collect()
    }

    /// Every device, revoked ones included, by id.
    pub async fn devices(&self) -> Result<Vec<Device>, StoreError> {
        let rows = match self.pool() {
            Pool::Sqlite(pool) => devices_sqlite::all(pool).await?,
            Pool::Postgres(pool) => devices_postgres::all(pool).await?,
        };
        rows.into_iter().map(DeviceRow::decode).collect()
    }

    /// The devices' events with `from <= at < to`, oldest first.
    pub async fn device_events(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DeviceEvent>, StoreError> {
        let rows = match self.pool() {
            Pool::Sqlite(pool) => devices_sqlite::events(pool, from, to).await?,
            Pool::Postgres(pool) => devices_postgres::events(pool, from, to).await?,
        };
        rows.into_iter().map(EventRow::decode).collect()
    }

    /// Per device registered during some of `from..to` (created before `to`, not revoked
    /// before `from`), by id, zeros included: its beats, RTT and silences in the period.
    pub async fn device_figures(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DeviceFigures>, StoreError> {
        let devices = self.devices().await?;
        let hours = self.device_beats_hourly(from, to).await?;
        let events = self.device_events(from, to).await?;
        let mut figures: Vec<DeviceFigures> = devices
            .into_iter()
            .filter(|d| d.created_at < to && d.revoked_at.is_none_or(|r| r >= from))
            .map(|d| DeviceFigures {
                device: d.id,
                label: d.label,
                location: d.location,
                beats: 0,
                rtt_beats: 0,
                rtt_sum_ms: 0,
                rtt_max_ms: None,
                outages: 0,
                outage_ms: 0,
                longest_outage_ms: None,
            })
            .collect();
        let find = |figures: &[DeviceFigures], id: &str| {
            figures.binary_search_by(|f| f.device.as_str().cmp(id)).ok()
        };
        for h in hours {
            if let Some(i) = find(&figures, &h.device) {
                let f = &mut figures[i];
                f.beats += h.beats;
                f.rtt_beats += h.rtt_beats;
                f.rtt_sum_ms += h.rtt_sum_ms;
                f.rtt_max_ms = f.rtt_max_ms.max(h.rtt_max_ms);
            }
        }
        for e in events {
            if let Some(i) = find(&figures, &e.device) {
                let f = &mut figures[i];
                match e.kind {
                    DeviceEventKind::Silent => f.outages += 1,
                    DeviceEventKind::Back => {
                        let gap = e.silent_ms.unwrap_or(0);
                        f.outage_ms += gap;
                        f.longest_outage_ms = f.longest_outage_ms.max(Some(gap));
                    }
                    DeviceEventKind::Status => {}
                }
            }
        }
        Ok(figures)
    }

    /// The hourly beat rows with `from <= hour < to`, by device then hour.
    pub async fn device_beats_hourly(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DeviceBeatsHour>, StoreError> {
        match self.pool() {
            Pool::Sqlite(pool) => devices_sqlite::beats_hourly(pool, from, to).await,
            Pool::Postgres(pool) => devices_postgres::beats_hourly(pool, from, to).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> NewDevice {
        NewDevice::new("counter-1", "窓口1タブレット", "本庁舎1階")
    }

    #[test]
    fn a_device_id_outside_lowercase_slug_characters_is_refused() {
        let long = "a".repeat(65);
        for id in ["", "Counter", "窓口", "a b", long.as_str()] {
            let mut d = ok();
            d.id = id.to_owned();
            assert!(matches!(d.checked(), Err(DeviceError::BadId)), "{id:?}");
        }
    }

    #[test]
    fn label_and_location_are_trimmed_and_must_not_be_blank() {
        let mut d = ok();
        d.label = "  窓口1 ".into();
        assert_eq!(d.checked().expect("valid").label, "窓口1");
        d.location = "   ".into();
        assert_eq!(
            d.checked().expect_err("blank location").field(),
            Some("location")
        );
    }

    #[test]
    fn silent_after_below_the_beat_interval_is_refused() {
        let mut d = ok();
        d.silent_after_s = 29;
        assert_eq!(
            d.checked().expect_err("too short").field(),
            Some("silent_after")
        );
    }

    #[test]
    fn the_hour_of_an_instant_is_its_utc_hour_start() {
        let at = DateTime::parse_from_rfc3339("2026-06-10T10:59:59.999Z")
            .expect("valid")
            .with_timezone(&Utc);
        assert_eq!(hour_of(at).to_rfc3339(), "2026-06-10T10:00:00+00:00");
    }
}
