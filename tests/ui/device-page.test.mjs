// The counter device's page (src/web/assets/device/device.mjs): its token, what it reports and
// how it words a failure.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { beatBody, describe, failureText, tokenFromHash } from '../../src/web/assets/device/device.mjs';

test('the token comes from the fragment', () => {
  assert.equal(tokenFromHash('#token=mdg_dev_abc123'), 'mdg_dev_abc123');
});

test('a fragment without a device token gives none', () => {
  assert.equal(tokenFromHash(''), null);
  assert.equal(tokenFromHash('#token=mdg_0123abcd'), null, 'a user API token is not taken');
  assert.equal(tokenFromHash('#other=1'), null);
});

test('an online device without a battery reports ok', () => {
  assert.deepEqual(describe({ online: true, battery: null }), {
    status: 'ok', detail: 'ネットワーク: オンライン',
  });
});

test('a low battery that is not charging is a warning', () => {
  const low = describe({ online: true, battery: { level: 0.15, charging: false } });
  assert.equal(low.status, 'warning');
  assert.equal(low.detail, 'ネットワーク: オンライン / バッテリー: 15%');
  assert.equal(describe({ online: true, battery: { level: 0.15, charging: true } }).status, 'ok');
});

test('a browser that says it is offline is a warning', () => {
  assert.equal(describe({ online: false, battery: null }).status, 'warning');
});

test('a beat carries the previous round trip and its number', () => {
  assert.deepEqual(beatBody({ status: 'ok', detail: 'x' }, 84, 3), {
    status: 'ok', detail: 'x', rtt_ms: 84, seq: 3,
  });
});

test('failures are worded for the clerk', () => {
  assert.match(failureText(401), /トークンが無効/);
  assert.equal(failureText(null), 'サーバーに接続できません');
  assert.equal(failureText(503), 'サーバーエラー（HTTP 503）');
});
