// The console's state machine: how the engine's messages and the console's own events move
// what the operator sees (src/web/assets/agent/console-state.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  initialState, step, controls, callSeconds, recordingView,
} from '../../src/web/assets/agent/console-state.mjs';
import { shortcutAction } from '../../src/web/assets/agent/shortcuts.mjs';

const T0 = Date.parse('2026-12-01T01:00:00Z');

function run(events, start = initialState()) {
  let state = start;
  let effects = [];
  let now = T0;
  for (const event of events) {
    if (event.advance) {
      now += event.advance;
      continue;
    }
    const result = step(state, event, now);
    state = result.state;
    effects = result.effects;
  }
  return { state, effects, now };
}

const server = (message) => ({ type: 'server', message });
const signedIn = { type: 'signed_in', login: 'suzuki', role: 'agent' };
const welcome = (fields = {}) => server({
  type: 'welcome', login: 'suzuki', state: 'available', reason: null, media: false, ...fields,
});
const offer = server({
  type: 'offered', call_id: 'c1', caller: '0467001234', queue: 'desk', waited_s: 42,
  menu_choice: '1',
});

test('a first welcome without audio asks the shell to set up the media', () => {
  const { state, effects } = run([signedIn, welcome({ media: false })]);
  assert.equal(state.connection, 'open');
  assert.equal(state.media, 'negotiating');
  assert.ok(effects.some((e) => e.type === 'start_media'));
});

test('a welcome on a reconnect with this page\'s audio up sends no new offer', () => {
  const { state, effects } = run([
    signedIn, welcome(), { type: 'media_up' }, { type: 'socket_closed' }, welcome({ media: true }),
  ]);
  assert.equal(state.media, 'up');
  assert.ok(!effects.some((e) => e.type === 'start_media'));
});

test('a page without its own audio offers even when the engine has a leg for the operator', () => {
  // A reloaded page or a second tab: the engine's leg belongs to the earlier page.
  const { state, effects } = run([signedIn, welcome({ media: true })]);
  assert.equal(state.media, 'negotiating');
  assert.ok(effects.some((e) => e.type === 'start_media'));
});

test('an engine that lost this page\'s audio (a restart) is offered it again', () => {
  const { state, effects } = run([
    signedIn, welcome(), { type: 'media_up' }, { type: 'socket_closed' }, welcome({ media: false }),
  ]);
  assert.equal(state.media, 'negotiating');
  assert.ok(effects.some((e) => e.type === 'start_media'));
});

test('audio that failed is tried again on the next welcome', () => {
  const { effects } = run([
    signedIn, welcome(), { type: 'media_failed' }, { type: 'socket_closed' }, welcome({ media: false }),
  ]);
  assert.ok(effects.some((e) => e.type === 'start_media'));
});

test('an offer lost with its socket is made again after the reconnect', () => {
  const { state, effects } = run([
    signedIn, welcome(), { type: 'socket_closed' }, welcome({ media: false }),
  ]);
  assert.equal(state.media, 'negotiating');
  assert.ok(effects.some((e) => e.type === 'start_media'));
});

test('a repeated welcome on the same socket does not offer twice while an answer is pending', () => {
  const { effects } = run([signedIn, welcome(), welcome()]);
  assert.ok(!effects.some((e) => e.type === 'start_media'));
});

test('the media answer is handed to the shell to apply', () => {
  const { effects } = run([signedIn, welcome(), server({ type: 'media_answer', sdp: 'v=0' })]);
  assert.deepEqual(effects, [{ type: 'apply_media_answer', sdp: 'v=0' }]);
});

test('the engine\'s state changes are shown with their reason and start', () => {
  const { state, effects } = run([
    signedIn, welcome(),
    server({ type: 'state', state: 'paused', reason: 'lunch', since: '2026-12-01T00:59:30Z' }),
  ]);
  assert.deepEqual(state.operator, {
    state: 'paused', reason: 'lunch', since: Date.parse('2026-12-01T00:59:30Z'),
  });
  assert.ok(effects.some((e) => e.type === 'announce' && e.key === 'announce.state'));
});

test('a state start ahead of the browser clock is read as now', () => {
  const { state } = run([
    signedIn, welcome(),
    server({ type: 'state', state: 'available', reason: null, since: '2026-12-01T01:05:00Z' }),
  ]);
  assert.equal(state.operator.since, T0);
});

test('an offer shows the call card, focuses the answer button and is announced urgently', () => {
  const { state, effects } = run([signedIn, welcome(), offer]);
  assert.equal(state.call.phase, 'offered');
  assert.equal(state.call.caller, '0467001234');
  assert.equal(state.call.menuChoice, '1');
  assert.ok(effects.some((e) => e.type === 'focus_answer'));
  assert.ok(effects.some((e) => e.type === 'announce' && e.urgent));
});

test('the offered card counts the wait on from what the engine reported', () => {
  const { state, now } = run([signedIn, welcome(), offer, { advance: 5000 }]);
  assert.equal(callSeconds(state.call, now), 47);
});

test('answering and declining are possible only while a call is offered', () => {
  const idle = run([signedIn, welcome()]).state;
  assert.equal(controls(idle).answer, false);
  const offered = run([signedIn, welcome(), offer]).state;
  assert.equal(controls(offered).answer, true);
  assert.equal(controls(offered).decline, true);
  assert.equal(controls(offered).hangup, false);
});

test('an answer sent is not sent again while the engine connects', () => {
  const { state } = run([signedIn, welcome(), offer, { type: 'answer_requested', callId: 'c1' }]);
  assert.equal(controls(state).answer, false);
});

test('connected starts the call timer and opens a fresh wrap-up form', () => {
  const { effects } = run([signedIn, welcome(), offer, server({ type: 'connected', call_id: 'c1' })]);
  assert.ok(effects.some((e) => e.type === 'reset_wrapup_form'));
  const { state, now } = run([
    signedIn, welcome(), offer, server({ type: 'connected', call_id: 'c1' }), { advance: 65_000 },
  ]);
  assert.equal(state.call.phase, 'connected');
  assert.equal(callSeconds(state.call, now), 65);
  assert.deepEqual(state.wrapup, { callId: 'c1', caller: '0467001234', status: 'editing' });
});

test('on a call the hold, transfer and hang-up controls are enabled', () => {
  const { state } = run([signedIn, welcome(), offer, server({ type: 'connected', call_id: 'c1' })]);
  const can = controls(state);
  assert.equal(can.hold && can.transfer && can.hangup, true);
  assert.equal(can.answer, false);
});

test('an offer withdrawn before the answer clears the card without a wrap-up', () => {
  const { state } = run([
    signedIn, welcome(), offer, server({ type: 'ended', call_id: 'c1', reason: 'withdrawn' }),
  ]);
  assert.equal(state.call, null);
  assert.equal(state.wrapup, null);
});

test('a call that ends keeps its wrap-up form and freezes the talk time', () => {
  const { state, now } = run([
    signedIn, welcome(), offer, server({ type: 'connected', call_id: 'c1' }), { advance: 30_000 },
    server({ type: 'ended', call_id: 'c1', reason: 'ended' }), { advance: 10_000 },
  ]);
  assert.equal(state.call.phase, 'ended');
  assert.equal(callSeconds(state.call, now), 30);
  assert.equal(state.wrapup.status, 'editing');
  assert.equal(controls(state).hangup, false);
  const ended = run([
    signedIn, welcome(), offer, server({ type: 'connected', call_id: 'c1' }),
    server({ type: 'ended', call_id: 'c1', reason: 'ended' }),
  ]).effects;
  assert.ok(ended.some((e) => e.type === 'refresh_history'));
});

test('messages about another call leave the current one alone', () => {
  const { state } = run([
    signedIn, welcome(), offer, server({ type: 'ended', call_id: 'other', reason: 'ended' }),
  ]);
  assert.equal(state.call.callId, 'c1');
});

test('a saved wrap-up goes away when the operator is available again', () => {
  const base = [
    signedIn, welcome(), offer, server({ type: 'connected', call_id: 'c1' }),
    server({ type: 'ended', call_id: 'c1', reason: 'ended' }),
    server({ type: 'state', state: 'wrap_up', reason: null, since: '2026-12-01T01:00:00Z' }),
    { type: 'wrapup_saving', callId: 'c1' }, { type: 'wrapup_saved', callId: 'c1' },
  ];
  const saved = run(base).state;
  assert.equal(saved.wrapup.status, 'saved');
  assert.equal(controls(saved).available, true);
  const after = run([...base,
    server({ type: 'state', state: 'available', reason: null, since: '2026-12-01T01:00:00Z' })]).state;
  assert.equal(after.wrapup, null);
  assert.equal(after.call, null);
});

test('an unsaved wrap-up stays when the operator goes available', () => {
  const { state } = run([
    signedIn, welcome(), offer, server({ type: 'connected', call_id: 'c1' }),
    server({ type: 'ended', call_id: 'c1', reason: 'ended' }),
    server({ type: 'state', state: 'available', reason: null, since: '2026-12-01T01:00:00Z' }),
  ]);
  assert.equal(state.wrapup.callId, 'c1');
  assert.equal(state.wrapup.status, 'editing');
});

test('a refused save returns the form to editing', () => {
  const { state } = run([
    signedIn, welcome(), offer, server({ type: 'connected', call_id: 'c1' }),
    { type: 'wrapup_saving', callId: 'c1' }, { type: 'wrapup_failed', callId: 'c1' },
  ]);
  assert.equal(state.wrapup.status, 'editing');
  assert.equal(controls(state).saveWrapup, true);
});

test('taken_over ends the session on this page and stops it', () => {
  const { state, effects } = run([signedIn, welcome(), offer, server({ type: 'taken_over' })]);
  assert.equal(state.session, 'taken_over');
  assert.equal(state.call, null);
  assert.ok(effects.some((e) => e.type === 'stop_session'));
});

test('signed_out from the engine returns this page to the sign-in form', () => {
  const { state, effects } = run([signedIn, welcome(), offer, server({ type: 'signed_out' })]);
  assert.equal(state.session, 'signed_out');
  assert.equal(state.call, null);
  assert.ok(effects.some((e) => e.type === 'stop_session'));
});

test('a refused hold puts the hold display back', () => {
  const { state } = run([
    signedIn, welcome(), offer, server({ type: 'connected', call_id: 'c1' }),
    { type: 'hold_requested', callId: 'c1', on: true },
    server({ type: 'error', request: 'hold', message: 'call "c1" is not connected' }),
  ]);
  assert.equal(state.call.held, false);
  assert.deepEqual(state.error, { request: 'hold', message: 'call "c1" is not connected' });
});

test('a refused answer lets the operator try again', () => {
  const { state } = run([
    signedIn, welcome(), offer, { type: 'answer_requested', callId: 'c1' },
    server({ type: 'error', request: 'answer', message: 'no audio' }),
  ]);
  assert.equal(controls(state).answer, true);
});

test('a reconnect that finds the operator no longer ringing drops the stale offer', () => {
  const { state } = run([
    signedIn, welcome(), offer, { type: 'socket_closed' }, welcome({ state: 'available' }),
  ]);
  assert.equal(state.call, null);
});

test('a reconnect during a call keeps the call and its controls', () => {
  const { state } = run([
    signedIn, welcome(), { type: 'media_up' }, offer, server({ type: 'connected', call_id: 'c1' }),
    { type: 'socket_closed' }, welcome({ state: 'on_call', media: true }),
  ]);
  assert.equal(state.call.phase, 'connected');
  assert.equal(controls(state).hangup, true);
});

test('a reconnect after the call ended meanwhile marks it ended and keeps the form', () => {
  const { state } = run([
    signedIn, welcome(), offer, server({ type: 'connected', call_id: 'c1' }),
    { type: 'socket_closed' }, welcome({ state: 'wrap_up' }),
  ]);
  assert.equal(state.call.phase, 'ended');
  assert.equal(state.wrapup.callId, 'c1');
});

test('a welcome that carries the call in progress restores it on a reloaded page', () => {
  const card = { call_id: 'c9', caller: '0467001234', queue: 'desk', waited_s: 12, menu_choice: '2' };
  const { state, effects } = run([signedIn, welcome({ state: 'on_call', call: card })]);
  assert.equal(state.call.callId, 'c9');
  assert.equal(state.call.phase, 'connected');
  assert.equal(state.wrapup.callId, 'c9');
  assert.ok(effects.some((e) => e.type === 'reset_wrapup_form'));
  const ringing = run([signedIn, welcome({ state: 'ringing', call: card })]).state;
  assert.equal(ringing.call.phase, 'offered');
});

test('while the socket is down no call control is enabled', () => {
  const { state } = run([
    signedIn, welcome(), offer, server({ type: 'connected', call_id: 'c1' }), { type: 'socket_closed' },
  ]);
  const can = controls(state);
  assert.equal(can.hangup || can.hold || can.transfer || can.available, false);
  assert.equal(state.connection, 'closed');
});

test('an unclassified call from the history opens the form for that call', () => {
  const { state, effects } = run([
    signedIn, welcome(), { type: 'wrapup_open', callId: 'old', caller: '0312345678' },
  ]);
  assert.deepEqual(state.wrapup, { callId: 'old', caller: '0312345678', status: 'editing' });
  assert.ok(effects.some((e) => e.type === 'reset_wrapup_form'));
});

test('the live call\'s form is not given away to a call from the history', () => {
  const { state } = run([
    signedIn, welcome(), offer, server({ type: 'connected', call_id: 'c1' }),
    { type: 'wrapup_open', callId: 'old', caller: null },
  ]);
  assert.equal(state.wrapup.callId, 'c1');
});

test('engine messages are ignored when nobody is signed in', () => {
  const { state } = run([{ type: 'signed_out' }, offer]);
  assert.equal(state.call, null);
});

test('unknown and malformed messages change nothing', () => {
  const before = run([signedIn, welcome()]).state;
  for (const message of [{ type: 'dance' }, { type: 'offered' }, { type: 'connected' }, {}]) {
    const { state } = step(before, { type: 'server', message }, T0);
    assert.deepEqual(state, before);
  }
});

// ---- the call's recording (issue 6: pause/resume and on-demand start from the console) ----

const connected = server({ type: 'connected', call_id: 'c1' });
const recordingState = (state, callId = 'c1') => server({ type: 'recording', call_id: callId, state });
const requested = (action, callId = 'c1') => ({ type: 'recording_requested', callId, action });
const announced = (effects, key) => effects.find((e) => e.type === 'announce' && e.key === key);

test('a recording started at the bridge is shown with the pause button', () => {
  const { state, effects } = run([signedIn, welcome(), offer, connected, recordingState('recording')]);
  assert.deepEqual(recordingView(state.call), {
    status: 'recording', toggle: 'pause', start: false, refused: null,
  });
  assert.equal(controls(state).recordingToggle, true);
  assert.equal(controls(state).recordingStart, false);
  assert.ok(announced(effects, 'announce.recording.started'));
});

test('recording news that comes just before connected is kept', () => {
  const { state } = run([signedIn, welcome(), offer, recordingState('recording'), connected]);
  assert.equal(recordingView(state.call).status, 'recording');
});

test('pause and resume wait for the engine\'s word before the display changes', () => {
  const base = [signedIn, welcome(), offer, connected, recordingState('recording')];
  const asked = run([...base, requested('pause')]).state;
  assert.equal(recordingView(asked.call).status, 'recording', 'not shown paused before the engine says so');
  assert.equal(controls(asked).recordingToggle, false, 'a second press sends nothing meanwhile');

  const paused = run([...base, requested('pause'), recordingState('paused')]);
  assert.deepEqual(recordingView(paused.state.call), {
    status: 'paused', toggle: 'resume', start: false, refused: null,
  });
  assert.equal(controls(paused.state).recordingToggle, true);
  assert.ok(announced(paused.effects, 'announce.recording.paused'));

  const resumed = run([...base, requested('pause'), recordingState('paused'),
    requested('resume'), recordingState('recording')]);
  assert.equal(recordingView(resumed.state.call).toggle, 'pause');
  assert.ok(announced(resumed.effects, 'announce.recording.resumed'));
});

test('a call with no recording shows nothing of it and offers the start', () => {
  const { state } = run([signedIn, welcome(), offer, connected]);
  assert.deepEqual(recordingView(state.call), {
    status: null, toggle: null, start: true, refused: null,
  });
  assert.equal(controls(state).recordingStart, true);
  assert.equal(controls(state).recordingToggle, false);
});

test('the start is offered only on a connected call', () => {
  for (const events of [[signedIn, welcome()], [signedIn, welcome(), offer]]) {
    const { state } = run(events);
    assert.equal(controls(state).recordingStart, false);
    assert.equal(recordingView(state.call).start, false);
  }
  const down = run([signedIn, welcome(), offer, connected, { type: 'socket_closed' }]).state;
  assert.equal(controls(down).recordingStart, false, 'not while the socket is down');
});

test('a started on-demand recording replaces the start button with the pause button', () => {
  const { state } = run([
    signedIn, welcome(), offer, connected, requested('start'), recordingState('recording'),
  ]);
  assert.deepEqual(recordingView(state.call), {
    status: 'recording', toggle: 'pause', start: false, refused: null,
  });
});

test('a refused start says the call cannot be recorded, in place and not as a banner', () => {
  const { state, effects } = run([
    signedIn, welcome(), offer, connected, requested('start'),
    server({ type: 'error', request: 'recording', message: 'the recording cannot start now' }),
  ]);
  const view = recordingView(state.call);
  assert.equal(view.refused, 'start');
  assert.equal(view.start, false, 'not offered again on this call');
  assert.equal(view.status, null);
  assert.equal(state.error, null);
  const said = announced(effects, 'recording.refused.start');
  assert.ok(said && said.urgent);
});

test('a refused pause leaves the recording shown as it is and says so', () => {
  const { state } = run([
    signedIn, welcome(), offer, connected, recordingState('recording'), requested('pause'),
    server({ type: 'error', request: 'recording', message: 'the recording cannot pause now' }),
  ]);
  assert.deepEqual(recordingView(state.call), {
    status: 'recording', toggle: 'pause', start: false, refused: 'pause',
  });
  assert.equal(controls(state).recordingToggle, true, 'the operator may try again');
  const next = step(state, requested('pause'), T0).state;
  assert.equal(next.call.recording.refused, null, 'a new try clears the old refusal');
});

test('a failed recording warns and offers no recording control, and the call goes on', () => {
  const { state, effects } = run([
    signedIn, welcome(), offer, connected, recordingState('recording'), recordingState('failed'),
  ]);
  assert.deepEqual(recordingView(state.call), {
    status: 'failed', toggle: null, start: false, refused: null,
  });
  const can = controls(state);
  assert.equal(can.recordingToggle || can.recordingStart, false);
  assert.equal(can.hangup && can.hold && can.transfer, true);
  const said = announced(effects, 'announce.recording.failed');
  assert.ok(said && said.urgent);
});

test('ended resets the recording; a late stopped changes nothing', () => {
  const ended = run([
    signedIn, welcome(), offer, connected, recordingState('paused'),
    server({ type: 'ended', call_id: 'c1', reason: 'ended' }),
  ]).state;
  assert.deepEqual(ended.call.recording, { state: 'none', pending: null, refused: null });
  assert.equal(recordingView(ended.call).status, null);
  assert.equal(controls(ended).recordingStart || controls(ended).recordingToggle, false);
  const late = step(ended, recordingState('stopped'), T0);
  assert.deepEqual(late.state, ended);
});

test('a reconnect that finds the call over resets its recording too', () => {
  const { state } = run([
    signedIn, welcome(), offer, connected, recordingState('recording'),
    { type: 'socket_closed' }, welcome({ state: 'wrap_up' }),
  ]);
  assert.equal(state.call.phase, 'ended');
  assert.equal(state.call.recording.state, 'none');
});

test('a reconnect during the call keeps what is known of its recording', () => {
  const { state } = run([
    signedIn, welcome(), { type: 'media_up' }, offer, connected, recordingState('paused'),
    { type: 'socket_closed' }, welcome({ state: 'on_call', media: true }),
  ]);
  assert.equal(recordingView(state.call).status, 'paused');
});

test('the next call starts without the last one\'s recording', () => {
  const { state } = run([
    signedIn, welcome(), offer, connected, recordingState('recording'),
    server({ type: 'ended', call_id: 'c1', reason: 'ended' }),
    server({ type: 'offered', call_id: 'c2', caller: null, queue: 'desk', waited_s: 1, menu_choice: null }),
    server({ type: 'connected', call_id: 'c2' }),
  ]);
  assert.equal(state.call.callId, 'c2');
  assert.deepEqual(recordingView(state.call), {
    status: null, toggle: null, start: true, refused: null,
  });
});

test('a recording stopped during the call hides the indicator and offers the start again', () => {
  const { state } = run([
    signedIn, welcome(), offer, connected, recordingState('recording'), recordingState('stopped'),
  ]);
  assert.deepEqual(recordingView(state.call), {
    status: null, toggle: null, start: true, refused: null,
  });
});

test('recording news of another call, or in an unknown state, changes nothing', () => {
  const before = run([signedIn, welcome(), offer, connected]).state;
  for (const message of [
    { type: 'recording', call_id: 'other', state: 'recording' },
    { type: 'recording', call_id: 'c1', state: 'dancing' },
    { type: 'recording', call_id: 'c1' },
    { type: 'recording', state: 'recording' },
  ]) {
    assert.deepEqual(step(before, server(message), T0).state, before);
  }
  const idle = run([signedIn, welcome()]).state;
  assert.deepEqual(step(idle, recordingState('recording'), T0).state, idle);
});

test('an unknown recording action is not recorded as pending', () => {
  const before = run([signedIn, welcome(), offer, connected]).state;
  assert.deepEqual(step(before, requested('stop'), T0).state, before);
});

test('a socket that closes with a recording action unanswered frees its button', () => {
  const { state } = run([
    signedIn, welcome(), { type: 'media_up' }, offer, connected, recordingState('recording'),
    requested('pause'), { type: 'socket_closed' }, welcome({ state: 'on_call', media: true }),
  ]);
  assert.equal(state.call.recording.pending, null);
  assert.equal(controls(state).recordingToggle, true);
});

test('F8 pauses or resumes a running recording, even while typing the note', () => {
  const call = (phase, recordingState) => ({ phase, answering: false, recording: { state: recordingState } });
  for (const focus of ['none', 'text', 'control']) {
    assert.equal(shortcutAction({ key: 'F8', repeat: false, focus, call: call('connected', 'recording') }),
      'recording_toggle');
  }
  assert.equal(shortcutAction({ key: 'F8', repeat: false, focus: 'none', call: call('connected', 'paused') }),
    'recording_toggle');
  assert.equal(shortcutAction({ key: 'F8', repeat: true, focus: 'none', call: call('connected', 'recording') }),
    null, 'a held key toggles once');
  for (const [phase, recording] of [['connected', 'none'], ['connected', 'failed'],
    ['connected', 'stopped'], ['offered', 'recording'], ['ended', 'recording']]) {
    assert.equal(shortcutAction({ key: 'F8', repeat: false, focus: 'none', call: call(phase, recording) }),
      null, `${phase} / ${recording}`);
  }
  assert.equal(shortcutAction({ key: 'F8', repeat: false, focus: 'none', call: null }), null);
  // F8 on an offered call is not taken as answering it.
  assert.equal(shortcutAction({ key: 'F8', repeat: false, focus: 'none', call: call('offered', 'none') }), null);
});
