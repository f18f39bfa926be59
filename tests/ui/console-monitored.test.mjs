// The operator is told when a manager listens in, whispers or barges in on their call
// (the engine's `monitored` message, docs/console-protocol.md; issue 6, live listen-in).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  initialState, step, monitorView, MONITOR_MODES,
} from '../../src/web/assets/agent/console-state.mjs';
import { STRINGS, translate } from '../../src/web/assets/agent/i18n.mjs';

const T0 = Date.parse('2026-12-01T01:00:00Z');

function run(events, start = initialState()) {
  let state = start;
  let effects = [];
  for (const event of events) {
    const result = step(state, event, T0);
    state = result.state;
    effects = result.effects;
  }
  return { state, effects };
}

const server = (message) => ({ type: 'server', message });
const signedIn = { type: 'signed_in', login: 'suzuki', role: 'agent' };
const welcome = server({
  type: 'welcome', login: 'suzuki', state: 'available', reason: null, media: true,
});
const offer = server({
  type: 'offered', call_id: 'c1', caller: '0467001234', queue: 'desk', waited_s: 4,
});
const connected = server({ type: 'connected', call_id: 'c1' });
const monitored = (mode, callId = 'c1') => server({ type: 'monitored', call_id: callId, mode });
const onCall = [signedIn, welcome, offer, connected];

test('a connected call is not monitored until the engine says so', () => {
  const { state } = run(onCall);
  assert.equal(monitorView(state.call), null);
});

test('a manager listening in is shown and announced urgently', () => {
  const { state, effects } = run([...onCall, monitored('listen')]);
  assert.equal(monitorView(state.call), 'listen');
  assert.deepEqual(effects, [
    { type: 'announce', key: 'announce.monitored.listen', params: {}, urgent: true },
  ]);
  assert.equal(translate('ja', `monitor.status.${monitorView(state.call)}`),
    '管理者がモニター中（傍聴）');
});

test('switching to whisper and barge is shown each time, and leaving clears it', () => {
  const whisper = run([...onCall, monitored('listen'), monitored('whisper')]);
  assert.equal(monitorView(whisper.state.call), 'whisper');
  assert.equal(whisper.effects[0].key, 'announce.monitored.whisper');
  const barge = run([monitored('barge')], whisper.state);
  assert.equal(monitorView(barge.state.call), 'barge');
  const left = run([monitored(null)], barge.state);
  assert.equal(monitorView(left.state.call), null);
  assert.equal(left.effects[0].key, 'announce.monitor_ended');
});

test('the same mode twice is announced once', () => {
  const { effects } = run([...onCall, monitored('listen'), monitored('listen')]);
  assert.deepEqual(effects, []);
});

test('news of another call, an unknown mode, or after the end changes nothing', () => {
  assert.equal(monitorView(run([...onCall, monitored('listen', 'c2')]).state.call), null);
  assert.equal(monitorView(run([...onCall, monitored('shout')]).state.call), null);
  const ended = run([...onCall, monitored('barge'),
    server({ type: 'ended', call_id: 'c1', reason: 'ended' })]);
  assert.equal(ended.state.call.phase, 'ended');
  assert.equal(monitorView(ended.state.call), null, 'an ended call shows no manager');
  assert.equal(run([monitored('listen')], ended.state).state.call.monitored, null);
});

test('every mode has its words in both languages', () => {
  for (const lang of Object.keys(STRINGS)) {
    for (const mode of MONITOR_MODES) {
      for (const key of [`monitor.status.${mode}`, `announce.monitored.${mode}`]) {
        assert.ok(STRINGS[lang][key], `${lang} ${key}`);
      }
    }
    assert.ok(STRINGS[lang]['announce.monitor_ended'], `${lang} announce.monitor_ended`);
  }
  for (const mode of ['傍聴', 'ささやき', '三者通話']) {
    assert.ok(Object.values(STRINGS.ja).some((s) => s === `管理者がモニター中（${mode}）`), mode);
  }
});

// The welcome (every (re)connect) carries the call's monitoring as `call.monitored`.
const card = (fields = {}) => ({
  call_id: 'c1', caller: '0467001234', queue: 'desk', waited_s: 4, connected: true, ...fields,
});
const welcomeOnCall = (fields) => server({
  type: 'welcome', login: 'suzuki', state: 'on_call', reason: null, media: true, call: card(fields),
});
const socketClosed = { type: 'socket_closed' };

test('a console reloaded during a monitored call shows the manager from the welcome', () => {
  const { state } = run([signedIn, welcomeOnCall({ monitored: 'whisper' })]);
  assert.equal(state.call.phase, 'connected');
  assert.equal(monitorView(state.call), 'whisper');
  assert.equal(monitorView(run([signedIn, welcomeOnCall({})]).state.call), null);
  assert.equal(monitorView(run([signedIn, welcomeOnCall({ monitored: 'shout' })]).state.call), null);
});

test('a reconnect learns a manager joined, switched mode or left while the socket was down', () => {
  const joined = run([...onCall, socketClosed, welcomeOnCall({ monitored: 'listen' })]);
  assert.equal(monitorView(joined.state.call), 'listen');
  const switched = run([socketClosed, welcomeOnCall({ monitored: 'barge' })], joined.state);
  assert.equal(monitorView(switched.state.call), 'barge');
  const left = run([socketClosed, welcomeOnCall({})], switched.state);
  assert.equal(monitorView(left.state.call), null);
  assert.equal(left.state.call.phase, 'connected', 'the call goes on');
});

test('a welcome naming the monitoring keeps the recording the console already knew', () => {
  const recording = run([...onCall, server({ type: 'recording', call_id: 'c1', state: 'recording' })]);
  const { state } = run([socketClosed, welcomeOnCall({ monitored: 'listen' })], recording.state);
  assert.equal(state.call.recording.state, 'recording');
  assert.equal(monitorView(state.call), 'listen');
});
