// How the board reads the live state (src/web/assets/manager/live.mjs): waits tick from
// `since` on the server's clock, operators are grouped by state, the counts are taken as sent.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  readSnapshot, secondsSince, waitingSummary, groupOperators, queueLongestWait, STATE_ORDER,
  readRecordingFailure,
} from '../../src/web/assets/manager/live.mjs';

const AT = '2026-11-26T01:00:00Z';
const AT_MS = Date.parse(AT);

function liveState(overrides = {}) {
  return {
    at: AT,
    queues: [
      {
        name: 'desk', label: '申請', operators_available: 1, operators_logged_in: 2,
        waiting: [
          { call_id: 'c1', position: 1, since: '2026-11-26T00:59:20Z', waited_s: 40, menu_choice: null },
          { call_id: 'c2', position: 2, since: '2026-11-26T00:59:50Z', waited_s: 10, menu_choice: '1' },
        ],
      },
      { name: 'other', label: null, operators_available: 0, operators_logged_in: 0, waiting: [] },
    ],
    operators: [
      { login: 'b', state: 'available', reason: null, since: '2026-11-26T00:58:00Z' },
      { login: 'a', state: 'paused', reason: 'lunch', since: '2026-11-26T00:30:00Z' },
      { login: 'c', state: 'on_call', reason: null, since: '2026-11-26T00:59:00Z' },
      { login: 'd', state: 'available', reason: null, since: '2026-11-26T00:50:00Z' },
    ],
    today: { calls: 9, offered: 8, answered: 6, abandoned: 1, overflowed: 1, transferred: 0 },
    board: {
      threshold_s: 20, short_abandon_s: 5,
      today: { offered: 8, service_level: 0.75, asa_s: 12.5, aht_s: 200, abandon_rate: 0.125, answer_rate: 0.75 },
      last_30_min: { offered: 0, service_level: null, asa_s: null, aht_s: null, abandon_rate: null, answer_rate: null },
      intervals: [{ start: '00:00', offered: 0, answered: 0, abandoned: 0 }],
    },
    ...overrides,
  };
}

test('the longest wait is the earliest since, on the server clock', () => {
  const snapshot = readSnapshot(liveState(), AT_MS);
  assert.deepEqual(waitingSummary(snapshot, AT_MS), { waiting: 2, longestS: 40 });
});

test('the longest wait ticks with the browser clock', () => {
  const snapshot = readSnapshot(liveState(), AT_MS);
  assert.equal(waitingSummary(snapshot, AT_MS + 3000).longestS, 43);
});

test('a browser clock two minutes fast does not change the wait', () => {
  const skew = 120_000;
  const snapshot = readSnapshot(liveState(), AT_MS + skew);
  assert.equal(waitingSummary(snapshot, AT_MS + skew + 1000).longestS, 41);
});

test('nobody waiting is zero callers and a zero wait', () => {
  const snapshot = readSnapshot(liveState({ queues: [] }), AT_MS);
  assert.deepEqual(waitingSummary(snapshot, AT_MS), { waiting: 0, longestS: 0 });
});

test('a queue without a label is shown by its name', () => {
  const snapshot = readSnapshot(liveState(), AT_MS);
  assert.equal(snapshot.queues[1].label, 'other');
  assert.equal(queueLongestWait(snapshot.queues[1], AT_MS), 0);
});

test('time in state never goes negative', () => {
  assert.equal(secondsSince(AT_MS + 5000, AT_MS), 0);
  assert.equal(secondsSince(NaN, AT_MS), 0);
});

test('operators are listed busy first, then available, paused, logged out; longest in state first', () => {
  const snapshot = readSnapshot(liveState(), AT_MS);
  const { sorted, counts } = groupOperators(snapshot.operators);
  assert.deepEqual(sorted.map((op) => op.login), ['c', 'd', 'b', 'a']);
  assert.deepEqual(counts, {
    on_call: 1, ringing: 0, wrap_up: 0, available: 2, paused: 1, logged_out: 0,
  });
  assert.deepEqual(Object.keys(counts), STATE_ORDER);
});

test('the figures are read as sent, and null stays null (nothing offered yet)', () => {
  const snapshot = readSnapshot(liveState(), AT_MS);
  assert.equal(snapshot.figures.today.serviceLevel, 0.75);
  assert.equal(snapshot.figures.today.ahtS, 200);
  assert.equal(snapshot.figures.last30.serviceLevel, null);
  assert.equal(snapshot.thresholdS, 20);
  assert.deepEqual(snapshot.today, {
    calls: 9, offered: 8, answered: 6, abandoned: 1, overflowed: 1, transferred: 0, callbacks: 0,
  });
});

test('a malformed state reads as an empty board rather than throwing', () => {
  const snapshot = readSnapshot({}, AT_MS);
  assert.deepEqual(snapshot.queues, []);
  assert.deepEqual(snapshot.operators, []);
  assert.equal(snapshot.figures.today.serviceLevel, null);
});

test('a snapshot without recording failures gives no warning', () => {
  assert.equal(readRecordingFailure({ recording_failures: 0, last_recording_failure: null }), null);
  assert.equal(readRecordingFailure({}), null);
});

test('recording failures give their count, the last instant and whether the disk was full', () => {
  const failure = readRecordingFailure({
    recording_failures: 3,
    last_recording_failure: { at: '2026-11-25T01:02:03Z', disk_full: true },
  });
  assert.deepEqual(failure, { count: 3, atMs: Date.parse('2026-11-25T01:02:03Z'), diskFull: true });
  assert.equal(readSnapshot({ recording_failures: 1, last_recording_failure: { at: 'nonsense' } }, 0)
    .recordingFailure, null, 'a failure without a readable instant is no warning');
});
