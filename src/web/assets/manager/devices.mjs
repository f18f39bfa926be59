// The counter's devices on the board (窓口機器): the list of GET /api/v1/devices, kept up to
// date by the `device` events of /api/v1/devices/stream (silent, back) and read again every
// 30 s — beat ages and RTTs change with every beat, which the stream does not carry, and a
// silence found by another node reaches this board through the list. A silence within the
// devices' hours (`alert`, the server's calendar rule) raises the banner; one outside them is
// shown in the panel only.
//
// The model (read*, apply*, deviceState, alerting, beatAge) is pure; mountDevices() is the
// view and needs a document.

/** How often the list is read again. */
export const REFRESH_MS = 30_000;

const STATUSES = ['ok', 'warning', 'error'];
const str = (value) => (typeof value === 'string' ? value : '');
const instant = (value) => {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  return Number.isFinite(ms) ? ms : null;
};

/** A device of the list, or null when it has no id. */
export function readDevice(item) {
  if (!item || typeof item !== 'object' || typeof item.id !== 'string' || !item.id) return null;
  return {
    id: item.id,
    label: str(item.label) || item.id,
    location: str(item.location),
    lastSeenMs: instant(item.last_seen_at),
    rttMs: Number.isFinite(item.last_rtt_ms) ? item.last_rtt_ms : null,
    status: STATUSES.includes(item.last_status) ? item.last_status : null,
    detail: str(item.last_detail),
    silent: item.silent === true,
    silentSinceMs: instant(item.silent_since),
    alert: item.silent === true && item.alert === true,
  };
}

/**
 * The devices of a GET /api/v1/devices answer received at `receivedMs`, and the server's
 * clock ahead of ours (`offsetMs`), so ages count from the server's clock.
 */
export function readDeviceList(data, receivedMs) {
  const list = Array.isArray(data?.devices) ? data.devices : [];
  const serverMs = instant(data?.server_time);
  return {
    devices: list.map(readDevice).filter(Boolean),
    offsetMs: serverMs === null ? 0 : serverMs - receivedMs,
  };
}

/** The devices after a `device` event (unknown devices and kinds change nothing). */
export function applyDeviceEvent(devices, data) {
  if (!data || typeof data.device !== 'string') return devices;
  return devices.map((device) => {
    if (device.id !== data.device) return device;
    if (data.kind === 'silent') {
      return {
        ...device,
        silent: true,
        silentSinceMs: instant(data.silent_since),
        alert: data.alert === true,
        lastSeenMs: instant(data.last_seen_at) ?? device.lastSeenMs,
      };
    }
    if (data.kind === 'back') {
      return {
        ...device,
        silent: false,
        silentSinceMs: null,
        alert: false,
        lastSeenMs: instant(data.at) ?? device.lastSeenMs,
      };
    }
    return device;
  });
}

/** silent, error, warning, ok, or never (no beat yet): the row's colour and word. */
export function deviceState(device) {
  if (device.silent) return 'silent';
  if (device.lastSeenMs === null) return 'never';
  return device.status ?? 'ok';
}

/** The devices silent within their hours: the banner names them. */
export function alerting(devices) {
  return devices.filter((device) => device.silent && device.alert);
}

/** Whole seconds since the device's last beat by the server's clock; null before any. */
export function beatAge(device, nowMs, offsetMs = 0) {
  if (device.lastSeenMs === null) return null;
  return Math.max(0, Math.floor((nowMs + offsetMs - device.lastSeenMs) / 1000));
}

/** The banner's text: one device by name, several counted. */
export function bannerText(t, silent) {
  if (silent.length === 0) return '';
  if (silent.length === 1) {
    return t('devices.banner', { label: silent[0].label, location: silent[0].location });
  }
  return t('devices.banner_many', { count: silent.length, label: silent[0].label });
}

/** GET /api/v1/devices (session cookie); throws on failure. */
export async function fetchDevices(fetchImpl = globalThis.fetch.bind(globalThis)) {
  const response = await fetchImpl('/api/v1/devices', {
    credentials: 'same-origin',
    headers: { accept: 'application/json' },
  });
  if (!response.ok) throw new Error(`GET /api/v1/devices: HTTP ${response.status}`);
  return readDeviceList(await response.json(), Date.now());
}

/**
 * The panel and banner, drawn into `#device-rows`, `#devices-none` and `#device-banner`.
 * `t` translates, `announce` speaks to screen readers, `formatDuration` writes an age.
 * Returns { start, stop, render, state }.
 */
export function mountDevices({ t, announce, formatDuration }) {
  const $ = (id) => document.getElementById(id);
  const view = { devices: [], offsetMs: 0, alerted: new Set() };
  let stream = null;
  let timer = null;
  let tick = null;

  async function refresh() {
    try {
      const read = await fetchDevices();
      view.devices = read.devices;
      view.offsetMs = read.offsetMs;
    } catch {
      return; // kept as drawn; the next refresh tries again
    }
    // A stream the server closed (e.g. a restart) is opened again with the list.
    if (stream && stream.readyState === EventSource.CLOSED) openStream();
    render();
  }

  function openStream() {
    if (stream) stream.close();
    stream = new EventSource('/api/v1/devices/stream');
    stream.addEventListener('device', (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      view.devices = applyDeviceEvent(view.devices, data);
      render();
    });
  }

  function start() {
    stop();
    openStream();
    refresh();
    timer = setInterval(refresh, REFRESH_MS);
    // The ages count up between refreshes.
    tick = setInterval(render, 1000);
  }

  function stop() {
    if (stream) stream.close();
    stream = null;
    clearInterval(timer);
    clearInterval(tick);
    timer = null;
    tick = null;
    view.devices = [];
    view.alerted = new Set();
    render();
  }

  function render() {
    const rows = $('device-rows');
    if (!rows) return;
    const now = Date.now();
    $('devices-none').hidden = view.devices.length > 0;
    rows.replaceChildren(...view.devices.map((device) => {
      const row = document.createElement('tr');
      row.dataset.device = device.id;
      const state = deviceState(device);
      row.dataset.state = state;
      const name = document.createElement('td');
      const label = document.createElement('strong');
      label.textContent = device.label;
      const where = document.createElement('span');
      where.className = 'hint';
      where.textContent = device.location;
      name.append(label, ' ', where);
      const age = beatAge(device, now, view.offsetMs);
      const ageCell = document.createElement('td');
      ageCell.className = 'num mono';
      ageCell.textContent = age === null ? '—' : formatDuration(age);
      const rtt = document.createElement('td');
      rtt.className = 'num mono';
      rtt.textContent = device.rttMs === null ? '—' : `${device.rttMs} ms`;
      const status = document.createElement('td');
      status.className = 'device-state';
      status.textContent = t(`devices.state.${state}`);
      if (device.detail && state !== 'silent') status.title = device.detail;
      row.append(name, ageCell, rtt, status);
      return row;
    }));
    const silent = alerting(view.devices);
    const banner = $('device-banner');
    banner.hidden = silent.length === 0;
    banner.textContent = bannerText(t, silent);
    // Spoken once per silence, not at every refresh.
    for (const device of silent) {
      if (!view.alerted.has(device.id)) announce(bannerText(t, [device]));
    }
    view.alerted = new Set(silent.map((device) => device.id));
  }

  return {
    start,
    stop,
    render,
    state: () => ({
      devices: view.devices.map((d) => ({ id: d.id, state: deviceState(d), alert: d.alert })),
      banner: !$('device-banner')?.hidden,
    }),
  };
}
