// The counter's devices on the board (src/web/assets/manager/devices.mjs): the list, the
// stream's silent/back events, the row's state and the banner.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  alerting, applyDeviceEvent, bannerText, beatAge, deviceState, readDevice, readDeviceList,
} from '../../src/web/assets/manager/devices.mjs';
import { translate } from '../../src/web/assets/manager/i18n.mjs';

const RECEIVED = Date.parse('2026-06-10T01:00:00Z');
const listed = (overrides = {}) => ({
  id: 'counter-1', label: '窓口1タブレット', location: '本庁舎1階', kind: 'tablet',
  silent_after_s: 120, last_seen_at: '2026-06-10T00:59:30Z', last_beat_age_s: 30,
  last_rtt_ms: 84, last_status: 'ok', last_detail: null, silent: false, silent_since: null,
  alert: false, ...overrides,
});
const list = (...devices) => ({ devices, server_time: '2026-06-10T01:00:02Z' });

test('a listed device is read with its last beat and round trip', () => {
  const { devices } = readDeviceList(list(listed()), RECEIVED);
  assert.deepEqual(devices, [{
    id: 'counter-1', label: '窓口1タブレット', location: '本庁舎1階',
    lastSeenMs: Date.parse('2026-06-10T00:59:30Z'), rttMs: 84, status: 'ok', detail: '',
    silent: false, silentSinceMs: null, alert: false,
  }]);
});

test('an entry without an id is skipped', () => {
  assert.equal(readDevice({ label: 'x' }), null);
  assert.deepEqual(readDeviceList(list({ label: 'x' }, listed()), RECEIVED).devices.map((d) => d.id), ['counter-1']);
});

test('beat ages count from the server clock, not the board\'s', () => {
  const { devices, offsetMs } = readDeviceList(list(listed()), RECEIVED);
  assert.equal(offsetMs, 2000);
  assert.equal(beatAge(devices[0], RECEIVED, offsetMs), 32);
  assert.equal(beatAge(devices[0], RECEIVED + 10_000, offsetMs), 42);
});

test('a device never heard from has no age and shows as not heard yet', () => {
  const device = readDevice(listed({ last_seen_at: null, last_status: null, last_rtt_ms: null }));
  assert.equal(beatAge(device, RECEIVED), null);
  assert.equal(deviceState(device), 'never');
});

test('the row state is the reported status, and silent above all', () => {
  assert.equal(deviceState(readDevice(listed({ last_status: 'warning' }))), 'warning');
  assert.equal(deviceState(readDevice(listed({ last_status: 'error' }))), 'error');
  assert.equal(deviceState(readDevice(listed({ last_status: 'error', silent: true }))), 'silent');
});

test('a silent event within hours marks the device and raises the banner', () => {
  const { devices } = readDeviceList(list(listed(), listed({ id: 'counter-2', label: '窓口2' })), RECEIVED);
  const after = applyDeviceEvent(devices, {
    kind: 'silent', device: 'counter-1', label: '窓口1タブレット', location: '本庁舎1階',
    last_seen_at: '2026-06-10T00:59:30Z', silent_since: '2026-06-10T01:01:35Z', alert: true,
  });
  assert.equal(deviceState(after[0]), 'silent');
  assert.equal(after[0].silentSinceMs, Date.parse('2026-06-10T01:01:35Z'));
  assert.equal(deviceState(after[1]), 'ok');
  assert.deepEqual(alerting(after).map((d) => d.id), ['counter-1']);
});

test('a silent event outside hours marks the device but raises no banner', () => {
  const { devices } = readDeviceList(list(listed()), RECEIVED);
  const after = applyDeviceEvent(devices, {
    kind: 'silent', device: 'counter-1', silent_since: '2026-06-10T11:00:00Z', alert: false,
  });
  assert.equal(deviceState(after[0]), 'silent');
  assert.deepEqual(alerting(after), []);
});

test('a back event clears the silence and the banner', () => {
  const { devices } = readDeviceList(list(listed({ silent: true, alert: true, silent_since: '2026-06-10T00:58:00Z' })), RECEIVED);
  assert.equal(alerting(devices).length, 1);
  const after = applyDeviceEvent(devices, {
    kind: 'back', device: 'counter-1', at: '2026-06-10T01:00:40Z', silent_ms: 190_000,
  });
  assert.equal(deviceState(after[0]), 'ok');
  assert.equal(after[0].lastSeenMs, Date.parse('2026-06-10T01:00:40Z'));
  assert.deepEqual(alerting(after), []);
});

test('an event about an unknown device or of an unknown kind changes nothing', () => {
  const { devices } = readDeviceList(list(listed()), RECEIVED);
  assert.deepEqual(applyDeviceEvent(devices, { kind: 'silent', device: 'kiosk-9', alert: true }), devices);
  assert.deepEqual(applyDeviceEvent(devices, { kind: 'reboot', device: 'counter-1' }), devices);
  assert.deepEqual(applyDeviceEvent(devices, null), devices);
});

test('a listed silence counts for the banner only when the server says it is within hours', () => {
  assert.equal(readDevice(listed({ silent: true, alert: true })).alert, true);
  assert.equal(readDevice(listed({ silent: true, alert: false })).alert, false);
  assert.equal(readDevice(listed({ silent: false, alert: true })).alert, false);
});

test('the banner names one silent device, or counts several', () => {
  const t = (key, params) => translate('ja', key, params);
  const one = [readDevice(listed({ silent: true, alert: true }))];
  assert.equal(bannerText(t, one), '窓口機器から応答がありません: 窓口1タブレット（本庁舎1階）');
  const two = [...one, readDevice(listed({ id: 'counter-2', label: '窓口2', silent: true, alert: true }))];
  assert.equal(bannerText(t, two), '窓口機器 2台から応答がありません（窓口1タブレット ほか）');
  assert.equal(bannerText(t, []), '');
});
