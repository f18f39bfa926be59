// The call page's pure parts (src/web/assets/manager/call-model.mjs): the call id from the
// address, durations and paused spans, times in a given zone, the facts of a record, the
// timeline's labels and details, and the state of the recording section for every answer
// GET …/recording/meta can give.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  callFailureKey, callIdFromSearch, callPageHref, eventDetail, eventLabel, factRows,
  formatDateTime, formatMs, formatSpan, formatTime, isComplaint, MAX_CALL_ID_CHARS, readCall,
  readSpans, recordingHref, recordingView, spanBounds, timeline,
} from '../../src/web/assets/manager/call-model.mjs';
import { CALL_STRINGS, translate } from '../../src/web/assets/manager/call-i18n.mjs';

const TOKYO = 'Asia/Tokyo';
const ja = (key, params) => translate('ja', key, params);
const en = (key, params) => translate('en', key, params);

/** A call record as GET /api/v1/calls/{id} answers it: answered, classified as a complaint. */
function record(overrides = {}) {
  return {
    id: 'node1-0001',
    sip_call_id: 'abc@trunk.example',
    caller: '0462001234',
    called: 'hotline',
    arrived_at: '2026-01-05T00:30:00Z',
    answered_at: '2026-01-05T00:30:00.200Z',
    ended_at: '2026-01-05T00:33:05Z',
    entry: 'hotline',
    branch: 'open',
    disposition: 'answered',
    dtmf: ['1'],
    hangup_side: 'caller',
    hangup_cause: 'bye',
    queue: 'card',
    waited_ms: 42_500,
    operator: 'op1',
    connected_at: '2026-01-05T00:30:45Z',
    talk_ms: 140_000,
    transfer_target: null,
    transfer_result: null,
    menu_choice: '1',
    node_id: 'node1',
    events: [
      { seq: 2, at: '2026-01-05T00:30:01Z', kind: 'routed', detail: { entry: 'hotline', branch: 'open' } },
      { seq: 0, at: '2026-01-05T00:30:00Z', kind: 'invite', detail: {} },
      { seq: 1, at: '2026-01-05T00:30:00.200Z', kind: 'answered', detail: { rtp_port: 40000 } },
      { seq: 3, at: '2026-01-05T00:30:03Z', kind: 'enqueued', detail: { queue: 'card', priority: 0 } },
      { seq: 4, at: '2026-01-05T00:30:45Z', kind: 'connected', detail: { operator: 'op1' } },
      { seq: 5, at: '2026-01-05T00:30:45Z', kind: 'recording_started', detail: { file: 'x.wav', by: 'policy' } },
      { seq: 6, at: '2026-01-05T00:31:27Z', kind: 'recording_paused', detail: {} },
      { seq: 7, at: '2026-01-05T00:31:50Z', kind: 'recording_resumed', detail: {} },
      { seq: 8, at: '2026-01-05T00:33:05Z', kind: 'ended', detail: { disposition: 'answered', cause: 'bye' } },
    ],
    classification: {
      call_id: 'node1-0001',
      category: 'イ',
      outcome: 'callback_needed',
      complaint: true,
      escalated: false,
      faq_id: 12,
      note: '窓口の対応について苦情。\n折り返し希望。',
      operator: 'op1',
      revision: 1,
      created_at: '2026-01-05T00:34:00Z',
      updated_at: '2026-01-05T00:34:00Z',
    },
    ...overrides,
  };
}

// ---- the address ----

test('the call id comes from ?id=, trimmed and decoded', () => {
  assert.equal(callIdFromSearch('?id=node1-0001'), 'node1-0001');
  assert.equal(callIdFromSearch('?id=%20a%2Fb%20'), 'a/b');
  assert.equal(callIdFromSearch('?x=1&id=c-9'), 'c-9');
});

test('no id, an empty one or an absurdly long one is no id', () => {
  for (const search of ['', '?', '?id=', '?id=%20%20', null, undefined]) {
    assert.equal(callIdFromSearch(search), null, String(search));
  }
  assert.equal(callIdFromSearch(`?id=${'x'.repeat(MAX_CALL_ID_CHARS)}`), 'x'.repeat(MAX_CALL_ID_CHARS));
  assert.equal(callIdFromSearch(`?id=${'x'.repeat(MAX_CALL_ID_CHARS + 1)}`), null);
});

test('the page and recording addresses encode the id', () => {
  assert.equal(callPageHref('node1-0001'), '/manager/call.html?id=node1-0001');
  assert.equal(callPageHref('a/b&c'), '/manager/call.html?id=a%2Fb%26c');
  assert.equal(callIdFromSearch(new URL(callPageHref('a/b&c'), 'http://x').search), 'a/b&c');
  assert.equal(recordingHref('a/b'), '/api/v1/calls/a%2Fb/recording');
  assert.equal(recordingHref('c-1', { download: true }), '/api/v1/calls/c-1/recording?download=1');
});

// ---- durations and times ----

test('durations are m:ss cut to the second, h:mm:ss from an hour on', () => {
  assert.equal(formatMs(0), '0:00');
  assert.equal(formatMs(999), '0:00');
  assert.equal(formatMs(42_500), '0:42');
  assert.equal(formatMs(65_000), '1:05');
  assert.equal(formatMs(3_600_000), '1:00:00');
  assert.equal(formatMs(3_725_000), '1:02:05');
});

test('an unknown duration is a dash, a negative one zero', () => {
  assert.equal(formatMs(null), '—');
  assert.equal(formatMs(undefined), '—');
  assert.equal(formatMs(Number.NaN), '—');
  assert.equal(formatMs(-5), '0:00');
});

test('a paused span covers its silence: start cut, end raised to the second', () => {
  assert.equal(formatSpan({ from_ms: 42_000, to_ms: 65_000 }), '0:42–1:05');
  assert.equal(formatSpan({ from_ms: 42_900, to_ms: 64_100 }), '0:42–1:05');
  assert.equal(formatSpan({ from_ms: 1_000, to_ms: 1_500 }), '0:01–0:02');
  assert.deepEqual(spanBounds({ from_ms: 3_600_000, to_ms: 3_660_000 }), { from: '1:00:00', to: '1:01:00' });
  assert.equal(formatSpan({ from_ms: 'x' }), '—–—');
});

test('paused spans are read in order and nonsense is dropped', () => {
  assert.deepEqual(
    readSpans([{ from_ms: 5_000, to_ms: 6_000 }, null, { from_ms: 9, to_ms: 1 }, { from_ms: 1_000, to_ms: 1_500, x: 1 }]),
    [{ from_ms: 1_000, to_ms: 1_500 }, { from_ms: 5_000, to_ms: 6_000 }],
  );
  assert.deepEqual(readSpans(undefined), []);
});

test('instants show in the zone given, with the date for facts and without it in the timeline', () => {
  assert.equal(formatDateTime('2026-01-05T00:30:00Z', TOKYO), '2026-01-05 09:30:00');
  assert.equal(formatDateTime('2026-01-05T00:30:00Z', 'UTC'), '2026-01-05 00:30:00');
  assert.equal(formatTime('2026-01-05T15:04:05.900Z', TOKYO), '00:04:05');
  assert.equal(formatDateTime('not a date', TOKYO), '—');
  assert.equal(formatDateTime(null, TOKYO), '—');
  // A zone the browser does not know falls back to UTC instead of throwing.
  assert.equal(formatTime('2026-01-05T00:30:00Z', 'Nowhere/Atlantis'), '00:30:00');
});

// ---- the record ----

test('a record is read with its classification and its events in sequence order', () => {
  const call = readCall(record());
  assert.equal(call.id, 'node1-0001');
  assert.deepEqual(call.events.map((e) => e.seq), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(call.classification.category, 'イ');
  assert.equal(call.classification.faqId, 12);
  assert.equal(isComplaint(call), true);
});

test('a record without a classification is not a complaint; junk is no record', () => {
  const call = readCall(record({ classification: null, events: 'nope' }));
  assert.equal(call.classification, null);
  assert.deepEqual(call.events, []);
  assert.equal(isComplaint(call), false);
  for (const junk of [null, 'x', {}, { id: '' }, { id: 'c', arrived_at: 'never' }]) {
    assert.equal(readCall(junk), null, JSON.stringify(junk));
  }
});

test('the facts read as the printed document lists them, the caller marked personal', () => {
  const rows = factRows(readCall(record()), { t: ja, timeZone: TOKYO });
  const byKey = Object.fromEntries(rows.map((r) => [r.key, r]));
  assert.deepEqual(rows.map((r) => r.key), [
    'id', 'arrived', 'caller', 'called', 'entry', 'menu', 'queue', 'waited', 'operator',
    'connected', 'talk', 'disposition', 'hangup', 'transfer', 'ended',
  ]);
  assert.equal(byKey.arrived.label, '着信日時');
  assert.equal(byKey.arrived.value, '2026-01-05 09:30:00');
  assert.equal(byKey.caller.value, '0462001234');
  assert.equal(byKey.caller.personal, true);
  assert.equal(rows.filter((r) => r.personal).length, 1, 'only the number is personal');
  assert.equal(byKey.entry.value, 'hotline / open');
  assert.equal(byKey.waited.value, '0:42');
  assert.equal(byKey.talk.value, '2:20');
  assert.equal(byKey.disposition.value, '応答');
  assert.equal(byKey.hangup.value, '発信者が切断');
  assert.equal(byKey.transfer.value, '—');
});

test('a transferred call names its target and result; an unknown disposition shows as its code', () => {
  const rows = factRows(readCall(record({
    disposition: 'teleported', transfer_target: 'city_line', transfer_result: 'busy', operator: null,
  })), { t: en, timeZone: 'UTC' });
  const byKey = Object.fromEntries(rows.map((r) => [r.key, r.value]));
  assert.equal(byKey.transfer, 'city_line (busy)');
  assert.equal(byKey.disposition, 'teleported');
  assert.equal(byKey.operator, '—');
});

// ---- the timeline ----

test('the common event kinds have Japanese labels', () => {
  const expected = {
    routed: '振り分け',
    play: '音声案内',
    enqueued: '待ち行列へ',
    connected: 'オペレーター接続',
    recording_started: '録音開始',
    recording_paused: '録音一時停止',
    recording_resumed: '録音再開',
    recording_stopped: '録音終了',
    hold: '保留',
    resume: '保留解除',
    transfer: '転送開始',
    transfer_result: '転送結果',
    abandoned: '放棄',
    ended: '終了',
  };
  for (const [kind, label] of Object.entries(expected)) assert.equal(eventLabel(kind, ja), label, kind);
});

test('every kind the engine writes has a label in both languages', () => {
  // The kinds of src/engine/call (CallEvent `kind`), as of the recording work.
  const kinds = [
    'invite', 'answered', 'routed', 'play', 'dtmf', 'feature', 'enqueued', 'position_announced',
    'offered', 'offer_result', 'connected', 'queue_left', 'abandoned', 'overflowed', 'hold',
    'resume', 'reinvite', 'transfer', 'transfer_progress', 'transfer_result', 'transfer_refused',
    'operator_hangup', 'target_hangup', 'recording_decided', 'recording_started',
    'recording_paused', 'recording_resumed', 'recording_stopped', 'recording_failed',
    'sdp_rejected', 'ended',
  ];
  for (const kind of kinds) {
    assert.ok(Object.hasOwn(CALL_STRINGS.ja, `event.${kind}`), `ja ${kind}`);
    assert.ok(Object.hasOwn(CALL_STRINGS.en, `event.${kind}`), `en ${kind}`);
  }
});

test('an unknown kind shows as itself with its plain detail values', () => {
  const event = { kind: 'listen_in', detail: { manager: 'sato', nested: { a: 1 }, whisper: true } };
  assert.equal(eventLabel('listen_in', ja), 'listen_in');
  assert.equal(eventDetail(event, ja), 'manager=sato whisper=true');
});

test('details are put in words, not raw JSON', () => {
  const d = (kind, detail, t = ja) => eventDetail({ kind, detail }, t);
  assert.equal(d('routed', { entry: 'hotline', branch: 'open' }), '入口 hotline / 分岐 open');
  assert.equal(d('enqueued', { queue: 'card', priority: 0 }), 'キュー card（優先度 0）');
  assert.equal(d('offer_result', { operator: 'op2', result: 'no_answer' }), 'op2：応答なし');
  assert.equal(d('queue_left', { queue: 'card', reason: 'max_wait', waited_ms: 300_000 }),
    'キュー card：最大待ち時間（待ち 5:00）');
  assert.equal(d('abandoned', { waited_ms: 42_000 }), '待ち 0:42');
  assert.equal(d('transfer', { target: 'city_line' }), '転送先 city_line');
  assert.equal(d('transfer_result', { result: 'busy', status: 486 }), '話し中（SIP 486）');
  assert.equal(d('transfer_result', { result: 'answered' }), '応答');
  assert.equal(d('reinvite', { hold: true }), '保留');
  assert.equal(d('recording_decided', { decision: 'record', queue: 'card' }), '録音する');
  assert.equal(d('recording_started', { file: '2026/01/05/x.wav', by: 'operator' }), 'オペレーターが開始');
  assert.equal(d('recording_failed', { disk_full: true }), 'ディスク容量不足');
  assert.equal(d('ended', { disposition: 'answered', cause: 'bye' }), '応答（終話（BYE））');
  assert.equal(d('position_announced', { position: 3, wait_s: 120 }), '3番目、待ち約2:00');
  assert.equal(d('answered', { rtp_port: 40000 }), '', 'the media port is no one\'s business');
  assert.equal(d('routed', null), '');
  assert.equal(d('ended', { disposition: 'abandoned', cause: '487' }, en), 'Abandoned while waiting (487)');
});

test('the timeline has local times and the time since arrival', () => {
  const lines = timeline(readCall(record()), { t: ja, timeZone: TOKYO });
  assert.equal(lines.length, 9);
  assert.deepEqual(lines[0], {
    seq: 0, kind: 'invite', label: '着信', time: '09:30:00', elapsed: '+0:00', detail: '',
  });
  const paused = lines.find((l) => l.kind === 'recording_paused');
  assert.equal(paused.time, '09:31:27');
  assert.equal(paused.elapsed, '+1:27');
  assert.equal(lines.at(-1).elapsed, '+3:05');
});

// ---- the recording section ----

const meta = (overrides = {}) => ({
  status: 200,
  data: {
    call_id: 'node1-0001',
    status: 'complete',
    started_at: '2026-01-05T00:30:45Z',
    ended_at: '2026-01-05T00:33:05Z',
    duration_ms: 140_000,
    bytes: 4_480_044,
    sha256: 'ab'.repeat(32),
    paused: [{ from_ms: 42_000, to_ms: 65_000 }],
    error: null,
    node_id: 'node1',
    file_present: true,
    ...overrides,
  },
});

test('a complete recording with its file is ready to play, with its reference', () => {
  const view = recordingView(meta());
  assert.equal(view.state, 'ready');
  assert.equal(view.playable, true);
  assert.equal(view.durationMs, 140_000);
  assert.equal(view.sha256, 'ab'.repeat(32));
  assert.deepEqual(view.paused, [{ from_ms: 42_000, to_ms: 65_000 }]);
});

test('each recording state the page distinguishes', () => {
  const cases = [
    [{ status: 404, data: { error: 'this call has no recording' } }, 'none', false],
    [meta({ status: 'recording', duration_ms: null, file_present: true }), 'recording', false],
    [meta({ file_present: false }), 'missing', false],
    [meta({ status: 'interrupted', error: 'the engine stopped while recording' }), 'interrupted', true],
    [meta({ status: 'failed', error: 'disk full' }), 'failed', true],
    [meta({ status: 'failed', error: 'disk full', file_present: false }), 'failed_missing', false],
    [meta({ status: 'interrupted', file_present: false }), 'missing', false],
    [meta({ status: 'exploded' }), 'unavailable', false],
    [{ status: 403, data: null }, 'forbidden', false],
    [{ status: 503, data: { error: 'store unavailable' } }, 'unavailable', false],
    [{ status: 0 }, 'unavailable', false],
    [{ status: 200, data: 'junk' }, 'unavailable', false],
    [null, 'unavailable', false],
  ];
  for (const [answer, state, playable] of cases) {
    const view = recordingView(answer);
    assert.equal(view.state, state, JSON.stringify(answer));
    assert.equal(view.playable, playable, JSON.stringify(answer));
  }
});

test('every recording state has words in both languages', () => {
  for (const state of ['ready', 'none', 'recording', 'missing', 'interrupted', 'failed',
    'failed_missing', 'forbidden', 'unavailable']) {
    for (const lang of ['ja', 'en']) {
      assert.ok(Object.hasOwn(CALL_STRINGS[lang], `recording.state.${state}`), `${lang} ${state}`);
    }
  }
});

test('a call that cannot be shown says why', () => {
  assert.equal(callFailureKey(404), 'state.not_found');
  assert.equal(callFailureKey(503), 'state.unavailable');
  assert.equal(callFailureKey(0), 'state.network');
  assert.equal(callFailureKey(500), 'state.answer');
  assert.match(ja('state.not_found', { id: 'c-404' }), /c-404/);
});
