// Listen-in, whisper and barge on the board (src/web/assets/manager/live.mjs): which buttons
// an operator's row gets from the live state, the request each button sends, and what a
// refusal says.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  MONITOR_MODES, monitorControls, monitorFailureKey, monitorRequest, readSnapshot,
} from '../../src/web/assets/manager/live.mjs';
import { STRINGS, translate } from '../../src/web/assets/manager/i18n.mjs';

const AT = '2026-11-26T01:00:00Z';

function snapshot(monitors, operators) {
  return readSnapshot({
    at: AT,
    queues: [],
    operators: operators ?? [
      { login: 'op1', state: 'on_call', reason: null, since: AT, call_id: 'call-1' },
      { login: 'op2', state: 'available', reason: null, since: AT, call_id: 'call-old' },
      { login: 'op3', state: 'on_call', reason: null, since: AT, call_id: 'call-3' },
    ],
    monitors,
  }, Date.parse(AT));
}

const row = (s, login) => monitorControls(s.operators.find((op) => op.login === login), s.monitors);

test('an operator on an unmonitored call gets the three ways in, and nothing to end', () => {
  const s = snapshot([]);
  assert.deepEqual(row(s, 'op1'), {
    callId: 'call-1', monitor: null, action: 'start', modes: ['listen', 'whisper', 'barge'], stop: false,
  });
});

test('an operator not on a call gets no buttons, even with the last call id', () => {
  assert.equal(row(snapshot([]), 'op2'), null);
});

test('a monitored call offers the other two modes and ending', () => {
  const s = snapshot([{ call_id: 'call-1', operator: 'op1', monitored_by: 'sato', mode: 'whisper' }]);
  const controls = row(s, 'op1');
  assert.deepEqual(controls.monitor, { callId: 'call-1', operator: 'op1', by: 'sato', mode: 'whisper' });
  assert.equal(controls.action, 'switch');
  assert.deepEqual(controls.modes, ['listen', 'barge']);
  assert.equal(controls.stop, true);
  assert.deepEqual(row(s, 'op3').monitor, null, 'another operator\'s call is not monitored');
});

test('while the manager\'s phone rings the call can only be ended', () => {
  const s = snapshot([{ call_id: 'call-1', operator: 'op1', monitored_by: 'sato', mode: null }]);
  const controls = row(s, 'op1');
  assert.equal(controls.monitor.mode, null);
  assert.deepEqual(controls.modes, []);
  assert.equal(controls.stop, true);
});

test('an unknown mode from the server reads as ringing, and a monitor without a call is dropped', () => {
  const s = snapshot([
    { call_id: 'call-1', operator: 'op1', monitored_by: 'sato', mode: 'shout' },
    { call_id: '', operator: 'op3', monitored_by: 'sato', mode: 'listen' },
    null,
  ]);
  assert.equal(s.monitors.length, 1);
  assert.equal(s.monitors[0].mode, null);
});

test('a state without monitors (an older engine) reads as nobody monitored', () => {
  const s = snapshot(undefined);
  assert.deepEqual(s.monitors, []);
  assert.equal(row(s, 'op1').action, 'start');
});

test('start is a POST, switch a PUT, both with the mode; stop a DELETE without a body', () => {
  assert.deepEqual(monitorRequest('call-1', 'start', 'listen'),
    { method: 'POST', path: '/api/v1/calls/call-1/monitor', body: { mode: 'listen' } });
  assert.deepEqual(monitorRequest('call-1', 'switch', 'barge'),
    { method: 'PUT', path: '/api/v1/calls/call-1/monitor', body: { mode: 'barge' } });
  assert.deepEqual(monitorRequest('call-1', 'stop'),
    { method: 'DELETE', path: '/api/v1/calls/call-1/monitor', body: undefined });
});

test('the call id is escaped into the path, and an unknown mode is never sent', () => {
  assert.equal(monitorRequest('a/b?c', 'stop').path, '/api/v1/calls/a%2Fb%3Fc/monitor');
  assert.throws(() => monitorRequest('call-1', 'start', 'shout'), RangeError);
});

test('each refusal of the engine has its own words', () => {
  const cases = [
    [409, '"sato" has no registered phone to join the call with', 'monitor.error.no_phone'],
    [409, 'the call is already monitored by "suzuki"', 'monitor.error.already'],
    [409, 'the call is not with an operator', 'monitor.error.not_with_operator'],
    [409, 'nobody monitors the call', 'monitor.error.not_monitored'],
    [409, 'something new', 'monitor.error.conflict'],
    [404, 'no call with id "x" is up', 'monitor.error.gone'],
    [401, undefined, 'monitor.error.session'],
    [403, undefined, 'monitor.error.forbidden'],
    [0, null, 'monitor.error.network'],
    [503, 'engine stopping', 'monitor.error.other'],
  ];
  for (const [status, reason, key] of cases) {
    assert.equal(monitorFailureKey(status, reason), key, `${status} ${reason}`);
  }
});

test('no registered phone is said in both languages', () => {
  assert.equal(translate('ja', 'monitor.error.no_phone'), 'モニター用の電話が登録されていません');
  assert.equal(translate('en', 'monitor.error.no_phone'), 'No phone is registered for monitoring');
});

test('every mode, refusal and the status line have words in both languages', () => {
  const keys = [
    ...MONITOR_MODES.map((mode) => `monitor.${mode}`),
    'monitor.stop', 'monitor.ringing', 'monitor.active', 'monitor.controls', 'monitor.button',
    ...['no_phone', 'already', 'not_with_operator', 'not_monitored', 'conflict', 'gone', 'session',
      'forbidden', 'network', 'other'].map((name) => `monitor.error.${name}`),
  ];
  for (const key of keys) {
    for (const lang of ['ja', 'en']) assert.ok(Object.hasOwn(STRINGS[lang], key), `${lang} ${key}`);
  }
  assert.equal(
    translate('ja', 'monitor.active', { manager: 'sato', mode: translate('ja', 'monitor.listen') }),
    'モニター中: sato（傍聴）',
  );
  assert.equal(
    translate('en', 'monitor.active', { manager: 'sato', mode: translate('en', 'monitor.ringing') }),
    'Monitored by sato (ringing)',
  );
});
