// Today's complaints on the board, not only those pushed while it is open
// (src/web/assets/manager/alerts.mjs): the list of GET /api/v1/complaints is read, merged
// with what the stream brought without repeats, and raises the banner only for news.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  addAlert, fetchComplaints, KEEP, mergeListed, readComplaint, readComplaintList,
} from '../../src/web/assets/manager/alerts.mjs';

const NOW = Date.parse('2026-11-26T03:00:00Z');
const item = (callId, at, extra = {}) => ({
  call_id: callId, operator: 'suzuki', category: 'イ', outcome: 'callback_needed', at, ...extra,
});
const alert = (callId, at, extra) => readComplaint(item(callId, at, extra), NOW);
const ids = (list) => list.map((a) => a.callId);

test('a listing is read in its order, with the same fields as a pushed complaint', () => {
  const listed = readComplaintList({
    complaints: [item('c2', '2026-11-26T01:00:00Z'), item('c1', '2026-11-26T00:10:00Z')],
  }, NOW);
  assert.deepEqual(listed, [alert('c2', '2026-11-26T01:00:00Z'), alert('c1', '2026-11-26T00:10:00Z')]);
});

test('a listing without complaints or with junk entries gives what it can', () => {
  assert.deepEqual(readComplaintList(null, NOW), []);
  assert.deepEqual(readComplaintList({ error: 'store unavailable' }, NOW), []);
  assert.deepEqual(ids(readComplaintList({ complaints: [null, { operator: 'x' }, item('c1', 'x')] }, NOW)), ['c1']);
});

test('the first listing after sign-in shows the earlier complaints without a banner', () => {
  const fetched = [alert('c2', '2026-11-26T01:00:00Z'), alert('c1', '2026-11-26T00:10:00Z')];
  const { list, raise } = mergeListed([], fetched, { first: true });
  assert.deepEqual(ids(list), ['c2', 'c1']);
  assert.equal(raise, null);
});

test('a complaint both pushed and listed is shown once', () => {
  const pushed = addAlert([], alert('c3', '2026-11-26T02:00:00Z'));
  const fetched = [alert('c3', '2026-11-26T02:00:00Z'), alert('c1', '2026-11-26T00:10:00Z')];
  const { list, raise } = mergeListed(pushed, fetched, { first: true });
  assert.deepEqual(ids(list), ['c3', 'c1']);
  assert.equal(raise, null);
});

test('listed complaints fall in time order among the pushed ones', () => {
  let shown = addAlert([], alert('c1', '2026-11-26T00:10:00Z'));
  shown = addAlert(shown, alert('c4', '2026-11-26T02:30:00Z'));
  const { list } = mergeListed(shown, [alert('c2', '2026-11-26T01:00:00Z')], { first: false });
  assert.deepEqual(ids(list), ['c4', 'c2', 'c1']);
});

test('the later filing of a call wins, whichever way it came', () => {
  const older = alert('c1', '2026-11-26T00:10:00Z', { category: 'イ' });
  const newer = alert('c1', '2026-11-26T02:00:00Z', { category: 'ケ' });
  assert.equal(mergeListed([older], [newer], { first: false }).list[0].category, 'ケ');
  assert.equal(mergeListed([newer], [older], { first: false }).list[0].category, 'ケ');
});

test('after a reconnect the newest complaint filed while the stream was down raises the banner', () => {
  const shown = [alert('c1', '2026-11-26T00:10:00Z')];
  const fetched = [
    alert('c3', '2026-11-26T02:00:00Z'),
    alert('c2', '2026-11-26T01:00:00Z'),
    alert('c1', '2026-11-26T00:10:00Z'),
  ];
  const { list, raise } = mergeListed(shown, fetched, { first: false });
  assert.deepEqual(ids(list), ['c3', 'c2', 'c1']);
  assert.equal(raise.callId, 'c3');
});

test('a reconnect that brings nothing new raises nothing', () => {
  const shown = [alert('c2', '2026-11-26T01:00:00Z'), alert('c1', '2026-11-26T00:10:00Z')];
  const { list, raise } = mergeListed(shown, [...shown], { first: false });
  assert.deepEqual(ids(list), ['c2', 'c1']);
  assert.equal(raise, null);
});

test('the merged list keeps the latest alerts only, and an alert left out raises nothing', () => {
  const shown = Array.from({ length: KEEP }, (_, n) => alert(`new${n}`, new Date(NOW - n * 1000).toISOString()));
  const { list, raise } = mergeListed(shown, [alert('old', '2026-11-25T23:00:00Z')], { first: false });
  assert.equal(list.length, KEEP);
  assert.ok(!ids(list).includes('old'));
  assert.equal(raise, null);
});

test("today's complaints are fetched with the session cookie, as many as the board keeps", async () => {
  const calls = [];
  const fetchImpl = async (url, init) => {
    calls.push([url, init.credentials]);
    return new Response(JSON.stringify({ complaints: [item('c1', '2026-11-26T00:10:00Z')] }), { status: 200 });
  };
  assert.deepEqual(ids(await fetchComplaints(fetchImpl)), ['c1']);
  assert.deepEqual(calls, [[`/api/v1/complaints?limit=${KEEP}`, 'same-origin']]);
});

test('a refused listing is an error, not an empty list', async () => {
  const refuse = async () => new Response('{"error":"store unavailable"}', { status: 503 });
  await assert.rejects(fetchComplaints(refuse), /HTTP 503/);
});
